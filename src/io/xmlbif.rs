//! XMLBIF 0.3 (Cozman), as written by JavaBayes, Weka, pgmpy and others.
//!
//! `<TABLE>` lists values with the `<FOR>` variable varying fastest and the last `<GIVEN>`
//! parent next, which is the model's own layout. Tag names are matched case-insensitively,
//! since exporters disagree on case.

use super::{Location, ReadError};
use crate::model::{Network, NetworkBuilder, VarId};
use roxmltree::{Document, Node, ParsingOptions};
use std::fmt::Write as _;

struct Reader<'a> {
    document: &'a Document<'a>,
    source: &'a str,
}

impl<'a> Reader<'a> {
    fn location(&self, node: Node<'_, '_>) -> Location {
        let position = self.document.text_pos_at(node.range().start);
        Location {
            source: self.source.to_string(),
            line: position.row as usize,
            col: position.col as usize,
        }
    }

    fn error(&self, node: Node<'_, '_>, message: impl Into<String>) -> ReadError {
        ReadError::Syntax {
            location: self.location(node),
            message: message.into(),
        }
    }

    fn model_error(&self, node: Node<'_, '_>, source: crate::model::ModelError) -> ReadError {
        ReadError::Model {
            location: self.location(node),
            source: Box::new(source),
        }
    }
}

fn children<'a, 'input>(
    node: Node<'a, 'input>,
    tag: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name().eq_ignore_ascii_case(tag))
}

fn text_of(node: Node<'_, '_>) -> String {
    node.text().unwrap_or("").trim().to_string()
}

/// Reads a network from XMLBIF text; `source` names it in errors.
///
/// # Errors
/// [`ReadError::Syntax`] for malformed XML or missing elements, [`ReadError::Model`] for an
/// invalid network, both with `source:line:col`.
pub fn read_xmlbif(text: &str, source: &str) -> Result<Network, ReadError> {
    let options = ParsingOptions {
        allow_dtd: true,
        ..ParsingOptions::default()
    };
    let document = Document::parse_with_options(text, options).map_err(|e| {
        let position = e.pos();
        ReadError::Syntax {
            location: Location {
                source: source.to_string(),
                line: position.row as usize,
                col: position.col as usize,
            },
            // roxmltree appends " at LINE:COL"; the location already says it.
            message: format!("malformed XML: {e}")
                .trim_end_matches(&format!(" at {}:{}", position.row, position.col))
                .to_string(),
        }
    })?;
    let reader = Reader {
        document: &document,
        source,
    };
    let root = document.root_element();
    let network = if root.tag_name().name().eq_ignore_ascii_case("BIF") {
        children(root, "NETWORK")
            .next()
            .ok_or_else(|| reader.error(root, "expected a <NETWORK> element inside <BIF>"))?
    } else if root.tag_name().name().eq_ignore_ascii_case("NETWORK") {
        root
    } else {
        return Err(reader.error(
            root,
            format!(
                "expected <BIF> or <NETWORK> as the root element, found <{}>",
                root.tag_name().name()
            ),
        ));
    };
    let name = children(network, "NAME")
        .next()
        .map(text_of)
        .unwrap_or_default();
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(reader.error(
            network,
            format!(
                "the network name '{}' contains the control character U+{:04X}",
                name.escape_debug(),
                c as u32
            ),
        ));
    }
    let mut builder = NetworkBuilder::new(name);
    builder.set_properties(children(network, "PROPERTY").map(text_of).collect());
    let mut declared = Vec::new();
    for variable in children(network, "VARIABLE") {
        let name_node = children(variable, "NAME")
            .next()
            .ok_or_else(|| reader.error(variable, "expected a <NAME> in <VARIABLE>"))?;
        let states: Vec<String> = children(variable, "OUTCOME").map(text_of).collect();
        let var = builder
            .add_variable(text_of(name_node), states)
            .map_err(|e| reader.model_error(variable, e))?;
        builder.set_variable_properties(var, children(variable, "PROPERTY").map(text_of).collect());
        declared.push(variable);
    }
    if declared.is_empty() {
        return Err(reader.error(
            network,
            "no <VARIABLE> elements found: the network is empty",
        ));
    }
    let mut definitions = Vec::new();
    let mut precision = super::Precision::default();
    for definition in children(network, "DEFINITION").chain(children(network, "PROBABILITY")) {
        let for_node = children(definition, "FOR")
            .next()
            .ok_or_else(|| reader.error(definition, "expected a <FOR> in <DEFINITION>"))?;
        let lookup = |node: Node<'_, '_>| {
            builder
                .variable_id(&text_of(node))
                .map_err(|e| reader.model_error(node, e))
        };
        let child = lookup(for_node)?;
        let parents = children(definition, "GIVEN")
            .map(lookup)
            .collect::<Result<Vec<VarId>, _>>()?;
        let table = children(definition, "TABLE")
            .next()
            .ok_or_else(|| reader.error(definition, "expected a <TABLE> in <DEFINITION>"))?;
        let values = text_of(table)
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(|t| {
                let value = t.parse::<f64>().map_err(|_| {
                    reader.error(table, format!("expected a number in <TABLE>, found '{t}'"))
                })?;
                precision.note(t, value);
                Ok(value)
            })
            .collect::<Result<Vec<f64>, _>>()?;
        builder
            .set_cpt(child, parents, values)
            .map_err(|e| reader.model_error(definition, e))?;
        definitions.push((child, definition));
    }
    precision.apply(&mut builder);
    builder.build().map_err(|error| {
        let variable = match &error {
            crate::model::ModelError::NotNormalized { variable, .. }
            | crate::model::ModelError::InvalidProbability { variable, .. } => Some(variable),
            crate::model::ModelError::MissingCpt { variable } => Some(variable),
            _ => None,
        };
        let node = variable.and_then(|name| {
            definitions
                .iter()
                .find(|(_, d)| children(*d, "FOR").next().map(text_of).as_deref() == Some(name))
                .map(|(_, d)| *d)
                .or_else(|| {
                    declared
                        .iter()
                        .copied()
                        .find(|v| children(*v, "NAME").next().map(text_of).as_deref() == Some(name))
                })
        });
        match node {
            Some(node) => reader.model_error(node, error),
            None => ReadError::Network {
                source_name: source.to_string(),
                source: Box::new(error),
            },
        }
    })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        // A raw carriage return would be read back as a line feed (XML end-of-line handling).
        .replace('\r', "&#13;")
}

/// Writes `network` as XMLBIF 0.3. Reading it back gives the same network.
pub fn write_xmlbif(network: &Network) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<BIF VERSION=\"0.3\">\n<NETWORK>\n",
    );
    let _ = writeln!(out, "<NAME>{}</NAME>", escape(network.name()));
    for property in network.properties() {
        let _ = writeln!(out, "<PROPERTY>{}</PROPERTY>", escape(property));
    }
    for variable in network.variables() {
        out.push_str("<VARIABLE TYPE=\"nature\">\n");
        let _ = writeln!(out, "  <NAME>{}</NAME>", escape(variable.name()));
        for state in variable.states() {
            let _ = writeln!(out, "  <OUTCOME>{}</OUTCOME>", escape(state));
        }
        for property in variable.properties() {
            let _ = writeln!(out, "  <PROPERTY>{}</PROPERTY>", escape(property));
        }
        out.push_str("</VARIABLE>\n");
    }
    for var in network.variable_ids() {
        let cpt = network.cpt(var);
        out.push_str("<DEFINITION>\n");
        let _ = writeln!(out, "  <FOR>{}</FOR>", escape(network.variable(var).name()));
        for &parent in cpt.parents() {
            let _ = writeln!(
                out,
                "  <GIVEN>{}</GIVEN>",
                escape(network.variable(parent).name())
            );
        }
        out.push_str("  <TABLE>");
        for (i, value) in cpt.values().iter().enumerate() {
            let _ = write!(out, "{}{value:?}", if i > 0 { " " } else { "" });
        }
        out.push_str("</TABLE>\n</DEFINITION>\n");
    }
    out.push_str("</NETWORK>\n</BIF>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPRINKLER: &str = r#"<?xml version="1.0"?>
<!DOCTYPE BIF [ <!ELEMENT BIF ( NETWORK )*> ]>
<BIF VERSION="0.3">
<NETWORK>
<NAME>garden</NAME>
<VARIABLE TYPE="nature"><NAME>rain</NAME><OUTCOME>yes</OUTCOME><OUTCOME>no</OUTCOME>
  <PROPERTY>position = (1, 2)</PROPERTY></VARIABLE>
<VARIABLE TYPE="nature"><NAME>wet</NAME><OUTCOME>yes</OUTCOME><OUTCOME>no</OUTCOME></VARIABLE>
<DEFINITION><FOR>rain</FOR><TABLE>0.2 0.8</TABLE></DEFINITION>
<DEFINITION><FOR>wet</FOR><GIVEN>rain</GIVEN><TABLE>0.9 0.1 0.1 0.9</TABLE></DEFINITION>
</NETWORK>
</BIF>
"#;

    #[test]
    fn reads_and_round_trips() {
        let net = read_xmlbif(SPRINKLER, "garden.xml").unwrap();
        assert_eq!(net.name(), "garden");
        let wet = net.variable_id("wet").unwrap();
        assert_eq!(net.cpt(wet).values(), &[0.9, 0.1, 0.1, 0.9]);
        assert_eq!(
            net.variable(VarId::new(0)).property("position").as_deref(),
            Some("(1, 2)")
        );
        let again = read_xmlbif(&write_xmlbif(&net), "again.xml").unwrap();
        assert_eq!(again.variables(), net.variables());
        assert_eq!(again.cpt(wet), net.cpt(wet));
    }

    #[test]
    fn errors_name_the_place() {
        let broken = SPRINKLER.replace("<TABLE>0.2 0.8</TABLE>", "<TABLE>0.2 0.7</TABLE>");
        let err = read_xmlbif(&broken, "garden.xml").unwrap_err().to_string();
        assert_eq!(
            err,
            "garden.xml:9:1: probability table of 'rain' at (no parents) sums to 0.8999999999999999, not 1 (tolerance 1e-6)"
        );
        let err = read_xmlbif("<BIF><NETWORK>", "x.xml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("x.xml:1:1: malformed XML"), "{err}");
    }
}
