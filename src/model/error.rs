use std::fmt;

/// The valid names offered in an "unknown name" error, with the closest one first when a
/// near match exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choices {
    names: Vec<String>,
    closest: Option<String>,
}

/// Listing more names than this makes an error message unreadable (link has 724 variables).
const MAX_LISTED: usize = 24;

impl Choices {
    /// Collects the valid names and picks the one closest to `wanted`, if any is close.
    pub fn new<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Choices {
        let names: Vec<String> = names.map(str::to_string).collect();
        let wanted_lower = wanted.to_lowercase();
        let closest = names
            .iter()
            .map(|n| (edit_distance(&wanted_lower, &n.to_lowercase()), n))
            .filter(|(d, n)| *d <= n.chars().count().max(wanted.chars().count()) / 3)
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n.clone());
        Choices { names, closest }
    }

    /// All valid names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The valid name closest to the one asked for, if one is close.
    pub fn closest(&self) -> Option<&str> {
        self.closest.as_deref()
    }
}

impl fmt::Display for Choices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(closest) = &self.closest {
            write!(f, "did you mean '{closest}'? ")?;
        }
        write!(f, "valid: ")?;
        for (i, name) in self.names.iter().take(MAX_LISTED).enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{name}")?;
        }
        if self.names.len() > MAX_LISTED {
            write!(f, ", … and {} more", self.names.len() - MAX_LISTED)?;
        }
        Ok(())
    }
}

/// Edit distance where swapping two neighbouring characters counts once (optimal string
/// alignment), since transpositions are the commonest typo.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// The end of a "does not sum to 1" message: the tolerance, or for tables that may hold counts
/// (any positive sum), that the sum must be positive.
fn tolerance_note(tolerance: f64) -> String {
    if tolerance.is_finite() {
        format!("not 1 (tolerance {tolerance:e})")
    } else {
        "not a positive count".to_string()
    }
}

/// Why a network, a name lookup or a CPT was rejected.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// Two variables share a name.
    #[error("variable '{name}' is declared twice")]
    DuplicateVariable {
        /// The repeated name.
        name: String,
    },
    /// A variable declares the same state twice.
    #[error("variable '{variable}' declares state '{state}' twice")]
    DuplicateState {
        /// The variable.
        variable: String,
        /// The repeated state.
        state: String,
    },
    /// A variable has no states.
    #[error("variable '{variable}' has no states")]
    NoStates {
        /// The variable.
        variable: String,
    },
    /// A name that is not a variable of the network.
    #[error("unknown variable '{name}' ({choices})")]
    UnknownVariable {
        /// The name asked for.
        name: String,
        /// The valid names.
        choices: Choices,
    },
    /// A state name that the variable does not have.
    #[error("variable '{variable}' has no state '{state}' ({choices})")]
    UnknownState {
        /// The variable.
        variable: String,
        /// The state asked for.
        state: String,
        /// The valid states.
        choices: Choices,
    },
    /// A variable without a probability table.
    #[error("variable '{variable}' has no probability table")]
    MissingCpt {
        /// The variable.
        variable: String,
    },
    /// Two probability tables for one variable.
    #[error("variable '{variable}' has two probability tables")]
    DuplicateCpt {
        /// The variable.
        variable: String,
    },
    /// A parent listed twice.
    #[error("probability table of '{variable}' lists the parent '{parent}' twice")]
    RepeatedParent {
        /// The child.
        variable: String,
        /// The repeated parent.
        parent: String,
    },
    /// A variable listed as its own parent.
    #[error("probability table of '{variable}' lists '{parent}' as its own parent")]
    SelfParent {
        /// The child.
        variable: String,
        /// The offending parent.
        parent: String,
    },
    /// The number of table entries does not match the cardinalities.
    #[error("probability table of '{variable}' has {found} entries, expected {expected} ({shape})")]
    CptShape {
        /// The child.
        variable: String,
        /// Entries required by the cardinalities.
        expected: usize,
        /// Entries given.
        found: usize,
        /// The shape, spelled out.
        shape: String,
    },
    /// A negative, infinite or NaN entry.
    #[error(
        "probability table of '{variable}' at {configuration}, state '{state}': {value} is not a probability"
    )]
    InvalidProbability {
        /// The child.
        variable: String,
        /// The parent configuration, e.g. `(smoke=yes)`.
        configuration: String,
        /// The parent configuration's index (last parent fastest).
        configuration_index: usize,
        /// The child state.
        state: String,
        /// The entry.
        value: f64,
    },
    /// A parent configuration whose distribution does not sum to 1, further than the
    /// numbers' written precision explains.
    #[error(
        "probability table of '{variable}' at {configuration} sums to {sum}, {}", tolerance_note(*.tolerance)
    )]
    NotNormalized {
        /// The child.
        variable: String,
        /// The parent configuration.
        configuration: String,
        /// The parent configuration's index (last parent fastest).
        configuration_index: usize,
        /// The sum found.
        sum: f64,
        /// How far from 1 the sum could have been, given how its entries were written.
        tolerance: f64,
    },
    /// An experience or fading table whose length is not the number of parent configurations.
    #[error(
        "{kind} table of '{variable}' has {found} entries, expected {expected} (one per parent configuration)"
    )]
    SideTableShape {
        /// `experience` or `fading`.
        kind: &'static str,
        /// The child.
        variable: String,
        /// Parent configurations.
        expected: usize,
        /// Entries given.
        found: usize,
    },
    /// A negative experience count, or a fading factor outside [0, 1].
    #[error("{kind} table of '{variable}' at {configuration}: {value} is out of range")]
    SideTableValue {
        /// `experience` or `fading`.
        kind: &'static str,
        /// The child.
        variable: String,
        /// The parent configuration.
        configuration: String,
        /// The entry.
        value: f64,
    },
    /// A variable or state name with a control character (newline, tab, ...).
    #[error("the name '{name}' contains the control character U+{code:04X}")]
    ControlCharacter {
        /// The name, control characters escaped.
        name: String,
        /// The first control character's code point.
        code: u32,
    },
    /// Tables that together are too large to allocate.
    #[error(
        "the probability tables up to that of '{variable}' would have {entries:e} entries in all, over the limit of {limit} for a whole network"
    )]
    TablesTooLarge {
        /// The child whose table crosses the limit.
        variable: String,
        /// Entries of all tables so far, this one included.
        entries: f64,
        /// The limit.
        limit: usize,
    },
    /// A table too large to allocate.
    #[error(
        "probability table of '{variable}' would have {entries:e} entries, over the limit of {limit}"
    )]
    TableTooLarge {
        /// The child.
        variable: String,
        /// Entries the shape implies.
        entries: f64,
        /// The limit.
        limit: usize,
    },
    /// The parent relation has a directed cycle.
    #[error("the network has a directed cycle: {}", .cycle.join(" -> "))]
    Cycle {
        /// The variables on the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
}
