//! The `credence` command's contract, driven through the built binary: the `query --json`
//! object, engine agreement, targets, the human table, exit codes (0 success, 1 failure,
//! 2 usage) with one-line `error:` messages, `update` over a JSON-lines file, `info`, and
//! XMLBIF input.

use credence::Network;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const TOLERANCE: f64 = 1e-12;

const ASIA: &str = "networks/asia.bif";
const ALARM: &str = "networks/alarm.bif";
const CHILD: &str = "networks/child.bif";

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The one `error: ...` line of a failed run.
    #[track_caller]
    fn error_line(&self) -> &str {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "expected one line on stderr, got:\n{}",
            self.stderr
        );
        assert!(lines[0].starts_with("error: "), "stderr: {}", self.stderr);
        assert!(
            self.stdout.is_empty(),
            "stdout of a failure: {}",
            self.stdout
        );
        lines[0]
    }
}

fn credence_in(dir: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_credence"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run credence");
    Run {
        code: output.status.code().expect("exit code (not a signal)"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

fn credence(args: &[&str]) -> Run {
    credence_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// Runs `query NETWORK ARGS... --json`, checks it printed exactly one JSON object on one line.
#[track_caller]
fn query_json(network: &str, args: &[&str]) -> Value {
    let mut all = vec!["query", network];
    all.extend_from_slice(args);
    all.push("--json");
    let run = credence(&all).expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout:\n{}", run.stdout);
    assert!(run.stdout.ends_with('\n'));
    let value: Value = serde_json::from_str(lines[0]).expect("valid JSON");
    assert!(value.is_object(), "{value}");
    value
}

fn load(network: &str) -> Network {
    credence::io::read_network(Path::new(env!("CARGO_MANIFEST_DIR")).join(network)).unwrap()
}

fn p(object: &Value, variable: &str, state: &str) -> f64 {
    object["posteriors"][variable][state]
        .as_f64()
        .unwrap_or_else(|| panic!("no P({variable}={state}) in {object}"))
}

fn ln_p(object: &Value) -> f64 {
    object["log_p_evidence"].as_f64().expect("log_p_evidence")
}

fn keys(object: &Value) -> Vec<&str> {
    object
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// Same variables and states in the same order, probabilities within `TOLERANCE`.
#[track_caller]
fn assert_same_posteriors(a: &Value, b: &Value) {
    assert_eq!(keys(a), keys(b), "variables");
    for (variable, states) in a.as_object().unwrap() {
        assert_eq!(keys(states), keys(&b[variable]), "states of {variable}");
        for (state, pa) in states.as_object().unwrap() {
            let (pa, pb) = (pa.as_f64().unwrap(), b[variable][state].as_f64().unwrap());
            assert!(
                (pa - pb).abs() <= TOLERANCE,
                "P({variable}={state}): {pa} vs {pb}"
            );
        }
    }
}

#[track_caller]
fn assert_close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= TOLERANCE, "{what}: {a} vs {b}");
}

/// A scratch directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("credence-cli-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn file_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

// ---------------------------------------------------------------------------------------------
// query --json

#[test]
fn query_json_object() {
    let object = query_json(ASIA, &["-e", "smoke=yes"]);
    // The contract's four keys come first; the default engine (auto) adds why it chose.
    assert_eq!(
        keys(&object),
        [
            "network",
            "engine",
            "log_p_evidence",
            "posteriors",
            "engine_reason"
        ]
    );
    let exact = query_json(ASIA, &["-e", "smoke=yes", "--engine", "jt"]);
    assert_eq!(
        keys(&exact),
        ["network", "engine", "log_p_evidence", "posteriors"]
    );
    assert_eq!(object["network"], "asia");
    assert_eq!(object["engine"], "jt");
    let network = load(ASIA);
    let posteriors = &object["posteriors"];
    let names: Vec<&str> = network.variables().iter().map(|v| v.name()).collect();
    assert_eq!(keys(posteriors), names, "every variable, in network order");
    for variable in network.variables() {
        let states = &posteriors[variable.name()];
        let state_names: Vec<&str> = variable.states().iter().map(String::as_str).collect();
        assert_eq!(keys(states), state_names, "states of {}", variable.name());
        let mut sum = 0.0;
        for state in variable.states() {
            let value = states[state].as_f64().unwrap();
            assert!(
                (0.0..=1.0).contains(&value),
                "{}={state}: {value}",
                variable.name()
            );
            sum += value;
        }
        assert_close(sum, 1.0, &format!("sum over {}", variable.name()));
    }
    assert_close(p(&object, "smoke", "yes"), 1.0, "P(smoke=yes)");
    assert_close(p(&object, "smoke", "no"), 0.0, "P(smoke=no)");
    assert_close(ln_p(&object), 0.5f64.ln(), "ln P(smoke=yes)");
    assert_close(p(&object, "lung", "yes"), 0.1, "P(lung=yes | smoke=yes)");
    assert_close(p(&object, "bronc", "yes"), 0.6, "P(bronc=yes | smoke=yes)");
}

#[test]
fn query_without_evidence_has_log_p_zero() {
    let object = query_json(ASIA, &[]);
    assert_close(ln_p(&object), 0.0, "ln P(no evidence)");
    assert_close(p(&object, "asia", "yes"), 0.01, "P(asia=yes)");
    assert_close(p(&object, "smoke", "yes"), 0.5, "P(smoke=yes)");
}

#[test]
fn engines_agree() {
    let cases: [&[&str]; 6] = [
        &[],
        &["-e", "smoke=yes"],
        &["-e", "xray=yes", "-e", "dysp=no"],
        &["--soft", "xray=0.9,0.2"],
        &[
            "-e",
            "asia=yes",
            "--soft",
            "xray=0.9,0.2",
            "--soft",
            "dysp=0.3,0.7",
        ],
        &[
            "-e",
            "either=yes",
            "--soft",
            "xray=0.9,0.2",
            "--soft",
            "xray=0.5,1",
        ],
    ];
    for case in cases {
        let jt = query_json(ASIA, case);
        assert_eq!(jt["engine"], "jt");
        for (flag, name) in [
            ("ve", "ve"),
            ("enum", "enum"),
            ("variable-elimination", "ve"),
        ] {
            let mut args = case.to_vec();
            args.extend(["--engine", flag]);
            let other = query_json(ASIA, &args);
            assert_eq!(other["engine"], name, "{case:?}");
            assert_eq!(other["network"], "asia");
            assert_close(
                ln_p(&jt),
                ln_p(&other),
                &format!("ln P(e) for {case:?} with {flag}"),
            );
            assert_same_posteriors(&jt["posteriors"], &other["posteriors"]);
        }
    }
    // A larger network, with targets.
    let args = [
        "-e",
        "HRBP=HIGH",
        "--soft",
        "CO=0.2,0.3,0.5",
        "-t",
        "LVFAILURE",
        "-t",
        "CO",
    ];
    let jt = query_json(ALARM, &args);
    let mut ve_args = args.to_vec();
    ve_args.extend(["--engine", "ve"]);
    let ve = query_json(ALARM, &ve_args);
    assert_eq!(ve["engine"], "ve");
    assert_close(ln_p(&jt), ln_p(&ve), "alarm ln P(e)");
    assert_same_posteriors(&jt["posteriors"], &ve["posteriors"]);
}

#[test]
fn soft_evidence_matches_hand_computation() {
    // P(xray=yes) = 0.11029 in asia; likelihood (0.9, 0.2) gives
    // P(e) = 0.9 P(xray=yes) + 0.2 P(xray=no).
    let prior = query_json(ASIA, &[]);
    let p_yes = p(&prior, "xray", "yes");
    let object = query_json(ASIA, &["--soft", "xray=0.9,0.2"]);
    let p_e = 0.9 * p_yes + 0.2 * (1.0 - p_yes);
    assert_close(ln_p(&object), p_e.ln(), "ln P(soft evidence)");
    assert_close(
        p(&object, "xray", "yes"),
        0.9 * p_yes / p_e,
        "P(xray=yes | soft)",
    );
}

#[test]
fn targets_restrict_and_order_the_posteriors() {
    let all = query_json(ASIA, &["-e", "smoke=yes"]);
    let object = query_json(
        ASIA,
        &[
            "-e",
            "smoke=yes",
            "-t",
            "lung",
            "-t",
            "asia",
            "--target",
            "smoke",
        ],
    );
    assert_eq!(keys(&object["posteriors"]), ["lung", "asia", "smoke"]);
    assert_close(
        ln_p(&object),
        ln_p(&all),
        "ln P(e) does not depend on targets",
    );
    for variable in ["lung", "asia", "smoke"] {
        for state in ["yes", "no"] {
            assert_close(
                p(&object, variable, state),
                p(&all, variable, state),
                variable,
            );
        }
    }
    let ve = query_json(
        ASIA,
        &[
            "-e",
            "smoke=yes",
            "-t",
            "dysp",
            "-t",
            "tub",
            "--engine",
            "ve",
        ],
    );
    assert_eq!(keys(&ve["posteriors"]), ["dysp", "tub"]);
    // A target named twice is reported once.
    let twice = query_json(ASIA, &["-t", "lung", "-t", "lung"]);
    assert_eq!(keys(&twice["posteriors"]), ["lung"]);
    // An unknown target is an error, with a suggestion.
    let run = credence(&["query", ASIA, "-t", "lungs"]).expect_code(1);
    assert!(
        run.error_line()
            .starts_with("error: unknown variable 'lungs' (did you mean 'lung'?"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// The human table

#[test]
fn human_output() {
    let run =
        credence(&["query", ASIA, "-e", "smoke=yes", "--soft", "xray=0.9,0.2"]).expect_code(0);
    let out = &run.stdout;
    assert!(run.stderr.is_empty(), "stderr: {}", run.stderr);
    assert!(
        out.starts_with("network asia · engine jt · evidence: smoke=yes, xray~[0.9, 0.2]\n"),
        "{out}"
    );
    assert!(out.contains("ln P(e) = "), "{out}");
    for variable in load(ASIA).variables() {
        assert!(
            out.lines().any(|l| l.starts_with(variable.name())),
            "no heading for {}:\n{out}",
            variable.name()
        );
    }
    assert!(out.lines().any(|l| l == "smoke  (observed)"), "{out}");
    assert!(out.lines().any(|l| l == "xray  (soft evidence)"), "{out}");
    assert!(out.lines().any(|l| l == "lung"), "{out}");
    // P(smoke=yes) = 1: a full bar of 30 cells.
    let smoke_yes = out
        .lines()
        .find(|l| l.trim_start().starts_with("yes  1.0000"))
        .unwrap_or_else(|| panic!("no 'yes  1.0000' line:\n{out}"));
    assert!(smoke_yes.ends_with(&"█".repeat(30)), "{smoke_yes}");
    assert!(out.contains('█'));
}

// ---------------------------------------------------------------------------------------------
// State names with special characters

#[test]
fn child_state_names_with_special_characters() {
    let object = query_json(
        CHILD,
        &[
            "-e",
            "ChestXray=Asy/Patch",
            "-e",
            "LowerBodyO2=<5",
            "-e",
            "CO2Report=>=7.5",
            "-e",
            "Age=0-3_days",
        ],
    );
    assert_eq!(object["network"], "child");
    assert_close(p(&object, "ChestXray", "Asy/Patch"), 1.0, "ChestXray");
    assert_close(p(&object, "LowerBodyO2", "<5"), 1.0, "LowerBodyO2");
    assert_close(p(&object, "CO2Report", ">=7.5"), 1.0, "CO2Report");
    assert_close(p(&object, "Age", "0-3_days"), 1.0, "Age");
    assert_eq!(keys(&object["posteriors"]["RUQO2"]), ["<5", "5-12", "12+"]);
    assert_eq!(
        keys(&object["posteriors"]["XrayReport"]),
        [
            "Normal",
            "Oligaemic",
            "Plethoric",
            "Grd_Glass",
            "Asy/Patchy"
        ]
    );
    assert!(ln_p(&object) < 0.0 && ln_p(&object).is_finite());
    // The same query with variable elimination.
    let ve = query_json(
        CHILD,
        &[
            "-e",
            "ChestXray=Asy/Patch",
            "-e",
            "LowerBodyO2=<5",
            "-e",
            "CO2Report=>=7.5",
            "-e",
            "Age=0-3_days",
            "--engine",
            "ve",
        ],
    );
    assert_close(ln_p(&object), ln_p(&ve), "child ln P(e)");
    assert_same_posteriors(&object["posteriors"], &ve["posteriors"]);
    // A near miss on such a state is suggested.
    let run = credence(&["query", CHILD, "-e", "XrayReport=Asy/Patch"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: variable 'XrayReport' has no state 'Asy/Patch' (did you mean 'Asy/Patchy'? valid: Normal, Oligaemic, Plethoric, Grd_Glass, Asy/Patchy)"
    );
}

// ---------------------------------------------------------------------------------------------
// Exit codes and messages

#[test]
fn unknown_variable() {
    let run = credence(&["query", ASIA, "-e", "smok=yes"]).expect_code(1);
    let line = run.error_line();
    assert!(line.starts_with("error: unknown variable"), "{line}");
    assert!(line.contains("did you mean 'smoke'?"), "{line}");
    assert_eq!(
        line,
        "error: unknown variable 'smok' (did you mean 'smoke'? valid: asia, tub, smoke, lung, bronc, either, xray, dysp)"
    );
    // Far from every name: no suggestion, but the valid names.
    let run = credence(&["query", ASIA, "-e", "temperature=high"]).expect_code(1);
    let line = run.error_line();
    assert!(
        line.starts_with("error: unknown variable 'temperature'"),
        "{line}"
    );
    assert!(!line.contains("did you mean"), "{line}");
    assert!(line.contains("valid: asia, tub"), "{line}");
    // Soft evidence names are resolved the same way.
    let run = credence(&["query", ASIA, "--soft", "xra=0.9,0.2"]).expect_code(1);
    assert!(
        run.error_line().contains("did you mean 'xray'?"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_state() {
    let run = credence(&["query", ASIA, "-e", "smoke=maybe"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: variable 'smoke' has no state 'maybe' (valid: yes, no)"
    );
}

#[test]
fn malformed_evidence_is_a_usage_error() {
    for bad in ["smoke", "=yes", "smoke="] {
        let run = credence(&["query", ASIA, "-e", bad]).expect_code(2);
        assert!(
            run.stderr
                .contains(&format!("expected VAR=STATE, got '{bad}'")),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
    let run = credence(&["query", ASIA, "--soft", "xray=0.9,lots"]).expect_code(2);
    assert!(
        run.stderr
            .contains("'lots' in 'xray=0.9,lots' is not a number"),
        "{}",
        run.stderr
    );
    let run = credence(&["query", ASIA, "--soft", "xray"]).expect_code(2);
    assert!(
        run.stderr.contains("expected VAR=L1,L2,..., got 'xray'"),
        "{}",
        run.stderr
    );
}

#[test]
fn conflicting_evidence() {
    let run = credence(&["query", ASIA, "-e", "smoke=yes", "-e", "smoke=no"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: conflicting evidence: 'smoke' observed as both 'yes' and 'no'"
    );
    // The same observation twice is not a conflict.
    let object = query_json(ASIA, &["-e", "smoke=yes", "-e", "smoke=yes"]);
    assert_close(ln_p(&object), 0.5f64.ln(), "ln P(smoke=yes)");
}

#[test]
fn impossible_evidence() {
    for engine in ["jt", "ve", "enum"] {
        let run = credence(&[
            "query",
            ASIA,
            "-e",
            "tub=yes",
            "-e",
            "either=no",
            "--engine",
            engine,
        ])
        .expect_code(1);
        let line = run.error_line();
        assert!(
            line.contains("evidence is impossible: P(e)=0"),
            "{engine}: {line}"
        );
        assert_eq!(
            line,
            "error: evidence is impossible: P(e)=0 under this network (evidence: tub=yes, either=no)",
            "{engine}"
        );
    }
}

#[test]
fn missing_network_file() {
    let run = credence(&["query", "networks/no_such_network.bif"]).expect_code(1);
    let line = run.error_line();
    assert!(
        line.starts_with("error: cannot read networks/no_such_network.bif: "),
        "{line}"
    );
    let run = credence(&["info", "networks/no_such_network.bif"]).expect_code(1);
    assert!(run.error_line().contains("networks/no_such_network.bif"));
}

#[test]
fn unknown_engine_is_a_usage_error() {
    let run = credence(&["query", ASIA, "--engine", "magic"]).expect_code(2);
    assert!(
        run.stderr.contains(
            "unknown engine 'magic' (valid: auto, jt, ve, enum, lw, gibbs, rejection, epis)"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn soft_evidence_with_the_wrong_number_of_values() {
    let run = credence(&["query", ASIA, "--soft", "xray=0.9,0.2,0.1"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: soft evidence on 'xray' has 3 values, expected one per state (2: yes, no)"
    );
    let run = credence(&["query", ASIA, "--soft", "xray=0.9"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: soft evidence on 'xray' has 1 values, expected one per state (2: yes, no)"
    );
    let run = credence(&["query", ASIA, "--soft", "xray=-1,2"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: soft evidence on 'xray': -1 is not a finite non-negative likelihood"
    );
    let run = credence(&["query", ASIA, "--soft", "xray=0,0"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: soft evidence on 'xray' is all zeros, which rules out every state"
    );
}

#[test]
fn help_and_usage() {
    for args in [
        &["--help"][..],
        &["query", "--help"],
        &["update", "--help"],
        &["info", "--help"],
    ] {
        let run = credence(args).expect_code(0);
        assert!(run.stdout.contains("Usage"), "{args:?}: {}", run.stdout);
    }
    let run = credence(&["--version"]).expect_code(0);
    assert!(run.stdout.starts_with("credence "), "{}", run.stdout);
    // No subcommand, an unknown subcommand or a missing network: usage errors.
    credence(&[]).expect_code(2);
    credence(&["frobnicate"]).expect_code(2);
    credence(&["query"]).expect_code(2);
    credence(&["update", ASIA]).expect_code(2);
}

const NOT_NORMALIZED: &str =
    "variable A {\n  type discrete [ 2 ] { a, b };\n}\nprobability ( A ) {\n  table 0.5, 0.4;\n}\n";

#[test]
fn malformed_network_file_is_one_line_with_location() {
    let dir = TempDir::new("malformed");
    let path = dir.write("broken.bif", NOT_NORMALIZED);
    let run = credence(&["query", text(&path)]).expect_code(1);
    // See `file_errors_are_not_repeated` for the exact line.
    let expected = format!(
        "error: {}:5:3: probability table of 'A' at (no parents) sums to 0.9, not 1 (tolerance 1e-6)",
        path.display()
    );
    assert!(run.error_line().starts_with(&expected), "{}", run.stderr);
    // A syntax error is one sentence.
    let path = dir.write(
        "syntax.bif",
        "variable A {\n  type discrete [ two ] { a, b };\n}\n",
    );
    let run = credence(&["info", text(&path)]).expect_code(1);
    assert_eq!(
        run.error_line(),
        format!(
            "error: {}:2:19: expected a whole number of states, found 'two'",
            path.display()
        )
    );
}

/// KNOWN BUG (src/io/mod.rs with src/cli/render.rs): `ReadError::{Io, Model, Network}` print
/// their `source` in their own message, and the CLI prints the error chain with `{:#}`, so the
/// cause is repeated:
/// `error: cannot read networks/no_such_network.bif: No such file or directory (os error 2): No such file or directory (os error 2)`
/// `error: FILE:5:3: probability table of 'A' at (no parents) sums to 0.9, not 1 (tolerance 1e-6): probability table of 'A' at (no parents) sums to 0.9, not 1 (tolerance 1e-6)`
#[test]
fn file_errors_are_not_repeated() {
    let run = credence(&["query", "networks/no_such_network.bif"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: cannot read networks/no_such_network.bif: No such file or directory (os error 2)"
    );
    let dir = TempDir::new("repeated");
    let path = dir.write("broken.bif", NOT_NORMALIZED);
    let run = credence(&["query", text(&path)]).expect_code(1);
    assert_eq!(
        run.error_line(),
        format!(
            "error: {}:5:3: probability table of 'A' at (no parents) sums to 0.9, not 1 (tolerance 1e-6)",
            path.display()
        )
    );
    let run = credence(&["query", "tests/data/bad/cycle.bif"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: tests/data/bad/cycle.bif: the network has a directed cycle: b -> c -> a -> b"
    );
}

/// An empty file is not a network: one clear sentence, exit 1.
#[test]
fn empty_network_file_is_rejected() {
    let dir = TempDir::new("empty");
    let path = dir.write("empty.bif", "");
    let run = credence(&["query", text(&path)]).expect_code(1);
    assert!(
        run.error_line().ends_with(
            "no 'variable' declarations found: this is not a BIF network (or it is empty)"
        ),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// update

const SOFT_CASE: &str =
    r#"{"id": "a", "evidence": {"smoke": "yes"}, "soft_evidence": {"xray": [0.9, 0.2]}}"#;

#[test]
fn update_with_failing_cases() {
    let dir = TempDir::new("update-failing");
    let cases = [
        SOFT_CASE,
        r#"{"id": 2, "evidence": {"smok": "yes"}}"#,
        "",
        r#"{"evidence": {"tub": "yes", "either": "no"}}"#,
        r#"{"evidence": {"smoke": "yes""#,
        r#"{"evidence": {"asia": "yes", "dysp": "no"}}"#,
    ];
    let input = dir.write("cases.jsonl", &(cases.join("\n") + "\n"));
    let out = dir.0.join("out.jsonl");
    let run =
        credence(&["update", ASIA, "--cases", text(&input), "--out", text(&out)]).expect_code(1);
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    let output = std::fs::read_to_string(&out).expect("the output is written even when cases fail");
    let records: Vec<Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    assert_eq!(
        records.len(),
        5,
        "one line per non-blank input line:\n{output}"
    );

    // Ids echoed in input order; a missing id becomes the line number (blank lines count).
    let ids: Vec<&Value> = records.iter().map(|r| &r["id"]).collect();
    assert_eq!(
        ids,
        [
            &Value::from("a"),
            &Value::from(2),
            &Value::from(4),
            &Value::from(5),
            &Value::from(6)
        ]
    );

    // Good cases: exactly what `query --json` gives.
    let good = [
        (
            0,
            query_json(ASIA, &["-e", "smoke=yes", "--soft", "xray=0.9,0.2"]),
        ),
        (4, query_json(ASIA, &["-e", "asia=yes", "-e", "dysp=no"])),
    ];
    for (index, expected) in &good {
        let record = &records[*index];
        assert_eq!(
            keys(record),
            [
                "id",
                "engine",
                "log_p_evidence",
                "posteriors",
                "engine_reason"
            ]
        );
        assert_close(ln_p(record), ln_p(expected), &format!("case {index}"));
        assert_same_posteriors(&record["posteriors"], &expected["posteriors"]);
    }

    // Bad cases: an error field with a clear message, and nothing else but the id.
    let error = |index: usize| -> &str {
        let record = &records[index];
        assert_eq!(keys(record), ["id", "error"], "{record}");
        record["error"].as_str().expect("error is a string")
    };
    assert_eq!(
        error(1),
        "unknown variable 'smok' (did you mean 'smoke'? valid: asia, tub, smoke, lung, bronc, either, xray, dysp)"
    );
    assert_eq!(
        error(2),
        "evidence is impossible: P(e)=0 under this network (evidence: tub=yes, either=no)"
    );
    assert!(error(3).starts_with("malformed JSON: "), "{}", error(3));

    // stderr: one line per failed case with its line number, then a summary.
    let shown = input.display();
    for (line, message) in [
        (2, "unknown variable 'smok'"),
        (4, "evidence is impossible"),
        (5, "malformed JSON"),
    ] {
        let prefix = format!("{shown}:{line}: {message}");
        assert!(
            run.stderr.lines().any(|l| l.starts_with(&prefix)),
            "no '{prefix}' in stderr:\n{}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("5 cases, 3 failed"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 4, "{}", run.stderr);

    // Nothing left behind but the input and the output.
    assert_eq!(dir.file_names(), ["cases.jsonl", "out.jsonl"]);
}

#[test]
fn update_all_good() {
    let dir = TempDir::new("update-good");
    let cases = [
        SOFT_CASE,
        r#"{"id": "b", "evidence": {"either": "yes"}}"#,
        r#"{}"#,
        "   ",
        r#"{"id": [1, 2], "soft_evidence": {"dysp": [0.3, 0.7]}}"#,
    ];
    let input = dir.write("cases.jsonl", &cases.join("\n"));
    let out = dir.0.join("out.jsonl");
    let run =
        credence(&["update", ASIA, "--cases", text(&input), "--out", text(&out)]).expect_code(0);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("4 cases, 0 failed"), "{}", run.stderr);
    let output = std::fs::read_to_string(&out).unwrap();
    let records: Vec<Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4);
    assert_eq!(records[0]["id"], "a");
    assert_eq!(records[1]["id"], "b");
    assert_eq!(records[2]["id"], 3);
    assert_eq!(records[3]["id"], serde_json::json!([1, 2]));
    let prior = query_json(ASIA, &[]);
    assert_close(ln_p(&records[2]), 0.0, "ln P(no evidence)");
    assert_same_posteriors(&records[2]["posteriors"], &prior["posteriors"]);
    let soft = query_json(ASIA, &["--soft", "dysp=0.3,0.7"]);
    assert_close(ln_p(&records[3]), ln_p(&soft), "soft only");
    assert_same_posteriors(&records[3]["posteriors"], &soft["posteriors"]);

    // No temporary files (".out.jsonl.partial-...") remain.
    let names = dir.file_names();
    assert!(!names.iter().any(|n| n.starts_with('.')), "{names:?}");
    assert_eq!(names, ["cases.jsonl", "out.jsonl"]);

    // A second run replaces the output; --quiet says nothing when all is well.
    let run = credence(&[
        "update",
        ASIA,
        "--cases",
        text(&input),
        "--out",
        text(&out),
        "--quiet",
    ])
    .expect_code(0);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), output);

    // `--out -` writes the same lines to standard output, and no file.
    let run = credence_in(
        &dir.0,
        &[
            "update",
            &Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(ASIA)
                .display()
                .to_string(),
            "--cases",
            "cases.jsonl",
            "--out",
            "-",
            "-t",
            "lung",
        ],
    )
    .expect_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    let first: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(keys(&first["posteriors"]), ["lung"]);
    assert_close(
        p(&first, "lung", "yes"),
        p(&records[0], "lung", "yes"),
        "targets in update",
    );
    assert_eq!(dir.file_names(), ["cases.jsonl", "out.jsonl"]);
}

#[test]
fn update_rejects_case_shapes() {
    let dir = TempDir::new("update-shapes");
    let cases = [
        r#"[1, 2]"#,
        r#"{"evidence": {"smoke": "yes"}, "extra": 1}"#,
        r#"{"evidence": ["smoke", "yes"]}"#,
        r#"{"evidence": {"smoke": true}}"#,
        r#"{"soft_evidence": {"xray": "0.9,0.2"}}"#,
        r#"{"soft_evidence": {"xray": [0.9]}}"#,
    ];
    let input = dir.write("cases.jsonl", &cases.join("\n"));
    let run = credence(&["update", ASIA, "--cases", text(&input), "--out", "-"]).expect_code(1);
    let errors: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            let record: Value = serde_json::from_str(l).unwrap();
            record["error"]
                .as_str()
                .expect("an error record")
                .to_string()
        })
        .collect();
    assert_eq!(
        errors,
        [
            "expected a JSON object with \"evidence\" and/or \"soft_evidence\"",
            "unknown field \"extra\" (valid: id, evidence, soft_evidence)",
            "\"evidence\" must be an object {VAR: STATE}",
            "the state of 'smoke' must be a string, found true",
            "the soft evidence on 'xray' must be an array of numbers",
            "soft evidence on 'xray' has 1 values, expected one per state (2: yes, no)",
        ]
    );
}

#[test]
fn update_with_a_missing_cases_file() {
    let dir = TempDir::new("update-missing");
    let input = dir.0.join("nope.jsonl");
    let out = dir.0.join("out.jsonl");
    let run =
        credence(&["update", ASIA, "--cases", text(&input), "--out", text(&out)]).expect_code(1);
    assert_eq!(
        run.error_line(),
        format!("error: cases file '{}' does not exist", input.display())
    );
    assert!(dir.file_names().is_empty());
}

// ---------------------------------------------------------------------------------------------
// info

#[test]
fn info_summary() {
    let run = credence(&["info", ALARM]).expect_code(0);
    let out = &run.stdout;
    assert!(out.starts_with("network     alarm\n"), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("variables   37 ")),
        "{out}"
    );
    let treewidth = out
        .lines()
        .find(|l| l.trim_start().starts_with("treewidth"))
        .unwrap_or_else(|| panic!("no treewidth line:\n{out}"));
    let width: usize = treewidth
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .expect("treewidth is a number");
    assert!((1..37).contains(&width), "{treewidth}");
    assert!(
        out.lines().any(|l| l.starts_with("arcs        46 ")),
        "{out}"
    );
}

#[test]
fn info_dot() {
    let run = credence(&["info", "--dot", ASIA]).expect_code(0);
    let out = &run.stdout;
    assert!(out.starts_with("digraph"), "{out}");
    assert!(out.contains("\"asia\" -> \"tub\""), "{out}");
    assert!(out.contains("\"either\" -> \"xray\""), "{out}");
    assert_eq!(out.matches(" -> ").count(), 8, "{out}");
    assert!(out.trim_end().ends_with('}'));
}

// ---------------------------------------------------------------------------------------------
// XMLBIF

/// rain -> wet. `<TABLE>` lists the `<FOR>` variable fastest:
/// P(wet | rain=yes) = (0.9, 0.1), P(wet | rain=no) = (0.2, 0.8).
const GARDEN_XMLBIF: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<BIF VERSION="0.3">
<NETWORK>
<NAME>garden</NAME>
<VARIABLE TYPE="nature">
  <NAME>rain</NAME>
  <OUTCOME>yes</OUTCOME>
  <OUTCOME>no</OUTCOME>
</VARIABLE>
<VARIABLE TYPE="nature">
  <NAME>wet grass</NAME>
  <OUTCOME>yes</OUTCOME>
  <OUTCOME>no</OUTCOME>
</VARIABLE>
<DEFINITION>
  <FOR>rain</FOR>
  <TABLE>0.2 0.8</TABLE>
</DEFINITION>
<DEFINITION>
  <FOR>wet grass</FOR>
  <GIVEN>rain</GIVEN>
  <TABLE>0.9 0.1 0.2 0.8</TABLE>
</DEFINITION>
</NETWORK>
</BIF>
"#;

#[test]
fn xmlbif_query() {
    let dir = TempDir::new("xmlbif");
    let path = dir.write("garden.xml", GARDEN_XMLBIF);
    // P(wet) = 0.2 * 0.9 + 0.8 * 0.2 = 0.34; P(rain=yes | wet=yes) = 0.18 / 0.34.
    let object = query_json(text(&path), &["-e", "wet grass=yes"]);
    assert_eq!(object["network"], "garden");
    assert_eq!(keys(&object["posteriors"]), ["rain", "wet grass"]);
    assert_close(ln_p(&object), 0.34f64.ln(), "ln P(wet grass=yes)");
    assert_close(p(&object, "rain", "yes"), 0.18 / 0.34, "P(rain=yes | wet)");
    assert_close(p(&object, "rain", "no"), 0.16 / 0.34, "P(rain=no | wet)");

    let prior = query_json(text(&path), &[]);
    assert_close(p(&prior, "wet grass", "yes"), 0.34, "P(wet grass=yes)");
    let ve = query_json(text(&path), &["-e", "wet grass=yes", "--engine", "ve"]);
    assert_same_posteriors(&object["posteriors"], &ve["posteriors"]);

    // Detected from the content when the extension says nothing.
    let bare = dir.write("garden", GARDEN_XMLBIF);
    let object = query_json(text(&bare), &["-e", "rain=no"]);
    assert_close(p(&object, "wet grass", "yes"), 0.2, "P(wet | rain=no)");
}

#[test]
fn convert_writes_every_format_and_queries_agree() {
    let dir = TempDir::new("convert");
    let asia = Path::new(env!("CARGO_MANIFEST_DIR")).join("networks/asia.bif");
    let asia = asia.to_str().unwrap();
    let expected = query_json(asia, &["-e", "smoke=yes"]);
    for name in ["asia.net", "asia.xdsl", "asia.xml"] {
        let out = dir.0.join(name);
        credence(&["convert", asia, out.to_str().unwrap()]).expect_code(0);
        let converted = query_json(out.to_str().unwrap(), &["-e", "smoke=yes"]);
        assert_eq!(converted["posteriors"], expected["posteriors"], "{name}");
    }
    // --to overrides the extension; the content is then detected when reading.
    let out = dir.0.join("asia.txt");
    credence(&["convert", asia, out.to_str().unwrap(), "--to", "net"]).expect_code(0);
    let converted = query_json(out.to_str().unwrap(), &["-e", "smoke=yes"]);
    assert_eq!(converted["posteriors"], expected["posteriors"]);
    let run = credence(&["convert", asia, out.to_str().unwrap(), "--to", "dne"]).expect_code(2);
    assert!(
        run.stderr
            .contains("unknown format 'dne' (valid: bif, xmlbif, net, xdsl, uai)"),
        "{}",
        run.stderr
    );
    let run = credence(&["convert", asia, "asia.out"]).expect_code(1);
    assert_eq!(
        run.error_line(),
        "error: cannot tell the format to write from 'asia.out': give --to bif, xmlbif, net, xdsl or uai"
    );
}

#[test]
fn a_single_precision_file_loads_with_one_warning() {
    let dir = TempDir::new("single-precision");
    // Ten f32 values of 0.1 normalised in single precision: the column sums to 1 - 1.19e-6.
    let value = f64::from(0.099_999_88_f32);
    let row: Vec<String> = (0..10).map(|_| format!("{value}")).collect();
    let states: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let text = format!(
        "variable a {{ type discrete [ 10 ] {{ {} }}; }}\nprobability ( a ) {{ table {}; }}\n",
        states.join(", "),
        row.join(", ")
    );
    let path = dir.write("single.bif", &text);
    let run = credence(&["query", path.to_str().unwrap()]).expect_code(0);
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", run.stderr);
    assert!(
        warnings[0].starts_with(&format!(
            "warning: {}: renormalised 1 column off from 1 by more than 1e-6 (within the rounding of numbers written in single precision); the worst: 'a' at (no parents) sums to 0.99999",
            path.display()
        )),
        "{}",
        warnings[0]
    );
}
