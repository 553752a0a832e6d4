//! The SIREN decoder as tch tensors: forward pass and conversion to and from pack weights.
use tch::{nn, Device, Kind, Tensor};

use crate::error::{Error, Result};
use gonpack::format::model::{DecoderWeights, ModelShape, Output, SineLayer};

/// A SIREN whose latent enters every modulated layer as an additive shift `M_l z`.
pub struct Siren {
    /// Owns the parameters (trainable when built by [`Siren::new`]).
    pub vs: nn::VarStore,
    shape: ModelShape,
    weight: Vec<Tensor>,
    bias: Vec<Tensor>,
    modulation: Vec<Tensor>,
    out_weight: Tensor,
    out_bias: Tensor,
    log_step: Tensor,
}

/// One parameter tensor of the decoder.
#[derive(Debug, Clone, Copy)]
enum Param {
    /// Weight of sine layer `l`.
    Weight(usize),
    /// Bias of sine layer `l`.
    Bias(usize),
    /// Latent modulation of sine layer `l`.
    Modulation(usize),
    /// Output layer weight.
    OutWeight,
    /// Output layer bias.
    OutBias,
    /// Log of the per-dimension encoder step sizes.
    LogStep,
}

impl Siren {
    /// A freshly initialised decoder (SIREN initialisation; output bias `out_bias_init`;
    /// encoder step sizes `step_init`).
    pub fn new(
        shape: ModelShape,
        device: Device,
        out_bias_init: f64,
        step_init: f64,
    ) -> Result<Self> {
        let uni = |b: f64| nn::Init::Uniform { lo: -b, up: b };
        let fan_in = |l: usize| shape.layer_input(l) as f64;
        let h = shape.hidden as f64;
        Self::build(shape, device, |vs, param, name, dims| {
            let init = match param {
                Param::Weight(0) => uni(1.0 / fan_in(0)),
                Param::Weight(l) => uni((6.0 / fan_in(l)).sqrt() / f64::from(shape.w0_hidden)),
                Param::Bias(l) => uni(1.0 / fan_in(l).sqrt() / 4.0),
                // A latent with unit entries shifts each sine's phase by about one radian.
                Param::Modulation(l) => {
                    uni((3.0 / shape.latent_dim as f64).sqrt() / f64::from(shape.w0(l)))
                }
                Param::OutWeight => uni((6.0 / h).sqrt() / f64::from(shape.w0_hidden)),
                Param::OutBias => nn::Init::Const(out_bias_init),
                Param::LogStep => nn::Init::Const(step_init.ln()),
            };
            Ok(vs.root().var(name, dims, init))
        })
    }

    /// A decoder holding exactly `w` (parameters do not require gradients).
    pub fn from_weights(w: &DecoderWeights, device: Device) -> Result<Self> {
        let log_step: Vec<f32> = w.step.iter().map(|a| a.ln()).collect();
        Self::build(w.shape, device, |_, param, name, dims| {
            let values = match param {
                Param::Weight(l) => &w.layers[l].weight,
                Param::Bias(l) => &w.layers[l].bias,
                Param::Modulation(l) => w.layers[l]
                    .modulation
                    .as_ref()
                    .ok_or_else(|| Error::usage(format!("decoder layer {l} has no {name}")))?,
                Param::OutWeight => &w.out_weight,
                Param::OutBias => &w.out_bias,
                Param::LogStep => &log_step,
            };
            Ok(Tensor::f_from_slice(values)?
                .f_reshape(dims)?
                .f_to(device)?)
        })
    }

    /// The decoder of `shape` with each parameter tensor made by `make(store, which, name,
    /// dims)`: the one place that knows the parameters' names, shapes and order.
    fn build(
        shape: ModelShape,
        device: Device,
        mut make: impl FnMut(&nn::VarStore, Param, &str, &[i64]) -> Result<Tensor>,
    ) -> Result<Self> {
        let vs = nn::VarStore::new(device);
        let (h, d, c) = (
            shape.hidden as i64,
            shape.latent_dim as i64,
            shape.channels as i64,
        );
        let mut weight = Vec::new();
        let mut bias = Vec::new();
        let mut modulation = Vec::new();
        for l in 0..shape.layers {
            let fan_in = shape.layer_input(l) as i64;
            weight.push(make(&vs, Param::Weight(l), &format!("w{l}"), &[h, fan_in])?);
            bias.push(make(&vs, Param::Bias(l), &format!("b{l}"), &[h])?);
            if l < shape.modulated {
                modulation.push(make(&vs, Param::Modulation(l), &format!("m{l}"), &[h, d])?);
            }
        }
        let out_weight = make(&vs, Param::OutWeight, "wo", &[c, h])?;
        let out_bias = make(&vs, Param::OutBias, "bo", &[c])?;
        let log_step = make(&vs, Param::LogStep, "log_step", &[d])?;
        Ok(Siren {
            vs,
            shape,
            weight,
            bias,
            modulation,
            out_weight,
            out_bias,
            log_step,
        })
    }

    /// Copies the parameters out in pack order.
    pub fn to_weights(&self) -> Result<DecoderWeights> {
        let v = |t: &Tensor| -> Result<Vec<f32>> {
            Ok(Vec::<f32>::try_from(
                t.f_detach()?.f_to(Device::Cpu)?.f_flatten(0, -1)?,
            )?)
        };
        let mut layers = Vec::new();
        for l in 0..self.shape.layers {
            layers.push(SineLayer {
                weight: v(&self.weight[l])?,
                bias: v(&self.bias[l])?,
                modulation: self.modulation.get(l).map(v).transpose()?,
            });
        }
        Ok(DecoderWeights {
            shape: self.shape,
            layers,
            out_weight: v(&self.out_weight)?,
            out_bias: v(&self.out_bias)?,
            step: v(&self.log_step.exp())?,
        })
    }

    /// The architecture.
    pub fn shape(&self) -> &ModelShape {
        &self.shape
    }

    /// Encoder step sizes `alpha = exp(log_step)`, shape `(D)`.
    pub fn step(&self) -> Tensor {
        self.log_step.exp()
    }

    /// Evaluates `F(coords, z)`: `coords (P, 2)`, `z (B, D)` -> outputs `(B, P, C)`.
    pub fn forward(&self, coords: &Tensor, z: &Tensor) -> Tensor {
        let s = &self.shape;
        let mut h = Tensor::new();
        for l in 0..s.layers {
            let pre = if l == 0 {
                coords
                    .linear(&self.weight[0], Some(&self.bias[0]))
                    .unsqueeze(0)
            } else {
                h.linear(&self.weight[l], Some(&self.bias[l]))
            };
            let pre = match self.modulation.get(l) {
                Some(m) => pre + z.matmul(&m.tr()).unsqueeze(1),
                None => pre,
            };
            h = (pre * f64::from(s.w0(l))).sin();
        }
        let o = h.linear(&self.out_weight, Some(&self.out_bias));
        match s.output {
            Output::Identity => o,
            Output::Logistic => o.sigmoid(),
        }
    }

    /// Per-image mean squared error, shape `(B)`, of `coords (P, S, 2)` against `target
    /// (B, P, C)`: each pixel's value is the mean output over its `S` points.
    pub fn per_image_mse(&self, coords: &Tensor, z: &Tensor, target: &Tensor) -> Tensor {
        let [p, s, _] = coords.size()[..] else {
            panic!("coordinates must be (P, S, 2)");
        };
        let out = self.forward(&coords.flatten(0, 1), z);
        let out = if s == 1 {
            out
        } else {
            let [b, _, c] = out.size()[..] else {
                unreachable!("forward returns (B, P, C)")
            };
            out.view([b, p, s, c])
                .mean_dim([2i64].as_slice(), false, Kind::Float)
        };
        (out - target)
            .square()
            .mean_dim([1i64, 2].as_slice(), false, Kind::Float)
    }
}
