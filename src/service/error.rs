//! The one place where errors become gRPC status codes.

use crate::analysis::AnalysisError;
use crate::infer::InferenceError;
use crate::io::ReadError;
use crate::model::ModelError;
use crate::{Error, EvidenceError};
use tonic::{Code, Status};

/// Why a request failed, before it is turned into a [`Status`].
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// An error from the library.
    #[error(transparent)]
    Core(#[from] Error),
    /// No network of that name.
    #[error("no network named '{name}' (available: {available})")]
    NetworkNotFound {
        /// The name asked for.
        name: String,
        /// The names the server holds, comma separated.
        available: String,
    },
    /// A network of that name exists and `replace` was not set.
    #[error("a network named '{0}' already exists (set replace to overwrite it)")]
    NetworkExists(String),
    /// A network name that cannot be used.
    #[error(
        "invalid network name '{0}': use 1 to 64 letters, digits, '_', '-' or '.', not starting with '.'"
    )]
    InvalidName(String),
    /// A restored session's network is no longer served.
    #[error(
        "network '{0}' is not served any more: the session's history is kept, but it cannot be queried or updated until a network of that name is uploaded and the server restarted"
    )]
    NetworkUnavailable(String),
    /// The server holds as many sessions as it may.
    #[error("the server holds its limit of {0} sessions; delete finished ones first")]
    TooManySessions(usize),
    /// No session with that id.
    #[error("no session with id '{0}'")]
    SessionNotFound(String),
    /// The client's expected revision is not the current one.
    #[error("session '{id}' is at revision {current}, not {expected}; reread it and retry")]
    RevisionConflict {
        /// The session.
        id: String,
        /// What the client expected.
        expected: i64,
        /// The current revision.
        current: i64,
    },
    /// A revision the session does not have.
    #[error("session '{id}' has revisions 0 to {current}; {asked} is out of range")]
    RevisionOutOfRange {
        /// The session.
        id: String,
        /// The revision asked for.
        asked: i64,
        /// The current revision.
        current: i64,
    },
    /// A malformed request (missing field, bad value).
    #[error("{0}")]
    InvalidRequest(String),
    /// The request's time budget ran out.
    #[error("the query did not finish within {0:?}")]
    DeadlineExceeded(std::time::Duration),
    /// Too many queries in flight.
    #[error("the server is at its limit of {0} concurrent queries; retry shortly")]
    Overloaded(usize),
    /// The caller is identified but may not do this (the message names the scope or owner).
    #[error("{0}")]
    PermissionDenied(String),
    /// Storage failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// A bug: a panic in a worker, a broken invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ModelError> for ServiceError {
    fn from(error: ModelError) -> Self {
        ServiceError::Core(Error::Model(error))
    }
}

impl From<EvidenceError> for ServiceError {
    fn from(error: EvidenceError) -> Self {
        ServiceError::Core(Error::Evidence(error))
    }
}

impl From<InferenceError> for ServiceError {
    fn from(error: InferenceError) -> Self {
        ServiceError::Core(Error::Inference(error))
    }
}

impl From<AnalysisError> for ServiceError {
    fn from(error: AnalysisError) -> Self {
        ServiceError::Core(Error::Analysis(error))
    }
}

impl From<ReadError> for ServiceError {
    fn from(error: ReadError) -> Self {
        ServiceError::Core(Error::Read(error))
    }
}

fn inference_code(error: &InferenceError) -> Code {
    match error {
        InferenceError::ImpossibleEvidence { .. } => Code::FailedPrecondition,
        InferenceError::OverBudget { .. } | InferenceError::TooLargeToEnumerate { .. } => {
            Code::ResourceExhausted
        }
        _ => Code::Internal,
    }
}

fn analysis_code(error: &AnalysisError) -> Code {
    match error {
        AnalysisError::Inference(inference) => inference_code(inference),
        AnalysisError::Model(_)
        | AnalysisError::Repeated { .. }
        | AnalysisError::TooMany { .. } => Code::InvalidArgument,
        AnalysisError::TargetObserved { .. } => Code::FailedPrecondition,
        AnalysisError::TooLarge { .. } | AnalysisError::EliminationTooLarge { .. } => {
            Code::ResourceExhausted
        }
    }
}

fn code(error: &ServiceError) -> Code {
    match error {
        ServiceError::Core(core) => match core {
            Error::Read(ReadError::Io { .. }) => Code::Internal,
            Error::Read(_) | Error::Model(_) | Error::Evidence(_) => Code::InvalidArgument,
            Error::Inference(inference) => inference_code(inference),
            Error::Analysis(analysis) => analysis_code(analysis),
        },
        ServiceError::NetworkNotFound { .. } | ServiceError::SessionNotFound(_) => Code::NotFound,
        ServiceError::NetworkExists(_) => Code::AlreadyExists,
        ServiceError::InvalidName(_) | ServiceError::InvalidRequest(_) => Code::InvalidArgument,
        ServiceError::RevisionConflict { .. } => Code::Aborted,
        ServiceError::RevisionOutOfRange { .. } => Code::OutOfRange,
        ServiceError::DeadlineExceeded(_) => Code::DeadlineExceeded,
        ServiceError::Overloaded(_) | ServiceError::TooManySessions(_) => Code::ResourceExhausted,
        ServiceError::NetworkUnavailable(_) => Code::FailedPrecondition,
        ServiceError::PermissionDenied(_) => Code::PermissionDenied,
        ServiceError::Storage(_) | ServiceError::Internal(_) => Code::Internal,
    }
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Status {
        Status::new(code(&error), error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_specific() {
        let impossible = ServiceError::from(InferenceError::ImpossibleEvidence {
            evidence: "a=b".into(),
        });
        assert_eq!(Status::from(impossible).code(), Code::FailedPrecondition);
        let missing = ServiceError::NetworkNotFound {
            name: "x".into(),
            available: "asia".into(),
        };
        let status = Status::from(missing);
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(status.message(), "no network named 'x' (available: asia)");
    }
}
