//! `credence update` as a bulk tool, driven through the built binary: JSON lines and CSV
//! against the reference posteriors, bad rows, order under parallelism, `--strict`,
//! interrupted runs continued with `--resume`, and the remote mode against an in-process
//! server.

mod common;

use common::{read_json, repo, shared};
use credence::service;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ASIA: &str = "networks/asia.bif";
const ALARM: &str = "networks/alarm.bif";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn credence(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_credence"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run credence");
    Run {
        code: output.status.code().expect("exit code (not a signal)"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

#[track_caller]
fn expect(run: Run, code: i32) -> Run {
    assert_eq!(
        run.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run
}

/// A scratch directory, removed at the end.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("credence-bulk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        text_of(&path)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name))
            .unwrap_or_else(|e| panic!("{}: {e}", self.path(name).display()))
    }

    fn file_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text_of(path: &Path) -> String {
    path.display().to_string()
}

fn records(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A CSV cell as the CSV output writes numbers and names.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    // The tests' ids, names and messages hold no newlines, so rows are lines.
    text.lines()
        .map(|line| {
            let mut cells = Vec::new();
            let mut cell = String::new();
            let mut quoted = false;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        cell.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => cells.push(std::mem::take(&mut cell)),
                    (c, _) => cell.push(c),
                }
            }
            cells.push(cell);
            cells
        })
        .collect()
}

/// Reference cases of a network as JSON lines and as CSV (one column per variable that some
/// case observes; soft evidence as `L1;L2;...`).
fn reference_inputs(reference: &Value) -> (String, String) {
    let cases = reference["cases"].as_array().unwrap();
    let mut jsonl = String::new();
    let mut columns: Vec<String> = Vec::new();
    for case in cases {
        let line = serde_json::json!({
            "id": case["id"],
            "evidence": case["evidence"],
            "soft_evidence": case["soft_evidence"],
        });
        jsonl.push_str(&format!("{line}\n"));
        for part in ["evidence", "soft_evidence"] {
            for var in case[part].as_object().unwrap().keys() {
                if !columns.contains(var) {
                    columns.push(var.clone());
                }
            }
        }
    }
    let mut csv = format!("id,{}\n", columns.join(","));
    for case in cases {
        let cells: Vec<String> = columns
            .iter()
            .map(|var| {
                if let Some(state) = case["evidence"].get(var) {
                    state.as_str().unwrap().to_string()
                } else if let Some(values) = case["soft_evidence"].get(var) {
                    let values: Vec<String> = values
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_f64().unwrap().to_string())
                        .collect();
                    values.join(";")
                } else {
                    String::new()
                }
            })
            .collect();
        csv.push_str(&format!("{},{}\n", case["id"], cells.join(",")));
    }
    (jsonl, csv)
}

#[track_caller]
fn assert_close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9, "{what}: {a} vs {b}");
}

#[test]
fn jsonl_and_csv_match_the_reference_posteriors() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared is not there");
        return;
    };
    let dir = TempDir::new("refs");
    for name in ["asia", "sachs", "alarm", "child", "insurance", "hepar2"] {
        let reference = read_json(&shared.join(format!("refs/{name}.json")));
        let network = text_of(&shared.join(format!("networks/{name}.bif")));
        let (jsonl, csv) = reference_inputs(&reference);
        let jsonl_in = dir.write("cases.jsonl", &jsonl);
        let csv_in = dir.write("cases.csv", &csv);
        let expected = reference["cases"].as_array().unwrap();

        // JSON lines in, JSON lines out.
        let out = text_of(&dir.path("out.jsonl"));
        let args = ["update", &network, "--cases", &jsonl_in, "--out", &out];
        expect(
            credence(&[&args[..], &["--engine", "jt", "-q"]].concat()),
            0,
        );
        let got = records(&dir.read("out.jsonl"));
        assert_eq!(got.len(), expected.len(), "{name}");
        for (record, case) in got.iter().zip(expected) {
            assert_eq!(record["id"], case["id"]);
            let what = format!("{name} case {}", case["id"]);
            assert_close(
                record["log_p_evidence"].as_f64().unwrap(),
                case["log_p_evidence"].as_f64().unwrap(),
                &what,
            );
            for (var, states) in case["posteriors"].as_object().unwrap() {
                for (state, p) in states.as_object().unwrap() {
                    assert_close(
                        record["posteriors"][var][state].as_f64().unwrap(),
                        p.as_f64().unwrap(),
                        &format!("{what} {var}={state}"),
                    );
                }
            }
        }

        // CSV in, CSV out: the same numbers, one column per state.
        let out = text_of(&dir.path("out.csv"));
        let args = ["update", &network, "--cases", &csv_in, "--out", &out];
        expect(
            credence(&[&args[..], &["--engine", "jt", "-q"]].concat()),
            0,
        );
        let rows = parse_csv(&dir.read("out.csv"));
        let header = &rows[0];
        assert_eq!(header[0], "id");
        assert_eq!(header[1], "log_p_evidence");
        assert_eq!(header.last().unwrap(), "error");
        assert_eq!(rows.len() - 1, expected.len(), "{name}");
        for (row, case) in rows[1..].iter().zip(expected) {
            assert_eq!(row[0], case["id"].to_string());
            let what = format!("{name} CSV case {}", case["id"]);
            assert_close(
                row[1].parse().unwrap(),
                case["log_p_evidence"].as_f64().unwrap(),
                &what,
            );
            for (column, cell) in header.iter().zip(row).skip(2) {
                let Some((var, state)) = column.split_once('=') else {
                    assert_eq!(cell, "", "{what}: no error");
                    continue;
                };
                assert_close(
                    cell.parse().unwrap(),
                    case["posteriors"][var][state].as_f64().unwrap(),
                    &format!("{what} {column}"),
                );
            }
        }

        // CSV in, JSON lines out gives the JSON-lines numbers (ids are CSV text, so strings).
        let run = expect(
            credence(&[
                "update", &network, "--cases", &csv_in, "--engine", "jt", "-q",
            ]),
            0,
        );
        let from_csv = records(&run.stdout);
        let from_jsonl = records(&dir.read("out.jsonl"));
        for (a, b) in from_csv.iter().zip(&from_jsonl) {
            assert_eq!(a["id"], b["id"].to_string());
            assert_eq!(a["posteriors"], b["posteriors"], "{name}");
            assert_eq!(a["log_p_evidence"], b["log_p_evidence"], "{name}");
        }
    }
}

#[test]
fn bad_rows_become_error_records_and_the_rest_go_on() {
    let dir = TempDir::new("bad-rows");
    let jsonl = dir.write(
        "cases.jsonl",
        "{\"id\": \"ok\", \"evidence\": {\"smoke\": \"yes\"}}\n\
         {\"id\": \"var\", \"evidence\": {\"smok\": \"yes\"}}\n\
         {\"id\": \"state\", \"evidence\": {\"smoke\": \"often\"}}\n\
         {\"id\": \"json\", \"evidence\": \n\
         {\"id\": \"impossible\", \"evidence\": {\"tub\": \"yes\", \"either\": \"no\"}}\n\
         {\"id\": \"last\"}\n",
    );
    let mut bytes = std::fs::read(&jsonl).unwrap();
    bytes.extend_from_slice(b"{\"id\": \"\xff\"}\n");
    std::fs::write(&jsonl, bytes).unwrap();
    let run = expect(
        credence(&["update", ASIA, "--cases", &jsonl, "-t", "lung"]),
        1,
    );
    let got = records(&run.stdout);
    // A line that is not JSON has no readable id: its line number stands in.
    let ids: Vec<Value> = got.iter().map(|r| r["id"].clone()).collect();
    let expected: Vec<Value> = ["ok", "var", "state"]
        .into_iter()
        .map(Value::from)
        .chain([Value::from(4), "impossible".into(), "last".into(), 7.into()])
        .collect();
    assert_eq!(ids, expected);
    let error = |i: usize| got[i]["error"].as_str().unwrap_or("").to_string();
    assert!(got[0]["posteriors"]["lung"]["yes"].is_f64());
    assert!(
        error(1).starts_with("unknown variable 'smok'"),
        "{}",
        error(1)
    );
    assert!(error(2).contains("no state 'often'"), "{}", error(2));
    assert!(error(3).starts_with("malformed JSON"), "{}", error(3));
    assert!(
        error(4).starts_with("evidence is impossible"),
        "{}",
        error(4)
    );
    assert!(got[5]["posteriors"]["lung"]["yes"].is_f64());
    assert!(error(6).contains("not UTF-8"), "{}", error(6));
    for line in 2..=5 {
        let prefix = format!("{jsonl}:{line}: ");
        assert!(
            run.stderr.lines().any(|l| l.starts_with(&prefix)),
            "no '{prefix}' in\n{}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("7 cases, 5 failed"), "{}", run.stderr);

    // CSV: a wrong number of cells, an unknown state, a bad likelihood; the error column.
    let csv = dir.write(
        "cases.csv",
        "id,smoke,xray\na,yes,\nb,yes\nc,often,\nd,,0.9;x\ne,,0.9;0.2\n",
    );
    let out = text_of(&dir.path("out.csv"));
    let run = expect(
        credence(&["update", ASIA, "--cases", &csv, "--out", &out, "-t", "lung"]),
        1,
    );
    let rows = parse_csv(&dir.read("out.csv"));
    assert_eq!(
        rows[0],
        ["id", "log_p_evidence", "lung=yes", "lung=no", "error"]
    );
    let errors: Vec<&str> = rows[1..].iter().map(|r| r[4].as_str()).collect();
    assert_eq!(errors[0], "");
    assert_eq!(errors[1], "expected 3 cells as in the header, found 2");
    assert!(errors[2].contains("no state 'often'"), "{}", errors[2]);
    assert!(errors[3].contains("separated by ';'"), "{}", errors[3]);
    assert_eq!(errors[4], "");
    assert!(rows[2][1].is_empty() && rows[5][1].parse::<f64>().is_ok());
    assert!(
        run.stderr.contains(&format!("{csv}:3: expected 3 cells")),
        "{}",
        run.stderr
    );

    // A header naming no variable of the network fails the run before anything is written.
    let csv = dir.write("header.csv", "id,smok\n1,yes\n");
    let out = text_of(&dir.path("header-out.csv"));
    let run = expect(
        credence(&["update", ASIA, "--cases", &csv, "--out", &out]),
        1,
    );
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.contains("unknown variable 'smok'"),
        "{}",
        run.stderr
    );
    assert!(!dir.file_names().iter().any(|n| n.starts_with("header-out")));
}

/// Alarm cases with a few observations each, some repeated, some impossible.
fn alarm_cases(n: usize) -> String {
    let network = credence::io::read_network(repo().join(ALARM)).unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let mut text = String::new();
    for i in 0..n {
        if i % 5 == 4 {
            // Real batches repeat rows.
            text.push_str(&format!(
                "{{\"id\": {i}, \"evidence\": {{\"HRBP\": \"HIGH\"}}}}\n"
            ));
            continue;
        }
        let mut items = Vec::new();
        for _ in 0..1 + next(4) {
            let var = credence::VarId::new(next(network.n_variables()));
            let variable = network.variable(var);
            let state = &variable.states()[next(variable.cardinality())];
            items.push(format!("\"{}\": \"{state}\"", variable.name()));
        }
        items.dedup();
        text.push_str(&format!(
            "{{\"id\": {i}, \"evidence\": {{{}}}}}\n",
            items.join(", ")
        ));
    }
    text
}

#[test]
fn output_order_is_input_order_on_any_number_of_threads() {
    let dir = TempDir::new("order");
    let input = dir.write("cases.jsonl", &alarm_cases(3000));
    let run = |threads: &str, cache: &str| {
        credence(&[
            "update",
            ALARM,
            "--cases",
            &input,
            "--threads",
            threads,
            "--cache-size",
            cache,
            "-t",
            "HYPOVOLEMIA",
            "-t",
            "LVFAILURE",
            "-q",
        ])
    };
    let one = run("1", "0");
    let ids: Vec<Value> = records(&one.stdout)
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(ids, (0..3000).map(Value::from).collect::<Vec<_>>());
    for (threads, cache) in [("4", "0"), ("3", "4096"), ("2", "2")] {
        let many = run(threads, cache);
        assert_eq!(many.code, one.code);
        assert!(
            many.stdout == one.stdout,
            "--threads {threads} --cache-size {cache} changed the output"
        );
    }
}

#[test]
fn strict_stops_at_the_first_bad_row_and_resume_continues_after_the_fix() {
    let dir = TempDir::new("strict");
    let good = "{\"id\": 1, \"evidence\": {\"smoke\": \"yes\"}}\n\
                {\"id\": 2, \"evidence\": {\"xray\": \"yes\"}}\n";
    let input = dir.write(
        "cases.jsonl",
        &format!("{good}{{\"id\": 3, \"evidence\": {{\"smok\": \"no\"}}}}\n{{\"id\": 4}}\n"),
    );
    let out = text_of(&dir.path("out.jsonl"));
    let run = expect(
        credence(&["update", ASIA, "--cases", &input, "--out", &out, "--strict"]),
        1,
    );
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with(&format!("error: {input}:3: unknown variable 'smok'")),
        "{}",
        run.stderr
    );
    assert!(lines[0].contains("--resume"), "{}", run.stderr);
    // No output that looks complete; the two results before the bad row are kept.
    assert_eq!(dir.file_names(), ["cases.jsonl", "out.jsonl.partial"]);
    assert_eq!(records(&dir.read("out.jsonl.partial")).len(), 2);

    // Fix the row and continue: the same output as a clean run.
    let fixed =
        format!("{good}{{\"id\": 3, \"evidence\": {{\"smoke\": \"no\"}}}}\n{{\"id\": 4}}\n");
    dir.write("cases.jsonl", &fixed);
    let run = expect(
        credence(&[
            "update", ASIA, "--cases", &input, "--out", &out, "--strict", "--resume",
        ]),
        0,
    );
    assert!(
        run.stderr
            .contains("4 cases (2 from the earlier run), 0 failed"),
        "{}",
        run.stderr
    );
    assert_eq!(dir.file_names(), ["cases.jsonl", "out.jsonl"]);
    let clean = expect(credence(&["update", ASIA, "--cases", &input, "-q"]), 0);
    assert_eq!(dir.read("out.jsonl"), clean.stdout);
}

#[test]
fn resume_after_an_interruption_gives_the_uninterrupted_output() {
    let dir = TempDir::new("resume");
    let text = alarm_cases(2000);
    let input = dir.write("cases.jsonl", &text);
    let full = expect(credence(&["update", ALARM, "--cases", &input, "-q"]), 1).stdout;

    // A real interruption: the cases come on standard input, which stops after half of
    // them; once results are on disk the process is killed.
    let out = dir.path("out.jsonl");
    let partial = dir.path("out.jsonl.partial");
    let mut child = Command::new(env!("CARGO_BIN_EXE_credence"))
        .args([
            "update",
            ALARM,
            "--cases",
            "-",
            "--out",
            &text_of(&out),
            "-q",
        ])
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let half: String = text.lines().take(1000).map(|l| format!("{l}\n")).collect();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(half.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(&partial).map_or(0, |t| t.lines().count()) < 500 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no results on disk"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
    assert!(
        !out.exists(),
        "an interrupted run leaves no output that looks complete"
    );
    let run = expect(
        credence(&[
            "update",
            ALARM,
            "--cases",
            &input,
            "--out",
            &text_of(&out),
            "--resume",
        ]),
        1,
    );
    assert!(run.stderr.contains("2000 cases ("), "{}", run.stderr);
    assert!(
        std::fs::read_to_string(&out).unwrap() == full,
        "resumed output differs"
    );
    assert!(!partial.exists());

    // An interruption in the middle of a line, in CSV: the cut line is answered again.
    let csv_out = text_of(&dir.path("out.csv"));
    expect(
        credence(&["update", ALARM, "--cases", &input, "--out", &csv_out, "-q"]),
        1,
    );
    let full_csv = dir.read("out.csv");
    let cut = full_csv.len() * 2 / 3;
    dir.write("out.csv.partial", &full_csv[..cut]);
    std::fs::remove_file(dir.path("out.csv")).unwrap();
    let args = [
        "update", ALARM, "--cases", &input, "--out", &csv_out, "--resume", "-q",
    ];
    expect(credence(&args), 1);
    assert!(dir.read("out.csv") == full_csv, "resumed CSV differs");

    // A partial file from other input is refused, not silently merged.
    dir.write("out.csv.partial", &full_csv[..cut]);
    let other = dir.write(
        "other.jsonl",
        &text.replace("\"id\": 7,", "\"id\": \"seven\","),
    );
    let args = [
        "update", ALARM, "--cases", &other, "--out", &csv_out, "--resume",
    ];
    let run = expect(credence(&args), 1);
    assert!(
        run.stderr
            .contains("cannot resume: case 8 of the input (line 8) has id seven"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------------------------------------
// Remote mode

struct Server {
    address: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<()>,
    _dir: TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = TempDir::new("server");
        for name in ["asia", "alarm"] {
            std::fs::copy(
                repo().join(format!("networks/{name}.bif")),
                dir.path(&format!("{name}.bif")),
            )
            .unwrap();
        }
        let (shared, problems) = service::open(&service::Config::new(&dir.0)).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            service::serve(listener, shared, shutdown, Duration::from_secs(5))
                .await
                .unwrap();
        });
        Server {
            address,
            stop: Some(stop),
            handle,
            _dir: dir,
        }
    }

    async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        (&mut self.handle).await.unwrap();
    }
}

async fn credence_async(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || {
        credence(&args.iter().map(String::as_str).collect::<Vec<_>>())
    })
    .await
    .unwrap()
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_mode_writes_what_local_mode_writes() {
    let server = Server::start().await;
    let dir = TempDir::new("remote");
    let mut text = alarm_cases(400);
    text.push_str("{\"id\": \"bad\", \"evidence\": {\"HRBP\": \"SKY\"}}\nnot json\n");
    text.push_str("{\"id\": \"soft\", \"soft_evidence\": {\"CO\": [0.2, 0.3, 0.5]}}\n");
    let input = dir.write("cases.jsonl", &text);
    let csv = dir.write("cases.csv", "id,HRBP,CO\na,HIGH,\nb,,0.2;0.3;0.5\nc,SKY,\n");
    for (cases, extra) in [
        (&input, &["--output-format", "jsonl"][..]),
        (&input, &["--output-format", "csv", "-t", "LVFAILURE"][..]),
        (&csv, &[][..]),
        (
            &input,
            &["--engine", "lw", "--samples", "2000", "--seed", "3"][..],
        ),
        (&input, &["--engine", "ve", "-t", "HYPOVOLEMIA"][..]),
    ] {
        let common = [&["update", "--cases", cases.as_str(), "-q"][..], extra].concat();
        let local = credence_async(strings(&[&common[..], &[ALARM]].concat())).await;
        let remote = credence_async(strings(
            &[
                &common[..],
                &["--server", &server.address, "--network", "alarm"],
            ]
            .concat(),
        ))
        .await;
        assert_eq!(local.code, 1, "{extra:?}: {}", local.stderr);
        assert_eq!(remote.code, 1, "{extra:?}: {}", remote.stderr);
        assert!(!local.stdout.is_empty());
        if local.stdout != remote.stdout {
            for (l, r) in local.stdout.lines().zip(remote.stdout.lines()) {
                assert_eq!(l, r, "{extra:?}: the first differing record");
            }
        }
        assert_eq!(local.stdout.lines().count(), remote.stdout.lines().count());
    }

    // Remote mode writes files, and resumes, as local mode does.
    let out = text_of(&dir.path("out.jsonl"));
    let remote_args = ["--server", server.address.as_str(), "--network", "alarm"];
    let args = [
        &["update", "--cases", &input, "--out", &out, "-q"][..],
        &remote_args,
    ]
    .concat();
    expect(credence_async(strings(&args)).await, 1);
    let full = dir.read("out.jsonl");
    dir.write("out.jsonl.partial", &full[..full.len() / 2]);
    std::fs::remove_file(dir.path("out.jsonl")).unwrap();
    expect(
        credence_async(strings(&[&args[..], &["--resume"]].concat())).await,
        1,
    );
    assert!(
        dir.read("out.jsonl") == full,
        "resumed remote output differs"
    );

    // Unknown networks and targets, and a server that is not there, are one clear sentence.
    let run = credence_async(strings(&[
        "update",
        "--cases",
        &input,
        "--server",
        &server.address,
        "--network",
        "nope",
    ]))
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no network named 'nope'"),
        "{}",
        run.stderr
    );
    let run = credence_async(strings(&[
        "update",
        "--cases",
        &input,
        "--server",
        &server.address,
        "--network",
        "alarm",
        "-t",
        "HYPO",
    ]))
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("unknown variable 'HYPO'"),
        "{}",
        run.stderr
    );
    server.shutdown().await;
    let run = credence_async(strings(&[
        "update",
        "--cases",
        &input,
        "--server",
        "http://127.0.0.1:9",
        "--network",
        "alarm",
    ]))
    .await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.starts_with("error: cannot connect to"),
        "{}",
        run.stderr
    );
}

/// An output that is not a regular file (a FIFO here; `/dev/null` alike) is written directly:
/// renaming a finished partial file onto it would replace it.
#[cfg(unix)]
#[test]
fn special_files_are_written_in_place_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = TempDir::new("fifo");
    let input = dir.write(
        "cases.jsonl",
        "{\"id\": 1}\n{\"id\": 2, \"evidence\": {\"smoke\": \"no\"}}\n",
    );
    let fifo = dir.path("results");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = text_of(&fifo);
    expect(
        credence(&["update", ASIA, "--cases", &input, "--out", &out, "-q"]),
        0,
    );
    let written = reader.join().unwrap();
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    let expected = expect(credence(&["update", ASIA, "--cases", &input, "-q"]), 0).stdout;
    assert_eq!(written, expected);
    assert_eq!(dir.file_names(), ["cases.jsonl", "results"]);
}
