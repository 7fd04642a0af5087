//! gRPC query throughput: the server in this process on 127.0.0.1 (ephemeral port, as
//! `tests/service.rs` starts it), `CLIENTS` concurrent tonic clients each on its own
//! connection, a fixed number of stateless `Query` calls (all marginals, the bundled networks'
//! reference case 3), then calls per second and the p50/p99 latency of one call.
//!
//! Not criterion: what matters is the distribution of latencies under concurrency, which
//! criterion's one-closure-at-a-time loop cannot produce. Prints one line per network.
//!
//! Run: `cargo bench --bench grpc` (`-- --calls N` to change the 20,000 calls per network).

use credence::service::{self, pb};
use pb::inference_service_client::InferenceServiceClient;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// Concurrent clients: the server's default number of query slots on a 2-core machine (4 per
/// core); more would be refused with RESOURCE_EXHAUSTED by design.
fn clients() -> usize {
    4 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn evidence(repo: &std::path::Path, name: &str) -> pb::Evidence {
    let refs = repo.join(format!("tests/data/refs/{name}.json"));
    let mut hard = HashMap::new();
    if let Ok(text) = std::fs::read_to_string(refs) {
        let reference: Value = serde_json::from_str(&text).unwrap();
        for (var, state) in reference["cases"][3]["evidence"].as_object().unwrap() {
            hard.insert(var.clone(), state.as_str().unwrap().to_string());
        }
    }
    pb::Evidence {
        hard,
        soft: HashMap::new(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let calls: usize = args
        .iter()
        .position(|a| a == "--calls")
        .map_or(20_000, |i| args[i + 1].parse().expect("--calls N"));
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("credence-grpc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let names = ["asia", "alarm", "child"];
    for name in names {
        std::fs::copy(
            repo.join(format!("networks/{name}.bif")),
            dir.join(format!("{name}.bif")),
        )
        .unwrap();
    }
    let (shared, problems) = service::open(&service::Config::new(&dir)).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        service::serve(
            listener,
            shared,
            async {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    });

    let n_clients = clients();
    for name in names {
        let request = pb::QueryRequest {
            network: name.into(),
            evidence: Some(evidence(&repo, name)),
            engine: pb::Engine::JunctionTree as i32,
            ..Default::default()
        };
        let mut channels = Vec::new();
        for _ in 0..n_clients {
            channels.push(
                Channel::from_shared(address.clone())
                    .unwrap()
                    .connect()
                    .await
                    .unwrap(),
            );
        }
        // Warm-up: compiles the network's junction tree (once, on first use) and the
        // connections.
        for channel in &channels {
            InferenceServiceClient::new(channel.clone())
                .query(request.clone())
                .await
                .unwrap();
        }
        let start = Instant::now();
        let tasks: Vec<_> = channels
            .into_iter()
            .enumerate()
            .map(|(i, channel)| {
                let request = request.clone();
                // Calls split as evenly as possible between the clients.
                let mine = calls / n_clients + usize::from(i < calls % n_clients);
                tokio::spawn(async move {
                    let mut client = InferenceServiceClient::new(channel);
                    let mut latencies = Vec::with_capacity(mine);
                    for _ in 0..mine {
                        let t = Instant::now();
                        client.query(request.clone()).await.unwrap();
                        latencies.push(t.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::with_capacity(calls);
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
        let elapsed = start.elapsed();
        latencies.sort();
        println!(
            "grpc/{name}: {calls} calls, {n_clients} clients, {:.0} calls/s, p50 {:.0} µs, p99 {:.0} µs",
            calls as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.5).as_secs_f64() * 1e6,
            percentile(&latencies, 0.99).as_secs_f64() * 1e6,
        );
    }
    let _ = stop.send(());
    server.await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
