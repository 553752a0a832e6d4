//! Pixel-centre coordinates: the one mapping shared by training and rendering, and the
//! output size of a render at a scale factor.
use crate::error::{Error, Result};

/// Output size of an image stored at `width x height` rendered `factor` times larger: each side
/// rounded to the nearest pixel, at least 1. A factor that is not a positive number is a usage
/// error; a side beyond `u32` a limits error.
pub fn scaled_size(width: u32, height: u32, factor: f64) -> Result<(u32, u32)> {
    if !(factor.is_finite() && factor > 0.0) {
        return Err(Error::Usage(format!(
            "scale must be a positive number, got {factor}"
        )));
    }
    let side = |v: u32| -> Result<u32> {
        let out = (f64::from(v) * factor).round().max(1.0);
        if out > f64::from(u32::MAX) {
            return Err(Error::Limits(format!(
                "scale {factor:.3e} gives a side over 2^32 pixels"
            )));
        }
        Ok(out as u32)
    };
    Ok((side(width)?, side(height)?))
}

/// Coordinate of pixel column (or row) `i` of `n`: the pixel centre mapped to `[-1, 1]`,
/// `(2i + 1) / n - 1`, in f32.
pub fn axis(i: u32, n: u32) -> f32 {
    (2 * i as u64 + 1) as f32 / n as f32 - 1.0
}

/// All `(x, y)` coordinates of a `width x height` grid, row by row, interleaved.
pub fn grid(width: u32, height: u32) -> Vec<f32> {
    let mut out = Vec::with_capacity(2 * width as usize * height as usize);
    for r in 0..height {
        let y = axis(r, height);
        for c in 0..width {
            out.push(axis(c, width));
            out.push(y);
        }
    }
    out
}

/// Coordinates of an `s x s` grid of points inside every pixel of a `width x height` image,
/// pixel by pixel (row by row), and within a pixel row by row, interleaved `(x, y)`. The points
/// of a pixel are the pixel centres of the same image rendered `s` times larger, so `s = 1`
/// gives [`grid`].
pub fn subpixel_grid(width: u32, height: u32, s: u32) -> Vec<f32> {
    let mut out = Vec::with_capacity(2 * (width * height * s * s) as usize);
    for r in 0..height {
        for c in 0..width {
            for j in 0..s {
                let y = axis(r * s + j, height * s);
                for i in 0..s {
                    out.push(axis(c * s + i, width * s));
                    out.push(y);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subpixel_points_are_the_pixel_centres_of_the_larger_image() {
        assert_eq!(subpixel_grid(5, 3, 1), grid(5, 3));
        let (w, h, s) = (5u32, 3u32, 2u32);
        let sub = subpixel_grid(w, h, s);
        let big = grid(w * s, h * s);
        let mut points: Vec<(u32, u32)> = sub
            .chunks_exact(2)
            .map(|p| (p[0].to_bits(), p[1].to_bits()))
            .collect();
        let mut want: Vec<(u32, u32)> = big
            .chunks_exact(2)
            .map(|p| (p[0].to_bits(), p[1].to_bits()))
            .collect();
        // Pixel (1, 2)'s four points are big pixels (2..4, 4..6).
        let k = (2 * w + 1) as usize * 4;
        assert_eq!(sub[2 * k..2 * k + 2], [axis(2, 10), axis(4, 6)]);
        assert_eq!(sub[2 * k + 6..2 * k + 8], [axis(3, 10), axis(5, 6)]);
        points.sort_unstable();
        want.sort_unstable();
        assert_eq!(points, want);
    }
}
