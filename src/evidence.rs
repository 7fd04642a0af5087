//! Evidence: what an analyst has observed, as a value passed to each query.
//!
//! Evidence never changes the network. Hard evidence fixes a variable's state; soft
//! (likelihood, or virtual) evidence is a non-negative vector over the variable's states that is
//! multiplied into the joint distribution. Both may be given for one variable; several soft
//! vectors on one variable multiply.
//!
//! Engines read soft evidence rescaled so that its largest entry is 1
//! ([`soft_likelihood`](Evidence::soft_likelihood)) and add the logs of the factors back into
//! `ln P(e)` ([`ln_soft_scale`](Evidence::ln_soft_scale)): likelihoods like `[1e300, 1e300]`
//! then cannot overflow a product. Entries smaller than [`MIN_LIKELIHOOD_RATIO`] times the
//! largest (but not zero) are refused: no engine could carry them through its products without
//! underflow, and refusing them here keeps every engine's answer finite and the engines in
//! agreement.

use crate::model::{ModelError, Network, VarId};
use std::collections::BTreeMap;

/// Smallest ratio of a positive likelihood entry to the largest entry of its vector (after
/// multiplying every vector given for the variable). Below it, products with CPT entries and
/// other findings would leave `f64`'s normal range.
pub const MIN_LIKELIHOOD_RATIO: f64 = 1e-60;

/// Why an evidence item was rejected.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvidenceError {
    /// Unknown variable or state name.
    #[error(transparent)]
    Name(#[from] ModelError),
    /// A state index outside the variable's states.
    #[error("state index {state} is out of range for '{variable}', which has {n_states} states")]
    StateOutOfRange {
        /// The variable.
        variable: String,
        /// The index given.
        state: usize,
        /// Number of states.
        n_states: usize,
    },
    /// Two different hard observations of one variable.
    #[error("conflicting evidence: '{variable}' observed as both '{first}' and '{second}'")]
    Conflicting {
        /// The variable.
        variable: String,
        /// The state observed first.
        first: String,
        /// The other state.
        second: String,
    },
    /// A likelihood vector with the wrong number of entries.
    #[error(
        "soft evidence on '{variable}' has {found} values, expected one per state ({expected}: {states})"
    )]
    LikelihoodLength {
        /// The variable.
        variable: String,
        /// Number of states.
        expected: usize,
        /// Number of values given.
        found: usize,
        /// The states, comma separated.
        states: String,
    },
    /// A negative, infinite or NaN likelihood.
    #[error("soft evidence on '{variable}': {value} is not a finite non-negative likelihood")]
    InvalidLikelihood {
        /// The variable.
        variable: String,
        /// The bad value.
        value: f64,
    },
    /// A positive likelihood too small beside the vector's largest to compute with.
    #[error(
        "soft evidence on '{variable}': {value:e} is below {MIN_LIKELIHOOD_RATIO:e} times the largest likelihood ({largest:e}); give 0 for a state that is ruled out, or ratios within {MIN_LIKELIHOOD_RATIO:e}"
    )]
    LikelihoodRatio {
        /// The variable.
        variable: String,
        /// The tiny value.
        value: f64,
        /// The largest value of the vector.
        largest: f64,
    },
    /// A likelihood vector of zeros rules out every state.
    #[error("soft evidence on '{variable}' is all zeros, which rules out every state")]
    ZeroLikelihood {
        /// The variable.
        variable: String,
    },
}

/// A set of findings on one network, keyed by [`VarId`]. Build it with the network it is for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence {
    hard: BTreeMap<VarId, usize>,
    /// As given (several vectors on one variable multiplied).
    soft: BTreeMap<VarId, Vec<f64>>,
    /// The same divided by its largest entry, and the log of that entry.
    scaled: BTreeMap<VarId, (Vec<f64>, f64)>,
}

/// `values` divided by their largest entry, and the log of that entry; `None` when all are 0.
fn rescale(values: &[f64]) -> Option<(Vec<f64>, f64)> {
    let largest = values.iter().copied().fold(0.0, f64::max);
    (largest > 0.0).then(|| (values.iter().map(|v| v / largest).collect(), largest.ln()))
}

impl Evidence {
    /// No evidence.
    pub fn new() -> Evidence {
        Evidence::default()
    }

    /// Observes `var` in state number `state`.
    ///
    /// # Errors
    /// [`EvidenceError::StateOutOfRange`], or [`EvidenceError::Conflicting`] if `var` was
    /// already observed in another state.
    pub fn observe(
        &mut self,
        network: &Network,
        var: VarId,
        state: usize,
    ) -> Result<(), EvidenceError> {
        let variable = network.variable(var);
        if state >= variable.cardinality() {
            return Err(EvidenceError::StateOutOfRange {
                variable: variable.name().to_string(),
                state,
                n_states: variable.cardinality(),
            });
        }
        match self.hard.insert(var, state) {
            Some(previous) if previous != state => {
                self.hard.insert(var, previous);
                Err(EvidenceError::Conflicting {
                    variable: variable.name().to_string(),
                    first: variable.states()[previous].clone(),
                    second: variable.states()[state].clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Observes the variable called `variable` in the state called `state`.
    ///
    /// # Errors
    /// Unknown names (listing the valid ones), or as [`observe`](Self::observe).
    pub fn observe_named(
        &mut self,
        network: &Network,
        variable: &str,
        state: &str,
    ) -> Result<(), EvidenceError> {
        let var = network.variable_id(variable)?;
        let state = network.state_index(var, state)?;
        self.observe(network, var, state)
    }

    /// Multiplies the likelihood vector `likelihood` (one value per state) into `var`.
    ///
    /// # Errors
    /// Wrong length, negative or non-finite values, or all zeros.
    pub fn add_likelihood(
        &mut self,
        network: &Network,
        var: VarId,
        likelihood: &[f64],
    ) -> Result<(), EvidenceError> {
        let variable = network.variable(var);
        let name = || variable.name().to_string();
        if likelihood.len() != variable.cardinality() {
            return Err(EvidenceError::LikelihoodLength {
                variable: name(),
                expected: variable.cardinality(),
                found: likelihood.len(),
                states: variable.states().join(", "),
            });
        }
        if let Some(&value) = likelihood.iter().find(|v| !v.is_finite() || **v < 0.0) {
            return Err(EvidenceError::InvalidLikelihood {
                variable: name(),
                value,
            });
        }
        let Some((scaled, ln_scale)) = rescale(likelihood) else {
            return Err(EvidenceError::ZeroLikelihood { variable: name() });
        };
        // Multiplied in the rescaled form, so that the product cannot overflow or underflow
        // where the factors did not.
        let (scaled, ln_scale) = match self.scaled.get(&var) {
            None => (scaled, ln_scale),
            Some((existing, ln_existing)) => {
                let product: Vec<f64> = existing.iter().zip(&scaled).map(|(a, b)| a * b).collect();
                let Some((again, ln_again)) = rescale(&product) else {
                    return Err(EvidenceError::ZeroLikelihood { variable: name() });
                };
                (again, ln_existing + ln_scale + ln_again)
            }
        };
        if let Some(&tiny) = scaled
            .iter()
            .find(|&&v| v > 0.0 && v < MIN_LIKELIHOOD_RATIO)
        {
            let largest = ln_scale.exp();
            return Err(EvidenceError::LikelihoodRatio {
                variable: name(),
                value: tiny * largest,
                largest,
            });
        }
        let given: Vec<f64> = match self.soft.get(&var) {
            None => likelihood.to_vec(),
            Some(existing) => {
                let product: Vec<f64> = existing
                    .iter()
                    .zip(likelihood)
                    .map(|(a, b)| a * b)
                    .collect();
                // The product as given overflows only for absurd inputs; then show it rescaled.
                if product.iter().all(|v| v.is_finite()) {
                    product
                } else {
                    scaled.clone()
                }
            }
        };
        self.soft.insert(var, given);
        self.scaled.insert(var, (scaled, ln_scale));
        Ok(())
    }

    /// As [`add_likelihood`](Self::add_likelihood), by variable name.
    ///
    /// # Errors
    /// Unknown variable name, or as [`add_likelihood`](Self::add_likelihood).
    pub fn add_likelihood_named(
        &mut self,
        network: &Network,
        variable: &str,
        likelihood: &[f64],
    ) -> Result<(), EvidenceError> {
        let var = network.variable_id(variable)?;
        self.add_likelihood(network, var, likelihood)
    }

    /// Hard observations, by variable id.
    pub fn hard(&self) -> &BTreeMap<VarId, usize> {
        &self.hard
    }

    /// Soft evidence vectors, by variable id.
    pub fn soft(&self) -> &BTreeMap<VarId, Vec<f64>> {
        &self.soft
    }

    /// The soft evidence on `var` divided by its largest entry (so at most 1, with one entry
    /// exactly 1): what engines multiply in. The factors' logs are in
    /// [`ln_soft_scale`](Self::ln_soft_scale).
    pub fn soft_likelihood(&self, var: VarId) -> Option<&[f64]> {
        self.scaled.get(&var).map(|(values, _)| values.as_slice())
    }

    /// The sum of the logs of the factors divided out of the soft evidence: engines add it to
    /// the `ln P(e)` they compute with [`soft_likelihood`](Self::soft_likelihood).
    pub fn ln_soft_scale(&self) -> f64 {
        self.scaled.values().map(|(_, ln)| ln).sum()
    }

    /// True when nothing is observed.
    pub fn is_empty(&self) -> bool {
        self.hard.is_empty() && self.soft.is_empty()
    }

    /// The state `var` is observed in, if hard evidence fixes it.
    pub fn hard_state(&self, var: VarId) -> Option<usize> {
        self.hard.get(&var).copied()
    }

    /// Every variable with a finding, in increasing id order.
    pub fn variables(&self) -> impl Iterator<Item = VarId> + '_ {
        let mut vars: Vec<VarId> = self.hard.keys().chain(self.soft.keys()).copied().collect();
        vars.sort_unstable();
        vars.dedup();
        vars.into_iter()
    }

    /// The combined likelihood of all findings on `var` (hard as an indicator), if any, as
    /// given.
    pub fn likelihood(&self, var: VarId, n_states: usize) -> Option<Vec<f64>> {
        self.combined(var, n_states, self.soft.get(&var))
    }

    /// As [`likelihood`](Self::likelihood), with the soft evidence rescaled as
    /// [`soft_likelihood`](Self::soft_likelihood): what engines multiply in.
    pub fn likelihood_rescaled(&self, var: VarId, n_states: usize) -> Option<Vec<f64>> {
        self.combined(
            var,
            n_states,
            self.scaled.get(&var).map(|(values, _)| values),
        )
    }

    fn combined(&self, var: VarId, n_states: usize, soft: Option<&Vec<f64>>) -> Option<Vec<f64>> {
        let hard = self.hard.get(&var);
        if hard.is_none() && soft.is_none() {
            return None;
        }
        let mut values = soft.cloned().unwrap_or_else(|| vec![1.0; n_states]);
        if let Some(&state) = hard {
            for (i, v) in values.iter_mut().enumerate() {
                if i != state {
                    *v = 0.0;
                }
            }
        }
        Some(values)
    }

    /// A one-line description with names, e.g. `smoke=yes, xray~[0.9, 0.2]`.
    pub fn describe(&self, network: &Network) -> String {
        let mut parts = Vec::new();
        for (&var, &state) in &self.hard {
            let variable = network.variable(var);
            parts.push(format!("{}={}", variable.name(), variable.states()[state]));
        }
        for (&var, values) in &self.soft {
            parts.push(format!("{}~{:?}", network.variable(var).name(), values));
        }
        if parts.is_empty() {
            "no evidence".to_string()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asia() -> Network {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        crate::io::read_network(root.join("networks/asia.bif")).unwrap()
    }

    #[test]
    fn likelihoods_are_rescaled_and_their_scale_kept() {
        let network = asia();
        let xray = network.variable_id("xray").unwrap();
        let mut evidence = Evidence::new();
        evidence
            .add_likelihood(&network, xray, &[1e300, 5e299])
            .unwrap();
        evidence
            .add_likelihood(&network, xray, &[1e300, 1e300])
            .unwrap();
        assert_eq!(evidence.soft_likelihood(xray), Some(&[1.0, 0.5][..]));
        let expected = 2.0 * 1e300f64.ln();
        assert!((evidence.ln_soft_scale() - expected).abs() < 1e-9);
        // As given, for display; the product overflows, so it is shown rescaled.
        assert_eq!(evidence.soft()[&xray], vec![1.0, 0.5]);
    }

    #[test]
    fn a_likelihood_too_small_beside_the_largest_is_refused_by_name() {
        let network = asia();
        let xray = network.variable_id("xray").unwrap();
        let mut evidence = Evidence::new();
        let error = evidence
            .add_likelihood(&network, xray, &[1e-320, 1.0])
            .unwrap_err();
        assert!(matches!(error, EvidenceError::LikelihoodRatio { .. }));
        assert!(
            error
                .to_string()
                .starts_with("soft evidence on 'xray': 1e-320 is below 1e-60")
        );
        assert!(evidence.is_empty(), "a refused finding leaves no trace");
        // Two vectors whose product is too uneven: the second is refused.
        evidence
            .add_likelihood(&network, xray, &[1e-40, 1.0])
            .unwrap();
        assert!(
            evidence
                .add_likelihood(&network, xray, &[1e-40, 1.0])
                .is_err()
        );
        assert_eq!(evidence.soft_likelihood(xray), Some(&[1e-40, 1.0][..]));
    }
}
