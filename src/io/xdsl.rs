//! GeNIe's XDSL (SMILE's XML format), read and write.
//!
//! Read: `<smile><nodes>` with `cpt` nodes (`<state id>`, `<parents>`, `<probabilities>` in
//! the model's own layout: first parent slowest, the child's states fastest) and
//! `deterministic` nodes (`<resultingstates>`, one state per parent configuration, read as a
//! 0/1 table). `<extensions><genie>` gives each node's display name (kept as its `label`
//! property) and rectangle (its centre is kept as the node's position). `<property id="k">v`
//! elements are kept as `k = v` properties.
//!
//! Refused, naming the node and its kind: `decision`, `utility`, `mau`, `equation` and any
//! other node element; `noisymax` and `noisyadder` too, since their expansion into a table is
//! not implemented (SMILE's exact parameterisation could not be checked; GeNIe can turn such
//! a node into a `cpt` before export).
//! Errors name the element path (`smile/nodes/cpt[@id='A']/probabilities`) and `line:col`.
//!
//! Write: every node as a `cpt`, in topological order (SMILE reads parents before children),
//! with names, positions and labels in `<extensions><genie>`. Values are written in Rust's
//! shortest round-trip form, so reading the output back gives every value bit for bit.

use super::{Location, ReadError, WriteError};
use crate::model::{ModelError, Network, NetworkBuilder, VarId};
use roxmltree::{Document, Node};
use std::collections::HashMap;
use std::fmt::Write as _;

struct Reader<'a> {
    document: &'a Document<'a>,
    source: &'a str,
}

impl Reader<'_> {
    fn location(&self, node: Node<'_, '_>) -> Location {
        let position = self.document.text_pos_at(node.range().start);
        Location {
            source: self.source.to_string(),
            line: position.row as usize,
            col: position.col as usize,
        }
    }

    fn error(&self, node: Node<'_, '_>, message: impl std::fmt::Display) -> ReadError {
        ReadError::Syntax {
            location: self.location(node),
            message: format!("{}: {message}", path(node)),
        }
    }

    fn model_error(&self, node: Node<'_, '_>, source: ModelError) -> ReadError {
        ReadError::Model {
            location: self.location(node),
            source: Box::new(source),
        }
    }
}

/// The element path of `node`, e.g. `smile/nodes/cpt[@id='A']/probabilities`.
fn path(node: Node<'_, '_>) -> String {
    let mut parts: Vec<String> = node
        .ancestors()
        .filter(Node::is_element)
        .map(|n| match n.attribute("id") {
            Some(id) => format!("{}[@id='{}']", n.tag_name().name(), super::one_line(id)),
            None => n.tag_name().name().to_string(),
        })
        .collect();
    parts.reverse();
    parts.join("/")
}

fn child<'a, 'input>(node: Node<'a, 'input>, tag: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == tag)
}

fn words<'a>(node: Node<'a, '_>) -> impl Iterator<Item = &'a str> {
    node.text().unwrap_or("").split_whitespace()
}

/// Reads a network from GeNIe XDSL text; `source` names it in errors.
///
/// # Errors
/// [`ReadError::Syntax`] with the element path and `line:col`, [`ReadError::Model`] for an
/// invalid network.
pub fn read_xdsl(text: &str, source: &str) -> Result<Network, ReadError> {
    let document = Document::parse(text).map_err(|e| {
        let position = e.pos();
        ReadError::Syntax {
            location: Location {
                source: source.to_string(),
                line: position.row as usize,
                col: position.col as usize,
            },
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
    if root.tag_name().name() != "smile" {
        return Err(reader.error(
            root,
            format!(
                "expected <smile> as the root element, found <{}>",
                root.tag_name().name()
            ),
        ));
    }
    let nodes =
        child(root, "nodes").ok_or_else(|| reader.error(root, "expected a <nodes> element"))?;
    let mut builder = NetworkBuilder::new(root.attribute("id").unwrap_or_default());
    let genie = child(root, "extensions").and_then(|e| child(e, "genie"));
    let mut declared = Vec::new();
    for node in nodes.children().filter(Node::is_element) {
        let kind = node.tag_name().name();
        let id = node.attribute("id").unwrap_or_default();
        let refused = match kind {
            "cpt" | "deterministic" => None,
            "decision" => Some("a decision node"),
            "utility" => Some("a utility node"),
            "mau" => Some("a multi-attribute utility node"),
            "equation" => Some("an equation (continuous) node"),
            "noisymax" | "noisyadder" => {
                return Err(reader.error(
                    node,
                    format!(
                        "node '{}' is a {} node, which Credence does not expand into a table yet; change it to a CPT node in GeNIe before export",
                        super::one_line(id),
                        if kind == "noisymax" { "noisy-MAX" } else { "noisy-adder" }
                    ),
                ));
            }
            _ => Some("an unknown kind of node"),
        };
        if let Some(what) = refused {
            return Err(reader.error(
                node,
                format!(
                    "node '{}' is {what}; Credence reads discrete chance networks only",
                    super::one_line(id)
                ),
            ));
        }
        if id.is_empty() {
            return Err(reader.error(node, "the node has no 'id' attribute"));
        }
        let mut states = Vec::new();
        for state in node
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "state")
        {
            let name = state
                .attribute("id")
                .ok_or_else(|| reader.error(state, "the state has no 'id' attribute"))?;
            states.push(name.to_string());
        }
        let var = builder
            .add_variable(id, states)
            .map_err(|e| reader.model_error(node, e))?;
        let properties = node
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "property")
            .map(|p| {
                format!(
                    "{} = {}",
                    p.attribute("id").unwrap_or_default(),
                    p.text().unwrap_or("")
                )
            })
            .collect();
        builder.set_variable_properties(var, properties);
        declared.push((var, node));
    }
    if declared.is_empty() {
        return Err(reader.error(nodes, "no nodes found: the network is empty"));
    }
    let mut precision = super::Precision::default();
    let mut at = HashMap::new();
    for &(var, node) in &declared {
        let parents = match child(node, "parents") {
            Some(element) => words(element)
                .map(|name| {
                    builder
                        .variable_id(name)
                        .map_err(|e| reader.model_error(element, e))
                })
                .collect::<Result<Vec<VarId>, _>>()?,
            None => Vec::new(),
        };
        let values = if node.tag_name().name() == "cpt" {
            let element = child(node, "probabilities")
                .ok_or_else(|| reader.error(node, "expected a <probabilities> element"))?;
            at.insert(var, element);
            words(element)
                .map(|word| {
                    let value: f64 = word.parse().map_err(|_| {
                        reader.error(
                            element,
                            format!("expected a number, found '{}'", super::one_line(word)),
                        )
                    })?;
                    precision.note(word, value);
                    Ok(value)
                })
                .collect::<Result<Vec<f64>, ReadError>>()?
        } else {
            let element = child(node, "resultingstates")
                .ok_or_else(|| reader.error(node, "expected a <resultingstates> element"))?;
            at.insert(var, element);
            let variable = builder.variable(var);
            let n = variable.cardinality();
            let mut values = Vec::new();
            for word in words(element) {
                let state = variable.state_index(word).ok_or_else(|| {
                    reader.error(
                        element,
                        format!(
                            "'{}' is not a state of '{}'",
                            super::one_line(word),
                            variable.name()
                        ),
                    )
                })?;
                values.extend((0..n).map(|s| if s == state { 1.0 } else { 0.0 }));
            }
            values
        };
        builder
            .set_cpt(var, parents, values)
            .map_err(|e| reader.model_error(at[&var], e))?;
    }
    if let Some(genie) = genie {
        read_genie(&reader, genie, &mut builder)?;
    }
    precision.apply(&mut builder);
    let names: Vec<String> = declared
        .iter()
        .map(|(v, _)| builder.variable(*v).name().to_string())
        .collect();
    builder.build().map_err(|error| {
        let node = match &error {
            ModelError::NotNormalized { variable, .. }
            | ModelError::InvalidProbability { variable, .. } => names
                .iter()
                .position(|n| n == variable)
                .and_then(|i| at.get(&VarId::new(i)).copied()),
            _ => None,
        };
        match node {
            Some(node) => reader.model_error(node, error),
            None => ReadError::Network {
                source_name: source.to_string(),
                source: Box::new(error),
            },
        }
    })
}

/// Display names and positions from `<extensions><genie>`, submodels included.
fn read_genie(
    reader: &Reader<'_>,
    genie: Node<'_, '_>,
    builder: &mut NetworkBuilder,
) -> Result<(), ReadError> {
    for node in genie
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "node")
    {
        let Some(var) = node
            .attribute("id")
            .and_then(|id| builder.variable_id(id).ok())
        else {
            continue;
        };
        if let Some(name) = child(node, "name")
            .and_then(|n| n.text())
            .filter(|name| *name != builder.variable(var).name())
        {
            let mut properties = builder.variable(var).properties().to_vec();
            properties.insert(0, format!("label = {}", super::net_quoted(name)));
            builder.set_variable_properties(var, properties);
        }
        if let Some(element) = child(node, "position") {
            let numbers = words(element)
                .map(str::parse::<f64>)
                .collect::<Result<Vec<f64>, _>>()
                .ok()
                .filter(|n| n.len() == 4 && n.iter().all(|v| v.is_finite()))
                .ok_or_else(|| {
                    reader.error(element, "expected four numbers: left top right bottom")
                })?;
            builder.set_position(
                var,
                (numbers[0] + numbers[2]) / 2.0,
                (numbers[1] + numbers[3]) / 2.0,
            );
        }
    }
    Ok(())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\r', "&#13;")
}

/// Half a node's drawn width and height in GeNIe's default look.
const HALF_WIDTH: f64 = 36.0;
const HALF_HEIGHT: f64 = 18.0;

/// Writes `network` as GeNIe XDSL. Reading the output back gives the same network (variables
/// in topological order); nodes without a position are laid out on a grid, ten to a row, since
/// GeNIe draws every node.
///
/// # Errors
/// [`WriteError`] when a name holds white space (XDSL lists parents separated by spaces) or a
/// property is not `key = value`.
pub fn write_xdsl(network: &Network) -> Result<String, WriteError> {
    let refuse = |message: String| WriteError {
        format: "XDSL",
        message,
    };
    let name = escape(network.name());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<smile version=\"1.0\" id=\"{name}\" numsamples=\"10000\" discsamples=\"10000\">"
    );
    out.push_str("\t<nodes>\n");
    for &var in network.topological_order() {
        let variable = network.variable(var);
        let spaced = std::iter::once(variable.name())
            .chain(variable.states().iter().map(String::as_str))
            .find(|n| n.is_empty() || n.chars().any(char::is_whitespace));
        if let Some(bad) = spaced {
            return Err(refuse(format!(
                "the name '{}' (variable '{}') is empty or holds white space, which XDSL ids cannot",
                super::one_line(bad),
                variable.name()
            )));
        }
        let _ = writeln!(out, "\t\t<cpt id=\"{}\">", escape(variable.name()));
        for state in variable.states() {
            let _ = writeln!(out, "\t\t\t<state id=\"{}\" />", escape(state));
        }
        for property in variable.properties() {
            let Some((key, value)) = property.split_once('=') else {
                return Err(refuse(format!(
                    "property '{}' of variable '{}' is not 'key = value'",
                    super::one_line(property),
                    variable.name()
                )));
            };
            if key.trim() == "label" {
                continue;
            }
            let _ = writeln!(
                out,
                "\t\t\t<property id=\"{}\">{}</property>",
                escape(key.trim()),
                escape(value.trim())
            );
        }
        let cpt = network.cpt(var);
        if !cpt.parents().is_empty() {
            let parents: Vec<String> = cpt
                .parents()
                .iter()
                .map(|&p| escape(network.variable(p).name()))
                .collect();
            let _ = writeln!(out, "\t\t\t<parents>{}</parents>", parents.join(" "));
        }
        out.push_str("\t\t\t<probabilities>");
        for (i, value) in cpt.values().iter().enumerate() {
            let _ = write!(out, "{}{value:?}", if i > 0 { " " } else { "" });
        }
        out.push_str("</probabilities>\n\t\t</cpt>\n");
    }
    out.push_str("\t</nodes>\n\t<extensions>\n");
    let _ = writeln!(
        out,
        "\t\t<genie version=\"1.0\" app=\"Credence\" name=\"{name}\">"
    );
    for &var in network.topological_order() {
        let variable = network.variable(var);
        let label = variable.property("label");
        let _ = writeln!(out, "\t\t\t<node id=\"{}\">", escape(variable.name()));
        let _ = writeln!(
            out,
            "\t\t\t\t<name>{}</name>",
            escape(label.as_deref().unwrap_or(variable.name()))
        );
        out.push_str("\t\t\t\t<interior color=\"e5f6f7\" />\n\t\t\t\t<outline color=\"000080\" />\n\t\t\t\t<font color=\"000000\" name=\"Arial\" size=\"8\" />\n");
        let (x, y) = network.position(var).unwrap_or((
            100.0 + 120.0 * (var.index() % 10) as f64,
            50.0 + 80.0 * (var.index() / 10) as f64,
        ));
        let _ = writeln!(
            out,
            "\t\t\t\t<position>{} {} {} {}</position>",
            x - HALF_WIDTH,
            y - HALF_HEIGHT,
            x + HALF_WIDTH,
            y + HALF_HEIGHT
        );
        out.push_str("\t\t\t</node>\n");
    }
    out.push_str("\t\t</genie>\n\t</extensions>\n</smile>\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GARDEN: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<smile version="1.0" id="garden" numsamples="10000" discsamples="10000">
	<nodes>
		<cpt id="rain">
			<state id="yes" />
			<state id="no" />
			<probabilities>0.2 0.8</probabilities>
		</cpt>
		<cpt id="sprinkler">
			<state id="on" />
			<state id="off" />
			<parents>rain</parents>
			<probabilities>0.01 0.99 0.4 0.6</probabilities>
		</cpt>
		<deterministic id="wet">
			<state id="wet" />
			<state id="dry" />
			<parents>rain sprinkler</parents>
			<resultingstates>wet wet wet dry</resultingstates>
		</deterministic>
	</nodes>
	<extensions>
		<genie version="1.0" app="GeNIe 2.3" name="garden">
			<node id="rain">
				<name>Is it raining?</name>
				<position>64 82 136 118</position>
			</node>
		</genie>
	</extensions>
</smile>
"#;

    #[test]
    fn reads_cpt_and_deterministic_nodes() {
        let net = read_xdsl(GARDEN, "garden.xdsl").unwrap();
        assert_eq!(net.name(), "garden");
        let wet = net.variable_id("wet").unwrap();
        assert_eq!(
            net.cpt(wet).values(),
            &[1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
        );
        let rain = net.variable_id("rain").unwrap();
        assert_eq!(net.position(rain), Some((100.0, 100.0)));
        assert_eq!(
            net.variable(rain).property("label").as_deref(),
            Some("Is it raining?")
        );
    }

    #[test]
    fn round_trips_bit_for_bit() {
        let net = read_xdsl(GARDEN, "garden.xdsl").unwrap();
        let written = write_xdsl(&net).unwrap();
        let again = read_xdsl(&written, "again.xdsl").unwrap();
        for var in net.variable_ids() {
            let name = net.variable(var).name();
            let other = again.variable_id(name).unwrap();
            assert_eq!(again.variable(other), net.variable(var));
            assert_eq!(again.cpt(other).values(), net.cpt(var).values());
            // Nodes without a position get GeNIe's default layout on writing.
            if net.position(var).is_some() {
                assert_eq!(again.position(other), net.position(var));
            }
        }
    }

    #[test]
    fn refuses_other_kinds_with_the_path() {
        let text = GARDEN.replace(
            "<deterministic id=\"wet\">",
            "<decision id=\"act\"><state id=\"a\" /></decision><deterministic id=\"wet\">",
        );
        let err = read_xdsl(&text, "g.xdsl").unwrap_err().to_string();
        assert_eq!(
            err,
            "g.xdsl:15:3: smile[@id='garden']/nodes/decision[@id='act']: node 'act' is a decision node; Credence reads discrete chance networks only"
        );
        let text = GARDEN.replace("0.01 0.99", "0.01 zero");
        let err = read_xdsl(&text, "g.xdsl").unwrap_err().to_string();
        assert_eq!(
            err,
            "g.xdsl:13:4: smile[@id='garden']/nodes/cpt[@id='sprinkler']/probabilities: expected a number, found 'zero'"
        );
    }
}
