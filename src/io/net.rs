//! The Hugin NET language, as Hugin and GeNIe write it (read and write).
//!
//! Accepted: `net { … }` with any attributes (`name` names the network, the others are kept
//! as properties); `node` and `discrete node` with `states = ("a" "b")`, `position = (x y)`
//! (kept as the node's position) and any other attribute (`label`, `HR_*`, …, kept verbatim
//! as properties); `potential (C | P1 P2) { data = … }` and `potential (C)` (also `(C |)`);
//! `experience` and `fading` tables, kept on the network; `%` comments; numbers in any form
//! Rust's `f64` parser reads (`1`, `.5`, `1e-05`, `2.5E+3`).
//!
//! `data` nests the first parent outermost and the child's states innermost, which is the
//! model's own layout: the values are read in order, whatever the parentheses.
//!
//! # Tables of counts
//!
//! Hugin keeps a chance node's table as given and normalises each parent configuration when it
//! compiles the network, so NET files written by hand or by learning tools may hold counts in
//! `data`. A column with a positive sum is therefore scaled to 1 (the worst such column is
//! reported once, by node and parent configuration); a column of zeros or with a negative or
//! non-finite entry is refused.
//!
//! # Refused
//!
//! `continuous node`, `decision`, `utility`, `function` nodes and the object-oriented `class`
//! and `instance`: one sentence names the node, its kind, and that Credence reads discrete
//! chance networks only.

use super::{Location, ReadError, WriteError};
use crate::model::{ModelError, Network, NetworkBuilder, VarId};
use std::collections::HashMap;
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Word,
    Str,
    Punct(char),
    Eof,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    /// Byte span of the text (for strings: inside the quotes).
    start: usize,
    end: usize,
}

const PUNCTUATION: &str = "{}()=;|:,";

/// Whether `c` ends a bare word.
fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || PUNCTUATION.contains(c) || c == '"' || c == '%'
}

fn location(text: &str, source: &str, offset: usize) -> Location {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        source: source.to_string(),
        line,
        col: before[line_start..].chars().count() + 1,
    }
}

fn tokenize(text: &str, source: &str) -> Result<Vec<Token>, ReadError> {
    let mut tokens = Vec::with_capacity(text.len() / 4);
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() || c == '\u{feff}' {
            continue;
        }
        if c == '%' {
            while chars.next_if(|&(_, c)| c != '\n').is_some() {}
            continue;
        }
        if PUNCTUATION.contains(c) {
            tokens.push(Token {
                kind: Kind::Punct(c),
                start: i,
                end: i + 1,
            });
            continue;
        }
        if c == '"' {
            // A backslash keeps the next character (Hugin writes `\"` and `\\`).
            let mut escaped = false;
            let end = loop {
                match chars.next() {
                    None => {
                        return Err(ReadError::Syntax {
                            location: location(text, source, i),
                            message: "this string is never closed (expected '\"')".to_string(),
                        });
                    }
                    Some((_, '\\')) if !escaped => escaped = true,
                    Some((j, '"')) if !escaped => break j,
                    Some(_) => escaped = false,
                }
            };
            tokens.push(Token {
                kind: Kind::Str,
                start: i + 1,
                end,
            });
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some((j, c)) = chars.next_if(|&(_, c)| !is_delimiter(c)) {
            end = j + c.len_utf8();
        }
        tokens.push(Token {
            kind: Kind::Word,
            start: i,
            end,
        });
    }
    tokens.push(Token {
        kind: Kind::Eof,
        start: text.len(),
        end: text.len(),
    });
    Ok(tokens)
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An attribute's value: a string, a word (number or name) or a parenthesised list.
enum Value {
    Str(String, Token),
    Word(Token),
    List(Vec<Value>, Token),
}

impl Value {
    fn token(&self) -> Token {
        match self {
            Value::Str(_, t) | Value::Word(t) | Value::List(_, t) => *t,
        }
    }
}

/// `key = value;`, with the value's source text kept for writing it back verbatim.
struct Attribute {
    key: String,
    key_token: Token,
    value: Value,
    raw: String,
}

struct Parser<'a> {
    text: &'a str,
    source: &'a str,
    tokens: Vec<Token>,
    position: usize,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Token {
        let token = self.tokens[self.position];
        if token.kind != Kind::Eof {
            self.position += 1;
        }
        token
    }

    fn peek(&self) -> Token {
        self.tokens[self.position]
    }

    fn text_of(&self, token: Token) -> &'a str {
        &self.text[token.start..token.end]
    }

    fn location(&self, token: Token) -> Location {
        // A string's location is its opening quote.
        let start = if token.kind == Kind::Str {
            token.start - 1
        } else {
            token.start
        };
        location(self.text, self.source, start)
    }

    fn error(&self, token: Token, message: impl Into<String>) -> ReadError {
        ReadError::Syntax {
            location: self.location(token),
            message: message.into(),
        }
    }

    fn unexpected(&self, token: Token, expected: &str) -> ReadError {
        let found = match token.kind {
            Kind::Eof => "the end of the file".to_string(),
            Kind::Str => format!("\"{}\"", super::one_line(self.text_of(token))),
            _ => format!("'{}'", super::one_line(self.text_of(token))),
        };
        self.error(token, format!("expected {expected}, found {found}"))
    }

    fn expect(&mut self, c: char, why: &str) -> Result<Token, ReadError> {
        let token = self.next();
        if token.kind == Kind::Punct(c) {
            Ok(token)
        } else {
            Err(self.unexpected(token, &format!("'{c}' {why}")))
        }
    }

    fn word(&mut self, what: &str) -> Result<Token, ReadError> {
        let token = self.next();
        if token.kind == Kind::Word {
            Ok(token)
        } else {
            Err(self.unexpected(token, what))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ReadError> {
        let token = self.next();
        match token.kind {
            Kind::Str => Ok(Value::Str(unescape(self.text_of(token)), token)),
            Kind::Word => Ok(Value::Word(token)),
            Kind::Punct('(') => {
                if depth > 64 {
                    return Err(self.error(token, "lists nested deeper than 64 levels"));
                }
                let mut items = Vec::new();
                loop {
                    match self.peek().kind {
                        Kind::Punct(')') => {
                            self.next();
                            return Ok(Value::List(items, token));
                        }
                        _ => items.push(self.value(depth + 1)?),
                    }
                }
            }
            _ => Err(self.unexpected(token, "a string, a number or '('")),
        }
    }

    /// Attributes up to and including the closing `}` (the `{` already read).
    fn attributes(&mut self, block: &str) -> Result<Vec<Attribute>, ReadError> {
        let mut attributes = Vec::new();
        loop {
            let token = self.next();
            match token.kind {
                Kind::Punct('}') => return Ok(attributes),
                Kind::Word => {
                    self.expect('=', &format!("after the attribute name in {block}"))?;
                    let value = self.value(0)?;
                    let end = self.tokens[self.position - 1];
                    let start = value.token();
                    let start = if start.kind == Kind::Str {
                        start.start - 1
                    } else {
                        start.start
                    };
                    let end = if end.kind == Kind::Str {
                        end.end + 1
                    } else {
                        end.end
                    };
                    self.expect(';', &format!("after the attribute in {block}"))?;
                    attributes.push(Attribute {
                        key: self.text_of(token).to_string(),
                        key_token: token,
                        raw: format!("{} = {}", self.text_of(token), &self.text[start..end]),
                        value,
                    });
                }
                _ => {
                    return Err(self.unexpected(token, &format!("an attribute or '}}' in {block}")));
                }
            }
        }
    }

    fn numbers(&self, value: &Value, what: &str, out: &mut Vec<f64>) -> Result<(), ReadError> {
        match value {
            Value::List(items, _) => {
                for item in items {
                    self.numbers(item, what, out)?;
                }
                Ok(())
            }
            Value::Word(token) => {
                let text = self.text_of(*token);
                let number: f64 = text.parse().map_err(|_| {
                    self.error(
                        *token,
                        format!(
                            "expected a number in {what}, found '{}'",
                            super::one_line(text)
                        ),
                    )
                })?;
                out.push(number);
                Ok(())
            }
            Value::Str(_, token) => Err(self.unexpected(*token, &format!("a number in {what}"))),
        }
    }

    /// Refuses a node kind Credence does not model, naming the node.
    fn refuse(&mut self, at: Token, kind: &str) -> ReadError {
        let name = self.next();
        let name = match name.kind {
            Kind::Word | Kind::Str => format!("'{}'", super::one_line(self.text_of(name))),
            _ => "(unnamed)".to_string(),
        };
        self.error(
            at,
            format!("node {name} is a {kind}; Credence reads discrete chance networks only"),
        )
    }
}

/// A node's declaration, before the builder sees it.
struct NodeDecl {
    name: String,
    at: Token,
    attributes: Vec<Attribute>,
}

/// A potential's declaration.
struct PotentialDecl {
    child: Token,
    parents: Vec<Token>,
    at: Token,
    attributes: Vec<Attribute>,
}

/// Reads a network from Hugin NET text; `source` names it in errors.
///
/// # Errors
/// [`ReadError::Syntax`] or [`ReadError::Model`] with `source:line:col`, or
/// [`ReadError::Network`] for whole-network problems such as a cycle.
pub fn read_net(text: &str, source: &str) -> Result<Network, ReadError> {
    let tokens = tokenize(text, source)?;
    let mut parser = Parser {
        text,
        source,
        tokens,
        position: 0,
    };
    let mut net_attributes = Vec::new();
    let mut nodes = Vec::new();
    let mut potentials = Vec::new();
    loop {
        let token = parser.next();
        let word = parser.text_of(token);
        match (token.kind, word) {
            (Kind::Eof, _) => break,
            (Kind::Word, "net") => {
                parser.expect('{', "to open the net block")?;
                net_attributes = parser.attributes("the net block")?;
            }
            (Kind::Word, "node" | "discrete") => {
                if word == "discrete" {
                    let kind = parser.word("'node', 'decision' or 'function' after 'discrete'")?;
                    match parser.text_of(kind) {
                        "node" => {}
                        "decision" => return Err(parser.refuse(token, "decision node")),
                        "function" => return Err(parser.refuse(token, "discrete function node")),
                        _ => {
                            return Err(parser.unexpected(kind, "'node' after 'discrete'"));
                        }
                    }
                }
                let name = parser.word("the node's name")?;
                parser.expect('{', "to open the node block")?;
                let block = format!("node '{}'", parser.text_of(name));
                nodes.push(NodeDecl {
                    name: parser.text_of(name).to_string(),
                    at: name,
                    attributes: parser.attributes(&block)?,
                });
            }
            (Kind::Word, "continuous") => {
                let kind = parser.next();
                let what = if parser.text_of(kind) == "function" {
                    "continuous function node"
                } else {
                    "continuous chance node"
                };
                return Err(parser.refuse(token, what));
            }
            (Kind::Word, "decision") => return Err(parser.refuse(token, "decision node")),
            (Kind::Word, "utility") => return Err(parser.refuse(token, "utility node")),
            (Kind::Word, "function") => return Err(parser.refuse(token, "function node")),
            (Kind::Word, "instance") => {
                return Err(parser.refuse(token, "class instance (object-oriented network)"));
            }
            (Kind::Word, "class") => {
                let name = parser.next();
                return Err(parser.error(
                    token,
                    format!(
                        "'{}' is an object-oriented network class; Credence reads discrete chance networks only",
                        super::one_line(parser.text_of(name))
                    ),
                ));
            }
            (Kind::Word, "potential") => {
                parser.expect('(', "after 'potential'")?;
                let child = parser.word("the potential's node")?;
                let mut parents = Vec::new();
                let mut token = parser.next();
                if token.kind == Kind::Punct('|') {
                    token = parser.next();
                    while token.kind == Kind::Word {
                        parents.push(token);
                        token = parser.next();
                    }
                }
                if token.kind != Kind::Punct(')') {
                    return Err(parser.unexpected(token, "a parent's name or ')'"));
                }
                parser.expect('{', "to open the potential block")?;
                let block = format!("the potential of '{}'", parser.text_of(child));
                potentials.push(PotentialDecl {
                    child,
                    parents,
                    at: child,
                    attributes: parser.attributes(&block)?,
                });
            }
            _ => return Err(parser.unexpected(token, "'net', 'node' or 'potential'")),
        }
    }
    if nodes.is_empty() {
        let end = parser.peek();
        return Err(parser.error(
            end,
            "no 'node' declarations found: this is not a NET network (or it is empty)",
        ));
    }
    build(parser, net_attributes, nodes, potentials)
}

fn model_error(parser: &Parser<'_>, token: Token, source: ModelError) -> ReadError {
    ReadError::Model {
        location: parser.location(token),
        source: Box::new(source),
    }
}

fn build(
    parser: Parser<'_>,
    net_attributes: Vec<Attribute>,
    nodes: Vec<NodeDecl>,
    potentials: Vec<PotentialDecl>,
) -> Result<Network, ReadError> {
    let mut name = String::new();
    let mut properties = Vec::new();
    for attribute in net_attributes {
        match (&*attribute.key, &attribute.value) {
            ("name", Value::Str(text, _)) => name.clone_from(text),
            _ => properties.push(attribute.raw),
        }
    }
    if name.is_empty() {
        name = std::path::Path::new(parser.source)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    let mut builder = NetworkBuilder::new(name);
    builder.set_properties(properties);
    let mut declared_at = HashMap::new();
    for node in nodes {
        let block = format!("node '{}'", node.name);
        let states_attribute = node
            .attributes
            .iter()
            .find(|a| a.key == "states")
            .ok_or_else(|| parser.error(node.at, format!("{block} has no 'states' attribute")))?;
        let Value::List(items, _) = &states_attribute.value else {
            return Err(parser.unexpected(
                states_attribute.value.token(),
                "a list of states '(\"a\" \"b\")'",
            ));
        };
        let mut states = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::Str(state, _) => states.push(state.clone()),
                // pyAgrum writes states unquoted.
                Value::Word(token) => states.push(parser.text_of(*token).to_string()),
                Value::List(_, token) => {
                    return Err(parser.unexpected(*token, "a state name in 'states'"));
                }
            }
        }
        let var = builder
            .add_variable(node.name.clone(), states)
            .map_err(|e| model_error(&parser, node.at, e))?;
        let mut node_properties = Vec::new();
        for attribute in &node.attributes {
            match attribute.key.as_str() {
                "states" => {}
                "position" => {
                    let mut xy = Vec::new();
                    parser.numbers(&attribute.value, "'position'", &mut xy)?;
                    let [x, y] = xy[..] else {
                        return Err(parser.error(
                            attribute.key_token,
                            format!(
                                "'position' of node '{}' has {} numbers, expected 2",
                                node.name,
                                xy.len()
                            ),
                        ));
                    };
                    builder.set_position(var, x, y);
                }
                _ => node_properties.push(attribute.raw.clone()),
            }
        }
        builder.set_variable_properties(var, node_properties);
        declared_at.insert(var, node.at);
    }
    let mut potential_at = HashMap::new();
    for potential in &potentials {
        let lookup = |token: Token| {
            builder
                .variable_id(parser.text_of(token))
                .map_err(|e| model_error(&parser, token, e))
        };
        let child = lookup(potential.child)?;
        let parents = potential
            .parents
            .iter()
            .map(|&t| lookup(t))
            .collect::<Result<Vec<VarId>, _>>()?;
        let mut values = None;
        for attribute in &potential.attributes {
            let what = format!(
                "'{}' of the potential of '{}'",
                attribute.key,
                parser.text_of(potential.child)
            );
            let mut numbers = Vec::new();
            match attribute.key.as_str() {
                "data" => {
                    parser.numbers(&attribute.value, &what, &mut numbers)?;
                    values = Some((numbers, attribute.key_token));
                }
                "experience" => {
                    parser.numbers(&attribute.value, &what, &mut numbers)?;
                    builder.set_experience(child, numbers);
                }
                "fading" => {
                    parser.numbers(&attribute.value, &what, &mut numbers)?;
                    builder.set_fading(child, numbers);
                }
                // Table-generator expressions and the rest say how `data` was made.
                _ => {}
            }
        }
        let Some((values, at)) = values else {
            return Err(parser.error(
                potential.at,
                format!(
                    "the potential of '{}' has no 'data'",
                    parser.text_of(potential.child)
                ),
            ));
        };
        builder
            .set_cpt(child, parents, values)
            .map_err(|e| model_error(&parser, at, e))?;
        potential_at.insert(child, at);
    }
    builder.set_entry_rounding(
        f64::INFINITY,
        "a NET table may hold counts, which Hugin normalises",
    );
    let names: Vec<String> = builder_names(&builder, declared_at.len());
    builder.build().map_err(|error| {
        let find = |name: &str| names.iter().position(|n| n == name).map(VarId::new);
        let token = match &error {
            ModelError::NotNormalized { variable, .. }
            | ModelError::InvalidProbability { variable, .. }
            | ModelError::SideTableShape { variable, .. }
            | ModelError::SideTableValue { variable, .. } => {
                find(variable).and_then(|v| potential_at.get(&v).copied())
            }
            ModelError::MissingCpt { variable } => {
                find(variable).and_then(|v| declared_at.get(&v).copied())
            }
            _ => None,
        };
        match token {
            Some(token) => model_error(&parser, token, error),
            None => ReadError::Network {
                source_name: parser.source.to_string(),
                source: Box::new(error),
            },
        }
    })
}

fn builder_names(builder: &NetworkBuilder, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| builder.variable(VarId::new(i)).name().to_string())
        .collect()
}

/// Whether `name` reads back as one NET word (Hugin itself wants `[A-Za-z_][A-Za-z0-9_]*`).
fn is_word(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(is_delimiter) && !name.contains('\u{feff}')
}

pub(super) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Whether a property text reads back as one `key = value;` attribute with the same text.
fn is_attribute(property: &str) -> bool {
    let wrapped = format!("{property};}}");
    let Ok(tokens) = tokenize(&wrapped, "") else {
        return false;
    };
    let mut parser = Parser {
        text: &wrapped,
        source: "",
        tokens,
        position: 0,
    };
    let reserved = ["states", "position", "name"];
    matches!(parser.attributes("a property"), Ok(a)
        if a.len() == 1 && a[0].raw == property && !reserved.contains(&a[0].key.as_str()))
        && parser.peek().kind == Kind::Eof
}

fn write_list(out: &mut String, values: &[f64], dims: &[usize]) {
    out.push('(');
    if dims.len() <= 1 {
        for (i, value) in values.iter().enumerate() {
            let _ = write!(out, "{}{value:?}", if i > 0 { " " } else { "" });
        }
    } else {
        let step = values.len() / dims[0].max(1);
        for chunk in values.chunks(step.max(1)) {
            write_list(out, chunk, &dims[1..]);
        }
    }
    out.push(')');
}

/// Writes `network` as Hugin NET. Reading the output back gives the same network: names,
/// states, properties, positions, experience and fading tables, and every value bit for bit.
///
/// # Errors
/// [`WriteError`] when a name is not one NET word or a property is not a `key = value`
/// attribute.
pub fn write_net(network: &Network) -> Result<String, WriteError> {
    let refuse = |message: String| WriteError {
        format: "NET",
        message,
    };
    let mut out = String::from("net\n{\n");
    let _ = writeln!(out, "    name = {};", quoted(network.name()));
    for property in network.properties() {
        if !is_attribute(property) {
            return Err(refuse(format!(
                "the network property '{}' is not a 'key = value' attribute",
                super::one_line(property)
            )));
        }
        let _ = writeln!(out, "    {property};");
    }
    out.push_str("}\n");
    for var in network.variable_ids() {
        let variable = network.variable(var);
        if !is_word(variable.name()) || ["net", "node", "potential"].contains(&variable.name()) {
            return Err(refuse(format!(
                "the variable name '{}' is not one NET word",
                super::one_line(variable.name())
            )));
        }
        let _ = writeln!(out, "\nnode {}\n{{", variable.name());
        let states: Vec<String> = variable.states().iter().map(|s| quoted(s)).collect();
        let _ = writeln!(out, "    states = ({});", states.join(" "));
        if let Some((x, y)) = network.position(var) {
            let _ = writeln!(out, "    position = ({x} {y});");
        }
        for property in variable.properties() {
            if !is_attribute(property) {
                return Err(refuse(format!(
                    "property '{}' of variable '{}' is not a 'key = value' attribute",
                    super::one_line(property),
                    variable.name()
                )));
            }
            let _ = writeln!(out, "    {property};");
        }
        out.push_str("}\n");
    }
    for var in network.variable_ids() {
        let cpt = network.cpt(var);
        let _ = write!(out, "\npotential ({}", network.variable(var).name());
        for (i, &parent) in cpt.parents().iter().enumerate() {
            out.push_str(if i == 0 { " | " } else { " " });
            out.push_str(network.variable(parent).name());
        }
        out.push_str(")\n{\n    data = ");
        let dims: Vec<usize> = cpt.table().shape().to_vec();
        write_list(&mut out, cpt.values(), &dims);
        out.push_str(";\n");
        let parent_dims = &dims[..dims.len() - 1];
        if let Some(counts) = network.experience(var) {
            out.push_str("    experience = ");
            write_list(&mut out, counts, parent_dims);
            out.push_str(";\n");
        }
        if let Some(factors) = network.fading(var) {
            out.push_str("    fading = ");
            write_list(&mut out, factors, parent_dims);
            out.push_str(";\n");
        }
        out.push_str("}\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIRKS: &str = r#"% A network written by hand, the way Hugin and GeNIe write them.
net
{
    node_size = (80 40);
    HR_Grid_X = "10";
    name = "quirks";
}

discrete node rain   % a comment after the name
{
    label = "Is it raining?";
    position = (100 -50);
    states = ("yes" "no");
    HR_Desc = "";
}

node sprinkler
{
    states = (on off);
}

node wet
{
    states = ("wet" "dry" "very \"wet\"");
}

potential (rain) { data = (2e-1 .8); }

potential (sprinkler |)
{
    data
      = (0.5 0.5);
}

potential (wet | rain sprinkler)
{
    data = (((0.9 0.05 0.05)    % rain = yes, sprinkler = on
             (8 1 1))           %              sprinkler = off: counts
            ((0.5 0.25 0.25)
             (1E-1 0.45 4.5e-1)));
    experience = ((10 20) (30 40));
    fading = ((1 1) (0.5 1));
}
"#;

    #[test]
    fn reads_every_quirk() {
        let net = read_net(QUIRKS, "quirks.net").unwrap();
        assert_eq!(net.name(), "quirks");
        assert_eq!(
            net.properties(),
            ["node_size = (80 40)", "HR_Grid_X = \"10\""]
        );
        let rain = net.variable_id("rain").unwrap();
        assert_eq!(net.position(rain), Some((100.0, -50.0)));
        assert_eq!(
            net.variable(rain).property("label").as_deref(),
            Some("Is it raining?")
        );
        assert_eq!(net.cpt(rain).values(), &[0.2, 0.8]);
        let sprinkler = net.variable_id("sprinkler").unwrap();
        assert_eq!(net.variable(sprinkler).states(), ["on", "off"]);
        let wet = net.variable_id("wet").unwrap();
        assert_eq!(net.variable(wet).states()[2], "very \"wet\"");
        assert_eq!(net.parents(wet), &[rain, sprinkler]);
        // Counts (8 1 1) are normalised and reported by node and configuration.
        assert_eq!(&net.cpt(wet).values()[3..6], &[0.8, 0.1, 0.1]);
        let report = net.renormalized().unwrap();
        assert_eq!(report.variable, "wet");
        assert_eq!(report.configuration, "(rain=yes, sprinkler=off)");
        assert_eq!(net.experience(wet), Some(&[10.0, 20.0, 30.0, 40.0][..]));
        assert_eq!(net.fading(wet), Some(&[1.0, 1.0, 0.5, 1.0][..]));
    }

    #[test]
    fn round_trips_bit_for_bit() {
        let net = read_net(QUIRKS, "quirks.net").unwrap();
        let written = write_net(&net).unwrap();
        let again = read_net(&written, "again.net").unwrap();
        assert_eq!(again.name(), net.name());
        assert_eq!(again.properties(), net.properties());
        assert_eq!(again.variables(), net.variables());
        for var in net.variable_ids() {
            assert_eq!(again.cpt(var), net.cpt(var));
            assert_eq!(again.position(var), net.position(var));
            assert_eq!(again.experience(var), net.experience(var));
            assert_eq!(again.fading(var), net.fading(var));
        }
        assert_eq!(write_net(&again).unwrap(), written);
    }

    #[test]
    fn refuses_other_node_kinds_in_one_sentence() {
        let cases = [
            (
                "continuous node x { }",
                "node 'x' is a continuous chance node",
            ),
            (
                "decision d { states = (\"a\"); }",
                "node 'd' is a decision node",
            ),
            ("discrete decision d { }", "node 'd' is a decision node"),
            ("utility u { }", "node 'u' is a utility node"),
            (
                "instance i : C () { }",
                "node 'i' is a class instance (object-oriented network)",
            ),
        ];
        for (text, message) in cases {
            let err = read_net(text, "k.net").unwrap_err().to_string();
            assert_eq!(
                err,
                format!("k.net:1:1: {message}; Credence reads discrete chance networks only")
            );
        }
        let err = read_net("class C { }", "k.net").unwrap_err().to_string();
        assert_eq!(
            err,
            "k.net:1:1: 'C' is an object-oriented network class; Credence reads discrete chance networks only"
        );
    }

    #[test]
    fn errors_name_the_place() {
        let err = read_net(
            "node a\n{\n  states = (\"x\" \"y\");\n}\npotential (a) { data = (0.5 x); }",
            "e.net",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "e.net:5:29: expected a number in 'data' of the potential of 'a', found 'x'"
        );
        let err = read_net(
            "node a { states = (\"x\" \"y\"); }\npotential (a) { data = (0 0); }",
            "e.net",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("e.net:2:17: probability table of 'a' at (no parents) sums to 0"),
            "{err}"
        );
    }
}
