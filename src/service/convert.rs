//! Conversions between the wire types (`pb`) and the library's, in one place.

use super::error::ServiceError;
use super::pb;
use super::registry::LoadedNetwork;
use super::sessions::{Change, Finding, Findings, Revision};
use crate::infer::EngineKind;
use crate::{Network, Posteriors};
use std::time::SystemTime;

/// The engine a request asks for (unspecified: the junction tree).
pub fn engine_kind(engine: i32) -> Result<EngineKind, ServiceError> {
    match pb::Engine::try_from(engine) {
        Ok(pb::Engine::Unspecified | pb::Engine::JunctionTree) => Ok(EngineKind::JunctionTree),
        Ok(pb::Engine::VariableElimination) => Ok(EngineKind::VariableElimination),
        Ok(pb::Engine::Enumeration) => Ok(EngineKind::Enumeration),
        Err(_) => Err(ServiceError::InvalidRequest(format!(
            "unknown engine {engine} (valid: 0 unspecified, 1 junction tree, 2 variable elimination, 3 enumeration)"
        ))),
    }
}

/// The wire value of an engine.
pub fn engine_value(kind: EngineKind) -> pb::Engine {
    match kind {
        EngineKind::JunctionTree => pb::Engine::JunctionTree,
        EngineKind::VariableElimination => pb::Engine::VariableElimination,
        EngineKind::Enumeration => pb::Engine::Enumeration,
    }
}

/// Request evidence as named findings (validated later against the network).
///
/// # Errors
/// A variable given both hard and soft evidence in one request: ambiguous, so refused rather
/// than silently dropping one of them.
pub fn findings(evidence: Option<&pb::Evidence>) -> Result<Findings, ServiceError> {
    let mut findings = Findings::new();
    if let Some(evidence) = evidence {
        for (variable, state) in &evidence.hard {
            findings.insert(variable.clone(), Finding::Hard(state.clone()));
        }
        for (variable, likelihood) in &evidence.soft {
            if findings.contains_key(variable) {
                return Err(ServiceError::InvalidRequest(format!(
                    "'{variable}' has both hard and soft evidence; give one of them"
                )));
            }
            findings.insert(variable.clone(), Finding::Soft(likelihood.values.clone()));
        }
    }
    Ok(findings)
}

/// Named findings on the wire.
pub fn evidence_message(findings: &Findings) -> pb::Evidence {
    let mut evidence = pb::Evidence::default();
    for (variable, finding) in findings {
        match finding {
            Finding::Hard(state) => {
                evidence.hard.insert(variable.clone(), state.clone());
            }
            Finding::Soft(values) => {
                evidence.soft.insert(
                    variable.clone(),
                    pb::Likelihood {
                        values: values.clone(),
                    },
                );
            }
        }
    }
    evidence
}

/// A wire change as a session change.
pub fn change(message: &pb::EvidenceChange) -> Result<Change, ServiceError> {
    use pb::evidence_change::Change as Wire;
    match &message.change {
        Some(Wire::SetHard(h)) => Ok(Change::SetHard {
            variable: h.variable.clone(),
            state: h.state.clone(),
        }),
        Some(Wire::SetSoft(s)) => Ok(Change::SetSoft {
            variable: s.variable.clone(),
            values: s.values.clone(),
        }),
        Some(Wire::Retract(variable)) => Ok(Change::Retract(variable.clone())),
        None => Err(ServiceError::InvalidRequest(
            "an evidence change must set set_hard, set_soft or retract".to_string(),
        )),
    }
}

/// A session change on the wire.
pub fn change_message(change: &Change) -> pb::EvidenceChange {
    use pb::evidence_change::Change as Wire;
    let wire = match change {
        Change::SetHard { variable, state } => Wire::SetHard(pb::HardFinding {
            variable: variable.clone(),
            state: state.clone(),
        }),
        Change::SetSoft { variable, values } => Wire::SetSoft(pb::SoftFinding {
            variable: variable.clone(),
            values: values.clone(),
        }),
        Change::Retract(variable) => Wire::Retract(variable.clone()),
    };
    pb::EvidenceChange { change: Some(wire) }
}

/// A time on the wire.
pub fn timestamp(time: SystemTime) -> prost_types::Timestamp {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    prost_types::Timestamp {
        seconds: since.as_secs() as i64,
        nanos: since.subsec_nanos() as i32,
    }
}

/// A revision on the wire.
pub fn revision_message(revision: &Revision) -> pb::Revision {
    pb::Revision {
        number: revision.number,
        changes: revision.changes.iter().map(change_message).collect(),
        source: revision.source.clone(),
        note: revision.note.clone(),
        applied: Some(timestamp(revision.applied)),
        evidence: Some(evidence_message(&revision.findings)),
    }
}

/// Posteriors on the wire.
pub fn query_response(
    loaded: &LoadedNetwork,
    kind: EngineKind,
    posteriors: &Posteriors,
) -> pb::QueryResponse {
    let network: &Network = &loaded.network;
    pb::QueryResponse {
        posteriors: posteriors
            .iter()
            .map(|(var, marginal)| {
                let variable = network.variable(var);
                pb::Posterior {
                    variable: variable.name().to_string(),
                    states: variable.states().to_vec(),
                    probabilities: marginal.to_vec(),
                }
            })
            .collect(),
        log_p_evidence: posteriors.ln_p_evidence(),
        stamp: Some(pb::Stamp {
            network_hash: loaded.hash.clone(),
            engine: engine_value(kind) as i32,
            seed: 0,
        }),
    }
}

/// A network summary on the wire.
pub fn summary(loaded: &LoadedNetwork) -> pb::NetworkSummary {
    let network = &loaded.network;
    pb::NetworkSummary {
        name: loaded.name.clone(),
        n_variables: network.n_variables() as i32,
        n_arcs: network.n_arcs() as i32,
        n_parameters: network.n_parameters() as i64,
        content_hash: loaded.hash.clone(),
        cost: Some(pb::CostEstimate {
            treewidth: loaded.cost.treewidth as i32,
            n_cliques: loaded.cost.n_cliques as i32,
            largest_clique_entries: loaded.cost.largest_clique_entries,
            total_clique_entries: loaded.cost.total_clique_entries,
            bytes: loaded.cost.bytes,
            fits_budget: loaded.fits_budget,
        }),
    }
}

/// A network's variables on the wire.
pub fn variables(network: &Network) -> Vec<pb::Variable> {
    network
        .variable_ids()
        .map(|var| {
            let variable = network.variable(var);
            pb::Variable {
                name: variable.name().to_string(),
                states: variable.states().to_vec(),
                parents: network
                    .parents(var)
                    .iter()
                    .map(|&p| network.variable(p).name().to_string())
                    .collect(),
                description: variable.description().unwrap_or_default(),
            }
        })
        .collect()
}

/// Page size as the AIP asks: 0 means the default, too large is capped.
pub fn page_size(requested: i32) -> Result<usize, ServiceError> {
    match requested {
        n if n < 0 => Err(ServiceError::InvalidRequest(format!(
            "page_size must not be negative, got {n}"
        ))),
        0 => Ok(50),
        n => Ok((n as usize).min(500)),
    }
}
