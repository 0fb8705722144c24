//! Reports of run directories: re-runs the top simulations with their equity curves recorded
//! (a sweep keeps none) and hands everything to bt-report.

use std::{collections::BTreeMap, io::Write, path::Path};

use anyhow::Context as _;
use bt_domain::{SimSpec, Trade};
use bt_executor::{RunDir, read_results, run_info_from_json};
use bt_queue::Queue;
use bt_report::{CurveData, Format};

use crate::{
    BadInput,
    report_cmd::ReportArgs,
    sim::{Backtester, Prepared, all_trades, load_datasets},
};

/// The report arguments `bt run` and `bt merge` use: every default of `bt report`.
pub fn default_args(dir: &Path, by: &str, top: usize) -> ReportArgs {
    ReportArgs {
        dir: dir.to_owned(),
        top,
        by: by.to_owned(),
        format: vec![Format::Html, Format::Md, Format::Csv],
    }
}

/// `bt report DIR`.
pub fn run(args: ReportArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    crate::run_cmd::check_metric(&args.by)?;
    let rd = RunDir::new(&args.dir);
    let info = rd.read_run_json()?.ok_or_else(|| {
        BadInput(format!("{}: no run.json: not a bt run directory", args.dir.display()))
    })?;
    let queue_path = run_info_from_json(&info).queue;
    // Curves need the data again; without the queue the report still has every table.
    let datasets = match Queue::from_path(&queue_path) {
        Ok(q) => load_datasets(&q)?,
        Err(e) => {
            tracing::warn!("no equity charts: cannot read the run's queue {queue_path}: {e}");
            BTreeMap::new()
        }
    };
    write_for_run(&args, &datasets)?;
    writeln!(out, "report: {}", args.dir.join("report.html").display())?;
    Ok(())
}

/// Writes the report of the run in `args.dir`, re-running its top simulations with curves
/// recorded, when their data set is in `datasets`.
pub fn write_for_run(
    args: &ReportArgs,
    datasets: &BTreeMap<String, Prepared>,
) -> anyhow::Result<()> {
    let (dir, by, top) = (args.dir.as_path(), args.by.as_str(), args.top);
    let rd = RunDir::new(dir);
    let info = run_info_from_json(&rd.read_run_json()?.unwrap_or_default());
    let records = read_results(&rd.results())?;
    let best = bt_executor::top_k(records.iter().cloned(), by, top);

    // Find the best simulations' specs in the queue, and re-run them with curves.
    let registry = crate::test_strategies::registry();
    let bt = Backtester { registry: &registry };
    let mut reruns: Vec<(String, Prepared2)> = Vec::new();
    if !datasets.is_empty()
        && let Ok(queue) = Queue::from_path(&info.queue)
    {
        let wanted: BTreeMap<&str, usize> =
            best.iter().enumerate().map(|(k, r)| (r.id.as_str(), k)).collect();
        let mut specs: Vec<Option<SimSpec>> = vec![None; best.len()];
        for spec in queue.iter() {
            if let Some(&k) = wanted.get(spec.id.as_str()) {
                specs[k] = Some(spec);
            }
        }
        for spec in specs.into_iter().flatten() {
            let Some(data) = datasets.get(&spec.dataset) else { continue };
            let d = bt.run(&spec, data, true).with_context(|| format!("re-running {}", spec.id))?;
            reruns.push((
                spec.id.clone(),
                Prepared2 {
                    timestamps: data.bars.timestamps().to_vec(),
                    equity: d.equity.unwrap_or_default(),
                    trades: all_trades(&d.result),
                },
            ));
        }
    }
    let curves: Vec<CurveData<'_>> = reruns
        .iter()
        .map(|(id, p)| CurveData {
            id,
            timestamps: &p.timestamps,
            equity: &p.equity,
            trades: &p.trades,
        })
        .collect();
    crate::report_cmd::render(dir, &info, &records, &curves, args)?;
    if args.format.contains(&Format::Parquet) {
        write_summary_parquet(dir, &records)?;
    }
    Ok(())
}

struct Prepared2 {
    timestamps: Vec<i64>,
    equity: Vec<f64>,
    trades: Vec<Trade>,
}

/// summary.parquet: the summary table's columns, typed (polars reads it in one line).
fn write_summary_parquet(dir: &Path, records: &[bt_domain::SimRecord]) -> anyhow::Result<()> {
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
    bt_data::write_table_parquet(&columns, &dir.join("summary.parquet"))?;
    Ok(())
}

/// `bt backtest --plot`: equity and drawdown of one simulation, PNG or SVG by extension.
pub fn plot_equity(
    path: &Path,
    id: &str,
    timestamps: &[i64],
    equity: &[f64],
    trades: &[Trade],
) -> anyhow::Result<()> {
    bt_report::equity_chart_to(&CurveData { id, timestamps, equity, trades }, path)?;
    Ok(())
}
