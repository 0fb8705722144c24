//! The run report: one self-contained `report.html` plus the requested table exports and chart
//! files.

use std::{fmt, path::PathBuf, str::FromStr};

use bt_domain::{RunInfo, SimRecord, ValidationGroup};

pub(crate) mod page;

use crate::{
    chart::{Agg, EquityCurve},
    error::ReportError,
    filter::{FilterTally, RecordFilter},
    source::Records,
    walk_forward::WalkForwardView,
};

/// An output of `bt report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// `report.html`, self-contained.
    Html,
    /// `summary.md` (the whole table up to 1,000 rows, the best 1,000 beyond),
    /// `leaderboard.md`, and `failed.md` when some failed.
    Md,
    /// `summary.csv`.
    Csv,
    /// `summary.json`.
    Json,
    /// `summary.parquet`: written by the caller (bt-report knows no Parquet); skipped here.
    Parquet,
}

impl Format {
    /// The lowercase name (`html`, `md`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Md => "md",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Parquet => "parquet",
        }
    }
}

impl FromStr for Format {
    type Err = ReportError;
    fn from_str(s: &str) -> Result<Format, ReportError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "html" => Ok(Format::Html),
            "md" | "markdown" => Ok(Format::Md),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "parquet" => Ok(Format::Parquet),
            _ => Err(ReportError::UnknownFormat { format: s.to_string() }),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a report is made of.
#[derive(Clone, Copy)]
pub struct ReportData<'a> {
    /// The run's metadata.
    pub info: &'a RunInfo,
    /// Every record of the run, replayable (a slice, a vector, or a source that streams them:
    /// see [`Records`]).
    pub records: &'a dyn Records,
    /// Equity curves of the best simulations (re-run by the caller), best first, each with
    /// its buy-and-hold line when the caller has the data set's closes.
    pub curves: &'a [EquityCurve<'a>],
    /// The overfitting statistics of the run's groups.
    pub validation: &'a [ValidationGroup],
    /// The run's walk-forwards.
    pub walk_forwards: &'a [WalkForwardView<'a>],
    /// Weights over time of the best simulations that are portfolio runs (charted after their
    /// equity, matched by id).
    pub weights: &'a [crate::chart::WeightsData<'a>],
}

impl<'a> ReportData<'a> {
    /// A report of `records` alone: no curves, no overfitting statistics, no walk-forward.
    pub fn new(info: &'a RunInfo, records: &'a dyn Records) -> ReportData<'a> {
        ReportData { info, records, curves: &[], validation: &[], walk_forwards: &[], weights: &[] }
    }
}

impl fmt::Debug for ReportData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportData")
            .field("info", &self.info)
            .field("curves", &self.curves)
            .field("validation", &self.validation)
            .field("walk_forwards", &self.walk_forwards)
            .finish_non_exhaustive()
    }
}

/// What [`crate::write_report`] produces.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Rows of the leaderboard.
    pub top_k: usize,
    /// Ranking metric, a [`bt_domain::STAT_KEYS`] key; also the heatmaps' and histogram's.
    pub metric: String,
    /// Outputs to write (Parquet is left to the caller).
    pub formats: Vec<Format>,
    /// How heatmaps combine the simulations of a cell.
    pub agg: Agg,
    /// Also write every chart as PNG and SVG files under `DIR/charts/`.
    pub chart_files: bool,
    /// At most this many failed simulations are listed in the HTML (failed.md lists the first
    /// 1,000; every one is in the summary table).
    pub max_failed_listed: usize,
    /// At most this many heatmaps go into the HTML (one per pair of swept parameters of each
    /// strategy or sweep); the page names the ones left out.
    pub max_heatmaps: usize,
    /// At most this many histograms (one per strategy, or per sweep of a strategy swept
    /// several times); the page names the ones left out.
    pub max_histograms: usize,
    /// Only the records this filter keeps are ranked on the leaderboard (and charted as the
    /// top equity curves); every other table and chart shows every record.
    pub filter: Option<RecordFilter>,
}

impl Default for ReportOptions {
    fn default() -> ReportOptions {
        ReportOptions {
            top_k: 10,
            metric: "sharpe_ratio".into(),
            formats: vec![Format::Html, Format::Md, Format::Csv],
            agg: Agg::Max,
            chart_files: true,
            max_failed_listed: 100,
            max_heatmaps: 10,
            max_histograms: 12,
            filter: None,
        }
    }
}

/// The files [`crate::write_report`] wrote, in writing order, and the leaderboard it ranked
/// (for the caller to print).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportFiles {
    /// `report.html`, when it was written.
    pub html: Option<PathBuf>,
    /// Table exports (`summary.csv`, `summary.md`, ...), each written.
    pub tables: Vec<PathBuf>,
    /// Chart files under `charts/`, each written.
    pub charts: Vec<PathBuf>,
    /// Chart files of an earlier report that this one removed: files under `charts/` named
    /// as a report names its charts (`equity-NN-*`, `weights-NN-*`, `heatmap-*`,
    /// `histogram-*`, `overfit-*`, `walk-forward-*`, `.png` or `.svg`) that this report did not
    /// write. Other files are never touched.
    pub removed_charts: Vec<PathBuf>,
    /// The leaderboard's simulations, best first, after the filter.
    pub leaderboard: Vec<SimRecord>,
    /// What the filter kept, when there was one.
    pub filter: Option<FilterTally>,
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A chart placed in the report.
pub(crate) struct Placed {
    pub(crate) anchor: String,
    pub(crate) svg: String,
    /// HTML shown under the chart (a portfolio run's instruments table).
    pub(crate) under: Option<String>,
}

/// The instruments table under a portfolio run's weights chart: instrument, exposure %,
/// turnover, fees, fills and contribution to the return (%), in portfolio order; `None`
/// without per-instrument figures.
pub(crate) fn instruments_html(w: &crate::chart::WeightsData<'_>) -> Option<String> {
    use std::fmt::Write as _;
    if w.instruments.is_empty() || w.instruments.len() != w.names.len() {
        return None;
    }
    let mut out = format!(
        "<table class=\"instruments\" data-run=\"{}\">\n<thead><tr><th>instrument</th>\
         <th>exposure %</th><th>turnover</th><th>fees</th><th>fills</th>\
         <th>contribution %</th></tr></thead>\n<tbody>\n",
        esc(w.id)
    );
    for ((name, row), contribution) in w.names.iter().zip(w.instruments).zip(w.contributions) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{:.2}</td><td>{:.3}</td><td>{:.2}</td><td>{}</td><td>{:.3}</td></tr>",
            esc(name),
            row.exposure * 100.0,
            row.turnover,
            row.fees,
            row.fills,
            contribution * 100.0
        );
    }
    out.push_str("</tbody>\n</table>\n");
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("HTML".parse::<Format>().unwrap(), Format::Html);
        assert_eq!("markdown".parse::<Format>().unwrap(), Format::Md);
        let err = "xlsx".parse::<Format>().unwrap_err().to_string();
        assert!(err.contains("use html, md, csv, json or parquet"), "{err}");
    }
}
