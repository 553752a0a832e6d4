//! Render throughput in megapixels/s (criterion "Melem/s" = output pixels) of the pure-Rust
//! renderer on the committed 16-digit packs (vector model) and the committed 12-image grid pack
//! (the default grid decoder: 6 levels + 8 global latents, 2 sine layers of 32), sampled
//! bilinearly (`grid12.gonpack`, version 5) and under learned kernels (`kernel12.gonpack`,
//! version 6), at scale 1 and 4, image by image into 8-bit buffers. `cargo bench -p
//! gonpack-train --bench train` runs the same cases through the tch forward pass for
//! comparison.
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use gonpack::{render, Limits, Pack};

fn pack(name: &str) -> Pack {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    Pack::read(&path, &Limits::default())
        .expect("committed test pack")
        .0
}

fn bench_render(c: &mut Criterion) {
    for (label, file) in [("h32", "digits16.gonpack"), ("h64", "digits16-h64.gonpack")] {
        let pack = pack(file);
        let mut g = c.benchmark_group(format!("render/{label}"));
        for scale in [1u32, 4] {
            let (w, h) = (28 * scale, 28 * scale);
            g.throughput(Throughput::Elements(pack.len() as u64 * u64::from(w * h)));
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
        }
        g.finish();
    }
}

fn bench_grid_render(c: &mut Criterion) {
    let read = |name: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        std::fs::read(dir.join(name)).expect("committed pack")
    };
    let (bytes, kernel) = (read("grid12.gonpack"), read("kernel12.gonpack"));
    let mut g = c.benchmark_group("render/grid");
    for (name, bytes) in [("", &bytes), ("kernel_", &kernel)] {
        let mut reader = gonpack::Reader::from_slice(bytes, Limits::default()).expect("pack");
        let index = reader.index().expect("index").to_vec();
        let render = reader.prepare().expect("grid pack");
        for scale in [1u32, 4] {
            let sizes: Vec<(u32, u32)> = index
                .iter()
                .map(|e| (e.width * scale, e.height * scale))
                .collect();
            let pixels: u64 = sizes.iter().map(|&(w, h)| u64::from(w * h)).sum();
            g.throughput(Throughput::Elements(pixels));
            let mut bufs: Vec<Vec<u8>> = sizes
                .iter()
                .zip(&index)
                .map(|(&(w, h), e)| vec![0u8; (w * h) as usize * usize::from(e.channels)])
                .collect();
            g.bench_function(format!("pure_rust_{name}x{scale}"), |b| {
                b.iter(|| {
                    for (i, buf) in bufs.iter_mut().enumerate() {
                        render(i, sizes[i], index[i].channels, buf).unwrap();
                        std::hint::black_box(&buf);
                    }
                })
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_render, bench_grid_render
}
criterion_main!(benches);
