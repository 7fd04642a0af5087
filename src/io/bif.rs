//! BIF, the Bayesian Interchange Format, in the dialects written by the bnlearn repository,
//! Hugin exports and JavaBayes.
//!
//! Accepted: `network`, `variable` (`type discrete [ n ] { … }`, with or without spaces and
//! commas), `probability ( child | parents )` with `table`, per-configuration rows and
//! `default`, `property` anywhere in a block (kept verbatim), `//` and `/* */` comments,
//! quoted or bare names. A network called `unknown` (the repository's placeholder) or
//! without a `network` block takes its name from the file. A bare name is any run of characters other than white space and
//! `{ } ( ) [ ] ; , | "`, so state names such as `Asy/Patch`, `<5`, `5-12` and `12+` read as
//! written.
//!
//! # Table order
//!
//! Rows `(p_1, …, p_k) v_1, …, v_n;` give the child's distribution for one parent
//! configuration. A `table` lists values with the child varying *slowest* and the last parent
//! fastest (the JavaBayes and pgmpy convention); for a variable without parents both readings
//! coincide. The writer uses rows for every variable with parents, so its output is unambiguous.

use super::{Location, ReadError, needs_quotes};
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
    /// Byte span of the token's text (for strings: inside the quotes).
    start: usize,
    end: usize,
    line: usize,
    col: usize,
}

const PUNCTUATION: &str = "{}()[];,|";

fn tokenize(text: &str, source: &str) -> Result<Vec<Token>, ReadError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::with_capacity(text.len() / 4);
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let error = |line, col, message: String| ReadError::Syntax {
        location: Location {
            source: source.to_string(),
            line,
            col,
        },
        message,
    };
    // Advances over one character, keeping line and column (in characters) current.
    let step = |i: &mut usize, line: &mut usize, col: &mut usize| {
        let c = text[*i..].chars().next().expect("in bounds");
        *i += c.len_utf8();
        if c == '\n' {
            *line += 1;
            *col = 1;
        } else {
            *col += 1;
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() || b == 0xEF && text[i..].starts_with('\u{FEFF}') {
            step(&mut i, &mut line, &mut col);
        } else if text[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                step(&mut i, &mut line, &mut col);
            }
        } else if text[i..].starts_with("/*") {
            let (start_line, start_col) = (line, col);
            loop {
                if i >= bytes.len() {
                    return Err(error(
                        start_line,
                        start_col,
                        "comment opened with '/*' is never closed".to_string(),
                    ));
                }
                if text[i..].starts_with("*/") {
                    i += 2;
                    col += 2;
                    break;
                }
                step(&mut i, &mut line, &mut col);
            }
        } else if b == b'"' {
            let (start_line, start_col) = (line, col);
            step(&mut i, &mut line, &mut col);
            let start = i;
            loop {
                if i >= bytes.len() {
                    return Err(error(
                        start_line,
                        start_col,
                        "string opened with '\"' is never closed".to_string(),
                    ));
                }
                match bytes[i] {
                    b'"' => break,
                    b'\\' if i + 1 < bytes.len() => {
                        step(&mut i, &mut line, &mut col);
                        step(&mut i, &mut line, &mut col);
                    }
                    _ => step(&mut i, &mut line, &mut col),
                }
            }
            tokens.push(Token {
                kind: Kind::Str,
                start,
                end: i,
                line: start_line,
                col: start_col,
            });
            step(&mut i, &mut line, &mut col);
        } else if PUNCTUATION.as_bytes().contains(&b) {
            tokens.push(Token {
                kind: Kind::Punct(b as char),
                start: i,
                end: i + 1,
                line,
                col,
            });
            i += 1;
            col += 1;
        } else {
            let (start, start_line, start_col) = (i, line, col);
            while i < bytes.len() {
                let c = bytes[i];
                if c.is_ascii_whitespace()
                    || c == b'"'
                    || PUNCTUATION.as_bytes().contains(&c)
                    || text[i..].starts_with("//")
                    || text[i..].starts_with("/*")
                {
                    break;
                }
                step(&mut i, &mut line, &mut col);
            }
            tokens.push(Token {
                kind: Kind::Word,
                start,
                end: i,
                line: start_line,
                col: start_col,
            });
        }
    }
    tokens.push(Token {
        kind: Kind::Eof,
        start: text.len(),
        end: text.len(),
        line,
        col,
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

/// A row `(parent states) values;` and where it starts.
type Row = (Vec<(String, Token)>, Vec<f64>, Token);

/// One `probability` block as parsed, before it is checked against the declarations.
struct ProbabilityBlock {
    at: Token,
    child: (String, Token),
    parents: Vec<(String, Token)>,
    table: Option<(Vec<f64>, Token)>,
    default: Option<(Vec<f64>, Token)>,
    rows: Vec<Row>,
}

struct Parser<'a> {
    text: &'a str,
    source: &'a str,
    tokens: Vec<Token>,
    position: usize,
    precision: super::Precision,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Token {
        self.tokens[self.position]
    }

    fn next(&mut self) -> Token {
        let token = self.tokens[self.position];
        if token.kind != Kind::Eof {
            self.position += 1;
        }
        token
    }

    fn text_of(&self, token: Token) -> &'a str {
        &self.text[token.start..token.end]
    }

    fn location(&self, token: Token) -> Location {
        Location {
            source: self.source.to_string(),
            line: token.line,
            col: token.col,
        }
    }

    fn describe(&self, token: Token) -> String {
        match token.kind {
            Kind::Eof => "end of file".to_string(),
            Kind::Str => format!("\"{}\"", shown(self.text_of(token))),
            _ => format!("'{}'", shown(self.text_of(token))),
        }
    }

    fn error(&self, token: Token, message: impl Into<String>) -> ReadError {
        ReadError::Syntax {
            location: self.location(token),
            message: message.into(),
        }
    }

    fn unexpected(&self, token: Token, expected: &str) -> ReadError {
        self.error(
            token,
            format!("expected {expected}, found {}", self.describe(token)),
        )
    }

    fn expect_punct(&mut self, c: char, context: &str) -> Result<Token, ReadError> {
        let token = self.next();
        if token.kind == Kind::Punct(c) {
            Ok(token)
        } else {
            Err(self.unexpected(token, &format!("'{c}' {context}")))
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek().kind == Kind::Punct(c) {
            self.next();
            true
        } else {
            false
        }
    }

    fn is_keyword(&self, token: Token, keyword: &str) -> bool {
        token.kind == Kind::Word && self.text_of(token) == keyword
    }

    /// A bare or quoted name.
    fn name(&mut self, what: &str) -> Result<(String, Token), ReadError> {
        let token = self.next();
        let name = match token.kind {
            Kind::Word => self.text_of(token).to_string(),
            Kind::Str => unescape(self.text_of(token)),
            _ => return Err(self.unexpected(token, what)),
        };
        // A control character in a name is never meant, and XMLBIF could not write it.
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Err(self.error(
                token,
                format!(
                    "the name {} contains the control character U+{:04X}",
                    self.describe(token),
                    c as u32
                ),
            ));
        }
        Ok((name, token))
    }

    /// `property <anything> ;`, kept verbatim; the keyword has been consumed.
    fn property(&mut self, keyword: Token) -> Result<String, ReadError> {
        let first = self.peek();
        let mut last_end = first.start;
        loop {
            let token = self.next();
            match token.kind {
                Kind::Punct(';') => break,
                Kind::Eof => {
                    return Err(
                        self.error(keyword, "this property is never ended with ';'".to_string())
                    );
                }
                Kind::Str => last_end = token.end + 1,
                _ => last_end = token.end,
            }
        }
        let start = if first.kind == Kind::Str {
            first.start - 1
        } else {
            first.start
        };
        let text = self.text[start..last_end.max(start)].trim().to_string();
        // Line breaks and tabs may be part of a long description; the other C0 control
        // characters are not text, and XML cannot carry them.
        if let Some(c) = text
            .chars()
            .find(|&c| c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(self.error(
                keyword,
                format!(
                    "this property contains the control character U+{:04X}",
                    c as u32
                ),
            ));
        }
        Ok(text)
    }

    /// Numbers separated by optional commas, up to and including `;`.
    fn numbers(&mut self, what: &str) -> Result<Vec<f64>, ReadError> {
        let mut values = Vec::new();
        loop {
            let token = self.next();
            match token.kind {
                Kind::Punct(';') => return Ok(values),
                Kind::Punct(',') if !values.is_empty() => {}
                Kind::Word => {
                    let text = self.text_of(token);
                    let value: f64 = text.parse().map_err(|_| {
                        self.error(
                            token,
                            format!("expected a number in {what}, found '{text}'"),
                        )
                    })?;
                    self.precision.note(text, value);
                    values.push(value);
                }
                _ => {
                    return Err(self.unexpected(token, &format!("a number or ';' in {what}")));
                }
            }
        }
    }

    fn network_block(&mut self) -> Result<(String, Vec<String>), ReadError> {
        let (name, _) = self.name("the network's name")?;
        self.expect_punct('{', "to open the network block")?;
        let mut properties = Vec::new();
        loop {
            let token = self.next();
            if token.kind == Kind::Punct('}') {
                return Ok((name, properties));
            }
            if self.is_keyword(token, "property") {
                properties.push(self.property(token)?);
            } else {
                return Err(self.unexpected(token, "'property' or '}' in the network block"));
            }
        }
    }

    fn variable_block(&mut self) -> Result<(String, Token, Vec<String>, Vec<String>), ReadError> {
        let (name, name_token) = self.name("a variable name")?;
        self.expect_punct('{', &format!("to open the block of variable '{name}'"))?;
        let mut states: Option<Vec<String>> = None;
        let mut properties = Vec::new();
        loop {
            let token = self.next();
            if token.kind == Kind::Punct('}') {
                break;
            }
            if self.is_keyword(token, "property") {
                properties.push(self.property(token)?);
            } else if self.is_keyword(token, "type") {
                if states.is_some() {
                    return Err(self.error(
                        token,
                        format!("variable '{name}' has two 'type' declarations"),
                    ));
                }
                states = Some(self.discrete_type(&name)?);
            } else {
                return Err(self.unexpected(
                    token,
                    &format!("'type', 'property' or '}}' in variable '{name}'"),
                ));
            }
        }
        let states = states.ok_or_else(|| {
            self.error(
                name_token,
                format!("variable '{name}' has no 'type discrete [ n ] {{ ... }}' declaration"),
            )
        })?;
        Ok((name, name_token, states, properties))
    }

    /// `discrete [ n ] { s1, s2, ... } ;` (the `type` keyword consumed).
    fn discrete_type(&mut self, variable: &str) -> Result<Vec<String>, ReadError> {
        let token = self.next();
        let text = self.text_of(token);
        if token.kind != Kind::Word || text != "discrete" {
            return Err(self.unexpected(
                token,
                &format!("'discrete' (the only type supported) for '{variable}'"),
            ));
        }
        self.expect_punct('[', "before the number of states")?;
        let count_token = self.next();
        let declared: usize = match count_token.kind {
            Kind::Word => self
                .text_of(count_token)
                .parse()
                .map_err(|_| self.unexpected(count_token, "a whole number of states"))?,
            _ => return Err(self.unexpected(count_token, "a whole number of states")),
        };
        self.expect_punct(']', "after the number of states")?;
        self.expect_punct('{', "to open the list of states")?;
        let mut states = Vec::new();
        loop {
            if self.eat_punct('}') {
                break;
            }
            if !states.is_empty() {
                // Commas are optional in some exporters' output.
                self.eat_punct(',');
                if self.eat_punct('}') {
                    break;
                }
            }
            let (state, token) = self.name(&format!("a state name or '}}' for '{variable}'"))?;
            if states.contains(&state) {
                return Err(ReadError::Model {
                    location: self.location(token),
                    source: Box::new(ModelError::DuplicateState {
                        variable: variable.to_string(),
                        state,
                    }),
                });
            }
            states.push(state);
        }
        self.eat_punct(';');
        if states.len() != declared {
            return Err(self.error(
                count_token,
                format!(
                    "variable '{variable}' declares {declared} states but lists {}",
                    states.len()
                ),
            ));
        }
        Ok(states)
    }

    fn probability_block(&mut self, at: Token) -> Result<ProbabilityBlock, ReadError> {
        self.expect_punct('(', "after 'probability'")?;
        let child = self.name("the variable whose table this is")?;
        let mut parents = Vec::new();
        if self.eat_punct('|') {
            loop {
                parents.push(self.name("a parent name")?);
                if !self.eat_punct(',') {
                    break;
                }
            }
        }
        self.expect_punct(')', &format!("to close the header of '{}'", child.0))?;
        self.expect_punct('{', &format!("to open the table of '{}'", child.0))?;
        let mut block = ProbabilityBlock {
            at,
            child,
            parents,
            table: None,
            default: None,
            rows: Vec::new(),
        };
        let context = format!("the table of '{}'", block.child.0);
        loop {
            let token = self.next();
            match token.kind {
                Kind::Punct('}') => return Ok(block),
                Kind::Punct('(') => {
                    let mut states = Vec::new();
                    loop {
                        states.push(self.name("a parent state")?);
                        if !self.eat_punct(',') {
                            break;
                        }
                    }
                    self.expect_punct(')', "after the parent states")?;
                    let values = self.numbers(&context)?;
                    block.rows.push((states, values, token));
                }
                Kind::Word if self.text_of(token) == "table" => {
                    let values = self.numbers(&context)?;
                    if block.table.replace((values, token)).is_some() {
                        return Err(self.error(token, format!("{context} has two 'table' entries")));
                    }
                }
                Kind::Word if self.text_of(token) == "default" => {
                    let values = self.numbers(&context)?;
                    block.default = Some((values, token));
                }
                Kind::Word if self.text_of(token) == "property" => {
                    self.property(token)?;
                }
                _ => {
                    return Err(self.unexpected(
                        token,
                        &format!("'table', 'default', '(' or '}}' in {context}"),
                    ));
                }
            }
        }
    }
}

/// `1 value`, `3 values`.
/// Input text as quoted in a message: control characters escaped, so that the message stays one
/// line, and at most 60 characters, so that a runaway string does not fill the screen.
fn shown(text: &str) -> String {
    const LIMIT: usize = 60;
    let mut out = super::one_line(&text.chars().take(LIMIT).collect::<String>());
    if text.chars().nth(LIMIT).is_some() {
        out.push('…');
    }
    out
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Where each parent configuration of a table was written: a row, the `default`, or the `table`.
struct TableOrigin {
    by_configuration: Vec<Token>,
}

fn model_error(parser: &Parser<'_>, token: Token, source: ModelError) -> ReadError {
    ReadError::Model {
        location: parser.location(token),
        source: Box::new(source),
    }
}

/// The block's values in the model's layout (parents then child, child fastest).
fn block_values(
    parser: &Parser<'_>,
    builder: &NetworkBuilder,
    block: &ProbabilityBlock,
    child: VarId,
    parents: &[VarId],
    default_budget: &mut usize,
) -> Result<(Vec<f64>, TableOrigin), ReadError> {
    let child_name = &block.child.0;
    let n_child = builder.variable(child).cardinality();
    let entries = builder
        .table_entries(child, parents)
        .map_err(|source| model_error(parser, block.at, source))?;
    let n_configurations = entries / n_child;
    if let Some((values, token)) = &block.table {
        if !block.rows.is_empty() || block.default.is_some() {
            return Err(parser.error(
                *token,
                format!(
                    "the table of '{child_name}' mixes 'table' with rows or 'default'; use one form"
                ),
            ));
        }
        if values.len() != entries {
            return Err(parser.error(
                *token,
                format!(
                    "the table of '{child_name}' has {}, expected {entries} ({} × {})",
                    count(values.len(), "value"),
                    count(n_configurations, "parent configuration"),
                    count(n_child, "state")
                ),
            ));
        }
        // `table` lists the child slowest; the model wants it fastest.
        let mut out = vec![0.0; entries];
        for (i, &value) in values.iter().enumerate() {
            let (state, configuration) = (i / n_configurations, i % n_configurations);
            out[configuration * n_child + state] = value;
        }
        return Ok((
            out,
            TableOrigin {
                by_configuration: vec![*token; n_configurations],
            },
        ));
    }
    // Resolve every row first: work and memory in proportion to the rows written, so that a
    // short file declaring a huge table is refused before the table is allocated.
    let mut given: HashMap<usize, (&[f64], Token)> = HashMap::with_capacity(block.rows.len());
    for (states, values, token) in &block.rows {
        if states.len() != parents.len() {
            return Err(parser.error(
                *token,
                format!(
                    "a row of '{child_name}' names {}, expected {} (one per parent)",
                    count(states.len(), "parent state"),
                    parents.len()
                ),
            ));
        }
        let mut configuration = 0;
        for ((state, state_token), &parent) in states.iter().zip(parents) {
            let variable = builder.variable(parent);
            let index = variable.state_index(state).ok_or_else(|| {
                model_error(
                    parser,
                    *state_token,
                    ModelError::UnknownState {
                        variable: variable.name().to_string(),
                        state: state.clone(),
                        choices: crate::model::Choices::new(
                            state,
                            variable.states().iter().map(String::as_str),
                        ),
                    },
                )
            })?;
            configuration = configuration * variable.cardinality() + index;
        }
        if values.len() != n_child {
            return Err(parser.error(
                *token,
                format!(
                    "a row of '{child_name}' has {}, expected {n_child} (one per state)",
                    count(values.len(), "value")
                ),
            ));
        }
        if given
            .insert(configuration, (values.as_slice(), *token))
            .is_some()
        {
            let named: Vec<String> = states
                .iter()
                .zip(parents)
                .map(|((state, _), &p)| format!("{}={state}", builder.variable(p).name()))
                .collect();
            return Err(parser.error(
                *token,
                format!(
                    "the table of '{child_name}' gives the parent configuration ({}) twice",
                    named.join(", ")
                ),
            ));
        }
    }
    let filled = n_configurations - given.len();
    match &block.default {
        None if filled > 0 => {
            // The first configuration without a row: at most one more than there are rows.
            let configuration = (0..n_configurations)
                .find(|c| !given.contains_key(c))
                .expect("a configuration has no row");
            let names: Vec<&crate::model::Variable> =
                parents.iter().map(|&p| builder.variable(p)).collect();
            let mut rest = configuration;
            let mut parts = vec![String::new(); names.len()];
            for (slot, variable) in parts.iter_mut().zip(&names).rev() {
                *slot = format!(
                    "{}={}",
                    variable.name(),
                    variable.states()[rest % variable.cardinality()]
                );
                rest /= variable.cardinality();
            }
            return Err(parser.error(
                block.at,
                format!(
                    "the table of '{child_name}' has no row for ({}) and no default",
                    parts.join(", ")
                ),
            ));
        }
        Some((values, token)) => {
            if values.len() != n_child {
                return Err(parser.error(
                    *token,
                    format!(
                        "the default of '{child_name}' has {}, expected {n_child}",
                        count(values.len(), "value")
                    ),
                ));
            }
            // Only a default makes a table larger than its text; all defaults of a file
            // together may fill at most MAX_DEFAULT_ENTRIES.
            let entries_filled = filled.saturating_mul(n_child);
            if entries_filled > *default_budget {
                return Err(parser.error(
                    *token,
                    format!(
                        "the default of '{child_name}' would fill {entries_filled} entries, over the limit of {MAX_DEFAULT_ENTRIES} filled by defaults in one file; write the rows out"
                    ),
                ));
            }
            *default_budget -= entries_filled;
        }
        None => {}
    }
    let mut out = vec![f64::NAN; entries];
    let mut by_configuration = Vec::with_capacity(n_configurations);
    for configuration in 0..n_configurations {
        let (values, token) = match given.get(&configuration) {
            Some(&(values, token)) => (values, token),
            None => {
                let (values, token) = block.default.as_ref().expect("checked above");
                (values.as_slice(), *token)
            }
        };
        out[configuration * n_child..(configuration + 1) * n_child].copy_from_slice(values);
        by_configuration.push(token);
    }
    Ok((out, TableOrigin { by_configuration }))
}

/// Most entries that `default` rows may fill in one file (2^24, 128 MiB of `f64`): a default
/// is the one way a few bytes of text become a large table.
pub const MAX_DEFAULT_ENTRIES: usize = 1 << 24;

/// Reads a network from BIF text; `source` names it in errors.
///
/// # Errors
/// [`ReadError::Syntax`] or [`ReadError::Model`] with `source:line:col`, or
/// [`ReadError::Network`] for whole-network problems such as a cycle.
pub fn read_bif(text: &str, source: &str) -> Result<Network, ReadError> {
    let tokens = tokenize(text, source)?;
    let mut parser = Parser {
        text,
        source,
        tokens,
        position: 0,
        precision: super::Precision::default(),
    };
    let mut network = None;
    let mut variables = Vec::new();
    let mut blocks = Vec::new();
    loop {
        let token = parser.next();
        if token.kind == Kind::Eof {
            break;
        }
        match (token.kind, parser.text_of(token)) {
            (Kind::Word, "network") => network = Some(parser.network_block()?),
            (Kind::Word, "variable") => variables.push(parser.variable_block()?),
            (Kind::Word, "probability") => blocks.push(parser.probability_block(token)?),
            _ => {
                return Err(parser.unexpected(token, "'network', 'variable' or 'probability'"));
            }
        }
    }
    if variables.is_empty() {
        let end = parser.peek();
        return Err(parser.error(
            end,
            "no 'variable' declarations found: this is not a BIF network (or it is empty)",
        ));
    }
    let (mut name, properties) = network.unwrap_or_default();
    // The repository files all say `network unknown`; the file name says more.
    if name.is_empty() || name == "unknown" {
        name = std::path::Path::new(source)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or(name);
    }
    let mut builder = NetworkBuilder::new(name);
    builder.set_properties(properties);
    parser.precision.apply(&mut builder);
    let mut declared_at = Vec::with_capacity(variables.len());
    for (name, token, states, properties) in variables {
        let var = builder
            .add_variable(name, states)
            .map_err(|source| model_error(&parser, token, source))?;
        builder.set_variable_properties(var, properties);
        declared_at.push(token);
    }
    let mut origins: HashMap<VarId, TableOrigin> = HashMap::new();
    let mut default_budget = MAX_DEFAULT_ENTRIES;
    for block in &blocks {
        let child = builder
            .variable_id(&block.child.0)
            .map_err(|source| model_error(&parser, block.child.1, source))?;
        let parents = block
            .parents
            .iter()
            .map(|(name, token)| {
                builder
                    .variable_id(name)
                    .map_err(|source| model_error(&parser, *token, source))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (values, origin) = block_values(
            &parser,
            &builder,
            block,
            child,
            &parents,
            &mut default_budget,
        )?;
        builder
            .set_cpt(child, parents, values)
            .map_err(|source| model_error(&parser, block.at, source))?;
        origins.insert(child, origin);
    }
    let variable_names: Vec<String> = (0..declared_at.len())
        .map(|i| builder.variable(VarId::new(i)).name().to_string())
        .collect();
    builder.build().map_err(|error| {
        let find = |name: &str| {
            variable_names
                .iter()
                .position(|n| n == name)
                .map(VarId::new)
        };
        let token = match &error {
            ModelError::NotNormalized {
                variable,
                configuration_index,
                ..
            }
            | ModelError::InvalidProbability {
                variable,
                configuration_index,
                ..
            } => find(variable).and_then(|var| {
                origins
                    .get(&var)
                    .map(|origin| origin.by_configuration[*configuration_index])
            }),
            ModelError::MissingCpt { variable } => {
                find(variable).map(|var| declared_at[var.index()])
            }
            _ => None,
        };
        match token {
            Some(token) => model_error(&parser, token, error),
            None => ReadError::Network {
                source_name: source.to_string(),
                source: Box::new(error),
            },
        }
    })
}

/// A property as written: verbatim when it reads back as itself (it came from BIF), else as
/// one quoted string (XMLBIF's free text may hold `;`, quotes or comment markers, which would
/// end or break the property).
fn property_text(text: &str) -> String {
    let wrapped = format!("property {text};");
    let plain = text.trim() == text
        && tokenize(&wrapped, "").is_ok_and(|tokens| {
            // Plain when the first ';' is the one we added, right before the end.
            let end = tokens.iter().position(|t| t.kind == Kind::Punct(';'));
            end.is_some_and(|i| i + 2 == tokens.len() && tokens[i].start == wrapped.len() - 1)
        });
    if plain {
        return text.to_string();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn write_name(out: &mut String, name: &str) {
    if needs_quotes(name)
        || [
            "network",
            "variable",
            "probability",
            "property",
            "table",
            "default",
            "type",
        ]
        .contains(&name)
    {
        out.push('"');
        for c in name.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(name);
    }
}

/// Writes `network` as BIF. Reading the output back gives the same network: names, states,
/// properties, parents and every value, bit for bit (values are written in Rust's shortest
/// round-trip form).
pub fn write_bif(network: &Network) -> String {
    let mut out = String::new();
    out.push_str("network ");
    write_name(&mut out, network.name());
    out.push_str(" {\n");
    for property in network.properties() {
        let _ = writeln!(out, "  property {};", property_text(property));
    }
    out.push_str("}\n");
    for variable in network.variables() {
        out.push_str("variable ");
        write_name(&mut out, variable.name());
        let _ = write!(
            out,
            " {{\n  type discrete [ {} ] {{ ",
            variable.cardinality()
        );
        for (i, state) in variable.states().iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            write_name(&mut out, state);
        }
        out.push_str(" };\n");
        for property in variable.properties() {
            let _ = writeln!(out, "  property {};", property_text(property));
        }
        out.push_str("}\n");
    }
    for var in network.variable_ids() {
        let cpt = network.cpt(var);
        out.push_str("probability ( ");
        write_name(&mut out, network.variable(var).name());
        for (i, &parent) in cpt.parents().iter().enumerate() {
            out.push_str(if i == 0 { " | " } else { ", " });
            write_name(&mut out, network.variable(parent).name());
        }
        out.push_str(" ) {\n");
        let n_child = network.cardinality(var);
        let write_values = |out: &mut String, values: &[f64]| {
            for (i, value) in values.iter().enumerate() {
                let _ = write!(out, "{}{value:?}", if i > 0 { ", " } else { "" });
            }
            out.push_str(";\n");
        };
        if cpt.parents().is_empty() {
            out.push_str("  table ");
            write_values(&mut out, cpt.values());
        } else {
            let cards: Vec<usize> = cpt
                .parents()
                .iter()
                .map(|&p| network.cardinality(p))
                .collect();
            let mut states = vec![0usize; cards.len()];
            for column in cpt.values().chunks(n_child) {
                out.push_str("  (");
                for (i, (&parent, &state)) in cpt.parents().iter().zip(&states).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    write_name(&mut out, &network.variable(parent).states()[state]);
                }
                out.push_str(") ");
                write_values(&mut out, column);
                for d in (0..cards.len()).rev() {
                    states[d] += 1;
                    if states[d] < cards[d] {
                        break;
                    }
                    states[d] = 0;
                }
            }
        }
        out.push_str("}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASIA_LIKE: &str = "// a comment\r\nnetwork \"tiny net\" {\r\n property author = \"me\";\n}\n\
        variable A { type discrete[2] { yes, no }; property description = \"first\"; }\n\
        variable B /* inline */ { type discrete [ 3 ] { <5, 5-12, 12+ } ; }\n\
        probability ( A ) { table 0.3 0.7 ; }\n\
        probability ( B | A ) { (yes) 0.1, 0.2, 0.7; default 0.3, 0.3, 0.4; }\n";

    #[test]
    fn reads_dialect_features() {
        let net = read_bif(ASIA_LIKE, "tiny.bif").unwrap();
        assert_eq!(net.name(), "tiny net");
        assert_eq!(net.properties(), &["author = \"me\"".to_string()]);
        let b = net.variable_id("B").unwrap();
        assert_eq!(net.variable(b).states(), &["<5", "5-12", "12+"]);
        assert_eq!(net.cpt(b).values(), &[0.1, 0.2, 0.7, 0.3, 0.3, 0.4]);
        let a = net.variable_id("A").unwrap();
        assert_eq!(net.variable(a).description().as_deref(), Some("first"));
    }

    #[test]
    fn table_lists_child_slowest() {
        let text = "variable A { type discrete [2] { a0, a1 }; }\n\
            variable B { type discrete [2] { b0, b1 }; }\n\
            probability ( A ) { table 0.5, 0.5; }\n\
            probability ( B | A ) { table 0.1, 0.6, 0.9, 0.4; }\n";
        let net = read_bif(text, "t.bif").unwrap();
        let b = net.variable_id("B").unwrap();
        assert_eq!(net.cpt(b).values(), &[0.1, 0.9, 0.6, 0.4]);
    }

    #[test]
    fn writes_what_it_reads() {
        let net = read_bif(ASIA_LIKE, "tiny.bif").unwrap();
        let text = write_bif(&net);
        let again = read_bif(&text, "again.bif").unwrap();
        assert_eq!(write_bif(&again), text);
        assert_eq!(again.variables(), net.variables());
    }

    #[track_caller]
    fn check_error(text: &str, expected: &str) {
        let err = read_bif(text, "bad.bif").unwrap_err().to_string();
        assert_eq!(err, expected);
    }

    #[test]
    fn errors_say_where_and_what() {
        check_error(
            "variable A { type discrete [ 2 ] { a, b } }\nprobability ( A ) { table 0.5 0.5 }",
            "bad.bif:2:35: expected a number or ';' in the table of 'A', found '}'",
        );
        check_error(
            "variable A { type discrete [ 3 ] { a, b }; }",
            "bad.bif:1:30: variable 'A' declares 3 states but lists 2",
        );
        check_error(
            "variable A { type discrete [ 2 ] { a, b }; }\nprobability ( A ) { table 0.5, 0.4; }",
            "bad.bif:2:21: probability table of 'A' at (no parents) sums to 0.9, not 1 (tolerance 1e-6)",
        );
        check_error(
            "variable A { type discrete [ 2 ] { a, b }; }\nprobability ( X ) { table 0.5, 0.5; }",
            "bad.bif:2:15: unknown variable 'X' (valid: A)",
        );
        check_error(
            "/* never closed",
            "bad.bif:1:1: comment opened with '/*' is never closed",
        );
        check_error(
            "variable A { type discrete [ 2 ] { a, a }; }",
            "bad.bif:1:39: variable 'A' declares state 'a' twice",
        );
        check_error(
            "variable A { type discrete [ 2 ] { a, b }; }",
            "bad.bif:1:10: variable 'A' has no probability table",
        );
        check_error(
            "variable A { type discrete [ 2 ] { a, b }; }\nvariable B { type discrete [ 2 ] { a, b }; }\n\
            probability ( A ) { table 0.5, 0.5; }\nprobability ( B | A ) { (a) 0.5, 0.5; }",
            "bad.bif:4:1: the table of 'B' has no row for (A=b) and no default",
        );
        check_error(
            "variable A { type discrete [ 2 ] { a, b }; }\nprobability ( A ) { table 0.5, x; }",
            "bad.bif:2:32: expected a number in the table of 'A', found 'x'",
        );
        check_error(
            "banana",
            "bad.bif:1:1: expected 'network', 'variable' or 'probability', found 'banana'",
        );
    }
}
