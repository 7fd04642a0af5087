//! `credence info`: what a network contains and what exact inference on it will cost.

use super::load_network;
use anyhow::Result;
use clap::Args;
use credence::cancel::CancelToken;
use credence::infer::{Budget, format_bytes};
use credence::{JunctionTree, Network};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Network file (.bif, or .xml/.xmlbif for XMLBIF).
    network: PathBuf,

    /// Print the graph in Graphviz DOT instead (render with: dot -Tsvg net.dot > net.svg).
    #[arg(long)]
    dot: bool,
}

fn dot_string(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// Graphviz DOT: one box per variable (name and states), description as tooltip.
pub fn dot(network: &Network) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", dot_string(network.name()));
    out.push_str("  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f1ea\", fontname=\"Helvetica\", fontsize=11];\n  edge [color=\"#555555\"];\n");
    for variable in network.variables() {
        let label = format!("{}\n{}", variable.name(), variable.states().join(" · "));
        let tooltip = variable.description().unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} [label={}, tooltip={}];",
            dot_string(variable.name()),
            dot_string(&label),
            dot_string(&tooltip)
        );
    }
    for var in network.variable_ids() {
        for &parent in network.parents(var) {
            let _ = writeln!(
                out,
                "  {} -> {};",
                dot_string(network.variable(parent).name()),
                dot_string(network.variable(var).name())
            );
        }
    }
    out.push_str("}\n");
    out
}

fn summary(network: &Network) -> String {
    let mut out = String::new();
    let n = network.n_variables();
    let max_in = network
        .variable_ids()
        .map(|v| network.parents(v).len())
        .max()
        .unwrap_or(0);
    let states: usize = network.variables().iter().map(|v| v.cardinality()).sum();
    let _ = writeln!(out, "network     {}", network.name());
    let _ = writeln!(out, "variables   {n} ({states} states in all)");
    let _ = writeln!(
        out,
        "arcs        {} (at most {max_in} parents per variable)",
        network.n_arcs()
    );
    let _ = writeln!(out, "parameters  {} free", network.n_parameters());
    // Bounded: a network far over the memory budget is said to be so, not triangulated for
    // minutes.
    let budget = Budget::default();
    let cost = match JunctionTree::estimate_within(network, &budget, &CancelToken::new()) {
        Ok(cost) if cost.complete => cost,
        Ok(partial) => {
            let _ = writeln!(
                out,
                "junction tree (exact inference): over the memory budget of {}: {partial}",
                format_bytes(budget.max_bytes as f64)
            );
            return variables(network, out);
        }
        Err(e) => {
            let _ = writeln!(out, "junction tree (exact inference): {e}");
            return variables(network, out);
        }
    };
    let _ = writeln!(
        out,
        "junction tree (exact inference, {:?} triangulation)",
        cost.heuristic
    );
    let _ = writeln!(out, "  treewidth               {}", cost.treewidth);
    let _ = writeln!(out, "  cliques                 {}", cost.n_cliques);
    let _ = writeln!(
        out,
        "  largest clique          {:.0} entries",
        cost.largest_clique_entries
    );
    let _ = writeln!(
        out,
        "  clique entries in all   {:.0}",
        cost.total_clique_entries
    );
    let _ = writeln!(
        out,
        "  separator entries       {:.0}",
        cost.total_separator_entries
    );
    let _ = writeln!(
        out,
        "  memory (tree + 1 query) {}",
        format_bytes(cost.bytes)
    );
    variables(network, out)
}

/// The variable list that ends the summary.
fn variables(network: &Network, mut out: String) -> String {
    out.push_str("\nvariables (states; parents)\n");
    let width = network
        .variables()
        .iter()
        .map(|v| v.name().chars().count())
        .max()
        .unwrap_or(0);
    for var in network.variable_ids() {
        let variable = network.variable(var);
        let parents: Vec<&str> = network
            .parents(var)
            .iter()
            .map(|&p| network.variable(p).name())
            .collect();
        let _ = writeln!(
            out,
            "  {:<width$}  {}; {}",
            variable.name(),
            variable.states().join(", "),
            if parents.is_empty() {
                "no parents".to_string()
            } else {
                parents.join(", ")
            }
        );
        if let Some(description) = variable.description() {
            let _ = writeln!(out, "  {:<width$}  {description}", "");
        }
    }
    out
}

pub fn run(args: InfoArgs) -> Result<ExitCode> {
    let network = load_network(&args.network)?;
    let text = if args.dot {
        dot(&network)
    } else {
        summary(&network)
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
