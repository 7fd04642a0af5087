//! `credence timeline`: dated evidence items applied one after another, showing how a target's
//! posterior moves at each step (the analyst's running picture).

use super::{EngineArgs, ensure_file, load_network};
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use credence::Evidence;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(
    after_help = "Timeline file, one JSON object per line, applied in order:\n  \
    {\"date\": \"2027-03-12\", \"variable\": \"western_sanctions\", \"state\": \"tightening\", \"source\": \"EU package\"}\n\
    A later item on the same variable replaces the earlier one."
)]
pub struct TimelineArgs {
    /// Network file (.bif, or .xml/.xmlbif for XMLBIF).
    network: PathBuf,

    /// Timeline of evidence items (JSON lines with date, variable, state, source).
    timeline: PathBuf,

    /// The variable to follow.
    #[arg(short = 't', long = "target", value_name = "VAR")]
    target: String,

    /// Print one JSON object per step instead of a table.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    engine: EngineArgs,
}

pub(super) struct Item {
    date: String,
    variable: String,
    state: String,
    source: String,
}

pub(super) fn parse_item(line: &str) -> Result<Item> {
    let value: Value = serde_json::from_str(line).map_err(|e| anyhow!("malformed JSON: {e}"))?;
    let field = |name: &str| -> Result<String> {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| anyhow!("missing string field \"{name}\""))
    };
    Ok(Item {
        date: field("date")?,
        variable: field("variable")?,
        state: field("state")?,
        source: value
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    })
}

pub fn run(args: TimelineArgs) -> Result<ExitCode> {
    ensure_file(&args.timeline, "timeline file")?;
    let network = load_network(&args.network)?;
    let target = network.variable_id(&args.target)?;
    let engine = args.engine.build(network.clone())?;
    let text = std::fs::read_to_string(&args.timeline)
        .with_context(|| format!("cannot read {}", args.timeline.display()))?;
    let mut items = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let item = parse_item(line)
            .with_context(|| format!("{}:{}", args.timeline.display(), index + 1))?;
        // Resolve now, so a typo on line 9 fails before anything is printed.
        let var = network
            .variable_id(&item.variable)
            .and_then(|v| network.state_index(v, &item.state).map(|s| (v, s)))
            .with_context(|| format!("{}:{}", args.timeline.display(), index + 1))?;
        items.push((item, var));
    }
    if items.is_empty() {
        bail!("{} holds no evidence items", args.timeline.display());
    }
    let states = network.variable(target).states().to_vec();
    let mut out = String::new();
    let mut observed: Vec<(credence::VarId, usize)> = Vec::new();
    let mut previous: Option<Vec<f64>> = None;
    let width = states
        .iter()
        .map(|s| s.chars().count().max(6))
        .collect::<Vec<_>>();
    let evidence_width = items
        .iter()
        .map(|(i, _)| i.variable.chars().count() + i.state.chars().count() + 1)
        .max()
        .unwrap_or(0)
        .max(8);
    if !args.json {
        let _ = write!(out, "{:<10}  {:<evidence_width$}", "date", "evidence");
        for (state, w) in states.iter().zip(&width) {
            let _ = write!(out, "  {state:>w$}");
        }
        out.push('\n');
    }
    for step in 0..=items.len() {
        if step > 0 {
            let (_, (var, state)) = items[step - 1];
            observed.retain(|(v, _)| *v != var);
            observed.push((var, state));
        }
        let mut evidence = Evidence::new();
        for &(var, state) in &observed {
            evidence.observe(&network, var, state)?;
        }
        let posteriors = engine
            .posteriors(&evidence, &[target])
            .with_context(|| match step {
                0 => "prior".to_string(),
                _ => format!(
                    "after {} ({})",
                    items[step - 1].0.date,
                    evidence.describe(&network)
                ),
            })?;
        let marginal = posteriors
            .marginal(target)
            .expect("target requested")
            .to_vec();
        let (date, label, source) = match step {
            0 => ("prior".to_string(), "-".to_string(), String::new()),
            _ => {
                let item = &items[step - 1].0;
                (
                    item.date.clone(),
                    format!("{}={}", item.variable, item.state),
                    item.source.clone(),
                )
            }
        };
        if args.json {
            let posterior: serde_json::Map<String, Value> = states
                .iter()
                .cloned()
                .zip(marginal.iter().map(|&p| json!(p)))
                .collect();
            let _ = writeln!(
                out,
                "{}",
                json!({"step": step, "date": date, "evidence": label, "source": source,
                       "log_p_evidence": posteriors.ln_p_evidence(), "posterior": posterior})
            );
        } else {
            let _ = write!(out, "{date:<10}  {label:<evidence_width$}");
            for (i, (&p, w)) in marginal.iter().zip(&width).enumerate() {
                let arrow = match &previous {
                    Some(before) if p > before[i] + 5e-5 => '↑',
                    Some(before) if p < before[i] - 5e-5 => '↓',
                    _ => ' ',
                };
                let _ = write!(out, "  {:>w$}", format!("{p:.4}{arrow}"), w = *w);
            }
            out.push('\n');
        }
        previous = Some(marginal);
    }
    std::io::stdout().lock().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
