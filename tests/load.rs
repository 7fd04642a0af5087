//! Load on the real server over loopback, bounded in clients and time.
//!
//! Phase 1, at the concurrency limit: as many clients as query slots, each cycling through a
//! session's life (create, updates, posteriors, a stateless query, delete): no call may fail.
//! Phase 2, far above it: eight times as many clients sending expensive sampling queries,
//! beside the session clients: every call either succeeds or is refused RESOURCE_EXHAUSTED,
//! never a crash, timeout or other error, and some are refused. Throughout, the server's
//! resident memory is sampled; at the end it must be near where it was after warm-up.
//!
//! `cargo test` runs a short version (about 2 s per phase). `CREDENCE_LOAD_TEST=1` runs the
//! long one, `CREDENCE_LOAD_SECONDS` in all (default 180); the figures are printed
//! (`-- --nocapture`) and the last long run is recorded in the README.

mod common;

use common::server::{ServerProcess, networks_dir, temporary_dir};
use credence::service::pb;
use pb::inference_service_client::InferenceServiceClient;
use pb::session_service_client::SessionServiceClient;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::Code;
use tonic::transport::Channel;

/// Query slots of the server under test.
const SLOTS: usize = 4;

#[derive(Default)]
struct Outcomes {
    ok: u64,
    errors: BTreeMap<String, u64>,
}

impl Outcomes {
    fn record<T>(&mut self, result: &Result<T, tonic::Status>) {
        match result {
            Ok(_) => self.ok += 1,
            Err(status) => {
                *self
                    .errors
                    .entry(format!("{:?}: {}", status.code(), status.message()))
                    .or_default() += 1
            }
        }
    }

    fn count(&self, code: Code) -> u64 {
        let prefix = format!("{code:?}:");
        self.errors
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(_, n)| n)
            .sum()
    }

    fn total_errors(&self) -> u64 {
        self.errors.values().sum()
    }
}

async fn connect(address: &str) -> Channel {
    Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .timeout(Duration::from_secs(20))
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

/// One client cycling through sessions until `until`.
async fn session_client(address: String, until: Instant, outcomes: Arc<Mutex<Outcomes>>) {
    let channel = connect(&address).await;
    let mut sessions = SessionServiceClient::new(channel.clone());
    let mut inference = InferenceServiceClient::new(channel);
    let mut step = 0usize;
    while Instant::now() < until {
        let created = sessions
            .create_session(pb::CreateSessionRequest {
                network: "alarm".into(),
                description: "load".into(),
            })
            .await;
        outcomes.lock().unwrap().record(&created);
        let Ok(session) = created else { continue };
        let id = session.into_inner().id;
        let changes = [
            hard("HRBP", "HIGH"),
            hard("BP", "LOW"),
            hard("CVP", "HIGH"),
            hard("HRBP", "NORMAL"),
            pb::EvidenceChange {
                change: Some(pb::evidence_change::Change::Retract("BP".into())),
            },
        ];
        for change in changes {
            let result = sessions
                .update_evidence(pb::UpdateEvidenceRequest {
                    id: id.clone(),
                    changes: vec![change],
                    source: format!("step {step}"),
                    ..Default::default()
                })
                .await;
            outcomes.lock().unwrap().record(&result);
            step += 1;
        }
        let result = sessions
            .get_posteriors(pb::GetPosteriorsRequest {
                id: id.clone(),
                targets: vec!["LVFAILURE".into(), "HYPOVOLEMIA".into()],
                ..Default::default()
            })
            .await;
        outcomes.lock().unwrap().record(&result);
        let result = inference
            .query(pb::QueryRequest {
                network: "alarm".into(),
                targets: vec!["HYPOVOLEMIA".into()],
                ..Default::default()
            })
            .await;
        outcomes.lock().unwrap().record(&result);
        let result = sessions
            .delete_session(pb::DeleteSessionRequest { id })
            .await;
        outcomes.lock().unwrap().record(&result);
    }
}

/// One client sending expensive sampling queries until `until`.
async fn heavy_client(address: String, until: Instant, outcomes: Arc<Mutex<Outcomes>>) {
    let mut inference = InferenceServiceClient::new(connect(&address).await);
    let mut seed = 0;
    while Instant::now() < until {
        seed += 1;
        let result = inference
            .query(pb::QueryRequest {
                network: "alarm".into(),
                engine: pb::Engine::LikelihoodWeighting as i32,
                targets: vec!["HYPOVOLEMIA".into()],
                sampling: Some(pb::SamplingOptions {
                    n_samples: 100_000,
                    seed,
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await;
        outcomes.lock().unwrap().record(&result);
        if result.is_err() {
            // A refused client backs off briefly, as a real one would.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn long_run() -> Option<Duration> {
    if std::env::var("CREDENCE_LOAD_TEST").is_ok_and(|v| v == "1") {
        let seconds = std::env::var("CREDENCE_LOAD_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(180u64);
        Some(Duration::from_secs(seconds))
    } else {
        None
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_the_server_refuses_cleanly_and_holds_its_memory() {
    let total = long_run().unwrap_or(Duration::from_secs(4));
    let phase = total / 2;
    let root = temporary_dir("load");
    let networks = networks_dir(&root, &["alarm"]);
    let server = ServerProcess::start(
        &networks,
        &root.join("data"),
        &["--max-concurrent-queries", &SLOTS.to_string()],
    );
    let address = server.address.clone();
    let memory = Arc::new(Mutex::new(Vec::<(f64, u64)>::new()));
    let started = Instant::now();
    let sampler = {
        let memory = memory.clone();
        let pid_rss = move || server.rss_bytes();
        let until = started + total;
        tokio::spawn(async move {
            while Instant::now() < until {
                if let Some(rss) = pid_rss() {
                    memory
                        .lock()
                        .unwrap()
                        .push((started.elapsed().as_secs_f64(), rss));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            pid_rss
        })
    };

    // Phase 1: at the limit.
    let below = Arc::new(Mutex::new(Outcomes::default()));
    let until = Instant::now() + phase;
    let clients: Vec<_> = (0..SLOTS)
        .map(|_| tokio::spawn(session_client(address.clone(), until, below.clone())))
        .collect();
    for client in clients {
        client.await.unwrap();
    }

    // Phase 2: far above it.
    let sessions_above = Arc::new(Mutex::new(Outcomes::default()));
    let heavy = Arc::new(Mutex::new(Outcomes::default()));
    let until = Instant::now() + phase;
    let mut clients = Vec::new();
    for _ in 0..SLOTS {
        clients.push(tokio::spawn(session_client(
            address.clone(),
            until,
            sessions_above.clone(),
        )));
    }
    for _ in 0..8 * SLOTS {
        clients.push(tokio::spawn(heavy_client(
            address.clone(),
            until,
            heavy.clone(),
        )));
    }
    for client in clients {
        client.await.unwrap();
    }
    let server_rss = sampler.await.unwrap();
    let final_rss = server_rss().unwrap_or(0);

    let below = below.lock().unwrap();
    let sessions_above = sessions_above.lock().unwrap();
    let heavy = heavy.lock().unwrap();
    let memory = memory.lock().unwrap();
    let seconds = phase.as_secs_f64();
    let peak = memory.iter().map(|m| m.1).max().unwrap_or(0);
    // After warm-up: the first sample past a fifth of phase 1.
    let warm = memory
        .iter()
        .find(|m| m.0 >= seconds / 5.0)
        .map_or(final_rss, |m| m.1);
    eprintln!(
        "load: {SLOTS} slots, {:.0} s per phase\n  at the limit ({SLOTS} session clients): {} calls ok, {:.0} calls/s, errors {:?}\n  above it ({SLOTS} session + {} sampling clients): sessions {} ok, errors {:?}; sampling {} ok, {} RESOURCE_EXHAUSTED, other errors {}\n  server memory: after warm-up {:.1} MiB, peak {:.1} MiB, at the end {:.1} MiB",
        seconds,
        below.ok,
        below.ok as f64 / seconds,
        below.errors,
        8 * SLOTS,
        sessions_above.ok,
        sessions_above.errors,
        heavy.ok,
        heavy.count(Code::ResourceExhausted),
        heavy.total_errors() - heavy.count(Code::ResourceExhausted),
        mib(warm),
        mib(peak),
        mib(final_rss),
    );
    assert_eq!(
        below.total_errors(),
        0,
        "errors at the limit: {:?}",
        below.errors
    );
    assert!(below.ok > 0);
    for outcomes in [&*sessions_above, &*heavy] {
        assert_eq!(
            outcomes.total_errors(),
            outcomes.count(Code::ResourceExhausted),
            "above the limit only RESOURCE_EXHAUSTED is allowed: {:?}",
            outcomes.errors
        );
    }
    assert!(
        heavy.count(Code::ResourceExhausted) > 0,
        "{} clients never exceeded {SLOTS} slots",
        8 * SLOTS
    );
    assert!(heavy.ok > 0, "some sampling queries are answered");
    // Sessions are deleted as they finish, so memory must come back near its warm level.
    assert!(
        final_rss <= warm + warm / 2 + (64 << 20),
        "memory grew from {:.1} MiB to {:.1} MiB",
        mib(warm),
        mib(final_rss)
    );
    let _ = std::fs::remove_dir_all(&root);
}
