//! The UAI inference competition's format, `BAYES` networks only (read and write).
//!
//! A preamble (`BAYES`, the number of variables, their cardinalities, the number of functions
//! and each function's scope with the child last) then one table per function: its number of
//! entries and the values, the scope's last variable varying fastest, which is the model's own
//! layout. UAI has no names: variables read as `v0`, `v1`, … and states as `0`, `1`, …; a
//! `MARKOV` file (undirected factors, not conditional distributions) is refused.

use super::{Location, ReadError};
use crate::model::{ModelError, Network, NetworkBuilder, VarId};
use std::fmt::Write as _;

struct Word<'a> {
    text: &'a str,
    line: usize,
    col: usize,
}

fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut col = 0;
        let mut start: Option<(usize, usize)> = None;
        for (i, c) in line.char_indices() {
            col += 1;
            match (c.is_whitespace(), start) {
                (false, None) => start = Some((i, col)),
                (true, Some((s, at))) => {
                    out.push(Word {
                        text: &line[s..i],
                        line: number + 1,
                        col: at,
                    });
                    start = None;
                }
                _ => {}
            }
        }
        if let Some((s, at)) = start {
            out.push(Word {
                text: &line[s..],
                line: number + 1,
                col: at,
            });
        }
    }
    out
}

struct Reader<'a> {
    words: Vec<Word<'a>>,
    next: usize,
    source: &'a str,
    /// Where the end of the text is, for "expected more" errors.
    end: (usize, usize),
}

impl<'a> Reader<'a> {
    fn location(&self, at: usize) -> Location {
        let (line, col) = self.words.get(at).map_or(self.end, |w| (w.line, w.col));
        Location {
            source: self.source.to_string(),
            line,
            col,
        }
    }

    fn error(&self, at: usize, message: String) -> ReadError {
        ReadError::Syntax {
            location: self.location(at),
            message,
        }
    }

    /// The next word; `what` (made only on error) says what was expected.
    fn word(&mut self, what: impl FnOnce() -> String) -> Result<(&'a str, usize), ReadError> {
        let at = self.next;
        match self.words.get(at) {
            Some(word) => {
                self.next += 1;
                Ok((word.text, at))
            }
            None => Err(self.error(
                at,
                format!("expected {}, found the end of the file", what()),
            )),
        }
    }

    fn count(&mut self, what: &str, max: usize) -> Result<usize, ReadError> {
        let (text, at) = self.word(|| what.to_string())?;
        match text.parse::<usize>() {
            Ok(n) if n <= max => Ok(n),
            Ok(n) => Err(self.error(at, format!("{what} is {n}, over the limit of {max}"))),
            Err(_) => Err(self.error(
                at,
                format!("expected {what}, found '{}'", super::one_line(text)),
            )),
        }
    }
}

/// Most variables (and functions) a UAI file may declare: bounds what a small file can make
/// the reader allocate.
const MAX_VARIABLES: usize = 1 << 20;

/// Reads a `BAYES` network in the UAI format; `source` names it in errors.
///
/// # Errors
/// [`ReadError::Syntax`] with `source:line:col`, [`ReadError::Model`] for an invalid network.
pub fn read_uai(text: &str, source: &str) -> Result<Network, ReadError> {
    let lines = text.lines().count();
    let mut reader = Reader {
        words: words(text),
        next: 0,
        source,
        end: (
            lines.max(1),
            text.lines().last().map_or(0, |l| l.chars().count()) + 1,
        ),
    };
    let (kind, at) = reader.word(|| "'BAYES'".to_string())?;
    match kind {
        "BAYES" => {}
        "MARKOV" => {
            return Err(reader.error(
                at,
                "this is a MARKOV network (undirected factors, not conditional probability tables); Credence reads BAYES networks only".to_string(),
            ));
        }
        other => {
            return Err(reader.error(
                at,
                format!(
                    "expected 'BAYES' as the first word, found '{}'",
                    super::one_line(other)
                ),
            ));
        }
    }
    let n = reader.count("the number of variables", MAX_VARIABLES)?;
    let mut builder = NetworkBuilder::new(
        std::path::Path::new(source)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    for i in 0..n {
        let cardinality = reader.count(&format!("the number of states of v{i}"), MAX_VARIABLES)?;
        builder
            .add_variable(format!("v{i}"), (0..cardinality).map(|s| s.to_string()))
            .map_err(|e| ReadError::Model {
                location: reader.location(reader.next - 1),
                source: Box::new(e),
            })?;
    }
    let n_functions = reader.count("the number of functions", MAX_VARIABLES)?;
    let mut scopes = Vec::with_capacity(n_functions);
    for f in 0..n_functions {
        let at = reader.next;
        let size = reader.count(&format!("the scope size of function {f}"), n.max(1))?;
        if size == 0 {
            return Err(reader.error(at, format!("function {f} has an empty scope")));
        }
        let mut scope = Vec::with_capacity(size);
        for _ in 0..size {
            let var_at = reader.next;
            let var = reader.count(
                &format!("a variable index in the scope of function {f}"),
                usize::MAX,
            )?;
            if var >= n {
                return Err(reader.error(
                    var_at,
                    format!(
                        "variable index {var} in the scope of function {f} is out of range (0..{n})"
                    ),
                ));
            }
            scope.push(VarId::new(var));
        }
        scopes.push((scope, at));
    }
    let mut precision = super::Precision::default();
    let mut table_at = vec![0; n];
    for (f, (scope, at)) in scopes.into_iter().enumerate() {
        let (&child, parents) = scope.split_last().expect("scopes are not empty");
        let expected = builder
            .table_entries(child, parents)
            .map_err(|e| ReadError::Model {
                location: reader.location(at),
                source: Box::new(e),
            })?;
        let count_at = reader.next;
        let entries = reader.count(
            &format!("the number of entries of function {f}"),
            usize::MAX,
        )?;
        if entries != expected {
            return Err(reader.error(
                count_at,
                format!("function {f} has {entries} entries, expected {expected} for its scope"),
            ));
        }
        let mut values = Vec::with_capacity(entries);
        for _ in 0..entries {
            let (text, word_at) = reader.word(|| format!("a value of function {f}"))?;
            let value: f64 = text.parse().map_err(|_| {
                reader.error(
                    word_at,
                    format!(
                        "expected a number in function {f}, found '{}'",
                        super::one_line(text)
                    ),
                )
            })?;
            precision.note(text, value);
            values.push(value);
        }
        builder
            .set_cpt(child, parents.to_vec(), values)
            .map_err(|e| ReadError::Model {
                location: reader.location(at),
                source: Box::new(e),
            })?;
        table_at[child.index()] = count_at;
    }
    if reader.next < reader.words.len() {
        let at = reader.next;
        return Err(reader.error(
            at,
            format!(
                "unexpected '{}' after the last function",
                super::one_line(reader.words[at].text)
            ),
        ));
    }
    precision.apply(&mut builder);
    builder.build().map_err(|error| {
        let at = match &error {
            ModelError::NotNormalized { variable, .. }
            | ModelError::InvalidProbability { variable, .. } => variable
                .strip_prefix('v')
                .and_then(|i| i.parse::<usize>().ok())
                .map(|i| table_at[i]),
            _ => None,
        };
        match at {
            Some(at) => ReadError::Model {
                location: reader.location(at),
                source: Box::new(error),
            },
            None => ReadError::Network {
                source_name: source.to_string(),
                source: Box::new(error),
            },
        }
    })
}

/// Writes `network` as a UAI `BAYES` file: one function per variable, in declaration order,
/// values in Rust's shortest round-trip form. Names are not kept (UAI has none).
pub fn write_uai(network: &Network) -> String {
    let mut out = String::from("BAYES\n");
    let _ = writeln!(out, "{}", network.n_variables());
    let cards: Vec<String> = network
        .variable_ids()
        .map(|v| network.cardinality(v).to_string())
        .collect();
    let _ = writeln!(out, "{}", cards.join(" "));
    let _ = writeln!(out, "{}", network.n_variables());
    for var in network.variable_ids() {
        let parents = network.parents(var);
        let _ = write!(out, "{}", parents.len() + 1);
        for v in parents.iter().chain(std::iter::once(&var)) {
            let _ = write!(out, " {}", v.index());
        }
        out.push('\n');
    }
    for var in network.variable_ids() {
        let cpt = network.cpt(var);
        let _ = writeln!(out, "\n{}", cpt.values().len());
        for column in cpt.values().chunks(network.cardinality(var)) {
            let row: Vec<String> = column.iter().map(|v| format!("{v:?}")).collect();
            let _ = writeln!(out, " {}", row.join(" "));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "BAYES\n2\n2 3\n2\n1 0\n2 0 1\n\n2\n 0.25 0.75\n6\n 0.1 0.2 0.7\n 1 0 0\n";

    #[test]
    fn reads_and_round_trips() {
        let net = read_uai(SMALL, "small.uai").unwrap();
        assert_eq!(net.name(), "small");
        let v1 = net.variable_id("v1").unwrap();
        assert_eq!(net.variable(v1).states(), ["0", "1", "2"]);
        assert_eq!(net.parents(v1), &[VarId::new(0)]);
        assert_eq!(net.cpt(v1).values(), &[0.1, 0.2, 0.7, 1.0, 0.0, 0.0]);
        let again = read_uai(&write_uai(&net), "small.uai").unwrap();
        assert_eq!(again.variables(), net.variables());
        assert_eq!(again.cpt(v1), net.cpt(v1));
    }

    #[test]
    fn refuses_markov_and_names_the_place() {
        let err = read_uai("MARKOV\n1\n2\n", "m.uai").unwrap_err().to_string();
        assert_eq!(
            err,
            "m.uai:1:1: this is a MARKOV network (undirected factors, not conditional probability tables); Credence reads BAYES networks only"
        );
        let err = read_uai(&SMALL.replace("1 0 0", "1 x 0"), "s.uai")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "s.uai:12:4: expected a number in function 1, found 'x'"
        );
        let err = read_uai(&SMALL.replace("\n6\n", "\n5\n"), "s.uai")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "s.uai:10:1: function 1 has 5 entries, expected 6 for its scope"
        );
    }
}
