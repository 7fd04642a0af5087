//! Evidence: what an analyst has observed, as a value passed to each query.
//!
//! Evidence never changes the network. Hard evidence fixes a variable's state; soft
//! (likelihood, or virtual) evidence is a non-negative vector over the variable's states that is
//! multiplied into the joint distribution. Both may be given for one variable; several soft
//! vectors on one variable multiply.

use crate::model::{ModelError, Network, VarId};
use std::collections::BTreeMap;

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
    soft: BTreeMap<VarId, Vec<f64>>,
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
        if likelihood.iter().all(|&v| v == 0.0) {
            return Err(EvidenceError::ZeroLikelihood { variable: name() });
        }
        match self.soft.get_mut(&var) {
            Some(existing) => {
                let product: Vec<f64> = existing
                    .iter()
                    .zip(likelihood)
                    .map(|(a, b)| a * b)
                    .collect();
                if product.iter().all(|&v| v == 0.0) {
                    return Err(EvidenceError::ZeroLikelihood { variable: name() });
                }
                *existing = product;
            }
            None => {
                self.soft.insert(var, likelihood.to_vec());
            }
        }
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

    /// The combined likelihood of all findings on `var` (hard as an indicator), if any.
    pub fn likelihood(&self, var: VarId, n_states: usize) -> Option<Vec<f64>> {
        let hard = self.hard.get(&var);
        let soft = self.soft.get(&var);
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
