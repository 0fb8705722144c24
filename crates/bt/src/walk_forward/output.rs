//! What a run's walk-forwards gave, from its records: [`walk_forward_results`], written as
//! `walk_forward.csv` (one row per window) and `walk_forward.json` (the windows and the 32
//! statistics of each stitched out-of-sample curve). Schema: docs/validation.md.

use std::{collections::BTreeMap, path::Path};

use bt_domain::{
    SimOutcome, SimRecord, push_csv_line, time,
    window::{WalkForwardResult, WindowResult},
};
use bt_executor::{ExecError, LockedRunDir, RunDir, for_each_in_queue_order};
use serde_json::{Value, json};

use super::WalkForwards;
use crate::error::Result;

/// One row per window of every walk-forward.
pub const WALK_FORWARD_CSV: &str = "walk_forward.csv";
/// Every walk-forward with its windows and stitched statistics.
pub const WALK_FORWARD_JSON: &str = "walk_forward.json";

/// The walk-forwards of the run in `dir`, from its records (read in queue order).
pub fn walk_forward_results(wfs: &WalkForwards<'_>, dir: &Path) -> Result<Vec<WalkForwardResult>> {
    let mut wanted: BTreeMap<String, Option<SimOutcome>> = BTreeMap::new();
    for section in &wfs.sections {
        for w in section.windows.iter().filter(|w| !w.test.is_empty()) {
            wanted.insert(section.wf.test_spec(w, Default::default()).id, None);
        }
        if let Some(range) = section.oos_range() {
            wanted.insert(section.wf.oos_spec(&range).id, None);
        }
    }
    let results = RunDir::new(dir).results();
    let mut failed: Option<ExecError> = None;
    let picked = wfs.pick(&mut |f| {
        let read = for_each_in_queue_order(&results, |r: SimRecord| {
            if let Some(slot) = wanted.get_mut(&r.id) {
                *slot = Some(r.outcome.clone());
            }
            f(&r);
            Ok(())
        });
        if let Err(e) = read {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        return Err(e.into());
    }
    let mut out = Vec::new();
    for (section, picked) in wfs.sections.iter().zip(picked) {
        let wf = section.wf;
        let ts = section.base.bars.timestamps();
        let span = |r: &std::ops::Range<usize>| (ts[r.start], ts[r.end - 1]);
        let mut cash = wf.config().cash;
        let mut windows = Vec::new();
        for (w, p) in section.windows.iter().zip(picked) {
            let metric = |s: &bt_domain::Stats| s.metric(&wf.select_by).unwrap_or(f64::NAN);
            let (chosen_id, params, is_metric, is_ret) = match p.best {
                Some((id, params, stats)) => {
                    (Some(id), params, metric(&stats), stats.return_ann_pct)
                }
                None => (None, Default::default(), f64::NAN, f64::NAN),
            };
            let test = wanted.get(&wf.test_spec(w, Default::default()).id).cloned().flatten();
            let start = cash;
            let (oos_metric, oos_ret, error) = match &test {
                Some(SimOutcome::Ok(s)) => {
                    cash = s.stats.equity_final;
                    (metric(&s.stats), s.stats.return_ann_pct, None)
                }
                Some(SimOutcome::Failed(e)) => (f64::NAN, f64::NAN, Some(e.clone())),
                None => (f64::NAN, f64::NAN, None),
            };
            windows.push(WindowResult {
                window: w.clone(),
                train_span: span(&w.train),
                test_span: (!w.test.is_empty()).then(|| span(&w.test)),
                trials: p.trials,
                chosen_id,
                params,
                is_metric,
                oos_metric,
                is_return_ann_pct: is_ret,
                oos_return_ann_pct: oos_ret,
                efficiency: oos_ret / is_ret,
                oos_equity: if w.test.is_empty() { (f64::NAN, f64::NAN) } else { (start, cash) },
                error,
            });
        }
        let (oos_id, oos) = match section.oos_range() {
            Some(range) => {
                let id = wf.oos_spec(&range).id;
                let stats = match wanted.get(&id).cloned().flatten() {
                    Some(SimOutcome::Ok(s)) => Some(s.stats),
                    _ => None,
                };
                (id, stats)
            }
            None => (String::new(), None),
        };
        let tested: Vec<f64> = windows
            .iter()
            .filter(|w| !w.window.test.is_empty() && w.chosen_id.is_some())
            .map(|w| w.is_return_ann_pct)
            .collect();
        let mean_is = bt_domain::numeric::np_mean(&tested);
        out.push(WalkForwardResult {
            id: wf.id.clone(),
            strategy: wf.strategy.clone(),
            dataset: wf.dataset.clone(),
            select_by: wf.select_by.clone(),
            train: wf.train,
            test: wf.test,
            anchored: wf.anchored,
            windows,
            oos_id,
            efficiency: oos.map_or(f64::NAN, |s| s.return_ann_pct) / mean_is,
            oos,
        });
    }
    Ok(out)
}

fn float(x: f64) -> String {
    if x.is_nan() { String::new() } else { x.to_string() }
}

/// `walk_forward.csv`: one row per window, the parameter columns the union of the chosen ones.
pub fn walk_forward_csv(results: &[WalkForwardResult]) -> String {
    let mut params: Vec<&str> = results
        .iter()
        .flat_map(|r| r.windows.iter().flat_map(|w| w.params.keys().map(String::as_str)))
        .collect();
    params.sort_unstable();
    params.dedup();
    let mut out = String::new();
    let head = [
        "walk_forward",
        "window",
        "train_start",
        "train_end",
        "test_start",
        "test_end",
        "train_from",
        "train_to",
        "test_from",
        "test_to",
        "trials",
        "chosen",
    ];
    let tail = [
        "select_by",
        "is_metric",
        "oos_metric",
        "is_return_ann_pct",
        "oos_return_ann_pct",
        "efficiency",
        "oos_equity_start",
        "oos_equity_end",
        "error",
    ];
    push_csv_line(&mut out, head.iter().copied().chain(params.iter().copied()).chain(tail));
    for r in results {
        for w in &r.windows {
            let (test_from, test_to) = w.test_span.map_or((String::new(), String::new()), |s| {
                (time::format_iso(s.0), time::format_iso(s.1))
            });
            let mut row = vec![
                r.id.clone(),
                w.window.k.to_string(),
                w.window.train.start.to_string(),
                w.window.train.end.to_string(),
                w.window.test.start.to_string(),
                w.window.test.end.to_string(),
                time::format_iso(w.train_span.0),
                time::format_iso(w.train_span.1),
                test_from,
                test_to,
                w.trials.to_string(),
                w.chosen_id.clone().unwrap_or_default(),
            ];
            row.extend(
                params.iter().map(|p| w.params.get(*p).map(|v| v.to_string()).unwrap_or_default()),
            );
            row.extend([
                r.select_by.clone(),
                float(w.is_metric),
                float(w.oos_metric),
                float(w.is_return_ann_pct),
                float(w.oos_return_ann_pct),
                float(w.efficiency),
                float(w.oos_equity.0),
                float(w.oos_equity.1),
                w.error.clone().unwrap_or_default(),
            ]);
            push_csv_line(&mut out, row.iter().map(String::as_str));
        }
    }
    out
}

fn num(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// `walk_forward.json`.
pub fn walk_forward_json(results: &[WalkForwardResult]) -> String {
    let wfs: Vec<Value> = results
        .iter()
        .map(|r| {
            let windows: Vec<Value> = r
                .windows
                .iter()
                .map(|w| {
                    let params: serde_json::Map<String, Value> = w
                        .params
                        .iter()
                        .map(|(k, v)| {
                            let v = match v {
                                bt_domain::ParamValue::Int(i) => Value::from(*i),
                                bt_domain::ParamValue::Float(x) => num(*x),
                                bt_domain::ParamValue::Bool(b) => Value::from(*b),
                                bt_domain::ParamValue::Str(s) => Value::from(s.clone()),
                            };
                            (k.clone(), v)
                        })
                        .collect();
                    json!({
                        "window": w.window.k,
                        "train": [w.window.train.start, w.window.train.end],
                        "test": [w.window.test.start, w.window.test.end],
                        "train_from": time::format_iso(w.train_span.0),
                        "train_to": time::format_iso(w.train_span.1),
                        "test_from": w.test_span.map(|s| time::format_iso(s.0)),
                        "test_to": w.test_span.map(|s| time::format_iso(s.1)),
                        "trials": w.trials,
                        "chosen": w.chosen_id,
                        "params": params,
                        "is_metric": num(w.is_metric),
                        "oos_metric": num(w.oos_metric),
                        "is_return_ann_pct": num(w.is_return_ann_pct),
                        "oos_return_ann_pct": num(w.oos_return_ann_pct),
                        "efficiency": num(w.efficiency),
                        "oos_equity_start": num(w.oos_equity.0),
                        "oos_equity_end": num(w.oos_equity.1),
                        "error": w.error,
                    })
                })
                .collect();
            let oos: Value = match &r.oos {
                Some(s) => serde_json::from_str(&bt_executor::stats_json(s))
                    .expect("stats_json writes JSON"),
                None => Value::Null,
            };
            json!({
                "id": r.id,
                "strategy": r.strategy,
                "dataset": r.dataset,
                "select_by": r.select_by,
                "train": r.train,
                "test": r.test,
                "anchored": r.anchored,
                "oos_id": r.oos_id,
                "efficiency": num(r.efficiency),
                "oos": oos,
                "windows": windows,
            })
        })
        .collect();
    let v = json!({"version": 1, "definitions": "docs/validation.md", "walk_forwards": wfs});
    serde_json::to_string_pretty(&v).expect("json values serialize") + "\n"
}

/// Computes the walk-forwards of the run in `dir` and writes walk_forward.csv and
/// walk_forward.json (atomically); nothing for a queue without walk-forwards.
pub fn write_walk_forward(
    wfs: &WalkForwards<'_>,
    dir: &LockedRunDir,
) -> Result<Vec<WalkForwardResult>> {
    if wfs.is_empty() {
        return Ok(Vec::new());
    }
    let results = walk_forward_results(wfs, &dir.path)?;
    for (name, text) in [
        (WALK_FORWARD_CSV, walk_forward_csv(&results)),
        (WALK_FORWARD_JSON, walk_forward_json(&results)),
    ] {
        let path = dir.path.join(name);
        bt_fs::write_atomic(&path, text.as_bytes())
            .map_err(|source| ExecError::Write { path, source })?;
    }
    Ok(results)
}
