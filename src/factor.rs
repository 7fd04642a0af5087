//! The numeric kernel: factors over sorted variable scopes and the index plans that combine them.
//!
//! Knows [`VarId`]s and cardinalities, never names.
//!
//! # Axis order
//!
//! A [`Factor`]'s scope is sorted by increasing [`VarId`] and its values are stored row-major
//! over that scope: the *last* (largest-id) variable varies fastest. For scope
//! `(v_0, …, v_{k-1})` with cardinalities `(n_0, …, n_{k-1})`, the assignment `(x_0, …, x_{k-1})`
//! sits at `Σ_i x_i · s_i` with stride `s_i = Π_{j>i} n_j`. Because every scope is sorted, a
//! sub-scope keeps the relative order of its variables; [`Projection`] relies on that.

use crate::model::{Network, VarId};

/// A non-negative function of a set of discrete variables, as a dense table.
#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    vars: Vec<VarId>,
    cards: Vec<usize>,
    values: Vec<f64>,
}

/// Row-major strides of a table with these cardinalities.
pub(crate) fn strides(cards: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; cards.len()];
    for i in (0..cards.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * cards[i + 1];
    }
    strides
}

/// Calls `f(linear_index, offset)` for every index of a table with `cards`, in order, where
/// `offset = base + Σ x_i · source_strides[i]`.
fn walk(cards: &[usize], source_strides: &[usize], base: usize, mut f: impl FnMut(usize, usize)) {
    let total: usize = cards.iter().product();
    if total == 0 {
        return;
    }
    let mut counters = vec![0usize; cards.len()];
    let mut offset = base;
    for i in 0..total {
        f(i, offset);
        for d in (0..cards.len()).rev() {
            counters[d] += 1;
            offset += source_strides[d];
            if counters[d] < cards[d] {
                break;
            }
            offset -= source_strides[d] * cards[d];
            counters[d] = 0;
        }
    }
}

impl Factor {
    /// A factor from values laid out row-major over `vars` in the given (any) order.
    ///
    /// # Panics
    /// If `vars` repeats a variable or `values` does not match the cardinalities.
    pub fn from_table(vars: &[VarId], cards: &[usize], values: &[f64]) -> Factor {
        assert_eq!(cards.iter().product::<usize>(), values.len(), "table size");
        let mut order: Vec<usize> = (0..vars.len()).collect();
        order.sort_by_key(|&i| vars[i]);
        assert!(
            order.windows(2).all(|w| vars[w[0]] != vars[w[1]]),
            "repeated variable in scope"
        );
        let source_strides = strides(cards);
        let sorted_vars: Vec<VarId> = order.iter().map(|&i| vars[i]).collect();
        let sorted_cards: Vec<usize> = order.iter().map(|&i| cards[i]).collect();
        let permuted_strides: Vec<usize> = order.iter().map(|&i| source_strides[i]).collect();
        let mut out = vec![0.0; values.len()];
        walk(&sorted_cards, &permuted_strides, 0, |i, offset| {
            out[i] = values[offset]
        });
        Factor {
            vars: sorted_vars,
            cards: sorted_cards,
            values: out,
        }
    }

    /// The CPT of `var` as a factor over its family.
    pub fn from_cpt(network: &Network, var: VarId) -> Factor {
        let cpt = network.cpt(var);
        let vars: Vec<VarId> = cpt.parents().iter().copied().chain([var]).collect();
        let cards: Vec<usize> = vars.iter().map(|&v| network.cardinality(v)).collect();
        Factor::from_table(&vars, &cards, cpt.values())
    }

    /// The constant factor with no variables.
    pub fn scalar(value: f64) -> Factor {
        Factor {
            vars: Vec::new(),
            cards: Vec::new(),
            values: vec![value],
        }
    }

    /// A factor over one variable.
    pub fn unary(var: VarId, values: Vec<f64>) -> Factor {
        Factor {
            vars: vec![var],
            cards: vec![values.len()],
            values,
        }
    }

    /// The scope, sorted by id.
    pub fn vars(&self) -> &[VarId] {
        &self.vars
    }

    /// Cardinalities, aligned with [`vars`](Self::vars).
    pub fn cards(&self) -> &[usize] {
        &self.cards
    }

    /// The table, row-major over the sorted scope.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Whether `var` is in the scope.
    pub fn contains(&self, var: VarId) -> bool {
        self.vars.binary_search(&var).is_ok()
    }

    /// Strides of this factor's variables aligned to `scope` (0 where absent).
    fn strides_in(&self, scope: &[VarId]) -> Vec<usize> {
        let own = strides(&self.cards);
        scope
            .iter()
            .map(|v| self.vars.binary_search(v).map_or(0, |i| own[i]))
            .collect()
    }

    /// The pointwise product, over the union of both scopes.
    pub fn product(&self, other: &Factor) -> Factor {
        let mut vars = Vec::with_capacity(self.vars.len() + other.vars.len());
        let mut cards = Vec::with_capacity(vars.capacity());
        let (mut i, mut j) = (0, 0);
        while i < self.vars.len() || j < other.vars.len() {
            let take_self =
                j == other.vars.len() || (i < self.vars.len() && self.vars[i] <= other.vars[j]);
            if take_self {
                if j < other.vars.len() && self.vars[i] == other.vars[j] {
                    j += 1;
                }
                vars.push(self.vars[i]);
                cards.push(self.cards[i]);
                i += 1;
            } else {
                vars.push(other.vars[j]);
                cards.push(other.cards[j]);
                j += 1;
            }
        }
        let a = self.strides_in(&vars);
        let b = other.strides_in(&vars);
        let total: usize = cards.iter().product();
        let mut values = Vec::with_capacity(total);
        let mut counters = vec![0usize; vars.len()];
        let (mut offset_a, mut offset_b) = (0usize, 0usize);
        for _ in 0..total {
            values.push(self.values[offset_a] * other.values[offset_b]);
            for d in (0..vars.len()).rev() {
                counters[d] += 1;
                offset_a += a[d];
                offset_b += b[d];
                if counters[d] < cards[d] {
                    break;
                }
                offset_a -= a[d] * cards[d];
                offset_b -= b[d] * cards[d];
                counters[d] = 0;
            }
        }
        Factor {
            vars,
            cards,
            values,
        }
    }

    /// Sums over every variable not in `keep` (which must be a subset of the scope).
    pub fn marginalize_onto(&self, keep: &[VarId]) -> Factor {
        let mut keep: Vec<VarId> = keep.to_vec();
        keep.sort_unstable();
        let cards: Vec<usize> = keep
            .iter()
            .map(|v| self.cards[self.vars.binary_search(v).expect("keep ⊆ scope")])
            .collect();
        let projection = Projection::new(&self.vars, &self.cards, &keep);
        let mut values = vec![0.0; projection.small_len()];
        projection.sum_into(&self.values, &mut values);
        Factor {
            vars: keep,
            cards,
            values,
        }
    }

    /// Sums `var` out.
    pub fn sum_out(&self, var: VarId) -> Factor {
        let keep: Vec<VarId> = self.vars.iter().copied().filter(|&v| v != var).collect();
        self.marginalize_onto(&keep)
    }

    /// The slice at `var = state`, without `var` in its scope.
    pub fn reduce(&self, var: VarId, state: usize) -> Factor {
        let Ok(axis) = self.vars.binary_search(&var) else {
            return self.clone();
        };
        let own = strides(&self.cards);
        let mut vars = self.vars.clone();
        let mut cards = self.cards.clone();
        let mut source_strides = own.clone();
        vars.remove(axis);
        cards.remove(axis);
        source_strides.remove(axis);
        let mut values = vec![0.0; cards.iter().product()];
        walk(&cards, &source_strides, state * own[axis], |i, offset| {
            values[i] = self.values[offset]
        });
        Factor {
            vars,
            cards,
            values,
        }
    }

    /// Multiplies a vector over `var`'s states into the table.
    pub fn multiply_unary(&mut self, var: VarId, vector: &[f64]) {
        let projection = Projection::new(&self.vars, &self.cards, &[var]);
        projection.multiply(&mut self.values, vector);
    }

    /// The sum of all entries.
    pub fn total(&self) -> f64 {
        self.values.iter().sum()
    }

    /// Multiplies every entry by `factor`.
    pub fn scale(&mut self, factor: f64) {
        self.values.iter_mut().for_each(|v| *v *= factor);
    }
}

/// An index plan between a table (the *big* side) and a table over a subset of its sorted scope
/// (the *small* side), computed once and reused for every query.
///
/// Consecutive axes of the big table that are all in the small scope, or all outside it, are
/// merged into one block: inside the small table, consecutive members of a sorted sub-scope are
/// contiguous. The big table is then walked in order as runs of its innermost block, and only the
/// small offset needs an odometer. Each run is either a contiguous slice of the small table
/// (innermost block kept) or a single small entry (innermost block summed out).
#[derive(Clone, Debug)]
pub struct Projection {
    /// Outer blocks, slowest first: (length, stride in the small table; 0 if summed out).
    outer: Vec<(usize, usize)>,
    inner_len: usize,
    inner_kept: bool,
    big_len: usize,
    small_len: usize,
}

impl Projection {
    /// Plans the map from a table over `big_vars` (sorted, with `big_cards`) to `small_vars`
    /// (sorted, a subset).
    pub fn new(big_vars: &[VarId], big_cards: &[usize], small_vars: &[VarId]) -> Projection {
        let small_cards: Vec<usize> = small_vars
            .iter()
            .map(|v| big_cards[big_vars.binary_search(v).expect("small ⊆ big")])
            .collect();
        let small_strides = strides(&small_cards);
        // (length, kept, small stride of the block's fastest axis), fastest block first.
        let mut blocks: Vec<(usize, bool, usize)> = Vec::new();
        for (axis, var) in big_vars.iter().enumerate().rev() {
            let kept = small_vars.binary_search(var);
            let (is_kept, stride) = match kept {
                Ok(k) => (true, small_strides[k]),
                Err(_) => (false, 0),
            };
            match blocks.last_mut() {
                Some(last) if last.1 == is_kept => last.0 *= big_cards[axis],
                _ => blocks.push((big_cards[axis], is_kept, stride)),
            }
        }
        let (inner_len, inner_kept) = match blocks.first() {
            Some(&(len, kept, _)) => (len, kept),
            None => (1, false),
        };
        let outer = blocks
            .iter()
            .skip(1)
            .rev()
            .map(|&(len, kept, stride)| (len, if kept { stride } else { 0 }))
            .collect();
        Projection {
            outer,
            inner_len,
            inner_kept,
            big_len: big_cards.iter().product(),
            small_len: small_cards.iter().product(),
        }
    }

    /// Number of entries of the small table.
    pub fn small_len(&self) -> usize {
        self.small_len
    }

    /// Calls `f(big_offset, small_offset)` for each run of `inner_len` big entries.
    #[inline]
    fn for_each_run(&self, mut f: impl FnMut(usize, usize)) {
        if self.big_len == 0 {
            return;
        }
        let n_outer = self.outer.len();
        if n_outer == 0 {
            f(0, 0);
            return;
        }
        let mut counters = [0usize; 32];
        let mut heap_counters;
        let counters: &mut [usize] = if n_outer <= 32 {
            &mut counters[..n_outer]
        } else {
            heap_counters = vec![0usize; n_outer];
            &mut heap_counters
        };
        let mut small = 0usize;
        let mut big = 0usize;
        loop {
            f(big, small);
            big += self.inner_len;
            let mut d = n_outer;
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                let (len, stride) = self.outer[d];
                counters[d] += 1;
                small += stride;
                if counters[d] < len {
                    break;
                }
                small -= stride * len;
                counters[d] = 0;
            }
        }
    }

    /// Overwrites `small` with the sums of `big` over the dropped variables.
    pub fn sum_into(&self, big: &[f64], small: &mut [f64]) {
        debug_assert_eq!(big.len(), self.big_len);
        debug_assert_eq!(small.len(), self.small_len);
        small.iter_mut().for_each(|v| *v = 0.0);
        let n = self.inner_len;
        if self.inner_kept {
            self.for_each_run(|b, s| {
                for (out, value) in small[s..s + n].iter_mut().zip(&big[b..b + n]) {
                    *out += value;
                }
            });
        } else {
            self.for_each_run(|b, s| small[s] += big[b..b + n].iter().sum::<f64>());
        }
    }

    /// Overwrites `small` with the maxima of `big` over the dropped variables.
    pub fn max_into(&self, big: &[f64], small: &mut [f64]) {
        small.iter_mut().for_each(|v| *v = 0.0);
        let n = self.inner_len;
        if self.inner_kept {
            self.for_each_run(|b, s| {
                for (out, &value) in small[s..s + n].iter_mut().zip(&big[b..b + n]) {
                    *out = out.max(value);
                }
            });
        } else {
            self.for_each_run(|b, s| {
                small[s] = big[b..b + n].iter().fold(small[s], |m, &v| m.max(v))
            });
        }
    }

    /// Appends the big table whose entries are the small entries they map to (the small
    /// table broadcast over the other axes): one write per entry, where filling with ones
    /// and multiplying would write twice and read once.
    pub fn extend_broadcast(&self, small: &[f64], out: &mut Vec<f64>) {
        debug_assert_eq!(small.len(), self.small_len);
        out.reserve(self.big_len);
        let n = self.inner_len;
        if self.inner_kept {
            self.for_each_run(|_, s| out.extend_from_slice(&small[s..s + n]));
        } else {
            self.for_each_run(|_, s| out.extend(std::iter::repeat_n(small[s], n)));
        }
    }

    /// [`multiply`](Self::multiply) by `factor`, then [`sum_into`](Self::sum_into) `small`,
    /// in one pass: both use this projection's mapping.
    pub fn multiply_and_sum_into(&self, big: &mut [f64], factor: &[f64], small: &mut [f64]) {
        debug_assert_eq!(big.len(), self.big_len);
        debug_assert_eq!(factor.len(), self.small_len);
        debug_assert_eq!(small.len(), self.small_len);
        small.iter_mut().for_each(|v| *v = 0.0);
        let n = self.inner_len;
        if self.inner_kept {
            self.for_each_run(|b, s| {
                let run = big[b..b + n].iter_mut().zip(&factor[s..s + n]);
                for ((value, f), out) in run.zip(&mut small[s..s + n]) {
                    *value *= f;
                    *out += *value;
                }
            });
        } else {
            self.for_each_run(|b, s| {
                let f = factor[s];
                let mut total = 0.0;
                for value in &mut big[b..b + n] {
                    *value *= f;
                    total += *value;
                }
                small[s] += total;
            });
        }
    }

    /// Multiplies each big entry by the small entry it maps to.
    pub fn multiply(&self, big: &mut [f64], small: &[f64]) {
        debug_assert_eq!(big.len(), self.big_len);
        debug_assert_eq!(small.len(), self.small_len);
        let n = self.inner_len;
        if self.inner_kept {
            self.for_each_run(|b, s| {
                for (value, factor) in big[b..b + n].iter_mut().zip(&small[s..s + n]) {
                    *value *= factor;
                }
            });
        } else {
            self.for_each_run(|b, s| {
                let factor = small[s];
                big[b..b + n].iter_mut().for_each(|v| *v *= factor);
            });
        }
    }
}

/// The sub-table of a table at fixed states of some of its axes (hard evidence), as an index
/// plan: the free axes keep their order, so the slice is itself a row-major table over the
/// free variables, and [`gather`](Slice::gather) copies it out in runs.
#[derive(Clone, Debug)]
pub struct Slice {
    /// Offset of the slice's first entry in the full table.
    base: usize,
    /// Blocks of consecutive free axes (contiguous in the full table), slowest first:
    /// (length, stride in the full table). The last block is walked innermost.
    blocks: Vec<(usize, usize)>,
    len: usize,
}

impl Slice {
    /// Plans the slice of a table with `cards` (row-major) where axis `i` is fixed at
    /// `fixed[i]` when that is `Some`.
    pub fn new(cards: &[usize], fixed: &[Option<usize>]) -> Slice {
        let full = strides(cards);
        let mut base = 0;
        // Fastest first while building: a free axis joins the previous block when that block
        // ends at the axis just after it (nothing fixed between them).
        let mut blocks: Vec<(usize, usize)> = Vec::new();
        let mut previous_free = false;
        for axis in (0..cards.len()).rev() {
            match fixed[axis] {
                Some(state) => {
                    base += state * full[axis];
                    previous_free = false;
                }
                None => {
                    match blocks.last_mut() {
                        Some(last) if previous_free => last.0 *= cards[axis],
                        _ => blocks.push((cards[axis], full[axis])),
                    }
                    previous_free = true;
                }
            }
        }
        blocks.reverse();
        let len = blocks.iter().map(|b| b.0).product();
        Slice { base, blocks, len }
    }

    /// Entries of the slice.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the slice is empty (a zero cardinality somewhere).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Copies the slice of `full` into `out` (of length [`len`](Self::len)).
    pub fn gather(&self, full: &[f64], out: &mut [f64]) {
        debug_assert_eq!(out.len(), self.len);
        let Some((&(inner_len, inner_stride), outer)) = self.blocks.split_last() else {
            out[0] = full[self.base];
            return;
        };
        let mut counters = vec![0usize; outer.len()];
        let mut offset = self.base;
        for run in out.chunks_exact_mut(inner_len) {
            if inner_stride == 1 {
                run.copy_from_slice(&full[offset..offset + inner_len]);
            } else {
                for (i, value) in run.iter_mut().enumerate() {
                    *value = full[offset + i * inner_stride];
                }
            }
            for d in (0..outer.len()).rev() {
                let (len, stride) = outer[d];
                counters[d] += 1;
                offset += stride;
                if counters[d] < len {
                    break;
                }
                offset -= stride * len;
                counters[d] = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(i: usize) -> VarId {
        VarId::new(i)
    }

    /// Reference marginalisation by explicit index arithmetic.
    fn naive_marginal(f: &Factor, keep: &[VarId]) -> Vec<f64> {
        let strides_big = strides(f.cards());
        let keep_cards: Vec<usize> = keep
            .iter()
            .map(|k| f.cards()[f.vars().binary_search(k).unwrap()])
            .collect();
        let strides_small = strides(&keep_cards);
        let mut out = vec![0.0; keep_cards.iter().product()];
        for (i, value) in f.values().iter().enumerate() {
            let mut j = 0;
            for (k, var) in keep.iter().enumerate() {
                let axis = f.vars().binary_search(var).unwrap();
                j += (i / strides_big[axis]) % f.cards()[axis] * strides_small[k];
            }
            out[j] += value;
        }
        out
    }

    fn sample_factor() -> Factor {
        let vars = [v(3), v(0), v(5), v(1)];
        let cards = [2, 3, 2, 4];
        let values: Vec<f64> = (0..48).map(|i| (i * 7 % 11) as f64 + 0.5).collect();
        Factor::from_table(&vars, &cards, &values)
    }

    #[test]
    fn from_table_sorts_axes() {
        let f = Factor::from_table(&[v(2), v(1)], &[2, 3], &[1., 2., 3., 4., 5., 6.]);
        assert_eq!(f.vars(), &[v(1), v(2)]);
        assert_eq!(f.values(), &[1., 4., 2., 5., 3., 6.]);
    }

    #[test]
    fn projection_matches_naive_on_every_subset() {
        let f = sample_factor();
        for mask in 0..16u32 {
            let keep: Vec<VarId> = (0..4)
                .filter(|b| mask & (1 << b) != 0)
                .map(|b| f.vars()[b])
                .collect();
            let got = f.marginalize_onto(&keep);
            assert_eq!(
                got.values(),
                naive_marginal(&f, &keep).as_slice(),
                "{keep:?}"
            );
        }
    }

    /// The fused kernels do what their two-pass equivalents do, on every sub-scope.
    #[test]
    fn fused_kernels_match_their_separate_passes() {
        let f = sample_factor();
        for mask in 0..16u32 {
            let keep: Vec<VarId> = (0..4)
                .filter(|b| mask & (1 << b) != 0)
                .map(|b| f.vars()[b])
                .collect();
            let projection = Projection::new(f.vars(), f.cards(), &keep);
            let small: Vec<f64> = (0..projection.small_len())
                .map(|i| 1.0 + (i % 5) as f64)
                .collect();

            let mut ones = vec![1.0; f.values().len()];
            projection.multiply(&mut ones, &small);
            let mut broadcast = Vec::new();
            projection.extend_broadcast(&small, &mut broadcast);
            assert_eq!(broadcast, ones, "{keep:?}");

            let mut separate = f.values().to_vec();
            projection.multiply(&mut separate, &small);
            let mut sums = vec![0.0; small.len()];
            projection.sum_into(&separate, &mut sums);
            let mut fused = f.values().to_vec();
            let mut fused_sums = vec![f64::NAN; small.len()];
            projection.multiply_and_sum_into(&mut fused, &small, &mut fused_sums);
            assert_eq!(fused, separate, "{keep:?}");
            assert_eq!(fused_sums, sums, "{keep:?}");
        }
    }

    #[test]
    fn multiply_inverts_product_with_unary() {
        let f = sample_factor();
        let unary = Factor::unary(v(0), vec![2.0, 3.0, 5.0]);
        let product = f.product(&unary);
        let mut in_place = f.clone();
        in_place.multiply_unary(v(0), &[2.0, 3.0, 5.0]);
        assert_eq!(product, in_place);
    }

    #[test]
    fn slices_match_reduce() {
        let f = sample_factor(); // cards [3, 4, 2, 2] once sorted
        for states in [
            [None, Some(1), None, Some(1)],
            [Some(0), None, None, None],
            [None, None, Some(1), None],
            [None, Some(3), None, None],
            [Some(1), Some(2), Some(0), Some(1)],
            [None; 4],
        ] {
            let mut expected = f.clone();
            for (axis, state) in states.iter().enumerate().rev() {
                if let Some(state) = state {
                    expected = expected.reduce(f.vars()[axis], *state);
                }
            }
            let slice = Slice::new(f.cards(), &states);
            let mut out = vec![0.0; slice.len()];
            slice.gather(f.values(), &mut out);
            assert_eq!(out, expected.values(), "{states:?}");
        }
    }

    #[test]
    fn reduce_takes_the_slice() {
        let f = Factor::from_table(&[v(0), v(1)], &[2, 3], &[1., 2., 3., 4., 5., 6.]);
        assert_eq!(f.reduce(v(0), 1).values(), &[4., 5., 6.]);
        assert_eq!(f.reduce(v(1), 2).values(), &[3., 6.]);
    }

    #[test]
    fn product_is_commutative_and_sums_out() {
        let a = Factor::from_table(&[v(0), v(2)], &[2, 2], &[0.1, 0.9, 0.4, 0.6]);
        let b = Factor::from_table(&[v(1), v(2)], &[3, 2], &[1., 2., 3., 4., 5., 6.]);
        let ab = a.product(&b);
        let ba = b.product(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.vars(), &[v(0), v(1), v(2)]);
        let total: f64 = ab.values().iter().sum();
        assert!((ab.sum_out(v(1)).total() - total).abs() < 1e-12);
    }
}
