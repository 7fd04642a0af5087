//! Checks of the architecture's boundary invariants (see ARCHITECTURE.md).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_core_knows_nothing_of_the_edge() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for part in ["model", "infer", "io", "analysis"] {
        rust_files(&src.join(part), &mut files);
    }
    for file in [
        "lib.rs",
        "cancel.rs",
        "evidence.rs",
        "factor.rs",
        "graph.rs",
    ] {
        files.push(src.join(file));
    }
    let forbidden = ["clap", "serde", "anyhow", "tokio", "tonic", "prost"];
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for name in forbidden {
                assert!(
                    !code.contains(&format!("{name}::")) && !code.contains(&format!("use {name}")),
                    "{}:{}: the core must not use {name}: {line}",
                    file.display(),
                    number + 1
                );
            }
        }
    }
}

/// The edges' crates are optional dependencies, so `cargo build --lib --no-default-features`
/// builds the core without them (`.ci/run` does that build).
#[test]
fn the_edges_crates_are_behind_features() {
    let manifest =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .unwrap();
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("Cargo.toml has a [dependencies] table");
    let edge = [
        "clap", "serde", "anyhow", "tokio", "tonic", "prost", "rusqlite", "tower", "http", "csv",
        "axum",
    ];
    for line in dependencies.lines() {
        let Some((name, spec)) = line.split_once(" = ") else {
            continue;
        };
        if edge.iter().any(|e| name.trim().starts_with(e)) {
            assert!(
                spec.contains("optional = true"),
                "Cargo.toml: the edge crate {name} must be optional: {line}"
            );
        }
    }
}

#[test]
fn no_ignored_or_should_panic_tests() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    let this_file = Path::new(file!()).file_name().unwrap();
    for file in files.iter().filter(|f| f.file_name() != Some(this_file)) {
        let text = std::fs::read_to_string(file).unwrap();
        for marker in ["#[ignore", "#[should_panic"] {
            assert!(
                !text.contains(marker),
                "{} uses {marker}: long runs go behind CREDENCE_SLOW_TESTS",
                file.display()
            );
        }
    }
}
