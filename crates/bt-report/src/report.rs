//! Writing a report: the passes over the records, then the tables, charts and page.
//!
//! Pass 1 ([`Overview::scan`]) gathers what is bounded (counts, the best records, the first
//! failures, the parameters' distinct values, the metric's range). Pass 2 streams summary.csv
//! and summary.json row by row while it fills the heatmap cells and the histogram bins. The
//! median of a histogram of more than a million values takes a pass or two more. Nothing
//! held grows with the number of records.

use std::path::{Path, PathBuf};

use crate::{
    chart::{Chart, HeatCells, HistBins, equity, equity_with_windows, overfit_chart},
    error::ReportError,
    html::{Format, Placed, ReportData, ReportFiles, ReportOptions, page},
    io::{create_dir, slug, write_atomic},
    overview::Overview,
    table::{
        ExportSet, Exports, FAILED_KEPT, Leaderboard, MARKDOWN_ROWS, metric_pos,
        top_summary_markdown,
    },
    validation::validation_markdown,
    walk_forward::{varying_params, window_label},
};

/// Writes the report of a run into `dir` (created if missing).
///
/// `curves` are the equity curves to chart (normally the top K, re-run by the caller). Every
/// file is written atomically and the output depends only on the inputs: no clock, no
/// absolute path, the same bytes on every machine. The records are read in a few passes
/// (see [`crate::Records`]), never held.
pub fn write_report(
    dir: &Path,
    data: &ReportData<'_>,
    opts: &ReportOptions,
) -> Result<ReportFiles, ReportError> {
    let overview = Overview::scan(data.records, opts)?;
    write_report_from(dir, data, overview, opts)
}

/// [`write_report`] with its first pass done: `overview` must be [`Overview::scan`] of
/// `data.records` with these very `opts` (it panics when they differ).
pub fn write_report_from(
    dir: &Path,
    data: &ReportData<'_>,
    mut overview: Overview,
    opts: &ReportOptions,
) -> Result<ReportFiles, ReportError> {
    metric_pos(&opts.metric)?;
    assert!(overview.opts == *opts, "an Overview is written with the options it was scanned with");
    create_dir(dir)?;
    let wants = |f: Format| opts.formats.contains(&f);
    let leaderboard =
        Leaderboard::from_ranked(overview.best().to_vec(), &opts.metric)?.with_dsr(data.validation);
    let mut files = ReportFiles::default();
    let set = ExportSet {
        csv: wants(Format::Csv),
        json: wants(Format::Json),
        md_whole: wants(Format::Md) && overview.total <= MARKDOWN_ROWS as u64,
    };
    let mut fill = Fill {
        exports: Exports::create(dir, overview.layout(), set)?,
        heat: overview.heat.take().map(|h| h.plan(&opts.metric, opts.max_heatmaps)),
        hist: overview.hist.take().map(|h| h.plan(&opts.metric)),
    };
    if fill.active() {
        data.records.for_each(&mut |r| fill.observe(r))?;
    }
    let md_whole = fill.exports.finish(&mut files.tables)?;
    if wants(Format::Md) {
        let summary = md_whole.unwrap_or_else(|| top_summary(&overview, opts));
        write_markdown(dir, data, &overview, &leaderboard, summary, &mut files.tables)?;
    }
    if !wants(Format::Html) && !opts.chart_files {
        return Ok(files);
    }
    let charts = charts(data, fill.heat, fill.hist, opts);
    let placed = place_charts(dir, charts, opts, &mut files.charts)?;
    if wants(Format::Html) {
        let tally = page::Tally { total: overview.total, failed: &overview.failed };
        let html = page::render_html(data, &tally, &leaderboard, &placed, opts);
        let path = dir.join("report.html");
        write_atomic(&path, html.as_bytes())?;
        files.html = Some(path);
    }
    Ok(files)
}

/// The second pass: the streamed exports, the heatmap cells and the histogram bins (each
/// chart's plan, or why it has none).
struct Fill {
    exports: Exports,
    heat: Option<Result<HeatCells, ReportError>>,
    hist: Option<Result<HistBins, ReportError>>,
}

impl Fill {
    fn active(&self) -> bool {
        self.exports.active()
            || matches!(&self.heat, Some(Ok(h)) if !h.is_empty())
            || matches!(self.hist, Some(Ok(_)))
    }

    fn observe(&mut self, r: &bt_domain::SimRecord) -> Result<(), ReportError> {
        if let Some(Ok(h)) = &mut self.heat {
            h.observe(r);
        }
        if let Some(Ok(h)) = &mut self.hist {
            h.observe(r);
        }
        self.exports.observe(r)
    }
}

/// summary.md of a run too large to show whole: its best rows, ranked like the leaderboard.
fn top_summary(overview: &Overview, opts: &ReportOptions) -> String {
    let full: Vec<&str> = [
        (Format::Csv, "summary.csv"),
        (Format::Json, "summary.json"),
        (Format::Parquet, "summary.parquet"),
    ]
    .into_iter()
    .filter(|(f, _)| opts.formats.contains(f))
    .map(|(_, name)| name)
    .collect();
    let top = &overview.ranked[..overview.ranked.len().min(MARKDOWN_ROWS)];
    top_summary_markdown(&overview.layout(), top, overview.total, &opts.metric, &full)
}

/// summary.md, leaderboard.md, validation.md (when there are groups) and failed.md (when
/// some failed).
fn write_markdown(
    dir: &Path,
    data: &ReportData<'_>,
    overview: &Overview,
    leaderboard: &Leaderboard,
    summary: String,
    tables: &mut Vec<PathBuf>,
) -> Result<(), ReportError> {
    let mut out = |name: &str, text: String| -> Result<(), ReportError> {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes())?;
        tables.push(path);
        Ok(())
    };
    out("summary.md", summary)?;
    out("leaderboard.md", leaderboard.to_markdown())?;
    if !data.validation.is_empty() {
        out("validation.md", validation_markdown(data.validation))?;
    }
    if overview.failed.total > 0 {
        out("failed.md", overview.failed.to_markdown(FAILED_KEPT))?;
    }
    Ok(())
}

/// A chart of the report: (section, anchor, file stem, chart or why it is missing).
type Planned = (&'static str, String, String, Result<Chart, ReportError>);

/// A chart on the page: (section, the chart or the note that stands for it).
type OnPage = (&'static str, Result<Placed, String>);

/// Every chart of the report, in page order.
fn charts(
    data: &ReportData<'_>,
    heat: Option<Result<HeatCells, ReportError>>,
    hist: Option<Result<HistBins, ReportError>>,
    opts: &ReportOptions,
) -> Vec<Planned> {
    let mut charts: Vec<Planned> = Vec::new();
    for (i, c) in data.curves.iter().enumerate() {
        let stem = format!("equity-{:02}-{}", i + 1, slug(c.id));
        charts.push(("equity", stem.clone(), stem, equity(c)));
        if let Some(w) = data.weights.iter().find(|w| w.id == c.id) {
            let stem = format!("weights-{:02}-{}", i + 1, slug(c.id));
            charts.push(("equity", stem.clone(), stem, crate::chart::weights(w)));
        }
    }
    // A heatmap without data stands for all of them: its note says which pair has none.
    match heat.expect("charts are scanned for when they are written") {
        Ok(cells) => {
            for m in cells.into_charts(&opts.metric, opts.agg) {
                let stem = format!("heatmap-{}", slug(m.title()));
                charts.push(("heatmaps", stem.clone(), stem, Ok(m)));
            }
        }
        Err(e) => charts.push(("heatmaps", "heatmap".into(), String::new(), Err(e))),
    }
    let stem = format!("histogram-{}", slug(&opts.metric));
    let histogram = hist
        .expect("charts are scanned for when they are written")
        .and_then(|bins| bins.into_chart(data.records, &opts.metric));
    charts.push(("distribution", stem.clone(), stem, histogram));
    for g in data.validation {
        let stem = format!("overfit-{}-{}", slug(&g.strategy), slug(&g.dataset));
        charts.push(("overfitting", stem.clone(), stem, overfit_chart(g)));
    }
    for v in data.walk_forwards {
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
    charts
}

/// Renders every chart as SVG for the page (and as PNG and SVG files under `charts/` when
/// asked); a chart without data becomes its note.
fn place_charts(
    dir: &Path,
    charts: Vec<Planned>,
    opts: &ReportOptions,
    files: &mut Vec<PathBuf>,
) -> Result<Vec<OnPage>, ReportError> {
    let charts_dir = dir.join("charts");
    if opts.chart_files && charts.iter().any(|c| c.3.is_ok()) {
        create_dir(&charts_dir)?;
    }
    let mut placed = Vec::new();
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
            files.push(png_path);
            files.push(svg_path);
        }
        placed.push((section, Ok(Placed { anchor, svg })));
    }
    Ok(placed)
}
