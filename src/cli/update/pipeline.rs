//! The streaming pipeline: a reader thread splits the input into chunks of cases, worker
//! threads answer the chunks with the one shared engine, and the writer puts the chunks back in
//! input order and writes them.
//!
//! ```text
//! reader ──(jobs, bounded)──▶ workers × N ──(results, bounded)──▶ reorder buffer ─▶ writer
//!    ▲                                                                               │
//!    └──────────────────────────── permits (one per chunk) ◀─────────────────────────┘
//! ```
//!
//! Memory is bounded by the permits: the reader takes one before it sends a chunk, and the
//! writer gives it back once the chunk is written, so at most `window` chunks exist at once,
//! however slow one chunk is or however long the input. Output order is input order because
//! chunks carry their sequence number and the writer writes them strictly in sequence.

use super::cases::{CaseReader, CsvLayout, Findings, RawCase, Schema, case_id, interpret};
use super::output::{Layout, Outcome};
use super::render;
use anyhow::{Result, anyhow, bail};
use credence::{InferenceEngine, Network, VarId};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One case answered and rendered.
pub struct Done {
    pub line: u64,
    pub offset: u64,
    pub text: String,
    /// Why the case failed, if it did.
    pub error: Option<String>,
}

/// The answers of recently seen evidence, so that repeated rows are computed once.
///
/// Two generations of at most `capacity / 2` entries: lookups try the new generation, then the
/// old one (moving a hit to the new one); when the new generation is full it becomes the old
/// one and the old one is dropped. Recently used entries survive, as in an LRU, without a
/// linked list. It is shared by all workers behind one mutex, held only for the map lookup.
pub struct AnswerCache {
    half: usize,
    generations: Mutex<[HashMap<String, Arc<Outcome>>; 2]>,
}

impl AnswerCache {
    /// A cache of at most `capacity` entries; 0 caches nothing.
    pub fn new(capacity: usize) -> AnswerCache {
        AnswerCache {
            half: capacity.div_ceil(2),
            generations: Mutex::new([HashMap::new(), HashMap::new()]),
        }
    }

    pub fn get(&self, key: &str) -> Option<Arc<Outcome>> {
        if self.half == 0 {
            return None;
        }
        let mut generations = self.generations.lock().expect("cache lock");
        if let Some(hit) = generations[0].get(key) {
            return Some(hit.clone());
        }
        let hit = generations[1].remove(key)?;
        self.insert_locked(&mut generations, key.to_string(), hit.clone());
        Some(hit)
    }

    pub fn insert(&self, key: String, outcome: Arc<Outcome>) {
        if self.half == 0 {
            return;
        }
        let mut generations = self.generations.lock().expect("cache lock");
        self.insert_locked(&mut generations, key, outcome);
    }

    fn insert_locked(
        &self,
        generations: &mut [HashMap<String, Arc<Outcome>>; 2],
        key: String,
        outcome: Arc<Outcome>,
    ) {
        if generations[0].len() >= self.half {
            generations[1] = std::mem::take(&mut generations[0]);
        }
        generations[0].insert(key, outcome);
    }
}

/// Where `--resume` starts: the ids already in the partial file, which the first cases of the
/// input must match.
pub struct Skip {
    pub n_cases: u64,
    pub ids: Box<dyn Iterator<Item = String> + Send>,
    pub partial: String,
}

/// The reader: sends chunks of at most `chunk` cases through `send` (which returns false when
/// nobody listens any more), after skipping the cases of an earlier run. Returns the number of
/// cases skipped.
pub fn read_cases(
    mut reader: CaseReader,
    csv: Option<&CsvLayout>,
    layout: &Layout,
    skip: Option<Skip>,
    chunk: usize,
    mut send: impl FnMut(Vec<RawCase>) -> bool,
) -> Result<u64> {
    let mut skipped = 0;
    if let Some(mut skip) = skip {
        while skipped < skip.n_cases {
            let Some(raw) = reader.next_case()? else {
                bail!(
                    "cannot resume: {} holds {} results but the input has only {skipped} cases; delete it to start over",
                    skip.partial,
                    skip.n_cases
                );
            };
            let id = layout.id_key(&case_id(&raw, csv));
            let written = skip.ids.next().unwrap_or_default();
            if id != written {
                bail!(
                    "cannot resume: case {} of the input (line {}) has id {id} but {} has {written} there; was the input changed? delete {} to start over",
                    skipped + 1,
                    raw.line,
                    skip.partial,
                    skip.partial
                );
            }
            skipped += 1;
        }
    }
    let mut cases = Vec::with_capacity(chunk);
    while let Some(raw) = reader.next_case()? {
        cases.push(raw);
        if (cases.len() >= chunk || reader.would_wait())
            && !send(std::mem::replace(&mut cases, Vec::with_capacity(chunk)))
        {
            return Ok(skipped);
        }
    }
    if !cases.is_empty() {
        send(cases);
    }
    Ok(skipped)
}

/// What every local worker shares.
pub struct Local<'a> {
    pub engine: &'a dyn InferenceEngine,
    pub network: &'a Network,
    pub targets: &'a [VarId],
    pub schema: &'a Schema,
    pub csv: Option<&'a CsvLayout>,
    pub layout: &'a Layout,
    pub cache: &'a AnswerCache,
}

impl Local<'_> {
    /// Answers one case.
    pub fn answer(&self, raw: &RawCase) -> Done {
        let case = interpret(raw, self.csv, self.schema);
        let outcome = match case.findings {
            Ok(findings) => {
                let key = findings.key();
                match self.cache.get(&key) {
                    Some(hit) => hit,
                    None => {
                        let outcome = Arc::new(self.compute(&findings));
                        self.cache.insert(key, outcome.clone());
                        outcome
                    }
                }
            }
            Err(message) => Arc::new(Outcome::Failed(message)),
        };
        done(raw, &case.id, &outcome, self.layout)
    }

    fn compute(&self, findings: &Findings) -> Outcome {
        let answer = findings
            .resolve(self.network)
            .and_then(|evidence| Ok(self.engine.answer(&evidence, self.targets)?));
        match answer {
            Ok(answer) => {
                let mut record = Map::new();
                record.insert("engine".into(), json!(answer.engine.as_str()));
                record.insert(
                    "log_p_evidence".into(),
                    json!(answer.posteriors.ln_p_evidence()),
                );
                record.insert(
                    "posteriors".into(),
                    render::posteriors_object(self.network, &answer.posteriors),
                );
                render::answer_fields(self.network, &answer, &mut record);
                Outcome::Answered(self.layout.body(&record))
            }
            Err(error) => Outcome::Failed(render::sentence(&error)),
        }
    }

    /// A worker: answers chunks until the jobs run out or the writer has stopped.
    pub fn work(
        &self,
        jobs: &Mutex<Receiver<(u64, Vec<RawCase>)>>,
        results: SyncSender<(u64, Vec<Done>)>,
    ) {
        loop {
            let job = jobs.lock().expect("jobs lock").recv();
            let Ok((sequence, cases)) = job else {
                return;
            };
            let done = cases.iter().map(|raw| self.answer(raw)).collect();
            if results.send((sequence, done)).is_err() {
                return;
            }
        }
    }
}

/// One case's output line.
pub fn done(raw: &RawCase, id: &Value, outcome: &Outcome, layout: &Layout) -> Done {
    Done {
        line: raw.line,
        offset: raw.offset,
        text: layout.line(id, outcome),
        error: match outcome {
            Outcome::Failed(message) => Some(message.clone()),
            Outcome::Answered(_) => None,
        },
    }
}

/// The progress bar, on standard error when it is a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_drawn: Instant,
}

impl Progress {
    /// A bar over `total` bytes of input (a spinner when the size is unknown), or nothing.
    pub fn new(show: bool, total: Option<u64>) -> Progress {
        let bar = show.then(|| {
            let (bar, template) = match total {
                Some(total) => (
                    ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
                    "{spinner} {elapsed_precise} [{wide_bar}] {percent:>3}%  {msg}  ETA {eta}",
                ),
                None => (
                    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                    "{spinner} {elapsed_precise}  {msg}",
                ),
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            started: now,
            last_drawn: now,
        }
    }

    fn update(&mut self, offset: u64, n_cases: u64) {
        let Some(bar) = &self.bar else {
            return;
        };
        // Drawing is cheap but not free; ten times a second is plenty for a person.
        if self.last_drawn.elapsed() < Duration::from_millis(100) {
            return;
        }
        self.last_drawn = Instant::now();
        let rate = n_cases as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
        bar.set_position(offset);
        bar.set_message(format!("{n_cases} cases · {rate:.0}/s"));
    }

    /// A line on standard error that does not tear the bar.
    pub fn say(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// What the writer did.
#[derive(Debug, Default)]
pub struct Tally {
    /// Cases written in this run.
    pub n_cases: u64,
    /// Error records among them.
    pub n_failed: u64,
    /// With `--strict`: the first bad case, which was not written, as `SOURCE:LINE: reason`.
    pub stopped_at: Option<String>,
}

/// The writer: the results back in input order, written as they become ready.
pub struct Writer<'a> {
    pub out: &'a mut dyn Write,
    pub progress: &'a mut Progress,
    pub strict: bool,
    /// How the input is named in messages.
    pub source: &'a str,
}

impl Writer<'_> {
    /// Writes the chunks of `results` in sequence order, returning a permit to `permits` for
    /// every chunk written. Ends when every sender is gone, or at the first bad case when
    /// strict.
    pub fn run(
        &mut self,
        results: Receiver<(u64, Vec<Done>)>,
        permits: Option<SyncSender<()>>,
    ) -> Result<Tally> {
        let mut tally = Tally::default();
        let mut waiting: BTreeMap<u64, Vec<Done>> = BTreeMap::new();
        let mut next = 0u64;
        loop {
            // Flush whenever there is nothing to write right now, so that the partial file is
            // current while the input stalls; a busy run flushes only when the buffer fills.
            let received = match results.try_recv() {
                Ok(received) => received,
                Err(_) => {
                    self.out.flush()?;
                    match results.recv() {
                        Ok(received) => received,
                        Err(_) => break,
                    }
                }
            };
            waiting.insert(received.0, received.1);
            while let Some(chunk) = waiting.remove(&next) {
                next += 1;
                for done in chunk {
                    if let Some(message) = &done.error {
                        let report = format!("{}:{}: {message}", self.source, done.line);
                        if self.strict {
                            self.out.flush()?;
                            tally.stopped_at = Some(report);
                            return Ok(tally);
                        }
                        self.progress.say(&report);
                        tally.n_failed += 1;
                    }
                    self.out.write_all(done.text.as_bytes())?;
                    tally.n_cases += 1;
                    self.progress.update(done.offset, tally.n_cases);
                }
                if let Some(permits) = &permits {
                    let _ = permits.send(());
                }
            }
        }
        if !waiting.is_empty() {
            return Err(anyhow!(
                "internal error: {} chunks of results were never written",
                waiting.len()
            ));
        }
        self.out.flush()?;
        Ok(tally)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_recent_entries_and_stays_bounded() {
        let cache = AnswerCache::new(4);
        let entry = |i: usize| Arc::new(Outcome::Failed(i.to_string()));
        for i in 0..3 {
            cache.insert(i.to_string(), entry(i));
        }
        // 0 and 1 moved to the old generation when 2 came; 0 is used again and survives.
        assert!(cache.get("0").is_some());
        for i in 3..5 {
            cache.insert(i.to_string(), entry(i));
        }
        assert!(cache.get("0").is_some());
        assert!(cache.get("1").is_none());
        let sizes = {
            let g = cache.generations.lock().unwrap();
            g[0].len() + g[1].len()
        };
        assert!(sizes <= 4);
        assert!(AnswerCache::new(0).get("0").is_none());
    }
}
