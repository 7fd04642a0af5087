//! `credence query`: one evidence case, posteriors as a table or one JSON object.
//!
//! `--do VAR=STATE` answers for the intervened network (graph surgery) instead, and the table
//! shows the interventional and the observational posteriors side by side. `--joint A,B`
//! adds the joint posterior of a few variables.

use super::{
    EngineArgs, build_evidence, load_network, parse_assignment, parse_likelihood, render,
    resolve_targets,
};
use anyhow::{Result, bail};
use clap::Args;
use credence::analysis::{JointPosterior, intervene, joint_posterior};
use credence::{Evidence, InferenceError, Network, Posteriors, VarId};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args, Debug)]
#[command(after_help = "JSON (--json), one object:\n  \
    {\"network\": NAME, \"engine\": \"jt\", \"log_p_evidence\": F, \"posteriors\": {VAR: {STATE: P}}}\n\
    With --do the posteriors are P(VAR | do(...), evidence), from the network with the arcs into \
    each intervened variable cut and its state fixed. With --joint the object also has\n  \
    \"joint\": {\"variables\": [VAR, ...], \"table\": [{\"states\": {VAR: STATE, ...}, \"probability\": P}, ...]}")]
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

    /// Intervention: set VAR to STATE from outside (do-operator), cutting VAR off from its
    /// causes. Repeat for several variables. The table then also shows the posteriors had
    /// VAR=STATE merely been observed.
    #[arg(long = "do", value_name = "VAR=STATE", value_parser = parse_assignment)]
    interventions: Vec<(String, String)>,

    /// Also report the joint posterior of these variables: VAR,VAR,...
    #[arg(long = "joint", value_name = "VAR,VAR,...", value_delimiter = ',')]
    joint: Vec<String>,

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
    let mut interventions: Vec<(VarId, usize)> = Vec::new();
    for (var, state) in &args.interventions {
        let id = network.variable_id(var)?;
        let state = network.state_index(id, state)?;
        if interventions.iter().any(|(v, _)| *v == id) {
            bail!("--do sets '{var}' twice");
        }
        interventions.push((id, state));
    }
    // The network the question is about: the original, or the one after surgery.
    let answered = if interventions.is_empty() {
        network.clone()
    } else {
        Arc::new(intervene(&network, &interventions)?)
    };
    let engine = args.engine.build(answered.clone())?;
    let answer = engine.answer(&evidence, &targets)?;
    // Warnings also go to stderr, where people look, and stay in the JSON for programs.
    for warning in answer.sampling.iter().flat_map(|s| &s.warnings) {
        eprintln!("warning: {warning}");
    }
    let joint_vars = resolve_targets(&network, &args.joint)?;
    let joint = if joint_vars.is_empty() {
        None
    } else {
        Some(joint_posterior(&answered, &evidence, &joint_vars)?)
    };
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let mut object = render::query_json(&network, &answer);
        if let Some(joint) = &joint {
            object["joint"] = joint_json(&network, joint);
        }
        writeln!(stdout, "{object}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = if interventions.is_empty() {
        render::query_table(&network, &evidence, &answer)
    } else {
        // The same question with the intervened variables observed instead.
        let mut observed = evidence.clone();
        let mut observable = true;
        for &(var, state) in &interventions {
            observable &= observed.observe(&network, var, state).is_ok();
        }
        let observational = if observable {
            let original = args.engine.build(network.clone())?;
            match original.posteriors(&observed, &targets) {
                Ok(p) => Some(p),
                Err(InferenceError::ImpossibleEvidence { .. }) => None,
                Err(other) => return Err(other.into()),
            }
        } else {
            None
        };
        side_by_side(
            &network,
            &evidence,
            &interventions,
            &answer.posteriors,
            observational.as_ref(),
        )
    };
    if let Some(joint) = &joint {
        out.push_str(&joint_table(&network, joint));
    }
    stdout.write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

fn joint_json(network: &Network, joint: &JointPosterior) -> Value {
    let names: Vec<&str> = joint
        .vars()
        .iter()
        .map(|&v| network.variable(v).name())
        .collect();
    let table: Vec<Value> = joint
        .iter()
        .map(|(states, p)| {
            let states: serde_json::Map<String, Value> = joint
                .vars()
                .iter()
                .zip(&states)
                .map(|(&v, &s)| {
                    let variable = network.variable(v);
                    (variable.name().to_string(), json!(variable.states()[s]))
                })
                .collect();
            json!({"states": states, "probability": p})
        })
        .collect();
    json!({"variables": names, "table": table})
}

fn joint_table(network: &Network, joint: &JointPosterior) -> String {
    let names: Vec<&str> = joint
        .vars()
        .iter()
        .map(|&v| network.variable(v).name())
        .collect();
    let widths: Vec<usize> = joint
        .vars()
        .iter()
        .zip(&names)
        .map(|(&v, name)| {
            network
                .variable(v)
                .states()
                .iter()
                .map(|s| s.chars().count())
                .chain([name.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!("\njoint P({} | e)\n ", names.join(", "));
    for (name, w) in names.iter().zip(&widths) {
        let _ = write!(out, " {name:<w$}");
    }
    out.push_str("  probability\n");
    for (states, p) in joint.iter() {
        out.push(' ');
        for ((&v, &s), w) in joint.vars().iter().zip(&states).zip(&widths) {
            let _ = write!(out, " {:<w$}", network.variable(v).states()[s]);
        }
        let _ = writeln!(out, "  {p:>11.4}  {}", render::bar(p));
    }
    out
}

/// `P(Y | do(x), e)` beside `P(Y | X = x, e)` for each target.
fn side_by_side(
    network: &Network,
    evidence: &Evidence,
    interventions: &[(VarId, usize)],
    interventional: &Posteriors,
    observational: Option<&Posteriors>,
) -> String {
    let settings: Vec<String> = interventions
        .iter()
        .map(|&(v, s)| {
            let variable = network.variable(v);
            format!("{}={}", variable.name(), variable.states()[s])
        })
        .collect();
    let done = format!("do({})", settings.join(", "));
    let seen = format!("observe {}", settings.join(", "));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "network {} · evidence: {} · intervention: {done}",
        network.name(),
        evidence.describe(network)
    );
    let _ = writeln!(
        out,
        "ln P(e | {done}) = {:.6}",
        interventional.ln_p_evidence()
    );
    if observational.is_none() {
        let _ = writeln!(
            out,
            "(observing {} is impossible given the evidence: no observational column)",
            settings.join(", ")
        );
    }
    for (var, marginal) in interventional.iter() {
        let variable = network.variable(var);
        let note = if interventions.iter().any(|(v, _)| *v == var) {
            "  (intervened)"
        } else if evidence.hard_state(var).is_some() {
            "  (observed)"
        } else {
            ""
        };
        let width = variable
            .states()
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0);
        let _ = writeln!(
            out,
            "\n{}{note}\n  {:<width$}  {:>w1$}  {:>w2$}  difference",
            variable.name(),
            "",
            done,
            seen,
            w1 = done.chars().count().max(6),
            w2 = seen.chars().count().max(6),
        );
        let observed = observational.and_then(|o| o.marginal(var));
        for (i, (state, &p)) in variable.states().iter().zip(marginal).enumerate() {
            let (q, difference) = match observed {
                Some(o) => (format!("{:.4}", o[i]), format!("{:+.4}", p - o[i])),
                None => ("-".to_string(), String::new()),
            };
            let _ = writeln!(
                out,
                "  {state:<width$}  {p:>w1$.4}  {q:>w2$}  {difference:>10}",
                w1 = done.chars().count().max(6),
                w2 = seen.chars().count().max(6),
            );
        }
    }
    out
}
