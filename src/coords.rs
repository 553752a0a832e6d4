//! Pixel-centre coordinates: the one mapping shared by training and rendering.

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
