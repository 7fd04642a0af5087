//! Fuzzing the network readers with generated input (proptest as the engine, because
//! cargo-fuzz needs a nightly sanitizer or a slow separate build on this toolchain).
//!
//! Each target feeds inputs to `read_bif` or `read_xmlbif` and checks that the reader returns
//! (a network or a one-line error) rather than panicking, and that whatever it accepts writes
//! back and re-reads to the same network. Allocation is capped for the whole test binary, so an
//! input that makes a reader allocate without bound aborts the run instead of passing.
//! Termination is structural (the readers only move forward through the input), so a hang
//! would show as a test that never ends.
//!
//! `CREDENCE_FUZZ_CASES=N` runs N cases per target (default 200, which keeps `cargo test`
//! fast); `CREDENCE_FUZZ_SEED=S` picks the random stream (default 0, so CI is repeatable).
//! Every run also replays the regression corpus in `tests/data/fuzz/` (inputs that once broke
//! a reader, or that probe a limit); a new finding is added there as a file.

use cap::Cap;
use credence::io::{Format, read_bif, read_network, read_xmlbif, write_bif, write_xmlbif};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::alloc::System;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, usize::MAX);

/// Everything this test binary may hold at once. The readers refuse declared tables over 2^28
/// entries in all; the inputs here are at most a few hundred kilobytes, so an allocation
/// anywhere near this is a reader sizing something from a number in the input.
const ALLOCATION_CEILING: usize = 3 << 30;

fn cap_allocation() {
    ALLOCATOR
        .set_limit(ALLOCATOR.allocated() + ALLOCATION_CEILING)
        .expect("the ceiling is above what is allocated");
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> u32 {
    std::env::var("CREDENCE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn runner() -> TestRunner {
    let seed = std::env::var("CREDENCE_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters: 2000,
        ..Config::default()
    })
}

/// Counts and the slowest input of one target, printed at the end (cargo test -- --nocapture
/// shows them; the README records the last long run).
struct Tally {
    name: &'static str,
    runs: AtomicUsize,
    accepted: AtomicUsize,
    slowest_us: AtomicUsize,
}

impl Tally {
    const fn new(name: &'static str) -> Tally {
        Tally {
            name,
            runs: AtomicUsize::new(0),
            accepted: AtomicUsize::new(0),
            slowest_us: AtomicUsize::new(0),
        }
    }

    fn report(&self) {
        eprintln!(
            "fuzz {}: {} executions, {} accepted, {} rejected, slowest {:.1} ms",
            self.name,
            self.runs.load(Ordering::Relaxed),
            self.accepted.load(Ordering::Relaxed),
            self.runs.load(Ordering::Relaxed) - self.accepted.load(Ordering::Relaxed),
            self.slowest_us.load(Ordering::Relaxed) as f64 / 1e3
        );
    }
}

#[derive(Clone, Copy, Debug)]
enum Reader {
    Bif,
    XmlBif,
}

/// Reads `text`, checking the contract; returns whether it was accepted.
fn check(reader: Reader, text: &str, tally: &Tally) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let result = match reader {
        Reader::Bif => read_bif(text, "fuzz.bif"),
        Reader::XmlBif => read_xmlbif(text, "fuzz.xml"),
    };
    let elapsed = started.elapsed();
    tally.runs.fetch_add(1, Ordering::Relaxed);
    tally
        .slowest_us
        .fetch_max(elapsed.as_micros() as usize, Ordering::Relaxed);
    match result {
        Err(error) => {
            let message = error.to_string();
            prop_assert!(!message.is_empty());
            prop_assert!(
                !message.contains('\n'),
                "the message is not one line: {message:?}"
            );
        }
        Ok(network) => {
            tally.accepted.fetch_add(1, Ordering::Relaxed);
            // Whatever is accepted round-trips exactly in its own format, and in the other
            // format up to properties (BIF keeps them as raw tokens, XMLBIF as free text, so a
            // property need not survive the crossing; variables, states and tables must).
            let (own, other) = match reader {
                Reader::Bif => (write_bif(&network), write_xmlbif(&network)),
                Reader::XmlBif => (write_xmlbif(&network), write_bif(&network)),
            };
            let reread = |text: &str, reader: Reader| match reader {
                Reader::Bif => read_bif(text, "again.bif"),
                Reader::XmlBif => read_xmlbif(text, "again.xml"),
            };
            let crossed = match reader {
                Reader::Bif => Reader::XmlBif,
                Reader::XmlBif => Reader::Bif,
            };
            let again = reread(&own, reader)
                .map_err(|e| TestCaseError::fail(format!("accepted, but does not re-read: {e}")))?;
            prop_assert_eq!(write_bif(&again), write_bif(&network));
            let again = reread(&other, crossed).map_err(|e| {
                TestCaseError::fail(format!(
                    "accepted, but does not re-read in the other format: {e}"
                ))
            })?;
            let structure = |text: String| -> String {
                text.lines()
                    .filter(|l| !l.trim_start().starts_with("property "))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            prop_assert_eq!(structure(write_bif(&again)), structure(write_bif(&network)));
        }
    }
    Ok(())
}

/// Seed texts: the bundled networks in the format at hand.
fn seeds(reader: Reader) -> Vec<String> {
    ["asia", "alarm", "child", "sino_russian_partnership"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(repo().join(format!("networks/{name}.bif")))
                .expect("bundled network");
            match reader {
                Reader::Bif => text,
                Reader::XmlBif => write_xmlbif(&read_bif(&text, name).unwrap()),
            }
        })
        .collect()
}

/// Fragments that mean something to one reader or the other, spliced in by the mutator.
const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ";",
    ",",
    "|",
    "\"",
    "//",
    "/*",
    "*/",
    "variable",
    "probability",
    "network",
    "table",
    "default",
    "type",
    "discrete",
    "property",
    "0",
    "1",
    "0.5",
    "-1",
    "1e308",
    "1e-320",
    "NaN",
    "inf",
    "99999999999999999999",
    "4294967297",
    "1000000000",
    "\u{feff}",
    "é",
    "\0",
    "\r\n",
    "<",
    ">",
    "</",
    "/>",
    "<VARIABLE>",
    "</VARIABLE>",
    "<DEFINITION>",
    "<FOR>",
    "<GIVEN>",
    "<TABLE>",
    "<OUTCOME>",
    "<NAME>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "<!DOCTYPE a [<!ENTITY e \"x\">]>",
    "&e;",
    "<?xml version=\"1.0\"?>",
    "%",
    "node",
    "potential",
    "data",
    "states",
    "=",
    "experience",
    "decision",
    "<cpt id=\"a\">",
    "<state id=\"s\" />",
    "<parents>",
    "<probabilities>",
    "<deterministic id=\"d\">",
    "<resultingstates>",
    "BAYES",
    "MARKOV",
];

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the byte at a position (fraction of the length) with this one.
    Byte(f64, u8),
    /// Delete a range.
    Delete(f64, usize),
    /// Copy a range to another place.
    Duplicate(f64, usize, f64),
    /// Insert a dictionary word.
    Insert(f64, usize),
    /// Swap two whitespace-separated words.
    SwapWords(f64, f64),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), any::<u8>()).prop_map(|(a, b)| Mutation::Byte(a, b)),
        (at.clone(), 1..200usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (at.clone(), 1..400usize, at.clone()).prop_map(|(a, n, b)| Mutation::Duplicate(a, n, b)),
        (at.clone(), 0..DICTIONARY.len()).prop_map(|(a, i)| Mutation::Insert(a, i)),
        (at.clone(), at).prop_map(|(a, b)| Mutation::SwapWords(a, b)),
    ]
}

fn position(bytes: &[u8], fraction: f64) -> usize {
    ((bytes.len() as f64 * fraction) as usize).min(bytes.len())
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        match *m {
            Mutation::Byte(at, b) => {
                let i = position(&bytes, at);
                if i < bytes.len() {
                    bytes[i] = b;
                }
            }
            Mutation::Delete(at, n) => {
                let i = position(&bytes, at);
                let end = (i + n).min(bytes.len());
                bytes.drain(i..end);
            }
            Mutation::Duplicate(at, n, to) => {
                let i = position(&bytes, at);
                let end = (i + n).min(bytes.len());
                let piece = bytes[i..end].to_vec();
                let j = position(&bytes, to);
                bytes.splice(j..j, piece);
            }
            Mutation::Insert(at, word) => {
                let i = position(&bytes, at);
                bytes.splice(i..i, DICTIONARY[word].bytes());
            }
            Mutation::SwapWords(a, b) => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut words: Vec<&str> = text.split(' ').collect();
                let (i, j) = (
                    ((words.len() as f64 * a) as usize).min(words.len() - 1),
                    ((words.len() as f64 * b) as usize).min(words.len() - 1),
                );
                words.swap(i, j);
                bytes = words.join(" ").into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn run_mutated(reader: Reader, tally: &'static Tally) {
    cap_allocation();
    let seeds = seeds(reader);
    let strategy = (0..seeds.len(), proptest::collection::vec(mutation(), 1..4));
    runner()
        .run(&strategy, |(seed, mutations)| {
            check(reader, &mutate(&seeds[seed], &mutations), tally)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    tally.report();
}

static BIF_MUTATED: Tally = Tally::new("bif-mutated");
static XMLBIF_MUTATED: Tally = Tally::new("xmlbif-mutated");
static BIF_BYTES: Tally = Tally::new("bif-random-bytes");
static XMLBIF_BYTES: Tally = Tally::new("xmlbif-random-bytes");
static BIF_TOKENS: Tally = Tally::new("bif-token-soup");
static XMLBIF_TREES: Tally = Tally::new("xmlbif-random-trees");

#[test]
fn bif_reader_survives_mutated_networks() {
    run_mutated(Reader::Bif, &BIF_MUTATED);
}

#[test]
fn xmlbif_reader_survives_mutated_networks() {
    run_mutated(Reader::XmlBif, &XMLBIF_MUTATED);
}

#[test]
fn readers_survive_random_bytes() {
    cap_allocation();
    runner()
        .run(&proptest::collection::vec(any::<u8>(), 0..4096), |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            check(Reader::Bif, &text, &BIF_BYTES)?;
            check(Reader::XmlBif, &text, &XMLBIF_BYTES)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    BIF_BYTES.report();
    XMLBIF_BYTES.report();
}

/// Sequences of BIF-ish tokens: reaches the parser's deeper states far more often than bytes.
#[test]
fn bif_reader_survives_token_soup() {
    cap_allocation();
    let word = prop_oneof![
        (0..DICTIONARY.len()).prop_map(|i| DICTIONARY[i].to_string()),
        "[a-c]{1,2}".prop_map(String::from),
        (0u32..40).prop_map(|n| n.to_string()),
    ];
    runner()
        .run(&proptest::collection::vec(word, 0..300), |words| {
            check(Reader::Bif, &words.join(" "), &BIF_TOKENS)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    BIF_TOKENS.report();
}

/// Random element trees with XMLBIF tag names, nested up to a few hundred deep.
#[test]
fn xmlbif_reader_survives_random_trees() {
    cap_allocation();
    let tags = [
        "BIF",
        "NETWORK",
        "VARIABLE",
        "NAME",
        "OUTCOME",
        "DEFINITION",
        "FOR",
        "GIVEN",
        "TABLE",
        "PROPERTY",
        "x",
    ];
    let node = (0..tags.len(), 0usize..300, "[a-c0-9. ]{0,8}");
    runner()
        .run(&proptest::collection::vec(node, 0..60), |nodes| {
            let mut text = String::from("<BIF VERSION=\"0.3\"><NETWORK>");
            let mut open = Vec::new();
            for (tag, depth, content) in nodes {
                while open.len() > depth.min(open.len()) {
                    text.push_str(&format!("</{}>", open.pop().unwrap()));
                }
                // Sometimes descend many levels at once.
                for _ in 0..depth % 7 {
                    text.push_str(&format!("<{}>", tags[tag]));
                    open.push(tags[tag]);
                }
                text.push_str(&content);
            }
            while let Some(tag) = open.pop() {
                text.push_str(&format!("</{tag}>"));
            }
            text.push_str("</NETWORK></BIF>");
            check(Reader::XmlBif, &text, &XMLBIF_TREES)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    XMLBIF_TREES.report();
}

/// The regression corpus: every file is read (format by extension) and must give a network or
/// a one-line error. A file whose name starts with `ok-` must be accepted; `reject-`, refused
/// with a message containing the text of `NAME.expected` beside it.
#[test]
fn regression_corpus() {
    cap_allocation();
    let dir = repo().join("tests/data/fuzz");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "expected"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 10,
        "the corpus in {} is too small",
        dir.display()
    );
    for path in &names {
        let started = Instant::now();
        let result = read_network(path);
        let name = path.file_name().unwrap().to_string_lossy();
        if started.elapsed() > Duration::from_secs(10) {
            eprintln!("warning: {name} took {:?}", started.elapsed());
        }
        match result {
            Ok(network) => {
                assert!(!name.starts_with("reject-"), "{name} was accepted");
                // What is accepted writes and re-reads in both formats.
                read_bif(&write_bif(&network), "again.bif")
                    .unwrap_or_else(|e| panic!("{name}: its BIF does not re-read: {e}"));
                read_xmlbif(&write_xmlbif(&network), "again.xml")
                    .unwrap_or_else(|e| panic!("{name}: its XMLBIF does not re-read: {e}"));
            }
            Err(error) => {
                let message = error.to_string();
                assert!(!message.contains('\n'), "{name}: {message:?}");
                assert!(!name.starts_with("ok-"), "{name}: {message}");
                let expected = path.with_file_name(format!("{name}.expected"));
                if let Ok(expected) = std::fs::read_to_string(&expected) {
                    assert!(
                        message.contains(expected.trim()),
                        "{name}: expected a message containing {:?}, got {message:?}",
                        expected.trim()
                    );
                }
            }
        }
    }
    eprintln!("fuzz corpus: {} files", names.len());
}

/// The readers added with the formats: whatever they accept writes back in the same format
/// (or is refused by the writer with an error) and re-reads to the same network.
fn check_format(format: Format, text: &str, tally: &Tally) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let result = format.read(text, &format!("fuzz.{}", format.extension()));
    tally.runs.fetch_add(1, Ordering::Relaxed);
    tally
        .slowest_us
        .fetch_max(started.elapsed().as_micros() as usize, Ordering::Relaxed);
    match result {
        Err(error) => {
            let message = error.to_string();
            prop_assert!(!message.is_empty());
            prop_assert!(
                !message.contains('\n'),
                "the message is not one line: {message:?}"
            );
        }
        Ok(network) => {
            tally.accepted.fetch_add(1, Ordering::Relaxed);
            let Ok(written) = format.write(&network) else {
                return Ok(());
            };
            let again = format
                .read(&written, "again")
                .map_err(|e| TestCaseError::fail(format!("accepted, but does not re-read: {e}")))?;
            prop_assert_eq!(format.write(&again).ok(), Some(written));
        }
    }
    Ok(())
}

fn run_format(format: Format, tally: &'static Tally) {
    cap_allocation();
    let seeds: Vec<String> = ["asia", "alarm", "child"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(repo().join(format!("networks/{name}.bif")))
                .expect("bundled network");
            format.write(&read_bif(&text, name).unwrap()).unwrap()
        })
        .collect();
    let strategy = (0..seeds.len(), proptest::collection::vec(mutation(), 1..4));
    runner()
        .run(&strategy, |(seed, mutations)| {
            check_format(format, &mutate(&seeds[seed], &mutations), tally)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    runner()
        .run(&proptest::collection::vec(any::<u8>(), 0..2048), |bytes| {
            check_format(format, &String::from_utf8_lossy(&bytes), tally)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    tally.report();
}

static NET_MUTATED: Tally = Tally::new("net-mutated-and-bytes");
static XDSL_MUTATED: Tally = Tally::new("xdsl-mutated-and-bytes");
static UAI_MUTATED: Tally = Tally::new("uai-mutated-and-bytes");

#[test]
fn net_reader_survives_mutated_networks() {
    run_format(Format::Net, &NET_MUTATED);
}

#[test]
fn xdsl_reader_survives_mutated_networks() {
    run_format(Format::Xdsl, &XDSL_MUTATED);
}

#[test]
fn uai_reader_survives_mutated_networks() {
    run_format(Format::Uai, &UAI_MUTATED);
}
