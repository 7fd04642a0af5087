//! Sampling engines: approximate posteriors with honest error bars, for networks whose junction
//! tree does not fit in memory or when a quick answer will do.
//!
//! - [`SamplingMethod::LikelihoodWeighting`]: evidence clamped, each sample weighted by the
//!   likelihood of the evidence given its parents (Koller & Friedman, *Probabilistic Graphical
//!   Models*, 2009, §12.2.2).
//! - [`SamplingMethod::Rejection`]: forward (logic) sampling (Henrion 1988), keeping the
//!   samples that agree with the evidence (K&F §12.1).
//! - [`SamplingMethod::Gibbs`]: Markov-chain Monte Carlo over the unobserved variables from
//!   their Markov-blanket conditionals (K&F §12.3), several chains, burn-in, thinning, split
//!   R-hat, and blocking where deterministic zeros would make the chain reducible.
//! - [`SamplingMethod::Epis`]: EPIS-BN importance sampling (Yuan & Druzdzel, UAI 2003), whose
//!   proposal comes from loopy belief propagation, for unlikely evidence.
//!
//! Every engine accepts hard and soft evidence, and every answer carries, per state, a
//! standard error and a 95% interval, plus the run's effective sample size and why it stopped.
//!
//! # Reproducibility
//!
//! The sample budget is cut into blocks of [`BLOCK_SIZE`] samples; block `b` draws from a random
//! stream that is a pure function of `(seed, b)`, and blocks are combined in block order. Threads
//! only decide who computes which block, so a seed gives bit-identical answers on any number of
//! threads. Gibbs chains likewise each own a stream, advance in rounds and are combined in chain
//! order. The precision rule is checked after every block (Gibbs: every round) in that order,
//! so precision-stopped runs are reproducible too. A time-stopped run is the deterministic
//! function of the number of blocks (rounds) it completed, which depends on the machine.

mod epis;
mod gibbs;
mod kernel;
mod likelihood_weighting;
mod rejection;
mod rng;
mod stats;

use super::{
    Answer, EngineKind, InferenceEngine, InferenceError, Posteriors, check_ids, resolve_targets,
};
use crate::cancel::{CancelToken, Interrupted};
use crate::evidence::Evidence;
use crate::model::{Network, VarId};
use kernel::{CompiledNetwork, Proposal, draw_sample};
use rayon::prelude::*;
use rng::{Rng, Stream};
use stats::{Estimates, Layout, WeightedSums};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Samples per block: the unit of parallel work, of seeding and of stopping checks.
pub const BLOCK_SIZE: u64 = 4096;

/// How long to sample and how, shared by all sampling engines.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplingConfig {
    /// Sample budget: samples drawn (Gibbs: samples kept, over all chains).
    pub n_samples: u64,
    /// Seed of every random stream.
    pub seed: u64,
    /// Time budget, checked between blocks (and every 256 samples within one).
    pub max_time: Option<Duration>,
    /// Stop when every unobserved target state's 95% half-width is below this.
    pub precision: Option<f64>,
    /// Gibbs: number of independent chains (at least 2 for R-hat).
    pub n_chains: usize,
    /// Gibbs: sweeps discarded at the start of each chain.
    pub burn_in: u64,
    /// Gibbs: sweeps per kept sample.
    pub thinning: u64,
    /// Worker threads; 0 uses rayon's global pool (all cores, or `RAYON_NUM_THREADS`).
    pub n_threads: usize,
}

impl Default for SamplingConfig {
    fn default() -> SamplingConfig {
        SamplingConfig {
            n_samples: 100_000,
            seed: 0,
            max_time: None,
            precision: None,
            n_chains: 4,
            burn_in: 1_000,
            thinning: 1,
            n_threads: 0,
        }
    }
}

/// Most samples a run may be asked for (Gibbs: kept samples over all chains).
pub const MAX_SAMPLES: u64 = 10_000_000_000;
/// Most Gibbs chains: each holds a state and its batch counts, and the pilot keeps a start
/// state per chain.
pub const MAX_CHAINS: usize = 256;
/// Most Gibbs burn-in sweeps per chain.
pub const MAX_BURN_IN: u64 = 10_000_000;
/// Most Gibbs sweeps per kept sample.
pub const MAX_THINNING: u64 = 10_000;
/// Longest time budget.
pub const MAX_TIME: Duration = Duration::from_secs(3600);
/// Smallest target precision (95% half-width); the sample budget bounds the run anyway, so
/// this only refuses values that cannot be meant.
pub const MIN_PRECISION: f64 = 1e-9;
/// Most worker threads of an engine's own pool.
pub const MAX_THREADS: usize = 256;

impl SamplingConfig {
    /// Checks every setting against its bound (the `MAX_*` and `MIN_*` constants of this
    /// module), so that no request can make a sampler allocate or run out of proportion.
    ///
    /// # Errors
    /// [`InferenceError::InvalidSettings`] naming the field, its value and the bound, e.g.
    /// `n_chains = 1000000 is over the limit of 256`.
    pub fn validate(&self) -> Result<(), InferenceError> {
        let invalid = |m: String| Err(InferenceError::InvalidSettings(m));
        let at_least_one = |field: &str, value: u64| -> Result<(), InferenceError> {
            if value == 0 {
                return invalid(format!("{field} = 0 must be at least 1"));
            }
            Ok(())
        };
        let at_most = |field: &str, value: u64, limit: u64| -> Result<(), InferenceError> {
            if value > limit {
                return invalid(format!("{field} = {value} is over the limit of {limit}"));
            }
            Ok(())
        };
        at_least_one("n_samples", self.n_samples)?;
        at_most("n_samples", self.n_samples, MAX_SAMPLES)?;
        at_least_one("n_chains", self.n_chains as u64)?;
        at_most("n_chains", self.n_chains as u64, MAX_CHAINS as u64)?;
        at_most("burn_in", self.burn_in, MAX_BURN_IN)?;
        at_least_one("thinning", self.thinning)?;
        at_most("thinning", self.thinning, MAX_THINNING)?;
        at_most("n_threads", self.n_threads as u64, MAX_THREADS as u64)?;
        if let Some(max_time) = self.max_time
            && max_time > MAX_TIME
        {
            return invalid(format!(
                "max_time = {} s is over the limit of {} s",
                max_time.as_secs_f64(),
                MAX_TIME.as_secs()
            ));
        }
        if let Some(p) = self.precision
            && !(MIN_PRECISION..1.0).contains(&p)
        {
            return invalid(format!("precision = {p} is not in [{MIN_PRECISION:e}, 1)"));
        }
        Ok(())
    }
}

/// The sampling algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SamplingMethod {
    /// Likelihood weighting.
    LikelihoodWeighting,
    /// Gibbs sampling.
    Gibbs,
    /// Forward sampling with rejection.
    Rejection,
    /// EPIS-BN importance sampling.
    Epis,
}

impl SamplingMethod {
    /// The engine kind of this method.
    pub fn kind(self) -> EngineKind {
        match self {
            SamplingMethod::LikelihoodWeighting => EngineKind::LikelihoodWeighting,
            SamplingMethod::Gibbs => EngineKind::Gibbs,
            SamplingMethod::Rejection => EngineKind::Rejection,
            SamplingMethod::Epis => EngineKind::Epis,
        }
    }

    /// The method of a sampling engine kind, `None` for exact or automatic kinds.
    pub fn of(kind: EngineKind) -> Option<SamplingMethod> {
        match kind {
            EngineKind::LikelihoodWeighting => Some(SamplingMethod::LikelihoodWeighting),
            EngineKind::Gibbs => Some(SamplingMethod::Gibbs),
            EngineKind::Rejection => Some(SamplingMethod::Rejection),
            EngineKind::Epis => Some(SamplingMethod::Epis),
            _ => None,
        }
    }
}

/// What ended a sampling run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// The sample budget was drawn.
    SampleBudget,
    /// The time budget ran out.
    TimeBudget,
    /// Every requested marginal reached the target precision.
    Precision,
}

impl StopReason {
    /// `samples`, `time` or `precision`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::SampleBudget => "samples",
            StopReason::TimeBudget => "time",
            StopReason::Precision => "precision",
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::SampleBudget => "the sample budget",
            StopReason::TimeBudget => "the time budget",
            StopReason::Precision => "the target precision",
        })
    }
}

/// Error bars of one target's sampled marginal.
#[derive(Clone, Debug, PartialEq)]
pub struct Uncertainty {
    /// The variable.
    pub var: VarId,
    /// Standard error of each state's estimate.
    pub stderr: Vec<f64>,
    /// 95% interval of each state's probability (a point for hard-observed variables).
    pub intervals: Vec<(f64, f64)>,
}

/// How a sampled answer was obtained and how far to trust it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SamplingStats {
    /// Per target, in the order of the posteriors.
    pub uncertainty: Vec<Uncertainty>,
    /// Samples drawn (Gibbs: kept, over all chains), zero weights and rejections included.
    pub n_samples: u64,
    /// Effective sample size: Kish's `(Σw)²/Σw²` for weighted samples (the number accepted for
    /// rejection sampling); for Gibbs the smallest batch-means ESS over the unobserved target
    /// states.
    pub ess: f64,
    /// Gibbs: the largest split R-hat over the unobserved target states.
    pub r_hat: Option<f64>,
    /// What ended the run.
    pub stop: StopReason,
    /// The seed of the run.
    pub seed: u64,
    /// Reasons to distrust the answer (low ESS, R-hat above 1.01).
    pub warnings: Vec<String>,
    /// What the engine did that a reader should know (blocked Gibbs updates).
    pub notes: Vec<String>,
}

impl SamplingStats {
    /// The error bars of `var`, if it was a target.
    pub fn of(&self, var: VarId) -> Option<&Uncertainty> {
        self.uncertainty.iter().find(|u| u.var == var)
    }
}

/// A sampling engine over one network. Immutable and `Sync`: one engine serves concurrent
/// queries, and each query draws from its own seeded streams.
#[derive(Clone)]
pub struct Sampler {
    network: Arc<Network>,
    compiled: Arc<CompiledNetwork>,
    method: SamplingMethod,
    config: SamplingConfig,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl fmt::Debug for Sampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sampler")
            .field("network", &self.network.name())
            .field("method", &self.method)
            .field("config", &self.config)
            .finish()
    }
}

impl Sampler {
    /// A `method` engine over `network`, configured by `config`.
    ///
    /// # Errors
    /// [`InferenceError::InvalidSettings`] for a setting out of its bounds (see
    /// [`SamplingConfig::validate`]) or a thread pool that cannot be started.
    pub fn new(
        network: Arc<Network>,
        method: SamplingMethod,
        config: SamplingConfig,
    ) -> Result<Sampler, InferenceError> {
        config.validate()?;
        let pool = if config.n_threads > 0 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(config.n_threads)
                .build()
                .map_err(|e| InferenceError::InvalidSettings(format!("thread pool: {e}")))?;
            Some(Arc::new(pool))
        } else {
            None
        };
        Ok(Sampler {
            compiled: Arc::new(CompiledNetwork::new(&network)),
            network,
            method,
            config,
            pool,
        })
    }

    /// The same engine (sharing its compiled tables) with another method.
    pub fn with_method(&self, method: SamplingMethod) -> Sampler {
        Sampler {
            method,
            ..self.clone()
        }
    }

    /// The same engine with another configuration (the thread count is kept).
    ///
    /// # Errors
    /// As [`new`](Self::new), for invalid settings.
    pub fn with_config(&self, config: SamplingConfig) -> Result<Sampler, InferenceError> {
        config.validate()?;
        Ok(Sampler {
            config,
            ..self.clone()
        })
    }

    /// The method this engine runs.
    pub fn method(&self) -> SamplingMethod {
        self.method
    }

    /// The configuration.
    pub fn config(&self) -> &SamplingConfig {
        &self.config
    }

    /// Samples `P(t | e)` for each target `t` (all variables if `targets` is empty), with error
    /// bars, the effective sample size and the stop reason in [`Answer::sampling`].
    /// `ln P(e)` is the mean importance weight for likelihood weighting and EPIS-BN, the
    /// acceptance rate (times the largest soft likelihoods) for rejection sampling, and for
    /// Gibbs the estimate of the EPIS-BN pilot run that picks the chains' starting states.
    ///
    /// # Errors
    /// [`InferenceError::NoWeight`] when every sample had weight zero or was rejected (the
    /// evidence is impossible or too unlikely for this engine);
    /// [`InferenceError::TimeBudgetTooShort`] when the time budget ended before the first block;
    /// [`InferenceError::ChainStuck`] when Gibbs chains provably failed to mix;
    /// [`InferenceError::ForeignId`] for ids from another network.
    pub fn sample(&self, evidence: &Evidence, targets: &[VarId]) -> Result<Answer, InferenceError> {
        self.sample_until(evidence, targets, &CancelToken::new())
    }

    /// As [`sample`](Self::sample), stopping within about 100 ms of `cancel` being
    /// cancelled. The time budget (`max_time`) is soft: the run stops and reports what it
    /// has; the token is hard: the run ends with [`InferenceError::Interrupted`].
    ///
    /// # Errors
    /// As [`sample`](Self::sample), and [`InferenceError::Interrupted`].
    pub fn sample_until(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
        cancel: &CancelToken,
    ) -> Result<Answer, InferenceError> {
        let network = &*self.network;
        check_ids(network, evidence, targets)?;
        cancel.check()?;
        let targets = resolve_targets(network, targets);
        let layout = layout(network, evidence, &targets);
        let run = Run {
            deadline: self.deadline(),
            cancel,
        };
        match self.method {
            SamplingMethod::LikelihoodWeighting => {
                let proposal = likelihood_weighting::proposal(&self.compiled, evidence);
                self.independent(&proposal, 0.0, &layout, evidence, &run)
            }
            SamplingMethod::Rejection => {
                let (proposal, ln_offset) = rejection::proposal(&self.compiled, evidence);
                self.independent(&proposal, ln_offset, &layout, evidence, &run)
            }
            SamplingMethod::Epis => {
                let proposal = epis::proposal(&self.compiled, evidence, cancel)?;
                self.independent(&proposal, 0.0, &layout, evidence, &run)
            }
            SamplingMethod::Gibbs => gibbs::run(self, evidence, &layout, &run),
        }
    }

    /// When the time budget ends, counted from now (`None` without one).
    fn deadline(&self) -> Option<Instant> {
        self.config
            .max_time
            .and_then(|t| Instant::now().checked_add(t))
    }

    /// Runs `f` on this engine's thread pool.
    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// Block `block` of an independent-sample run, or `None` if the time budget ended first.
    fn run_block(
        &self,
        block: u64,
        n_samples: u64,
        proposal: &Proposal,
        layout: &Layout,
        run: &Run<'_>,
    ) -> Result<Option<WeightedSums>, Interrupted> {
        let n = (n_samples - block * BLOCK_SIZE).min(BLOCK_SIZE);
        let mut rng = Rng::stream(self.config.seed, Stream::Block, block);
        let mut states = vec![0u32; self.compiled.n_variables()];
        let mut sums = WeightedSums::new(layout.n_slots);
        for i in 0..n {
            if i % CHECK_EVERY == 0 && run.late()? {
                return Ok(None);
            }
            let weight = draw_sample(&self.compiled, proposal, &mut rng, &mut states);
            sums.add(weight.w, weight.ln_scale, &states, layout);
        }
        Ok(Some(sums))
    }

    /// Draws blocks until a stopping rule fires; see the module docs for why the result does
    /// not depend on the number of threads.
    fn draw_blocks(
        &self,
        proposal: &Proposal,
        layout: &Layout,
        n_samples: u64,
        precision: Option<f64>,
        run: &Run<'_>,
    ) -> Result<(WeightedSums, StopReason), Interrupted> {
        let n_blocks = n_samples.div_ceil(BLOCK_SIZE);
        let mut total = WeightedSums::new(layout.n_slots);
        let stop = self.install(|| {
            // Enough blocks per round to keep every thread busy; the answer does not depend on it.
            let round = (2 * rayon::current_num_threads()).max(2) as u64;
            let mut next = 0;
            loop {
                let end = (next + round).min(n_blocks);
                let blocks: Vec<Result<Option<WeightedSums>, Interrupted>> = (next..end)
                    .into_par_iter()
                    .map(|b| self.run_block(b, n_samples, proposal, layout, run))
                    .collect();
                for block in blocks {
                    let Some(block) = block? else {
                        return Ok(StopReason::TimeBudget);
                    };
                    total.merge(&block);
                    if let Some(precision) = precision
                        && total.has_weight()
                        && total.estimates(layout).precise_to(layout, precision)
                    {
                        return Ok(StopReason::Precision);
                    }
                }
                next = end;
                if next >= n_blocks {
                    return Ok(StopReason::SampleBudget);
                }
                if run.late()? {
                    return Ok(StopReason::TimeBudget);
                }
            }
        })?;
        Ok((total, stop))
    }

    /// Likelihood weighting, rejection sampling and EPIS-BN: independent weighted samples from
    /// `proposal`; `ln_offset` is added to the log of the mean weight to estimate `ln P(e)`.
    fn independent(
        &self,
        proposal: &Proposal,
        ln_offset: f64,
        layout: &Layout,
        evidence: &Evidence,
        run: &Run<'_>,
    ) -> Result<Answer, InferenceError> {
        let engine = self.method.kind();
        let (total, stop) = self.draw_blocks(
            proposal,
            layout,
            self.config.n_samples,
            self.config.precision,
            run,
        )?;
        if total.n_drawn == 0 {
            return Err(InferenceError::TimeBudgetTooShort {
                engine,
                max_time: self.config.max_time.unwrap_or_default(),
                block: BLOCK_SIZE.min(self.config.n_samples),
            });
        }
        if !total.has_weight() {
            return Err(InferenceError::NoWeight {
                engine,
                n_samples: total.n_drawn,
                evidence: evidence.describe(&self.network),
            });
        }
        let estimates = total.estimates(layout);
        let ess = total.ess();
        let mut warnings = Vec::new();
        if !evidence.is_empty() && (ess < 100.0 || ess < 0.01 * total.n_drawn as f64) {
            let advice = match self.method {
                SamplingMethod::Epis => "draw more samples, or use an exact engine (jt)",
                _ => "try epis, or draw more samples",
            };
            warnings.push(format!(
                "only {ess:.0} effective samples out of {}: the evidence is unlikely for {engine}, \
                 so the error bars are rough; {advice}",
                total.n_drawn
            ));
        }
        Ok(finish(
            engine,
            layout,
            estimates,
            total.ln_mean_weight() + ln_offset + evidence.ln_soft_scale(),
            SamplingStats {
                uncertainty: Vec::new(),
                n_samples: total.n_drawn,
                ess,
                r_hat: None,
                stop,
                seed: self.config.seed,
                warnings,
                notes: Vec::new(),
            },
        ))
    }

    /// A short likelihood-weighting run of at most one block: its ESS fraction tells the
    /// automatic engine whether likelihood weighting suits the evidence.
    pub(crate) fn pilot_ess_fraction(
        &self,
        evidence: &Evidence,
        cancel: &CancelToken,
    ) -> Result<f64, Interrupted> {
        let layout = layout(&self.network, evidence, &[]);
        let proposal = likelihood_weighting::proposal(&self.compiled, evidence);
        let mut rng = Rng::stream(self.config.seed, Stream::Pilot, 1);
        let mut states = vec![0u32; self.compiled.n_variables()];
        let mut sums = WeightedSums::new(layout.n_slots);
        for i in 0..BLOCK_SIZE {
            if i % CHECK_EVERY == 0 {
                cancel.check()?;
            }
            let weight = draw_sample(&self.compiled, &proposal, &mut rng, &mut states);
            sums.add(weight.w, weight.ln_scale, &states, &layout);
        }
        Ok(sums.ess() / BLOCK_SIZE as f64)
    }
}

/// Samples drawn between two checks of the clock and the cancellation token: on munin a
/// sample takes tens of microseconds, so a check every few milliseconds.
const CHECK_EVERY: u64 = 256;

/// What stops one run: its time budget (soft: the run reports what it has) and the caller's
/// token (hard: the run ends with an error).
struct Run<'a> {
    deadline: Option<Instant>,
    cancel: &'a CancelToken,
}

impl Run<'_> {
    /// Whether the time budget has ended; `Err` when the token stops the run.
    fn late(&self) -> Result<bool, Interrupted> {
        self.cancel.check()?;
        Ok(self.deadline.is_some_and(|d| Instant::now() >= d))
    }
}

/// Where each target's states go in the flat accumulators.
fn layout(network: &Network, evidence: &Evidence, targets: &[VarId]) -> Layout {
    let mut slots = Vec::with_capacity(targets.len());
    let mut cards = Vec::with_capacity(targets.len());
    let mut observed = Vec::with_capacity(targets.len());
    let mut n_slots = 0;
    for &var in targets {
        slots.push((var.index(), n_slots));
        cards.push(network.cardinality(var));
        observed.push(evidence.hard_state(var).is_some());
        n_slots += network.cardinality(var);
    }
    Layout {
        targets: slots,
        cards,
        observed,
        n_slots,
    }
}

/// Packs estimates into an [`Answer`], filling `stats.uncertainty`.
fn finish(
    engine: EngineKind,
    layout: &Layout,
    estimates: Estimates,
    ln_p_evidence: f64,
    mut stats: SamplingStats,
) -> Answer {
    let mut marginals = Vec::with_capacity(layout.targets.len());
    stats.uncertainty = Vec::with_capacity(layout.targets.len());
    for (&(var, slot), &card) in layout.targets.iter().zip(&layout.cards) {
        let range = slot..slot + card;
        marginals.push((VarId::new(var), estimates.p[range.clone()].to_vec()));
        stats.uncertainty.push(Uncertainty {
            var: VarId::new(var),
            stderr: estimates.stderr[range.clone()].to_vec(),
            intervals: estimates.interval[range].to_vec(),
        });
    }
    Answer {
        engine,
        reason: None,
        posteriors: Posteriors::new(ln_p_evidence, marginals),
        sampling: Some(stats),
    }
}

impl InferenceEngine for Sampler {
    fn answer_until(
        &self,
        evidence: &Evidence,
        targets: &[VarId],
        cancel: &CancelToken,
    ) -> Result<Answer, InferenceError> {
        self.sample_until(evidence, targets, cancel)
    }

    fn network(&self) -> &Network {
        &self.network
    }

    fn kind(&self) -> EngineKind {
        self.method.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(config: SamplingConfig) -> String {
        match config.validate() {
            Err(InferenceError::InvalidSettings(message)) => message,
            other => panic!("{config:?} gave {other:?}"),
        }
    }

    #[test]
    fn every_setting_is_bounded_and_the_message_names_field_value_and_bound() {
        let base = SamplingConfig::default();
        assert_eq!(base.validate(), Ok(()));
        let cases = [
            (
                SamplingConfig {
                    n_chains: 1_000_000,
                    ..base.clone()
                },
                "n_chains = 1000000 is over the limit of 256",
            ),
            (
                SamplingConfig {
                    n_chains: 0,
                    ..base.clone()
                },
                "n_chains = 0 must be at least 1",
            ),
            (
                SamplingConfig {
                    n_samples: MAX_SAMPLES + 1,
                    ..base.clone()
                },
                "n_samples = 10000000001 is over the limit of 10000000000",
            ),
            (
                SamplingConfig {
                    burn_in: u64::MAX,
                    ..base.clone()
                },
                "burn_in = 18446744073709551615 is over the limit of 10000000",
            ),
            (
                SamplingConfig {
                    thinning: MAX_THINNING + 1,
                    ..base.clone()
                },
                "thinning = 10001 is over the limit of 10000",
            ),
            (
                SamplingConfig {
                    n_threads: 100_000,
                    ..base.clone()
                },
                "n_threads = 100000 is over the limit of 256",
            ),
            (
                SamplingConfig {
                    max_time: Some(Duration::MAX),
                    ..base.clone()
                },
                "max_time = 18446744073709552000 s is over the limit of 3600 s",
            ),
            (
                SamplingConfig {
                    precision: Some(f64::NAN),
                    ..base.clone()
                },
                "precision = NaN is not in [1e-9, 1)",
            ),
        ];
        for (config, message) in cases {
            assert_eq!(refused(config), message);
        }
        let at_the_limits = SamplingConfig {
            n_samples: MAX_SAMPLES,
            n_chains: MAX_CHAINS,
            burn_in: MAX_BURN_IN,
            thinning: MAX_THINNING,
            n_threads: MAX_THREADS,
            max_time: Some(MAX_TIME),
            precision: Some(MIN_PRECISION),
            seed: 0,
        };
        assert_eq!(at_the_limits.validate(), Ok(()));
    }
}
