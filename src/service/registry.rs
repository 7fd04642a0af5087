//! The networks a server holds: loaded from its directory at start, added and removed by
//! clients. Each network's junction tree is compiled on first use and then shared by every
//! request (`Arc`), so a query never recompiles.
//!
//! Versions: a network is identified by name for stateless queries (the current version) and
//! by content hash for sessions, which keep the version they were created on. Every version
//! served is kept in the data directory's `versions/HASH.bif` (its canonical BIF text, whose
//! SHA-256 is the hash), so that after a restart a session finds its version even when the
//! network has been replaced, its operator file changed, or it was deleted.

use super::auth::Caller;
use super::error::ServiceError;
use super::store::{Store, create_private_dir, create_private_file};
use crate::cancel::CancelToken;
use crate::infer::{
    Answer, AutoEngine, Budget, CostEstimate, EngineKind, Enumeration, InferenceError, Sampler,
    SamplingConfig, SamplingMethod, VariableElimination, format_bytes,
};
use crate::io::{Format, read_bif, write_bif};
use crate::{Evidence, InferenceEngine, JunctionTree, Network, VarId};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

/// Where a served network comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file of the operator's `--networks` directory: never replaced or deleted over the API.
    Operator,
    /// Uploaded by the caller of this name ("" without authentication).
    Upload {
        /// The uploader, who (or an admin) may replace or delete it.
        owner: String,
    },
}

/// A network the server holds, with what it needs to answer queries on it.
#[derive(Debug)]
pub struct LoadedNetwork {
    /// The name clients use.
    pub name: String,
    /// The network.
    pub network: Arc<Network>,
    /// SHA-256 (hex) of the canonical BIF text: which exact model answered.
    pub hash: String,
    /// The junction tree's cost.
    pub cost: CostEstimate,
    /// Whether the cost fits the server's budget.
    pub fits_budget: bool,
    /// Where it comes from: the operator's directory (read-only over the API) or an upload.
    pub origin: Origin,
    /// False for the stand-in of a network a restored session names but the server no longer
    /// has: the session's history stays readable, queries fail with a clear error.
    available: bool,
    junction_tree: OnceLock<Result<Arc<JunctionTree>, InferenceError>>,
    // The other engines, also built on first use and kept with this version of the network
    // (a new version is a new `LoadedNetwork`, so nothing stale survives a replacement).
    // Samplers share one compiled sampler; each query only gives it its method and settings.
    variable_elimination: OnceLock<Arc<VariableElimination>>,
    enumeration: OnceLock<Result<Arc<Enumeration>, InferenceError>>,
    sampler: OnceLock<Result<Sampler, InferenceError>>,
}

impl LoadedNetwork {
    /// An operator's network, or a kept version: the cost estimate runs to the end, however
    /// large, since the operator chose the file.
    pub(crate) fn new(name: String, network: Network, budget: &Budget) -> LoadedNetwork {
        let cost = JunctionTree::estimate(&network);
        Self::with_cost(name, network, budget, cost)
    }

    /// An uploaded network: the cost estimate stops as soon as it is over `budget`, within its
    /// own time cap, and when `cancel` says so.
    ///
    /// # Errors
    /// [`InferenceError::Interrupted`], or [`InferenceError::EstimateTooSlow`].
    pub(crate) fn new_until(
        name: String,
        network: Network,
        budget: &Budget,
        cancel: &CancelToken,
    ) -> Result<LoadedNetwork, InferenceError> {
        cancel.check()?;
        let cost = JunctionTree::estimate_within(&network, budget, cancel)?;
        cancel.check()?;
        Ok(Self::with_cost(name, network, budget, cost))
    }

    fn with_cost(
        name: String,
        network: Network,
        budget: &Budget,
        cost: CostEstimate,
    ) -> LoadedNetwork {
        if let Some(renormalized) = network.renormalized() {
            tracing::warn!(network = %name, "{renormalized}");
        }
        let hash = format!("{:x}", Sha256::digest(write_bif(&network).as_bytes()));
        // A partial estimate is a lower bound that already passed the budget.
        let fits_budget = cost.complete && cost.bytes <= budget.max_bytes as f64;
        LoadedNetwork {
            name,
            network: Arc::new(network),
            hash,
            cost,
            fits_budget,
            origin: Origin::Operator,
            available: true,
            junction_tree: OnceLock::new(),
            variable_elimination: OnceLock::new(),
            enumeration: OnceLock::new(),
            sampler: OnceLock::new(),
        }
    }

    /// The stand-in for a network called `name` that is not served.
    pub(crate) fn unavailable(name: String) -> LoadedNetwork {
        let network = crate::NetworkBuilder::new(name.clone())
            .build()
            .expect("an empty network is valid");
        LoadedNetwork {
            name,
            network: Arc::new(network),
            hash: String::new(),
            cost: CostEstimate {
                n_cliques: 0,
                treewidth: 0,
                largest_clique_entries: 0.0,
                total_clique_entries: 0.0,
                total_separator_entries: 0.0,
                bytes: 0.0,
                heuristic: crate::graph::Heuristic::MinFill,
                complete: true,
            },
            fits_budget: false,
            origin: Origin::Operator,
            available: false,
            junction_tree: OnceLock::new(),
            variable_elimination: OnceLock::new(),
            enumeration: OnceLock::new(),
            sampler: OnceLock::new(),
        }
    }

    /// The same network, marked as uploaded by `owner`.
    fn uploaded_by(mut self, owner: &str) -> LoadedNetwork {
        self.origin = Origin::Upload {
            owner: owner.to_string(),
        };
        self
    }

    /// Fails unless `caller` may replace or delete this network: never an operator's file;
    /// an upload by its uploader or an admin.
    ///
    /// # Errors
    /// [`ServiceError::PermissionDenied`].
    fn ensure_changeable_by(&self, caller: &Caller, action: &str) -> Result<(), ServiceError> {
        match &self.origin {
            Origin::Operator => Err(ServiceError::PermissionDenied(format!(
                "network '{}' is served from the operator's directory and is read-only over the API: it cannot be {action}; upload under another name",
                self.name
            ))),
            Origin::Upload { owner } if owner != caller.name() && !caller.is_admin() => {
                Err(ServiceError::PermissionDenied(format!(
                    "network '{}' was uploaded by '{owner}': only its uploader or an admin may have it {action}",
                    self.name
                )))
            }
            Origin::Upload { .. } => Ok(()),
        }
    }

    /// Fails for the stand-in of a network that is not served.
    ///
    /// # Errors
    /// [`ServiceError::NetworkUnavailable`].
    pub fn ensure_available(&self) -> Result<(), ServiceError> {
        if self.available {
            Ok(())
        } else {
            Err(ServiceError::NetworkUnavailable(self.name.clone()))
        }
    }

    /// The shared junction tree, compiled on first use. Blocking.
    fn junction_tree(&self, budget: &Budget) -> Result<Arc<JunctionTree>, InferenceError> {
        self.junction_tree
            .get_or_init(|| JunctionTree::compile(self.network.clone(), budget).map(Arc::new))
            .clone()
    }

    fn variable_elimination(&self) -> Arc<VariableElimination> {
        self.variable_elimination
            .get_or_init(|| Arc::new(VariableElimination::new(self.network.clone())))
            .clone()
    }

    fn enumeration(&self) -> Result<Arc<Enumeration>, InferenceError> {
        self.enumeration
            .get_or_init(|| Enumeration::new(self.network.clone()).map(Arc::new))
            .clone()
    }

    /// A sampler running `method` with `config`, sharing this network's compiled tables.
    fn sampler(
        &self,
        method: SamplingMethod,
        config: &SamplingConfig,
    ) -> Result<Sampler, InferenceError> {
        let base = self
            .sampler
            .get_or_init(|| {
                Sampler::new(
                    self.network.clone(),
                    SamplingMethod::LikelihoodWeighting,
                    SamplingConfig::default(),
                )
            })
            .as_ref()
            .map_err(Clone::clone)?;
        base.with_method(method).with_config(config.clone())
    }

    /// The exact engine analyses run on: the shared junction tree when it fits the budget,
    /// else variable elimination (nothing compiled; each question pays for its own work).
    ///
    /// # Errors
    /// Compilation failures other than the budget.
    pub fn exact_engine(
        &self,
        budget: &Budget,
    ) -> Result<Arc<dyn InferenceEngine>, InferenceError> {
        if self.fits_budget {
            Ok(self.junction_tree(budget)?)
        } else {
            Ok(self.variable_elimination())
        }
    }

    /// Answers a query with the engine `kind`, stopping when `cancel` says so. Blocking
    /// (compiles the junction tree on first use, samples), so call it from the blocking pool.
    ///
    /// Every engine is built once per network version: `auto` on a network whose tree fits
    /// the budget uses the shared tree, and on one over it samples with the shared sampler
    /// (the decision was made when the network was loaded, so nothing is triangulated again).
    ///
    /// # Errors
    /// As the engine's, plus over budget, too large to enumerate, invalid sampling settings,
    /// or [`InferenceError::Interrupted`].
    pub fn answer(
        &self,
        kind: EngineKind,
        budget: &Budget,
        sampling: &SamplingConfig,
        evidence: &Evidence,
        targets: &[VarId],
        cancel: &CancelToken,
    ) -> Result<Answer, InferenceError> {
        cancel.check()?;
        match kind {
            EngineKind::JunctionTree => self
                .junction_tree(budget)?
                .answer_until(evidence, targets, cancel),
            EngineKind::Auto if self.fits_budget => {
                let mut answer = self
                    .junction_tree(budget)?
                    .answer_until(evidence, targets, cancel)?;
                // Worded as `AutoEngine` words it, so that a server's answer and a local one
                // are the same record.
                answer.reason = Some(format!(
                    "exact: the junction tree needs {}, within the memory budget of {}",
                    format_bytes(self.cost.bytes),
                    format_bytes(budget.max_bytes as f64)
                ));
                Ok(answer)
            }
            EngineKind::Auto => {
                let sampler = self.sampler(SamplingMethod::LikelihoodWeighting, sampling)?;
                AutoEngine::over_budget(self.network.clone(), sampler, &self.cost, budget)
                    .answer_until(evidence, targets, cancel)
            }
            EngineKind::VariableElimination => self
                .variable_elimination()
                .answer_until(evidence, targets, cancel),
            EngineKind::Enumeration => self.enumeration()?.answer_until(evidence, targets, cancel),
            sampler => {
                let method =
                    SamplingMethod::of(sampler).ok_or(InferenceError::NotASampler(sampler))?;
                self.sampler(method, sampling)?
                    .answer_until(evidence, targets, cancel)
            }
        }
    }
}

/// Name → network. Networks come from the operator's directory (named by their file stems) and
/// from uploads, which are stored under server-chosen file names in the data directory, with
/// the client's name kept in the store: a client name never becomes a path.
#[derive(Debug)]
pub struct Registry {
    versions_dir: PathBuf,
    /// Versions other than the current ones, loaded for sessions: (name, hash) → network.
    versions: RwLock<BTreeMap<(String, String), Arc<LoadedNetwork>>>,
    uploads: PathBuf,
    store: Arc<Store>,
    budget: Budget,
    networks: RwLock<BTreeMap<String, Arc<LoadedNetwork>>>,
    upload_counter: AtomicU64,
}

/// Network names are shown in logs and error messages and name operator files, so they are
/// kept to a short, safe alphabet.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

fn extension(format: Format) -> &'static str {
    format.extension()
}

impl Registry {
    /// Loads every network file (`.bif`, `.xml`, `.xmlbif`, `.net`, `.xdsl`, `.uai`) of
    /// `directory` (creating it if needed), named by its stem, then every uploaded network
    /// recorded in `store` (its file in `uploads`). An operator file wins over an upload of the
    /// same name (left by a server from before operator networks were read-only), which is
    /// reported and not served.
    /// A file that fails to load is reported in the returned list and skipped: one bad file
    /// must not keep the others from being served.
    ///
    /// # Errors
    /// A directory cannot be created or listed, or the store cannot be read.
    pub fn open(
        directory: &Path,
        uploads: &Path,
        versions: &Path,
        store: Arc<Store>,
        budget: Budget,
    ) -> Result<(Registry, Vec<String>), ServiceError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |e: std::io::Error| ServiceError::Storage(format!("{path}: {e}"))
        };
        std::fs::create_dir_all(directory).map_err(io(directory))?;
        create_private_dir(uploads).map_err(io(uploads))?;
        create_private_dir(versions).map_err(io(versions))?;
        let mut networks = BTreeMap::new();
        let mut problems = Vec::new();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(directory)
            .map_err(io(directory))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| Format::from_name(e).is_some())
            })
            .collect();
        paths.sort();
        for path in paths {
            let Some(name) = path
                .file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            if !valid_name(&name) || networks.contains_key(&name) {
                problems.push(format!(
                    "{}: skipped (name unusable or taken)",
                    path.display()
                ));
                continue;
            }
            match crate::io::read_network(&path) {
                Ok(network) => {
                    networks.insert(
                        name.clone(),
                        Arc::new(LoadedNetwork::new(name, network, &budget)),
                    );
                }
                Err(error) => problems.push(error.to_string()),
            }
        }
        for super::store::StoredNetwork { name, file, owner } in store.networks()? {
            if networks.contains_key(&name) {
                problems.push(format!(
                    "uploaded network '{name}' is not served: the operator's directory has a network of that name, which wins"
                ));
                continue;
            }
            let path = uploads.join(&file);
            let loaded = std::fs::read(&path)
                .map_err(|e| format!("uploaded network '{name}' ({}): {e}", path.display()))
                .and_then(|bytes| {
                    let text = String::from_utf8_lossy(&bytes);
                    let source = format!("{name}.{}", extension(format_of(&file)));
                    format_of(&file)
                        .read(&text, &source)
                        .map_err(|e| format!("uploaded network '{name}': {e}"))
                });
            match loaded {
                Ok(network) => {
                    let loaded = LoadedNetwork::new(name.clone(), network, &budget);
                    networks.insert(name, Arc::new(loaded.uploaded_by(&owner)));
                }
                Err(problem) => problems.push(problem),
            }
        }
        for loaded in networks.values() {
            if let Err(problem) = keep_version(versions, loaded) {
                problems.push(format!(
                    "network '{}': its version is not kept for sessions: {problem}",
                    loaded.name
                ));
            }
        }
        Ok((
            Registry {
                versions_dir: versions.to_path_buf(),
                versions: RwLock::new(BTreeMap::new()),
                uploads: uploads.to_path_buf(),
                store,
                budget,
                networks: RwLock::new(networks),
                upload_counter: AtomicU64::new(0),
            },
            problems,
        ))
    }

    /// The memory budget for junction trees.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The network called `name`.
    ///
    /// # Errors
    /// [`ServiceError::NetworkNotFound`], listing the available names.
    pub fn get(&self, name: &str) -> Result<Arc<LoadedNetwork>, ServiceError> {
        let networks = self.networks.read().expect("registry lock");
        networks
            .get(name)
            .cloned()
            .ok_or_else(|| ServiceError::NetworkNotFound {
                name: name.to_string(),
                available: if networks.is_empty() {
                    "none".to_string()
                } else {
                    networks.keys().cloned().collect::<Vec<_>>().join(", ")
                },
            })
    }

    /// The version `hash` of the network called `name`: the current one if it has that hash,
    /// else the kept version (loaded once, then shared by every session on it). Blocking.
    ///
    /// # Errors
    /// The version was not kept (a session from before versions were), or its file does not
    /// match its hash.
    pub fn version(&self, name: &str, hash: &str) -> Result<Arc<LoadedNetwork>, ServiceError> {
        if let Ok(current) = self.get(name)
            && current.hash == hash
        {
            return Ok(current);
        }
        let key = (name.to_string(), hash.to_string());
        if let Some(kept) = self.versions.read().expect("versions lock").get(&key) {
            return Ok(kept.clone());
        }
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::Storage(format!(
                "network '{name}': '{hash}' is not a content hash"
            )));
        }
        let path = self.versions_dir.join(format!("{hash}.bif"));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ServiceError::Storage(format!("{}: {e}", path.display())))?;
        let network = read_bif(&text, &path.display().to_string())?;
        let loaded = LoadedNetwork::new(name.to_string(), network, &self.budget);
        if loaded.hash != hash {
            return Err(ServiceError::Storage(format!(
                "{}: the content's hash is {}, not its name's",
                path.display(),
                loaded.hash
            )));
        }
        let loaded = Arc::new(loaded);
        self.versions
            .write()
            .expect("versions lock")
            .insert(key, loaded.clone());
        Ok(loaded)
    }

    /// All networks, by name.
    pub fn list(&self) -> Vec<Arc<LoadedNetwork>> {
        self.networks
            .read()
            .expect("registry lock")
            .values()
            .cloned()
            .collect()
    }

    /// Validates and stores a network. Blocking (parses, writes a file and the store).
    ///
    /// The content goes to a file whose name the server chooses (a digest, never the
    /// client's name), written under a temporary name, flushed and renamed, so a crash leaves
    /// either the old network or the new one, never half of one; the name is then mapped to
    /// the file in the store, which is what makes the upload count.
    ///
    /// Replacing is for the uploader of the network of that name (or an admin); an operator's
    /// network is never replaced.
    ///
    /// # Errors
    /// Invalid name, malformed content, over budget, name taken, not the caller's to replace,
    /// or storage failure.
    pub fn upload(
        &self,
        name: &str,
        format: Option<Format>,
        content: &str,
        replace: bool,
        caller: &Caller,
        cancel: &CancelToken,
    ) -> Result<Arc<LoadedNetwork>, ServiceError> {
        if !valid_name(name) {
            return Err(ServiceError::InvalidName(super::error::echo(name)));
        }
        self.check_replaceable(name, replace, caller)?;
        let format = format.unwrap_or_else(|| Format::detect(Path::new(""), content));
        let source = format!("{name}.{}", extension(format));
        let network = format.read(content, &source)?;
        let loaded = LoadedNetwork::new_until(name.to_string(), network, &self.budget, cancel)?
            .uploaded_by(caller.name());
        if !loaded.fits_budget {
            return Err(InferenceError::OverBudget {
                network: name.to_string(),
                estimate: loaded.cost.clone(),
                budget: crate::infer::format_bytes(self.budget.max_bytes as f64),
            }
            .into());
        }
        let storage = |e: std::io::Error| ServiceError::Storage(e.to_string());
        let n = self.upload_counter.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Unique per upload (so replacing never overwrites a file another name still uses),
        // and nothing of the client's text reaches the file system.
        let digest = Sha256::digest(
            format!("{}|{nanos}|{n}|{}", loaded.hash, std::process::id()).as_bytes(),
        );
        let file = format!(
            "upload-{}.{}",
            digest[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>(),
            extension(format)
        );
        let temporary = self
            .uploads
            .join(format!(".upload-{}-{n}.partial", std::process::id()));
        let target = self.uploads.join(&file);
        {
            use std::io::Write;
            let _ = std::fs::remove_file(&temporary);
            let mut out = create_private_file(&temporary).map_err(storage)?;
            out.write_all(content.as_bytes()).map_err(storage)?;
            out.sync_all().map_err(storage)?;
        }
        std::fs::rename(&temporary, &target).map_err(storage)?;
        if let Ok(directory) = std::fs::File::open(&self.uploads) {
            let _ = directory.sync_all();
        }
        keep_version(&self.versions_dir, &loaded).map_err(ServiceError::Storage)?;
        let mut networks = self.networks.write().expect("registry lock");
        // Again under the lock: another upload of the name may have come first.
        if let Err(error) = check_replaceable(&networks, name, replace, caller) {
            let _ = std::fs::remove_file(&target);
            return Err(error);
        }
        let previous = self.store.network_file(name)?;
        if let Err(error) = self.store.set_network(name, &file, caller.name()) {
            let _ = std::fs::remove_file(&target);
            return Err(error);
        }
        if let Some(previous) = previous {
            let _ = std::fs::remove_file(self.uploads.join(previous));
        }
        let loaded = Arc::new(loaded);
        networks.insert(name.to_string(), loaded.clone());
        Ok(loaded)
    }

    /// Fails unless an upload under `name` may go ahead.
    fn check_replaceable(
        &self,
        name: &str,
        replace: bool,
        caller: &Caller,
    ) -> Result<(), ServiceError> {
        check_replaceable(
            &self.networks.read().expect("registry lock"),
            name,
            replace,
            caller,
        )
    }

    /// Forgets an uploaded network: its store entry and file. Operator networks are
    /// read-only; an upload is deleted by its uploader or an admin. Blocking.
    ///
    /// # Errors
    /// [`ServiceError::NetworkNotFound`], [`ServiceError::PermissionDenied`], or storage
    /// failure.
    pub fn delete(&self, name: &str, caller: &Caller) -> Result<(), ServiceError> {
        self.get(name)?.ensure_changeable_by(caller, "deleted")?;
        let mut networks = self.networks.write().expect("registry lock");
        if let Some(file) = self.store.network_file(name)? {
            self.store.remove_network(name)?;
            let _ = std::fs::remove_file(self.uploads.join(file));
        }
        networks.remove(name);
        Ok(())
    }
}

/// Fails unless an upload under `name` may go ahead given the networks held: a new name, or
/// `replace` of the caller's own upload.
fn check_replaceable(
    networks: &BTreeMap<String, Arc<LoadedNetwork>>,
    name: &str,
    replace: bool,
    caller: &Caller,
) -> Result<(), ServiceError> {
    let Some(existing) = networks.get(name) else {
        return Ok(());
    };
    existing.ensure_changeable_by(caller, "replaced")?;
    if replace {
        Ok(())
    } else {
        Err(ServiceError::NetworkExists(name.to_string()))
    }
}

/// Writes `loaded`'s canonical BIF text to `versions/HASH.bif` unless it is there: written
/// under a temporary name, flushed and renamed, so a kept version is whole or absent.
fn keep_version(versions: &Path, loaded: &LoadedNetwork) -> Result<(), String> {
    let target = versions.join(format!("{}.bif", loaded.hash));
    if target.exists() {
        return Ok(());
    }
    let temporary = versions.join(format!(".{}-{}.partial", loaded.hash, std::process::id()));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let _ = std::fs::remove_file(&temporary);
        let mut out = create_private_file(&temporary)?;
        out.write_all(write_bif(&loaded.network).as_bytes())?;
        out.sync_all()?;
        std::fs::rename(&temporary, &target)
    };
    write().map_err(|e| format!("{}: {e}", target.display()))
}

/// The format of a server-chosen upload file, from its extension.
fn format_of(file: &str) -> Format {
    Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_name)
        .unwrap_or(Format::XmlBif)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_file_names() {
        assert!(valid_name("asia"));
        assert!(valid_name("sino_russian-v2.1"));
        for bad in [
            "",
            ".hidden",
            "../etc/passwd",
            "a/b",
            "a b",
            &"x".repeat(65),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
