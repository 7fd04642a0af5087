//! Sampling throughput: samples per second per engine on alarm, hepar2, pigs, barley and link (from
//! `../shared/networks`, skipped with a note when absent), one thread and all threads.
//!
//! The evidence is reference case 3 of each network (eight hard observations), except for
//! rejection sampling, which is timed without evidence (with it, rejection's rate mostly
//! measures how early it can abandon a sample). Gibbs counts kept samples (one sweep each) and
//! runs with a short burn-in of 100 sweeps per chain so that the sweeps dominate (on link it
//! ends in an error, stuck chains, after the same sweeps).
//!
//! Run: `cargo bench --bench sampling` (one engine or network: `-- lw/alarm`). Criterion
//! reports the rate as `thrpt` in elements (samples) per second.

use credence::infer::{Sampler, SamplingConfig, SamplingMethod};
use credence::{Evidence, Network};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::Value;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

fn evidence_from(network: &Network, case: &Value) -> Evidence {
    let mut evidence = Evidence::new();
    for (var, state) in case["evidence"].as_object().unwrap() {
        evidence
            .observe_named(network, var, state.as_str().unwrap())
            .unwrap();
    }
    evidence
}

fn sampling(c: &mut Criterion) {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for name in ["alarm", "hepar2", "pigs", "barley", "link"] {
        let bif = shared.join(format!("networks/{name}.bif"));
        if !bif.exists() {
            eprintln!("skipping {name}: {} is absent", bif.display());
            continue;
        }
        let network = Arc::new(credence::io::read_network(&bif).unwrap());
        let reference: Value = serde_json::from_str(
            &std::fs::read_to_string(shared.join(format!("refs/{name}.json"))).unwrap(),
        )
        .unwrap();
        let evidence = evidence_from(&network, &reference["cases"][3]);
        // Enough samples per iteration that set-up (proposal tables, EPIS-BN's propagation,
        // Gibbs's pilot and burn-in) is a small share of the time.
        let scale = if name == "link" { 10 } else { 1 };
        let mut group = c.benchmark_group(format!("sampling/{name}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(5));
        for (method, n_samples) in [
            (SamplingMethod::LikelihoodWeighting, 200_000 / scale),
            (SamplingMethod::Epis, 200_000 / scale),
            (SamplingMethod::Rejection, 200_000 / scale),
            (SamplingMethod::Gibbs, 40_000 / scale),
        ] {
            let evidence = if method == SamplingMethod::Rejection {
                Evidence::new()
            } else {
                evidence.clone()
            };
            for n_threads in [1, cores].into_iter().take(if cores > 1 { 2 } else { 1 }) {
                let config = SamplingConfig {
                    n_samples,
                    n_threads,
                    burn_in: 100,
                    ..SamplingConfig::default()
                };
                let sampler = Sampler::new(network.clone(), method, config).unwrap();
                group.throughput(Throughput::Elements(n_samples));
                group.bench_with_input(
                    BenchmarkId::new(method.kind().as_str(), format!("{n_threads}-thread")),
                    &evidence,
                    // On link the Gibbs chains are stuck and the engine says so with an error
                    // after its sweeps; the sweeps are still what is timed.
                    |b, evidence| b.iter(|| sampler.sample(black_box(evidence), &[]).is_ok()),
                );
            }
        }
        group.finish();
    }
}

criterion_group!(benches, sampling);
criterion_main!(benches);
