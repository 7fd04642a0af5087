//! `credence update`: many evidence cases from a JSON-lines file, one result line per case, in
//! input order. The network is read and compiled once.
//!
//! A case that cannot be answered (unknown name, impossible evidence, malformed line) becomes
//! an error record `{"id": ..., "error": "..."}` and the run goes on; the exit code is then 1.
//! Output goes to a temporary file renamed into place at the end, so an interrupted run never
//! leaves a file that looks complete.

use super::{EngineArgs, ensure_file, load_network, render, resolve_targets};
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use credence::{Evidence, Network};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args, Debug)]
#[command(
    after_help = "Input, one JSON object per line (blank lines are skipped):\n  \
    {\"id\": 1, \"evidence\": {\"smoke\": \"yes\"}, \"soft_evidence\": {\"xray\": [0.9, 0.2]}}\n\
    Output, one line per case in input order:\n  \
    {\"id\": 1, \"engine\": \"jt\", \"log_p_evidence\": -0.69, \"posteriors\": {\"asia\": {\"yes\": 0.01, \"no\": 0.99}, ...}}\n\
    (sampling engines add \"stderr\", \"intervals\" and \"sampling\"; --engine auto adds \"engine_reason\")\n\
    or, for a case that failed:\n  \
    {\"id\": 1, \"error\": \"unknown variable 'smok' (did you mean 'smoke'? ...)\"}\n\
    A missing id is replaced by the line number."
)]
pub struct UpdateArgs {
    /// Network file (.bif, or .xml/.xmlbif for XMLBIF).
    network: PathBuf,

    /// Evidence cases, one JSON object per line.
    #[arg(long, value_name = "FILE.jsonl")]
    cases: PathBuf,

    /// Where to write the results ('-' for standard output).
    #[arg(long, value_name = "FILE.jsonl")]
    out: PathBuf,

    /// Variables to report [default: all]. Repeat for several.
    #[arg(short = 't', long = "target", value_name = "VAR")]
    targets: Vec<String>,

    /// Say nothing on standard error unless something fails.
    #[arg(short, long)]
    quiet: bool,

    #[command(flatten)]
    engine: EngineArgs,
}

/// Reads one case line into (id, evidence).
fn parse_case(network: &Network, line: &str, line_number: usize) -> (Value, Result<Evidence>) {
    let value: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(e) => return (json!(line_number), Err(anyhow!("malformed JSON: {e}"))),
    };
    let id = value
        .get("id")
        .cloned()
        .unwrap_or_else(|| json!(line_number));
    (id, case_evidence(network, &value))
}

fn case_evidence(network: &Network, value: &Value) -> Result<Evidence> {
    let Some(object) = value.as_object() else {
        bail!("expected a JSON object with \"evidence\" and/or \"soft_evidence\"");
    };
    if let Some(key) = object
        .keys()
        .find(|k| !["id", "evidence", "soft_evidence"].contains(&k.as_str()))
    {
        bail!("unknown field \"{key}\" (valid: id, evidence, soft_evidence)");
    }
    let mut evidence = Evidence::new();
    if let Some(hard) = object.get("evidence") {
        let hard = hard
            .as_object()
            .ok_or_else(|| anyhow!("\"evidence\" must be an object {{VAR: STATE}}"))?;
        for (var, state) in hard {
            let state = state
                .as_str()
                .ok_or_else(|| anyhow!("the state of '{var}' must be a string, found {state}"))?;
            evidence.observe_named(network, var, state)?;
        }
    }
    if let Some(soft) = object.get("soft_evidence") {
        let soft = soft
            .as_object()
            .ok_or_else(|| anyhow!("\"soft_evidence\" must be an object {{VAR: [L, ...]}}"))?;
        for (var, values) in soft {
            let values = values
                .as_array()
                .and_then(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>())
                .ok_or_else(|| {
                    anyhow!("the soft evidence on '{var}' must be an array of numbers")
                })?;
            evidence.add_likelihood_named(network, var, &values)?;
        }
    }
    Ok(evidence)
}

/// A file beside `path` that is renamed onto it only when complete.
fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".to_string());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

pub fn run(args: UpdateArgs) -> Result<ExitCode> {
    ensure_file(&args.cases, "cases file")?;
    let network = load_network(&args.network)?;
    let targets = resolve_targets(&network, &args.targets)?;
    let engine = args.engine.build(network.clone())?;
    let input = std::fs::File::open(&args.cases)
        .with_context(|| format!("cannot open {}", args.cases.display()))?;
    let to_stdout = args.out.as_os_str() == "-";
    let partial = temporary_path(&args.out);
    let sink: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?,
        )
    };
    let mut out = BufWriter::new(sink);
    let started = Instant::now();
    let (mut n_cases, mut n_failed) = (0usize, 0usize);
    let result = (|| -> Result<()> {
        for (index, line) in BufReader::new(input).lines().enumerate() {
            let line_number = index + 1;
            let line = line.with_context(|| format!("cannot read {}", args.cases.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            n_cases += 1;
            let (id, evidence) = parse_case(&network, &line, line_number);
            let answer = evidence.and_then(|e| Ok(engine.answer(&e, &targets)?));
            let record = match answer {
                Ok(answer) => {
                    let mut record = serde_json::Map::new();
                    record.insert("id".into(), id);
                    record.insert("engine".into(), json!(answer.engine.as_str()));
                    record.insert(
                        "log_p_evidence".into(),
                        json!(answer.posteriors.ln_p_evidence()),
                    );
                    record.insert(
                        "posteriors".into(),
                        render::posteriors_object(&network, &answer.posteriors),
                    );
                    render::answer_fields(&network, &answer, &mut record);
                    Value::Object(record)
                }
                Err(error) => {
                    n_failed += 1;
                    let message = render::sentence(&error);
                    eprintln!("{}:{line_number}: {message}", args.cases.display());
                    json!({"id": id, "error": message})
                }
            };
            writeln!(out, "{record}")?;
        }
        out.flush()?;
        Ok(())
    })();
    drop(out);
    if let Err(error) = result {
        if !to_stdout {
            let _ = std::fs::remove_file(&partial);
        }
        return Err(error);
    }
    if !to_stdout {
        std::fs::rename(&partial, &args.out)
            .with_context(|| format!("cannot move the results into {}", args.out.display()))?;
    }
    let elapsed = started.elapsed();
    if !args.quiet || n_failed > 0 {
        let per_case = elapsed.as_secs_f64() * 1e3 / n_cases.max(1) as f64;
        eprintln!(
            "credence update: {n_cases} cases, {n_failed} failed, {:.3} s ({per_case:.3} ms per case){}",
            elapsed.as_secs_f64(),
            if to_stdout {
                String::new()
            } else {
                format!(", written to {}", args.out.display())
            }
        );
    }
    Ok(if n_failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Fuzzing of the case and timeline line parsers: generated lines (mutated valid cases, JSON
/// fragments, deep nesting, random text) must give evidence or an error, never a panic.
/// `CREDENCE_FUZZ_CASES=N` runs N cases (default 200); see tests/fuzz.rs for the readers.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestRunner};

    const FRAGMENTS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "\"",
        "\"id\"",
        "\"evidence\"",
        "\"soft_evidence\"",
        "\"smoke\"",
        "\"yes\"",
        "\"xray\"",
        "\"date\"",
        "\"variable\"",
        "\"state\"",
        "null",
        "true",
        "1e999",
        "-0",
        "NaN",
        "0.5",
        "[0.9, 0.2]",
        "[]",
        "{}",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "18446744073709551616",
        "\u{feff}",
        "é",
    ];

    fn runner() -> TestRunner {
        let cases = std::env::var("CREDENCE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        let seed = std::env::var("CREDENCE_FUZZ_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        TestRunner::new(Config {
            cases,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(seed),
            ..Config::default()
        })
    }

    fn line() -> impl Strategy<Value = String> {
        let valid = r#"{"id": 7, "evidence": {"smoke": "yes", "asia": "no"}, "soft_evidence": {"xray": [0.9, 0.2]}}"#;
        prop_oneof![
            // A valid case with words spliced in or cut out.
            (proptest::collection::vec((0..valid.len(), 0..FRAGMENTS.len(), any::<bool>()), 1..6))
                .prop_map(move |edits| {
                    let mut text = valid.to_string();
                    for (at, fragment, cut) in edits {
                        let at = (0..=at.min(text.len()))
                            .rev()
                            .find(|&i| text.is_char_boundary(i))
                            .unwrap_or(0);
                        if cut {
                            let end = (at + 5..=text.len().min(at + 5))
                                .find(|&i| text.is_char_boundary(i))
                                .unwrap_or(text.len());
                            text.replace_range(at..end.max(at), "");
                        } else {
                            text.insert_str(at, FRAGMENTS[fragment]);
                        }
                    }
                    text
                }),
            proptest::collection::vec(0..FRAGMENTS.len(), 0..40).prop_map(|words| words
                .iter()
                .map(|&w| FRAGMENTS[w])
                .collect::<Vec<_>>()
                .join(" ")),
            (1usize..5000).prop_map(|depth| "[".repeat(depth) + &"]".repeat(depth)),
            (1usize..5000)
                .prop_map(|depth| "{\"evidence\":".repeat(depth) + "1" + &"}".repeat(depth)),
            ".{0,200}",
        ]
    }

    #[test]
    fn case_and_timeline_lines_never_panic() {
        let network =
            credence::io::read_network(concat!(env!("CARGO_MANIFEST_DIR"), "/networks/asia.bif"))
                .unwrap();
        let executions = std::sync::atomic::AtomicUsize::new(0);
        runner()
            .run(&line(), |line| {
                executions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (_, evidence) = parse_case(&network, &line, 1);
                if let Err(error) = evidence {
                    prop_assert!(!error.to_string().is_empty());
                }
                let _ = super::super::timeline::parse_item(&line);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "fuzz case-lines: {} executions",
            executions.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}
