//! The attacks of issue 18 against an in-process server: each must get the right code within
//! a bound, and the server must go on answering everyone else.

mod common;

use common::inprocess::InProcess;
use credence::service::pb;
use pb::inference_service_client::InferenceServiceClient;
use pb::network_service_client::NetworkServiceClient;
use pb::session_service_client::SessionServiceClient;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_stream::StreamExt;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

/// How much later than its deadline a request may be answered: the engines check their token
/// every ~100 ms; the rest is scheduling on a loaded test machine.
const SLACK: Duration = Duration::from_millis(1_500);

async fn start(slots: usize) -> InProcess {
    InProcess::start(&["asia", "alarm"], |config| {
        config.max_concurrent_queries = slots;
    })
    .await
}

fn sampling_query(
    network: &str,
    engine: pb::Engine,
    options: pb::SamplingOptions,
) -> pb::QueryRequest {
    pb::QueryRequest {
        network: network.into(),
        engine: engine as i32,
        sampling: Some(options),
        ..Default::default()
    }
}

fn with_timeout<T>(message: T, timeout: Duration) -> Request<T> {
    let mut request = Request::new(message);
    request.set_timeout(timeout);
    request
}

/// The server answers a plain query on asia correctly, within a bound.
async fn still_serving(server: &InProcess) {
    let started = Instant::now();
    let answer = InferenceServiceClient::new(server.channel().await)
        .query(with_timeout(
            pb::QueryRequest {
                network: "asia".into(),
                targets: vec!["lung".into()],
                ..Default::default()
            },
            Duration::from_secs(5),
        ))
        .await
        .expect("the server still answers")
        .into_inner();
    assert!((answer.posteriors[0].probabilities[0] - 0.055).abs() < 1e-12);
    assert!(started.elapsed() < Duration::from_secs(5));
}

fn violation_field(status: &Status) -> String {
    let details = status.get_error_details();
    let bad = details
        .bad_request()
        .unwrap_or_else(|| panic!("no BadRequest in {status:?}"));
    bad.field_violations[0].field.clone()
}

#[tokio::test]
async fn sampling_settings_past_their_bounds_are_refused_naming_field_and_bound() {
    let server = start(4).await;
    let mut client = InferenceServiceClient::new(server.channel().await);
    let cases = [
        (
            pb::Engine::Gibbs,
            pb::SamplingOptions {
                n_chains: u32::MAX,
                ..Default::default()
            },
            "sampling.n_chains",
        ),
        (
            pb::Engine::Gibbs,
            pb::SamplingOptions {
                thinning: u64::MAX,
                ..Default::default()
            },
            "sampling.thinning",
        ),
        (
            pb::Engine::Gibbs,
            pb::SamplingOptions {
                burn_in: u64::MAX,
                ..Default::default()
            },
            "sampling.burn_in",
        ),
        (
            pb::Engine::LikelihoodWeighting,
            pb::SamplingOptions {
                n_samples: u64::MAX,
                ..Default::default()
            },
            "sampling.n_samples",
        ),
        (
            pb::Engine::LikelihoodWeighting,
            pb::SamplingOptions {
                max_time: Some(prost_types::Duration {
                    seconds: i64::MAX,
                    nanos: 0,
                }),
                ..Default::default()
            },
            "sampling.max_time",
        ),
        (
            pb::Engine::LikelihoodWeighting,
            pb::SamplingOptions {
                precision: 7.0,
                ..Default::default()
            },
            "sampling.precision",
        ),
    ];
    for (engine, options, field) in cases {
        let started = Instant::now();
        let status = client
            .query(sampling_query("alarm", engine, options))
            .await
            .expect_err(field);
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(violation_field(&status), field);
        assert!(
            status.message().contains(field) && status.message().contains("at most")
                || field == "sampling.precision",
            "{}",
            status.message()
        );
        assert!(started.elapsed() < Duration::from_secs(1), "{field}");
    }
    still_serving(&server).await;
}

#[tokio::test]
async fn long_sampling_stops_at_the_deadline_and_frees_its_slot() {
    // One slot: if a run outlived its deadline, the next query would be refused.
    let server = start(1).await;
    let mut client = InferenceServiceClient::new(server.channel().await);
    for (engine, options) in [
        (
            pb::Engine::LikelihoodWeighting,
            pb::SamplingOptions {
                n_samples: 1_000_000_000,
                ..Default::default()
            },
        ),
        (
            pb::Engine::Gibbs,
            pb::SamplingOptions {
                n_samples: 1_000_000_000,
                thinning: 10_000,
                ..Default::default()
            },
        ),
    ] {
        // The request's own timeout, so that the server's answer is what is checked, not the
        // client's own timer (which fires at the same moment).
        let deadline = Duration::from_millis(400);
        let mut request = sampling_query("alarm", engine, options);
        request.timeout = Some(prost_types::Duration {
            seconds: 0,
            nanos: deadline.as_nanos() as i32,
        });
        let started = Instant::now();
        let outcome = client.query(request).await;
        let elapsed = started.elapsed();
        assert!(elapsed < deadline + SLACK, "{engine:?} took {elapsed:?}");
        match outcome {
            // Stopped by its time budget (0.9 of the deadline) with what it had.
            Ok(answer) => {
                assert_eq!(answer.into_inner().sampling.unwrap().stopped_by, "time");
            }
            Err(status) => assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}"),
        }
        // The slot is free again (within the bound the engines stop in).
        tokio::time::sleep(Duration::from_millis(300)).await;
        still_serving(&server).await;
    }
}

#[tokio::test]
async fn a_cancelled_query_frees_its_slot() {
    let server = start(1).await;
    let channel = server.channel().await;
    let mut client = InferenceServiceClient::new(channel.clone());
    let long = sampling_query(
        "alarm",
        pb::Engine::LikelihoodWeighting,
        pb::SamplingOptions {
            n_samples: 1_000_000_000,
            ..Default::default()
        },
    );
    let call = tokio::spawn(async move { client.query(long).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Dropping the call resets its stream: the server's handler future is dropped.
    call.abort();
    let _ = call.await;
    let started = Instant::now();
    loop {
        let outcome = InferenceServiceClient::new(channel.clone())
            .query(pb::QueryRequest {
                network: "asia".into(),
                ..Default::default()
            })
            .await;
        match outcome {
            Ok(_) => break,
            Err(status) if status.code() == Code::ResourceExhausted => {
                assert!(
                    started.elapsed() < SLACK,
                    "the cancelled query still holds the only slot"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    }
}

/// A random network of `n` binary variables, each with up to four earlier parents: the kind of
/// upload whose junction-tree cost estimate used to run for minutes.
fn random_network(n: usize) -> String {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut text = String::from("network random {}\n");
    for i in 0..n {
        text.push_str(&format!(
            "variable v{i} {{ type discrete [ 2 ] {{ a, b }}; }}\n"
        ));
    }
    for i in 0..n {
        let mut parents: Vec<usize> = (0..4.min(i)).map(|_| next() as usize % i).collect();
        parents.sort();
        parents.dedup();
        let rows = 1 << parents.len();
        let mut values = vec!["0.4"; rows];
        values.extend(vec!["0.6"; rows]);
        let given = if parents.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = parents.iter().map(|p| format!("v{p}")).collect();
            format!(" | {}", names.join(", "))
        };
        text.push_str(&format!(
            "probability ( v{i}{given} ) {{ table {}; }}\n",
            values.join(", ")
        ));
    }
    text
}

#[test]
fn a_costly_upload_returns_within_its_deadline() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(costly_upload());
    // Not dropping the runtime, which would wait for its blocking pool: stopping the estimate
    // itself is the engines' part (their own tests); this one is about the server answering
    // and serving on.
    std::mem::forget(runtime);
}

async fn costly_upload() {
    let server = start(4).await;
    let mut client = NetworkServiceClient::new(server.channel().await);
    let deadline = Duration::from_secs(2);
    let started = Instant::now();
    let outcome = client
        .upload_network(with_timeout(
            pb::UploadNetworkRequest {
                name: "random3000".into(),
                format: 0,
                content: random_network(3_000),
                replace: false,
            },
            deadline,
        ))
        .await;
    let elapsed = started.elapsed();
    assert!(elapsed < deadline + SLACK, "the upload took {elapsed:?}");
    if let Err(status) = outcome {
        assert!(
            [Code::DeadlineExceeded, Code::ResourceExhausted].contains(&status.code()),
            "{status:?}"
        );
    }
    still_serving(&server).await;
}

fn soft(pairs: &[(&str, &[f64])]) -> HashMap<String, pb::Likelihood> {
    pairs
        .iter()
        .map(|(v, values)| {
            (
                v.to_string(),
                pb::Likelihood {
                    values: values.to_vec(),
                },
            )
        })
        .collect()
}

#[tokio::test]
async fn extreme_likelihoods_give_finite_answers_or_a_client_code() {
    let server = start(4).await;
    let mut client = InferenceServiceClient::new(server.channel().await);
    let engines = [
        pb::Engine::Unspecified,
        pb::Engine::JunctionTree,
        pb::Engine::VariableElimination,
        pb::Engine::Enumeration,
        pb::Engine::LikelihoodWeighting,
        pb::Engine::Gibbs,
        pb::Engine::Rejection,
        pb::Engine::Epis,
    ];
    for likelihood in [[1e-320, 1.0], [1e300, 1.0], [f64::MAX, f64::MIN_POSITIVE]] {
        for engine in engines {
            let request = pb::QueryRequest {
                network: "asia".into(),
                evidence: Some(pb::Evidence {
                    hard: [("smoke", "yes"), ("xray", "yes")]
                        .iter()
                        .map(|(v, s)| (v.to_string(), s.to_string()))
                        .collect(),
                    soft: soft(&[("dysp", &likelihood)]),
                }),
                engine: engine as i32,
                sampling: Some(pb::SamplingOptions {
                    n_samples: 20_000,
                    ..Default::default()
                }),
                ..Default::default()
            };
            match client
                .query(with_timeout(request, Duration::from_secs(20)))
                .await
            {
                Ok(answer) => {
                    for posterior in answer.into_inner().posteriors {
                        let sum: f64 = posterior.probabilities.iter().sum();
                        assert!(
                            posterior.probabilities.iter().all(|p| p.is_finite())
                                && (sum - 1.0).abs() < 1e-9,
                            "{engine:?} {likelihood:?}: {posterior:?}"
                        );
                    }
                }
                Err(status) => assert!(
                    ![Code::Internal, Code::Unknown].contains(&status.code()),
                    "{engine:?} {likelihood:?}: {status:?}"
                ),
            }
        }
    }
    still_serving(&server).await;
}

#[tokio::test]
async fn huge_names_are_refused_and_echoed_bounded() {
    let server = start(4).await;
    let channel = server.channel().await;
    let long = "n".repeat(100_000);
    let mut inference = InferenceServiceClient::new(channel.clone());
    let statuses = [
        inference
            .query(pb::QueryRequest {
                network: "asia".into(),
                evidence: Some(pb::Evidence {
                    hard: [(long.clone(), "yes".to_string())].into_iter().collect(),
                    soft: HashMap::new(),
                }),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        inference
            .query(pb::QueryRequest {
                network: "asia".into(),
                targets: vec![long.clone()],
                ..Default::default()
            })
            .await
            .unwrap_err(),
        inference
            .query(pb::QueryRequest {
                network: long.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err(),
        SessionServiceClient::new(channel.clone())
            .get_session(pb::GetSessionRequest { id: long.clone() })
            .await
            .unwrap_err(),
        NetworkServiceClient::new(channel.clone())
            .upload_network(pb::UploadNetworkRequest {
                name: long.clone(),
                format: 0,
                content: "network x {}".into(),
                replace: false,
            })
            .await
            .unwrap_err(),
    ];
    for status in statuses {
        assert!(
            [Code::InvalidArgument, Code::NotFound].contains(&status.code()),
            "{:?}",
            status.code()
        );
        assert!(
            status.message().len() < 1_000 && status.message().contains("cut"),
            "{} characters: {}",
            status.message().len(),
            &status.message()[..200]
        );
        assert!(status.get_error_details().error_info().is_some());
    }
    still_serving(&server).await;
}

#[tokio::test]
async fn hard_and_soft_evidence_on_one_variable_are_combined() {
    let server = start(4).await;
    let mut client = InferenceServiceClient::new(server.channel().await);
    let evidence = |soft_values: &[f64]| pb::Evidence {
        hard: [("smoke".to_string(), "yes".to_string())]
            .into_iter()
            .collect(),
        soft: soft(&[("smoke", soft_values)]),
    };
    let answer = |soft_values: &'static [f64]| {
        let mut client = client.clone();
        async move {
            client
                .query(pb::QueryRequest {
                    network: "asia".into(),
                    evidence: Some(evidence(soft_values)),
                    targets: vec!["lung".into()],
                    ..Default::default()
                })
                .await
        }
    };
    // P(lung | smoke=yes) = 0.1 whatever the likelihood on smoke, but ln P(e) carries it.
    let both = answer(&[0.5, 1.0]).await.unwrap().into_inner();
    assert!((both.posteriors[0].probabilities[0] - 0.1).abs() < 1e-12);
    assert!((both.log_p_evidence - (0.5f64 * 0.5).ln()).abs() < 1e-12);
    // A likelihood of zero on the observed state makes the evidence impossible.
    let status = answer(&[0.0, 1.0]).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(
        status.get_error_details().error_info().unwrap().reason,
        "IMPOSSIBLE_EVIDENCE"
    );
    let _ = client.query(pb::QueryRequest::default()).await;
}

#[tokio::test]
async fn twenty_watchers_of_one_session_see_every_revision() {
    // Two query slots for twenty watchers: watchers must not need them.
    let server = start(2).await;
    let channel = server.channel().await;
    let mut sessions = SessionServiceClient::new(channel.clone());
    let session = sessions
        .create_session(pb::CreateSessionRequest {
            network: "alarm".into(),
            description: "watched".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut streams = Vec::new();
    for _ in 0..20 {
        let stream = SessionServiceClient::new(channel.clone())
            .watch(pb::WatchRequest {
                id: session.id.clone(),
                targets: vec!["HYPOVOLEMIA".into()],
            })
            .await
            .unwrap()
            .into_inner();
        streams.push(stream);
    }
    let updates = [
        ("CVP", "HIGH"),
        ("BP", "LOW"),
        ("HR", "HIGH"),
        ("CVP", "LOW"),
        ("PCWP", "HIGH"),
    ];
    for (variable, state) in updates {
        sessions
            .update_evidence(pb::UpdateEvidenceRequest {
                id: session.id.clone(),
                changes: vec![pb::EvidenceChange {
                    change: Some(pb::evidence_change::Change::SetHard(pb::HardFinding {
                        variable: variable.into(),
                        state: state.into(),
                    })),
                }],
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let mut firsts = Vec::new();
    for stream in &mut streams {
        let mut seen = Vec::new();
        while seen.len() < 6 {
            let message = tokio::time::timeout(Duration::from_secs(20), stream.next())
                .await
                .expect("a watcher waited too long")
                .expect("the stream ended early")
                .expect("a watcher was refused");
            if seen.is_empty() {
                firsts.push(
                    message.posteriors.clone().unwrap().posteriors[0]
                        .probabilities
                        .clone(),
                );
            }
            seen.push(message.revision);
        }
        assert_eq!(seen, [0, 1, 2, 3, 4, 5]);
    }
    assert!(firsts.windows(2).all(|w| w[0] == w[1]));
    still_serving(&server).await;
}

#[tokio::test]
async fn shutdown_ends_within_its_grace_while_a_computation_runs() {
    let server = start(4).await;
    let mut client = InferenceServiceClient::new(server.channel().await);
    let long = sampling_query(
        "alarm",
        pb::Engine::LikelihoodWeighting,
        pb::SamplingOptions {
            n_samples: 1_000_000_000,
            ..Default::default()
        },
    );
    let call = tokio::spawn(async move { client.query(long).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    server.shutdown().await;
    // The in-process server's grace is 2 s.
    assert!(started.elapsed() < Duration::from_secs(2) + SLACK);
    let outcome = tokio::time::timeout(SLACK, call)
        .await
        .expect("the call ended with the server")
        .unwrap();
    if let Err(status) = outcome {
        assert!(
            [Code::Unavailable, Code::Cancelled, Code::Unknown].contains(&status.code()),
            "{status:?}"
        );
    }
}
