//! The junction-tree engine, Hugin architecture.
//!
//! Compilation (once per network): moralise; triangulate greedily with each of
//! [`Heuristic::ALL`] and keep the triangulation with the fewest clique-table entries; link the
//! maximal cliques into a tree by maximum separator size; multiply each CPT into the smallest
//! clique that holds its family; precompute every [`Projection`] a query will need.
//!
//! A query copies the compiled clique tables into its own buffer (on large trees slicing every
//! clique that holds a variable with hard evidence at its observed state, so that the clique and
//! every later pass over it shrink by that variable's cardinality), multiplies the remaining
//! evidence into the smallest clique holding each variable, collects towards the root and distributes
//! back (Jensen, Lauritzen & Olesen 1990; Koller & Friedman 2009, §10.3). Collect messages are
//! normalised and their logs summed, so `ln P(e)` does not underflow however much evidence there
//! is. Hugin was chosen over Shafer–Shenoy because with all marginals wanted it touches each
//! clique table a constant number of times and keeps one message buffer per separator.

use super::{
    InferenceEngine, InferenceError, Posteriors, check_ids, impossible, normalize, resolve_targets,
};
use crate::evidence::Evidence;
use crate::factor::{Factor, Projection, Slice};
use crate::graph::{Graph, Heuristic, clique_tree, table_entries, triangulate};
use crate::model::{Network, VarId};
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, Mutex};

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
}

impl fmt::Display for CostEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

/// The best of the greedy triangulations, scored by total clique-table entries.
fn best_triangulation(graph: &Graph) -> (Heuristic, Vec<Vec<usize>>) {
    Heuristic::ALL
        .iter()
        .map(|&h| {
            let cliques = triangulate(graph, h).cliques;
            let total: f64 = cliques.iter().map(|c| table_entries(graph, c)).sum();
            (total, h, cliques)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, h, c)| (h, c))
        .expect("at least one heuristic")
}

/// The structure of a tree before its tables exist.
struct Plan {
    cliques: Vec<Vec<usize>>,
    parent: Vec<Option<usize>>,
    root: usize,
    estimate: CostEstimate,
}

fn plan(network: &Network) -> Plan {
    let graph = Graph::moral(network);
    let (heuristic, mut cliques) = best_triangulation(&graph);
    if cliques.is_empty() {
        // An empty network still gets one (empty) clique so that P(e) = 1 has a home.
        cliques.push(Vec::new());
    }
    let sizes: Vec<f64> = cliques.iter().map(|c| table_entries(&graph, c)).collect();
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
            Some(table_entries(&graph, &shared))
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
    };
    Plan {
        cliques,
        parent,
        root,
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
/// `propagate`).
const SLICE_MIN_ENTRIES: usize = 1 << 16;

/// One query's tables, kept for reuse: allocating hundreds of MiB per query costs more in
/// page faults than the copy itself.
#[derive(Debug, Default)]
struct Workspace {
    /// The clique tables, sliced by hard evidence where it applies, concatenated.
    tables: Vec<f64>,
    separators: Vec<f64>,
    message: Vec<f64>,
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
    /// Index into `edges` of the edge above each clique (`usize::MAX` for the root).
    edge_above: Vec<usize>,
    root: usize,
    /// For each variable: the smallest clique holding it, and the projection onto it.
    home: Vec<(usize, Projection)>,
    separator_len: usize,
    max_separator_len: usize,
    /// [`SLICE_MIN_ENTRIES`], a field so that the unit tests can slice small trees.
    slice_min_entries: usize,
    estimate: CostEstimate,
    /// Idle workspaces; a query takes one (or makes one) and puts it back.
    pool: Mutex<Vec<Workspace>>,
}

impl JunctionTree {
    /// What compiling `network` would cost, without allocating tables.
    pub fn estimate(network: &Network) -> CostEstimate {
        plan(network).estimate
    }

    /// Compiles `network`.
    ///
    /// # Errors
    /// [`InferenceError::OverBudget`] when the tree would exceed `budget`; nothing large is
    /// allocated in that case.
    pub fn compile(network: Arc<Network>, budget: &Budget) -> Result<JunctionTree, InferenceError> {
        let Plan {
            cliques: clique_vertices,
            parent,
            root,
            estimate,
        } = plan(&network);
        if estimate.bytes > budget.max_bytes as f64 {
            return Err(InferenceError::OverBudget {
                network: network.name().to_string(),
                estimate,
                budget: format_bytes(budget.max_bytes as f64),
            });
        }
        let scopes: Vec<Vec<VarId>> = clique_vertices
            .iter()
            .map(|c| c.iter().map(|&v| VarId::new(v)).collect())
            .collect();
        let cards_of = |scope: &[VarId]| -> Vec<usize> {
            scope.iter().map(|&v| network.cardinality(v)).collect()
        };
        let mut cliques = Vec::with_capacity(scopes.len());
        let mut offset = 0;
        for scope in &scopes {
            let cards = cards_of(scope);
            let len: usize = cards.iter().product();
            cliques.push(Clique {
                offset,
                len,
                scope: scope.clone(),
                cards,
            });
            offset += len;
        }
        let smallest_holding = |vars: &[VarId]| -> usize {
            (0..scopes.len())
                .filter(|&c| vars.iter().all(|v| scopes[c].binary_search(v).is_ok()))
                .min_by_key(|&c| cliques[c].len)
                .expect("every family lies in some clique of a triangulation of the moral graph")
        };

        let mut initial = vec![1.0; offset];
        let mut assigned: Vec<Vec<VarId>> = vec![Vec::new(); scopes.len()];
        for var in network.variable_ids() {
            let family = Factor::from_cpt(&network, var);
            let c = smallest_holding(family.vars());
            assigned[c].push(var);
            let clique = &cliques[c];
            let projection = Projection::new(&scopes[c], &clique.cards, family.vars());
            projection.multiply(
                &mut initial[clique.offset..clique.offset + clique.len],
                family.values(),
            );
        }

        let mut children = vec![Vec::new(); scopes.len()];
        for (c, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(c);
            }
        }
        let mut edges = Vec::with_capacity(scopes.len().saturating_sub(1));
        let mut edge_above = vec![usize::MAX; scopes.len()];
        let mut queue = std::collections::VecDeque::from([root]);
        let mut separator_offset = 0;
        while let Some(p) = queue.pop_front() {
            for &c in &children[p] {
                let shared: Vec<VarId> = scopes[c]
                    .iter()
                    .copied()
                    .filter(|v| scopes[p].binary_search(v).is_ok())
                    .collect();
                let from_child = Projection::new(&scopes[c], &cards_of(&scopes[c]), &shared);
                let from_parent = Projection::new(&scopes[p], &cards_of(&scopes[p]), &shared);
                let len = from_child.small_len();
                edge_above[c] = edges.len();
                edges.push(Edge {
                    child: c,
                    parent: p,
                    offset: separator_offset,
                    len,
                    shared,
                    from_child,
                    from_parent,
                    barren_below: false,
                });
                separator_offset += len;
                queue.push_back(c);
            }
        }
        // Children of separator variables assigned below each edge, deepest edges first.
        let mut below: Vec<Vec<VarId>> = assigned;
        for e in (0..edges.len()).rev() {
            let (c, p) = (edges[e].child, edges[e].parent);
            edges[e].barren_below = !below[c].iter().any(|v| edges[e].shared.contains(v));
            let moved = std::mem::take(&mut below[c]);
            below[p].extend(moved);
        }
        let home = network
            .variable_ids()
            .map(|var| {
                let c = smallest_holding(&[var]);
                (
                    c,
                    Projection::new(&scopes[c], &cards_of(&scopes[c]), &[var]),
                )
            })
            .collect();
        let max_separator_len = edges.iter().map(|e| e.len).max().unwrap_or(1);
        Ok(JunctionTree {
            network,
            cliques,
            initial,
            edges,
            edge_above,
            root,
            home,
            separator_len: separator_offset,
            max_separator_len,
            slice_min_entries: SLICE_MIN_ENTRIES,
            estimate,
            pool: Mutex::new(Vec::new()),
        })
    }

    /// The cost of this tree.
    pub fn cost(&self) -> &CostEstimate {
        &self.estimate
    }
}

impl InferenceEngine for JunctionTree {
    fn posteriors(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
    ) -> Result<Posteriors, InferenceError> {
        let network = &*self.network;
        check_ids(network, evidence, targets)?;
        let targets = resolve_targets(network, targets);
        let mut workspace = self
            .pool
            .lock()
            .map(|mut p| p.pop())
            .ok()
            .flatten()
            .unwrap_or_default();
        let result = self.propagate(&mut workspace, evidence, &targets, &mut Traffic::default());
        if let Ok(mut pool) = self.pool.lock() {
            pool.push(workspace);
        }
        result
    }

    fn network(&self) -> &Network {
        &self.network
    }

    fn kind(&self) -> super::EngineKind {
        super::EngineKind::JunctionTree
    }
}

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
        self.propagate(&mut Workspace::default(), evidence, &targets, &mut traffic)?;
        Ok(traffic)
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
        evidence: &Evidence,
        targets: &[VarId],
        traffic: &mut Traffic,
    ) -> Result<Posteriors, InferenceError> {
        let network = &*self.network;
        let Workspace {
            tables,
            separators,
            message,
        } = workspace;
        // Variables whose hard evidence slices the tables. On a small tree the tables are in
        // cache and slicing saves less than re-planning the projections costs, so there hard
        // evidence is an indicator likelihood like any soft finding.
        let mut observed: Vec<Option<usize>> = vec![None; network.n_variables()];
        if self.initial.len() >= self.slice_min_entries {
            for (&var, &state) in evidence.hard() {
                observed[var.index()] = Some(state);
            }
        }

        // Copy the compiled tables, slicing every clique that holds an observed variable.
        // Slicing on a variable in every clique that holds it multiplies its indicator into
        // each of them, which is the same joint distribution as multiplying it into one (the
        // indicator is idempotent).
        let mut views: Vec<Option<View>> = Vec::with_capacity(self.cliques.len());
        let mut at: Vec<(usize, usize)> = Vec::with_capacity(self.cliques.len());
        tables.clear();
        if observed.iter().all(Option::is_none) {
            // Nothing to slice: one copy, the compiled layout.
            tables.extend_from_slice(&self.initial);
            traffic.pass(self.initial.len(), true);
            views.resize_with(self.cliques.len(), || None);
            at.extend(self.cliques.iter().map(|c| (c.offset, c.len)));
        }
        for clique in self.cliques.iter().skip(at.len()) {
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
                    if let Some(likelihood) = evidence.soft().get(&var) {
                        let weight = likelihood[state];
                        if weight <= 0.0 {
                            return Err(impossible(network, evidence));
                        }
                        ln_p_evidence += weight.ln();
                    }
                }
                None => {
                    let likelihood = evidence
                        .likelihood(var, network.cardinality(var))
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
        separators.clear();
        separators.resize(self.separator_len, 1.0);
        message.resize(self.max_separator_len, 0.0);

        // Collect. A skipped subtree sums to one as a whole, so the scales divided out of
        // messages inside it must not count towards P(e); the messages are still needed to
        // distribute.
        let mut inside_skipped = vec![false; self.cliques.len()];
        for edge in &self.edges {
            let skipped = edge.barren_below && !evidence_below[edge.child];
            inside_skipped[edge.child] = skipped || inside_skipped[edge.parent];
        }
        for (e, edge) in self.edges.iter().enumerate().rev() {
            if edge.barren_below && !evidence_below[edge.child] {
                continue;
            }
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
            let parent = table(edge.parent);
            traffic.pass(parent.len(), true);
            from_parent(e).multiply(&mut tables[parent], separator);
        }
        let root = table(self.root);
        // Normalising reads the root and writes it back: two passes.
        traffic.pass(root.len(), false);
        traffic.pass(root.len(), true);
        let z_root = normalize(&mut tables[root]);
        if z_root <= 0.0 || !z_root.is_finite() {
            return Err(impossible(network, evidence));
        }
        ln_p_evidence += z_root.ln();
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
        for (e, edge) in self.edges.iter().enumerate() {
            if !needed[edge.child] {
                continue;
            }
            let new = &mut message[..sep_len(e)];
            let parent = table(edge.parent);
            traffic.pass(parent.len(), false);
            from_parent(e).sum_into(&tables[parent], new);
            let old = &separators[edge.offset..edge.offset + sep_len(e)];
            // Where the old message is 0 the child table is 0 too, so the ratio there is moot.
            for (n, &o) in new.iter_mut().zip(old) {
                *n = if o > 0.0 { *n / o } else { 0.0 };
            }
            let child = table(edge.child);
            traffic.pass(child.len(), true);
            from_child(e).multiply(&mut tables[child], new);
        }

        let marginals = targets
            .iter()
            .map(|&var| {
                let n = network.cardinality(var);
                let marginal = match observed[var.index()] {
                    Some(state) => (0..n).map(|i| if i == state { 1.0 } else { 0.0 }).collect(),
                    None => {
                        let (c, compiled) = &self.home[var.index()];
                        let projection = self.projection(&views, *c, compiled, &[var], &observed);
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
            .collect();
        Ok(Posteriors::new(ln_p_evidence, marginals))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VariableElimination;

    /// Slicing by hard evidence (normally only on large trees) gives the answers of the
    /// indicator likelihoods, with soft evidence on observed and unobserved variables.
    #[test]
    fn sliced_tables_answer_as_indicators_do() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in ["asia", "sino_russian_partnership"] {
            let network = Arc::new(
                crate::io::read_network(root.join(format!("networks/{name}.bif"))).unwrap(),
            );
            let plain = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
            let mut sliced = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
            sliced.slice_min_entries = 0;
            let ve = VariableElimination::new(network.clone());
            let n = network.n_variables();
            let all: Vec<VarId> = network.variable_ids().collect();
            for k in 0..n {
                let mut evidence = Evidence::new();
                for (i, &var) in all.iter().enumerate() {
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
                        assert!(sliced.posteriors(&evidence, &[]).is_err());
                        assert!(plain.posteriors(&evidence, &[]).is_err());
                        continue;
                    }
                };
                for engine in [&plain, &sliced] {
                    let got = engine.posteriors(&evidence, &[]).unwrap();
                    assert!((got.ln_p_evidence() - expected.ln_p_evidence()).abs() < 1e-10);
                    for &var in &all {
                        for (a, b) in got
                            .marginal(var)
                            .unwrap()
                            .iter()
                            .zip(expected.marginal(var).unwrap())
                        {
                            assert!((a - b).abs() < 1e-12, "{name} case {k}");
                        }
                    }
                }
            }
        }
    }
}
