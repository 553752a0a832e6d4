//! Where a grid pack's bits go: per latent plane, its codes over all images, the share that
//! is non-zero, the mean magnitude and the zeroth-order entropy in bits per pixel of the
//! images: `cargo run --release --example plane_stats -- PACK...`. A plane whose codes are
//! all zero is one the decoder does not use. Learned sampling kernels are listed after the
//! table, one level per row, as their knots (distances 0, ¼ … 2).
use std::collections::HashMap;

use gonpack::format::grid::Sampling;
use gonpack::format::grid_pack::{runs, GridPack};
use gonpack::{Limits, Reader};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for path in std::env::args().skip(1) {
        let pack: GridPack = Reader::open(&path, Limits::default())?.into_grid_pack()?;
        let planes = pack.shape().planes();
        let mut per: Vec<Vec<i16>> = vec![Vec::new(); planes];
        let mut at = 0;
        for (l, n) in runs(pack.shape(), &pack.index) {
            per[l].extend_from_slice(&pack.codes[at..at + n]);
            at += n;
        }
        let pixels = pack.pixels() as f64;
        println!("{path}: {} images, {pixels} pixels", pack.len());
        println!("| plane | codes | non-zero | mean abs | entropy bpp |");
        println!("|---|---|---|---|---|");
        for (l, codes) in per.iter().enumerate() {
            let n = codes.len() as f64;
            let mut counts: HashMap<i16, usize> = HashMap::new();
            for &c in codes {
                *counts.entry(c).or_default() += 1;
            }
            let bits: f64 = counts
                .values()
                .map(|&k| -(k as f64) * (k as f64 / n).log2())
                .sum();
            let nonzero = codes.iter().filter(|&&c| c != 0).count() as f64 / n;
            let mean_abs = codes.iter().map(|&c| f64::from(c).abs()).sum::<f64>() / n;
            println!(
                "| {l} | {} | {:.1}% | {mean_abs:.2} | {:.3} |",
                codes.len(),
                100.0 * nonzero,
                bits.abs() / pixels
            );
        }
        if pack.shape().sampling == Sampling::Kernel {
            for l in 0..pack.shape().levels {
                let knots = pack.decoder.level_kernel(l).iter();
                let shown: Vec<String> = knots.map(|k| format!("{k:.3}")).collect();
                println!("kernel of level {l}: {}", shown.join(" "));
            }
        }
    }
    Ok(())
}
