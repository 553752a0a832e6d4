//! Compares the grid pack's latent coding (the range coder driven by each plane's geometric
//! model, format-spec §12) with zstd on the same integer codes, as the format stored vector
//! codes: `cargo run --release --example latent_coding -- PACK...`.
//!
//! zstd gets the codes plane-major across images (all images' plane 0, then plane 1, …: the
//! layout that lets it model each plane's distribution), as one byte each when every code fits
//! in `i8`, else as little-endian `i16`, at `ZSTD_LEVEL`.
use gonpack::consts::ZSTD_LEVEL;
use gonpack::format::entropy;
use gonpack::format::grid_pack::{code_starts, runs};
use gonpack::{Limits, Reader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("| pack | codes | range coder (bytes) | zstd (bytes) | range / zstd |");
    println!("|---|---|---|---|---|");
    for path in std::env::args().skip(1) {
        let pack = Reader::open(&path, Limits::default())?.into_grid_pack()?;
        let shape = *pack.shape();
        let ranged = entropy::encode(&pack.models, &runs(&shape, &pack.index), &pack.codes)?;
        let starts = code_starts(&shape, &pack.index);
        let mut planes: Vec<Vec<i16>> = vec![Vec::new(); shape.planes()];
        for (i, e) in pack.index.iter().enumerate() {
            let mut at = starts[i];
            for (p, plane) in planes.iter_mut().enumerate() {
                let (w, h) = shape.plane_size(p, e.width, e.height);
                let n = (w * h) as usize;
                plane.extend_from_slice(&pack.codes[at..at + n]);
                at += n;
            }
        }
        let all: Vec<i16> = planes.concat();
        let raw: Vec<u8> = if all.iter().all(|&q| i8::try_from(q).is_ok()) {
            all.iter().map(|&q| q as i8 as u8).collect()
        } else {
            all.iter().flat_map(|q| q.to_le_bytes()).collect()
        };
        let zipped = zstd::bulk::compress(&raw, ZSTD_LEVEL)?;
        println!(
            "| {path} | {} | {} | {} | {:.3} |",
            all.len(),
            ranged.len(),
            zipped.len(),
            ranged.len() as f64 / zipped.len() as f64
        );
    }
    Ok(())
}
