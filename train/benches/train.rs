//! Training and encoding throughput on real MNIST digits from `corpus/mnist` (criterion):
//! - `train_step`: one GON training step (second order, through the default 3 steps from the
//!   origin) of the default decoder (3 sine layers, 64 wide, 32-dim latent) on a batch of 32
//!   digits, 256 pixels each (throughput: images);
//! - `derive_latents`: latents of 64 digits with a default-shape decoder, with 0 and 5
//!   refinement steps (throughput: images);
//! - `grid_encode`: 64 CIFAR pictures (32x32) encoded against a frozen grid decoder with the
//!   `encode` defaults (2 steps from the origin, 30 refinement steps; throughput: images);
//! - `tch_render`: the tch forward pass over the committed 16-digit packs at scale 1 and 4, all
//!   16 images in one batched call (throughput: output pixels; compare `cargo bench --bench
//!   render` for the pure-Rust renderer).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gonpack::io::read_folder;
use gonpack::render::coords;
use gonpack::{Limits, ModelShape, Pack};
use gonpack_train::data::buckets;
use gonpack_train::gon::{derive_latents, Trainer};
use gonpack_train::{Siren, TrainConfig};
use indicatif::ProgressBar;
use tch::{Device, Tensor};

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `encode` defaults for a grey pack (3 steps from the origin, batch 32, 256 pixels).
fn config() -> TrainConfig {
    let d = TrainConfig::DEFAULT;
    TrainConfig {
        shape: ModelShape {
            channels: 1,
            ..d.shape
        },
        steps: 1000,
        ..d
    }
}

fn bench_training(c: &mut Criterion) {
    let (mut images, _) = read_folder(&repo().join("corpus/mnist"), false).expect("corpus");
    images.truncate(64);
    let data = buckets(&images, 1, 1, Device::Cpu).unwrap();
    let cfg = config();
    let mut g = c.benchmark_group("train");
    g.throughput(Throughput::Elements(cfg.batch as u64));
    let mut trainer = Trainer::new(&data, &cfg).unwrap();
    g.bench_function("train_step_b32_p256", |b| {
        b.iter(|| std::hint::black_box(trainer.step(0).unwrap()))
    });
    g.throughput(Throughput::Elements(images.len() as u64));
    let siren = trainer.siren();
    for refine in [0usize, 5] {
        g.bench_function(format!("derive_latents_refine{refine}"), |b| {
            b.iter(|| derive_latents(siren, &data, refine, &ProgressBar::hidden()).unwrap())
        });
    }
    g.finish();
}

fn bench_grid_encode(c: &mut Criterion) {
    use gonpack_train::grid_encode::{pack_with_decoder, train_grids, GridConfig};
    let (mut images, _) = read_folder(&repo().join("corpus/cifar"), false).expect("corpus");
    images.truncate(64);
    // A decoder trained briefly: encoding costs the same whatever the decoder learnt. Sampled
    // as `encode` would sample these pictures (colour: learned kernels).
    let mut cfg = GridConfig {
        steps: 20,
        quiet: true,
        ..GridConfig::DEFAULT
    };
    cfg.shape.sampling = gonpack_train::model_choice::auto_sampling(&images);
    let (net, _) = train_grids(&images, &cfg, &ProgressBar::hidden()).unwrap();
    let weights = net.to_weights().unwrap().rounded_to_f16();
    let rate = net.rate_model().unwrap();
    let mut g = c.benchmark_group("grid");
    g.sample_size(10);
    g.throughput(Throughput::Elements(images.len() as u64));
    g.bench_function("encode_32x32_refine30", |b| {
        b.iter(|| pack_with_decoder(&weights, &rate, &images, &cfg).unwrap())
    });
    g.finish();
}

fn bench_tch_render(c: &mut Criterion) {
    for (label, file) in [("h32", "digits16.gonpack"), ("h64", "digits16-h64.gonpack")] {
        let path = repo().join("tests/data").join(file);
        let pack = Pack::read(&path, &Limits::default()).expect("test pack").0;
        let siren = Siren::from_weights(&pack.decoder, Device::Cpu).unwrap();
        let z: Vec<f32> = (0..pack.len()).flat_map(|i| pack.latent(i)).collect();
        let z = Tensor::from_slice(&z).reshape([pack.len() as i64, -1]);
        let mut g = c.benchmark_group(format!("render/{label}"));
        for scale in [1u32, 4] {
            let (w, h) = (28 * scale, 28 * scale);
            g.throughput(Throughput::Elements(pack.len() as u64 * u64::from(w * h)));
            let grid = Tensor::from_slice(&coords::grid(w, h)).reshape([i64::from(w * h), 2]);
            g.bench_function(format!("tch_x{scale}"), |b| {
                b.iter(|| tch::no_grad(|| std::hint::black_box(siren.forward(&grid, &z))))
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench_training, bench_tch_render, bench_grid_encode
}
criterion_main!(benches);
