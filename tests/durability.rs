//! Durable sessions: the real server is killed with SIGKILL while updates are in flight, and
//! after a restart on the same data directory every acknowledged change is there, with its
//! history. Also: uploads and sessions survive a clean restart, a session keeps the network
//! version it was created on across replacements and restarts, and a session whose network is
//! gone (and its version not kept) keeps its history and says why it cannot be queried.

mod common;

use common::server::{ServerProcess, networks_dir, temporary_dir};
use credence::service::pb;
use pb::network_service_client::NetworkServiceClient;
use pb::session_service_client::SessionServiceClient;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::Code;
use tonic::transport::Channel;

async fn connect(server: &ServerProcess) -> Channel {
    Channel::from_shared(server.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn hard(variable: &str, state: &str) -> pb::EvidenceChange {
    pb::EvidenceChange {
        change: Some(pb::evidence_change::Change::SetHard(pb::HardFinding {
            variable: variable.into(),
            state: state.into(),
        })),
    }
}

fn soft(variable: &str, values: &[f64]) -> pb::EvidenceChange {
    pb::EvidenceChange {
        change: Some(pb::evidence_change::Change::SetSoft(pb::SoftFinding {
            variable: variable.into(),
            values: values.to_vec(),
        })),
    }
}

fn retract(variable: &str) -> pb::EvidenceChange {
    pb::EvidenceChange {
        change: Some(pb::evidence_change::Change::Retract(variable.into())),
    }
}

/// Every revision of session `id`, page after page.
async fn full_history(client: &mut SessionServiceClient<Channel>, id: &str) -> Vec<pb::Revision> {
    let mut revisions = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .get_history(pb::GetHistoryRequest {
                id: id.into(),
                page_size: 0,
                page_token,
            })
            .await
            .unwrap()
            .into_inner();
        revisions.extend(page.revisions);
        if page.next_page_token.is_empty() {
            return revisions;
        }
        page_token = page.next_page_token;
    }
}

/// The `step`-th update of a session: always possible evidence on asia.
fn update_for(step: usize) -> Vec<pb::EvidenceChange> {
    match step % 6 {
        0 => vec![hard("smoke", "yes")],
        1 => vec![soft("xray", &[0.9, 0.2 + step as f64 * 1e-6])],
        2 => vec![hard("asia", "no"), retract("xray")],
        3 => vec![retract("smoke")],
        4 => vec![hard("smoke", "no"), soft("dysp", &[0.3, 0.7])],
        _ => vec![retract("asia"), retract("dysp")],
    }
}

/// What the client was told: per session, the acknowledged revisions with what they changed.
#[derive(Default)]
struct Acknowledged {
    created: Vec<String>,
    deleted: Vec<String>,
    revisions: BTreeMap<String, BTreeMap<i64, (Vec<pb::EvidenceChange>, String)>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_when_the_server_is_killed() {
    let root = temporary_dir("durability");
    let networks = networks_dir(&root, &["asia"]);
    let data = root.join("data");
    let mut server = ServerProcess::start(&networks, &data, &[]);
    let channel = connect(&server).await;
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));

    let mut writers = Vec::new();
    for writer in 0..4 {
        let mut client = SessionServiceClient::new(channel.clone());
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            let mut generation = 0;
            'sessions: loop {
                let Ok(session) = client
                    .create_session(pb::CreateSessionRequest {
                        network: "asia".into(),
                        description: format!("writer {writer}, session {generation}"),
                    })
                    .await
                else {
                    return;
                };
                let id = session.into_inner().id;
                acknowledged.lock().unwrap().created.push(id.clone());
                for step in 0..40 {
                    let changes = update_for(step);
                    let source = format!("writer {writer} step {step}");
                    let Ok(response) = client
                        .update_evidence(pb::UpdateEvidenceRequest {
                            id: id.clone(),
                            changes: changes.clone(),
                            source: source.clone(),
                            note: "kill test".into(),
                            ..Default::default()
                        })
                        .await
                    else {
                        return;
                    };
                    let number = response.into_inner().revision.unwrap().number;
                    acknowledged
                        .lock()
                        .unwrap()
                        .revisions
                        .entry(id.clone())
                        .or_default()
                        .insert(number, (changes, source));
                }
                // Every other session is deleted once full, so deletions are tested too.
                if generation % 2 == 1 {
                    if client
                        .delete_session(pb::DeleteSessionRequest { id: id.clone() })
                        .await
                        .is_err()
                    {
                        return;
                    }
                    acknowledged.lock().unwrap().deleted.push(id);
                }
                generation += 1;
                if generation > 1000 {
                    break 'sessions;
                }
            }
        }));
    }
    // Kill once a fair amount is acknowledged, with all four writers mid-stream.
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let count: usize = acknowledged
            .lock()
            .unwrap()
            .revisions
            .values()
            .map(BTreeMap::len)
            .sum();
        if count >= 150 || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    server.kill();
    for writer in writers {
        writer.await.unwrap();
    }
    drop(channel);

    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    let total: usize = acknowledged.revisions.values().map(BTreeMap::len).sum();
    assert!(total >= 150, "only {total} updates were acknowledged");
    let server = ServerProcess::start(&networks, &data, &[]);
    let mut client = SessionServiceClient::new(connect(&server).await);
    for id in &acknowledged.created {
        let deleted = acknowledged.deleted.contains(id);
        let session = client
            .get_session(pb::GetSessionRequest { id: id.clone() })
            .await;
        if deleted {
            assert_eq!(session.unwrap_err().code(), Code::NotFound, "{id}");
            continue;
        }
        let session = session.unwrap_or_else(|e| panic!("{id} was lost: {e}"));
        let expected = acknowledged.revisions.get(id).cloned().unwrap_or_default();
        let history = full_history(&mut client, id).await;
        let last = expected.keys().last().copied().unwrap_or(0);
        // An update in flight at the kill may have been stored without its answer arriving,
        // so the history may be longer by one; never shorter.
        assert!(
            history.len() as i64 >= last && history.len() as i64 <= last + 1,
            "{id}: {} revisions stored, {last} acknowledged",
            history.len()
        );
        assert_eq!(session.into_inner().revision, history.len() as i64);
        for (index, revision) in history.iter().enumerate() {
            assert_eq!(revision.number, index as i64 + 1, "{id}: numbering");
            if let Some((changes, source)) = expected.get(&revision.number) {
                assert_eq!(
                    &revision.changes, changes,
                    "{id} revision {}",
                    revision.number
                );
                assert_eq!(&revision.source, source);
                assert_eq!(revision.note, "kill test");
            }
        }
        // The session is usable again: its evidence answers queries.
        client
            .get_posteriors(pb::GetPosteriorsRequest {
                id: id.clone(),
                targets: vec!["lung".into()],
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    eprintln!(
        "durability: {} sessions, {total} acknowledged revisions, all present after SIGKILL",
        acknowledged.created.len()
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_and_sessions_survive_a_restart_and_a_lost_network_is_explained() {
    let root = temporary_dir("restart");
    let networks = networks_dir(&root, &["asia"]);
    let data = root.join("data");
    let asia = std::fs::read_to_string(common::repo().join("networks/asia.bif")).unwrap();
    let (kept, orphan) = {
        let mut server = ServerProcess::start(&networks, &data, &[]);
        let channel = connect(&server).await;
        let mut networks_client = NetworkServiceClient::new(channel.clone());
        let mut sessions = SessionServiceClient::new(channel);
        for name in ["mine", "doomed"] {
            networks_client
                .upload_network(pb::UploadNetworkRequest {
                    name: name.into(),
                    format: pb::NetworkFormat::Bif as i32,
                    content: asia.clone(),
                    replace: false,
                })
                .await
                .unwrap();
        }
        let mut ids = Vec::new();
        for name in ["mine", "doomed"] {
            let id = sessions
                .create_session(pb::CreateSessionRequest {
                    network: name.into(),
                    description: String::new(),
                })
                .await
                .unwrap()
                .into_inner()
                .id;
            sessions
                .update_evidence(pb::UpdateEvidenceRequest {
                    id: id.clone(),
                    changes: vec![hard("smoke", "yes")],
                    ..Default::default()
                })
                .await
                .unwrap();
            ids.push(id);
        }
        networks_client
            .delete_network(pb::DeleteNetworkRequest {
                name: "doomed".into(),
            })
            .await
            .unwrap();
        server.kill();
        (ids[0].clone(), ids[1].clone())
    };
    // As a data directory from before versions were kept: the orphan's version is gone.
    std::fs::remove_dir_all(data.join("versions")).unwrap();
    // Uploads live under server-chosen names only.
    let stored: Vec<String> = std::fs::read_dir(data.join("networks"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].starts_with("upload-"), "{stored:?}");

    let server = ServerProcess::start(&networks, &data, &[]);
    let channel = connect(&server).await;
    let mut networks_client = NetworkServiceClient::new(channel.clone());
    let mut sessions = SessionServiceClient::new(channel);
    let names: Vec<String> = networks_client
        .list_networks(pb::ListNetworksRequest::default())
        .await
        .unwrap()
        .into_inner()
        .networks
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names, ["asia", "mine"]);
    let answer = sessions
        .get_posteriors(pb::GetPosteriorsRequest {
            id: kept.clone(),
            targets: vec!["lung".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!((answer.posteriors[0].probabilities[0] - 0.1).abs() < 1e-12);
    // The orphan keeps its history but cannot be queried or updated, and says why.
    let history = full_history(&mut sessions, &orphan).await;
    assert_eq!(history.len(), 1);
    let refused = sessions
        .get_posteriors(pb::GetPosteriorsRequest {
            id: orphan.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused
            .message()
            .starts_with("network 'doomed' is not served any more"),
        "{}",
        refused.message()
    );
    let refused = sessions
        .update_evidence(pb::UpdateEvidenceRequest {
            id: orphan.clone(),
            changes: vec![hard("smoke", "no")],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    sessions
        .delete_session(pb::DeleteSessionRequest { id: orphan })
        .await
        .unwrap();
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

/// asia with P(lung = yes | smoke = yes) = 0.2 instead of 0.1, and `xray` renamed `xray2`.
fn asia_changed() -> String {
    let asia = std::fs::read_to_string(common::repo().join("networks/asia.bif")).unwrap();
    let changed = asia
        .replace("(yes) 0.1, 0.9;", "(yes) 0.2, 0.8;")
        .replace("xray", "xray2");
    assert_ne!(changed, asia);
    changed
}

async fn lung_in_session(sessions: &mut SessionServiceClient<Channel>, id: &str) -> (f64, String) {
    let answer = sessions
        .get_posteriors(pb::GetPosteriorsRequest {
            id: id.into(),
            targets: vec!["lung".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (
        answer.posteriors[0].probabilities[0],
        answer.stamp.unwrap().network_hash,
    )
}

async fn lung_stateless(channel: &Channel, network: &str) -> (f64, String) {
    let answer = pb::inference_service_client::InferenceServiceClient::new(channel.clone())
        .query(pb::QueryRequest {
            network: network.into(),
            evidence: Some(pb::Evidence {
                hard: [("smoke".to_string(), "yes".to_string())].into(),
                ..Default::default()
            }),
            targets: vec!["lung".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    (
        answer.posteriors[0].probabilities[0],
        answer.stamp.unwrap().network_hash,
    )
}

/// Sessions stay on the version they were created on when an upload is replaced and when the
/// operator's file changes between restarts; stateless queries use the current version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_keeps_its_network_version_across_replacement_and_restart() {
    let root = temporary_dir("versions");
    let networks = networks_dir(&root, &["asia"]);
    let data = root.join("data");
    let asia = std::fs::read_to_string(common::repo().join("networks/asia.bif")).unwrap();
    let upload = |content: &str, replace: bool| pb::UploadNetworkRequest {
        name: "mine".into(),
        format: pb::NetworkFormat::Bif as i32,
        content: content.into(),
        replace,
    };
    let (on_old_upload, on_new_upload, on_operator, old_hash, new_hash, operator_hash) = {
        let server = ServerProcess::start(&networks, &data, &[]);
        let channel = connect(&server).await;
        let mut networks_client = NetworkServiceClient::new(channel.clone());
        let mut sessions = SessionServiceClient::new(channel.clone());
        networks_client
            .upload_network(upload(&asia, false))
            .await
            .unwrap();
        let mut ids = Vec::new();
        for network in ["mine", "asia"] {
            let session = sessions
                .create_session(pb::CreateSessionRequest {
                    network: network.into(),
                    description: String::new(),
                })
                .await
                .unwrap()
                .into_inner();
            sessions
                .update_evidence(pb::UpdateEvidenceRequest {
                    id: session.id.clone(),
                    changes: vec![hard("smoke", "yes"), soft("xray", &[0.5, 0.5])],
                    ..Default::default()
                })
                .await
                .unwrap();
            ids.push(session);
        }
        let old_hash = ids[0].network_hash.clone();
        assert_eq!(old_hash.len(), 64);
        let replaced = networks_client
            .upload_network(upload(&asia_changed(), true))
            .await
            .unwrap()
            .into_inner()
            .summary
            .unwrap();
        let new_hash = replaced.content_hash;
        assert_ne!(new_hash, old_hash);
        // Before the restart: the open session keeps the old version, stateless uses the new.
        let (p, hash) = lung_in_session(&mut sessions, &ids[0].id).await;
        assert!((p - 0.1).abs() < 1e-12 && hash == old_hash, "{p} {hash}");
        let (p, hash) = lung_stateless(&channel, "mine").await;
        assert!((p - 0.2).abs() < 1e-12 && hash == new_hash, "{p} {hash}");
        let newer = sessions
            .create_session(pb::CreateSessionRequest {
                network: "mine".into(),
                description: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(newer.network_hash, new_hash);
        (
            ids[0].id.clone(),
            newer.id,
            ids[1].id.clone(),
            old_hash,
            new_hash,
            ids[1].network_hash.clone(),
        )
    };
    // The operator edits asia.bif between restarts.
    std::fs::write(networks.join("asia.bif"), asia_changed()).unwrap();

    let server = ServerProcess::start(&networks, &data, &[]);
    let channel = connect(&server).await;
    let mut sessions = SessionServiceClient::new(channel.clone());
    for (id, hash, p_lung) in [
        (&on_old_upload, &old_hash, 0.1),
        (&on_new_upload, &new_hash, 0.2),
        (&on_operator, &operator_hash, 0.1),
    ] {
        let session = sessions
            .get_session(pb::GetSessionRequest { id: id.clone() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(&session.network_hash, hash, "{id}");
        let (p, answered_by) = lung_in_session(&mut sessions, id).await;
        if p_lung == 0.1 {
            assert!((p - 0.1).abs() < 1e-12, "{id}: {p}");
        } else {
            // No evidence was entered on this one.
            assert!((p - (0.5 * 0.2 + 0.5 * 0.01)).abs() < 1e-12, "{id}: {p}");
        }
        assert_eq!(&answered_by, hash, "{id}");
    }
    // The old version still knows `xray`, which the new one renamed.
    sessions
        .update_evidence(pb::UpdateEvidenceRequest {
            id: on_operator.clone(),
            changes: vec![soft("xray", &[0.9, 0.1])],
            ..Default::default()
        })
        .await
        .expect("a session on the old version keeps its variables");
    let (p, hash) = lung_stateless(&channel, "asia").await;
    assert!(
        (p - 0.2).abs() < 1e-12 && hash != operator_hash,
        "{p} {hash}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused() {
    let root = temporary_dir("exclusive");
    let networks = networks_dir(&root, &["asia"]);
    let data = root.join("data");
    let _first = ServerProcess::start(&networks, &data, &[]);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_credence"))
        .args(["serve", "--addr", "127.0.0.1:0", "--networks"])
        .arg(&networks)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is in use by another server"), "{stderr}");
}
