//! The gRPC service (tonic): networks, stateless and streaming queries, evidence sessions with
//! a Watch stream, standard health checking and server reflection.
//!
//! This module is the edge: it is the only part of the library that knows tonic, prost and
//! tokio. It converts wire messages to core types (`convert`), maps every error to a status code
//! in one place (`error`), and runs inference on tokio's blocking pool so the async runtime
//! never stalls on a long query. A network's junction tree is compiled once and shared by all
//! requests; each query gets its own buffers.

mod analysis_api;
mod api;
mod auth;
pub mod convert;
mod error;
mod registry;
mod sessions;
mod store;
mod watch;
mod web;

pub use auth::{Caller, Scope, Tokens};
/// The one mapping between engine kinds and their wire values, for clients in this crate too.
pub use convert::{engine_kind, engine_value};
pub use error::ServiceError;
pub use registry::{LoadedNetwork, Registry};
pub use store::DATABASE_FILE;

use crate::cancel::{CancelToken, Interrupted};
use crate::infer::Budget;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Generated protobuf and gRPC code for `credence.v1`.
pub mod pb {
    #![allow(missing_docs)]
    tonic::include_proto!("credence.v1");

    /// The encoded descriptors of `credence.v1` and its imports, for reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("credence_descriptor");
}

/// How a server is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the operator's networks are loaded from at start (named by their file stems).
    pub networks_dir: PathBuf,
    /// Where the server keeps what it must not lose: the session database, uploaded networks
    /// (under server-chosen names in `networks/`) and every network version sessions may be
    /// bound to (`versions/HASH.bif`).
    pub data_dir: PathBuf,
    /// The junction-tree memory budget.
    pub budget: Budget,
    /// Queries computed at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_concurrent_queries: usize,
    /// Sessions held at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_sessions: usize,
    /// Largest request the server decodes, in bytes; larger ones are refused before they are
    /// decoded.
    pub max_message_bytes: usize,
    /// When set, every call except health needs one of these bearer tokens, and each caller
    /// sees its own sessions. Shared, so that [`Tokens::replace`] takes effect at once.
    pub tokens: Option<Arc<Tokens>>,
    /// When set, the server speaks TLS only: (certificate chain PEM, private key PEM).
    pub tls: Option<(Vec<u8>, Vec<u8>)>,
}

/// The default data directory: `$XDG_DATA_HOME/credence`, else `~/.local/share/credence`,
/// else `credence-data` in the working directory.
pub fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("credence");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/credence"),
        None => PathBuf::from("credence-data"),
    }
}

impl Config {
    /// Serves `networks_dir` with the default data directory, budget and limits, four query
    /// slots per core, no authentication and no TLS.
    pub fn new(networks_dir: impl Into<PathBuf>) -> Config {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Config {
            networks_dir: networks_dir.into(),
            data_dir: default_data_dir(),
            budget: Budget::default(),
            max_concurrent_queries: 4 * cores,
            max_sessions: 10_000,
            max_message_bytes: MAX_MESSAGE_BYTES,
            tokens: None,
            tls: None,
        }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct Shared {
    registry: Registry,
    sessions: sessions::Sessions,
    query_slots: Arc<Semaphore>,
    max_concurrent_queries: usize,
    max_message_bytes: usize,
    tokens: Option<Arc<Tokens>>,
    tls: Option<(Vec<u8>, Vec<u8>)>,
    /// Cancelled when the server starts shutting down; every request's token is its child.
    shutdown: CancelToken,
    /// One computation per session revision, shared by all of its watchers.
    watches: watch::Answers,
}

/// Default largest request: uploads of multi-megabyte networks fit.
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Opens the data directory's store, loads the operator's networks, the uploaded ones and
/// every stored session, returning the shared state and what could not be loaded (each with
/// its reason).
///
/// # Errors
/// A directory cannot be created or read, or the store cannot be opened (e.g. another server
/// holds it).
pub fn open(config: &Config) -> Result<(Arc<Shared>, Vec<String>), ServiceError> {
    let store = Arc::new(store::Store::open(&config.data_dir)?);
    let (registry, mut problems) = Registry::open(
        &config.networks_dir,
        &config.data_dir.join("networks"),
        &config.data_dir.join("versions"),
        store.clone(),
        config.budget,
    )?;
    let (sessions, notes) = sessions::Sessions::load(store, &registry, config.max_sessions)?;
    problems.extend(notes);
    let shared = Shared {
        registry,
        sessions,
        query_slots: Arc::new(Semaphore::new(config.max_concurrent_queries)),
        max_concurrent_queries: config.max_concurrent_queries,
        max_message_bytes: config.max_message_bytes,
        tokens: config.tokens.clone(),
        tls: config.tls.clone(),
        shutdown: CancelToken::new(),
        watches: watch::Answers::new(config.max_concurrent_queries),
    };
    Ok((Arc::new(shared), problems))
}

impl Shared {
    /// Names of the networks served.
    pub fn network_names(&self) -> Vec<String> {
        self.registry
            .list()
            .iter()
            .map(|n| n.name.clone())
            .collect()
    }
}

/// Flow control of each stream: small enough that a stalled stream's buffered frames stay
/// well within h2's budget for small DATA frames (see [`http2_settings`]), large enough for
/// uploads at local-network speed.
pub const STREAM_WINDOW_BYTES: u32 = 64 << 10;

/// Flow control of a connection: h2 allows half of it in framing overhead of small frames.
pub const CONNECTION_WINDOW_BYTES: u32 = 4 << 20;

/// HTTP/2 settings for long streams of small messages.
///
/// h2 closes a connection with GOAWAY `ENHANCE_YOUR_CALM` ("too many data frames") when the
/// small DATA frames it buffers unread cost more than half the connection window in overhead
/// (256 bytes counted per frame). A `BatchQuery` client sends one small frame per case, faster
/// than cases are answered; with the default 1 MiB stream window about 4,000 tiny cases could
/// wait in h2's buffer and the budget ran out. Now `BatchQuery` reads cases as they come into
/// its own bounded queue (so h2's buffer drains), and a stream's window is small enough that
/// even when that queue is full, a stream's unread frames cost at most about a third of the
/// budget. Keepalive pings find dead peers of long streams.
fn http2_settings(builder: tonic::transport::Server) -> tonic::transport::Server {
    builder
        .initial_stream_window_size(STREAM_WINDOW_BYTES)
        .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
        .http2_adaptive_window(Some(false))
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(std::time::Duration::from_secs(20)))
        // A client that cancels many calls at once (deadlines on a burst of queries) resets
        // many streams before they are accepted; hyper's default of 20 cut such clients off.
        // Still low enough to stop a rapid-reset flood (CVE-2023-44487) early.
        .http2_max_pending_accept_reset_streams(Some(100))
        .max_concurrent_streams(Some(1_000))
}

/// Serves on `listener` until `shutdown` completes, then reports NOT_SERVING, stops accepting,
/// and returns once the calls in flight have finished, or after `grace` at the latest.
///
/// # Errors
/// A transport failure.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send,
    grace: std::time::Duration,
) -> Result<(), tonic::transport::Error> {
    use pb::analysis_service_server::AnalysisServiceServer;
    use pb::inference_service_server::InferenceServiceServer;
    use pb::network_service_server::NetworkServiceServer;
    use pb::session_service_server::SessionServiceServer;

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<NetworkServiceServer<api::NetworkApi>>()
        .await;
    health
        .set_serving::<InferenceServiceServer<api::InferenceApi>>()
        .await;
    health
        .set_serving::<SessionServiceServer<api::SessionApi>>()
        .await;
    health
        .set_serving::<AnalysisServiceServer<analysis_api::AnalysisApi>>()
        .await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1().expect("descriptors are valid");
    // grpcurl 1.8 and Python's reflection client speak only v1alpha.
    let reflection_v1alpha = reflection().build_v1alpha().expect("descriptors are valid");

    let limit = shared.max_message_bytes;
    let networks =
        NetworkServiceServer::new(api::NetworkApi(shared.clone())).max_decoding_message_size(limit);
    let inference = InferenceServiceServer::new(api::InferenceApi(shared.clone()))
        .max_decoding_message_size(limit);
    let analysis = AnalysisServiceServer::new(analysis_api::AnalysisApi(shared.clone()))
        .max_decoding_message_size(limit);
    let sessions =
        SessionServiceServer::new(api::SessionApi(shared.clone())).max_decoding_message_size(limit);

    // The workspace's files answer whatever no service route takes.
    // The four services also speak gRPC-web, for the browser; the layer goes on each service
    // rather than the server, because it answers every other HTTP/1.1 request (the page's
    // files) with 400.
    let web = tonic_web::GrpcWebLayer::new();
    use tower::Layer;
    let mut routes = tonic::service::Routes::builder();
    routes
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(web.layer(networks))
        .add_service(web.layer(inference))
        .add_service(web.layer(sessions))
        .add_service(web.layer(analysis));
    let router = routes.routes().into_axum_router().fallback(web::fallback);
    let routes = tonic::service::Routes::from(router);

    // HTTP/1.1 beside HTTP/2 on one port: browsers reach the page and, through the gRPC-web
    // layer, the same services as every gRPC client.
    let mut builder = http2_settings(tonic::transport::Server::builder().accept_http1(true));
    if let Some((certificate, key)) = &shared.tls {
        builder = builder.tls_config(
            tonic::transport::ServerTlsConfig::new()
                .identity(tonic::transport::Identity::from_pem(certificate, key)),
        )?;
    }
    let (stop_accepting, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = builder
        // Outermost, so nothing but health is reached without a token.
        .layer(auth::AuthLayer::new(shared.tokens.clone()))
        .add_routes(routes)
        // Without TCP_NODELAY, small responses wait for the peer's delayed ACK: ~40 ms a call.
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            async {
                let _ = stopped.await;
            },
        );
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result,
        () = shutdown => {}
    }
    tracing::info!("shutting down: NOT_SERVING, stopping computations, finishing calls");
    // Every computation in flight stops within about 100 ms and answers UNAVAILABLE.
    shared.shutdown.cancel(Interrupted::ShuttingDown);
    health
        .set_not_serving::<NetworkServiceServer<api::NetworkApi>>()
        .await;
    health
        .set_not_serving::<InferenceServiceServer<api::InferenceApi>>()
        .await;
    health
        .set_not_serving::<SessionServiceServer<api::SessionApi>>()
        .await;
    health
        .set_not_serving::<AnalysisServiceServer<analysis_api::AnalysisApi>>()
        .await;
    health
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    let _ = stop_accepting.send(());
    // Long-lived streams (Watch, health watches) never finish on their own; past the grace
    // period they are cut so that shutdown always ends.
    match tokio::time::timeout(grace, &mut server).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                ?grace,
                "calls still open after the grace period; stopping anyway"
            );
            Ok(())
        }
    }
}
