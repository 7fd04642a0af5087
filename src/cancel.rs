//! Cooperative cancellation of long computations: a client's deadline, a client's cancel, and
//! shutdown, all seen through one [`CancelToken`].
//!
//! Long loops (sampling, compilation, cost estimation, analyses) call
//! [`CancelToken::check`] often enough to stop within about 100 ms of the request being
//! interrupted. A token is cheap to clone and to check: an atomic load per level of nesting
//! (a request's token is a child of the server's shutdown token) and, when the token has a
//! deadline, one read of the monotonic clock.
//!
//! Why a token passed down rather than a thread-local: the core runs on rayon's pool and on
//! the service's blocking pool, where a query's work moves between threads; an explicit value
//! goes with it, and a function's signature says whether it can be interrupted.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

/// Why a computation was interrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Interrupted {
    /// The deadline passed (the client's, or a time budget turned into one).
    #[error("the deadline passed before the computation finished")]
    DeadlineExceeded,
    /// The caller gave up (a client cancelled its call or went away).
    #[error("the computation was cancelled")]
    Cancelled,
    /// The process is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
}

const RUNNING: u8 = 0;

impl Interrupted {
    fn code(self) -> u8 {
        match self {
            Interrupted::DeadlineExceeded => 1,
            Interrupted::Cancelled => 2,
            Interrupted::ShuttingDown => 3,
        }
    }

    fn from_code(code: u8) -> Option<Interrupted> {
        match code {
            1 => Some(Interrupted::DeadlineExceeded),
            2 => Some(Interrupted::Cancelled),
            3 => Some(Interrupted::ShuttingDown),
            _ => None,
        }
    }
}

/// A cancellation token: cancelled explicitly, by its parent, or by its deadline passing.
///
/// Clones share state: cancelling one cancels all of them, and every child made from them.
#[derive(Clone, Default)]
pub struct CancelToken {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    state: AtomicU8,
    deadline: Option<Instant>,
    parent: Option<CancelToken>,
}

impl CancelToken {
    /// A token that is never cancelled unless [`cancel`](Self::cancel) is called on it.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// A token cancelled when `self` is, or when cancelled itself; cancelling it does not
    /// cancel `self`.
    pub fn child(&self) -> CancelToken {
        self.child_with(None)
    }

    /// A child (as [`child`](Self::child)) that also stops at `deadline`.
    pub fn with_deadline(&self, deadline: Instant) -> CancelToken {
        self.child_with(Some(deadline))
    }

    /// A child with `deadline` when there is one, else a plain child.
    pub fn with_optional_deadline(&self, deadline: Option<Instant>) -> CancelToken {
        self.child_with(deadline)
    }

    fn child_with(&self, deadline: Option<Instant>) -> CancelToken {
        CancelToken {
            inner: Arc::new(Inner {
                state: AtomicU8::new(RUNNING),
                deadline,
                parent: Some(self.clone()),
            }),
        }
    }

    /// Cancels this token and its children, for `why`. The first reason given sticks.
    pub fn cancel(&self, why: Interrupted) {
        let _ = self.inner.state.compare_exchange(
            RUNNING,
            why.code(),
            Ordering::Release,
            Ordering::Relaxed,
        );
    }

    /// `Err` with the reason once this token, an ancestor, or a deadline on the way has
    /// stopped the computation.
    ///
    /// # Errors
    /// The [`Interrupted`] reason; an explicit cancel wins over a deadline on the same level.
    pub fn check(&self) -> Result<(), Interrupted> {
        let mut token = Some(self);
        let mut now = None;
        while let Some(t) = token {
            if let Some(why) = Interrupted::from_code(t.inner.state.load(Ordering::Acquire)) {
                return Err(why);
            }
            if let Some(deadline) = t.inner.deadline
                && *now.get_or_insert_with(Instant::now) >= deadline
            {
                return Err(Interrupted::DeadlineExceeded);
            }
            token = t.inner.parent.as_ref();
        }
        Ok(())
    }

    /// Whether [`check`](Self::check) would fail now.
    pub fn is_interrupted(&self) -> bool {
        self.check().is_err()
    }

    /// The earliest deadline on this token and its ancestors.
    pub fn deadline(&self) -> Option<Instant> {
        let mut token = Some(self);
        let mut earliest: Option<Instant> = None;
        while let Some(t) = token {
            if let Some(d) = t.inner.deadline {
                earliest = Some(earliest.map_or(d, |e| e.min(d)));
            }
            token = t.inner.parent.as_ref();
        }
        earliest
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("interrupted", &self.check().err())
            .field("deadline", &self.deadline())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_new_token_runs_until_cancelled() {
        let token = CancelToken::new();
        assert_eq!(token.check(), Ok(()));
        token.clone().cancel(Interrupted::Cancelled);
        assert_eq!(token.check(), Err(Interrupted::Cancelled));
        token.cancel(Interrupted::ShuttingDown);
        assert_eq!(
            token.check(),
            Err(Interrupted::Cancelled),
            "the first reason sticks"
        );
    }

    #[test]
    fn children_see_their_parents_but_not_the_reverse() {
        let shutdown = CancelToken::new();
        let request = shutdown.child();
        let other = shutdown.child();
        request.cancel(Interrupted::Cancelled);
        assert_eq!(shutdown.check(), Ok(()));
        assert_eq!(other.check(), Ok(()));
        shutdown.cancel(Interrupted::ShuttingDown);
        assert_eq!(other.check(), Err(Interrupted::ShuttingDown));
        assert_eq!(request.check(), Err(Interrupted::Cancelled));
    }

    #[test]
    fn deadlines_stop_the_token_and_its_children() {
        let past = Instant::now();
        let token = CancelToken::new().with_deadline(past);
        assert_eq!(token.check(), Err(Interrupted::DeadlineExceeded));
        assert_eq!(token.child().check(), Err(Interrupted::DeadlineExceeded));
        let later = Instant::now() + Duration::from_secs(3600);
        let nested = CancelToken::new().with_deadline(later).with_deadline(past);
        assert_eq!(nested.deadline(), Some(past));
        assert_eq!(
            CancelToken::new().with_deadline(later).check(),
            Ok(()),
            "a deadline in the future does not stop anything"
        );
    }
}
