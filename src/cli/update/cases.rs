//! Reading evidence cases, JSON lines or CSV, from a file or standard input, one case at a
//! time: the input is never held whole. The reader only splits the input into cases; turning a
//! case into findings (`interpret`) is done by the workers, in parallel.

use anyhow::{Context, Result, anyhow, bail};
use credence::{Evidence, Network};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

/// The two case and result formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// A header row, then one row per case.
    Csv,
}

impl Format {
    /// The format a file name implies: `.csv` is CSV, anything else (and standard input and
    /// output) JSON lines.
    pub fn of_path(path: &std::path::Path) -> Format {
        match path.extension() {
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Jsonl,
        }
    }
}

/// The variables and states of the network the cases are about: from the network file
/// locally, or from the server's description of it in remote mode.
pub struct Schema {
    /// The local network, whose errors name near misses ("did you mean").
    network: Option<Arc<Network>>,
    names: Vec<String>,
    states: Vec<Vec<String>>,
    by_name: HashMap<String, usize>,
}

impl Schema {
    pub fn of_network(network: Arc<Network>) -> Schema {
        let variables = network
            .variable_ids()
            .map(|var| {
                let variable = network.variable(var);
                (variable.name().to_string(), variable.states().to_vec())
            })
            .collect();
        let mut schema = Schema::new(variables);
        schema.network = Some(network);
        schema
    }

    pub fn new(variables: Vec<(String, Vec<String>)>) -> Schema {
        let (names, states): (Vec<String>, Vec<Vec<String>>) = variables.into_iter().unzip();
        let by_name = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        Schema {
            network: None,
            names,
            states,
            by_name,
        }
    }

    /// The index of the variable called `name`.
    pub fn variable(&self, name: &str) -> Result<usize> {
        if let Some(&index) = self.by_name.get(name) {
            return Ok(index);
        }
        if let Some(network) = &self.network {
            network.variable_id(name)?;
        }
        bail!(
            "unknown variable '{name}' (valid: {})",
            self.names.join(", ")
        )
    }

    pub fn name(&self, index: usize) -> &str {
        &self.names[index]
    }

    pub fn states(&self, index: usize) -> &[String] {
        &self.states[index]
    }

    pub fn n_variables(&self) -> usize {
        self.names.len()
    }
}

/// One case as read, before it is interpreted.
pub struct RawCase {
    /// The input line where the case starts (from 1): for messages, and the default id.
    pub line: u64,
    /// Bytes of input read up to the end of this case, for the progress bar.
    pub offset: u64,
    pub payload: Payload,
}

pub enum Payload {
    /// A JSON line.
    Json(String),
    /// A CSV row's cells.
    Csv(Vec<String>),
    /// A row that could not be read (not UTF-8), with the reason.
    Unreadable(String),
}

/// What a CSV header says: which column is the id and which variable each other column is.
pub struct CsvLayout {
    id_column: Option<usize>,
    /// Per column, the variable it observes (`None` for the id column).
    variables: Vec<Option<usize>>,
}

impl CsvLayout {
    fn new(header: &[String], schema: &Schema, source: &str) -> Result<CsvLayout> {
        let mut id_column = None;
        let mut variables = Vec::with_capacity(header.len());
        let mut seen = HashMap::new();
        for (column, name) in header.iter().enumerate() {
            let name = name.trim();
            if let Some(first) = seen.insert(name.to_string(), column) {
                bail!(
                    "{source}: column '{name}' appears twice in the header (columns {} and {})",
                    first + 1,
                    column + 1
                );
            }
            if name == "id" {
                id_column = Some(column);
                variables.push(None);
            } else {
                let index = schema
                    .variable(name)
                    .with_context(|| format!("{source}: header, column {}", column + 1))?;
                variables.push(Some(index));
            }
        }
        Ok(CsvLayout {
            id_column,
            variables,
        })
    }
}

/// Splits an input into cases.
pub struct CaseReader {
    kind: ReaderKind,
    /// Cases read so far: the next case's position, and so the order of the output.
    pub n_read: u64,
}

enum ReaderKind {
    Jsonl {
        input: BufReader<Box<dyn Read + Send>>,
        line: u64,
        offset: u64,
        buffer: Vec<u8>,
    },
    Csv {
        input: csv::Reader<Box<dyn Read + Send>>,
        record: csv::ByteRecord,
    },
}

impl CaseReader {
    /// A reader of `input`; for CSV the header is read and checked against `schema` here, so
    /// that a wrong column fails the run before anything is computed.
    pub fn new(
        input: Box<dyn Read + Send>,
        format: Format,
        schema: &Schema,
        source: &str,
    ) -> Result<(CaseReader, Option<CsvLayout>)> {
        match format {
            Format::Jsonl => Ok((
                CaseReader {
                    kind: ReaderKind::Jsonl {
                        input: BufReader::with_capacity(1 << 16, input),
                        line: 0,
                        offset: 0,
                        buffer: Vec::new(),
                    },
                    n_read: 0,
                },
                None,
            )),
            Format::Csv => {
                let mut input = csv::ReaderBuilder::new()
                    .has_headers(true)
                    // Rows with the wrong number of cells become error records, not a failed run.
                    .flexible(true)
                    .from_reader(input);
                let header = input
                    .headers()
                    .with_context(|| format!("cannot read the CSV header of {source}"))?;
                let header: Vec<String> = header.iter().map(str::to_string).collect();
                if header.iter().all(|h| h.trim().is_empty()) {
                    bail!(
                        "{source}: the CSV input has no header row (expected an optional 'id' column and one column per observed variable)"
                    );
                }
                let layout = CsvLayout::new(&header, schema, source)?;
                Ok((
                    CaseReader {
                        kind: ReaderKind::Csv {
                            input,
                            record: csv::ByteRecord::new(),
                        },
                        n_read: 0,
                    },
                    Some(layout),
                ))
            }
        }
    }

    /// The next case, `None` at the end; an error only when the input itself cannot be read.
    pub fn next_case(&mut self) -> Result<Option<RawCase>> {
        let case = match &mut self.kind {
            ReaderKind::Jsonl {
                input,
                line,
                offset,
                buffer,
            } => loop {
                buffer.clear();
                let n = input
                    .read_until(b'\n', buffer)
                    .context("cannot read the cases")?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                *offset += n as u64;
                if buffer.iter().all(u8::is_ascii_whitespace) {
                    continue; // Blank lines are not cases (but they count as lines).
                }
                let payload = match std::str::from_utf8(buffer) {
                    Ok(text) => Payload::Json(text.trim_end().to_string()),
                    Err(e) => Payload::Unreadable(format!("the line is not UTF-8 text: {e}")),
                };
                break RawCase {
                    line: *line,
                    offset: *offset,
                    payload,
                };
            },
            ReaderKind::Csv { input, record } => {
                let more = input.read_byte_record(record).map_err(|e| match e.kind() {
                    csv::ErrorKind::Io(_) => anyhow!("cannot read the cases: {e}"),
                    _ => anyhow!("cannot read the CSV cases: {e}"),
                })?;
                if !more {
                    return Ok(None);
                }
                let line = record.position().map_or(0, |p| p.line());
                let offset = input.position().byte();
                let cells: Result<Vec<String>, _> = record
                    .iter()
                    .map(|cell| std::str::from_utf8(cell).map(str::to_string))
                    .collect();
                let payload = match cells {
                    Ok(cells) => Payload::Csv(cells),
                    Err(e) => Payload::Unreadable(format!("the row is not UTF-8 text: {e}")),
                };
                RawCase {
                    line,
                    offset,
                    payload,
                }
            }
        };
        self.n_read += 1;
        Ok(Some(case))
    }

    /// Whether reading on would have to wait for the input (nothing is buffered): then the
    /// cases read so far are worth sending on, so that a slow stream is answered as it comes.
    pub fn would_wait(&self) -> bool {
        match &self.kind {
            ReaderKind::Jsonl { input, .. } => input.buffer().is_empty(),
            ReaderKind::Csv { .. } => false,
        }
    }
}

/// Named findings of one case, not yet checked against the network.
#[derive(Debug, Default, PartialEq)]
pub struct Findings {
    pub hard: Vec<(String, String)>,
    pub soft: Vec<(String, Vec<f64>)>,
}

impl Findings {
    /// The same text for the same evidence however it was written (items sorted), for the
    /// cache. Likelihoods are keyed by their exact bits.
    pub fn key(&self) -> String {
        let mut hard: Vec<_> = self.hard.iter().collect();
        hard.sort();
        let mut soft: Vec<_> = self.soft.iter().collect();
        soft.sort_by(|a, b| a.0.cmp(&b.0));
        let mut key = String::new();
        for (var, state) in hard {
            let _ = write!(key, "{var}\u{1f}{state}\u{1e}");
        }
        key.push('\u{1d}');
        for (var, values) in soft {
            let _ = write!(key, "{var}\u{1f}");
            for v in values {
                let _ = write!(key, "{:x},", v.to_bits());
            }
            key.push('\u{1e}');
        }
        key
    }

    /// The findings as evidence on `network`, hard before soft, each in the order given.
    pub fn resolve(&self, network: &Network) -> Result<Evidence> {
        let mut evidence = Evidence::new();
        for (var, state) in &self.hard {
            evidence.observe_named(network, var, state)?;
        }
        for (var, values) in &self.soft {
            evidence.add_likelihood_named(network, var, values)?;
        }
        Ok(evidence)
    }
}

/// A case read and interpreted: its id and its findings, or why it has none.
pub struct Case {
    pub id: Value,
    pub findings: Result<Findings, String>,
}

/// Interprets one raw case. Never fails: a bad case carries its reason.
pub fn interpret(raw: &RawCase, layout: Option<&CsvLayout>, schema: &Schema) -> Case {
    let line = raw.line;
    match &raw.payload {
        Payload::Unreadable(reason) => Case {
            id: json!(line),
            findings: Err(reason.clone()),
        },
        Payload::Json(text) => {
            let value: Value = match serde_json::from_str(text) {
                Ok(value) => value,
                Err(e) => {
                    return Case {
                        id: json!(line),
                        findings: Err(format!("malformed JSON: {e}")),
                    };
                }
            };
            let id = value.get("id").cloned().unwrap_or_else(|| json!(line));
            Case {
                id,
                findings: json_findings(&value).map_err(|e| e.to_string()),
            }
        }
        Payload::Csv(cells) => {
            let layout = layout.expect("CSV rows come with a layout");
            let id = layout
                .id_column
                .and_then(|c| cells.get(c))
                .map(|cell| cell.trim())
                .filter(|cell| !cell.is_empty())
                .map_or_else(|| json!(line), |cell| json!(cell));
            Case {
                id,
                findings: csv_findings(cells, layout, schema),
            }
        }
    }
}

/// The id of a raw case as the output will show it, without interpreting the rest: what
/// `--resume` compares with the ids already written.
pub fn case_id(raw: &RawCase, layout: Option<&CsvLayout>) -> Value {
    match &raw.payload {
        Payload::Json(text) => serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| v.get("id").cloned())
            .unwrap_or_else(|| json!(raw.line)),
        Payload::Csv(cells) => layout
            .and_then(|l| l.id_column)
            .and_then(|c| cells.get(c))
            .map(|cell| cell.trim())
            .filter(|cell| !cell.is_empty())
            .map_or_else(|| json!(raw.line), |cell| json!(cell)),
        Payload::Unreadable(_) => json!(raw.line),
    }
}

fn json_findings(value: &Value) -> Result<Findings> {
    let Some(object) = value.as_object() else {
        bail!("expected a JSON object with \"evidence\" and/or \"soft_evidence\"");
    };
    if let Some(key) = object
        .keys()
        .find(|k| !["id", "evidence", "soft_evidence"].contains(&k.as_str()))
    {
        bail!("unknown field \"{key}\" (valid: id, evidence, soft_evidence)");
    }
    let mut findings = Findings::default();
    if let Some(hard) = object.get("evidence") {
        let hard = hard
            .as_object()
            .ok_or_else(|| anyhow!("\"evidence\" must be an object {{VAR: STATE}}"))?;
        for (var, state) in hard {
            let state = state
                .as_str()
                .ok_or_else(|| anyhow!("the state of '{var}' must be a string, found {state}"))?;
            findings.hard.push((var.clone(), state.to_string()));
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
            findings.soft.push((var.clone(), values));
        }
    }
    Ok(findings)
}

/// A CSV row's findings: an empty cell is unobserved, a state name is hard evidence, and
/// numbers separated by ';' (one per state, e.g. `0.9;0.2`) are soft evidence.
fn csv_findings(cells: &[String], layout: &CsvLayout, schema: &Schema) -> Result<Findings, String> {
    if cells.len() != layout.variables.len() {
        return Err(format!(
            "expected {} cells as in the header, found {}",
            layout.variables.len(),
            cells.len()
        ));
    }
    let mut findings = Findings::default();
    for (cell, variable) in cells.iter().zip(&layout.variables) {
        let (Some(index), cell) = (*variable, cell.trim()) else {
            continue;
        };
        if cell.is_empty() {
            continue;
        }
        let name = schema.name(index).to_string();
        if cell.contains(';') && !schema.states(index).iter().any(|s| s == cell) {
            let values = cell
                .split(';')
                .map(|v| v.trim().parse::<f64>())
                .collect::<Result<Vec<f64>, _>>()
                .map_err(|_| {
                    format!(
                        "the soft evidence on '{name}' must be numbers separated by ';', found '{cell}'"
                    )
                })?;
            findings.soft.push((name, values));
        } else {
            findings.hard.push((name, cell.to_string()));
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_the_order_of_items() {
        let a = Findings {
            hard: vec![("x".into(), "1".into()), ("y".into(), "2".into())],
            soft: vec![("z".into(), vec![0.5, 1.0])],
        };
        let b = Findings {
            hard: vec![("y".into(), "2".into()), ("x".into(), "1".into())],
            soft: vec![("z".into(), vec![0.5, 1.0])],
        };
        let c = Findings {
            hard: vec![("x".into(), "1".into())],
            soft: vec![("z".into(), vec![0.5, 1.0])],
        };
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
    }

    #[test]
    fn csv_cells() {
        let schema = Schema::new(vec![
            ("a".into(), vec!["yes".into(), "no".into()]),
            ("b".into(), vec!["x;y".into(), "z".into()]),
        ]);
        let header = ["id".to_string(), "a".into(), "b".into()];
        let layout = CsvLayout::new(&header, &schema, "t.csv").unwrap();
        let row = |cells: &[&str]| {
            let raw = RawCase {
                line: 3,
                offset: 0,
                payload: Payload::Csv(cells.iter().map(|c| c.to_string()).collect()),
            };
            interpret(&raw, Some(&layout), &schema)
        };
        let case = row(&["r1", "yes", ""]);
        assert_eq!(case.id, json!("r1"));
        assert_eq!(case.findings.unwrap().hard, [("a".into(), "yes".into())]);
        let case = row(&["", "0.9; 0.2", "x;y"]);
        assert_eq!(case.id, json!(3));
        let findings = case.findings.unwrap();
        assert_eq!(findings.soft, [("a".to_string(), vec![0.9, 0.2])]);
        assert_eq!(findings.hard, [("b".to_string(), "x;y".to_string())]);
        assert!(
            row(&["r", "1;x", ""])
                .findings
                .unwrap_err()
                .contains("separated by ';'")
        );
        assert!(
            row(&["r", "yes"])
                .findings
                .unwrap_err()
                .contains("expected 3 cells")
        );
        let bad = ["id".to_string(), "c".into()];
        assert!(CsvLayout::new(&bad, &schema, "t.csv").is_err());
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed, TestRunner};
    use std::sync::Arc;

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
        let network = Arc::new(
            credence::io::read_network(concat!(env!("CARGO_MANIFEST_DIR"), "/networks/asia.bif"))
                .unwrap(),
        );
        let schema = Schema::of_network(network.clone());
        let executions = std::sync::atomic::AtomicUsize::new(0);
        runner()
            .run(&line(), |line| {
                executions.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let raw = RawCase {
                    line: 1,
                    offset: 0,
                    payload: Payload::Json(line.clone()),
                };
                match interpret(&raw, None, &schema).findings {
                    Ok(findings) => {
                        let _ = findings.resolve(&network);
                    }
                    Err(error) => prop_assert!(!error.is_empty()),
                }
                let _ = crate::cli::timeline::parse_item(&line);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        eprintln!(
            "fuzz case-lines: {} executions",
            executions.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}
