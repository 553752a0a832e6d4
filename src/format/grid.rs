//! The latent-grid model (format versions 5 and 6): each image is a pyramid of one-channel
//! latent grids, sampled at the pixel (bilinearly, or in version 6 under a learned kernel) and
//! fed with Fourier features of the coordinate to a small shared sine network. Shape, weights
//! and the per-pixel formulas live here, written once for the pure-Rust renderer and the
//! trainer (format-spec §11).
use crate::consts::{
    KERNEL_KNOTS, KERNEL_KNOTS_PER_CELL, MAX_FREQUENCIES, MAX_GLOBAL, MAX_GON_STEPS, MAX_HIDDEN,
    MAX_LAYERS, MAX_LEVELS, SAMPLING_BILINEAR, SAMPLING_KERNEL,
};
use crate::error::{Error, Result};
use crate::format::model::{taker, Output, ShapeError};

/// Hyper-parameters that fix a grid decoder (all stored in the pack header).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridShape {
    /// Output channels, as [`crate::format::model::ModelShape::channels`].
    pub channels: usize,
    /// Latent levels `L`: level `l` has `ceil(W / 2^l) x ceil(H / 2^l)` values.
    pub levels: usize,
    /// Global latents: planes of one value each, after the levels (a per-image vector that
    /// reaches every pixel, e.g. for colour).
    pub global: usize,
    /// Fourier frequencies `Q` of the coordinate features (4 features each).
    pub frequencies: usize,
    /// Width `H` of every hidden sine layer.
    pub hidden: usize,
    /// Number of hidden sine layers.
    pub layers: usize,
    /// Gradient-origin steps `K` that derive an image's grids from the zero grids.
    pub steps: usize,
    /// Function applied to every output value before it is mapped to 8 bits.
    pub output: Output,
    /// How each level is sampled between its values.
    pub sampling: Sampling,
}

/// How a level is sampled at a pixel between its values (header byte 46, format-spec §11.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// 2 x 2 taps ([`taps`]), version 5.
    Bilinear,
    /// 4 x 4 taps weighted by a kernel per level ([`kernel_taps`], [`kernel_value`]) that the
    /// decoder learns, version 6: a level coarser than the image can draw sharper transitions
    /// than bilinear ramps.
    Kernel,
}

impl Sampling {
    /// The header code.
    pub fn code(self) -> u8 {
        match self {
            Sampling::Bilinear => SAMPLING_BILINEAR,
            Sampling::Kernel => SAMPLING_KERNEL,
        }
    }

    /// Its name on the command line and in reports: `bilinear` or `kernel`.
    pub fn name(self) -> &'static str {
        match self {
            Sampling::Bilinear => "bilinear",
            Sampling::Kernel => "kernel",
        }
    }

    /// The sampling of header code `code`, if there is one.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            SAMPLING_BILINEAR => Some(Sampling::Bilinear),
            SAMPLING_KERNEL => Some(Sampling::Kernel),
            _ => None,
        }
    }
}

impl GridShape {
    /// Latent planes `G`: the levels, then the global latents.
    pub fn planes(&self) -> usize {
        self.levels + self.global
    }

    /// Size of plane `p` of a `width x height` image: [`level_size`] for a level, 1 x 1 for a
    /// global latent.
    pub fn plane_size(&self, p: usize, width: u32, height: u32) -> (u32, u32) {
        if p < self.levels {
            level_size(p, width, height)
        } else {
            (1, 1)
        }
    }

    /// Inputs of the first layer: one value per plane, then `4 Q` coordinate features.
    pub fn inputs(&self) -> usize {
        self.planes() + 4 * self.frequencies
    }

    /// Input width of hidden layer `l`.
    pub fn layer_input(&self, l: usize) -> usize {
        if l == 0 {
            self.inputs()
        } else {
            self.hidden
        }
    }

    /// Checks every field against the ranges of format-spec §2.
    pub fn validate(&self) -> std::result::Result<(), ShapeError> {
        let ranges = [
            ("channels", "channels", self.channels, 1, 4),
            ("levels", "latent levels", self.levels, 1, MAX_LEVELS),
            ("global", "global latents", self.global, 0, MAX_GLOBAL),
            (
                "frequencies",
                "Fourier frequencies",
                self.frequencies,
                0,
                MAX_FREQUENCIES,
            ),
            ("hidden", "hidden width", self.hidden, 1, MAX_HIDDEN.into()),
            ("layers", "hidden layers", self.layers, 1, MAX_LAYERS.into()),
            (
                "steps",
                "gradient-origin steps",
                self.steps,
                1,
                MAX_GON_STEPS,
            ),
        ];
        for (field, what, value, lo, hi) in ranges {
            if !(lo..=hi).contains(&value) {
                return Err(ShapeError {
                    field,
                    message: format!("{what} {value} (must be {lo} to {hi})"),
                });
            }
        }
        Ok(())
    }

    /// Number of stored parameters: the network, the linear branch, the step sizes and the
    /// quantisation gains.
    pub fn param_count(&self) -> u64 {
        let (h, c, l) = (
            self.hidden as u64,
            self.channels as u64,
            self.planes() as u64,
        );
        let hidden: u64 = (0..self.layers)
            .map(|k| h * self.layer_input(k) as u64 + h)
            .sum();
        hidden + c * h + c + c * l + self.steps as u64 * l + l + self.kernel_params()
    }

    /// Stored sampling-kernel values: [`KERNEL_KNOTS`] per level with [`Sampling::Kernel`].
    pub fn kernel_params(&self) -> u64 {
        match self.sampling {
            Sampling::Bilinear => 0,
            Sampling::Kernel => (self.levels * KERNEL_KNOTS) as u64,
        }
    }

    /// Multiply-adds per evaluated pixel: the network, the linear branch and the sampling of
    /// every plane (4 taps bilinear, 16 with a kernel).
    pub fn macs_per_point(&self) -> u64 {
        let hidden: u64 = (0..self.layers)
            .map(|k| (self.hidden * self.layer_input(k)) as u64)
            .sum();
        let taps = match self.sampling {
            Sampling::Bilinear => 4,
            Sampling::Kernel => 16,
        };
        hidden + (self.channels * (self.hidden + self.planes()) + taps * self.planes()) as u64
    }

    /// Latent values of a `width x height` image: the sum of its plane sizes.
    pub fn latents(&self, width: u32, height: u32) -> u64 {
        (0..self.planes())
            .map(|l| {
                let (w, h) = self.plane_size(l, width, height);
                u64::from(w) * u64::from(h)
            })
            .sum()
    }
}

/// Size of level `l` of a `width x height` image: `ceil(width / 2^l) x ceil(height / 2^l)`
/// (at least 1 x 1).
pub fn level_size(l: usize, width: u32, height: u32) -> (u32, u32) {
    let down = |n: u32| {
        let n = u64::from(n.max(1));
        (n.div_ceil(1u64 << l.min(40))) as u32
    };
    (down(width), down(height))
}

/// Bilinear taps of output sample `i` of `n` along an axis on which a level has `g` values:
/// `(i0, i1, f)`, the value being `(1 - f) v[i0] + f v[i1]`. The sample sits at
/// `t = (i + 0.5) / n` of the image; the level's values at `(j + 0.5) / g`; outside the first
/// and last value the edge value holds.
pub fn taps(i: u32, n: u32, g: u32) -> (u32, u32, f32) {
    let t = (f64::from(i) + 0.5) / f64::from(n.max(1));
    let x = (t * f64::from(g) - 0.5).max(0.0);
    let last = g.saturating_sub(1);
    let i0 = (x.floor() as u32).min(last);
    let f = if i0 >= last {
        0.0
    } else {
        (x - f64::from(i0)) as f32
    };
    (i0, (i0 + 1).min(last), f)
}

/// Kernel taps of output sample `i` of `n` along an axis on which a level has `g` values: four
/// indices and their distances (in value spacings) from the sample, the value being
/// `Σ k(d_m) v[j_m]` for the level's kernel `k` ([`kernel_value`]). The sample sits where
/// [`taps`] puts it, `s = (i + 0.5) g / n - 0.5`, clamped to `[0, g - 1]`; with `j = ⌊s⌋` and
/// `f = s - j` the taps are `j - 1 .. j + 2` clamped to the axis (edge values repeat) at
/// distances `1 + f, f, 1 - f, 2 - f`.
pub fn kernel_taps(i: u32, n: u32, g: u32) -> ([u32; 4], [f64; 4]) {
    let t = (f64::from(i) + 0.5) / f64::from(n.max(1));
    let last = g.saturating_sub(1);
    let s = (t * f64::from(g) - 0.5).clamp(0.0, f64::from(last));
    let j = (s.floor() as u32).min(last);
    let f = s - f64::from(j);
    let index = [j.saturating_sub(1), j, (j + 1).min(last), (j + 2).min(last)];
    (index, [1.0 + f, f, 1.0 - f, 2.0 - f])
}

/// Where distance `d` (value spacings, `0 ≤ d ≤ 2`) falls among a kernel's knots: knot `k`
/// and the weight `a` of knot `k + 1`, the kernel there being `(1 - a) k_k + a k_{k+1}`.
pub fn knot_position(d: f64) -> (usize, f64) {
    let x = (d * KERNEL_KNOTS_PER_CELL).clamp(0.0, (KERNEL_KNOTS - 1) as f64);
    let k = (x.floor() as usize).min(KERNEL_KNOTS - 2);
    (k, x - k as f64)
}

/// A kernel's value at distance `d`: linear between its `knots` ([`knot_position`]), in f64.
pub fn kernel_value(knots: &[f32], d: f64) -> f64 {
    let (k, a) = knot_position(d);
    (1.0 - a) * f64::from(knots[k]) + a * f64::from(knots[k + 1])
}

/// The kernel a decoder starts from: Catmull-Rom's cubic at the knots (`1.5 d³ - 2.5 d² + 1`
/// up to 1, `-0.5 d³ + 2.5 d² - 4 d + 2` from 1 to 2), the interpolating cubic of resizers.
pub fn initial_kernel() -> [f32; KERNEL_KNOTS] {
    std::array::from_fn(|k| {
        let d = k as f64 / KERNEL_KNOTS_PER_CELL;
        let v = if d <= 1.0 {
            (1.5 * d - 2.5) * d * d + 1.0
        } else {
            ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0
        };
        v as f32
    })
}

/// The `4 Q` Fourier features of the pixel at `(x, y)` in `[-1, 1]` (image corners):
/// for `q = 0..Q`, `sin(2^q π x), cos(2^q π x), sin(2^q π y), cos(2^q π y)`.
pub fn fourier(x: f32, y: f32, frequencies: usize, out: &mut [f32]) {
    for (q, f) in out.chunks_exact_mut(4).take(frequencies).enumerate() {
        let w = std::f32::consts::PI * (1u32 << q) as f32;
        let (sx, cx) = (w * x).sin_cos();
        let (sy, cy) = (w * y).sin_cos();
        f.copy_from_slice(&[sx, cx, sy, cy]);
    }
}

/// The coordinate in `[-1, 1]` of output sample `i` of `n`: `2 (i + 0.5) / n - 1`.
pub fn coordinate(i: u32, n: u32) -> f32 {
    ((2.0 * (f64::from(i) + 0.5)) / f64::from(n.max(1)) - 1.0) as f32
}

/// One dense layer: `W a + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// `W`, row-major `out x in`.
    pub weight: Vec<f32>,
    /// `b`, length `out`.
    pub bias: Vec<f32>,
}

/// All parameters of a grid decoder, in storage order.
#[derive(Debug, Clone, PartialEq)]
pub struct GridWeights {
    /// The architecture.
    pub shape: GridShape,
    /// Hidden sine layers `a' = sin(W a + b)`, first to last.
    pub hidden: Vec<Dense>,
    /// Output layer, `C x H`.
    pub out: Dense,
    /// Linear branch from the plane values straight to the outputs, row-major `C x G`.
    pub linear: Vec<f32>,
    /// Gradient-origin step sizes, row-major `K x G`: step `k` moves plane `p` by
    /// `-steps[k][p]` times the loss gradient.
    pub steps: Vec<f32>,
    /// Quantisation gains, one per plane: code `round(v g)` stands for the value `code / g`.
    pub gains: Vec<f32>,
    /// Sampling kernels ([`Sampling::Kernel`]), row-major `L x KERNEL_KNOTS`; empty otherwise.
    pub kernel: Vec<f32>,
}

impl GridWeights {
    /// Builds weights from the flat parameter vector in storage order (format-spec §11.2).
    pub fn from_flat(shape: GridShape, flat: &[f32]) -> Result<Self> {
        if flat.len() as u64 != shape.param_count() {
            return Err(Error::Format(format!(
                "grid decoder has {} parameters, its shape needs {}",
                flat.len(),
                shape.param_count()
            )));
        }
        let mut take = taker(flat);
        let (h, c, l) = (shape.hidden, shape.channels, shape.planes());
        let hidden = (0..shape.layers)
            .map(|k| Dense {
                weight: take(h * shape.layer_input(k)),
                bias: take(h),
            })
            .collect();
        let out = Dense {
            weight: take(c * h),
            bias: take(c),
        };
        let weights = GridWeights {
            shape,
            hidden,
            out,
            linear: take(c * l),
            steps: take(shape.steps * l),
            gains: take(l),
            kernel: take(shape.kernel_params() as usize),
        };
        if let Some((k, g)) = weights
            .gains
            .iter()
            .enumerate()
            .find(|(_, g)| !(g.is_finite() && **g > 0.0))
        {
            return Err(Error::Format(format!(
                "gain of level {k} is {g} (must be positive and finite)"
            )));
        }
        if let Some(v) = weights.kernel.iter().find(|v| !v.is_finite()) {
            return Err(Error::Format(format!(
                "a sampling kernel value is {v} (must be finite)"
            )));
        }
        Ok(weights)
    }

    /// The flat parameter vector in storage order.
    pub fn to_flat(&self) -> Vec<f32> {
        let mut flat = Vec::with_capacity(self.shape.param_count() as usize);
        for d in self.hidden.iter().chain([&self.out]) {
            flat.extend_from_slice(&d.weight);
            flat.extend_from_slice(&d.bias);
        }
        flat.extend_from_slice(&self.linear);
        flat.extend_from_slice(&self.steps);
        flat.extend_from_slice(&self.gains);
        flat.extend_from_slice(&self.kernel);
        flat
    }

    /// The sampling kernel of level `l` ([`Sampling::Kernel`]): [`KERNEL_KNOTS`] values.
    pub fn level_kernel(&self, l: usize) -> &[f32] {
        &self.kernel[l * KERNEL_KNOTS..][..KERNEL_KNOTS]
    }

    /// The same weights rounded to binary16 and back (what a pack stored as f16 holds).
    pub fn rounded_to_f16(&self) -> Self {
        let flat: Vec<f32> = self
            .to_flat()
            .iter()
            .map(|&v| half::f16::from_f32(v).to_f32())
            .collect();
        Self::from_flat(self.shape, &flat).expect("same shape")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_sizes_halve_rounding_up() {
        assert_eq!(level_size(0, 451, 300), (451, 300));
        assert_eq!(level_size(1, 451, 300), (226, 150));
        assert_eq!(level_size(5, 451, 300), (15, 10));
        assert_eq!(level_size(5, 28, 28), (1, 1));
        assert_eq!(level_size(9, 28, 28), (1, 1));
    }

    #[test]
    fn taps_match_half_pixel_bilinear() {
        // Same size: every sample lands on its own value.
        for i in 0..8 {
            assert_eq!(taps(i, 8, 8), (i, (i + 1).min(7), 0.0));
        }
        // A 2-value level under 4 samples: edge, 1/4 and 3/4 of the way, edge.
        assert_eq!(taps(0, 4, 2), (0, 1, 0.0));
        assert_eq!(taps(1, 4, 2), (0, 1, 0.25));
        assert_eq!(taps(2, 4, 2), (0, 1, 0.75));
        assert_eq!(taps(3, 4, 2), (1, 1, 0.0));
        // One value: constant.
        assert_eq!(taps(5, 9, 1), (0, 0, 0.0));
    }

    #[test]
    fn kernel_taps_start_as_catmull_rom_and_hold_the_edges() {
        let k = initial_kernel();
        let expect = [
            1.0, 0.8671875, 0.5625, 0.2265625, 0.0, -0.0703125, -0.0625, -0.0234375, 0.0,
        ];
        assert_eq!(k, expect);
        let weights = |i, n, g| {
            let (index, d) = kernel_taps(i, n, g);
            (index, d.map(|d| kernel_value(&k, d) as f32))
        };
        // Same size: every sample lands on its own value.
        for i in 0..8 {
            let (index, w) = weights(i, 8, 8);
            assert_eq!(index[1], i);
            assert_eq!(w, [0.0, 1.0, 0.0, 0.0]);
        }
        // A 4-value level under 8 samples: sample 3 sits at s = 1.25, a quarter past value 1.
        assert_eq!(
            kernel_taps(3, 8, 4),
            ([0, 1, 2, 3], [1.25, 0.25, 0.75, 1.75])
        );
        assert_eq!(
            weights(3, 8, 4).1,
            [-0.0703125, 0.8671875, 0.2265625, -0.0234375]
        );
        // Between knots the kernel is linear; past the last knot it is the last knot's value.
        assert_eq!(knot_position(0.375), (1, 0.5));
        assert_eq!(kernel_value(&k, 0.375), (0.8671875 + 0.5625) / 2.0);
        assert_eq!(knot_position(2.0), (7, 1.0));
        // Past the edges the edge value holds; one value: constant.
        assert_eq!(weights(0, 4, 2), ([0, 0, 1, 1], [0.0, 1.0, 0.0, 0.0]));
        assert_eq!(weights(3, 4, 2), ([0, 1, 1, 1], [0.0, 1.0, 0.0, 0.0]));
        assert_eq!(weights(5, 9, 1), ([0, 0, 0, 0], [0.0, 1.0, 0.0, 0.0]));
    }

    #[test]
    fn flat_round_trip_and_bad_gain() {
        let shape = GridShape {
            channels: 3,
            levels: 5,
            global: 3,
            frequencies: 2,
            hidden: 8,
            layers: 2,
            steps: 2,
            output: Output::Identity,
            sampling: Sampling::Kernel,
        };
        let n = shape.param_count() as usize;
        assert_eq!(shape.kernel_params(), 5 * KERNEL_KNOTS as u64);
        let flat: Vec<f32> = (0..n).map(|i| 0.5 + i as f32).collect();
        let w = GridWeights::from_flat(shape, &flat).unwrap();
        assert_eq!(w.to_flat(), flat);
        assert_eq!(w.kernel, flat[n - 5 * KERNEL_KNOTS..]);
        let mut bad = flat.clone();
        bad[n - 5 * KERNEL_KNOTS - 1] = 0.0;
        assert!(GridWeights::from_flat(shape, &bad).is_err(), "a zero gain");
        let mut bad = flat.clone();
        bad[n - 1] = f32::NAN;
        assert!(
            GridWeights::from_flat(shape, &bad).is_err(),
            "a kernel value NaN"
        );
        assert!(GridWeights::from_flat(shape, &flat[1..]).is_err());
    }
}
