//! Throughput of the pure-Rust renderer (megapixels/s) and, with `train`, of the tch forward
//! pass on the same pack, plus one GON training step.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gonpack::{render, Limits, Pack};

fn small_pack() -> Pack {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits16.gonpack");
    Pack::read(&path, &Limits::default())
        .expect("committed test pack")
        .0
}

fn bench_render(c: &mut Criterion) {
    let pack = small_pack();
    let mut g = c.benchmark_group("render");
    for scale in [1u32, 4] {
        let (w, h) = (28 * scale, 28 * scale);
        let images = pack.len() as u64;
        g.throughput(Throughput::Elements(images * u64::from(w * h)));
        let renderer = render::Renderer::new(&pack.decoder);
        let latents: Vec<Vec<f32>> = (0..pack.len()).map(|i| pack.latent(i)).collect();
        let mut buf = vec![0u8; (w * h) as usize];
        g.bench_function(format!("pure_rust_x{scale}"), |b| {
            b.iter(|| {
                for z in &latents {
                    renderer.render_into(z, w, h, 1, &mut buf).unwrap();
                    std::hint::black_box(&buf);
                }
            })
        });
        #[cfg(feature = "train")]
        {
            use tch::{Device, Tensor};
            let siren = gonpack::train::Siren::from_weights(&pack.decoder, Device::Cpu).unwrap();
            let p = i64::from(w * h);
            let coords = Tensor::from_slice(&gonpack::coords::grid(w, h)).reshape([p, 2]);
            let z: Vec<f32> = (0..pack.len()).flat_map(|i| pack.latent(i)).collect();
            let z = Tensor::from_slice(&z).reshape([pack.len() as i64, -1]);
            g.bench_function(format!("tch_x{scale}"), |b| {
                b.iter(|| tch::no_grad(|| std::hint::black_box(siren.forward(&coords, &z))))
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_render
}
criterion_main!(benches);
