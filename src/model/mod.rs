//! What a network *is*: variables, states, parents and conditional probability tables.
//!
//! No algorithms and no I/O live here. A [`Network`] is built once through a validating
//! [`NetworkBuilder`] and is immutable afterwards: inference never changes it, evidence is a
//! separate value passed per query.
//!
//! # Table layout
//!
//! A [`Cpt`] holds `P(child | parents)` as a contiguous row-major `f64` table whose axes are the
//! parents in declared order followed by the child, so the child varies fastest. The entry for
//! parent states `(p_0, …, p_{k-1})` and child state `c` sits at linear index
//! `((p_0 · n_1 + p_1) · n_2 + … ) · n_child + c`. Every run of `n_child` consecutive entries
//! (one *parent configuration*) is a distribution and sums to 1.

mod builder;
mod error;

pub use builder::NetworkBuilder;
pub use error::{Choices, ModelError};

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use std::collections::HashMap;
use std::fmt;

/// Index of a variable in its [`Network`]: `0..network.n_variables()`, in declaration order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VarId(u32);

impl VarId {
    /// Wraps a variable index. It is only meaningful for the network it came from.
    pub fn new(index: usize) -> VarId {
        VarId(u32::try_from(index).expect("more than 2^32 variables"))
    }

    /// The position of the variable in declaration order.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for VarId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A discrete variable: a name, its ordered states and free-form properties.
#[derive(Clone, Debug, PartialEq)]
pub struct Variable {
    name: String,
    states: Vec<String>,
    properties: Vec<String>,
}

impl Variable {
    /// The variable's name, unique in its network.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// State names in declaration order; the position of a state is its index in every table.
    pub fn states(&self) -> &[String] {
        &self.states
    }

    /// Number of states.
    pub fn cardinality(&self) -> usize {
        self.states.len()
    }

    /// Index of the state called `state`, if any.
    pub fn state_index(&self, state: &str) -> Option<usize> {
        self.states.iter().position(|s| s == state)
    }

    /// Properties as written in the source, e.g. `description = "Yearly GDP growth"`.
    pub fn properties(&self) -> &[String] {
        &self.properties
    }

    /// The value of property `key` (`key = value`), unquoted if it is one quoted string.
    pub fn property(&self, key: &str) -> Option<String> {
        property_value(&self.properties, key)
    }

    /// The `description` property, if present.
    pub fn description(&self) -> Option<String> {
        self.property("description")
    }
}

/// Looks up `key = value` among raw property texts.
pub(crate) fn property_value(properties: &[String], key: &str) -> Option<String> {
    properties.iter().find_map(|raw| {
        let (k, v) = raw.split_once('=')?;
        if k.trim() != key {
            return None;
        }
        let v = v.trim();
        let unquoted = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .filter(|s| !s.contains('"'));
        Some(unquoted.unwrap_or(v).to_string())
    })
}

/// `P(child | parents)`; see the [module docs](self) for the layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Cpt {
    child: VarId,
    parents: Vec<VarId>,
    table: ArrayD<f64>,
}

impl Cpt {
    /// The variable this table is the distribution of.
    pub fn child(&self) -> VarId {
        self.child
    }

    /// Parents in declared order; they are the table's leading axes.
    pub fn parents(&self) -> &[VarId] {
        &self.parents
    }

    /// The table with axes `[parents..., child]`.
    pub fn table(&self) -> ArrayViewD<'_, f64> {
        self.table.view()
    }

    /// The table as one contiguous row-major slice (child fastest).
    pub fn values(&self) -> &[f64] {
        self.table
            .as_slice()
            .expect("CPT tables are built in standard layout")
    }
}

/// An immutable discrete Bayesian network, validated when built.
///
/// Invariants, established by [`NetworkBuilder::build`]: names are unique, every variable has
/// exactly one CPT whose shape matches the cardinalities, every entry is finite and
/// non-negative, every parent configuration sums to 1 (within 1e-12 after renormalisation),
/// and the graph is acyclic.
#[derive(Clone, Debug)]
pub struct Network {
    name: String,
    properties: Vec<String>,
    variables: Vec<Variable>,
    cpts: Vec<Cpt>,
    children: Vec<Vec<VarId>>,
    topological_order: Vec<VarId>,
    by_name: HashMap<String, VarId>,
    renormalized: Option<Renormalized>,
    positions: Vec<Option<(f64, f64)>>,
    experience: Vec<Option<Vec<f64>>>,
    fading: Vec<Option<Vec<f64>>>,
}

/// The worst of the columns that summed further from 1 than [`builder::NORMALIZATION_TOLERANCE`]
/// but within what their written precision explains, and were renormalised: reported once per
/// file by whoever reads one.
#[derive(Clone, Debug, PartialEq)]
pub struct Renormalized {
    /// The child whose column was worst.
    pub variable: String,
    /// Its parent configuration, e.g. `(smoke=yes)`.
    pub configuration: String,
    /// What that column summed to.
    pub sum: f64,
    /// The tolerance it was accepted under.
    pub tolerance: f64,
    /// Why columns this far off are accepted, in words (e.g. "within the rounding of numbers
    /// written at 6 significant digits").
    pub precision: String,
    /// How many columns in all were renormalised beyond the fixed tolerance.
    pub columns: usize,
}

impl fmt::Display for Renormalized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "renormalised {} column{} off from 1 by more than 1e-6 ({}); the worst: '{}' at {} sums to {}",
            self.columns,
            if self.columns == 1 { "" } else { "s" },
            self.precision,
            self.variable,
            self.configuration,
            self.sum,
        )?;
        if self.tolerance.is_finite() {
            write!(f, " (tolerance {:e})", self.tolerance)?;
        }
        Ok(())
    }
}

impl Network {
    /// The network's name (from the `network` block of a BIF file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Network-level properties as written in the source.
    pub fn properties(&self) -> &[String] {
        &self.properties
    }

    /// Number of variables.
    pub fn n_variables(&self) -> usize {
        self.variables.len()
    }

    /// All variable ids in declaration order.
    pub fn variable_ids(&self) -> impl ExactSizeIterator<Item = VarId> + use<> {
        (0..self.variables.len()).map(VarId::new)
    }

    /// The variable with id `var`.
    ///
    /// # Panics
    /// If `var` does not belong to this network.
    pub fn variable(&self, var: VarId) -> &Variable {
        &self.variables[var.index()]
    }

    /// All variables in declaration order.
    pub fn variables(&self) -> &[Variable] {
        &self.variables
    }

    /// Number of states of `var`.
    pub fn cardinality(&self, var: VarId) -> usize {
        self.variables[var.index()].cardinality()
    }

    /// The CPT of `var`.
    pub fn cpt(&self, var: VarId) -> &Cpt {
        &self.cpts[var.index()]
    }

    /// Parents of `var` in declared order.
    pub fn parents(&self, var: VarId) -> &[VarId] {
        &self.cpts[var.index()].parents
    }

    /// Children of `var`, in increasing id order.
    pub fn children(&self, var: VarId) -> &[VarId] {
        &self.children[var.index()]
    }

    /// Variables ordered so that parents precede children.
    pub fn topological_order(&self) -> &[VarId] {
        &self.topological_order
    }

    /// The id of the variable called `name`.
    ///
    /// # Errors
    /// [`ModelError::UnknownVariable`], listing the valid names.
    pub fn variable_id(&self, name: &str) -> Result<VarId, ModelError> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| ModelError::UnknownVariable {
                name: name.to_string(),
                choices: Choices::new(name, self.variables.iter().map(|v| v.name.as_str())),
            })
    }

    /// The index of state `state` of `var`.
    ///
    /// # Errors
    /// [`ModelError::UnknownState`], listing the valid states.
    pub fn state_index(&self, var: VarId, state: &str) -> Result<usize, ModelError> {
        let variable = self.variable(var);
        variable
            .state_index(state)
            .ok_or_else(|| ModelError::UnknownState {
                variable: variable.name.clone(),
                state: state.to_string(),
                choices: Choices::new(state, variable.states.iter().map(String::as_str)),
            })
    }

    /// Number of arcs.
    pub fn n_arcs(&self) -> usize {
        self.cpts.iter().map(|c| c.parents.len()).sum()
    }

    /// Number of free parameters: `(states - 1) × parent configurations`, summed over CPTs.
    pub fn n_parameters(&self) -> usize {
        self.cpts
            .iter()
            .map(|c| c.table.len() / self.cardinality(c.child) * (self.cardinality(c.child) - 1))
            .sum()
    }

    /// The worst column renormalised beyond [`builder::NORMALIZATION_TOLERANCE`], if any.
    pub fn renormalized(&self) -> Option<&Renormalized> {
        self.renormalized.as_ref()
    }

    /// Where `var` is drawn, if the source said (NET and XDSL files do).
    pub fn position(&self, var: VarId) -> Option<(f64, f64)> {
        self.positions[var.index()]
    }

    /// `var`'s experience table (one count per parent configuration), if the source had one.
    pub fn experience(&self, var: VarId) -> Option<&[f64]> {
        self.experience[var.index()].as_deref()
    }

    /// `var`'s fading table (one factor per parent configuration), if the source had one.
    pub fn fading(&self, var: VarId) -> Option<&[f64]> {
        self.fading[var.index()].as_deref()
    }

    /// Formats a parent configuration of `var`'s CPT, e.g. `(smoke=yes, asia=no)`.
    pub fn describe_configuration(&self, var: VarId, configuration: usize) -> String {
        describe_configuration(&self.variables, self.parents(var), configuration)
    }

    /// The parents' states in parent configuration number `configuration` of `var`'s CPT, in
    /// declared parent order (the row-major layout: last parent fastest).
    pub fn configuration_states(&self, var: VarId, configuration: usize) -> Vec<(VarId, usize)> {
        configuration_states(&self.variables, self.parents(var), configuration)
    }
}

/// The one decoding of a parent configuration number into the parents' states.
fn configuration_states(
    variables: &[Variable],
    parents: &[VarId],
    configuration: usize,
) -> Vec<(VarId, usize)> {
    let mut rest = configuration;
    let mut states = vec![(VarId::new(0), 0); parents.len()];
    for (slot, &parent) in states.iter_mut().zip(parents).rev() {
        let card = variables[parent.index()].cardinality();
        *slot = (parent, rest % card);
        rest /= card;
    }
    states
}

/// Formats parent configuration number `configuration` (last parent fastest).
fn describe_configuration(
    variables: &[Variable],
    parents: &[VarId],
    configuration: usize,
) -> String {
    if parents.is_empty() {
        return "(no parents)".to_string();
    }
    let parts: Vec<String> = configuration_states(variables, parents, configuration)
        .into_iter()
        .map(|(parent, state)| {
            let variable = &variables[parent.index()];
            format!("{}={}", variable.name, variable.states[state])
        })
        .collect();
    format!("({})", parts.join(", "))
}

fn shape_of(variables: &[Variable], parents: &[VarId], child: VarId) -> Vec<usize> {
    parents
        .iter()
        .chain(std::iter::once(&child))
        .map(|v| variables[v.index()].cardinality())
        .collect()
}

fn table_from_vec(shape: Vec<usize>, values: Vec<f64>) -> ArrayD<f64> {
    ArrayD::from_shape_vec(IxDyn(&shape), values).expect("shape checked by the builder")
}
