//! Brute force: walks every joint assignment. Exponential, so only for small networks, where it
//! is the independent oracle the other engines are tested against.

use super::{
    Answer, InferenceEngine, InferenceError, Posteriors, check_ids, exact, impossible, normalize,
    resolve_targets,
};
use crate::cancel::CancelToken;
use crate::evidence::Evidence;
use crate::model::{Network, VarId};
use std::sync::Arc;

/// Joint states beyond which [`Enumeration::new`] refuses.
pub const MAX_JOINT_STATES: usize = 1 << 24;

/// The enumeration engine.
#[derive(Clone, Debug)]
pub struct Enumeration {
    network: Arc<Network>,
}

impl Enumeration {
    /// An engine over `network`.
    ///
    /// # Errors
    /// [`InferenceError::TooLargeToEnumerate`] beyond [`MAX_JOINT_STATES`] joint states.
    pub fn new(network: Arc<Network>) -> Result<Enumeration, InferenceError> {
        let n_joint_states: f64 = network
            .variables()
            .iter()
            .map(|v| v.cardinality() as f64)
            .product();
        if n_joint_states > MAX_JOINT_STATES as f64 {
            return Err(InferenceError::TooLargeToEnumerate {
                network: network.name().to_string(),
                n_joint_states,
                limit: MAX_JOINT_STATES,
            });
        }
        Ok(Enumeration { network })
    }
}

/// Assignments walked between two checks of the cancellation token.
const CHECK_EVERY: u64 = 1 << 14;

impl InferenceEngine for Enumeration {
    fn answer_until(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
        cancel: &CancelToken,
    ) -> Result<Answer, InferenceError> {
        let posteriors = self.query(evidence, targets, cancel)?;
        Ok(exact(self.kind(), posteriors))
    }

    fn network(&self) -> &Network {
        &self.network
    }

    fn kind(&self) -> super::EngineKind {
        super::EngineKind::Enumeration
    }
}

impl Enumeration {
    fn query(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
        cancel: &CancelToken,
    ) -> Result<Posteriors, InferenceError> {
        let network = &*self.network;
        check_ids(network, evidence, targets)?;
        let targets = resolve_targets(network, targets);
        let n = network.n_variables();
        let likelihoods: Vec<Option<Vec<f64>>> = network
            .variable_ids()
            .map(|v| evidence.likelihood_rescaled(v, network.cardinality(v)))
            .collect();
        let mut sums: Vec<Vec<f64>> = network
            .variable_ids()
            .map(|v| vec![0.0; network.cardinality(v)])
            .collect();
        let mut total = 0.0;
        let mut assignment = vec![0usize; n];
        for walked in 0u64.. {
            if walked % CHECK_EVERY == 0 {
                cancel.check()?;
            }
            let mut p = 1.0;
            for var in network.variable_ids() {
                let cpt = network.cpt(var);
                let mut index = 0;
                for &parent in cpt.parents() {
                    index = index * network.cardinality(parent) + assignment[parent.index()];
                }
                index = index * network.cardinality(var) + assignment[var.index()];
                p *= cpt.values()[index];
                if let Some(likelihood) = &likelihoods[var.index()] {
                    p *= likelihood[assignment[var.index()]];
                }
            }
            total += p;
            for (var, sum) in sums.iter_mut().enumerate() {
                sum[assignment[var]] += p;
            }
            // Next assignment, last variable fastest.
            let mut d = n;
            loop {
                if d == 0 {
                    return finish(network, evidence, &targets, total, sums);
                }
                d -= 1;
                assignment[d] += 1;
                if assignment[d] < network.cardinality(VarId::new(d)) {
                    break;
                }
                assignment[d] = 0;
            }
        }
        unreachable!("the walk ends at the last assignment")
    }
}

fn finish(
    network: &Network,
    evidence: &Evidence,
    targets: &[VarId],
    total: f64,
    mut sums: Vec<Vec<f64>>,
) -> Result<Posteriors, InferenceError> {
    if total <= 0.0 {
        return Err(impossible(network, evidence));
    }
    let marginals = targets
        .iter()
        .map(|&v| {
            let mut marginal = std::mem::take(&mut sums[v.index()]);
            normalize(&mut marginal);
            (v, marginal)
        })
        .collect();
    let ln_p_evidence = if evidence.is_empty() {
        0.0
    } else {
        total.ln() + evidence.ln_soft_scale()
    };
    Ok(Posteriors::new(ln_p_evidence, marginals))
}
