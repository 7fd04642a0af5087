//! `credence._credence`: the Credence library as a CPython extension.
//!
//! A thin layer: names are resolved to ids here, at the edge, and every answer comes from the
//! library's own engines and analyses. The Python API (`credence/_inprocess.py`) wraps
//! [`CompiledNetwork`] and turns frames into the columns [`CompiledNetwork::update_columns`]
//! takes.
//!
//! Networks are interned in a process-global map keyed by the hash of their BIF text, and each
//! keeps the engines built for it, so a network shipped to a worker many times (pickled as its
//! text) is parsed and compiled once per process.

mod update;

use credence::analysis::{
    explain, intervene, maximum_a_posteriori, most_probable_explanation, value_of_information,
};
use credence::infer::{Budget, build_engine};
use credence::io::{Format, read_network, write_bif};
use credence::{
    Answer, EngineKind, Evidence, InferenceEngine, InferenceError, Network, SamplingConfig, VarId,
};
use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

create_exception!(
    credence,
    CredenceError,
    PyValueError,
    "A network, evidence or question Credence cannot use; the message is one sentence naming what and where."
);

/// The library's error chain as one sentence, as `credence` on the command line prints it:
/// each cause once, joined by ": ", newlines escaped.
pub(crate) fn sentence(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = String::new();
    let mut cause = Some(error);
    while let Some(current) = cause {
        let text = credence::io::one_line(&current.to_string());
        if !message.contains(&text) {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
        cause = current.source();
    }
    message
}

fn fail(error: impl std::error::Error + 'static) -> PyErr {
    CredenceError::new_err(sentence(&error))
}

fn fail_with(message: String) -> PyErr {
    CredenceError::new_err(message)
}

/// How an engine was asked for: the engines of one network are cached under this.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct EngineKey {
    kind: EngineKind,
    seed: u64,
    samples: Option<u64>,
    threads: usize,
}

impl EngineKey {
    fn new(engine: &str, seed: Option<u64>, samples: Option<u64>) -> PyResult<EngineKey> {
        Ok(EngineKey {
            kind: engine_kind(engine)?,
            seed: seed.unwrap_or(0),
            samples,
            threads: 0,
        })
    }

    fn config(&self) -> SamplingConfig {
        let defaults = SamplingConfig::default();
        SamplingConfig {
            n_samples: self.samples.unwrap_or(defaults.n_samples),
            seed: self.seed,
            n_threads: self.threads,
            ..defaults
        }
    }
}

/// The engine names the command line takes (`auto`, `jt`, `lw`, ...) and the gRPC client's
/// (`ENGINE_JUNCTION_TREE`, ...).
fn engine_kind(name: &str) -> PyResult<EngineKind> {
    let short = match name {
        "ENGINE_UNSPECIFIED" => "auto",
        "ENGINE_JUNCTION_TREE" => "jt",
        "ENGINE_VARIABLE_ELIMINATION" => "ve",
        "ENGINE_ENUMERATION" => "enum",
        "ENGINE_LIKELIHOOD_WEIGHTING" => "lw",
        "ENGINE_GIBBS" => "gibbs",
        "ENGINE_REJECTION" => "rejection",
        "ENGINE_EPIS" => "epis",
        other => other,
    };
    short.parse().map_err(fail_with)
}

/// The gRPC enum's name of an engine, as the gRPC client reports it.
fn engine_name(kind: EngineKind) -> &'static str {
    match kind {
        EngineKind::Auto => "ENGINE_UNSPECIFIED",
        EngineKind::JunctionTree => "ENGINE_JUNCTION_TREE",
        EngineKind::VariableElimination => "ENGINE_VARIABLE_ELIMINATION",
        EngineKind::Enumeration => "ENGINE_ENUMERATION",
        EngineKind::LikelihoodWeighting => "ENGINE_LIKELIHOOD_WEIGHTING",
        EngineKind::Gibbs => "ENGINE_GIBBS",
        EngineKind::Rejection => "ENGINE_REJECTION",
        EngineKind::Epis => "ENGINE_EPIS",
    }
}

/// A network interned in this process, with the engines built for it so far.
struct Interned {
    network: Arc<Network>,
    bif: String,
    engines: Mutex<HashMap<EngineKey, Arc<dyn InferenceEngine>>>,
}

/// Every network this process has seen, by the hash of its BIF text (a bucket per hash, each
/// entry's text compared in full, so a collision never mixes two networks up).
fn interned() -> &'static Mutex<HashMap<u64, Vec<Arc<Interned>>>> {
    static NETWORKS: OnceLock<Mutex<HashMap<u64, Vec<Arc<Interned>>>>> = OnceLock::new();
    NETWORKS.get_or_init(Default::default)
}

/// Engines compiled in this process: what "compiled once per worker" is checked against.
static COMPILATIONS: AtomicU64 = AtomicU64::new(0);

fn text_hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

fn lookup(bif: &str) -> Option<Arc<Interned>> {
    let networks = interned().lock().expect("network map lock");
    networks
        .get(&text_hash(bif))?
        .iter()
        .find(|n| n.bif == bif)
        .cloned()
}

/// The process's one copy of `network` (this one, if it is new).
fn intern(network: Network) -> Arc<Interned> {
    let bif = write_bif(&network);
    let mut networks = interned().lock().expect("network map lock");
    let bucket = networks.entry(text_hash(&bif)).or_default();
    if let Some(known) = bucket.iter().find(|n| n.bif == bif) {
        return known.clone();
    }
    let entry = Arc::new(Interned {
        network: Arc::new(network),
        bif,
        engines: Mutex::new(HashMap::new()),
    });
    bucket.push(entry.clone());
    entry
}

impl Interned {
    /// The engine for `key`, built on first use. Built outside the lock: compiling a large
    /// junction tree takes a while and other engines of the network stay usable meanwhile.
    fn engine(&self, key: EngineKey) -> Result<Arc<dyn InferenceEngine>, InferenceError> {
        if let Some(engine) = self.engines.lock().expect("engine lock").get(&key) {
            return Ok(engine.clone());
        }
        let built: Arc<dyn InferenceEngine> = Arc::from(build_engine(
            key.kind,
            self.network.clone(),
            &Budget::default(),
            &key.config(),
        )?);
        let mut engines = self.engines.lock().expect("engine lock");
        let engine = engines.entry(key).or_insert_with(|| {
            COMPILATIONS.fetch_add(1, Ordering::Relaxed);
            built
        });
        Ok(engine.clone())
    }
}

/// A network and its compiled engines, shared by every copy in the process.
#[pyclass(frozen, module = "credence._credence")]
pub struct CompiledNetwork {
    inner: Arc<Interned>,
}

impl CompiledNetwork {
    fn network(&self) -> &Network {
        &self.inner.network
    }

    fn var(&self, name: &str) -> PyResult<VarId> {
        self.network().variable_id(name).map_err(fail)
    }

    fn vars(&self, names: Option<Vec<String>>) -> PyResult<Vec<VarId>> {
        names
            .unwrap_or_default()
            .iter()
            .map(|n| self.var(n))
            .collect()
    }

    /// Hard findings first, then soft, each in the order given: as `credence query -e/--soft`.
    fn evidence(
        &self,
        hard: Option<&Bound<'_, PyDict>>,
        soft: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Evidence> {
        let network = self.network();
        let mut evidence = Evidence::new();
        if let Some(hard) = hard {
            for (var, state) in hard.iter() {
                let (var, state): (String, String) = (var.extract()?, state.extract()?);
                evidence
                    .observe_named(network, &var, &state)
                    .map_err(fail)?;
            }
        }
        if let Some(soft) = soft {
            for (var, values) in soft.iter() {
                let (var, values): (String, Vec<f64>) = (var.extract()?, values.extract()?);
                evidence
                    .add_likelihood_named(network, &var, &values)
                    .map_err(fail)?;
            }
        }
        Ok(evidence)
    }

    fn engine(&self, key: EngineKey) -> PyResult<Arc<dyn InferenceEngine>> {
        self.inner.engine(key).map_err(fail)
    }

    /// `{VAR: {STATE: P}}` in target order.
    fn posteriors_dict<'py>(
        &self,
        py: Python<'py>,
        posteriors: &credence::Posteriors,
    ) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        for (var, marginal) in posteriors.iter() {
            out.set_item(
                self.network().variable(var).name(),
                self.distribution(py, var, marginal)?,
            )?;
        }
        Ok(out)
    }

    fn distribution<'py>(
        &self,
        py: Python<'py>,
        var: VarId,
        values: &[f64],
    ) -> PyResult<Bound<'py, PyDict>> {
        let states = PyDict::new(py);
        for (state, p) in self.network().variable(var).states().iter().zip(values) {
            states.set_item(state, p)?;
        }
        Ok(states)
    }

    /// The gRPC client's answer dict.
    fn answer_dict<'py>(&self, py: Python<'py>, answer: &Answer) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        out.set_item("posteriors", self.posteriors_dict(py, &answer.posteriors)?)?;
        out.set_item("log_p_evidence", answer.posteriors.ln_p_evidence())?;
        out.set_item("engine", engine_name(answer.engine))?;
        if let Some(reason) = &answer.reason {
            out.set_item("engine_reason", reason)?;
        }
        if let Some(stats) = &answer.sampling {
            let (stderr, intervals) = (PyDict::new(py), PyDict::new(py));
            for ((var, _), u) in answer.posteriors.iter().zip(&stats.uncertainty) {
                let name = self.network().variable(var).name();
                stderr.set_item(name, u.stderr.clone())?;
                intervals.set_item(name, u.intervals.clone())?;
            }
            out.set_item("stderr", stderr)?;
            out.set_item("intervals", intervals)?;
            let sampling = PyDict::new(py);
            sampling.set_item("n_samples", stats.n_samples)?;
            sampling.set_item("ess", stats.ess)?;
            sampling.set_item("r_hat", stats.r_hat)?;
            sampling.set_item("stopped_by", stats.stop.as_str())?;
            sampling.set_item("seed", stats.seed)?;
            sampling.set_item("warnings", stats.warnings.clone())?;
            out.set_item("sampling", sampling)?;
        }
        Ok(out)
    }
}

#[pymethods]
impl CompiledNetwork {
    /// Reads a network file (BIF, or XMLBIF by extension or content).
    #[staticmethod]
    fn read(py: Python<'_>, path: std::path::PathBuf) -> PyResult<CompiledNetwork> {
        let network = py.detach(|| read_network(&path)).map_err(fail)?;
        Ok(CompiledNetwork {
            inner: intern(network),
        })
    }

    /// Parses a network from text: `format` is "bif" or "xmlbif", or None to tell by content.
    #[staticmethod]
    #[pyo3(signature = (text, format=None, source="<text>"))]
    fn parse(text: &str, format: Option<&str>, source: &str) -> PyResult<CompiledNetwork> {
        if let Some(known) = lookup(text) {
            return Ok(CompiledNetwork { inner: known });
        }
        let format = match format {
            None => Format::detect(Path::new(source), text),
            Some(name) => Format::from_name(name).ok_or_else(|| {
                fail_with(format!(
                    "unknown network format '{name}' (valid: bif, xmlbif, net, xdsl, uai)"
                ))
            })?,
        };
        let network = format.read(text, source).map_err(fail)?;
        Ok(CompiledNetwork {
            inner: intern(network),
        })
    }

    /// The network as BIF text: what a pickle holds.
    fn bif(&self) -> &str {
        &self.inner.bif
    }

    #[getter]
    fn name(&self) -> &str {
        self.network().name()
    }

    #[getter]
    fn variables(&self) -> Vec<String> {
        self.network()
            .variables()
            .iter()
            .map(|v| v.name().to_string())
            .collect()
    }

    fn states(&self, var: &str) -> PyResult<Vec<String>> {
        Ok(self.network().variable(self.var(var)?).states().to_vec())
    }

    fn parents(&self, var: &str) -> PyResult<Vec<String>> {
        let network = self.network();
        Ok(network
            .parents(self.var(var)?)
            .iter()
            .map(|&p| network.variable(p).name().to_string())
            .collect())
    }

    /// Posteriors given evidence, shaped as the gRPC client's `query`.
    #[pyo3(signature = (evidence=None, soft=None, targets=None, engine="auto", seed=None, samples=None))]
    #[allow(clippy::too_many_arguments)]
    fn query<'py>(
        &self,
        py: Python<'py>,
        evidence: Option<&Bound<'py, PyDict>>,
        soft: Option<&Bound<'py, PyDict>>,
        targets: Option<Vec<String>>,
        engine: &str,
        seed: Option<u64>,
        samples: Option<u64>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let evidence = self.evidence(evidence, soft)?;
        let targets = self.vars(targets)?;
        let key = EngineKey::new(engine, seed, samples)?;
        let answer = py
            .detach(|| {
                self.inner
                    .engine(key)
                    .and_then(|e| e.answer(&evidence, &targets))
            })
            .map_err(fail)?;
        self.answer_dict(py, &answer)
    }

    /// The most probable joint state of `variables` (every unobserved variable when None):
    /// `{"assignment": {VAR: STATE}, "log_probability": F, "log_p_evidence": F}`.
    #[pyo3(signature = (evidence=None, soft=None, variables=None))]
    fn mpe<'py>(
        &self,
        py: Python<'py>,
        evidence: Option<&Bound<'py, PyDict>>,
        soft: Option<&Bound<'py, PyDict>>,
        variables: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let evidence = self.evidence(evidence, soft)?;
        let vars = self.vars(variables)?;
        let network = self.network();
        let best = py
            .detach(|| {
                if vars.is_empty() {
                    most_probable_explanation(network, &evidence)
                } else {
                    maximum_a_posteriori(network, &evidence, &vars)
                }
            })
            .map_err(fail)?;
        // In the order asked for (MAP) or in declaration order (MPE), as `credence mpe`.
        let order: Vec<VarId> = if vars.is_empty() {
            best.assignment.iter().map(|&(v, _)| v).collect()
        } else {
            vars
        };
        let assignment = PyDict::new(py);
        for var in order {
            let variable = network.variable(var);
            let state = best
                .state(var)
                .expect("every variable asked for is assigned");
            assignment.set_item(variable.name(), &variable.states()[state])?;
        }
        let out = PyDict::new(py);
        out.set_item("assignment", assignment)?;
        out.set_item("log_probability", best.ln_probability)?;
        out.set_item("log_p_evidence", best.ln_p_evidence)?;
        Ok(out)
    }

    /// What to observe next: `[{"variable", "mutual_information"}]`, most informative first.
    #[pyo3(signature = (target, evidence=None, soft=None, candidates=None, engine="auto"))]
    fn value_of_information<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        evidence: Option<&Bound<'py, PyDict>>,
        soft: Option<&Bound<'py, PyDict>>,
        candidates: Option<Vec<String>>,
        engine: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let evidence = self.evidence(evidence, soft)?;
        let target = self.var(target)?;
        let candidates = self.vars(candidates)?;
        let engine = self.engine(EngineKey::new(engine, None, None)?)?;
        let report = py
            .detach(|| value_of_information(engine.as_ref(), &evidence, target, &candidates))
            .map_err(fail)?;
        let out = PyList::empty(py);
        for item in &report.ranking {
            let row = PyDict::new(py);
            row.set_item("variable", self.network().variable(item.variable).name())?;
            row.set_item("mutual_information", item.mutual_information)?;
            out.append(row)?;
        }
        Ok(out)
    }

    /// Each evidence item's impact on `target`, and the evidence conflict (the gRPC client's
    /// `explain` dict, with the log-likelihood ratios and item probabilities besides).
    #[pyo3(signature = (target, evidence=None, soft=None, engine="auto"))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        target: &str,
        evidence: Option<&Bound<'py, PyDict>>,
        soft: Option<&Bound<'py, PyDict>>,
        engine: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let evidence = self.evidence(evidence, soft)?;
        let target = self.var(target)?;
        let engine = self.engine(EngineKey::new(engine, None, None)?)?;
        let report = py
            .detach(|| explain(engine.as_ref(), &evidence, target))
            .map_err(fail)?;
        let network = self.network();
        let out = PyDict::new(py);
        out.set_item("target", network.variable(target).name())?;
        out.set_item("states", network.variable(target).states().to_vec())?;
        out.set_item("prior", report.prior.clone())?;
        out.set_item("posterior", report.posterior.clone())?;
        out.set_item("log_p_evidence", report.ln_p_evidence)?;
        out.set_item("conflict", report.conflict.value)?;
        out.set_item("conflicting", report.conflict.is_conflict())?;
        let items = PyList::empty(py);
        for item in &report.items {
            let row = PyDict::new(py);
            let variable = network.variable(item.variable);
            row.set_item("variable", variable.name())?;
            let state = evidence
                .hard_state(item.variable)
                .map(|s| variable.states()[s].clone())
                .unwrap_or_default();
            row.set_item("state", state)?;
            let likelihood = evidence
                .soft()
                .get(&item.variable)
                .cloned()
                .unwrap_or_default();
            row.set_item("likelihood", likelihood)?;
            row.set_item("total_variation", item.total_variation)?;
            row.set_item("posterior_without", item.posterior_without.clone())?;
            row.set_item("log_likelihood_ratio", item.log_likelihood_ratio.clone())?;
            row.set_item("log_p_item", item.ln_p_item)?;
            row.set_item("log_p_item_given_rest", item.ln_p_item_given_rest)?;
            row.set_item("conflict_contribution", item.conflict_contribution)?;
            items.append(row)?;
        }
        out.set_item("items", items)?;
        Ok(out)
    }

    /// `P(targets | do(interventions), evidence)` by graph surgery, beside the observational
    /// `P(targets | interventions observed, evidence)` (empty when that is impossible).
    #[pyo3(signature = (interventions, evidence=None, soft=None, targets=None, engine="auto"))]
    fn intervene<'py>(
        &self,
        py: Python<'py>,
        interventions: &Bound<'py, PyDict>,
        evidence: Option<&Bound<'py, PyDict>>,
        soft: Option<&Bound<'py, PyDict>>,
        targets: Option<Vec<String>>,
        engine: &str,
    ) -> PyResult<Bound<'py, PyDict>> {
        let network = self.inner.network.clone();
        let evidence = self.evidence(evidence, soft)?;
        let targets = self.vars(targets)?;
        let key = EngineKey::new(engine, None, None)?;
        let mut settings: Vec<(VarId, usize)> = Vec::new();
        for (var, state) in interventions.iter() {
            let (var, state): (String, String) = (var.extract()?, state.extract()?);
            let id = self.var(&var)?;
            let state = network.state_index(id, &state).map_err(fail)?;
            settings.push((id, state));
        }
        let original = self.engine(key)?;
        let (interventional, observational) = py
            .detach(|| -> Result<_, credence::Error> {
                let mutilated = Arc::new(intervene(&network, &settings)?);
                let done = build_engine(key.kind, mutilated, &Budget::default(), &key.config())?
                    .answer(&evidence, &targets)?;
                // The same question with the intervened variables observed instead.
                let mut observed = evidence.clone();
                let observable = settings
                    .iter()
                    .all(|&(var, state)| observed.observe(&network, var, state).is_ok());
                let seen = if observable {
                    match original.posteriors(&observed, &targets) {
                        Ok(p) => Some(p),
                        Err(InferenceError::ImpossibleEvidence { .. }) => None,
                        Err(other) => return Err(credence::Error::from(other)),
                    }
                } else {
                    None
                };
                Ok((done, seen))
            })
            .map_err(fail)?;
        let out = PyDict::new(py);
        out.set_item(
            "interventional",
            self.posteriors_dict(py, &interventional.posteriors)?,
        )?;
        let seen = match &observational {
            Some(p) => self.posteriors_dict(py, p)?,
            None => PyDict::new(py),
        };
        out.set_item("observational", seen)?;
        out.set_item("log_p_evidence", interventional.posteriors.ln_p_evidence())?;
        out.set_item("engine", engine_name(interventional.engine))?;
        Ok(out)
    }

    /// Many cases at once, on all cores (or `threads`) with the GIL released; see
    /// [`update::run`]. Returns `(columns, posteriors, log_p_evidence, errors)`.
    #[pyo3(signature = (n_cases, names, codes, categories, targets=None, engine="auto", seed=None, samples=None, threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn update_columns<'py>(
        &self,
        py: Python<'py>,
        n_cases: usize,
        names: Vec<String>,
        codes: Vec<numpy::PyReadonlyArray1<'py, i32>>,
        categories: Vec<Vec<Option<String>>>,
        targets: Option<Vec<String>>,
        engine: &str,
        seed: Option<u64>,
        samples: Option<u64>,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let targets = self.vars(targets)?;
        let mut key = EngineKey::new(engine, seed, samples)?;
        // Cases run in parallel already: a sampler's blocks stay on the case's thread.
        if key.kind.is_sampler() {
            key.threads = 1;
        }
        let engine = self.engine(key)?;
        let codes: Vec<&[i32]> = codes
            .iter()
            .map(|c| c.as_slice())
            .collect::<Result<_, _>>()
            .map_err(|e| fail_with(format!("the case codes are not contiguous: {e}")))?;
        let columns = update::Columns::new(self.network(), &names, n_cases, &codes, &categories)
            .map_err(fail_with)?;
        let result = py.detach(|| update::run(engine.as_ref(), &columns, &targets, threads));
        let result = result.map_err(fail_with)?;
        let posteriors = numpy::PyArray1::from_vec(py, result.posteriors);
        let log_p = numpy::PyArray1::from_vec(py, result.log_p_evidence);
        (result.columns, posteriors, log_p, result.errors).into_pyobject(py)
    }
}

/// A network from its BIF text: what unpickling calls. A text this process has seen is not
/// parsed again.
#[pyfunction]
fn from_bif(text: &str) -> PyResult<CompiledNetwork> {
    CompiledNetwork::parse(text, Some("bif"), "<pickle>")
}

/// What this process holds: networks interned and engines compiled.
#[pyfunction]
fn cache_info(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    let networks: usize = interned()
        .lock()
        .expect("network map lock")
        .values()
        .map(Vec::len)
        .sum();
    out.set_item("networks", networks)?;
    out.set_item("compilations", COMPILATIONS.load(Ordering::Relaxed))?;
    Ok(out)
}

#[pymodule]
fn _credence(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<CompiledNetwork>()?;
    m.add_function(wrap_pyfunction!(from_bif, m)?)?;
    m.add_function(wrap_pyfunction!(cache_info, m)?)?;
    m.add("CredenceError", m.py().get_type::<CredenceError>())?;
    Ok(())
}
