//! Tenants: with a tokens file of names and scopes, each caller sees only its own sessions
//! (and those shared with it), scopes are enforced with PERMISSION_DENIED, operator networks are
//! read-only over the API, and SIGHUP reloads the tokens without a restart.

mod common;

use common::inprocess::InProcess;
use common::server::{ServerProcess, networks_dir, temporary_dir};
use credence::service::{Tokens, pb};
use pb::analysis_service_client::AnalysisServiceClient;
use pb::inference_service_client::InferenceServiceClient;
use pb::network_service_client::NetworkServiceClient;
use pb::session_service_client::SessionServiceClient;
use std::sync::Arc;
use tonic::transport::Channel;
use tonic::{Code, Request};

const ALICE: &str = "a11ce000000000000000000000000001";
const BOB: &str = "b0b00000000000000000000000000002";
const READER: &str = "4ead0000000000000000000000000003";
const OPS: &str = "0b500000000000000000000000000004";
const ROOT: &str = "4007000000000000000000000000005";

fn tokens_file() -> String {
    format!(
        "# token  name  scopes\n{ALICE} alice read,write\n{BOB} bob read,write,networks\n{READER} reader read\n{OPS} ops read,networks\n{ROOT} root admin\n"
    )
}

/// `message` sent with `token`.
fn as_<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

async fn server() -> InProcess {
    InProcess::start(&["asia", "child"], |config| {
        config.tokens = Some(Arc::new(
            Tokens::parse_file(&tokens_file(), "tokens").unwrap(),
        ));
    })
    .await
}

async fn create(channel: &Channel, token: &str) -> pb::Session {
    SessionServiceClient::new(channel.clone())
        .create_session(as_(
            token,
            pb::CreateSessionRequest {
                network: "asia".into(),
                description: format!("by {}", &token[..4]),
            },
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn visible_ids(channel: &Channel, token: &str) -> Vec<String> {
    SessionServiceClient::new(channel.clone())
        .list_sessions(as_(token, pb::ListSessionsRequest::default()))
        .await
        .unwrap()
        .into_inner()
        .sessions
        .into_iter()
        .map(|s| s.id)
        .collect()
}

fn observe(id: &str) -> pb::UpdateEvidenceRequest {
    pb::UpdateEvidenceRequest {
        id: id.into(),
        changes: vec![pb::EvidenceChange {
            change: Some(pb::evidence_change::Change::SetHard(pb::HardFinding {
                variable: "smoke".into(),
                state: "yes".into(),
            })),
        }],
        ..Default::default()
    }
}

fn session_context(id: &str) -> Option<pb::EvidenceContext> {
    Some(pb::EvidenceContext {
        source: Some(pb::evidence_context::Source::Session(pb::SessionEvidence {
            id: id.into(),
            ..Default::default()
        })),
    })
}

/// Every way another caller could reach alice's session, each answered NOT_FOUND (not even its
/// existence is told), or PERMISSION_DENIED for the changes when the caller may not write at
/// all.
async fn unreachable_for(channel: &Channel, token: &str, id: &str, may_write: bool) {
    let mut sessions = SessionServiceClient::new(channel.clone());
    let id_request = || pb::GetSessionRequest { id: id.into() };
    let codes = [
        sessions
            .get_session(as_(token, id_request()))
            .await
            .map(|_| ()),
        sessions
            .get_history(as_(
                token,
                pb::GetHistoryRequest {
                    id: id.into(),
                    ..Default::default()
                },
            ))
            .await
            .map(|_| ()),
        sessions
            .get_posteriors(as_(
                token,
                pb::GetPosteriorsRequest {
                    id: id.into(),
                    ..Default::default()
                },
            ))
            .await
            .map(|_| ()),
        sessions
            .update_evidence(as_(token, observe(id)))
            .await
            .map(|_| ()),
        sessions
            .delete_session(as_(token, pb::DeleteSessionRequest { id: id.into() }))
            .await
            .map(|_| ()),
        sessions
            .watch(as_(
                token,
                pb::WatchRequest {
                    id: id.into(),
                    targets: vec![],
                },
            ))
            .await
            .map(|_| ()),
        AnalysisServiceClient::new(channel.clone())
            .explain(as_(
                token,
                pb::ExplainRequest {
                    context: session_context(id),
                    target: "lung".into(),
                },
            ))
            .await
            .map(|_| ()),
    ];
    for (i, result) in codes.into_iter().enumerate() {
        let status = result.expect_err("another tenant's session is out of reach");
        if !may_write && (i == 3 || i == 4) {
            assert_eq!(
                status.code(),
                Code::PermissionDenied,
                "call {i}: {status:?}"
            );
            assert!(status.message().contains("'write' scope"), "{status:?}");
            continue;
        }
        assert_eq!(status.code(), Code::NotFound, "call {i}: {status:?}");
        assert_eq!(status.message(), format!("no session with id '{id}'"));
    }
}

#[tokio::test]
async fn sessions_are_kept_apart_unless_shared() {
    let server = server().await;
    let channel = server.channel().await;
    let mut sessions = SessionServiceClient::new(channel.clone());
    let alices = create(&channel, ALICE).await;
    assert_eq!(alices.owner, "alice");
    assert!(!alices.network_hash.is_empty());
    let bobs = create(&channel, BOB).await;
    assert_eq!(visible_ids(&channel, ALICE).await, [alices.id.as_str()]);
    assert_eq!(visible_ids(&channel, BOB).await, [bobs.id.as_str()]);
    assert!(visible_ids(&channel, READER).await.is_empty());
    let mut all = visible_ids(&channel, ROOT).await;
    all.sort();
    let mut expected = vec![alices.id.clone(), bobs.id.clone()];
    expected.sort();
    assert_eq!(all, expected, "an admin sees every session");
    unreachable_for(&channel, BOB, &alices.id, true).await;
    unreachable_for(&channel, READER, &alices.id, false).await;
    sessions
        .update_evidence(as_(ALICE, observe(&alices.id)))
        .await
        .expect("the owner updates her session");

    // Shared with bob: he reads it, but may not change it.
    let shared = sessions
        .share_session(as_(
            ALICE,
            pb::ShareSessionRequest {
                id: alices.id.clone(),
                readers: vec!["bob".into()],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shared.readers, ["bob"]);
    let read = sessions
        .get_session(as_(
            BOB,
            pb::GetSessionRequest {
                id: alices.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.revision, 1);
    let history = sessions
        .get_history(as_(
            BOB,
            pb::GetHistoryRequest {
                id: alices.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.revisions.len(), 1);
    let mut listed = visible_ids(&channel, BOB).await;
    listed.sort();
    assert_eq!(listed, expected);
    AnalysisServiceClient::new(channel.clone())
        .explain(as_(
            BOB,
            pb::ExplainRequest {
                context: session_context(&alices.id),
                target: "lung".into(),
            },
        ))
        .await
        .expect("a reader runs analyses on a shared session");
    let denied = sessions
        .update_evidence(as_(BOB, observe(&alices.id)))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(
        denied.message().contains("belongs to 'alice'") && denied.message().contains("read only"),
        "{}",
        denied.message()
    );
    let denied = sessions
        .share_session(as_(
            BOB,
            pb::ShareSessionRequest {
                id: alices.id.clone(),
                readers: vec!["reader".into()],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        denied.code(),
        Code::PermissionDenied,
        "only the owner shares"
    );
    unreachable_for(&channel, READER, &alices.id, false).await;

    // Bad reader lists are refused; an empty list unshares.
    let bad = sessions
        .share_session(as_(
            ALICE,
            pb::ShareSessionRequest {
                id: alices.id.clone(),
                readers: vec!["a b".into()],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    sessions
        .share_session(as_(
            ALICE,
            pb::ShareSessionRequest {
                id: alices.id.clone(),
                readers: vec![],
            },
        ))
        .await
        .unwrap();
    unreachable_for(&channel, BOB, &alices.id, true).await;

    // An admin manages anyone's session.
    sessions
        .delete_session(as_(
            ROOT,
            pb::DeleteSessionRequest {
                id: bobs.id.clone(),
            },
        ))
        .await
        .expect("an admin deletes any session");
    assert!(visible_ids(&channel, BOB).await.is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn scopes_are_enforced_and_named() {
    let server = server().await;
    let channel = server.channel().await;
    let denied = SessionServiceClient::new(channel.clone())
        .create_session(as_(
            READER,
            pb::CreateSessionRequest {
                network: "asia".into(),
                description: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert_eq!(
        denied.message(),
        "the token 'reader' lacks the 'write' scope, needed to create sessions"
    );
    let upload = pb::UploadNetworkRequest {
        name: "mine".into(),
        content: std::fs::read_to_string(common::repo().join("networks/asia.bif")).unwrap(),
        ..Default::default()
    };
    let denied = NetworkServiceClient::new(channel.clone())
        .upload_network(as_(ALICE, upload.clone()))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("'networks' scope"), "{denied:?}");
    // ops may manage networks but not write sessions; it may still query.
    let denied = SessionServiceClient::new(channel.clone())
        .create_session(as_(
            OPS,
            pb::CreateSessionRequest {
                network: "asia".into(),
                description: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    InferenceServiceClient::new(channel.clone())
        .query(as_(
            READER,
            pb::QueryRequest {
                network: "asia".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("read is enough to query");
    // A batch stream carries its caller to every case.
    let mut results = InferenceServiceClient::new(channel.clone())
        .batch_query(as_(
            READER,
            tokio_stream::iter(vec![pb::QueryRequest {
                network: "asia".into(),
                ..Default::default()
            }]),
        ))
        .await
        .unwrap()
        .into_inner();
    let first = results.message().await.unwrap().unwrap();
    assert!(
        matches!(
            first.outcome,
            Some(pb::batch_query_response::Outcome::Result(_))
        ),
        "{first:?}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn operator_networks_are_read_only_and_uploads_belong_to_their_uploader() {
    let server = server().await;
    let channel = server.channel().await;
    let mut networks = NetworkServiceClient::new(channel.clone());
    let child_file = server.dir.join("networks/child.bif");
    let denied = networks
        .delete_network(as_(
            ROOT,
            pb::DeleteNetworkRequest {
                name: "child".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(
        denied.message().contains("operator's directory"),
        "{denied:?}"
    );
    assert!(child_file.exists(), "the operator's file is untouched");
    let asia = std::fs::read_to_string(common::repo().join("networks/asia.bif")).unwrap();
    let shadow = pb::UploadNetworkRequest {
        name: "child".into(),
        content: asia.clone(),
        replace: true,
        ..Default::default()
    };
    let denied = networks.upload_network(as_(OPS, shadow)).await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("read-only"), "{denied:?}");
    let summary = networks
        .get_network(as_(
            READER,
            pb::GetNetworkRequest {
                name: "child".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .summary
        .unwrap();
    assert!(summary.read_only);
    assert_eq!(
        summary.n_variables, 20,
        "still the operator's child network"
    );

    // An upload is its uploader's: another network manager may neither replace nor delete it.
    let mine = pb::UploadNetworkRequest {
        name: "mine".into(),
        content: asia,
        ..Default::default()
    };
    let uploaded = networks
        .upload_network(as_(OPS, mine.clone()))
        .await
        .unwrap()
        .into_inner()
        .summary
        .unwrap();
    assert_eq!(
        (uploaded.owner.as_str(), uploaded.read_only),
        ("ops", false)
    );
    let again = networks
        .upload_network(as_(OPS, mine.clone()))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::AlreadyExists);
    let replace = pb::UploadNetworkRequest {
        replace: true,
        ..mine
    };
    let denied = networks
        .upload_network(as_(BOB, replace.clone()))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(denied.message().contains("uploaded by 'ops'"), "{denied:?}");
    let denied = networks
        .delete_network(as_(
            BOB,
            pb::DeleteNetworkRequest {
                name: "mine".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    networks
        .upload_network(as_(OPS, replace))
        .await
        .expect("the uploader replaces her network");
    networks
        .delete_network(as_(
            OPS,
            pb::DeleteNetworkRequest {
                name: "mine".into(),
            },
        ))
        .await
        .expect("and deletes it");
    server.shutdown().await;
}

/// Without tokens nothing changes: one unnamed caller sees and does everything, as before.
#[tokio::test]
async fn without_tokens_everything_is_open() {
    let server = InProcess::start(&["asia"], |_| {}).await;
    let channel = server.channel().await;
    let mut sessions = SessionServiceClient::new(channel.clone());
    let session = sessions
        .create_session(pb::CreateSessionRequest {
            network: "asia".into(),
            description: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(session.owner, "");
    sessions
        .update_evidence(observe(&session.id))
        .await
        .unwrap();
    let listed = sessions
        .list_sessions(pb::ListSessionsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.sessions.len(), 1);
    server.shutdown().await;
}

async fn query_code(url: &str, token: &str) -> Code {
    let channel = Channel::from_shared(url.to_string())
        .unwrap()
        .connect()
        .await
        .unwrap();
    match InferenceServiceClient::new(channel)
        .query(as_(
            token,
            pb::QueryRequest {
                network: "asia".into(),
                ..Default::default()
            },
        ))
        .await
    {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

fn hangup(server: &ServerProcess) {
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until a query with `token` is answered `code` (the reload is asynchronous).
async fn eventually(url: &str, token: &str, code: Code) {
    for _ in 0..100 {
        if query_code(url, token).await == code {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the token was not answered {code:?} within 5 s");
}

#[cfg(unix)]
#[tokio::test]
async fn sighup_reloads_the_tokens_file_and_keeps_the_old_tokens_on_a_bad_one() {
    let dir = temporary_dir("tenants-sighup");
    let networks = networks_dir(&dir, &["asia"]);
    let file = dir.join("tokens.txt");
    std::fs::write(&file, format!("{ALICE} alice read\n")).unwrap();
    let server = ServerProcess::start(
        &networks,
        &dir.join("data"),
        &["--tokens-file", file.to_str().unwrap()],
    );
    let url = server.url();
    assert_eq!(query_code(&url, ALICE).await, Code::Ok);
    assert_eq!(query_code(&url, BOB).await, Code::Unauthenticated);

    std::fs::write(&file, format!("{BOB} bob read\n")).unwrap();
    hangup(&server);
    eventually(&url, BOB, Code::Ok).await;
    assert_eq!(query_code(&url, ALICE).await, Code::Unauthenticated);

    // A file that does not parse is logged; the tokens in force stay.
    std::fs::write(&file, format!("{ALICE} alice read,fly\n")).unwrap();
    hangup(&server);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(query_code(&url, BOB).await, Code::Ok);
    assert_eq!(query_code(&url, ALICE).await, Code::Unauthenticated);
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(
        log.contains("tokens not reloaded") && log.contains("unknown scope 'fly'"),
        "{log}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
