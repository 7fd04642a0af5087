//! gRPC query throughput and latency: the server in this process on 127.0.0.1 (ephemeral port,
//! as `tests/service.rs` starts it), concurrent tonic clients each on its own connection, sending
//! stateless all-marginals `Query` calls for a fixed time per network; then calls per second,
//! the p50/p99/max latency of one call, and the refused calls by status code.
//!
//! Networks: the bundled asia, alarm and child, then alarm, hepar2, pigs, barley and link from
//! `../shared/networks` when it is there (said when it is not). Each network's calls use the
//! evidence of its reference cases in turn (hard and soft), so that calls differ.
//!
//! Not criterion: what matters is the distribution of latencies under concurrency, which
//! criterion's one-closure-at-a-time loop cannot produce. Prints one line per network.
//!
//! Run: `cargo bench --bench grpc`. Settings, from the environment:
//! - `CREDENCE_GRPC_SECONDS`: seconds per network (default 5);
//! - `CREDENCE_GRPC_CLIENTS`: concurrent clients (default: the server's query slots, 4 per core);
//! - `CREDENCE_GRPC_SLOTS`: the server's query slots (default 4 per core). With more clients
//!   than slots the surplus is refused RESOURCE_EXHAUSTED by design, counted, not hidden;
//! - `CREDENCE_GRPC_NETWORKS`: a comma-separated subset, e.g. `alarm,barley`.

use credence::service::{self, Config, pb};
use pb::inference_service_client::InferenceServiceClient;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

fn setting(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// The evidence of every reference case of `refs`, as the service takes it.
fn cases(refs: &Path) -> Vec<pb::Evidence> {
    let text = std::fs::read_to_string(refs).unwrap_or_else(|e| panic!("{}: {e}", refs.display()));
    let reference: Value = serde_json::from_str(&text).expect("reference JSON");
    let mut cases = Vec::new();
    for case in reference["cases"].as_array().expect("cases") {
        let hard = case["evidence"]
            .as_object()
            .expect("evidence")
            .iter()
            .map(|(var, state)| (var.clone(), state.as_str().expect("state").to_string()))
            .collect();
        let soft = case["soft_evidence"]
            .as_object()
            .expect("soft_evidence")
            .iter()
            .map(|(var, values)| {
                let values = values
                    .as_array()
                    .expect("likelihood")
                    .iter()
                    .map(|v| v.as_f64().expect("number"))
                    .collect();
                (var.clone(), pb::Likelihood { values })
            })
            .collect();
        cases.push(pb::Evidence { hard, soft });
    }
    cases
}

#[tokio::main]
async fn main() {
    let seconds = setting("CREDENCE_GRPC_SECONDS").unwrap_or(5) as u64;
    let only: Option<Vec<String>> = std::env::var("CREDENCE_GRPC_NETWORKS")
        .ok()
        .map(|list| list.split(',').map(str::to_string).collect());
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = repo.join("../shared");

    // (name served, network file, reference file)
    let mut networks: Vec<(String, PathBuf, PathBuf)> = ["asia", "alarm", "child"]
        .iter()
        .map(|name| {
            (
                name.to_string(),
                repo.join(format!("networks/{name}.bif")),
                repo.join(format!("tests/data/refs/{name}.json")),
            )
        })
        .collect();
    if shared.join("networks").is_dir() {
        for name in ["alarm", "hepar2", "pigs", "barley", "link"] {
            networks.push((
                format!("shared_{name}"),
                shared.join(format!("networks/{name}.bif")),
                shared.join(format!("refs/{name}.json")),
            ));
        }
    } else {
        println!("grpc: ../shared/networks is absent: the bundled networks only");
    }
    if let Some(only) = &only {
        networks.retain(|(name, ..)| only.iter().any(|o| name.trim_start_matches("shared_") == o));
    }

    let dir = std::env::temp_dir().join(format!("credence-grpc-bench-{}", std::process::id()));
    let served = dir.join("networks");
    std::fs::create_dir_all(&served).expect("a temporary directory");
    for (name, file, _) in &networks {
        std::fs::copy(file, served.join(format!("{name}.bif")))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let mut config = Config::new(&served);
    config.data_dir = dir.join("data");
    if let Some(slots) = setting("CREDENCE_GRPC_SLOTS") {
        config.max_concurrent_queries = slots;
    }
    let slots = config.max_concurrent_queries;
    let n_clients = setting("CREDENCE_GRPC_CLIENTS").unwrap_or(slots);
    let (shared_state, problems) = service::open(&config).expect("the server opens");
    assert!(problems.is_empty(), "{problems:?}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let address = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service::serve(
        listener,
        shared_state,
        async {
            let _ = stopped.await;
        },
        Duration::from_secs(5),
    ));

    for (name, _, refs) in &networks {
        let cases = cases(refs);
        let request = |i: usize| pb::QueryRequest {
            network: name.clone(),
            evidence: Some(cases[i % cases.len()].clone()),
            engine: pb::Engine::JunctionTree as i32,
            ..Default::default()
        };
        let mut channels = Vec::new();
        for _ in 0..n_clients {
            let channel = Channel::from_shared(address.clone())
                .expect("a URL")
                .connect()
                .await
                .expect("the server accepts connections");
            channels.push(channel);
        }
        // Warm-up, untimed: compiles the network's junction tree (once, on first use).
        InferenceServiceClient::new(channels[0].clone())
            .query(request(0))
            .await
            .expect("the warm-up query");
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let tasks: Vec<_> = channels
            .into_iter()
            .enumerate()
            .map(|(worker, channel)| {
                let requests: Vec<pb::QueryRequest> = (0..cases.len()).map(request).collect();
                tokio::spawn(async move {
                    let mut client = InferenceServiceClient::new(channel);
                    let mut latencies = Vec::new();
                    let mut refused: BTreeMap<String, u64> = BTreeMap::new();
                    let mut call = worker;
                    while Instant::now() < deadline {
                        let request = requests[call % requests.len()].clone();
                        call += 1;
                        let t = Instant::now();
                        match client.query(request).await {
                            Ok(_) => latencies.push(t.elapsed()),
                            Err(status) => {
                                *refused.entry(format!("{:?}", status.code())).or_default() += 1
                            }
                        }
                    }
                    (latencies, refused)
                })
            })
            .collect();
        let mut latencies = Vec::new();
        let mut refused: BTreeMap<String, u64> = BTreeMap::new();
        for task in tasks {
            let (mine, my_refused) = task.await.expect("a client task");
            latencies.extend(mine);
            for (code, n) in my_refused {
                *refused.entry(code).or_default() += n;
            }
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let percentile = |q: f64| -> String {
            let at = ((latencies.len().max(1) - 1) as f64 * q).round() as usize;
            latencies
                .get(at)
                .map_or("-".into(), |d| format!("{:.3} ms", d.as_secs_f64() * 1e3))
        };
        println!(
            "grpc/{name}: {n_clients} clients, {slots} query slots, {:.1} s: {} calls answered, {:.0} calls/s, latency p50 {}, p99 {}, max {}; refused {:?}",
            elapsed.as_secs_f64(),
            latencies.len(),
            latencies.len() as f64 / elapsed.as_secs_f64(),
            percentile(0.5),
            percentile(0.99),
            percentile(1.0),
            refused
        );
    }
    let _ = stop.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&dir);
}
