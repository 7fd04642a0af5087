//! The junction-tree engine, Hugin architecture.
//!
//! Compilation (once per network): moralise; triangulate greedily with each of
//! [`Heuristic::ALL`] and keep the triangulation with the fewest clique-table entries; link the
//! maximal cliques into a tree by maximum separator size; multiply each CPT into the smallest
//! clique that holds its family; precompute every [`Projection`] a query will need; answer the
//! query without evidence once and keep its marginals.
//!
//! A query takes the cheapest of three routes:
//!
//! 1. no evidence: the compiled prior, copied out;
//! 2. hard evidence that opens loops (on large trees): a tree built for this query alone over
//!    the CPTs sliced at the observed states and triangulated again, when its tables are at
//!    most half the compiled ones sliced (see `reduced`);
//! 3. otherwise the compiled tree: its tables are copied into the query's own buffer (on large
//!    trees slicing every clique that holds a variable with hard evidence at its observed
//!    state, so that the clique and every later pass over it shrink by that variable's
//!    cardinality).
//!
//! Routes 2 and 3 multiply the remaining evidence into the smallest clique holding each
//! variable, collect towards the root and distribute back (Jensen, Lauritzen & Olesen 1990;
//! Koller & Friedman 2009, §10.3). Sibling edges whose separators nest share one pass over
//! their parent. Messages are normalised and the collect normalisers' logs summed, so `ln P(e)`
//! does not underflow however much evidence there is. Hugin was chosen over Shafer–Shenoy
//! because with all marginals wanted it touches each clique table a constant number of times
//! and keeps one message buffer per separator.

use super::{
    Answer, InferenceEngine, InferenceError, Posteriors, check_ids, exact, impossible, normalize,
    resolve_targets,
};
use crate::cancel::{CancelToken, Interrupted};
use crate::evidence::Evidence;
use crate::factor::{Factor, Projection, Slice};
use crate::graph::{
    Graph, Heuristic, Stopped, Triangulation, clique_tree, cliques_in_order,
    largest_clique_lower_bound, table_entries, triangulate_within,
};
use crate::model::{Network, VarId};
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest [`JunctionTree::estimate_within`] searches for a triangulation before it gives
/// up: uploads are estimated as they arrive, so an adversarial structure must not hold a
/// thread for minutes.
pub const ESTIMATE_MAX_TIME: Duration = Duration::from_secs(5);

/// How much memory a compiled junction tree may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Upper bound on [`CostEstimate::bytes`].
    pub max_bytes: u64,
}

impl Default for Budget {
    /// A quarter of physical memory (4 GiB where it cannot be read): leaves room for the
    /// compiled tree, concurrent queries and everything else on the machine.
    fn default() -> Budget {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
                let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
                Some(kib * 1024)
            })
            .unwrap_or(16 << 30);
        Budget {
            max_bytes: total / 4,
        }
    }
}

/// Formats a byte count with a binary unit, e.g. `1.5 GiB`.
pub fn format_bytes(bytes: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value} B")
    } else if value >= 1024.0 {
        format!("{bytes:.2e} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

/// Formats a count exactly when it is an integer that fits, else in scientific notation.
fn format_count(count: f64) -> String {
    if count < 1e15 {
        format!("{count:.0}")
    } else {
        format!("{count:.3e}")
    }
}

/// What a junction tree costs, known before any table is allocated.
#[derive(Clone, Debug, PartialEq)]
pub struct CostEstimate {
    /// Number of maximal cliques.
    pub n_cliques: usize,
    /// Largest clique size minus one.
    pub treewidth: usize,
    /// Entries of the largest clique table.
    pub largest_clique_entries: f64,
    /// Entries of all clique tables.
    pub total_clique_entries: f64,
    /// Entries of all separator tables.
    pub total_separator_entries: f64,
    /// Bytes for the compiled tables plus one query's buffers: `8 × (2 × cliques + separators)`.
    pub bytes: f64,
    /// The triangulation heuristic that won.
    pub heuristic: Heuristic,
    /// False when the triangulation stopped on passing the budget: the counts are then those
    /// of the cliques found so far, lower bounds on the tree's.
    pub complete: bool,
}

impl fmt::Display for CostEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.complete {
            return write!(
                f,
                "at least {} clique entries in total, at least {} (the triangulation stopped there)",
                format_count(self.total_clique_entries),
                format_bytes(self.bytes)
            );
        }
        write!(
            f,
            "treewidth {}, {} cliques, largest clique {} entries, {} clique entries in total, {}",
            self.treewidth,
            self.n_cliques,
            format_count(self.largest_clique_entries),
            format_count(self.total_clique_entries),
            format_bytes(self.bytes)
        )
    }
}

/// The best of the greedy triangulations, scored by total clique-table entries, among those
/// within `max_entries`. A heuristic stops as soon as its cliques so far hold more entries
/// than the best complete one (it could not win) or than `max_entries`.
///
/// # Errors
/// [`Stopped::OverLimit`] with the smallest lower bound seen when every heuristic passed
/// `max_entries`; [`Stopped::Interrupted`] when `cancel` stops it.
fn best_triangulation(
    graph: &Graph,
    heuristics: &[Heuristic],
    max_entries: f64,
    cancel: &CancelToken,
) -> Result<(Heuristic, Triangulation), Stopped> {
    if max_entries.is_finite() {
        let at_least = largest_clique_lower_bound(graph, cancel)?;
        if at_least > max_entries {
            return Err(Stopped::OverLimit { at_least });
        }
    }
    let mut best: Option<(f64, Heuristic, Triangulation)> = None;
    let mut at_least = f64::INFINITY;
    for &h in heuristics {
        let limit = best.as_ref().map_or(max_entries, |b| b.0.min(max_entries));
        match triangulate_within(graph, h, limit, cancel) {
            Ok(triangulation) => {
                let total = total_entries(graph, &triangulation.cliques);
                // Ties go to the earlier heuristic.
                if best.as_ref().is_none_or(|b| total < b.0) {
                    best = Some((total, h, triangulation));
                }
            }
            Err(Stopped::OverLimit { at_least: seen }) => at_least = at_least.min(seen),
            Err(interrupted) => return Err(interrupted),
        }
    }
    best.map(|(_, h, t)| (h, t))
        .ok_or(Stopped::OverLimit { at_least })
}

fn total_entries(graph: &Graph, cliques: &[Vec<usize>]) -> f64 {
    cliques.iter().map(|c| table_entries(graph, c)).sum()
}

/// The structure of a tree before its tables exist.
struct Plan {
    cliques: Vec<Vec<usize>>,
    parent: Vec<Option<usize>>,
    root: usize,
    /// The elimination order the cliques came from.
    order: Vec<usize>,
    estimate: CostEstimate,
}

/// The plan of `network`'s tree, stopping once its clique tables pass `max_entries`.
fn plan(network: &Network, max_entries: f64, cancel: &CancelToken) -> Result<Plan, Stopped> {
    let graph = Graph::moral(network);
    let (heuristic, triangulation) =
        best_triangulation(&graph, &Heuristic::ALL, max_entries, cancel)?;
    Ok(plan_cliques(&graph, heuristic, triangulation))
}

/// Clique-table entries whose tree surely passes `budget`: the estimate's bytes are at least
/// 16 per clique entry (the compiled tables and one query's copy).
fn entries_limit(budget: &Budget) -> f64 {
    budget.max_bytes as f64 / 16.0
}

/// What a triangulation that stopped past the budget shows: lower bounds.
fn partial_estimate(at_least: f64) -> CostEstimate {
    CostEstimate {
        n_cliques: 0,
        treewidth: 0,
        largest_clique_entries: 0.0,
        total_clique_entries: at_least,
        total_separator_entries: 0.0,
        bytes: 16.0 * at_least,
        heuristic: Heuristic::ALL[0],
        complete: false,
    }
}

/// The tree over the cliques of a triangulation of `graph` (the moral graph at compile time,
/// the graph hard evidence leaves for a reduced tree).
fn plan_cliques(graph: &Graph, heuristic: Heuristic, triangulation: Triangulation) -> Plan {
    let Triangulation { order, mut cliques } = triangulation;
    if cliques.is_empty() {
        // An empty network still gets one (empty) clique so that P(e) = 1 has a home.
        cliques.push(Vec::new());
    }
    let sizes: Vec<f64> = cliques.iter().map(|c| table_entries(graph, c)).collect();
    let root = (0..cliques.len())
        .max_by(|&a, &b| sizes[a].total_cmp(&sizes[b]))
        .expect("one clique");
    let parent = clique_tree(graph.n_vertices(), &cliques, root);
    let separator_entries: f64 = parent
        .iter()
        .enumerate()
        .filter_map(|(c, p)| {
            let p = (*p)?;
            let shared: Vec<usize> = cliques[c]
                .iter()
                .copied()
                .filter(|v| cliques[p].binary_search(v).is_ok())
                .collect();
            Some(table_entries(graph, &shared))
        })
        .sum();
    let total: f64 = sizes.iter().sum();
    let estimate = CostEstimate {
        n_cliques: cliques.len(),
        treewidth: cliques
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(1)
            .saturating_sub(1),
        largest_clique_entries: sizes.iter().copied().fold(0.0, f64::max),
        total_clique_entries: total,
        total_separator_entries: separator_entries,
        bytes: 8.0 * (2.0 * total + separator_entries),
        heuristic,
        complete: true,
    };
    Plan {
        cliques,
        parent,
        root,
        order,
        estimate,
    }
}

#[derive(Debug)]
struct Clique {
    offset: usize,
    len: usize,
    /// Sorted scope and its cardinalities: a query with hard evidence slices the table on them.
    scope: Vec<VarId>,
    cards: Vec<usize>,
}

#[derive(Debug)]
struct Edge {
    child: usize,
    parent: usize,
    offset: usize,
    len: usize,
    /// The separator's variables.
    shared: Vec<VarId>,
    /// child clique → separator.
    from_child: Projection,
    /// parent clique → separator.
    from_parent: Projection,
    /// The edge to the same parent whose separator holds this one's and is the largest such
    /// (this edge itself when none is larger): siblings share their carrier's pass over the
    /// parent, in collect (their messages multiplied together first) and in distribute (the
    /// parent summed once onto the carrier's separator, then onto theirs from that).
    carrier: usize,
    /// The carrier's separator → this separator (`None` for a carrier).
    from_carrier: Option<Projection>,
    /// No CPT multiplied into the child's subtree is the CPT of a separator variable. Then,
    /// without evidence in that subtree, the collect message is all ones (the subtree's CPTs
    /// sum out to one, as barren nodes do) and need not be computed.
    barren_below: bool,
}

/// The memory traffic of one junction-tree query, counted as it runs: how close a query comes to
/// the machine's memory bandwidth is the measure of how much faster it could be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Clique-table entries read or written, summed over every pass over a clique table
    /// (the copy or slice, evidence, collect, the root's normalisation, distribute, marginals);
    /// separator tables, small and in cache, are not counted.
    pub entries: u64,
    /// Bytes those passes move: 8 per entry read plus 8 per entry written.
    pub bytes: u64,
}

impl Traffic {
    /// A pass over a table of `len` entries that reads each (and writes each if `writes`).
    fn pass(&mut self, len: usize, writes: bool) {
        self.entries += len as u64;
        self.bytes += len as u64 * if writes { 16 } else { 8 };
    }
}

/// Trees with fewer clique-table entries than this do not slice tables by hard evidence (see
/// `propagate`) or build reduced trees (see `reduced`).
const SLICE_MIN_ENTRIES: usize = 1 << 16;

/// A query builds its own tree over what hard evidence leaves when that tree's clique tables
/// total at most this share of the compiled ones sliced at the evidence: below it, building the
/// tree costs less than the passes it saves.
const REDUCED_MAX_SHARE: f64 = 0.5;

/// A reduced tree searches for a new triangulation when `GREEDY_SEARCH_RATIO × n²` (`n`
/// variables) is below the sliced tables' entries: the search then costs a few percent of
/// the propagation it may shorten.
const GREEDY_SEARCH_RATIO: f64 = 40.0;

/// The thresholds that choose a query's route, defaults from the constants above.
#[derive(Clone, Copy, Debug)]
struct Routes {
    slice_min_entries: usize,
    reduced_max_share: f64,
    greedy_search_ratio: f64,
}

impl Default for Routes {
    fn default() -> Routes {
        Routes {
            slice_min_entries: SLICE_MIN_ENTRIES,
            reduced_max_share: REDUCED_MAX_SHARE,
            greedy_search_ratio: GREEDY_SEARCH_RATIO,
        }
    }
}

/// One query's tables, kept for reuse: allocating hundreds of MiB per query costs more in
/// page faults than the copy itself.
#[derive(Debug, Default)]
struct Workspace {
    /// The clique tables, sliced by hard evidence where it applies, concatenated.
    tables: Vec<f64>,
    separators: Vec<f64>,
    message: Vec<f64>,
    scratch: Vec<f64>,
    root_message: Vec<f64>,
}

/// A compiled junction tree: immutable, shared between queries (wrap it in an `Arc`).
#[derive(Debug)]
pub struct JunctionTree {
    network: Arc<Network>,
    cliques: Vec<Clique>,
    /// Every clique's table after multiplying in its CPTs, concatenated. Queries only read it.
    initial: Vec<f64>,
    /// Edges in breadth-first order from the root: distribute walks it forwards, collect backwards.
    edges: Vec<Edge>,
    /// Ranges of `edges` with the same parent (contiguous in breadth-first order).
    sibling_groups: Vec<std::ops::Range<usize>>,
    /// Index into `edges` of the edge above each clique (`usize::MAX` for the root).
    edge_above: Vec<usize>,
    root: usize,
    /// For each variable: the smallest clique holding it, and the projection onto it.
    home: Vec<(usize, Projection)>,
    separator_len: usize,
    max_separator_len: usize,
    /// The elimination order of the triangulation: a reduced tree starts from it.
    order: Vec<usize>,
    /// When a query slices and when it builds a reduced tree; fields so that the unit tests
    /// can take every route on small trees.
    routes: Routes,
    estimate: CostEstimate,
    /// Each variable's marginal without evidence (empty on the trees built for one query).
    prior: Vec<Vec<f64>>,
    /// Idle workspaces; a query takes one (or makes one) and puts it back.
    pool: Mutex<Vec<Workspace>>,
}

impl JunctionTree {
    /// What compiling `network` would cost, without allocating tables. Unbounded: the
    /// triangulation runs to its end however large the tree; see
    /// [`estimate_within`](Self::estimate_within) for a bounded estimate.
    pub fn estimate(network: &Network) -> CostEstimate {
        plan(network, f64::INFINITY, &CancelToken::new())
            .expect("neither a limit nor a cancel can stop it")
            .estimate
    }

    /// What compiling `network` would cost, or a lower bound (`complete: false`) as soon as
    /// the triangulation shows it over `budget`; within [`ESTIMATE_MAX_TIME`] and `cancel`.
    /// Trees within the budget get the same estimate as [`estimate`](Self::estimate).
    ///
    /// # Errors
    /// [`InferenceError::EstimateTooSlow`] past [`ESTIMATE_MAX_TIME`];
    /// [`InferenceError::Interrupted`] when `cancel` stops it.
    pub fn estimate_within(
        network: &Network,
        budget: &Budget,
        cancel: &CancelToken,
    ) -> Result<CostEstimate, InferenceError> {
        let capped = cancel.with_deadline(Instant::now() + ESTIMATE_MAX_TIME);
        match plan(network, entries_limit(budget), &capped) {
            Ok(plan) => Ok(plan.estimate),
            Err(Stopped::OverLimit { at_least }) => Ok(partial_estimate(at_least)),
            Err(Stopped::Interrupted(why)) => {
                cancel.check()?;
                debug_assert_eq!(why, Interrupted::DeadlineExceeded);
                Err(InferenceError::EstimateTooSlow {
                    network: network.name().to_string(),
                    limit: ESTIMATE_MAX_TIME,
                })
            }
        }
    }

    /// Compiles `network`.
    ///
    /// # Errors
    /// [`InferenceError::OverBudget`] when the tree would exceed `budget`; nothing large is
    /// allocated in that case.
    pub fn compile(network: Arc<Network>, budget: &Budget) -> Result<JunctionTree, InferenceError> {
        JunctionTree::compile_until(network, budget, &CancelToken::new())
    }

    /// As [`compile`](Self::compile), checking `cancel` throughout (the triangulation at every
    /// vertex, the tables at every clique).
    ///
    /// # Errors
    /// As [`compile`](Self::compile), and [`InferenceError::Interrupted`].
    pub fn compile_until(
        network: Arc<Network>,
        budget: &Budget,
        cancel: &CancelToken,
    ) -> Result<JunctionTree, InferenceError> {
        let over = |estimate: CostEstimate| InferenceError::OverBudget {
            network: network.name().to_string(),
            estimate,
            budget: format_bytes(budget.max_bytes as f64),
        };
        let plan = match plan(&network, entries_limit(budget), cancel) {
            Ok(plan) => plan,
            Err(Stopped::OverLimit { at_least }) => return Err(over(partial_estimate(at_least))),
            Err(Stopped::Interrupted(why)) => return Err(why.into()),
        };
        if plan.estimate.bytes > budget.max_bytes as f64 {
            return Err(over(plan.estimate));
        }
        let cpts: Vec<(Factor, Option<VarId>)> = network
            .variable_ids()
            .map(|var| (Factor::from_cpt(&network, var), Some(var)))
            .collect();
        let mut tree =
            JunctionTree::assemble(network, plan, cpts, SLICE_MIN_ENTRIES, Vec::new(), cancel)?;
        // The answer to the query without evidence, kept: it is asked often (the state of
        // the model before any finding) and costs a full propagation otherwise.
        let all = resolve_targets(&tree.network, &[]);
        let prior = tree.propagate(
            &mut Workspace::default(),
            false,
            &Evidence::new(),
            &all,
            &mut Traffic::default(),
            cancel,
        )?;
        tree.prior = all
            .iter()
            .map(|&var| prior.marginal(var).expect("every variable").to_vec())
            .collect();
        Ok(tree)
    }

    /// The tree of `plan` with each factor of `parts` multiplied into the smallest clique that
    /// holds its scope. A part's variable, when given, is the one it is the CPT of (it sums to
    /// one over it); a part without one is a likelihood and counts as evidence.
    fn assemble(
        network: Arc<Network>,
        plan: Plan,
        parts: Vec<(Factor, Option<VarId>)>,
        slice_min_entries: usize,
        buffer: Vec<f64>,
        cancel: &CancelToken,
    ) -> Result<JunctionTree, Interrupted> {
        let Plan {
            cliques: clique_vertices,
            parent,
            root,
            order,
            estimate,
        } = plan;
        let cliques = lay_out(&network, &clique_vertices);
        let placed = place_parts(&cliques, &parts);
        let initial = fill_tables(&cliques, &placed.parts_of, buffer, cancel)?;
        let (mut edges, edge_above) = link(&network, &cliques, &parent, root);
        choose_carriers(&network, &mut edges);
        mark_barren(&mut edges, placed.assigned, placed.likelihood_below);
        let home = network
            .variable_ids()
            .map(|var| {
                let c = smallest_holding(&cliques, &[var]);
                (
                    c,
                    Projection::new(&cliques[c].scope, &cliques[c].cards, &[var]),
                )
            })
            .collect();
        let separator_len = edges.iter().map(|e| e.len).sum();
        let max_separator_len = edges.iter().map(|e| e.len).max().unwrap_or(1);
        let sibling_groups = sibling_groups(&edges);
        Ok(JunctionTree {
            network,
            cliques,
            initial,
            edges,
            sibling_groups,
            edge_above,
            root,
            home,
            separator_len,
            max_separator_len,
            order,
            routes: Routes {
                slice_min_entries,
                ..Routes::default()
            },
            estimate,
            prior: Vec::new(),
            pool: Mutex::new(Vec::new()),
        })
    }

    /// The cost of this tree.
    pub fn cost(&self) -> &CostEstimate {
        &self.estimate
    }
}

/// The cliques' scopes, cardinalities and places in the concatenated tables.
fn lay_out(network: &Network, clique_vertices: &[Vec<usize>]) -> Vec<Clique> {
    let mut offset = 0;
    clique_vertices
        .iter()
        .map(|vertices| {
            let scope: Vec<VarId> = vertices.iter().map(|&v| VarId::new(v)).collect();
            let cards: Vec<usize> = scope.iter().map(|&v| network.cardinality(v)).collect();
            let len: usize = cards.iter().product();
            let clique = Clique {
                offset,
                len,
                scope,
                cards,
            };
            offset += len;
            clique
        })
        .collect()
}

/// The smallest clique holding all of `vars`.
fn smallest_holding(cliques: &[Clique], vars: &[VarId]) -> usize {
    (0..cliques.len())
        .filter(|&c| {
            vars.iter()
                .all(|v| cliques[c].scope.binary_search(v).is_ok())
        })
        .min_by_key(|&c| cliques[c].len)
        .expect("every family lies in some clique of a triangulation of the moral graph")
}

/// Where each part goes: per clique, the parts multiplied into it, the variables whose CPTs
/// they are, and whether a likelihood is among them.
struct Placed<'a> {
    parts_of: Vec<Vec<&'a Factor>>,
    assigned: Vec<Vec<VarId>>,
    likelihood_below: Vec<bool>,
}

fn place_parts<'a>(cliques: &[Clique], parts: &'a [(Factor, Option<VarId>)]) -> Placed<'a> {
    let mut placed = Placed {
        parts_of: vec![Vec::new(); cliques.len()],
        assigned: vec![Vec::new(); cliques.len()],
        likelihood_below: vec![false; cliques.len()],
    };
    for (factor, head) in parts {
        let c = smallest_holding(cliques, factor.vars());
        match head {
            Some(var) => placed.assigned[c].push(*var),
            None => placed.likelihood_below[c] = true,
        }
        placed.parts_of[c].push(factor);
    }
    placed
}

/// The clique tables, concatenated in `buffer`: each written once with its first factor
/// broadcast, and the others multiplied in (a reduced tree does this per query).
fn fill_tables(
    cliques: &[Clique],
    parts_of: &[Vec<&Factor>],
    buffer: Vec<f64>,
    cancel: &CancelToken,
) -> Result<Vec<f64>, Interrupted> {
    let mut initial = buffer;
    initial.clear();
    initial.reserve(cliques.iter().map(|c| c.len).sum());
    for (clique, parts) in cliques.iter().zip(parts_of) {
        cancel.check()?;
        let projection =
            |factor: &Factor| Projection::new(&clique.scope, &clique.cards, factor.vars());
        match parts.split_first() {
            None => initial.resize(clique.offset + clique.len, 1.0),
            Some((first, rest)) => {
                projection(first).extend_broadcast(first.values(), &mut initial);
                let table = &mut initial[clique.offset..clique.offset + clique.len];
                for factor in rest {
                    projection(factor).multiply(table, factor.values());
                }
            }
        }
    }
    Ok(initial)
}

/// The edges in breadth-first order from `root`, with their separators laid out one after
/// the other, and the index of the edge above each clique (`usize::MAX` for the root).
fn link(
    network: &Network,
    cliques: &[Clique],
    parent: &[Option<usize>],
    root: usize,
) -> (Vec<Edge>, Vec<usize>) {
    let mut children = vec![Vec::new(); cliques.len()];
    for (c, p) in parent.iter().enumerate() {
        if let Some(p) = p {
            children[*p].push(c);
        }
    }
    let mut edges = Vec::with_capacity(cliques.len().saturating_sub(1));
    let mut edge_above = vec![usize::MAX; cliques.len()];
    let mut queue = std::collections::VecDeque::from([root]);
    let mut separator_offset = 0;
    while let Some(p) = queue.pop_front() {
        for &c in &children[p] {
            let shared: Vec<VarId> = cliques[c]
                .scope
                .iter()
                .copied()
                .filter(|v| cliques[p].scope.binary_search(v).is_ok())
                .collect();
            let from_child = Projection::new(&cliques[c].scope, &cliques[c].cards, &shared);
            let from_parent = Projection::new(&cliques[p].scope, &cliques[p].cards, &shared);
            let len = from_child.small_len();
            debug_assert_eq!(
                len,
                shared
                    .iter()
                    .map(|&v| network.cardinality(v))
                    .product::<usize>()
            );
            edge_above[c] = edges.len();
            edges.push(Edge {
                child: c,
                parent: p,
                offset: separator_offset,
                len,
                shared,
                from_child,
                from_parent,
                carrier: edges.len(),
                from_carrier: None,
                barren_below: false,
            });
            separator_offset += len;
            queue.push_back(c);
        }
    }
    (edges, edge_above)
}

/// Carriers: pigs' hub cliques have up to a dozen children over a few distinct separators;
/// one pass over the parent per distinct maximal separator instead of one per child cuts the
/// passes over the tables by half there and on link.
fn choose_carriers(network: &Network, edges: &mut [Edge]) {
    for e in 0..edges.len() {
        let holds = |f: usize| edges[e].shared.iter().all(|v| edges[f].shared.contains(v));
        let carrier = (0..edges.len())
            .filter(|&f| edges[f].parent == edges[e].parent && holds(f))
            .max_by_key(|&f| (edges[f].shared.len(), std::cmp::Reverse(f)))
            .expect("an edge holds its own separator");
        if carrier != e {
            let shared = &edges[carrier].shared;
            let cards: Vec<usize> = shared.iter().map(|&v| network.cardinality(v)).collect();
            edges[e].from_carrier = Some(Projection::new(shared, &cards, &edges[e].shared));
        }
        edges[e].carrier = carrier;
    }
}

/// Which edges have only barren CPTs below them: the variables whose CPTs sit in each
/// subtree, gathered deepest edges first. A likelihood below an edge makes it carry evidence
/// whatever the query.
fn mark_barren(edges: &mut [Edge], assigned: Vec<Vec<VarId>>, mut likelihood_below: Vec<bool>) {
    let mut below = assigned;
    for e in (0..edges.len()).rev() {
        let (c, p) = (edges[e].child, edges[e].parent);
        edges[e].barren_below =
            !likelihood_below[c] && !below[c].iter().any(|v| edges[e].shared.contains(v));
        let moved = std::mem::take(&mut below[c]);
        below[p].extend(moved);
        likelihood_below[p] |= likelihood_below[c];
    }
}

/// Ranges of edges with the same parent (contiguous in breadth-first order).
fn sibling_groups(edges: &[Edge]) -> Vec<std::ops::Range<usize>> {
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    for (e, edge) in edges.iter().enumerate() {
        match groups.last_mut() {
            Some(group) if edges[group.start].parent == edge.parent => group.end = e + 1,
            _ => groups.push(e..e + 1),
        }
    }
    groups
}

impl InferenceEngine for JunctionTree {
    fn answer_until(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
        cancel: &CancelToken,
    ) -> Result<Answer, InferenceError> {
        let network = &*self.network;
        check_ids(network, evidence, targets)?;
        let targets = resolve_targets(network, targets);
        let posteriors = self.query(evidence, &targets, &mut Traffic::default(), cancel)?;
        Ok(exact(self.kind(), posteriors))
    }

    fn network(&self) -> &Network {
        &self.network
    }

    fn kind(&self) -> super::EngineKind {
        super::EngineKind::JunctionTree
    }
}

/// Where a clique's table sits in a query's tables: offset and length.
type Place = (usize, usize);

/// A clique as one query sees it when hard evidence slices its table: the free scope.
struct View {
    scope: Vec<VarId>,
    cards: Vec<usize>,
}

impl JunctionTree {
    /// The memory traffic of one all-marginals query with `evidence` (it runs the query).
    ///
    /// # Errors
    /// As [`posteriors`](InferenceEngine::posteriors).
    pub fn traffic(&self, evidence: &Evidence) -> Result<Traffic, InferenceError> {
        check_ids(&self.network, evidence, &[])?;
        let targets = resolve_targets(&self.network, &[]);
        let mut traffic = Traffic::default();
        self.query(evidence, &targets, &mut traffic, &CancelToken::new())?;
        Ok(traffic)
    }

    /// One query, by the cheapest of three routes: the compiled answer without evidence; a
    /// tree built for this query over the factors hard evidence leaves, when that is much
    /// smaller; or propagation over the compiled tree in a pooled workspace.
    fn query(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
        traffic: &mut Traffic,
        cancel: &CancelToken,
    ) -> Result<Posteriors, InferenceError> {
        cancel.check()?;
        if evidence.is_empty() && !self.prior.is_empty() {
            let marginals = targets
                .iter()
                .map(|&var| (var, self.prior[var.index()].clone()))
                .collect();
            return Ok(Posteriors::new(0.0, marginals));
        }
        let mut workspace = self
            .pool
            .lock()
            .map(|mut p| p.pop())
            .ok()
            .flatten()
            .unwrap_or_default();
        let result = match self.reduced(evidence, &mut workspace.tables, traffic, cancel) {
            Err(why) => Err(why.into()),
            Ok(Some(mut reduced)) => {
                workspace.tables = std::mem::take(&mut reduced.initial);
                reduced.propagate(&mut workspace, true, evidence, targets, traffic, cancel)
            }
            Ok(None) => self.propagate(&mut workspace, false, evidence, targets, traffic, cancel),
        };
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(workspace);
        }
        result
    }

    /// A junction tree for this query alone, over the CPTs sliced at the hard evidence, when
    /// its cliques are at most [`REDUCED_MAX_SHARE`] of the compiled tree's sliced ones.
    ///
    /// Why: an observed variable leaves the graph, and the fill-in it caused (a chain through
    /// it, a cycle it closed) goes with it. Slicing the compiled tables shrinks each clique by
    /// the observed cardinality but keeps the fill-in; triangulating again can shrink the
    /// largest clique by orders of magnitude (barley with eight findings: 2e7 entries to 4e5).
    ///
    /// The tree's tables are built in `buffer` (taken from it), so that a pooled allocation is
    /// reused: fresh tables of this size cost more in page faults than the propagation.
    fn reduced(
        &self,
        evidence: &Evidence,
        buffer: &mut Vec<f64>,
        traffic: &mut Traffic,
        cancel: &CancelToken,
    ) -> Result<Option<JunctionTree>, Interrupted> {
        if evidence.hard().is_empty() || self.initial.len() < self.routes.slice_min_entries {
            return Ok(None);
        }
        let network = &self.network;
        let mut observed: Vec<Option<usize>> = vec![None; network.n_variables()];
        for (&var, &state) in evidence.hard() {
            observed[var.index()] = Some(state);
        }
        let sliced_entries: f64 = self
            .cliques
            .iter()
            .map(|c| {
                c.scope
                    .iter()
                    .zip(&c.cards)
                    .filter(|(v, _)| observed[v.index()].is_none())
                    .map(|(_, &n)| n as f64)
                    .product::<f64>()
            })
            .sum();
        // Observed variables stay as isolated vertices (weight one in the estimate): each gets
        // a one-variable clique for its indicator, and variable indices need no renumbering.
        let weights = network
            .variable_ids()
            .map(|v| match observed[v.index()] {
                Some(_) => 1.0,
                None => network.cardinality(v) as f64,
            })
            .collect();
        let mut graph = Graph::new(weights);
        for var in network.variable_ids() {
            let family: Vec<VarId> = network
                .parents(var)
                .iter()
                .copied()
                .chain([var])
                .filter(|v| observed[v.index()].is_none())
                .collect();
            for (i, a) in family.iter().enumerate() {
                for b in &family[i + 1..] {
                    graph.add_edge(a.index(), b.index());
                }
            }
        }
        // The compiled order on the smaller graph costs one pass and can only shrink cliques;
        // a new greedy search often finds far smaller ones (barley: 7.9e6 entries against
        // 1.7e6), but takes about 10 ns × n², so it runs only where that is small beside the
        // propagation it may save (on barley and link, not on pigs).
        let n = network.n_variables() as f64;
        let in_order = Triangulation {
            cliques: cliques_in_order(&graph, &self.order),
            order: self.order.clone(),
        };
        let mut best = (self.estimate.heuristic, in_order);
        if self.routes.greedy_search_ratio * n * n < sliced_entries {
            let in_order_entries = total_entries(&graph, &best.1.cliques);
            // A search that passes the compiled order's entries could not replace it.
            match best_triangulation(&graph, &Heuristic::ALL, in_order_entries, cancel) {
                Ok(searched) => {
                    if total_entries(&graph, &searched.1.cliques) < in_order_entries {
                        best = searched;
                    }
                }
                Err(Stopped::OverLimit { .. }) => {}
                Err(Stopped::Interrupted(why)) => return Err(why),
            }
        }
        let reduced_entries = total_entries(&graph, &best.1.cliques);
        if reduced_entries > self.routes.reduced_max_share * sliced_entries {
            return Ok(None);
        }
        let plan = plan_cliques(&graph, best.0, best.1);
        let parts = network
            .variable_ids()
            .map(|var| {
                let cpt = Factor::from_cpt(network, var);
                let fixed: Vec<Option<usize>> =
                    cpt.vars().iter().map(|v| observed[v.index()]).collect();
                let part = if fixed.iter().all(Option::is_none) {
                    cpt
                } else {
                    let slice = Slice::new(cpt.cards(), &fixed);
                    let mut values = vec![0.0; slice.len()];
                    slice.gather(cpt.values(), &mut values);
                    let (vars, cards): (Vec<VarId>, Vec<usize>) = cpt
                        .vars()
                        .iter()
                        .zip(cpt.cards())
                        .filter(|(v, _)| observed[v.index()].is_none())
                        .map(|(&v, &n)| (v, n))
                        .unzip();
                    Factor::from_table(&vars, &cards, &values)
                };
                // A CPT whose own variable is observed is a likelihood of its parents.
                (part, observed[var.index()].is_none().then_some(var))
            })
            .collect();
        // Hard evidence is an indicator in each observed variable's own one-variable clique:
        // the CPTs already hold it, so it adds nothing to P(e), and nothing is sliced.
        let tree = JunctionTree::assemble(
            network.clone(),
            plan,
            parts,
            usize::MAX,
            std::mem::take(buffer),
            cancel,
        )?;
        // Building writes every table and multiplies the CPTs in.
        traffic.pass(tree.initial.len(), true);
        Ok(Some(tree))
    }

    /// The separator of `edge` without the observed variables: its length.
    fn free_len(&self, edge: &Edge, observed: &[Option<usize>]) -> usize {
        edge.shared
            .iter()
            .filter(|v| observed[v.index()].is_none())
            .map(|&v| self.network.cardinality(v))
            .product()
    }

    /// The projection from clique `c`'s (possibly sliced) table onto `vars` minus the observed.
    fn projection<'a>(
        &self,
        views: &[Option<View>],
        c: usize,
        compiled: &'a Projection,
        vars: &[VarId],
        observed: &[Option<usize>],
    ) -> Cow<'a, Projection> {
        match &views[c] {
            None => Cow::Borrowed(compiled),
            Some(view) => {
                let free: Vec<VarId> = vars
                    .iter()
                    .copied()
                    .filter(|v| observed[v.index()].is_none())
                    .collect();
                Cow::Owned(Projection::new(&view.scope, &view.cards, &free))
            }
        }
    }

    /// Hugin propagation over the clique tables sliced by hard evidence: cliques holding an
    /// observed variable shrink by its cardinality before anything else touches them, and
    /// every later pass (collect, distribute, marginals) runs over the smaller tables.
    fn propagate(
        &self,
        workspace: &mut Workspace,
        tables_ready: bool,
        evidence: &Evidence,
        targets: &[VarId],
        traffic: &mut Traffic,
        cancel: &CancelToken,
    ) -> Result<Posteriors, InferenceError> {
        let network = &*self.network;
        let Workspace {
            tables,
            separators,
            message,
            scratch,
            root_message,
        } = workspace;
        // Variables whose hard evidence slices the tables. On a small tree the tables are in
        // cache and slicing saves less than re-planning the projections costs, so there hard
        // evidence is an indicator likelihood like any soft finding.
        let mut observed: Vec<Option<usize>> = vec![None; network.n_variables()];
        if self.initial.len() >= self.routes.slice_min_entries {
            for (&var, &state) in evidence.hard() {
                observed[var.index()] = Some(state);
            }
        }

        let (views, at) = self.copy_tables(tables, tables_ready, &observed, traffic, cancel)?;
        let table = |c: usize| at[c].0..at[c].0 + at[c].1;

        // Evidence not sliced in: a likelihood vector multiplied into its variable's home
        // clique, or, soft evidence on an observed variable, one number.
        let mut ln_p_evidence = 0.0;
        let mut evidence_below = vec![false; self.cliques.len()];
        for var in evidence.variables() {
            let (c, compiled) = &self.home[var.index()];
            evidence_below[*c] = true;
            match observed[var.index()] {
                Some(state) => {
                    if let Some(likelihood) = evidence.soft_likelihood(var) {
                        let weight = likelihood[state];
                        if weight <= 0.0 {
                            return Err(impossible(network, evidence));
                        }
                        ln_p_evidence += weight.ln();
                    }
                }
                None => {
                    let likelihood = evidence
                        .likelihood_rescaled(var, network.cardinality(var))
                        .expect("var has a finding");
                    let projection = self.projection(&views, *c, compiled, &[var], &observed);
                    let range = table(*c);
                    traffic.pass(range.len(), true);
                    projection.multiply(&mut tables[range], &likelihood);
                }
            }
        }
        // Which cliques have evidence in their subtree (edges are in breadth-first order).
        for edge in self.edges.iter().rev() {
            if evidence_below[edge.child] {
                evidence_below[edge.parent] = true;
            }
        }
        // Projections of each edge from the child's and the parent's (sliced) tables, and the
        // separators' lengths; without slicing (the common case on small trees) the compiled
        // ones, without allocating.
        let slicing = views.iter().any(Option::is_some);
        let (from_child, from_parent, sep_len): (Vec<Cow<'_, Projection>>, Vec<_>, Vec<_>) =
            if slicing {
                (
                    self.edges
                        .iter()
                        .map(|e| {
                            self.projection(&views, e.child, &e.from_child, &e.shared, &observed)
                        })
                        .collect(),
                    self.edges
                        .iter()
                        .map(|e| {
                            self.projection(&views, e.parent, &e.from_parent, &e.shared, &observed)
                        })
                        .collect(),
                    self.edges
                        .iter()
                        .map(|e| match (&views[e.child], &views[e.parent]) {
                            (None, None) => e.len,
                            _ => self.free_len(e, &observed),
                        })
                        .collect(),
                )
            } else {
                (Vec::new(), Vec::new(), Vec::new())
            };
        let from_child = |e: usize| -> &Projection {
            from_child.get(e).map_or(&self.edges[e].from_child, |p| p)
        };
        let from_parent = |e: usize| -> &Projection {
            from_parent.get(e).map_or(&self.edges[e].from_parent, |p| p)
        };
        let sep_len = |e: usize| -> usize { sep_len.get(e).copied().unwrap_or(self.edges[e].len) };
        // A non-carrier's separator from its carrier's, re-planned where slicing dropped
        // variables from both.
        let from_carrier = |e: usize| -> Cow<'_, Projection> {
            let edge = &self.edges[e];
            let compiled = edge.from_carrier.as_ref().expect("not its own carrier");
            let carrier = &self.edges[edge.carrier].shared;
            if !carrier.iter().any(|v| observed[v.index()].is_some()) {
                return Cow::Borrowed(compiled);
            }
            let free = |vars: &[VarId]| -> Vec<VarId> {
                vars.iter()
                    .copied()
                    .filter(|v| observed[v.index()].is_none())
                    .collect()
            };
            let big = free(carrier);
            let cards: Vec<usize> = big.iter().map(|&v| network.cardinality(v)).collect();
            Cow::Owned(Projection::new(&big, &cards, &free(&edge.shared)))
        };
        let groups = &self.sibling_groups;
        separators.clear();
        separators.resize(self.separator_len, 1.0);
        message.resize(self.max_separator_len, 0.0);
        scratch.resize(self.max_separator_len, 0.0);

        // Collect. A skipped subtree sums to one as a whole, so the scales divided out of
        // messages inside it must not count towards P(e); the messages are still needed to
        // distribute.
        let mut inside_skipped = vec![false; self.cliques.len()];
        for edge in &self.edges {
            let skipped = edge.barren_below && !evidence_below[edge.child];
            inside_skipped[edge.child] = skipped || inside_skipped[edge.parent];
        }
        let skipped = |e: usize| self.edges[e].barren_below && !evidence_below[self.edges[e].child];
        let mut root_carrier: Option<usize> = None;
        for group in groups.iter().rev() {
            cancel.check()?;
            for e in group.clone().filter(|&e| !skipped(e)) {
                let edge = &self.edges[e];
                let separator = &mut separators[edge.offset..edge.offset + sep_len(e)];
                let child = table(edge.child);
                traffic.pass(child.len(), false);
                from_child(e).sum_into(&tables[child], separator);
                let z = normalize(separator);
                if z <= 0.0 || !z.is_finite() {
                    return Err(impossible(network, evidence));
                }
                if !inside_skipped[edge.child] {
                    ln_p_evidence += z.ln();
                }
            }
            let parent_clique = self.edges[group.start].parent;
            let parent = table(parent_clique);
            // An empty separator (disconnected parts, or every shared variable observed)
            // carries one number, now 1: multiplying by it would be a pass for nothing.
            let multiplies = |carrier: usize| {
                self.edges[carrier].carrier == carrier
                    && sep_len(carrier) > 1
                    && group
                        .clone()
                        .any(|e| self.edges[e].carrier == carrier && !skipped(e))
            };
            let last = group.clone().rev().find(|&e| multiplies(e));
            for carrier in group.clone().filter(|&e| multiplies(e)) {
                let len = sep_len(carrier);
                let combined = &mut message[..len];
                let offset = self.edges[carrier].offset;
                combined.copy_from_slice(&separators[offset..offset + len]);
                for e in group
                    .clone()
                    .filter(|&e| e != carrier && self.edges[e].carrier == carrier && !skipped(e))
                {
                    let offset = self.edges[e].offset;
                    from_carrier(e).multiply(combined, &separators[offset..offset + sep_len(e)]);
                }
                traffic.pass(parent.len(), true);
                if parent_clique == self.root && Some(carrier) == last {
                    // The root's last multiplication also sums it onto this separator: the
                    // first distribute message and the root's total, without two more passes.
                    root_message.resize(len, 0.0);
                    from_parent(carrier).multiply_and_sum_into(
                        &mut tables[parent.clone()],
                        combined,
                        root_message,
                    );
                    root_carrier = Some(carrier);
                } else {
                    from_parent(carrier).multiply(&mut tables[parent.clone()], combined);
                }
            }
        }
        // The root's total, not normalised in place: distribute normalises its messages and
        // the marginals are normalised, so the tables' scale does not matter.
        let z_root: f64 = if root_carrier.is_some() {
            root_message.iter().sum()
        } else {
            let root = table(self.root);
            traffic.pass(root.len(), false);
            tables[root].iter().sum()
        };
        if z_root <= 0.0 || !z_root.is_finite() {
            return Err(impossible(network, evidence));
        }
        ln_p_evidence += z_root.ln() + evidence.ln_soft_scale();
        if evidence.is_empty() {
            // Exactly: rounding in the normalisers would otherwise leave ~1e-16.
            ln_p_evidence = 0.0;
        }

        // Distribute only into cliques that lead to an unobserved target's home clique.
        let mut needed = vec![false; self.cliques.len()];
        for t in targets {
            if observed[t.index()].is_some() {
                continue;
            }
            let mut c = self.home[t.index()].0;
            while !needed[c] {
                needed[c] = true;
                match self.edge_above[c] {
                    usize::MAX => break,
                    e => c = self.edges[e].parent,
                }
            }
        }
        let needed = &needed;
        for group in groups {
            cancel.check()?;
            let parent = table(self.edges[group.start].parent);
            for carrier in group.clone().filter(|&e| self.edges[e].carrier == e) {
                // Over an empty separator the child's subtree is independent of the parent's:
                // the message would only rescale it.
                let members = || {
                    group.clone().filter(move |&e| {
                        self.edges[e].carrier == carrier
                            && needed[self.edges[e].child]
                            && sep_len(e) > 1
                    })
                };
                if members().next().is_none() {
                    continue;
                }
                let carried = &mut message[..sep_len(carrier)];
                if root_carrier == Some(carrier) {
                    carried.copy_from_slice(root_message);
                } else {
                    traffic.pass(parent.len(), false);
                    from_parent(carrier).sum_into(&tables[parent.clone()], carried);
                }
                // Normalised so that scales do not compound down the tree.
                normalize(carried);
                for e in members() {
                    let edge = &self.edges[e];
                    let new = &mut scratch[..sep_len(e)];
                    if e == carrier {
                        new.copy_from_slice(carried);
                    } else {
                        from_carrier(e).sum_into(carried, new);
                    }
                    let old = &separators[edge.offset..edge.offset + sep_len(e)];
                    // Where the old message is 0 the child table is 0 too, so the ratio there
                    // is moot.
                    for (n, &o) in new.iter_mut().zip(old) {
                        *n = if o > 0.0 { *n / o } else { 0.0 };
                    }
                    let child = table(edge.child);
                    traffic.pass(child.len(), true);
                    from_child(e).multiply(&mut tables[child], new);
                }
            }
        }

        let marginals = self.marginals(tables, &at, &views, &observed, targets, traffic);
        Ok(Posteriors::new(ln_p_evidence, marginals))
    }

    /// Copies the compiled tables into `tables` (unless `tables_ready`: a tree built for
    /// this query has them there already), slicing every clique that holds an observed
    /// variable. Returns each clique's view (its free scope, when sliced) and its place.
    fn copy_tables(
        &self,
        tables: &mut Vec<f64>,
        tables_ready: bool,
        observed: &[Option<usize>],
        traffic: &mut Traffic,
        cancel: &CancelToken,
    ) -> Result<(Vec<Option<View>>, Vec<Place>), Interrupted> {
        // Copy the compiled tables, slicing every clique that holds an observed variable.
        // Slicing on a variable in every clique that holds it multiplies its indicator into
        // each of them, which is the same joint distribution as multiplying it into one (the
        // indicator is idempotent).
        let mut views: Vec<Option<View>> = Vec::with_capacity(self.cliques.len());
        let mut at: Vec<(usize, usize)> = Vec::with_capacity(self.cliques.len());
        if tables_ready {
            // A tree built for this query, its tables already in the workspace.
            debug_assert!(observed.iter().all(Option::is_none));
            debug_assert_eq!(
                tables.len(),
                self.cliques.iter().map(|c| c.len).sum::<usize>()
            );
        } else {
            tables.clear();
        }
        if observed.iter().all(Option::is_none) {
            // Nothing to slice: one copy, the compiled layout.
            if !tables_ready {
                tables.extend_from_slice(&self.initial);
                traffic.pass(self.initial.len(), true);
            }
            views.resize_with(self.cliques.len(), || None);
            at.extend(self.cliques.iter().map(|c| (c.offset, c.len)));
        }
        for clique in self.cliques.iter().skip(at.len()) {
            cancel.check()?;
            let full = &self.initial[clique.offset..clique.offset + clique.len];
            let start = tables.len();
            if clique.scope.iter().all(|v| observed[v.index()].is_none()) {
                tables.extend_from_slice(full);
                views.push(None);
            } else {
                let fixed: Vec<Option<usize>> =
                    clique.scope.iter().map(|v| observed[v.index()]).collect();
                let slice = Slice::new(&clique.cards, &fixed);
                tables.resize(start + slice.len(), 0.0);
                slice.gather(full, &mut tables[start..]);
                let (scope, cards) = clique
                    .scope
                    .iter()
                    .zip(&clique.cards)
                    .filter(|(v, _)| observed[v.index()].is_none())
                    .map(|(&v, &n)| (v, n))
                    .unzip();
                views.push(Some(View { scope, cards }));
            }
            at.push((start, tables.len() - start));
            traffic.pass(tables.len() - start, true);
        }
        Ok((views, at))
    }

    /// Each target's marginal from its home clique (a point mass for an observed target).
    fn marginals(
        &self,
        tables: &[f64],
        at: &[(usize, usize)],
        views: &[Option<View>],
        observed: &[Option<usize>],
        targets: &[VarId],
        traffic: &mut Traffic,
    ) -> Vec<(VarId, Vec<f64>)> {
        let network = &*self.network;
        let table = |c: usize| at[c].0..at[c].0 + at[c].1;
        targets
            .iter()
            .map(|&var| {
                let n = network.cardinality(var);
                let marginal = match observed[var.index()] {
                    Some(state) => (0..n).map(|i| if i == state { 1.0 } else { 0.0 }).collect(),
                    None => {
                        let (c, compiled) = &self.home[var.index()];
                        let projection = self.projection(views, *c, compiled, &[var], observed);
                        let range = table(*c);
                        traffic.pass(range.len(), false);
                        let mut marginal = vec![0.0; n];
                        projection.sum_into(&tables[range], &mut marginal);
                        normalize(&mut marginal);
                        marginal
                    }
                };
                (var, marginal)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VariableElimination;

    /// Every route a query can take (slicing by hard evidence and reduced trees, normally
    /// only on large trees; the compiled prior) gives the answers of plain propagation and of
    /// variable elimination, with soft evidence on observed and unobserved variables.
    #[test]
    fn every_route_answers_as_variable_elimination_does() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in ["asia", "sino_russian_partnership", "child", "alarm"] {
            let network = Arc::new(
                crate::io::read_network(root.join(format!("networks/{name}.bif"))).unwrap(),
            );
            let compile = |routes: Routes| {
                let mut tree = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
                tree.routes = routes;
                tree
            };
            let plain = compile(Routes::default());
            let sliced = compile(Routes {
                slice_min_entries: 0,
                reduced_max_share: 0.0,
                ..Routes::default()
            });
            let reduced_in_order = compile(Routes {
                slice_min_entries: 0,
                reduced_max_share: f64::INFINITY,
                greedy_search_ratio: f64::INFINITY,
            });
            let reduced_searched = compile(Routes {
                slice_min_entries: 0,
                reduced_max_share: f64::INFINITY,
                greedy_search_ratio: 0.0,
            });
            let engines = [&plain, &sliced, &reduced_in_order, &reduced_searched];
            let ve = VariableElimination::new(network.clone());
            let n = network.n_variables();
            let all: Vec<VarId> = network.variable_ids().collect();
            for k in 0..n + 1 {
                let mut evidence = Evidence::new();
                // The last round has no evidence: the compiled prior.
                for (i, &var) in all.iter().enumerate().filter(|_| k < n) {
                    if (i * 7 + k) % 3 == 0 {
                        evidence
                            .observe(&network, var, (i + k) % network.cardinality(var))
                            .unwrap();
                    }
                    if (i + k) % 4 == 0 {
                        let likelihood: Vec<f64> = (0..network.cardinality(var))
                            .map(|s| 0.25 + ((s + i) % 3) as f64)
                            .collect();
                        evidence.add_likelihood(&network, var, &likelihood).unwrap();
                    }
                }
                let expected = match ve.posteriors(&evidence, &all) {
                    Ok(p) => p,
                    Err(_) => {
                        for engine in engines {
                            assert!(engine.posteriors(&evidence, &[]).is_err());
                        }
                        continue;
                    }
                };
                for (route, engine) in engines.iter().enumerate() {
                    let got = engine.posteriors(&evidence, &[]).unwrap();
                    let context = format!("{name}, case {k}, route {route}");
                    assert!(
                        (got.ln_p_evidence() - expected.ln_p_evidence()).abs() < 1e-10,
                        "{context}"
                    );
                    for &var in &all {
                        for (a, b) in got
                            .marginal(var)
                            .unwrap()
                            .iter()
                            .zip(expected.marginal(var).unwrap())
                        {
                            assert!((a - b).abs() < 1e-12, "{context}");
                        }
                    }
                }
            }
        }
    }

    /// A reduced tree is taken when it is smaller, and it is where an observed variable breaks
    /// a loop: the chords that triangulated the loop are no longer needed, while slicing the
    /// compiled tables keeps them.
    #[test]
    fn a_reduced_tree_drops_the_fill_in_an_observed_variable_caused() {
        // A loop of eight ten-state variables: v0 → v1 → … → v4 → v7 and v0 → v5 → v6 → v7.
        let mut builder = crate::NetworkBuilder::new("loop");
        let states: Vec<String> = (0..10).map(|s| format!("s{s}")).collect();
        let ids: Vec<VarId> = (0..8)
            .map(|i| {
                builder
                    .add_variable(format!("v{i}"), states.clone())
                    .unwrap()
            })
            .collect();
        let parents: [&[usize]; 8] = [&[], &[0], &[1], &[2], &[3], &[0], &[5], &[4, 6]];
        for (child, parents) in parents.iter().enumerate() {
            let rows = 10usize.pow(parents.len() as u32);
            let values: Vec<f64> = (0..rows)
                .flat_map(|row| {
                    let weights: Vec<f64> = (0..10)
                        .map(|s| 1.0 + ((row * 7 + s * 3 + child) % 5) as f64)
                        .collect();
                    let total: f64 = weights.iter().sum();
                    weights.into_iter().map(move |w| w / total)
                })
                .collect();
            let parents = parents.iter().map(|&p| ids[p]).collect();
            builder.set_cpt(ids[child], parents, values).unwrap();
        }
        let network = Arc::new(builder.build().unwrap());
        let mut tree = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
        tree.routes.slice_min_entries = 0;
        let mut evidence = Evidence::new();
        evidence.observe(&network, ids[2], 4).unwrap();
        let sliced: f64 = tree
            .cliques
            .iter()
            .map(|c| c.len as f64 / if c.scope.contains(&ids[2]) { 10.0 } else { 1.0 })
            .sum();
        let reduced = tree
            .reduced(
                &evidence,
                &mut Vec::new(),
                &mut Traffic::default(),
                &CancelToken::new(),
            )
            .unwrap()
            .expect("observing v2 opens the loop");
        assert!(reduced.cost().total_clique_entries <= sliced / 2.0);
        let expected = VariableElimination::new(network.clone())
            .posteriors(&evidence, &[])
            .unwrap();
        let got = tree.posteriors(&evidence, &[]).unwrap();
        assert!((got.ln_p_evidence() - expected.ln_p_evidence()).abs() < 1e-12);
        for &var in &ids {
            for (a, b) in got
                .marginal(var)
                .unwrap()
                .iter()
                .zip(expected.marginal(var).unwrap())
            {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }
}
