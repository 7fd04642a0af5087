//! Estimates and their error bars: weighted sums for independent samples, Wilson intervals,
//! batch means and split R-hat for Gibbs chains.

use statrs::distribution::{ContinuousCDF, Normal};
use std::sync::LazyLock;

/// The two-sided 95% normal quantile, `Φ⁻¹(0.975) ≈ 1.96`.
pub(crate) static Z95: LazyLock<f64> = LazyLock::new(|| {
    Normal::new(0.0, 1.0)
        .expect("the standard normal is valid")
        .inverse_cdf(0.975)
});

/// The Wilson score interval for a proportion `p` estimated from `n` (effective) samples
/// (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it over the Wald interval because it
/// keeps its coverage near 0 and 1, where posteriors often are).
pub(crate) fn wilson(p: f64, n: f64, z: f64) -> (f64, f64) {
    if n.is_nan() || n <= 0.0 {
        return (0.0, 1.0);
    }
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).max(0.0).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// Where each target's states sit in the flat per-state accumulators.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// `(variable index, first slot)` per target, in target order.
    pub targets: Vec<(usize, usize)>,
    /// Cardinality per target.
    pub cards: Vec<usize>,
    /// Whether hard evidence fixes the target (its posterior is then exact).
    pub observed: Vec<bool>,
    /// Total number of slots.
    pub n_slots: usize,
}

/// Per-state estimates for every target, in [`Layout`] order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Estimates {
    pub p: Vec<f64>,
    pub stderr: Vec<f64>,
    pub interval: Vec<(f64, f64)>,
}

impl Estimates {
    /// Whether every unobserved target state's 95% half-width is below `precision`.
    pub(crate) fn precise_to(&self, layout: &Layout, precision: f64) -> bool {
        layout
            .targets
            .iter()
            .zip(&layout.cards)
            .zip(&layout.observed)
            .filter(|(_, observed)| !**observed)
            .all(|(((_, slot), card), _)| {
                self.interval[*slot..slot + card]
                    .iter()
                    .all(|(lo, hi)| (hi - lo) / 2.0 < precision)
            })
    }
}

/// Sums over weighted samples, kept relative to `exp(ln_ref)` so that weights of any magnitude
/// add up without underflow. Merging is deterministic, so blocks combined in block order give
/// the same totals whichever threads computed them.
#[derive(Clone, Debug)]
pub(crate) struct WeightedSums {
    ln_ref: f64,
    sum_w: f64,
    sum_w2: f64,
    /// Samples drawn, zero weights included.
    pub n_drawn: u64,
    /// Samples with positive weight.
    pub n_positive: u64,
    state_w: Vec<f64>,
    state_w2: Vec<f64>,
}

impl WeightedSums {
    pub(crate) fn new(n_slots: usize) -> WeightedSums {
        WeightedSums {
            ln_ref: 0.0,
            sum_w: 0.0,
            sum_w2: 0.0,
            n_drawn: 0,
            n_positive: 0,
            state_w: vec![0.0; n_slots],
            state_w2: vec![0.0; n_slots],
        }
    }

    fn rescale(&mut self, factor: f64) {
        let factor2 = factor * factor;
        self.sum_w *= factor;
        self.sum_w2 *= factor2;
        self.state_w.iter_mut().for_each(|v| *v *= factor);
        self.state_w2.iter_mut().for_each(|v| *v *= factor2);
    }

    /// Adds one sample of weight `w · exp(ln_scale)` whose states are `states`.
    #[inline]
    pub(crate) fn add(&mut self, w: f64, ln_scale: f64, states: &[u32], layout: &Layout) {
        self.n_drawn += 1;
        if w <= 0.0 {
            return;
        }
        self.n_positive += 1;
        // The common case, weights that fit an f64 as they are, costs no logarithm.
        let c = if ln_scale == 0.0 && self.ln_ref == 0.0 {
            w
        } else {
            let ln_w = ln_scale + w.ln();
            if self.sum_w == 0.0 {
                self.ln_ref = ln_w;
                1.0
            } else if ln_w > self.ln_ref {
                self.rescale((self.ln_ref - ln_w).exp());
                self.ln_ref = ln_w;
                1.0
            } else {
                (ln_w - self.ln_ref).exp()
            }
        };
        let c2 = c * c;
        self.sum_w += c;
        self.sum_w2 += c2;
        for &(var, slot) in &layout.targets {
            let i = slot + states[var] as usize;
            self.state_w[i] += c;
            self.state_w2[i] += c2;
        }
    }

    /// Adds `other`'s samples.
    pub(crate) fn merge(&mut self, other: &WeightedSums) {
        self.n_drawn += other.n_drawn;
        self.n_positive += other.n_positive;
        if other.sum_w == 0.0 {
            return;
        }
        if self.sum_w == 0.0 {
            self.ln_ref = other.ln_ref;
        } else if other.ln_ref > self.ln_ref {
            self.rescale((self.ln_ref - other.ln_ref).exp());
            self.ln_ref = other.ln_ref;
        }
        let factor = (other.ln_ref - self.ln_ref).exp();
        let factor2 = factor * factor;
        self.sum_w += other.sum_w * factor;
        self.sum_w2 += other.sum_w2 * factor2;
        for (a, b) in self.state_w.iter_mut().zip(&other.state_w) {
            *a += b * factor;
        }
        for (a, b) in self.state_w2.iter_mut().zip(&other.state_w2) {
            *a += b * factor2;
        }
    }

    /// Whether any sample had positive weight.
    pub(crate) fn has_weight(&self) -> bool {
        self.sum_w > 0.0
    }

    /// Kish's effective sample size, `(Σw)² / Σw²`.
    pub(crate) fn ess(&self) -> f64 {
        if self.sum_w2 > 0.0 {
            self.sum_w * self.sum_w / self.sum_w2
        } else {
            0.0
        }
    }

    /// `ln` of the mean weight: the importance-sampling estimate of `ln P(e)`.
    pub(crate) fn ln_mean_weight(&self) -> f64 {
        if self.n_drawn == 0 || self.sum_w <= 0.0 {
            return f64::NEG_INFINITY;
        }
        self.ln_ref + self.sum_w.ln() - (self.n_drawn as f64).ln()
    }

    /// Self-normalised estimates with delta-method standard errors,
    /// `Var(p̂_s) ≈ Σ w_i² (1[x_i = s] − p̂_s)² / (Σ w_i)²` (Owen, *Monte Carlo theory, methods
    /// and examples*, 2013, §9.2), and Wilson intervals on the matching effective count
    /// `p̂(1 − p̂) / Var(p̂)`; where that is undefined (a state never or always seen) the
    /// run's Kish ESS stands in.
    pub(crate) fn estimates(&self, layout: &Layout) -> Estimates {
        let z = *Z95;
        let n = layout.n_slots;
        let mut out = Estimates {
            p: vec![0.0; n],
            stderr: vec![0.0; n],
            interval: vec![(0.0, 1.0); n],
        };
        if self.sum_w <= 0.0 {
            return out;
        }
        let kish = self.ess();
        let total2 = self.sum_w * self.sum_w;
        for ((&(_, slot), &card), &observed) in layout
            .targets
            .iter()
            .zip(&layout.cards)
            .zip(&layout.observed)
        {
            for i in slot..slot + card {
                let p = (self.state_w[i] / self.sum_w).clamp(0.0, 1.0);
                let variance =
                    ((self.state_w2[i] * (1.0 - 2.0 * p) + p * p * self.sum_w2) / total2).max(0.0);
                out.p[i] = p;
                out.stderr[i] = variance.sqrt();
                out.interval[i] = if observed {
                    (p, p)
                } else {
                    let n_eff = if variance > 0.0 && p > 0.0 && p < 1.0 {
                        p * (1.0 - p) / variance
                    } else {
                        kish
                    };
                    wilson(p, n_eff, z)
                };
            }
        }
        out
    }
}

/// Split R-hat (Gelman et al., *Bayesian Data Analysis*, 3rd ed., 2013, §11.4) of one
/// quantity from the means of half-chains of `n` draws each, with `within` the mean of their
/// within-half variances. Infinite when the halves never vary but disagree.
pub(crate) fn split_r_hat(half_means: &[f64], within: f64, n: f64) -> f64 {
    let m = half_means.len() as f64;
    if m < 2.0 || n < 2.0 {
        return f64::NAN;
    }
    let mean = half_means.iter().sum::<f64>() / m;
    let between_over_n = half_means.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (m - 1.0);
    if within <= 0.0 {
        return if between_over_n > 0.0 {
            f64::INFINITY
        } else {
            1.0
        };
    }
    let pooled = (n - 1.0) / n * within + between_over_n;
    (pooled / within).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(cards: &[usize]) -> Layout {
        let mut targets = Vec::new();
        let mut slot = 0;
        for (var, &card) in cards.iter().enumerate() {
            targets.push((var, slot));
            slot += card;
        }
        Layout {
            targets,
            cards: cards.to_vec(),
            observed: vec![false; cards.len()],
            n_slots: slot,
        }
    }

    #[test]
    fn z_is_the_normal_quantile() {
        assert!((*Z95 - 1.959_963_984_540_054).abs() < 1e-9);
    }

    #[test]
    fn wilson_intervals_contain_the_estimate_and_stay_in_range() {
        let (lo, hi) = wilson(0.3, 100.0, *Z95);
        assert!(lo < 0.3 && 0.3 < hi);
        assert!((lo - 0.2189).abs() < 1e-3 && (hi - 0.3958).abs() < 1e-3);
        let (lo, hi) = wilson(0.0, 100.0, *Z95);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.0 && hi < 0.05);
        assert_eq!(wilson(0.5, 0.0, *Z95), (0.0, 1.0));
    }

    #[test]
    fn unit_weights_give_binomial_errors() {
        let layout = layout(&[2]);
        let mut sums = WeightedSums::new(2);
        for i in 0..1000u32 {
            sums.add(1.0, 0.0, &[u32::from(i % 4 == 0)], &layout);
        }
        let est = sums.estimates(&layout);
        assert!((est.p[1] - 0.25).abs() < 1e-12);
        let binomial = (0.25f64 * 0.75 / 1000.0).sqrt();
        assert!((est.stderr[1] - binomial).abs() < 1e-12);
        assert!((sums.ess() - 1000.0).abs() < 1e-9);
        assert!(sums.ln_mean_weight().abs() < 1e-12);
    }

    #[test]
    fn log_scaled_weights_merge_like_plain_ones() {
        let layout = layout(&[2]);
        // The same samples, once with plain weights and once scaled by e^-800 (below f64's
        // range) in two blocks merged in order.
        let samples = [(0.5, 0u32), (0.25, 1), (0.125, 1), (1.0, 0)];
        let mut plain = WeightedSums::new(2);
        let mut tiny_a = WeightedSums::new(2);
        let mut tiny_b = WeightedSums::new(2);
        for (i, &(w, s)) in samples.iter().enumerate() {
            plain.add(w, 0.0, &[s], &layout);
            let block = if i < 2 { &mut tiny_a } else { &mut tiny_b };
            block.add(w, -800.0, &[s], &layout);
        }
        tiny_a.merge(&tiny_b);
        let (a, b) = (plain.estimates(&layout), tiny_a.estimates(&layout));
        for i in 0..2 {
            assert!((a.p[i] - b.p[i]).abs() < 1e-12);
            assert!((a.stderr[i] - b.stderr[i]).abs() < 1e-12);
        }
        assert!((plain.ln_mean_weight() - 800.0 - tiny_a.ln_mean_weight()).abs() < 1e-9);
    }

    #[test]
    fn r_hat_flags_disagreeing_chains() {
        assert!((split_r_hat(&[0.5, 0.5, 0.5, 0.5], 0.25, 100.0) - (0.99f64).sqrt()).abs() < 1e-12);
        assert!(split_r_hat(&[0.1, 0.9, 0.1, 0.9], 0.05, 100.0) > 1.5);
        assert_eq!(split_r_hat(&[0.0, 1.0], 0.0, 100.0), f64::INFINITY);
        assert_eq!(split_r_hat(&[1.0, 1.0], 0.0, 100.0), 1.0);
    }
}
