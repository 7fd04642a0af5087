//! Joint posteriors of a few variables, e.g. `P(scenario, military_cooperation | e)`.
//!
//! Sum-product variable elimination of every other variable (Koller & Friedman 2009, §9.3),
//! after dropping barren variables. One elimination answers the whole table, where the chain
//! rule over junction-tree queries would need one query per state combination but the last.

use super::elimination::{
    Combine, ancestral_set, eliminate, evidence_factors, product, values_in_order,
};
use super::{AnalysisError, check_distinct, check_vars};
use crate::cancel::CancelToken;
use crate::evidence::Evidence;
use crate::infer::{check_ids, impossible};
use crate::model::{Network, VarId};

/// Largest joint table [`joint_posterior`] builds: beyond it the table is no longer something
/// to read, and the elimination may not fit in memory.
pub const MAX_JOINT_ENTRIES: usize = 1 << 16;

/// `P(vars | e)` as a table.
#[derive(Clone, Debug, PartialEq)]
pub struct JointPosterior {
    vars: Vec<VarId>,
    cards: Vec<usize>,
    values: Vec<f64>,
    ln_p_evidence: f64,
}

impl JointPosterior {
    /// The variables, in the order asked for.
    pub fn vars(&self) -> &[VarId] {
        &self.vars
    }

    /// Cardinalities, aligned with [`vars`](Self::vars).
    pub fn cards(&self) -> &[usize] {
        &self.cards
    }

    /// The probabilities, row-major over [`vars`](Self::vars) in the order asked for, the last
    /// variable fastest. They sum to one.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// `ln P(e)`.
    pub fn ln_p_evidence(&self) -> f64 {
        self.ln_p_evidence
    }

    /// `P(vars = states | e)`, states aligned with [`vars`](Self::vars).
    ///
    /// # Panics
    /// If `states` does not match the cardinalities.
    pub fn probability(&self, states: &[usize]) -> f64 {
        assert_eq!(states.len(), self.cards.len(), "one state per variable");
        let mut index = 0;
        for (&s, &card) in states.iter().zip(&self.cards) {
            assert!(s < card, "state {s} out of range");
            index = index * card + s;
        }
        self.values[index]
    }

    /// Every assignment with its probability, in table order.
    pub fn iter(&self) -> impl Iterator<Item = (Vec<usize>, f64)> + '_ {
        self.values.iter().enumerate().map(|(index, &p)| {
            let mut states = vec![0; self.cards.len()];
            let mut rest = index;
            for (slot, &card) in states.iter_mut().zip(&self.cards).rev() {
                *slot = rest % card;
                rest /= card;
            }
            (states, p)
        })
    }
}

/// `P(vars | e)` for a few variables.
///
/// Variables with hard evidence may be included; their rows outside the observed state are 0.
///
/// # Errors
/// [`AnalysisError::TooLarge`] when the table would exceed [`MAX_JOINT_ENTRIES`];
/// [`ImpossibleEvidence`](crate::InferenceError::ImpossibleEvidence) when `P(e) = 0`;
/// [`AnalysisError::Repeated`]; [`ForeignId`](crate::InferenceError::ForeignId);
/// [`AnalysisError::EliminationTooLarge`] when an intermediate table would exceed
/// [`MAX_ELIMINATION_ENTRIES`](super::MAX_ELIMINATION_ENTRIES).
pub fn joint_posterior(
    network: &Network,
    evidence: &Evidence,
    vars: &[VarId],
) -> Result<JointPosterior, AnalysisError> {
    joint_posterior_until(network, evidence, vars, &CancelToken::new())
}

/// As [`joint_posterior`], stopping when `cancel` says so.
///
/// # Errors
/// As [`joint_posterior`], and [`Interrupted`](crate::InferenceError::Interrupted).
pub fn joint_posterior_until(
    network: &Network,
    evidence: &Evidence,
    vars: &[VarId],
    cancel: &CancelToken,
) -> Result<JointPosterior, AnalysisError> {
    check_ids(network, evidence, &[])?;
    check_vars(network, vars)?;
    check_distinct(network, vars)?;
    let cards: Vec<usize> = vars.iter().map(|&v| network.cardinality(v)).collect();
    let entries: f64 = cards.iter().map(|&c| c as f64).product();
    if entries > MAX_JOINT_ENTRIES as f64 {
        return Err(AnalysisError::TooLarge {
            variables: vars
                .iter()
                .map(|&v| network.variable(v).name())
                .collect::<Vec<_>>()
                .join(", "),
            entries,
            limit: MAX_JOINT_ENTRIES,
        });
    }
    let fail = || -> AnalysisError { impossible(network, evidence).into() };
    let relevant = ancestral_set(network, evidence.variables().chain(vars.iter().copied()));
    let (factors, ln_constant) =
        evidence_factors(network, evidence, &relevant, vars, None).ok_or_else(fail)?;
    let mut summed = relevant;
    vars.iter().for_each(|v| summed[v.index()] = false);
    let (rest, ln_scale) =
        eliminate(network, factors, &summed, Combine::Sum, None, cancel)?.ok_or_else(fail)?;
    // A variable of `vars` always keeps its CPT (it is relevant), so the product covers them all.
    let table = product(rest);
    let mut values = values_in_order(&table, vars);
    let total: f64 = values.iter().sum();
    if total <= 0.0 || !total.is_finite() {
        return Err(fail());
    }
    values.iter_mut().for_each(|v| *v /= total);
    Ok(JointPosterior {
        vars: vars.to_vec(),
        cards,
        values,
        ln_p_evidence: ln_constant + ln_scale + total.ln(),
    })
}
