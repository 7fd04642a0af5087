//! The one place where errors become gRPC status codes, with `google.rpc` details: an
//! `ErrorInfo` whose reason is stable (clients branch on it, not on the message) and, for a bad
//! field, a `BadRequest` naming it. Messages echo at most [`ECHO_CHARS`] characters of any
//! quoted client text, so a huge name cannot overflow a client's metadata limit.

use crate::analysis::AnalysisError;
use crate::cancel::Interrupted;
use crate::infer::InferenceError;
use crate::io::ReadError;
use crate::model::ModelError;
use crate::{Error, EvidenceError};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every error this server returns.
pub const DOMAIN: &str = "credence";

/// Most characters of one piece of client text repeated in a message; longer ones are cut and
/// marked so.
pub const ECHO_CHARS: usize = 200;

/// Longest message sent, whatever it quotes (gRPC carries it in a header).
pub const MAX_MESSAGE_CHARS: usize = 4_000;

/// `text` as it may appear in a message: whole when short, else its first [`ECHO_CHARS`]
/// characters and how many were cut.
pub fn echo(text: &str) -> String {
    match text.char_indices().nth(ECHO_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!(
            "{}[... cut, {} characters in all]",
            &text[..end],
            text.chars().count()
        ),
    }
}

/// Cuts every single-quoted span of `message` (how the library and the service quote names)
/// to [`ECHO_CHARS`], then the whole to [`MAX_MESSAGE_CHARS`].
fn bounded(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE_CHARS + 64));
    for (i, part) in message.split('\'').enumerate() {
        if i > 0 {
            out.push('\'');
        }
        // Odd parts are inside quotes; even ones are the server's own words.
        out.push_str(&if i % 2 == 1 {
            echo(part)
        } else {
            part.to_string()
        });
    }
    match out.char_indices().nth(MAX_MESSAGE_CHARS) {
        None => out,
        Some((end, _)) => format!("{}[... message cut]", &out[..end]),
    }
}

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
    /// One field of the request is bad; the message names the field and what is allowed.
    #[error("{field}: {description}")]
    InvalidField {
        /// The field's path in the request, e.g. `sampling.n_chains`.
        field: String,
        /// What is wrong, with the bound or the valid values.
        description: String,
    },
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

impl From<Interrupted> for ServiceError {
    fn from(why: Interrupted) -> Self {
        ServiceError::from(InferenceError::Interrupted(why))
    }
}

/// What a client can act on: the code and the stable `ErrorInfo` reason.
type Outcome = (Code, &'static str);

fn interrupted(why: Interrupted) -> Outcome {
    match why {
        Interrupted::DeadlineExceeded => (Code::DeadlineExceeded, "DEADLINE_EXCEEDED"),
        Interrupted::Cancelled => (Code::Cancelled, "CANCELLED"),
        // Another server (or this one, restarted) can answer: retry.
        Interrupted::ShuttingDown => (Code::Unavailable, "SHUTTING_DOWN"),
    }
}

fn inference(error: &InferenceError) -> Outcome {
    match error {
        InferenceError::ImpossibleEvidence { .. } => {
            (Code::FailedPrecondition, "IMPOSSIBLE_EVIDENCE")
        }
        InferenceError::OverBudget { .. } => (Code::ResourceExhausted, "OVER_MEMORY_BUDGET"),
        InferenceError::TooLargeToEnumerate { .. } => {
            (Code::ResourceExhausted, "TOO_LARGE_TO_ENUMERATE")
        }
        InferenceError::TableTooLarge { .. } => (Code::ResourceExhausted, "TABLE_TOO_LARGE"),
        // The network is too large to size within the time cap: refused as over budget is.
        InferenceError::EstimateTooSlow { .. } => (Code::ResourceExhausted, "ESTIMATE_TOO_SLOW"),
        // The evidence is too unlikely for this engine: another engine can answer.
        InferenceError::NoWeight { .. } => (Code::FailedPrecondition, "NO_POSITIVE_WEIGHT"),
        // More time helps: the same request with a longer deadline or max_time.
        InferenceError::TimeBudgetTooShort { .. } => {
            (Code::DeadlineExceeded, "TIME_BUDGET_TOO_SHORT")
        }
        InferenceError::ChainStuck { .. } => (Code::FailedPrecondition, "GIBBS_CHAINS_STUCK"),
        InferenceError::InvalidSettings(_) => (Code::InvalidArgument, "INVALID_SAMPLING_SETTINGS"),
        InferenceError::Interrupted(why) => interrupted(*why),
        // Ids are resolved by the service itself and only samplers are built as samplers:
        // either failing is a bug here.
        InferenceError::ForeignId(_) | InferenceError::NotASampler(_) => {
            (Code::Internal, "INTERNAL")
        }
    }
}

fn analysis(error: &AnalysisError) -> Outcome {
    match error {
        AnalysisError::Inference(error) => inference(error),
        AnalysisError::Model(_) => (Code::InvalidArgument, "INVALID_NAME"),
        AnalysisError::Repeated { .. } => (Code::InvalidArgument, "REPEATED_VARIABLE"),
        AnalysisError::TooMany { .. } => (Code::InvalidArgument, "TOO_MANY_ITEMS"),
        AnalysisError::TargetObserved { .. } => (Code::FailedPrecondition, "TARGET_OBSERVED"),
        AnalysisError::TooLarge { .. } | AnalysisError::EliminationTooLarge { .. } => {
            (Code::ResourceExhausted, "ANALYSIS_TOO_LARGE")
        }
    }
}

fn outcome(error: &ServiceError) -> Outcome {
    match error {
        ServiceError::Core(core) => match core {
            Error::Read(ReadError::Io { .. }) => (Code::Internal, "STORAGE"),
            Error::Read(_) => (Code::InvalidArgument, "MALFORMED_NETWORK"),
            Error::Model(_) => (Code::InvalidArgument, "INVALID_NAME"),
            Error::Evidence(_) => (Code::InvalidArgument, "INVALID_EVIDENCE"),
            Error::Inference(error) => inference(error),
            Error::Analysis(error) => analysis(error),
        },
        ServiceError::NetworkNotFound { .. } => (Code::NotFound, "NETWORK_NOT_FOUND"),
        ServiceError::SessionNotFound(_) => (Code::NotFound, "SESSION_NOT_FOUND"),
        ServiceError::NetworkExists(_) => (Code::AlreadyExists, "NETWORK_EXISTS"),
        ServiceError::InvalidName(_) => (Code::InvalidArgument, "INVALID_NETWORK_NAME"),
        ServiceError::InvalidRequest(_) => (Code::InvalidArgument, "INVALID_REQUEST"),
        ServiceError::InvalidField { .. } => (Code::InvalidArgument, "INVALID_FIELD"),
        ServiceError::RevisionConflict { .. } => (Code::Aborted, "REVISION_CONFLICT"),
        ServiceError::RevisionOutOfRange { .. } => (Code::OutOfRange, "REVISION_OUT_OF_RANGE"),
        ServiceError::Overloaded(_) => (Code::ResourceExhausted, "TOO_MANY_QUERIES"),
        ServiceError::TooManySessions(_) => (Code::ResourceExhausted, "TOO_MANY_SESSIONS"),
        ServiceError::NetworkUnavailable(_) => (Code::FailedPrecondition, "NETWORK_UNAVAILABLE"),
        ServiceError::PermissionDenied(_) => (Code::PermissionDenied, "PERMISSION_DENIED"),
        ServiceError::Storage(_) => (Code::Internal, "STORAGE"),
        ServiceError::Internal(_) => (Code::Internal, "INTERNAL"),
    }
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Status {
        let (code, reason) = outcome(&error);
        let mut details = ErrorDetails::with_error_info(
            reason,
            DOMAIN,
            std::collections::HashMap::<String, String>::new(),
        );
        if let ServiceError::InvalidField { field, description } = &error {
            details.add_bad_request_violation(echo(field), bounded(description));
        }
        Status::with_error_details(code, bounded(&error.to_string()), details)
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
        assert_eq!(
            status.get_error_details().error_info().unwrap().reason,
            "NETWORK_NOT_FOUND"
        );
    }

    #[test]
    fn sampler_outcomes_are_not_internal() {
        let no_weight = ServiceError::from(InferenceError::NoWeight {
            engine: crate::infer::EngineKind::Rejection,
            n_samples: 10,
            evidence: "a=b".into(),
        });
        assert_eq!(Status::from(no_weight).code(), Code::FailedPrecondition);
        let settings = ServiceError::from(InferenceError::InvalidSettings("x".into()));
        assert_eq!(Status::from(settings).code(), Code::InvalidArgument);
        let stuck = ServiceError::from(InferenceError::ChainStuck { detail: "x".into() });
        assert_eq!(Status::from(stuck).code(), Code::FailedPrecondition);
        for (why, code) in [
            (Interrupted::DeadlineExceeded, Code::DeadlineExceeded),
            (Interrupted::Cancelled, Code::Cancelled),
            (Interrupted::ShuttingDown, Code::Unavailable),
        ] {
            assert_eq!(Status::from(ServiceError::from(why)).code(), code);
        }
    }

    #[test]
    fn bad_fields_come_with_a_field_violation() {
        let status = Status::from(ServiceError::InvalidField {
            field: "sampling.n_chains".into(),
            description: "at most 256, got 1000000".into(),
        });
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let violation = &details.bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "sampling.n_chains");
        assert_eq!(details.error_info().unwrap().reason, "INVALID_FIELD");
    }

    #[test]
    fn client_text_is_echoed_bounded() {
        let long = "x".repeat(100_000);
        let status = Status::from(ServiceError::SessionNotFound(long.clone()));
        assert!(status.message().len() < 400, "{}", status.message().len());
        assert!(status.message().contains("cut, 100000 characters"));
        assert_eq!(echo("short"), "short");
        let unquoted = ServiceError::InvalidRequest(long);
        assert!(Status::from(unquoted).message().len() <= MAX_MESSAGE_CHARS + 20);
    }
}
