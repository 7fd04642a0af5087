//! `credence update`: many evidence cases, JSON lines or CSV, from a file or standard input,
//! one result per case in input order, locally or through a server.
//!
//! The network is read and compiled once; cases stream through a bounded pipeline (see
//! `pipeline`) answered on all cores, so memory does not grow with the number of cases.
//! Identical evidence is answered once (a small cache). A case that cannot be answered
//! (unknown name, impossible evidence, malformed line) becomes an error record and the run goes
//! on, exit code 1; `--strict` stops at the first one. Results go to `OUT.partial`, renamed to
//! `OUT` when complete; `--resume` continues an interrupted run from what `OUT.partial` holds.

mod cases;
mod output;
mod pipeline;
mod remote;

use super::{EngineArgs, ensure_file, load_network, render, resolve_targets};
use anyhow::{Context, Result, bail};
use cases::{CaseReader, Format, Schema};
use clap::Args;
use output::{Earlier, Layout, partial_path, scan_partial};
use pipeline::{AnswerCache, Local, Progress, Skip, Tally, Writer};
use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

#[derive(Args, Debug)]
#[command(
    after_help = "JSON lines input, one object per line (blank lines are skipped):\n  \
    {\"id\": 1, \"evidence\": {\"smoke\": \"yes\"}, \"soft_evidence\": {\"xray\": [0.9, 0.2]}}\n\
CSV input: a header naming an optional 'id' column and one column per observed variable;\n\
an empty cell is unobserved, a state name is hard evidence, and numbers separated by ';'\n\
(one per state, e.g. 0.9;0.2) are soft evidence:\n  \
    id,smoke,xray\n  \
    1,yes,0.9;0.2\n\
JSON lines output, one line per case in input order:\n  \
    {\"id\": 1, \"engine\": \"jt\", \"log_p_evidence\": -0.69, \"posteriors\": {\"asia\": {\"yes\": 0.01, \"no\": 0.99}, ...}}\n\
    (sampling engines add \"stderr\", \"intervals\" and \"sampling\"; --engine auto adds \"engine_reason\")\n\
  or, for a case that failed:\n  \
    {\"id\": 1, \"error\": \"unknown variable 'smok' (did you mean 'smoke'? ...)\"}\n\
CSV output: id,log_p_evidence,VAR=STATE...,error with one column per target state.\n\
A missing id is replaced by the line number. Formats follow the file extension (.csv is CSV,\n\
anything else JSON lines) unless --input-format/--output-format say otherwise.\n\
Exit code 1 if any case failed (its error record is in the output).\n\
Results are written to OUT.partial and renamed to OUT when complete; after an interruption,\n\
the same command with --resume continues where it stopped."
)]
pub struct UpdateArgs {
    /// Network file (.bif, or .xml/.xmlbif for XMLBIF); with --server, name it with --network.
    #[arg(required_unless_present = "server", conflicts_with = "server")]
    network: Option<PathBuf>,

    /// Evidence cases, JSON lines or CSV ('-' for standard input).
    #[arg(long, value_name = "FILE")]
    cases: PathBuf,

    /// Where to write the results ('-' for standard output).
    #[arg(long, value_name = "FILE", default_value = "-")]
    out: PathBuf,

    /// Format of the cases [default: from the extension; JSON lines for standard input].
    #[arg(long, value_enum, value_name = "FORMAT")]
    input_format: Option<Format>,

    /// Format of the results [default: from the extension; JSON lines for standard output].
    #[arg(long, value_enum, value_name = "FORMAT")]
    output_format: Option<Format>,

    /// Variables to report [default: all]. Repeat for several.
    #[arg(short = 't', long = "target", value_name = "VAR")]
    targets: Vec<String>,

    /// Stop at the first case that fails (exit 1), keeping the results before it in
    /// OUT.partial for --resume.
    #[arg(long)]
    strict: bool,

    /// Continue an interrupted run: keep the results in OUT.partial and answer the rest.
    #[arg(long)]
    resume: bool,

    /// Answers kept for repeated evidence (0: none).
    #[arg(long, value_name = "N", default_value_t = 4096)]
    cache_size: usize,

    /// Send the cases to a credence server (its streaming batch call) instead of computing
    /// here, e.g. http://127.0.0.1:50051.
    #[arg(long, value_name = "URL", requires = "remote_network")]
    server: Option<String>,

    /// With --server: the name of the network on the server.
    #[arg(long = "network", value_name = "NAME", requires = "server")]
    remote_network: Option<String>,

    /// No progress bar and no summary unless something fails.
    #[arg(short, long)]
    quiet: bool,

    #[command(flatten)]
    engine: EngineArgs,
}

/// Cases per chunk: large enough that handing chunks around costs nothing next to answering
/// them, small enough that a slow case does not hold up many others. Sampling takes
/// milliseconds per case, so its chunks are small.
fn chunk_size(args: &EngineArgs) -> usize {
    if args.engine.is_sampler() { 4 } else { 64 }
}

fn worker_threads(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    }
}

/// Where results go: the partial file (renamed at the end), standard output, or a path that
/// is not a regular file (`/dev/null`, a FIFO), written directly: renaming a file onto it
/// would replace the device.
enum Destination {
    File { out: PathBuf, partial: PathBuf },
    Stdout,
    Special(PathBuf),
}

pub fn run(args: UpdateArgs) -> Result<ExitCode> {
    let from_stdin = args.cases.as_os_str() == "-";
    let to_stdout = args.out.as_os_str() == "-";
    if !from_stdin {
        ensure_file(&args.cases, "cases file")?;
    }
    if args.resume && to_stdout {
        bail!("--resume needs --out FILE: results on standard output cannot be continued");
    }
    let input_format = args.input_format.unwrap_or(if from_stdin {
        Format::Jsonl
    } else {
        Format::of_path(&args.cases)
    });
    let output_format = args.output_format.unwrap_or(if to_stdout {
        Format::Jsonl
    } else {
        Format::of_path(&args.out)
    });
    let source = if from_stdin {
        "stdin".to_string()
    } else {
        args.cases.display().to_string()
    };
    let open_input = || -> Result<Box<dyn Read + Send>> {
        Ok(if from_stdin {
            Box::new(std::io::stdin())
        } else {
            Box::new(
                std::fs::File::open(&args.cases)
                    .with_context(|| format!("cannot open {}", args.cases.display()))?,
            )
        })
    };
    let input_size = (!from_stdin)
        .then(|| std::fs::metadata(&args.cases).ok().map(|m| m.len()))
        .flatten();
    let show_progress = !args.quiet
        && std::io::stderr().is_terminal()
        && !(to_stdout && std::io::stdout().is_terminal());

    let setup = Setup {
        args: &args,
        input_format,
        output_format,
        source: &source,
        input_size,
        show_progress,
    };
    match (&args.server, &args.remote_network, &args.network) {
        (Some(server), Some(name), _) => remote::run(&setup, server, name, open_input()?),
        (_, _, Some(path)) => run_local(&setup, path, open_input()?),
        _ => bail!("give a network file, or --server URL with --network NAME"),
    }
}

/// Everything a run needs besides its engine.
pub struct Setup<'a> {
    args: &'a UpdateArgs,
    input_format: Format,
    output_format: Format,
    source: &'a str,
    input_size: Option<u64>,
    show_progress: bool,
}

fn run_local(setup: &Setup, path: &Path, input: Box<dyn Read + Send>) -> Result<ExitCode> {
    let args = setup.args;
    let network = load_network(path)?;
    let targets = resolve_targets(&network, &args.targets)?;
    let engine = args.engine.build(network.clone())?;
    let schema = Schema::of_network(network.clone());
    let (reader, csv) = CaseReader::new(input, setup.input_format, &schema, setup.source)?;
    let shown: Vec<usize> = if targets.is_empty() {
        (0..schema.n_variables()).collect()
    } else {
        let mut seen = vec![false; schema.n_variables()];
        targets
            .iter()
            .map(|t| t.index())
            .filter(|&i| !std::mem::replace(&mut seen[i], true))
            .collect()
    };
    let layout = Layout {
        format: setup.output_format,
        columns: columns(&schema, &shown),
    };
    let n_threads = worker_threads(args.engine.threads);
    let chunk = chunk_size(&args.engine);
    let cache = AnswerCache::new(args.cache_size);
    let local = Local {
        engine: engine.as_ref(),
        network: &network,
        targets: &targets,
        schema: &schema,
        csv: csv.as_ref(),
        layout: &layout,
        cache: &cache,
    };
    finish(setup, &layout, |out, progress, skip| {
        // At most `window` chunks exist at once (see `pipeline`).
        let window = 4 * n_threads + 4;
        let (permit_sender, permits) = std::sync::mpsc::sync_channel::<()>(window);
        for _ in 0..window {
            permit_sender.send(()).expect("room for every permit");
        }
        let (job_sender, jobs) = std::sync::mpsc::sync_channel(window);
        let jobs = Mutex::new(jobs);
        let (result_sender, results) = std::sync::mpsc::sync_channel(window);
        let (csv, layout) = (csv.as_ref(), &layout);
        std::thread::scope(|scope| {
            // `move`: the reader owns the job sender, so the workers see the end of the jobs
            // when it returns.
            let reader = scope.spawn(move || {
                let mut sequence = 0u64;
                pipeline::read_cases(reader, csv, layout, skip, chunk, |cases| {
                    if permits.recv().is_err() {
                        return false;
                    }
                    let sent = job_sender.send((sequence, cases)).is_ok();
                    sequence += 1;
                    sent
                })
            });
            for _ in 0..n_threads {
                let sender = result_sender.clone();
                let (local, jobs) = (&local, &jobs);
                scope.spawn(move || local.work(jobs, sender));
            }
            drop(result_sender);
            let mut writer = Writer {
                out,
                progress,
                strict: args.strict,
                source: setup.source,
            };
            let tally = writer.run(results, Some(permit_sender));
            stop_if_strict(setup, progress, tally.as_ref());
            let skipped = reader.join().expect("the reader does not panic")?;
            Ok((skipped, tally?))
        })
    })
}

/// The `VAR=STATE` columns of the variables `shown`.
fn columns(schema: &Schema, shown: &[usize]) -> Vec<(String, String)> {
    shown
        .iter()
        .flat_map(|&v| {
            schema
                .states(v)
                .iter()
                .map(move |s| (schema.name(v).to_string(), s.clone()))
        })
        .collect()
}

/// Ends the process when a `--strict` run met a bad case. The reader may be waiting for input
/// that will never be read (standard input), so it is not waited for; the writer has flushed
/// the results before the bad case.
fn stop_if_strict(setup: &Setup, progress: &Progress, tally: Result<&Tally, &anyhow::Error>) {
    if let Ok(Tally {
        stopped_at: Some(report),
        ..
    }) = tally
    {
        progress.finish();
        std::process::exit(strict_exit(setup, report));
    }
}

/// Says why a `--strict` run stopped; its exit code.
fn strict_exit(setup: &Setup, report: &str) -> i32 {
    let kept = match destination(setup.args) {
        Destination::File { partial, .. } => format!(
            "; the results before it are in {} (fix the case and rerun with --resume)",
            partial.display()
        ),
        Destination::Stdout | Destination::Special(_) => String::new(),
    };
    eprintln!("error: {report} (stopped by --strict){kept}");
    1
}

fn destination(args: &UpdateArgs) -> Destination {
    if args.out.as_os_str() == "-" {
        Destination::Stdout
    } else if std::fs::metadata(&args.out).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        Destination::Special(args.out.clone())
    } else {
        Destination::File {
            out: args.out.clone(),
            partial: partial_path(&args.out),
        }
    }
}

/// Opens the output (resuming if asked), runs `pipeline` into it, then renames the partial
/// file into place and prints the summary.
///
/// `pipeline` gets the output, the progress bar and what to skip, and returns the number of
/// cases skipped and what the writer did.
fn finish(
    setup: &Setup,
    layout: &Layout,
    pipeline: impl FnOnce(&mut dyn Write, &mut Progress, Option<Skip>) -> Result<(u64, Tally)>,
) -> Result<ExitCode> {
    let args = setup.args;
    let destination = destination(args);
    let mut earlier = Earlier::default();
    let mut skip = None;
    let sink: Box<dyn Write> = match &destination {
        Destination::Stdout => Box::new(std::io::stdout().lock()),
        Destination::Special(path) => {
            if args.resume {
                bail!(
                    "--resume needs a regular file to continue, and {} is not one",
                    path.display()
                );
            }
            Box::new(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?,
            )
        }
        Destination::File { partial, .. } => {
            let shown = partial.display().to_string();
            if args.resume && partial.exists() {
                earlier = scan_partial(partial, layout)?;
                skip = Some(Skip {
                    n_cases: earlier.n_records,
                    ids: output::partial_ids(partial, layout.format)?,
                    partial: shown.clone(),
                });
            }
            Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(args.resume)
                    .truncate(!args.resume)
                    .open(partial)
                    .with_context(|| format!("cannot create {shown}"))?,
            )
        }
    };
    let mut out = BufWriter::with_capacity(1 << 16, sink);
    if !earlier.has_header
        && let Some(header) = layout.header()
    {
        out.write_all(header.as_bytes())?;
    }
    let mut progress = Progress::new(setup.show_progress, setup.input_size);
    let result = pipeline(&mut out, &mut progress, skip);
    progress.finish();
    let flushed = out.flush();
    drop(out);
    let (skipped, tally) = match result.and_then(|r| flushed.map(|()| r).map_err(Into::into)) {
        Ok(done) => done,
        Err(error) => {
            if let Destination::File { partial, .. } = &destination {
                return Err(error.context(format!(
                    "the results so far are in {} (rerun with --resume to continue)",
                    partial.display()
                )));
            }
            return Err(error);
        }
    };
    if let Some(report) = &tally.stopped_at {
        return Ok(ExitCode::from(strict_exit(setup, report) as u8));
    }
    if let Destination::File { out, partial } = &destination {
        std::fs::rename(partial, out)
            .with_context(|| format!("cannot move the results into {}", out.display()))?;
    }
    let n_failed = earlier.n_failed + tally.n_failed;
    let n_cases = skipped + tally.n_cases;
    if !args.quiet || n_failed > 0 {
        let seconds = progress.elapsed().as_secs_f64();
        let rate = tally.n_cases as f64 / seconds.max(1e-9);
        let resumed = if skipped > 0 {
            format!(" ({skipped} from the earlier run)")
        } else {
            String::new()
        };
        let written = match &destination {
            Destination::File { out, .. } | Destination::Special(out) => {
                format!(", written to {}", out.display())
            }
            Destination::Stdout => String::new(),
        };
        eprintln!(
            "credence update: {n_cases} cases{resumed}, {n_failed} failed, {seconds:.3} s ({rate:.0} cases/s){written}"
        );
    }
    Ok(if n_failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
