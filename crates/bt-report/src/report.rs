//! Writing a report: the passes over the records, then the tables, charts and page.
//!
//! Pass 1 ([`Overview::scan`]) gathers what is bounded (counts, the best records, the first
//! failures, the parameters' distinct values, the metric's range). Pass 2 streams summary.csv
//! and summary.json row by row while it fills the heatmap cells and the histogram bins (per
//! strategy, or per sweep: see `chart/group.rs`) and starts each histogram's exact median.
//! The medians share a budget of a million collected values; a histogram past its share takes
//! a pass or two more. Nothing held grows with the number of records.

use std::{
    fs,
    path::{Path, PathBuf},
};

use crate::{
    chart::{Chart, HeatCells, HistBins, equity_vs_buy_hold, equity_with_windows, overfit_chart},
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
    let leaderboard = Leaderboard::from_ranked(overview.best().to_vec(), &opts.metric)?
        .with_dsr(data.validation)
        .with_filter(overview.filter_tally());
    let mut files = ReportFiles {
        leaderboard: overview.best().to_vec(),
        filter: overview.tally.clone(),
        ..ReportFiles::default()
    };
    let set = ExportSet {
        csv: wants(Format::Csv),
        json: wants(Format::Json),
        md_whole: wants(Format::Md) && overview.total <= MARKDOWN_ROWS as u64,
    };
    let mut fill = Fill {
        exports: Exports::create(dir, overview.layout(), set)?,
        heat: overview.heat.take().map(|h| h.plan(&opts.metric, opts.max_heatmaps)),
        hist: overview.hist.take().map(|h| h.plan(&opts.metric, opts.max_histograms)),
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
    let (charts, notes, tables) = charts(data, fill.heat, fill.hist, opts)?;
    let mut placed = place_charts(dir, charts, tables, opts, &mut files.charts)?;
    placed.extend(notes.into_iter().map(|(section, note)| (section, Err(note))));
    if opts.chart_files {
        files.removed_charts = remove_stale_charts(&dir.join("charts"), &files.charts)?;
    }
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
    hist: Option<HistBins>,
}

impl Fill {
    fn active(&self) -> bool {
        self.exports.active()
            || matches!(&self.heat, Some(Ok(h)) if !h.is_empty())
            || self.hist.as_ref().is_some_and(HistBins::is_active)
    }

    fn observe(&mut self, r: &bt_domain::SimRecord) -> Result<(), ReportError> {
        if let Some(Ok(h)) = &mut self.heat {
            h.observe(r);
        }
        if let Some(h) = &mut self.hist {
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

/// A note at the end of a section: (section, text).
type Note = (&'static str, String);

/// A chart on the page: (section, the chart or the note that stands for it).
type OnPage = (&'static str, Result<Placed, String>);

/// HTML shown under a chart: (the chart's anchor, the HTML).
type Under = (String, String);

/// What [`charts`] plans: the charts, the notes and the HTML under charts.
type Plan = (Vec<Planned>, Vec<Note>, Vec<Under>);

/// Every chart of the report, in page order, the notes that end a section (the charts left
/// out past a limit), and the tables shown under charts (a portfolio run's instruments under
/// its weights chart).
fn charts(
    data: &ReportData<'_>,
    heat: Option<Result<HeatCells, ReportError>>,
    hist: Option<HistBins>,
    opts: &ReportOptions,
) -> Result<Plan, ReportError> {
    let mut notes = Vec::new();
    let mut tables = Vec::new();
    let mut charts: Vec<Planned> = Vec::new();
    for (i, c) in data.curves.iter().enumerate() {
        let stem = format!("equity-{:02}-{}", i + 1, slug(c.curve.id));
        charts.push(("equity", stem.clone(), stem, equity_vs_buy_hold(c)));
        if let Some(w) = data.weights.iter().find(|w| w.id == c.curve.id) {
            let stem = format!("weights-{:02}-{}", i + 1, slug(c.curve.id));
            if let Some(table) = crate::html::instruments_html(w) {
                tables.push((stem.clone(), table));
            }
            charts.push(("equity", stem.clone(), stem, crate::chart::weights(w)));
        }
    }
    // A heatmap without data stands for all of them: its note says which pair has none.
    match heat.expect("charts are scanned for when they are written") {
        Ok(cells) => {
            if !cells.left_out.is_empty() {
                notes.push(("heatmaps", left_out_note("heatmaps", &cells.left_out)));
            }
            for m in cells.into_charts(&opts.metric, opts.agg) {
                let stem = format!("heatmap-{}", slug(m.title()));
                charts.push(("heatmaps", stem.clone(), stem, Ok(m)));
            }
        }
        Err(e) => charts.push(("heatmaps", "heatmap".into(), String::new(), Err(e))),
    }
    let hist = hist.expect("charts are scanned for when they are written");
    if !hist.left_out.is_empty() {
        notes.push(("distribution", left_out_note("histograms", &hist.left_out)));
    }
    let hists = hist.into_charts(data.records, &opts.metric)?;
    let several = hists.len() > 1 || notes.iter().any(|(s, _)| *s == "distribution");
    for (key, chart) in hists {
        let mut stem = format!("histogram-{}", slug(&opts.metric));
        if several {
            stem = format!("{stem}-{}", slug(&key.label()));
        }
        charts.push(("distribution", stem.clone(), stem, chart));
    }
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
    Ok((charts, notes, tables))
}

/// The note that names the charts left out past `max_{what}`.
fn left_out_note(what: &str, names: &[String]) -> String {
    const NAMED: usize = 20;
    let mut list = names[..names.len().min(NAMED)].join("; ");
    if names.len() > NAMED {
        list.push_str(&format!("; and {} more", names.len() - NAMED));
    }
    format!("{} more {what} not drawn (at most max_{what} are): {list}.", names.len())
}

/// Renders every chart as SVG for the page (and as PNG and SVG files under `charts/` when
/// asked); a chart without data becomes its note.
fn place_charts(
    dir: &Path,
    charts: Vec<Planned>,
    mut tables: Vec<Under>,
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
        let under = tables.iter().position(|(a, _)| *a == anchor).map(|i| tables.swap_remove(i).1);
        placed.push((section, Ok(Placed { anchor, svg, under })));
    }
    Ok(placed)
}

/// Whether `name` is a chart file name a report writes: `equity-NN-*`, `weights-NN-*`,
/// `heatmap-*`, `histogram-*`, `overfit-*` or `walk-forward-*`, as `.png` or `.svg`.
fn owned_chart_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".png").or_else(|| name.strip_suffix(".svg")) else {
        return false;
    };
    if let Some(rest) = stem.strip_prefix("equity-").or_else(|| stem.strip_prefix("weights-")) {
        let b = rest.as_bytes();
        return b.len() > 3 && b[..2].iter().all(u8::is_ascii_digit) && b[2] == b'-';
    }
    ["heatmap-", "histogram-", "overfit-", "walk-forward-"].iter().any(|p| stem.starts_with(p))
}

/// Removes the chart files under `charts_dir` that a report owns by name
/// ([`owned_chart_name`]) but did not write this time (`written`): an earlier report's
/// charts, which would otherwise sit beside the new ones. Returns them, in name order.
fn remove_stale_charts(
    charts_dir: &Path,
    written: &[PathBuf],
) -> Result<Vec<PathBuf>, ReportError> {
    let entries = match fs::read_dir(charts_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ReportError::io(charts_dir, e)),
    };
    let mut stale = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ReportError::io(charts_dir, e))?;
        let path = entry.path();
        let owned = entry.file_name().to_str().is_some_and(owned_chart_name);
        let is_file = entry.file_type().map_err(|e| ReportError::io(&path, e))?.is_file();
        if owned && is_file && !written.contains(&path) {
            stale.push(path);
        }
    }
    stale.sort();
    for path in &stale {
        fs::remove_file(path).map_err(|e| ReportError::io(path, e))?;
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_owns_its_chart_names_only() {
        for name in [
            "equity-01-sma-10-60.png",
            "equity-12-x.svg",
            "weights-03-ew.png",
            "heatmap-fast_by_slow.svg",
            "histogram-sharpe_ratio.png",
            "histogram-sharpe_ratio-rsi.png",
            "overfit-sma_cross-goog.png",
            "walk-forward-wf.svg",
        ] {
            assert!(owned_chart_name(name), "{name}");
        }
        for name in [
            "equity-01-x.png.tmp",
            "equity-x.png",
            "equity-1-x.png",
            "weights-x.svg",
            "heatmap-a.jpg",
            "my-heatmap-notes.svg",
            "notes.md",
            "histogram.png",
        ] {
            assert!(!owned_chart_name(name), "{name}");
        }
    }
}
