//! The command line with sampling engines: the JSON contract (`stderr` and `intervals` beside an
//! unchanged `posteriors`), reproducible output for a seed, and `--engine auto` saying which
//! engine ran and why.

mod common;

use common::repo;
use serde_json::Value;
use std::process::{Command, Output};

fn credence(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credence"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

const QUERY: [&str; 8] = [
    "query",
    "networks/asia.bif",
    "-e",
    "smoke=yes",
    "--soft",
    "xray=0.9,0.2",
    "--samples",
    "20000",
];

#[test]
fn sampled_json_adds_stderr_and_intervals_beside_the_posteriors() {
    for engine in ["lw", "gibbs", "rejection", "epis"] {
        let mut args = QUERY.to_vec();
        args.extend(["--engine", engine, "--json", "--seed", "3"]);
        let object = json(&credence(&args));
        assert_eq!(object["engine"], engine);
        let lung_yes = object["posteriors"]["lung"]["yes"].as_f64().unwrap();
        assert!(lung_yes > 0.0 && lung_yes < 1.0, "{engine}: {lung_yes}");
        let stderr = object["stderr"]["lung"]["yes"].as_f64().unwrap();
        assert!(stderr > 0.0 && stderr < 0.05, "{engine}: {stderr}");
        let interval = object["intervals"]["lung"]["yes"].as_array().unwrap();
        let (lo, hi) = (interval[0].as_f64().unwrap(), interval[1].as_f64().unwrap());
        assert!(lo < lung_yes && lung_yes < hi, "{engine}: [{lo}, {hi}]");
        assert_eq!(object["sampling"]["stopped_by"], "samples");
        assert!(object["sampling"]["ess"].as_f64().unwrap() > 100.0);
        assert_eq!(
            object["posteriors"].as_object().unwrap().len(),
            object["stderr"].as_object().unwrap().len()
        );
    }
}

#[test]
fn the_same_seed_gives_identical_output_on_any_number_of_threads() {
    for engine in ["lw", "gibbs"] {
        let run = |seed: &str, threads: &str| {
            let mut args = QUERY.to_vec();
            args.extend([
                "--engine",
                engine,
                "--json",
                "--seed",
                seed,
                "--threads",
                threads,
            ]);
            let output = credence(&args);
            assert!(output.status.success());
            output.stdout
        };
        assert_eq!(run("11", "1"), run("11", "2"), "{engine}");
        assert_ne!(run("11", "1"), run("12", "1"), "{engine}");
    }
}

#[test]
fn auto_says_which_engine_ran_and_why() {
    let object = json(&credence(&[
        "query",
        "networks/asia.bif",
        "-e",
        "smoke=yes",
        "--json",
    ]));
    assert_eq!(object["engine"], "jt");
    assert!(
        object["engine_reason"]
            .as_str()
            .unwrap()
            .contains("within the memory budget")
    );
    assert!(object.get("stderr").is_none());

    let args = [
        "query",
        "networks/alarm.bif",
        "-e",
        "HRBP=HIGH",
        "--memory-budget",
        "1KiB",
        "--samples",
        "20000",
    ];
    let output = credence(&[&args[..], &["--json"]].concat());
    let object = json(&output);
    assert_eq!(object["engine"], "lw");
    let reason = object["engine_reason"].as_str().unwrap();
    assert!(
        reason.contains("over the memory budget") && reason.contains("pilot"),
        "{reason}"
    );
    assert!(object["stderr"]["HR"]["HIGH"].as_f64().is_some());

    let table = credence(&args);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("engine lw") && text.contains("auto: the junction tree"),
        "{text}"
    );
    assert!(text.contains("stopped by the sample budget"), "{text}");
}

#[test]
fn update_accepts_sampling_engines() {
    let dir = std::env::temp_dir().join(format!("credence-cli-sampling-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = dir.join("cases.jsonl");
    std::fs::write(
        &cases,
        "{\"id\": 1, \"evidence\": {\"smoke\": \"yes\"}}\n{\"id\": 2, \"evidence\": {\"tub\": \"yes\", \"either\": \"no\"}}\n",
    )
    .unwrap();
    let out = dir.join("out.jsonl");
    let output = credence(&[
        "update",
        "networks/asia.bif",
        "--cases",
        cases.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--engine",
        "lw",
        "--samples",
        "5000",
        "-q",
    ]);
    // Case 2 is impossible: an error record, exit code 1, the other case answered.
    assert_eq!(output.status.code(), Some(1));
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["engine"], "lw");
    assert!(lines[0]["stderr"]["lung"]["yes"].as_f64().is_some());
    assert!(lines[0]["intervals"]["lung"]["yes"].is_array());
    let error = lines[1]["error"].as_str().unwrap();
    assert!(error.contains("epis") && error.contains("jt"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_sampling_flags_are_usage_or_plain_errors() {
    let output = credence(&["query", "networks/asia.bif", "--engine", "mcmc"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("gibbs"));
    let output = credence(&[
        "query",
        "networks/asia.bif",
        "--engine",
        "lw",
        "--max-time",
        "1ns",
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "1ns is not a duration unit we accept"
    );
    let output = credence(&[
        "query",
        "networks/asia.bif",
        "--engine",
        "lw",
        "--max-time",
        "0.000000001",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("time budget") && message.contains("allow more time"),
        "{message}"
    );
}
