//! Structure only: moral graphs, greedy elimination orders, triangulation into cliques, the
//! clique tree, and the cost of a junction tree before any table is allocated.
//!
//! Vertices are plain `usize` indices; callers map them to [`VarId`](crate::model::VarId)s.

use crate::cancel::{CancelToken, Interrupted};
use crate::model::Network;

/// A fixed-size set of vertex indices, one bit each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    /// An empty set able to hold `0..n`.
    pub fn new(n: usize) -> BitSet {
        BitSet {
            words: vec![0; n.div_ceil(64)],
        }
    }

    /// Adds `i`.
    pub fn insert(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    /// Removes `i`.
    pub fn remove(&mut self, i: usize) {
        self.words[i / 64] &= !(1 << (i % 64));
    }

    /// Whether `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// Whether every member of `self` is in `other`.
    pub fn is_subset(&self, other: &BitSet) -> bool {
        self.words
            .iter()
            .zip(&other.words)
            .all(|(a, b)| a & !b == 0)
    }

    /// Size of the intersection.
    pub fn intersection_len(&self, other: &BitSet) -> usize {
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }

    /// Number of members of `self` not in `other`.
    pub fn difference_len(&self, other: &BitSet) -> usize {
        self.words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| (a & !b).count_ones() as usize)
            .sum()
    }

    /// Members in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * 64 + bit)
            })
        })
    }
}

/// An undirected graph with weighted vertices (a vertex's weight is its variable's cardinality).
#[derive(Clone, Debug)]
pub struct Graph {
    adjacency: Vec<BitSet>,
    weights: Vec<f64>,
}

impl Graph {
    /// `n` isolated vertices with the given weights.
    pub fn new(weights: Vec<f64>) -> Graph {
        let n = weights.len();
        Graph {
            adjacency: vec![BitSet::new(n); n],
            weights,
        }
    }

    /// The moral graph of a network: parents married, directions dropped.
    pub fn moral(network: &Network) -> Graph {
        let weights = network
            .variables()
            .iter()
            .map(|v| v.cardinality() as f64)
            .collect();
        let mut graph = Graph::new(weights);
        for var in network.variable_ids() {
            let parents = network.parents(var);
            for (i, &p) in parents.iter().enumerate() {
                graph.add_edge(p.index(), var.index());
                for &q in &parents[i + 1..] {
                    graph.add_edge(p.index(), q.index());
                }
            }
        }
        graph
    }

    /// Number of vertices.
    pub fn n_vertices(&self) -> usize {
        self.weights.len()
    }

    /// Adds the edge `a — b` (no-op for `a == b`).
    pub fn add_edge(&mut self, a: usize, b: usize) {
        if a != b {
            self.adjacency[a].insert(b);
            self.adjacency[b].insert(a);
        }
    }

    /// Neighbours of `v`.
    pub fn neighbours(&self, v: usize) -> &BitSet {
        &self.adjacency[v]
    }

    /// The weight (cardinality) of `v`.
    pub fn weight(&self, v: usize) -> f64 {
        self.weights[v]
    }
}

/// A greedy elimination heuristic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heuristic {
    /// Fewest fill-in edges; ties go to the smallest clique table.
    MinFill,
    /// Smallest sum over fill-in edges of the product of the endpoints' cardinalities; ties go
    /// to the smallest clique table.
    WeightedMinFill,
    /// Smallest clique table (product of cardinalities); ties go to fewest fill-in edges.
    MinWeight,
}

impl Heuristic {
    /// Every heuristic, in the order they are tried.
    pub const ALL: [Heuristic; 3] = [
        Heuristic::WeightedMinFill,
        Heuristic::MinFill,
        Heuristic::MinWeight,
    ];
}

/// A vertex's greedy score; smaller is better, compared lexicographically.
fn score(graph: &Graph, alive_neighbours: &BitSet, v: usize, heuristic: Heuristic) -> (f64, f64) {
    let mut fill = 0usize;
    let mut weighted_fill = 0.0;
    let mut clique_weight = graph.weights[v];
    for a in alive_neighbours.iter() {
        clique_weight *= graph.weights[a];
        match heuristic {
            Heuristic::WeightedMinFill => {
                for b in alive_neighbours.iter().filter(|&b| b > a) {
                    if !graph.adjacency[a].contains(b) {
                        weighted_fill += graph.weights[a] * graph.weights[b];
                    }
                }
            }
            // Neighbours of `v` not adjacent to `a` (minus `a` itself) are fill edges at `a`.
            _ => fill += alive_neighbours.difference_len(&graph.adjacency[a]) - 1,
        }
    }
    let fill = (fill / 2) as f64;
    match heuristic {
        Heuristic::MinFill => (fill, clique_weight),
        Heuristic::WeightedMinFill => (weighted_fill, clique_weight),
        Heuristic::MinWeight => (clique_weight, fill),
    }
}

/// The result of eliminating every vertex in some order.
#[derive(Clone, Debug)]
pub struct Triangulation {
    /// The elimination order.
    pub order: Vec<usize>,
    /// Maximal cliques of the triangulated graph, each sorted, in order of creation.
    pub cliques: Vec<Vec<usize>>,
}

/// Greedily eliminates all vertices of `graph` and records the maximal cliques created.
pub fn triangulate(graph: &Graph, heuristic: Heuristic) -> Triangulation {
    triangulate_within(graph, heuristic, f64::INFINITY, &CancelToken::new())
        .expect("neither a limit nor a cancel can stop it")
}

/// Why a greedy elimination stopped before its end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Stopped {
    /// The cliques recorded so far already hold more than the limit's table entries.
    OverLimit {
        /// Entries of the cliques recorded when it stopped: a lower bound on the total.
        at_least: f64,
    },
    /// The token was cancelled or its deadline passed.
    Interrupted(Interrupted),
}

impl From<Interrupted> for Stopped {
    fn from(why: Interrupted) -> Stopped {
        Stopped::Interrupted(why)
    }
}

/// As [`triangulate`], stopping as soon as the recorded cliques' tables hold more than
/// `max_entries` entries in all (the triangulation could only grow from there), and checking
/// `cancel` at every vertex.
///
/// # Errors
/// [`Stopped`], with the entries counted so far when over the limit.
pub fn triangulate_within(
    graph: &Graph,
    heuristic: Heuristic,
    max_entries: f64,
    cancel: &CancelToken,
) -> Result<Triangulation, Stopped> {
    let all = vec![true; graph.n_vertices()];
    eliminate(graph, heuristic, &all, true, max_entries, cancel)
}

/// The maximal cliques created by eliminating every vertex of `graph` in `order` (which lists
/// each vertex once), without any search: the cheap way to re-triangulate a subgraph of a
/// graph whose good order is known, since its cliques are subsets of the original ones.
pub fn cliques_in_order(graph: &Graph, order: &[usize]) -> Vec<Vec<usize>> {
    debug_assert_eq!(order.len(), graph.n_vertices());
    let mut work = graph.clone();
    let mut cliques: Vec<BitSet> = Vec::new();
    for &v in order {
        eliminate_vertex(&mut work, v, Some(&mut cliques));
    }
    cliques.iter().map(|c| c.iter().collect()).collect()
}

/// Eliminates `v` from `work`: its neighbours become a clique (recorded in `cliques`, unless
/// an earlier clique holds it) and `v` leaves their neighbourhoods. Returns the neighbours.
fn eliminate_vertex(work: &mut Graph, v: usize, cliques: Option<&mut Vec<BitSet>>) -> Vec<usize> {
    let neighbours = work.adjacency[v].clone();
    if let Some(cliques) = cliques {
        let mut clique = neighbours.clone();
        clique.insert(v);
        // A later clique never contains an earlier one (it lacks the earlier vertex), so
        // only earlier cliques holding `v` can subsume this one.
        if !cliques.iter().any(|c| c.contains(v) && clique.is_subset(c)) {
            cliques.push(clique);
        }
    }
    let members: Vec<usize> = neighbours.iter().collect();
    for (i, &a) in members.iter().enumerate() {
        for &b in &members[i + 1..] {
            work.add_edge(a, b);
        }
        work.adjacency[a].remove(v);
    }
    members
}

/// A greedy order for eliminating the vertices marked in `eligible`; the others stay in the
/// graph (their edges count for fill-in) but are never eliminated.
pub fn elimination_order(graph: &Graph, heuristic: Heuristic, eligible: &[bool]) -> Vec<usize> {
    elimination_order_until(graph, heuristic, eligible, &CancelToken::new())
        .expect("a new token is never cancelled")
}

/// As [`elimination_order`], checking `cancel` at every vertex.
///
/// # Errors
/// [`Interrupted`] when `cancel` stops it.
pub fn elimination_order_until(
    graph: &Graph,
    heuristic: Heuristic,
    eligible: &[bool],
    cancel: &CancelToken,
) -> Result<Vec<usize>, Interrupted> {
    match eliminate(graph, heuristic, eligible, false, f64::INFINITY, cancel) {
        Ok(t) => Ok(t.order),
        Err(Stopped::Interrupted(why)) => Err(why),
        Err(Stopped::OverLimit { .. }) => unreachable!("no limit on entries"),
    }
}

fn eliminate(
    graph: &Graph,
    heuristic: Heuristic,
    eligible: &[bool],
    record_cliques: bool,
    max_entries: f64,
    cancel: &CancelToken,
) -> Result<Triangulation, Stopped> {
    let n = graph.n_vertices();
    let mut work = graph.clone();
    let mut alive = eligible.to_vec();
    let n_eliminated = alive.iter().filter(|&&a| a).count();
    let mut scores: Vec<(f64, f64)> = (0..n)
        .map(|v| {
            if alive[v] {
                score(&work, &work.adjacency[v], v, heuristic)
            } else {
                (0.0, 0.0)
            }
        })
        .collect();
    let mut order = Vec::with_capacity(n_eliminated);
    let mut cliques: Vec<BitSet> = Vec::new();
    let mut dirty = BitSet::new(n);
    let mut entries = 0.0;
    for _ in 0..n_eliminated {
        cancel.check()?;
        let v = (0..n)
            .filter(|&v| alive[v])
            .min_by(|&a, &b| {
                scores[a]
                    .partial_cmp(&scores[b])
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .expect("a vertex is left");
        let recorded = cliques.len();
        let members = eliminate_vertex(&mut work, v, record_cliques.then_some(&mut cliques));
        if cliques.len() > recorded {
            entries += table_entries(graph, &cliques[recorded].iter().collect::<Vec<_>>());
            if entries > max_entries {
                return Err(Stopped::OverLimit { at_least: entries });
            }
        }
        alive[v] = false;
        order.push(v);
        // A score changes only where a neighbourhood changed: neighbours of `v` and theirs.
        for &a in &members {
            dirty.insert(a);
            for b in work.adjacency[a].iter() {
                dirty.insert(b);
            }
        }
        for u in dirty.iter().collect::<Vec<_>>() {
            if alive[u] {
                scores[u] = score(&work, &work.adjacency[u], u, heuristic);
            }
            dirty.remove(u);
        }
    }
    Ok(Triangulation {
        order,
        cliques: cliques.iter().map(|c| c.iter().collect()).collect(),
    })
}

/// A lower bound on the entries of the largest clique table of every triangulation of
/// `graph`, from the minor-min-width bound on treewidth (Gogate & Dechter, UAI 2004): repeatedly
/// contract a vertex of least degree into its neighbour of least degree; a minor whose least
/// degree is `d` has treewidth at least `d`, so some clique of every triangulation has at
/// least `d + 1` vertices, and its table at least the product of the `d + 1` smallest weights.
///
/// Far cheaper than a triangulation (a bit-set union per contraction), so it can refuse a
/// hopeless graph before any greedy search starts.
///
/// # Errors
/// [`Interrupted`] when `cancel` stops it (checked every 64 contractions).
pub fn largest_clique_lower_bound(graph: &Graph, cancel: &CancelToken) -> Result<f64, Interrupted> {
    let n = graph.n_vertices();
    let mut work = graph.adjacency.clone();
    let mut degree: Vec<usize> = work.iter().map(BitSet::len).collect();
    let mut alive = vec![true; n];
    let mut width = 0;
    for step in 0..n {
        if step % 64 == 0 {
            cancel.check()?;
        }
        let Some(v) = (0..n).filter(|&v| alive[v]).min_by_key(|&v| degree[v]) else {
            break;
        };
        width = width.max(degree[v]);
        alive[v] = false;
        let neighbours: Vec<usize> = work[v].iter().collect();
        let Some(&u) = neighbours.iter().min_by_key(|&&u| degree[u]) else {
            continue;
        };
        // Contract v into u: u takes v's other neighbours.
        for &w in &neighbours {
            work[w].remove(v);
            if w != u && !work[u].contains(w) {
                work[u].insert(w);
                work[w].insert(u);
                degree[w] += 1;
                degree[u] += 1;
            }
            degree[w] -= 1;
        }
    }
    let mut weights = graph.weights.clone();
    weights.sort_by(f64::total_cmp);
    Ok(weights.iter().take(width + 1).product())
}

/// Entries of a table over `vertices`, as `f64` so that absurd sizes are estimated, not overflowed.
pub fn table_entries(graph: &Graph, vertices: &[usize]) -> f64 {
    vertices.iter().map(|&v| graph.weights[v]).product()
}

/// A tree over cliques: `parent[c]` is `None` for the root. Built as a maximum spanning tree
/// on separator size, which for the cliques of a triangulated graph has the running
/// intersection property (Jensen & Jensen, 1994). Disconnected parts hang off with empty
/// separators, so there is always exactly one root.
pub fn clique_tree(n_vertices: usize, cliques: &[Vec<usize>], root: usize) -> Vec<Option<usize>> {
    let k = cliques.len();
    let sets: Vec<BitSet> = cliques
        .iter()
        .map(|c| {
            let mut s = BitSet::new(n_vertices);
            c.iter().for_each(|&v| s.insert(v));
            s
        })
        .collect();
    let mut parent = vec![None; k];
    let mut in_tree = vec![false; k];
    // Prim: best link of each clique to the tree so far (weight, tree clique).
    let mut best: Vec<(isize, usize)> = vec![(-1, root); k];
    let mut current = root;
    in_tree[root] = true;
    for _ in 1..k {
        for c in 0..k {
            if !in_tree[c] {
                let weight = sets[c].intersection_len(&sets[current]) as isize;
                if weight > best[c].0 {
                    best[c] = (weight, current);
                }
            }
        }
        let next = (0..k)
            .filter(|&c| !in_tree[c])
            .max_by_key(|&c| (best[c].0, std::cmp::Reverse(c)))
            .expect("a clique is left");
        in_tree[next] = true;
        parent[next] = Some(best[next].1);
        current = next;
    }
    parent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitset_basics() {
        let mut a = BitSet::new(130);
        [1, 64, 129].iter().for_each(|&i| a.insert(i));
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![1, 64, 129]);
        let mut b = a.clone();
        b.insert(5);
        assert!(a.is_subset(&b));
        assert!(!b.is_subset(&a));
        assert_eq!(b.difference_len(&a), 1);
        assert_eq!(a.intersection_len(&b), 3);
    }

    #[test]
    fn a_cycle_of_four_gets_one_chord() {
        let mut g = Graph::new(vec![2.0; 4]);
        for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 0)] {
            g.add_edge(a, b);
        }
        for heuristic in Heuristic::ALL {
            let t = triangulate(&g, heuristic);
            assert_eq!(t.cliques.len(), 2, "{heuristic:?}");
            assert!(t.cliques.iter().all(|c| c.len() == 3));
        }
    }

    /// Replaying a greedy order gives the greedy cliques; on a subgraph (an edge removed), the
    /// same order gives cliques each inside one of them.
    #[test]
    fn cliques_in_order_replays_an_order() {
        let mut g = Graph::new(vec![3.0; 6]);
        for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (1, 4)] {
            g.add_edge(a, b);
        }
        let greedy = triangulate(&g, Heuristic::MinFill);
        assert_eq!(cliques_in_order(&g, &greedy.order), greedy.cliques);
        let mut smaller = Graph::new(vec![3.0; 6]);
        for (a, b) in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (1, 4)] {
            smaller.add_edge(a, b);
        }
        for clique in cliques_in_order(&smaller, &greedy.order) {
            assert!(
                greedy
                    .cliques
                    .iter()
                    .any(|c| clique.iter().all(|v| c.contains(v)))
            );
        }
        assert!(total(&smaller, &greedy.order) < total(&g, &greedy.order));
    }

    fn total(g: &Graph, order: &[usize]) -> f64 {
        cliques_in_order(g, order)
            .iter()
            .map(|c| table_entries(g, c))
            .sum()
    }

    /// A pseudo-random graph: `n` vertices of weight 2 or 3, each joined to a few earlier ones.
    fn scrambled(n: usize, links: usize, seed: u64) -> Graph {
        let mut state = seed;
        let mut next = move |m: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 33) % m as u64) as usize
        };
        let mut g = Graph::new((0..n).map(|v| 2.0 + (v % 2) as f64).collect());
        for v in 1..n {
            for _ in 0..links {
                let u = next(v);
                g.add_edge(u, v);
            }
        }
        g
    }

    #[test]
    fn the_clique_lower_bound_is_below_every_greedy_triangulation() {
        let token = CancelToken::new();
        for seed in 0..20 {
            let g = scrambled(30, 3, seed);
            let bound = largest_clique_lower_bound(&g, &token).unwrap();
            for heuristic in Heuristic::ALL {
                let largest = triangulate(&g, heuristic)
                    .cliques
                    .iter()
                    .map(|c| table_entries(&g, c))
                    .fold(0.0, f64::max);
                assert!(bound <= largest, "seed {seed}: {bound} > {largest}");
            }
        }
        // A clique of five binary vertices: treewidth 4, one table of 32 entries.
        let mut k5 = Graph::new(vec![2.0; 5]);
        for a in 0..5 {
            for b in a + 1..5 {
                k5.add_edge(a, b);
            }
        }
        assert_eq!(largest_clique_lower_bound(&k5, &token), Ok(32.0));
    }

    #[test]
    fn a_triangulation_stops_past_its_limit_or_when_cancelled() {
        let g = scrambled(200, 4, 7);
        let token = CancelToken::new();
        let full = triangulate(&g, Heuristic::MinFill);
        let total: f64 = full.cliques.iter().map(|c| table_entries(&g, c)).sum();
        match triangulate_within(&g, Heuristic::MinFill, total / 2.0, &token) {
            Err(Stopped::OverLimit { at_least }) => assert!(at_least > total / 2.0),
            other => panic!("{other:?}"),
        }
        let again = triangulate_within(&g, Heuristic::MinFill, total, &token).unwrap();
        assert_eq!(again.cliques, full.cliques);
        token.cancel(Interrupted::Cancelled);
        assert_eq!(
            triangulate_within(&g, Heuristic::MinFill, f64::INFINITY, &token).map(|_| ()),
            Err(Stopped::Interrupted(Interrupted::Cancelled))
        );
    }

    #[test]
    fn tree_links_overlapping_cliques() {
        let cliques = vec![vec![0, 1, 2], vec![2, 3], vec![3, 4], vec![5]];
        let parent = clique_tree(6, &cliques, 0);
        // The isolated clique hangs off the root through an empty separator.
        assert_eq!(parent, vec![None, Some(0), Some(1), Some(0)]);
    }
}
