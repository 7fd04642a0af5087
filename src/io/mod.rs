//! Reading and writing networks: BIF (read and write) and XMLBIF 0.3 (read and write).
//!
//! Every error names the source and, where it has one, the `line:col` of the offending text
//! and what was expected there. Malformed input is an error, never a panic.

mod bif;
mod net;
mod uai;
mod xdsl;
mod xmlbif;

pub use bif::{read_bif, write_bif};
pub use net::{read_net, write_net};
pub use uai::{read_uai, write_uai};
pub use xdsl::{read_xdsl, write_xdsl};

use net::quoted as net_quoted;
pub use xmlbif::{read_xmlbif, write_xmlbif};

use crate::model::{ModelError, Network};
use std::fmt;
use std::path::Path;

/// A position in a source text: `file:line:col`, both 1-based, columns in characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file name (or `<input>`).
    pub source: String,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.source, self.line, self.col)
    }
}

/// Why a network could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The text does not follow the format.
    #[error("{location}: {}", one_line(message))]
    Syntax {
        /// Where.
        location: Location,
        /// What was expected and what was found.
        message: String,
    },
    /// The text parses but describes an invalid network.
    #[error("{location}: {}", one_line(&source.to_string()))]
    Model {
        /// Where the offending declaration starts.
        location: Location,
        /// What is wrong.
        source: Box<ModelError>,
    },
    /// An invalid network, where no single place is to blame (e.g. a cycle).
    #[error("{source_name}: {}", one_line(&source.to_string()))]
    Network {
        /// The file name.
        source_name: String,
        /// What is wrong.
        source: Box<ModelError>,
    },
}

/// Why a network could not be written in a format.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {format}: {message}")]
pub struct WriteError {
    /// The format's name.
    pub format: &'static str,
    /// What the format cannot hold.
    pub message: String,
}

/// A message quoting input text, made one line: names read from a file may hold newlines or
/// other control characters, which are shown escaped (`\n`) instead.
pub fn one_line(message: &str) -> String {
    if !message.chars().any(char::is_control) {
        return message.to_string();
    }
    message
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A network file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The Bayesian Interchange Format, as in the bnlearn repository.
    Bif,
    /// XMLBIF 0.3.
    XmlBif,
    /// The Hugin NET language.
    Net,
    /// GeNIe's XDSL.
    Xdsl,
    /// The UAI competition format (`BAYES` networks; no names).
    Uai,
}

impl Format {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [Format; 5] = [
        Format::Bif,
        Format::XmlBif,
        Format::Net,
        Format::Xdsl,
        Format::Uai,
    ];

    /// The format's short name, as `--to` takes it: `bif`, `xmlbif`, `net`, `xdsl`, `uai`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Bif => "bif",
            Format::XmlBif => "xmlbif",
            Format::Net => "net",
            Format::Xdsl => "xdsl",
            Format::Uai => "uai",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Bif => "bif",
            Format::XmlBif => "xml",
            Format::Net => "net",
            Format::Xdsl => "xdsl",
            Format::Uai => "uai",
        }
    }

    /// The format a short name or an extension names (case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "bif" => Some(Format::Bif),
            "xml" | "xmlbif" => Some(Format::XmlBif),
            "net" | "hugin" => Some(Format::Net),
            "xdsl" | "genie" => Some(Format::Xdsl),
            "uai" => Some(Format::Uai),
            _ => None,
        }
    }

    /// The format a path's extension names, or else the one its content looks like.
    pub fn detect(path: &Path, text: &str) -> Format {
        path.extension()
            .and_then(|e| e.to_str())
            .and_then(Format::from_name)
            .unwrap_or_else(|| Format::of_content(text))
    }

    /// The format `text` looks like: XML with a `<smile` root is XDSL, other XML is XMLBIF, a
    /// first word `net`, `node` or `class` (after `%` comments) is NET, `BAYES` or `MARKOV` is
    /// UAI, anything else BIF.
    pub fn of_content(text: &str) -> Format {
        let mut rest = text.trim_start_matches('\u{feff}').trim_start();
        while rest.starts_with('%') {
            rest = rest
                .split_once('\n')
                .map_or("", |(_, after)| after)
                .trim_start();
        }
        if rest.starts_with('<') {
            return if text.contains("<smile") {
                Format::Xdsl
            } else {
                Format::XmlBif
            };
        }
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        match word.as_str() {
            "net" | "node" | "class" => Format::Net,
            "BAYES" | "MARKOV" => Format::Uai,
            _ => Format::Bif,
        }
    }

    /// Reads `text` in this format; `source` names it in errors.
    ///
    /// # Errors
    /// [`ReadError`], as each reader documents.
    pub fn read(self, text: &str, source: &str) -> Result<Network, ReadError> {
        match self {
            Format::Bif => read_bif(text, source),
            Format::XmlBif => read_xmlbif(text, source),
            Format::Net => read_net(text, source),
            Format::Xdsl => read_xdsl(text, source),
            Format::Uai => read_uai(text, source),
        }
    }

    /// Writes `network` in this format.
    ///
    /// # Errors
    /// [`WriteError`] when the format cannot hold a name or property of the network.
    pub fn write(self, network: &Network) -> Result<String, WriteError> {
        match self {
            Format::Bif => Ok(write_bif(network)),
            Format::XmlBif => Ok(write_xmlbif(network)),
            Format::Net => write_net(network),
            Format::Xdsl => write_xdsl(network),
            Format::Uai => Ok(write_uai(network)),
        }
    }
}

/// Reads a network file, choosing the format from its extension (`.bif`, `.xml`, `.xmlbif`,
/// `.net`, `.xdsl`, `.uai`) or else its content.
///
/// Bytes that are not UTF-8 (old files carry Latin-1 in comments) are replaced, not rejected.
///
/// # Errors
/// [`ReadError`] with the file name and, for format errors, `line:col`.
pub fn read_network(path: impl AsRef<Path>) -> Result<Network, ReadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let source = path.display().to_string();
    Format::detect(path, &text).read(&text, &source)
}

/// How a file's table entries were written, learnt from their texts while reading, so that
/// the builder accepts the column sums that rounding them explains (and only those).
///
/// A writer uses one precision for a whole file and drops trailing zeros, so the longest
/// number shows it: `k` significant digits round each entry by at most half a unit in the
/// `k`-th decimal place of a probability. Numbers of 10 or more digits that are all exact
/// `f32` values (pyAgrum prints `0.009999999776482582` for 0.01) were computed in single
/// precision, whose sums drift by about one step (2^-23) per entry. Files whose numbers all
/// have fewer than 6 digits were typed by hand and their columns are taken as meant (the
/// fixed 1e-6 tolerance applies).
#[derive(Clone, Debug, Default)]
pub(crate) struct Precision {
    digits: usize,
    long: usize,
    long_single: usize,
}

/// The fewest digits credited to a writer: no tool writes probabilities shorter.
const MIN_WRITTEN_DIGITS: usize = 6;

impl Precision {
    /// Takes note of one entry as written (`text`) and read (`value`).
    pub(crate) fn note(&mut self, text: &str, value: f64) {
        let mantissa = text
            .split(['e', 'E'])
            .next()
            .unwrap_or("")
            .trim_start_matches(['+', '-']);
        let digits = mantissa
            .chars()
            .filter(char::is_ascii_digit)
            .skip_while(|&c| c == '0')
            .count();
        let digits = if mantissa.contains('.') {
            digits
        } else {
            // An integer's trailing zeros are not precision (`100` is exact).
            mantissa.trim_end_matches('0').len().min(digits)
        };
        self.digits = self.digits.max(digits);
        if digits >= 10 {
            self.long += 1;
            if f64::from(value as f32) == value {
                self.long_single += 1;
            }
        }
    }

    /// Tells `builder` how far each entry may be from the value meant.
    pub(crate) fn apply(&self, builder: &mut crate::model::NetworkBuilder) {
        if self.long > 0 && self.long_single == self.long {
            builder.set_entry_rounding(
                f64::from(f32::EPSILON),
                "within the rounding of numbers written in single precision",
            );
        } else if self.digits >= MIN_WRITTEN_DIGITS {
            let digits = i32::try_from(self.digits).unwrap_or(i32::MAX);
            builder.set_entry_rounding(
                0.5 * 10f64.powi(-digits),
                format!(
                    "within the rounding of numbers written at {} significant digits",
                    self.digits
                ),
            );
        }
    }
}

/// Quotes `name` for BIF when it would not read back as one word (the tokenizer also skips a
/// byte-order mark as blank).
pub(crate) fn needs_quotes(name: &str) -> bool {
    name.is_empty()
        || name.contains("//")
        || name.contains("/*")
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '\u{feff}' || "{}()[];,|\"".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounding_of(texts: &[&str]) -> Result<Network, ModelError> {
        let mut precision = Precision::default();
        let values: Vec<f64> = texts.iter().map(|t| t.parse().unwrap()).collect();
        for (text, &value) in texts.iter().zip(&values) {
            precision.note(text, value);
        }
        let mut builder = crate::model::NetworkBuilder::new("t");
        let states: Vec<String> = (0..values.len()).map(|i| format!("s{i}")).collect();
        let a = builder.add_variable("a", states).unwrap();
        builder.set_cpt(a, vec![], values).unwrap();
        precision.apply(&mut builder);
        builder.build()
    }

    #[test]
    fn tolerance_follows_the_written_precision() {
        // Five entries at 6 digits may be off by 2.5e-6 in all: 2e-6 is accepted, and reported.
        let net = rounding_of(&["0.199999", "0.199999", "0.2", "0.2", "0.2"]).unwrap();
        let report = net.renormalized().expect("reported");
        assert_eq!(report.columns, 1);
        assert_eq!(
            report.to_string(),
            "renormalised 1 column off from 1 by more than 1e-6 (within the rounding of numbers \
             written at 6 significant digits); the worst: 'a' at (no parents) sums to \
             0.9999979999999999 (tolerance 2.5e-6)"
        );
        // Off by 3e-6: no rounding of five entries explains it.
        let err = rounding_of(&["0.199999", "0.199999", "0.199999", "0.2", "0.2"]).unwrap_err();
        assert!(err.to_string().ends_with("(tolerance 2.5e-6)"), "{err}");
        // Short, hand-typed numbers get the fixed tolerance, not 0.05 per entry.
        let err = rounding_of(&["0.5", "0.4"]).unwrap_err();
        assert!(err.to_string().ends_with("(tolerance 1e-6)"), "{err}");
        // Full double precision: the fixed tolerance.
        assert!(rounding_of(&["0.29999999999999999", "0.69999799999999999"]).is_err());
    }

    #[test]
    fn single_precision_columns_drift_with_their_length() {
        // Ten f32 values printed in full, normalised in f32 with a drift of 1.19e-6.
        let mut texts: Vec<String> = Vec::new();
        let value = 0.099_999_88_f32;
        for _ in 0..10 {
            texts.push(format!("{}", f64::from(value)));
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let net = rounding_of(&refs).unwrap();
        let report = net.renormalized().expect("reported");
        assert!(report.precision.ends_with("single precision"));
        let sum: f64 = net.cpt(crate::model::VarId::new(0)).values().iter().sum();
        assert!((sum - 1.0).abs() < 1e-15);
        // The same values in double precision are refused.
        let doubles: Vec<String> = (0..10).map(|_| "0.099999880000000".to_string()).collect();
        let refs: Vec<&str> = doubles.iter().map(String::as_str).collect();
        assert!(rounding_of(&refs).is_err());
    }

    #[test]
    fn detects_format() {
        assert_eq!(Format::detect(Path::new("a.BIF"), "<"), Format::Bif);
        assert_eq!(Format::detect(Path::new("a.xml"), ""), Format::XmlBif);
        assert_eq!(Format::detect(Path::new("a"), "  <?xml"), Format::XmlBif);
        assert_eq!(Format::detect(Path::new("a"), "network x {}"), Format::Bif);
        assert_eq!(Format::detect(Path::new("a.NET"), ""), Format::Net);
        assert_eq!(
            Format::detect(Path::new("a.txt"), "% c\nnet\n{}"),
            Format::Net
        );
        assert_eq!(Format::detect(Path::new("a"), "node x {}"), Format::Net);
        assert_eq!(
            Format::detect(Path::new("a"), "<?xml?><smile>"),
            Format::Xdsl
        );
        assert_eq!(Format::detect(Path::new("a.xdsl"), ""), Format::Xdsl);
        assert_eq!(Format::detect(Path::new("a"), "BAYES\n1\n2"), Format::Uai);
    }
}
