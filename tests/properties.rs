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

/// Issue 18, point 4: likelihoods of extreme magnitude, alone and beside hard findings, give
/// every engine finite marginals that sum to 1 and a finite `ln P(e)`, or the engine's error
/// for impossible evidence; the exact engines agree with enumeration, and no sampler answers
/// evidence the exact engines call impossible.
mod extreme_likelihoods {
    use super::*;
    use credence::infer::{Sampler, SamplingConfig, SamplingMethod};

    fn extreme() -> impl Strategy<Value = f64> {
        prop_oneof![
            Just(0.0),
            Just(1e-60),
            Just(1e-30),
            Just(1.0),
            Just(1e30),
            Just(1e300),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
        ]
    }

    fn extreme_picks() -> impl Strategy<Value = Picks> {
        proptest::collection::vec(
            (
                0usize..6,
                0usize..3,
                any::<bool>(),
                proptest::collection::vec(extreme(), 1..4),
            ),
            0..5,
        )
    }

    fn finite_and_normalised(what: &str, p: &credence::Posteriors) -> Result<(), TestCaseError> {
        prop_assert!(
            p.ln_p_evidence().is_finite(),
            "{}: ln P(e) = {}",
            what,
            p.ln_p_evidence()
        );
        for (var, marginal) in p.iter() {
            prop_assert!(
                marginal.iter().all(|v| v.is_finite() && *v >= 0.0),
                "{}: {} {:?}",
                what,
                var,
                marginal
            );
            let sum: f64 = marginal.iter().sum();
            prop_assert!(
                (sum - 1.0).abs() < 1e-9,
                "{}: {} sums to {}",
                what,
                var,
                sum
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_engine_is_finite_or_says_impossible(spec in random::spec(6, 3), picks in extreme_picks()) {
            let network = Arc::new(build(&spec));
            let evidence = evidence_for(&network, &picks);
            let oracle = Enumeration::new(network.clone()).unwrap().posteriors(&evidence, &[]);
            let jt = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
            let ve = VariableElimination::new(network.clone());
            for engine in [&jt as &dyn InferenceEngine, &ve] {
                let got = engine.posteriors(&evidence, &[]);
                match (&oracle, &got) {
                    (Ok(expected), Ok(got)) => {
                        finite_and_normalised(engine.kind().as_str(), got)?;
                        finite_and_normalised("enum", expected)?;
                        let scale = expected.ln_p_evidence().abs().max(1.0);
                        prop_assert!((expected.ln_p_evidence() - got.ln_p_evidence()).abs() < 1e-9 * scale,
                            "{}: ln P(e) {} vs {}", engine.kind(), got.ln_p_evidence(), expected.ln_p_evidence());
                        for ((_, want), (_, have)) in expected.iter().zip(got.iter()) {
                            for (a, b) in want.iter().zip(have) {
                                prop_assert!((a - b).abs() < 1e-9, "{}: {:?} vs {:?}", engine.kind(), have, want);
                            }
                        }
                    }
                    (Err(InferenceError::ImpossibleEvidence { .. }), Err(InferenceError::ImpossibleEvidence { .. })) => {}
                    (expected, got) => prop_assert!(false, "{}: {:?} vs enum {:?}", engine.kind(), got, expected),
                }
            }
            let config = SamplingConfig {
                n_samples: 2000,
                n_chains: 2,
                burn_in: 20,
                ..SamplingConfig::default()
            };
            for method in [
                SamplingMethod::LikelihoodWeighting,
                SamplingMethod::Rejection,
                SamplingMethod::Epis,
                SamplingMethod::Gibbs,
            ] {
                let sampler = Sampler::new(network.clone(), method, config.clone()).unwrap();
                match (sampler.posteriors(&evidence, &[]), &oracle) {
                    (Ok(got), Ok(_)) => finite_and_normalised(&format!("{method:?}"), &got)?,
                    (Ok(got), Err(_)) => prop_assert!(false, "{:?} answered impossible evidence: {:?}", method, got),
                    (Err(InferenceError::NoWeight { .. } | InferenceError::ChainStuck { .. }), _) => {}
                    (Err(other), _) => prop_assert!(false, "{:?}: {:?}", method, other),
                }
            }
        }
    }
}
