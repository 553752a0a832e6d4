//! Rate–distortion benchmark: gonpack against standard codecs on the same test images.
//!
//! ```sh
//! cargo run --release --example rd -- --train ../shared/datasets/mnist-train-10k \
//!     {--test ../shared/datasets/mnist-test-1k | --hold-out K} [--out out/rd] [--latent 32,64] [--steps N]
//!     [--w0 F] [--hidden H] [--lr F] [--patch CORE,MARGIN] [--sr | --sr-only]
//! ```
//!
//! `--hold-out K` tests on every K-th image of `--train` (sorted order, from the first) and
//! trains on the rest. Trains one decoder per latent size (`--latent`, default 32 and 64; `none`: no gonpack rows) on `--train` with the
//! `encode` defaults, encodes `--test` against it (frozen) at several operating points
//! (refinement steps x bits), and codes the same test images with PNG, zstd -19 and
//! xz -9e of the raw pixel array, JPEG and WebP (libwebp) per image and as one mosaic, and AVIF
//! as one mosaic (libavif through Pillow: `avif_mosaic.py`; skipped with a note when the
//! interpreter has no Pillow with AVIF, `.venv/bin/pip install pillow`). Prints a
//! markdown table (also `OUT/rd.md`) and writes `OUT/rd.svg` (PSNR against bits per pixel).
//! `--sr` adds the super-resolution rows: train and encode at half resolution, decode at
//! twice the size, against bicubic upsampling (`--sr-only`: only those rows). Mosaic rows need test images of one size;
//! with mixed sizes (photos) only per-image rows are made. Images larger than 32x32 are
//! stored as patches (the `encode` default, 32 with a margin of 4; `--patch 16,4` cuts a 32x32
//! image into four, `--patch 0,0` keeps every image whole).
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use gonpack::io::{read_folder, SourceImage};
use gonpack::metrics::{pack_psnr, psnr_u8};
use gonpack::render::Renderer;
use gonpack::{consts, DecoderWeights, ModelShape, Output, Pack};
use gonpack_train::{
    all_units, encode, latents_for, quantise_refined, unquantised_latents, EncodeOptions,
    LatentOptions, Quantise, TrainConfig, DEFAULT_QUANT_REFINE,
};
use image::{DynamicImage, ImageFormat};

/// One line of the table.
struct Row {
    codec: String,
    setting: String,
    /// Bits per pixel of what is stored per image set (for gonpack: latents and index).
    bpp: f64,
    /// gonpack only: bits per pixel including the decoder.
    bpp_with_decoder: Option<f64>,
    psnr: f64,
    encode_s: f64,
    decode_s: f64,
}

enum TestSet {
    Folder(PathBuf),
    HoldOut(usize),
}

struct Args {
    train: PathBuf,
    /// Test images: a folder, or every K-th image of `train` (in sorted order, from the first)
    /// held out, the rest trained on.
    test: TestSet,
    out: PathBuf,
    steps: Option<usize>,
    /// Frequency factor of the first sine layer (default: the `encode` default).
    w0: Option<f32>,
    /// Latent sizes: one decoder is trained for each.
    latents: Vec<usize>,
    /// Width of the hidden sine layers (default: the `encode` default).
    hidden: Option<usize>,
    /// Peak learning rate (default: the `encode` default).
    lr: Option<f64>,
    /// Patch core and margin (default: the `encode` default).
    patches: gonpack::patches::Geometry,
    sr: bool,
    /// Only the super-resolution rows.
    sr_only: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut train, mut test, mut out, mut steps, mut w0, mut sr, mut sr_only) = (
        None,
        None,
        PathBuf::from("out/rd"),
        None,
        None,
        false,
        false,
    );
    let mut latents = vec![32, 64];
    let (mut hidden, mut lr) = (None, None);
    let mut patches = gonpack::patches::Geometry {
        patch: consts::DEFAULT_PATCH,
        overlap: consts::DEFAULT_OVERLAP,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--train" => train = Some(PathBuf::from(value()?)),
            "--test" => test = Some(TestSet::Folder(PathBuf::from(value()?))),
            "--hold-out" => match value()?.parse() {
                Ok(k) if k >= 2 => test = Some(TestSet::HoldOut(k)),
                _ => return Err("--hold-out needs a whole number of at least 2".into()),
            },
            "--out" => out = PathBuf::from(value()?),
            "--steps" => steps = Some(value()?.parse().map_err(|e| format!("--steps: {e}"))?),
            "--latent" => match value()?.as_str() {
                "none" => latents.clear(),
                list => {
                    latents = list
                        .split(',')
                        .map(|v| v.trim().parse().map_err(|e| format!("--latent: {e}")))
                        .collect::<Result<_, _>>()?
                }
            },
            "--w0" => w0 = Some(value()?.parse().map_err(|e| format!("--w0: {e}"))?),
            "--lr" => lr = Some(value()?.parse().map_err(|e| format!("--lr: {e}"))?),
            "--hidden" => hidden = Some(value()?.parse().map_err(|e| format!("--hidden: {e}"))?),
            "--patch" => {
                let v = value()?;
                let (t, o) = v.split_once(',').ok_or("--patch needs CORE,MARGIN")?;
                let num = |x: &str| x.trim().parse::<u32>().map_err(|e| format!("--patch: {e}"));
                patches = gonpack::patches::Geometry {
                    patch: num(t)?,
                    overlap: num(o)?,
                };
                if !patches.is_storable() {
                    return Err(format!(
                        "--patch {v}: the margin must be 1 to the core size and at most 255 (0,0: no patches)"
                    ));
                }
            }
            "--sr" => sr = true,
            "--sr-only" => (sr, sr_only) = (true, true),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        train: train.ok_or("--train DIR is required")?,
        test: test.ok_or("--test DIR or --hold-out K is required")?,
        out,
        steps,
        w0,
        latents,
        hidden,
        lr,
        patches,
        sr,
        sr_only,
    })
}

fn main() -> ExitCode {
    match parse_args().and_then(|a| run(&a).map_err(|e| e.to_string())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rd: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let (mut train, _) = read_folder(&a.train, false)?;
    let (test, described) = match &a.test {
        TestSet::Folder(dir) => (read_folder(dir, false)?.0, format!("`{}`", dir.display())),
        TestSet::HoldOut(k) => {
            let (test, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut train)
                .into_iter()
                .enumerate()
                .partition(|(i, _)| i % k == 0);
            train = rest.into_iter().map(|(_, img)| img).collect();
            (
                test.into_iter().map(|(_, img)| img).collect(),
                format!(
                    "`{}` at every {k}th position in sorted order (held out of training)",
                    a.train.display()
                ),
            )
        }
    };
    if train.is_empty() || test.is_empty() {
        return Err("no training or no test images".into());
    }
    // Mosaics need one size and channel count; photos of mixed sizes get per-image rows only.
    let (w, h, c) = (test[0].width, test[0].height, test[0].channels);
    let one_size = test
        .iter()
        .all(|i| (i.width, i.height, i.channels) == (w, h, c));
    let pixels: f64 = test
        .iter()
        .map(|i| f64::from(i.width) * f64::from(i.height))
        .sum();
    let mut rows = Vec::new();
    let codecs = !a.sr_only;
    let largest = a.latents.iter().copied().max().unwrap_or(32);
    let mut full_decoder = None; // the one with the largest latent, reused by the SR rows
    for &latent_dim in a.latents.iter().filter(|_| codecs) {
        let (r, decoder) = gonpack_rows(a, &train, &test, latent_dim, pixels)?;
        rows.extend(r);
        if latent_dim == largest {
            full_decoder = Some(decoder);
        }
    }
    if codecs {
        rows.extend(lossless_rows(&test, pixels)?);
    }
    let layouts: &[bool] = match (codecs, one_size) {
        (false, _) => &[],
        (true, true) => &[false, true],
        (true, false) => &[false],
    };
    for &as_mosaic in layouts {
        let row = |codec: &str, q: String, enc: &dyn Fn(&SourceImage) -> Vec<u8>, f| {
            lossy_row(&test, as_mosaic, pixels, codec, q, enc, |b, like| {
                decode_with_image(b, f, like)
            })
        };
        for q in [2u8, 5, 10, 20, 30, 50, 75] {
            rows.push(row(
                "JPEG",
                format!("quality {q}"),
                &|i| jpeg_encode(i, q),
                ImageFormat::Jpeg,
            ));
        }
        for q in [0.0f32, 2.0, 10.0, 25.0, 50.0, 75.0] {
            rows.push(row(
                "WebP",
                format!("quality {q}"),
                &|i| webp_encode(i, q),
                ImageFormat::WebP,
            ));
        }
    }
    if codecs && one_size {
        match avif_mosaic_rows(&test, pixels, &a.out) {
            Ok(avif) => rows.extend(avif),
            Err(e) => eprintln!("rd: no AVIF rows: {e}"),
        }
    }
    if a.sr {
        rows.extend(super_resolution_rows(
            a,
            &train,
            &test,
            largest,
            full_decoder,
        )?);
    }
    let table = markdown(&rows, &a.train, &described, test.len());
    print!("{table}");
    std::fs::create_dir_all(&a.out)?;
    std::fs::write(a.out.join("rd.md"), &table)?;
    std::fs::write(a.out.join("rd.svg"), svg(&rows))?;
    eprintln!("wrote {}/rd.md and rd.svg", a.out.display());
    Ok(())
}

/// Default encode options with `--steps` (one per training image, 1000..=3000, if not given),
/// `--w0`, `--hidden`, `--lr` and `--patch`.
fn options(a: &Args, n_train: usize, latent_dim: usize) -> EncodeOptions {
    let d = TrainConfig::DEFAULT;
    EncodeOptions {
        train: TrainConfig {
            shape: ModelShape {
                latent_dim,
                hidden: a.hidden.unwrap_or(d.shape.hidden),
                w0_first: a.w0.unwrap_or(d.shape.w0_first),
                ..d.shape
            },
            steps: a.steps.unwrap_or(n_train.clamp(1000, 3000)),
            lr: a.lr.unwrap_or(d.lr),
            ..d
        },
        bits: 8,
        refine: 0,
        quant_refine: 0,
        weight_format: consts::WEIGHTS_F16,
        quiet: false,
        patches: a.patches,
    }
}

/// Trains on `train` with latents of `latent_dim` dimensions, then encodes `test` with the
/// frozen decoder at refine x bits points. Also returns the decoder.
fn gonpack_rows(
    a: &Args,
    train: &[SourceImage],
    test: &[SourceImage],
    latent_dim: usize,
    pixels: f64,
) -> Result<(Vec<Row>, DecoderWeights), Box<dyn std::error::Error>> {
    let opts = options(a, train.len(), latent_dim);
    let trained = train_decoder(train, &opts, &format!("latent {latent_dim}"))?;
    let (decoder, patches) = (trained.decoder, trained.patches);
    let d = decoder.shape.latent_dim;
    let units = all_units(test, patches);
    let mut rows = Vec::new();
    for refine in [2usize, 5, 20] {
        let opts = LatentOptions {
            refine,
            quant_refine: DEFAULT_QUANT_REFINE,
            supersample: 1,
            device: tch::Device::Cpu,
            quiet: true,
        };
        let t = Instant::now();
        let derived = unquantised_latents(&decoder, &units, &opts)?;
        let derive_s = t.elapsed().as_secs_f64();
        for bits in [3u8, 4, 5, 6, 8] {
            let t = Instant::now();
            let (latents, quant) = quantise_refined(
                &decoder,
                &units,
                derived.clone(),
                Quantise::Fit(bits),
                &opts,
            )?;
            let encode_s = derive_s + t.elapsed().as_secs_f64();
            let codes = quant.quantise(&latents);
            let pack = Pack {
                decoder: decoder.clone(),
                quant,
                codes,
                index: test
                    .iter()
                    .map(|i| gonpack::ImageEntry {
                        name: i.name.clone(),
                        width: i.width,
                        height: i.height,
                        channels: i.channels,
                    })
                    .collect(),
                weight_format: consts::WEIGHTS_F16,
                patches,
            };
            let (_, sizes) = pack.to_bytes()?;
            let t = Instant::now();
            let psnrs = pack_psnr(&pack, test)?; // renders every image as `decode` would
            let decode_s = t.elapsed().as_secs_f64();
            let psnr = psnrs.iter().sum::<f64>() / psnrs.len() as f64;
            rows.push(Row {
                codec: format!("gonpack refine {refine}"),
                setting: format!("latent {d}, {bits} bits"),
                bpp: (sizes.latents + sizes.index) as f64 * 8.0 / pixels,
                bpp_with_decoder: Some(sizes.total() as f64 * 8.0 / pixels),
                psnr,
                encode_s,
                decode_s,
            });
        }
    }
    Ok((rows, decoder))
}

/// Trains a decoder on `train` (whole images or patches, at their own size) with `opts`,
/// reporting the time it took as `what`.
fn train_decoder(
    train: &[SourceImage],
    opts: &EncodeOptions,
    what: &str,
) -> Result<Pack, Box<dyn std::error::Error>> {
    let (trained, report) = encode(train, opts)?;
    eprintln!(
        "gonpack: {what} trained in {:.1} s ({} steps), last-10% train PSNR {:.2} dB",
        report.train.seconds, report.train.steps, report.train.final_psnr
    );
    if report.train.stalled() {
        eprintln!(
            "rd: warning: training made little progress (a flat picture scores {:.2} dB); try a lower --lr",
            report.train.flat_psnr
        );
    }
    Ok(trained)
}

/// Mean PSNR over the images. An image decoded exactly counts as if one of its samples were one
/// level off (77.0 dB for a 28x28 grey image), so that a mean over a set stays finite.
fn mean_psnr<'a>(decoded: impl Iterator<Item = &'a [u8]>, originals: &[SourceImage]) -> f64 {
    let v: Vec<f64> = decoded
        .zip(originals)
        .map(|(d, o)| {
            let exact = 10.0 * (255.0f64 * 255.0 * o.pixels.len() as f64).log10();
            psnr_u8(d, &o.pixels).min(exact)
        })
        .collect();
    v.iter().sum::<f64>() / v.len() as f64
}

fn dynamic(width: u32, height: u32, channels: u8, pixels: Vec<u8>) -> DynamicImage {
    if channels == 1 {
        DynamicImage::ImageLuma8(image::GrayImage::from_raw(width, height, pixels).unwrap())
    } else {
        DynamicImage::ImageRgb8(image::RgbImage::from_raw(width, height, pixels).unwrap())
    }
}

/// All test images tiled into one picture, `cols` per row, and the tile size.
fn mosaic(test: &[SourceImage]) -> (SourceImage, u32) {
    let (w, h, c) = (test[0].width, test[0].height, usize::from(test[0].channels));
    let cols = (test.len() as f64).sqrt().ceil() as u32;
    let rows = (test.len() as u32).div_ceil(cols);
    let (mw, mh) = (cols * w, rows * h);
    let mut pixels = vec![0u8; (mw * mh) as usize * c];
    for (k, img) in test.iter().enumerate() {
        let (x0, y0) = ((k as u32 % cols) * w, (k as u32 / cols) * h);
        for y in 0..h {
            let src = &img.pixels[(y * w) as usize * c..((y + 1) * w) as usize * c];
            let at = (((y0 + y) * mw + x0) as usize) * c;
            pixels[at..at + src.len()].copy_from_slice(src);
        }
    }
    let m = SourceImage {
        name: "mosaic".into(),
        width: mw,
        height: mh,
        channels: c as u8,
        pixels,
    };
    (m, cols)
}

/// The tiles of a decoded mosaic, back in image order.
fn unmosaic(decoded: &[u8], test: &[SourceImage], cols: u32) -> Vec<Vec<u8>> {
    let (w, h, c) = (test[0].width, test[0].height, usize::from(test[0].channels));
    let mw = cols * w;
    (0..test.len())
        .map(|k| {
            let (x0, y0) = ((k as u32 % cols) * w, (k as u32 / cols) * h);
            (0..h)
                .flat_map(|y| {
                    let at = (((y0 + y) * mw + x0) as usize) * c;
                    decoded[at..at + w as usize * c].to_vec()
                })
                .collect()
        })
        .collect()
}

/// Codes each image (or the mosaic) with `enc`, decodes with `dec`; one table row.
fn lossy_row(
    test: &[SourceImage],
    as_mosaic: bool,
    pixels: f64,
    codec: &str,
    setting: String,
    enc: impl Fn(&SourceImage) -> Vec<u8>,
    dec: impl Fn(&[u8], &SourceImage) -> Vec<u8>,
) -> Row {
    let t = Instant::now();
    let (inputs, cols) = if as_mosaic {
        let (m, cols) = mosaic(test);
        (vec![m], cols)
    } else {
        (test.to_vec(), 0)
    };
    let coded: Vec<Vec<u8>> = inputs.iter().map(&enc).collect();
    let encode_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let decoded: Vec<Vec<u8>> = coded.iter().zip(&inputs).map(|(b, i)| dec(b, i)).collect();
    let decode_s = t.elapsed().as_secs_f64();
    let tiles = if as_mosaic {
        unmosaic(&decoded[0], test, cols)
    } else {
        decoded
    };
    Row {
        codec: format!("{codec} {}", if as_mosaic { "mosaic" } else { "per image" }),
        setting,
        bpp: coded.iter().map(Vec::len).sum::<usize>() as f64 * 8.0 / pixels,
        bpp_with_decoder: None,
        psnr: mean_psnr(tiles.iter().map(Vec::as_slice), test),
        encode_s,
        decode_s,
    }
}

/// Decodes `bytes` with the image crate and returns samples with `like`'s channel count.
fn decode_with_image(bytes: &[u8], format: ImageFormat, like: &SourceImage) -> Vec<u8> {
    let img = image::load_from_memory_with_format(bytes, format).expect("own output decodes");
    if like.channels == 1 {
        img.into_luma8().into_raw()
    } else {
        img.into_rgb8().into_raw()
    }
}

fn jpeg_encode(img: &SourceImage, q: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q);
    dynamic(img.width, img.height, img.channels, img.pixels.clone())
        .write_with_encoder(enc)
        .expect("JPEG encodes");
    out
}

/// libwebp codes RGB; grey images go in as R = G = B.
fn webp_encode(img: &SourceImage, q: f32) -> Vec<u8> {
    let rgb = img.samples_as(3);
    webp::Encoder::from_rgb(&rgb, img.width, img.height)
        .encode(q)
        .to_vec()
}

/// PNG per image (best compression), zstd -19 and xz -9e of the raw sample array.
fn lossless_rows(
    test: &[SourceImage],
    pixels: f64,
) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let row = |codec: &str, setting: &str, bytes: usize, encode_s: f64| Row {
        codec: codec.into(),
        setting: setting.into(),
        bpp: bytes as f64 * 8.0 / pixels,
        bpp_with_decoder: None,
        psnr: f64::INFINITY,
        encode_s,
        decode_s: f64::NAN,
    };
    let mut rows = Vec::new();
    let t = Instant::now();
    let mut png_bytes = 0;
    for img in test {
        let mut out = Vec::new();
        let enc = image::codecs::png::PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Best,
            image::codecs::png::FilterType::Adaptive,
        );
        dynamic(img.width, img.height, img.channels, img.pixels.clone()).write_with_encoder(enc)?;
        png_bytes += out.len();
    }
    rows.push(row(
        "PNG per image",
        "lossless, best",
        png_bytes,
        t.elapsed().as_secs_f64(),
    ));
    let raw: Vec<u8> = test.iter().flat_map(|i| i.pixels.iter().copied()).collect();
    let t = Instant::now();
    let z = zstd::bulk::compress(&raw, 19)?;
    rows.push(row(
        "zstd raw array",
        "-19",
        z.len(),
        t.elapsed().as_secs_f64(),
    ));
    let t = Instant::now();
    match xz(&raw) {
        Some(n) => rows.push(row("xz raw array", "-9e", n, t.elapsed().as_secs_f64())),
        None => eprintln!("rd: xz not found on PATH; no xz row"),
    }
    Ok(rows)
}

/// AVIF qualities of the mosaic rows (Pillow's 0..=100 scale).
const AVIF_QUALITIES: [u8; 7] = [0, 5, 10, 15, 20, 30, 50];

/// AVIF of the test mosaic through `avif_mosaic.py` (libavif via Pillow; no Rust crate here
/// decodes AVIF without the C libdav1d or libaom). The interpreter is `$GONPACK_PYTHON`,
/// else the project's `.venv/bin/python`, else `python3`.
fn avif_mosaic_rows(
    test: &[SourceImage],
    pixels: f64,
    out: &std::path::Path,
) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = std::env::var_os("GONPACK_PYTHON")
        .map(PathBuf::from)
        .or_else(|| Some(root.join(".venv/bin/python")).filter(|p| p.exists()))
        .unwrap_or_else(|| PathBuf::from("python3"));
    let dir = out.join("avif");
    std::fs::create_dir_all(&dir)?;
    let (m, cols) = mosaic(test);
    let src = dir.join("mosaic.png");
    dynamic(m.width, m.height, m.channels, m.pixels.clone()).save(&src)?;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/avif_mosaic.py");
    let run = std::process::Command::new(&python)
        .arg(&script)
        .arg(&src)
        .arg(&dir)
        .args(AVIF_QUALITIES.map(|q| q.to_string()))
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !run.status.success() {
        return Err(format!(
            "{} {}: {} (install Pillow with AVIF: {} -m pip install pillow)",
            python.display(),
            script.display(),
            String::from_utf8_lossy(&run.stderr).trim(),
            python.display()
        )
        .into());
    }
    let mut rows = Vec::new();
    for line in String::from_utf8(run.stdout)?.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [q, bytes, enc, dec] = f[..] else {
            return Err(format!("unexpected line from {}: {line:?}", script.display()).into());
        };
        let decoded = image::open(dir.join(format!("q{q}.png")))?;
        let decoded = if m.channels == 1 {
            decoded.into_luma8().into_raw()
        } else {
            decoded.into_rgb8().into_raw()
        };
        let tiles = unmosaic(&decoded, test, cols);
        rows.push(Row {
            codec: "AVIF mosaic".into(),
            setting: format!("quality {q}, speed 6"),
            bpp: bytes.parse::<f64>()? * 8.0 / pixels,
            bpp_with_decoder: None,
            psnr: mean_psnr(tiles.iter().map(Vec::as_slice), test),
            encode_s: enc.parse()?,
            decode_s: dec.parse()?,
        });
    }
    Ok(rows)
}

/// Size of `data` after `xz -9e` (the xz program), if it runs.
fn xz(data: &[u8]) -> Option<usize> {
    use std::io::Write;
    let mut child = std::process::Command::new("xz")
        .args(["-9e", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().ok()?;
    writer.join().ok()?.ok()?;
    out.status.success().then_some(out.stdout.len())
}

/// Points per pixel side of the super-resolution decoder: a half-size pixel is the mean of
/// the 2 x 2 full-size pixels it covers ([`area_half`]), so the decoder is trained to be a
/// picture whose 2 x 2 means are the training images.
const SR_SUPERSAMPLE: u32 = 2;

/// Peak learning rate of the half-size decoder unless `--lr` is given: with the logistic
/// output, 1e-3 collapsed to a flat picture after 1,000 of 9,000 steps on MNIST.
const SR_LR: f64 = 5e-4;

/// Refinement steps of the super-resolution latents. Deconvolving 2x2 means amplifies every
/// error in them, so fit them closely: on MNIST, 50 steps instead of 5 raised the half-size
/// fit from 27.5 to 30.8 dB and the full-size result by 1.0 dB.
const SR_REFINE: usize = 50;

/// `img` at half size (odd edges dropped): each pixel the rounded mean of the 2 x 2 pixels it
/// covers, as a sensor integrates light over a pixel's area.
fn area_half(img: &SourceImage) -> SourceImage {
    let (w, h, c) = (img.width / 2, img.height / 2, usize::from(img.channels));
    let at = |x: u32, y: u32, k: usize| u32::from(img.pixels[(y * img.width + x) as usize * c + k]);
    let mut pixels = Vec::with_capacity((w * h) as usize * c);
    for y in 0..h {
        for x in 0..w {
            for k in 0..c {
                let sum = at(2 * x, 2 * y, k)
                    + at(2 * x + 1, 2 * y, k)
                    + at(2 * x, 2 * y + 1, k)
                    + at(2 * x + 1, 2 * y + 1, k);
                pixels.push(((sum + 2) / 4) as u8);
            }
        }
    }
    SourceImage {
        name: img.name.clone(),
        width: w,
        height: h,
        channels: img.channels,
        pixels,
    }
}

/// `small` upsampled to `like`'s size (Catmull-Rom), as samples with `like`'s channels.
fn bicubic_up(small: &SourceImage, like: &SourceImage) -> Vec<u8> {
    let up = dynamic(
        small.width,
        small.height,
        small.channels,
        small.pixels.clone(),
    )
    .resize_exact(
        like.width,
        like.height,
        image::imageops::FilterType::CatmullRom,
    );
    if like.channels == 1 {
        up.into_luma8().into_raw()
    } else {
        up.into_rgb8().into_raw()
    }
}

/// Super-resolution rows: the half-size test images (2x2 area means) upscaled to full size by
/// gonpack (latents derived from the half-size pictures with the area model, decoded at
/// `--scale 2`) and by bicubic interpolation. Two gonpack rows: a decoder trained at half size
/// too (the case the benchmark asks for; area model with jittered points, logistic output),
/// and `full_decoder`, trained at full size on the
/// training images (the codec rows' decoder with the largest latent; trained here with
/// `--sr-only`), which has seen what full-size detail looks like.
fn super_resolution_rows(
    a: &Args,
    train: &[SourceImage],
    test: &[SourceImage],
    latent_dim: usize,
    full_decoder: Option<DecoderWeights>,
) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let half = |imgs: &[SourceImage]| -> Vec<SourceImage> { imgs.iter().map(area_half).collect() };
    let (train_half, test_half) = (half(train), half(test));
    let mut train_opts = options(a, train.len(), latent_dim);
    train_opts.train.supersample = SR_SUPERSAMPLE;
    train_opts.train.jitter = true;
    train_opts.train.shape.output = Output::Logistic;
    train_opts.train.lr = a.lr.unwrap_or(SR_LR);
    // As many decoder evaluations per step as the other rows.
    train_opts.train.pixels /= (SR_SUPERSAMPLE * SR_SUPERSAMPLE) as usize;
    let what = format!("1/2-size decoder, latent {latent_dim},");
    let trained = train_decoder(&train_half, &train_opts, &what)?;
    let (ours, decode_s) = upscale(&trained.decoder, &test_half, test)?;
    // A full-size decoder trained on patches cannot take whole half-size pictures.
    let full_row = if a.patches.is_whole(test[0].width, test[0].height) {
        let full_decoder = match full_decoder {
            Some(d) => d,
            None => {
                let opts = options(a, train.len(), latent_dim);
                let what = format!("full-size decoder, latent {latent_dim},");
                train_decoder(train, &opts, &what)?.decoder
            }
        };
        Some(upscale(&full_decoder, &test_half, test)?)
    } else {
        eprintln!("rd: no full-size decoder row: the full-size test images are cut into patches");
        None
    };
    // The decoder's own half-size pictures: the 2x2 means it was trained to match.
    let ours_half: Vec<Vec<u8>> = ours
        .iter()
        .zip(test)
        .map(|(pixels, o)| {
            let full = SourceImage {
                pixels: pixels.clone(),
                ..o.clone()
            };
            area_half(&full).pixels
        })
        .collect();
    let t = Instant::now();
    let bicubic: Vec<Vec<u8>> = test_half
        .iter()
        .zip(test)
        .map(|(s, o)| bicubic_up(s, o))
        .collect();
    let bicubic_s = t.elapsed().as_secs_f64();
    let bicubic_of_ours: Vec<Vec<u8>> = ours_half
        .iter()
        .zip(&test_half)
        .zip(test)
        .map(|((pixels, s), o)| {
            let decoded = SourceImage {
                pixels: pixels.clone(),
                ..s.clone()
            };
            bicubic_up(&decoded, o)
        })
        .collect();
    let pixels_full = test.len() as f64 * f64::from(test[0].width * test[0].height);
    let bpp = (test.len() * latent_dim) as f64 * 8.0 / pixels_full; // 8-bit codes, before zstd
    let row = |codec: &str, setting: &str, bpp: f64, psnr: f64, decode_s: f64| Row {
        codec: format!("super-resolution: {codec}"),
        setting: setting.into(),
        bpp,
        bpp_with_decoder: None,
        psnr,
        encode_s: f64::NAN,
        decode_s,
    };
    let psnr = |decoded: &[Vec<u8>], originals: &[SourceImage]| {
        mean_psnr(decoded.iter().map(Vec::as_slice), originals)
    };
    let mut rows = vec![
        row(
            "gonpack at 1/2 size",
            "2x2 means of the --scale 2 decode, against the 1/2-size images",
            bpp,
            psnr(&ours_half, &test_half),
            f64::NAN,
        ),
        row(
            "bicubic of gonpack",
            "those 1/2-size pictures, Catmull-Rom upsampling",
            bpp,
            psnr(&bicubic_of_ours, test),
            f64::NAN,
        ),
        row(
            "gonpack",
            "trained and encoded at 1/2 size (2x2 area means, --supersample 2 --jitter --sigmoid), decoded at --scale 2",
            bpp,
            psnr(&ours, test),
            decode_s,
        ),
    ];
    if let Some((ours_full, full_decode_s)) = full_row {
        rows.push(row(
            "gonpack, full-size decoder",
            "trained at full size on the training images; test images encoded from 1/2 size (--supersample 2), decoded at --scale 2",
            bpp,
            psnr(&ours_full, test),
            full_decode_s,
        ));
    }
    rows.push(row(
        "bicubic",
        "the same 1/2-size images, Catmull-Rom upsampling",
        f64::NAN,
        psnr(&bicubic, test),
        bicubic_s,
    ));
    Ok(rows)
}

/// Full-size renders and the seconds they took.
type Upscaled = (Vec<Vec<u8>>, f64);

/// Derives latents of the half-size `small` images against `decoder` (each pixel the mean of
/// the decoder over its 2 x 2 sub-pixel points, [`SR_REFINE`] refinement steps, 8-bit codes) and renders
/// them at the size of `full`.
fn upscale(
    decoder: &DecoderWeights,
    small: &[SourceImage],
    full: &[SourceImage],
) -> Result<Upscaled, Box<dyn std::error::Error>> {
    let opts = LatentOptions {
        refine: SR_REFINE,
        quant_refine: DEFAULT_QUANT_REFINE,
        supersample: SR_SUPERSAMPLE,
        device: tch::Device::Cpu,
        quiet: true,
    };
    let (latents, quant) = latents_for(decoder, small, Quantise::Fit(8), &opts)?;
    let renderer = Renderer::new(decoder);
    let t = Instant::now();
    let renders = latents
        .chunks_exact(decoder.shape.latent_dim)
        .zip(full)
        .map(|(z, o)| {
            let z = quant.dequantise(&quant.quantise(z));
            renderer.render(&z, o.width, o.height, o.channels)
        })
        .collect::<Result<_, _>>()?;
    Ok((renders, t.elapsed().as_secs_f64()))
}

fn markdown(rows: &[Row], train: &std::path::Path, test: &str, n: usize) -> String {
    let mut s = format!(
        "Trained on `{}`, measured on the {n} images of {test}.\n\n| codec | setting | bpp | bpp incl. decoder | mean PSNR (dB) | encode (s) | decode (s) |\n|---|---|---|---|---|---|---|\n",
        train.display(),
    );
    let num = |v: f64, p: usize| {
        if v.is_finite() {
            format!("{v:.p$}")
        } else {
            "-".into()
        }
    };
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.codec,
            r.setting,
            num(r.bpp, 3),
            r.bpp_with_decoder.map_or("-".into(), |v| num(v, 3)),
            if r.psnr.is_infinite() {
                "lossless".into()
            } else {
                num(r.psnr, 2)
            },
            num(r.encode_s, 2),
            num(r.decode_s, 2)
        );
    }
    s
}

/// PSNR against bpp, one polyline per codec, for the lossy rows with bpp <= 2.
fn svg(rows: &[Row]) -> String {
    let (x_max, y_lo, y_hi) = (2.0f64, 10.0f64, 40.0f64);
    let (pw, ph, m) = (640.0, 400.0, 50.0);
    let px = |b: f64| m + b.min(x_max) / x_max * pw;
    let py = |p: f64| m + ph - (p.clamp(y_lo, y_hi) - y_lo) / (y_hi - y_lo) * ph;
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    let mut add = |name: String, b: f64, p: f64| {
        if !(b.is_finite() && p.is_finite() && b <= x_max) {
            return;
        }
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, pts)) => pts.push((b, p)),
            None => series.push((name, vec![(b, p)])),
        }
    };
    for r in rows.iter().filter(|r| !r.codec.starts_with("super")) {
        add(r.codec.clone(), r.bpp, r.psnr);
        if let Some(b) = r.bpp_with_decoder {
            add(format!("{} incl. decoder", r.codec), b, r.psnr);
        }
    }
    let colours = [
        "#d62728", "#ff9896", "#e377c2", "#f7b6d2", "#8c564b", "#c49c94", "#1f77b4", "#aec7e8",
        "#2ca02c", "#98df8a", "#9467bd", "#7f7f7f",
    ];
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-family='sans-serif' font-size='12'>\n<rect width='100%' height='100%' fill='white'/>\n",
        pw + 2.0 * m + 180.0,
        ph + 2.0 * m
    );
    for k in 0..=4 {
        let b = x_max * f64::from(k) / 4.0;
        let _ = writeln!(s, "<line x1='{0}' y1='{1}' x2='{0}' y2='{2}' stroke='#ddd'/><text x='{0}' y='{3}' text-anchor='middle'>{b:.1}</text>", px(b), m, m + ph, m + ph + 16.0);
    }
    for p in (10..=40).step_by(5) {
        let p = f64::from(p);
        let _ = writeln!(s, "<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='#ddd'/><text x='{3}' y='{1}' text-anchor='end'>{p}</text>", m, py(p), m + pw, m - 6.0);
    }
    let _ = writeln!(s, "<text x='{}' y='{}' text-anchor='middle'>bits per pixel</text><text x='14' y='{}' transform='rotate(-90 14 {})' text-anchor='middle'>mean PSNR (dB)</text>", m + pw / 2.0, m + ph + 36.0, m + ph / 2.0, m + ph / 2.0);
    for (k, (name, pts)) in series.iter_mut().enumerate() {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let colour = colours[k % colours.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|&(b, p)| format!("{:.1},{:.1}", px(b), py(p)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill='none' stroke='{colour}' stroke-width='2' points='{}'/>",
            path.join(" ")
        );
        for &(b, p) in pts.iter() {
            let _ = writeln!(
                s,
                "<circle cx='{:.1}' cy='{:.1}' r='3' fill='{colour}'/>",
                px(b),
                py(p)
            );
        }
        let _ = writeln!(
            s,
            "<text x='{}' y='{}' fill='{colour}'>{name}</text>",
            m + pw + 10.0,
            m + 16.0 * k as f64 + 10.0
        );
    }
    s + "</svg>\n"
}
