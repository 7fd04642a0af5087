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
    for engine in [pb::Engine::LikelihoodWeighting, pb::Engine::Epis] {
        let options = pb::SamplingOptions {
            n_samples: 1_000_000_000,
            ..Default::default()
        };
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
