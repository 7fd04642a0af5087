//! `credence mpe`: the most probable joint state of every unobserved variable (MPE), or of the
//! `--map` subset with the others summed out (MAP), and its probability given the evidence.

use super::{EngineArgs, EvidenceArgs, load_network, resolve_targets};
use anyhow::Result;
use clap::Args;
use credence::analysis::{maximum_a_posteriori, most_probable_explanation};
use serde_json::{Map, Value, json};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = "JSON (--json), one object:\n  \
    {\"assignment\": {VAR: STATE, ...}, \"log_probability\": F}\n\
    where log_probability is ln P(assignment | evidence), the natural log. The assignment covers \
    every variable without hard evidence, or exactly the --map variables in the order given.\n\
    The MPE state of a variable need not be its most probable state on its own: the table shows \
    both.")]
pub struct MpeArgs {
    /// Network file (.bif, or .xml/.xmlbif for XMLBIF).
    network: PathBuf,

    #[command(flatten)]
    evidence: EvidenceArgs,

    /// Maximise over these variables only (MAP), summing all others out: VAR,VAR,...
    #[arg(long = "map", value_name = "VAR,VAR,...", value_delimiter = ',')]
    map: Vec<String>,

    /// Print exactly one JSON object: {"assignment", "log_probability"}.
    #[arg(long)]
    json: bool,

    /// For the marginal column of the table only.
    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: MpeArgs) -> Result<ExitCode> {
    let network = load_network(&args.network)?;
    let evidence = args.evidence.resolve(&network)?;
    let map_vars = resolve_targets(&network, &args.map)?;
    let result = if args.map.is_empty() {
        most_probable_explanation(&network, &evidence)?
    } else {
        maximum_a_posteriori(&network, &evidence, &map_vars)?
    };
    // The assignment in the order asked for (MAP) or in declaration order (MPE).
    let order: Vec<_> = if args.map.is_empty() {
        result.assignment.iter().map(|&(v, _)| v).collect()
    } else {
        map_vars
    };
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let assignment: Map<String, Value> = order
            .iter()
            .map(|&v| {
                let variable = network.variable(v);
                let state = result.state(v).expect("every variable is assigned");
                (variable.name().to_string(), json!(variable.states()[state]))
            })
            .collect();
        let object = json!({"assignment": assignment, "log_probability": result.ln_probability});
        writeln!(stdout, "{object}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let engine = args.engine.build(network.clone())?;
    let marginals = engine.posteriors(&evidence, &order)?;
    let mut out = String::new();
    let what = if args.map.is_empty() {
        format!(
            "most probable explanation: all {} unobserved variables",
            order.len()
        )
    } else {
        format!("MAP over {} (the others summed out)", args.map.join(", "))
    };
    let _ = writeln!(
        out,
        "network {} · evidence: {}\n{what}\nP(assignment | e) = {:.6e} (ln {:.6})\n",
        network.name(),
        evidence.describe(&network),
        result.ln_probability.exp(),
        result.ln_probability
    );
    let name_width = order
        .iter()
        .map(|&v| network.variable(v).name().chars().count())
        .chain(["variable".len()])
        .max()
        .unwrap_or(0);
    let state_width = order
        .iter()
        .map(|&v| {
            let state = result.state(v).expect("assigned");
            network.variable(v).states()[state].chars().count()
        })
        .chain(["state".len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "  {:<name_width$}  {:<state_width$}  P(state | e)  most probable alone",
        "variable", "state"
    );
    for &var in &order {
        let variable = network.variable(var);
        let state = result.state(var).expect("assigned");
        let marginal = marginals.marginal(var).expect("requested");
        let best = (0..marginal.len())
            .max_by(|&a, &b| marginal[a].total_cmp(&marginal[b]).then(b.cmp(&a)))
            .unwrap_or(0);
        let note = if best == state {
            "same".to_string()
        } else {
            format!("{} ({:.4})", variable.states()[best], marginal[best])
        };
        let _ = writeln!(
            out,
            "  {:<name_width$}  {:<state_width$}  {:>12.4}  {note}",
            variable.name(),
            variable.states()[state],
            marginal[state]
        );
    }
    stdout.write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
