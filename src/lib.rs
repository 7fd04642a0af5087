//! Credence: Bayesian belief-network inference.
//!
//! # Layout
//!
//! - [`model`]: what a network is. An immutable [`Network`] of discrete variables and CPTs,
//!   built and validated once by a [`NetworkBuilder`].
//! - [`evidence`]: hard and soft findings, as a value passed to each query.
//! - [`cancel`]: the [`CancelToken`](cancel::CancelToken) every long computation checks, so a
//!   deadline, a cancel or shutdown stops it.
//! - [`factor`]: the numeric kernel. Dense `f64` tables over sorted scopes and the precomputed
//!   index plans ([`factor::Projection`]) that multiply and marginalise them.
//! - [`graph`]: moral graphs, greedy triangulation, clique trees.
//! - [`infer`]: the engines behind one trait, [`InferenceEngine`]: [`JunctionTree`] (compiled
//!   once, shared), [`VariableElimination`], [`Enumeration`], the sampling engines
//!   ([`Sampler`]: likelihood weighting, Gibbs, rejection, EPIS-BN) with error bars, and
//!   [`AutoEngine`], which picks between exact and sampling and says why.
//! - [`io`]: BIF and XMLBIF reading and writing, with `file:line:col` errors.
//! - [`analysis`]: analyst questions beyond marginals: MPE and MAP, joint posteriors,
//!   interventions, value of information, evidence impact and conflict, parameter sensitivity.
//!
//! - `service` (feature `service`, on by default): the gRPC service (tonic), the edge for remote
//!   clients. Without default features the library is the core alone.
//!
//! The core (everything but `service`) knows nothing of command lines, JSON or network
//! services: the `credence` binary and the service sit at the edge and convert to and from
//! these types.
//!
//! # Examples
//! ```
//! use credence::{Evidence, InferenceEngine, JunctionTree, infer::Budget, io::read_bif};
//! use std::sync::Arc;
//!
//! let text = "variable rain { type discrete [ 2 ] { yes, no }; }
//!             variable wet { type discrete [ 2 ] { yes, no }; }
//!             probability ( rain ) { table 0.2, 0.8; }
//!             probability ( wet | rain ) { (yes) 0.9, 0.1; (no) 0.1, 0.9; }";
//! let network = Arc::new(read_bif(text, "garden.bif").unwrap());
//! let engine = JunctionTree::compile(network.clone(), &Budget::default()).unwrap();
//! let mut evidence = Evidence::new();
//! evidence.observe_named(&network, "wet", "yes").unwrap();
//! let rain = network.variable_id("rain").unwrap();
//! let posteriors = engine.posteriors(&evidence, &[rain]).unwrap();
//! let p_rain = posteriors.marginal(rain).unwrap()[0];
//! assert!((p_rain - 0.18 / 0.26).abs() < 1e-12);
//! assert!((posteriors.ln_p_evidence() - 0.26f64.ln()).abs() < 1e-12);
//! ```

pub mod analysis;
pub mod cancel;
pub mod evidence;
pub mod factor;
pub mod graph;
pub mod infer;
pub mod io;
pub mod model;
#[cfg(feature = "service")]
pub mod service;

pub use evidence::{Evidence, EvidenceError};
pub use infer::{
    Answer, AutoEngine, EngineKind, Enumeration, InferenceEngine, InferenceError, JunctionTree,
    Posteriors, Sampler, SamplingConfig, SamplingMethod, VariableElimination,
};
pub use model::{Network, NetworkBuilder, VarId};

/// Any error the library returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading a network failed.
    #[error(transparent)]
    Read(#[from] io::ReadError),
    /// A network or name was invalid.
    #[error(transparent)]
    Model(#[from] model::ModelError),
    /// Evidence was invalid.
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    /// A query failed.
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// An analysis failed.
    #[error(transparent)]
    Analysis(#[from] analysis::AnalysisError),
}
