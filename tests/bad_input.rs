//! Malformed input is rejected with one exact, stable sentence, never a panic.
//!
//! `tests/data/bad/` is a corpus: one malformed network per file (`.bif`, or `.xml` for
//! XMLBIF) and beside each `NAME.EXT.expected`, the exact message of
//! `credence::io::read_network(path)` with the path as given replaced by `FILE`. Adding a file
//! adds a case; a file without its `.expected` (or an `.expected` without its file) fails the
//! test. When a message changes on purpose, the failure lists every new message to copy.
//!
//! Bad evidence is checked through the library API on `networks/asia.bif`, and the older
//! Hugin-export dialect files in `../shared/bif-dialects/` when that directory is present.

use credence::io::{read_bif, read_network};
use credence::{Evidence, Network};
use std::path::{Path, PathBuf};

/// Stands for the file's path in the `.expected` files.
const PLACEHOLDER: &str = "FILE";

const EXPECTED_SUFFIX: &str = ".expected";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    repo().join("tests/data/bad")
}

/// The message `read_network` gives for `path`, with the path replaced by the placeholder.
fn rejection(path: &Path) -> Result<String, String> {
    let shown = path.display().to_string();
    match read_network(path) {
        Ok(network) => Err(format!(
            "was accepted (network '{}' with {} variables)",
            network.name(),
            network.n_variables()
        )),
        Err(error) => Ok(error.to_string().replace(&shown, PLACEHOLDER)),
    }
}

#[test]
fn every_bad_file_is_rejected_with_its_recorded_message() {
    let dir = corpus_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.expect("directory entry");
            assert!(
                entry.file_type().expect("file type").is_file(),
                "{}: the corpus holds files only",
                entry.path().display()
            );
            entry.file_name().to_string_lossy().into_owned()
        })
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let mut n_cases = 0;
    for name in &names {
        if let Some(input) = name.strip_suffix(EXPECTED_SUFFIX) {
            if !names.iter().any(|n| n == input) {
                failures.push(format!("{name}: no file '{input}' beside it"));
            }
            continue;
        }
        n_cases += 1;
        let path = dir.join(name);
        let actual = match rejection(&path) {
            Ok(message) => message,
            Err(problem) => {
                failures.push(format!("{name}: {problem}"));
                continue;
            }
        };
        if actual.contains('\n') {
            failures.push(format!("{name}: the message is not one line: {actual:?}"));
        }
        let expected_path = dir.join(format!("{name}{EXPECTED_SUFFIX}"));
        match std::fs::read_to_string(&expected_path) {
            Err(_) => failures.push(format!(
                "{name}: no {name}{EXPECTED_SUFFIX}; the message is\n    {actual}"
            )),
            Ok(expected) => {
                let expected = expected.trim_end_matches(['\n', '\r']);
                if expected != actual {
                    failures.push(format!(
                        "{name}:\n    expected {expected}\n    actual   {actual}"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n_cases} corpus cases failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    // Guards against an emptied or misplaced corpus passing vacuously.
    assert!(
        n_cases >= 20,
        "only {n_cases} corpus files in {}",
        dir.display()
    );
}

#[test]
fn messages_name_the_path_as_given() {
    // Relative and absolute paths are both echoed verbatim before `line:col`.
    let absolute = corpus_dir().join("duplicate_state.bif");
    let message = read_network(&absolute).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}:2:35:", absolute.display())),
        "{message}"
    );
    let message = read_bif(
        "variable A { type discrete [ 2 ] { a, a }; }",
        "some/where.bif",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        message,
        "some/where.bif:1:39: variable 'A' declares state 'a' twice"
    );
}

#[test]
fn a_missing_file_names_the_path() {
    let path = corpus_dir().join("no_such_network.bif");
    let message = read_network(&path).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("cannot read {}: ", path.display())),
        "{message}"
    );
}

/// A file with no declarations at all (empty, blank, only comments, or truncated before the
/// first variable) is rejected: a network without variables is never what was meant.
#[test]
fn an_empty_file_is_rejected() {
    for text in [
        "",
        "   \n\t\n",
        "// nothing here\n/* at all */\n",
        "network x {\n}\n",
    ] {
        let message = read_bif(text, "dir/empty.bif").unwrap_err().to_string();
        assert!(
            message.starts_with("dir/empty.bif:")
                && message.ends_with(
                    "no 'variable' declarations found: this is not a BIF network (or it is empty)"
                ),
            "{text:?}: {message}"
        );
    }
}

fn asia() -> Network {
    read_network(repo().join("networks/asia.bif")).unwrap()
}

#[track_caller]
fn check_evidence_error(result: Result<(), credence::EvidenceError>, expected: &str) {
    assert_eq!(result.unwrap_err().to_string(), expected);
}

#[test]
fn unknown_variable_lists_the_valid_names() {
    let network = asia();
    let mut evidence = Evidence::new();
    check_evidence_error(
        evidence.observe_named(&network, "smok", "yes"),
        "unknown variable 'smok' (did you mean 'smoke'? valid: asia, tub, smoke, lung, bronc, either, xray, dysp)",
    );
    check_evidence_error(
        evidence.observe_named(&network, "temperature", "high"),
        "unknown variable 'temperature' (valid: asia, tub, smoke, lung, bronc, either, xray, dysp)",
    );
    check_evidence_error(
        evidence.add_likelihood_named(&network, "Xray", &[0.9, 0.2]),
        "unknown variable 'Xray' (did you mean 'xray'? valid: asia, tub, smoke, lung, bronc, either, xray, dysp)",
    );
    assert!(evidence.is_empty());
}

#[test]
fn unknown_state_lists_the_valid_states() {
    let network = asia();
    let mut evidence = Evidence::new();
    check_evidence_error(
        evidence.observe_named(&network, "smoke", "maybe"),
        "variable 'smoke' has no state 'maybe' (valid: yes, no)",
    );
    check_evidence_error(
        evidence.observe_named(&network, "smoke", "Yes"),
        "variable 'smoke' has no state 'Yes' (did you mean 'yes'? valid: yes, no)",
    );
    assert!(evidence.is_empty());
}

#[test]
fn bad_likelihoods_are_rejected() {
    let network = asia();
    let mut evidence = Evidence::new();
    check_evidence_error(
        evidence.add_likelihood_named(&network, "xray", &[0.9, 0.2, 0.1]),
        "soft evidence on 'xray' has 3 values, expected one per state (2: yes, no)",
    );
    check_evidence_error(
        evidence.add_likelihood_named(&network, "xray", &[0.9]),
        "soft evidence on 'xray' has 1 values, expected one per state (2: yes, no)",
    );
    check_evidence_error(
        evidence.add_likelihood_named(&network, "xray", &[]),
        "soft evidence on 'xray' has 0 values, expected one per state (2: yes, no)",
    );
    check_evidence_error(
        evidence.add_likelihood_named(&network, "xray", &[-0.5, 1.0]),
        "soft evidence on 'xray': -0.5 is not a finite non-negative likelihood",
    );
    check_evidence_error(
        evidence.add_likelihood_named(&network, "xray", &[f64::NAN, 1.0]),
        "soft evidence on 'xray': NaN is not a finite non-negative likelihood",
    );
    check_evidence_error(
        evidence.add_likelihood_named(&network, "xray", &[1.0, f64::INFINITY]),
        "soft evidence on 'xray': inf is not a finite non-negative likelihood",
    );
    check_evidence_error(
        evidence.add_likelihood_named(&network, "xray", &[0.0, 0.0]),
        "soft evidence on 'xray' is all zeros, which rules out every state",
    );
    assert!(
        evidence.is_empty(),
        "a rejected likelihood must not be kept"
    );
    evidence
        .add_likelihood_named(&network, "xray", &[0.0, 3.0])
        .unwrap();
}

#[test]
fn conflicting_hard_evidence_is_rejected_and_the_first_kept() {
    let network = asia();
    let smoke = network.variable_id("smoke").unwrap();
    let mut evidence = Evidence::new();
    evidence.observe_named(&network, "smoke", "yes").unwrap();
    // Repeating the same observation is fine.
    evidence.observe_named(&network, "smoke", "yes").unwrap();
    check_evidence_error(
        evidence.observe_named(&network, "smoke", "no"),
        "conflicting evidence: 'smoke' observed as both 'yes' and 'no'",
    );
    assert_eq!(evidence.hard_state(smoke), Some(0));
    check_evidence_error(
        evidence.observe(&network, smoke, 2),
        "state index 2 is out of range for 'smoke', which has 2 states",
    );
}

fn dialects_dir() -> Option<PathBuf> {
    let dir = repo().join("../shared/bif-dialects");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} is not present", dir.display());
        None
    }
}

/// `CKNI_12_00` has `table 0.333333, 0.333333, 0.333333;`, a deviation of exactly 1e-6 in
/// decimal but 1.0000000000287557e-6 in `f64`: within what rounding three entries written at
/// 6 digits explains (1.5e-6), so the file loads, as it does in pyAgrum and pgmpy.
#[test]
fn older_hugin_dialect_water_loads() {
    let Some(dir) = dialects_dir() else {
        return;
    };
    let water = read_network(dir.join("huji_water.bif")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(water.n_variables(), 32);
}

#[test]
fn older_hugin_dialect_duplicate_states_are_rejected() {
    let Some(dir) = dialects_dir() else {
        return;
    };
    let barley = dir.join("huji_barley_dup_states.bif");
    let text = std::fs::read_to_string(&barley).unwrap();
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("variable pesticid"))
        .expect("the file declares pesticid")
        + 1;
    // The error points at the second `__`, inside the state list a few lines further down.
    let line = line
        + text
            .lines()
            .skip(line)
            .position(|l| l.trim_start().starts_with("__"))
            .unwrap()
        + 1;
    let line = line
        + text
            .lines()
            .skip(line)
            .position(|l| l.trim_start().starts_with("__"))
            .unwrap()
        + 1;
    let message = read_network(&barley).unwrap_err().to_string();
    let location = format!("{}:{line}:", barley.display());
    assert!(
        message.starts_with(&location),
        "expected the location {location}<col>, got: {message}"
    );
    let col = message[location.len()..].split(':').next().unwrap();
    assert!(
        !col.is_empty() && col.chars().all(|c| c.is_ascii_digit()),
        "no column in: {message}"
    );
    assert!(
        message.ends_with(": variable 'pesticid' declares state '__' twice"),
        "{message}"
    );
}
