//! Helpers shared by the integration tests.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

use gonpack::io::read_folder;
use gonpack::pixels::SourceImage;

/// The repository root (this file also serves the tests of `train/`).
pub fn repo() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    match manifest.join("corpus").is_dir() {
        true => manifest.to_path_buf(),
        false => manifest.join(".."),
    }
}

/// The repository's `corpus/` folder.
pub fn corpus() -> PathBuf {
    repo().join("corpus")
}

/// The first `n` images of `corpus/<sub>`.
pub fn corpus_images(sub: &str, n: usize) -> Vec<SourceImage> {
    let (mut images, _) = read_folder(&corpus().join(sub), false).expect("corpus readable");
    images.truncate(n);
    images
}

/// The small real pack committed for tests (16 corpus digits).
pub fn small_pack_path() -> PathBuf {
    repo().join("tests/data/digits16.gonpack")
}

/// Mean PSNR (dB, averaged over `images` as the tests average `pack_psnr`) of a flat picture:
/// every sample of every image set to the mean sample value of all of `images`, rounded to 8
/// bits. The score of a decoder that learnt nothing but the mean; a decoder that learnt must
/// beat it by a real margin.
pub fn flat_psnr(images: &[SourceImage]) -> f64 {
    let (sum, count) = images.iter().fold((0u64, 0usize), |(s, c), img| {
        let s = s + img.pixels.iter().map(|&v| u64::from(v)).sum::<u64>();
        (s, c + img.pixels.len())
    });
    assert!(count > 0, "flat_psnr of no samples");
    let mean = (sum as f64 / count as f64).round() as u8;
    let per_image: Vec<f64> = images
        .iter()
        .map(|img| gonpack::render::metrics::psnr_u8(&vec![mean; img.pixels.len()], &img.pixels))
        .collect();
    per_image.iter().sum::<f64>() / per_image.len() as f64
}

/// Runs `program` (a `CARGO_BIN_EXE_*` path) with `args` and returns what it did.
pub fn run(program: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"))
}

/// Standard output then standard error of a finished program, as text.
pub fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
