//! gRPC load benchmark: N concurrent clients send `Query` calls (all marginals of alarm, a
//! different evidence case each call) to a server in this process over loopback for T seconds;
//! prints throughput, p50/p99/max latency and the errors by status code.
//!
//! Run: `cargo bench --bench grpc_load` (`CREDENCE_LOAD_CLIENTS`, default 16;
//! `CREDENCE_LOAD_SECONDS`, default 10; `CREDENCE_LOAD_SLOTS`, the server's query slots,
//! default 4 per core). Below the slot limit there must be no errors; above it the surplus is
//! refused RESOURCE_EXHAUSTED, which is counted, not hidden.

use credence::service::{self, Config, pb};
use pb::inference_service_client::InferenceServiceClient;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let clients = setting("CREDENCE_LOAD_CLIENTS", 16);
    let seconds = setting("CREDENCE_LOAD_SECONDS", 10) as u64;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run(clients, Duration::from_secs(seconds)));
}

async fn run(clients: usize, duration: Duration) {
    let root = std::env::temp_dir().join(format!("credence-grpc-load-{}", std::process::id()));
    let networks = root.join("networks");
    std::fs::create_dir_all(&networks).expect("a temporary directory");
    let bundled = concat!(env!("CARGO_MANIFEST_DIR"), "/networks/alarm.bif");
    std::fs::copy(bundled, networks.join("alarm.bif")).expect("alarm.bif is bundled");
    let mut config = Config::new(&networks);
    config.data_dir = root.join("data");
    let slots = setting("CREDENCE_LOAD_SLOTS", config.max_concurrent_queries);
    config.max_concurrent_queries = slots;
    let (shared, _) = service::open(&config).expect("the server opens");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("an address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(service::serve(
        listener,
        shared,
        async {
            let _ = stopped.await;
        },
        Duration::from_secs(2),
    ));

    // Evidence cases cycle through states of two indicators so calls are not all identical.
    let cases: Vec<(&str, &str)> = vec![
        ("HRBP", "LOW"),
        ("HRBP", "NORMAL"),
        ("HRBP", "HIGH"),
        ("CO", "LOW"),
        ("CO", "HIGH"),
    ];
    let deadline = Instant::now() + duration;
    let mut workers = Vec::new();
    for worker in 0..clients {
        let url = url.clone();
        let cases = cases.clone();
        workers.push(tokio::spawn(async move {
            let channel = tonic::transport::Channel::from_shared(url)
                .expect("a URL")
                .connect()
                .await
                .expect("the server accepts connections");
            let mut client = InferenceServiceClient::new(channel);
            let mut latencies = Vec::new();
            let mut errors: BTreeMap<String, u64> = BTreeMap::new();
            let mut call = worker;
            while Instant::now() < deadline {
                let (variable, state) = cases[call % cases.len()];
                call += 1;
                let mut evidence = pb::Evidence::default();
                evidence
                    .hard
                    .insert(variable.to_string(), state.to_string());
                let request = pb::QueryRequest {
                    network: "alarm".into(),
                    evidence: Some(evidence),
                    ..Default::default()
                };
                let started = Instant::now();
                match client.query(request).await {
                    Ok(_) => latencies.push(started.elapsed()),
                    Err(status) => *errors.entry(format!("{:?}", status.code())).or_default() += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    for worker in workers {
        let (mine, my_errors) = worker.await.expect("a client task");
        latencies.extend(mine);
        for (code, n) in my_errors {
            *errors.entry(code).or_default() += n;
        }
    }
    let _ = stop.send(());
    let _ = server.await;
    let _ = std::fs::remove_dir_all(&root);

    latencies.sort();
    let percentile = |q: f64| -> f64 {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "grpc_load: {clients} clients, {slots} query slots, {:.0} s: {} calls ok, {:.0} calls/s, latency p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; errors {:?}",
        duration.as_secs_f64(),
        latencies.len(),
        latencies.len() as f64 / duration.as_secs_f64(),
        percentile(0.5),
        percentile(0.99),
        percentile(1.0),
        errors
    );
}
