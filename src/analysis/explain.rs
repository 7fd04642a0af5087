//! Why the posterior moved: the impact of each evidence item on a target, and whether the
//! items fit together.
//!
//! An *item* is everything observed about one variable (its hard finding and any soft ones).
//! For each item `e_i`, with `e_−i` the rest of the evidence:
//!
//! - the target's posterior without it, `P(T | e_−i)`, and the total variation distance
//!   `½ Σ_t |P(t | e) − P(t | e_−i)|`: how far the item moved the target given the rest;
//! - per target state, the log-likelihood ratio the item contributed, Good's weight of
//!   evidence `ln [P(e_i | t, e_−i) / P(e_i | ¬t, e_−i)]`, which by Bayes' rule equals
//!   `logit P(t | e) − logit P(t | e_−i)` (Good 1950, *Probability and the Weighing of
//!   Evidence*): positive when the item speaks for `t`;
//! - `ln P(e_i)` and `ln P(e_i | e_−i)`, for the conflict measure below.
//!
//! The conflict measure of Jensen, Chamberlain, Nordahl & Jensen (1991) (also Jensen & Nielsen
//! 2007, *Bayesian Networks and Decision Graphs*) is `conf(e) = ln [Π_i P(e_i) / P(e)]`: positive when the items are less
//! probable together than if they were independent, i.e. when they do not fit together under
//! the model (a flag for a model that does not cover the case, or for a wrong finding). Each
//! item's contribution is `conf(e) − conf(e_−i) = ln P(e_i) − ln P(e_i | e_−i)`: how much the
//! conflict drops when that item is removed.
//!
//! Cost: one query with all evidence, one per item without it and one per item alone.

use super::{AnalysisError, check_target_unobserved, check_vars, split_evidence};
use crate::cancel::CancelToken;
use crate::evidence::Evidence;
use crate::infer::InferenceEngine;
use crate::model::VarId;

/// How one evidence item moved the target.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidenceImpact {
    /// The variable the item is about.
    pub variable: VarId,
    /// `P(T | e_−i)`: the target's posterior without this item.
    pub posterior_without: Vec<f64>,
    /// `½ Σ_t |P(t | e) − P(t | e_−i)|`.
    pub total_variation: f64,
    /// Per target state: `logit P(t | e) − logit P(t | e_−i)`, infinite where a posterior is
    /// 0 or 1.
    pub log_likelihood_ratio: Vec<f64>,
    /// `ln P(e_i)`: the item's prior probability (its likelihood's expectation, for soft
    /// evidence).
    pub ln_p_item: f64,
    /// `ln P(e_i | e_−i) = ln P(e) − ln P(e_−i)`.
    pub ln_p_item_given_rest: f64,
    /// `ln P(e_i) − ln P(e_i | e_−i)`: how much the conflict measure drops without this item.
    pub conflict_contribution: f64,
}

/// Jensen's conflict measure over the evidence items.
#[derive(Clone, Debug, PartialEq)]
pub struct Conflict {
    /// `conf(e) = Σ_i ln P(e_i) − ln P(e)`; 0 with fewer than two items.
    pub value: f64,
    /// Items by decreasing contribution to the conflict (see [`EvidenceImpact`]).
    pub ranking: Vec<(VarId, f64)>,
}

impl Conflict {
    /// Whether the items conflict: `conf(e) > 0`.
    pub fn is_conflict(&self) -> bool {
        self.value > 0.0
    }
}

/// The target's posterior and the impact of every evidence item on it.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidenceReport {
    /// The target.
    pub target: VarId,
    /// `P(T | e)`.
    pub posterior: Vec<f64>,
    /// `P(T)` without any evidence.
    pub prior: Vec<f64>,
    /// `ln P(e)`.
    pub ln_p_evidence: f64,
    /// One entry per evidence item, by decreasing total variation (ties in id order).
    pub items: Vec<EvidenceImpact>,
    /// Whether the items fit together.
    pub conflict: Conflict,
}

/// `logit p` computed from `p` and `1 − p` given separately, so that `1 − p` keeps its
/// precision when `p` is close to 1.
fn logit(p: f64, complement: f64) -> f64 {
    p.ln() - complement.ln()
}

fn log_likelihood_ratios(with: &[f64], without: &[f64]) -> Vec<f64> {
    let complement = |d: &[f64], t: usize| -> f64 {
        d.iter()
            .enumerate()
            .filter(|&(s, _)| s != t)
            .map(|(_, &p)| p)
            .sum()
    };
    (0..with.len())
        .map(|t| {
            let after = logit(with[t], complement(with, t));
            let before = logit(without[t], complement(without, t));
            // inf − inf: the item did not move a state that was certain either way.
            if after == before { 0.0 } else { after - before }
        })
        .collect()
}

/// How much each evidence item moved `target`, and the conflict measure of the evidence.
///
/// An item is everything observed about one variable; `e_−i` is the rest of the evidence.
/// The conflict measure is Jensen, Chamberlain, Nordahl & Jensen (1991); the log-likelihood
/// ratio is Good's (1950) weight of evidence.
///
/// # Formula
/// - total variation `½ Σ_t |P(t | e) − P(t | e_−i)|`;
/// - log-likelihood ratio `ln [P(e_i | t, e_−i) / P(e_i | ¬t, e_−i)] = logit P(t | e) − logit P(t | e_−i)`;
/// - `conf(e) = Σ_i ln P(e_i) − ln P(e)`, positive when the items do not fit together, and each
///   item's contribution `conf(e) − conf(e_−i) = ln P(e_i) − ln P(e_i | e_−i)`.
///
/// # Errors
/// [`AnalysisError::TargetObserved`] when hard evidence fixes the target; the engine's errors
/// (e.g. [`ImpossibleEvidence`](crate::InferenceError::ImpossibleEvidence) when `P(e) = 0`).
pub fn explain(
    engine: &dyn InferenceEngine,
    evidence: &Evidence,
    target: VarId,
) -> Result<EvidenceReport, AnalysisError> {
    explain_until(engine, evidence, target, &CancelToken::new())
}

/// Most evidence items [`explain`] reports on: each costs two queries.
pub const MAX_EXPLAIN_ITEMS: usize = 1024;

/// As [`explain`], stopping when `cancel` says so.
///
/// # Errors
/// As [`explain`], [`AnalysisError::TooMany`] over [`MAX_EXPLAIN_ITEMS`] evidence items, and
/// [`Interrupted`](crate::InferenceError::Interrupted).
pub fn explain_until(
    engine: &dyn InferenceEngine,
    evidence: &Evidence,
    target: VarId,
    cancel: &CancelToken,
) -> Result<EvidenceReport, AnalysisError> {
    let network = engine.network();
    check_vars(network, &[target])?;
    check_target_unobserved(network, evidence, target)?;
    let n_items = evidence.variables().count();
    if n_items > MAX_EXPLAIN_ITEMS {
        return Err(AnalysisError::TooMany {
            what: "evidence items to explain",
            count: n_items,
            limit: MAX_EXPLAIN_ITEMS,
            advice: "explain a smaller set of findings",
        });
    }
    let posteriors = |evidence: &Evidence| {
        engine
            .answer_until(evidence, &[target], cancel)
            .map(|answer| answer.posteriors)
    };
    let all = posteriors(evidence)?;
    let posterior = all.marginal(target).expect("target requested").to_vec();
    let ln_p_evidence = all.ln_p_evidence();
    let prior = posteriors(&Evidence::new())?
        .marginal(target)
        .expect("target requested")
        .to_vec();
    let mut items = Vec::new();
    for var in evidence.variables().collect::<Vec<_>>() {
        let rest = posteriors(&split_evidence(network, evidence, var, false))?;
        let alone = posteriors(&split_evidence(network, evidence, var, true))?;
        let without = rest.marginal(target).expect("target requested").to_vec();
        let total_variation = posterior
            .iter()
            .zip(&without)
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / 2.0;
        let ln_p_item_given_rest = ln_p_evidence - rest.ln_p_evidence();
        items.push(EvidenceImpact {
            variable: var,
            log_likelihood_ratio: log_likelihood_ratios(&posterior, &without),
            posterior_without: without,
            total_variation,
            ln_p_item: alone.ln_p_evidence(),
            ln_p_item_given_rest,
            conflict_contribution: alone.ln_p_evidence() - ln_p_item_given_rest,
        });
    }
    let value = if items.len() < 2 {
        0.0
    } else {
        items.iter().map(|i| i.ln_p_item).sum::<f64>() - ln_p_evidence
    };
    let mut ranking: Vec<(VarId, f64)> = items
        .iter()
        .map(|i| (i.variable, i.conflict_contribution))
        .collect();
    ranking.sort_by(|a, b| b.1.total_cmp(&a.1));
    items.sort_by(|a, b| b.total_variation.total_cmp(&a.total_variation));
    Ok(EvidenceReport {
        target,
        posterior,
        prior,
        ln_p_evidence,
        items,
        conflict: Conflict { value, ranking },
    })
}
