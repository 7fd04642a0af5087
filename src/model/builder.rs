use super::{
    Cpt, ModelError, Network, Renormalized, VarId, Variable, describe_configuration, shape_of,
    table_from_vec,
};
use std::collections::HashMap;

/// How far a parent configuration may always sum from 1 and still be accepted (then
/// renormalised), whatever precision its numbers were written at.
///
/// The public repository files are off by up to 3e-7. A column may be off by more when the
/// numbers' written precision explains it: see [`NetworkBuilder::set_entry_rounding`].
pub const NORMALIZATION_TOLERANCE: f64 = 1e-6;

/// Deviations at or below this are rounding, and left alone.
const RENORMALIZE_ABOVE: f64 = 1e-12;

/// Largest CPT (in entries) the builder accepts: 2^28 entries are 2 GiB of `f64`.
pub const MAX_TABLE_ENTRIES: usize = 1 << 28;

/// Collects variables and tables, then validates everything at once in [`build`](Self::build).
///
/// # Examples
/// ```
/// use credence::model::NetworkBuilder;
/// let mut builder = NetworkBuilder::new("coin");
/// let coin = builder.add_variable("coin", ["heads", "tails"]).unwrap();
/// builder.set_cpt(coin, vec![], vec![0.5, 0.5]).unwrap();
/// let network = builder.build().unwrap();
/// assert_eq!(network.n_variables(), 1);
/// ```
#[derive(Debug, Default)]
pub struct NetworkBuilder {
    name: String,
    properties: Vec<String>,
    variables: Vec<Variable>,
    by_name: HashMap<String, VarId>,
    cpts: Vec<Option<(Vec<VarId>, Vec<f64>)>>,
    /// Entries of all tables set so far: bounds the whole network, not just each table, so
    /// that many tables (each small enough) cannot add up to an exhausted memory either.
    total_entries: usize,
    /// How far each written entry may be from the value meant (see `set_entry_rounding`).
    entry_rounding: f64,
    /// The words that say why `entry_rounding` is what it is, for the report.
    precision: String,
    positions: Vec<Option<(f64, f64)>>,
    experience: Vec<Option<Vec<f64>>>,
    fading: Vec<Option<Vec<f64>>>,
}

impl NetworkBuilder {
    /// Starts an empty network called `name`.
    pub fn new(name: impl Into<String>) -> NetworkBuilder {
        NetworkBuilder {
            name: name.into(),
            ..NetworkBuilder::default()
        }
    }

    /// Sets the network-level properties (raw `key = value` texts).
    pub fn set_properties(&mut self, properties: Vec<String>) {
        self.properties = properties;
    }

    /// Declares a variable with its states in order.
    ///
    /// # Errors
    /// [`ModelError::DuplicateVariable`], [`ModelError::DuplicateState`], [`ModelError::NoStates`],
    /// [`ModelError::ControlCharacter`].
    pub fn add_variable<S: Into<String>>(
        &mut self,
        name: impl Into<String>,
        states: impl IntoIterator<Item = S>,
    ) -> Result<VarId, ModelError> {
        let name = name.into();
        let states: Vec<String> = states.into_iter().map(Into::into).collect();
        if self.by_name.contains_key(&name) {
            return Err(ModelError::DuplicateVariable { name });
        }
        if states.is_empty() {
            return Err(ModelError::NoStates { variable: name });
        }
        // Control characters in names are never meant, break one-line messages, and XML
        // cannot carry most of them: refused here, for every reader and API user alike.
        for text in std::iter::once(&name).chain(&states) {
            if let Some(c) = text.chars().find(|c| c.is_control()) {
                return Err(ModelError::ControlCharacter {
                    name: text.escape_debug().to_string(),
                    code: c as u32,
                });
            }
        }
        for (i, state) in states.iter().enumerate() {
            if states[..i].contains(state) {
                return Err(ModelError::DuplicateState {
                    variable: name,
                    state: state.clone(),
                });
            }
        }
        let id = VarId::new(self.variables.len());
        self.by_name.insert(name.clone(), id);
        self.variables.push(Variable {
            name,
            states,
            properties: Vec::new(),
        });
        self.cpts.push(None);
        self.positions.push(None);
        self.experience.push(None);
        self.fading.push(None);
        Ok(id)
    }

    /// Declares how far each table entry, as written in the source, may be from the value its
    /// writer meant: half a unit in the last decimal place written, or single precision's
    /// relative step for numbers that are `f32` values printed in full. `precision` says which,
    /// in words, for the report (e.g. "6 significant digits").
    ///
    /// A column of `n` entries is then accepted, and renormalised, when its sum is within
    /// `max(NORMALIZATION_TOLERANCE, n × rounding)` of 1: the most that rounding each entry can
    /// move the sum. Anything further is refused. The default, 0, keeps the fixed tolerance.
    pub fn set_entry_rounding(&mut self, rounding: f64, precision: impl Into<String>) {
        self.entry_rounding = rounding;
        self.precision = precision.into();
    }

    /// Sets where `var` is drawn (a layout hint from NET or XDSL files, written back out).
    pub fn set_position(&mut self, var: VarId, x: f64, y: f64) {
        self.positions[var.index()] = Some((x, y));
    }

    /// Sets `var`'s experience table: one count per parent configuration (last parent
    /// fastest), as Hugin keeps for adaptation. Checked against the CPT in [`build`](Self::build).
    pub fn set_experience(&mut self, var: VarId, counts: Vec<f64>) {
        self.experience[var.index()] = Some(counts);
    }

    /// Sets `var`'s fading table: one factor in [0, 1] per parent configuration.
    pub fn set_fading(&mut self, var: VarId, factors: Vec<f64>) {
        self.fading[var.index()] = Some(factors);
    }

    /// Sets the properties of `var` (raw `key = value` texts).
    pub fn set_variable_properties(&mut self, var: VarId, properties: Vec<String>) {
        self.variables[var.index()].properties = properties;
    }

    /// The id of an already declared variable.
    ///
    /// # Errors
    /// [`ModelError::UnknownVariable`].
    pub fn variable_id(&self, name: &str) -> Result<VarId, ModelError> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| ModelError::UnknownVariable {
                name: name.to_string(),
                choices: super::Choices::new(name, self.variables.iter().map(|v| v.name())),
            })
    }

    /// The variable `var` as declared so far.
    pub fn variable(&self, var: VarId) -> &Variable {
        &self.variables[var.index()]
    }

    /// Sets `P(child | parents)` from a row-major table with axes `[parents..., child]`.
    ///
    /// Entries are checked in [`build`](Self::build); the shape is checked here.
    ///
    /// # Errors
    /// [`ModelError::DuplicateCpt`], [`ModelError::SelfParent`], [`ModelError::RepeatedParent`],
    /// [`ModelError::CptShape`].
    pub fn set_cpt(
        &mut self,
        child: VarId,
        parents: Vec<VarId>,
        values: Vec<f64>,
    ) -> Result<(), ModelError> {
        let child_name = self.variables[child.index()].name.clone();
        if self.cpts[child.index()].is_some() {
            return Err(ModelError::DuplicateCpt {
                variable: child_name,
            });
        }
        for (i, &parent) in parents.iter().enumerate() {
            let parent_name = || self.variables[parent.index()].name.clone();
            if parent == child {
                return Err(ModelError::SelfParent {
                    variable: child_name,
                    parent: parent_name(),
                });
            }
            if parents[..i].contains(&parent) {
                return Err(ModelError::RepeatedParent {
                    variable: child_name,
                    parent: parent_name(),
                });
            }
        }
        let expected = self.table_entries(child, &parents)?;
        if values.len() != expected {
            let shape = parents
                .iter()
                .chain(std::iter::once(&child))
                .map(|v| {
                    let v = &self.variables[v.index()];
                    format!("{} has {}", v.name, v.cardinality())
                })
                .collect::<Vec<_>>()
                .join(", ");
            return Err(ModelError::CptShape {
                variable: child_name,
                expected,
                found: values.len(),
                shape: format!("{shape} states"),
            });
        }
        let replaced = self.cpts[child.index()]
            .as_ref()
            .map_or(0, |(_, old)| old.len());
        self.total_entries = self.total_entries - replaced + expected;
        self.cpts[child.index()] = Some((parents, values));
        Ok(())
    }

    /// The number of entries of `P(child | parents)`.
    ///
    /// # Errors
    /// [`ModelError::TableTooLarge`] when this table exceeds [`MAX_TABLE_ENTRIES`], and
    /// [`ModelError::TablesTooLarge`] when all tables set so far plus this one (in place of the
    /// child's current one) do, so that a small file cannot declare tables that exhaust memory.
    pub fn table_entries(&self, child: VarId, parents: &[VarId]) -> Result<usize, ModelError> {
        let shape = shape_of(&self.variables, parents, child);
        let entries: f64 = shape.iter().map(|&n| n as f64).product();
        let current = self.cpts[child.index()]
            .as_ref()
            .map_or(0, |(_, old)| old.len());
        let others = (self.total_entries - current) as f64;
        if entries <= MAX_TABLE_ENTRIES as f64 && others + entries > MAX_TABLE_ENTRIES as f64 {
            return Err(ModelError::TablesTooLarge {
                variable: self.variables[child.index()].name.clone(),
                entries: others + entries,
                limit: MAX_TABLE_ENTRIES,
            });
        }
        if entries > MAX_TABLE_ENTRIES as f64 {
            return Err(ModelError::TableTooLarge {
                variable: self.variables[child.index()].name.clone(),
                entries,
                limit: MAX_TABLE_ENTRIES,
            });
        }
        Ok(shape.iter().product())
    }

    /// Validates everything and freezes the network.
    ///
    /// Parent configurations within their tolerance of 1 (see
    /// [`set_entry_rounding`](Self::set_entry_rounding)) are renormalised; the worst one beyond
    /// [`NORMALIZATION_TOLERANCE`] is kept as [`Network::renormalized`].
    ///
    /// # Errors
    /// [`ModelError::MissingCpt`], [`ModelError::InvalidProbability`],
    /// [`ModelError::NotNormalized`], [`ModelError::Cycle`].
    pub fn build(self) -> Result<Network, ModelError> {
        let mut cpts = Vec::with_capacity(self.variables.len());
        let mut renormalized: Option<Renormalized> = None;
        for (index, cpt) in self.cpts.into_iter().enumerate() {
            let child = VarId::new(index);
            let variable = &self.variables[index];
            let Some((parents, mut values)) = cpt else {
                return Err(ModelError::MissingCpt {
                    variable: variable.name.clone(),
                });
            };
            let n_states = variable.cardinality();
            let tolerance =
                three_digits(NORMALIZATION_TOLERANCE.max(n_states as f64 * self.entry_rounding));
            for (configuration, column) in values.chunks_mut(n_states).enumerate() {
                let describe = || describe_configuration(&self.variables, &parents, configuration);
                if let Some((state, &value)) = column
                    .iter()
                    .enumerate()
                    .find(|(_, v)| !v.is_finite() || **v < 0.0)
                {
                    return Err(ModelError::InvalidProbability {
                        variable: variable.name.clone(),
                        configuration: describe(),
                        configuration_index: configuration,
                        state: variable.states[state].clone(),
                        value,
                    });
                }
                let sum: f64 = column.iter().sum();
                let deviation = (sum - 1.0).abs();
                // The slack keeps a column written as exactly the tolerance off (0.333333 × 3
                // at 1e-6) inside, whatever binary rounding did to its sum.
                // A column of zeros is no distribution, whatever the tolerance.
                if sum <= 0.0 || deviation > tolerance * (1.0 + 1e-6) {
                    return Err(ModelError::NotNormalized {
                        variable: variable.name.clone(),
                        configuration: describe(),
                        configuration_index: configuration,
                        sum,
                        tolerance,
                    });
                }
                if deviation > NORMALIZATION_TOLERANCE * (1.0 + 1e-6) {
                    let worse = renormalized
                        .as_ref()
                        .is_none_or(|r| deviation > (r.sum - 1.0).abs());
                    let columns = renormalized.as_ref().map_or(0, |r| r.columns) + 1;
                    if worse {
                        renormalized = Some(Renormalized {
                            variable: variable.name.clone(),
                            configuration: describe(),
                            sum,
                            tolerance,
                            precision: self.precision.clone(),
                            columns,
                        });
                    } else if let Some(r) = renormalized.as_mut() {
                        r.columns = columns;
                    }
                }
                // Only real deviations are corrected: a column already within rounding of 1
                // is kept bit for bit, so that write → read is an identity.
                if (sum - 1.0).abs() > RENORMALIZE_ABOVE {
                    column.iter_mut().for_each(|v| *v /= sum);
                }
            }
            let shape = shape_of(&self.variables, &parents, child);
            cpts.push(Cpt {
                child,
                parents,
                table: table_from_vec(shape, values),
            });
        }
        let experience =
            checked_side_tables(&self.variables, &cpts, self.experience, "experience", |v| {
                v >= 0.0
            })?;
        let fading = checked_side_tables(&self.variables, &cpts, self.fading, "fading", |v| {
            (0.0..=1.0).contains(&v)
        })?;
        let mut children = vec![Vec::new(); self.variables.len()];
        for cpt in &cpts {
            for parent in &cpt.parents {
                children[parent.index()].push(cpt.child);
            }
        }
        let topological_order = topological_order(&self.variables, &cpts)?;
        Ok(Network {
            name: self.name,
            properties: self.properties,
            variables: self.variables,
            cpts,
            children,
            topological_order,
            by_name: self.by_name,
            renormalized,
            positions: self.positions,
            experience,
            fading,
        })
    }
}

/// `x` to three significant digits, so that tolerances read as the round numbers they are.
fn three_digits(x: f64) -> f64 {
    format!("{x:.2e}").parse().unwrap_or(x)
}

/// Experience or fading tables, checked: one finite value per parent configuration, each
/// `valid`.
fn checked_side_tables(
    variables: &[Variable],
    cpts: &[Cpt],
    tables: Vec<Option<Vec<f64>>>,
    kind: &'static str,
    valid: impl Fn(f64) -> bool,
) -> Result<Vec<Option<Vec<f64>>>, ModelError> {
    for (cpt, table) in cpts.iter().zip(&tables) {
        let Some(table) = table else { continue };
        let variable = &variables[cpt.child.index()];
        let configurations = cpt.table.len() / variable.cardinality();
        if table.len() != configurations {
            return Err(ModelError::SideTableShape {
                kind,
                variable: variable.name.clone(),
                expected: configurations,
                found: table.len(),
            });
        }
        if let Some((configuration, &value)) = table
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite() || !valid(**v))
        {
            return Err(ModelError::SideTableValue {
                kind,
                variable: variable.name.clone(),
                configuration: describe_configuration(variables, &cpt.parents, configuration),
                value,
            });
        }
    }
    Ok(tables)
}

/// Depth-first search over parent links; a back edge closes a cycle, which is reported by name.
fn topological_order(variables: &[Variable], cpts: &[Cpt]) -> Result<Vec<VarId>, ModelError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let n = variables.len();
    let mut mark = vec![Mark::New; n];
    let mut order = Vec::with_capacity(n);
    // Explicit stack of (variable, next parent to visit): deep chains must not overflow the call stack.
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..n {
        if mark[start] != Mark::New {
            continue;
        }
        stack.push((start, 0));
        mark[start] = Mark::OnStack;
        while let Some(&mut (var, ref mut next)) = stack.last_mut() {
            let parents = &cpts[var].parents;
            if *next < parents.len() {
                let parent = parents[*next].index();
                *next += 1;
                match mark[parent] {
                    Mark::New => {
                        mark[parent] = Mark::OnStack;
                        stack.push((parent, 0));
                    }
                    Mark::OnStack => {
                        // The stack holds a child-to-parent path; the cycle runs from `parent` to `var`.
                        let from = stack.iter().position(|&(v, _)| v == parent).unwrap_or(0);
                        let mut cycle: Vec<String> = stack[from..]
                            .iter()
                            .rev()
                            .map(|&(v, _)| variables[v].name.clone())
                            .collect();
                        cycle.push(cycle[0].clone());
                        return Err(ModelError::Cycle { cycle });
                    }
                    Mark::Done => {}
                }
            } else {
                mark[var] = Mark::Done;
                order.push(VarId::new(var));
                stack.pop();
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> NetworkBuilder {
        let mut b = NetworkBuilder::new("t");
        let a = b.add_variable("a", ["x", "y"]).unwrap();
        let c = b.add_variable("c", ["u", "v", "w"]).unwrap();
        b.set_cpt(a, vec![], vec![0.3, 0.7]).unwrap();
        b.set_cpt(c, vec![a], vec![0.2, 0.3, 0.5, 0.1, 0.1, 0.8])
            .unwrap();
        b
    }

    #[test]
    fn builds_and_orders_parents_first() {
        let net = chain().build().unwrap();
        assert_eq!(net.topological_order(), &[VarId::new(0), VarId::new(1)]);
        assert_eq!(net.children(VarId::new(0)), &[VarId::new(1)]);
        assert_eq!(net.n_parameters(), 1 + 4);
        assert_eq!(net.describe_configuration(VarId::new(1), 1), "(a=y)");
    }

    #[test]
    fn rejects_duplicates_and_shapes() {
        let mut b = chain();
        assert!(matches!(
            b.add_variable("a", ["1"]),
            Err(ModelError::DuplicateVariable { .. })
        ));
        assert!(matches!(
            b.add_variable("d", ["1", "1"]),
            Err(ModelError::DuplicateState { .. })
        ));
        let d = b.add_variable("d", ["1", "2"]).unwrap();
        let err = b.set_cpt(d, vec![VarId::new(1)], vec![0.5; 4]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "probability table of 'd' has 4 entries, expected 6 (c has 3, d has 2 states)"
        );
    }

    #[test]
    fn names_the_bad_configuration() {
        let mut b = NetworkBuilder::new("t");
        let a = b.add_variable("a", ["x", "y"]).unwrap();
        let c = b.add_variable("c", ["u", "v"]).unwrap();
        b.set_cpt(a, vec![], vec![0.3, 0.7]).unwrap();
        b.set_cpt(c, vec![a], vec![0.2, 0.8, 0.5, 0.4]).unwrap();
        let err = b.build().unwrap_err();
        assert_eq!(
            err.to_string(),
            "probability table of 'c' at (a=y) sums to 0.9, not 1 (tolerance 1e-6)"
        );
    }

    #[test]
    fn renormalises_small_deviations_only() {
        let mut b = NetworkBuilder::new("t");
        let a = b.add_variable("a", ["x", "y"]).unwrap();
        b.set_cpt(a, vec![], vec![0.3, 0.7000003]).unwrap();
        let net = b.build().unwrap();
        let sum: f64 = net.cpt(a).values().iter().sum();
        assert!((sum - 1.0).abs() < 1e-15);
    }

    #[test]
    fn names_the_cycle() {
        let mut b = NetworkBuilder::new("t");
        let a = b.add_variable("a", ["0", "1"]).unwrap();
        let c = b.add_variable("c", ["0", "1"]).unwrap();
        let d = b.add_variable("d", ["0", "1"]).unwrap();
        b.set_cpt(a, vec![d], vec![0.5; 4]).unwrap();
        b.set_cpt(c, vec![a], vec![0.5; 4]).unwrap();
        b.set_cpt(d, vec![c], vec![0.5; 4]).unwrap();
        let err = b.build().unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("the network has a directed cycle: "),
            "{text}"
        );
        let ModelError::Cycle { cycle } = err else {
            unreachable!()
        };
        assert_eq!(cycle.len(), 4);
        assert_eq!(cycle.first(), cycle.last());
    }

    #[test]
    fn rejects_negative_entries() {
        let mut b = NetworkBuilder::new("t");
        let a = b.add_variable("a", ["x", "y"]).unwrap();
        b.set_cpt(a, vec![], vec![-0.5, 1.5]).unwrap();
        assert!(matches!(
            b.build(),
            Err(ModelError::InvalidProbability { .. })
        ));
    }
}
