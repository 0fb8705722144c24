use std::{
    cell::RefCell,
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use bt_domain::{RunInfo, SimRecord, SimSpec, Trade, window::WalkForwardResult};
use bt_executor::{ExecError, RunDir, for_each_in_queue_order, read_results};
use bt_queue::Queue;
use bt_report::{CurveData, Format, Overview, Records, ReportError, ReportFiles, WalkForwardView};
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
}

impl Default for ReportOptions {
    /// The top 10 by Sharpe ratio, as report.html, Markdown tables and summary.csv.
    fn default() -> ReportOptions {
        ReportOptions {
            top: 10,
            by: "sharpe_ratio".into(),
            formats: vec![Format::Html, Format::Md, Format::Csv],
            out: None,
        }
    }
}

/// An equity curve recorded by re-running one simulation.
struct Rerun {
    id: String,
    timestamps: Vec<i64>,
    equity: Vec<f64>,
    trades: Vec<Trade>,
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

/// Writes the report of the run in `run` into `target` (which the caller has locked): re-runs
/// the top simulations with curves recorded when their data set is in `datasets`, renders the
/// tables and charts, and writes summary.parquet when asked.
///
/// The records are streamed from the result log in a few passes (see [`bt_report::Records`]):
/// memory holds the report's bounded aggregates, never the run (but for summary.parquet).
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
        ..bt_report::ReportOptions::default()
    };
    let records = RunRecords::new(run);
    let overview = records.check(Overview::scan(&records, &report_opts), |e| e)?;
    let reruns = match queue {
        Some(queue) => rerun_best(registry, queue, overview.best(), datasets)?,
        None => Vec::new(),
    };
    let curves: Vec<CurveData<'_>> = reruns
        .iter()
        .map(|r| CurveData {
            id: &r.id,
            timestamps: &r.timestamps,
            equity: &r.equity,
            trades: &r.trades,
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
            curve: curve.as_ref().map(|c| CurveData {
                id: &result.oos_id,
                timestamps: &c.timestamps,
                equity: &c.equity,
                trades: &c.trades,
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
    if formats.contains(&Format::Parquet) {
        // The one output that still holds the whole run: the Parquet writer takes whole
        // columns (a streaming writer replaces it).
        let path = target.join("summary.parquet");
        write_summary_parquet(&path, &read_results(&run.results())?)?;
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

/// summary.parquet: the summary table's columns, typed (polars reads it in one line).
fn write_summary_parquet(path: &Path, records: &[SimRecord]) -> Result<()> {
    use bt_data::TableColumn;
    use bt_domain::Cell;
    let table = bt_domain::SummaryTable::new(records);
    let mut columns = Vec::new();
    for (c, name) in table.columns.iter().enumerate() {
        let cells = table.rows.iter().map(|r| &r[c]);
        let is_num =
            table.rows.iter().all(|r| matches!(r[c], Cell::Float(_) | Cell::Int(_) | Cell::Null));
        let is_int = table.rows.iter().all(|r| matches!(r[c], Cell::Int(_)));
        let col = if is_int && !table.rows.is_empty() {
            TableColumn::I64(cells.map(|x| if let Cell::Int(i) = x { *i } else { 0 }).collect())
        } else if is_num && !table.rows.is_empty() {
            TableColumn::F64(
                cells
                    .map(|x| match x {
                        Cell::Int(i) => *i as f64,
                        Cell::Float(f) => *f,
                        _ => f64::NAN,
                    })
                    .collect(),
            )
        } else {
            TableColumn::Str(cells.map(Cell::to_text).collect())
        };
        columns.push((name.clone(), col));
    }
    bt_data::write_table_parquet(&columns, path)?;
    Ok(())
}
