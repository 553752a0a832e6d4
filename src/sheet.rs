//! Pictures made of pictures: interpolation strips, sample grids and contact sheets.
use std::path::Path;

use crate::error::{Error, Result};
use crate::format::limits::Limits;
use crate::pixels::has_alpha;

/// Side of a square of the checkerboard that transparent pixels show, in canvas pixels.
const CHECKER: u32 = 8;
/// The checkerboard's light and dark grey levels.
const CHECKER_LIGHT: u32 = 204;
const CHECKER_DARK: u32 = 153;

/// An RGB canvas that images (grey or RGB, with or without alpha, optionally enlarged) and
/// short labels are drawn on.
#[derive(Debug, Clone)]
pub struct Canvas {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

/// Width and height of one glyph of the built-in font, in font pixels.
pub const GLYPH: (u32, u32) = (3, 5);

/// The 3x5 font: each glyph is five rows of three bits, most significant bit on the left.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        'd' => [1, 1, 7, 5, 7],
        'B' => [6, 5, 6, 5, 6],
        'x' => [0, 5, 2, 5, 0],
        '-' => [0, 0, 7, 0, 0],
        ' ' => [0; 5],
        _ => return None,
    })
}

impl Canvas {
    /// A `width x height` canvas (sizes in u64 so that callers can add up frames without
    /// overflow) filled with the grey level `background`, after checking its size against
    /// `limits` (pixels of one render).
    pub fn new(width: u64, height: u64, background: u8, limits: &Limits) -> Result<Self> {
        let too_big = || Error::Limits(format!("a {width}x{height} picture is too large"));
        let (w, h) = (
            u32::try_from(width).map_err(|_| too_big())?,
            u32::try_from(height).map_err(|_| too_big())?,
        );
        limits.check_render(w, h)?;
        let len = crate::render::buffer_len(w, h, 3).ok_or_else(too_big)?;
        let mut rgb = crate::format::limits::zeroed(len)?;
        rgb.fill(background);
        Ok(Canvas {
            width: w,
            height: h,
            rgb,
        })
    }

    fn put(&mut self, x: u32, y: u32, px: [u8; 3]) {
        if x < self.width && y < self.height {
            let at = (y as usize * self.width as usize + x as usize) * 3;
            self.rgb[at..at + 3].copy_from_slice(&px);
        }
    }

    /// Draws a `width x height` image with `channels` (1 to 4) at `(x, y)`, each pixel
    /// enlarged to `zoom x zoom`, composited over a grey checkerboard where it has alpha;
    /// whatever falls outside the canvas is clipped.
    #[allow(clippy::too_many_arguments)]
    pub fn paste(
        &mut self,
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        channels: u8,
        pixels: &[u8],
        zoom: u32,
    ) {
        let c = usize::from(channels);
        for (i, px) in pixels.chunks_exact(c).enumerate() {
            let (u, v) = (i as u32 % width, i as u32 / width);
            if v >= height {
                break;
            }
            let rgb = if c < 3 {
                [px[0]; 3]
            } else {
                [px[0], px[1], px[2]]
            };
            let alpha = has_alpha(channels).then(|| u32::from(px[c - 1]));
            for dy in 0..zoom {
                for dx in 0..zoom {
                    let (cx, cy) = (x + u * zoom + dx, y + v * zoom + dy);
                    let shown = match alpha {
                        None => rgb,
                        Some(a) => {
                            let back = if (cx / CHECKER + cy / CHECKER).is_multiple_of(2) {
                                CHECKER_LIGHT
                            } else {
                                CHECKER_DARK
                            };
                            rgb.map(|s| ((u32::from(s) * a + back * (255 - a) + 127) / 255) as u8)
                        }
                    };
                    self.put(cx, cy, shown);
                }
            }
        }
    }

    /// Writes `text` (digits, `.`, `d`, `B`, `x`, `-`, space) with its top-left corner at
    /// `(x, y)`, each font pixel `scale x scale`, in `colour`.
    pub fn text(&mut self, x: u32, y: u32, text: &str, scale: u32, colour: [u8; 3]) {
        for (k, c) in text.chars().enumerate() {
            let Some(rows) = glyph(c) else { continue };
            let left = x + k as u32 * (GLYPH.0 + 1) * scale;
            for (r, bits) in rows.iter().enumerate() {
                for b in 0..GLYPH.0 {
                    if bits >> (GLYPH.0 - 1 - b) & 1 == 1 {
                        for dy in 0..scale {
                            for dx in 0..scale {
                                self.put(left + b * scale + dx, y + r as u32 * scale + dy, colour);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Width of `text` drawn at `scale`.
    pub fn text_width(text: &str, scale: u32) -> u32 {
        text.chars().count() as u32 * (GLYPH.0 + 1) * scale
    }

    /// Saves the canvas as an RGB PNG, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io::write_png(path, self.width, self.height, 3, &self.rgb)
    }

    /// The RGB samples, row by row.
    pub fn pixels(&self) -> &[u8] {
        &self.rgb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paste_enlarges_and_clips() {
        let mut c = Canvas::new(5, 4, 0, &Limits::DEFAULT).unwrap();
        c.paste(1, 1, 2, 1, 1, &[10, 20], 2);
        c.paste(4, 3, 1, 1, 3, &[1, 2, 3], 3); // mostly off the canvas
        let at = |x: usize, y: usize| c.pixels()[(y * 5 + x) * 3];
        assert_eq!(
            [at(1, 1), at(2, 2), at(3, 1), at(4, 2), at(0, 0)],
            [10, 10, 20, 20, 0]
        );
        assert_eq!(&c.pixels()[(3 * 5 + 4) * 3..], &[1, 2, 3]);
    }

    #[test]
    fn text_draws_the_glyph_bits() {
        let mut c = Canvas::new(8, 5, 0, &Limits::DEFAULT).unwrap();
        c.text(0, 0, "1.", 1, [255; 3]);
        let lit: Vec<(usize, usize)> = (0..5)
            .flat_map(|y| (0..8).map(move |x| (x, y)))
            .filter(|&(x, y)| c.pixels()[(y * 8 + x) * 3] == 255)
            .collect();
        // "1": column 1 all the way down plus (0,1) and the foot (0,4), (2,4); ".": (5,4).
        let expected = vec![
            (1, 0),
            (0, 1),
            (1, 1),
            (1, 2),
            (1, 3),
            (0, 4),
            (1, 4),
            (2, 4),
            (5, 4),
        ];
        assert_eq!(lit, expected);
        assert_eq!(Canvas::text_width("12.5", 2), 32);
    }
}
