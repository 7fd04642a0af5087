//! Bulk mode: cases per second through `credence update --engine jt`, end to end (process
//! start, parse, compile, JSON in and out), on a JSONL file of each network's 25 reference
//! cases. Criterion reports the rate as `thrpt` in elements (cases) per second.
//!
//! Networks: the bundled ones with references, and alarm, hepar2, pigs and barley from
//! `../shared` (skipped, with a note, when absent). Link is left out: 25 cases take seconds
//! per iteration, and the per-case time is `exact`'s `jt_query_all_marginals`.
//!
//! Run: `cargo bench --bench bulk` (one network: `-- barley`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn bulk(c: &mut Criterion) {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = repo.join("../shared");
    let dir = std::env::temp_dir().join(format!("credence-bulk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut sources = vec![(
        "asia".to_string(),
        repo.join("networks/asia.bif"),
        repo.join("tests/data/refs/asia.json"),
    )];
    for name in ["alarm", "hepar2", "pigs", "barley"] {
        let bif = shared.join(format!("networks/{name}.bif"));
        if bif.exists() {
            sources.push((name.into(), bif, shared.join(format!("refs/{name}.json"))));
        } else {
            eprintln!("skipping {name}: {} is absent", bif.display());
        }
    }
    let mut group = c.benchmark_group("bulk_update_jt");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (name, bif, refs) in sources {
        let reference: Value =
            serde_json::from_str(&std::fs::read_to_string(&refs).unwrap()).unwrap();
        let cases = reference["cases"].as_array().unwrap();
        let lines: Vec<String> = cases
            .iter()
            .map(|case| {
                json!({"id": case["id"], "evidence": case["evidence"], "soft_evidence": case["soft_evidence"]})
                    .to_string()
            })
            .collect();
        let input = dir.join(format!("{name}.jsonl"));
        std::fs::write(&input, lines.join("\n") + "\n").unwrap();
        let output = dir.join(format!("{name}.out.jsonl"));
        group.throughput(Throughput::Elements(cases.len() as u64));
        group.bench_function(BenchmarkId::from_parameter(&name), |b| {
            b.iter(|| {
                let status = Command::new(env!("CARGO_BIN_EXE_credence"))
                    .arg("update")
                    .arg(&bif)
                    .arg("--cases")
                    .arg(&input)
                    .arg("--out")
                    .arg(&output)
                    .args(["--engine", "jt"])
                    .status()
                    .unwrap();
                assert!(status.success());
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bulk);
criterion_main!(benches);
