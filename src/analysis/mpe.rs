//! The most probable explanation (MPE) and maximum a posteriori (MAP) assignments.
//!
//! MPE maximises over every unobserved variable; MAP over a chosen subset `M`, summing the
//! rest out. Both are max-product variable elimination with traceback (Koller & Friedman 2009,
//! §13.2–13.3): the variables outside `M` are summed out first and the variables of `M` are
//! maximised out afterwards. That constrained order is what makes MAP exact: a sum may not be
//! pushed inside a maximum, because `max_m Σ_s ≠ Σ_s max_m`. Traceback then walks the
//! maximisations backwards and picks, for each variable, the state that attains the maximum
//! given the states already chosen for the variables eliminated after it.

use super::elimination::{
    Combine, ancestral_set, eliminate, evidence_factors, ln_p_evidence, product,
};
use super::{AnalysisError, check_distinct, check_vars};
use crate::cancel::CancelToken;
use crate::evidence::Evidence;
use crate::infer::{check_ids, impossible};
use crate::model::{Network, VarId};

/// A most probable assignment and its probability.
#[derive(Clone, Debug, PartialEq)]
pub struct MostProbable {
    /// `(variable, state)` for every variable maximised over, in increasing id order.
    pub assignment: Vec<(VarId, usize)>,
    /// `ln P(assignment | e)`.
    pub ln_probability: f64,
    /// `ln P(e)`.
    pub ln_p_evidence: f64,
}

impl MostProbable {
    /// The state chosen for `var`, if it was maximised over.
    pub fn state(&self, var: VarId) -> Option<usize> {
        self.assignment
            .iter()
            .find(|(v, _)| *v == var)
            .map(|&(_, s)| s)
    }
}

/// The most probable joint state of every variable without hard evidence (variables with
/// only soft evidence are included), given `evidence`.
///
/// # Formula
/// `argmax_x P(x | e)` over the unobserved `x`, with `ln P(x | e) = ln P(x, e) − ln P(e)`.
/// Exact ties go to the lowest state index.
///
/// # Errors
/// As [`maximum_a_posteriori`].
pub fn most_probable_explanation(
    network: &Network,
    evidence: &Evidence,
) -> Result<MostProbable, AnalysisError> {
    most_probable_explanation_until(network, evidence, &CancelToken::new())
}

/// As [`most_probable_explanation`], stopping when `cancel` says so.
///
/// # Errors
/// As [`most_probable_explanation`], and [`Interrupted`](crate::InferenceError::Interrupted).
pub fn most_probable_explanation_until(
    network: &Network,
    evidence: &Evidence,
    cancel: &CancelToken,
) -> Result<MostProbable, AnalysisError> {
    let unobserved: Vec<VarId> = network
        .variable_ids()
        .filter(|&v| evidence.hard_state(v).is_none())
        .collect();
    maximum_a_posteriori_until(network, evidence, &unobserved, cancel)
}

/// The most probable joint state of `vars` given `evidence`, every other variable summed out.
///
/// A variable of `vars` with hard evidence keeps its observed state.
///
/// # Formula
/// `argmax_m P(m | e) = argmax_m Σ_s P(m, s, e)`, with `ln P(m | e) = ln P(m, e) − ln P(e)`.
/// Exact ties go to the lowest state index.
///
/// # Errors
/// [`AnalysisError::EliminationTooLarge`] when an intermediate table would exceed
/// [`MAX_ELIMINATION_ENTRIES`](super::MAX_ELIMINATION_ENTRIES);
/// [`ImpossibleEvidence`](crate::InferenceError::ImpossibleEvidence) when `P(e) = 0`; [`ForeignId`](crate::InferenceError::ForeignId);
/// [`AnalysisError::Repeated`] when a variable is named twice.
pub fn maximum_a_posteriori(
    network: &Network,
    evidence: &Evidence,
    vars: &[VarId],
) -> Result<MostProbable, AnalysisError> {
    maximum_a_posteriori_until(network, evidence, vars, &CancelToken::new())
}

/// As [`maximum_a_posteriori`], stopping when `cancel` says so.
///
/// # Errors
/// As [`maximum_a_posteriori`], and [`Interrupted`](crate::InferenceError::Interrupted).
pub fn maximum_a_posteriori_until(
    network: &Network,
    evidence: &Evidence,
    vars: &[VarId],
    cancel: &CancelToken,
) -> Result<MostProbable, AnalysisError> {
    check_ids(network, evidence, &[])?;
    check_vars(network, vars)?;
    check_distinct(network, vars)?;
    let fail = || -> AnalysisError { impossible(network, evidence).into() };
    let mut map_vars = vars.to_vec();
    map_vars.sort_unstable();

    // Maximising over a barren variable is not neutral (its CPT does not max to one), so the
    // MAP variables and their ancestors stay in; only barren variables outside M are dropped.
    let relevant = ancestral_set(
        network,
        evidence.variables().chain(map_vars.iter().copied()),
    );
    let (factors, ln_constant) =
        evidence_factors(network, evidence, &relevant, &map_vars, None).ok_or_else(fail)?;
    let mut in_map = vec![false; network.n_variables()];
    map_vars.iter().for_each(|v| in_map[v.index()] = true);
    let summed: Vec<bool> = (0..network.n_variables())
        .map(|v| relevant[v] && !in_map[v])
        .collect();
    let (factors, ln_sum_scale) =
        eliminate(network, factors, &summed, Combine::Sum, None, cancel)?.ok_or_else(fail)?;
    let mut trace = Vec::new();
    let (rest, ln_max_scale) = eliminate(
        network,
        factors,
        &in_map,
        Combine::Max,
        Some(&mut trace),
        cancel,
    )?
    .ok_or_else(fail)?;
    let top = product(rest);
    debug_assert!(top.vars().is_empty(), "every MAP variable was eliminated");
    let top = top.values()[0];
    if top <= 0.0 {
        return Err(fail());
    }
    let ln_joint = ln_constant + ln_sum_scale + ln_max_scale + top.ln();

    let mut state = vec![usize::MAX; network.n_variables()];
    for (var, joined) in trace.iter().rev() {
        // Every other variable of `joined` was eliminated later, so its state is chosen.
        let mut slice = joined.clone();
        for &other in joined.vars().iter().filter(|&&o| o != *var) {
            slice = slice.reduce(other, state[other.index()]);
        }
        let mut best = 0;
        for (s, &value) in slice.values().iter().enumerate() {
            if value > slice.values()[best] {
                best = s;
            }
        }
        state[var.index()] = best;
    }
    let ln_p_e = ln_p_evidence(network, evidence, cancel)?.ok_or_else(fail)?;
    let assignment = map_vars
        .iter()
        .map(|&v| {
            // A MAP variable that occurs in no factor cannot exist (its CPT is relevant), but
            // a hard-observed one is kept in scope by its indicator; both end up chosen.
            let s = match state[v.index()] {
                usize::MAX => evidence.hard_state(v).unwrap_or(0),
                s => s,
            };
            (v, s)
        })
        .collect();
    Ok(MostProbable {
        assignment,
        // P(m | e) ≤ 1; rounding may leave the difference a hair above 0.
        ln_probability: (ln_joint - ln_p_e).min(0.0),
        ln_p_evidence: ln_p_e,
    })
}
