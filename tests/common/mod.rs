//! Helpers shared by the integration tests.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

use gonpack::io::{read_folder, SourceImage};

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
