//! Shared helpers for the integration tests: where the networks and reference posteriors are,
//! and how to load a reference case as evidence.
#![allow(dead_code)]

pub mod big;
pub mod random;

use credence::{Evidence, Network};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the checkout (or `$CREDENCE_SHARED`), if it is there.
pub fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("CREDENCE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared"));
    dir.join("networks").is_dir().then_some(dir)
}

/// Long runs (the largest networks) only when `CREDENCE_SLOW_TESTS=1`.
pub fn slow_tests() -> bool {
    std::env::var("CREDENCE_SLOW_TESTS").is_ok_and(|v| v == "1")
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The evidence of one reference case.
pub fn case_evidence(network: &Network, case: &Value) -> Evidence {
    let mut evidence = Evidence::new();
    for (var, state) in case["evidence"].as_object().expect("evidence object") {
        evidence
            .observe_named(network, var, state.as_str().expect("state name"))
            .unwrap();
    }
    for (var, values) in case["soft_evidence"]
        .as_object()
        .expect("soft_evidence object")
    {
        let values: Vec<f64> = values
            .as_array()
            .expect("likelihood array")
            .iter()
            .map(|v| v.as_f64().expect("number"))
            .collect();
        evidence
            .add_likelihood_named(network, var, &values)
            .unwrap();
    }
    evidence
}

pub mod inprocess;
pub mod server;
