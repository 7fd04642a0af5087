//! Output: JSON objects (the stable contract) and tables for people.

use credence::{Answer, Evidence, Network, Posteriors, VarId};
use serde_json::{Map, Value, json};

/// The error and its causes as one line. Library errors already spell out their cause, so a
/// cause whose text is already in the message is not repeated.
pub fn sentence(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        // Names quoted from a file may hold newlines: escaped, the sentence stays one line (and
        // matches the reader's own message, which escapes them the same way).
        let text = credence::io::one_line(&cause.to_string());
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// `{VAR: {STATE: P}}` in target order.
pub fn posteriors_object(network: &Network, posteriors: &Posteriors) -> Value {
    let mut by_variable = Map::new();
    for (var, marginal) in posteriors.iter() {
        let variable = network.variable(var);
        let states: Map<String, Value> = variable
            .states()
            .iter()
            .zip(marginal)
            .map(|(state, &p)| (state.clone(), json!(p)))
            .collect();
        by_variable.insert(variable.name().to_string(), Value::Object(states));
    }
    Value::Object(by_variable)
}

/// `{STATE: P}` for one variable's distribution.
pub fn distribution_object(network: &Network, var: VarId, distribution: &[f64]) -> Value {
    let states: Map<String, Value> = network
        .variable(var)
        .states()
        .iter()
        .zip(distribution)
        .map(|(state, &p)| (state.clone(), json!(p)))
        .collect();
    Value::Object(states)
}

/// `{PARENT: STATE}` for parent configuration number `configuration` of `var`'s CPT (last
/// parent fastest).
pub fn configuration_object(network: &Network, var: VarId, configuration: usize) -> Value {
    Value::Object(
        network
            .configuration_states(var, configuration)
            .into_iter()
            .map(|(parent, state)| {
                let variable = network.variable(parent);
                (variable.name().to_string(), json!(variable.states()[state]))
            })
            .collect(),
    )
}

/// One finding on `var` as text: `VAR=STATE`, `VAR~[L1, L2]`, or both.
pub fn finding(network: &Network, evidence: &Evidence, var: VarId) -> String {
    let variable = network.variable(var);
    let mut parts = Vec::new();
    if let Some(state) = evidence.hard_state(var) {
        parts.push(format!("{}={}", variable.name(), variable.states()[state]));
    }
    if let Some(likelihood) = evidence.soft().get(&var) {
        parts.push(format!("{}~{:?}", variable.name(), likelihood));
    }
    parts.join(", ")
}

/// `{VAR: {STATE: f(state index, variable's values)}}` in target order.
fn per_state(
    network: &Network,
    posteriors: &Posteriors,
    value: impl Fn(usize, usize) -> Value,
) -> Value {
    let mut by_variable = Map::new();
    for (target, (var, _)) in posteriors.iter().enumerate() {
        let variable = network.variable(var);
        let states: Map<String, Value> = variable
            .states()
            .iter()
            .enumerate()
            .map(|(i, state)| (state.clone(), value(target, i)))
            .collect();
        by_variable.insert(variable.name().to_string(), Value::Object(states));
    }
    Value::Object(by_variable)
}

/// The fields an answer adds beside `log_p_evidence` and `posteriors`: `engine_reason` for an
/// automatic choice; for sampled answers `stderr` and `intervals` (shaped like `posteriors`)
/// and `sampling` (run statistics).
pub fn answer_fields(network: &Network, answer: &Answer, object: &mut Map<String, Value>) {
    if let Some(reason) = &answer.reason {
        object.insert("engine_reason".into(), json!(reason));
    }
    let Some(stats) = &answer.sampling else {
        return;
    };
    let posteriors = &answer.posteriors;
    object.insert(
        "stderr".into(),
        per_state(network, posteriors, |t, i| {
            json!(stats.uncertainty[t].stderr[i])
        }),
    );
    object.insert(
        "intervals".into(),
        per_state(network, posteriors, |t, i| {
            let (lo, hi) = stats.uncertainty[t].intervals[i];
            json!([lo, hi])
        }),
    );
    object.insert(
        "sampling".into(),
        json!({
            "n_samples": stats.n_samples,
            "ess": stats.ess,
            "r_hat": stats.r_hat,
            "stopped_by": stats.stop.as_str(),
            "seed": stats.seed,
            "interval_level": 0.95,
            "warnings": stats.warnings,
            "notes": stats.notes,
        }),
    );
}

/// The `query --json` object.
pub fn query_json(network: &Network, answer: &Answer) -> Value {
    let mut object = Map::new();
    object.insert("network".into(), json!(network.name()));
    object.insert("engine".into(), json!(answer.engine.as_str()));
    object.insert(
        "log_p_evidence".into(),
        json!(answer.posteriors.ln_p_evidence()),
    );
    object.insert(
        "posteriors".into(),
        posteriors_object(network, &answer.posteriors),
    );
    answer_fields(network, answer, &mut object);
    Value::Object(object)
}

pub const BAR_WIDTH: usize = 30;

/// A bar of `BAR_WIDTH` cells with eighth-cell resolution.
pub fn bar(p: f64) -> String {
    const PARTIAL: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    let eighths = (p.clamp(0.0, 1.0) * (BAR_WIDTH * 8) as f64).round() as usize;
    let mut out = "█".repeat(eighths / 8);
    if !eighths.is_multiple_of(8) {
        out.push(PARTIAL[eighths % 8]);
    }
    out
}

/// The human table: a heading, then each target's states with probability and bar (and, for
/// sampled answers, standard error and 95% interval).
pub fn query_table(network: &Network, evidence: &Evidence, answer: &Answer) -> String {
    let posteriors = &answer.posteriors;
    let mut out = String::new();
    // Rounding leaves ln P(e) a hair below 0 without evidence; "-0.000000" would look odd.
    let ln_p = match posteriors.ln_p_evidence() {
        x if x.abs() < 1e-12 => 0.0,
        x => x,
    };
    out.push_str(&format!(
        "network {} · engine {} · evidence: {}\n",
        network.name(),
        answer.engine,
        evidence.describe(network),
    ));
    if let Some(reason) = &answer.reason {
        out.push_str(&format!("auto: {reason}\n"));
    }
    let approx = if answer.sampling.is_some() {
        "≈"
    } else {
        "="
    };
    out.push_str(&format!(
        "ln P(e) {approx} {ln_p:.6} (P(e) {approx} {:.6e})\n",
        ln_p.exp()
    ));
    if let Some(stats) = &answer.sampling {
        out.push_str(&format!(
            "{} samples · effective {:.0} · stopped by {} · seed {}{}\n",
            stats.n_samples,
            stats.ess,
            stats.stop,
            stats.seed,
            stats
                .r_hat
                .map(|r| format!(" · split R-hat {r:.4}"))
                .unwrap_or_default()
        ));
        for note in &stats.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        for warning in &stats.warnings {
            out.push_str(&format!("warning: {warning}\n"));
        }
    }
    for (target, (var, marginal)) in posteriors.iter().enumerate() {
        let variable = network.variable(var);
        let note = match (evidence.hard_state(var), evidence.soft().contains_key(&var)) {
            (Some(_), _) => "  (observed)",
            (None, true) => "  (soft evidence)",
            _ => "",
        };
        out.push_str(&format!("\n{}{note}\n", variable.name()));
        let width = variable
            .states()
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0);
        for (i, (state, &p)) in variable.states().iter().zip(marginal).enumerate() {
            let error = match &answer.sampling {
                Some(stats) => {
                    let u = &stats.uncertainty[target];
                    let (lo, hi) = u.intervals[i];
                    format!(" ± {:.4}  [{lo:.4}, {hi:.4}]", u.stderr[i])
                }
                None => String::new(),
            };
            out.push_str(&format!("  {state:<width$}  {p:.4}{error}  {}\n", bar(p)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale() {
        assert_eq!(bar(0.0), "");
        assert_eq!(bar(1.0).chars().count(), BAR_WIDTH);
        assert_eq!(bar(0.5).chars().count(), BAR_WIDTH / 2);
        assert_eq!(bar(1.0 / 240.0), "▏");
    }
}
