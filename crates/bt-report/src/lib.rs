//! Reports of bt runs: tables, charts and one self-contained HTML page.
//!
//! - Records come from a [`Records`] source: a slice, or anything that can replay a run's
//!   records one at a time in queue order. A report reads them in a few passes and holds only
//!   bounded aggregates ([`Overview`], heatmap cells, histogram bins), so a run of ten million
//!   simulations reports in bounded memory; summary.csv and summary.json are streamed row by
//!   row, and summary.md past 1,000 rows shows the best 1,000.
//! - Tables: [`Leaderboard`] (top K by any statistic, O(n log K) selection, of the records a
//!   [`RecordFilter`] keeps: the note of its [`FilterTally`] above the rows), the summary
//!   exports [`summary_json`] / [`summary_markdown`] (CSV is
//!   [`bt_domain::SummaryTable::to_csv`]), and the [`failed`] list.
//! - Charts ([`Chart`], PNG or SVG from the same drawing code): [`equity`] (equity with trade
//!   markers and drawdown; [`equity_vs_buy_hold`] adds the [`buy_and_hold`] line),
//!   [`heatmap`] / [`heatmaps`] (a metric by two swept parameters), [`histogram`] (a metric
//!   across the sweep; the report draws one per strategy, or per sweep of a strategy swept
//!   several times), [`overfit_chart`] (the PBO's logits and
//!   in-sample/out-of-sample scatter of a group of trials) and [`perf`] (runtime per execution
//!   mode, for `cargo xtask perf`).
//! - The overfitting statistics of the groups ([`validation_text`], [`validation_markdown`]),
//!   computed by the caller (bt-stats) and passed in as [`bt_domain::ValidationGroup`]s.
//! - [`write_report`]: `report.html` with inline SVG charts (values on hover as `<title>`s),
//!   inline CSS and one small inline script (the leaderboard's sorting), no network, plus the
//!   requested exports and chart files, each written atomically ([`write_report_from`] when
//!   the caller ran the first pass itself); chart files of an earlier report under names this
//!   one owns are removed ([`ReportFiles::removed_charts`]).
//!
//! Text is drawn with DejaVu Sans embedded in the binary (through plotters' `ab_glyph`), so
//! PNGs render the same on a machine without fonts or fontconfig. Everything is deterministic:
//! the same inputs give the same bytes.
//!
//! Architecture invariant: this is the only crate that knows plotters, and no plotters type
//! appears in its API. It knows nothing of engines, executors, queues or data files: it
//! receives finished [`bt_domain::SimRecord`]s (through [`Records`]) and curves, and writes
//! where the caller says. Memory never grows with the number of records.
//! It does not write Parquet (bt-data does).
//!
//! ```
//! use bt_report::{top_k, summary_json};
//! use bt_domain::SummaryTable;
//! assert!(top_k(&[], "sharpe_ratio", 5).unwrap().is_empty());
//! assert_eq!(summary_json(&SummaryTable::new(&[])), "[\n]\n");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod chart;
mod error;
mod filter;
mod font;
mod html;
mod io;
mod overview;
mod report;
mod select;
mod source;
mod table;
mod validation;
mod walk_forward;

pub use crate::{
    chart::{
        Agg, Chart, ChartFormat, CurveData, EquityCurve, InstrumentRow, PerfPoint, WeightsData,
        buy_and_hold, equity, equity_chart, equity_chart_to, equity_vs_buy_hold,
        equity_with_windows, heatmap, heatmaps, histogram, overfit_chart, perf, perf_chart,
        strategy_heatmaps, swept_params, weights, weights_chart_to,
    },
    error::ReportError,
    filter::{FilterTally, RecordFilter},
    html::{Format, ReportData, ReportFiles, ReportOptions, esc},
    overview::Overview,
    report::{write_report, write_report_from},
    source::Records,
    table::{
        LEADERBOARD_STATS, Leaderboard, failed, failed_markdown, fmt_stat, leaders, summary_json,
        summary_markdown, top_k,
    },
    validation::{validation_markdown, validation_text},
    walk_forward::{WalkForwardView, walk_forward_text},
};
