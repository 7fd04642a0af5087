//! The gRPC service (tonic): networks, stateless and streaming queries, evidence sessions with
//! a Watch stream, standard health checking and server reflection.
//!
//! This module is the edge: it is the only part of the library that knows tonic, prost and
//! tokio. It converts wire messages to core types (`convert`), maps every error to a status code
//! in one place (`error`), and runs inference on tokio's blocking pool so the async runtime
//! never stalls on a long query. A network's junction tree is compiled once and shared by all
//! requests; each query gets its own buffers.

mod api;
mod convert;
mod error;
mod registry;
mod sessions;

pub use error::ServiceError;
pub use registry::{LoadedNetwork, Registry};

use crate::infer::Budget;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_stream::wrappers::TcpListenerStream;

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
    /// Where networks are loaded from at start and stored on upload.
    pub networks_dir: PathBuf,
    /// The junction-tree memory budget.
    pub budget: Budget,
    /// Queries computed at once; more are refused with RESOURCE_EXHAUSTED.
    pub max_concurrent_queries: usize,
}

impl Config {
    /// Serves `networks_dir` with the default budget and twice as many query slots as cores.
    pub fn new(networks_dir: impl Into<PathBuf>) -> Config {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Config {
            networks_dir: networks_dir.into(),
            budget: Budget::default(),
            max_concurrent_queries: 4 * cores,
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
}

/// Largest request the server decodes: uploads of multi-megabyte networks fit.
const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Loads the networks of `config.networks_dir`, returning the shared state and the files
/// that could not be loaded (each with its reason).
///
/// # Errors
/// The directory cannot be created or read.
pub fn open(config: &Config) -> std::io::Result<(Arc<Shared>, Vec<String>)> {
    let (registry, problems) = Registry::open(&config.networks_dir, config.budget)?;
    let shared = Shared {
        registry,
        sessions: sessions::Sessions::default(),
        query_slots: Arc::new(Semaphore::new(config.max_concurrent_queries)),
        max_concurrent_queries: config.max_concurrent_queries,
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

/// The listener's connections with Nagle's algorithm off. A unary answer is one small write
/// after the request; with Nagle on, it waits for the client's delayed ACK, and every call on a
/// kept-alive connection took 40 ms (`cargo bench --bench grpc` found it).
fn incoming(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use tokio_stream::StreamExt;
    TcpListenerStream::new(listener).map(|stream| {
        let stream = stream?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
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
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1().expect("descriptors are valid");
    // grpcurl 1.8 and Python's reflection client speak only v1alpha.
    let reflection_v1alpha = reflection().build_v1alpha().expect("descriptors are valid");

    let networks = NetworkServiceServer::new(api::NetworkApi(shared.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let inference = InferenceServiceServer::new(api::InferenceApi(shared.clone()))
        .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let sessions = SessionServiceServer::new(api::SessionApi(shared));

    let (stop_accepting, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(networks)
        .add_service(inference)
        .add_service(sessions)
        .serve_with_incoming_shutdown(incoming(listener), async {
            let _ = stopped.await;
        });
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result,
        () = shutdown => {}
    }
    tracing::info!("shutting down: NOT_SERVING, finishing calls in flight");
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
