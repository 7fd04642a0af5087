//! Parameter sensitivity: how a posterior `P(y | e)` responds to each CPT entry
//! `θ = P(x | u)`, so an analyst sees which elicited numbers a conclusion rests on.
//!
//! When one entry of a CPT column changes, the other entries of that column must change too so
//! that it still sums to one. We use proportional co-variation, the usual scheme (Coupé & van
//! der Gaag 2002; Chan & Darwiche 2002): the other entries keep their ratios, `θ_{x'|u}(t) =
//! θ_{x'|u} · (1 − t) / (1 − θ_{x|u})`. (A column that is a point mass, `θ_{x|u} = 1`, has no
//! ratios to keep; its other entries then share `1 − t` equally.) Under this scheme `P(y, e)`
//! and `P(e)` are linear in `t`, so `P(y | e)` is a quotient of two linear functions (Castillo,
//! Gutiérrez & Hadi 1997; Coupé & van der Gaag 2002) and its derivative has a closed form.
//!
//! # Formula
//! Let `D_e(x, u) = ∂P(e)/∂θ_{x|u}` be the sum over all joint states with `X = x, U = u` of the
//! product of every factor except `X`'s CPT (Darwiche 2003's partial derivatives of the network
//! polynomial), and likewise `D_ye` with `y` added to the evidence. With `F_e = D_e / P(e)`,
//! `F_ye = D_ye / P(e)` and the co-variation weights `w_{x'} = θ_{x'|u} / (1 − θ_{x|u})`,
//!
//! `∂P(y | e)/∂θ_{x|u} = g(F_ye) − P(y | e) · g(F_e)`, where
//! `g(F) = F(x, u) − Σ_{x' ≠ x} w_{x'} F(x', u)`.
//!
//! `D_e` and `D_ye` over each family come from one variable elimination each, so the whole
//! analysis costs two eliminations per variable that is an ancestor of the target or of the
//! evidence. Every other parameter has derivative 0 (it only touches barren variables) and is
//! not reported.

use super::elimination::{
    Combine, ancestral_set, eliminate, evidence_factors, product, values_in_order,
};
use super::{AnalysisError, check_target_unobserved, check_vars};
use crate::cancel::CancelToken;
use crate::evidence::Evidence;
use crate::factor::Factor;
use crate::infer::{InferenceError, check_ids, impossible};
use crate::model::{Network, VarId};

/// Relative size below which the difference of the formula's two terms is rounding.
const ROUNDING: f64 = 1e-12;

/// Most CPT entries a sensitivity analysis answers for (one row each): 2^20 rows are tens of
/// MiB in memory and far more on the wire; a target with more relevant parameters is asked
/// about on a smaller network or with more evidence cutting ancestors off.
pub const MAX_SENSITIVITY_PARAMETERS: usize = 1 << 20;

/// The derivative of the target posterior with respect to one CPT entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterSensitivity {
    /// The variable whose CPT holds the entry.
    pub variable: VarId,
    /// The parent configuration (index into the CPT's columns, last parent fastest); see
    /// [`Network::describe_configuration`].
    pub configuration: usize,
    /// The child state.
    pub state: usize,
    /// The entry's current value, `P(state | configuration)`.
    pub value: f64,
    /// `∂P(y | e)/∂θ` under proportional co-variation.
    pub derivative: f64,
}

/// The sensitivity of one posterior to every relevant CPT entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensitivity {
    /// The target variable.
    pub target: VarId,
    /// The target state `y`.
    pub state: usize,
    /// `P(y | e)`.
    pub probability: f64,
    /// Every entry of the CPTs of the ancestors of the target and of the evidence, by
    /// decreasing `|derivative|` (ties in variable, configuration, state order). Variables with
    /// a single state have no free entries and are left out.
    pub parameters: Vec<ParameterSensitivity>,
}

/// `D(x, u)` over `var`'s family in CPT layout (parents in declared order, child fastest), and
/// its `ln` scale; `Ok(None)` when it is zero everywhere.
fn family_derivatives(
    network: &Network,
    evidence: &Evidence,
    relevant: &[bool],
    var: VarId,
    cancel: &CancelToken,
) -> Result<Option<(Vec<f64>, f64)>, AnalysisError> {
    let family: Vec<VarId> = network.parents(var).iter().copied().chain([var]).collect();
    let Some((factors, ln_constant)) =
        evidence_factors(network, evidence, relevant, &family, Some(var))
    else {
        return Ok(None);
    };
    let mut summed = relevant.to_vec();
    family.iter().for_each(|v| summed[v.index()] = false);
    let Some((rest, ln_scale)) = eliminate(network, factors, &summed, Combine::Sum, None, cancel)?
    else {
        return Ok(None);
    };
    let mut table = product(rest);
    // A family variable in no remaining factor (e.g. a target with no relevant children and no
    // evidence) does not change D: spread it out as a factor of ones.
    let missing: Vec<VarId> = family
        .iter()
        .copied()
        .filter(|&v| !table.contains(v))
        .collect();
    if !missing.is_empty() {
        let cards: Vec<usize> = missing.iter().map(|&v| network.cardinality(v)).collect();
        let ones = vec![1.0; cards.iter().product()];
        table = table.product(&Factor::from_table(&missing, &cards, &ones));
    }
    Ok(Some((
        values_in_order(&table, &family),
        ln_constant + ln_scale,
    )))
}

/// `∂P(target = state | e)/∂θ` for every CPT entry `θ` that can affect it.
///
/// Proportional co-variation: when `θ_{x|u}` becomes `t`, the other entries of its column keep
/// their ratios, `θ_{x'|u}(t) = θ_{x'|u} (1 − t) / (1 − θ_{x|u})` (shared equally when
/// `θ_{x|u} = 1`). Then `P(y, e)` and `P(e)` are linear in `t` (Castillo, Gutiérrez & Hadi
/// 1997; Coupé & van der Gaag 2002; Chan & Darwiche 2002).
///
/// # Formula
/// With `D_e(x, u) = ∂P(e)/∂θ_{x|u}` (the product of every factor but `X`'s CPT, summed over
/// all joint states with `X = x, U = u`; Darwiche 2003), `D_ye` the same with `y` observed too,
/// `F = D / P(e)` and `w_{x'} = θ_{x'|u} / (1 − θ_{x|u})`:
///
/// `∂P(y | e)/∂θ_{x|u} = g(F_ye) − P(y | e) · g(F_e)`, `g(F) = F(x, u) − Σ_{x' ≠ x} w_{x'} F(x', u)`.
///
/// # Errors
/// [`AnalysisError::TargetObserved`] when hard evidence fixes the target;
/// [`ImpossibleEvidence`](InferenceError::ImpossibleEvidence) when `P(e) = 0`;
/// [`ForeignId`](InferenceError::ForeignId); [`AnalysisError::EliminationTooLarge`] when an
/// intermediate table would exceed [`MAX_ELIMINATION_ENTRIES`](super::MAX_ELIMINATION_ENTRIES).
pub fn sensitivity(
    network: &Network,
    evidence: &Evidence,
    target: VarId,
    state: usize,
) -> Result<Sensitivity, AnalysisError> {
    sensitivity_until(network, evidence, target, state, &CancelToken::new())
}

/// As [`sensitivity`], stopping when `cancel` says so.
///
/// # Errors
/// As [`sensitivity`], [`AnalysisError::TooMany`] over [`MAX_SENSITIVITY_PARAMETERS`]
/// parameters, and [`Interrupted`](InferenceError::Interrupted).
pub fn sensitivity_until(
    network: &Network,
    evidence: &Evidence,
    target: VarId,
    state: usize,
    cancel: &CancelToken,
) -> Result<Sensitivity, AnalysisError> {
    check_ids(network, evidence, &[])?;
    check_vars(network, &[target])?;
    if state >= network.cardinality(target) {
        return Err(InferenceError::ForeignId(format!("state {state} of {target}")).into());
    }
    check_target_unobserved(network, evidence, target)?;
    let fail = || -> AnalysisError { impossible(network, evidence).into() };
    let mut with_target = evidence.clone();
    with_target
        .observe(network, target, state)
        .expect("target unobserved and state in range");
    let relevant = ancestral_set(network, evidence.variables().chain([target]));
    let n_parameters: usize = network
        .variable_ids()
        .filter(|v| relevant[v.index()] && network.cardinality(*v) >= 2)
        .map(|v| network.cpt(v).values().len())
        .sum();
    if n_parameters > MAX_SENSITIVITY_PARAMETERS {
        return Err(AnalysisError::TooMany {
            what: "sensitivity parameters (CPT entries of the target's and the evidence's ancestors)",
            count: n_parameters,
            limit: MAX_SENSITIVITY_PARAMETERS,
            advice: "ask on a smaller network",
        });
    }

    let mut parameters = Vec::new();
    let mut probability = None;
    for var in network.variable_ids().filter(|v| relevant[v.index()]) {
        let n_states = network.cardinality(var);
        let (d_e, ln_e) =
            family_derivatives(network, evidence, &relevant, var, cancel)?.ok_or_else(fail)?;
        let theta = network.cpt(var).values();
        let z_e: f64 = theta.iter().zip(&d_e).map(|(t, d)| t * d).sum();
        if z_e <= 0.0 || !z_e.is_finite() {
            return Err(fail());
        }
        let f_e: Vec<f64> = d_e.iter().map(|d| d / z_e).collect();
        let f_ye: Vec<f64> =
            match family_derivatives(network, &with_target, &relevant, var, cancel)? {
                Some((d_ye, ln_ye)) => {
                    let scale = (ln_ye - ln_e).exp() / z_e;
                    d_ye.iter().map(|d| d * scale).collect()
                }
                None => vec![0.0; d_e.len()],
            };
        let p: f64 = theta.iter().zip(&f_ye).map(|(t, f)| t * f).sum();
        probability.get_or_insert(p);
        if n_states < 2 {
            continue;
        }
        for (configuration, column) in theta.chunks(n_states).enumerate() {
            let base = configuration * n_states;
            for (x, &value) in column.iter().enumerate() {
                let g = |f: &[f64]| -> f64 {
                    let others: f64 = (0..n_states)
                        .filter(|&o| o != x)
                        .map(|o| {
                            let weight = if value < 1.0 {
                                column[o] / (1.0 - value)
                            } else {
                                1.0 / (n_states - 1) as f64
                            };
                            weight * f[base + o]
                        })
                        .sum();
                    f[base + x] - others
                };
                let (with_y, without_y) = (g(&f_ye), p * g(&f_e));
                let mut derivative = with_y - without_y;
                // A parameter that cannot matter gives two equal terms; their difference is
                // rounding, and 0 makes such parameters tie exactly.
                if derivative.abs() <= ROUNDING * (with_y.abs() + without_y.abs()) {
                    derivative = 0.0;
                }
                parameters.push(ParameterSensitivity {
                    variable: var,
                    configuration,
                    state: x,
                    value,
                    derivative,
                });
            }
        }
    }
    // Stable: ties keep variable, configuration, state order.
    parameters.sort_by(|a, b| b.derivative.abs().total_cmp(&a.derivative.abs()));
    Ok(Sensitivity {
        target,
        state,
        probability: probability.expect("the target is relevant").clamp(0.0, 1.0),
        parameters,
    })
}
