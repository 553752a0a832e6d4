//! The grid model (format versions 5 and 6) with tch: training beats a flat picture by a margin,
//! refinement lowers the loss it optimises, and the pure-Rust renderer agrees with the
//! trainer's forward pass to within one 8-bit level (needs libtorch).
#[path = "../../tests/common/mod.rs"]
mod common;

use gonpack::format::context::{self, fit_context_models, Prediction};
use gonpack::format::grid::{initial_kernel, kernel_taps, kernel_value, GridWeights, Sampling};
use gonpack::format::grid_pack::GridPack;
use gonpack::format::grid_pack::{code_starts, grid_runs};
use gonpack::pixels::SourceImage;
use gonpack::render::metrics::pack_psnr;
use gonpack::render::{to_u8, PackImages};
use gonpack_train::grid::{GridNet, SizeContext};
use gonpack_train::grid_encode::{
    default_precondition, default_straight_through, default_warmup, encode_grid_pack,
    pack_with_decoder, quality_lambda, rate_of, train_grids, training_inputs, training_rate_weight,
    GridConfig, PRECONDITION_QUALITY, STRAIGHT_THROUGH_LEVELS,
};
use indicatif::ProgressBar;
use tch::{Device, Tensor};

/// 12 digits and 4 CIFAR pictures of the corpus (a grey-and-colour pack).
fn images() -> Vec<SourceImage> {
    let mut images = common::corpus_images("mnist", 12);
    images.extend(common::corpus_images("cifar", 4));
    images
}

fn config(steps: usize) -> GridConfig {
    GridConfig {
        steps,
        quiet: true,
        ..GridConfig::DEFAULT
    }
}

/// Image `i`'s dequantised grids in `pack`, one `(1, h_l, w_l)` tensor per plane.
fn stored_grids(pack: &GridPack, i: usize, starts: &[usize]) -> Vec<Tensor> {
    let (shape, e) = (pack.shape(), &pack.index[i]);
    let values = pack.grids(i, starts);
    let mut rest = values.as_slice();
    (0..shape.planes())
        .map(|l| {
            let (w, h) = shape.plane_size(l, e.width, e.height);
            let (head, tail) = rest.split_at((w * h) as usize);
            rest = tail;
            Tensor::from_slice(head).view([1, i64::from(h), i64::from(w)])
        })
        .collect()
}

#[test]
fn grid_training_beats_a_flat_picture_and_the_renderer_agrees_with_tch() {
    for sampling in [Sampling::Kernel, Sampling::Bilinear] {
        let mut cfg = config(150);
        cfg.shape.sampling = sampling;
        trains_and_renders_as_tch(&cfg);
    }
}

/// Trains a pack of [`images`] under `cfg` and checks it against a flat picture and the
/// renderer against the trainer's forward pass.
fn trains_and_renders_as_tch(cfg: &GridConfig) {
    let images = images();
    let (pack, report) = encode_grid_pack(&images, cfg).unwrap();
    assert_eq!(pack.shape().sampling, cfg.shape.sampling);
    let psnr = pack_psnr(&pack, &images).unwrap();
    let mean = psnr.iter().sum::<f64>() / psnr.len() as f64;
    let flat = common::flat_psnr(&images);
    assert!(
        mean > flat + 6.0,
        "mean {mean:.2} dB after {} steps, flat {flat:.2} dB",
        report.train.steps
    );
    if cfg.shape.sampling == Sampling::Kernel {
        kernels_are_smooth_partitions_of_unity(&pack.decoder);
    }
    // The reported rate model is the one fitted to the pack's codes, which `encode --decoder`
    // refines new images under (the benchmarks encode their test images with it).
    assert_eq!(report.rate, rate_of(&pack));
    // The trainer's forward pass on the stored (dequantised) grids, against the renderer.
    let shape = *pack.shape();
    let net = GridNet::from_weights(&pack.decoder, &rate_of(&pack), Device::Cpu).unwrap();
    let starts = code_starts(&shape, &pack.index);
    let render = pack.prepare();
    let c = shape.channels;
    for (i, e) in pack.index.iter().enumerate() {
        let grids = stored_grids(&pack, i, &starts);
        let ctx = SizeContext::new(&shape, e.width, e.height, Device::Cpu);
        let out = Vec::<f32>::try_from(net.forward(&ctx, &grids).flatten(0, -1)).unwrap();
        let mut rust = vec![0u8; (e.width * e.height) as usize * c];
        render(i, (e.width, e.height), c as u8, &mut rust).unwrap();
        let worst = out
            .iter()
            .zip(&rust)
            .map(|(&t, &r)| (i32::from(to_u8(t)) - i32::from(r)).abs())
            .max()
            .unwrap();
        assert!(
            worst <= 1,
            "{} ({:?}): renderer and tch differ by {worst} levels",
            e.name,
            cfg.shape.sampling
        );
    }
}

/// Learned kernels weigh the four taps of every sample at every phase to a sum of 1 (to the
/// precision of f16 knots), so a flat level samples flat at any scale; the full-resolution
/// level, which 1x training samples at its own values only, keeps Catmull-Rom's kernel, so it
/// interpolates at other scales. Free knots would break both and show a lattice at 4x.
fn kernels_are_smooth_partitions_of_unity(w: &GridWeights) {
    for l in 0..w.shape.levels {
        let knots = w.level_kernel(l);
        for i in 0..64 {
            let (_, d) = kernel_taps(i, 64, 5);
            let sum: f64 = d.iter().map(|&d| kernel_value(knots, d)).sum();
            assert!(
                (sum - 1.0).abs() < 4e-3,
                "level {l}: the weights of sample {i} sum to {sum} ({knots:?})"
            );
        }
    }
    assert_eq!(w.level_kernel(0), initial_kernel());
    assert_ne!(
        w.level_kernel(1),
        initial_kernel(),
        "level 1 learned nothing"
    );
}

/// The pack stores the effective gradient-origin step sizes (the learned sizes times the
/// preconditioner of the trained weights): a decoder read back from them derives the grids
/// the trained one derives.
#[test]
fn a_stored_decoder_derives_the_grids_its_trainer_derives() {
    let images = images();
    let cfg = GridConfig {
        precondition: Some(true),
        ..config(60)
    };
    let (net, _) = train_grids(&images, &cfg, &ProgressBar::hidden()).unwrap();
    let weights = net.to_weights().unwrap();
    let stored = GridNet::from_weights(&weights, &net.rate_model().unwrap(), Device::Cpu).unwrap();
    let shape = *net.shape();
    for img in [&images[0], &images[15]] {
        let ctx = SizeContext::new(&shape, img.width, img.height, Device::Cpu);
        let targets = Tensor::from_slice(&img.targets(shape.channels as u8)).view([
            1,
            i64::from(img.width * img.height),
            shape.channels as i64,
        ]);
        let (a, b) = (
            net.derive(&ctx, &targets, false),
            stored.derive(&ctx, &targets, false),
        );
        for (l, (a, b)) in a.iter().zip(&b).enumerate() {
            // Relative to the plane's largest value, but not below 0.01 (far under a code step,
            // codes being `round(v g)` with gains from 1): a plane the decoder barely uses
            // (values ~1e-4) differs by float summation order alone (4e-8 was seen), while
            // wrong stored steps change every value in proportion (1% larger steps: 2e-5).
            let scale = a.abs().max().double_value(&[]).max(1e-2);
            let diff = (a - b).abs().max().double_value(&[]);
            assert!(
                diff <= 1e-4 * scale,
                "{} plane {l}: grids differ by {diff} (largest value {scale})",
                img.name
            );
        }
    }
}

/// Image `i`'s integer codes in `pack`, one `(1, h_l, w_l)` float tensor per plane.
fn stored_codes(pack: &GridPack, i: usize) -> Vec<Tensor> {
    let (shape, e) = (pack.shape(), &pack.index[i]);
    let mut rest = &pack.codes[code_starts(shape, &pack.index)[i]..];
    (0..shape.planes())
        .map(|l| {
            let (w, h) = shape.plane_size(l, e.width, e.height);
            let (head, tail) = rest.split_at((w * h) as usize);
            rest = tail;
            Tensor::from_slice(head)
                .to_kind(tch::Kind::Float)
                .view([1, i64::from(h), i64::from(w)])
        })
        .collect()
}

#[test]
fn the_training_rate_is_what_the_context_coder_writes() {
    // The committed grid pack: its codes' bits under the rate model fitted to them, as the
    // trainer computes them (a Laplace around the unrounded prediction), against the bytes of
    // the phased context-coded stream (the same law around the prediction to an eighth of a
    // code) and of the rounded one.
    let path = common::repo().join("tests/data/grid12.gonpack");
    let pack = gonpack::Reader::open(&path, gonpack::Limits::default())
        .unwrap()
        .into_grid_pack()
        .unwrap();
    let net = GridNet::from_weights(&pack.decoder, &rate_of(&pack), Device::Cpu).unwrap();
    let estimate: f64 = (0..pack.len())
        .map(|i| net.bits(&stored_codes(&pack, i)).double_value(&[0]))
        .sum();
    let runs = grid_runs(pack.shape(), &pack.index);
    let written = |prediction| {
        let models = fit_context_models(pack.shape().planes(), &runs, &pack.codes, prediction);
        8.0 * context::encode(&models, &runs, &pack.codes, prediction)
            .unwrap()
            .len() as f64
    };
    let (phased, rounded) = (written(Prediction::Phased), written(Prediction::Rounded));
    eprintln!(
        "rate model {estimate:.1} bits, phased stream {phased:.0}, rounded stream {rounded:.0}"
    );
    assert!(
        (0.97..1.03).contains(&(estimate / phased)),
        "rate model {estimate:.0} bits, phased stream {phased:.0}"
    );
    assert!(
        phased < rounded,
        "phased {phased:.0} bits, rounded {rounded:.0}"
    );
}

/// Error + λ·rate of `pack`'s codes under `net` (the objective encoding minimises).
fn objective(net: &GridNet, pack: &GridPack, images: &[SourceImage], lambda: f64) -> f64 {
    let shape = *pack.shape();
    let mut total = 0.0;
    for (i, img) in images.iter().enumerate() {
        let levels = stored_codes(pack, i);
        let ctx = SizeContext::new(&shape, img.width, img.height, Device::Cpu);
        let targets = Tensor::from_slice(&img.targets(shape.channels as u8)).view([
            1,
            ctx.pixels(),
            shape.channels as i64,
        ]);
        let d = net.errors(&ctx, &net.from_codes(&levels), &targets);
        total += (d + net.bits(&levels) * lambda).double_value(&[0]);
    }
    total
}

#[test]
fn refinement_lowers_the_encoding_objective() {
    // One decoder; codes refined 0 and 40 steps. Each image keeps the better of its rounded
    // codes before and after refinement, so the objective cannot rise, and it must fall.
    let images = images();
    let cfg = config(60);
    let mut cfg = GridConfig { ..cfg };
    cfg.shape.channels = 3;
    let (net, _) = train_grids(&images, &cfg, &ProgressBar::hidden()).unwrap();
    let weights = net.to_weights().unwrap().rounded_to_f16();
    let rate = net.rate_model().unwrap();
    let frozen = GridNet::from_weights(&weights, &rate, Device::Cpu).unwrap();
    let plain = pack_with_decoder(
        &weights,
        &rate,
        &images,
        &GridConfig {
            refine: 0,
            ..cfg.clone()
        },
    )
    .unwrap();
    let refined = pack_with_decoder(
        &weights,
        &rate,
        &images,
        &GridConfig {
            refine: 40,
            ..cfg.clone()
        },
    )
    .unwrap();
    let (a, b) = (
        objective(&frozen, &plain, &images, cfg.lambda),
        objective(&frozen, &refined, &images, cfg.lambda),
    );
    assert!(b < a, "objective {a:.3} without refinement, {b:.3} with");
}

/// `img` (`w x h`, `c` channels) halved by 2x2 means of its f32 samples.
fn block_means(img: &[f32], w: usize, h: usize, c: usize) -> Vec<f32> {
    let at = |x: usize, y: usize, k: usize| img[(y * w + x) * c + k];
    let mut out = Vec::with_capacity(w * h / 4 * c);
    for y in (0..h).step_by(2) {
        for x in (0..w).step_by(2) {
            for k in 0..c {
                out.push(
                    (at(x, y, k) + at(x + 1, y, k) + at(x, y + 1, k) + at(x + 1, y + 1, k)) / 4.0,
                );
            }
        }
    }
    out
}

#[test]
fn supersampled_training_makes_the_2x_render_average_to_the_image() {
    let images = images();
    let mut cfg = GridConfig {
        supersample: 2,
        ..config(150)
    };
    cfg.shape.output = gonpack::format::model::Output::Logistic;
    let (pack, _) = encode_grid_pack(&images, &cfg).unwrap();
    let shape = *pack.shape();
    let c = shape.channels;
    let net = GridNet::from_weights(&pack.decoder, &rate_of(&pack), Device::Cpu).unwrap();
    let starts = code_starts(&shape, &pack.index);
    let render = pack.prepare();
    let mut psnr = 0.0;
    for (i, (e, img)) in pack.index.iter().zip(&images).enumerate() {
        // The renderer at twice the size, 2x2 means: what the trainer modelled each pixel as.
        let (w2, h2) = (2 * e.width as usize, 2 * e.height as usize);
        let mut big = vec![0u8; w2 * h2 * c];
        render(i, (w2 as u32, h2 as u32), c as u8, &mut big).unwrap();
        let big: Vec<f32> = big.iter().map(|&v| f32::from(v) / 255.0).collect();
        let means = block_means(&big, w2, h2, c);
        // The trainer's supersampled forward pass on the stored grids agrees with them.
        let grids = stored_grids(&pack, i, &starts);
        let ctx = SizeContext::supersampled(&shape, e.width, e.height, 2, Device::Cpu);
        let out = Vec::<f32>::try_from(net.forward(&ctx, &grids).flatten(0, -1)).unwrap();
        let worst = out
            .iter()
            .zip(&means)
            .map(|(t, m)| (t.clamp(0.0, 1.0) - m).abs() * 255.0)
            .fold(0f32, f32::max);
        assert!(
            worst <= 1.5,
            "{}: 2x2 means differ by {worst} levels",
            e.name
        );
        let samples: Vec<u8> = means.iter().map(|&v| to_u8(v)).collect();
        let grey: Vec<u8> = match img.channels {
            1 => samples
                .chunks_exact(c)
                .map(|p| to_u8(p.iter().map(|&v| f32::from(v)).sum::<f32>() / c as f32 / 255.0))
                .collect(),
            _ => samples,
        };
        psnr += gonpack::render::metrics::image_psnr(&grey, &img.pixels, img.channels);
    }
    let mean = psnr / images.len() as f64;
    let flat = common::flat_psnr(&images);
    assert!(
        mean > flat + 6.0,
        "2x2 means of the 2x renders: {mean:.2} dB, flat {flat:.2} dB"
    );
}

/// Grey sets precondition their training at every quality, colour sets from quality 4.
#[test]
fn grey_sets_precondition_at_every_quality_colour_sets_from_4() {
    for q in [1.0, 2.0, 3.5, 3.9, 4.0, 8.0] {
        let lambda = quality_lambda(q);
        assert!(default_precondition(lambda, 1), "grey, quality {q}");
        assert!(default_precondition(lambda, 2), "grey + alpha, quality {q}");
        let colour = q >= PRECONDITION_QUALITY;
        assert_eq!(
            default_precondition(lambda, 3),
            colour,
            "colour, quality {q}"
        );
        assert_eq!(
            default_precondition(lambda, 4),
            colour,
            "colour + alpha, quality {q}"
        );
    }
}

/// Training feeds the full-resolution level rounded by default on sets of photos only: every
/// image at least 16 crops' area.
#[test]
fn photos_train_their_full_resolution_level_straight_through() {
    let photo = common::corpus_images("photos", 1);
    assert_eq!((photo[0].width, photo[0].height), (451, 300));
    let cifar = common::corpus_images("cifar", 4);
    let mixed: Vec<SourceImage> = photo.iter().chain(&cifar).cloned().collect();
    assert!(default_straight_through(&photo, 32));
    assert!(
        default_straight_through(&photo, 64),
        "135,300 pixels ≥ 16 · 64²"
    );
    assert!(
        !default_straight_through(&photo, 128),
        "135,300 pixels < 16 · 128²"
    );
    assert!(!default_straight_through(&cifar, 32));
    assert!(!default_straight_through(&mixed, 32));
    assert!(!default_straight_through(&[], 32));
}

/// Straight through, the decoder sees the two finest levels' codes rounded, with their
/// gradient; the other planes, and every plane when none is rounded, with their noise.
#[test]
fn straight_through_rounds_the_two_finest_levels_only() {
    assert_eq!(STRAIGHT_THROUGH_LEVELS, 2);
    let values: Vec<Tensor> = [
        [0.3f32, -0.7, 1.4, 2.6],
        [-0.2, 0.6, -1.6, 3.3],
        [0.2, 0.6, -1.2, 3.3],
    ]
    .iter()
    .map(|v| Tensor::from_slice(v).set_requires_grad(true))
    .collect();
    let noise = Tensor::from_slice(&[0.25f32, -0.5, 0.125, 0.375]);
    let noisy: Vec<Tensor> = values.iter().map(|v| v + &noise).collect();
    let flat = |t: &Tensor| Vec::<f32>::try_from(t.detach()).unwrap();
    let seen = training_inputs(&values, &noisy, STRAIGHT_THROUGH_LEVELS);
    assert_eq!(flat(&seen[0]), [0.0, -1.0, 1.0, 3.0]);
    assert_eq!(flat(&seen[1]), [0.0, 1.0, -2.0, 3.0]);
    assert_eq!(flat(&seen[2]), flat(&noisy[2]));
    let weights = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]);
    for l in 0..2 {
        let loss = (&seen[l] * &weights).sum(tch::Kind::Float);
        let grads = Tensor::run_backward(&[loss], &[&values[l]], false, false);
        assert_eq!(
            flat(&grads[0]),
            [1.0, 2.0, 3.0, 4.0],
            "level {l}: straight through"
        );
    }
    let plain = training_inputs(&values, &noisy, 0);
    for (p, n) in plain.iter().zip(&noisy) {
        assert_eq!(flat(p), flat(n));
    }
}

/// Preconditioned training warms λ up under quality 2 only, linearly over the first quarter
/// of its steps; without the warm-up every step has the full λ.
#[test]
fn preconditioned_training_under_quality_2_ramps_lambda_up_over_a_quarter() {
    for (q, warm) in [
        (1.0, true),
        (1.5, true),
        (1.99, true),
        (2.0, false),
        (3.5, false),
    ] {
        let lambda = quality_lambda(q);
        assert_eq!(default_warmup(lambda, true), warm, "quality {q}");
        assert!(
            !default_warmup(lambda, false),
            "quality {q}, not preconditioned"
        );
    }
    let lambda = quality_lambda(1.0);
    let ramp = [0, 100, 200, 400, 1000, 1999].map(|s| training_rate_weight(lambda, true, s, 2000));
    let want = [0.0, 0.2, 0.4, 0.8, 1.0, 1.0].map(|f| f * lambda);
    for (got, want) in ramp.iter().zip(want) {
        assert!(
            (got - want).abs() < 1e-12 * lambda,
            "{ramp:?} against {want}"
        );
    }
    for s in [0, 10, 1999] {
        assert_eq!(training_rate_weight(lambda, false, s, 2000), lambda);
    }
}

/// Training uses the warm-up: the first step of a warmed-up run is a step at λ = 0, so the
/// rate model, which only the rate term trains, is left exactly as initialised (as in a run at
/// λ = 0), while a run at full λ from the start moves it. (The decoder's weights are not
/// compared: tests running alongside change libtorch's summation order.)
#[test]
fn a_warmed_up_first_training_step_prices_no_rate() {
    let images = images();
    let run = |lambda: f64, warmup: bool| {
        let cfg = GridConfig {
            lambda,
            warmup: Some(warmup),
            precondition: Some(true),
            ..config(1)
        };
        let (net, _) = train_grids(&images, &cfg, &ProgressBar::hidden()).unwrap();
        let rate = net.rate_model().unwrap();
        (rate.weights, rate.scales)
    };
    let lambda = quality_lambda(1.0);
    let warmed = run(lambda, true);
    assert!(
        warmed == run(0.0, false),
        "the warmed-up first step priced rate"
    );
    assert!(
        warmed != run(lambda, false),
        "λ made no difference to a step"
    );
}
