//! `Network.update`: many cases, given as factorised columns, answered on all cores.
//!
//! Each column of the frame arrives as integer codes (one per case, -1 for missing) and the
//! distinct cell texts they index, so a cell is interpreted once per distinct text rather than
//! once per case, and identical cases are answered once. A cell reads as a CSV cell of
//! `credence update` does: empty is unobserved, a state name is hard evidence, numbers
//! separated by ';' are a likelihood; a case that cannot be answered carries the same
//! one-sentence error as the command line's error record.

use crate::sentence;
use credence::{Evidence, InferenceEngine, Network, VarId};
use rayon::prelude::*;
use std::collections::HashMap;

/// One distinct cell text of a column, interpreted.
enum Cell {
    Unobserved,
    /// A state index, or why the text is no state of the variable.
    Hard(Result<usize, String>),
    Soft(Vec<f64>),
    /// Not a state and not numbers: the case fails with this message.
    Malformed(String),
}

/// The cases: per column, the variable, each case's code and the interpreted cells.
pub struct Columns<'a> {
    vars: Vec<VarId>,
    codes: &'a [&'a [i32]],
    cells: Vec<Vec<Cell>>,
    n_cases: usize,
}

impl<'a> Columns<'a> {
    /// Checks the columns against `network` and interprets every distinct cell.
    pub fn new(
        network: &Network,
        names: &[String],
        n_cases: usize,
        codes: &'a [&'a [i32]],
        categories: &[Vec<Option<String>>],
    ) -> Result<Columns<'a>, String> {
        if names.len() != codes.len() || names.len() != categories.len() {
            return Err(format!(
                "{} column names but {} code arrays and {} category lists",
                names.len(),
                codes.len(),
                categories.len()
            ));
        }
        let mut vars = Vec::with_capacity(names.len());
        let mut cells = Vec::with_capacity(names.len());
        for (column, name) in names.iter().enumerate() {
            if let Some(first) = names[..column].iter().position(|n| n == name) {
                return Err(format!(
                    "column '{name}' appears twice in the frame (columns {} and {})",
                    first + 1,
                    column + 1
                ));
            }
            let var = network
                .variable_id(name)
                .map_err(|e| format!("frame column {} ('{name}'): {}", column + 1, sentence(&e)))?;
            if codes[column].len() != n_cases {
                return Err(format!(
                    "column '{name}' has {} cases but the frame has {n_cases}",
                    codes[column].len()
                ));
            }
            if let Some(&bad) = codes[column]
                .iter()
                .find(|&&c| c < -1 || c as i64 >= categories[column].len() as i64)
            {
                return Err(format!(
                    "column '{name}' has code {bad}, outside its {} categories",
                    categories[column].len()
                ));
            }
            vars.push(var);
            cells.push(
                categories[column]
                    .iter()
                    .map(|text| interpret(network, var, text.as_deref()))
                    .collect(),
            );
        }
        Ok(Columns {
            vars,
            codes,
            cells,
            n_cases,
        })
    }

    fn code(&self, column: usize, case: usize) -> i32 {
        self.codes[column][case]
    }

    fn cell(&self, column: usize, case: usize) -> &Cell {
        match self.code(column, case) {
            -1 => &Cell::Unobserved,
            code => &self.cells[column][code as usize],
        }
    }

    /// The evidence of one case: malformed cells first (as the CSV reader rejects them before
    /// anything is checked against the network), then hard findings, then soft, each in
    /// column order, as `credence update` applies them.
    fn evidence(&self, network: &Network, case: usize) -> Result<Evidence, String> {
        let columns = 0..self.vars.len();
        if let Some(Cell::Malformed(message)) = columns
            .clone()
            .map(|c| self.cell(c, case))
            .find(|cell| matches!(cell, Cell::Malformed(_)))
        {
            return Err(message.clone());
        }
        let mut evidence = Evidence::new();
        for column in columns.clone() {
            if let Cell::Hard(state) = self.cell(column, case) {
                let state = state.clone()?;
                evidence
                    .observe(network, self.vars[column], state)
                    .map_err(|e| sentence(&e))?;
            }
        }
        for column in columns {
            if let Cell::Soft(values) = self.cell(column, case) {
                evidence
                    .add_likelihood(network, self.vars[column], values)
                    .map_err(|e| sentence(&e))?;
            }
        }
        Ok(evidence)
    }
}

/// A cell as `credence update` reads a CSV cell.
fn interpret(network: &Network, var: VarId, text: Option<&str>) -> Cell {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Cell::Unobserved;
    };
    let variable = network.variable(var);
    if text.contains(';') && variable.state_index(text).is_none() {
        let values: Result<Vec<f64>, _> = text.split(';').map(|v| v.trim().parse()).collect();
        return match values {
            Ok(values) => Cell::Soft(values),
            Err(_) => Cell::Malformed(format!(
                "the soft evidence on '{}' must be numbers separated by ';', found '{text}'",
                variable.name()
            )),
        };
    }
    // The message of the command line's `observe_named` for a state that does not exist.
    Cell::Hard(
        Evidence::new()
            .observe_named(network, variable.name(), text)
            .map(|()| {
                variable
                    .state_index(text)
                    .expect("the state was just observed")
            })
            .map_err(|e| sentence(&e)),
    )
}

/// The answers, one row per case.
pub struct Updated {
    /// `VAR=STATE` per column of `posteriors`, in target order then state order.
    pub columns: Vec<String>,
    /// Row-major, `n_cases × columns.len()`; NaN for failed cases.
    pub posteriors: Vec<f64>,
    /// `ln P(e)` per case; NaN for failed cases.
    pub log_p_evidence: Vec<f64>,
    /// Why each case failed, if it did.
    pub errors: Vec<Option<String>>,
}

/// Answers every case with `engine` for `targets` (every variable when empty) on `threads`
/// threads (all cores when None).
pub fn run(
    engine: &dyn InferenceEngine,
    columns: &Columns,
    targets: &[VarId],
    threads: Option<usize>,
) -> Result<Updated, String> {
    let network = engine.network();
    let shown = shown(network, targets);
    let names: Vec<String> = shown
        .iter()
        .flat_map(|&v| {
            let variable = network.variable(v);
            variable
                .states()
                .iter()
                .map(move |s| format!("{}={s}", variable.name()))
        })
        .collect();
    let (unique, case_of) = distinct_cases(columns);
    let width = names.len();
    let answer = |&case: &usize| -> Result<(f64, Vec<f64>), String> {
        let evidence = columns.evidence(network, case)?;
        let answer = engine
            .answer(&evidence, targets)
            .map_err(|e| sentence(&e))?;
        let mut row = Vec::with_capacity(width);
        for &var in &shown {
            let marginal = answer
                .posteriors
                .marginal(var)
                .expect("every shown variable is a target");
            row.extend_from_slice(marginal);
        }
        Ok((answer.posteriors.ln_p_evidence(), row))
    };
    let answers: Vec<Result<(f64, Vec<f64>), String>> = match threads {
        None | Some(0) => unique.par_iter().map(answer).collect(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| format!("cannot start {n} threads: {e}"))?
            .install(|| unique.par_iter().map(answer).collect()),
    };
    let mut out = Updated {
        columns: names,
        posteriors: Vec::with_capacity(columns.n_cases * width),
        log_p_evidence: Vec::with_capacity(columns.n_cases),
        errors: Vec::with_capacity(columns.n_cases),
    };
    for &index in &case_of {
        match &answers[index] {
            Ok((log_p, row)) => {
                out.posteriors.extend_from_slice(row);
                out.log_p_evidence.push(*log_p);
                out.errors.push(None);
            }
            Err(message) => {
                out.posteriors.extend(std::iter::repeat_n(f64::NAN, width));
                out.log_p_evidence.push(f64::NAN);
                out.errors.push(Some(message.clone()));
            }
        }
    }
    Ok(out)
}

/// The variables reported: the targets without repeats, or every variable.
fn shown(network: &Network, targets: &[VarId]) -> Vec<VarId> {
    if targets.is_empty() {
        return network.variable_ids().collect();
    }
    let mut seen = vec![false; network.n_variables()];
    targets
        .iter()
        .copied()
        .filter(|t| !std::mem::replace(&mut seen[t.index()], true))
        .collect()
}

/// The first case of each distinct row of codes, and for every case the index of its
/// distinct row: identical cases are answered once.
fn distinct_cases(columns: &Columns) -> (Vec<usize>, Vec<usize>) {
    let n_columns = columns.vars.len();
    let mut first: HashMap<Vec<i32>, usize> = HashMap::new();
    let mut unique = Vec::new();
    let mut case_of = Vec::with_capacity(columns.n_cases);
    let mut key = Vec::with_capacity(n_columns);
    for case in 0..columns.n_cases {
        key.clear();
        key.extend((0..n_columns).map(|c| columns.code(c, case)));
        let index = match first.get(&key) {
            Some(&index) => index,
            None => {
                first.insert(key.clone(), unique.len());
                unique.push(case);
                unique.len() - 1
            }
        };
        case_of.push(index);
    }
    (unique, case_of)
}
