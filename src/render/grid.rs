//! Rendering grid decoders (format version 5) at any output size: every output pixel samples
//! each latent level bilinearly ([`taps`]), appends the coordinate's Fourier features and runs
//! the shared sine network, blocks of pixels at a time (one GEMM per layer), rows in parallel.
//! Memory besides the output is the dequantised grids plus a few KiB of scratch per thread.
use rayon::prelude::*;

use super::{check_output, gemm_bt, simd, write_pixels, BLOCK, BLOCK_FLOATS};
use crate::consts::MAX_FREQUENCIES;
use crate::error::{Error, Result};
use crate::format::grid::{coordinate, fourier, taps, GridWeights};
use crate::format::model::Output;

/// A grid decoder prepared for rendering.
#[derive(Debug, Clone)]
pub struct GridRenderer {
    weights: GridWeights,
}

/// Per-thread buffers for one block of pixels.
struct Scratch {
    input: Vec<f32>,
    act: Vec<f32>,
    pre: Vec<f32>,
    out: Vec<f32>,
    linear: Vec<f32>,
}

impl GridRenderer {
    /// Prepares `weights` for rendering.
    pub fn new(weights: &GridWeights) -> Self {
        GridRenderer {
            weights: weights.clone(),
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
        let levels = self.levels(grids, source);
        // Column taps and x features, shared by every row.
        let cols: Vec<Vec<(u32, u32, f32)>> = levels
            .iter()
            .map(|&(_, w, _)| (0..out.0).map(|i| taps(i, out.0, w)).collect())
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
        // Blocks of pixels in raster order, which may span rows (small images make short rows).
        buf.par_chunks_mut(block * oc).enumerate().for_each_init(
            || self.scratch(),
            |s, (b, dst)| {
                let n = dst.len() / oc;
                let mut current = None;
                let mut row_features = [0f32; 4 * MAX_FREQUENCIES];
                let mut rows: Vec<(u32, u32, f32)> = Vec::with_capacity(levels.len());
                let inputs = shape.inputs();
                let nl = shape.planes();
                for (p, a) in s.input.chunks_exact_mut(inputs).take(n).enumerate() {
                    let at = b * block + p;
                    let (row, col) = ((at / width) as u32, at % width);
                    if current != Some(row) {
                        current = Some(row);
                        // The row's taps and Fourier features (the y halves are used).
                        let y = coordinate(row, out.1);
                        fourier(0.0, y, shape.frequencies, &mut row_features);
                        rows.clear();
                        rows.extend(levels.iter().map(|(_, _, h)| taps(row, out.1, *h)));
                    }
                    for (l, ((g, w, _), &(y0, y1, fy))) in levels.iter().zip(&rows).enumerate() {
                        let (x0, x1, fx) = cols[l][col];
                        let at = |yy: u32, xx: u32| g[(yy * w + xx) as usize];
                        let top = at(y0, x0) + fx * (at(y0, x1) - at(y0, x0));
                        let bottom = at(y1, x0) + fx * (at(y1, x1) - at(y1, x0));
                        a[l] = top + fy * (bottom - top);
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
                self.eval_block(n, s);
                write_pixels(&s.out[..n * c], c, dst);
            },
        );
        Ok(())
    }

    /// Each level's values with its width and height.
    fn levels<'g>(&self, grids: &'g [f32], source: (u32, u32)) -> Vec<(&'g [f32], u32, u32)> {
        let mut rest = grids;
        let shape = &self.weights.shape;
        (0..shape.planes())
            .map(|l| {
                let (w, h) = shape.plane_size(l, source.0, source.1);
                let (head, tail) = rest.split_at((w * h) as usize);
                rest = tail;
                (head, w, h)
            })
            .collect()
    }

    /// Evaluates the first `n` pixels of `s.input` into `s.out`.
    fn eval_block(&self, n: usize, s: &mut Scratch) {
        let w = &self.weights;
        let (h, c, inputs, nl) = (
            w.shape.hidden,
            w.shape.channels,
            w.shape.inputs(),
            w.shape.planes(),
        );
        let (act, pre) = (&mut s.act[..n * h], &mut s.pre[..n * h]);
        gemm_bt(&s.input, &w.hidden[0].weight, pre, n, inputs, h);
        simd::shift_sin(pre, &w.hidden[0].bias, act);
        for layer in &w.hidden[1..] {
            gemm_bt(act, &layer.weight, pre, n, h, h);
            simd::shift_sin(pre, &layer.bias, act);
        }
        let out = &mut s.out[..n * c];
        gemm_bt(act, &w.out.weight, out, n, h, c);
        // Linear branch: the level values (first L inputs of every pixel) times `linear`.
        let lin = &mut s.linear[..n * c];
        for (o, a) in lin.chunks_exact_mut(c).zip(s.input.chunks_exact(inputs)) {
            for (v, row) in o.iter_mut().zip(w.linear.chunks_exact(nl)) {
                *v = row.iter().zip(&a[..nl]).map(|(p, q)| p * q).sum();
            }
        }
        for (px, l) in out.chunks_exact_mut(c).zip(lin.chunks_exact(c)) {
            for ((v, b), l) in px.iter_mut().zip(&w.out.bias).zip(l) {
                *v += b + l;
            }
        }
        if w.shape.output != Output::Identity {
            out.iter_mut().for_each(|v| *v = w.shape.output.apply(*v));
        }
    }

    /// Pixels per block: [`BLOCK`], fewer for wide decoders so that scratch stays small.
    fn block(&self) -> usize {
        let shape = &self.weights.shape;
        (BLOCK_FLOATS / shape.hidden.max(shape.inputs())).clamp(1, BLOCK)
    }

    fn scratch(&self) -> Scratch {
        let (shape, block) = (&self.weights.shape, self.block());
        Scratch {
            input: vec![0.0; block * shape.inputs()],
            act: vec![0.0; block * shape.hidden],
            pre: vec![0.0; block * shape.hidden],
            out: vec![0.0; block * shape.channels],
            linear: vec![0.0; block * shape.channels],
        }
    }
}
