//! Output: JSON objects (the stable contract) and tables for people.

use credence::{EngineKind, Evidence, Network, Posteriors, VarId};
use serde_json::{Map, Value, json};

/// The error and its causes as one line. Library errors already spell out their cause, so a
/// cause whose text is already in the message is not repeated.
pub fn sentence(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
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
    let mut rest = configuration;
    let mut parts = Vec::new();
    for &parent in network.parents(var).iter().rev() {
        let variable = network.variable(parent);
        parts.push((
            variable.name().to_string(),
            variable.states()[rest % variable.cardinality()].clone(),
        ));
        rest /= variable.cardinality();
    }
    parts.reverse();
    Value::Object(parts.into_iter().map(|(k, v)| (k, json!(v))).collect())
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

/// The `query --json` object.
pub fn query_json(network: &Network, engine: EngineKind, posteriors: &Posteriors) -> Value {
    json!({
        "network": network.name(),
        "engine": engine.as_str(),
        "log_p_evidence": posteriors.ln_p_evidence(),
        "posteriors": posteriors_object(network, posteriors),
    })
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

/// The human table: a heading, then each target's states with probability and bar.
pub fn query_table(
    network: &Network,
    engine: EngineKind,
    evidence: &Evidence,
    posteriors: &Posteriors,
) -> String {
    let mut out = String::new();
    // Rounding leaves ln P(e) a hair below 0 without evidence; "-0.000000" would look odd.
    let ln_p = match posteriors.ln_p_evidence() {
        x if x.abs() < 1e-12 => 0.0,
        x => x,
    };
    out.push_str(&format!(
        "network {} · engine {} · evidence: {}\nln P(e) = {:.6} (P(e) = {:.6e})\n",
        network.name(),
        engine,
        evidence.describe(network),
        ln_p,
        ln_p.exp()
    ));
    for (var, marginal) in posteriors.iter() {
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
        for (state, &p) in variable.states().iter().zip(marginal) {
            out.push_str(&format!("  {state:<width$}  {p:.4}  {}\n", bar(p)));
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
