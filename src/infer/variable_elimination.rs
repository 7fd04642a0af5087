//! Variable elimination, with per-query pruning (Koller & Friedman 2009, §9.3 and §9.7.2).
//!
//! 1. Barren variables (neither targets, observed, nor ancestors of either) are dropped: they
//!    sum to one.
//! 2. CPTs are reduced by hard evidence, which removes observed variables from every scope and
//!    so cuts the arcs leaving them. The remaining factors fall into connected components. A
//!    component without targets contributes only a constant to `P(e)`: nothing when it carries
//!    no evidence (it sums to one), else its total, computed once.
//! 3. For each target, the other variables of its component are eliminated in greedy
//!    weighted-min-fill order. Every intermediate factor is normalised and its scale kept in log
//!    space, so long products cannot underflow. No product over [`MAX_TABLE_ENTRIES`] entries
//!    is built: the query fails first, naming the variable.

use super::{
    Answer, InferenceEngine, InferenceError, Posteriors, check_ids, exact, impossible, normalize,
    resolve_targets,
};
use crate::cancel::CancelToken;
use crate::evidence::Evidence;
use crate::factor::Factor;
use crate::graph::{Graph, Heuristic, elimination_order_until};
use crate::model::{Network, VarId};
use std::sync::Arc;

/// Largest product (in entries) variable elimination builds: 2^27 entries are 1 GiB of `f64`.
pub const MAX_TABLE_ENTRIES: usize = 1 << 27;

/// The variable-elimination engine. It holds only the network: there is nothing to compile.
#[derive(Clone, Debug)]
pub struct VariableElimination {
    network: Arc<Network>,
}

impl VariableElimination {
    /// An engine over `network`.
    pub fn new(network: Arc<Network>) -> VariableElimination {
        VariableElimination { network }
    }
}

/// Ancestors of `seeds`, the seeds included.
fn ancestral_set(network: &Network, seeds: impl Iterator<Item = VarId>) -> Vec<bool> {
    let mut marked = vec![false; network.n_variables()];
    let mut stack: Vec<VarId> = seeds.collect();
    while let Some(var) = stack.pop() {
        if !std::mem::replace(&mut marked[var.index()], true) {
            stack.extend_from_slice(network.parents(var));
        }
    }
    marked
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// Entries of the product of `factors`.
fn product_entries(network: &Network, factors: &[Factor]) -> f64 {
    let mut scope: Vec<VarId> = factors
        .iter()
        .flat_map(|f| f.vars().iter().copied())
        .collect();
    scope.sort_unstable();
    scope.dedup();
    scope
        .iter()
        .map(|&v| network.cardinality(v) as f64)
        .product()
}

/// Eliminates `order` from `factors`; returns the product of what is left and `ln` of the
/// scales divided out on the way. `Ok(None)` means some factor became all zeros: `P(e) = 0`.
fn eliminate(
    network: &Network,
    mut factors: Vec<Factor>,
    order: &[usize],
    cancel: &CancelToken,
) -> Result<Option<(Factor, f64)>, InferenceError> {
    let too_large = |var: VarId, entries: f64| InferenceError::TableTooLarge {
        variable: network.variable(var).name().to_string(),
        entries,
        limit: MAX_TABLE_ENTRIES,
    };
    let mut ln_scale = 0.0;
    for &v in order {
        cancel.check()?;
        let var = VarId::new(v);
        let (with, without): (Vec<Factor>, Vec<Factor>) =
            factors.into_iter().partition(|f| f.contains(var));
        factors = without;
        let entries = product_entries(network, &with);
        if entries > MAX_TABLE_ENTRIES as f64 {
            return Err(too_large(var, entries));
        }
        let Some(product) = with.into_iter().reduce(|a, b| a.product(&b)) else {
            continue;
        };
        let mut message = product.sum_out(var);
        let total = message.total();
        if total <= 0.0 || !total.is_finite() {
            return Ok(None);
        }
        message.scale(1.0 / total);
        ln_scale += total.ln();
        factors.push(message);
    }
    let entries = product_entries(network, &factors);
    if entries > MAX_TABLE_ENTRIES as f64 {
        let last = factors.iter().flat_map(|f| f.vars()).next().copied();
        return Err(too_large(last.unwrap_or(VarId::new(0)), entries));
    }
    let result = factors
        .into_iter()
        .reduce(|a, b| a.product(&b))
        .unwrap_or_else(|| Factor::scalar(1.0));
    Ok(Some((result, ln_scale)))
}

impl InferenceEngine for VariableElimination {
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
        super::EngineKind::VariableElimination
    }
}

impl VariableElimination {
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
        let fail = || impossible(network, evidence);

        let relevant = ancestral_set(network, targets.iter().copied().chain(evidence.variables()));
        let mut ln_p_evidence = 0.0;
        // (factor, whether evidence touched it)
        let mut factors: Vec<(Factor, bool)> = Vec::new();
        for var in network.variable_ids().filter(|v| relevant[v.index()]) {
            let mut factor = Factor::from_cpt(network, var);
            let mut touched = false;
            if let Some(likelihood) = evidence.soft_likelihood(var) {
                factor.multiply_unary(var, likelihood);
                touched = true;
            }
            for &scope_var in &factor.vars().to_vec() {
                if let Some(state) = evidence.hard_state(scope_var) {
                    factor = factor.reduce(scope_var, state);
                    touched = true;
                }
            }
            if factor.vars().is_empty() {
                let value = factor.values()[0];
                if value <= 0.0 {
                    return Err(fail());
                }
                ln_p_evidence += value.ln();
            } else {
                factors.push((factor, touched));
            }
        }

        let mut component: Vec<usize> = (0..n).collect();
        for (factor, _) in &factors {
            let first = factor.vars()[0].index();
            for var in &factor.vars()[1..] {
                let (a, b) = (
                    find(&mut component, first),
                    find(&mut component, var.index()),
                );
                component[a] = b;
            }
        }
        let roots: Vec<usize> = factors
            .iter()
            .map(|(f, _)| find(&mut component, f.vars()[0].index()))
            .collect();
        let mut component_roots = roots.clone();
        component_roots.sort_unstable();
        component_roots.dedup();

        let weights: Vec<f64> = network
            .variables()
            .iter()
            .map(|v| v.cardinality() as f64)
            .collect();
        let mut marginals: Vec<Option<Vec<f64>>> = vec![None; n];
        for &root in &component_roots {
            let members: Vec<&(Factor, bool)> = factors
                .iter()
                .zip(&roots)
                .filter(|(_, r)| **r == root)
                .map(|(f, _)| f)
                .collect();
            let mut graph = Graph::new(weights.clone());
            let mut in_component = vec![false; n];
            for (factor, _) in &members {
                for (i, a) in factor.vars().iter().enumerate() {
                    in_component[a.index()] = true;
                    for b in &factor.vars()[i + 1..] {
                        graph.add_edge(a.index(), b.index());
                    }
                }
            }
            let component_targets: Vec<VarId> = targets
                .iter()
                .copied()
                .filter(|t| in_component[t.index()])
                .collect();
            let tables = || members.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>();
            if component_targets.is_empty() {
                if members.iter().any(|(_, touched)| *touched) {
                    let order = elimination_order_until(
                        &graph,
                        Heuristic::WeightedMinFill,
                        &in_component,
                        cancel,
                    )?;
                    let (rest, ln_scale) =
                        eliminate(network, tables(), &order, cancel)?.ok_or_else(fail)?;
                    let total = rest.total();
                    if total <= 0.0 {
                        return Err(fail());
                    }
                    ln_p_evidence += ln_scale + total.ln();
                }
                continue;
            }
            for (i, &target) in component_targets.iter().enumerate() {
                let mut eligible = in_component.clone();
                eligible[target.index()] = false;
                let order =
                    elimination_order_until(&graph, Heuristic::WeightedMinFill, &eligible, cancel)?;
                let (rest, ln_scale) =
                    eliminate(network, tables(), &order, cancel)?.ok_or_else(fail)?;
                let mut marginal = rest.values().to_vec();
                let total = normalize(&mut marginal);
                if total <= 0.0 {
                    return Err(fail());
                }
                if i == 0 {
                    ln_p_evidence += ln_scale + total.ln();
                }
                marginals[target.index()] = Some(marginal);
            }
        }

        let marginals = targets
            .iter()
            .map(|&var| {
                let marginal = match evidence.hard_state(var) {
                    Some(state) => {
                        let mut one_hot = vec![0.0; network.cardinality(var)];
                        one_hot[state] = 1.0;
                        one_hot
                    }
                    None => marginals[var.index()]
                        .take()
                        .expect("every unobserved target lies in a component"),
                };
                (var, marginal)
            })
            .collect();
        Ok(Posteriors::new(
            ln_p_evidence + evidence.ln_soft_scale(),
            marginals,
        ))
    }
}
