//! The learned sampling kernels of a grid decoder ([`Sampling::Kernel`]) as tch tensors.
//!
//! A kernel is stored as its values at [`KERNEL_KNOTS`] distances (format-spec §11.6), but
//! training does not learn those values freely. At 1x a level is only ever sampled at a few
//! phases (the 16x16 level of a 32x32 image at distances ¼, ¾, 1¼ and 1¾), so free knots learn
//! there and keep their initial values elsewhere, and a larger decode, which samples every
//! phase, shows a lattice. Two constraints keep every phase consistent with the trained ones:
//! - **A partition of unity by construction.** The weights of the four taps of any sample sum
//!   to 1 (a flat level samples flat at every phase) and the kernel vanishes at distance 2 (it
//!   is continuous where a tap enters or leaves). Linear between knots, the sum is linear
//!   between the phases `m / P` (`P` knots per cell), so it holds everywhere when it holds at
//!   `m = 0 … P/2`: the knots `0 … P/2` are affine functions of the others (`unity_map`).
//! - **Smooth departures from Catmull-Rom.** [`Kernel::roughness`] (the squared second
//!   differences of the kernel's departure from Catmull-Rom's, mirrored about 0) joins the
//!   training loss, so the knots no phase trains settle between those it does, and a kernel no
//!   phase trains at all stays Catmull-Rom's: the full-resolution level, sampled at its own
//!   values at 1x, then interpolates at any other scale instead of blurring (the smoothest
//!   partition of unity, which plain roughness would lead it to, is a wide bump).
//!
//! [`Sampling::Kernel`]: gonpack::format::grid::Sampling::Kernel
use tch::{nn, Device, Kind, Tensor};

use gonpack::consts::{KERNEL_KNOTS, KERNEL_KNOTS_PER_CELL};
use gonpack::format::grid::initial_kernel;

/// Knots per value spacing, as an index step.
const PER_CELL: usize = KERNEL_KNOTS_PER_CELL as usize;
/// The first knot learned freely: the ones before it follow from the partition of unity.
const FIRST_FREE: usize = PER_CELL / 2 + 1;
/// Knots learned freely: from [`FIRST_FREE`] to the one before the last (which is 0).
const FREE: usize = KERNEL_KNOTS - 1 - FIRST_FREE;

/// Weight of [`Kernel::roughness`] in the training loss: small beside the error the trained
/// knots answer to (a jag of 0.1 at one knot costs 5 · 10⁻⁶, against squared errors near
/// 3 · 10⁻³), while the knots that only it moves still move at Adam's pace.
pub const ROUGHNESS_WEIGHT: f64 = 1e-4;

/// The sampling kernels of a decoder's levels.
#[derive(Debug)]
pub enum Kernel {
    /// Learned under the constraints above: the free knots `(L, FREE)` and the affine map to all
    /// knots (`unity_map`).
    Learned {
        /// The free knots.
        free: Tensor,
        /// `(FREE, KERNEL_KNOTS)`.
        map: Tensor,
        /// `(KERNEL_KNOTS)`.
        offset: Tensor,
    },
    /// As stored in a pack `(L, KERNEL_KNOTS)`, used exactly (frozen).
    Stored(Tensor),
}

/// The affine map from the free knots to all of them that makes a kernel a partition of unity
/// vanishing at distance 2: row-major `FREE x KERNEL_KNOTS` and the offset. Knot `m ≤ P/2` is
/// what makes the weights of phase `m / P`, at distances `1 + f, f, 1 - f, 2 - f`, i.e. knots
/// `P + m, m, P - m, 2P - m`, sum to 1 (knot `m` appears twice at `m = P/2`).
fn unity_map() -> (Vec<f32>, Vec<f32>) {
    let mut map = vec![0f32; FREE * KERNEL_KNOTS];
    let mut offset = vec![0f32; KERNEL_KNOTS];
    for i in 0..FREE {
        map[i * KERNEL_KNOTS + FIRST_FREE + i] = 1.0;
    }
    for m in 0..FIRST_FREE {
        let phase = [PER_CELL + m, m, PER_CELL - m, 2 * PER_CELL - m];
        let own = phase.iter().filter(|&&k| k == m).count() as f32;
        offset[m] = 1.0 / own;
        for k in phase
            .into_iter()
            .filter(|&k| k != m && k < KERNEL_KNOTS - 1)
        {
            map[(k - FIRST_FREE) * KERNEL_KNOTS + m] -= 1.0 / own;
        }
    }
    (map, offset)
}

impl Kernel {
    /// Kernels to learn for `levels` levels under `path`, starting at Catmull-Rom's
    /// ([`initial_kernel`], itself a partition of unity).
    pub fn learned(path: &nn::Path, levels: usize, device: Device) -> Self {
        let init = initial_kernel();
        let mut free = path.var(
            "kernel",
            &[levels as i64, FREE as i64],
            nn::Init::Const(0.0),
        );
        let start = init[FIRST_FREE..KERNEL_KNOTS - 1].repeat(levels);
        tch::no_grad(|| {
            free.copy_(
                &Tensor::from_slice(&start)
                    .view([levels as i64, FREE as i64])
                    .to(device),
            )
        });
        let (map, offset) = unity_map();
        Kernel::Learned {
            free,
            map: Tensor::from_slice(&map)
                .view([FREE as i64, KERNEL_KNOTS as i64])
                .to(device),
            offset: Tensor::from_slice(&offset).to(device),
        }
    }

    /// The knots `(L, KERNEL_KNOTS)`.
    pub fn knots(&self) -> Tensor {
        match self {
            Kernel::Learned { free, map, offset } => free.matmul(map) + offset,
            Kernel::Stored(knots) => knots.shallow_clone(),
        }
    }

    /// Sum over levels of the squared second differences of the knots' departure from
    /// Catmull-Rom's ([`initial_kernel`]), mirrored about distance 0 and zero past distance 2
    /// (a scalar).
    pub fn roughness(&self) -> Tensor {
        let k = self.knots();
        let (levels, device) = (k.size()[0], k.device());
        let k = k - Tensor::from_slice(&initial_kernel()).to(device);
        let mirror = k.narrow(1, 1, 1);
        let past = Tensor::zeros([levels, 1], (Kind::Float, device));
        let e = Tensor::cat(&[&mirror, &k, &past], 1);
        let n = e.size()[1];
        let d2 = e.narrow(1, 0, n - 2) - e.narrow(1, 1, n - 2) * 2.0 + e.narrow(1, 2, n - 2);
        d2.square().sum(Kind::Float)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gonpack::format::grid::{kernel_taps, kernel_value};

    #[test]
    fn learned_kernels_start_at_catmull_rom_and_stay_partitions_of_unity() {
        let vs = nn::VarStore::new(Device::Cpu);
        let kernel = Kernel::learned(&vs.root(), 2, Device::Cpu);
        let knots = Vec::<f32>::try_from(kernel.knots().flatten(0, -1)).unwrap();
        let init = initial_kernel();
        for (a, b) in knots.chunks(KERNEL_KNOTS).flat_map(|k| k.iter().zip(&init)) {
            assert!((a - b).abs() < 1e-6, "{a} against {b}");
        }
        // Arbitrary free knots: the weights of every phase still sum to 1 and the last is 0.
        if let Kernel::Learned { free, .. } = &kernel {
            tch::no_grad(|| {
                free.shallow_clone().copy_(
                    &Tensor::from_slice(&[
                        0.31f32, -0.2, 0.17, 0.4, -0.05, 0.9, 0.1, -0.3, 0.22, 0.03,
                    ])
                    .view([2, FREE as i64]),
                );
            });
        }
        let knots = Vec::<f32>::try_from(kernel.knots().flatten(0, -1)).unwrap();
        for k in knots.chunks(KERNEL_KNOTS) {
            assert_eq!(k[KERNEL_KNOTS - 1], 0.0);
            for i in 0..40 {
                let (_, d) = kernel_taps(i, 40, 7);
                let sum: f64 = d.iter().map(|&d| kernel_value(k, d)).sum();
                assert!((sum - 1.0).abs() < 1e-5, "sample {i}: weights sum to {sum}");
            }
        }
        // Roughness is measured from Catmull-Rom: none there, a smooth departure costs far
        // less than a single knot's.
        let stored = |f: &dyn Fn(usize) -> f32| {
            let k: Vec<f32> = (0..KERNEL_KNOTS).map(|i| init[i] + f(i)).collect();
            let k = Kernel::Stored(Tensor::from_slice(&k).view([1, KERNEL_KNOTS as i64]));
            k.roughness().double_value(&[])
        };
        assert_eq!(stored(&|_| 0.0), 0.0);
        let smooth = stored(&|i| 0.1 * (1.0 - i as f32 / 8.0));
        let jagged = stored(&|i| if i == 0 { 0.1 } else { 0.0 });
        assert!(smooth < 0.25 * jagged, "{smooth} {jagged}");
    }
}
