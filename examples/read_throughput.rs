//! Rendering throughput of the Rust reader, image by image as a program embedding it would
//! read a pack: `cargo run --release --example read_throughput -- PACK [SCALE] [REPEATS]`.
//! Prints one line, `rust <megapixels/s> <output megapixels> <seconds>`;
//! `python/bench/read_throughput.py` runs it beside the same loop in Python.
use std::time::Instant;

use gonpack::render::coords::scaled_size;
use gonpack::{Limits, Reader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: read_throughput PACK [SCALE] [REPEATS]")?;
    let scale: f64 = args.next().map_or(Ok(1.0), |s| s.parse())?;
    let repeats: usize = args.next().map_or(Ok(3), |s| s.parse())?;
    let mut reader = Reader::open(&path, Limits::default())?;
    let sizes: Vec<(u32, u32)> = reader
        .index()?
        .iter()
        .map(|e| scaled_size(e.width, e.height, scale))
        .collect::<Result<_, _>>()?;
    // The first pass reads and caches the sections; only the later ones are timed.
    let mut pixels = 0u64;
    let mut start = Instant::now();
    for pass in 0..=repeats {
        if pass == 1 {
            (pixels, start) = (0, Instant::now());
        }
        for (i, &(w, h)) in sizes.iter().enumerate() {
            let mut buf = vec![0u8; reader.buffer_len(i, w, h)?];
            reader.render_into(i, w, h, &mut buf)?;
            std::hint::black_box(&buf);
            pixels += u64::from(w) * u64::from(h);
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "rust {:.3} {:.3} {:.3}",
        pixels as f64 / 1e6 / seconds,
        pixels as f64 / 1e6,
        seconds
    );
    Ok(())
}
