//! The command line. Parses arguments (clap), resolves names against the network once, calls
//! the library, renders tables or JSON. Exit codes: 0 success, 1 failure, 2 usage error.

mod convert;
mod explain;
mod info;
mod mpe;
mod query;
mod render;
mod sensitivity;
mod serve;
mod timeline;
mod update;
mod voi;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};
use credence::infer::{Budget, SamplingConfig, build_engine};
use credence::{EngineKind, Evidence, InferenceEngine, Network, VarId};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Bayesian belief-network inference: exact posteriors for discrete networks in BIF, XMLBIF,
/// Hugin NET, GeNIe XDSL or UAI.
#[derive(Parser, Debug)]
#[command(
    name = "credence",
    version,
    after_help = "Examples:\n  \
        credence query networks/asia.bif -e smoke=yes\n  \
        credence query networks/alarm.bif -e HRBP=HIGH --soft CO=0.2,0.3,0.5 --target LVFAILURE --json\n  \
        credence query networks/alarm.bif -e HRBP=HIGH --engine lw --samples 1000000 --seed 7\n  \
        credence query networks/child.bif -e LowerBodyO2=<5 --engine epis --precision 0.005 --max-time 10s\n  \
        credence update networks/asia.bif --cases cases.jsonl --out posteriors.jsonl\n  \
        credence update networks/alarm.bif --cases readings.csv --out posteriors.csv --resume\n  \
        credence info networks/child.bif --dot > child.dot\n  \
        credence mpe networks/asia.bif -e dysp=yes --map lung,bronc --json\n  \
        credence query networks/asia.bif --do smoke=no -t lung\n  \
        credence voi networks/asia.bif --target lung -e dysp=yes\n  \
        credence explain networks/asia.bif --target lung -e smoke=yes -e xray=yes\n  \
        credence sensitivity networks/asia.bif --target lung=yes -e xray=yes --top 5\n  \
        credence convert networks/asia.bif asia.xdsl\n  \
        credence timeline networks/sino_russian_partnership.bif \\\n      networks/sino_russian_partnership.timeline.jsonl --target scenario"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Posterior marginals (and ln P(evidence)) given hard and soft evidence.
    Query(query::QueryArgs),
    /// Many evidence cases (JSON lines or CSV) through one network: streaming, on all cores,
    /// resumable, locally or through a server.
    Update(update::UpdateArgs),
    /// Describe a network: variables, arcs, parameters and the junction-tree cost.
    Info(info::InfoArgs),
    /// Apply dated evidence items one by one and show how a target's posterior moves.
    Timeline(timeline::TimelineArgs),
    /// Serve networks over gRPC (queries, batch streams, evidence sessions, analyses) and the
    /// browser workspace on the same port: open http://ADDRESS/ once it listens.
    Serve(serve::ServeArgs),
    /// The most probable joint state of all unobserved variables (MPE), or of a subset (MAP).
    Mpe(mpe::MpeArgs),
    /// What to watch next: rank variables by how much observing them would tell about a target.
    Voi(voi::VoiArgs),
    /// Why a target's posterior moved: each evidence item's impact, and evidence conflict.
    Explain(explain::ExplainArgs),
    /// Which CPT entries a posterior is most sensitive to (derivatives).
    Sensitivity(sensitivity::SensitivityArgs),
    /// Write a network in another format: BIF, XMLBIF, Hugin NET, GeNIe XDSL or UAI.
    Convert(convert::ConvertArgs),
}

/// Hard and soft evidence, as every analysis command takes it.
#[derive(Args, Debug, Clone)]
pub struct EvidenceArgs {
    /// Hard evidence: VAR=STATE. Repeat for several variables.
    #[arg(short = 'e', long = "evidence", value_name = "VAR=STATE", value_parser = parse_assignment)]
    evidence: Vec<(String, String)>,

    /// Soft (likelihood) evidence: VAR=L1,L2,... with one non-negative value per state, in the
    /// order the network declares them; multiplied into the joint distribution.
    #[arg(long = "soft", value_name = "VAR=L1,L2,...", value_parser = parse_likelihood)]
    soft: Vec<(String, Vec<f64>)>,
}

impl EvidenceArgs {
    fn resolve(&self, network: &Network) -> Result<Evidence> {
        build_evidence(network, &self.evidence, &self.soft)
    }
}

/// Options shared by every command that runs an engine.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// Inference engine. auto (the default): the junction tree when it fits the memory budget,
    /// else the sampler that suits the evidence, and the answer says which and why. Exact: jt
    /// (junction tree, compiled once), ve (variable elimination, pruned per query), enum
    /// (brute-force enumeration, small networks only). Sampling, with error bars: lw
    /// (likelihood weighting), gibbs, rejection (forward sampling), epis (EPIS-BN importance
    /// sampling, for unlikely evidence).
    #[arg(long, default_value = "auto", value_parser = parse_engine)]
    engine: EngineKind,

    /// Refuse to compile a junction tree larger than this, e.g. 512MiB, 8GiB
    /// [default: a quarter of physical memory].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory_budget: Option<u64>,

    /// Sampling: sample budget (Gibbs: samples kept over all chains) [default: 100000, or
    /// 100000000 as a cap when --precision or --max-time is given].
    #[arg(long, value_name = "N", help_heading = "Sampling")]
    samples: Option<u64>,

    /// Sampling: seed; the same seed gives bit-identical output on any number of threads.
    #[arg(long, value_name = "S", default_value_t = 0, help_heading = "Sampling")]
    seed: u64,

    /// Sampling: stop once every reported marginal's 95% half-width is below P, e.g. 0.005.
    #[arg(long, value_name = "P", help_heading = "Sampling")]
    precision: Option<f64>,

    /// Sampling: time budget, e.g. 30s, 500ms, 2m (a bare number is seconds).
    #[arg(long, value_name = "T", value_parser = parse_duration, help_heading = "Sampling")]
    max_time: Option<Duration>,

    /// Gibbs: number of chains.
    #[arg(long, value_name = "N", default_value_t = 4, help_heading = "Sampling")]
    chains: usize,

    /// Gibbs: sweeps discarded at the start of each chain.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1000,
        help_heading = "Sampling"
    )]
    burn_in: u64,

    /// Gibbs: sweeps per kept sample.
    #[arg(long, value_name = "N", default_value_t = 1, help_heading = "Sampling")]
    thinning: u64,

    /// Worker threads: sample blocks when sampling, cases in `update` [default: all cores].
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        hide_default_value = true,
        help_heading = "Sampling"
    )]
    threads: usize,
}

fn parse_engine(text: &str) -> Result<EngineKind, String> {
    text.parse()
}

/// Parses `30`, `30s`, `500ms`, `2m`, `1h`, `1.5s`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .len();
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (examples: 30s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1e3,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        other => return Err(format!("unknown time unit '{other}' (use ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("'{text}' is not a duration"))
}

/// Parses `123`, `1.5e9`, `512MiB`, `2GiB`, `100MB`.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    // The unit is the trailing run of letters, so that `1e3` stays a number.
    let split = text
        .trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .len();
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a size (examples: 512MiB, 8GiB, 1e9)"))?;
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        other => {
            return Err(format!(
                "unknown size unit '{other}' (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
            ));
        }
    };
    let bytes = number * multiplier;
    if !bytes.is_finite() || bytes < 0.0 {
        return Err(format!("'{text}' is not a size"));
    }
    Ok(bytes as u64)
}

impl EngineArgs {
    fn budget(&self) -> Budget {
        self.memory_budget
            .map(|max_bytes| Budget { max_bytes })
            .unwrap_or_default()
    }

    fn sampling(&self) -> SamplingConfig {
        // Without a sample budget, a precision or time rule decides, with a cap in case the
        // precision is never reached and no time budget was given.
        let default_samples = if self.precision.is_some() || self.max_time.is_some() {
            100_000_000
        } else {
            100_000
        };
        SamplingConfig {
            n_samples: self.samples.unwrap_or(default_samples),
            seed: self.seed,
            max_time: self.max_time,
            precision: self.precision,
            n_chains: self.chains,
            burn_in: self.burn_in,
            thinning: self.thinning,
            n_threads: self.threads,
        }
    }

    /// Builds the chosen engine once; it then answers every query of the run.
    fn build(&self, network: Arc<Network>) -> Result<Box<dyn InferenceEngine>> {
        Ok(build_engine(
            self.engine,
            network,
            &self.budget(),
            &self.sampling(),
        )?)
    }
}

/// Reads a network file; the error names the file. Columns renormalised beyond the fixed
/// tolerance are reported once, on stderr.
fn load_network(path: &Path) -> Result<Arc<Network>> {
    let network = credence::io::read_network(path)?;
    if let Some(renormalized) = network.renormalized() {
        eprintln!("warning: {}: {renormalized}", path.display());
    }
    Ok(Arc::new(network))
}

/// `VAR=STATE` from `-e`.
fn parse_assignment(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((var, state)) if !var.trim().is_empty() && !state.trim().is_empty() => {
            Ok((var.trim().to_string(), state.trim().to_string()))
        }
        _ => Err(format!("expected VAR=STATE, got '{text}'")),
    }
}

/// `VAR=L1,L2,...` from `--soft`.
fn parse_likelihood(text: &str) -> Result<(String, Vec<f64>), String> {
    let Some((var, values)) = text.split_once('=') else {
        return Err(format!("expected VAR=L1,L2,..., got '{text}'"));
    };
    let values = values
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{v}' in '{text}' is not a number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((var.trim().to_string(), values))
}

/// Resolves named evidence against the network.
fn build_evidence(
    network: &Network,
    hard: &[(String, String)],
    soft: &[(String, Vec<f64>)],
) -> Result<Evidence> {
    let mut evidence = Evidence::new();
    for (var, state) in hard {
        evidence.observe_named(network, var, state)?;
    }
    for (var, values) in soft {
        evidence.add_likelihood_named(network, var, values)?;
    }
    Ok(evidence)
}

fn resolve_targets(network: &Network, names: &[String]) -> Result<Vec<VarId>> {
    names
        .iter()
        .map(|name| Ok(network.variable_id(name)?))
        .collect()
}

fn ensure_file(path: &Path, what: &str) -> Result<()> {
    if !path.exists() {
        bail!("{what} '{}' does not exist", path.display());
    }
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Query(args) => query::run(args),
        Command::Update(args) => update::run(args),
        Command::Info(args) => info::run(args),
        Command::Timeline(args) => timeline::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Mpe(args) => mpe::run(args),
        Command::Voi(args) => voi::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Sensitivity(args) => sensitivity::run(args),
        Command::Convert(args) => convert::run(args),
    }
}

/// Entry point: exit code 0 on success, 1 on failure (one sentence on stderr), 2 for usage.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            // Broken pipes (`credence ... | head`) are not failures worth a message.
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", render::sentence(&error));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2 GB"), Ok(2_000_000_000));
        assert_eq!(parse_size("1e3"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3 fortnights").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn assignments() {
        assert_eq!(parse_assignment("a=b"), Ok(("a".into(), "b".into())));
        assert_eq!(parse_assignment("Age=<5"), Ok(("Age".into(), "<5".into())));
        assert!(parse_assignment("a").is_err());
        assert_eq!(
            parse_likelihood("x=0.5, 1"),
            Ok(("x".into(), vec![0.5, 1.0]))
        );
        assert!(parse_likelihood("x=0.5,y").is_err());
    }
}
