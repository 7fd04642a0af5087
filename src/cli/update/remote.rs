//! `credence update --server URL --network NAME`: the same cases and the same results, computed
//! by a credence server through its streaming batch call (`InferenceService.BatchQuery`).
//!
//! The server answers a stream in request order, so the order needs no reordering here. Cases
//! that fail before they could be sent (malformed lines) and cases answered from the cache are
//! never sent; a queue of pending cases, in input order, says for each output record whether it
//! is ready or is the next answer on the stream. Every channel is bounded, so memory stays
//! bounded as locally.

use super::cases::{CaseReader, CsvLayout, Findings, RawCase, Schema, interpret};
use super::output::{Layout, Outcome};
use super::pipeline::{self, AnswerCache, Done, Writer, done};
use super::{Setup, columns, finish, stop_if_strict};
use anyhow::{Context, Result, anyhow, bail};
use credence::EngineKind;
use credence::service::{engine_kind, engine_value, pb};
use pb::inference_service_client::InferenceServiceClient;
use pb::network_service_client::NetworkServiceClient;
use serde_json::{Map, Value, json};
use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;

/// Largest answer accepted: all marginals of the largest benchmark networks fit.
const MAX_MESSAGE_BYTES: usize = 64 << 20;

pub fn run(
    setup: &Setup,
    server: &str,
    name: &str,
    input: Box<dyn Read + Send>,
) -> Result<ExitCode> {
    let args = setup.args;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the network runtime")?;
    let (channel, description) = runtime.block_on(async {
        let channel = Channel::from_shared(server.to_string())
            .map_err(|e| {
                anyhow!("'{server}' is not a server address (e.g. http://127.0.0.1:50051): {e}")
            })?
            .connect()
            .await
            .map_err(|e| anyhow!("cannot connect to {server}: {}", error_chain(&e)))?;
        let description = NetworkServiceClient::new(channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .get_network(pb::GetNetworkRequest {
                name: name.to_string(),
            })
            .await
            .map_err(|status| anyhow!("{server}: {}", status.message()))?
            .into_inner();
        Ok::<_, anyhow::Error>((channel, description))
    })?;
    let schema = Schema::new(
        description
            .variables
            .iter()
            .map(|v| (v.name.clone(), v.states.clone()))
            .collect(),
    );
    let mut shown = Vec::new();
    for target in &args.targets {
        let index = schema.variable(target)?;
        if !shown.contains(&index) {
            shown.push(index);
        }
    }
    let target_names: Vec<String> = shown.iter().map(|&i| schema.name(i).to_string()).collect();
    if shown.is_empty() {
        shown = (0..schema.n_variables()).collect();
    }
    let (reader, csv) = CaseReader::new(input, setup.input_format, &schema, setup.source)?;
    let layout = Layout {
        format: setup.output_format,
        columns: columns(&schema, &shown),
    };
    let sampling = args.engine.sampling();
    let template = pb::QueryRequest {
        network: name.to_string(),
        evidence: None,
        targets: target_names,
        engine: engine_value(args.engine.engine) as i32,
        case_id: String::new(),
        timeout: None,
        sampling: Some(pb::SamplingOptions {
            n_samples: sampling.n_samples,
            seed: sampling.seed,
            precision: sampling.precision.unwrap_or(0.0),
            // Past i64 seconds is past any bound the server accepts: it says so.
            max_time: sampling.max_time.map(|t| prost_types::Duration {
                seconds: i64::try_from(t.as_secs()).unwrap_or(i64::MAX),
                nanos: t.subsec_nanos() as i32,
            }),
            n_chains: sampling.n_chains as u32,
            burn_in: sampling.burn_in,
            thinning: sampling.thinning,
        }),
    };
    let cache = AnswerCache::new(args.cache_size);
    let exchange = Exchange {
        schema: &schema,
        csv: csv.as_ref(),
        layout: &layout,
        cache: &cache,
        template: &template,
    };
    finish(setup, &layout, |out, progress, skip| {
        let (chunk_sender, chunks) = mpsc::channel::<Vec<RawCase>>(16);
        let (result_sender, results) = std::sync::mpsc::sync_channel(16);
        let (csv, layout, runtime, exchange) = (csv.as_ref(), &layout, &runtime, &exchange);
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                pipeline::read_cases(reader, csv, layout, skip, 64, |cases| {
                    chunk_sender.blocking_send(cases).is_ok()
                })
            });
            let client =
                InferenceServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES);
            let middle =
                scope.spawn(move || runtime.block_on(exchange.run(client, chunks, result_sender)));
            let mut writer = Writer {
                out,
                progress,
                strict: args.strict,
                source: setup.source,
            };
            let tally = writer.run(results, None);
            stop_if_strict(setup, progress, tally.as_ref());
            let exchanged = middle.join().expect("the exchange does not panic");
            let skipped = reader.join().expect("the reader does not panic")?;
            exchanged?;
            Ok((skipped, tally?))
        })
    })
}

/// The text of an error and its causes (tonic's transport errors hide the useful part in the
/// causes).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let next_text = next.to_string();
        if !text.contains(&next_text) {
            text = format!("{text}: {next_text}");
        }
        cause = next.source();
    }
    text
}

/// An output record in waiting: ready, or the next answer on the stream.
enum Pending {
    Ready(Done),
    Asked {
        line: u64,
        offset: u64,
        id: Value,
        key: String,
    },
}

struct Exchange<'a> {
    schema: &'a Schema,
    csv: Option<&'a CsvLayout>,
    layout: &'a Layout,
    cache: &'a AnswerCache,
    template: &'a pb::QueryRequest,
}

impl Exchange<'_> {
    /// Sends the cases of `chunks` on one batch stream and passes the results, in input order,
    /// to the writer.
    async fn run(
        &self,
        mut client: InferenceServiceClient<Channel>,
        mut chunks: mpsc::Receiver<Vec<RawCase>>,
        results: SyncSender<(u64, Vec<Done>)>,
    ) -> Result<()> {
        let (request_sender, requests) = mpsc::channel::<pb::QueryRequest>(256);
        let (pending_sender, mut pending) = mpsc::channel::<Pending>(1024);
        let send = async move {
            while let Some(cases) = chunks.recv().await {
                for raw in cases {
                    let case = interpret(&raw, self.csv, self.schema);
                    let findings = match case.findings {
                        Ok(findings) => findings,
                        Err(message) => {
                            let ready =
                                done(&raw, &case.id, &Outcome::Failed(message), self.layout);
                            if pending_sender.send(Pending::Ready(ready)).await.is_err() {
                                return Ok(());
                            }
                            continue;
                        }
                    };
                    let key = findings.key();
                    if let Some(hit) = self.cache.get(&key) {
                        let ready = done(&raw, &case.id, &hit, self.layout);
                        if pending_sender.send(Pending::Ready(ready)).await.is_err() {
                            return Ok(());
                        }
                        continue;
                    }
                    let request = self.request(&findings, &case.id);
                    let asked = Pending::Asked {
                        line: raw.line,
                        offset: raw.offset,
                        id: case.id,
                        key,
                    };
                    // The case is queued before it is sent, so its answer always finds it.
                    if pending_sender.send(asked).await.is_err()
                        || request_sender.send(request).await.is_err()
                    {
                        return Ok(());
                    }
                }
            }
            Ok::<(), anyhow::Error>(())
        };
        let receive = async {
            let mut answers = client
                .batch_query(ReceiverStream::new(requests))
                .await
                .map_err(|status| anyhow!("the server refused the batch: {}", status.message()))?
                .into_inner();
            let mut batch = Vec::new();
            let mut sequence = 0u64;
            let mut flush = |batch: &mut Vec<Done>| {
                if batch.is_empty() {
                    return true;
                }
                let sent = results.send((sequence, std::mem::take(batch))).is_ok();
                sequence += 1;
                sent
            };
            loop {
                let next = match pending.try_recv() {
                    Ok(next) => next,
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                    Err(mpsc::error::TryRecvError::Empty) => {
                        if !flush(&mut batch) {
                            return Ok(());
                        }
                        match pending.recv().await {
                            Some(next) => next,
                            None => break,
                        }
                    }
                };
                let ready = match next {
                    Pending::Ready(ready) => ready,
                    Pending::Asked {
                        line,
                        offset,
                        id,
                        key,
                    } => {
                        let answer = answers
                            .message()
                            .await
                            .map_err(|status| {
                                anyhow!("the server ended the batch: {}", status.message())
                            })?
                            .ok_or_else(|| anyhow!("the server ended the batch early"))?;
                        let expected = id.to_string();
                        if answer.case_id != expected {
                            bail!(
                                "the server answered case {} where case {id} was expected",
                                answer.case_id
                            );
                        }
                        let outcome = self.outcome(answer);
                        let ready = Done {
                            line,
                            offset,
                            text: self.layout.line(&id, &outcome.0),
                            error: match &outcome.0 {
                                Outcome::Failed(message) => Some(message.clone()),
                                Outcome::Answered(_) => None,
                            },
                        };
                        if outcome.1 {
                            self.cache.insert(key, Arc::new(outcome.0));
                        }
                        ready
                    }
                };
                batch.push(ready);
                if batch.len() >= 64 && !flush(&mut batch) {
                    return Ok(());
                }
            }
            flush(&mut batch);
            Ok(())
        };
        tokio::try_join!(send, receive)?;
        Ok(())
    }

    fn request(&self, findings: &Findings, id: &Value) -> pb::QueryRequest {
        let mut request = self.template.clone();
        request.case_id = id.to_string();
        request.evidence = Some(pb::Evidence {
            hard: findings.hard.iter().cloned().collect(),
            soft: findings
                .soft
                .iter()
                .map(|(var, values)| {
                    (
                        var.clone(),
                        pb::Likelihood {
                            values: values.clone(),
                        },
                    )
                })
                .collect(),
        });
        request
    }

    /// The outcome of one answer, and whether it may be cached: answers and the failures that
    /// depend only on the evidence (invalid names, impossible evidence) may; an overloaded
    /// server or a deadline may not.
    fn outcome(&self, answer: pb::BatchQueryResponse) -> (Outcome, bool) {
        match answer.outcome {
            Some(pb::batch_query_response::Outcome::Result(result)) => {
                (Outcome::Answered(self.layout.body(&record(&result))), true)
            }
            Some(pb::batch_query_response::Outcome::Error(error)) => {
                let lasting = [
                    tonic::Code::InvalidArgument,
                    tonic::Code::FailedPrecondition,
                ]
                .contains(&tonic::Code::from(error.code));
                (Outcome::Failed(error.message), lasting)
            }
            None => (
                Outcome::Failed("the server sent neither an answer nor an error".into()),
                false,
            ),
        }
    }
}

/// The engine's command-line name from the wire (the server's choice for a value this client
/// does not know).
fn engine_name(engine: i32) -> &'static str {
    engine_kind(engine).unwrap_or(EngineKind::Auto).as_str()
}

/// The JSON record (without id) of an answer from the server: the same fields, in the same
/// order, as a local answer (`pipeline::Local::compute`).
fn record(result: &pb::QueryResponse) -> Map<String, Value> {
    let stamp = result.stamp.clone().unwrap_or_default();
    let engine = engine_name(stamp.engine);
    let mut record = Map::new();
    record.insert("engine".into(), json!(engine));
    record.insert("log_p_evidence".into(), json!(result.log_p_evidence));
    let per_state = |value: &dyn Fn(usize, usize) -> Value| -> Value {
        Value::Object(
            result
                .posteriors
                .iter()
                .enumerate()
                .map(|(t, p)| {
                    let states = p
                        .states
                        .iter()
                        .enumerate()
                        .map(|(i, s)| (s.clone(), value(t, i)))
                        .collect();
                    (p.variable.clone(), Value::Object(states))
                })
                .collect(),
        )
    };
    record.insert(
        "posteriors".into(),
        // `get`: a server that sends fewer numbers than states gives nulls, not a crash.
        per_state(&|t, i| json!(result.posteriors[t].probabilities.get(i))),
    );
    if !result.engine_reason.is_empty() {
        record.insert("engine_reason".into(), json!(result.engine_reason));
    }
    if let Some(stats) = &result.sampling {
        let uncertainty = &result.uncertainty;
        record.insert(
            "stderr".into(),
            per_state(&|t, i| json!(uncertainty.get(t).and_then(|u| u.stderr.get(i)))),
        );
        record.insert(
            "intervals".into(),
            per_state(&|t, i| {
                let u = uncertainty.get(t);
                json!([
                    u.and_then(|u| u.lower.get(i)),
                    u.and_then(|u| u.upper.get(i))
                ])
            }),
        );
        // The wire has no "absent" R-hat: only Gibbs computes one.
        let r_hat = (engine == EngineKind::Gibbs.as_str()).then_some(stats.r_hat);
        record.insert(
            "sampling".into(),
            json!({
                "n_samples": stats.n_samples,
                "ess": stats.ess,
                "r_hat": r_hat,
                "stopped_by": stats.stopped_by,
                "seed": stamp.seed,
                "interval_level": 0.95,
                "warnings": stats.warnings,
                "notes": stats.notes,
            }),
        );
    }
    record
}
