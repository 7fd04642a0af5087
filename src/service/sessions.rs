//! Evidence sessions: each change is a numbered revision with its source, note and time, and
//! the evidence after every revision is kept, so any earlier state can be queried again.
//! Sessions share nothing but the (immutable) network, so one analyst's evidence never reaches
//! another's.

use super::auth::{Caller, Scope, valid_caller_name};
use super::error::ServiceError;
use super::registry::{LoadedNetwork, Registry};
use super::store::Store;
use crate::{Evidence, Network};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;
use tokio::sync::{Mutex, watch};

/// A finding on one variable, by name.
#[derive(Clone, Debug, PartialEq)]
pub enum Finding {
    /// Observed in this state.
    Hard(String),
    /// This likelihood vector.
    Soft(Vec<f64>),
    /// Both, from one stateless request (a session's changes set one or the other).
    Both(String, Vec<f64>),
}

/// Variable name → finding: the evidence of one revision.
pub type Findings = BTreeMap<String, Finding>;

/// One requested change. Stored as JSON in the session database (`store.rs`), so renaming a
/// variant or field needs a migration.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Observe `variable` in `state`.
    SetHard {
        /// Variable name.
        variable: String,
        /// State name.
        state: String,
    },
    /// Set a likelihood on `variable`.
    SetSoft {
        /// Variable name.
        variable: String,
        /// One weight per state.
        values: Vec<f64>,
    },
    /// Remove the finding on this variable.
    Retract(String),
}

/// A committed revision.
#[derive(Clone, Debug)]
pub struct Revision {
    /// From 1.
    pub number: i64,
    /// What it changed.
    pub changes: Vec<Change>,
    /// Where the evidence came from.
    pub source: String,
    /// Free text.
    pub note: String,
    /// When it was applied.
    pub applied: SystemTime,
    /// The evidence after it.
    pub findings: Findings,
}

/// Who may see and change a session: its owner (and admins) everything, the names it is
/// shared with reading only. Kept beside the state so that access is checked without waiting
/// for the session's lock.
#[derive(Debug)]
pub struct Access {
    /// The creator's name ("" when created without authentication: then only admins see it).
    pub owner: String,
    /// Names it is shared with, to read; "*" is every caller.
    readers: RwLock<Vec<String>>,
}

/// Most names one session is shared with.
pub const MAX_READERS: usize = 100;

/// The wildcard reader: every identified caller.
pub const EVERYONE: &str = "*";

impl Access {
    /// The names it is shared with.
    pub fn readers(&self) -> Vec<String> {
        self.readers.read().expect("readers lock").clone()
    }

    fn may_write(&self, caller: &Caller) -> bool {
        caller.is_admin() || (!self.owner.is_empty() && self.owner == caller.name())
    }

    fn may_read(&self, caller: &Caller) -> bool {
        self.may_write(caller)
            || self
                .readers
                .read()
                .expect("readers lock")
                .iter()
                .any(|r| r == EVERYONE || r == caller.name())
    }
}

/// A session, locked for each use.
pub type Session = Arc<Mutex<SessionState>>;

/// What a caller asks of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Read its state, history, posteriors, analyses; watch it.
    Read,
    /// Update, share or delete it.
    Write,
}

/// One session's state; guarded by an async mutex so updates apply one at a time.
#[derive(Debug)]
pub struct SessionState {
    /// Server-assigned id.
    pub id: String,
    /// Who may see and change it.
    pub access: Arc<Access>,
    /// The network version, fixed for the session's life (across replacements and restarts).
    pub network: Arc<LoadedNetwork>,
    /// Free text from the creator.
    pub description: String,
    /// When it was created.
    pub created: SystemTime,
    /// Every revision, oldest first (revision `n` at index `n - 1`).
    pub revisions: Vec<Revision>,
    /// Tells watchers the current revision.
    pub notify: watch::Sender<i64>,
}

impl SessionState {
    /// The current revision number (0 before any change).
    pub fn revision(&self) -> i64 {
        self.revisions.len() as i64
    }

    /// The evidence at `revision`.
    ///
    /// # Errors
    /// [`ServiceError::RevisionOutOfRange`].
    pub fn findings_at(&self, revision: i64) -> Result<&Findings, ServiceError> {
        static EMPTY: Findings = BTreeMap::new();
        match revision {
            0 => Ok(&EMPTY),
            r if r > 0 && r <= self.revision() => Ok(&self.revisions[r as usize - 1].findings),
            asked => Err(ServiceError::RevisionOutOfRange {
                id: self.id.clone(),
                asked,
                current: self.revision(),
            }),
        }
    }

    /// The evidence now.
    pub fn current(&self) -> &Findings {
        self.findings_at(self.revision())
            .expect("the current revision exists")
    }
}

/// Most changes one update may carry: far more than any network has variables, far fewer than
/// would let one request tie up the server.
pub const MAX_CHANGES: usize = 10_000;

/// Most revisions one session keeps; an analyst adds a few a day, a runaway script thousands a
/// second, and the history is held in memory.
pub const MAX_REVISIONS: i64 = 100_000;

/// Longest session description, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 4096;
/// Longest revision source, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1024;
/// Longest revision note, in bytes.
pub const MAX_NOTE_BYTES: usize = 4096;
/// Longest free-text label elsewhere (a batch case id, a page token), in bytes.
pub const MAX_LABEL_BYTES: usize = 256;

/// Fails when the free-text `field` is over `limit` bytes: free text is stored and sent back
/// in every history, so its size is bounded like everything else.
///
/// # Errors
/// [`ServiceError::InvalidRequest`] naming the field, its size and the limit.
pub fn check_text(field: &str, value: &str, limit: usize) -> Result<(), ServiceError> {
    if value.len() > limit {
        return Err(ServiceError::InvalidRequest(format!(
            "{field} is {} bytes, over the limit of {limit}",
            value.len()
        )));
    }
    Ok(())
}

/// Applies `changes` to `findings`, checking every name against the network.
///
/// # Errors
/// The network is unavailable, too many changes, unknown variable or state, or a bad
/// likelihood, naming what is wrong.
pub fn apply(
    loaded: &LoadedNetwork,
    findings: &Findings,
    changes: &[Change],
) -> Result<Findings, ServiceError> {
    loaded.ensure_available()?;
    if changes.len() > MAX_CHANGES {
        return Err(ServiceError::InvalidRequest(format!(
            "an update carries {} changes; at most {MAX_CHANGES} are accepted",
            changes.len()
        )));
    }
    let network: &Network = &loaded.network;
    let mut next = findings.clone();
    for change in changes {
        match change {
            Change::SetHard { variable, state } => {
                let var = network.variable_id(variable)?;
                network.state_index(var, state)?;
                next.insert(variable.clone(), Finding::Hard(state.clone()));
            }
            Change::SetSoft { variable, values } => {
                // Validate through the library, which names the problem.
                Evidence::new().add_likelihood_named(network, variable, values)?;
                next.insert(variable.clone(), Finding::Soft(values.clone()));
            }
            Change::Retract(variable) => {
                network.variable_id(variable)?;
                next.remove(variable);
            }
        }
    }
    Ok(next)
}

/// Applies `changes` without checking names: replays a stored history, whose changes were
/// checked when they were made (and whose network may be gone).
pub fn replay(findings: &Findings, changes: &[Change]) -> Findings {
    let mut next = findings.clone();
    for change in changes {
        match change {
            Change::SetHard { variable, state } => {
                next.insert(variable.clone(), Finding::Hard(state.clone()));
            }
            Change::SetSoft { variable, values } => {
                next.insert(variable.clone(), Finding::Soft(values.clone()));
            }
            Change::Retract(variable) => {
                next.remove(variable);
            }
        }
    }
    next
}

/// Turns named findings into the library's evidence.
///
/// # Errors
/// Unknown names or bad likelihoods.
pub fn to_evidence(network: &Network, findings: &Findings) -> Result<Evidence, ServiceError> {
    let mut evidence = Evidence::new();
    for (variable, finding) in findings {
        match finding {
            Finding::Hard(state) => evidence.observe_named(network, variable, state)?,
            Finding::Soft(values) => evidence.add_likelihood_named(network, variable, values)?,
            Finding::Both(state, values) => {
                evidence.observe_named(network, variable, state)?;
                evidence.add_likelihood_named(network, variable, values)?;
            }
        }
    }
    Ok(evidence)
}

/// All sessions of a server, mirrored in its store: every change is written there before the
/// in-memory state moves, so what a client was told happened survives a crash.
#[derive(Debug)]
pub struct Sessions {
    sessions: RwLock<BTreeMap<String, Entry>>,
    counter: AtomicU64,
    store: Arc<Store>,
    max_sessions: usize,
    /// Sessions held plus those being created: reserved before a creation is stored, so
    /// concurrent creators never pass the limit together.
    held: AtomicUsize,
}

/// A session with its access, readable without the session's lock.
#[derive(Clone, Debug)]
struct Entry {
    access: Arc<Access>,
    state: Arc<Mutex<SessionState>>,
}

/// Runs a blocking store operation off the async runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ServiceError> + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ServiceError::Internal(format!("storage worker failed: {e}")))?
}

/// The sequence number in an id `sNNNNNN-xxxxxxxx`, to continue numbering after a restart.
fn sequence(id: &str) -> Option<u64> {
    id.strip_prefix('s')?.split('-').next()?.parse().ok()
}

impl Sessions {
    /// Loads every stored session on the network version it was created on. A session whose
    /// version was not kept gets the current network of that name, or a stand-in when there is
    /// none (its history is kept); the returned notes say which.
    ///
    /// # Errors
    /// The store cannot be read.
    pub fn load(
        store: Arc<Store>,
        registry: &Registry,
        max_sessions: usize,
    ) -> Result<(Sessions, Vec<String>), ServiceError> {
        let mut notes = Vec::new();
        let mut sessions = BTreeMap::new();
        let mut next = 0;
        for stored in store.sessions()? {
            next = next.max(sequence(&stored.id).map_or(0, |n| n + 1));
            let network = match registry.version(&stored.network, &stored.network_hash) {
                Ok(version) => version,
                // Not kept (a session from before versions were): the current network of that
                // name if there is one, else a stand-in.
                Err(_) => match registry.get(&stored.network) {
                    Ok(loaded) => {
                        notes.push(format!(
                            "session '{}': version {} of network '{}' was not kept; its evidence is checked against the current one",
                            stored.id, stored.network_hash, stored.network
                        ));
                        loaded
                    }
                    Err(_) => {
                        notes.push(format!(
                            "session '{}': network '{}' is not served and its version was not kept; its history is kept but it cannot be queried",
                            stored.id, stored.network
                        ));
                        Arc::new(LoadedNetwork::unavailable(stored.network.clone()))
                    }
                },
            };
            let mut findings = Findings::new();
            let mut revisions = Vec::with_capacity(stored.revisions.len());
            for (index, revision) in stored.revisions.into_iter().enumerate() {
                if revision.number != index as i64 + 1 {
                    return Err(ServiceError::Storage(format!(
                        "{}: session '{}' has revision {} where {} was expected",
                        store.path().display(),
                        stored.id,
                        revision.number,
                        index + 1
                    )));
                }
                findings = replay(&findings, &revision.changes);
                revisions.push(Revision {
                    number: revision.number,
                    changes: revision.changes,
                    source: revision.source,
                    note: revision.note,
                    applied: revision.applied,
                    findings: findings.clone(),
                });
            }
            let (notify, _) = watch::channel(revisions.len() as i64);
            let access = Arc::new(Access {
                owner: stored.owner,
                readers: RwLock::new(stored.readers),
            });
            let state = Arc::new(Mutex::new(SessionState {
                id: stored.id.clone(),
                access: access.clone(),
                network,
                description: stored.description,
                created: stored.created,
                revisions,
                notify,
            }));
            sessions.insert(stored.id, Entry { access, state });
        }
        let held = AtomicUsize::new(sessions.len());
        Ok((
            Sessions {
                sessions: RwLock::new(sessions),
                counter: AtomicU64::new(next),
                store,
                max_sessions,
                held,
            },
            notes,
        ))
    }

    /// Opens a session on `network` owned by `caller`, stored before it is returned.
    ///
    /// # Errors
    /// The caller lacks the write scope, the server holds its limit of sessions, or storage
    /// failed.
    pub async fn create(
        &self,
        network: Arc<LoadedNetwork>,
        description: String,
        caller: &Caller,
    ) -> Result<Arc<Mutex<SessionState>>, ServiceError> {
        caller.require(Scope::Write, "create sessions")?;
        // Reserve a place atomically: a check of the map's length would let concurrent
        // creators through together.
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held < self.max_sessions).then_some(held + 1)
            })
            .map_err(|_| ServiceError::TooManySessions(self.max_sessions))?;
        let created = self.create_reserved(network, description, caller).await;
        if created.is_err() {
            self.held.fetch_sub(1, Ordering::AcqRel);
        }
        created
    }

    async fn create_reserved(
        &self,
        network: Arc<LoadedNetwork>,
        description: String,
        caller: &Caller,
    ) -> Result<Arc<Mutex<SessionState>>, ServiceError> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        // Unguessable enough to keep analysts from colliding, ordered enough to list nicely.
        let digest = sha2::Sha256::digest(format!("{nanos}-{n}-{}", std::process::id()).as_bytes());
        let id = format!(
            "s{n:06}-{:02x}{:02x}{:02x}{:02x}",
            digest[0], digest[1], digest[2], digest[3]
        );
        let created = SystemTime::now();
        let owner = caller.name().to_string();
        {
            let store = self.store.clone();
            let (id, name, hash, description, owner) = (
                id.clone(),
                network.name.clone(),
                network.hash.clone(),
                description.clone(),
                owner.clone(),
            );
            blocking(move || {
                store.create_session(&id, &name, &hash, &description, created, &owner)
            })
            .await?;
        }
        let (notify, _) = watch::channel(0);
        let access = Arc::new(Access {
            owner,
            readers: RwLock::new(Vec::new()),
        });
        let state = Arc::new(Mutex::new(SessionState {
            id: id.clone(),
            access: access.clone(),
            network,
            description,
            created,
            revisions: Vec::new(),
            notify,
        }));
        self.sessions.write().expect("sessions lock").insert(
            id,
            Entry {
                access,
                state: state.clone(),
            },
        );
        Ok(state)
    }

    /// Appends `revision` to the session `state` (locked by the caller, so revisions of one
    /// session are stored in order): stored first, then visible, then watchers are told.
    ///
    /// # Errors
    /// The session holds its limit of revisions, or storage failed (then nothing changed).
    pub async fn commit(
        &self,
        state: &mut SessionState,
        revision: Revision,
    ) -> Result<(), ServiceError> {
        if state.revision() >= MAX_REVISIONS {
            return Err(ServiceError::InvalidRequest(format!(
                "session '{}' holds its limit of {MAX_REVISIONS} revisions; start a new session",
                state.id
            )));
        }
        {
            let store = self.store.clone();
            let id = state.id.clone();
            let r = revision.clone();
            blocking(move || {
                store.append_revision(&id, r.number, &r.changes, &r.source, &r.note, r.applied)
            })
            .await?;
        }
        state.revisions.push(revision);
        let current = state.revision();
        state.notify.send_replace(current);
        Ok(())
    }

    /// The session `id`, if `caller` may do what it needs with it. A session the caller may
    /// not read is answered as missing, so ids of other tenants' sessions cannot be probed.
    ///
    /// # Errors
    /// [`ServiceError::PermissionDenied`] (scope, or a read-only share asked to change),
    /// [`ServiceError::SessionNotFound`].
    pub fn get(
        &self,
        id: &str,
        caller: &Caller,
        need: Need,
    ) -> Result<Arc<Mutex<SessionState>>, ServiceError> {
        match need {
            Need::Read => caller.require(Scope::Read, "read sessions")?,
            Need::Write => caller.require(Scope::Write, "change sessions")?,
        }
        let sessions = self.sessions.read().expect("sessions lock");
        let entry = sessions
            .get(id)
            .filter(|e| e.access.may_read(caller))
            .ok_or_else(|| ServiceError::SessionNotFound(id.to_string()))?;
        if need == Need::Write && !entry.access.may_write(caller) {
            return Err(ServiceError::PermissionDenied(format!(
                "session '{id}' belongs to '{}' and is shared with you to read only: only its owner or an admin may change it",
                entry.access.owner
            )));
        }
        Ok(entry.state.clone())
    }

    /// Shares the session `id` with `readers` (replacing the previous list; empty unshares),
    /// stored before it is returned. Only its owner or an admin may.
    ///
    /// # Errors
    /// As [`Sessions::get`] for writing, a bad or overlong list, or storage failed.
    pub async fn share(
        &self,
        id: &str,
        caller: &Caller,
        mut readers: Vec<String>,
    ) -> Result<Arc<Mutex<SessionState>>, ServiceError> {
        let session = self.get(id, caller, Need::Write)?;
        readers.sort();
        readers.dedup();
        if readers.len() > MAX_READERS {
            return Err(ServiceError::InvalidRequest(format!(
                "readers has {} names, over the limit of {MAX_READERS}",
                readers.len()
            )));
        }
        if let Some(bad) = readers
            .iter()
            .find(|r| r.as_str() != EVERYONE && !valid_caller_name(r))
        {
            return Err(ServiceError::InvalidRequest(format!(
                "readers: '{}' is not a token name (1 to 64 letters, digits, '_', '-', '.' or '@') nor '*'",
                bad.chars().take(64).collect::<String>()
            )));
        }
        let state = session.lock().await;
        {
            let store = self.store.clone();
            let (id, readers) = (id.to_string(), readers.clone());
            blocking(move || store.set_readers(&id, &readers)).await?;
        }
        *state.access.readers.write().expect("readers lock") = readers;
        drop(state);
        Ok(session)
    }

    /// Removes the session `id` from the store, then from memory; its watchers end.
    ///
    /// # Errors
    /// As [`Sessions::get`] for writing, or storage failed (then the session stays).
    pub async fn delete(&self, id: &str, caller: &Caller) -> Result<(), ServiceError> {
        let session = self.get(id, caller, Need::Write)?;
        // Under the session's lock, so no update of it is stored after its deletion.
        let _state = session.lock().await;
        {
            let store = self.store.clone();
            let id = id.to_string();
            blocking(move || store.delete_session(&id)).await?;
        }
        self.sessions
            .write()
            .expect("sessions lock")
            .remove(id)
            .map(|_| {
                self.held.fetch_sub(1, Ordering::AcqRel);
            })
            .ok_or_else(|| ServiceError::SessionNotFound(id.to_string()))
    }

    /// Sessions `caller` may read with ids after `after`, at most `limit`, in id order.
    ///
    /// # Errors
    /// The caller lacks the read scope.
    pub fn page(
        &self,
        after: &str,
        limit: usize,
        caller: &Caller,
    ) -> Result<(Vec<Session>, bool), ServiceError> {
        caller.require(Scope::Read, "read sessions")?;
        let sessions = self.sessions.read().expect("sessions lock");
        let mut page: Vec<Session> = sessions
            .range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            .filter(|(_, e)| e.access.may_read(caller))
            .take(limit + 1)
            .map(|(_, e)| e.state.clone())
            .collect();
        let more = page.len() > limit;
        page.truncate(limit);
        Ok((page, more))
    }
}

use sha2::Digest as _;

#[cfg(test)]
mod tests {
    use super::*;

    fn asia() -> Network {
        crate::io::read_network(concat!(env!("CARGO_MANIFEST_DIR"), "/networks/asia.bif")).unwrap()
    }

    fn loaded() -> LoadedNetwork {
        LoadedNetwork::new("asia".into(), asia(), &crate::infer::Budget::default())
    }

    #[test]
    fn changes_replace_and_retract() {
        let network = loaded();
        let start = Findings::new();
        let one = apply(
            &network,
            &start,
            &[
                Change::SetHard {
                    variable: "smoke".into(),
                    state: "yes".into(),
                },
                Change::SetSoft {
                    variable: "xray".into(),
                    values: vec![0.9, 0.2],
                },
            ],
        )
        .unwrap();
        assert_eq!(one.len(), 2);
        let two = apply(
            &network,
            &one,
            &[
                Change::SetHard {
                    variable: "smoke".into(),
                    state: "no".into(),
                },
                Change::Retract("xray".into()),
            ],
        )
        .unwrap();
        assert_eq!(two.get("smoke"), Some(&Finding::Hard("no".into())));
        assert!(!two.contains_key("xray"));
        let error = apply(
            &network,
            &two,
            &[Change::SetHard {
                variable: "smoke".into(),
                state: "maybe".into(),
            }],
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("has no state 'maybe'"), "{error}");
    }

    /// Fuzzing of session changes: random changes (valid and unknown names, odd likelihoods)
    /// either apply or fail with a message, never panic; and what `apply` accepts, `replay`
    /// (the restore path, which checks nothing) reproduces exactly, so a restored session has
    /// the evidence it had. `CREDENCE_FUZZ_CASES=N` runs N cases (default 200).
    #[test]
    fn random_changes_apply_or_fail_and_replay_agrees() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, RngSeed, TestRunner};
        let cases = std::env::var("CREDENCE_FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        let network = loaded();
        let names = prop_oneof![
            Just("smoke".to_string()),
            Just("xray".to_string()),
            Just("asia".to_string()),
            Just("dysp".to_string()),
            ".{0,6}",
        ];
        let value = prop_oneof![
            0.0..2.0f64,
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(-1.0),
            Just(0.0),
            Just(f64::MIN_POSITIVE),
        ];
        let change = prop_oneof![
            (
                names.clone(),
                prop_oneof![Just("yes".to_string()), Just("no".to_string()), ".{0,4}"]
            )
                .prop_map(|(variable, state)| Change::SetHard { variable, state }),
            (names.clone(), proptest::collection::vec(value, 0..4))
                .prop_map(|(variable, values)| Change::SetSoft { variable, values }),
            names.prop_map(Change::Retract),
        ];
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(0),
            ..Config::default()
        });
        runner
            .run(
                &proptest::collection::vec(proptest::collection::vec(change, 1..6), 1..8),
                |updates| {
                    let mut findings = Findings::new();
                    let mut replayed = Findings::new();
                    for changes in updates {
                        match apply(&network, &findings, &changes) {
                            Ok(next) => {
                                // The store's encoding round-trips too.
                                let json = serde_json::to_string(&changes).unwrap();
                                let decoded: Vec<Change> = serde_json::from_str(&json).unwrap();
                                prop_assert_eq!(&decoded, &changes);
                                replayed = replay(&replayed, &decoded);
                                findings = next;
                                prop_assert_eq!(&replayed, &findings);
                            }
                            Err(error) => prop_assert!(!error.to_string().is_empty()),
                        }
                    }
                    Ok(())
                },
            )
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
