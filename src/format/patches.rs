//! Large images as overlapping patches, each with its own latent (format v2, spec §8.5).
//!
//! An image larger than the patch size `T` in either direction is cut into a grid of
//! `ceil(W/T) x ceil(H/T)` cores of `T x T` source pixels. Each patch's latent describes its
//! core plus a margin of `O` pixels on every side (a `(T+2O)`-pixel square, edge pixels
//! replicated past the image border), mapped to `[-1, 1]²` exactly as a whole image of that
//! size. Decoding blends the patches that cover a point with weights that ramp linearly
//! across the `2O`-pixel band around each core border and sum to one, so borders have no seam.
use crate::consts::{DEFAULT_OVERLAP, DEFAULT_PATCH};
use crate::pixels::SourceImage;

/// Patch size and overlap; `patch == 0` means every image is stored whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Geometry {
    /// Core size `T` in source pixels (0: no patches).
    pub patch: u32,
    /// Margin `O` on each side of a core, in source pixels.
    pub overlap: u32,
}

impl Geometry {
    /// No patches: every image has one latent.
    pub const WHOLE: Geometry = Geometry {
        patch: 0,
        overlap: 0,
    };

    /// `encode`'s default: cores of [`DEFAULT_PATCH`] with margins of [`DEFAULT_OVERLAP`].
    pub const DEFAULT: Geometry = Geometry {
        patch: DEFAULT_PATCH,
        overlap: DEFAULT_OVERLAP,
    };

    /// Whether the format can store this geometry: both 0 (no patches), or a core of at most
    /// 65,535 pixels with a margin of 1 to the core size and at most 255 (spec §8.5).
    pub fn is_storable(&self) -> bool {
        if self.patch == 0 {
            return self.overlap == 0;
        }
        (1..=self.patch.min(u32::from(u8::MAX))).contains(&self.overlap)
            && self.patch <= u32::from(u16::MAX)
    }

    /// Whether a `width x height` image is stored whole (one latent).
    pub fn is_whole(&self, width: u32, height: u32) -> bool {
        self.patch == 0 || (width <= self.patch && height <= self.patch)
    }

    /// Patch columns and rows of a `width x height` image (`(1, 1)` when whole).
    pub fn grid(&self, width: u32, height: u32) -> (u32, u32) {
        if self.is_whole(width, height) {
            (1, 1)
        } else {
            (width.div_ceil(self.patch), height.div_ceil(self.patch))
        }
    }

    /// Latents a `width x height` image takes.
    pub fn units(&self, width: u32, height: u32) -> u64 {
        let (nx, ny) = self.grid(width, height);
        u64::from(nx) * u64::from(ny)
    }

    /// Points the renderer evaluates to draw a `source`-sized image at `out` size (width,
    /// height), an upper bound: every output pixel once when whole; with patches, along each
    /// axis each patch covers at most `(T + 2O) x out / source + 1` pixels.
    pub fn points(&self, source: (u32, u32), out: (u32, u32)) -> u64 {
        if self.is_whole(source.0, source.1) {
            return u64::from(out.0) * u64::from(out.1);
        }
        let (nx, ny) = self.grid(source.0, source.1);
        let axis = |patches: u32, n_out: u32, n_src: u32| -> u64 {
            let span = u128::from(self.extent()) * u128::from(n_out) / u128::from(n_src) + 1;
            let covered = (u128::from(patches) * span).min(u128::from(patches) * u128::from(n_out));
            u64::try_from(covered).unwrap_or(u64::MAX)
        };
        axis(nx, out.0, source.0).saturating_mul(axis(ny, out.1, source.1))
    }

    /// Side of the square a patch latent describes, `T + 2O`.
    pub fn extent(&self) -> u32 {
        self.patch + 2 * self.overlap
    }

    /// The pictures latents are derived from: the image itself when whole, else its patches
    /// (row by row) as `(T+2O)`-square images with edge pixels replicated.
    pub fn units_of(&self, img: &SourceImage) -> Vec<SourceImage> {
        if self.is_whole(img.width, img.height) {
            return vec![img.clone()];
        }
        let (nx, ny) = self.grid(img.width, img.height);
        let (e, c) = (self.extent(), usize::from(img.channels));
        let clamp = |v: i64, n: u32| v.clamp(0, i64::from(n) - 1) as usize;
        let mut out = Vec::with_capacity((nx * ny) as usize);
        for py in 0..ny {
            for px in 0..nx {
                let x0 = i64::from(px * self.patch) - i64::from(self.overlap);
                let y0 = i64::from(py * self.patch) - i64::from(self.overlap);
                let mut pixels = Vec::with_capacity((e * e) as usize * c);
                for y in 0..i64::from(e) {
                    let row = clamp(y0 + y, img.height) * img.width as usize;
                    for x in 0..i64::from(e) {
                        let at = (row + clamp(x0 + x, img.width)) * c;
                        pixels.extend_from_slice(&img.pixels[at..at + c]);
                    }
                }
                out.push(SourceImage {
                    name: format!("{}#{px},{py}", img.name),
                    width: e,
                    height: e,
                    channels: img.channels,
                    pixels,
                });
            }
        }
        out
    }

    /// Blending weight of patch `p` (along one axis) at source position `s` (pixel units):
    /// the product of two ramps of width `2O` centred on the core's borders.
    pub fn weight(&self, p: u32, s: f64) -> f64 {
        let (t, o) = (f64::from(self.patch), f64::from(self.overlap));
        let start = f64::from(p) * t;
        let rise = ((s - (start - o)) / (2.0 * o)).clamp(0.0, 1.0);
        let fall = ((start + t + o - s) / (2.0 * o)).clamp(0.0, 1.0);
        rise * fall
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_of_neighbours_sum_to_one_inside_the_image() {
        let g = Geometry {
            patch: 32,
            overlap: 4,
        };
        for k in 0..=2 * 32 * 10 {
            let s = 4.0 + f64::from(k) * 0.05; // away from the outer image edge
            let sum: f64 = (0..12).map(|p| g.weight(p, s)).sum();
            assert!((sum - 1.0).abs() < 1e-12, "at {s}: {sum}");
        }
        assert_eq!(g.weight(1, 48.0), 1.0, "core interior");
        assert_eq!(g.weight(1, 27.0), 0.0, "beyond the margin");
    }

    #[test]
    fn patches_replicate_edges_and_keep_the_core() {
        let g = Geometry {
            patch: 2,
            overlap: 1,
        };
        let img = SourceImage {
            name: "a".into(),
            width: 3,
            height: 1,
            channels: 1,
            pixels: vec![10, 20, 30],
        };
        assert_eq!(g.grid(3, 1), (2, 1));
        let units = g.units_of(&img);
        assert_eq!(units.len(), 2);
        // Patch 0 spans x = -1 .. 3, patch 1 spans x = 1 .. 5 (clamped to 0 .. 2).
        assert_eq!(&units[0].pixels[..4], &[10, 10, 20, 30]);
        assert_eq!(&units[1].pixels[..4], &[20, 30, 30, 30]);
        assert!(g.is_whole(2, 2) && !g.is_whole(3, 1) && Geometry::WHOLE.is_whole(9999, 9999));
    }

    #[test]
    fn storable_geometries_are_whole_or_have_a_margin_of_one_to_the_core() {
        let g = |patch, overlap| Geometry { patch, overlap };
        for (patch, overlap) in [(0, 0), (16, 1), (16, 16), (300, 255), (65_535, 4)] {
            assert!(g(patch, overlap).is_storable(), "{patch},{overlap}");
        }
        for (patch, overlap) in [(0, 1), (16, 0), (16, 17), (300, 256), (65_536, 4)] {
            assert!(!g(patch, overlap).is_storable(), "{patch},{overlap}");
        }
    }
}
