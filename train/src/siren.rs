//! The SIREN decoder as tch tensors: forward pass and conversion to and from pack weights.
use tch::{nn, Device, Kind, Tensor};

use crate::error::Result;
use gonpack::model::{DecoderWeights, ModelShape, Output, SineLayer};

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

impl Siren {
    /// A freshly initialised decoder (SIREN initialisation; output bias `out_bias_init`;
    /// encoder step sizes `step_init`).
    pub fn new(shape: ModelShape, device: Device, out_bias_init: f64, step_init: f64) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let (h, d) = (shape.hidden as i64, shape.latent_dim as i64);
        let mut weight = Vec::new();
        let mut bias = Vec::new();
        let mut modulation = Vec::new();
        for l in 0..shape.layers {
            let fan_in = shape.layer_input(l) as f64;
            let bound = if l == 0 {
                1.0 / fan_in
            } else {
                (6.0 / fan_in).sqrt() / f64::from(shape.w0_hidden)
            };
            let uni = |b: f64| nn::Init::Uniform { lo: -b, up: b };
            weight.push(root.var(&format!("w{l}"), &[h, fan_in as i64], uni(bound)));
            bias.push(root.var(&format!("b{l}"), &[h], uni(1.0 / fan_in.sqrt() / 4.0)));
            if l < shape.modulated {
                // A latent with unit entries shifts each sine's phase by about one radian.
                let mb = (3.0 / shape.latent_dim as f64).sqrt() / f64::from(shape.w0(l));
                modulation.push(root.var(&format!("m{l}"), &[h, d], uni(mb)));
            }
        }
        let c = shape.channels as i64;
        let ob = (6.0 / h as f64).sqrt() / f64::from(shape.w0_hidden);
        let out_weight = root.var("wo", &[c, h], nn::Init::Uniform { lo: -ob, up: ob });
        let out_bias = root.var("bo", &[c], nn::Init::Const(out_bias_init));
        let log_step = root.var("log_step", &[d], nn::Init::Const(step_init.ln()));
        Siren {
            vs,
            shape,
            weight,
            bias,
            modulation,
            out_weight,
            out_bias,
            log_step,
        }
    }

    /// A decoder holding exactly `w` (parameters do not require gradients).
    pub fn from_weights(w: &DecoderWeights, device: Device) -> Result<Self> {
        let s = w.shape;
        let t = |v: &[f32], dims: &[i64]| -> Result<Tensor> {
            Ok(Tensor::f_from_slice(v)?.f_reshape(dims)?.f_to(device)?)
        };
        let (h, d, c) = (s.hidden as i64, s.latent_dim as i64, s.channels as i64);
        let mut weight = Vec::new();
        let mut bias = Vec::new();
        let mut modulation = Vec::new();
        for (l, layer) in w.layers.iter().enumerate() {
            weight.push(t(&layer.weight, &[h, s.layer_input(l) as i64])?);
            bias.push(t(&layer.bias, &[h])?);
            if let Some(m) = &layer.modulation {
                modulation.push(t(m, &[h, d])?);
            }
        }
        let step: Vec<f32> = w.step.iter().map(|a| a.ln()).collect();
        Ok(Siren {
            vs: nn::VarStore::new(device),
            shape: s,
            weight,
            bias,
            modulation,
            out_weight: t(&w.out_weight, &[c, h])?,
            out_bias: t(&w.out_bias, &[c])?,
            log_step: t(&step, &[d])?,
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
