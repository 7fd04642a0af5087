//! Every network, written in every writable format and read back, is the same network: names,
//! states, parents and every value bit for bit (XDSL lists variables in topological order, so
//! it is compared by name), and its posteriors equal the original's to 1e-9.

mod common;

use common::{repo, shared, slow_tests};
use credence::infer::Budget;
use credence::io::{Format, read_network};
use credence::{Evidence, InferenceEngine, JunctionTree, Network, VarId};
use std::path::PathBuf;
use std::sync::Arc;

fn network_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["asia", "alarm", "child"]
        .iter()
        .map(|n| repo().join(format!("networks/{n}.bif")))
        .collect();
    match shared() {
        Some(shared) => {
            let mut more: Vec<PathBuf> = std::fs::read_dir(shared.join("networks"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "bif"))
                .collect();
            more.sort();
            files.extend(more);
        }
        None => eprintln!("SKIPPED the shared networks: ../shared is absent"),
    }
    files
}

/// What `a`'s variable is called in `b`: the same name, or `v<index>` when `b` came from a
/// format without names (UAI).
fn name_in(a: &Network, var: VarId, named: bool) -> String {
    if named {
        a.variable(var).name().to_string()
    } else {
        format!("v{}", var.index())
    }
}

/// The same network up to the order of its variables (and their names, for UAI).
fn assert_same_by_name(a: &Network, b: &Network, named: bool, what: &str) {
    assert_eq!(a.n_variables(), b.n_variables(), "{what}: variables");
    for var in a.variable_ids() {
        let variable = a.variable(var);
        let other = b
            .variable_id(&name_in(a, var, named))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        if named {
            assert_eq!(b.variable(other), variable, "{what}");
        } else {
            assert_eq!(b.cardinality(other), variable.cardinality(), "{what}");
        }
        let parents: Vec<String> = a
            .parents(var)
            .iter()
            .map(|&p| name_in(a, p, named))
            .collect();
        let again: Vec<String> = b
            .parents(other)
            .iter()
            .map(|&p| b.variable(p).name().to_string())
            .collect();
        assert_eq!(again, parents, "{what}: parents");
        let (x, y) = (a.cpt(var).values(), b.cpt(other).values());
        assert!(
            x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()) && x.len() == y.len(),
            "{what}: table of {} differs",
            variable.name()
        );
    }
}

/// Posteriors of every variable given one variable in its first state (or nothing, if that is
/// impossible), by name.
fn posteriors(network: &Network, observed: &str) -> Vec<(String, Vec<f64>)> {
    let network = Arc::new(network.clone());
    let engine = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
    let mut evidence = Evidence::new();
    let var = network.variable_id(observed).unwrap();
    evidence.observe(&network, var, 0).unwrap();
    let answer = engine
        .posteriors(&evidence, &[])
        .or_else(|_| engine.posteriors(&Evidence::new(), &[]))
        .unwrap();
    let mut out: Vec<(String, Vec<f64>)> = answer
        .iter()
        .map(|(v, p)| (network.variable(v).name().to_string(), p.to_vec()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_network_round_trips_through_every_format() {
    for path in network_files() {
        let network = read_network(&path).unwrap_or_else(|e| panic!("{e}"));
        let root = network.topological_order()[0];
        // The junction tree of the largest networks takes long in a debug build.
        let compare_posteriors = slow_tests() || network.n_variables() <= 100;
        let before =
            compare_posteriors.then(|| posteriors(&network, &name_in(&network, root, true)));
        for format in Format::ALL {
            let named = format != Format::Uai;
            let what = format!("{} as {}", path.display(), format.name());
            let text = format
                .write(&network)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let again = format
                .read(&text, &format!("written.{}", format.extension()))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_same_by_name(&network, &again, named, &what);
            assert_eq!(
                Format::of_content(&text),
                format,
                "{what}: detected by content"
            );
            if let Some(before) = &before {
                let after = posteriors(&again, &name_in(&network, root, named));
                let after: std::collections::HashMap<String, Vec<f64>> =
                    after.into_iter().collect();
                for (name, p) in before {
                    let var = network.variable_id(name).unwrap();
                    let q = &after[&name_in(&network, var, named)];
                    assert!(
                        p.iter().zip(q).all(|(a, b)| (a - b).abs() <= 1e-9),
                        "{what}: posterior of {name}"
                    );
                }
            }
        }
    }
}
