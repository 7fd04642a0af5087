//! Every benchmark network loads, and writing it back (BIF or XMLBIF) then reading gives the
//! same network, bit for bit.

mod common;

use common::{repo, shared};
use credence::Network;
use credence::io::{read_bif, read_network, read_xmlbif, write_bif, write_xmlbif};
use std::path::PathBuf;

fn assert_same(a: &Network, b: &Network, what: &str) {
    assert_eq!(a.name(), b.name(), "{what}: name");
    assert_eq!(a.properties(), b.properties(), "{what}: properties");
    assert_eq!(a.variables(), b.variables(), "{what}: variables");
    for var in a.variable_ids() {
        assert_eq!(
            a.cpt(var),
            b.cpt(var),
            "{what}: table of {}",
            a.variable(var).name()
        );
    }
}

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
            assert_eq!(more.len(), 14, "the shared set has 14 networks");
            files.extend(more);
        }
        None => eprintln!("SKIPPED the shared networks: ../shared is absent"),
    }
    files
}

#[test]
fn every_network_loads_and_round_trips() {
    for path in network_files() {
        let network = read_network(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(network.n_variables() > 0, "{}", path.display());
        let what = path.display().to_string();
        let bif = write_bif(&network);
        assert_same(&network, &read_bif(&bif, "written.bif").unwrap(), &what);
        let xml = write_xmlbif(&network);
        assert_same(&network, &read_xmlbif(&xml, "written.xml").unwrap(), &what);
    }
}

#[test]
fn bundled_sino_russian_network_loads() {
    let path = repo().join("networks/sino_russian_partnership.bif");
    let network = read_network(&path).unwrap_or_else(|e| panic!("{e}"));
    for variable in network.variables() {
        assert!(
            variable.description().is_some_and(|d| !d.is_empty()),
            "{} lacks a description",
            variable.name()
        );
    }
}
