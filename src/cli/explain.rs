//! `credence explain`: why a target's posterior is where it is. For each evidence item, the
//! target's posterior without it, how far the item moved it, and the log-likelihood ratio it
//! contributed; then Jensen's conflict measure over all items.

use super::{EngineArgs, EvidenceArgs, load_network, render};
use anyhow::Result;
use clap::Args;
use credence::analysis::explain;
use credence::{Network, VarId};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(after_help = "JSON (--json), one object:\n  \
    {\"target\": VAR, \"prior\": {STATE: P}, \"posterior\": {STATE: P}, \"log_p_evidence\": F,\n   \
    \"items\": [{\"variable\": VAR, \"evidence\": \"VAR=STATE\", \"posterior_without\": {STATE: P},\n     \
    \"total_variation\": F, \"log_likelihood_ratio\": {STATE: F}, \"log_p_item\": F,\n     \
    \"log_p_item_given_rest\": F, \"conflict_contribution\": F}, ...],\n   \
    \"conflict\": {\"value\": F, \"conflicting\": BOOL, \"ranking\": [{\"variable\": VAR, \"contribution\": F}, ...]}}\n\
    An item is everything observed about one variable; items are sorted by total variation, \
    descending. total_variation is ½ Σ |P(t | e) − P(t | e without the item)|; \
    log_likelihood_ratio[t] = logit P(t | e) − logit P(t | e without the item) = \
    ln P(item | t, rest) / P(item | not t, rest) (null when infinite). \
    conflict.value is conf(e) = Σ ln P(item) − ln P(e), positive (conflicting) when the items \
    are less probable together than apart; an item's contribution is how much conf(e) drops \
    without it. Logs are natural.")]
pub struct ExplainArgs {
    /// Network file (.bif, or .xml/.xmlbif for XMLBIF).
    network: PathBuf,

    /// The variable whose posterior to explain.
    #[arg(short = 't', long = "target", value_name = "VAR")]
    target: String,

    #[command(flatten)]
    evidence: EvidenceArgs,

    /// Print exactly one JSON object (see below).
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    engine: EngineArgs,
}

fn distribution_line(network: &Network, target: VarId, values: &[f64]) -> String {
    network
        .variable(target)
        .states()
        .iter()
        .zip(values)
        .map(|(s, p)| format!("{s} {p:.4}"))
        .collect::<Vec<_>>()
        .join("  ")
}

pub fn run(args: ExplainArgs) -> Result<ExitCode> {
    let network = load_network(&args.network)?;
    let evidence = args.evidence.resolve(&network)?;
    let target = network.variable_id(&args.target)?;
    let engine = args.engine.build(network.clone())?;
    let report = explain(engine.as_ref(), &evidence, target)?;
    let states = network.variable(target).states();
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let items: Vec<Value> = report
            .items
            .iter()
            .map(|item| {
                let ratios: serde_json::Map<String, Value> = states
                    .iter()
                    .zip(&item.log_likelihood_ratio)
                    .map(|(s, &r)| (s.clone(), json!(r)))
                    .collect();
                json!({
                    "variable": network.variable(item.variable).name(),
                    "evidence": render::finding(&network, &evidence, item.variable),
                    "posterior_without": render::distribution_object(&network, target, &item.posterior_without),
                    "total_variation": item.total_variation,
                    "log_likelihood_ratio": ratios,
                    "log_p_item": item.ln_p_item,
                    "log_p_item_given_rest": item.ln_p_item_given_rest,
                    "conflict_contribution": item.conflict_contribution,
                })
            })
            .collect();
        let ranking: Vec<Value> = report
            .conflict
            .ranking
            .iter()
            .map(|&(v, c)| json!({"variable": network.variable(v).name(), "contribution": c}))
            .collect();
        let object = json!({
            "target": network.variable(target).name(),
            "prior": render::distribution_object(&network, target, &report.prior),
            "posterior": render::distribution_object(&network, target, &report.posterior),
            "log_p_evidence": report.ln_p_evidence,
            "items": items,
            "conflict": {
                "value": report.conflict.value,
                "conflicting": report.conflict.is_conflict(),
                "ranking": ranking,
            },
        });
        writeln!(stdout, "{object}")?;
        return Ok(ExitCode::SUCCESS);
    }

    let name = network.variable(target).name();
    // The state the analyst most likely cares about: the most probable one now.
    let lead = (0..states.len())
        .max_by(|&a, &b| {
            report.posterior[a]
                .total_cmp(&report.posterior[b])
                .then(b.cmp(&a))
        })
        .unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "network {} · target {name} · {} evidence item(s)",
        network.name(),
        report.items.len()
    );
    let _ = writeln!(
        out,
        "prior      {}",
        distribution_line(&network, target, &report.prior)
    );
    let _ = writeln!(
        out,
        "posterior  {}\n",
        distribution_line(&network, target, &report.posterior)
    );
    if report.items.is_empty() {
        out.push_str("no evidence: nothing moved the target\n");
        stdout.write_all(out.as_bytes())?;
        return Ok(ExitCode::SUCCESS);
    }
    let labels: Vec<String> = report
        .items
        .iter()
        .map(|i| render::finding(&network, &evidence, i.variable))
        .collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .chain(["item".len()])
        .max()
        .unwrap_or(0);
    let lead_name = &states[lead];
    let _ = writeln!(
        out,
        "impact of each item given all the others, largest first\n\
         (P without = P({name}={lead_name}) without the item; ln LR = what the item added to the log-odds of {lead_name})"
    );
    let _ = writeln!(
        out,
        "  {:<width$}  moved (TV)  P without  →  P with   ln LR",
        "item"
    );
    for (item, label) in report.items.iter().zip(&labels) {
        let _ = writeln!(
            out,
            "  {label:<width$}  {:>10.4}  {:>9.4}  →  {:<7.4}  {:>+6.3}",
            item.total_variation,
            item.posterior_without[lead],
            report.posterior[lead],
            item.log_likelihood_ratio[lead]
        );
    }
    let conflict = &report.conflict;
    let _ = writeln!(
        out,
        "\nconflict: conf(e) = Σ ln P(item) − ln P(e) = {:+.4}: {}",
        conflict.value,
        if conflict.is_conflict() {
            "CONFLICT, the items are less probable together than apart; check the model or the findings"
        } else {
            "no conflict, the items fit together under the model"
        }
    );
    if conflict.is_conflict() {
        out.push_str("most conflicting items (how much conf(e) drops without each):\n");
        for &(var, contribution) in conflict.ranking.iter().filter(|(_, c)| *c > 0.0).take(5) {
            let _ = writeln!(
                out,
                "  {:<width$}  {contribution:+.4}",
                render::finding(&network, &evidence, var)
            );
        }
    }
    stdout.write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
