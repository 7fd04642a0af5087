//! `credence.v1.AnalysisService`: the analyst questions of [`crate::analysis`] over gRPC, on
//! stateless evidence or on a session's evidence at any revision.

use super::Shared;
use super::api::{CancelOnDrop, logged, time_budget};
use super::auth::{Caller, Scope};
use super::convert;
use super::error::ServiceError;
use super::pb;
use super::registry::LoadedNetwork;
use super::sessions::{self, Findings, Need};
use crate::analysis;
use crate::cancel::{CancelToken, Interrupted};
use crate::{Evidence, InferenceEngine, Network, VarId};
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// `credence.v1.AnalysisService`.
#[derive(Clone)]
pub struct AnalysisApi(pub Arc<Shared>);

/// Default number of parameters a sensitivity answer lists.
const DEFAULT_TOP: usize = 10;

impl AnalysisApi {
    /// The network and findings an analysis is about.
    async fn context(
        &self,
        caller: &Caller,
        context: Option<pb::EvidenceContext>,
    ) -> Result<(Arc<LoadedNetwork>, Findings), ServiceError> {
        use pb::evidence_context::Source;
        match context.and_then(|c| c.source) {
            Some(Source::Stateless(stateless)) => {
                caller.require(Scope::Read, "query networks")?;
                Ok((
                    self.0.registry.get(&stateless.network)?,
                    convert::findings(stateless.evidence.as_ref())?,
                ))
            }
            Some(Source::Session(session)) => {
                let state = self.0.sessions.get(&session.id, caller, Need::Read)?;
                let state = state.lock().await;
                let revision = if session.at_revision {
                    session.revision
                } else {
                    state.revision()
                };
                Ok((state.network.clone(), state.findings_at(revision)?.clone()))
            }
            None => Err(ServiceError::InvalidRequest(
                "context must give either stateless (network and evidence) or session".to_string(),
            )),
        }
    }

    /// Runs `work` on the blocking pool with the network, its exact engine and the evidence.
    async fn run<T: Send + 'static>(
        &self,
        caller: &Caller,
        deadline: Option<std::time::Duration>,
        context: Option<pb::EvidenceContext>,
        work: impl FnOnce(
            &LoadedNetwork,
            &dyn InferenceEngine,
            &Evidence,
            &CancelToken,
        ) -> Result<T, ServiceError>
        + Send
        + 'static,
    ) -> Result<T, ServiceError> {
        let (loaded, findings) = self.context(caller, context).await?;
        // As for queries: a network that is no longer served is said so, not analysed empty.
        loaded.ensure_available()?;
        let permit = self.0.query_slot()?;
        let budget = *self.0.registry.budget();
        // The analyses check the token as they go: a deadline, a cancel or shutdown stops them.
        let cancel = CancelOnDrop(self.0.request_token(deadline));
        let token = cancel.0.clone();
        let work = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            token.check()?;
            let evidence = sessions::to_evidence(&loaded.network, &findings)?;
            let engine = loaded.exact_engine(&budget)?;
            token.check()?;
            work(&loaded, engine.as_ref(), &evidence, &token)
        });
        let joined = match cancel.0.deadline() {
            Some(at) => tokio::time::timeout_at(at.into(), work)
                .await
                .map_err(|_| ServiceError::from(Interrupted::DeadlineExceeded))?,
            None => work.await,
        };
        joined.map_err(|e| ServiceError::Internal(format!("analysis worker failed: {e}")))?
    }
}

fn resolve(network: &Network, names: &[String]) -> Result<Vec<VarId>, ServiceError> {
    names
        .iter()
        .map(|name| Ok(network.variable_id(name)?))
        .collect()
}

fn assignment(network: &Network, var: VarId, state: usize) -> pb::Assignment {
    let variable = network.variable(var);
    pb::Assignment {
        variable: variable.name().to_string(),
        state: variable.states()[state].clone(),
    }
}

#[tonic::async_trait]
impl pb::analysis_service_server::AnalysisService for AnalysisApi {
    async fn most_probable_explanation(
        &self,
        request: Request<pb::MpeRequest>,
    ) -> Result<Response<pb::MpeResponse>, Status> {
        let caller = Caller::of(&request);
        let deadline = time_budget(&request, None);
        let message = request.into_inner();
        logged("MostProbableExplanation", async {
            self.run(
                &caller,
                deadline,
                message.context,
                move |loaded, _, evidence, cancel| {
                    let network = &loaded.network;
                    let result = if message.variables.is_empty() {
                        analysis::most_probable_explanation_until(network, evidence, cancel)?
                    } else {
                        let vars = resolve(network, &message.variables)?;
                        analysis::maximum_a_posteriori_until(network, evidence, &vars, cancel)?
                    };
                    let mut assignment = result.assignment.clone();
                    assignment.sort_by_key(|(v, _)| *v);
                    Ok(pb::MpeResponse {
                        assignment: assignment
                            .iter()
                            .map(|&(v, s)| self::assignment(network, v, s))
                            .collect(),
                        log_probability: result.ln_probability,
                        log_p_evidence: result.ln_p_evidence,
                    })
                },
            )
            .await
        })
        .await
    }

    async fn joint_posterior(
        &self,
        request: Request<pb::JointPosteriorRequest>,
    ) -> Result<Response<pb::JointPosteriorResponse>, Status> {
        let caller = Caller::of(&request);
        let deadline = time_budget(&request, None);
        let message = request.into_inner();
        logged("JointPosterior", async {
            self.run(
                &caller,
                deadline,
                message.context,
                move |loaded, _, evidence, cancel| {
                    let network = &loaded.network;
                    let vars = resolve(network, &message.variables)?;
                    if vars.is_empty() {
                        return Err(ServiceError::InvalidRequest(
                            "name at least one variable".to_string(),
                        ));
                    }
                    let joint = analysis::joint_posterior_until(network, evidence, &vars, cancel)?;
                    Ok(pb::JointPosteriorResponse {
                        variables: message.variables.clone(),
                        entries: joint
                            .iter()
                            .map(|(states, probability)| pb::JointEntry {
                                states: joint
                                    .vars()
                                    .iter()
                                    .zip(&states)
                                    .map(|(&v, &s)| network.variable(v).states()[s].clone())
                                    .collect(),
                                probability,
                            })
                            .collect(),
                    })
                },
            )
            .await
        })
        .await
    }

    async fn intervene(
        &self,
        request: Request<pb::InterveneRequest>,
    ) -> Result<Response<pb::InterveneResponse>, Status> {
        let caller = Caller::of(&request);
        let deadline = time_budget(&request, None);
        let message = request.into_inner();
        let budget = *self.0.registry.budget();
        logged("Intervene", async {
            self.run(
                &caller,
                deadline,
                message.context,
                move |loaded, engine, evidence, cancel| {
                    let network = &loaded.network;
                    let mut settings = Vec::with_capacity(message.interventions.len());
                    for item in &message.interventions {
                        let var = network.variable_id(&item.variable)?;
                        settings.push((var, network.state_index(var, &item.state)?));
                    }
                    if settings.is_empty() {
                        return Err(ServiceError::InvalidRequest(
                            "name at least one intervention".to_string(),
                        ));
                    }
                    let targets = resolve(network, &message.targets)?;
                    let surgery = Arc::new(analysis::intervene(network, &settings)?);
                    // The mutilated network is new: compile a tree for it when one fits.
                    let surgery_engine: Box<dyn InferenceEngine> =
                        match crate::JunctionTree::compile_until(surgery.clone(), &budget, cancel) {
                            Ok(tree) => Box::new(tree),
                            Err(crate::InferenceError::Interrupted(why)) => return Err(why.into()),
                            Err(_) => Box::new(crate::VariableElimination::new(surgery.clone())),
                        };
                    let interventional = surgery_engine
                        .answer_until(evidence, &targets, cancel)?
                        .posteriors;
                    let mut observed = evidence.clone();
                    let observable = settings
                        .iter()
                        .all(|&(var, state)| observed.observe(network, var, state).is_ok());
                    let observational = if observable {
                        match engine.answer_until(&observed, &targets, cancel) {
                            Ok(answer) => convert::posteriors_message(network, &answer.posteriors),
                            Err(crate::InferenceError::ImpossibleEvidence { .. }) => Vec::new(),
                            Err(other) => return Err(other.into()),
                        }
                    } else {
                        Vec::new()
                    };
                    Ok(pb::InterveneResponse {
                        interventional: convert::posteriors_message(network, &interventional),
                        observational,
                        log_p_evidence: interventional.ln_p_evidence(),
                    })
                },
            )
            .await
        })
        .await
    }

    async fn value_of_information(
        &self,
        request: Request<pb::ValueOfInformationRequest>,
    ) -> Result<Response<pb::ValueOfInformationResponse>, Status> {
        let caller = Caller::of(&request);
        let deadline = time_budget(&request, None);
        let message = request.into_inner();
        logged("ValueOfInformation", async {
            self.run(
                &caller,
                deadline,
                message.context,
                move |loaded, engine, evidence, cancel| {
                    let network = &loaded.network;
                    let target = network.variable_id(&message.target)?;
                    let candidates = resolve(network, &message.candidates)?;
                    let result = analysis::value_of_information_until(
                        engine,
                        evidence,
                        target,
                        &candidates,
                        cancel,
                    )?;
                    Ok(pb::ValueOfInformationResponse {
                        target: message.target.clone(),
                        entropy: result.entropy,
                        ranking: result
                            .ranking
                            .iter()
                            .map(|info| pb::Information {
                                variable: network.variable(info.variable).name().to_string(),
                                mutual_information: info.mutual_information,
                            })
                            .collect(),
                    })
                },
            )
            .await
        })
        .await
    }

    async fn explain(
        &self,
        request: Request<pb::ExplainRequest>,
    ) -> Result<Response<pb::ExplainResponse>, Status> {
        let caller = Caller::of(&request);
        let deadline = time_budget(&request, None);
        let message = request.into_inner();
        logged("Explain", async {
            self.run(
                &caller,
                deadline,
                message.context,
                move |loaded, engine, evidence, cancel| {
                    let network = &loaded.network;
                    let target = network.variable_id(&message.target)?;
                    let report = analysis::explain_until(engine, evidence, target, cancel)?;
                    Ok(pb::ExplainResponse {
                        target: message.target.clone(),
                        states: network.variable(target).states().to_vec(),
                        prior: report.prior.clone(),
                        posterior: report.posterior.clone(),
                        log_p_evidence: report.ln_p_evidence,
                        items: report
                            .items
                            .iter()
                            .map(|item| {
                                let variable = network.variable(item.variable);
                                pb::EvidenceImpact {
                                    variable: variable.name().to_string(),
                                    state: evidence
                                        .hard_state(item.variable)
                                        .map(|s| variable.states()[s].clone())
                                        .unwrap_or_default(),
                                    likelihood: evidence
                                        .soft()
                                        .get(&item.variable)
                                        .cloned()
                                        .unwrap_or_default(),
                                    posterior_without: item.posterior_without.clone(),
                                    total_variation: item.total_variation,
                                    log_likelihood_ratio: item.log_likelihood_ratio.clone(),
                                    log_p_item: item.ln_p_item,
                                    log_p_item_given_rest: item.ln_p_item_given_rest,
                                    conflict_contribution: item.conflict_contribution,
                                }
                            })
                            .collect(),
                        conflict: report.conflict.value,
                        conflicting: report.conflict.value > 0.0,
                    })
                },
            )
            .await
        })
        .await
    }

    async fn sensitivity(
        &self,
        request: Request<pb::SensitivityRequest>,
    ) -> Result<Response<pb::SensitivityResponse>, Status> {
        let caller = Caller::of(&request);
        let deadline = time_budget(&request, None);
        let message = request.into_inner();
        logged("Sensitivity", async {
            if message.top < 0 {
                return Err(ServiceError::InvalidRequest(format!(
                    "top must not be negative, got {}",
                    message.top
                )));
            }
            self.run(
                &caller,
                deadline,
                message.context,
                move |loaded, _, evidence, cancel| {
                    let network = &loaded.network;
                    let target = network.variable_id(&message.target)?;
                    let state = network.state_index(target, &message.state)?;
                    let result =
                        analysis::sensitivity_until(network, evidence, target, state, cancel)?;
                    let top = match message.top {
                        0 => DEFAULT_TOP,
                        n => n as usize,
                    };
                    Ok(pb::SensitivityResponse {
                        target: message.target.clone(),
                        state: message.state.clone(),
                        probability: result.probability,
                        parameters: result
                            .parameters
                            .iter()
                            .take(top)
                            .map(|p| {
                                let variable = network.variable(p.variable);
                                let parents = network
                                    .configuration_states(p.variable, p.configuration)
                                    .into_iter()
                                    .map(|(parent, state)| assignment(network, parent, state))
                                    .collect();
                                pb::ParameterSensitivity {
                                    variable: variable.name().to_string(),
                                    parents,
                                    state: variable.states()[p.state].clone(),
                                    value: p.value,
                                    derivative: p.derivative,
                                }
                            })
                            .collect(),
                    })
                },
            )
            .await
        })
        .await
    }
}
