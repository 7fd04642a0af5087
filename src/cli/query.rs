//! `credence query`: one evidence case, posteriors as a table or one JSON object.

use super::{
    EngineArgs, build_evidence, load_network, parse_assignment, parse_likelihood, render,
    resolve_targets,
};
use anyhow::Result;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Network file (.bif, or .xml/.xmlbif for XMLBIF).
    network: PathBuf,

    /// Hard evidence: VAR=STATE. Repeat for several variables.
    #[arg(short = 'e', long = "evidence", value_name = "VAR=STATE", value_parser = parse_assignment)]
    evidence: Vec<(String, String)>,

    /// Soft (likelihood) evidence: VAR=L1,L2,... with one non-negative value per state, in the
    /// order the network declares them; multiplied into the joint distribution.
    #[arg(long = "soft", value_name = "VAR=L1,L2,...", value_parser = parse_likelihood)]
    soft: Vec<(String, Vec<f64>)>,

    /// Variables to report [default: all]. Repeat for several.
    #[arg(short = 't', long = "target", value_name = "VAR")]
    targets: Vec<String>,

    /// Print exactly one JSON object: {"network", "engine", "log_p_evidence", "posteriors"},
    /// plus "engine_reason" when --engine auto chose, and for sampling engines "stderr" and
    /// "intervals" (shaped like "posteriors") and "sampling" (samples, ESS, R-hat, stop reason).
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: QueryArgs) -> Result<ExitCode> {
    let network = load_network(&args.network)?;
    let evidence = build_evidence(&network, &args.evidence, &args.soft)?;
    let targets = resolve_targets(&network, &args.targets)?;
    let engine = args.engine.build(network.clone())?;
    let answer = engine.answer(&evidence, &targets)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        // Warnings also go to stderr, where people look, and stay in the JSON for programs.
        for warning in answer.sampling.iter().flat_map(|s| &s.warnings) {
            eprintln!("warning: {warning}");
        }
        let object = render::query_json(&network, &answer);
        writeln!(stdout, "{object}")?;
    } else {
        let table = render::query_table(&network, &evidence, &answer);
        stdout.write_all(table.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}
