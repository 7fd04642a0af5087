//! The networks a server holds: loaded from its directory at start, added and removed by
//! clients. Each network's junction tree is compiled on first use and then shared by every
//! request (`Arc`), so a query never recompiles.

use super::error::ServiceError;
use super::store::Store;
use crate::cancel::CancelToken;
use crate::infer::{
    Answer, AutoEngine, Budget, CostEstimate, EngineKind, Enumeration, InferenceError, Sampler,
    SamplingConfig, SamplingMethod, VariableElimination, format_bytes,
};
use crate::io::{Format, read_bif, read_xmlbif, write_bif};
use crate::{Evidence, InferenceEngine, JunctionTree, Network, VarId};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

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
    pub(crate) fn new(name: String, network: Network, budget: &Budget) -> LoadedNetwork {
        Self::new_until(name, network, budget, &CancelToken::new()).expect("a token nobody cancels")
    }

    /// As [`new`](Self::new), stopping when `cancel` says so.
    ///
    /// # Errors
    /// [`InferenceError::Interrupted`].
    pub(crate) fn new_until(
        name: String,
        network: Network,
        budget: &Budget,
        cancel: &CancelToken,
    ) -> Result<LoadedNetwork, InferenceError> {
        cancel.check()?;
        let hash = format!("{:x}", Sha256::digest(write_bif(&network).as_bytes()));
        cancel.check()?;
        // TODO(issue 18, point 3): the core's bounded, cancellable estimate once it lands.
        let cost = JunctionTree::estimate(&network);
        cancel.check()?;
        let fits_budget = cost.bytes <= budget.max_bytes as f64;
        Ok(LoadedNetwork {
            name,
            network: Arc::new(network),
            hash,
            cost,
            fits_budget,
            available: true,
            junction_tree: OnceLock::new(),
            variable_elimination: OnceLock::new(),
            enumeration: OnceLock::new(),
            sampler: OnceLock::new(),
        })
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
            },
            fits_budget: false,
            available: false,
            junction_tree: OnceLock::new(),
            variable_elimination: OnceLock::new(),
            enumeration: OnceLock::new(),
            sampler: OnceLock::new(),
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
    directory: PathBuf,
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
    match format {
        Format::Bif => "bif",
        Format::XmlBif => "xml",
    }
}

impl Registry {
    /// Loads every `.bif`, `.xml` and `.xmlbif` file of `directory` (creating it if needed),
    /// named by its stem, then every uploaded network recorded in `store` (its file in
    /// `uploads`), which takes precedence over an operator file of the same name.
    /// A file that fails to load is reported in the returned list and skipped: one bad file
    /// must not keep the others from being served.
    ///
    /// # Errors
    /// A directory cannot be created or listed, or the store cannot be read.
    pub fn open(
        directory: &Path,
        uploads: &Path,
        store: Arc<Store>,
        budget: Budget,
    ) -> Result<(Registry, Vec<String>), ServiceError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |e: std::io::Error| ServiceError::Storage(format!("{path}: {e}"))
        };
        std::fs::create_dir_all(directory).map_err(io(directory))?;
        std::fs::create_dir_all(uploads).map_err(io(uploads))?;
        let mut networks = BTreeMap::new();
        let mut problems = Vec::new();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(directory)
            .map_err(io(directory))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| ["bif", "xml", "xmlbif"].contains(&e))
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
        for (name, file) in store.networks()? {
            let path = uploads.join(&file);
            let loaded = std::fs::read(&path)
                .map_err(|e| format!("uploaded network '{name}' ({}): {e}", path.display()))
                .and_then(|bytes| {
                    let text = String::from_utf8_lossy(&bytes);
                    let source = format!("{name}.{}", extension(format_of(&file)));
                    match format_of(&file) {
                        Format::Bif => read_bif(&text, &source),
                        Format::XmlBif => read_xmlbif(&text, &source),
                    }
                    .map_err(|e| format!("uploaded network '{name}': {e}"))
                });
            match loaded {
                Ok(network) => {
                    networks.insert(
                        name.clone(),
                        Arc::new(LoadedNetwork::new(name, network, &budget)),
                    );
                }
                Err(problem) => problems.push(problem),
            }
        }
        Ok((
            Registry {
                directory: directory.to_path_buf(),
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
    /// # Errors
    /// Invalid name, malformed content, over budget, name taken, or storage failure.
    pub fn upload(
        &self,
        name: &str,
        format: Option<Format>,
        content: &str,
        replace: bool,
        cancel: &CancelToken,
    ) -> Result<Arc<LoadedNetwork>, ServiceError> {
        if !valid_name(name) {
            return Err(ServiceError::InvalidName(super::error::echo(name)));
        }
        if !replace
            && self
                .networks
                .read()
                .expect("registry lock")
                .contains_key(name)
        {
            return Err(ServiceError::NetworkExists(name.to_string()));
        }
        let format = format.unwrap_or_else(|| Format::detect(Path::new(""), content));
        let source = format!("{name}.{}", extension(format));
        let network = match format {
            Format::Bif => read_bif(content, &source)?,
            Format::XmlBif => read_xmlbif(content, &source)?,
        };
        let loaded = LoadedNetwork::new_until(name.to_string(), network, &self.budget, cancel)?;
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
            let mut out = std::fs::File::create(&temporary).map_err(storage)?;
            out.write_all(content.as_bytes()).map_err(storage)?;
            out.sync_all().map_err(storage)?;
        }
        std::fs::rename(&temporary, &target).map_err(storage)?;
        if let Ok(directory) = std::fs::File::open(&self.uploads) {
            let _ = directory.sync_all();
        }
        let mut networks = self.networks.write().expect("registry lock");
        if !replace && networks.contains_key(name) {
            let _ = std::fs::remove_file(&target);
            return Err(ServiceError::NetworkExists(name.to_string()));
        }
        let previous = self.store.network_file(name)?;
        if let Err(error) = self.store.set_network(name, &file) {
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

    /// Forgets a network: its upload (store entry and file) and any operator file of that
    /// name, so that it does not come back at the next start. Blocking.
    ///
    /// # Errors
    /// [`ServiceError::NetworkNotFound`], or storage failure.
    pub fn delete(&self, name: &str) -> Result<(), ServiceError> {
        self.get(name)?;
        let mut networks = self.networks.write().expect("registry lock");
        if let Some(file) = self.store.network_file(name)? {
            self.store.remove_network(name)?;
            let _ = std::fs::remove_file(self.uploads.join(file));
        }
        networks.remove(name);
        for extension in ["bif", "xml", "xmlbif"] {
            let path = self.directory.join(format!("{name}.{extension}"));
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(ServiceError::Storage(format!("{}: {e}", path.display()))),
            }
        }
        Ok(())
    }
}

/// The format of a server-chosen upload file, from its extension.
fn format_of(file: &str) -> Format {
    if file.ends_with(".bif") {
        Format::Bif
    } else {
        Format::XmlBif
    }
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
