//! Invariants on random small networks: the three engines agree to 1e-12, marginals sum to
//! one, impossible evidence is reported by all of them, and BIF and XMLBIF write → read are
//! identities. `PROPTEST_CASES` raises the number of cases for a long run.

use credence::infer::Budget;
use credence::io::{read_bif, read_xmlbif, write_bif, write_xmlbif};
use credence::{
    Enumeration, Evidence, InferenceEngine, InferenceError, JunctionTree, Network, NetworkBuilder,
    VarId, VariableElimination,
};
use proptest::prelude::*;
use std::sync::Arc;

/// A random network description: cardinalities, parents (as earlier positions), raw CPT
/// weights, and the order in which variables are declared.
#[derive(Clone, Debug)]
struct Spec {
    cards: Vec<usize>,
    parents: Vec<Vec<usize>>,
    weights: Vec<Vec<f64>>,
    declaration: Vec<usize>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (1usize..=7)
        .prop_flat_map(|n| {
            (
                proptest::collection::vec(1usize..=4, n),
                proptest::collection::vec(proptest::collection::vec(any::<bool>(), n), n),
                Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
            )
        })
        .prop_flat_map(|(cards, parent_bits, declaration)| {
            let n = cards.len();
            // At most three parents, each an earlier position: the DAG is acyclic by construction.
            let parents: Vec<Vec<usize>> = (0..n)
                .map(|i| (0..i).filter(|&j| parent_bits[i][j]).take(3).collect())
                .collect();
            let sizes: Vec<usize> = (0..n)
                .map(|i| parents[i].iter().map(|&p| cards[p]).product::<usize>() * cards[i])
                .collect();
            let weights = sizes
                .iter()
                .map(|&size| {
                    proptest::collection::vec(prop_oneof![1 => Just(0.0), 6 => 0.01f64..1.0], size)
                })
                .collect::<Vec<_>>();
            (Just(cards), Just(parents), weights, Just(declaration))
        })
        .prop_map(|(cards, parents, weights, declaration)| Spec {
            cards,
            parents,
            weights,
            declaration,
        })
}

fn build(spec: &Spec) -> Network {
    let n = spec.cards.len();
    let mut builder = NetworkBuilder::new("random");
    let mut id_of = vec![VarId::new(0); n];
    for &position in &spec.declaration {
        let states: Vec<String> = (0..spec.cards[position]).map(|s| format!("s{s}")).collect();
        id_of[position] = builder
            .add_variable(format!("v{position}"), states)
            .unwrap();
    }
    for position in 0..n {
        let card = spec.cards[position];
        let mut values = spec.weights[position].clone();
        for column in values.chunks_mut(card) {
            let sum: f64 = column.iter().sum();
            if sum == 0.0 {
                column.iter_mut().for_each(|v| *v = 1.0 / card as f64);
            } else {
                column.iter_mut().for_each(|v| *v /= sum);
            }
        }
        let parents = spec.parents[position].iter().map(|&p| id_of[p]).collect();
        builder.set_cpt(id_of[position], parents, values).unwrap();
    }
    builder.build().unwrap()
}

/// Random evidence: (variable position, hard state) and (variable position, likelihood).
fn evidence_for(network: &Network, picks: &[(usize, usize, bool, Vec<f64>)]) -> Evidence {
    let mut evidence = Evidence::new();
    for (var, state, hard, likelihood) in picks {
        let var = VarId::new(var % network.n_variables());
        let card = network.cardinality(var);
        if *hard {
            let _ = evidence.observe(network, var, state % card);
        } else {
            let values: Vec<f64> = (0..card)
                .map(|i| likelihood[i % likelihood.len()])
                .collect();
            let _ = evidence.add_likelihood(network, var, &values);
        }
    }
    evidence
}

fn picks() -> impl Strategy<Value = Vec<(usize, usize, bool, Vec<f64>)>> {
    proptest::collection::vec(
        (
            0usize..7,
            0usize..4,
            any::<bool>(),
            proptest::collection::vec(prop_oneof![1 => Just(0.0), 4 => 0.0f64..3.0], 1..4),
        ),
        0..4,
    )
}

proptest! {
    #[test]
    fn engines_agree_with_enumeration(spec in spec(), picks in picks()) {
        let network = Arc::new(build(&spec));
        let evidence = evidence_for(&network, &picks);
        let oracle = Enumeration::new(network.clone()).unwrap();
        let jt = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
        let ve = VariableElimination::new(network.clone());
        let expected = oracle.posteriors(&evidence, &[]);
        for engine in [&jt as &dyn InferenceEngine, &ve] {
            let got = engine.posteriors(&evidence, &[]);
            match (&expected, &got) {
                (Ok(expected), Ok(got)) => {
                    prop_assert!((expected.ln_p_evidence() - got.ln_p_evidence()).abs() < 1e-12,
                        "{}: ln P(e) {} vs {}", engine.kind(), got.ln_p_evidence(), expected.ln_p_evidence());
                    for ((v, want), (w, have)) in expected.iter().zip(got.iter()) {
                        prop_assert_eq!(v, w);
                        let sum: f64 = have.iter().sum();
                        prop_assert!((sum - 1.0).abs() < 1e-12);
                        for (a, b) in want.iter().zip(have) {
                            prop_assert!((a - b).abs() < 1e-12, "{}: {:?} vs {:?}", engine.kind(), have, want);
                        }
                    }
                }
                (Err(InferenceError::ImpossibleEvidence { .. }), Err(InferenceError::ImpossibleEvidence { .. })) => {}
                (expected, got) => prop_assert!(false, "{}: {:?} vs {:?}", engine.kind(), got, expected),
            }
        }
    }

    #[test]
    fn targeted_queries_match_full_ones(spec in spec(), picks in picks(), target in 0usize..7) {
        let network = Arc::new(build(&spec));
        let evidence = evidence_for(&network, &picks);
        let target = VarId::new(target % network.n_variables());
        let jt = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
        let ve = VariableElimination::new(network.clone());
        for engine in [&jt as &dyn InferenceEngine, &ve] {
            if let (Ok(all), Ok(one)) = (engine.posteriors(&evidence, &[]), engine.posteriors(&evidence, &[target])) {
                prop_assert_eq!(one.iter().count(), 1);
                for (a, b) in all.marginal(target).unwrap().iter().zip(one.marginal(target).unwrap()) {
                    prop_assert!((a - b).abs() < 1e-12);
                }
                prop_assert!((all.ln_p_evidence() - one.ln_p_evidence()).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn bif_and_xmlbif_round_trip(spec in spec()) {
        let network = build(&spec);
        let from_bif = read_bif(&write_bif(&network), "random.bif").unwrap();
        let from_xml = read_xmlbif(&write_xmlbif(&network), "random.xml").unwrap();
        for again in [from_bif, from_xml] {
            prop_assert_eq!(again.name(), network.name());
            prop_assert_eq!(again.variables(), network.variables());
            for var in network.variable_ids() {
                prop_assert_eq!(again.cpt(var), network.cpt(var));
            }
        }
    }
}
