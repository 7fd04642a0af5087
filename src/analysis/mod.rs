//! Analyst questions beyond posterior marginals.
//!
//! - [`most_probable_explanation`] and [`maximum_a_posteriori`]: the most probable joint
//!   assignment of all unobserved variables, or of a chosen subset, given the evidence.
//! - [`joint_posterior`]: `P(A, B, … | e)` for a small set of variables.
//! - [`intervene`]: `do(X = x)` by graph surgery, a new [`Network`] to query as usual.
//! - [`value_of_information`]: which unobserved variable would most reduce the entropy of a
//!   target if it were observed next ("what to watch next").
//! - [`explain`]: how much each evidence item moved a target, and Jensen's conflict measure.
//! - [`sensitivity`]: the derivative of a posterior with respect to every CPT parameter.
//!
//! MPE, MAP, joint posteriors and sensitivity run variable elimination over [`Factor`]s here
//! (they need sums and maxima over several variables at once, which the [`InferenceEngine`]
//! trait does not offer); value of information and evidence impact are sequences of ordinary
//! queries to any engine, so they inherit its exactness and its speed.
//!
//! Everything is exact. Logarithms are natural.
//!
//! # Examples
//! ```
//! use credence::analysis::{most_probable_explanation, value_of_information};
//! use credence::{Evidence, JunctionTree, infer::Budget, io::read_bif};
//! use std::sync::Arc;
//!
//! let text = "variable rain { type discrete [ 2 ] { yes, no }; }
//!             variable wet { type discrete [ 2 ] { yes, no }; }
//!             probability ( rain ) { table 0.2, 0.8; }
//!             probability ( wet | rain ) { (yes) 0.9, 0.1; (no) 0.1, 0.9; }";
//! let network = Arc::new(read_bif(text, "garden.bif").unwrap());
//! let rain = network.variable_id("rain").unwrap();
//! let wet = network.variable_id("wet").unwrap();
//!
//! // Nothing observed: the most probable world is dry, P = 0.8 · 0.9.
//! let mpe = most_probable_explanation(&network, &Evidence::new()).unwrap();
//! assert_eq!(mpe.assignment, vec![(rain, 1), (wet, 1)]);
//! assert!((mpe.ln_probability - 0.72f64.ln()).abs() < 1e-12);
//!
//! // Looking at the grass tells something about the rain.
//! let engine = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
//! let voi = value_of_information(&engine, &Evidence::new(), rain, &[]).unwrap();
//! assert_eq!(voi.ranking[0].variable, wet);
//! assert!(voi.ranking[0].mutual_information > 0.0);
//! ```
//!
//! [`Factor`]: crate::factor::Factor
//! [`InferenceEngine`]: crate::InferenceEngine

mod elimination;
mod explain;
mod intervention;
mod joint;
mod mpe;
mod sensitivity;
mod voi;

pub use elimination::MAX_ELIMINATION_ENTRIES;
pub use explain::{
    Conflict, EvidenceImpact, EvidenceReport, MAX_EXPLAIN_ITEMS, explain, explain_until,
};
pub use intervention::intervene;
pub use joint::{JointPosterior, MAX_JOINT_ENTRIES, joint_posterior, joint_posterior_until};
pub use mpe::{
    MostProbable, maximum_a_posteriori, maximum_a_posteriori_until, most_probable_explanation,
    most_probable_explanation_until,
};
pub use sensitivity::{
    MAX_SENSITIVITY_PARAMETERS, ParameterSensitivity, Sensitivity, sensitivity, sensitivity_until,
};
pub use voi::{
    Information, MAX_VOI_CANDIDATES, ValueOfInformation, value_of_information,
    value_of_information_until,
};

use crate::cancel::Interrupted;
use crate::evidence::Evidence;
use crate::infer::InferenceError;
use crate::model::{ModelError, Network, VarId};

/// Why an analysis could not be done.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AnalysisError {
    /// An inference step failed (impossible evidence, foreign ids, budget).
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// Building a modified network failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The target is fixed by hard evidence, so nothing can move it.
    #[error("the target '{variable}' is observed, so its posterior cannot move; drop its evidence")]
    TargetObserved {
        /// The target.
        variable: String,
    },
    /// A joint table over the requested variables would be too large.
    #[error(
        "a joint table over {variables} would have {entries:e} entries, over the limit of {limit}"
    )]
    TooLarge {
        /// The variables, comma separated.
        variables: String,
        /// Entries the table would have.
        entries: f64,
        /// The limit.
        limit: usize,
    },
    /// Variable elimination would build a table too large for memory.
    #[error(
        "eliminating '{variable}' would build a table of {entries:e} entries, over the limit of {limit}; ask about fewer variables or use a smaller network"
    )]
    EliminationTooLarge {
        /// The variable being eliminated.
        variable: String,
        /// Entries of the product.
        entries: f64,
        /// The limit.
        limit: usize,
    },
    /// A list an analysis would work through or answer with is over its limit.
    #[error("{what}: {count} is over the limit of {limit}; {advice}")]
    TooMany {
        /// What is counted, e.g. "value of information candidates".
        what: &'static str,
        /// How many there would be.
        count: usize,
        /// The limit.
        limit: usize,
        /// How to ask for less.
        advice: &'static str,
    },
    /// A variable named twice where each may appear once.
    #[error("'{variable}' is given twice")]
    Repeated {
        /// The variable.
        variable: String,
    },
}

impl From<Interrupted> for AnalysisError {
    fn from(why: Interrupted) -> AnalysisError {
        AnalysisError::Inference(InferenceError::Interrupted(why))
    }
}

/// `H(p) = -Σ p ln p`, in nats.
pub fn entropy(distribution: &[f64]) -> f64 {
    -distribution
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| p * p.ln())
        .sum::<f64>()
}

/// Fails when the target is fixed by hard evidence.
fn check_target_unobserved(
    network: &Network,
    evidence: &Evidence,
    target: VarId,
) -> Result<(), AnalysisError> {
    if evidence.hard_state(target).is_some() {
        return Err(AnalysisError::TargetObserved {
            variable: network.variable(target).name().to_string(),
        });
    }
    Ok(())
}

/// Fails on ids that do not belong to `network`.
fn check_vars(network: &Network, vars: &[VarId]) -> Result<(), AnalysisError> {
    if let Some(var) = vars.iter().find(|v| v.index() >= network.n_variables()) {
        return Err(InferenceError::ForeignId(format!("variable {var}")).into());
    }
    Ok(())
}

/// Fails when a variable appears twice in `vars` (ids already checked to be `network`'s).
fn check_distinct(network: &Network, vars: &[VarId]) -> Result<(), AnalysisError> {
    let mut seen = vec![false; network.n_variables()];
    for var in vars {
        if std::mem::replace(&mut seen[var.index()], true) {
            return Err(AnalysisError::Repeated {
                variable: network.variable(*var).name().to_string(),
            });
        }
    }
    Ok(())
}

/// The findings on `var` alone, or on every variable but `var` (`keep = false`).
fn split_evidence(network: &Network, evidence: &Evidence, var: VarId, keep: bool) -> Evidence {
    let mut out = Evidence::new();
    for (&v, &state) in evidence.hard() {
        if (v == var) == keep {
            out.observe(network, v, state)
                .expect("copied from valid evidence");
        }
    }
    for (&v, likelihood) in evidence.soft() {
        if (v == var) == keep {
            out.add_likelihood(network, v, likelihood)
                .expect("copied from valid evidence");
        }
    }
    out
}
