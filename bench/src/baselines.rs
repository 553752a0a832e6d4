//! The standard codecs gonpack is measured against: PNG, zstd and xz (lossless, each round trip
//! checked), JPEG and WebP per image and as one mosaic, and AVIF as one mosaic or, for images
//! of several sizes, per image (libavif through Pillow, `bench/avif_mosaic.py`).
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use gonpack::pixels::{has_alpha, SourceImage};
use image::ImageFormat;

use crate::picture::{dynamic, mean_alpha, mean_psnr, mosaic, samples, unmosaic};
use crate::{BenchError, Codec, Layout, Record, Task, TestSet};

/// Image formats coded through the image crate (and libwebp for WebP encoding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Lossless; one point.
    Png,
    /// Qualities 1–100.
    Jpeg,
    /// libwebp lossy, qualities 0–100.
    Webp,
}

/// JPEG qualities measured.
pub const JPEG_QUALITIES: [f32; 7] = [2.0, 5.0, 10.0, 20.0, 30.0, 50.0, 75.0];
/// WebP qualities measured.
pub const WEBP_QUALITIES: [f32; 6] = [0.0, 2.0, 10.0, 25.0, 50.0, 75.0];
/// AVIF qualities measured (Pillow's scale, default speed 6).
pub const AVIF_QUALITIES: [u8; 7] = [0, 5, 10, 15, 20, 30, 50];

/// PNG, JPEG or WebP, one file per image or one mosaic.
pub struct ImageCodec {
    /// The format.
    pub format: Format,
    /// Per image or mosaic.
    pub layout: Layout,
}

impl ImageCodec {
    fn qualities(&self) -> &'static [f32] {
        match self.format {
            Format::Png => &[0.0],
            Format::Jpeg => &JPEG_QUALITIES,
            Format::Webp => &WEBP_QUALITIES,
        }
    }

    fn encode(&self, img: &SourceImage, quality: f32) -> Result<Vec<u8>, BenchError> {
        let mut out = Vec::new();
        let fail = |e: image::ImageError| BenchError::codec(self.name(), e);
        match self.format {
            Format::Png => dynamic(img)
                .write_with_encoder(image::codecs::png::PngEncoder::new_with_quality(
                    &mut out,
                    image::codecs::png::CompressionType::Best,
                    image::codecs::png::FilterType::Adaptive,
                ))
                .map_err(fail)?,
            Format::Jpeg => dynamic(img)
                .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                    &mut out,
                    quality as u8,
                ))
                .map_err(fail)?,
            Format::Webp => {
                // libwebp codes RGB or RGBA; grey goes in as R = G = B.
                let (w, h) = (img.width, img.height);
                out = if has_alpha(img.channels) {
                    // Alpha coded lossy at the same quality (cwebp -q Q -alpha_q Q); libwebp's
                    // default, lossless alpha, cannot go below about 1.4 bpp on emoji.
                    let rgba = dynamic(img).into_rgba8().into_raw();
                    let mut config = webp::WebPConfig::new()
                        .map_err(|()| BenchError::codec("WebP", "no default configuration"))?;
                    config.quality = quality;
                    config.alpha_quality = quality as i32;
                    webp::Encoder::from_rgba(&rgba, w, h)
                        .encode_advanced(&config)
                        .map_err(|e| BenchError::codec("WebP", format!("{e:?}")))?
                        .to_vec()
                } else {
                    let rgb = img.samples_as(3);
                    webp::Encoder::from_rgb(&rgb, w, h).encode(quality).to_vec()
                };
            }
        }
        Ok(out)
    }

    fn decode(&self, bytes: &[u8], like: &SourceImage) -> Result<Vec<u8>, BenchError> {
        let format = match self.format {
            Format::Png => ImageFormat::Png,
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Webp => ImageFormat::WebP,
        };
        let img = image::load_from_memory_with_format(bytes, format)
            .map_err(|e| BenchError::codec(self.name(), e))?;
        Ok(samples(img, like.channels))
    }
}

impl Codec for ImageCodec {
    fn name(&self) -> String {
        match self.format {
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::Webp => "WebP",
        }
        .into()
    }

    fn run(&mut self, test: &TestSet) -> Result<Vec<Record>, BenchError> {
        let (inputs, cols) = match self.layout {
            Layout::Mosaic => {
                let (m, cols) = mosaic(test.images);
                (vec![m], cols)
            }
            _ => (test.images.to_vec(), 0),
        };
        let mut records = Vec::new();
        for &q in self.qualities() {
            let t = Instant::now();
            let coded = inputs
                .iter()
                .map(|i| self.encode(i, q))
                .collect::<Result<Vec<_>, _>>()?;
            let encode_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let decoded = coded
                .iter()
                .zip(&inputs)
                .map(|(b, i)| self.decode(b, i))
                .collect::<Result<Vec<_>, _>>()?;
            let decode_s = t.elapsed().as_secs_f64();
            let tiles = match self.layout {
                Layout::Mosaic => unmosaic(&decoded[0], test.images, cols),
                _ => decoded,
            };
            let bytes = coded.iter().map(|c| c.len() as u64).sum();
            let (setting, psnr, alpha) = if self.format == Format::Png {
                check_exact(&self.name(), &tiles, test.images)?;
                ("lossless".to_string(), None, None)
            } else {
                let alpha = mean_alpha(&tiles, test.images);
                (
                    format!("quality {q}"),
                    Some(mean_psnr(&tiles, test.images)),
                    alpha,
                )
            };
            let r = Record::new(
                Task::Compression,
                &self.name(),
                self.layout,
                "",
                setting,
                Some(bytes),
                test.pixels(),
                psnr,
            );
            records.push(r.timed(encode_s, decode_s).with_alpha(alpha));
        }
        Ok(records)
    }
}

/// An error unless every decoded image equals its original.
fn check_exact(
    codec: &str,
    decoded: &[Vec<u8>],
    originals: &[SourceImage],
) -> Result<(), BenchError> {
    match decoded.iter().zip(originals).find(|(d, o)| **d != o.pixels) {
        Some((_, o)) => Err(BenchError::codec(
            codec,
            format!("{} did not round-trip", o.name),
        )),
        None => Ok(()),
    }
}

/// A general-purpose compressor of the raw sample array (every image's samples, concatenated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawArray {
    /// zstd at level 19.
    Zstd,
    /// xz (liblzma) at preset 9 with the extreme flag, as `xz -9e`.
    Xz,
}

/// liblzma's `LZMA_PRESET_EXTREME` flag (`xz -e`), which the xz2 crate does not name.
const LZMA_PRESET_EXTREME: u32 = 0x8000_0000;

impl RawArray {
    fn compress(self, data: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            RawArray::Zstd => zstd::bulk::compress(data, 19),
            RawArray::Xz => {
                let mut enc = xz2::write::XzEncoder::new(Vec::new(), 9 | LZMA_PRESET_EXTREME);
                enc.write_all(data)?;
                enc.finish()
            }
        }
    }

    fn decompress(self, data: &[u8], len: usize) -> std::io::Result<Vec<u8>> {
        match self {
            RawArray::Zstd => zstd::bulk::decompress(data, len),
            RawArray::Xz => {
                let mut out = Vec::with_capacity(len);
                xz2::read::XzDecoder::new(data).read_to_end(&mut out)?;
                Ok(out)
            }
        }
    }
}

impl Codec for RawArray {
    fn name(&self) -> String {
        match self {
            RawArray::Zstd => "zstd -19",
            RawArray::Xz => "xz -9e",
        }
        .into()
    }

    fn run(&mut self, test: &TestSet) -> Result<Vec<Record>, BenchError> {
        let raw: Vec<u8> = test
            .images
            .iter()
            .flat_map(|i| i.pixels.iter().copied())
            .collect();
        let fail = |e: std::io::Error| BenchError::codec(self.name(), e);
        let t = Instant::now();
        let packed = self.compress(&raw).map_err(fail)?;
        let encode_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let back = self.decompress(&packed, raw.len()).map_err(fail)?;
        let decode_s = t.elapsed().as_secs_f64();
        if back != raw {
            return Err(BenchError::codec(self.name(), "did not round-trip"));
        }
        let r = Record::new(
            Task::Compression,
            &self.name(),
            Layout::RawArray,
            "",
            "lossless".into(),
            Some(packed.len() as u64),
            test.pixels(),
            None,
        );
        Ok(vec![r.timed(encode_s, decode_s)])
    }
}

/// AVIF through Pillow's libavif (`bench/avif_mosaic.py`): no Rust crate here decodes AVIF
/// without C libraries a fresh machine lacks.
pub struct Avif {
    /// The Python interpreter (needs Pillow with AVIF).
    pub python: PathBuf,
    /// Folder for the pictures and their decodings.
    pub work: PathBuf,
}

/// AVIF of the test images as one mosaic, or per image (images of several sizes make no
/// mosaic).
struct AvifCodec {
    avif: Avif,
    /// [`Layout::Mosaic`] or [`Layout::PerImage`].
    layout: Layout,
}

/// One quality of one AVIF picture: `(quality, bytes, encode seconds, decode seconds)`.
type AvifLine = (String, u64, f64, f64);

impl Avif {
    /// `$GONPACK_PYTHON`, else the repository's `.venv/bin/python`, else `python3`.
    pub fn find_python() -> PathBuf {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
        std::env::var_os("GONPACK_PYTHON")
            .map(PathBuf::from)
            .or_else(|| venv.exists().then_some(venv))
            .unwrap_or_else(|| PathBuf::from("python3"))
    }

    /// Codes `img` at every [`AVIF_QUALITIES`] in folder `dir`: per quality its line and the
    /// decoded samples (`img`'s channels).
    fn code(&self, img: &SourceImage, dir: &Path) -> Result<Vec<(AvifLine, Vec<u8>)>, BenchError> {
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e| BenchError::io(&p, e)
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let src = dir.join("source.png");
        dynamic(img)
            .save(&src)
            .map_err(|e| BenchError::codec("AVIF", e))?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("avif_mosaic.py");
        let run = std::process::Command::new(&self.python)
            .arg(&script)
            .arg(&src)
            .arg(dir)
            .args(AVIF_QUALITIES.map(|q| q.to_string()))
            .output()
            .map_err(io(&self.python))?;
        if !run.status.success() {
            return Err(BenchError::codec(
                "AVIF",
                format!(
                    "{}: {} (Pillow with AVIF: {} -m pip install pillow)",
                    script.display(),
                    String::from_utf8_lossy(&run.stderr).trim(),
                    self.python.display()
                ),
            ));
        }
        String::from_utf8_lossy(&run.stdout)
            .lines()
            .map(|line| {
                let bad = || BenchError::codec("AVIF", format!("unexpected line {line:?}"));
                let f: Vec<&str> = line.split_whitespace().collect();
                let [q, bytes, enc, dec] = f[..] else {
                    return Err(bad());
                };
                let num = |s: &str| s.parse::<f64>().map_err(|_| bad());
                let decoded = image::open(dir.join(format!("q{q}.png")))
                    .map_err(|e| BenchError::codec("AVIF", e))?;
                let line = (q.to_string(), num(bytes)? as u64, num(enc)?, num(dec)?);
                Ok((line, samples(decoded, img.channels)))
            })
            .collect()
    }
}

impl Codec for AvifCodec {
    fn name(&self) -> String {
        "AVIF".into()
    }

    fn run(&mut self, test: &TestSet) -> Result<Vec<Record>, BenchError> {
        // The pictures coded (the mosaic, or each image); per quality: bytes, seconds, and the
        // decoded images in test order.
        let mosaic = (self.layout == Layout::Mosaic).then(|| mosaic(test.images));
        let pictures: Vec<&SourceImage> = match &mosaic {
            Some((m, _)) => vec![m],
            None => test.images.iter().collect(),
        };
        let mut coded: Vec<AvifLine> = Vec::new();
        let mut decoded: Vec<Vec<Vec<u8>>> = Vec::new();
        for (i, img) in pictures.into_iter().enumerate() {
            let lines = self
                .avif
                .code(img, &self.avif.work.join(format!("picture{i}")))?;
            if i == 0 {
                coded = lines
                    .iter()
                    .map(|((q, ..), _)| (q.clone(), 0, 0.0, 0.0))
                    .collect();
                decoded = vec![Vec::new(); coded.len()];
            }
            let qualities = lines.iter().map(|((q, ..), _)| q);
            if !qualities.eq(coded.iter().map(|c| &c.0)) {
                let why = format!("{}: other qualities than the first image's", img.name);
                return Err(BenchError::codec("AVIF", why));
            }
            for (k, ((_, bytes, enc, dec), pixels)) in lines.into_iter().enumerate() {
                let c = &mut coded[k];
                (c.1, c.2, c.3) = (c.1 + bytes, c.2 + enc, c.3 + dec);
                match &mosaic {
                    Some((_, cols)) => decoded[k].extend(unmosaic(&pixels, test.images, *cols)),
                    None => decoded[k].push(pixels),
                }
            }
        }
        Ok(coded
            .into_iter()
            .zip(&decoded)
            .map(|((q, bytes, enc, dec), images)| {
                Record::new(
                    Task::Compression,
                    "AVIF",
                    self.layout,
                    "",
                    format!("quality {q}, speed 6"),
                    Some(bytes),
                    test.pixels(),
                    Some(mean_psnr(images, test.images)),
                )
                .timed(enc, dec)
            })
            .collect())
    }
}

/// Every standard codec for `test`: PNG per image, zstd and xz of the raw array, JPEG and WebP
/// per image and (images of one size) as a mosaic, and AVIF when `avif` is given: as a mosaic,
/// or per image where the images differ in size.
/// Images with alpha leave out JPEG and AVIF (they would drop it): WebP keeps it.
pub fn standard(test: &TestSet, avif: Option<Avif>) -> Vec<Box<dyn Codec>> {
    let mut codecs: Vec<Box<dyn Codec>> = vec![
        Box::new(ImageCodec {
            format: Format::Png,
            layout: Layout::PerImage,
        }),
        Box::new(RawArray::Zstd),
        Box::new(RawArray::Xz),
    ];
    let layouts: &[Layout] = if test.uniform() {
        &[Layout::PerImage, Layout::Mosaic]
    } else {
        &[Layout::PerImage]
    };
    for &layout in layouts {
        for format in [Format::Jpeg, Format::Webp] {
            if !(format == Format::Jpeg && test.has_alpha()) {
                codecs.push(Box::new(ImageCodec { format, layout }));
            }
        }
    }
    if let Some(avif) = avif.filter(|_| !test.has_alpha()) {
        let layout = if test.uniform() {
            Layout::Mosaic
        } else {
            Layout::PerImage
        };
        codecs.push(Box::new(AvifCodec { avif, layout }));
    }
    codecs
}
