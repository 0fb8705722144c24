//! Is the winner real? `validation.json`: per group of trials (the ok simulations of one
//! strategy on one data set) the Deflated Sharpe Ratio of the best trial and the Probability of
//! Backtest Overfitting (docs/validation.md), computed from the records of a run directory, so
//! shards merge to the same numbers as one run.

use std::{collections::BTreeMap, path::Path};

use bt_domain::{PboSummary, SimOutcome, SimRecord, ValidationGroup};
use bt_executor::{ExecError, LockedRunDir};
use bt_stats::overfit::{Pbo, PboData, TrialGroup};
use serde_json::{Value, json};

use crate::error::Result;

/// The file name.
pub const VALIDATION_JSON: &str = "validation.json";

/// The most PBO blocks: `C(20, 10) = 184,756` splits.
pub const MAX_PBO_BLOCKS: usize = 20;

/// Runs of more simulations than this keep no PBO blocks unless asked: the PBO of a million
/// trials takes about 30 s on two cores and 256 bytes of blocks per simulation.
pub const PBO_DEFAULT_MAX_SIMS: u64 = 100_000;

/// The PBO blocks a run of `simulations` keeps by default: [`crate::DEFAULT_PBO_BLOCKS`] up to
/// [`PBO_DEFAULT_MAX_SIMS`], none beyond (the DSR is computed either way).
pub fn default_pbo_blocks(simulations: u64) -> usize {
    if simulations <= PBO_DEFAULT_MAX_SIMS { crate::DEFAULT_PBO_BLOCKS } else { 0 }
}

/// `Ok` for 0 (no PBO) and even numbers from 2 to [`MAX_PBO_BLOCKS`].
pub fn check_pbo_blocks(blocks: usize) -> Result<()> {
    if blocks.is_multiple_of(2) && blocks <= MAX_PBO_BLOCKS {
        Ok(())
    } else {
        Err(crate::Error::BadPboBlocks { blocks })
    }
}

/// Bins of the lambda histogram.
const LAMBDA_BINS: usize = 20;
/// At most this many (in-sample, out-of-sample) points per group are kept.
const SCATTER_POINTS: usize = 500;

/// Tasks per thread when the PBO's passes are spread over threads (ranges of chunks of trials).
const TASKS_PER_THREAD: usize = 4;

/// The groups of a run being read in queue order.
#[derive(Default)]
pub(crate) struct Groups {
    groups: BTreeMap<(String, String), (TrialGroup, String)>,
}

impl Groups {
    /// Adds the next record (queue order); failed simulations are not trials.
    pub(crate) fn push(&mut self, r: &SimRecord) {
        let SimOutcome::Ok(s) = &r.outcome else { return };
        // A walk-forward's runs (on windows of a data set) are not trials of a sweep.
        if r.on_window() {
            return;
        }
        let key = (r.strategy.clone(), r.dataset.clone());
        let (group, best_id) = self.groups.entry(key).or_default();
        if group.push(&s.returns) {
            best_id.clone_from(&r.id);
        }
    }

    pub(crate) fn finish(self, threads: usize) -> Result<Vec<ValidationGroup>> {
        let mut out = Vec::new();
        for ((strategy, dataset), (group, best_id)) in self.groups {
            let Some(d) = group.deflated() else { continue };
            let pbo = pbo(group, threads)?;
            out.push(ValidationGroup {
                strategy,
                dataset,
                n: d.n as u64,
                best_id,
                best_sr: d.best_sr,
                sr_variance: d.sr_variance,
                sr0: d.sr0,
                dsr: d.dsr,
                pbo,
            });
        }
        Ok(out)
    }
}

/// The PBO of `group`, its two passes spread over `threads` threads by ranges of trials (the
/// same bytes for any thread count); `None` when it is undefined.
pub fn pbo(group: TrialGroup, threads: usize) -> Result<Option<PboSummary>> {
    let Some(data) = group.into_pbo_data() else { return Ok(None) };
    let masks = data.splits();
    if let Some(outcomes) = data.run_one_chunk(&masks) {
        return Ok(Some(summary(&Pbo::new(data.blocks(), &outcomes))));
    }
    let chunks = data.chunks();
    let tasks = (threads.max(1) * TASKS_PER_THREAD).min(chunks).max(1);
    let ranges: Vec<std::ops::Range<usize>> =
        (0..tasks).map(|t| t * chunks / tasks..(t + 1) * chunks / tasks).collect();
    let parts = bt_executor::parallel_map(&ranges, threads, |r| data.best_in(r.clone(), &masks))?;
    let best = PboData::merge_best(&parts);
    let star = data.stars(&masks, &best);
    let counts = bt_executor::parallel_map(&ranges, threads, |r| {
        data.count_in(r.clone(), &masks, &best, &star)
    })?
    .into_iter()
    .fold(vec![(0u64, 0u64); masks.len()], |acc, part| {
        acc.iter().zip(&part).map(|(a, b)| (a.0 + b.0, a.1 + b.1)).collect()
    });
    let outcomes = data.outcomes(&best, &star, &counts);
    Ok(Some(summary(&Pbo::new(data.blocks(), &outcomes))))
}

/// The groups of `records` (any order; queue order is their `index`), in (strategy, data
/// set) order, with the PBO's splits on `threads` threads.
pub fn validate(records: &[SimRecord], threads: usize) -> Result<Vec<ValidationGroup>> {
    let mut sorted: Vec<&SimRecord> = records.iter().collect();
    sorted.sort_by_key(|r| r.index);
    let mut groups = Groups::default();
    for r in sorted {
        groups.push(r);
    }
    groups.finish(threads)
}

/// [`validate`] for the result log at `path`, read in queue order one record at a time:
/// memory is the trials' blocks (2 S + 1 numbers each), not their records.
pub fn validate_results(path: &Path, threads: usize) -> Result<Vec<ValidationGroup>> {
    let mut groups = Groups::default();
    bt_executor::for_each_in_queue_order(path, |r| {
        groups.push(&r);
        Ok(())
    })?;
    groups.finish(threads)
}

/// A PBO as reports keep it: the figures, the lambdas' histogram and a sample of the scatter.
fn summary(p: &Pbo) -> PboSummary {
    let finite: Vec<f64> = p.lambdas.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) =
        finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let (mut edges, mut counts) = (Vec::new(), Vec::new());
    if !finite.is_empty() {
        let width = if hi > lo { (hi - lo) / LAMBDA_BINS as f64 } else { 1.0 };
        edges = (0..=LAMBDA_BINS).map(|k| lo + width * k as f64).collect();
        counts = vec![0u64; LAMBDA_BINS];
        for v in finite {
            counts[(((v - lo) / width) as usize).min(LAMBDA_BINS - 1)] += 1;
        }
    }
    let step = p.is_oos.len().div_ceil(SCATTER_POINTS).max(1);
    PboSummary {
        blocks: p.blocks as u64,
        splits: p.splits as u64,
        pbo: p.pbo,
        median_lambda: p.median_lambda,
        degradation: p.degradation,
        prob_loss: p.prob_loss,
        lambda_edges: edges,
        lambda_counts: counts,
        is_oos: p.is_oos.iter().step_by(step).copied().collect(),
    }
}

fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn group_json(g: &ValidationGroup) -> Value {
    let p = g.pbo.as_ref();
    let field = |f: fn(&PboSummary) -> f64| p.map_or(Value::Null, |p| num(f(p)));
    json!({
        "strategy": g.strategy,
        "dataset": g.dataset,
        "n": g.n,
        "best_id": g.best_id,
        "best_sr": num(g.best_sr),
        "sr_variance": num(g.sr_variance),
        "sr0": num(g.sr0),
        "dsr": num(g.dsr),
        "pbo": field(|p| p.pbo),
        "median_lambda": field(|p| p.median_lambda),
        "degradation": field(|p| p.degradation),
        "prob_loss": field(|p| p.prob_loss),
        "pbo_blocks": p.map(|p| p.blocks),
        "splits": p.map(|p| p.splits),
        "lambda_histogram": p.map(|p| json!({
            "edges": p.lambda_edges.iter().map(|v| num(*v)).collect::<Vec<_>>(),
            "counts": p.lambda_counts,
        })),
        "is_oos_sample": p.map(|p| p.is_oos.iter().map(|(a, b)| json!([num(*a), num(*b)])).collect::<Vec<_>>()),
    })
}

fn group_from_json(v: &Value) -> ValidationGroup {
    let f = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(f64::NAN);
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let pbo = v.get("pbo").filter(|p| !p.is_null()).map(|_| {
        let h = &v["lambda_histogram"];
        PboSummary {
            blocks: v["pbo_blocks"].as_u64().unwrap_or(0),
            splits: v["splits"].as_u64().unwrap_or(0),
            pbo: f(v, "pbo"),
            median_lambda: f(v, "median_lambda"),
            degradation: f(v, "degradation"),
            prob_loss: f(v, "prob_loss"),
            lambda_edges: h["edges"]
                .as_array()
                .map_or(Vec::new(), |a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect()),
            lambda_counts: h["counts"]
                .as_array()
                .map_or(Vec::new(), |a| a.iter().filter_map(Value::as_u64).collect()),
            is_oos: v["is_oos_sample"].as_array().map_or(Vec::new(), |a| {
                a.iter()
                    .map(|p| (p[0].as_f64().unwrap_or(f64::NAN), p[1].as_f64().unwrap_or(f64::NAN)))
                    .collect()
            }),
        }
    });
    ValidationGroup {
        strategy: s("strategy"),
        dataset: s("dataset"),
        n: v["n"].as_u64().unwrap_or(0),
        best_id: s("best_id"),
        best_sr: f(v, "best_sr"),
        sr_variance: f(v, "sr_variance"),
        sr0: f(v, "sr0"),
        dsr: f(v, "dsr"),
        pbo,
    }
}

/// Computes the groups of the run in `dir` and writes `validation.json` (atomically).
pub fn write_validation(dir: &LockedRunDir, threads: usize) -> Result<Vec<ValidationGroup>> {
    let groups = validate_results(&dir.results(), threads)?;
    write_groups(dir, &groups)?;
    Ok(groups)
}

/// Writes `validation.json` (atomically) from trials collected in queue order (by the pass
/// over the log that writes the summaries), computing the PBO on `threads` threads.
pub(crate) fn write_collected(
    dir: &LockedRunDir,
    trials: Groups,
    threads: usize,
) -> Result<Vec<ValidationGroup>> {
    let groups = trials.finish(threads)?;
    write_groups(dir, &groups)?;
    Ok(groups)
}

fn write_groups(dir: &LockedRunDir, groups: &[ValidationGroup]) -> Result<()> {
    let v = json!({
        "version": 1,
        "definitions": "docs/validation.md",
        "groups": groups.iter().map(group_json).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&v).expect("json values serialize") + "\n";
    let path = dir.path.join(VALIDATION_JSON);
    bt_fs::write_atomic(&path, text.as_bytes())
        .map_err(|source| ExecError::Write { path, source })?;
    Ok(())
}

/// The groups of the run in `dir`: its `validation.json`, written when the run or merge
/// completed, or (a directory without one: an older version, a crash in between, an
/// unfinished run) computed from its results on `threads` threads without writing anything.
pub fn run_validation(dir: &Path, threads: usize) -> Result<Vec<ValidationGroup>> {
    match read_validation(dir)? {
        Some(groups) => Ok(groups),
        None => validate_results(&bt_executor::RunDir::new(dir).results(), threads),
    }
}

/// The groups of a run directory's `validation.json`, `None` when it has none.
pub fn read_validation(dir: &Path) -> Result<Option<Vec<ValidationGroup>>> {
    let path = dir.join(VALIDATION_JSON);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ExecError::Io { path, source }.into()),
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| ExecError::Corrupt {
        path: path.clone(),
        line: e.line(),
        message: e.to_string(),
    })?;
    let groups =
        v["groups"].as_array().map_or(Vec::new(), |a| a.iter().map(group_from_json).collect());
    Ok(Some(groups))
}
