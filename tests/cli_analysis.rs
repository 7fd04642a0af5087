//! The CLI contract of the analysis commands: `mpe`, `query --do`, `query --joint`, `voi`,
//! `explain` and `sensitivity`. JSON shapes are exactly as documented (scripts drive them);
//! the human tables are only checked to run and to say the essential thing.

mod common;

use common::repo;
use serde_json::Value;
use std::process::{Command, Output};

fn credence(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credence"))
        .current_dir(repo())
        .args(args)
        .output()
        .expect("run credence")
}

/// Runs a command that must succeed and print one JSON object.
fn json(args: &[&str]) -> Value {
    let out = credence(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout}");
    serde_json::from_str(&stdout).unwrap()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

fn failure(args: &[&str]) -> String {
    let out = credence(args);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

const ASIA: &str = "networks/asia.bif";
const SINO: &str = "networks/sino_russian_partnership.bif";

#[test]
fn mpe_json_covers_every_unobserved_variable() {
    let value = json(&["mpe", ASIA, "-e", "smoke=yes", "--json"]);
    assert_eq!(keys(&value), ["assignment", "log_probability"]);
    let assignment = value["assignment"].as_object().unwrap();
    assert_eq!(assignment.len(), 7, "eight variables, one observed");
    assert!(!assignment.contains_key("smoke"));
    // Given smoke=yes every other variable is at its "no" except bronc (P = 0.6):
    // 0.99 · 0.99 · 0.9 · 0.6 · 1 · 0.95 · P(dysp=yes | bronc=yes, either=no) = 0.8.
    assert_eq!(assignment["bronc"], "yes");
    assert_eq!(assignment["dysp"], "yes");
    let want = (0.99f64 * 0.99 * 0.9 * 0.6 * 0.95 * 0.8).ln();
    let got = value["log_probability"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

#[test]
fn map_json_covers_exactly_the_subset_in_order() {
    let value = json(&[
        "mpe",
        ASIA,
        "-e",
        "dysp=yes",
        "--map",
        "lung,bronc",
        "--json",
    ]);
    let assignment = value["assignment"].as_object().unwrap();
    assert_eq!(
        assignment.keys().map(String::as_str).collect::<Vec<_>>(),
        ["lung", "bronc"]
    );
    let p = value["log_probability"].as_f64().unwrap();
    assert!(p < 0.0 && p > (0.5f64).ln(), "{p}");
}

#[test]
fn mpe_table_shows_the_marginals_beside() {
    let out = credence(&["mpe", SINO]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("most probable explanation: all 36 unobserved variables"));
    assert!(text.contains("P(state | e)"));
}

#[test]
fn query_do_has_the_query_shape_and_cuts_the_causes() {
    let plain = json(&["query", ASIA, "-e", "lung=yes", "-t", "smoke", "--json"]);
    let done = json(&["query", ASIA, "--do", "lung=yes", "-t", "smoke", "--json"]);
    assert_eq!(keys(&done), keys(&plain));
    assert_eq!(
        keys(&done),
        [
            "network",
            "engine",
            "log_p_evidence",
            "posteriors",
            "engine_reason"
        ]
    );
    // Setting lung cancer says nothing about smoking; observing it does.
    let p_done = done["posteriors"]["smoke"]["yes"].as_f64().unwrap();
    let p_seen = plain["posteriors"]["smoke"]["yes"].as_f64().unwrap();
    assert!((p_done - 0.5).abs() < 1e-12);
    assert!((p_seen - 0.05 / (0.05 + 0.005)).abs() < 1e-12, "{p_seen}");
    // Downstream it acts like evidence.
    let done = json(&["query", ASIA, "--do", "lung=yes", "-t", "either", "--json"]);
    assert!((done["posteriors"]["either"]["yes"].as_f64().unwrap() - 1.0).abs() < 1e-12);
}

#[test]
fn query_do_table_shows_both_columns() {
    let out = credence(&[
        "query",
        SINO,
        "--do",
        "western_sanctions=easing",
        "-t",
        "war_in_ukraine",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("do(western_sanctions=easing)"), "{text}");
    assert!(text.contains("observe western_sanctions=easing"), "{text}");
    let err = failure(&["query", ASIA, "--do", "lung=yes", "--do", "lung=no"]);
    assert!(err.contains("sets 'lung' twice"), "{err}");
}

#[test]
fn query_joint_adds_a_table() {
    let value = json(&[
        "query",
        ASIA,
        "-e",
        "smoke=yes",
        "--joint",
        "lung,bronc",
        "-t",
        "lung",
        "--json",
    ]);
    assert_eq!(
        keys(&value),
        [
            "network",
            "engine",
            "log_p_evidence",
            "posteriors",
            "engine_reason",
            "joint"
        ]
    );
    assert_eq!(
        value["joint"]["variables"],
        serde_json::json!(["lung", "bronc"])
    );
    let table = value["joint"]["table"].as_array().unwrap();
    assert_eq!(table.len(), 4);
    // lung and bronc are independent given smoke: 0.1 · 0.6.
    assert_eq!(
        table[0]["states"],
        serde_json::json!({"lung": "yes", "bronc": "yes"})
    );
    assert!((table[0]["probability"].as_f64().unwrap() - 0.06).abs() < 1e-12);
}

#[test]
fn voi_json_is_sorted_by_mutual_information() {
    let value = json(&["voi", ASIA, "--target", "lung", "-e", "smoke=yes", "--json"]);
    assert_eq!(keys(&value), ["target", "entropy", "ranking"]);
    assert_eq!(value["target"], "lung");
    let h = -(0.1f64 * 0.1f64.ln() + 0.9 * 0.9f64.ln());
    assert!((value["entropy"].as_f64().unwrap() - h).abs() < 1e-12);
    let ranking = value["ranking"].as_array().unwrap();
    assert_eq!(ranking.len(), 6, "every variable but the target and smoke");
    let scores: Vec<f64> = ranking
        .iter()
        .map(|r| {
            assert_eq!(keys(r), ["variable", "mutual_information"]);
            r["mutual_information"].as_f64().unwrap()
        })
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // either = tub or lung; with tub rare it nearly reveals lung.
    assert_eq!(ranking[0]["variable"], "either");
    let candidates = json(&[
        "voi",
        ASIA,
        "--target",
        "lung",
        "--candidates",
        "xray,dysp",
        "--json",
    ]);
    let names: Vec<&str> = candidates["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["variable"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["xray", "dysp"]);
}

#[test]
fn explain_json_has_items_and_conflict() {
    let value = json(&[
        "explain", ASIA, "--target", "lung", "-e", "smoke=no", "-e", "xray=yes", "--json",
    ]);
    assert_eq!(
        keys(&value),
        [
            "target",
            "prior",
            "posterior",
            "log_p_evidence",
            "items",
            "conflict"
        ]
    );
    let items = value["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(
            keys(item),
            [
                "variable",
                "evidence",
                "posterior_without",
                "total_variation",
                "log_likelihood_ratio",
                "log_p_item",
                "log_p_item_given_rest",
                "conflict_contribution"
            ]
        );
    }
    // Not smoking and an abnormal X-ray pull lung cancer in opposite directions.
    assert_eq!(
        keys(&value["conflict"]),
        ["value", "conflicting", "ranking"]
    );
    let conflict = value["conflict"]["value"].as_f64().unwrap();
    assert!(conflict > 0.0, "{conflict}");
    assert_eq!(value["conflict"]["conflicting"], true);
    let xray = items.iter().find(|i| i["variable"] == "xray").unwrap();
    assert_eq!(xray["evidence"], "xray=yes");
    assert!(xray["log_likelihood_ratio"]["yes"].as_f64().unwrap() > 0.0);
}

#[test]
fn explain_table_flags_conflict() {
    let out = credence(&[
        "explain", ASIA, "--target", "lung", "-e", "smoke=no", "-e", "xray=yes",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("CONFLICT"), "{text}");
    let err = failure(&["explain", ASIA, "--target", "lung", "-e", "lung=yes"]);
    assert!(err.contains("the target 'lung' is observed"), "{err}");
}

#[test]
fn sensitivity_json_lists_the_top_parameters() {
    let value = json(&[
        "sensitivity",
        ASIA,
        "--target",
        "lung=yes",
        "-e",
        "xray=yes",
        "--top",
        "4",
        "--json",
    ]);
    assert_eq!(
        keys(&value),
        ["target", "state", "probability", "parameters"]
    );
    assert_eq!(value["target"], "lung");
    assert_eq!(value["state"], "yes");
    let parameters = value["parameters"].as_array().unwrap();
    assert_eq!(parameters.len(), 4);
    let mut previous = f64::INFINITY;
    for p in parameters {
        assert_eq!(
            keys(p),
            ["variable", "parents", "state", "value", "derivative"]
        );
        assert!(p["parents"].is_object());
        let d = p["derivative"].as_f64().unwrap().abs();
        assert!(d <= previous);
        previous = d;
    }
    // The false-positive rate of the X-ray decides how much an abnormal film means.
    assert_eq!(parameters[0]["variable"], "xray");
    assert_eq!(
        parameters[0]["parents"],
        serde_json::json!({"either": "no"})
    );
    let err = failure(&["sensitivity", ASIA, "--target", "lung=maybe"]);
    assert!(err.contains("has no state 'maybe'"), "{err}");
}

#[test]
fn analysis_commands_report_bad_names_in_one_sentence() {
    for args in [
        &["mpe", ASIA, "--map", "lung,lugn"][..],
        &["voi", ASIA, "--target", "lugn"],
        &["voi", ASIA, "--target", "lung", "--candidates", "xray,smok"],
        &["explain", ASIA, "--target", "lung", "-e", "smoke=perhaps"],
    ] {
        let err = failure(args);
        assert!(err.starts_with("error: "), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
