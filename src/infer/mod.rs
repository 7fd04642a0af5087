//! Inference engines: all answer the same question through [`InferenceEngine`].
//!
//! - [`JunctionTree`]: compiled once per network (Hugin architecture), then each query copies the
//!   compiled clique tables and propagates evidence. The default.
//! - [`VariableElimination`]: no compilation; per query, prunes barren variables and evidence
//!   that hard evidence separates from the targets, then eliminates in greedy min-fill order.
//! - [`Enumeration`]: brute force over the joint, for small networks; the oracle in tests.
//! - [`Sampler`] (module [`sampling`]): likelihood weighting, Gibbs, rejection and EPIS-BN
//!   importance sampling, with error bars, for networks too large for exact inference.
//! - [`AutoEngine`]: the junction tree when it fits the memory budget, otherwise the sampler
//!   that suits the evidence; the answer says which ran and why. The default.
//!
//! [`build_engine`] makes any of them from an [`EngineKind`].

mod auto;
mod enumeration;
mod junction_tree;
pub mod sampling;
mod variable_elimination;

pub use auto::AutoEngine;
pub use enumeration::Enumeration;
pub use junction_tree::{
    Budget, CostEstimate, ESTIMATE_MAX_TIME, JunctionTree, Traffic, format_bytes,
};
pub use sampling::{Sampler, SamplingConfig, SamplingMethod, SamplingStats, StopReason};
pub use variable_elimination::{MAX_TABLE_ENTRIES, VariableElimination};

use crate::cancel::{CancelToken, Interrupted};
use crate::evidence::Evidence;
use crate::model::{Network, VarId};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Why a query could not be answered.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InferenceError {
    /// The evidence has probability zero under the model.
    #[error("evidence is impossible: P(e)=0 under this network (evidence: {evidence})")]
    ImpossibleEvidence {
        /// The evidence, described with names.
        evidence: String,
    },
    /// The junction tree would not fit the memory budget.
    #[error(
        "the junction tree of '{network}' needs {estimate}, over the memory budget of {budget}; raise the budget or use a sampling engine"
    )]
    OverBudget {
        /// The network.
        network: String,
        /// What the tree would cost.
        estimate: CostEstimate,
        /// The budget, formatted.
        budget: String,
    },
    /// The cost estimate's triangulation ran past its own time limit.
    #[error(
        "estimating the junction tree of '{network}' took over {} s, which only trees far over any memory budget do; use a sampling engine",
        limit.as_secs()
    )]
    EstimateTooSlow {
        /// The network.
        network: String,
        /// The time limit.
        limit: Duration,
    },
    /// Variable elimination would build a table too large for memory.
    #[error(
        "variable elimination would build a table of {entries:e} entries to eliminate '{variable}', over the limit of {limit}; use the junction tree or a sampling engine"
    )]
    TableTooLarge {
        /// The variable being eliminated.
        variable: String,
        /// Entries of the product.
        entries: f64,
        /// The limit.
        limit: usize,
    },
    /// The joint distribution is too large to enumerate.
    #[error(
        "'{network}' has {n_joint_states:e} joint states, too many to enumerate (limit {limit})"
    )]
    TooLargeToEnumerate {
        /// The network.
        network: String,
        /// Product of all cardinalities.
        n_joint_states: f64,
        /// The limit.
        limit: usize,
    },
    /// A variable id or state index that is not part of this engine's network.
    #[error("{0} does not belong to this network")]
    ForeignId(String),
    /// A sampler found no sample consistent with the evidence.
    #[error(
        "{engine} found no sample consistent with the evidence ({evidence}) in {n_samples} draws: \
         the evidence is impossible or too unlikely for this engine; try the importance sampler \
         (epis), or an exact engine (jt) to tell which"
    )]
    NoWeight {
        /// The engine.
        engine: EngineKind,
        /// Samples drawn.
        n_samples: u64,
        /// The evidence, described with names.
        evidence: String,
    },
    /// The time budget ended before a sampler had anything to report.
    #[error(
        "the time budget of {:.3} s ended before {engine} finished its first {block} samples; \
         allow more time",
        max_time.as_secs_f64()
    )]
    TimeBudgetTooShort {
        /// The engine.
        engine: EngineKind,
        /// The time budget.
        max_time: Duration,
        /// The work that did not finish (samples, or Gibbs burn-in plus first segment sweeps).
        block: u64,
    },
    /// Gibbs chains provably failed to explore the posterior.
    #[error("Gibbs sampling cannot be trusted here: {detail}; use lw or epis, or an exact engine")]
    ChainStuck {
        /// What was seen.
        detail: String,
    },
    /// Sampling settings that cannot work.
    #[error("invalid sampling settings: {0}")]
    InvalidSettings(String),
    /// A kind that is not an engine by itself was asked to build one.
    #[error("'{0}' is not a sampling engine")]
    NotASampler(EngineKind),
    /// The computation was stopped by its deadline, its caller or shutdown.
    #[error(transparent)]
    Interrupted(#[from] Interrupted),
}

/// Posterior marginals of the requested variables and the log-probability of the evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct Posteriors {
    ln_p_evidence: f64,
    marginals: Vec<(VarId, Vec<f64>)>,
}

impl Posteriors {
    pub(crate) fn new(ln_p_evidence: f64, marginals: Vec<(VarId, Vec<f64>)>) -> Posteriors {
        Posteriors {
            ln_p_evidence,
            marginals,
        }
    }

    /// `ln P(e)`: the natural log of the probability of the evidence, soft evidence multiplied in.
    pub fn ln_p_evidence(&self) -> f64 {
        self.ln_p_evidence
    }

    /// `P(var | e)` over `var`'s states, if `var` was a target.
    pub fn marginal(&self, var: VarId) -> Option<&[f64]> {
        self.marginals
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, p)| p.as_slice())
    }

    /// All marginals in target order.
    pub fn iter(&self) -> impl Iterator<Item = (VarId, &[f64])> {
        self.marginals.iter().map(|(v, p)| (*v, p.as_slice()))
    }
}

/// An answer with its provenance: which engine ran, why (for the automatic choice), and, for
/// sampling engines, the error bars and run statistics.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Answer {
    /// The engine that computed the posteriors.
    pub engine: EngineKind,
    /// Why this engine ran, when it was chosen automatically.
    pub reason: Option<String>,
    /// Posterior marginals and `ln P(e)` (estimates, for sampling engines).
    pub posteriors: Posteriors,
    /// Error bars and run statistics of sampling engines; `None` for exact answers.
    pub sampling: Option<SamplingStats>,
}

/// One exact or approximate way of computing posteriors. Engines are immutable after
/// construction, so one engine serves concurrent queries.
///
/// [`answer_until`](Self::answer_until) is the one implementation every engine gives; the
/// other entry points call it with a token that is never cancelled.
pub trait InferenceEngine: Send + Sync {
    /// `P(t | e)` for each target `t` (all variables if `targets` is empty) and `ln P(e)`.
    ///
    /// # Errors
    /// [`InferenceError::ImpossibleEvidence`] when `P(e) = 0`; [`InferenceError::ForeignId`]
    /// for ids that are not from this engine's network.
    fn posteriors(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
    ) -> Result<Posteriors, InferenceError> {
        Ok(self.answer(evidence, targets)?.posteriors)
    }

    /// As [`posteriors`](Self::posteriors), with the engine that ran, why, and (for sampling
    /// engines) error bars.
    ///
    /// # Errors
    /// As [`posteriors`](Self::posteriors).
    fn answer(&self, evidence: &Evidence, targets: &[VarId]) -> Result<Answer, InferenceError> {
        self.answer_until(evidence, targets, &CancelToken::new())
    }

    /// As [`answer`](Self::answer), stopping with [`InferenceError::Interrupted`] within about
    /// 100 ms of `cancel` being cancelled or its deadline passing.
    ///
    /// # Errors
    /// As [`posteriors`](Self::posteriors), and [`InferenceError::Interrupted`].
    fn answer_until(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
        cancel: &CancelToken,
    ) -> Result<Answer, InferenceError>;

    /// The network the engine answers for.
    fn network(&self) -> &Network;

    /// Which engine this is.
    fn kind(&self) -> EngineKind;
}

/// The engines a caller can choose by name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// Exact when the junction tree fits the memory budget, else a sampler (`auto`).
    #[default]
    Auto,
    /// Junction tree (`jt`).
    JunctionTree,
    /// Variable elimination (`ve`).
    VariableElimination,
    /// Enumeration of the joint (`enum`), for small networks.
    Enumeration,
    /// Likelihood weighting (`lw`).
    LikelihoodWeighting,
    /// Gibbs sampling (`gibbs`).
    Gibbs,
    /// Forward sampling with rejection (`rejection`).
    Rejection,
    /// EPIS-BN importance sampling (`epis`).
    Epis,
}

impl EngineKind {
    /// The short name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Auto => "auto",
            EngineKind::JunctionTree => "jt",
            EngineKind::VariableElimination => "ve",
            EngineKind::Enumeration => "enum",
            EngineKind::LikelihoodWeighting => "lw",
            EngineKind::Gibbs => "gibbs",
            EngineKind::Rejection => "rejection",
            EngineKind::Epis => "epis",
        }
    }

    /// Whether the engine samples (and so answers with error bars).
    pub fn is_sampler(self) -> bool {
        SamplingMethod::of(self).is_some()
    }
}

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EngineKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jt" | "junction-tree" => Ok(EngineKind::JunctionTree),
            "ve" | "variable-elimination" => Ok(EngineKind::VariableElimination),
            "enum" | "enumeration" => Ok(EngineKind::Enumeration),
            "lw" | "likelihood-weighting" => Ok(EngineKind::LikelihoodWeighting),
            "gibbs" => Ok(EngineKind::Gibbs),
            "rejection" | "logic" => Ok(EngineKind::Rejection),
            "epis" | "epis-bn" => Ok(EngineKind::Epis),
            "auto" => Ok(EngineKind::Auto),
            other => Err(format!(
                "unknown engine '{other}' (valid: auto, jt, ve, enum, lw, gibbs, rejection, epis)"
            )),
        }
    }
}

/// Builds the engine `kind` over `network`: the exact engines ignore `config`, the samplers
/// ignore `budget`, and [`AutoEngine`] uses both.
///
/// # Errors
/// [`InferenceError::OverBudget`] for a junction tree over `budget`,
/// [`InferenceError::TooLargeToEnumerate`], or [`InferenceError::InvalidSettings`].
pub fn build_engine(
    kind: EngineKind,
    network: Arc<Network>,
    budget: &Budget,
    config: &SamplingConfig,
) -> Result<Box<dyn InferenceEngine>, InferenceError> {
    Ok(match kind {
        EngineKind::Auto => Box::new(AutoEngine::new(network, budget, config.clone())?),
        EngineKind::JunctionTree => Box::new(JunctionTree::compile(network, budget)?),
        EngineKind::VariableElimination => Box::new(VariableElimination::new(network)),
        EngineKind::Enumeration => Box::new(Enumeration::new(network)?),
        sampler => {
            let method = SamplingMethod::of(sampler).ok_or(InferenceError::NotASampler(sampler))?;
            Box::new(Sampler::new(network, method, config.clone())?)
        }
    })
}

/// The answer of an exact engine: no reason, no error bars.
pub(crate) fn exact(kind: EngineKind, posteriors: Posteriors) -> Answer {
    Answer {
        engine: kind,
        reason: None,
        posteriors,
        sampling: None,
    }
}

/// Checks that every evidence and target id belongs to `network`.
pub(crate) fn check_ids(
    network: &Network,
    evidence: &Evidence,
    targets: &[VarId],
) -> Result<(), InferenceError> {
    let n = network.n_variables();
    for var in evidence.variables().chain(targets.iter().copied()) {
        if var.index() >= n {
            return Err(InferenceError::ForeignId(format!("variable {var}")));
        }
    }
    for (&var, &state) in evidence.hard() {
        if state >= network.cardinality(var) {
            return Err(InferenceError::ForeignId(format!("state {state} of {var}")));
        }
    }
    for (&var, values) in evidence.soft() {
        if values.len() != network.cardinality(var) {
            return Err(InferenceError::ForeignId(format!("likelihood of {var}")));
        }
    }
    Ok(())
}

/// The targets to answer: all variables when none are named, else the named ones deduplicated.
pub(crate) fn resolve_targets(network: &Network, targets: &[VarId]) -> Vec<VarId> {
    if targets.is_empty() {
        return network.variable_ids().collect();
    }
    let mut seen = vec![false; network.n_variables()];
    targets
        .iter()
        .copied()
        .filter(|t| !std::mem::replace(&mut seen[t.index()], true))
        .collect()
}

/// Divides `values` by their sum and returns the sum.
pub(crate) fn normalize(values: &mut [f64]) -> f64 {
    let sum: f64 = values.iter().sum();
    if sum > 0.0 {
        values.iter_mut().for_each(|v| *v /= sum);
    }
    sum
}

pub(crate) fn impossible(network: &Network, evidence: &Evidence) -> InferenceError {
    InferenceError::ImpossibleEvidence {
        evidence: evidence.describe(network),
    }
}
