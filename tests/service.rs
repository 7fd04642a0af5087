//! The gRPC service end to end: a real server on 127.0.0.1 (ephemeral port) in this process,
//! driven by the generated tonic clients.

mod common;

use common::inprocess::InProcess;
use common::repo;
use credence::infer::Budget;
use credence::service::pb;
use pb::inference_service_client::InferenceServiceClient;
use pb::network_service_client::NetworkServiceClient;
use pb::session_service_client::SessionServiceClient;
use std::collections::HashMap;
use tonic::Code;

/// The bundled networks served in this process; `budget` caps the junction trees.
async fn start(budget: Option<u64>) -> InProcess {
    InProcess::start(
        &["asia", "alarm", "child", "sino_russian_partnership"],
        |config| {
            if let Some(max_bytes) = budget {
                config.budget = Budget { max_bytes };
            }
        },
    )
    .await
}

fn hard(pairs: &[(&str, &str)]) -> pb::Evidence {
    pb::Evidence {
        hard: pairs
            .iter()
            .map(|(v, s)| (v.to_string(), s.to_string()))
            .collect(),
        soft: HashMap::new(),
    }
}

fn query(network: &str, evidence: pb::Evidence, targets: &[&str]) -> pb::QueryRequest {
    pb::QueryRequest {
        network: network.into(),
        evidence: Some(evidence),
        targets: targets.iter().map(|t| t.to_string()).collect(),
        ..Default::default()
    }
}

fn probability(response: &pb::QueryResponse, variable: &str, state: &str) -> f64 {
    let posterior = response
        .posteriors
        .iter()
        .find(|p| p.variable == variable)
        .unwrap();
    let index = posterior.states.iter().position(|s| s == state).unwrap();
    posterior.probabilities[index]
}

fn set_hard(variable: &str, state: &str) -> pb::EvidenceChange {
    pb::EvidenceChange {
        change: Some(pb::evidence_change::Change::SetHard(pb::HardFinding {
            variable: variable.into(),
            state: state.into(),
        })),
    }
}

#[tokio::test]
async fn networks_list_get_upload_delete() {
    let server = start(None).await;
    let mut client = NetworkServiceClient::new(server.channel().await);
    let page = client
        .list_networks(pb::ListNetworksRequest {
            page_size: 2,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = page.networks.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["alarm", "asia"]);
    let rest = client
        .list_networks(pb::ListNetworksRequest {
            page_size: 2,
            page_token: page.next_page_token,
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = rest.networks.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["child", "sino_russian_partnership"]);
    assert!(rest.next_page_token.is_empty());

    let asia = client
        .get_network(pb::GetNetworkRequest {
            name: "asia".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(asia.variables.len(), 8);
    let either = asia.variables.iter().find(|v| v.name == "either").unwrap();
    assert_eq!(either.parents, ["lung", "tub"]);
    let summary = asia.summary.unwrap();
    assert_eq!(summary.content_hash.len(), 64);
    assert!(summary.cost.unwrap().fits_budget);

    let missing = client
        .get_network(pb::GetNetworkRequest {
            name: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing.message().contains("available: alarm, asia"),
        "{}",
        missing.message()
    );

    let text = std::fs::read_to_string(repo().join("networks/asia.bif")).unwrap();
    let upload = |name: &str, content: &str, replace: bool| pb::UploadNetworkRequest {
        name: name.into(),
        format: pb::NetworkFormat::Bif as i32,
        content: content.into(),
        replace,
    };
    client
        .upload_network(upload("asia2", &text, false))
        .await
        .unwrap();
    let uploads = || -> Vec<String> {
        std::fs::read_dir(server.dir.join("data/networks"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let stored = uploads();
    assert_eq!(
        stored.len(),
        1,
        "an upload is stored for restarts: {stored:?}"
    );
    assert!(
        stored[0].starts_with("upload-") && stored[0].ends_with(".bif"),
        "under a name the server chose: {stored:?}"
    );
    assert!(!server.dir.join("networks/asia2.bif").exists());
    let again = client
        .upload_network(upload("asia2", &text, false))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    client
        .upload_network(upload("asia2", &text, true))
        .await
        .unwrap();
    let broken = client
        .upload_network(upload(
            "broken",
            "variable A { type discrete [ 2 ] { a, b }; }\nprobability ( A ) { table 0.5 0.5 }",
            false,
        ))
        .await
        .unwrap_err();
    assert_eq!(broken.code(), Code::InvalidArgument);
    assert_eq!(
        broken.message(),
        "broken.bif:2:35: expected a number or ';' in the table of 'A', found '}'"
    );
    let traversal = client
        .upload_network(upload("../evil", &text, false))
        .await
        .unwrap_err();
    assert_eq!(traversal.code(), Code::InvalidArgument);

    client
        .delete_network(pb::DeleteNetworkRequest {
            name: "asia2".into(),
        })
        .await
        .unwrap();
    assert!(uploads().is_empty(), "{:?}", uploads());
    let gone = client
        .delete_network(pb::DeleteNetworkRequest {
            name: "asia2".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    server.shutdown().await;
}

#[tokio::test]
async fn over_budget_networks_are_refused_with_the_estimate() {
    let server = start(Some(4096)).await;
    let mut inference = InferenceServiceClient::new(server.channel().await);
    let mut exact = query("alarm", hard(&[]), &[]);
    exact.engine = pb::Engine::JunctionTree as i32;
    let error = inference.query(exact).await.unwrap_err();
    assert_eq!(error.code(), Code::ResourceExhausted);
    // The estimate, complete or (the triangulation stopped at the budget) a lower bound.
    assert!(
        error.message().contains("clique entries in total"),
        "{}",
        error.message()
    );
    // The server's choice falls back to sampling, and says so.
    let mut sampled = query("alarm", hard(&[("HRBP", "HIGH")]), &["LVFAILURE"]);
    sampled.sampling = Some(pb::SamplingOptions {
        n_samples: 20_000,
        seed: 7,
        ..Default::default()
    });
    let answer = inference.query(sampled.clone()).await.unwrap().into_inner();
    assert!(
        answer.engine_reason.contains("over the memory budget"),
        "{}",
        answer.engine_reason
    );
    assert_eq!(answer.uncertainty.len(), 1);
    assert_eq!(answer.sampling.as_ref().unwrap().n_samples, 20_000);
    assert_eq!(answer.stamp.as_ref().unwrap().seed, 7);
    let again = inference.query(sampled).await.unwrap().into_inner();
    assert_eq!(answer, again, "the same seed gives the same answer");
    // Variable elimination needs no tree and still answers.
    let mut request = query("alarm", hard(&[]), &["HYPOVOLEMIA"]);
    request.engine = pb::Engine::VariableElimination as i32;
    inference.query(request).await.unwrap();
    let mut networks = NetworkServiceClient::new(server.channel().await);
    let text = std::fs::read_to_string(repo().join("networks/alarm.bif")).unwrap();
    let refused = networks
        .upload_network(pb::UploadNetworkRequest {
            name: "big".into(),
            format: 0,
            content: text,
            replace: false,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    server.shutdown().await;
}

#[tokio::test]
async fn queries_answer_and_fail_with_specific_codes() {
    let server = start(None).await;
    let mut client = InferenceServiceClient::new(server.channel().await);
    let answer = client
        .query(query("asia", hard(&[("smoke", "yes")]), &["lung"]))
        .await
        .unwrap()
        .into_inner();
    assert!((probability(&answer, "lung", "yes") - 0.1).abs() < 1e-12);
    assert!((answer.log_p_evidence - 0.5f64.ln()).abs() < 1e-12);
    assert!(
        answer.engine_reason.contains("within the memory budget"),
        "{}",
        answer.engine_reason
    );
    assert!(
        answer.uncertainty.is_empty() && answer.sampling.is_none(),
        "exact answers carry no error bars"
    );
    let stamp = answer.stamp.unwrap();
    assert_eq!(stamp.engine, pb::Engine::JunctionTree as i32);
    assert_eq!(stamp.network_hash.len(), 64);

    // A sampler lands near the exact value and reports its error bars.
    let mut lw = query("asia", hard(&[("smoke", "yes")]), &["lung"]);
    lw.engine = pb::Engine::LikelihoodWeighting as i32;
    lw.sampling = Some(pb::SamplingOptions {
        n_samples: 50_000,
        seed: 1,
        ..Default::default()
    });
    let sampled = client.query(lw).await.unwrap().into_inner();
    let stderr = sampled.uncertainty[0].stderr[0];
    assert!(stderr > 0.0);
    assert!((probability(&sampled, "lung", "yes") - 0.1).abs() < 5.0 * stderr);

    let mut soft = hard(&[]);
    soft.soft.insert(
        "xray".into(),
        pb::Likelihood {
            values: vec![0.9, 0.2],
        },
    );
    let mut ve = query("asia", soft.clone(), &[]);
    ve.engine = pb::Engine::VariableElimination as i32;
    let by_ve = client.query(ve).await.unwrap().into_inner();
    let by_jt = client
        .query(query("asia", soft, &[]))
        .await
        .unwrap()
        .into_inner();
    for (a, b) in by_ve.posteriors.iter().zip(&by_jt.posteriors) {
        for (x, y) in a.probabilities.iter().zip(&b.probabilities) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    let cases = [
        (
            query("nope", hard(&[]), &[]),
            Code::NotFound,
            "no network named 'nope'",
        ),
        (
            query("asia", hard(&[("smok", "yes")]), &[]),
            Code::InvalidArgument,
            "unknown variable 'smok' (did you mean 'smoke'?",
        ),
        (
            query("asia", hard(&[("smoke", "maybe")]), &[]),
            Code::InvalidArgument,
            "variable 'smoke' has no state 'maybe' (valid: yes, no)",
        ),
        (
            query("asia", hard(&[("tub", "yes"), ("either", "no")]), &[]),
            Code::FailedPrecondition,
            "evidence is impossible: P(e)=0",
        ),
        (
            query("asia", hard(&[]), &["lnug"]),
            Code::InvalidArgument,
            "unknown variable 'lnug'",
        ),
    ];
    for (request, code, message) in cases {
        let error = client.query(request).await.unwrap_err();
        assert_eq!(error.code(), code, "{}", error.message());
        assert!(error.message().starts_with(message), "{}", error.message());
    }
    server.shutdown().await;
}

#[tokio::test]
async fn batch_results_come_back_in_order_with_per_case_errors() {
    let server = start(None).await;
    let mut client = InferenceServiceClient::new(server.channel().await);
    let mut requests = Vec::new();
    for i in 0..40 {
        let mut request = if i % 10 == 7 {
            query("asia", hard(&[("smoke", "perhaps")]), &["lung"])
        } else {
            let state = if i % 2 == 0 { "yes" } else { "no" };
            query("asia", hard(&[("smoke", state)]), &["lung"])
        };
        request.case_id = format!("case-{i}");
        requests.push(request);
    }
    let responses: Vec<pb::BatchQueryResponse> = {
        use tokio_stream::StreamExt;
        let stream = client
            .batch_query(tokio_stream::iter(requests))
            .await
            .unwrap()
            .into_inner();
        stream.map(|r| r.unwrap()).collect().await
    };
    assert_eq!(responses.len(), 40);
    for (i, response) in responses.iter().enumerate() {
        assert_eq!(response.index, i as i64);
        assert_eq!(response.case_id, format!("case-{i}"));
        match response.outcome.as_ref().unwrap() {
            pb::batch_query_response::Outcome::Result(result) => {
                assert_ne!(i % 10, 7);
                let expected = if i % 2 == 0 { 0.1 } else { 0.01 };
                assert!((probability(result, "lung", "yes") - expected).abs() < 1e-12);
            }
            pb::batch_query_response::Outcome::Error(error) => {
                assert_eq!(i % 10, 7);
                assert_eq!(error.code, Code::InvalidArgument as i32);
                assert!(error.message.contains("no state 'perhaps'"));
            }
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn sessions_keep_revisions_and_stay_isolated() {
    let server = start(None).await;
    let mut client = SessionServiceClient::new(server.channel().await);
    let create = |description: &str| pb::CreateSessionRequest {
        network: "sino_russian_partnership".into(),
        description: description.into(),
    };
    let first = client
        .create_session(create("analyst A"))
        .await
        .unwrap()
        .into_inner();
    let second = client
        .create_session(create("analyst B"))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(first.id, second.id);
    assert_eq!(first.revision, 0);

    let update = |id: &str, changes: Vec<pb::EvidenceChange>, expected: Option<i64>| {
        pb::UpdateEvidenceRequest {
            id: id.into(),
            changes,
            source: "test".into(),
            note: String::new(),
            expected_revision: expected.unwrap_or(0),
            check_revision: expected.is_some(),
        }
    };
    let r1 = client
        .update_evidence(update(
            &first.id,
            vec![set_hard("western_sanctions", "tightening")],
            Some(0),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r1.revision.unwrap().number, 1);
    client
        .update_evidence(update(
            &first.id,
            vec![set_hard("russian_economy", "degrading")],
            None,
        ))
        .await
        .unwrap();
    let conflict = client
        .update_evidence(update(
            &first.id,
            vec![set_hard("oil_price", "low")],
            Some(1),
        ))
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), Code::Aborted);
    let retract = pb::EvidenceChange {
        change: Some(pb::evidence_change::Change::Retract(
            "russian_economy".into(),
        )),
    };
    client
        .update_evidence(update(&first.id, vec![retract], Some(2)))
        .await
        .unwrap();

    let bad = client
        .update_evidence(update(&first.id, vec![set_hard("scenario", "peace")], None))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);

    let history = client
        .get_history(pb::GetHistoryRequest {
            id: first.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        history.revisions.len(),
        3,
        "a refused update leaves no revision"
    );
    assert_eq!(
        history.revisions[2].evidence.as_ref().unwrap().hard.len(),
        1
    );

    let at = |revision: Option<i64>, id: &str| pb::GetPosteriorsRequest {
        id: id.into(),
        targets: vec!["russian_dependence_on_china".into()],
        revision: revision.unwrap_or(0),
        at_revision: revision.is_some(),
        engine: 0,
        sampling: None,
    };
    let prior = client
        .get_posteriors(at(Some(0), &first.id))
        .await
        .unwrap()
        .into_inner();
    let tightened = client
        .get_posteriors(at(Some(1), &first.id))
        .await
        .unwrap()
        .into_inner();
    let now = client
        .get_posteriors(at(None, &first.id))
        .await
        .unwrap()
        .into_inner();
    // Tightening moves mass from moderate dependence to high and critical.
    let high = |r: &pb::QueryResponse| probability(r, "russian_dependence_on_china", "moderate");
    assert!(high(&tightened) < high(&prior));
    assert!(
        (high(&now) - high(&tightened)).abs() < 1e-12,
        "revision 3 retracted revision 2's change"
    );
    let out_of_range = client
        .get_posteriors(at(Some(9), &first.id))
        .await
        .unwrap_err();
    assert_eq!(out_of_range.code(), Code::OutOfRange);

    // The other analyst's session saw none of it.
    let other = client
        .get_posteriors(at(None, &second.id))
        .await
        .unwrap()
        .into_inner();
    assert!((high(&other) - high(&prior)).abs() < 1e-12);
    let other_session = client
        .get_session(pb::GetSessionRequest {
            id: second.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(other_session.revision, 0);

    let listed = client
        .list_sessions(pb::ListSessionsRequest {
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.sessions.len(), 1);
    assert!(!listed.next_page_token.is_empty());

    client
        .delete_session(pb::DeleteSessionRequest {
            id: second.id.clone(),
        })
        .await
        .unwrap();
    let gone = client
        .get_session(pb::GetSessionRequest { id: second.id })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    server.shutdown().await;
}

#[tokio::test]
async fn watch_sends_every_revision_in_order() {
    use tokio_stream::StreamExt;
    let server = start(None).await;
    let mut client = SessionServiceClient::new(server.channel().await);
    let session = client
        .create_session(pb::CreateSessionRequest {
            network: "asia".into(),
            description: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut stream = client
        .watch(pb::WatchRequest {
            id: session.id.clone(),
            targets: vec!["lung".into()],
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.revision, 0);
    let changes = [("smoke", "yes"), ("xray", "yes"), ("dysp", "no")];
    for (variable, state) in changes {
        client
            .update_evidence(pb::UpdateEvidenceRequest {
                id: session.id.clone(),
                changes: vec![set_hard(variable, state)],
                ..Default::default()
            })
            .await
            .unwrap();
    }
    for (expected, (variable, _)) in (1..=3).zip(changes) {
        let update = stream.next().await.unwrap().unwrap();
        assert_eq!(update.revision, expected);
        match update.changes[0].change.as_ref().unwrap() {
            pb::evidence_change::Change::SetHard(h) => assert_eq!(h.variable, variable),
            other => panic!("{other:?}"),
        }
        assert_eq!(update.posteriors.unwrap().posteriors[0].variable, "lung");
    }
    let bad_target = client
        .watch(pb::WatchRequest {
            id: session.id.clone(),
            targets: vec!["lungs".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(bad_target.code(), Code::InvalidArgument);
    client
        .delete_session(pb::DeleteSessionRequest {
            id: session.id.clone(),
        })
        .await
        .unwrap();
    let end = stream.next().await;
    assert!(
        matches!(end, Some(Err(ref status)) if status.code() == Code::NotFound) || end.is_none(),
        "{end:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn health_and_reflection() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;
    let server = start(None).await;
    let mut health = HealthClient::new(server.channel().await);
    for service in [
        "",
        "credence.v1.InferenceService",
        "credence.v1.SessionService",
        "credence.v1.NetworkService",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(status.status, 1, "{service} SERVING");
    }
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest, server_reflection_request::MessageRequest,
    };
    let mut reflection = ServerReflectionClient::new(server.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    use tokio_stream::StreamExt;
    let mut responses = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let listed = format!("{:?}", responses.next().await.unwrap().unwrap());
    for service in [
        "credence.v1.InferenceService",
        "credence.v1.SessionService",
        "grpc.health.v1.Health",
    ] {
        assert!(listed.contains(service), "{listed}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_reports_not_serving_and_finishes_calls_in_flight() {
    use tokio_stream::StreamExt;
    let server = start(None).await;
    let channel = server.channel().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let mut watch = health
        .watch(tonic_health::pb::HealthCheckRequest {
            service: "credence.v1.InferenceService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(watch.next().await.unwrap().unwrap().status, 1);
    // A batch in flight when shutdown begins still gets all its answers.
    let mut client = InferenceServiceClient::new(channel);
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    let mut results = client
        .batch_query(tokio_stream::wrappers::ReceiverStream::new(receiver))
        .await
        .unwrap()
        .into_inner();
    sender.send(query("alarm", hard(&[]), &[])).await.unwrap();
    assert!(results.next().await.unwrap().is_ok());
    let stop = tokio::spawn(server.shutdown());
    assert_eq!(
        watch.next().await.unwrap().unwrap().status,
        2,
        "NOT_SERVING during shutdown"
    );
    sender.send(query("alarm", hard(&[]), &[])).await.unwrap();
    drop(sender);
    let rest: Vec<_> = results.collect().await;
    assert_eq!(rest.len(), 1);
    assert!(rest[0].is_ok());
    // The health watch is still open: shutdown must end anyway, after the grace period.
    let started = std::time::Instant::now();
    stop.await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    drop(watch);
}

#[tokio::test]
async fn analyst_questions_stateless_and_in_sessions() {
    use pb::analysis_service_client::AnalysisServiceClient;
    use pb::evidence_context::Source;
    let server = start(None).await;
    let mut analysis = AnalysisServiceClient::new(server.channel().await);
    let stateless = |pairs: &[(&str, &str)]| {
        Some(pb::EvidenceContext {
            source: Some(Source::Stateless(pb::StatelessEvidence {
                network: "asia".into(),
                evidence: Some(hard(pairs)),
            })),
        })
    };

    // do(lung=yes) leaves smoking at its prior; observing lung=yes makes it likely.
    let answer = analysis
        .intervene(pb::InterveneRequest {
            context: stateless(&[]),
            interventions: vec![pb::Assignment {
                variable: "lung".into(),
                state: "yes".into(),
            }],
            targets: vec!["smoke".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert!((answer.interventional[0].probabilities[0] - 0.5).abs() < 1e-12);
    assert!((answer.observational[0].probabilities[0] - 0.05 / 0.055).abs() < 1e-12);

    // The library's own answers, to compare with.
    let network =
        std::sync::Arc::new(credence::io::read_network(repo().join("networks/asia.bif")).unwrap());
    let mut evidence = credence::Evidence::new();
    evidence.observe_named(&network, "xray", "yes").unwrap();
    evidence.observe_named(&network, "dysp", "yes").unwrap();
    let mpe = credence::analysis::most_probable_explanation(&network, &evidence).unwrap();
    let remote = analysis
        .most_probable_explanation(pb::MpeRequest {
            context: stateless(&[("xray", "yes"), ("dysp", "yes")]),
            variables: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(remote.assignment.len(), mpe.assignment.len());
    assert!((remote.log_probability - mpe.ln_probability).abs() < 1e-12);

    let joint = analysis
        .joint_posterior(pb::JointPosteriorRequest {
            context: stateless(&[("xray", "yes")]),
            variables: vec!["lung".into(), "tub".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(joint.entries.len(), 4);
    let total: f64 = joint.entries.iter().map(|e| e.probability).sum();
    assert!((total - 1.0).abs() < 1e-12);

    let voi = analysis
        .value_of_information(pb::ValueOfInformationRequest {
            context: stateless(&[("dysp", "yes")]),
            target: "lung".into(),
            candidates: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        voi.ranking
            .windows(2)
            .all(|w| w[0].mutual_information >= w[1].mutual_information)
    );
    assert!(
        voi.ranking.iter().all(|i| i.variable != "dysp"),
        "observed variables are not candidates"
    );

    let observed_target = analysis
        .explain(pb::ExplainRequest {
            context: stateless(&[("lung", "yes")]),
            target: "lung".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(observed_target.code(), Code::FailedPrecondition);

    let sensitivity = analysis
        .sensitivity(pb::SensitivityRequest {
            context: stateless(&[("xray", "yes")]),
            target: "lung".into(),
            state: "yes".into(),
            top: 3,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sensitivity.parameters.len(), 3);
    assert!(
        sensitivity
            .parameters
            .windows(2)
            .all(|w| w[0].derivative.abs() >= w[1].derivative.abs())
    );

    // Within a session: the same question at two revisions.
    let mut sessions = SessionServiceClient::new(server.channel().await);
    let session = sessions
        .create_session(pb::CreateSessionRequest {
            network: "asia".into(),
            description: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    for (variable, state) in [("xray", "yes"), ("smoke", "yes")] {
        sessions
            .update_evidence(pb::UpdateEvidenceRequest {
                id: session.id.clone(),
                changes: vec![set_hard(variable, state)],
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let at = |revision: Option<i64>| {
        Some(pb::EvidenceContext {
            source: Some(Source::Session(pb::SessionEvidence {
                id: session.id.clone(),
                revision: revision.unwrap_or(0),
                at_revision: revision.is_some(),
            })),
        })
    };
    let now = analysis
        .explain(pb::ExplainRequest {
            context: at(None),
            target: "lung".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(now.items.len(), 2);
    let earlier = analysis
        .explain(pb::ExplainRequest {
            context: at(Some(1)),
            target: "lung".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(earlier.items.len(), 1);
    assert_eq!(earlier.items[0].variable, "xray");
    let missing = analysis
        .explain(pb::ExplainRequest {
            context: None,
            target: "lung".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    server.shutdown().await;
}
