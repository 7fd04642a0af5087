//! The analyses of `credence::analysis`, against values computed by hand on a three-variable
//! network and against brute-force enumeration of the joint on random small networks.

use credence::analysis::{
    AnalysisError, explain, intervene, joint_posterior, maximum_a_posteriori,
    most_probable_explanation, sensitivity, value_of_information,
};
use credence::infer::Budget;
use credence::io::read_bif;
use credence::{
    Evidence, InferenceEngine, InferenceError, JunctionTree, Network, NetworkBuilder, VarId,
};
mod common;

use common::random::{self, Picks, Spec, build, evidence_for};
use proptest::prelude::*;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Hand-computed values.
//
// a → b, a → c, all binary with states (yes, no):
//   P(a=yes) = 0.3
//   P(b=yes | a=yes) = 0.9, P(b=yes | a=no) = 0.2
//   P(c=yes | a=yes) = 0.6, P(c=yes | a=no) = 0.1
// Joint weights used below:
//   P(a=yes, b=yes) = 0.27, P(a=no, b=yes) = 0.14, P(b=yes) = 0.41
//   P(c=yes) = 0.3·0.6 + 0.7·0.1 = 0.25
//   P(a=yes, b=yes, c=yes) = 0.162, P(a=yes, b=yes, c=no) = 0.108
//   P(a=no,  b=yes, c=yes) = 0.014, P(a=no,  b=yes, c=no) = 0.126
// ---------------------------------------------------------------------------------------------

const FORK: &str = "
variable a { type discrete [ 2 ] { yes, no }; }
variable b { type discrete [ 2 ] { yes, no }; }
variable c { type discrete [ 2 ] { yes, no }; }
probability ( a ) { table 0.3, 0.7; }
probability ( b | a ) { (yes) 0.9, 0.1; (no) 0.2, 0.8; }
probability ( c | a ) { (yes) 0.6, 0.4; (no) 0.1, 0.9; }
";

const YES: usize = 0;
const NO: usize = 1;

struct Fork {
    network: Arc<Network>,
    engine: JunctionTree,
    a: VarId,
    b: VarId,
    c: VarId,
}

fn fork() -> Fork {
    let network = Arc::new(read_bif(FORK, "fork.bif").unwrap());
    let engine = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
    let id = |name| network.variable_id(name).unwrap();
    let (a, b, c) = (id("a"), id("b"), id("c"));
    Fork {
        network,
        engine,
        a,
        b,
        c,
    }
}

fn observe(network: &Network, findings: &[(VarId, usize)]) -> Evidence {
    let mut evidence = Evidence::new();
    for &(var, state) in findings {
        evidence.observe(network, var, state).unwrap();
    }
    evidence
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() < 1e-12
}

#[test]
fn mpe_without_evidence_is_the_most_probable_joint_state() {
    let f = fork();
    let mpe = most_probable_explanation(&f.network, &Evidence::new()).unwrap();
    // a=no, b=no, c=no: 0.7·0.8·0.9 = 0.504 beats a=yes, b=yes, c=no: 0.3·0.9·0.4 = 0.108.
    assert_eq!(mpe.assignment, vec![(f.a, NO), (f.b, NO), (f.c, NO)]);
    assert!(close(mpe.ln_probability, 0.504f64.ln()), "{mpe:?}");
    assert!(close(mpe.ln_p_evidence, 0.0));
}

#[test]
fn mpe_and_map_given_evidence() {
    let f = fork();
    let evidence = observe(&f.network, &[(f.b, YES)]);
    // MPE over a, c: a=yes, c=yes has 0.162, the best; the observed b is not part of it.
    let mpe = most_probable_explanation(&f.network, &evidence).unwrap();
    assert_eq!(mpe.assignment, vec![(f.a, YES), (f.c, YES)]);
    assert!(close(mpe.ln_probability, (0.162f64 / 0.41).ln()));
    assert!(close(mpe.ln_p_evidence, 0.41f64.ln()));
    // MAP over c alone sums a out: P(c=yes | b=yes) = 0.176/0.41 < 1/2, so c=no, unlike the MPE.
    let map = maximum_a_posteriori(&f.network, &evidence, &[f.c]).unwrap();
    assert_eq!(map.assignment, vec![(f.c, NO)]);
    assert!(close(map.ln_probability, (0.234f64 / 0.41).ln()));
    let map = maximum_a_posteriori(&f.network, &evidence, &[f.a]).unwrap();
    assert_eq!(map.assignment, vec![(f.a, YES)]);
    assert!(close(map.ln_probability, (0.27f64 / 0.41).ln()));
    // The empty MAP set has probability one.
    let none = maximum_a_posteriori(&f.network, &evidence, &[]).unwrap();
    assert!(none.assignment.is_empty() && close(none.ln_probability, 0.0));
}

#[test]
fn mpe_rejects_impossible_evidence_and_repeats() {
    let f = fork();
    let mut builder = NetworkBuilder::new("sure");
    let x = builder.add_variable("x", ["on", "off"]).unwrap();
    builder.set_cpt(x, vec![], vec![1.0, 0.0]).unwrap();
    let sure = builder.build().unwrap();
    let evidence = observe(&sure, &[(x, 1)]);
    assert!(matches!(
        most_probable_explanation(&sure, &evidence),
        Err(AnalysisError::Inference(
            InferenceError::ImpossibleEvidence { .. }
        ))
    ));
    let err = maximum_a_posteriori(&f.network, &Evidence::new(), &[f.a, f.a]).unwrap_err();
    assert_eq!(err.to_string(), "'a' is given twice");
}

#[test]
fn map_refuses_an_elimination_too_large_for_memory() {
    // A root with 30 binary children: MAP over the children must sum the root out first,
    // which joins all 30 children in one table of 2^31 entries.
    let mut builder = NetworkBuilder::new("star");
    let root = builder.add_variable("root", ["a", "b"]).unwrap();
    builder.set_cpt(root, vec![], vec![0.5, 0.5]).unwrap();
    let mut leaves = Vec::new();
    for i in 0..30 {
        let leaf = builder
            .add_variable(format!("leaf{i}"), ["x", "y"])
            .unwrap();
        builder
            .set_cpt(leaf, vec![root], vec![0.9, 0.1, 0.2, 0.8])
            .unwrap();
        leaves.push(leaf);
    }
    let star = builder.build().unwrap();
    let err = maximum_a_posteriori(&star, &Evidence::new(), &leaves).unwrap_err();
    assert!(
        matches!(err, AnalysisError::EliminationTooLarge { .. }),
        "{err}"
    );
    // The MPE maximises the root too, and stays small.
    let mpe = most_probable_explanation(&star, &Evidence::new()).unwrap();
    assert_eq!(mpe.state(root), Some(0));
}

#[test]
fn joint_posterior_by_hand() {
    let f = fork();
    let evidence = observe(&f.network, &[(f.b, YES)]);
    let joint = joint_posterior(&f.network, &evidence, &[f.c, f.a]).unwrap();
    assert_eq!(joint.vars(), &[f.c, f.a]);
    // Laid out over (c, a), a fastest.
    let want = [0.162, 0.014, 0.108, 0.126].map(|p| p / 0.41);
    for (got, want) in joint.values().iter().zip(want) {
        assert!(close(*got, want), "{:?}", joint.values());
    }
    assert!(close(joint.probability(&[NO, YES]), 0.108 / 0.41));
    assert!(close(joint.ln_p_evidence(), 0.41f64.ln()));
}

#[test]
fn intervening_on_an_effect_leaves_its_cause_alone() {
    let f = fork();
    let surgery = Arc::new(intervene(&f.network, &[(f.b, YES)]).unwrap());
    assert!(surgery.parents(f.b).is_empty());
    let engine = JunctionTree::compile(surgery, &Budget::default()).unwrap();
    let done = engine.posteriors(&Evidence::new(), &[f.a, f.c]).unwrap();
    // do(b=yes): a and c keep their priors, 0.3 and 0.25.
    assert!(close(done.marginal(f.a).unwrap()[YES], 0.3));
    assert!(close(done.marginal(f.c).unwrap()[YES], 0.25));
    // Observing b=yes instead is evidence about a, and through a about c.
    let seen = f
        .engine
        .posteriors(&observe(&f.network, &[(f.b, YES)]), &[f.a, f.c])
        .unwrap();
    assert!(close(seen.marginal(f.a).unwrap()[YES], 0.27 / 0.41));
    assert!(close(seen.marginal(f.c).unwrap()[YES], 0.176 / 0.41));
    // Intervening on a cause is the same as observing it.
    let on_cause = Arc::new(intervene(&f.network, &[(f.a, NO)]).unwrap());
    let engine = JunctionTree::compile(on_cause, &Budget::default()).unwrap();
    let p = engine.posteriors(&Evidence::new(), &[f.b]).unwrap();
    assert!(close(p.marginal(f.b).unwrap()[YES], 0.2));
}

fn h(p: &[f64]) -> f64 {
    -p.iter()
        .filter(|&&x| x > 0.0)
        .map(|x| x * x.ln())
        .sum::<f64>()
}

#[test]
fn value_of_information_by_hand() {
    let f = fork();
    let voi = value_of_information(&f.engine, &Evidence::new(), f.a, &[]).unwrap();
    assert!(close(voi.entropy, h(&[0.3, 0.7])));
    // I(a; b) = H(a) − P(b=yes) H(a | b=yes) − P(b=no) H(a | b=no)
    let i_b = h(&[0.3, 0.7])
        - 0.41 * h(&[0.27 / 0.41, 0.14 / 0.41])
        - 0.59 * h(&[0.03 / 0.59, 0.56 / 0.59]);
    let i_c = h(&[0.3, 0.7])
        - 0.25 * h(&[0.18 / 0.25, 0.07 / 0.25])
        - 0.75 * h(&[0.12 / 0.75, 0.63 / 0.75]);
    assert!(i_b > i_c);
    assert_eq!(voi.ranking.len(), 2);
    assert_eq!(voi.ranking[0].variable, f.b);
    assert!(close(voi.ranking[0].mutual_information, i_b));
    assert!(close(voi.ranking[1].mutual_information, i_c));
    // b and c are independent given a: once a is observed, b says nothing about c.
    let given_a = observe(&f.network, &[(f.a, YES)]);
    let voi = value_of_information(&f.engine, &given_a, f.c, &[f.b, f.a]).unwrap();
    assert_eq!(voi.ranking.len(), 1, "the observed a is skipped");
    assert_eq!(voi.ranking[0].mutual_information, 0.0);
    assert!(matches!(
        value_of_information(&f.engine, &given_a, f.a, &[]),
        Err(AnalysisError::TargetObserved { .. })
    ));
}

#[test]
fn explain_by_hand() {
    let f = fork();
    let evidence = observe(&f.network, &[(f.b, YES), (f.c, YES)]);
    let report = explain(&f.engine, &evidence, f.a).unwrap();
    assert!(close(report.posterior[YES], 0.162 / 0.176));
    assert!(close(report.prior[YES], 0.3));
    assert!(close(report.ln_p_evidence, 0.176f64.ln()));
    let item = |var| report.items.iter().find(|i| i.variable == var).unwrap();
    let (b, c) = (item(f.b), item(f.c));
    assert!(close(b.posterior_without[YES], 0.18 / 0.25));
    assert!(close(c.posterior_without[YES], 0.27 / 0.41));
    assert!(close(b.total_variation, 0.162 / 0.176 - 0.72));
    // b and c are independent given a, so each item's log-likelihood ratio is its own
    // likelihood ratio: 0.9/0.2 for b, 0.6/0.1 for c.
    assert!(close(b.log_likelihood_ratio[YES], 4.5f64.ln()));
    assert!(close(b.log_likelihood_ratio[NO], -(4.5f64.ln())));
    assert!(close(c.log_likelihood_ratio[YES], 6f64.ln()));
    assert!(close(b.ln_p_item, 0.41f64.ln()));
    assert!(close(b.ln_p_item_given_rest, (0.176f64 / 0.25).ln()));
    // c moved a further than b (from 0.6585 rather than from 0.72).
    assert_eq!(report.items[0].variable, f.c);
    // b=yes and c=yes agree: both point to a=yes.
    let conf = (0.41f64 * 0.25 / 0.176).ln();
    assert!(close(report.conflict.value, conf));
    assert!(!report.conflict.is_conflict());

    // b=yes and c=no pull a in opposite directions: P(b=yes, c=no) = 0.234 < 0.41 · 0.75.
    let evidence = observe(&f.network, &[(f.b, YES), (f.c, NO)]);
    let report = explain(&f.engine, &evidence, f.a).unwrap();
    assert!(close(report.conflict.value, (0.41f64 * 0.75 / 0.234).ln()));
    assert!(report.conflict.is_conflict());
    // With two items, each contributes the whole conflict.
    for &(_, contribution) in &report.conflict.ranking {
        assert!(close(contribution, report.conflict.value));
    }
    assert!(matches!(
        explain(&f.engine, &evidence, f.b),
        Err(AnalysisError::TargetObserved { .. })
    ));
}

#[test]
fn sensitivity_by_hand() {
    let f = fork();
    let evidence = observe(&f.network, &[(f.b, YES)]);
    let s = sensitivity(&f.network, &evidence, f.a, YES).unwrap();
    assert!(close(s.probability, 0.27 / 0.41));
    // P(a | b) = θa θb / (θa θb + (1 − θa) θb'), θa = 0.3, θb = P(b=yes | a=yes) = 0.9,
    // θb' = P(b=yes | a=no) = 0.2; the denominator is 0.41.
    let d2 = 0.41f64 * 0.41;
    let want = [
        (f.a, 0, YES, 0.9 * 0.2 / d2),
        (f.a, 0, NO, -0.9 * 0.2 / d2),
        (f.b, 0, YES, 0.3 * 0.7 * 0.2 / d2),
        (f.b, 0, NO, -0.3 * 0.7 * 0.2 / d2),
        (f.b, 1, YES, -0.3 * 0.9 * 0.7 / d2),
        (f.b, 1, NO, 0.3 * 0.9 * 0.7 / d2),
    ];
    // c is neither an ancestor of a nor of the evidence: it cannot matter and is not listed.
    assert_eq!(s.parameters.len(), want.len());
    for (var, configuration, state, derivative) in want {
        let p = s
            .parameters
            .iter()
            .find(|p| p.variable == var && p.configuration == configuration && p.state == state)
            .unwrap();
        assert!(close(p.derivative, derivative), "{p:?} vs {derivative}");
    }
    // Ranked by |derivative|: P(b | a=no) first (0.189/0.1681), then the prior of a.
    assert_eq!(s.parameters[0].variable, f.b);
    assert_eq!(s.parameters[0].configuration, 1);
    assert_eq!(s.parameters[2].variable, f.a);
}

// ---------------------------------------------------------------------------------------------
// Brute force on random networks.
// ---------------------------------------------------------------------------------------------

fn spec() -> impl Strategy<Value = Spec> {
    random::spec(6, 3)
}

fn picks() -> impl Strategy<Value = Picks> {
    random::picks(6, 3)
}

/// The joint distribution written out: every assignment with its weight
/// `Π_v P(x_v | x_pa(v)) · Π_v λ_v(x_v)`, where the CPTs may be replaced.
struct Oracle {
    cards: Vec<usize>,
    parents: Vec<Vec<usize>>,
    cpts: Vec<Vec<f64>>,
}

impl Oracle {
    fn new(network: &Network) -> Oracle {
        Oracle {
            cards: network
                .variable_ids()
                .map(|v| network.cardinality(v))
                .collect(),
            parents: network
                .variable_ids()
                .map(|v| network.parents(v).iter().map(|p| p.index()).collect())
                .collect(),
            cpts: network
                .variable_ids()
                .map(|v| network.cpt(v).values().to_vec())
                .collect(),
        }
    }

    /// Every assignment with its weight under `evidence`, last variable fastest.
    fn table(&self, network: &Network, evidence: &Evidence) -> Vec<(Vec<usize>, f64)> {
        let n = self.cards.len();
        let likelihoods: Vec<Option<Vec<f64>>> = network
            .variable_ids()
            .map(|v| evidence.likelihood(v, network.cardinality(v)))
            .collect();
        let total: usize = self.cards.iter().product();
        let mut out = Vec::with_capacity(total);
        let mut x = vec![0usize; n];
        for _ in 0..total {
            let mut w = 1.0;
            for v in 0..n {
                let mut index = 0;
                for &p in &self.parents[v] {
                    index = index * self.cards[p] + x[p];
                }
                w *= self.cpts[v][index * self.cards[v] + x[v]];
                if let Some(l) = &likelihoods[v] {
                    w *= l[x[v]];
                }
            }
            out.push((x.clone(), w));
            for d in (0..n).rev() {
                x[d] += 1;
                if x[d] < self.cards[d] {
                    break;
                }
                x[d] = 0;
            }
        }
        out
    }

    fn total(&self, network: &Network, evidence: &Evidence) -> f64 {
        self.table(network, evidence).iter().map(|(_, w)| w).sum()
    }

    /// `P(var | e)`.
    fn marginal(&self, network: &Network, evidence: &Evidence, var: usize) -> Vec<f64> {
        let mut m = vec![0.0; self.cards[var]];
        for (x, w) in self.table(network, evidence) {
            m[x[var]] += w;
        }
        let total: f64 = m.iter().sum();
        m.iter().map(|p| p / total).collect()
    }
}

fn relative_close(got: f64, want: f64, tolerance: f64) -> bool {
    (got - want).abs() <= tolerance * (1.0 + want.abs())
}

proptest! {
    #[test]
    fn map_matches_brute_force(spec in spec(), picks in picks(), mask in 0u32..64, everything in any::<bool>()) {
        let network = build(&spec);
        let evidence = evidence_for(&network, &picks);
        let oracle = Oracle::new(&network);
        let table = oracle.table(&network, &evidence);
        let total: f64 = table.iter().map(|(_, w)| w).sum();
        let vars: Vec<VarId> = if everything {
            network.variable_ids().filter(|&v| evidence.hard_state(v).is_none()).collect()
        } else {
            network.variable_ids().filter(|v| mask & (1 << v.index()) != 0).collect()
        };
        let result = if everything {
            most_probable_explanation(&network, &evidence)
        } else {
            maximum_a_posteriori(&network, &evidence, &vars)
        };
        if total == 0.0 {
            prop_assert!(matches!(result, Err(AnalysisError::Inference(InferenceError::ImpossibleEvidence { .. }))), "{:?}", result);
            return Ok(());
        }
        let result = result.unwrap();
        // P(m, e) for every assignment m of the MAP variables.
        let mut by_assignment: std::collections::BTreeMap<Vec<usize>, f64> = Default::default();
        for (x, w) in &table {
            let key: Vec<usize> = vars.iter().map(|v| x[v.index()]).collect();
            *by_assignment.entry(key).or_default() += w;
        }
        let best = by_assignment.values().copied().fold(0.0, f64::max);
        let chosen: Vec<usize> = vars.iter().map(|&v| result.state(v).unwrap()).collect();
        prop_assert_eq!(result.assignment.len(), vars.len());
        let chosen_weight = by_assignment[&chosen];
        // The assignment is a maximiser (ties may be broken either way by rounding).
        prop_assert!(relative_close(chosen_weight, best, 1e-9), "{:?}: {} vs best {}", chosen, chosen_weight, best);
        prop_assert!((result.ln_probability - (best / total).ln()).abs() < 1e-9,
            "ln P(m|e) {} vs {}", result.ln_probability, (best / total).ln());
        prop_assert!((result.ln_p_evidence - total.ln()).abs() < 1e-9);
    }

    #[test]
    fn joint_posterior_matches_brute_force(spec in spec(), picks in picks(), first in 0usize..6, second in 0usize..6) {
        let network = build(&spec);
        let evidence = evidence_for(&network, &picks);
        let n = network.n_variables();
        let mut vars = vec![VarId::new(first % n)];
        if second % n != first % n {
            vars.push(VarId::new(second % n));
        }
        let oracle = Oracle::new(&network);
        let table = oracle.table(&network, &evidence);
        let total: f64 = table.iter().map(|(_, w)| w).sum();
        let result = joint_posterior(&network, &evidence, &vars);
        if total == 0.0 {
            prop_assert!(result.is_err());
            return Ok(());
        }
        let joint = result.unwrap();
        for (states, p) in joint.iter() {
            let want: f64 = table
                .iter()
                .filter(|(x, _)| vars.iter().zip(&states).all(|(v, s)| x[v.index()] == *s))
                .map(|(_, w)| w)
                .sum::<f64>() / total;
            prop_assert!((p - want).abs() < 1e-12, "{:?}: {} vs {}", states, p, want);
        }
        prop_assert!((joint.ln_p_evidence() - total.ln()).abs() < 1e-9);
    }

    #[test]
    fn intervention_matches_the_truncated_factorisation(spec in spec(), picks in picks(), var in 0usize..6, state in 0usize..3) {
        let network = build(&spec);
        let evidence = evidence_for(&network, &picks);
        let var = VarId::new(var % network.n_variables());
        let state = state % network.cardinality(var);
        let surgery = intervene(&network, &[(var, state)]).unwrap();
        // P(x | do(var = state)) = Π_{v ≠ var} P(x_v | x_pa(v)) · [x_var = state].
        let mut oracle = Oracle::new(&network);
        let card = network.cardinality(var);
        let columns = oracle.cpts[var.index()].len() / card;
        oracle.cpts[var.index()] = (0..columns * card).map(|i| if i % card == state { 1.0 } else { 0.0 }).collect();
        let oracle_network = &network;
        let total = oracle.total(oracle_network, &evidence);
        let engine = JunctionTree::compile(Arc::new(surgery), &Budget::default()).unwrap();
        match engine.posteriors(&evidence, &[]) {
            Ok(posteriors) => {
                prop_assert!(total > 0.0);
                for v in network.variable_ids() {
                    let want = oracle.marginal(oracle_network, &evidence, v.index());
                    for (a, b) in posteriors.marginal(v).unwrap().iter().zip(&want) {
                        prop_assert!((a - b).abs() < 1e-12);
                    }
                }
            }
            Err(_) => prop_assert_eq!(total, 0.0),
        }
    }

    #[test]
    fn value_of_information_matches_brute_force(spec in spec(), picks in picks(), target in 0usize..6) {
        let network = Arc::new(build(&spec));
        let evidence = evidence_for(&network, &picks);
        let target = VarId::new(target % network.n_variables());
        let engine = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
        let oracle = Oracle::new(&network);
        let table = oracle.table(&network, &evidence);
        let total: f64 = table.iter().map(|(_, w)| w).sum();
        let result = value_of_information(&engine, &evidence, target, &[]);
        if evidence.hard_state(target).is_some() {
            prop_assert!(matches!(result, Err(AnalysisError::TargetObserved { .. })), "{:?}", result);
            return Ok(());
        }
        if total == 0.0 {
            prop_assert!(result.is_err());
            return Ok(());
        }
        let voi = result.unwrap();
        let t = target.index();
        let p_t = oracle.marginal(&network, &evidence, t);
        prop_assert!((voi.entropy - h(&p_t)).abs() < 1e-10);
        let expected_candidates = network.variable_ids().filter(|&v| v != target && evidence.hard_state(v).is_none()).count();
        prop_assert_eq!(voi.ranking.len(), expected_candidates);
        for pair in voi.ranking.windows(2) {
            prop_assert!(pair[0].mutual_information >= pair[1].mutual_information);
        }
        for info in &voi.ranking {
            // I(T; V | e) = Σ P(t, v | e) ln [P(t, v | e) / (P(t | e) P(v | e))].
            let v = info.variable.index();
            let mut joint = vec![vec![0.0; oracle.cards[v]]; oracle.cards[t]];
            for (x, w) in &table {
                joint[x[t]][x[v]] += w / total;
            }
            let p_v: Vec<f64> = (0..oracle.cards[v]).map(|j| joint.iter().map(|row| row[j]).sum()).collect();
            let mut want = 0.0;
            for (i, row) in joint.iter().enumerate() {
                for (j, &p) in row.iter().enumerate() {
                    if p > 0.0 {
                        want += p * (p / (p_t[i] * p_v[j])).ln();
                    }
                }
            }
            prop_assert!((info.mutual_information - want).abs() < 1e-9, "{}: {} vs {}", v, info.mutual_information, want);
            prop_assert!(info.mutual_information >= 0.0);
        }
    }

    #[test]
    fn explain_matches_brute_force(spec in spec(), picks in picks(), target in 0usize..6) {
        let network = Arc::new(build(&spec));
        let evidence = evidence_for(&network, &picks);
        let target = VarId::new(target % network.n_variables());
        let engine = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
        let oracle = Oracle::new(&network);
        let total = oracle.total(&network, &evidence);
        let result = explain(&engine, &evidence, target);
        if evidence.hard_state(target).is_some() {
            prop_assert!(matches!(result, Err(AnalysisError::TargetObserved { .. })), "{:?}", result);
            return Ok(());
        }
        if total == 0.0 {
            prop_assert!(result.is_err());
            return Ok(());
        }
        let report = result.unwrap();
        let t = target.index();
        let posterior = oracle.marginal(&network, &evidence, t);
        for (a, b) in report.posterior.iter().zip(&posterior) {
            prop_assert!((a - b).abs() < 1e-12);
        }
        prop_assert_eq!(report.items.len(), evidence.variables().count());
        let mut sum_ln_items = 0.0;
        for item in &report.items {
            let var = item.variable;
            let mut rest = Evidence::new();
            let mut alone = Evidence::new();
            for (&v, &s) in evidence.hard() {
                let into = if v == var { &mut alone } else { &mut rest };
                into.observe(&network, v, s).unwrap();
            }
            for (&v, l) in evidence.soft() {
                let into = if v == var { &mut alone } else { &mut rest };
                into.add_likelihood(&network, v, l).unwrap();
            }
            let without = oracle.marginal(&network, &rest, t);
            let tv: f64 = posterior.iter().zip(&without).map(|(a, b)| (a - b).abs()).sum::<f64>() / 2.0;
            prop_assert!((item.total_variation - tv).abs() < 1e-12);
            let p_item = oracle.total(&network, &alone);
            let p_rest = oracle.total(&network, &rest);
            prop_assert!((item.ln_p_item - p_item.ln()).abs() < 1e-9);
            prop_assert!((item.ln_p_item_given_rest - (total / p_rest).ln()).abs() < 1e-9);
            sum_ln_items += p_item.ln();
            for (s, &llr) in item.log_likelihood_ratio.iter().enumerate() {
                let (p, q) = (posterior[s], without[s]);
                if p > 1e-9 && p < 1.0 - 1e-9 && q > 1e-9 && q < 1.0 - 1e-9 {
                    // P(e_i | t, e_-i) / P(e_i | ¬t, e_-i) from the joint.
                    let mut w = [[0.0; 2]; 2]; // [t or not][with item or all]
                    for (x, weight) in oracle.table(&network, &rest) {
                        let lik = evidence.likelihood(var, network.cardinality(var)).unwrap()[x[var.index()]];
                        let is_t = usize::from(x[t] != s);
                        w[is_t][0] += weight * lik;
                        w[is_t][1] += weight;
                    }
                    let want = ((w[0][0] / w[0][1]) / (w[1][0] / w[1][1])).ln();
                    prop_assert!((llr - want).abs() < 1e-7 * (1.0 + want.abs()), "{} vs {}", llr, want);
                }
            }
        }
        let conf = if report.items.len() < 2 { 0.0 } else { sum_ln_items - total.ln() };
        prop_assert!((report.conflict.value - conf).abs() < 1e-9);
        prop_assert_eq!(report.conflict.is_conflict(), report.conflict.value > 0.0);
    }

    #[test]
    fn sensitivity_matches_the_exact_linear_fit(spec in spec(), picks in picks(), target in 0usize..6, state in 0usize..3) {
        let network = build(&spec);
        let evidence = evidence_for(&network, &picks);
        let target = VarId::new(target % network.n_variables());
        let state = state % network.cardinality(target);
        let oracle = Oracle::new(&network);
        let total = oracle.total(&network, &evidence);
        let result = sensitivity(&network, &evidence, target, state);
        if evidence.hard_state(target).is_some() {
            prop_assert!(matches!(result, Err(AnalysisError::TargetObserved { .. })), "{:?}", result);
            return Ok(());
        }
        if total == 0.0 {
            prop_assert!(result.is_err());
            return Ok(());
        }
        let s = result.unwrap();
        let mut with_target = evidence.clone();
        with_target.observe(&network, target, state).unwrap();
        let p = oracle.total(&network, &with_target) / total;
        prop_assert!((s.probability - p).abs() < 1e-12);
        for pair in s.parameters.windows(2) {
            prop_assert!(pair[0].derivative.abs() >= pair[1].derivative.abs());
        }
        // P(y, e) and P(e) are linear in the co-varied parameter t, so their slopes are exactly
        // the differences between t = 1 and t = 0; the derivative of the quotient follows.
        for parameter in s.parameters.iter().take(12) {
            let v = parameter.variable.index();
            let card = oracle.cards[v];
            let base = parameter.configuration * card;
            let column = oracle.cpts[v][base..base + card].to_vec();
            prop_assert_eq!(column[parameter.state], parameter.value);
            let at = |t: f64| -> Vec<f64> {
                (0..card).map(|o| {
                    if o == parameter.state {
                        t
                    } else if parameter.value < 1.0 {
                        column[o] * (1.0 - t) / (1.0 - parameter.value)
                    } else {
                        (1.0 - t) / (card - 1) as f64
                    }
                }).collect()
            };
            let mut slopes = [0.0; 2];
            for (k, e) in [&with_target, &evidence].into_iter().enumerate() {
                let mut values = [0.0; 2];
                for (i, t) in [0.0, 1.0].into_iter().enumerate() {
                    let mut changed = Oracle::new(&network);
                    changed.cpts[v][base..base + card].copy_from_slice(&at(t));
                    values[i] = changed.total(&network, e);
                }
                slopes[k] = values[1] - values[0];
            }
            let want = (slopes[0] - p * slopes[1]) / total;
            prop_assert!((parameter.derivative - want).abs() < 1e-8 * (1.0 + want.abs()),
                "{:?}: {} vs {}", parameter, parameter.derivative, want);
        }
    }
}
