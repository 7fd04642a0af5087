//! `credence sensitivity`: which CPT entries a posterior rests on. Reports the derivative of
//! `P(target = state | e)` with respect to each CPT entry (proportional co-variation of the
//! rest of its column), largest in absolute value first.

use super::{EvidenceArgs, load_network, parse_assignment, render};
use anyhow::Result;
use clap::Args;
use credence::analysis::sensitivity;
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = "JSON (--json), one object:\n  \
    {\"target\": VAR, \"state\": STATE, \"probability\": P,\n   \
    \"parameters\": [{\"variable\": VAR, \"parents\": {PARENT: STATE, ...}, \"state\": STATE,\n     \
    \"value\": F, \"derivative\": F}, ...]}\n\
    probability is P(target=state | evidence); each parameter is the CPT entry \
    P(variable=state | parents), and derivative is dP(target=state | e)/d(value) when the other \
    entries of that column keep their ratios (proportional co-variation). Sorted by |derivative|, \
    descending; --top keeps the first K.")]
pub struct SensitivityArgs {
    /// Network file (.bif, or .xml/.xmlbif for XMLBIF).
    network: PathBuf,

    /// The posterior to analyse: VAR=STATE.
    #[arg(short = 't', long = "target", value_name = "VAR=STATE", value_parser = parse_assignment)]
    target: (String, String),

    #[command(flatten)]
    evidence: EvidenceArgs,

    /// How many parameters to report, most influential first.
    #[arg(long, value_name = "K", default_value_t = 10)]
    top: usize,

    /// Print exactly one JSON object: {"target", "state", "probability", "parameters"}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: SensitivityArgs) -> Result<ExitCode> {
    let network = load_network(&args.network)?;
    let evidence = args.evidence.resolve(&network)?;
    let target = network.variable_id(&args.target.0)?;
    let state = network.state_index(target, &args.target.1)?;
    let result = sensitivity(&network, &evidence, target, state)?;
    let top = &result.parameters[..args.top.min(result.parameters.len())];
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let parameters: Vec<_> = top
            .iter()
            .map(|p| {
                let variable = network.variable(p.variable);
                json!({
                    "variable": variable.name(),
                    "parents": render::configuration_object(&network, p.variable, p.configuration),
                    "state": variable.states()[p.state],
                    "value": p.value,
                    "derivative": p.derivative,
                })
            })
            .collect();
        let object = json!({
            "target": args.target.0,
            "state": args.target.1,
            "probability": result.probability,
            "parameters": parameters,
        });
        writeln!(stdout, "{object}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "network {} · evidence: {}\nP({}={} | e) = {:.4}\n",
        network.name(),
        evidence.describe(&network),
        args.target.0,
        args.target.1,
        result.probability
    );
    let labels: Vec<String> = top
        .iter()
        .map(|p| {
            let variable = network.variable(p.variable);
            let configuration = network.describe_configuration(p.variable, p.configuration);
            let given = match configuration.as_str() {
                "(no parents)" => String::new(),
                c => format!(" | {}", &c[1..c.len() - 1]),
            };
            format!(
                "P({}={}{given})",
                variable.name(),
                variable.states()[p.state]
            )
        })
        .collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .chain(["parameter".len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "rank  {:<width$}   value  derivative  Δ per +0.01",
        "parameter"
    );
    for (rank, (p, label)) in top.iter().zip(&labels).enumerate() {
        let _ = writeln!(
            out,
            "{:>4}  {label:<width$}  {:>6.4}  {:>+10.4}  {:>+11.4}",
            rank + 1,
            p.value,
            p.derivative,
            p.derivative * 0.01
        );
    }
    let _ = writeln!(
        out,
        "\n{} of {} parameters shown; the other entries of each column move in proportion.",
        top.len(),
        result.parameters.len()
    );
    stdout.write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
