//! Training, latent derivation and the pure-Rust renderer against tch (needs libtorch).
#[path = "../../tests/common/mod.rs"]
mod common;

use gonpack::pixels::SourceImage;
use gonpack::render::coords;
use gonpack::render::metrics::{pack_psnr, psnr_u8};
use gonpack::render::{to_u8, Renderer};
use gonpack::{ModelShape, Output};
use gonpack_train::data::{buckets, jittered};
use gonpack_train::gon::derive_latents;
use gonpack_train::{
    add_images, encode, quantise_refined, unquantised_latents, EncodeOptions, LatentOptions,
    Quantise, Siren, TrainConfig,
};
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Tensor};

fn options(steps: usize) -> EncodeOptions {
    EncodeOptions {
        refine: 0,
        quant_refine: 0,
        quiet: true,
        ..EncodeOptions::new(TrainConfig {
            shape: ModelShape {
                channels: 1,
                latent_dim: 16,
                hidden: 32,
                layers: 3,
                modulated: 3,
                w0_first: 30.0,
                w0_hidden: 30.0,
                output: Output::Identity,
            },
            steps,
            batch: 32,
            lr: 2e-3,
            pixels: 256,
            inner_steps: 1,
            step_init: 1.0,
            supersample: 1,
            jitter: false,
            seed: 7,
            device: Device::Cpu,
            log_every: 0,
        })
    }
}

/// Latent derivation with `refine` steps, quietly on the CPU.
fn latent_options(refine: usize) -> LatentOptions {
    LatentOptions {
        refine,
        quant_refine: 0,
        supersample: 1,
        device: Device::Cpu,
        quiet: true,
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn training_beats_the_untrained_decoder() {
    let images = common::corpus_images("mnist", 64);
    // One step (encode refuses 0): the decoder is still about where it started.
    let (untrained, _) = encode(&images, &options(1)).unwrap();
    let (trained, report) = encode(&images, &options(300)).unwrap();
    let before = mean(&pack_psnr(&untrained, &images).unwrap());
    let after = mean(&pack_psnr(&trained, &images).unwrap());
    let flat = common::flat_psnr(&images);
    eprintln!(
        "flat {flat:.2} dB, untrained {before:.2} dB, trained {after:.2} dB ({:.1} steps/s)",
        report.train.steps as f64 / report.train.seconds
    );
    assert!(
        after >= before + 3.0,
        "trained {after:.2} dB vs untrained {before:.2} dB"
    );
    // Measured (seed 7, CPU): flat 10.60 dB, one step 10.91 dB, trained 16.90 dB.
    assert!(
        after >= flat + 4.0,
        "trained decoder reaches only {after:.2} dB, a flat picture {flat:.2} dB"
    );
}

#[test]
fn refinement_improves_latents() {
    let images = common::corpus_images("mnist", 64);
    let mut opts = options(200);
    let (plain, _) = encode(&images, &opts).unwrap();
    opts.refine = 5;
    let (refined, _) = encode(&images, &opts).unwrap();
    let (a, b) = (
        mean(&pack_psnr(&plain, &images).unwrap()),
        mean(&pack_psnr(&refined, &images).unwrap()),
    );
    assert!(b > a + 0.2, "refined {b:.2} dB vs one step {a:.2} dB");
}

#[test]
fn a_latent_depends_only_on_its_own_image() {
    let images = common::corpus_images("mnist", 40);
    let (pack, _) = encode(&images, &options(50)).unwrap();
    let siren = Siren::from_weights(&pack.decoder, Device::Cpu).unwrap();
    let all = buckets(&images, 1, 1, Device::Cpu).unwrap();
    let alone = buckets(&images[7..8], 1, 1, Device::Cpu).unwrap();
    let bar = ProgressBar::hidden();
    let d = pack.shape().latent_dim;
    // Derived with its 39 neighbours (in chunks of 20) and alone, with and without refinement.
    for refine in [0, 3] {
        let batch = derive_latents(&siren, &all, refine, &bar).unwrap();
        let single = derive_latents(&siren, &alone, refine, &bar).unwrap();
        for k in 0..d {
            let (x, y) = (batch[7 * d + k], single[k]);
            assert!(
                (x - y).abs() <= 1e-5 * y.abs().max(1e-3),
                "refine {refine} dim {k}: {x} vs {y}"
            );
        }
    }
}

/// Guarded refinement: every image's error after more steps is at most its error after fewer,
/// for a decoder trained with 2 steps from the origin (whose unguarded steps overshoot).
#[test]
fn refinement_never_raises_an_images_error() {
    let images = common::corpus_images("mnist", 24);
    let mut opts = options(150);
    opts.train.inner_steps = 2;
    opts.train.lr = 1e-3;
    let (pack, _) = encode(&images, &opts).unwrap();
    let siren = Siren::from_weights(&pack.decoder, Device::Cpu).unwrap();
    let data = buckets(&images, 1, 1, Device::Cpu).unwrap();
    let d = pack.shape().latent_dim as i64;
    let errors = |refine: usize| -> Vec<f32> {
        let z = derive_latents(&siren, &data, refine, &ProgressBar::hidden()).unwrap();
        let z = Tensor::from_slice(&z).reshape([-1, d]);
        let mse = siren.per_image_mse(&data[0].coords, &z, &data[0].targets);
        Vec::<f32>::try_from(mse).unwrap()
    };
    let runs: Vec<Vec<f32>> = [0, 1, 3, 8].map(errors).into();
    for pair in runs.windows(2) {
        for (i, (before, after)) in pair[0].iter().zip(&pair[1]).enumerate() {
            assert!(after <= before, "image {i}: error {before} then {after}");
        }
    }
    let total = |r: &[f32]| r.iter().sum::<f32>();
    assert!(
        total(&runs[3]) < 0.9 * total(&runs[0]),
        "refinement gained nothing"
    );
}

/// Quantisation-aware refinement: with 3-bit codes, every image's error with its stored
/// (quantised) latent is at most what quantising the refined latent gives, and a good part of
/// the error that quantisation adds is won back.
#[test]
fn quantisation_aware_refinement_lowers_the_stored_error() {
    let images = common::corpus_images("mnist", 24);
    let (pack, _) = encode(&images, &options(150)).unwrap();
    let siren = Siren::from_weights(&pack.decoder, Device::Cpu).unwrap();
    let data = buckets(&images, 1, 1, Device::Cpu).unwrap();
    let d = pack.shape().latent_dim as i64;
    let opts = latent_options(3);
    let derived = unquantised_latents(&pack.decoder, &images, &opts).unwrap();
    let stored_errors = |quant_refine: usize| -> Vec<f32> {
        let opts = LatentOptions {
            quant_refine,
            ..opts
        };
        let (z, q) = quantise_refined(
            &pack.decoder,
            &images,
            derived.clone(),
            Quantise::Fit(3),
            &opts,
        )
        .unwrap();
        let stored = q.dequantise(&q.quantise(&z));
        let stored = Tensor::from_slice(&stored).reshape([-1, d]);
        let mse = siren.per_image_mse(&data[0].coords, &stored, &data[0].targets);
        Vec::<f32>::try_from(mse).unwrap()
    };
    let (plain, aware) = (stored_errors(0), stored_errors(8));
    for (i, (before, after)) in plain.iter().zip(&aware).enumerate() {
        assert!(after <= before, "image {i}: error {before} then {after}");
    }
    let exact = Tensor::from_slice(&derived).reshape([-1, d]);
    let exact = siren.per_image_mse(&data[0].coords, &exact, &data[0].targets);
    let total = |r: &[f32]| r.iter().sum::<f32>();
    let (exact, plain, aware) = (
        total(&Vec::<f32>::try_from(exact).unwrap()),
        total(&plain),
        total(&aware),
    );
    // It wins back at least a third of what quantisation lost.
    assert!(
        plain - aware >= (plain - exact) / 3.0,
        "unquantised {exact}, quantised {plain}, after quantisation-aware refinement {aware}"
    );
}

/// The tch forward pass of a pack's decoder on the pixel grid: `C` raw outputs per pixel.
fn tch_forward(siren: &Siren, z: &[f32], width: u32, height: u32) -> Vec<f32> {
    let p = i64::from(width) * i64::from(height);
    let c = Tensor::from_slice(&coords::grid(width, height)).reshape([p, 2]);
    let z = Tensor::from_slice(z).reshape([1, -1]);
    Vec::<f32>::try_from(siren.forward(&c, &z).flatten(0, -1)).unwrap()
}

/// The tch forward pass of a pack's decoder, as 8-bit samples.
fn tch_render(siren: &Siren, z: &[f32], width: u32, height: u32) -> Vec<u8> {
    tch_forward(siren, z, width, height)
        .into_iter()
        .map(to_u8)
        .collect()
}

/// Trains on `images` and checks the pure-Rust renderer against tch at scales 1 and 4.
/// Tolerance (README, format-spec §8.2): at least 99.9% of 8-bit samples identical, none off
/// by more than 1.
fn assert_renderer_matches_tch(images: &[SourceImage], opts: &EncodeOptions) {
    let (pack, _) = encode(images, opts).unwrap();
    assert_eq!(pack.shape().output, opts.train.shape.output);
    let c = pack.shape().channels as u8;
    let siren = Siren::from_weights(&pack.decoder, Device::Cpu).unwrap();
    let renderer = Renderer::new(&pack.decoder);
    let (mut same, mut total) = (0usize, 0usize);
    for scale in [1u32, 4] {
        for (i, e) in pack.index.iter().enumerate() {
            let (w, h) = (e.width * scale, e.height * scale);
            let ours = renderer.render(&pack.latent(i), w, h, c).unwrap();
            let reference = tch_render(&siren, &pack.latent(i), w, h);
            assert_eq!(ours.len(), reference.len());
            for (a, b) in ours.iter().zip(&reference) {
                assert!(a.abs_diff(*b) <= 1, "{}: {a} vs {b}", e.name);
                same += usize::from(a == b);
                total += 1;
            }
        }
    }
    let frac = same as f64 / total as f64;
    eprintln!("identical samples: {same}/{total} ({:.4}%)", 100.0 * frac);
    assert!(frac >= 0.999, "only {:.4}% identical", 100.0 * frac);
}

#[test]
fn pure_rust_renderer_matches_tch() {
    let mut images = common::corpus_images("mnist", 24);
    images.extend(common::corpus_images("cifar", 8));
    let mut opts = options(100);
    opts.train.shape.hidden = 48;
    assert_renderer_matches_tch(&images, &opts);
}

#[test]
fn logistic_output_renders_as_in_tch() {
    let mut opts = options(100);
    opts.train.shape.output = Output::Logistic;
    assert_renderer_matches_tch(&common::corpus_images("mnist", 24), &opts);
}

#[test]
fn grey_images_in_an_rgb_pack_decode_grey() {
    let mut images = common::corpus_images("mnist", 8);
    images.extend(common::corpus_images("cifar", 4));
    let (pack, _) = encode(&images, &options(150)).unwrap();
    assert_eq!(pack.shape().channels, 3);
    assert_eq!(pack.index[0].channels, 1);
    assert_eq!(pack.index[8].channels, 3);
    let renderer = Renderer::new(&pack.decoder);
    // Independent reference: tch's forward pass of the three channels, averaged per pixel and
    // rounded, with the renderer's tolerance against tch (format-spec §8.2: at least 99.9% of
    // samples identical, none off by more than 1).
    let siren = Siren::from_weights(&pack.decoder, Device::Cpu).unwrap();
    let (mut same, mut total) = (0usize, 0usize);
    for i in 0..8 {
        for size in [28u32, 112] {
            let grey = renderer.render(&pack.latent(i), size, size, 1).unwrap();
            let expected: Vec<u8> = tch_forward(&siren, &pack.latent(i), size, size)
                .chunks_exact(3)
                .map(|px| to_u8(px.iter().sum::<f32>() / 3.0))
                .collect();
            assert_eq!(grey.len(), expected.len(), "one sample a pixel");
            for (a, b) in grey.iter().zip(&expected) {
                assert!(
                    a.abs_diff(*b) <= 1,
                    "image {i} at {size}: grey {a} vs mean of tch's channels {b}"
                );
                same += usize::from(a == b);
                total += 1;
            }
        }
    }
    let frac = same as f64 / total as f64;
    assert!(frac >= 0.999, "only {:.4}% identical", 100.0 * frac);
    // And the grey decodings look like the digits: each above a flat picture of the digit's own
    // mean (the best any constant picture can do), and well above on average.
    let margins: Vec<f64> = (0..8)
        .map(|i| {
            let grey = renderer.render(&pack.latent(i), 28, 28, 1).unwrap();
            psnr_u8(&grey, &images[i].pixels) - common::flat_psnr(&images[i..=i])
        })
        .collect();
    let margin = mean(&margins);
    eprintln!("grey digits: {margin:.2} dB above flat on average ({margins:.2?})");
    // Measured (150 steps): 2.79 dB above on average, 1.57 to 4.00 dB each (30 steps gave only
    // 0.78 dB on average, too close to flat to tell; 60 steps 1.64 dB).
    for (i, m) in margins.iter().enumerate() {
        assert!(
            *m > 0.5,
            "digit {i}: grey only {m:.2} dB above a flat picture"
        );
    }
    assert!(
        margin > 1.5,
        "grey decodings only {margin:.2} dB above a flat picture on average"
    );
}

#[test]
fn adding_images_leaves_existing_ones_bit_for_bit_unchanged() {
    let images = common::corpus_images("mnist", 72);
    let (base, new) = images.split_at(64);
    let mut opts = options(300);
    opts.refine = 5;
    let (mut pack, _) = encode(base, &opts).unwrap();
    let renders = |pack: &gonpack::Pack| -> Vec<Vec<u8>> {
        let r = Renderer::new(&pack.decoder);
        (0..64)
            .flat_map(|i| [28, 56].map(|s| r.render(&pack.latent(i), s, s, 1).unwrap()))
            .collect()
    };
    let (before, codes) = (renders(&pack), pack.codes.clone());
    let report = add_images(&mut pack, new, false, &latent_options(5)).unwrap();
    assert_eq!((report.added, report.replaced, pack.len()), (8, 0, 72));
    // Through the file format and back: old codes and pixels are identical.
    let (bytes, _) = pack.to_bytes().unwrap();
    let reread = gonpack::Pack::from_bytes(&bytes, &gonpack::Limits::default()).unwrap();
    assert_eq!(&reread.codes[..codes.len()], &codes[..]);
    assert_eq!(renders(&reread), before);
    // New digits, never trained on, decode about as well as the trained ones.
    let (old_psnr, new_psnr) = (
        mean(&pack_psnr(&reread, base).unwrap()),
        mean(&pack_psnr(&reread, new).unwrap()),
    );
    let flat = common::flat_psnr(new);
    eprintln!(
        "trained images {old_psnr:.2} dB, added images {new_psnr:.2} dB (flat {flat:.2} dB), {} clamped",
        report.clamped
    );
    assert!(
        new_psnr > old_psnr - 3.0,
        "added {new_psnr:.2} dB vs {old_psnr:.2} dB"
    );
    // Measured: flat 10.67 dB, added 15.74 dB (trained 17.60 dB).
    assert!(
        new_psnr > flat + 3.0,
        "added {new_psnr:.2} dB vs a flat picture {flat:.2} dB"
    );
    // A clash is refused; --replace overwrites in place.
    assert!(matches!(
        add_images(&mut pack, &new[..1], false, &latent_options(5)),
        Err(gonpack_train::Error::Pack(gonpack::Error::Usage(m))) if m.contains("already in the pack")
    ));
    let r = add_images(&mut pack, &new[..1], true, &latent_options(5)).unwrap();
    assert_eq!((r.added, r.replaced, pack.len()), (0, 1, 72));
}

#[test]
fn cuda_device_works_or_is_refused_clearly() {
    if tch::Cuda::is_available() {
        // A GPU and a CUDA libtorch: a short encode on it must train like the CPU one.
        let images = common::corpus_images("mnist", 32);
        let mut opts = options(200);
        opts.train.device = Device::Cuda(0);
        let (pack, _) = encode(&images, &opts).unwrap();
        let (psnr, flat) = (
            mean(&pack_psnr(&pack, &images).unwrap()),
            common::flat_psnr(&images),
        );
        eprintln!("cuda encode {psnr:.2} dB, flat {flat:.2} dB");
        // Measured on the CPU with these options: flat 10.66 dB, encode 17.40 dB.
        assert!(
            psnr > flat + 4.0,
            "cuda encode reached {psnr:.2} dB, a flat picture {flat:.2} dB"
        );
    } else {
        eprintln!("no CUDA GPU here: checking the refusal only");
        match gonpack_train::parse_device("cuda") {
            Err(gonpack_train::Error::Pack(gonpack::Error::Usage(m))) => {
                assert!(m.contains("no CUDA GPU"), "{m}")
            }
            other => panic!("expected a usage error, got {other:?}"),
        }
    }
}

#[test]
fn patch_borders_are_as_good_as_patch_interiors() {
    // A 128x96 crop of a real photo, stored as 4x3 patches of 32 + 4 margin.
    let photo = common::corpus_images("photos", 1).remove(0);
    let (cw, ch) = (128u32, 96u32);
    let crop = image::imageops::crop_imm(
        &image::RgbImage::from_raw(photo.width, photo.height, photo.pixels.clone()).unwrap(),
        160,
        100,
        cw,
        ch,
    )
    .to_image();
    let img = SourceImage {
        name: "crop.png".into(),
        width: cw,
        height: ch,
        channels: 3,
        pixels: crop.into_raw(),
    };
    let mut opts = options(400);
    opts.refine = 5;
    opts.train.shape.hidden = 64;
    opts.train.shape.latent_dim = 32;
    let (pack, _) = encode(std::slice::from_ref(&img), &opts).unwrap();
    assert_eq!(pack.codes.len(), 12 * 32, "4x3 patches");
    let renderer = Renderer::new(&pack.decoder);
    let z = pack.image_latents(0, &pack.latent_starts());
    for scale in [1u32, 2] {
        let (w, h) = (cw * scale, ch * scale);
        let mut out = vec![0u8; (w * h * 3) as usize];
        renderer
            .render_image(pack.patches, &z, (cw, ch), (w, h), 3, &mut out)
            .unwrap();
        // Compare against the original enlarged by pixel replication (the same source pixel).
        let (mut band, mut inner) = ((0f64, 0usize), (0f64, 0usize));
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = (x / scale, y / scale);
                // Distance (source pixels) to the nearest interior patch border.
                let dist = |s: u32, n: u32| {
                    (1..n.div_ceil(32))
                        .map(|k| (i64::from(s) - i64::from(k * 32)).abs())
                        .min()
                        .unwrap_or(i64::MAX)
                };
                let dmin = dist(sx, cw).min(dist(sy, ch));
                let at = ((y * w + x) * 3) as usize;
                let src = ((sy * cw + sx) * 3) as usize;
                let se: f64 = (0..3)
                    .map(|c| (f64::from(out[at + c]) - f64::from(img.pixels[src + c])).powi(2))
                    .sum();
                if dmin <= 2 {
                    band = (band.0 + se, band.1 + 3);
                } else if dmin >= 8 {
                    inner = (inner.0 + se, inner.1 + 3);
                }
            }
        }
        let psnr = |(se, n): (f64, usize)| {
            gonpack::render::metrics::psnr_from_mse(se / n as f64 / 65025.0)
        };
        let (b, i) = (psnr(band), psnr(inner));
        let flat = common::flat_psnr(std::slice::from_ref(&img));
        eprintln!("scale {scale}: border band {b:.2} dB, interiors {i:.2} dB, flat {flat:.2} dB");
        assert!(
            b >= i - 1.0,
            "scale {scale}: border band {b:.2} dB vs interiors {i:.2} dB"
        );
        // Measured: flat 13.92 dB, interiors 25.99 dB (scale 1) and 25.74 dB (scale 2).
        assert!(
            i > flat + 9.0,
            "scale {scale}: interiors only {i:.2} dB, a flat picture {flat:.2} dB"
        );
    }
}

#[test]
fn adding_to_a_patched_pack_keeps_old_patches() {
    // CIFAR images cut into 2x2 patches of 16 + 2 margin; add two, then replace one.
    let images = common::corpus_images("cifar", 10);
    let (base, new) = images.split_at(8);
    let mut opts = options(120);
    opts.patches = gonpack::format::patches::Geometry {
        patch: 16,
        overlap: 2,
    };
    let (mut pack, _) = encode(base, &opts).unwrap();
    let d = pack.shape().latent_dim;
    assert_eq!(pack.codes.len(), 8 * 4 * d);
    let old = pack.codes.clone();
    add_images(&mut pack, new, false, &latent_options(2)).unwrap();
    assert_eq!(pack.codes.len(), 10 * 4 * d);
    assert_eq!(&pack.codes[..old.len()], &old[..]);
    let before_last = pack.codes[9 * 4 * d..].to_vec();
    let first_version = pack.codes[8 * 4 * d..9 * 4 * d].to_vec();
    let mut replacement = new[0].clone();
    replacement.pixels.reverse(); // a different picture under the same name
    add_images(&mut pack, &[replacement], true, &latent_options(2)).unwrap();
    assert_eq!(pack.codes.len(), 10 * 4 * d);
    assert_eq!(
        &pack.codes[..8 * 4 * d],
        &old[..],
        "images before it untouched"
    );
    assert_eq!(
        &pack.codes[9 * 4 * d..],
        &before_last[..],
        "images after it untouched"
    );
    assert_ne!(
        &pack.codes[8 * 4 * d..9 * 4 * d],
        &first_version[..],
        "replaced"
    );
    let (bytes, _) = pack.to_bytes().unwrap();
    let reread = gonpack::Pack::from_bytes(&bytes, &gonpack::Limits::default()).unwrap();
    assert_eq!(reread, pack);
    // The old images still decode above a flat picture of each one's own mean (the best any
    // constant picture can do), and well above on average.
    let margins: Vec<f64> = base
        .iter()
        .zip(pack_psnr(&reread, base).unwrap())
        .map(|(img, psnr)| psnr - common::flat_psnr(std::slice::from_ref(img)))
        .collect();
    let margin = mean(&margins);
    eprintln!("old images: {margin:.2} dB above flat on average ({margins:.2?})");
    // Measured (120 steps): 4.41 dB above on average, 1.88 to 8.71 dB each (60 steps gave
    // 2.29 dB on average, 0.49 dB for the worst image).
    for (img, m) in base.iter().zip(&margins) {
        assert!(
            *m > 0.5,
            "{}: only {m:.2} dB above a flat picture",
            img.name
        );
    }
    assert!(
        margin > 2.5,
        "old images only {margin:.2} dB above a flat picture on average"
    );
}

#[test]
fn jittered_points_stay_inside_their_own_cells() {
    let images = common::corpus_images("mnist", 2);
    let bucket = &buckets(&images, 1, 2, Device::Cpu).unwrap()[0];
    assert_eq!((bucket.width, bucket.height), (28, 28));
    let grid = Vec::<f32>::try_from(bucket.coords.flatten(0, -1)).unwrap();
    // A 28-pixel axis spans 2, so each of a pixel's 2 x 2 cells is 2 / 56 wide.
    let cell = 2.0 / 56.0;
    let (mut rng, mut total, rounds) = (ChaCha8Rng::seed_from_u64(3), 0.0f64, 4);
    for _ in 0..rounds {
        let moved = jittered(&bucket.coords, bucket, 2, &mut rng);
        assert_eq!(moved.size(), bucket.coords.size());
        for (a, p) in Vec::<f32>::try_from(moved.flatten(0, -1))
            .unwrap()
            .iter()
            .zip(&grid)
        {
            let off = f64::from((a - p).abs());
            assert!(off <= cell / 2.0 + 1e-6, "{p} moved to {a}");
            total += off;
        }
    }
    // Uniform over the cell: a quarter of a cell from its centre on average.
    let mean = total / (rounds * grid.len()) as f64;
    assert!(
        (mean / cell - 0.25).abs() < 0.01,
        "mean offset {} cells",
        mean / cell
    );
}

/// `n` copies of the corpus's first digits (the choice reads sizes and channels only).
fn digits(n: usize) -> Vec<SourceImage> {
    let corpus = common::corpus_images("mnist", 16);
    (0..n)
        .map(|i| SourceImage {
            name: format!("{i}.png"),
            ..corpus[i % corpus.len()].clone()
        })
        .collect()
}

#[test]
fn low_qualities_of_large_small_grey_sets_choose_the_vector_model() {
    use gonpack_train::model_choice::{auto_model, low_rate_bits, ModelChoice, VECTOR_MIN_PIXELS};
    let per_image = 28 * 28;
    let enough = (VECTOR_MIN_PIXELS / per_image + 1) as usize;
    let set = digits(enough);
    let vector = |bits| ModelChoice::Vector { bits };
    // Qualities 0, 0.5, 1 and 1.5 give 2 to 5 bits; from quality 2 the grids.
    for (q, want) in [
        (0.0, vector(2)),
        (0.4, vector(2)),
        (0.5, vector(3)),
        (1.0, vector(4)),
        (1.5, vector(5)),
        (1.99, vector(5)),
        (2.0, ModelChoice::Grid),
        (3.5, ModelChoice::Grid),
    ] {
        assert_eq!(auto_model(&set, q), want, "quality {q}");
    }
    assert_eq!(low_rate_bits(8.0), 5);
    // One image too few, one colour picture, one image larger than 32x32: the grids.
    assert_eq!(auto_model(&set[1..], 1.0), ModelChoice::Grid);
    let mut colour = set.clone();
    colour.extend(common::corpus_images("cifar", 1));
    assert_eq!(auto_model(&colour, 1.0), ModelChoice::Grid);
    let mut large = set.clone();
    large[0].width = 33;
    assert_eq!(auto_model(&large, 1.0), ModelChoice::Grid);
    let mut alpha = set;
    alpha[0].channels = 2;
    assert_eq!(auto_model(&alpha, 1.0), ModelChoice::Grid);
}
