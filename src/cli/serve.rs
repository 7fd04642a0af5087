//! `credence serve`: the gRPC service, until SIGINT or SIGTERM.

use super::parse_size;
use anyhow::{Context, Result};
use clap::Args;
use credence::infer::Budget;
use credence::service;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args, Debug)]
#[command(
    after_help = "Try it (grpcurl speaks to the server through reflection, no .proto needed):\n  \
    grpcurl -plaintext 127.0.0.1:50051 list\n  \
    grpcurl -plaintext -d '{\"network\": \"asia\", \"evidence\": {\"hard\": {\"smoke\": \"yes\"}}}' \\\n      \
    127.0.0.1:50051 credence.v1.InferenceService/Query\n\
    Logs go to stderr; RUST_LOG=debug shows more."
)]
pub struct ServeArgs {
    /// Directory of networks to serve, each named by its file stem (read at start).
    #[arg(long, default_value = "networks", value_name = "DIR")]
    networks: PathBuf,

    /// Where sessions (a SQLite database) and uploaded networks are kept
    /// [default: $XDG_DATA_HOME/credence or ~/.local/share/credence].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Require a bearer token on every call except health. One token per line: 'TOKEN NAME
    /// SCOPES' (scopes comma separated from read, write, networks, admin) or a bare 'TOKEN'
    /// (every scope); '#' starts a comment. Reloaded on SIGHUP. Bare tokens may also come from
    /// CREDENCE_TOKENS (comma or space separated).
    #[arg(long, value_name = "FILE")]
    tokens_file: Option<PathBuf>,

    /// Serve TLS only, with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,

    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// Sessions held at once; more are answered RESOURCE_EXHAUSTED.
    #[arg(long, default_value = "10000", value_name = "N")]
    max_sessions: usize,

    /// Largest request accepted, e.g. 64MiB (uploads must fit).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64MiB")]
    max_message_size: u64,

    /// Address to listen on (port 0 picks a free one; the chosen address is logged).
    #[arg(long, default_value = "127.0.0.1:50051")]
    addr: SocketAddr,

    /// Refuse junction trees larger than this, e.g. 512MiB, 8GiB
    /// [default: a quarter of physical memory].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory_budget: Option<u64>,

    /// Queries computed at once; more are answered RESOURCE_EXHAUSTED [default: 4 per core].
    #[arg(long, value_name = "N")]
    max_concurrent_queries: Option<usize>,

    /// On SIGINT/SIGTERM, how long calls in flight may take to finish before the server stops
    /// anyway (long-lived Watch streams are cut then).
    #[arg(long, default_value = "10", value_name = "SECONDS")]
    shutdown_grace: f64,
}

/// The tokens of --tokens-file and CREDENCE_TOKENS together, or `None` when neither is set.
fn tokens(file: Option<&Path>) -> Result<Option<service::Tokens>> {
    let mut tokens = None;
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the tokens file {}", path.display()))?;
        tokens = Some(
            service::Tokens::parse_file(&text, &path.display().to_string())
                .map_err(anyhow::Error::msg)?,
        );
    }
    if let Ok(list) = std::env::var("CREDENCE_TOKENS") {
        let listed =
            service::Tokens::parse_list(&list, "CREDENCE_TOKENS").map_err(anyhow::Error::msg)?;
        match &tokens {
            Some(tokens) => tokens.extend(listed).map_err(anyhow::Error::msg)?,
            None => tokens = Some(listed),
        }
    }
    Ok(tokens)
}

/// On every SIGHUP, reads the tokens again and puts them in place of `active` for the calls
/// that follow; a file that does not parse is logged and the old tokens stay.
#[cfg(unix)]
fn reload_on_hangup(file: Option<PathBuf>, active: Option<Arc<service::Tokens>>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    // Installed even without tokens: SIGHUP's default action would end the server.
    let mut hangup = signal(SignalKind::hangup()).context("cannot install a SIGHUP handler")?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            let Some(active) = &active else {
                tracing::warn!(
                    "SIGHUP: this server runs without authentication; restart it with --tokens-file to turn it on"
                );
                continue;
            };
            match tokens(file.as_deref()) {
                Ok(Some(new)) => {
                    let count = new.len();
                    active.replace(new);
                    tracing::info!(tokens = count, "SIGHUP: tokens reloaded");
                }
                Ok(None) => tracing::warn!(
                    "SIGHUP: no tokens are configured any more; the old ones stay (authentication is turned off only by a restart)"
                ),
                Err(error) => {
                    tracing::warn!("SIGHUP: tokens not reloaded, the old ones stay: {error:#}")
                }
            }
        }
    });
    Ok(())
}

/// Resolves when the process receives SIGINT (Ctrl-C) or SIGTERM, and from then on makes sure
/// the process ends: if it is still running `grace` plus a margin later (a computation that
/// does not stop, a blocking call that does not return), it exits with status 1.
async fn termination(grace: std::time::Duration) {
    signalled().await;
    let limit = grace + std::time::Duration::from_secs(2);
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!(
            "credence: still running {:.1} s after the shutdown signal; exiting now",
            limit.as_secs_f64()
        );
        std::process::exit(1);
    });
}

/// Resolves when the process receives SIGINT (Ctrl-C) or SIGTERM.
async fn signalled() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for people; log files and CI get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut config = service::Config::new(&args.networks);
    if let Some(max_bytes) = args.memory_budget {
        config.budget = Budget { max_bytes };
    }
    if let Some(n) = args.max_concurrent_queries {
        config.max_concurrent_queries = n.max(1);
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    config.max_sessions = args.max_sessions.max(1);
    config.max_message_bytes = usize::try_from(args.max_message_size).unwrap_or(usize::MAX);
    config.tokens = tokens(args.tokens_file.as_deref())?.map(Arc::new);
    if let (Some(certificate), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let read = |path: &PathBuf, what: &str| {
            std::fs::read(path)
                .with_context(|| format!("cannot read the TLS {what} {}", path.display()))
        };
        config.tls = Some((read(certificate, "certificate")?, read(key, "key")?));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        let (shared, problems) = service::open(&config)?;
        #[cfg(unix)]
        reload_on_hangup(args.tokens_file.clone(), config.tokens.clone())?;
        for problem in problems {
            tracing::warn!("not served: {problem}");
        }
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let address = listener.local_addr()?;
        tracing::info!(
            address = %address,
            networks = %shared.network_names().join(", "),
            data_dir = %config.data_dir.display(),
            tls = config.tls.is_some(),
            authentication = config.tokens.is_some(),
            "credence serving"
        );
        if config.tokens.is_none() && !address.ip().is_loopback() {
            tracing::warn!(
                "listening on a non-loopback address without authentication: anyone who can reach {address} can read and change every session (see --tokens-file)"
            );
        }
        // Scripts and tests read this line to find the port.
        println!("listening on {address}");
        let scheme = if config.tls.is_some() { "https" } else { "http" };
        tracing::info!("the browser workspace is at {scheme}://{address}/");
        let grace = std::time::Duration::from_secs_f64(args.shutdown_grace.max(0.0));
        service::serve(listener, shared, termination(grace), grace).await?;
        tracing::info!("stopped");
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    });
    // Blocking work still running (cancelled, finishing its current step) must not hold the
    // process: dropping the runtime would wait for it.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    result
}
