//! `credence voi`: what to watch next. Ranks unobserved variables by the mutual information
//! between each and a target given the evidence: the expected reduction of the target's
//! entropy if that variable were observed.

use super::{EngineArgs, EvidenceArgs, load_network, render, resolve_targets};
use anyhow::Result;
use clap::Args;
use credence::analysis::value_of_information;
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = "JSON (--json), one object:\n  \
    {\"target\": VAR, \"entropy\": F, \"ranking\": [{\"variable\": VAR, \"mutual_information\": F}, ...]}\n\
    entropy is H(target | evidence) and mutual_information is I(target; VAR | evidence), both in \
    nats (natural log), the ranking sorted by mutual information, descending. Variables with \
    hard evidence are skipped.")]
pub struct VoiArgs {
    /// Network file (.bif, or .xml/.xmlbif for XMLBIF).
    network: PathBuf,

    /// The variable to learn about.
    #[arg(short = 't', long = "target", value_name = "VAR")]
    target: String,

    #[command(flatten)]
    evidence: EvidenceArgs,

    /// Rank only these variables [default: every variable but the target]: VAR,VAR,...
    #[arg(long = "candidates", value_name = "VAR,VAR,...", value_delimiter = ',')]
    candidates: Vec<String>,

    /// Print exactly one JSON object: {"target", "entropy", "ranking"}.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    engine: EngineArgs,
}

pub fn run(args: VoiArgs) -> Result<ExitCode> {
    let network = load_network(&args.network)?;
    let evidence = args.evidence.resolve(&network)?;
    let target = network.variable_id(&args.target)?;
    let candidates = resolve_targets(&network, &args.candidates)?;
    let engine = args.engine.build(network.clone())?;
    let voi = value_of_information(engine.as_ref(), &evidence, target, &candidates)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let ranking: Vec<_> = voi
            .ranking
            .iter()
            .map(|i| {
                json!({
                    "variable": network.variable(i.variable).name(),
                    "mutual_information": i.mutual_information,
                })
            })
            .collect();
        let object = json!({
            "target": network.variable(target).name(),
            "entropy": voi.entropy,
            "ranking": ranking,
        });
        writeln!(stdout, "{object}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let name = network.variable(target).name();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "network {} · evidence: {}\nH({name} | e) = {:.4} nats: the most any single observation could remove\n",
        network.name(),
        evidence.describe(&network),
        voi.entropy
    );
    let width = voi
        .ranking
        .iter()
        .map(|i| network.variable(i.variable).name().chars().count())
        .chain(["variable".len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "rank  {:<width$}  I({name}; V | e)  share of H",
        "variable"
    );
    let score_width = format!("I({name}; V | e)").chars().count();
    for (rank, info) in voi.ranking.iter().enumerate() {
        let share = if voi.entropy > 0.0 {
            info.mutual_information / voi.entropy
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "{:>4}  {:<width$}  {:>score_width$.4}  {:>9.1}%  {}",
            rank + 1,
            network.variable(info.variable).name(),
            info.mutual_information,
            100.0 * share,
            render::bar(share)
        );
    }
    stdout.write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
