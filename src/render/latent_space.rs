//! Walking the latent space: interpolation between two images and sampling new ones.
use nalgebra::DMatrix;
use rand::Rng;
use rand_distr::StandardNormal;

/// Spherical interpolation from `a` (t = 0) to `b` (t = 1); linear when they are parallel.
pub fn slerp(a: &[f32], b: &[f32], t: f32) -> Vec<f32> {
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let omega = (dot / (na * nb).max(f64::MIN_POSITIVE))
        .clamp(-1.0, 1.0)
        .acos();
    let t = f64::from(t);
    let (wa, wb) = if omega.sin().abs() < 1e-6 {
        (1.0 - t, t)
    } else {
        (
            ((1.0 - t) * omega).sin() / omega.sin(),
            (t * omega).sin() / omega.sin(),
        )
    };
    a.iter()
        .zip(b)
        .map(|(x, y)| (wa * f64::from(*x) + wb * f64::from(*y)) as f32)
        .collect()
}

/// A multivariate normal fitted to a set of latents (mean and full covariance), as the GON
/// reference implementation samples new images.
#[derive(Debug, Clone)]
pub struct Gaussian {
    mean: Vec<f64>,
    /// Lower-triangular Cholesky factor of the covariance.
    chol: DMatrix<f64>,
}

impl Gaussian {
    /// Fits mean and covariance to `latents` (`n x dim`, row-major, `n >= 1`). A small ridge
    /// keeps the covariance positive definite when `n <= dim`.
    pub fn fit(latents: &[f32], dim: usize) -> Self {
        let n = latents.len() / dim;
        assert!(n >= 1 && latents.len() == n * dim, "latents are n x dim");
        let mut mean = vec![0f64; dim];
        for row in latents.chunks_exact(dim) {
            mean.iter_mut()
                .zip(row)
                .for_each(|(m, &v)| *m += f64::from(v));
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let centred = DMatrix::from_fn(n, dim, |r, c| f64::from(latents[r * dim + c]) - mean[c]);
        let cov = centred.transpose() * &centred / (n.max(2) - 1) as f64;
        let mut ridge = 1e-6 * (cov.trace() / dim as f64).max(1e-12);
        loop {
            let ridged = &cov + DMatrix::identity(dim, dim) * ridge;
            if let Some(chol) = ridged.cholesky() {
                return Gaussian {
                    mean,
                    chol: chol.unpack(),
                };
            }
            ridge *= 10.0;
        }
    }

    /// The fitted mean.
    pub fn mean(&self) -> Vec<f32> {
        self.mean.iter().map(|&m| m as f32).collect()
    }

    /// One draw `mean + L e`, `e` standard normal.
    pub fn sample(&self, rng: &mut impl Rng) -> Vec<f32> {
        let e = nalgebra::DVector::from_fn(self.mean.len(), |_, _| rng.sample(StandardNormal));
        let draw = &self.chol * e;
        self.mean
            .iter()
            .zip(draw.iter())
            .map(|(m, x)| (m + x) as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn slerp_ends_at_its_inputs_and_keeps_the_norm_of_equal_norm_inputs() {
        let (a, b) = ([3.0f32, 0.0, 4.0], [0.0f32, 5.0, 0.0]);
        let close = |x: &[f32], y: &[f32]| x.iter().zip(y).all(|(p, q)| (p - q).abs() < 1e-5);
        assert!(close(&slerp(&a, &b, 0.0), &a) && close(&slerp(&a, &b, 1.0), &b));
        let mid = slerp(&a, &b, 0.5);
        let norm = mid.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 5.0).abs() < 1e-4, "norm {norm}");
    }

    #[test]
    fn gaussian_samples_have_the_fitted_mean_and_covariance() {
        // Data from a known correlated 2-D normal; the samples must reproduce its moments.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut data = Vec::new();
        for _ in 0..20_000 {
            let (u, v): (f64, f64) = (rng.sample(StandardNormal), rng.sample(StandardNormal));
            data.extend([(1.0 + 2.0 * u) as f32, (-3.0 + u + 0.5 * v) as f32]);
        }
        let g = Gaussian::fit(&data, 2);
        let draws: Vec<Vec<f32>> = (0..20_000).map(|_| g.sample(&mut rng)).collect();
        let mean = |k: usize| draws.iter().map(|s| f64::from(s[k])).sum::<f64>() / 20_000.0;
        let (m0, m1) = (mean(0), mean(1));
        let cov01 = draws
            .iter()
            .map(|s| (f64::from(s[0]) - m0) * (f64::from(s[1]) - m1))
            .sum::<f64>()
            / 20_000.0;
        assert!(
            (m0 - 1.0).abs() < 0.1 && (m1 + 3.0).abs() < 0.05,
            "{m0} {m1}"
        );
        assert!((cov01 - 2.0).abs() < 0.15, "cov {cov01}");
    }
}
