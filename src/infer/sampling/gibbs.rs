//! Gibbs sampling (Geman & Geman 1984; Koller & Friedman 2009, §12.3): each chain visits the
//! unobserved variables in topological order and redraws each from its conditional given its
//! Markov blanket, `P(x | mb) ∝ λ(x) P(x | pa) Π_children P(c | pa_c)`.
//!
//! - **Starting states** come from an EPIS-BN pilot run (4096 samples, resampled by weight), so
//!   every chain starts in a state of positive probability and chains start far apart when the
//!   posterior is spread out. The pilot's mean weight is the engine's `ln P(e)` estimate.
//! - **Blocking.** Deterministic zeros (logical or functional CPTs, like asia's
//!   `either = tub or lung`) make single-variable updates reducible: from `either = no` the
//!   chain can never reach `tub = yes`. A variable whose CPT has zeros is therefore updated
//!   jointly with its unobserved parents (from their joint conditional, by enumeration) when the
//!   block has at most 64 joint states (K&F §12.3.3 on blocked Gibbs).
//! - **Detection.** Where blocking does not reach, a chain that is stuck is reported as an
//!   error, not a posterior: when half-chains never vary but disagree (split R-hat infinite),
//!   or when every chain holds a target in one state that the pilot shows to have clear
//!   posterior mass elsewhere.
//! - **Error bars.** Batch means over at most 32 equal batches per chain give each state's
//!   variance and effective sample size; split R-hat (Gelman et al., *BDA3*, §11.4) is computed
//!   per state from half-chain frequencies and a warning is raised above 1.01.

use super::kernel::{CompiledNetwork, draw_sample};
use super::rng::{Rng, Stream};
use super::stats::{Estimates, Layout, WeightedSums, Z95, split_r_hat, wilson};
use super::{
    Answer, BLOCK_SIZE, CHECK_EVERY, Run, Sampler, SamplingStats, StopReason, epis, finish,
};
use crate::cancel::Interrupted;
use crate::evidence::Evidence;
use crate::infer::{EngineKind, InferenceError};
use crate::model::{Network, VarId};
use rayon::prelude::*;

/// Kept samples per chain per round: chains advance in lockstep rounds and the stopping rules
/// are checked between rounds.
const SEGMENT: u64 = 256;

/// Batches per chain before adjacent pairs are merged.
const MAX_BATCHES: usize = 32;

/// Largest joint state space of a blocked update.
const MAX_BLOCK_STATES: usize = 64;

/// R-hat above this draws a warning.
const R_HAT_LIMIT: f64 = 1.01;

/// A group of variables updated together.
#[derive(Clone, Debug)]
struct Block {
    vars: Vec<usize>,
    cards: Vec<usize>,
    n_joint: usize,
    /// Node positions of every CPT that mentions a block variable.
    factors: Vec<usize>,
}

/// What every chain reads.
struct Context<'a> {
    network: &'a CompiledNetwork,
    blocks: &'a [Block],
    /// Soft findings by variable index.
    local: &'a [Option<Vec<f64>>],
    layout: &'a Layout,
    thinning: u64,
}

/// Per-chain counts of each target state, in equal consecutive batches (the last may be
/// partial).
#[derive(Clone, Debug)]
struct Batches {
    len: u64,
    sizes: Vec<u64>,
    counts: Vec<Vec<u32>>,
}

impl Batches {
    fn add(&mut self, size: u64, counts: &[u32]) {
        match self.sizes.last_mut() {
            Some(last) if *last < self.len => {
                *last += size;
                let batch = self.counts.last_mut().expect("sizes and counts align");
                for (a, b) in batch.iter_mut().zip(counts) {
                    *a += b;
                }
            }
            _ => {
                self.sizes.push(size);
                self.counts.push(counts.to_vec());
            }
        }
        if self.counts.len() == MAX_BATCHES && self.sizes.last() == Some(&self.len) {
            let counts = std::mem::take(&mut self.counts);
            self.counts = counts
                .chunks(2)
                .map(|pair| {
                    let mut merged = pair[0].clone();
                    for (a, b) in merged.iter_mut().zip(&pair[1]) {
                        *a += b;
                    }
                    merged
                })
                .collect();
            self.sizes = self.sizes.chunks(2).map(|pair| pair[0] + pair[1]).collect();
            self.len *= 2;
        }
    }

    fn n_kept(&self) -> u64 {
        self.sizes.iter().sum()
    }
}

struct Chain {
    rng: Rng,
    states: Vec<u32>,
    batches: Batches,
    scratch: Vec<f64>,
}

impl Chain {
    fn update(&mut self, context: &Context<'_>, block: &Block) {
        let network = context.network;
        let states = &mut self.states;
        let mut current = 0;
        for (&v, &card) in block.vars.iter().zip(&block.cards) {
            current = current * card + states[v] as usize;
        }
        let set = |states: &mut [u32], mut assignment: usize| {
            for (&v, &card) in block.vars.iter().zip(&block.cards).rev() {
                states[v] = (assignment % card) as u32;
                assignment /= card;
            }
        };
        self.scratch.clear();
        let mut total = 0.0;
        for assignment in 0..block.n_joint {
            set(states, assignment);
            let mut p = 1.0;
            for &v in &block.vars {
                if let Some(likelihood) = &context.local[v] {
                    p *= likelihood[states[v] as usize];
                }
            }
            for &position in &block.factors {
                if p == 0.0 {
                    break;
                }
                let node = &network.nodes[position];
                p *= network.prob[network.row(node, states) + states[node.var] as usize];
            }
            total += p;
            self.scratch.push(total);
        }
        if total.is_nan() || total <= 0.0 {
            set(states, current);
            return;
        }
        let u = self.rng.uniform() * total;
        // The first cumulative sum above u; rounding can leave u at the total, and then the
        // last assignment with positive mass is the one meant.
        let chosen = self.scratch.iter().position(|&c| u < c).unwrap_or_else(|| {
            let last = self.scratch.len() - 1;
            (0..last)
                .rev()
                .find(|&i| self.scratch[i] < self.scratch[i + 1])
                .map_or(0, |i| i + 1)
                .min(last)
        });
        set(states, chosen);
    }

    fn sweep(&mut self, context: &Context<'_>) {
        for block in context.blocks {
            self.update(context, block);
        }
    }

    /// Runs `burn_in` sweeps, then `size` kept samples; `None` if the time budget ended
    /// first. The clock and the token are checked before every sweep (a sweep updates every
    /// unobserved variable once), burn-in and thinning included.
    fn advance(
        &mut self,
        context: &Context<'_>,
        burn_in: u64,
        size: u64,
        run: &Run<'_>,
    ) -> Result<Option<Vec<u32>>, Interrupted> {
        for _ in 0..burn_in {
            if run.late()? {
                return Ok(None);
            }
            self.sweep(context);
        }
        let mut counts = vec![0u32; context.layout.n_slots];
        for _ in 0..size {
            for _ in 0..context.thinning {
                if run.late()? {
                    return Ok(None);
                }
                self.sweep(context);
            }
            for &(var, slot) in &context.layout.targets {
                counts[slot + self.states[var] as usize] += 1;
            }
        }
        Ok(Some(counts))
    }
}

/// Groups variables with deterministic zeros together with their unobserved parents; see the
/// module docs. Returns the blocks in topological order and a note per multi-variable block.
fn make_blocks(
    compiled: &CompiledNetwork,
    network: &Network,
    evidence: &Evidence,
) -> (Vec<Block>, Vec<String>) {
    let n = compiled.n_variables();
    let free = |v: usize| evidence.hard_state(VarId::new(v)).is_none();
    let mut root: Vec<usize> = (0..n).collect();
    let mut size: Vec<usize> = (0..n).map(|v| compiled.node(v).card).collect();
    fn find(root: &mut [usize], mut v: usize) -> usize {
        while root[v] != v {
            root[v] = root[root[v]];
            v = root[v];
        }
        v
    }
    for node in &compiled.nodes {
        if !compiled.has_zero[node.var] {
            continue;
        }
        let mut roots: Vec<usize> = std::iter::once(node.var)
            .chain(
                compiled.parent_strides[node.parents.clone()]
                    .iter()
                    .map(|&(p, _)| p),
            )
            .filter(|&v| free(v))
            .map(|v| find(&mut root, v))
            .collect();
        roots.sort_unstable();
        roots.dedup();
        let joint = roots.iter().map(|&r| size[r] as f64).product::<f64>();
        if roots.len() > 1 && joint <= MAX_BLOCK_STATES as f64 {
            for &r in &roots[1..] {
                root[r] = roots[0];
            }
            size[roots[0]] = joint as usize;
        }
    }
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n];
    for node in &compiled.nodes {
        if free(node.var) {
            let r = find(&mut root, node.var);
            groups[r].push(node.var);
        }
    }
    // Each group lists its members in topological order; order the groups by their first member.
    let mut groups: Vec<Vec<usize>> = groups.into_iter().filter(|g| !g.is_empty()).collect();
    groups.sort_by_key(|g| compiled.position[g[0]]);
    let mut notes = Vec::new();
    let blocks = groups
        .into_iter()
        .map(|vars| {
            let mut factors: Vec<usize> = vars
                .iter()
                .flat_map(|&v| std::iter::once(v).chain(compiled.children[v].iter().copied()))
                .map(|v| compiled.position[v])
                .collect();
            factors.sort_unstable();
            factors.dedup();
            let cards: Vec<usize> = vars.iter().map(|&v| compiled.node(v).card).collect();
            if vars.len() > 1 {
                let names: Vec<&str> = vars
                    .iter()
                    .map(|&v| network.variable(VarId::new(v)).name())
                    .collect();
                notes.push(format!(
                    "updated {{{}}} jointly: deterministic zeros in their CPTs would trap \
                     one-variable updates",
                    names.join(", ")
                ));
            }
            Block {
                n_joint: cards.iter().product(),
                vars,
                cards,
                factors,
            }
        })
        .collect();
    (blocks, notes)
}

/// The EPIS-BN pilot: starting states for the chains (one weighted draw each), the `ln P(e)`
/// estimate and rough marginals to check stuck chains against.
struct Pilot {
    starts: Vec<Vec<u32>>,
    ln_p_evidence: f64,
    estimates: Estimates,
}

fn pilot(
    sampler: &Sampler,
    evidence: &Evidence,
    layout: &Layout,
    run: &Run<'_>,
) -> Result<Pilot, InferenceError> {
    let compiled = &*sampler.compiled;
    let proposal = epis::proposal(compiled, evidence, run.cancel)?;
    let mut rng = Rng::stream(sampler.config.seed, Stream::Pilot, 0);
    let mut states = vec![0u32; compiled.n_variables()];
    let mut sums = WeightedSums::new(layout.n_slots);
    let n_chains = sampler.config.n_chains;
    let mut starts: Vec<Vec<u32>> = vec![Vec::new(); n_chains];
    let mut ln_total = f64::NEG_INFINITY;
    for i in 0..BLOCK_SIZE {
        if i % CHECK_EVERY == 0 {
            run.cancel.check()?;
        }
        let weight = draw_sample(compiled, &proposal, &mut rng, &mut states);
        sums.add(weight.w, weight.ln_scale, &states, layout);
        if weight.w <= 0.0 {
            continue;
        }
        // Weighted reservoir sampling of one state per chain (Chao 1982), in log space.
        let ln_w = weight.ln_scale + weight.w.ln();
        let high = ln_total.max(ln_w);
        ln_total = high + ((ln_total - high).exp() + (ln_w - high).exp()).ln();
        for start in &mut starts {
            if rng.uniform() < (ln_w - ln_total).exp() {
                start.clone_from(&states);
            }
        }
    }
    if !sums.has_weight() {
        return Err(InferenceError::NoWeight {
            engine: EngineKind::Gibbs,
            n_samples: sums.n_drawn,
            evidence: evidence.describe(&sampler.network),
        });
    }
    Ok(Pilot {
        starts,
        ln_p_evidence: sums.ln_mean_weight(),
        estimates: sums.estimates(layout),
    })
}

/// Estimates and diagnostics from the chains' batches.
struct Summary {
    estimates: Estimates,
    ess: f64,
    r_hat: Option<f64>,
    /// Slots whose split R-hat is infinite.
    stuck: Vec<usize>,
}

fn summarize(chains: &[Chain], layout: &Layout) -> Summary {
    let z = *Z95;
    let n_total: u64 = chains.iter().map(|c| c.batches.n_kept()).sum();
    let n = n_total as f64;
    let all_batches: Vec<(u64, &Vec<u32>)> = chains
        .iter()
        .flat_map(|c| c.batches.sizes.iter().copied().zip(&c.batches.counts))
        .collect();
    let n_batches = all_batches.len() as f64;
    let halves = chains.iter().all(|c| c.batches.sizes.len() >= 2);
    let mut estimates = Estimates {
        p: vec![0.0; layout.n_slots],
        stderr: vec![0.0; layout.n_slots],
        interval: vec![(0.0, 1.0); layout.n_slots],
    };
    let mut slot_ess = vec![f64::NAN; layout.n_slots];
    let mut ess = f64::INFINITY;
    let mut r_hat: Option<f64> = None;
    let mut stuck = Vec::new();
    for ((&(_, first), &card), &observed) in layout
        .targets
        .iter()
        .zip(&layout.cards)
        .zip(&layout.observed)
    {
        for slot in first..first + card {
            let count: u64 = all_batches.iter().map(|(_, c)| u64::from(c[slot])).sum();
            let p = count as f64 / n;
            estimates.p[slot] = p;
            if observed {
                estimates.interval[slot] = (p, p);
                continue;
            }
            // Batch means: Var(p̄) = B/(B−1) Σ_b n_b² (m_b − p̄)² / N².
            let variance = if n_batches >= 2.0 {
                let spread: f64 = all_batches
                    .iter()
                    .map(|&(size, c)| {
                        let size = size as f64;
                        let mean = f64::from(c[slot]) / size;
                        size * size * (mean - p).powi(2)
                    })
                    .sum();
                n_batches / (n_batches - 1.0) * spread / (n * n)
            } else {
                p * (1.0 - p) / n
            };
            estimates.stderr[slot] = variance.sqrt();
            if variance > 0.0 && p > 0.0 && p < 1.0 {
                slot_ess[slot] = (p * (1.0 - p) / variance).min(n);
                ess = ess.min(slot_ess[slot]);
            }
            if halves {
                let mut means = Vec::with_capacity(2 * chains.len());
                let mut within = 0.0;
                let mut half_size = 0.0;
                for chain in chains {
                    let b = &chain.batches;
                    let h = b.sizes.len() / 2;
                    for range in [0..h, b.sizes.len() - h..b.sizes.len()] {
                        let size: u64 = b.sizes[range.clone()].iter().sum();
                        let hits: u64 = b.counts[range].iter().map(|c| u64::from(c[slot])).sum();
                        let size = size as f64;
                        let mean = hits as f64 / size;
                        means.push(mean);
                        within += mean * (1.0 - mean) * size / (size - 1.0).max(1.0);
                        half_size += size;
                    }
                }
                let m = means.len() as f64;
                let value = split_r_hat(&means, within / m, half_size / m);
                if value == f64::INFINITY {
                    stuck.push(slot);
                }
                if !value.is_nan() {
                    r_hat = Some(r_hat.map_or(value, |r: f64| r.max(value)));
                }
            }
        }
    }
    if !ess.is_finite() {
        ess = n;
    }
    for ((&(_, first), &card), &observed) in layout
        .targets
        .iter()
        .zip(&layout.cards)
        .zip(&layout.observed)
    {
        if observed {
            continue;
        }
        for ((interval, &p), &slot_ess) in estimates.interval[first..first + card]
            .iter_mut()
            .zip(&estimates.p[first..first + card])
            .zip(&slot_ess[first..first + card])
        {
            let n_eff = if slot_ess.is_nan() { ess } else { slot_ess };
            *interval = wilson(p, n_eff, z);
        }
    }
    Summary {
        estimates,
        ess,
        r_hat,
        stuck,
    }
}

/// The variable and state of a slot, by name.
fn describe_slot(network: &Network, layout: &Layout, slot: usize) -> (String, String) {
    let &(var, first) = layout
        .targets
        .iter()
        .rfind(|(_, first)| *first <= slot)
        .expect("slots start at 0");
    let variable = network.variable(VarId::new(var));
    (
        variable.name().to_string(),
        variable.states()[slot - first].clone(),
    )
}

/// Errors out when the chains provably did not mix; see the module docs.
fn check_stuck(
    sampler: &Sampler,
    chains: &[Chain],
    layout: &Layout,
    summary: &Summary,
    pilot: &Estimates,
) -> Result<(), InferenceError> {
    let network = &*sampler.network;
    let deterministic: Vec<&str> = network
        .variable_ids()
        .filter(|v| sampler.compiled.has_zero[v.index()])
        .map(|v| network.variable(v).name())
        .collect();
    let cause = if deterministic.is_empty() {
        "the chains mix far too slowly".to_string()
    } else {
        format!(
            "the chain is reducible (deterministic zeros in the CPTs of {}{}) or mixes far too slowly",
            deterministic[..deterministic.len().min(5)].join(", "),
            if deterministic.len() > 5 { ", ..." } else { "" }
        )
    };
    if let Some(&slot) = summary.stuck.first() {
        let (variable, state) = describe_slot(network, layout, slot);
        return Err(InferenceError::ChainStuck {
            detail: format!(
                "some chains held '{variable}' at '{state}' throughout and others never visited it: {cause}"
            ),
        });
    }
    for ((&(var, first), &card), &observed) in layout
        .targets
        .iter()
        .zip(&layout.cards)
        .zip(&layout.observed)
    {
        if observed {
            continue;
        }
        // The one state every chain stayed in, if there is one.
        let mut frozen = None;
        for chain in chains {
            let kept = chain.batches.n_kept();
            let stayed = (first..first + card).find(|&slot| {
                chain
                    .batches
                    .counts
                    .iter()
                    .map(|c| u64::from(c[slot]))
                    .sum::<u64>()
                    == kept
            });
            match (stayed, frozen) {
                (None, _) => {
                    frozen = None;
                    break;
                }
                (Some(slot), None) => frozen = Some(slot),
                (Some(slot), Some(previous)) if slot != previous => {
                    frozen = None;
                    break;
                }
                _ => {}
            }
        }
        let Some(slot) = frozen else { continue };
        if let Some(other) =
            (first..first + card).find(|&s| s != slot && pilot.interval[s].0 > 0.01)
        {
            let variable = network.variable(VarId::new(var));
            return Err(InferenceError::ChainStuck {
                detail: format!(
                    "every chain held '{}' at '{}', yet importance sampling puts P({}={}) at {:.3} or more: {cause}",
                    variable.name(),
                    variable.states()[slot - first],
                    variable.name(),
                    variable.states()[other - first],
                    pilot.interval[other].0,
                ),
            });
        }
    }
    Ok(())
}

/// Runs the Gibbs engine; see the module docs.
pub(crate) fn run(
    sampler: &Sampler,
    evidence: &Evidence,
    layout: &Layout,
    run: &Run<'_>,
) -> Result<Answer, InferenceError> {
    let config = &sampler.config;
    let pilot = pilot(sampler, evidence, layout, run)?;
    let (blocks, notes) = make_blocks(&sampler.compiled, &sampler.network, evidence);
    let local: Vec<Option<Vec<f64>>> = (0..sampler.compiled.n_variables())
        .map(|v| evidence.soft_likelihood(VarId::new(v)).map(<[f64]>::to_vec))
        .collect();
    let context = Context {
        network: &sampler.compiled,
        blocks: &blocks,
        local: &local,
        layout,
        thinning: config.thinning,
    };
    let per_chain = config.n_samples.div_ceil(config.n_chains as u64);
    let mut chains: Vec<Chain> = pilot
        .starts
        .iter()
        .enumerate()
        .map(|(c, start)| Chain {
            rng: Rng::stream(config.seed, Stream::Chain, c as u64),
            states: start.clone(),
            batches: Batches {
                len: SEGMENT,
                sizes: Vec::new(),
                counts: Vec::new(),
            },
            scratch: Vec::new(),
        })
        .collect();
    let mut kept = 0u64;
    let stop = sampler.install(|| -> Result<StopReason, Interrupted> {
        loop {
            let size = SEGMENT.min(per_chain - kept);
            let burn_in = if kept == 0 { config.burn_in } else { 0 };
            let segments: Vec<Option<Vec<u32>>> = chains
                .par_iter_mut()
                .map(|chain| chain.advance(&context, burn_in, size, run))
                .collect::<Result<_, Interrupted>>()?;
            if segments.iter().any(Option::is_none) {
                return Ok(StopReason::TimeBudget);
            }
            for (chain, counts) in chains.iter_mut().zip(segments) {
                chain.batches.add(size, &counts.expect("checked above"));
            }
            kept += size;
            if kept >= per_chain {
                return Ok(StopReason::SampleBudget);
            }
            if let Some(precision) = config.precision
                && chains.iter().all(|c| c.batches.sizes.len() >= 2)
                && summarize(&chains, layout)
                    .estimates
                    .precise_to(layout, precision)
            {
                return Ok(StopReason::Precision);
            }
            if run.late()? {
                return Ok(StopReason::TimeBudget);
            }
        }
    })?;
    if kept == 0 {
        return Err(InferenceError::TimeBudgetTooShort {
            engine: EngineKind::Gibbs,
            max_time: config.max_time.unwrap_or_default(),
            block: config.burn_in + SEGMENT.min(per_chain),
        });
    }
    let summary = summarize(&chains, layout);
    check_stuck(sampler, &chains, layout, &summary, &pilot.estimates)?;
    let mut warnings = Vec::new();
    match summary.r_hat {
        Some(r) if r > R_HAT_LIMIT => warnings.push(format!(
            "split R-hat is {r:.3}, above {R_HAT_LIMIT}: the chains have not mixed; \
             draw more samples or a longer burn-in, or use lw or epis"
        )),
        None => warnings.push(
            "too few samples per chain for split R-hat (it needs two batches of 256)".to_string(),
        ),
        _ => {}
    }
    Ok(finish(
        EngineKind::Gibbs,
        layout,
        summary.estimates,
        pilot.ln_p_evidence + evidence.ln_soft_scale(),
        SamplingStats {
            uncertainty: Vec::new(),
            n_samples: kept * config.n_chains as u64,
            ess: summary.ess,
            r_hat: summary.r_hat,
            stop,
            seed: config.seed,
            warnings,
            notes,
        },
    ))
}
