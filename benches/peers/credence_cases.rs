//! Credence's side of the peer comparison (`benches/peers/run.sh`), in process: loads one
//! network, compiles the junction tree once, answers each reference case several times, and
//! prints one JSON object with median milliseconds per case, so the script can set them beside
//! pyAgrum's and pgmpy's on the same cases.
//!
//! ```text
//! credence_cases NETWORK.bif REFS.json [--cases 0,3,4] [--reps 5] [--ve-cases 3,4]
//!                [--ve-cap-s 60] [--lw-case 3 --lw-samples 200000]
//! ```
//!
//! - `jt_ms`: all marginals with the junction tree, per case (median of `--reps`);
//! - `ve_ms`: all marginals with variable elimination (one elimination per target, as pgmpy's
//!   one query per variable in the script), on `--ve-cases` only, within `--ve-cap-s` seconds
//!   in all (default 60): it is slow;
//! - `lw_samples_per_s`: likelihood weighting on one thread, reference case `--lw-case`;
//! - `traffic`: per case, the clique-table entries and bytes a junction-tree query touches.
//!
//! A `[[bench]]` with `harness = false` so that it builds with the release profile and does not
//! ship in the `credence` binary. Run it through the script, or by hand:
//! `cargo bench --bench credence_cases -- ../shared/networks/alarm.bif ../shared/refs/alarm.json`.

use credence::infer::{Budget, Sampler, SamplingConfig, SamplingMethod};
use credence::{Evidence, InferenceEngine, JunctionTree, Network, VarId, VariableElimination};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

fn evidence_from(network: &Network, case: &Value) -> Evidence {
    let mut evidence = Evidence::new();
    for (var, state) in case["evidence"].as_object().expect("evidence") {
        evidence
            .observe_named(network, var, state.as_str().expect("state"))
            .unwrap();
    }
    for (var, values) in case["soft_evidence"].as_object().expect("soft_evidence") {
        let values: Vec<f64> = values
            .as_array()
            .expect("likelihood")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect();
        evidence
            .add_likelihood_named(network, var, &values)
            .unwrap();
    }
    evidence
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn parse_list(text: &str) -> Vec<usize> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("a case number"))
        .collect()
}

/// Median wall time in milliseconds of `reps` calls, after one warm-up call (which fills the
/// junction tree's workspace pool, as any long-running user would have).
fn time_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let samples = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    median(samples)
}

fn main() {
    // `cargo bench` appends `--bench`; ignore it.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (mut positional, mut options) = (Vec::new(), std::collections::HashMap::new());
    let mut i = 0;
    while i < args.len() {
        if let Some(key) = args[i].strip_prefix("--") {
            options.insert(key.to_string(), args[i + 1].clone());
            i += 2;
        } else {
            positional.push(args[i].clone());
            i += 1;
        }
    }
    let [bif, refs] = positional.as_slice() else {
        eprintln!(
            "usage: credence_cases NETWORK.bif REFS.json [--cases 0,3] [--reps 5] [--ve-cases 3] [--lw-case 3 --lw-samples N]"
        );
        std::process::exit(2);
    };
    let reps: usize = options.get("reps").map_or(5, |r| r.parse().unwrap());
    let network = Arc::new(credence::io::read_network(std::path::Path::new(bif)).unwrap());
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(refs).unwrap()).unwrap();
    let all_cases = reference["cases"].as_array().unwrap();
    let cases = options
        .get("cases")
        .map_or_else(|| (0..all_cases.len()).collect(), |c| parse_list(c));
    let evidence: Vec<(usize, Evidence)> = cases
        .iter()
        .map(|&c| (c, evidence_from(&network, &all_cases[c])))
        .collect();

    let start = Instant::now();
    let jt = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
    let compile_ms = start.elapsed().as_secs_f64() * 1e3;
    let mut jt_ms = serde_json::Map::new();
    let mut traffic = serde_json::Map::new();
    for (c, e) in &evidence {
        let ms = time_ms(reps, || {
            std::hint::black_box(jt.posteriors(e, &[]).unwrap());
        });
        jt_ms.insert(c.to_string(), json!(ms));
        let t = jt.traffic(e).unwrap();
        traffic.insert(
            c.to_string(),
            json!({"entries": t.entries, "bytes": t.bytes}),
        );
    }

    let mut ve_ms = serde_json::Map::new();
    if let Some(ve_cases) = options.get("ve-cases") {
        let ve = VariableElimination::new(network.clone());
        let all: Vec<VarId> = network.variable_ids().collect();
        // Capped in time like pgmpy: a case that does not finish within the cap (over all
        // cases) is left out. Targets go one at a time so that the cap can stop mid-case.
        let cap = std::time::Duration::from_secs_f64(
            options.get("ve-cap-s").map_or(60.0, |c| c.parse().unwrap()),
        );
        let deadline = Instant::now() + cap;
        'cases: for c in parse_list(ve_cases) {
            let e = evidence_from(&network, &all_cases[c]);
            // One run: VE on the large networks takes seconds per case.
            let start = Instant::now();
            for &target in &all {
                std::hint::black_box(ve.posteriors(&e, &[target]).unwrap());
                if Instant::now() > deadline {
                    break 'cases;
                }
            }
            ve_ms.insert(c.to_string(), json!(start.elapsed().as_secs_f64() * 1e3));
        }
    }

    let mut lw = Value::Null;
    if let Some(n) = options.get("lw-samples") {
        let n_samples: u64 = n.parse().unwrap();
        let case: usize = options.get("lw-case").map_or(3, |c| c.parse().unwrap());
        let e = evidence_from(&network, &all_cases[case]);
        let config = SamplingConfig {
            n_samples,
            n_threads: 1,
            ..SamplingConfig::default()
        };
        let sampler =
            Sampler::new(network.clone(), SamplingMethod::LikelihoodWeighting, config).unwrap();
        let seconds = time_ms(3, || {
            std::hint::black_box(sampler.sample(&e, &[]).unwrap());
        }) / 1e3;
        lw = json!(n_samples as f64 / seconds);
    }

    let cost = jt.cost();
    println!(
        "{}",
        json!({
            "network": network.name(),
            "compile_ms": compile_ms,
            "total_clique_entries": cost.total_clique_entries,
            "largest_clique_entries": cost.largest_clique_entries,
            "jt_ms": jt_ms,
            "ve_ms": ve_ms,
            "lw_samples_per_s": lw,
            "traffic": traffic,
        })
    );
}
