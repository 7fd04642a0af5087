//! EPIS-BN: Evidence Pre-propagation Importance Sampling (C. Yuan and M. J. Druzdzel, "An
//! importance sampling algorithm based on evidence pre-propagation", *Proceedings of the 19th
//! Conference on Uncertainty in Artificial Intelligence (UAI-03)*, 2003, pp. 624–631).
//!
//! Likelihood weighting draws from the prior and so wastes almost every sample when the
//! evidence is unlikely. EPIS-BN first runs loopy belief propagation (Pearl's messages on the
//! network, iterated; Murphy, Weiss & Jordan, UAI 1999) to estimate `λ(x)`, the likelihood of
//! all evidence *below* each variable, and then samples each variable from the importance
//! conditional `Q(x | pa) ∝ P(x | pa) λ(x)`, which is the exact posterior conditional in a
//! polytree. The ε-cutoff heuristic (from AIS-BN, Cheng & Druzdzel, JAIR 13, 2000) then lifts
//! every possible state's proposal probability to at least ε, so the proposal's tails are no
//! lighter than the posterior's and no weight explodes. The weight of a sample is
//! `Π P(x | pa) λ_e(x) / Q(x | pa)`, with `λ_e` the hard and soft findings.
//!
//! Belief propagation only shapes the proposal: the answer is an importance-sampling estimate,
//! consistent whatever loopy propagation converges to, and states that evidence makes
//! impossible keep proposal probability zero. Each proposal row is also mixed with 20% of
//! likelihood weighting's row (a defensive mixture; see [`DEFENSIVE`]), our addition to the paper.

use super::kernel::{CompiledNetwork, Draw, Proposal, cumulate};
use crate::cancel::{CancelToken, Interrupted};
use crate::evidence::Evidence;
use crate::model::VarId;

/// Loopy propagation stops after this many sweeps if it has not converged.
const MAX_ITERATIONS: usize = 50;

/// ... or once no message entry changes by more than this.
const TOLERANCE: f64 = 1e-6;

/// Share of likelihood weighting's row mixed into every proposal row (a defensive mixture,
/// Hesterberg, Technometrics 37, 1995). Ours, not the paper's: loopy propagation double-counts
/// evidence that reaches a variable along two paths of a loop, and then puts far too little
/// proposal mass on regions the posterior still holds (on alarm, a cauterisation error behind
/// two observed heart-rate readings); the mixture bounds each factor of the weight by
/// `1 / DEFENSIVE`, so such regions are sampled at least as often as likelihood weighting
/// would, discounted by `DEFENSIVE` per variable.
const DEFENSIVE: f64 = 0.2;

/// The ε of the ε-cutoff for a variable with `card` states. These thresholds are ours: smaller
/// for variables with many states, so that the cutoff does not flatten their proposal.
fn epsilon(card: usize) -> f64 {
    match card {
        0..=4 => 0.006,
        5..=7 => 0.001,
        _ => 0.0005,
    }
}

/// Divides `values` by their sum; a zero vector becomes uniform (a message that rules
/// everything out says nothing useful about the proposal; the weights will tell).
fn normalize(values: &mut [f64]) {
    let sum: f64 = values.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        values.iter_mut().for_each(|v| *v /= sum);
    } else {
        let uniform = 1.0 / values.len() as f64;
        values.iter_mut().for_each(|v| *v = uniform);
    }
}

/// `λ(x)` of every variable after loopy belief propagation: the local findings times the
/// λ messages from all children, normalised.
fn loopy_lambdas(
    network: &CompiledNetwork,
    local: &[Vec<f64>],
    cancel: &CancelToken,
) -> Result<Vec<Vec<f64>>, Interrupted> {
    let n_edges = network.parent_strides.len();
    let card = |var: usize| network.node(var).card;
    // Edge j runs from parent `parent_strides[j].0` to the child owning slot j.
    let mut offsets = Vec::with_capacity(n_edges + 1);
    let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); network.n_variables()];
    let mut total = 0;
    for (j, &(parent, _)) in network.parent_strides.iter().enumerate() {
        offsets.push(total);
        total += card(parent);
        out_edges[parent].push(j);
    }
    offsets.push(total);
    let message = |j: usize| offsets[j]..offsets[j + 1];
    let mut pi = vec![0.0; total];
    let mut lambda = vec![0.0; total];
    for j in 0..n_edges {
        let range = message(j);
        let uniform = 1.0 / range.len() as f64;
        pi[range.clone()].fill(uniform);
        lambda[range].fill(uniform);
    }
    let mut new_pi = pi.clone();
    let mut new_lambda = lambda.clone();
    let lambdas_of = |lambda: &[f64]| -> Vec<Vec<f64>> {
        (0..network.n_variables())
            .map(|var| {
                let mut values = local[var].clone();
                for &j in &out_edges[var] {
                    for (v, m) in values.iter_mut().zip(&lambda[message(j)]) {
                        *v *= m;
                    }
                }
                normalize(&mut values);
                values
            })
            .collect()
    };
    let mut pis_x: Vec<Vec<f64>> = (0..network.n_variables())
        .map(|v| vec![0.0; card(v)])
        .collect();
    let mut counters = Vec::new();
    let mut factors = Vec::new();
    let mut prefix = Vec::new();
    for _ in 0..MAX_ITERATIONS {
        let lam = lambdas_of(&lambda);
        // λ messages to parents and π(x), one pass over each CPT.
        for node in &network.nodes {
            cancel.check()?;
            let edges = node.parents.clone();
            let k = edges.len();
            let pi_x = &mut pis_x[node.var];
            pi_x.fill(0.0);
            for j in edges.clone() {
                new_lambda[message(j)].fill(0.0);
            }
            counters.clear();
            counters.resize(k, 0usize);
            let n_rows = network.cpt_len(node) / node.card;
            for row in 0..n_rows {
                let start = node.cpt_offset + row * node.card;
                let probs = &network.prob[start..start + node.card];
                factors.clear();
                for (slot, j) in edges.clone().enumerate() {
                    factors.push(pi[offsets[j] + counters[slot]]);
                }
                // prefix[i] = Π factors[..i], so Π_{i≠slot} = prefix[slot] · suffix.
                prefix.clear();
                prefix.push(1.0);
                for &f in &factors {
                    prefix.push(prefix.last().unwrap() * f);
                }
                let all = prefix[k];
                let s: f64 = probs.iter().zip(&lam[node.var]).map(|(p, l)| p * l).sum();
                for (x, &p) in probs.iter().enumerate() {
                    pi_x[x] += p * all;
                }
                let mut suffix = 1.0;
                for slot in (0..k).rev() {
                    let j = node.parents.start + slot;
                    new_lambda[offsets[j] + counters[slot]] += s * prefix[slot] * suffix;
                    suffix *= factors[slot];
                }
                // Next parent configuration, last parent fastest.
                for slot in (0..k).rev() {
                    counters[slot] += 1;
                    let parent = network.parent_strides[node.parents.start + slot].0;
                    if counters[slot] < card(parent) {
                        break;
                    }
                    counters[slot] = 0;
                }
            }
            for j in edges {
                normalize(&mut new_lambda[message(j)]);
            }
        }
        // π messages to children: π(x) λ_e(x) Π λ messages from the other children.
        for var in 0..network.n_variables() {
            for &j in &out_edges[var] {
                let range = message(j);
                for (x, v) in new_pi[range.clone()].iter_mut().enumerate() {
                    let mut value = pis_x[var][x] * local[var][x];
                    for &other in &out_edges[var] {
                        if other != j {
                            value *= lambda[offsets[other] + x];
                        }
                    }
                    *v = value;
                }
                normalize(&mut new_pi[range]);
            }
        }
        let change = pi
            .iter()
            .zip(&new_pi)
            .chain(lambda.iter().zip(&new_lambda))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        std::mem::swap(&mut pi, &mut new_pi);
        std::mem::swap(&mut lambda, &mut new_lambda);
        if change < TOLERANCE {
            break;
        }
    }
    Ok(lambdas_of(&lambda))
}

/// The EPIS-BN proposal for `evidence`.
pub(crate) fn proposal(
    network: &CompiledNetwork,
    evidence: &Evidence,
    cancel: &CancelToken,
) -> Result<Proposal, Interrupted> {
    let local: Vec<Vec<f64>> = (0..network.n_variables())
        .map(|var| {
            let card = network.node(var).card;
            evidence
                .likelihood_rescaled(VarId::new(var), card)
                .unwrap_or_else(|| vec![1.0; card])
        })
        .collect();
    let lambdas = if evidence.is_empty() {
        local.clone()
    } else {
        loopy_lambdas(network, &local, cancel)?
    };
    let mut cdf = network.cdf.clone();
    let mut weight = vec![1.0; network.prob.len()];
    let mut q = Vec::new();
    let draws = network
        .nodes
        .iter()
        .map(|node| {
            let var = node.var;
            let range = node.cpt_offset..node.cpt_offset + network.cpt_len(node);
            if let Some(state) = evidence.hard_state(VarId::new(var)) {
                for (row_weight, row_prob) in weight[range.clone()]
                    .chunks_mut(node.card)
                    .zip(network.prob[range].chunks(node.card))
                {
                    row_weight[state] = row_prob[state] * local[var][state];
                }
                return Draw::Fixed(state as u32);
            }
            let lambda = &lambdas[var];
            let has_finding = evidence
                .likelihood_rescaled(VarId::new(var), node.card)
                .is_some();
            if !has_finding && lambda.iter().all(|&l| l == lambda[0]) {
                // Evidence does not reach this variable: the prior is the exact conditional.
                return Draw::Free;
            }
            let eps = epsilon(node.card);
            for ((row_cdf, row_weight), row_prob) in cdf[range.clone()]
                .chunks_mut(node.card)
                .zip(weight[range.clone()].chunks_mut(node.card))
                .zip(network.prob[range].chunks(node.card))
            {
                q.clear();
                q.extend(row_prob.iter().zip(lambda).map(|(p, l)| p * l));
                let target = |x: usize| row_prob[x] * local[var][x];
                if q.iter().sum::<f64>() <= 0.0 {
                    // Propagation ruled this row out; fall back to likelihood weighting's row.
                    q.clear();
                    q.extend((0..node.card).map(target));
                }
                if q.iter().sum::<f64>() <= 0.0 {
                    row_weight.fill(0.0);
                    row_cdf.fill(0.0);
                    continue;
                }
                normalize(&mut q);
                // Defensive mixture with likelihood weighting's row (see DEFENSIVE).
                let target_sum: f64 = (0..node.card).map(target).sum();
                for (x, v) in q.iter_mut().enumerate() {
                    *v = (1.0 - DEFENSIVE) * *v + DEFENSIVE * target(x) / target_sum;
                }
                // ε-cutoff: lift every state the target allows to at least ε, renormalise.
                for (x, v) in q.iter_mut().enumerate() {
                    if target(x) > 0.0 {
                        *v = v.max(eps);
                    }
                }
                normalize(&mut q);
                for x in 0..node.card {
                    row_weight[x] = if q[x] > 0.0 { target(x) / q[x] } else { 0.0 };
                }
                row_cdf.copy_from_slice(&q);
                cumulate(row_cdf);
            }
            Draw::Weighted
        })
        .collect();
    Ok(Proposal { cdf, weight, draws })
}
