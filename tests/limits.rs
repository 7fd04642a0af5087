//! Resource limits: oversized requests, networks and evidence each get one clear error, and
//! the server goes on serving everyone else.

mod common;

use common::inprocess::InProcess;
use credence::infer::Budget;
use credence::service::pb;
use pb::inference_service_client::InferenceServiceClient;
use pb::network_service_client::NetworkServiceClient;
use pb::session_service_client::SessionServiceClient;
use tonic::Code;

fn upload(name: &str, content: String) -> pb::UploadNetworkRequest {
    pb::UploadNetworkRequest {
        name: name.into(),
        format: 0,
        content,
        replace: false,
    }
}

/// An n × n grid of binary variables, each with its upper and left neighbours as parents:
/// tiny tables, but a junction tree with cliques of about n variables.
fn grid(n: usize) -> String {
    let mut text = String::from("network grid {}\n");
    for r in 0..n {
        for c in 0..n {
            text.push_str(&format!(
                "variable g{r}_{c} {{ type discrete [ 2 ] {{ a, b }}; }}\n"
            ));
        }
    }
    for r in 0..n {
        for c in 0..n {
            let mut parents = Vec::new();
            if r > 0 {
                parents.push(format!("g{}_{c}", r - 1));
            }
            if c > 0 {
                parents.push(format!("g{r}_{}", c - 1));
            }
            let configurations = 1 << parents.len();
            let table = vec!["0.3, 0.7"; configurations].join(", ");
            // `table` lists the child slowest: all 0.3s, then all 0.7s.
            let table = if parents.is_empty() {
                table
            } else {
                let mut values = vec!["0.3"; configurations];
                values.extend(vec!["0.7"; configurations]);
                values.join(", ")
            };
            let given = if parents.is_empty() {
                String::new()
            } else {
                format!(" | {}", parents.join(", "))
            };
            text.push_str(&format!(
                "probability ( g{r}_{c}{given} ) {{ table {table}; }}\n"
            ));
        }
    }
    text
}

async fn still_serving(server: &InProcess) {
    let answer = InferenceServiceClient::new(server.channel().await)
        .query(pb::QueryRequest {
            network: "asia".into(),
            targets: vec!["lung".into()],
            ..Default::default()
        })
        .await
        .expect("the server still answers")
        .into_inner();
    assert!((answer.posteriors[0].probabilities[0] - 0.055).abs() < 1e-12);
}

#[tokio::test]
async fn oversized_inputs_get_clear_errors_and_the_server_goes_on() {
    let server = InProcess::start(&["asia"], |config| {
        config.budget = Budget {
            max_bytes: 64 << 20,
        };
        config.max_sessions = 3;
    })
    .await;
    let channel = server.channel().await;
    let mut inference = InferenceServiceClient::new(channel.clone());
    let mut networks = NetworkServiceClient::new(channel.clone());
    let mut sessions = SessionServiceClient::new(channel.clone());

    // 10^6 evidence items in one query.
    let mut evidence = pb::Evidence::default();
    for i in 0..1_000_000 {
        evidence.hard.insert(format!("v{i}"), "yes".into());
    }
    let refused = inference
        .query(pb::QueryRequest {
            network: "asia".into(),
            evidence: Some(evidence),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        refused.message(),
        "evidence: the evidence has 1000000 items; at most 10000 are accepted"
    );
    still_serving(&server).await;

    // 10^6 targets.
    let refused = inference
        .query(pb::QueryRequest {
            network: "asia".into(),
            targets: vec!["lung".into(); 1_000_000],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("at most 10000"));

    // 10^6 changes in one session update.
    let id = sessions
        .create_session(pb::CreateSessionRequest {
            network: "asia".into(),
            description: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    let change = pb::EvidenceChange {
        change: Some(pb::evidence_change::Change::SetHard(pb::HardFinding {
            variable: "smoke".into(),
            state: "yes".into(),
        })),
    };
    let refused = sessions
        .update_evidence(pb::UpdateEvidenceRequest {
            id: id.clone(),
            changes: vec![change; 1_000_000],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        refused.message(),
        "an update carries 1000000 changes; at most 10000 are accepted"
    );
    let session = sessions
        .get_session(pb::GetSessionRequest { id: id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(session.revision, 0, "a refused update changes nothing");

    // A CPT of 10^9 entries, declared in a few hundred bytes.
    let corpus = common::repo().join("tests/data/fuzz");
    let declared = std::fs::read_to_string(corpus.join("reject-table-1e9-entries.bif")).unwrap();
    let refused = networks
        .upload_network(upload("huge", declared))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused
            .message()
            .ends_with("probability table of 'v9' would have 1.073741824e9 entries, over the limit of 268435456"),
        "{}",
        refused.message()
    );

    // Deeply nested XML.
    let nested = std::fs::read_to_string(corpus.join("reject-deeply-nested.xml")).unwrap();
    let refused = networks
        .upload_network(upload("nested", nested))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(!refused.message().contains('\n'));

    // A network whose junction tree is over the budget.
    let refused = networks
        .upload_network(upload("grid", grid(20)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(
        refused.message().contains("over the memory budget")
            || refused.message().contains("budget"),
        "{}",
        refused.message()
    );
    still_serving(&server).await;

    // The session limit.
    for _ in 0..2 {
        sessions
            .create_session(pb::CreateSessionRequest {
                network: "asia".into(),
                description: String::new(),
            })
            .await
            .unwrap();
    }
    let refused = sessions
        .create_session(pb::CreateSessionRequest {
            network: "asia".into(),
            description: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert_eq!(
        refused.message(),
        "the server holds its limit of 3 sessions; delete finished ones first"
    );
    sessions
        .delete_session(pb::DeleteSessionRequest { id })
        .await
        .unwrap();
    sessions
        .create_session(pb::CreateSessionRequest {
            network: "asia".into(),
            description: String::new(),
        })
        .await
        .expect("room again after a deletion");
    still_serving(&server).await;
    server.shutdown().await;
}

#[tokio::test]
async fn requests_over_the_size_limit_are_refused_before_decoding() {
    let server = InProcess::start(&["asia"], |config| {
        config.max_message_bytes = 1 << 20;
    })
    .await;
    let mut networks = NetworkServiceClient::new(server.channel().await);
    let refused = networks
        .upload_network(upload("big", "x".repeat(2 << 20)))
        .await
        .unwrap_err();
    assert!(
        matches!(refused.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{refused:?}"
    );
    assert!(
        refused.message().contains("too large"),
        "{}",
        refused.message()
    );
    still_serving(&server).await;
    server.shutdown().await;
}

/// Every free-text field is bounded, with the field, its size and the limit in the message;
/// history comes back a page at a time.
#[tokio::test]
async fn free_text_is_bounded_and_history_is_paged() {
    let server = InProcess::start(&["asia"], |_| {}).await;
    let channel = server.channel().await;
    let mut sessions = SessionServiceClient::new(channel.clone());
    let long = "x".repeat(30 << 20);
    let refused = sessions
        .create_session(pb::CreateSessionRequest {
            network: "asia".into(),
            description: "d".repeat(4097),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        refused.message(),
        "description is 4097 bytes, over the limit of 4096"
    );
    let session = sessions
        .create_session(pb::CreateSessionRequest {
            network: "asia".into(),
            description: "d".repeat(4096),
        })
        .await
        .unwrap()
        .into_inner();
    let update = |source: &str, note: &str, state: &str| pb::UpdateEvidenceRequest {
        id: session.id.clone(),
        changes: vec![pb::EvidenceChange {
            change: Some(pb::evidence_change::Change::SetHard(pb::HardFinding {
                variable: "smoke".into(),
                state: state.into(),
            })),
        }],
        source: source.into(),
        note: note.into(),
        ..Default::default()
    };
    let refused = sessions
        .update_evidence(update("", &long, "yes"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        refused.message(),
        "note is 31457280 bytes, over the limit of 4096"
    );
    let refused = sessions
        .update_evidence(update(&"s".repeat(1025), "", "yes"))
        .await
        .unwrap_err();
    assert_eq!(
        refused.message(),
        "source is 1025 bytes, over the limit of 1024"
    );
    let refused = InferenceServiceClient::new(channel.clone())
        .query(pb::QueryRequest {
            network: "asia".into(),
            case_id: "c".repeat(257),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        refused.message(),
        "case_id is 257 bytes, over the limit of 256"
    );
    for i in 0..7 {
        sessions
            .update_evidence(update("src", "note", if i % 2 == 0 { "yes" } else { "no" }))
            .await
            .unwrap();
    }
    let mut numbers = Vec::new();
    let mut page_token = String::new();
    let mut pages = 0;
    loop {
        let page = sessions
            .get_history(pb::GetHistoryRequest {
                id: session.id.clone(),
                page_size: 3,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.revisions.len() <= 3);
        numbers.extend(page.revisions.iter().map(|r| r.number));
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!((numbers, pages), ((1..=7).collect::<Vec<_>>(), 3));
    let refused = sessions
        .get_history(pb::GetHistoryRequest {
            id: session.id.clone(),
            page_size: 3,
            page_token: "abc".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    still_serving(&server).await;
    server.shutdown().await;
}

/// Eight creators racing for the last places never pass the limit together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sessions_limit_holds_under_concurrent_creators() {
    const LIMIT: usize = 20;
    let server = InProcess::start(&["asia"], |config| config.max_sessions = LIMIT).await;
    let channel = server.channel().await;
    let mut creators = Vec::new();
    for _ in 0..8 {
        let channel = channel.clone();
        creators.push(tokio::spawn(async move {
            let mut client = SessionServiceClient::new(channel);
            let mut created = 0usize;
            let mut refused = 0usize;
            for _ in 0..10 {
                match client
                    .create_session(pb::CreateSessionRequest {
                        network: "asia".into(),
                        description: String::new(),
                    })
                    .await
                {
                    Ok(_) => created += 1,
                    Err(status) => {
                        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                        refused += 1;
                    }
                }
            }
            (created, refused)
        }));
    }
    let mut created = 0;
    let mut refused = 0;
    for creator in creators {
        let (c, r) = creator.await.unwrap();
        created += c;
        refused += r;
    }
    assert_eq!((created, refused), (LIMIT, 80 - LIMIT));
    let listed = SessionServiceClient::new(channel)
        .list_sessions(pb::ListSessionsRequest {
            page_size: 500,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .sessions
        .len();
    assert_eq!(listed, LIMIT);
    server.shutdown().await;
}
