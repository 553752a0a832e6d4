//! The decoder's shape and weights in plain `f32` arrays, in the order the format stores them.
use crate::consts::{MAX_HIDDEN, MAX_LATENT_DIM, MAX_LAYERS, OUTPUT_IDENTITY, OUTPUT_LOGISTIC};
use crate::error::{Error, Result};

/// Work charged per evaluated point besides the decoder's multiply-adds: coordinates,
/// output mapping, blending and writing (in multiply-add equivalents).
pub const POINT_OVERHEAD: u64 = 256;

/// A [`ModelShape`] field out of the range the format allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// The field, named as the `encode` option that sets it: `latent`, `hidden`, `layers`,
    /// `modulated`, `w0`, `w0-hidden` or `channels`.
    pub field: &'static str,
    /// What is wrong, with the value and the allowed range.
    pub message: String,
}

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Hyper-parameters that fix the decoder's architecture (all stored in the pack header).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelShape {
    /// Output channels: 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGB + alpha); with alpha,
    /// the colour outputs are premultiplied by it (format-spec §8.6).
    pub channels: usize,
    /// Latent dimension `D`.
    pub latent_dim: usize,
    /// Hidden width `H` of every sine layer.
    pub hidden: usize,
    /// Number of sine layers `L`.
    pub layers: usize,
    /// Number of leading sine layers that receive a latent shift (`1..=L`).
    pub modulated: usize,
    /// Frequency factor of the first sine layer.
    pub w0_first: f32,
    /// Frequency factor of the other sine layers.
    pub w0_hidden: f32,
    /// Function applied to every output value before it is mapped to 8 bits.
    pub output: Output,
}

/// The decoder's output function (format-spec §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// The last linear layer's values as they are (clamped to `[0, 1]` when mapped to 8 bits).
    #[default]
    Identity,
    /// The logistic sigmoid `1 / (1 + exp(-o))`: every value lies in `(0, 1)` and sharp
    /// transitions between dark and bright cost the network little, which suits near-binary
    /// images such as digits and line art.
    Logistic,
}

impl Output {
    /// The header code ([`OUTPUT_IDENTITY`] or [`OUTPUT_LOGISTIC`]).
    pub fn code(self) -> u8 {
        match self {
            Output::Identity => OUTPUT_IDENTITY,
            Output::Logistic => OUTPUT_LOGISTIC,
        }
    }

    /// The function with header code `code`, if it is one.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            OUTPUT_IDENTITY => Some(Output::Identity),
            OUTPUT_LOGISTIC => Some(Output::Logistic),
            _ => None,
        }
    }

    /// Applies the function to one output value.
    pub fn apply(self, o: f32) -> f32 {
        match self {
            Output::Identity => o,
            Output::Logistic => 1.0 / (1.0 + (-o).exp()),
        }
    }
}

impl ModelShape {
    /// Input width of sine layer `l` (2 coordinates for the first, `H` for the rest).
    pub fn layer_input(&self, l: usize) -> usize {
        if l == 0 {
            2
        } else {
            self.hidden
        }
    }

    /// Frequency factor of sine layer `l`.
    pub fn w0(&self, l: usize) -> f32 {
        if l == 0 {
            self.w0_first
        } else {
            self.w0_hidden
        }
    }

    /// Checks every field against the ranges of format-spec §2 (the one check shared by the
    /// reader, the writer and the command line): channels 1 to 4, latent dimension 1 to
    /// [`MAX_LATENT_DIM`], hidden width 1 to [`MAX_HIDDEN`], 1 to [`MAX_LAYERS`] layers,
    /// 1 to `layers` modulated layers, finite frequency factors.
    pub fn validate(&self) -> std::result::Result<(), ShapeError> {
        let bad = |field, message: String| Err(ShapeError { field, message });
        if !(1..=4).contains(&self.channels) {
            return bad(
                "channels",
                format!(
                    "channels {} (must be 1 grey, 2 grey + alpha, 3 RGB or 4 RGB + alpha)",
                    self.channels
                ),
            );
        }
        let ranges = [
            (
                "latent",
                "latent dimension",
                self.latent_dim,
                usize::from(MAX_LATENT_DIM),
            ),
            (
                "hidden",
                "hidden width",
                self.hidden,
                usize::from(MAX_HIDDEN),
            ),
            (
                "layers",
                "number of sine layers",
                self.layers,
                usize::from(MAX_LAYERS),
            ),
            (
                "modulated",
                "number of modulated layers",
                self.modulated,
                self.layers,
            ),
        ];
        for (field, what, value, max) in ranges {
            if !(1..=max).contains(&value) {
                return bad(field, format!("{what} {value} (must be 1 to {max})"));
            }
        }
        for (field, what, w0) in [
            ("w0", "w0 of the first layer", self.w0_first),
            ("w0-hidden", "w0 of the other layers", self.w0_hidden),
        ] {
            if !w0.is_finite() {
                return bad(field, format!("{what} is {w0} (must be finite)"));
            }
        }
        Ok(())
    }

    /// Number of stored parameters, including the `D` encoder step sizes. Valid shapes
    /// ([`Self::validate`]) have at most about 2^28.
    pub fn param_count(&self) -> u64 {
        let (h, d, c) = (
            self.hidden as u64,
            self.latent_dim as u64,
            self.channels as u64,
        );
        let sine: u64 = (0..self.layers)
            .map(|l| h * self.layer_input(l) as u64 + h)
            .sum();
        sine + self.modulated as u64 * h * d + c * h + c + d
    }

    /// Multiply-adds per evaluated point: every sine layer's weights and the output layer
    /// (the latent's shifts are paid once per latent, [`Self::macs_per_latent`]).
    pub fn macs_per_point(&self) -> u64 {
        let h = self.hidden as u64;
        let sine: u64 = (0..self.layers)
            .map(|l| h * self.layer_input(l) as u64)
            .sum();
        sine + self.channels as u64 * h
    }

    /// Multiply-adds per latent: the shifts `M_l z` of the modulated layers.
    pub fn macs_per_latent(&self) -> u64 {
        (self.modulated * self.hidden * self.latent_dim) as u64
    }

    /// The work of evaluating `points` points with `latents` latents: multiply-adds plus
    /// [`POINT_OVERHEAD`] per point (saturating). Work limits ([`crate::Limits`]) count this.
    pub fn work(&self, points: u64, latents: u64) -> u64 {
        points
            .saturating_mul(self.macs_per_point() + POINT_OVERHEAD)
            .saturating_add(latents.saturating_mul(self.macs_per_latent()))
    }
}

/// Takes parameters off the front of `flat` in storage order: each call returns the next `n`
/// (the caller has checked the total).
pub(crate) fn taker(flat: &[f32]) -> impl FnMut(usize) -> Vec<f32> + '_ {
    let mut rest = flat;
    move |n| {
        let (head, tail) = rest.split_at(n);
        rest = tail;
        head.to_vec()
    }
}

/// One sine layer: `h' = sin(w0 * (W h + b + M z))`.
#[derive(Debug, Clone, PartialEq)]
pub struct SineLayer {
    /// `W`, row-major `H x in`.
    pub weight: Vec<f32>,
    /// `b`, length `H`.
    pub bias: Vec<f32>,
    /// `M`, row-major `H x D`; present for the first `modulated` layers.
    pub modulation: Option<Vec<f32>>,
}

/// All decoder parameters plus the encoder's per-dimension step sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct DecoderWeights {
    /// The architecture.
    pub shape: ModelShape,
    /// Sine layers, first to last.
    pub layers: Vec<SineLayer>,
    /// Output weight, row-major `C x H`.
    pub out_weight: Vec<f32>,
    /// Output bias, length `C`.
    pub out_bias: Vec<f32>,
    /// Gradient-origin step sizes `alpha` (length `D`): `z = -alpha * grad`.
    pub step: Vec<f32>,
}

impl DecoderWeights {
    /// Builds weights from the flat parameter vector in storage order (see `format-spec.md`).
    pub fn from_flat(shape: ModelShape, flat: &[f32]) -> Result<Self> {
        if flat.len() as u64 != shape.param_count() {
            return Err(Error::Format(format!(
                "decoder has {} parameters, shape needs {}",
                flat.len(),
                shape.param_count()
            )));
        }
        let mut take = taker(flat);
        let (h, d, c) = (shape.hidden, shape.latent_dim, shape.channels);
        let layers = (0..shape.layers)
            .map(|l| {
                let weight = take(h * shape.layer_input(l));
                let bias = take(h);
                let modulation = (l < shape.modulated).then(|| take(h * d));
                SineLayer {
                    weight,
                    bias,
                    modulation,
                }
            })
            .collect();
        let out_weight = take(c * h);
        let out_bias = take(c);
        let step = take(d);
        Ok(DecoderWeights {
            shape,
            layers,
            out_weight,
            out_bias,
            step,
        })
    }

    /// The flat parameter vector in storage order.
    pub fn to_flat(&self) -> Vec<f32> {
        let mut flat = Vec::with_capacity(self.to_flat_len());
        for layer in &self.layers {
            flat.extend_from_slice(&layer.weight);
            flat.extend_from_slice(&layer.bias);
            if let Some(m) = &layer.modulation {
                flat.extend_from_slice(m);
            }
        }
        flat.extend_from_slice(&self.out_weight);
        flat.extend_from_slice(&self.out_bias);
        flat.extend_from_slice(&self.step);
        flat
    }

    fn to_flat_len(&self) -> usize {
        let layers: usize = self
            .layers
            .iter()
            .map(|l| l.weight.len() + l.bias.len() + l.modulation.as_ref().map_or(0, Vec::len))
            .sum();
        layers + self.out_weight.len() + self.out_bias.len() + self.step.len()
    }

    /// Rounds every parameter to binary16 and back, as a pack with f16 weights stores them.
    pub fn rounded_to_f16(&self) -> Self {
        let flat: Vec<f32> = self
            .to_flat()
            .into_iter()
            .map(|v| half::f16::from_f32(v).to_f32())
            .collect();
        Self::from_flat(self.shape, &flat).expect("same shape")
    }
}
