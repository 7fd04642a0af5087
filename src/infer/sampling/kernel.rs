//! The compiled network every sampler walks, the per-query proposal tables, and the one sampling
//! loop that likelihood weighting, rejection sampling and EPIS-BN share.
//!
//! A sample is drawn in topological order with one uniform draw per variable: the variable's
//! row of the proposal's cumulative table is found from precomputed parent strides, the state
//! is the first entry above the draw, and the weight is multiplied by the proposal's weight
//! entry. Nothing is allocated per sample.

use super::rng::Rng;
use crate::model::Network;
use std::ops::Range;

/// One variable, as the sampling loop needs it.
#[derive(Clone, Debug)]
pub(crate) struct Node {
    /// Variable index.
    pub var: usize,
    /// Number of states.
    pub card: usize,
    /// Where the variable's CPT starts in the flat tables.
    pub cpt_offset: usize,
    /// The variable's `(parent index, stride)` pairs in [`CompiledNetwork::parent_strides`].
    pub parents: Range<usize>,
}

/// A network flattened for sampling: CPTs concatenated, parent strides precomputed.
#[derive(Clone, Debug)]
pub(crate) struct CompiledNetwork {
    /// Variables in topological order.
    pub nodes: Vec<Node>,
    /// Position of each variable (by index) in `nodes`.
    pub position: Vec<usize>,
    /// `(parent index, stride in the CPT)` for every node, in `nodes` order.
    pub parent_strides: Vec<(usize, usize)>,
    /// All CPTs, concatenated (each row-major with the child fastest).
    pub prob: Vec<f64>,
    /// Row-wise cumulative sums of `prob`, each row ending in exactly 1 (see [`cumulate`]).
    pub cdf: Vec<f64>,
    /// Children of each variable (by index).
    pub children: Vec<Vec<usize>>,
    /// Whether a variable's CPT has a zero entry (a deterministic or logical relation).
    pub has_zero: Vec<bool>,
}

impl CompiledNetwork {
    pub(crate) fn new(network: &Network) -> CompiledNetwork {
        let n = network.n_variables();
        let mut by_var_offset = vec![0usize; n];
        let mut prob = Vec::new();
        for var in network.variable_ids() {
            by_var_offset[var.index()] = prob.len();
            prob.extend_from_slice(network.cpt(var).values());
        }
        let mut nodes = Vec::with_capacity(n);
        let mut parent_strides = Vec::new();
        for &var in network.topological_order() {
            let card = network.cardinality(var);
            let parents = network.parents(var);
            let start = parent_strides.len();
            let mut stride = card;
            let mut pairs: Vec<(usize, usize)> = Vec::with_capacity(parents.len());
            for &parent in parents.iter().rev() {
                pairs.push((parent.index(), stride));
                stride *= network.cardinality(parent);
            }
            pairs.reverse();
            parent_strides.extend(pairs);
            nodes.push(Node {
                var: var.index(),
                card,
                cpt_offset: by_var_offset[var.index()],
                parents: start..parent_strides.len(),
            });
        }
        let mut position = vec![0; n];
        for (i, node) in nodes.iter().enumerate() {
            position[node.var] = i;
        }
        let mut cdf = prob.clone();
        for node in &nodes {
            let size = network
                .cpt(crate::model::VarId::new(node.var))
                .values()
                .len();
            for row in cdf[node.cpt_offset..node.cpt_offset + size].chunks_mut(node.card) {
                cumulate(row);
            }
        }
        let children = network
            .variable_ids()
            .map(|v| network.children(v).iter().map(|c| c.index()).collect())
            .collect();
        let has_zero = network
            .variable_ids()
            .map(|v| network.cpt(v).values().contains(&0.0))
            .collect();
        CompiledNetwork {
            nodes,
            position,
            parent_strides,
            prob,
            cdf,
            children,
            has_zero,
        }
    }

    /// Number of variables.
    pub(crate) fn n_variables(&self) -> usize {
        self.nodes.len()
    }

    /// The node of variable `var`.
    pub(crate) fn node(&self, var: usize) -> &Node {
        &self.nodes[self.position[var]]
    }

    /// Where the row of `node`'s CPT for the parents' current `states` starts.
    #[inline(always)]
    pub(crate) fn row(&self, node: &Node, states: &[u32]) -> usize {
        let mut row = node.cpt_offset;
        for &(parent, stride) in &self.parent_strides[node.parents.clone()] {
            row += states[parent] as usize * stride;
        }
        row
    }

    /// The number of entries in `node`'s CPT.
    pub(crate) fn cpt_len(&self, node: &Node) -> usize {
        self.parent_strides[node.parents.clone()]
            .first()
            .map_or(node.card, |&(parent, stride)| {
                stride * self.nodes[self.position[parent]].card
            })
    }
}

/// Turns non-negative `row` into its cumulative distribution, normalised, and returns the sum
/// before normalising. The last state with positive mass and every state after it get exactly
/// 1.0, so a uniform draw in `[0, 1)` always lands on a state with positive mass, whatever the
/// rounding. A row of zeros stays all zeros (the caller gives such rows weight zero).
pub(crate) fn cumulate(row: &mut [f64]) -> f64 {
    let total: f64 = row.iter().sum();
    if total <= 0.0 {
        row.iter_mut().for_each(|v| *v = 0.0);
        return 0.0;
    }
    let last_positive = row.iter().rposition(|&v| v > 0.0).unwrap_or(0);
    let mut running = 0.0;
    for (i, v) in row.iter_mut().enumerate() {
        running += *v;
        *v = if i >= last_positive {
            1.0
        } else {
            running / total
        };
    }
    total
}

/// The first state whose cumulative probability exceeds `u`.
#[inline(always)]
pub(crate) fn pick(cdf: &[f64], u: f64) -> usize {
    let mut state = 0;
    while state + 1 < cdf.len() && u >= cdf[state] {
        state += 1;
    }
    state
}

/// How the sampling loop treats one variable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Draw {
    /// Draw from the proposal row; no weight.
    Free,
    /// Draw from the proposal row, multiply the weight by the weight entry of the drawn state.
    Weighted,
    /// Hard evidence: the state is fixed; multiply the weight by its weight entry.
    Fixed(u32),
    /// Rejection sampling of hard evidence: draw, and reject unless the draw is this state.
    Check(u32),
    /// Rejection sampling of soft evidence: draw, then accept with the weight entry's
    /// probability.
    Accept,
}

/// Per-query tables: where to draw each variable from and how to weight it. The tables are
/// indexed like [`CompiledNetwork::prob`].
#[derive(Clone, Debug)]
pub(crate) struct Proposal {
    /// Row-wise cumulative proposal distributions.
    pub cdf: Vec<f64>,
    /// Weight factors (or acceptance probabilities for [`Draw::Accept`]).
    pub weight: Vec<f64>,
    /// One entry per node, in topological order.
    pub draws: Vec<Draw>,
}

/// Weights below this are folded into a log scale so that long products cannot underflow.
const TINY: f64 = 1e-250;

/// One sample's weight: `w · exp(ln_scale)`, zero when `w` is zero.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Weight {
    pub w: f64,
    pub ln_scale: f64,
}

impl Weight {
    const ZERO: Weight = Weight {
        w: 0.0,
        ln_scale: 0.0,
    };
}

/// Draws one sample into `states` (by variable index) and returns its weight. Stops early, with
/// weight zero, as soon as the weight is zero or the sample is rejected; `states` is then only
/// partly written.
#[inline]
pub(crate) fn draw_sample(
    network: &CompiledNetwork,
    proposal: &Proposal,
    rng: &mut Rng,
    states: &mut [u32],
) -> Weight {
    let mut w = 1.0f64;
    let mut ln_scale = 0.0;
    for (node, draw) in network.nodes.iter().zip(&proposal.draws) {
        let row = network.row(node, states);
        let cdf = &proposal.cdf[row..row + node.card];
        let state = match *draw {
            Draw::Free => pick(cdf, rng.uniform()),
            Draw::Weighted => {
                let state = pick(cdf, rng.uniform());
                w *= proposal.weight[row + state];
                state
            }
            Draw::Fixed(state) => {
                w *= proposal.weight[row + state as usize];
                state as usize
            }
            Draw::Check(observed) => {
                let state = pick(cdf, rng.uniform());
                if state != observed as usize {
                    return Weight::ZERO;
                }
                state
            }
            Draw::Accept => {
                let state = pick(cdf, rng.uniform());
                if rng.uniform() >= proposal.weight[row + state] {
                    return Weight::ZERO;
                }
                state
            }
        };
        if w < TINY {
            if w <= 0.0 {
                return Weight::ZERO;
            }
            ln_scale += w.ln();
            w = 1.0;
        }
        states[node.var] = state as u32;
    }
    Weight { w, ln_scale }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_rows_end_in_one_and_skip_zero_states() {
        let mut row = [0.2, 0.0, 0.8, 0.0];
        assert_eq!(cumulate(&mut row), 1.0);
        assert_eq!(row, [0.2, 0.2, 1.0, 1.0]);
        assert_eq!(pick(&row, 0.0), 0);
        assert_eq!(pick(&row, 0.19), 0);
        assert_eq!(pick(&row, 0.2), 2);
        assert_eq!(pick(&row, 0.999_999), 2);
        let mut zeros = [0.0, 0.0];
        assert_eq!(cumulate(&mut zeros), 0.0);
    }

    #[test]
    fn strides_follow_the_cpt_layout() {
        let text = "variable a { type discrete [ 2 ] { x, y }; }
                    variable b { type discrete [ 3 ] { p, q, r }; }
                    variable c { type discrete [ 2 ] { u, v }; }
                    probability ( a ) { table 0.5, 0.5; }
                    probability ( b ) { table 0.2, 0.3, 0.5; }
                    probability ( c | a, b ) {
                      (x, p) 0.1, 0.9; (x, q) 0.2, 0.8; (x, r) 0.3, 0.7;
                      (y, p) 0.4, 0.6; (y, q) 0.5, 0.5; (y, r) 0.6, 0.4; }";
        let network = crate::io::read_bif(text, "t.bif").unwrap();
        let compiled = CompiledNetwork::new(&network);
        let c = compiled.node(2);
        assert_eq!(compiled.cpt_len(c), 12);
        // a = y, b = r: configuration 5, entries 10 and 11.
        let states = [1, 2, 0];
        let row = compiled.row(c, &states);
        assert_eq!(compiled.prob[row], 0.6);
        assert_eq!(compiled.prob[row + 1], 0.4);
    }
}
