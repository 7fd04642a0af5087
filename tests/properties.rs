//! Invariants on random small networks: the three engines agree to 1e-12, marginals sum to
//! one, impossible evidence is reported by all of them, and BIF and XMLBIF write → read are
//! identities. `PROPTEST_CASES` raises the number of cases for a long run.

use credence::infer::Budget;
use credence::io::{read_bif, read_xmlbif, write_bif, write_xmlbif};
use credence::{
    Enumeration, InferenceEngine, InferenceError, JunctionTree, VarId, VariableElimination,
};
mod common;

use common::random::{self, Picks, Spec, build, evidence_for};
use proptest::prelude::*;
use std::sync::Arc;

fn spec() -> impl Strategy<Value = Spec> {
    random::spec(7, 4)
}

fn picks() -> impl Strategy<Value = Picks> {
    random::picks(7, 4)
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
