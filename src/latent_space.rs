//! Walking the latent space: interpolation between two images and sampling new ones.
use crate::rng::Rng;

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
    /// Lower-triangular Cholesky factor of the covariance, row-major `D x D`.
    chol: Vec<f64>,
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
        let mut cov = vec![0f64; dim * dim];
        for row in latents.chunks_exact(dim) {
            for i in 0..dim {
                let di = f64::from(row[i]) - mean[i];
                for j in 0..=i {
                    cov[i * dim + j] += di * (f64::from(row[j]) - mean[j]);
                }
            }
        }
        let denom = (n.max(2) - 1) as f64;
        cov.iter_mut().for_each(|c| *c /= denom);
        let trace: f64 = (0..dim).map(|i| cov[i * dim + i]).sum();
        let mut ridge = 1e-6 * (trace / dim as f64).max(1e-12);
        loop {
            if let Some(chol) = cholesky(&cov, dim, ridge) {
                return Gaussian { mean, chol };
            }
            ridge *= 10.0;
        }
    }

    /// The fitted mean.
    pub fn mean(&self) -> Vec<f32> {
        self.mean.iter().map(|&m| m as f32).collect()
    }

    /// One draw `mean + L e`, `e` standard normal.
    pub fn sample(&self, rng: &mut Rng) -> Vec<f32> {
        let d = self.mean.len();
        let e: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
        (0..d)
            .map(|i| {
                let row = &self.chol[i * d..i * d + i + 1];
                (self.mean[i] + row.iter().zip(&e).map(|(l, x)| l * x).sum::<f64>()) as f32
            })
            .collect()
    }
}

/// Cholesky factor of the lower triangle of `a + ridge I`, or `None` if not positive definite.
fn cholesky(a: &[f64], d: usize, ridge: f64) -> Option<Vec<f64>> {
    let mut l = vec![0f64; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j] + if i == j { ridge } else { 0.0 };
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if s <= 0.0 || !s.is_finite() {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut rng = Rng::new(7);
        let mut data = Vec::new();
        for _ in 0..20_000 {
            let (u, v) = (rng.normal(), rng.normal());
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
