//! Training data as tensors, grouped by image size so a batch shares one coordinate grid.
use tch::{Device, Tensor};

use crate::error::Result;
use gonpack::pixels::SourceImage;
use gonpack::render::coords;
use rand::Rng;

/// All images of one size.
pub struct Bucket {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Coordinates `(P, S, 2)`: `S` points per pixel whose mean output models the pixel
    /// (`S = 1`: its centre; see [`buckets`]).
    pub coords: Tensor,
    /// Targets in `[0, 1]`, `(N, P, C)`.
    pub targets: Tensor,
    /// Positions of these images in the input list.
    pub members: Vec<usize>,
}

/// The positions of `images` grouped by size, sizes in order of first appearance.
pub fn size_groups(images: &[SourceImage]) -> Vec<((u32, u32), Vec<usize>)> {
    let mut groups: Vec<((u32, u32), Vec<usize>)> = Vec::new();
    for (i, img) in images.iter().enumerate() {
        let key = (img.width, img.height);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups
}

/// Groups `images` by size (in order of first appearance) as tensors with `channels` channels.
/// Each pixel is modelled by `supersample x supersample` points spread evenly over its area
/// (1: its centre).
pub fn buckets(
    images: &[SourceImage],
    channels: u8,
    supersample: u32,
    device: Device,
) -> Result<Vec<Bucket>> {
    size_groups(images)
        .into_iter()
        .map(|((width, height), members)| {
            let p = i64::from(width) * i64::from(height);
            let mut values = Vec::with_capacity(members.len() * p as usize * usize::from(channels));
            for &i in &members {
                values.extend(images[i].targets(channels));
            }
            let targets = Tensor::f_from_slice(&values)?
                .f_reshape([members.len() as i64, p, i64::from(channels)])?
                .f_to(device)?;
            let s = i64::from(supersample * supersample);
            let coords = Tensor::f_from_slice(&coords::subpixel_grid(width, height, supersample))?
                .f_reshape([p, s, 2])?
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

/// `coords` (points of `bucket`'s pixels, `supersample`² per pixel) each moved to a uniformly
/// random place inside its own cell of the `supersample x supersample` grid that splits the
/// pixel, so that over many steps a pixel's mean covers its whole area.
pub fn jittered(coords: &Tensor, bucket: &Bucket, supersample: u32, rng: &mut impl Rng) -> Tensor {
    // Half a cell, in coordinate units (a pixel spans 2 / width).
    let half = |n: u32| 1.0 / f64::from(n * supersample);
    let (hx, hy) = (half(bucket.width), half(bucket.height));
    let offsets: Vec<f32> = (0..coords.numel() / 2)
        .flat_map(|_| {
            let (u, v): (f64, f64) = (rng.gen(), rng.gen());
            [((2.0 * u - 1.0) * hx) as f32, ((2.0 * v - 1.0) * hy) as f32]
        })
        .collect();
    coords
        + Tensor::from_slice(&offsets)
            .view_as(coords)
            .to(coords.device())
}
