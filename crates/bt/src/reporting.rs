use std::{
    cell::RefCell,
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use bt_domain::{RunInfo, SimRecord, SimSpec, Trade, window::WalkForwardResult};
use bt_executor::{ExecError, RunDir, for_each_in_queue_order};
use bt_queue::Queue;
use bt_report::{
    CurveData, EquityCurve, Format, Overview, RecordFilter, Records, ReportError, ReportFiles,
    WalkForwardView,
};
use bt_strategies::Registry;

use crate::{
    dataset::{Datasets, load_datasets},
    error::{Error, Result},
    simulate::Simulator,
    walk_forward::{StitchedCurve, WalkForwards, walk_forward_results},
};

/// What a report holds and where it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Leaderboard rows, and equity curves charted (the top simulations are re-run to record
    /// them; a sweep keeps no curve).
    pub top: usize,
    /// The statistic to rank by (see [`bt_domain::ranking::rankable`]).
    pub by: String,
    /// Outputs to write.
    pub formats: Vec<Format>,
    /// Write into this directory instead of the run directory (which is then only read).
    pub out: Option<PathBuf>,
    /// Rank only the simulations this filter keeps (see [`crate::filter`]; compiled by
    /// [`crate::Workbench::run_filter`]); the other tables and charts show every simulation.
    pub filter: Option<RecordFilter>,
}

impl Default for ReportOptions {
    /// The top 10 by Sharpe ratio, as report.html, Markdown tables and summary.csv.
    fn default() -> ReportOptions {
        ReportOptions {
            top: 10,
            by: "sharpe_ratio".into(),
            formats: vec![Format::Html, Format::Md, Format::Csv],
            out: None,
            filter: None,
        }
    }
}

/// An equity curve recorded by re-running one simulation.
struct Rerun {
    id: String,
    timestamps: Vec<i64>,
    equity: Vec<f64>,
    trades: Vec<Trade>,
    /// Buying the data set's asset with the simulation's cash after its warm-up, and holding.
    buy_hold: Vec<f64>,
    /// A portfolio run's weights over time.
    weights: Option<crate::portfolio::PortfolioWeights>,
}

/// A run's results as a report's record source: each pass streams the result log in queue
/// order (one record at a time, an id written twice used once).
struct RunRecords {
    path: PathBuf,
    /// The log's own error, kept whole (a report error only carries its text) for
    /// [`RunRecords::check`].
    error: RefCell<Option<ExecError>>,
}

impl RunRecords {
    fn new(run: &RunDir) -> RunRecords {
        RunRecords { path: run.results(), error: RefCell::new(None) }
    }

    /// `result`, unless reading the log failed during it: then the log's error (a report's
    /// own error goes through `wrap`).
    fn check<T>(
        &self,
        result: std::result::Result<T, ReportError>,
        wrap: impl FnOnce(Error) -> Error,
    ) -> Result<T> {
        match (result, self.error.borrow_mut().take()) {
            (_, Some(e)) => Err(e.into()),
            (Ok(v), None) => Ok(v),
            (Err(e), None) => Err(wrap(e.into())),
        }
    }
}

impl Records for RunRecords {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&SimRecord) -> std::result::Result<(), ReportError>,
    ) -> std::result::Result<(), ReportError> {
        // `f`'s error is carried out of the log's loop, which only knows its own errors, by
        // stopping the loop with a placeholder.
        let mut stopped = None;
        let read = for_each_in_queue_order(&self.path, |r| {
            f(&r).map_err(|e| {
                stopped = Some(e);
                ExecError::Io { path: self.path.clone(), source: std::io::Error::other("stopped") }
            })
        });
        match (read, stopped) {
            (_, Some(e)) => Err(e),
            (Ok(()), None) => Ok(()),
            (Err(e), None) => {
                let reason = e.to_string();
                *self.error.borrow_mut() = Some(e);
                Err(ReportError::Records { reason })
            }
        }
    }
}

/// The best `k` records of `run` by `metric` that `filter` keeps, streamed from its log.
pub(crate) fn leaders_of_run(
    run: &RunDir,
    metric: &str,
    k: usize,
    filter: &RecordFilter,
) -> Result<(Vec<SimRecord>, Option<bt_report::FilterTally>)> {
    let records = RunRecords::new(run);
    records.check(bt_report::leaders(&records, metric, k, Some(filter)), |e| e)
}

/// Writes the report of the run in `run` into `target` (which the caller has locked): re-runs
/// the top simulations with curves recorded when their data set is in `datasets`, renders the
/// tables and charts, and writes summary.parquet when asked.
///
/// The records are streamed from the result log in a few passes (see [`bt_report::Records`]):
/// memory holds the report's bounded aggregates, never the run (summary.parquet is written a
/// batch of rows at a time).
pub(crate) fn report_into(
    registry: &Registry,
    target: &Path,
    run: &RunDir,
    info: &RunInfo,
    queue: Option<&Queue>,
    datasets: &Datasets,
    opts: &ReportOptions,
) -> Result<ReportFiles> {
    bt_domain::ranking::rank_metric(&opts.by)?;
    let mut formats = opts.formats.clone();
    formats.sort_unstable();
    formats.dedup();
    if info.total > bt_executor::SUMMARY_CSV_MAX_ROWS && formats.contains(&Format::Csv) {
        // Hundreds of MB of text that nobody opens: the typed table is summary.parquet.
        tracing::info!(
            "no summary.csv for {} simulations (over {}): summary.parquet has every row, and `bt results {} --format csv` prints them",
            info.total,
            bt_executor::SUMMARY_CSV_MAX_ROWS,
            run.path.display()
        );
        formats.retain(|f| *f != Format::Csv);
    }
    let report_opts = bt_report::ReportOptions {
        top_k: opts.top,
        metric: opts.by.clone(),
        formats: formats.clone(),
        filter: opts.filter.clone(),
        ..bt_report::ReportOptions::default()
    };
    let records = RunRecords::new(run);
    let overview = records.check(Overview::scan(&records, &report_opts), |e| e)?;
    let reruns = match queue {
        Some(queue) => rerun_best(registry, queue, overview.best(), datasets)?,
        None => Vec::new(),
    };
    let curves: Vec<EquityCurve<'_>> = reruns
        .iter()
        .map(|r| EquityCurve {
            curve: CurveData {
                id: &r.id,
                timestamps: &r.timestamps,
                equity: &r.equity,
                trades: &r.trades,
            },
            buy_hold: Some(&r.buy_hold),
        })
        .collect();
    let validation =
        crate::validation::run_validation(&run.path, crate::cluster::default_threads())?;
    let (wf_results, wf_curves) = match queue {
        Some(queue) => walk_forwards(registry, queue, datasets, run, &records)?,
        None => (Vec::new(), Vec::new()),
    };
    let wf_views: Vec<WalkForwardView<'_>> = wf_results
        .iter()
        .zip(&wf_curves)
        .map(|(result, curve)| WalkForwardView {
            result,
            curve: curve.as_ref().map(|c| EquityCurve {
                curve: CurveData {
                    id: &result.oos_id,
                    timestamps: &c.timestamps,
                    equity: &c.equity,
                    trades: &c.trades,
                },
                buy_hold: c.buy_hold.as_deref(),
            }),
        })
        .collect();
    let weights: Vec<bt_report::WeightsData<'_>> = reruns
        .iter()
        .filter_map(|r| r.weights.as_ref().map(|w| w.chart_data(&r.id, &r.timestamps)))
        .collect();
    let data = bt_report::ReportData {
        weights: &weights,
        info,
        records: &records,
        curves: &curves,
        validation: &validation,
        walk_forwards: &wf_views,
    };
    let written = bt_report::write_report_from(target, &data, overview, &report_opts);
    let mut files = records
        .check(written, |e| e.context(format!("writing the report into {}", target.display())))?;
    if !files.removed_charts.is_empty() {
        tracing::info!(
            "removed {} chart files of an earlier report from {}",
            files.removed_charts.len(),
            target.join("charts").display()
        );
    }
    if formats.contains(&Format::Parquet) {
        let path = target.join("summary.parquet");
        crate::summary::write_summary_parquet(&path, run)?;
        files.tables.push(path);
    }
    Ok(files)
}

/// The run's walk-forwards and, where their data sets are loaded, their stitched
/// out-of-sample curves (re-run from the records' choices).
fn walk_forwards(
    registry: &Registry,
    queue: &Queue,
    datasets: &Datasets,
    run: &RunDir,
    records: &RunRecords,
) -> Result<(Vec<WalkForwardResult>, Vec<Option<StitchedCurve>>)> {
    if queue.walk_forwards().is_empty() || datasets.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let wfs = WalkForwards::new(queue, datasets);
    let results = walk_forward_results(&wfs, &run.path)?;
    let mut read = Ok(());
    wfs.choose(&mut |f| {
        read = records.for_each(&mut |r| {
            f(r);
            Ok(())
        })
    });
    records.check(read, |e| e)?;
    let simulator = Simulator::new(registry).with_walk_forwards(&wfs);
    let curves = (0..wfs.sections.len())
        .map(|s| {
            wfs.stitched_curve(&simulator, s).map_err(|e| {
                Error::from(e).context(format!("re-running walk-forward {}", results[s].id))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((results, curves))
}

/// Re-runs the best simulations (`best`, found in the run's queue) with their curves recorded.
fn rerun_best(
    registry: &Registry,
    queue: &Queue,
    best: &[SimRecord],
    datasets: &Datasets,
) -> Result<Vec<Rerun>> {
    if datasets.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: BTreeMap<&str, usize> =
        best.iter().enumerate().map(|(k, r)| (r.id.as_str(), k)).collect();
    let mut specs: Vec<Option<SimSpec>> = vec![None; best.len()];
    for spec in queue.iter() {
        if let Some(&k) = wanted.get(spec.id.as_str()) {
            specs[k] = Some(spec);
        }
    }
    let simulator = Simulator::new(registry);
    let mut out = Vec::new();
    for spec in specs.into_iter().flatten() {
        let Some(data) = datasets.get(&spec.dataset) else { continue };
        let b = simulator
            .run(&spec, data, true)
            .map_err(|e| Error::from(e).context(format!("re-running {}", spec.id)))?;
        out.push(Rerun {
            id: spec.id.clone(),
            timestamps: data.bars.timestamps().to_vec(),
            trades: b.all_trades(),
            buy_hold: bt_report::buy_and_hold(data.bars.close(), spec.config.cash, b.result.warmup),
            weights: b.weights,
            equity: b.equity.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The run's queue and its data sets, for re-running the best simulations; none (and a
/// warning: the report then has every table but no equity chart) when the queue cannot be
/// read any more.
pub(crate) fn queue_for_report(info: &RunInfo) -> Result<Option<(Queue, Datasets)>> {
    match Queue::from_path(&info.queue) {
        Ok(q) => {
            let datasets = load_datasets(&q)?;
            Ok(Some((q, datasets)))
        }
        Err(e) => {
            tracing::warn!("no equity charts: cannot read the run's queue {}: {e}", info.queue);
            Ok(None)
        }
    }
}
#[cfg(test)]
mod tests {
    use bt_domain::SimOutcome;

    use super::*;

    /// The re-run's buy-and-hold line ends where the statistic says: cash times one plus
    /// `buy_hold_return_pct` (both start at the close of the warm-up's last bar).
    #[test]
    fn the_buy_and_hold_line_ends_at_the_buy_and_hold_return() {
        let dir = tempfile::tempdir().unwrap();
        let goog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/GOOG.csv");
        let q = dir.path().join("q.ron");
        let text = format!(
            r#"(
    version: 1,
    defaults: (cash: 25000.0, commission: 0.002),
    datasets: {{"goog": (path: "{}")}},
    sweeps: [(id: "sma", datasets: ["goog"], strategy: "sma_cross",
              grid: {{"fast": [10], "slow": [20, 90]}})],
)"#,
            goog.display()
        );
        std::fs::write(&q, text).unwrap();
        let queue = Queue::from_path(&q).unwrap();
        let datasets = load_datasets(&queue).unwrap();
        let registry = Registry::builtin();
        let specs: Vec<SimSpec> = queue.iter().collect();
        let best: Vec<SimRecord> = specs
            .iter()
            .map(|s| SimRecord {
                index: 0,
                id: s.id.clone(),
                dataset: s.dataset.clone(),
                strategy: s.strategy.clone(),
                params: s.params.clone(),
                outcome: SimOutcome::Failed(String::new()),
            })
            .collect();
        let reruns = rerun_best(&registry, &queue, &best, &datasets).unwrap();
        assert_eq!(reruns.len(), 2);
        let simulator = Simulator::new(&registry);
        for (spec, rerun) in specs.iter().zip(&reruns) {
            let b = simulator.run(spec, &datasets["goog"], false).unwrap();
            let (bh, warmup) = (&rerun.buy_hold, b.result.warmup);
            assert!(warmup >= 19, "{}: warm-up {warmup}", spec.id);
            assert_eq!(bh.len(), rerun.equity.len());
            assert!(
                bh[..=warmup].iter().all(|&v| v == 25_000.0),
                "{}: cash until the warm-up",
                spec.id
            );
            let want = 25_000.0 * (1.0 + b.stats.buy_hold_return_pct / 100.0);
            let last = *bh.last().unwrap();
            assert!((last - want).abs() <= 1e-9 * want, "{}: {last} vs {want}", spec.id);
        }
        // The longer warm-up buys later, at another price.
        assert_ne!(reruns[0].buy_hold.last(), reruns[1].buy_hold.last());
    }
}
