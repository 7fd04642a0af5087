//! Reading and writing networks: BIF (read and write) and XMLBIF 0.3 (read and write).
//!
//! Every error names the source and, where it has one, the `line:col` of the offending text
//! and what was expected there. Malformed input is an error, never a panic.

mod bif;
mod xmlbif;

pub use bif::{read_bif, write_bif};
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
}

impl Format {
    /// The format a path's extension names, or that its content looks like.
    pub fn detect(path: &Path, text: &str) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(ext) if ext == "bif" => Format::Bif,
            Some(ext) if ext == "xml" || ext == "xmlbif" => Format::XmlBif,
            _ if text.trim_start().starts_with('<') => Format::XmlBif,
            _ => Format::Bif,
        }
    }
}

/// Reads a network file, choosing the format from its extension (`.bif`, `.xml`, `.xmlbif`) or
/// its content.
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
    match Format::detect(path, &text) {
        Format::Bif => read_bif(&text, &source),
        Format::XmlBif => read_xmlbif(&text, &source),
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

    #[test]
    fn detects_format() {
        assert_eq!(Format::detect(Path::new("a.BIF"), "<"), Format::Bif);
        assert_eq!(Format::detect(Path::new("a.xml"), ""), Format::XmlBif);
        assert_eq!(Format::detect(Path::new("a"), "  <?xml"), Format::XmlBif);
        assert_eq!(Format::detect(Path::new("a"), "network x {}"), Format::Bif);
    }
}
