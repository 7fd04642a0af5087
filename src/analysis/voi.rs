//! Value of information: which variable, observed next, would tell most about a target.
//!
//! The score is the mutual information between the target and the candidate given the current
//! evidence, the expected reduction of the target's entropy (Cover & Thomas 2006, ch. 2; as a
//! myopic value of information, Koller & Friedman 2009, §23.7). It is exact: one query for the
//! current posteriors, then one per state of each candidate.

use super::{AnalysisError, check_target_unobserved, check_vars, entropy};
use crate::cancel::CancelToken;
use crate::evidence::Evidence;
use crate::infer::{InferenceEngine, InferenceError};
use crate::model::VarId;

/// Mutual information below this is rounding (the formula subtracts entropies of order 1), and
/// is reported as 0 so that variables that cannot inform the target tie exactly.
const ROUNDING: f64 = 1e-12;

/// Most candidates a value-of-information ranking considers: each costs one query per state.
/// Every variable of the largest bundled networks (munin: 1,041) fits.
pub const MAX_VOI_CANDIDATES: usize = 4096;

/// One candidate's score.
#[derive(Clone, Debug, PartialEq)]
pub struct Information {
    /// The candidate.
    pub variable: VarId,
    /// `I(T; V | e)` in nats.
    pub mutual_information: f64,
}

/// The target's current entropy and the candidates ranked by what observing them would tell.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueOfInformation {
    /// The target.
    pub target: VarId,
    /// `H(T | e)` in nats: the most any observation could remove.
    pub entropy: f64,
    /// Candidates by decreasing mutual information; ties keep the candidates' order.
    pub ranking: Vec<Information>,
}

/// Ranks `candidates` (every variable but the target when empty) by the mutual information
/// between each and `target`, given `evidence`. Candidates with hard evidence are skipped:
/// observing them again tells nothing.
///
/// # Formula
/// `I(T; V | e) = H(T | e) − Σ_v P(v | e) · H(T | e, V = v)`, with `H(p) = −Σ p ln p`.
///
/// # Errors
/// [`AnalysisError::TargetObserved`] when hard evidence fixes the target; the engine's errors
/// (e.g. [`ImpossibleEvidence`](InferenceError::ImpossibleEvidence) when `P(e) = 0`).
pub fn value_of_information(
    engine: &dyn InferenceEngine,
    evidence: &Evidence,
    target: VarId,
    candidates: &[VarId],
) -> Result<ValueOfInformation, AnalysisError> {
    value_of_information_until(engine, evidence, target, candidates, &CancelToken::new())
}

/// As [`value_of_information`], stopping when `cancel` says so.
///
/// # Errors
/// As [`value_of_information`], [`AnalysisError::TooMany`] over [`MAX_VOI_CANDIDATES`]
/// candidates, and [`Interrupted`](InferenceError::Interrupted).
pub fn value_of_information_until(
    engine: &dyn InferenceEngine,
    evidence: &Evidence,
    target: VarId,
    candidates: &[VarId],
    cancel: &CancelToken,
) -> Result<ValueOfInformation, AnalysisError> {
    let network = engine.network();
    check_vars(network, &[target])?;
    check_vars(network, candidates)?;
    check_target_unobserved(network, evidence, target)?;
    let mut candidates: Vec<VarId> = if candidates.is_empty() {
        network.variable_ids().filter(|&v| v != target).collect()
    } else {
        candidates.to_vec()
    };
    let mut seen = vec![false; network.n_variables()];
    candidates.retain(|&v| {
        evidence.hard_state(v).is_none() && !std::mem::replace(&mut seen[v.index()], true)
    });
    if candidates.len() > MAX_VOI_CANDIDATES {
        return Err(AnalysisError::TooMany {
            what: "value of information candidates",
            count: candidates.len(),
            limit: MAX_VOI_CANDIDATES,
            advice: "name the candidates to rank",
        });
    }
    let posteriors = |evidence: &Evidence, targets: &[VarId]| {
        engine
            .answer_until(evidence, targets, cancel)
            .map(|answer| answer.posteriors)
    };

    let mut wanted = vec![target];
    wanted.extend(&candidates);
    let current = posteriors(evidence, &wanted)?;
    let prior_entropy = entropy(current.marginal(target).expect("target requested"));
    let mut ranking = Vec::with_capacity(candidates.len());
    for &candidate in &candidates {
        let marginal = current.marginal(candidate).expect("candidate requested");
        let mut expected_entropy = 0.0;
        for (state, &p) in marginal.iter().enumerate() {
            if p <= 0.0 {
                continue;
            }
            let mut more = evidence.clone();
            more.observe(network, candidate, state)
                .map_err(|e| InferenceError::ForeignId(e.to_string()))?;
            match posteriors(&more, &[target]) {
                Ok(posteriors) => {
                    expected_entropy +=
                        p * entropy(posteriors.marginal(target).expect("target requested"));
                }
                // P(v | e) > 0 in floating point but the query underflowed to 0: weight ~0.
                Err(InferenceError::ImpossibleEvidence { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        let information = prior_entropy - expected_entropy;
        ranking.push(Information {
            variable: candidate,
            mutual_information: if information < ROUNDING {
                0.0
            } else {
                information
            },
        });
    }
    // Stable: equal scores keep the candidates' order.
    ranking.sort_by(|a, b| b.mutual_information.total_cmp(&a.mutual_information));
    Ok(ValueOfInformation {
        target,
        entropy: prior_entropy,
        ranking,
    })
}
