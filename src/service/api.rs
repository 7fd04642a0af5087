//! The three gRPC services. Handlers validate, hand inference to the blocking pool through
//! [`Shared::infer`], and convert; they hold no lock across an await except a session's own.

use super::Shared;
use super::auth::{Caller, Scope};
use super::convert::{self, engine_kind};
use super::error::ServiceError;
use super::pb;
use super::registry::LoadedNetwork;
use super::sessions::{self, Findings, Need, Revision, SessionState};
use crate::cancel::{CancelToken, Interrupted};
use crate::infer::{EngineKind, SamplingConfig};
use crate::io::Format;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

type ResponseStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Runs a handler and logs one line: method, status code, latency.
pub(super) async fn logged<T>(
    method: &'static str,
    handler: impl Future<Output = Result<T, ServiceError>>,
) -> Result<Response<T>, Status> {
    let started = Instant::now();
    let result = handler.await.map_err(Status::from);
    let latency_ms = started.elapsed().as_secs_f64() * 1e3;
    match &result {
        Ok(_) => tracing::info!(method, code = "OK", latency_ms, "rpc"),
        Err(status) if status.code() == tonic::Code::Internal => {
            tracing::error!(method, code = ?status.code(), latency_ms, message = status.message(), "rpc")
        }
        Err(status) => {
            tracing::info!(method, code = ?status.code(), latency_ms, message = status.message(), "rpc")
        }
    }
    result.map(Response::new)
}

/// The time budget of a request: its own `timeout` field or the gRPC deadline, whichever is
/// shorter.
pub(super) fn time_budget<T>(
    request: &Request<T>,
    timeout: Option<&prost_types::Duration>,
) -> Option<Duration> {
    let from_field = timeout.and_then(|d| {
        (d.seconds >= 0 && d.nanos >= 0).then(|| Duration::new(d.seconds as u64, d.nanos as u32))
    });
    let from_header = request
        .metadata()
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout);
    match (from_field, from_header) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `grpc-timeout` header values: an integer of at most 8 digits and a unit (H, M, S, m, u, n).
fn parse_grpc_timeout(text: &str) -> Option<Duration> {
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(value.checked_mul(3600)?),
        "M" => Duration::from_secs(value.checked_mul(60)?),
        "S" => Duration::from_secs(value),
        "m" => Duration::from_millis(value),
        "u" => Duration::from_micros(value),
        "n" => Duration::from_nanos(value),
        _ => return None,
    })
}

/// `now + budget`, or no deadline when there is no budget or it is too far to represent.
fn deadline_after(budget: Option<Duration>) -> Option<Instant> {
    budget.and_then(|b| Instant::now().checked_add(b))
}

/// A sampler stops by itself at its `max_time` with what it has; its token stops it this much
/// later, should it not.
const MAX_TIME_GRACE: Duration = Duration::from_millis(250);

/// Cancels a request's token when dropped. Tonic drops a handler's future when the client
/// cancels its call or goes away, so work running on the blocking pool for it sees the
/// cancellation and stops, freeing its query slot.
pub(super) struct CancelOnDrop(pub(super) CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel(Interrupted::Cancelled);
    }
}

impl Shared {
    /// The token of one request: a child of the server's shutdown token, stopping at the
    /// request's time budget when it has one.
    pub(super) fn request_token(&self, budget: Option<Duration>) -> CancelToken {
        self.shutdown.with_optional_deadline(deadline_after(budget))
    }

    /// Takes a query slot, or says the server is at its limit.
    pub(super) fn query_slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, ServiceError> {
        self.query_slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| ServiceError::Overloaded(self.max_concurrent_queries))
    }

    /// Posteriors of `targets` given `findings` in one of the query slots, computed on the
    /// blocking pool until `cancel` (or the sampler's `max_time`) stops it. Dropping the
    /// returned future cancels the work.
    async fn infer(
        &self,
        loaded: Arc<LoadedNetwork>,
        findings: Findings,
        targets: Vec<String>,
        kind: EngineKind,
        sampling: SamplingConfig,
        cancel: &CancelToken,
    ) -> Result<pb::QueryResponse, ServiceError> {
        loaded.ensure_available()?;
        convert::check_targets(&targets)?;
        let permit = self.query_slot()?;
        self.compute(permit, loaded, findings, targets, kind, sampling, cancel)
            .await
    }

    /// As [`infer`](Self::infer), in the slot `permit` (held until the work ends).
    #[allow(clippy::too_many_arguments)]
    async fn compute(
        &self,
        permit: tokio::sync::OwnedSemaphorePermit,
        loaded: Arc<LoadedNetwork>,
        findings: Findings,
        targets: Vec<String>,
        kind: EngineKind,
        sampling: SamplingConfig,
        cancel: &CancelToken,
    ) -> Result<pb::QueryResponse, ServiceError> {
        loaded.ensure_available()?;
        convert::check_targets(&targets)?;
        let token = match sampling.max_time {
            Some(limit) if kind == EngineKind::Auto || kind.is_sampler() => cancel
                .with_optional_deadline(
                    limit
                        .checked_add(MAX_TIME_GRACE)
                        .and_then(|l| Instant::now().checked_add(l)),
                ),
            _ => cancel.child(),
        };
        let deadline = token.deadline();
        let guard = CancelOnDrop(token.clone());
        let budget = *self.registry.budget();
        let work = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let network = &loaded.network;
            let evidence = sessions::to_evidence(network, &findings)?;
            let targets = targets
                .iter()
                .map(|name| network.variable_id(name))
                .collect::<Result<Vec<_>, _>>()?;
            let answer = loaded.answer(kind, &budget, &sampling, &evidence, &targets, &token)?;
            Ok(convert::query_response(&loaded, &answer))
        });
        // The token stops the work; the timer only makes sure the client hears back at its
        // deadline even from an engine that checks its token late.
        let joined = match deadline {
            Some(at) => tokio::time::timeout_at(at.into(), work)
                .await
                .map_err(|_| ServiceError::from(Interrupted::DeadlineExceeded))?,
            None => work.await,
        };
        drop(guard);
        joined.map_err(|e| ServiceError::Internal(format!("inference worker failed: {e}")))?
    }

    async fn query(
        &self,
        request: &Request<pb::QueryRequest>,
    ) -> Result<pb::QueryResponse, ServiceError> {
        Caller::of(request).require(Scope::Read, "query networks")?;
        let message = request.get_ref();
        sessions::check_text("case_id", &message.case_id, sessions::MAX_LABEL_BYTES)?;
        let loaded = self.registry.get(&message.network)?;
        let findings = convert::findings(message.evidence.as_ref())?;
        let kind = engine_kind(message.engine)?;
        if let Some(timeout) = &message.timeout {
            convert::duration(timeout, "timeout")?;
        }
        let budget = time_budget(request, message.timeout.as_ref());
        let sampling = convert::sampling_config(message.sampling.as_ref(), budget)?;
        let cancel = self.request_token(budget);
        self.infer(
            loaded,
            findings,
            message.targets.clone(),
            kind,
            sampling,
            &cancel,
        )
        .await
    }
}

/// `credence.v1.NetworkService`.
#[derive(Clone)]
pub struct NetworkApi(pub Arc<Shared>);

#[tonic::async_trait]
impl pb::network_service_server::NetworkService for NetworkApi {
    async fn list_networks(
        &self,
        request: Request<pb::ListNetworksRequest>,
    ) -> Result<Response<pb::ListNetworksResponse>, Status> {
        logged("ListNetworks", async {
            Caller::of(&request).require(Scope::Read, "list networks")?;
            let message = request.into_inner();
            let size = convert::page_size(message.page_size)?;
            let all = self.0.registry.list();
            let rest: Vec<_> = all
                .iter()
                .filter(|n| message.page_token.is_empty() || n.name > message.page_token)
                .collect();
            let page: Vec<_> = rest.iter().take(size).collect();
            let next_page_token = if rest.len() > size {
                page.last().map(|n| n.name.clone()).unwrap_or_default()
            } else {
                String::new()
            };
            Ok(pb::ListNetworksResponse {
                networks: page.iter().map(|n| convert::summary(n)).collect(),
                next_page_token,
            })
        })
        .await
    }

    async fn get_network(
        &self,
        request: Request<pb::GetNetworkRequest>,
    ) -> Result<Response<pb::GetNetworkResponse>, Status> {
        logged("GetNetwork", async {
            Caller::of(&request).require(Scope::Read, "read networks")?;
            let loaded = self.0.registry.get(&request.get_ref().name)?;
            Ok(pb::GetNetworkResponse {
                summary: Some(convert::summary(&loaded)),
                variables: convert::variables(&loaded.network),
            })
        })
        .await
    }

    async fn upload_network(
        &self,
        request: Request<pb::UploadNetworkRequest>,
    ) -> Result<Response<pb::UploadNetworkResponse>, Status> {
        let guard = CancelOnDrop(self.0.request_token(time_budget(&request, None)));
        logged("UploadNetwork", async {
            let caller = Caller::of(&request);
            caller.require(Scope::Networks, "upload networks")?;
            let message = request.into_inner();
            let format = match pb::NetworkFormat::try_from(message.format) {
                Ok(pb::NetworkFormat::Unspecified) => None,
                Ok(pb::NetworkFormat::Bif) => Some(Format::Bif),
                Ok(pb::NetworkFormat::Xmlbif) => Some(Format::XmlBif),
                Ok(pb::NetworkFormat::Net) => Some(Format::Net),
                Ok(pb::NetworkFormat::Xdsl) => Some(Format::Xdsl),
                Ok(pb::NetworkFormat::Uai) => Some(Format::Uai),
                Err(_) => {
                    return Err(ServiceError::InvalidRequest(format!(
                        "unknown format {} (valid: 0 unspecified, 1 BIF, 2 XMLBIF, 3 NET, 4 XDSL, 5 UAI)",
                        message.format
                    )));
                }
            };
            let shared = self.0.clone();
            // Parsing and the cost estimate run on the blocking pool and stop with the
            // request (its deadline, its cancel, shutdown).
            let cancel = guard.0.clone();
            let work = tokio::task::spawn_blocking(move || {
                shared.registry.upload(
                    &message.name,
                    format,
                    &message.content,
                    message.replace,
                    &caller,
                    &cancel,
                )
            });
            let joined = match guard.0.deadline() {
                Some(at) => tokio::time::timeout_at(at.into(), work)
                    .await
                    .map_err(|_| ServiceError::from(Interrupted::DeadlineExceeded))?,
                None => work.await,
            };
            let loaded = joined
                .map_err(|e| ServiceError::Internal(format!("upload worker failed: {e}")))??;
            Ok(pb::UploadNetworkResponse {
                summary: Some(convert::summary(&loaded)),
            })
        })
        .await
    }

    async fn delete_network(
        &self,
        request: Request<pb::DeleteNetworkRequest>,
    ) -> Result<Response<pb::DeleteNetworkResponse>, Status> {
        logged("DeleteNetwork", async {
            let caller = Caller::of(&request);
            caller.require(Scope::Networks, "delete networks")?;
            let name = request.into_inner().name;
            let shared = self.0.clone();
            tokio::task::spawn_blocking(move || shared.registry.delete(&name, &caller))
                .await
                .map_err(|e| ServiceError::Internal(format!("delete worker failed: {e}")))??;
            Ok(pb::DeleteNetworkResponse {})
        })
        .await
    }
}

/// `credence.v1.InferenceService`.
#[derive(Clone)]
pub struct InferenceApi(pub Arc<Shared>);

#[tonic::async_trait]
impl pb::inference_service_server::InferenceService for InferenceApi {
    async fn query(
        &self,
        request: Request<pb::QueryRequest>,
    ) -> Result<Response<pb::QueryResponse>, Status> {
        logged("Query", self.0.query(&request)).await
    }

    type BatchQueryStream = ResponseStream<pb::BatchQueryResponse>;

    async fn batch_query(
        &self,
        request: Request<Streaming<pb::QueryRequest>>,
    ) -> Result<Response<Self::BatchQueryStream>, Status> {
        let shared = self.0.clone();
        let deadline = deadline_after(time_budget(&request, None));
        // Each case is checked as its own call, with the stream's caller.
        let caller = Caller::of(&request);
        let mut cases = request.into_inner();
        // Cases are read as they arrive, so that h2's buffer of small frames drains (see
        // `http2_settings`); when this queue is full, flow control holds the client back.
        let (queued, mut queue) = mpsc::channel::<Result<pb::QueryRequest, Status>>(BATCH_QUEUE);
        tokio::spawn(async move {
            while let Some(next) = cases.next().await {
                let failed = next.is_err();
                if queued.send(next).await.is_err() || failed {
                    break;
                }
            }
        });
        let (sender, receiver) = mpsc::channel(64);
        tokio::spawn(async move {
            let started = Instant::now();
            let mut index = 0i64;
            while let Some(next) = queue.recv().await {
                let case = match next {
                    Ok(case) => case,
                    Err(status) => {
                        let _ = sender.send(Err(status)).await;
                        break;
                    }
                };
                let case_id = case.case_id.clone();
                let mut request = Request::new(case);
                request.extensions_mut().insert(caller.clone());
                if let Some(deadline) = deadline {
                    request.set_timeout(deadline.saturating_duration_since(Instant::now()));
                }
                // A client that goes away cancels the case in progress (dropping the query's
                // future cancels its token), not only the cases after it.
                let answer = tokio::select! {
                    answer = shared.query(&request) => answer,
                    () = sender.closed() => break,
                };
                let outcome = match answer {
                    Ok(result) => pb::batch_query_response::Outcome::Result(result),
                    Err(error) => {
                        let status = Status::from(error);
                        pb::batch_query_response::Outcome::Error(pb::CaseError {
                            code: status.code() as i32,
                            message: status.message().to_string(),
                        })
                    }
                };
                let response = pb::BatchQueryResponse {
                    case_id,
                    index,
                    outcome: Some(outcome),
                };
                index += 1;
                if sender.send(Ok(response)).await.is_err() {
                    break; // The client went away.
                }
            }
            tracing::info!(
                method = "BatchQuery",
                cases = index,
                latency_ms = started.elapsed().as_secs_f64() * 1e3,
                "rpc"
            );
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }
}

/// Cases of one `BatchQuery` read ahead of the one being answered.
const BATCH_QUEUE: usize = 4_096;

/// `credence.v1.SessionService`.
#[derive(Clone)]
pub struct SessionApi(pub Arc<Shared>);

fn session_message(state: &SessionState) -> pb::Session {
    pb::Session {
        id: state.id.clone(),
        network: state.network.name.clone(),
        description: state.description.clone(),
        revision: state.revision(),
        evidence: Some(convert::evidence_message(state.current())),
        created: Some(convert::timestamp(state.created)),
        network_hash: state.network.hash.clone(),
        owner: state.access.owner.clone(),
        readers: state.access.readers(),
    }
}

/// What a session was at one revision.
struct AtRevision {
    loaded: Arc<LoadedNetwork>,
    findings: Findings,
    changes: Vec<sessions::Change>,
}

impl SessionApi {
    /// Session `id` at `revision` (the current one when `None`).
    async fn at_revision(
        &self,
        caller: &Caller,
        id: &str,
        revision: Option<i64>,
    ) -> Result<AtRevision, ServiceError> {
        let session = self.0.sessions.get(id, caller, Need::Read)?;
        let state = session.lock().await;
        let revision = revision.unwrap_or(state.revision());
        let findings = state.findings_at(revision)?.clone();
        let changes = match revision {
            0 => Vec::new(),
            r => state.revisions[r as usize - 1].changes.clone(),
        };
        Ok(AtRevision {
            loaded: state.network.clone(),
            findings,
            changes,
        })
    }

    /// One Watch message: the answer for `revision`, shared with every other watcher of it.
    async fn watch_message(
        &self,
        caller: &Caller,
        id: &str,
        revision: i64,
        targets: &[String],
    ) -> Result<pb::WatchResponse, Status> {
        let at = self.at_revision(caller, id, Some(revision)).await?;
        let shared = self.0.clone();
        let (loaded, findings, owned_targets) = (at.loaded, at.findings, targets.to_vec());
        let posteriors = self
            .0
            .watches
            .get(id, revision, targets, |permit| async move {
                let cancel = shared.request_token(None);
                shared
                    .compute(
                        permit,
                        loaded,
                        findings,
                        owned_targets,
                        EngineKind::Auto,
                        SamplingConfig::default(),
                        &cancel,
                    )
                    .await
            })
            .await?;
        // The session may have moved on while this was computed or waited for a slot.
        let current = self
            .0
            .sessions
            .get(id, caller, Need::Read)
            .map_err(Status::from)?
            .lock()
            .await
            .revision();
        let mut posteriors = posteriors;
        if current > revision {
            let lag = format!(
                "this watcher lags: the session is at revision {current}; the later revisions follow"
            );
            posteriors.engine_reason = if posteriors.engine_reason.is_empty() {
                lag
            } else {
                format!("{}; {lag}", posteriors.engine_reason)
            };
        }
        Ok(pb::WatchResponse {
            revision,
            changes: at.changes.iter().map(convert::change_message).collect(),
            posteriors: Some(posteriors),
        })
    }
}

#[tonic::async_trait]
impl pb::session_service_server::SessionService for SessionApi {
    async fn create_session(
        &self,
        request: Request<pb::CreateSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        logged("CreateSession", async {
            let caller = Caller::of(&request);
            let message = request.into_inner();
            sessions::check_text(
                "description",
                &message.description,
                sessions::MAX_DESCRIPTION_BYTES,
            )?;
            let loaded = self.0.registry.get(&message.network)?;
            let session = self
                .0
                .sessions
                .create(loaded, message.description, &caller)
                .await?;
            let state = session.lock().await;
            Ok(session_message(&state))
        })
        .await
    }

    async fn get_session(
        &self,
        request: Request<pb::GetSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        logged("GetSession", async {
            let caller = Caller::of(&request);
            let session = self
                .0
                .sessions
                .get(&request.get_ref().id, &caller, Need::Read)?;
            let state = session.lock().await;
            Ok(session_message(&state))
        })
        .await
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        logged("ListSessions", async {
            let caller = Caller::of(&request);
            let message = request.into_inner();
            let size = convert::page_size(message.page_size)?;
            sessions::check_text("page_token", &message.page_token, sessions::MAX_LABEL_BYTES)?;
            let (page, more) = self.0.sessions.page(&message.page_token, size, &caller)?;
            let mut sessions = Vec::with_capacity(page.len());
            for session in &page {
                sessions.push(session_message(&*session.lock().await));
            }
            let next_page_token = if more {
                sessions.last().map(|s| s.id.clone()).unwrap_or_default()
            } else {
                String::new()
            };
            Ok(pb::ListSessionsResponse {
                sessions,
                next_page_token,
            })
        })
        .await
    }

    async fn delete_session(
        &self,
        request: Request<pb::DeleteSessionRequest>,
    ) -> Result<Response<pb::DeleteSessionResponse>, Status> {
        logged("DeleteSession", async {
            let caller = Caller::of(&request);
            let id = &request.get_ref().id;
            self.0.sessions.delete(id, &caller).await?;
            self.0.watches.forget(id);
            Ok(pb::DeleteSessionResponse {})
        })
        .await
    }

    async fn share_session(
        &self,
        request: Request<pb::ShareSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        logged("ShareSession", async {
            let caller = Caller::of(&request);
            let message = request.into_inner();
            let session = self
                .0
                .sessions
                .share(&message.id, &caller, message.readers)
                .await?;
            let state = session.lock().await;
            Ok(session_message(&state))
        })
        .await
    }

    async fn update_evidence(
        &self,
        request: Request<pb::UpdateEvidenceRequest>,
    ) -> Result<Response<pb::UpdateEvidenceResponse>, Status> {
        let cancel = self.0.request_token(time_budget(&request, None));
        logged("UpdateEvidence", async {
            let caller = Caller::of(&request);
            let message = request.into_inner();
            sessions::check_text("source", &message.source, sessions::MAX_SOURCE_BYTES)?;
            sessions::check_text("note", &message.note, sessions::MAX_NOTE_BYTES)?;
            if message.changes.is_empty() {
                return Err(ServiceError::InvalidRequest(
                    "an update needs at least one change".to_string(),
                ));
            }
            let changes = message
                .changes
                .iter()
                .map(convert::change)
                .collect::<Result<Vec<_>, _>>()?;
            let session = self.0.sessions.get(&message.id, &caller, Need::Write)?;
            // Held to the end: updates to one session apply one at a time, in order.
            let mut state = session.lock().await;
            if message.check_revision && message.expected_revision != state.revision() {
                return Err(ServiceError::RevisionConflict {
                    id: state.id.clone(),
                    expected: message.expected_revision,
                    current: state.revision(),
                });
            }
            let next = sessions::apply(&state.network, state.current(), &changes)?;
            // Refuse evidence that is impossible now rather than poison every later query.
            let loaded = state.network.clone();
            self.0
                .infer(
                    loaded,
                    next.clone(),
                    vec![],
                    EngineKind::JunctionTree,
                    SamplingConfig::default(),
                    &cancel,
                )
                .await
                .or_else(|error| match error {
                    // Too large for the exact check: accept; queries will say what they can.
                    ServiceError::Core(crate::Error::Inference(
                        crate::InferenceError::OverBudget { .. },
                    )) => Ok(pb::QueryResponse::default()),
                    other => Err(other),
                })?;
            let revision = Revision {
                number: state.revision() + 1,
                changes,
                source: message.source,
                note: message.note,
                applied: SystemTime::now(),
                findings: next,
            };
            let wire = convert::revision_message(&revision);
            // Stored before the answer: an acknowledged revision survives a crash.
            self.0.sessions.commit(&mut state, revision).await?;
            Ok(pb::UpdateEvidenceResponse {
                revision: Some(wire),
            })
        })
        .await
    }

    async fn get_posteriors(
        &self,
        request: Request<pb::GetPosteriorsRequest>,
    ) -> Result<Response<pb::QueryResponse>, Status> {
        let budget = time_budget(&request, None);
        logged("GetPosteriors", async {
            let caller = Caller::of(&request);
            let message = request.into_inner();
            let revision = message.at_revision.then_some(message.revision);
            let kind = engine_kind(message.engine)?;
            let sampling = convert::sampling_config(message.sampling.as_ref(), budget)?;
            let at = self.at_revision(&caller, &message.id, revision).await?;
            let cancel = self.0.request_token(budget);
            self.0
                .infer(
                    at.loaded,
                    at.findings,
                    message.targets,
                    kind,
                    sampling,
                    &cancel,
                )
                .await
        })
        .await
    }

    async fn get_history(
        &self,
        request: Request<pb::GetHistoryRequest>,
    ) -> Result<Response<pb::GetHistoryResponse>, Status> {
        logged("GetHistory", async {
            let caller = Caller::of(&request);
            let message = request.into_inner();
            let session = self.0.sessions.get(&message.id, &caller, Need::Read)?;
            let size = convert::page_size(message.page_size)?;
            // The token is the last revision number returned.
            let after = match message.page_token.as_str() {
                "" => 0,
                token => token.parse::<usize>().map_err(|_| {
                    ServiceError::InvalidRequest(format!(
                        "page_token '{}' is not one this server gave",
                        token.chars().take(32).collect::<String>()
                    ))
                })?,
            };
            let state = session.lock().await;
            let rest = state.revisions.get(after..).unwrap_or_default();
            let page = &rest[..rest.len().min(size)];
            Ok(pb::GetHistoryResponse {
                revisions: page.iter().map(convert::revision_message).collect(),
                next_page_token: if rest.len() > size {
                    (after + size).to_string()
                } else {
                    String::new()
                },
            })
        })
        .await
    }

    type WatchStream = ResponseStream<pb::WatchResponse>;

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let caller = Caller::of(&request);
        let message = request.into_inner();
        convert::check_targets(&message.targets).map_err(Status::from)?;
        let session = self
            .0
            .sessions
            .get(&message.id, &caller, Need::Read)
            .map_err(Status::from)?;
        // Validate the targets now, so a typo fails the call instead of the stream.
        let mut revisions = {
            let state = session.lock().await;
            for target in &message.targets {
                state
                    .network
                    .network
                    .variable_id(target)
                    .map_err(|e| Status::from(ServiceError::from(e)))?;
            }
            state.notify.subscribe()
        };
        drop(session);
        let api = self.clone();
        let (sender, receiver) = mpsc::channel(16);
        tokio::spawn(async move {
            let mut next = *revisions.borrow_and_update();
            // The current state first, then every later revision in order: a slow client
            // still sees each one, because revisions are kept.
            let mut first = true;
            loop {
                let current = *revisions.borrow_and_update();
                let from = if first { next } else { next + 1 };
                first = false;
                for revision in from..=current {
                    let item = tokio::select! {
                        item = api.watch_message(&caller, &message.id, revision, &message.targets) => item,
                        () = sender.closed() => return,
                    };
                    let failed = item.is_err();
                    if sender.send(item).await.is_err() || failed {
                        return;
                    }
                    next = revision;
                }
                if revisions.changed().await.is_err() {
                    // The session was deleted: its sender is gone.
                    let _ = sender
                        .send(Err(Status::from(ServiceError::SessionNotFound(
                            message.id.clone(),
                        ))))
                        .await;
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts() {
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("x"), None);
        assert_eq!(parse_grpc_timeout(""), None);
    }
}
