//! Rendering grid decoders (format versions 5 and 6) at any output size: every output pixel
//! samples each latent level bilinearly ([`taps`]) or under its kernel ([`kernel_taps`]; each
//! level's row is interpolated along y once per output row), appends the coordinate's Fourier
//! features and runs the shared sine network, blocks of pixels at a time (one matrix product
//! per layer, the register-blocked kernel for the default width of 32), blocks in parallel.
//! Memory besides the output is the dequantised grids plus a few hundred KiB of scratch per
//! thread.
use rayon::prelude::*;

use super::{check_output, dense, simd, write_pixels, BLOCK, BLOCK_FLOATS};
use crate::consts::MAX_FREQUENCIES;
use crate::error::{Error, Result};
use crate::format::grid::{
    coordinate, fourier, kernel_taps, kernel_value, taps, GridWeights, Sampling,
};
use crate::format::model::Output;

/// One output sample's taps on one axis of a level ([`Sampling`]).
#[derive(Debug, Clone, Copy)]
enum Tap {
    /// `(i0, i1, f)` of [`taps`]: `v[i0] + f (v[i1] - v[i0])`.
    Linear(u32, u32, f32),
    /// [`kernel_taps`] weighted by the level's kernel: `Σ w_k v[j_k]`.
    Kernel([u32; 4], [f32; 4]),
}

impl Tap {
    /// The taps of output sample `i` of `n` on an axis of `g` values of level `l` of `w`.
    fn of(w: &GridWeights, l: usize, i: u32, n: u32, g: u32) -> Self {
        match w.shape.sampling {
            Sampling::Bilinear => {
                let (i0, i1, f) = taps(i, n, g);
                Tap::Linear(i0, i1, f)
            }
            // An axis with a value per sample takes each sample's own value.
            Sampling::Kernel if n == g => Tap::Linear(i, i, 0.0),
            Sampling::Kernel => {
                let (j, d) = kernel_taps(i, n, g);
                let k = w.level_kernel(l);
                Tap::Kernel(j, d.map(|d| kernel_value(k, d) as f32))
            }
        }
    }

    /// Row `dst` of a level interpolated along y: `g` is the level, `w` values wide, and these
    /// are its row taps.
    fn sample_rows(&self, g: &[f32], w: usize, dst: &mut [f32]) {
        let row = |r: u32| &g[r as usize * w..][..w];
        match *self {
            Tap::Linear(y0, y1, f) => {
                for ((d, t), b) in dst.iter_mut().zip(row(y0)).zip(row(y1)) {
                    *d = t + f * (b - t);
                }
            }
            Tap::Kernel(j, c) => {
                let (r0, r1, r2, r3) = (row(j[0]), row(j[1]), row(j[2]), row(j[3]));
                for (x, d) in dst.iter_mut().enumerate() {
                    *d = c[0] * r0[x] + c[1] * r1[x] + c[2] * r2[x] + c[3] * r3[x];
                }
            }
        }
    }

    /// The sample of the axis whose value `j` is `v(j)`.
    #[inline]
    fn sample(&self, v: impl Fn(u32) -> f32) -> f32 {
        match *self {
            Tap::Linear(i0, i1, f) => {
                let (a, b) = (v(i0), v(i1));
                a + f * (b - a)
            }
            Tap::Kernel(j, w) => w[0] * v(j[0]) + w[1] * v(j[1]) + w[2] * v(j[2]) + w[3] * v(j[3]),
        }
    }
}

/// A grid decoder prepared for rendering. The global (1x1) latents are constant over an image,
/// so their share of the first layer and of the linear branch is folded into per-image biases:
/// the per-pixel inputs are only the `L` level values and the `4 Q` coordinate features.
#[derive(Debug, Clone)]
pub struct GridRenderer {
    weights: GridWeights,
    /// The hidden layers' weights transposed, row-major `inputs x H`; the first layer's only
    /// for the per-pixel inputs (`L + 4 Q` rows).
    hidden: Vec<Vec<f32>>,
    /// First-layer weights of the global latents, row-major `H x globals`.
    first_global: Vec<f32>,
    /// Linear branch of the level values, row-major `C x L`.
    linear: Vec<f32>,
    /// Linear branch of the global latents, row-major `C x globals`.
    linear_global: Vec<f32>,
}

/// Per-thread buffers for one block of pixels.
struct Scratch {
    input: Vec<f32>,
    act: Vec<f32>,
    pre: Vec<f32>,
    out: Vec<f32>,
}

/// An image's biases: the decoder's, plus what its global latents add.
struct Biases {
    first: Vec<f32>,
    out: Vec<f32>,
}

/// Splits each row of a row-major matrix with `cols` columns into the columns of `part`
/// and the others.
fn split_columns(m: &[f32], cols: usize, part: std::ops::Range<usize>) -> (Vec<f32>, Vec<f32>) {
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    for row in m.chunks_exact(cols) {
        inside.extend_from_slice(&row[part.clone()]);
        outside.extend_from_slice(&row[..part.start]);
        outside.extend_from_slice(&row[part.end..]);
    }
    (inside, outside)
}

/// `w · x`, in eight independent partial sums (so that it vectorises).
fn dot(w: &[f32], x: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (w8, x8) = (w.chunks_exact(8), x.chunks_exact(8));
    let tail: f32 = w8
        .remainder()
        .iter()
        .zip(x8.remainder())
        .map(|(p, q)| p * q)
        .sum();
    for (w, x) in w8.zip(x8) {
        for ((l, p), q) in lanes.iter_mut().zip(w).zip(x) {
            *l += p * q;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// The transpose of a row-major matrix with `rows` rows.
fn transpose(m: &[f32], rows: usize) -> Vec<f32> {
    let cols = m.len() / rows.max(1);
    (0..cols)
        .flat_map(|j| (0..rows).map(move |i| m[i * cols + j]))
        .collect()
}

/// `base + m v` for a row-major `m` with `v.len()` columns.
fn affine(base: &[f32], m: &[f32], v: &[f32]) -> Vec<f32> {
    if v.is_empty() {
        return base.to_vec();
    }
    base.iter()
        .zip(m.chunks_exact(v.len()))
        .map(|(b, row)| b + dot(row, v))
        .collect()
}

impl GridRenderer {
    /// Prepares `weights` for rendering.
    pub fn new(weights: &GridWeights) -> Self {
        let shape = &weights.shape;
        let globals = shape.levels..shape.planes();
        let (first_global, first) =
            split_columns(&weights.hidden[0].weight, shape.inputs(), globals.clone());
        let (linear_global, linear) = split_columns(&weights.linear, shape.planes(), globals);
        let hidden = std::iter::once(&first)
            .chain(weights.hidden[1..].iter().map(|l| &l.weight))
            .map(|w| transpose(w, shape.hidden))
            .collect();
        GridRenderer {
            weights: weights.clone(),
            hidden,
            first_global,
            linear,
            linear_global,
        }
    }

    /// Output channels of the decoder.
    pub fn channels(&self) -> usize {
        self.weights.shape.channels
    }

    /// Renders the image stored at `source` size whose dequantised level values are `grids`
    /// (plane after plane, each row-major at its [`crate::format::grid::GridShape::plane_size`]) at `out` size into `buf`
    /// (`out.0 * out.1 * out_channels` bytes).
    pub fn render_into(
        &self,
        grids: &[f32],
        source: (u32, u32),
        out: (u32, u32),
        out_channels: u8,
        buf: &mut [u8],
    ) -> Result<()> {
        let shape = &self.weights.shape;
        check_output(shape.channels, out.0, out.1, out_channels, buf.len())?;
        if grids.len() as u64 != shape.latents(source.0, source.1) {
            return Err(Error::Usage(format!(
                "{} grid values for a {}x{} image, which has {}",
                grids.len(),
                source.0,
                source.1,
                shape.latents(source.0, source.1)
            )));
        }
        if out.0 == 0 || out.1 == 0 {
            return Ok(());
        }
        let (levels, globals) = self.levels(grids, source);
        let w = &self.weights;
        let biases = Biases {
            first: affine(&w.hidden[0].bias, &self.first_global, globals),
            out: affine(&w.out.bias, &self.linear_global, globals),
        };
        // Column taps and x features, shared by every row.
        let cols: Vec<Vec<Tap>> = levels
            .iter()
            .enumerate()
            .map(|(l, &(_, g, _))| (0..out.0).map(|i| Tap::of(w, l, i, out.0, g)).collect())
            .collect();
        // Fourier features of each column (the x halves of each group of 4 are used).
        let q4 = 4 * shape.frequencies;
        let mut col_features = vec![0f32; out.0 as usize * q4];
        for (i, f) in col_features.chunks_exact_mut(q4.max(1)).enumerate() {
            fourier(coordinate(i as u32, out.0), 0.0, shape.frequencies, f);
        }
        let oc = usize::from(out_channels);
        let block = self.block();
        let width = out.0 as usize;
        let c = shape.channels;
        let (nl, inputs) = (shape.levels, self.inputs());
        let line_len = levels.iter().map(|&(_, w, _)| w as usize).sum();
        // Blocks of pixels in raster order, which may span rows (small images make short rows).
        buf.par_chunks_mut(block * oc).enumerate().for_each_init(
            // Per thread: the block's buffers and the current row of every level, interpolated
            // along y (level after level).
            || (self.scratch(), vec![0f32; line_len]),
            |(s, line), (b, dst)| {
                let n = dst.len() / oc;
                let mut current = None;
                let mut row_features = [0f32; 4 * MAX_FREQUENCIES];
                for (p, a) in s.input.chunks_exact_mut(inputs).take(n).enumerate() {
                    let at = b * block + p;
                    let (row, col) = ((at / width) as u32, at % width);
                    if current != Some(row) {
                        current = Some(row);
                        // The row's Fourier features (the y halves are used) and level rows.
                        let y = coordinate(row, out.1);
                        fourier(0.0, y, shape.frequencies, &mut row_features);
                        let mut rest = &mut line[..];
                        for (l, &(g, w, h)) in levels.iter().enumerate() {
                            let (dst, tail) = rest.split_at_mut(w as usize);
                            rest = tail;
                            Tap::of(&self.weights, l, row, out.1, h)
                                .sample_rows(g, w as usize, dst);
                        }
                    }
                    let mut rest = &line[..];
                    for ((v, &(_, w, _)), taps) in a.iter_mut().zip(&levels).zip(&cols) {
                        let (lv, tail) = rest.split_at(w as usize);
                        rest = tail;
                        *v = taps[col].sample(|j| lv[j as usize]);
                    }
                    let colf = &col_features[col * q4..(col + 1) * q4];
                    for ((f, cf), rf) in a[nl..]
                        .chunks_exact_mut(4)
                        .zip(colf.chunks_exact(4))
                        .zip(row_features.chunks_exact(4))
                    {
                        f.copy_from_slice(&[cf[0], cf[1], rf[2], rf[3]]);
                    }
                }
                self.eval_block(n, &biases, s);
                write_pixels(&s.out[..n * c], c, dst);
            },
        );
        Ok(())
    }

    /// Per-pixel inputs of the first layer: the `L` level values, then `4 Q` features.
    fn inputs(&self) -> usize {
        let shape = &self.weights.shape;
        shape.levels + 4 * shape.frequencies
    }

    /// Each level's values with its width and height, and the global latents.
    #[allow(clippy::type_complexity)]
    fn levels<'g>(
        &self,
        grids: &'g [f32],
        source: (u32, u32),
    ) -> (Vec<(&'g [f32], u32, u32)>, &'g [f32]) {
        let mut rest = grids;
        let shape = &self.weights.shape;
        let levels = (0..shape.levels)
            .map(|l| {
                let (w, h) = shape.plane_size(l, source.0, source.1);
                let (head, tail) = rest.split_at((w * h) as usize);
                rest = tail;
                (head, w, h)
            })
            .collect();
        (levels, rest)
    }

    /// Evaluates the first `n` pixels of `s.input` into `s.out`.
    fn eval_block(&self, n: usize, biases: &Biases, s: &mut Scratch) {
        let w = &self.weights;
        let (h, c, inputs, nl) = (
            w.shape.hidden,
            w.shape.channels,
            self.inputs(),
            w.shape.levels,
        );
        let (act, pre) = (&mut s.act[..n * h], &mut s.pre[..n * h]);
        dense(&s.input, &self.hidden[0], pre, n, inputs, h);
        simd::shift_sin(pre, &biases.first, act);
        for (wt, layer) in self.hidden[1..].iter().zip(&w.hidden[1..]) {
            dense(act, wt, pre, n, h, h);
            simd::shift_sin(pre, &layer.bias, act);
        }
        // Output layer, bias and linear branch (the level values, the first L inputs of
        // every pixel, times `linear`): a few dot products per pixel.
        let out = &mut s.out[..n * c];
        let pixels = out.chunks_exact_mut(c).zip(act.chunks_exact(h));
        for ((o, x), a) in pixels.zip(s.input.chunks_exact(inputs)) {
            for (j, (v, b)) in o.iter_mut().zip(&biases.out).enumerate() {
                *v = b
                    + dot(&w.out.weight[j * h..(j + 1) * h], x)
                    + dot(&self.linear[j * nl..(j + 1) * nl], &a[..nl]);
            }
        }
        if w.shape.output != Output::Identity {
            out.iter_mut().for_each(|v| *v = w.shape.output.apply(*v));
        }
    }

    /// Pixels per block: [`BLOCK`], fewer for wide decoders so that scratch stays small.
    fn block(&self) -> usize {
        let shape = &self.weights.shape;
        (BLOCK_FLOATS / shape.hidden.max(self.inputs())).clamp(1, BLOCK)
    }

    fn scratch(&self) -> Scratch {
        let (shape, block) = (&self.weights.shape, self.block());
        Scratch {
            input: vec![0.0; block * self.inputs()],
            act: vec![0.0; block * shape.hidden],
            pre: vec![0.0; block * shape.hidden],
            out: vec![0.0; block * shape.channels],
        }
    }
}
