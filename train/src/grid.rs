//! The latent-grid decoder (format versions 5 and 6) as tch tensors: the synthesis network, the
//! sampling of each level (as interpolation matrices built from
//! [`gonpack::format::grid::taps`] or [`gonpack::format::grid::kernel_taps`], so training and
//! the pure-Rust renderer sample identically),
//! gradient-origin derivation of an image's grids, and the rate model.
//!
//! An image's grids are `K` gradient steps from the zero grids on its own reconstruction
//! error `D_i` (sum over pixels of the mean over channels of the squared error), level `l`
//! moving by `-alpha_{k,l} p_l s_l grad_l D_i` (`s_l` the plane's values per pixel, `p_l` 1 or
//! the preconditioner, the inverse squared norm of the plane's input weights); training
//! back-propagates through those steps. Codes are
//! `round(v_l g_l)`; in training, rounding is modelled by additive uniform noise (on photos the
//! two finest levels are rounded instead, gradients passed straight through:
//! [`crate::grid_encode::training_inputs`]) and the rate
//! by the context model the packs are coded with (format-spec §12.7): each code's Laplace has
//! the mean its causal neighbours predict and the scale of their activity bucket, integrated
//! over the code's unit bin: the law of the phased context coding the writer codes with
//! (format-spec §12.8), so codes refined under fitted context models are priced as written.
use tch::{nn, Device, Kind, Tensor};

use crate::error::Result;
use crate::kernel::Kernel;
use gonpack::consts::{CONTEXT_BUCKETS, CONTEXT_NEIGHBOURS, KERNEL_KNOTS};
use gonpack::format::context::ContextModel;
use gonpack::format::grid::{
    coordinate, fourier, kernel_taps, knot_position, taps, Dense, GridShape, GridWeights, Sampling,
};
use gonpack::format::model::Output;

/// Smallest squared input-weight norm the preconditioner divides by, relative to its value at
/// initialisation (so it multiplies a step by at most its inverse).
const PRECONDITIONER_FLOOR: f64 = 1e-3;

/// A grid decoder with its rate model.
pub struct GridNet {
    /// Owns the parameters (trainable when built by [`GridNet::new`]).
    pub vs: nn::VarStore,
    shape: GridShape,
    weight: Vec<Tensor>,
    bias: Vec<Tensor>,
    out_weight: Tensor,
    out_bias: Tensor,
    linear: Tensor,
    log_steps: Tensor,
    log_gains: Tensor,
    /// Context prediction weights `(G, 4)`.
    context: Tensor,
    /// Log Laplace scale of each plane's activity buckets `(G, 8)`.
    log_scales: Tensor,
    /// Whether the steps are preconditioned ([`GridNet::new`]).
    precondition: bool,
    /// Sampling kernels ([`Sampling::Kernel`]).
    kernel: Option<Kernel>,
}

/// The rate model of the codes: per plane, the context model's prediction weights and each
/// activity bucket's scale in code units (format-spec §12.7).
#[derive(Debug, Clone, PartialEq)]
pub struct RateModel {
    /// Weights of the left, up, up-left and up-right codes, per plane.
    pub weights: Vec<[f32; CONTEXT_NEIGHBOURS]>,
    /// Scale of each bucket, per plane.
    pub scales: Vec<[f32; CONTEXT_BUCKETS]>,
}

impl RateModel {
    /// The rate model that fitted phased context models stand for: their weights, and for a
    /// bucket whose Laplace falls off by the ratio `r` per unit the scale `-1 / ln r`.
    pub fn of_context(models: &[ContextModel]) -> Self {
        RateModel {
            weights: models.iter().map(|m| m.weights).collect(),
            scales: models
                .iter()
                .map(|m| m.buckets.map(|b| (-1.0 / f64::from(b.ratio).ln()) as f32))
                .collect(),
        }
    }
}

/// The causal neighbours of every code of `y` `(B, h, w)`: left, up, up-left, up-right (0
/// outside the grid), each shaped like `y`.
fn neighbours(y: &Tensor) -> [Tensor; CONTEXT_NEIGHBOURS] {
    let (h, w) = (y.size()[1], y.size()[2]);
    let p = y.constant_pad_nd([1, 1, 1, 0]);
    let at = |dy: i64, dx: i64| p.narrow(1, dy, h).narrow(2, dx, w);
    [at(1, 0), at(0, 1), at(0, 0), at(0, 2)]
}

/// Each code's activity bucket `min(7, bit length of 2|n_0| + 2|n_1| + |n_2| + |n_3|)` from
/// its rounded neighbours `n`, as `i64` indices shaped like them (format-spec §12.7).
fn buckets(n: &[Tensor; CONTEXT_NEIGHBOURS]) -> Tensor {
    tch::no_grad(|| {
        let a = |t: &Tensor| t.round().abs();
        let activity = a(&n[0]) * 2.0 + a(&n[1]) * 2.0 + a(&n[2]) + a(&n[3]);
        let length = activity.clamp_min(1.0).log2().floor() + 1.0;
        length
            .where_self(&activity.gt(0.5), &activity.zeros_like())
            .clamp_max((CONTEXT_BUCKETS - 1) as f64)
            .to_kind(Kind::Int64)
    })
}

/// What a batch of images of one size shares: the interpolation matrices of each level and
/// the coordinate features of the points the decoder is evaluated at.
pub struct SizeContext {
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Points per pixel side: each pixel is the mean of the decoder at `s x s` points, the
    /// pixel centres of the image rendered `s` times larger (1: the pixel's centre).
    supersample: u32,
    /// Per level: `(A_y, A_x)`, `sH x h_l` and `sW x w_l` (`None` where the level has the
    /// points' size).
    interp: Vec<Option<(Tensor, Tensor)>>,
    /// Fourier features, `(s^2 H W, 4 Q)`.
    features: Tensor,
    /// Per plane, its values over the image's pixels (`w_l h_l / (W H)`): gradient steps are
    /// scaled by it, so a value moves by the mean error gradient over the pixels it reaches,
    /// whatever the image's size.
    share: Vec<f64>,
}

/// How sample `i` of `n` weighs an axis's `g` values, as a row-major matrix: bilinear, `n x g`
/// ([`taps`]); with a kernel, `KERNEL_KNOTS x n x g`, one matrix per knot holding the share of
/// that knot's value in each weight ([`kernel_taps`], [`knot_position`]), so that the kernel's
/// matrix is the sum of these weighted by its knots, differentiable in them. An axis with a
/// value per sample (`n = g`) takes each sample's own value under either sampling (the
/// identity, `n x n`).
fn interpolation(sampling: Sampling, n: u32, g: u32, device: Device) -> Tensor {
    let (ni, gi) = (i64::from(n), i64::from(g));
    match sampling {
        Sampling::Bilinear | Sampling::Kernel if n == g => Tensor::eye(ni, (Kind::Float, device)),
        Sampling::Bilinear => {
            let mut m = vec![0f32; (n * g) as usize];
            for i in 0..n {
                let (i0, i1, f) = taps(i, n, g);
                m[(i * g + i0) as usize] += 1.0 - f;
                m[(i * g + i1) as usize] += f;
            }
            Tensor::from_slice(&m).view([ni, gi]).to(device)
        }
        Sampling::Kernel => {
            let per = (n * g) as usize;
            let mut m = vec![0f32; KERNEL_KNOTS * per];
            for i in 0..n {
                let (index, distance) = kernel_taps(i, n, g);
                for (j, d) in index.into_iter().zip(distance) {
                    let (k, a) = knot_position(d);
                    let at = (i * g + j) as usize;
                    m[k * per + at] += (1.0 - a) as f32;
                    m[(k + 1) * per + at] += a as f32;
                }
            }
            Tensor::from_slice(&m)
                .view([KERNEL_KNOTS as i64, ni, gi])
                .to(device)
        }
    }
}

impl SizeContext {
    /// The context of `width x height` images under `shape`, each pixel its centre.
    pub fn new(shape: &GridShape, width: u32, height: u32, device: Device) -> Self {
        Self::supersampled(shape, width, height, 1, device)
    }

    /// The context of `width x height` images whose pixels are each the mean of the decoder
    /// at `supersample x supersample` points (the area model of super-resolution: an image
    /// encoded so decodes at `supersample` times its size as a picture whose block means are
    /// the image).
    pub fn supersampled(
        shape: &GridShape,
        width: u32,
        height: u32,
        supersample: u32,
        device: Device,
    ) -> Self {
        let (pw, ph) = (width * supersample, height * supersample);
        let interp = (0..shape.planes())
            .map(|l| {
                let (w, h) = shape.plane_size(l, width, height);
                ((w, h) != (pw, ph)).then(|| {
                    (
                        interpolation(shape.sampling, ph, h, device),
                        interpolation(shape.sampling, pw, w, device),
                    )
                })
            })
            .collect();
        let q = shape.frequencies;
        let mut feats = vec![0f32; (pw * ph) as usize * 4 * q];
        if q > 0 {
            for (p, f) in feats.chunks_exact_mut(4 * q).enumerate() {
                let (x, y) = ((p as u32) % pw, (p as u32) / pw);
                fourier(coordinate(x, pw), coordinate(y, ph), q, f);
            }
        }
        let features = Tensor::from_slice(&feats)
            .view([i64::from(pw * ph), 4 * q as i64])
            .to(device);
        let pixels = f64::from(width) * f64::from(height);
        let share = (0..shape.planes())
            .map(|l| {
                let (w, h) = shape.plane_size(l, width, height);
                f64::from(w) * f64::from(h) / pixels
            })
            .collect();
        SizeContext {
            width,
            height,
            supersample,
            interp,
            features,
            share,
        }
    }

    /// Pixels per image.
    pub fn pixels(&self) -> i64 {
        i64::from(self.width) * i64::from(self.height)
    }

    /// Zero grids for `b` images, one tensor `(B, h_l, w_l)` per level.
    pub fn zero_grids(&self, shape: &GridShape, b: i64, device: Device) -> Vec<Tensor> {
        (0..shape.planes())
            .map(|l| {
                let (w, h) = shape.plane_size(l, self.width, self.height);
                Tensor::zeros([b, i64::from(h), i64::from(w)], (Kind::Float, device))
            })
            .collect()
    }
}

impl GridNet {
    /// A freshly initialised decoder: sine layers of unit frequency, output bias
    /// `out_bias_init`, step sizes `step_init · 4^l` for level `l` (a value of level `l`
    /// reaches about `4^l` pixels; global latents as the coarsest level), gains `2^l` (coarse
    /// levels touch more pixels and get finer bins), rate scales of 2 codes. With
    /// `precondition`, each plane's steps are also divided by the squared norm of its input
    /// weights (first layer and linear branch), relative to that norm at initialisation: a
    /// plane's gradient scales with those weights, so the change a step brings to the
    /// network's input no longer depends on them. Without it a plane the network starts to
    /// ignore gets smaller gradients, smaller values and more relative rounding noise, so is
    /// ignored more: the full-resolution level dies that way and quality saturates.
    pub fn new(
        shape: GridShape,
        device: Device,
        out_bias_init: f64,
        step_init: f64,
        precondition: bool,
    ) -> Result<Self> {
        let uni = |b: f64| nn::Init::Uniform { lo: -b, up: b };
        let fan_in = |l: usize| shape.layer_input(l) as f64;
        let h = shape.hidden as f64;
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let var = |name: &str, dims: &[i64], init| root.var(name, dims, init);
        let (hh, c, l) = (
            shape.hidden as i64,
            shape.channels as i64,
            shape.planes() as i64,
        );
        let mut weight = Vec::new();
        let mut bias = Vec::new();
        for k in 0..shape.layers {
            let fi = fan_in(k);
            weight.push(var(
                &format!("w{k}"),
                &[hh, fi as i64],
                uni((3.0 / fi).sqrt()),
            ));
            bias.push(var(&format!("b{k}"), &[hh], uni(1.0 / fi.sqrt())));
        }
        let out_weight = var("out_w", &[c, hh], uni((3.0 / h).sqrt() / 4.0));
        let out_bias = var("out_b", &[c], nn::Init::Const(out_bias_init));
        let linear = var("linear", &[c, l], nn::Init::Const(0.0));
        let mut log_steps = var("log_steps", &[shape.steps as i64, l], nn::Init::Const(0.0));
        let steps: Vec<f32> = (0..shape.steps * shape.planes())
            .map(|k| {
                let level = (k % shape.planes()).min(shape.levels - 1);
                (step_init * 4f64.powi(level as i32)).ln() as f32
            })
            .collect();
        tch::no_grad(|| {
            log_steps.copy_(
                &Tensor::from_slice(&steps)
                    .view([shape.steps as i64, l])
                    .to(device),
            )
        });
        let gains: Vec<f32> = (0..shape.planes())
            .map(|k| ((1u32 << k.min(shape.levels - 1)) as f32).ln())
            .collect();
        let mut log_gains = var("log_gains", &[l], nn::Init::Const(0.0));
        tch::no_grad(|| log_gains.copy_(&Tensor::from_slice(&gains).to(device)));
        let context = var(
            "context",
            &[l, CONTEXT_NEIGHBOURS as i64],
            nn::Init::Const(0.0),
        );
        let log_scales = var(
            "log_scales",
            &[l, CONTEXT_BUCKETS as i64],
            nn::Init::Const(2f64.ln()),
        );
        let kernel = (shape.sampling == Sampling::Kernel)
            .then(|| Kernel::learned(&root, shape.levels, device));
        Ok(GridNet {
            vs,
            shape,
            weight,
            bias,
            out_weight,
            out_bias,
            linear,
            log_steps,
            log_gains,
            context,
            log_scales,
            precondition,
            kernel,
        })
    }

    /// A decoder holding exactly `w` (frozen), with the rate model `rate`.
    pub fn from_weights(w: &GridWeights, rate: &RateModel, device: Device) -> Result<Self> {
        let t = |v: &[f32], dims: &[i64]| Tensor::from_slice(v).view(dims).to(device);
        let s = w.shape;
        let (h, c, l) = (s.hidden as i64, s.channels as i64, s.planes() as i64);
        let ln = |v: &[f32]| v.iter().map(|x| x.ln()).collect::<Vec<f32>>();
        Ok(GridNet {
            vs: nn::VarStore::new(device),
            shape: s,
            weight: w
                .hidden
                .iter()
                .enumerate()
                .map(|(k, d)| t(&d.weight, &[h, s.layer_input(k) as i64]))
                .collect(),
            bias: w.hidden.iter().map(|d| t(&d.bias, &[h])).collect(),
            out_weight: t(&w.out.weight, &[c, h]),
            out_bias: t(&w.out.bias, &[c]),
            linear: t(&w.linear, &[c, l]),
            log_steps: t(&ln(&w.steps), &[s.steps as i64, l]),
            log_gains: t(&ln(&w.gains), &[l]),
            context: t(&rate.weights.concat(), &[l, CONTEXT_NEIGHBOURS as i64]),
            log_scales: t(&ln(&rate.scales.concat()), &[l, CONTEXT_BUCKETS as i64]),
            // The stored steps are the effective ones: frozen, nothing to precondition.
            precondition: false,
            kernel: (s.sampling == Sampling::Kernel)
                .then(|| Kernel::Stored(t(&w.kernel, &[s.levels as i64, KERNEL_KNOTS as i64]))),
        })
    }

    /// Per plane, the inverse of its input weights' squared norm relative to its value at
    /// initialisation ([`GridNet::new`]).
    fn preconditioner(&self) -> Tensor {
        let l = self.shape.planes() as i64;
        let init = self.shape.hidden as f64 / self.shape.inputs() as f64;
        let norm = self.weight[0]
            .narrow(1, 0, l)
            .square()
            .sum_dim_intlist(0, false, Kind::Float)
            + self.linear.square().sum_dim_intlist(0, false, Kind::Float);
        (norm + init * PRECONDITIONER_FLOOR).reciprocal() * init
    }

    /// Step sizes `(K, L)` of the gradient-origin steps: the learned sizes, times the
    /// preconditioner if the decoder has one.
    fn steps(&self) -> Tensor {
        let steps = self.log_steps.exp();
        if self.precondition {
            steps * self.preconditioner().unsqueeze(0)
        } else {
            steps
        }
    }

    /// The weights as the format stores them.
    pub fn to_weights(&self) -> Result<GridWeights> {
        let v = |t: &Tensor| -> Result<Vec<f32>> {
            Ok(Vec::<f32>::try_from(
                t.detach().to(Device::Cpu).flatten(0, -1),
            )?)
        };
        let hidden = self
            .weight
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| {
                Ok(Dense {
                    weight: v(w)?,
                    bias: v(b)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(GridWeights {
            shape: self.shape,
            hidden,
            out: Dense {
                weight: v(&self.out_weight)?,
                bias: v(&self.out_bias)?,
            },
            linear: v(&self.linear)?,
            steps: v(&self.steps())?,
            gains: v(&self.log_gains.exp())?,
            kernel: match &self.kernel {
                Some(k) => v(&k.knots())?,
                None => Vec::new(),
            },
        })
    }

    /// The rate model (what encoding more images needs besides the stored decoder).
    pub fn rate_model(&self) -> Result<RateModel> {
        let rows = |t: Tensor| -> Result<Vec<f32>> {
            Ok(Vec::<f32>::try_from(
                t.detach().to(Device::Cpu).flatten(0, -1),
            )?)
        };
        let weights = rows(self.context.shallow_clone())?;
        let scales = rows(self.log_scales.exp())?;
        Ok(RateModel {
            weights: weights
                .chunks_exact(CONTEXT_NEIGHBOURS)
                .map(|c| c.try_into().expect("4 values"))
                .collect(),
            scales: scales
                .chunks_exact(CONTEXT_BUCKETS)
                .map(|c| c.try_into().expect("8 values"))
                .collect(),
        })
    }

    /// The roughness of the learned sampling kernels ([`Kernel::roughness`]), to add to the
    /// training loss; `None` without kernels.
    pub fn kernel_roughness(&self) -> Option<Tensor> {
        self.kernel.as_ref().map(Kernel::roughness)
    }

    /// The architecture.
    pub fn shape(&self) -> &GridShape {
        &self.shape
    }

    /// Decoder outputs `(B, P, C)` for level values `grids` (one `(B, h_l, w_l)` per level):
    /// per pixel, the mean over its points, each clamped to `[0, 1]` as a render's samples
    /// are (the clamp only where there are several points).
    pub fn forward(&self, ctx: &SizeContext, grids: &[Tensor]) -> Tensor {
        let s = i64::from(ctx.supersample);
        let out = self.at_points(ctx, grids);
        if s == 1 {
            return out;
        }
        let out = out.clamp(0.0, 1.0);
        let (b, c) = (out.size()[0], out.size()[2]);
        let (w, h) = (i64::from(ctx.width), i64::from(ctx.height));
        out.view([b, h, s, w, s, c])
            .mean_dim(&[2i64, 4][..], false, Kind::Float)
            .reshape([b, h * w, c])
    }

    /// Decoder outputs `(B, s^2 P, C)` at the context's points, row-major.
    // `+=` on tch tensors adds in place (`add_`), which the graph of the gradient-origin steps
    // must not see: the sums below make new tensors.
    #[allow(clippy::assign_op_pattern)]
    fn at_points(&self, ctx: &SizeContext, grids: &[Tensor]) -> Tensor {
        let b = grids[0].size()[0];
        let p = ctx.features.size()[0];
        let (nl, ng) = (self.shape.levels as i64, self.shape.global as i64);
        let knots = self.kernel.as_ref().map(Kernel::knots);
        let levels: Vec<Tensor> = grids[..self.shape.levels]
            .iter()
            .zip(&ctx.interp)
            .enumerate()
            .map(|(l, (g, m))| match (m, &knots) {
                // One matrix per knot: the kernel's matrices are their sums weighted by it.
                (Some((ay, ax)), Some(k)) => {
                    let k = k.get(l as i64).view([-1, 1, 1]);
                    let of = |a: &Tensor| match a.dim() {
                        3 => (&k * a).sum_dim_intlist(0, false, Kind::Float),
                        _ => a.shallow_clone(),
                    };
                    of(ay).matmul(g).matmul(&of(ax).tr()).reshape([b, p])
                }
                (Some((ay, ax)), None) => ay.matmul(g).matmul(&ax.tr()).reshape([b, p]),
                (None, _) => g.reshape([b, p]),
            })
            .collect();
        let lv = Tensor::stack(&levels, 2); // (B, P, L)
                                            // The first layer and the linear branch by parts (the same function as on the
                                            // concatenated inputs, far fewer operations): the levels per point, the coordinate
                                            // features once for all images, the global latents once per image.
        let w0 = &self.weight[0];
        let mut pre = lv.matmul(&w0.narrow(1, 0, nl).tr()) + &self.bias[0];
        let mut linear = lv.matmul(&self.linear.narrow(1, 0, nl).tr());
        let q = ctx.features.size()[1];
        if q > 0 {
            pre = pre
                + ctx
                    .features
                    .matmul(&w0.narrow(1, nl + ng, q).tr())
                    .unsqueeze(0);
        }
        if ng > 0 {
            let globals: Vec<Tensor> = grids[self.shape.levels..]
                .iter()
                .map(|g| g.reshape([b, 1]))
                .collect();
            let zg = Tensor::cat(&globals, 1); // (B, G)
            pre = pre + zg.matmul(&w0.narrow(1, nl, ng).tr()).unsqueeze(1);
            linear = linear + zg.matmul(&self.linear.narrow(1, nl, ng).tr()).unsqueeze(1);
        }
        let mut a = pre.sin();
        for (w, bias) in self.weight[1..].iter().zip(&self.bias[1..]) {
            a = (a.matmul(&w.tr()) + bias).sin();
        }
        let out = a.matmul(&self.out_weight.tr()) + &self.out_bias + linear;
        match self.shape.output {
            Output::Identity => out,
            Output::Logistic => out.sigmoid(),
        }
    }

    /// Per-image reconstruction error `D_i`: sum over pixels of the mean over channels of the
    /// squared error against `targets` `(B, P, C)`; shape `(B,)`.
    pub fn errors(&self, ctx: &SizeContext, grids: &[Tensor], targets: &Tensor) -> Tensor {
        (self.forward(ctx, grids) - targets)
            .square()
            .mean_dim(2, false, Kind::Float)
            .sum_dim_intlist(1, false, Kind::Float)
    }

    /// The grids `K` gradient steps from the origin; `train` keeps the graph for second-order
    /// training, otherwise the result is detached.
    pub fn derive(&self, ctx: &SizeContext, targets: &Tensor, train: bool) -> Vec<Tensor> {
        let b = targets.size()[0];
        let steps = self.steps();
        let mut z: Vec<Tensor> = ctx
            .zero_grids(&self.shape, b, targets.device())
            .into_iter()
            .map(|t| t.set_requires_grad(true))
            .collect();
        for k in 0..self.shape.steps {
            let loss = self.errors(ctx, &z, targets).sum(Kind::Float);
            let refs: Vec<&Tensor> = z.iter().collect();
            let grads = Tensor::run_backward(&[&loss], &refs, train, train);
            z = z
                .iter()
                .zip(&grads)
                .enumerate()
                .map(|(l, (zl, g))| {
                    let next = zl - steps.get(k as i64).get(l as i64) * g * ctx.share[l];
                    if train {
                        next
                    } else {
                        next.detach().set_requires_grad(k + 1 < self.shape.steps)
                    }
                })
                .collect();
        }
        if train {
            z
        } else {
            z.into_iter().map(|t| t.detach()).collect()
        }
    }

    /// Level values as codes `v g` (continuous).
    pub fn to_codes(&self, grids: &[Tensor]) -> Vec<Tensor> {
        let gains = self.log_gains.exp();
        grids
            .iter()
            .enumerate()
            .map(|(l, g)| g * gains.get(l as i64))
            .collect()
    }

    /// Level values that codes `y` stand for, `y / g`.
    pub fn from_codes(&self, codes: &[Tensor]) -> Vec<Tensor> {
        let gains = self.log_gains.exp();
        codes
            .iter()
            .enumerate()
            .map(|(l, y)| y / gains.get(l as i64))
            .collect()
    }

    /// Bits of (noisy or integer) codes `y` under the context model, per image `(B,)`: each
    /// code's residual from the mean `Σ w_i n_i` of its neighbours, priced by a Laplace of its
    /// activity bucket's scale integrated over the code's unit bin.
    pub fn bits(&self, codes: &[Tensor]) -> Tensor {
        let scales = self.log_scales.exp();
        let mut total: Option<Tensor> = None;
        for (l, y) in codes.iter().enumerate() {
            let n = neighbours(y);
            let w = self.context.get(l as i64);
            let mean = n
                .iter()
                .enumerate()
                .map(|(i, t)| t * w.get(i as i64))
                .reduce(|a, b| a + b)
                .expect("four neighbours");
            let b = scales
                .get(l as i64)
                .index_select(0, &buckets(&n).flatten(0, -1))
                .view_as(y);
            let cdf = |v: Tensor| -> Tensor {
                let e = (-(v.abs()) / &b).exp();
                (v.sign() * (1.0 - e) + 1.0) * 0.5
            };
            let r = y - mean;
            let bits = -(cdf(&r + 0.5) - cdf(&r - 0.5))
                .clamp_min(1.0 / 65536.0)
                .log2();
            let bits = bits.flatten(1, -1).sum_dim_intlist(1, false, Kind::Float);
            total = Some(match total {
                Some(t) => t + bits,
                None => bits,
            });
        }
        total.expect("at least one level")
    }
}
