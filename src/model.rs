//! The decoder's shape and weights in plain `f32` arrays, in the order the format stores them.
use crate::consts::{OUTPUT_IDENTITY, OUTPUT_LOGISTIC};
use crate::error::{Error, Result};

/// Hyper-parameters that fix the decoder's architecture (all stored in the pack header).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelShape {
    /// Output channels: 1 (grey) or 3 (RGB).
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

    /// Number of stored parameters, including the `D` encoder step sizes.
    pub fn param_count(&self) -> usize {
        let (h, d) = (self.hidden, self.latent_dim);
        let sine: usize = (0..self.layers).map(|l| h * self.layer_input(l) + h).sum();
        sine + self.modulated * h * d + self.channels * h + self.channels + d
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
        if flat.len() != shape.param_count() {
            return Err(Error::Format(format!(
                "decoder has {} parameters, shape needs {}",
                flat.len(),
                shape.param_count()
            )));
        }
        let mut rest = flat;
        let mut take = |n: usize| {
            let (head, tail) = rest.split_at(n);
            rest = tail;
            head.to_vec()
        };
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
        let mut flat = Vec::with_capacity(self.shape.param_count());
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
