//! Interventions, `do(X = x)`, by graph surgery (Pearl 2009, *Causality*, §3.2; Koller &
//! Friedman 2009, ch. 21).
//!
//! Observing `X = x` is evidence about `X`'s causes as well as its effects; setting it is not.
//! The mutilated network cuts the arcs into each intervened variable and replaces its CPT by a
//! point mass on the forced state; every other CPT is unchanged. Any engine then answers
//! `P(Y | do(x), e)` as an ordinary query on it, with `e` observed after the intervention.

use super::{AnalysisError, check_distinct, check_vars};
use crate::model::{Network, NetworkBuilder, VarId};

/// The network after `do(X = x)` for every `(X, x)` in `interventions`.
///
/// Names, states, properties and all other CPTs are copied unchanged, so ids and state indices
/// of the original network are valid in the new one.
///
/// # Errors
/// [`AnalysisError::Repeated`] when a variable is set twice;
/// [`ForeignId`](crate::InferenceError::ForeignId) for an id or state index that is not from
/// this network.
pub fn intervene(
    network: &Network,
    interventions: &[(VarId, usize)],
) -> Result<Network, AnalysisError> {
    let vars: Vec<VarId> = interventions.iter().map(|&(v, _)| v).collect();
    check_vars(network, &vars)?;
    check_distinct(network, &vars)?;
    // One look-up per variable, however many interventions.
    let mut forced: Vec<Option<usize>> = vec![None; network.n_variables()];
    for &(var, state) in interventions {
        forced[var.index()] = Some(state);
    }
    let mut builder = NetworkBuilder::new(network.name());
    builder.set_properties(network.properties().to_vec());
    for variable in network.variables() {
        let id = builder.add_variable(variable.name(), variable.states().iter().cloned())?;
        builder.set_variable_properties(id, variable.properties().to_vec());
    }
    for var in network.variable_ids() {
        match forced[var.index()] {
            Some(state) => {
                let variable = network.variable(var);
                if state >= variable.cardinality() {
                    return Err(crate::infer::InferenceError::ForeignId(format!(
                        "state {state} of {}",
                        variable.name()
                    ))
                    .into());
                }
                let mut point_mass = vec![0.0; variable.cardinality()];
                point_mass[state] = 1.0;
                builder.set_cpt(var, Vec::new(), point_mass)?;
            }
            None => {
                let cpt = network.cpt(var);
                builder.set_cpt(var, cpt.parents().to_vec(), cpt.values().to_vec())?;
            }
        }
    }
    Ok(builder.build()?)
}
