//! The run report: one self-contained `report.html` plus the requested table exports and chart
//! files.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
};

use bt_domain::{RunInfo, SimRecord, SummaryTable, ValidationGroup};

mod page;

use crate::{
    chart::{
        Agg, Chart, CurveData, equity, equity_with_windows, histogram, overfit_chart,
        strategy_heatmaps,
    },
    error::ReportError,
    io::{create_dir, slug, write_atomic},
    table::{Leaderboard, failed, failed_markdown, metric_pos, summary_json, summary_markdown},
    validation::validation_markdown,
    walk_forward::{WalkForwardView, varying_params, window_label},
};

/// An output of `bt report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// `report.html`, self-contained.
    Html,
    /// `summary.md` (full table), `leaderboard.md`, and `failed.md` when some failed.
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
#[derive(Debug, Clone, Copy)]
pub struct ReportData<'a> {
    /// The run's metadata.
    pub info: &'a RunInfo,
    /// Every record of the run.
    pub records: &'a [SimRecord],
    /// Equity curves of the best simulations (re-run by the caller), best first.
    pub curves: &'a [CurveData<'a>],
    /// The overfitting statistics of the run's groups.
    pub validation: &'a [ValidationGroup],
    /// The run's walk-forwards.
    pub walk_forwards: &'a [WalkForwardView<'a>],
}

impl<'a> ReportData<'a> {
    /// A report of `records` alone: no curves, no overfitting statistics, no walk-forward.
    pub fn new(info: &'a RunInfo, records: &'a [SimRecord]) -> ReportData<'a> {
        ReportData { info, records, curves: &[], validation: &[], walk_forwards: &[] }
    }
}

/// What [`write_report`] produces.
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
    /// At most this many failed simulations are listed in the HTML (all are in the tables).
    pub max_failed_listed: usize,
    /// At most this many heatmaps go into the HTML (one per pair of swept parameters).
    pub max_heatmaps: usize,
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
        }
    }
}

/// The files [`write_report`] wrote, in writing order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportFiles {
    /// `report.html`, when requested.
    pub html: Option<PathBuf>,
    /// Table exports (`summary.csv`, `summary.md`, ...).
    pub tables: Vec<PathBuf>,
    /// Chart files under `charts/`.
    pub charts: Vec<PathBuf>,
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
struct Placed {
    anchor: String,
    svg: String,
}

/// Writes the report of a run into `dir` (created if missing).
///
/// `curves` are the equity curves to chart (normally the top K, re-run by the caller). Every
/// file is written atomically and the output depends only on the inputs: no clock, no
/// absolute path, the same bytes on every machine.
pub fn write_report(
    dir: &Path,
    data: &ReportData<'_>,
    opts: &ReportOptions,
) -> Result<ReportFiles, ReportError> {
    let ReportData { records, curves, validation, walk_forwards, .. } = *data;
    metric_pos(&opts.metric)?;
    create_dir(dir)?;
    let mut files = ReportFiles::default();
    let wants = |f: Format| opts.formats.contains(&f);

    let needs_table = wants(Format::Md) || wants(Format::Csv) || wants(Format::Json);
    let table = needs_table.then(|| SummaryTable::new(records));
    let leaderboard = Leaderboard::new(records, &opts.metric, opts.top_k)?.with_dsr(validation);
    if let Some(table) = &table {
        let mut out = |name: &str, text: String| -> Result<(), ReportError> {
            let path = dir.join(name);
            write_atomic(&path, text.as_bytes())?;
            files.tables.push(path);
            Ok(())
        };
        if wants(Format::Csv) {
            out("summary.csv", table.to_csv())?;
        }
        if wants(Format::Json) {
            out("summary.json", summary_json(table))?;
        }
        if wants(Format::Md) {
            out("summary.md", summary_markdown(table))?;
            out("leaderboard.md", leaderboard.to_markdown())?;
            if !validation.is_empty() {
                out("validation.md", validation_markdown(validation))?;
            }
            if !failed(records).is_empty() {
                out("failed.md", failed_markdown(records))?;
            }
        }
    }
    if !wants(Format::Html) && !opts.chart_files {
        return Ok(files);
    }

    // Charts: (section, anchor, file stem, chart or why it is missing).
    let mut charts: Vec<(&str, String, String, Result<Chart, ReportError>)> = Vec::new();
    for (i, c) in curves.iter().enumerate() {
        let stem = format!("equity-{:02}-{}", i + 1, slug(c.id));
        charts.push(("equity", stem.clone(), stem, equity(c)));
    }
    match strategy_heatmaps(records, &opts.metric, opts.agg) {
        Ok(maps) => {
            for m in maps.into_iter().take(opts.max_heatmaps) {
                let stem = format!("heatmap-{}", slug(m.title()));
                charts.push(("heatmaps", stem.clone(), stem, Ok(m)));
            }
        }
        Err(e @ ReportError::NoData { .. }) => {
            charts.push(("heatmaps", "heatmap".into(), String::new(), Err(e)))
        }
        Err(e) => return Err(e),
    }
    let stem = format!("histogram-{}", slug(&opts.metric));
    charts.push(("distribution", stem.clone(), stem, histogram(records, &opts.metric)));
    for g in validation {
        let stem = format!("overfit-{}-{}", slug(&g.strategy), slug(&g.dataset));
        charts.push(("overfitting", stem.clone(), stem, overfit_chart(g)));
    }
    for v in walk_forwards {
        if let Some(curve) = &v.curve {
            let names = varying_params(v.result);
            let marks: Vec<(i64, String)> = v
                .result
                .windows
                .iter()
                .filter_map(|w| Some((w.test_span?.0, window_label(&w.params, &names))))
                .collect();
            let stem = format!("walk-forward-{}", slug(&v.result.id));
            let title = format!(
                "{}: stitched out-of-sample equity ({} per window)",
                v.result.id,
                names.join("/")
            );
            let chart = equity_with_windows(curve, &marks).map(|c| c.titled(title));
            charts.push(("walk-forward", stem.clone(), stem, chart));
        }
    }

    let charts_dir = dir.join("charts");
    if opts.chart_files && charts.iter().any(|c| c.3.is_ok()) {
        create_dir(&charts_dir)?;
    }
    let mut placed: Vec<(&str, Result<Placed, String>)> = Vec::new();
    for (section, anchor, stem, chart) in charts {
        let chart = match chart {
            Ok(c) => c,
            Err(e @ ReportError::NoData { .. }) => {
                placed.push((section, Err(e.to_string())));
                continue;
            }
            Err(e) => return Err(e),
        };
        let svg = chart.to_svg()?;
        if opts.chart_files {
            let svg_path = charts_dir.join(format!("{stem}.svg"));
            write_atomic(&svg_path, svg.as_bytes())?;
            let png_path = charts_dir.join(format!("{stem}.png"));
            write_atomic(&png_path, &chart.to_png()?)?;
            files.charts.push(png_path);
            files.charts.push(svg_path);
        }
        placed.push((section, Ok(Placed { anchor, svg })));
    }

    if wants(Format::Html) {
        let html = page::render_html(data, &leaderboard, &placed, opts);
        let path = dir.join("report.html");
        write_atomic(&path, html.as_bytes())?;
        files.html = Some(path);
    }
    Ok(files)
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
