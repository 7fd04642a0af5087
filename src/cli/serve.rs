//! `credence serve`: the gRPC service, until SIGINT or SIGTERM.

use super::parse_size;
use anyhow::{Context, Result};
use clap::Args;
use credence::infer::Budget;
use credence::service;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args, Debug)]
#[command(
    after_help = "Try it (grpcurl speaks to the server through reflection, no .proto needed):\n  \
    grpcurl -plaintext 127.0.0.1:50051 list\n  \
    grpcurl -plaintext -d '{\"network\": \"asia\", \"evidence\": {\"hard\": {\"smoke\": \"yes\"}}}' \\\n      \
    127.0.0.1:50051 credence.v1.InferenceService/Query\n\
    Logs go to stderr; RUST_LOG=debug shows more."
)]
pub struct ServeArgs {
    /// Directory of networks to serve; uploads are stored here too.
    #[arg(long, default_value = "networks", value_name = "DIR")]
    networks: PathBuf,

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

/// Resolves when the process receives SIGINT (Ctrl-C) or SIGTERM.
async fn termination() {
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (shared, problems) = service::open(&config).with_context(|| {
            format!(
                "cannot open the networks directory {}",
                args.networks.display()
            )
        })?;
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
            "credence serving"
        );
        // Scripts and tests read this line to find the port.
        println!("listening on {address}");
        let grace = std::time::Duration::from_secs_f64(args.shutdown_grace.max(0.0));
        service::serve(listener, shared, termination(), grace).await?;
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}
