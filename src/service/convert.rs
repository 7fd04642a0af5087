//! Conversions between the wire types (`pb`) and the library's, in one place.

use super::error::ServiceError;
use super::pb;
use super::registry::{LoadedNetwork, Origin};
use super::sessions::{Change, Finding, Findings, Revision};
use crate::Network;
use crate::infer::{Answer, EngineKind, SamplingConfig};
use std::time::SystemTime;

/// The engine a request asks for (unspecified: the server's choice, `auto`).
pub fn engine_kind(engine: i32) -> Result<EngineKind, ServiceError> {
    Ok(match pb::Engine::try_from(engine) {
        Ok(pb::Engine::Unspecified) => EngineKind::Auto,
        Ok(pb::Engine::JunctionTree) => EngineKind::JunctionTree,
        Ok(pb::Engine::VariableElimination) => EngineKind::VariableElimination,
        Ok(pb::Engine::Enumeration) => EngineKind::Enumeration,
        Ok(pb::Engine::LikelihoodWeighting) => EngineKind::LikelihoodWeighting,
        Ok(pb::Engine::Gibbs) => EngineKind::Gibbs,
        Ok(pb::Engine::Rejection) => EngineKind::Rejection,
        Ok(pb::Engine::Epis) => EngineKind::Epis,
        Err(_) => {
            return Err(ServiceError::InvalidRequest(format!(
                "unknown engine {engine} (valid: 0 server's choice, 1 junction tree, 2 variable elimination, 3 enumeration, 4 likelihood weighting, 5 Gibbs, 6 rejection, 7 EPIS-BN)"
            )));
        }
    })
}

/// The wire value of an engine.
pub fn engine_value(kind: EngineKind) -> pb::Engine {
    match kind {
        EngineKind::Auto => pb::Engine::Unspecified,
        EngineKind::JunctionTree => pb::Engine::JunctionTree,
        EngineKind::VariableElimination => pb::Engine::VariableElimination,
        EngineKind::Enumeration => pb::Engine::Enumeration,
        EngineKind::LikelihoodWeighting => pb::Engine::LikelihoodWeighting,
        EngineKind::Gibbs => pb::Engine::Gibbs,
        EngineKind::Rejection => pb::Engine::Rejection,
        EngineKind::Epis => pb::Engine::Epis,
    }
}

/// Bounds of the sampling settings a request may ask for, checked before anything is
/// allocated or started, so that the client hears which field is out of bounds. They are the
/// library's own bounds (`SamplingConfig` refuses the same values): far above what a useful
/// answer needs (the defaults are 100,000 samples, 4 chains, 1,000 sweeps of burn-in, thinning
/// 1), low enough that the memory a request sizes stays small; the time any of them takes is
/// bounded by the request's deadline and `max_time`.
pub mod bounds {
    /// `sampling.n_samples`.
    pub const MAX_SAMPLES: u64 = 10_000_000_000;
    /// `sampling.n_chains`: each chain holds a copy of the network's state and its counts.
    pub const MAX_CHAINS: u32 = 256;
    /// `sampling.burn_in`, sweeps per chain.
    pub const MAX_BURN_IN: u64 = 10_000_000;
    /// `sampling.thinning`, sweeps per kept sample.
    pub const MAX_THINNING: u64 = 10_000;
    /// `sampling.max_time`.
    pub const MAX_TIME: std::time::Duration = std::time::Duration::from_secs(3_600);
    /// Smallest nonzero `sampling.precision`.
    pub const MIN_PRECISION: f64 = 1e-9;
}

fn bad_field(field: &str, description: String) -> ServiceError {
    ServiceError::InvalidField {
        field: field.to_string(),
        description,
    }
}

fn at_most<T: PartialOrd + std::fmt::Display>(
    field: &str,
    value: T,
    bound: T,
) -> Result<T, ServiceError> {
    if value > bound {
        return Err(bad_field(
            field,
            format!("at most {bound} is accepted, got {value}"),
        ));
    }
    Ok(value)
}

/// Sampling settings from a request: defaults where a field is zero, every field within its
/// [`bounds`], and the time budget capped by the request's deadline so that a sampling run
/// stops in time.
///
/// # Errors
/// [`ServiceError::InvalidField`] naming the field and its bound.
pub fn sampling_config(
    options: Option<&pb::SamplingOptions>,
    deadline: Option<std::time::Duration>,
) -> Result<SamplingConfig, ServiceError> {
    let mut config = SamplingConfig::default();
    if let Some(options) = options {
        if options.n_samples > 0 {
            config.n_samples =
                at_most("sampling.n_samples", options.n_samples, bounds::MAX_SAMPLES)?;
        }
        config.seed = options.seed;
        let precision = options.precision;
        if !(precision == 0.0 || (bounds::MIN_PRECISION..1.0).contains(&precision)) {
            return Err(bad_field(
                "sampling.precision",
                format!(
                    "must be 0 (no target) or at least {:e} and below 1, got {precision}",
                    bounds::MIN_PRECISION
                ),
            ));
        }
        if options.precision > 0.0 {
            config.precision = Some(options.precision);
        }
        if let Some(limit) = &options.max_time {
            let limit = duration(limit, "sampling.max_time")?;
            if limit > bounds::MAX_TIME {
                return Err(bad_field(
                    "sampling.max_time",
                    format!(
                        "at most {} s is accepted, got {:.3} s",
                        bounds::MAX_TIME.as_secs(),
                        limit.as_secs_f64()
                    ),
                ));
            }
            config.max_time = Some(limit);
        }
        if options.n_chains > 0 {
            config.n_chains =
                at_most("sampling.n_chains", options.n_chains, bounds::MAX_CHAINS)? as usize;
        }
        if options.burn_in > 0 {
            config.burn_in = at_most("sampling.burn_in", options.burn_in, bounds::MAX_BURN_IN)?;
        }
        if options.thinning > 0 {
            config.thinning = at_most("sampling.thinning", options.thinning, bounds::MAX_THINNING)?;
        }
    }
    if let Some(deadline) = deadline {
        // Leave a margin to send the answer before the client gives up.
        let usable = deadline.mul_f64(0.9);
        config.max_time = Some(config.max_time.map_or(usable, |t| t.min(usable)));
    }
    Ok(config)
}

/// A wire duration, refusing negative ones.
///
/// # Errors
/// [`ServiceError::InvalidField`] for a negative duration or nanoseconds past a second.
pub fn duration(
    value: &prost_types::Duration,
    field: &str,
) -> Result<std::time::Duration, ServiceError> {
    if value.seconds < 0 || value.nanos < 0 || value.nanos >= 1_000_000_000 {
        return Err(bad_field(
            field,
            format!(
                "must be a non-negative duration with nanos below 1e9, got {} s {} ns",
                value.seconds, value.nanos
            ),
        ));
    }
    Ok(std::time::Duration::new(
        value.seconds as u64,
        value.nanos as u32,
    ))
}

/// Most evidence items, or targets, one request may name. Each must be a distinct variable, and
/// the largest networks in use have about a thousand, so this refuses only abuse, before any
/// work proportional to it is done.
pub const MAX_ITEMS: usize = 10_000;

/// Longest variable or state name a request may use, in bytes. Names in real networks are
/// short; refusing long ones at the edge keeps the "did you mean" search (edit distance,
/// quadratic in the name's length) and the messages that quote a name small.
pub const MAX_NAME_BYTES: usize = 1_024;

/// Refuses a name longer than [`MAX_NAME_BYTES`], naming the field.
///
/// # Errors
/// [`ServiceError::InvalidField`].
pub fn check_name(field: &str, name: &str) -> Result<(), ServiceError> {
    if name.len() > MAX_NAME_BYTES {
        return Err(bad_field(
            field,
            format!(
                "names are at most {MAX_NAME_BYTES} bytes, got {} ('{}')",
                name.len(),
                super::error::echo(name)
            ),
        ));
    }
    Ok(())
}

/// Refuses a request naming more than [`MAX_ITEMS`] targets, or a name too long to be one.
///
/// # Errors
/// [`ServiceError::InvalidField`] on `targets`.
pub fn check_targets(targets: &[String]) -> Result<(), ServiceError> {
    if targets.len() > MAX_ITEMS {
        return Err(bad_field(
            "targets",
            format!(
                "the request names {} targets; at most {MAX_ITEMS} are accepted",
                targets.len()
            ),
        ));
    }
    targets.iter().try_for_each(|t| check_name("targets", t))
}

/// Request evidence as named findings (validated later against the network). A variable may
/// have both a hard finding and a likelihood: the library multiplies them, as it does for
/// any evidence.
///
/// # Errors
/// More than [`MAX_ITEMS`] items, or a name longer than [`MAX_NAME_BYTES`].
pub fn findings(evidence: Option<&pb::Evidence>) -> Result<Findings, ServiceError> {
    let mut findings = Findings::new();
    if let Some(evidence) = evidence {
        let items = evidence.hard.len() + evidence.soft.len();
        if items > MAX_ITEMS {
            return Err(bad_field(
                "evidence",
                format!("the evidence has {items} items; at most {MAX_ITEMS} are accepted"),
            ));
        }
        for (variable, state) in &evidence.hard {
            check_name("evidence.hard", variable)?;
            check_name("evidence.hard", state)?;
            findings.insert(variable.clone(), Finding::Hard(state.clone()));
        }
        for (variable, likelihood) in &evidence.soft {
            check_name("evidence.soft", variable)?;
            let values = likelihood.values.clone();
            let finding = match findings.remove(variable) {
                Some(Finding::Hard(state)) => Finding::Both(state, values),
                _ => Finding::Soft(values),
            };
            findings.insert(variable.clone(), finding);
        }
    }
    Ok(findings)
}

/// Request evidence resolved against `network`: the one path from wire evidence to the
/// library's [`Evidence`] (names checked, likelihoods validated).
///
/// # Errors
/// As [`findings`], then unknown names or bad likelihoods.
pub fn evidence(
    network: &Network,
    evidence: Option<&pb::Evidence>,
) -> Result<crate::Evidence, ServiceError> {
    super::sessions::to_evidence(network, &findings(evidence)?)
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
            Finding::Both(state, values) => {
                evidence.hard.insert(variable.clone(), state.clone());
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
        Some(Wire::SetHard(h)) => {
            check_name("changes.set_hard.variable", &h.variable)?;
            check_name("changes.set_hard.state", &h.state)?;
        }
        Some(Wire::SetSoft(s)) => check_name("changes.set_soft.variable", &s.variable)?,
        Some(Wire::Retract(variable)) => check_name("changes.retract", variable)?,
        None => {}
    }
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

/// Each marginal with its variable's and states' names.
pub fn posteriors_message(network: &Network, posteriors: &crate::Posteriors) -> Vec<pb::Posterior> {
    posteriors
        .iter()
        .map(|(var, marginal)| {
            let variable = network.variable(var);
            pb::Posterior {
                variable: variable.name().to_string(),
                states: variable.states().to_vec(),
                probabilities: marginal.to_vec(),
            }
        })
        .collect()
}

/// An answer on the wire, stamped with the network's content hash.
pub fn query_response(loaded: &LoadedNetwork, answer: &Answer) -> pb::QueryResponse {
    let network: &Network = &loaded.network;
    let posteriors = &answer.posteriors;
    let stats = answer.sampling.as_ref();
    pb::QueryResponse {
        posteriors: posteriors_message(network, posteriors),
        log_p_evidence: posteriors.ln_p_evidence(),
        stamp: Some(pb::Stamp {
            network_hash: loaded.hash.clone(),
            engine: engine_value(answer.engine) as i32,
            seed: stats.map_or(0, |s| s.seed),
        }),
        engine_reason: answer.reason.clone().unwrap_or_default(),
        uncertainty: stats
            .map(|s| {
                s.uncertainty
                    .iter()
                    .map(|u| pb::Uncertainty {
                        variable: network.variable(u.var).name().to_string(),
                        stderr: u.stderr.clone(),
                        lower: u.intervals.iter().map(|i| i.0).collect(),
                        upper: u.intervals.iter().map(|i| i.1).collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        sampling: stats.map(|s| pb::SamplingSummary {
            n_samples: s.n_samples,
            ess: s.ess,
            r_hat: s.r_hat.unwrap_or(0.0),
            stopped_by: s.stop.as_str().to_string(),
            warnings: s.warnings.clone(),
            notes: s.notes.clone(),
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
        read_only: loaded.origin == Origin::Operator,
        owner: match &loaded.origin {
            Origin::Operator => String::new(),
            Origin::Upload { owner } => owner.clone(),
        },
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
                position: network.position(var).map(|(x, y)| pb::Position { x, y }),
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
