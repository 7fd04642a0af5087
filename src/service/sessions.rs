//! Evidence sessions: each change is a numbered revision with its source, note and time, and
//! the evidence after every revision is kept, so any earlier state can be queried again.
//! Sessions share nothing but the (immutable) network, so one analyst's evidence never reaches
//! another's.

use super::error::ServiceError;
use super::registry::LoadedNetwork;
use crate::{Evidence, Network};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
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
}

/// Variable name → finding: the evidence of one revision.
pub type Findings = BTreeMap<String, Finding>;

/// One requested change.
#[derive(Clone, Debug, PartialEq)]
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

/// One session's state; guarded by an async mutex so updates apply one at a time.
#[derive(Debug)]
pub struct SessionState {
    /// Server-assigned id.
    pub id: String,
    /// The network, fixed for the session's life.
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

/// Applies `changes` to `findings`, checking every name against the network.
///
/// # Errors
/// Unknown variable or state, or a bad likelihood, naming what is wrong.
pub fn apply(
    network: &Network,
    findings: &Findings,
    changes: &[Change],
) -> Result<Findings, ServiceError> {
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
        }
    }
    Ok(evidence)
}

/// All sessions of a server.
#[derive(Debug, Default)]
pub struct Sessions {
    sessions: RwLock<BTreeMap<String, Arc<Mutex<SessionState>>>>,
    counter: AtomicU64,
}

impl Sessions {
    /// Opens a session on `network`.
    pub fn create(
        &self,
        network: Arc<LoadedNetwork>,
        description: String,
    ) -> Arc<Mutex<SessionState>> {
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
        let (notify, _) = watch::channel(0);
        let state = Arc::new(Mutex::new(SessionState {
            id: id.clone(),
            network,
            description,
            created: SystemTime::now(),
            revisions: Vec::new(),
            notify,
        }));
        self.sessions
            .write()
            .expect("sessions lock")
            .insert(id, state.clone());
        state
    }

    /// The session `id`.
    ///
    /// # Errors
    /// [`ServiceError::SessionNotFound`].
    pub fn get(&self, id: &str) -> Result<Arc<Mutex<SessionState>>, ServiceError> {
        self.sessions
            .read()
            .expect("sessions lock")
            .get(id)
            .cloned()
            .ok_or_else(|| ServiceError::SessionNotFound(id.to_string()))
    }

    /// Removes the session `id`; its watchers end.
    ///
    /// # Errors
    /// [`ServiceError::SessionNotFound`].
    pub fn delete(&self, id: &str) -> Result<(), ServiceError> {
        self.sessions
            .write()
            .expect("sessions lock")
            .remove(id)
            .map(|_| ())
            .ok_or_else(|| ServiceError::SessionNotFound(id.to_string()))
    }

    /// Sessions with ids after `after`, at most `limit`, in id order.
    pub fn page(&self, after: &str, limit: usize) -> (Vec<Arc<Mutex<SessionState>>>, bool) {
        let sessions = self.sessions.read().expect("sessions lock");
        let mut page: Vec<Arc<Mutex<SessionState>>> = sessions
            .range::<str, _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
            .take(limit + 1)
            .map(|(_, s)| s.clone())
            .collect();
        let more = page.len() > limit;
        page.truncate(limit);
        (page, more)
    }
}

use sha2::Digest as _;

#[cfg(test)]
mod tests {
    use super::*;

    fn asia() -> Network {
        crate::io::read_network(concat!(env!("CARGO_MANIFEST_DIR"), "/networks/asia.bif")).unwrap()
    }

    #[test]
    fn changes_replace_and_retract() {
        let network = asia();
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
}
