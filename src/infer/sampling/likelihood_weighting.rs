//! Likelihood weighting (Fung & Chang 1990; Shachter & Peot 1990; Koller & Friedman 2009,
//! §12.2.2): unobserved variables are drawn from their CPTs in topological order, and each
//! sample is weighted by the likelihood of the evidence given its parents.
//!
//! Soft evidence on a variable is treated as a virtual observed child: the variable is drawn
//! from `P(x | pa) λ(x)` normalised and the weight multiplied by the normaliser
//! `Σ_x P(x | pa) λ(x)`. Hard evidence is the indicator case of the same rule, so the mean
//! weight estimates `P(e)` with soft likelihoods multiplied in, as the exact engines define it.

use super::kernel::{CompiledNetwork, Draw, Proposal, cumulate};
use crate::evidence::Evidence;
use crate::model::VarId;

/// The likelihood-weighting proposal: the CPTs, with each evidence variable's rows replaced by
/// `P(x | pa) λ(x)` normalised and weighted by their sums.
pub(crate) fn proposal(network: &CompiledNetwork, evidence: &Evidence) -> Proposal {
    let mut cdf = network.cdf.clone();
    let mut weight = vec![1.0; network.prob.len()];
    let draws = network
        .nodes
        .iter()
        .map(|node| {
            let var = VarId::new(node.var);
            let Some(likelihood) = evidence.likelihood_rescaled(var, node.card) else {
                return Draw::Free;
            };
            let range = node.cpt_offset..node.cpt_offset + network.cpt_len(node);
            for ((row_cdf, row_weight), row_prob) in cdf[range.clone()]
                .chunks_mut(node.card)
                .zip(weight[range.clone()].chunks_mut(node.card))
                .zip(network.prob[range].chunks(node.card))
            {
                for ((q, p), l) in row_cdf.iter_mut().zip(row_prob).zip(&likelihood) {
                    *q = p * l;
                }
                let sum = cumulate(row_cdf);
                row_weight.iter_mut().for_each(|w| *w = sum);
            }
            match evidence.hard_state(var) {
                Some(state) => Draw::Fixed(state as u32),
                None => Draw::Weighted,
            }
        })
        .collect();
    Proposal { cdf, weight, draws }
}
