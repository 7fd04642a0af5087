//! The junction-tree engine, Hugin architecture.
//!
//! Compilation (once per network): moralise; triangulate greedily with each of
//! [`Heuristic::ALL`] and keep the triangulation with the fewest clique-table entries; link the
//! maximal cliques into a tree by maximum separator size; multiply each CPT into the smallest
//! clique that holds its family; precompute every [`Projection`] a query will need.
//!
//! A query copies the compiled clique tables into its own buffer, multiplies evidence into the
//! smallest clique holding each observed variable, collects towards the root and distributes
//! back (Jensen, Lauritzen & Olesen 1990; Koller & Friedman 2009, §10.3). Collect messages are
//! normalised and their logs summed, so `ln P(e)` does not underflow however much evidence there
//! is. Hugin was chosen over Shafer–Shenoy because with all marginals wanted it touches each
//! clique table a constant number of times and keeps one message buffer per separator.

use super::{
    InferenceEngine, InferenceError, Posteriors, check_ids, impossible, normalize, resolve_targets,
};
use crate::evidence::Evidence;
use crate::factor::{Factor, Projection};
use crate::graph::{Graph, Heuristic, clique_tree, table_entries, triangulate};
use crate::model::{Network, VarId};
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
}

#[derive(Debug)]
struct Edge {
    child: usize,
    parent: usize,
    offset: usize,
    len: usize,
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
    /// (copy, evidence, collect, distribute, marginals); separator tables are not counted.
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

/// One query's tables, kept for reuse: allocating hundreds of MiB per query costs more in
/// page faults than the copy itself.
#[derive(Debug, Default)]
struct Workspace {
    tables: Vec<f64>,
    separators: Vec<f64>,
    message: Vec<f64>,
}

/// A compiled junction tree: immutable, shared between queries (wrap it in an `Arc`).
#[derive(Debug)]
pub struct JunctionTree {
    network: Arc<Network>,
    cliques: Vec<Clique>,
    /// Every clique's table after multiplying in its CPTs, concatenated.
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
            let len: usize = cards_of(scope).iter().product();
            cliques.push(Clique { offset, len });
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
            let projection = Projection::new(&scopes[c], &cards_of(&scopes[c]), family.vars());
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
            let shared: Vec<VarId> = scopes[c]
                .iter()
                .copied()
                .filter(|v| scopes[p].binary_search(v).is_ok())
                .collect();
            edges[e].barren_below = !below[c].iter().any(|v| shared.contains(v));
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
            estimate,
            pool: Mutex::new(Vec::new()),
        })
    }

    /// The cost of this tree.
    pub fn cost(&self) -> &CostEstimate {
        &self.estimate
    }

    fn table<'a>(&self, buffer: &'a mut [f64], clique: usize) -> &'a mut [f64] {
        let c = &self.cliques[clique];
        &mut buffer[c.offset..c.offset + c.len]
    }

    /// Two disjoint clique tables, mutable and shared.
    fn pair<'a>(&self, buffer: &'a mut [f64], a: usize, b: usize) -> (&'a mut [f64], &'a [f64]) {
        let (ca, cb) = (&self.cliques[a], &self.cliques[b]);
        if ca.offset < cb.offset {
            let (low, high) = buffer.split_at_mut(cb.offset);
            (&mut low[ca.offset..ca.offset + ca.len], &high[..cb.len])
        } else {
            let (low, high) = buffer.split_at_mut(ca.offset);
            (&mut high[..ca.len], &low[cb.offset..cb.offset + cb.len])
        }
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
        tables.clear();
        tables.extend_from_slice(&self.initial);
        traffic.pass(self.initial.len(), true);
        separators.clear();
        separators.resize(self.separator_len, 1.0);
        message.resize(self.max_separator_len, 0.0);

        // Which cliques have evidence in their subtree (edges are in breadth-first order).
        let mut evidence_below = vec![false; self.cliques.len()];
        for var in evidence.variables() {
            let likelihood = evidence
                .likelihood(var, network.cardinality(var))
                .expect("var has a finding");
            let (c, projection) = &self.home[var.index()];
            projection.multiply(self.table(tables, *c), &likelihood);
            traffic.pass(self.cliques[*c].len, true);
            evidence_below[*c] = true;
        }
        for edge in self.edges.iter().rev() {
            if evidence_below[edge.child] {
                evidence_below[edge.parent] = true;
            }
        }

        // A skipped subtree sums to one as a whole, so the scales divided out of messages
        // inside it must not count towards P(e); the messages are still needed to distribute.
        let mut inside_skipped = vec![false; self.cliques.len()];
        for edge in &self.edges {
            let skipped = edge.barren_below && !evidence_below[edge.child];
            inside_skipped[edge.child] = skipped || inside_skipped[edge.parent];
        }
        let mut ln_p_evidence = 0.0;
        for edge in self.edges.iter().rev() {
            if edge.barren_below && !evidence_below[edge.child] {
                continue;
            }
            let separator = &mut separators[edge.offset..edge.offset + edge.len];
            let child = self.table(tables, edge.child);
            edge.from_child.sum_into(child, separator);
            traffic.pass(child.len(), false);
            let z = normalize(separator);
            if z <= 0.0 || !z.is_finite() {
                return Err(impossible(network, evidence));
            }
            if !inside_skipped[edge.child] {
                ln_p_evidence += z.ln();
            }
            edge.from_parent
                .multiply(self.table(tables, edge.parent), separator);
            traffic.pass(self.cliques[edge.parent].len, true);
        }
        // Normalising reads the root and writes it back: two passes.
        let z_root = normalize(self.table(tables, self.root));
        traffic.pass(self.cliques[self.root].len, false);
        traffic.pass(self.cliques[self.root].len, true);
        if z_root <= 0.0 || !z_root.is_finite() {
            return Err(impossible(network, evidence));
        }
        ln_p_evidence += z_root.ln();
        if evidence.is_empty() {
            // Exactly: rounding in the normalisers would otherwise leave ~1e-16.
            ln_p_evidence = 0.0;
        }

        // Distribute only into cliques that lead to a target's home clique.
        let mut needed = vec![false; self.cliques.len()];
        for t in targets {
            let mut c = self.home[t.index()].0;
            while !needed[c] {
                needed[c] = true;
                match self.edge_above[c] {
                    usize::MAX => break,
                    e => c = self.edges[e].parent,
                }
            }
        }
        for edge in &self.edges {
            if !needed[edge.child] {
                continue;
            }
            let new = &mut message[..edge.len];
            let (child, parent) = self.pair(tables, edge.child, edge.parent);
            edge.from_parent.sum_into(parent, new);
            traffic.pass(parent.len(), false);
            let old = &separators[edge.offset..edge.offset + edge.len];
            // Where the old message is 0 the child table is 0 too, so the ratio there is moot.
            for (n, &o) in new.iter_mut().zip(old) {
                *n = if o > 0.0 { *n / o } else { 0.0 };
            }
            edge.from_child.multiply(child, new);
            traffic.pass(child.len(), true);
        }

        let marginals = targets
            .iter()
            .map(|&var| {
                let (c, projection) = &self.home[var.index()];
                let mut marginal = vec![0.0; network.cardinality(var)];
                let c = &self.cliques[*c];
                traffic.pass(c.len, false);
                projection.sum_into(&tables[c.offset..c.offset + c.len], &mut marginal);
                normalize(&mut marginal);
                (var, marginal)
            })
            .collect();
        Ok(Posteriors::new(ln_p_evidence, marginals))
    }
}
