//! Training data as tensors, grouped by image size so a batch shares one coordinate grid.
use tch::{Device, Kind, Tensor};

use crate::coords;
use crate::error::Result;
use crate::io::SourceImage;

/// All images of one size.
pub struct Bucket {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Pixel-centre coordinates `(P, 2)`.
    pub coords: Tensor,
    /// Targets in `[0, 1]`, `(N, P, C)`.
    pub targets: Tensor,
    /// Positions of these images in the input list.
    pub members: Vec<usize>,
}

/// Groups `images` by size (in order of first appearance) as tensors with `channels` channels.
pub fn buckets(images: &[SourceImage], channels: u8, device: Device) -> Result<Vec<Bucket>> {
    let mut groups: Vec<((u32, u32), Vec<usize>)> = Vec::new();
    for (i, img) in images.iter().enumerate() {
        let key = (img.width, img.height);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|((width, height), members)| {
            let p = i64::from(width) * i64::from(height);
            let mut bytes = Vec::with_capacity(members.len() * p as usize * usize::from(channels));
            for &i in &members {
                bytes.extend(images[i].samples_as(channels));
            }
            let targets = Tensor::f_from_slice(&bytes)?
                .f_to_kind(Kind::Float)?
                .f_div_scalar(255.0)?
                .f_reshape([members.len() as i64, p, i64::from(channels)])?
                .f_to(device)?;
            let coords = Tensor::f_from_slice(&coords::grid(width, height))?
                .f_reshape([p, 2])?
                .f_to(device)?;
            Ok(Bucket {
                width,
                height,
                coords,
                targets,
                members,
            })
        })
        .collect()
}

/// Small deterministic generator (SplitMix64) for batch and pixel sampling.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// `k` distinct integers from `0..n` (`k <= n`), by a partial Fisher–Yates shuffle.
    pub fn sample(&mut self, n: usize, k: usize) -> Vec<i64> {
        let mut all: Vec<i64> = (0..n as i64).collect();
        for i in 0..k.min(n) {
            let j = i + self.below(n - i);
            all.swap(i, j);
        }
        all.truncate(k.min(n));
        all
    }
}
