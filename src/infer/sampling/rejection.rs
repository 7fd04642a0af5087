//! Forward (logic) sampling with rejection (Henrion 1988; Koller & Friedman 2009, §12.1): every
//! variable is drawn from its CPT in topological order and a sample survives only if it agrees
//! with the hard evidence. Soft evidence `λ` is honoured by accepting a sample with probability
//! `λ(x) / max λ`, so survivors are exact draws from the posterior and the acceptance rate
//! times `Π max λ` estimates `P(e)`.
//!
//! A sample is abandoned at the first observed variable it contradicts, which is what makes
//! rejection cheap when the evidence is likely and hopeless when it is not.

use super::kernel::{CompiledNetwork, Draw, Proposal};
use crate::evidence::Evidence;
use crate::model::VarId;

/// The rejection proposal and `ln Π max λ`, the constant that turns the acceptance rate into
/// an estimate of `P(e)`.
pub(crate) fn proposal(network: &CompiledNetwork, evidence: &Evidence) -> (Proposal, f64) {
    let mut weight = vec![1.0; network.prob.len()];
    let mut ln_offset = 0.0;
    let draws = network
        .nodes
        .iter()
        .map(|node| {
            let var = VarId::new(node.var);
            let soft = evidence.soft_likelihood(var);
            match (evidence.hard_state(var), soft) {
                (None, None) => Draw::Free,
                (Some(state), soft) => {
                    let scale = soft.map_or(1.0, |likelihood| likelihood[state]);
                    if scale == 0.0 {
                        // The soft finding rules out the observed state: no sample can survive.
                        return Draw::Check(u32::MAX);
                    }
                    ln_offset += scale.ln();
                    Draw::Check(state as u32)
                }
                (None, Some(likelihood)) => {
                    let max = likelihood.iter().copied().fold(0.0, f64::max);
                    ln_offset += max.ln();
                    let range = node.cpt_offset..node.cpt_offset + network.cpt_len(node);
                    for row in weight[range].chunks_mut(node.card) {
                        for (w, l) in row.iter_mut().zip(likelihood) {
                            *w = l / max;
                        }
                    }
                    Draw::Accept
                }
            }
        })
        .collect();
    let proposal = Proposal {
        cdf: network.cdf.clone(),
        weight,
        draws,
    };
    (proposal, ln_offset)
}
