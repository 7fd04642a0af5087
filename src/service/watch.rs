//! The answers `Watch` streams send: one computation per session revision and set of
//! targets, shared by every watcher of it.
//!
//! Watchers never take a query slot and are never refused for load: their computations wait
//! for one of this module's own slots instead, so under load a watcher lags (and its message
//! says so) rather than ending RESOURCE_EXHAUSTED.

use super::error::ServiceError;
use super::pb;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};
use tonic::Status;

/// Answers kept; older ones are computed again if a very late watcher asks for them.
const KEPT: usize = 1_024;

/// Which answer: session id, revision, targets (sorted, so watchers naming the same targets in
/// another order share it).
type Key = (String, i64, Vec<String>);

type Cell = Arc<OnceCell<Result<pb::QueryResponse, Status>>>;

/// The shared answers and the slots their computations take.
#[derive(Debug)]
pub struct Answers {
    cells: Mutex<HashMap<Key, (u64, Cell)>>,
    next: Mutex<u64>,
    slots: Arc<Semaphore>,
}

impl Answers {
    /// At most `slots` watch computations run at once.
    pub fn new(slots: usize) -> Answers {
        Answers {
            cells: Mutex::new(HashMap::new()),
            next: Mutex::new(0),
            slots: Arc::new(Semaphore::new(slots.max(1))),
        }
    }

    fn cell(&self, key: Key) -> Cell {
        let mut cells = self.cells.lock().expect("watch answers lock");
        let seq = {
            let mut next = self.next.lock().expect("watch answers lock");
            *next += 1;
            *next
        };
        if let Some((used, cell)) = cells.get_mut(&key) {
            *used = seq;
            return cell.clone();
        }
        if cells.len() >= KEPT
            && let Some(oldest) = cells
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone())
        {
            cells.remove(&oldest);
        }
        let cell = Cell::default();
        cells.insert(key, (seq, cell.clone()));
        cell
    }

    /// The answer for `revision` of session `id` with `targets`: computed by `compute` (given
    /// a watch slot, waited for) by the first watcher to ask, then shared.
    pub async fn get<F, Fut>(
        &self,
        id: &str,
        revision: i64,
        targets: &[String],
        compute: F,
    ) -> Result<pb::QueryResponse, Status>
    where
        F: FnOnce(OwnedSemaphorePermit) -> Fut,
        Fut: Future<Output = Result<pb::QueryResponse, ServiceError>>,
    {
        let mut sorted = targets.to_vec();
        sorted.sort();
        sorted.dedup();
        let cell = self.cell((id.to_string(), revision, sorted));
        let slots = self.slots.clone();
        cell.get_or_init(|| async move {
            let permit = slots
                .acquire_owned()
                .await
                .map_err(|_| ServiceError::Internal("watch slots closed".to_string()))?;
            compute(permit).await.map_err(Status::from)
        })
        .await
        .clone()
    }

    /// Forgets the answers of session `id` (deleted).
    pub fn forget(&self, id: &str) {
        self.cells
            .lock()
            .expect("watch answers lock")
            .retain(|(session, _, _), _| session != id);
    }
}
