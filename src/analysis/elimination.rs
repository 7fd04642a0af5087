//! Variable elimination over [`Factor`]s with sums or maxima, for the analyses that need more
//! than one-variable marginals: sum-product (Koller & Friedman 2009, §9.3) and max-product
//! with traceback (§13.2). Every message is divided by its total (sums) or its maximum
//! (maxima) and the logs of those scales are summed, so long products cannot underflow.

use super::AnalysisError;
use crate::cancel::CancelToken;
use crate::evidence::Evidence;
use crate::factor::{Factor, Projection};
use crate::graph::{Graph, Heuristic, elimination_order_until};
use crate::model::{Network, VarId};

/// Largest product (in entries) an elimination builds: 2^27 entries are 1 GiB of `f64`. MAP's
/// constrained order (sums before maxima) can need far larger tables than the junction tree.
pub const MAX_ELIMINATION_ENTRIES: usize = 1 << 27;

/// Ancestors of `seeds`, the seeds included.
pub(super) fn ancestral_set(
    network: &Network,
    seeds: impl IntoIterator<Item = VarId>,
) -> Vec<bool> {
    let mut marked = vec![false; network.n_variables()];
    let mut stack: Vec<VarId> = seeds.into_iter().collect();
    while let Some(var) = stack.pop() {
        if !std::mem::replace(&mut marked[var.index()], true) {
            stack.extend_from_slice(network.parents(var));
        }
    }
    marked
}

/// The factors whose product is `P(x, e)` over the `relevant` variables, and `ln` of the
/// constants that hard evidence reduced some of them to.
///
/// `relevant` must be closed under parents and hold every variable with a finding: the CPTs
/// of the other variables (barren ones) sum to one and are left out. Hard evidence on a
/// variable removes it from every scope (the slice at the observed state), except for
/// variables in `keep`, which stay in scope under an indicator factor. The CPT of `skip`, if
/// any, is left out (sensitivity needs the product of everything else). `None` means a
/// constant was zero: `P(e) = 0`.
pub(super) fn evidence_factors(
    network: &Network,
    evidence: &Evidence,
    relevant: &[bool],
    keep: &[VarId],
    skip: Option<VarId>,
) -> Option<(Vec<Factor>, f64)> {
    let mut raw = Vec::new();
    for var in network.variable_ids().filter(|v| relevant[v.index()]) {
        if Some(var) != skip {
            raw.push(Factor::from_cpt(network, var));
        }
        if let Some(likelihood) = evidence.soft_likelihood(var) {
            raw.push(Factor::unary(var, likelihood.to_vec()));
        }
        if let Some(state) = evidence.hard_state(var)
            && keep.contains(&var)
        {
            let mut indicator = vec![0.0; network.cardinality(var)];
            indicator[state] = 1.0;
            raw.push(Factor::unary(var, indicator));
        }
    }
    let mut factors = Vec::with_capacity(raw.len());
    // The soft evidence was rescaled to a largest entry of 1.
    let mut ln_constant = evidence.ln_soft_scale();
    for mut factor in raw {
        for var in factor.vars().to_vec() {
            if let Some(state) = evidence.hard_state(var)
                && !keep.contains(&var)
            {
                factor = factor.reduce(var, state);
            }
        }
        if factor.vars().is_empty() {
            let value = factor.values()[0];
            if value <= 0.0 {
                return None;
            }
            ln_constant += value.ln();
        } else {
            factors.push(factor);
        }
    }
    Some((factors, ln_constant))
}

/// How a variable is eliminated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Combine {
    /// Summed out.
    Sum,
    /// Maximised out.
    Max,
}

/// The factor over `f`'s scope without `var`, holding the maximum over `var`.
fn max_out(factor: &Factor, var: VarId) -> Factor {
    let keep: Vec<VarId> = factor
        .vars()
        .iter()
        .copied()
        .filter(|&v| v != var)
        .collect();
    let cards: Vec<usize> = factor
        .vars()
        .iter()
        .zip(factor.cards())
        .filter(|(v, _)| **v != var)
        .map(|(_, &c)| c)
        .collect();
    let projection = Projection::new(factor.vars(), factor.cards(), &keep);
    let mut values = vec![0.0; projection.small_len()];
    projection.max_into(factor.values(), &mut values);
    Factor::from_table(&keep, &cards, &values)
}

/// The product of `factors` (the constant 1 when there are none).
pub(super) fn product(factors: Vec<Factor>) -> Factor {
    factors
        .into_iter()
        .reduce(|a, b| a.product(&b))
        .unwrap_or_else(|| Factor::scalar(1.0))
}

/// Eliminates every variable marked in `eliminate` that occurs in `factors`, in greedy
/// weighted-min-fill order over the factors' interaction graph. Returns the factors left and
/// `ln` of the scales divided out. With `trace`, each eliminated variable is recorded with the
/// product it was eliminated from, in elimination order (max-product traceback reads it
/// backwards). `Ok(None)` means a message was all zeros: the evidence is impossible.
///
/// # Errors
/// [`AnalysisError::EliminationTooLarge`] before building a product over more than
/// [`MAX_ELIMINATION_ENTRIES`] entries; [`Interrupted`](crate::InferenceError::Interrupted)
/// when `cancel` stops it (checked at every variable).
pub(super) fn eliminate(
    network: &Network,
    mut factors: Vec<Factor>,
    eliminate: &[bool],
    combine: Combine,
    mut trace: Option<&mut Vec<(VarId, Factor)>>,
    cancel: &CancelToken,
) -> Result<Option<(Vec<Factor>, f64)>, AnalysisError> {
    let weights = network
        .variables()
        .iter()
        .map(|v| v.cardinality() as f64)
        .collect();
    let mut graph = Graph::new(weights);
    let mut eligible = vec![false; network.n_variables()];
    for factor in &factors {
        for (i, a) in factor.vars().iter().enumerate() {
            eligible[a.index()] = eliminate[a.index()];
            for b in &factor.vars()[i + 1..] {
                graph.add_edge(a.index(), b.index());
            }
        }
    }
    let order = elimination_order_until(&graph, Heuristic::WeightedMinFill, &eligible, cancel)?;
    let mut ln_scale = 0.0;
    for v in order {
        cancel.check()?;
        let var = VarId::new(v);
        let (with, without): (Vec<Factor>, Vec<Factor>) =
            factors.into_iter().partition(|f| f.contains(var));
        factors = without;
        let mut scope: Vec<VarId> = with.iter().flat_map(|f| f.vars().iter().copied()).collect();
        scope.sort_unstable();
        scope.dedup();
        let entries: f64 = scope
            .iter()
            .map(|&v| network.cardinality(v) as f64)
            .product();
        if entries > MAX_ELIMINATION_ENTRIES as f64 {
            return Err(AnalysisError::EliminationTooLarge {
                variable: network.variable(var).name().to_string(),
                entries,
                limit: MAX_ELIMINATION_ENTRIES,
            });
        }
        let joined = product(with);
        let mut message = match combine {
            Combine::Sum => joined.sum_out(var),
            Combine::Max => max_out(&joined, var),
        };
        let scale = match combine {
            Combine::Sum => message.total(),
            Combine::Max => message.values().iter().copied().fold(0.0, f64::max),
        };
        if scale <= 0.0 || !scale.is_finite() {
            return Ok(None);
        }
        message.scale(1.0 / scale);
        ln_scale += scale.ln();
        if let Some(trace) = trace.as_deref_mut() {
            trace.push((var, joined));
        }
        factors.push(message);
    }
    Ok(Some((factors, ln_scale)))
}

/// `ln P(e)` by summing out every relevant variable; `Ok(None)` when `P(e) = 0`.
///
/// # Errors
/// As [`eliminate`].
pub(super) fn ln_p_evidence(
    network: &Network,
    evidence: &Evidence,
    cancel: &CancelToken,
) -> Result<Option<f64>, AnalysisError> {
    let relevant = ancestral_set(network, evidence.variables());
    let Some((factors, ln_constant)) = evidence_factors(network, evidence, &relevant, &[], None)
    else {
        return Ok(None);
    };
    let Some((rest, ln_scale)) =
        eliminate(network, factors, &relevant, Combine::Sum, None, cancel)?
    else {
        return Ok(None);
    };
    let total = product(rest).total();
    Ok((total > 0.0).then(|| ln_constant + ln_scale + total.ln()))
}

/// The entries of a factor over `vars` (a permutation of its scope) laid out row-major in the
/// order of `vars`, last fastest.
pub(super) fn values_in_order(factor: &Factor, vars: &[VarId]) -> Vec<f64> {
    let own = crate::factor::strides(factor.cards());
    let axis_strides: Vec<usize> = vars
        .iter()
        .map(|v| own[factor.vars().binary_search(v).expect("vars is the scope")])
        .collect();
    let cards: Vec<usize> = vars
        .iter()
        .map(|v| factor.cards()[factor.vars().binary_search(v).expect("vars is the scope")])
        .collect();
    let total: usize = cards.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut counters = vec![0usize; vars.len()];
    let mut offset = 0usize;
    for _ in 0..total {
        out.push(factor.values()[offset]);
        for d in (0..vars.len()).rev() {
            counters[d] += 1;
            offset += axis_strides[d];
            if counters[d] < cards[d] {
                break;
            }
            offset -= axis_strides[d] * cards[d];
            counters[d] = 0;
        }
    }
    out
}
