//! Pure-Rust renderer: evaluates a pack's decoder at any resolution without libtorch.
//!
//! Pixels are evaluated in blocks of [`BLOCK`]: per sine layer one GEMM (matrixmultiply,
//! which picks AVX/FMA kernels at run time; grid decoders 32 wide use a kernel of their own
//! that needs no packing) followed by one fused pass that adds the latent shift and takes
//! the sine; the last pass writes 8-bit samples straight into the
//! caller's buffer. Blocks run in parallel on all cores (rayon). The element-wise passes are
//! compiled twice, for the baseline CPU and for AVX-512/AVX2 with FMA, and picked at run
//! time. Memory is a few hundred KiB of scratch per thread, whatever the output size.
pub mod coords;
pub mod grid;
pub mod latent_space;
pub mod metrics;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::format::model::{DecoderWeights, Output, SineLayer};
use crate::format::patches::Geometry;
use crate::pixels::{colour_channels, has_alpha, renders};

/// Bytes of an 8-bit `width x height` render with `channels` channels, if that fits in memory
/// (in `usize` and `isize`): the one size check of every render buffer.
pub fn buffer_len(width: u32, height: u32, channels: u8) -> Option<usize> {
    let n = u64::from(width)
        .checked_mul(u64::from(height))?
        .checked_mul(u64::from(channels))?;
    usize::try_from(n)
        .ok()
        .filter(|&n| isize::try_from(n).is_ok())
}

/// Pixels evaluated together in one block (one GEMM per layer), for decoders up to
/// [`BLOCK_FLOATS`]` / BLOCK` wide; wider ones use smaller blocks.
pub const BLOCK: usize = 256;

/// Largest number of activations one block holds, so that per-thread scratch stays below
/// 256 KiB per buffer whatever the decoder's width.
pub const BLOCK_FLOATS: usize = 1 << 16;

/// `sin(x)` in f32 for the renderer, branch-free so that loops over it vectorise.
///
/// `x = kπ + r` with `k` the nearest integer to `x/π` (valid for `|x| < 2^22`) and `r`
/// from a two-term Cody–Waite reduction with fused multiply-adds; then the odd Taylor
/// polynomial of degree 13 in `r` (truncation error below 7e-10 on `|r| ≤ π/2`) and the
/// sign `(-1)^k`. Absolute error at most 2^-23 for `|x| ≤ 10^4` (tested).
#[inline(always)]
pub fn sin(x: f32) -> f32 {
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer without a libm call.
    const ROUND: f32 = 12_582_912.0;
    const PI_HI: f32 = std::f32::consts::PI;
    const PI_LO: f32 = -8.742_278e-8; // π - PI_HI
    let t = x * std::f32::consts::FRAC_1_PI + ROUND;
    let k = t - ROUND;
    let r = (-k).mul_add(PI_LO, (-k).mul_add(PI_HI, x));
    let r2 = r * r;
    let mut p = 1.0 / 6_227_020_800.0f32;
    p = p.mul_add(r2, -1.0 / 39_916_800.0);
    p = p.mul_add(r2, 1.0 / 362_880.0);
    p = p.mul_add(r2, -1.0 / 5_040.0);
    p = p.mul_add(r2, 1.0 / 120.0);
    p = p.mul_add(r2, -1.0 / 6.0);
    let s = (p * r2).mul_add(r, r);
    f32::from_bits(s.to_bits() ^ (t.to_bits() << 31))
}

/// Maps a decoder output to an 8-bit sample: `floor(clamp(y, 0, 1) * 255 + 0.5)` (NaN gives 0).
#[inline(always)]
pub fn to_u8(y: f32) -> u8 {
    // The value is at least 0.5 (or NaN, which casts to 0), so truncation is the floor.
    (y.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
}

/// Most output channels a decoder has (RGB + alpha).
const MAX_CHANNELS: usize = 4;

/// Output pixels from a block of decoder outputs (`c` per pixel), [`write_pixel`] for each;
/// a decoder without alpha rendering its own channels maps each value straight through
/// [`to_u8`], without the per-pixel dispatch.
pub fn write_pixels(values: &[f32], c: usize, out: &mut [u8]) {
    if out.len() == values.len() && !has_alpha(c as u8) {
        out.iter_mut().zip(values).for_each(|(d, &v)| *d = to_u8(v));
    } else {
        let oc = out.len() / (values.len() / c).max(1);
        for (px, v) in out.chunks_exact_mut(oc).zip(values.chunks_exact(c)) {
            write_pixel(v, px);
        }
    }
}

/// One output pixel (`out.len()` channels, which the decoder [`renders`]) from the decoder's
/// outputs `v` at that pixel (format-spec §8.6). Without alpha: each value through [`to_u8`],
/// or their mean for a grey image from an RGB decoder. With alpha (the last output, `a`
/// clamped to `[0, 1]`): the colour outputs are premultiplied, so the stored colour is
/// `to_u8(v / a)` (0 where alpha rounds to 0), and alpha is `to_u8(a)`.
pub fn write_pixel(v: &[f32], out: &mut [u8]) {
    let c = v.len() as u8;
    let (colour, alpha) = v.split_at(usize::from(colour_channels(c)));
    let a = alpha.first().map_or(1.0, |a| a.clamp(0.0, 1.0));
    let a8 = to_u8(a);
    let straight = |x: f32| match alpha.is_empty() {
        true => x,
        false if a8 == 0 => 0.0,
        false => x / a,
    };
    let oc = colour_channels(out.len() as u8);
    if usize::from(oc) == colour.len() {
        for (d, &x) in out.iter_mut().zip(colour) {
            *d = to_u8(straight(x));
        }
    } else {
        out[0] = to_u8(straight(colour.iter().sum::<f32>() / colour.len() as f32));
    }
    if has_alpha(out.len() as u8) {
        out[usize::from(oc)] = a8;
    }
}

/// Renders image `i` at `(width, height)` with `channels` channels into a buffer of exactly
/// that size (see [`PackImages::prepare`]).
pub type RenderFn<'a> = Box<dyn Fn(usize, (u32, u32), u8, &mut [u8]) -> Result<()> + Sync + 'a>;

/// A whole pack in memory whose images render at any size: latent vectors
/// ([`crate::Pack`]) or latent grids ([`crate::format::grid_pack::GridPack`]).
pub trait PackImages: Sync {
    /// The index.
    fn entries(&self) -> &[crate::format::ImageEntry];
    /// The decoder prepared once, as a function that renders any image of the pack.
    fn prepare(&self) -> RenderFn<'_>;
}

impl PackImages for crate::Pack {
    fn entries(&self) -> &[crate::format::ImageEntry] {
        &self.index
    }

    fn prepare(&self) -> RenderFn<'_> {
        let renderer = Renderer::new(&self.decoder);
        let starts = self.latent_starts();
        Box::new(move |i, out, channels, buf| {
            let e = &self.index[i];
            let z = self.image_latents(i, &starts);
            renderer.render_image(self.patches, &z, (e.width, e.height), out, channels, buf)
        })
    }
}

impl PackImages for crate::format::grid_pack::GridPack {
    fn entries(&self) -> &[crate::format::ImageEntry] {
        &self.index
    }

    fn prepare(&self) -> RenderFn<'_> {
        let renderer = grid::GridRenderer::new(&self.decoder);
        let starts = crate::format::grid_pack::code_starts(self.shape(), &self.index);
        Box::new(move |i, out, channels, buf| {
            let e = &self.index[i];
            let grids = self.grids(i, &starts);
            renderer.render_into(&grids, (e.width, e.height), out, channels, buf)
        })
    }
}

/// An error unless a decoder with `channels` outputs can render `out_channels` ([`renders`])
/// into a buffer of `len` bytes at `width x height`.
fn check_output(
    channels: usize,
    width: u32,
    height: u32,
    out_channels: u8,
    len: usize,
) -> Result<()> {
    let oc = usize::from(out_channels);
    if !renders(channels as u8, out_channels) {
        return Err(Error::Usage(format!(
            "cannot render {oc} channels from a {channels}-channel decoder"
        )));
    }
    if buffer_len(width, height, out_channels) != Some(len) {
        return Err(Error::Usage(format!(
            "buffer of {len} bytes for a {width}x{height} render with {oc} channels"
        )));
    }
    Ok(())
}

/// A pack's decoder prepared for rendering: the frequency factors folded into the weights.
#[derive(Debug, Clone)]
pub struct Renderer {
    channels: usize,
    hidden: usize,
    latent_dim: usize,
    /// Sine layers with `ω` folded in: `ω W_l`, `ω b_l`, `ω M_l`.
    layers: Vec<SineLayer>,
    out_weight: Vec<f32>,
    out_bias: Vec<f32>,
    output: Output,
}

/// Per-thread scratch: coordinates, activations and pre-activations of one block.
struct Scratch {
    pts: Vec<f32>,
    act: Vec<f32>,
    pre: Vec<f32>,
    out: Vec<f32>,
}

impl Renderer {
    /// Prepares `w` for rendering.
    pub fn new(w: &DecoderWeights) -> Self {
        let s = &w.shape;
        let scaled = |v: &[f32], k: f32| v.iter().map(|x| x * k).collect::<Vec<f32>>();
        let layers = w
            .layers
            .iter()
            .enumerate()
            .map(|(l, layer)| {
                let k = s.w0(l);
                SineLayer {
                    weight: scaled(&layer.weight, k),
                    bias: scaled(&layer.bias, k),
                    modulation: layer.modulation.as_ref().map(|m| scaled(m, k)),
                }
            })
            .collect();
        Renderer {
            channels: s.channels,
            hidden: s.hidden,
            latent_dim: s.latent_dim,
            layers,
            out_weight: w.out_weight.clone(),
            out_bias: w.out_bias.clone(),
            output: s.output,
        }
    }

    /// Output channels of the decoder.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Renders latent `z` at `width x height` into `buf` (row-major 8-bit samples,
    /// `out_channels` per pixel: the decoder's, or 1 for a grey image from an RGB decoder).
    /// `buf` must be exactly `width * height * out_channels` bytes.
    pub fn render_into(
        &self,
        z: &[f32],
        width: u32,
        height: u32,
        out_channels: u8,
        buf: &mut [u8],
    ) -> Result<()> {
        self.check_output(width, height, out_channels, buf.len())?;
        let oc = usize::from(out_channels);
        let shifts = self.shifts(z)?;
        let c = self.channels;
        let block = self.block();
        buf.par_chunks_mut(block * oc).enumerate().for_each_init(
            || self.scratch(),
            |s, (b, dst)| {
                let n = dst.len() / oc;
                for (p, xy) in s.pts[..2 * n].chunks_exact_mut(2).enumerate() {
                    let at = (b * block + p) as u64;
                    let (row, col) = (at / u64::from(width), at % u64::from(width));
                    xy[0] = coords::axis(col as u32, width);
                    xy[1] = coords::axis(row as u32, height);
                }
                self.eval_block(&shifts, n, s);
                write_pixels(&s.out[..n * c], c, dst);
            },
        );
        Ok(())
    }

    /// Renders an image stored at `source` size (width, height) with `latents` (one latent
    /// when stored whole, else one per patch, row by row) at `out` size into `buf`
    /// (`out.0 * out.1 * out_channels` bytes). Patches are blended as spec §8.5 says, one row
    /// of patches at a time, so memory grows with the output width, not its area.
    pub fn render_image(
        &self,
        patches: Geometry,
        latents: &[f32],
        source: (u32, u32),
        out: (u32, u32),
        out_channels: u8,
        buf: &mut [u8],
    ) -> Result<()> {
        if patches.is_whole(source.0, source.1) {
            return self.render_into(latents, out.0, out.1, out_channels, buf);
        }
        let (nx, ny) = patches.grid(source.0, source.1);
        let d = self.latent_dim;
        if latents.len() != (nx * ny) as usize * d {
            return Err(Error::Usage(format!(
                "{} latent values for {nx}x{ny} patches of {d}",
                latents.len()
            )));
        }
        self.check_output(out.0, out.1, out_channels, buf.len())?;
        let (w, c, oc) = (out.0 as usize, self.channels, usize::from(out_channels));
        let scale_x = f64::from(source.0) / f64::from(out.0);
        let scale_y = f64::from(source.1) / f64::from(out.1);
        let (t, o) = (f64::from(patches.patch), f64::from(patches.overlap));
        let extent = patches.extent() as f32;
        let span = |p: u32, scale: f64, n: u32| patch_span(patches, p, scale, n);
        // Patch-local coordinate of output pixel v: spec §8.5.
        let local = |v: u32, scale: f64, p: u32| -> f32 {
            let num = (2.0 * f64::from(v) + 1.0) * scale - 2.0 * (f64::from(p) * t - o);
            num as f32 / extent - 1.0
        };
        // Accumulated weighted outputs and weights of rows band_lo.. (C + 1 floats a pixel).
        let mut acc: Vec<f32> = Vec::new();
        let mut band_lo = 0u32;
        for py in 0..ny {
            let rows = span(py, scale_y, out.1);
            let need = (rows.end.max(band_lo) - band_lo) as usize * w * (c + 1);
            if acc.len() < need {
                acc.resize(need, 0.0);
            }
            let results: Vec<(std::ops::Range<u32>, Vec<f32>)> = (0..nx)
                .into_par_iter()
                .map(|px| {
                    let cols = span(px, scale_x, out.0);
                    let mut pts = Vec::with_capacity(cols.len() * rows.len() * 2);
                    for v in rows.clone() {
                        let y = local(v, scale_y, py);
                        for u in cols.clone() {
                            pts.extend([local(u, scale_x, px), y]);
                        }
                    }
                    let k = (py * nx + px) as usize;
                    let raw = self.eval_points(&latents[k * d..(k + 1) * d], &pts);
                    raw.map(|raw| (cols, raw))
                })
                .collect::<Result<_>>()?;
            for (px, (cols, raw)) in results.into_iter().enumerate() {
                let mut values = raw.chunks_exact(c);
                for v in rows.clone() {
                    let wy = patches.weight(py, (f64::from(v) + 0.5) * scale_y);
                    let row = (v - band_lo) as usize * w;
                    for u in cols.clone() {
                        let wx = patches.weight(px as u32, (f64::from(u) + 0.5) * scale_x);
                        let wgt = (wx * wy) as f32;
                        let cell = &mut acc[(row + u as usize) * (c + 1)..][..c + 1];
                        for (a, &val) in cell.iter_mut().zip(values.next().expect("one per point"))
                        {
                            *a += wgt * val;
                        }
                        cell[c] += wgt;
                    }
                }
            }
            // Rows the next patch row cannot reach are final.
            let done = if py + 1 < ny {
                span(py + 1, scale_y, out.1).start.max(band_lo)
            } else {
                out.1
            };
            let finished = (done - band_lo) as usize * w;
            let dst = &mut buf[band_lo as usize * w * oc..done as usize * w * oc];
            let mut v = [0f32; MAX_CHANNELS];
            for (px, cell) in dst.chunks_exact_mut(oc).zip(acc.chunks_exact(c + 1)) {
                let norm = if cell[c] > 0.0 { 1.0 / cell[c] } else { 0.0 };
                v.iter_mut()
                    .zip(&cell[..c])
                    .for_each(|(v, &a)| *v = a * norm);
                write_pixel(&v[..c], px);
            }
            acc.drain(..finished * (c + 1));
            band_lo = done;
        }
        Ok(())
    }

    fn check_output(&self, width: u32, height: u32, out_channels: u8, len: usize) -> Result<()> {
        check_output(self.channels, width, height, out_channels, len)
    }

    /// Renders latent `z` at `width x height` into a new buffer (see [`Self::render_into`]).
    pub fn render(&self, z: &[f32], width: u32, height: u32, out_channels: u8) -> Result<Vec<u8>> {
        let len = buffer_len(width, height, out_channels).ok_or_else(|| {
            Error::Limits(format!("a {width}x{height} render does not fit in memory"))
        })?;
        let mut buf = vec![0u8; len];
        self.render_into(z, width, height, out_channels, &mut buf)?;
        Ok(buf)
    }

    /// Evaluates latent `z` at the given `(x, y)` points (interleaved); returns `C` raw
    /// outputs per point.
    pub fn eval_points(&self, z: &[f32], points: &[f32]) -> Result<Vec<f32>> {
        let shifts = self.shifts(z)?;
        let c = self.channels;
        let mut out = vec![0f32; points.len() / 2 * c];
        let block = self.block();
        out.par_chunks_mut(block * c)
            .zip(points.par_chunks(block * 2))
            .for_each_init(
                || self.scratch(),
                |s, (dst, pts)| {
                    let n = dst.len() / c;
                    s.pts[..2 * n].copy_from_slice(pts);
                    self.eval_block(&shifts, n, s);
                    dst.copy_from_slice(&s.out[..n * c]);
                },
            );
        Ok(out)
    }

    /// Pixels per block for this decoder's width.
    fn block(&self) -> usize {
        (BLOCK_FLOATS / self.hidden).clamp(1, BLOCK)
    }

    fn scratch(&self) -> Scratch {
        let block = self.block();
        Scratch {
            pts: vec![0.0; 2 * block],
            act: vec![0.0; block * self.hidden],
            pre: vec![0.0; block * self.hidden],
            out: vec![0.0; block * self.channels],
        }
    }

    /// Per-layer additive terms `ω (b_l + M_l z)` (the latent enters only here).
    fn shifts(&self, z: &[f32]) -> Result<Vec<Vec<f32>>> {
        let d = self.latent_dim;
        if z.len() != d {
            return Err(Error::Usage(format!(
                "latent of length {}, decoder takes {d}",
                z.len()
            )));
        }
        Ok(self
            .layers
            .iter()
            .map(|layer| {
                let mut s = layer.bias.clone();
                if let Some(m) = &layer.modulation {
                    for (sj, row) in s.iter_mut().zip(m.chunks_exact(d)) {
                        *sj += row.iter().zip(z).map(|(a, b)| a * b).sum::<f32>();
                    }
                }
                s
            })
            .collect())
    }

    /// Evaluates the first `n` points of `s.pts` into `s.out` (`C` values per point).
    fn eval_block(&self, shifts: &[Vec<f32>], n: usize, s: &mut Scratch) {
        let h = self.hidden;
        let (act, pre) = (&mut s.act[..n * h], &mut s.pre[..n * h]);
        simd::first_layer(&self.layers[0].weight, &shifts[0], &s.pts[..2 * n], act);
        for (layer, shift) in self.layers.iter().zip(shifts).skip(1) {
            gemm_bt(act, &layer.weight, pre, n, h, h);
            simd::shift_sin(pre, shift, act);
        }
        let out = &mut s.out[..n * self.channels];
        gemm_bt(act, &self.out_weight, out, n, h, self.channels);
        for px in out.chunks_exact_mut(self.channels) {
            px.iter_mut().zip(&self.out_bias).for_each(|(v, b)| *v += b);
        }
        if self.output != Output::Identity {
            out.iter_mut().for_each(|v| *v = self.output.apply(*v));
        }
    }
}

/// The element-wise passes, dispatched at run time to the widest vector unit available.
mod simd {
    use super::sin;

    /// `act[p][j] = sin(W[j] · pts[p] + shift[j])` for a first layer of 2 inputs.
    #[inline(always)]
    fn first_layer_body(weight: &[f32], shift: &[f32], pts: &[f32], act: &mut [f32]) {
        let h = shift.len();
        for (row, xy) in act.chunks_exact_mut(h).zip(pts.chunks_exact(2)) {
            let (x, y) = (xy[0], xy[1]);
            for ((a, w), &sh) in row.iter_mut().zip(weight.chunks_exact(2)).zip(shift) {
                *a = sin(w[0].mul_add(x, w[1].mul_add(y, sh)));
            }
        }
    }

    /// `act[p][j] = sin(pre[p][j] + shift[j])`.
    #[inline(always)]
    fn shift_sin_body(pre: &[f32], shift: &[f32], act: &mut [f32]) {
        let h = shift.len();
        for (row_act, row_pre) in act.chunks_exact_mut(h).zip(pre.chunks_exact(h)) {
            for ((a, &p), &sh) in row_act.iter_mut().zip(row_pre).zip(shift) {
                *a = sin(p + sh);
            }
        }
    }

    /// `out[p][j] = Σ_i a[p][i] wt[i][j]` for the rows `p` of `out` (`H` wide), rows of `a`
    /// `wt.len() / H` wide, `wt` row-major `inputs x H`: four rows at a time, their
    /// accumulators in registers, so nothing is packed or copied.
    #[inline(always)]
    fn dense_body<const H: usize>(a: &[f32], wt: &[f32], out: &mut [f32]) {
        let k = wt.len() / H;
        let mut a_rows = a.chunks_exact(4 * k);
        let mut out_rows = out.chunks_exact_mut(4 * H);
        for (a4, o4) in (&mut a_rows).zip(&mut out_rows) {
            let mut acc = [[0f32; H]; 4];
            for (i, w) in wt.chunks_exact(H).enumerate() {
                for (r, acc) in acc.iter_mut().enumerate() {
                    let x = a4[r * k + i];
                    for (v, &w) in acc.iter_mut().zip(w) {
                        *v = x.mul_add(w, *v);
                    }
                }
            }
            for (o, acc) in o4.chunks_exact_mut(H).zip(&acc) {
                o.copy_from_slice(acc);
            }
        }
        for (a1, o) in a_rows
            .remainder()
            .chunks_exact(k.max(1))
            .zip(out_rows.into_remainder().chunks_exact_mut(H))
        {
            let mut acc = [0f32; H];
            for (&x, w) in a1.iter().zip(wt.chunks_exact(H)) {
                for (v, &w) in acc.iter_mut().zip(w) {
                    *v = x.mul_add(w, *v);
                }
            }
            o.copy_from_slice(&acc);
        }
    }

    #[inline(always)]
    fn dense32_body(a: &[f32], wt: &[f32], out: &mut [f32]) {
        dense_body::<32>(a, wt, out)
    }

    macro_rules! dispatch {
        ($name:ident, $body:ident, ($($arg:ident: $ty:ty),*)) => {
            pub fn $name($($arg: $ty),*) {
                #[cfg(target_arch = "x86_64")]
                {
                    #[target_feature(enable = "avx512f,avx2,fma")]
                    unsafe fn avx512($($arg: $ty),*) { $body($($arg),*) }
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn avx2($($arg: $ty),*) { $body($($arg),*) }
                    if std::arch::is_x86_feature_detected!("avx512f")
                        && std::arch::is_x86_feature_detected!("fma")
                    {
                        // SAFETY: the CPU supports the features the function is compiled for.
                        return unsafe { avx512($($arg),*) };
                    }
                    if std::arch::is_x86_feature_detected!("avx2")
                        && std::arch::is_x86_feature_detected!("fma")
                    {
                        // SAFETY: as above.
                        return unsafe { avx2($($arg),*) };
                    }
                }
                $body($($arg),*)
            }
        };
    }

    dispatch!(first_layer, first_layer_body, (weight: &[f32], shift: &[f32], pts: &[f32], act: &mut [f32]));
    dispatch!(shift_sin, shift_sin_body, (pre: &[f32], shift: &[f32], act: &mut [f32]));
    dispatch!(dense32, dense32_body, (a: &[f32], wt: &[f32], out: &mut [f32]));
}

/// Output pixels (along one axis, `n` of them, `scale` source pixels apart) whose centre lies
/// strictly inside the span of patch `p`, `(p·T - O, (p+1)·T + O)`: from the first pixel whose
/// centre passes each end, found in constant time.
fn patch_span(patches: Geometry, p: u32, scale: f64, n: u32) -> std::ops::Range<u32> {
    let (t, o) = (f64::from(patches.patch), f64::from(patches.overlap));
    let lo = f64::from(p) * t - o;
    let hi = lo + t + 2.0 * o;
    let first = first_centre_past(lo, scale, n, |c, edge| c > edge);
    let last = first_centre_past(hi, scale, n, |c, edge| c >= edge).max(first);
    first..last
}

/// The first output pixel `v` in `0..n` whose centre `(v + 0.5) * scale` is past `edge`
/// (`past(centre, edge)`), or `n` if none is: an estimate corrected by exact comparisons, so
/// the result is what a scan from 0 would find, in constant time.
fn first_centre_past(edge: f64, scale: f64, n: u32, past: impl Fn(f64, f64) -> bool) -> u32 {
    let is_past = |v: u32| past((f64::from(v) + 0.5) * scale, edge);
    let guess = (edge / scale - 0.5).floor().clamp(0.0, f64::from(n));
    let mut v = guess as u32;
    while v > 0 && is_past(v - 1) {
        v -= 1;
    }
    while v < n && !is_past(v) {
        v += 1;
    }
    v
}

/// `c = a * b^T` with `a` row-major `m x k` and `b` row-major `n x k`.
fn gemm_bt(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    gemm(a, (b, 1, k as isize), c, m, k, n);
}

/// `c = a * b` with `a` row-major `m x k` and `b` row-major `k x n`: for 32 columns the
/// register-blocked [`simd`] kernel (no packing, which dominates GEMMs this small), else
/// matrixmultiply.
fn dense(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    if n == 32 && k > 0 {
        simd::dense32(&a[..m * k], &b[..k * n], &mut c[..m * n]);
    } else {
        gemm(a, (b, n as isize, 1), c, m, k, n);
    }
}

/// `c = a * B` with `a` row-major `m x k` and `B` the `k x n` matrix whose element `(i, j)`
/// is `b[i * rsb + j * csb]`, for the two layouts above.
fn gemm(
    a: &[f32],
    (b, rsb, csb): (&[f32], isize, isize),
    c: &mut [f32],
    m: usize,
    k: usize,
    n: usize,
) {
    assert!(a.len() >= m * k && b.len() >= n * k && c.len() >= m * n);
    // SAFETY: the assert above bounds every index the strides reach ((k-1) rsb + (n-1) csb
    // < n k for both layouts).
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            rsb,
            csb,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fast_sin_is_accurate() {
        // Absolute error against the exact sine over -10^4 .. 10^4 radians: at most one f32
        // ulp of 1 (2^-23), i.e. invisible after the 8-bit mapping.
        let mut worst = 0f64;
        for i in -10_000_000..=10_000_000 {
            let x = i as f32 * 1e-3;
            worst = worst.max((f64::from(super::sin(x)) - f64::from(x).sin()).abs());
        }
        eprintln!("worst absolute error {worst:e}");
        assert!(
            worst <= f64::from(f32::EPSILON),
            "worst absolute error {worst:e}"
        );
    }

    #[test]
    fn patch_spans_are_those_of_a_scan_and_within_the_work_bound() {
        use super::{patch_span, Geometry};
        for (patch, overlap) in [(32, 4), (16, 1), (1, 1), (7, 3)] {
            let g = Geometry { patch, overlap };
            for (src, out) in [
                (100u32, 100u32),
                (100, 400),
                (100, 37),
                (33, 1000),
                (64, 64),
            ] {
                let scale = f64::from(src) / f64::from(out);
                let (t, o) = (f64::from(patch), f64::from(overlap));
                let mut total = 0u64;
                for p in 0..src.div_ceil(patch) {
                    let (lo, hi) = (f64::from(p) * t - o, f64::from(p + 1) * t + o);
                    let centre = |v: u32| (f64::from(v) + 0.5) * scale;
                    let want: Vec<u32> = (0..out)
                        .filter(|&v| centre(v) > lo && centre(v) < hi)
                        .collect();
                    let got = patch_span(g, p, scale, out);
                    assert_eq!(
                        got.clone().collect::<Vec<_>>(),
                        want,
                        "{g:?} {src}->{out} patch {p}"
                    );
                    total += got.len() as u64;
                }
                let bound = g.points((src, 1), (out, 1));
                assert!(total <= bound, "{g:?} {src}->{out}: {total} > {bound}");
            }
        }
    }

    #[test]
    fn to_u8_rounds_clamps_and_maps_nan_to_zero() {
        use super::to_u8;
        assert_eq!(
            [
                to_u8(-1.0),
                to_u8(0.5),
                to_u8(1.0),
                to_u8(7.0),
                to_u8(f32::NAN)
            ],
            [0, 128, 255, 255, 0]
        );
    }

    #[test]
    fn pixels_from_premultiplied_outputs() {
        use super::write_pixel;
        let px = |v: &[f32], n: usize| {
            let mut out = vec![0u8; n];
            write_pixel(v, &mut out);
            out
        };
        // No alpha: as they are, or their mean for grey.
        assert_eq!(px(&[0.0, 0.5, 1.0], 3), [0, 128, 255]);
        assert_eq!(px(&[0.0, 0.5, 1.0], 1), [128]);
        // Premultiplied colour 0.1 at alpha 0.2 is 0.5 straight.
        assert_eq!(px(&[0.1, 0.2, 0.0, 0.2], 4), [128, 255, 0, 51]);
        assert_eq!(px(&[0.1, 0.2, 0.0, 0.2], 2), [128, 51]);
        assert_eq!(px(&[0.1, 0.2, 0.0, 0.2], 3), [128, 255, 0]);
        assert_eq!(px(&[0.1, 0.2, 0.0, 0.2], 1), [128]);
        assert_eq!(px(&[0.3, 0.2], 2), [255, 51], "colour above alpha clamps");
        // Alpha that rounds to 0 has no colour; alpha outside [0, 1] is clamped.
        assert_eq!(px(&[0.001, 0.0015], 2), [0, 0]);
        assert_eq!(px(&[0.5, -0.3], 2), [0, 0]);
        assert_eq!(px(&[0.5, 1.7], 2), [128, 255]);
        assert_eq!(px(&[f32::NAN, f32::NAN], 2), [0, 0]);
    }
}
