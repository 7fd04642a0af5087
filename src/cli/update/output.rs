//! Writing results, JSON lines or CSV, and reading back what an interrupted run left in the
//! partial file.
//!
//! A result is rendered in two parts: the body (everything but the id), which depends only on
//! the evidence and so can be cached and shared by identical cases, and the line, which puts
//! the case's id in front.

use super::cases::Format;
use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// What became of one case's evidence.
#[derive(Debug)]
pub enum Outcome {
    /// The rendered body of the result.
    Answered(String),
    /// Why it failed, one sentence.
    Failed(String),
}

/// How results are written: the format, and for CSV the `VAR=STATE` columns.
pub struct Layout {
    pub format: Format,
    /// One (variable, state) per CSV column, in target order then state order.
    pub columns: Vec<(String, String)>,
}

impl Layout {
    /// The CSV header's fields: `id`, `log_p_evidence`, `VAR=STATE`..., `error`.
    fn header_fields(&self) -> Vec<String> {
        let mut fields = vec!["id".to_string(), "log_p_evidence".to_string()];
        fields.extend(self.columns.iter().map(|(v, s)| format!("{v}={s}")));
        fields.push("error".to_string());
        fields
    }

    /// The CSV header line; nothing for JSON lines.
    pub fn header(&self) -> Option<String> {
        (self.format == Format::Csv).then(|| {
            let fields: Vec<String> = self.header_fields().iter().map(|f| csv_field(f)).collect();
            fields.join(",") + "\n"
        })
    }

    /// The body of an answered case from its JSON record (without id): for JSON lines the
    /// object's text after its opening brace, for CSV the cells after the id.
    pub fn body(&self, record: &Map<String, Value>) -> String {
        match self.format {
            Format::Jsonl => {
                let text = Value::Object(record.clone()).to_string();
                text[1..].to_string()
            }
            Format::Csv => {
                let mut body = String::from(",");
                body.push_str(&number_cell(record.get("log_p_evidence")));
                let posteriors = record.get("posteriors");
                for (var, state) in &self.columns {
                    body.push(',');
                    body.push_str(&number_cell(
                        posteriors
                            .and_then(|p| p.get(var))
                            .and_then(|p| p.get(state)),
                    ));
                }
                body.push_str(",\n");
                body
            }
        }
    }

    /// The output line of a case.
    pub fn line(&self, id: &Value, outcome: &Outcome) -> String {
        match (self.format, outcome) {
            (Format::Jsonl, Outcome::Answered(body)) => {
                // `body` is never the empty object: it always holds at least the engine.
                format!("{{\"id\":{id},{body}\n")
            }
            (Format::Jsonl, Outcome::Failed(message)) => {
                json!({"id": id, "error": message}).to_string() + "\n"
            }
            (Format::Csv, Outcome::Answered(body)) => csv_field(&csv_id(id)) + body,
            (Format::Csv, Outcome::Failed(message)) => format!(
                "{}{}{}\n",
                csv_field(&csv_id(id)),
                ",".repeat(self.columns.len() + 2),
                csv_field(message)
            ),
        }
    }

    /// The id as the output writes it, for comparing with the ids in a partial file.
    pub fn id_key(&self, id: &Value) -> String {
        match self.format {
            Format::Jsonl => id.to_string(),
            Format::Csv => csv_id(id),
        }
    }
}

/// A number as JSON writes it (shortest round-trip form), or an empty cell.
fn number_cell(value: Option<&Value>) -> String {
    value.map(Value::to_string).unwrap_or_default()
}

/// An id as a CSV cell: strings as they are, anything else as JSON text.
fn csv_id(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A CSV field, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Where results go until they are complete: `OUT.partial`, beside the output and always the
/// same name, so that `--resume` finds it again.
pub fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

/// What an earlier, interrupted run left in the partial file.
#[derive(Debug, Default)]
pub struct Earlier {
    /// Complete records (the first cases of the input, in order).
    pub n_records: u64,
    /// Error records among them.
    pub n_failed: u64,
    /// Whether the file already starts with the CSV header.
    pub has_header: bool,
}

/// Cuts a trailing incomplete line (the run was interrupted while writing it) off the partial
/// file, then counts its records and checks that they are this run's kind of records.
pub fn scan_partial(path: &Path, layout: &Layout) -> Result<Earlier> {
    truncate_to_last_newline(path)?;
    let shown = path.display();
    let file = File::open(path).with_context(|| format!("cannot open {shown}"))?;
    let mut earlier = Earlier::default();
    match layout.format {
        Format::Jsonl => {
            for (index, line) in BufReader::new(file).lines().enumerate() {
                let line = line.with_context(|| format!("cannot read {shown}"))?;
                let record: Value = serde_json::from_str(&line).ok().unwrap_or(Value::Null);
                if record.get("id").is_none() {
                    bail!(
                        "{shown}:{}: not a result record of credence update; delete {shown} to start over",
                        index + 1
                    );
                }
                earlier.n_records += 1;
                earlier.n_failed += u64::from(record.get("error").is_some());
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(file);
            let expected = layout.header_fields();
            for (index, record) in reader.records().enumerate() {
                let record = record.with_context(|| format!("cannot read {shown}"))?;
                if index == 0 {
                    if !record.iter().eq(expected.iter().map(String::as_str)) {
                        bail!(
                            "{shown} has other columns than this run writes (other --target options?); delete it to start over"
                        );
                    }
                    earlier.has_header = true;
                    continue;
                }
                earlier.n_records += 1;
                earlier.n_failed +=
                    u64::from(record.iter().next_back().is_some_and(|e| !e.is_empty()));
            }
        }
    }
    Ok(earlier)
}

/// The ids of the records in a partial file, in order, as [`Layout::id_key`] writes them.
pub fn partial_ids(path: &Path, format: Format) -> Result<Box<dyn Iterator<Item = String> + Send>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(match format {
        Format::Jsonl => Box::new(BufReader::new(file).lines().map_while(|line| {
            let record: Value = serde_json::from_str(&line.ok()?).ok()?;
            Some(record.get("id")?.to_string())
        })),
        Format::Csv => Box::new(
            csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .from_reader(file)
                .into_records()
                .map_while(|record| Some(record.ok()?.get(0)?.to_string())),
        ),
    })
}

fn truncate_to_last_newline(path: &Path) -> Result<()> {
    let shown = path.display();
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open {shown}"))?;
    let length = file.metadata()?.len();
    let mut end = length;
    let mut block = vec![0u8; 1 << 16];
    let keep = loop {
        if end == 0 {
            break 0;
        }
        let start = end.saturating_sub(block.len() as u64);
        let chunk = &mut block[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)
            .with_context(|| format!("cannot read {shown}"))?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            break start + i as u64 + 1;
        }
        end = start;
    };
    if keep < length {
        file.set_len(keep)
            .with_context(|| format!("cannot truncate {shown}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_in_both_formats() {
        let mut record = Map::new();
        record.insert("engine".into(), json!("jt"));
        record.insert("log_p_evidence".into(), json!(-0.5));
        record.insert("posteriors".into(), json!({"a": {"y": 0.25, "n": 0.75}}));
        let jsonl = Layout {
            format: Format::Jsonl,
            columns: vec![],
        };
        let line = jsonl.line(&json!(7), &Outcome::Answered(jsonl.body(&record)));
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["id"], 7);
        assert_eq!(parsed["posteriors"]["a"]["n"], 0.75);
        assert_eq!(
            jsonl.line(&json!("x"), &Outcome::Failed("bad".into())),
            "{\"id\":\"x\",\"error\":\"bad\"}\n"
        );
        let csv = Layout {
            format: Format::Csv,
            columns: vec![("a".into(), "y".into()), ("a".into(), "n".into())],
        };
        assert_eq!(csv.header().unwrap(), "id,log_p_evidence,a=y,a=n,error\n");
        assert_eq!(
            csv.line(&json!("r,1"), &Outcome::Answered(csv.body(&record))),
            "\"r,1\",-0.5,0.25,0.75,\n"
        );
        assert_eq!(
            csv.line(&json!(3), &Outcome::Failed("no \"x\"".into())),
            "3,,,,\"no \"\"x\"\"\"\n"
        );
    }

    #[test]
    fn partial_files_lose_their_incomplete_last_line() {
        let dir = std::env::temp_dir().join(format!("credence-partial-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.jsonl.partial");
        std::fs::write(
            &path,
            "{\"id\":1}\n{\"id\":2,\"error\":\"x\"}\n{\"id\":3,\"eng",
        )
        .unwrap();
        let layout = Layout {
            format: Format::Jsonl,
            columns: vec![],
        };
        let earlier = scan_partial(&path, &layout).unwrap();
        assert_eq!((earlier.n_records, earlier.n_failed), (2, 1));
        let ids: Vec<String> = partial_ids(&path, Format::Jsonl).unwrap().collect();
        assert_eq!(ids, ["1", "2"]);
        std::fs::write(&path, "garbage\n").unwrap();
        assert!(scan_partial(&path, &layout).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
