//! The automatic engine: exact when it fits, sampling when it must, and always saying which.

use super::{
    Answer, Budget, EngineKind, InferenceEngine, InferenceError, JunctionTree, Sampler,
    SamplingConfig, SamplingMethod, format_bytes,
};
use crate::cancel::CancelToken;
use crate::evidence::Evidence;
use crate::model::{Network, VarId};
use std::sync::Arc;

/// Likelihood weighting is kept when its pilot's effective sample size is at least this share
/// of the pilot's draws; below it, EPIS-BN's evidence-shaped proposal pays for its set-up.
const LW_MIN_ESS_FRACTION: f64 = 0.05;

/// The engine behind `auto`, the default.
///
/// It compiles the junction tree when its cost estimate fits the memory budget and then answers
/// every query exactly. Otherwise it samples: likelihood weighting when a one-block pilot
/// (4096 draws) keeps at least 5% of its samples effective, EPIS-BN importance sampling when the
/// evidence is too unlikely for that. Gibbs is never chosen automatically: independent samples
/// give error bars without mixing diagnostics. Each [`Answer`] names the engine that ran and why.
pub struct AutoEngine {
    network: Arc<Network>,
    exact: Option<JunctionTree>,
    sampler: Option<Sampler>,
    /// Why exact inference was or was not possible.
    why: String,
}

impl AutoEngine {
    /// Compiles the junction tree if it fits `budget`, else prepares the samplers with `config`.
    ///
    /// # Errors
    /// [`InferenceError::InvalidSettings`] for unusable sampling settings (only checked when
    /// sampling is needed).
    pub fn new(
        network: Arc<Network>,
        budget: &Budget,
        config: SamplingConfig,
    ) -> Result<AutoEngine, InferenceError> {
        AutoEngine::new_until(network, budget, config, &CancelToken::new())
    }

    /// As [`new`](Self::new), stopping the compilation when `cancel` says so.
    ///
    /// # Errors
    /// As [`new`](Self::new), and [`InferenceError::Interrupted`].
    pub fn new_until(
        network: Arc<Network>,
        budget: &Budget,
        config: SamplingConfig,
        cancel: &CancelToken,
    ) -> Result<AutoEngine, InferenceError> {
        match JunctionTree::compile_until(network.clone(), budget, cancel) {
            Ok(tree) => {
                let why = format!(
                    "the junction tree needs {}, within the memory budget of {}",
                    format_bytes(tree.cost().bytes),
                    format_bytes(budget.max_bytes as f64)
                );
                Ok(AutoEngine {
                    network,
                    exact: Some(tree),
                    sampler: None,
                    why,
                })
            }
            Err(InferenceError::OverBudget {
                estimate, budget, ..
            }) => {
                let why = format!(
                    "the junction tree would need {}, over the memory budget of {budget}",
                    format_bytes(estimate.bytes)
                );
                let sampler =
                    Sampler::new(network.clone(), SamplingMethod::LikelihoodWeighting, config)?;
                Ok(AutoEngine {
                    network,
                    exact: None,
                    sampler: Some(sampler),
                    why,
                })
            }
            Err(other) => Err(other),
        }
    }

    /// The sampling engine for a network already known to be over `budget` (`estimate` is its
    /// tree's cost), built from `sampler`, whose compiled tables it shares: nothing is
    /// triangulated again. A server keeps one sampler per network and builds this per query.
    pub fn over_budget(
        network: Arc<Network>,
        sampler: Sampler,
        estimate: &super::CostEstimate,
        budget: &Budget,
    ) -> AutoEngine {
        let why = format!(
            "the junction tree would need {}, over the memory budget of {}",
            format_bytes(estimate.bytes),
            format_bytes(budget.max_bytes as f64)
        );
        AutoEngine {
            network,
            exact: None,
            sampler: Some(sampler),
            why,
        }
    }

    /// Whether queries are answered exactly.
    pub fn is_exact(&self) -> bool {
        self.exact.is_some()
    }
}

impl InferenceEngine for AutoEngine {
    fn answer_until(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
        cancel: &CancelToken,
    ) -> Result<Answer, InferenceError> {
        if let Some(tree) = &self.exact {
            let mut answer = tree.answer_until(evidence, targets, cancel)?;
            answer.reason = Some(format!("exact: {}", self.why));
            return Ok(answer);
        }
        let sampler = self.sampler.as_ref().expect("sampler when not exact");
        let (method, because) = if evidence.is_empty() {
            (
                SamplingMethod::LikelihoodWeighting,
                "no evidence, so likelihood weighting (every weight is 1)".to_string(),
            )
        } else {
            let fraction = sampler.pilot_ess_fraction(evidence, cancel)?;
            if fraction >= LW_MIN_ESS_FRACTION {
                (
                    SamplingMethod::LikelihoodWeighting,
                    format!(
                        "a likelihood-weighting pilot kept {:.1}% of its samples effective, so likelihood weighting",
                        100.0 * fraction
                    ),
                )
            } else {
                (
                    SamplingMethod::Epis,
                    format!(
                        "a likelihood-weighting pilot kept only {:.2}% of its samples effective, so EPIS-BN importance sampling",
                        100.0 * fraction
                    ),
                )
            }
        };
        let mut answer = sampler
            .with_method(method)
            .sample_until(evidence, targets, cancel)?;
        answer.reason = Some(format!("{}; {because}", self.why));
        Ok(answer)
    }

    fn network(&self) -> &Network {
        &self.network
    }

    fn kind(&self) -> EngineKind {
        EngineKind::Auto
    }
}
