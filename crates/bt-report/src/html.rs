//! The run report: one self-contained `report.html` plus the requested table exports and chart
//! files.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    str::FromStr,
};

use bt_domain::{RunInfo, SimRecord, Stats, SummaryTable, ValidationGroup};

use crate::{
    chart::{Agg, Chart, CurveData, equity, histogram, overfit_chart, strategy_heatmaps},
    error::ReportError,
    io::{create_dir, slug, write_atomic},
    table::{Leaderboard, failed, failed_markdown, metric_pos, summary_json, summary_markdown},
    validation::{validation_html, validation_markdown},
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
    info: &RunInfo,
    records: &[SimRecord],
    curves: &[CurveData<'_>],
    validation: &[ValidationGroup],
    opts: &ReportOptions,
) -> Result<ReportFiles, ReportError> {
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
        let html = render_html(info, records, &leaderboard, validation, &placed, opts);
        let path = dir.join("report.html");
        write_atomic(&path, html.as_bytes())?;
        files.html = Some(path);
    }
    Ok(files)
}

const CSS: &str = "\
:root{color-scheme:light}
body{font-family:-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Helvetica,Arial,sans-serif;\
margin:0 auto;max-width:1200px;padding:1.5rem;color:#212121;background:#fff;line-height:1.45}
h1{font-size:1.6rem;margin:0 0 .25rem}
h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:1px solid #ddd;padding-bottom:.25rem}
table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.metric{font-weight:bold}
#leaderboard-table td,#leaderboard-table th{white-space:nowrap}
table.kv th{width:11rem}
.scroll{overflow-x:auto}
figure{margin:1rem 0}
figure svg{max-width:100%;height:auto;display:block}
.note{color:#666;font-size:.85rem}
footer{margin-top:2rem;color:#888;font-size:.8rem}
";

/// How to read the overfitting table (docs/validation.md has the definitions).
const OVERFIT_NOTE: &str = "<p class=\"note\">Per group of trials (the successful simulations \
of one strategy on one data set): <b>sr</b> is the per-bar Sharpe ratio of the equity's returns, \
not annualised; <b>sr0</b> the best sr expected from that many trials without skill; \
<b>dsr</b> (Deflated Sharpe Ratio) the probability that the best trial's true sr is above sr0 \
&mdash; below 0.95 the winner is not distinguishable from luck; <b>pbo</b> (Probability of \
Backtest Overfitting) the share of in-sample/out-of-sample splits of the returns where the \
best in-sample trial ranks in the lower half out of sample (0.5 and above: the selection is \
no better than chance); <b>degradation</b> the slope of out-of-sample on in-sample sr; \
<b>p(loss)</b> the share of splits whose in-sample winner loses out of sample. Definitions: \
docs/validation.md; figures: validation.json.</p>";

/// A queue path for display: the file name when it is absolute (no machine paths in the
/// report), as given otherwise.
fn display_queue(queue: &str) -> String {
    let p = Path::new(queue);
    if p.is_absolute() {
        p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    } else {
        queue.to_string()
    }
}

/// The run's wall time: the sum of its sessions, with the count when it was resumed.
fn wall_time(info: &RunInfo) -> String {
    match info.attempts.len() {
        0 | 1 => format!("{:.3} s", info.wall_time_s),
        n => format!("{:.3} s over {n} sessions (a run and {} resumes)", info.wall_time_s, n - 1),
    }
}

fn render_html(
    info: &RunInfo,
    records: &[SimRecord],
    leaderboard: &Leaderboard<'_>,
    validation: &[ValidationGroup],
    charts: &[(&str, Result<Placed, String>)],
    opts: &ReportOptions,
) -> String {
    let queue = display_queue(&info.queue);
    let mut h = String::new();
    let w = &mut h;
    let _ = write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>bt report: {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        esc(&queue)
    );
    let _ = writeln!(w, "<header>\n<h1 id=\"title\">bt report: {}</h1>", esc(&queue));
    let _ = writeln!(
        w,
        "<p class=\"note\">{} simulations: {} ok, {} failed.</p>\n</header>",
        info.total, info.ok, info.failed
    );

    // Run metadata.
    let _ = writeln!(w, "<section id=\"run\">\n<h2>Run</h2>\n<table class=\"kv\">");
    let mut kv = |k: &str, v: String| {
        let _ = writeln!(w, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    };
    kv("Queue", queue.clone());
    kv("Queue hash", info.queue_hash.clone());
    kv("bt version", info.bt_version.clone());
    kv("Mode", info.mode.to_string());
    kv("Threads", info.threads.to_string());
    kv("Status", info.status.to_string());
    kv("Wall time", wall_time(info));
    kv("Simulations", format!("{} total, {} ok, {} failed", info.total, info.ok, info.failed));
    if let Some(shard) = &info.shard {
        kv("Shard", shard.clone());
    }
    if !info.config.is_empty() {
        let settings: Vec<String> = info.config.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        kv("Broker defaults", settings.join(", "));
    }
    let _ = writeln!(w, "</table>");
    if !info.datasets.is_empty() {
        let _ = writeln!(
            w,
            "<table id=\"datasets\">\n<thead><tr><th>Data set</th><th>Description</th>\
             <th>Bars</th></tr></thead>\n<tbody>"
        );
        for d in &info.datasets {
            let _ = writeln!(
                w,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(&d.name),
                esc(&d.source),
                d.bars
            );
        }
        let _ = writeln!(w, "</tbody>\n</table>");
    }
    let _ = writeln!(w, "</section>");

    // Leaderboard.
    let label = Stats::label(&opts.metric).unwrap_or(&opts.metric);
    let _ = writeln!(
        w,
        "<section id=\"leaderboard\">\n<h2>Top {} by {} (<code>{}</code>)</h2>",
        leaderboard.rows.len(),
        esc(label),
        esc(&opts.metric)
    );
    if leaderboard.rows.is_empty() {
        let _ = writeln!(w, "<p>No simulation succeeded.</p>");
    } else {
        let _ = writeln!(w, "<div class=\"scroll\">\n{}</div>", leaderboard.to_html());
        let _ = writeln!(
            w,
            "<p class=\"note\">Ranked by {} descending (for drawdowns, which are negative, the \
             shallowest first); NaN last; ties by queue position.</p>",
            esc(&opts.metric)
        );
    }
    let full =
        [(Format::Csv, "summary.csv"), (Format::Json, "summary.json"), (Format::Md, "summary.md")]
            .into_iter()
            .find(|(f, _)| opts.formats.contains(f));
    match full {
        Some((_, name)) => {
            let _ = writeln!(
                w,
                "<p>All {} simulations: <a href=\"{name}\">{name}</a>.</p>",
                records.len()
            );
        }
        None => {
            let _ = writeln!(
                w,
                "<p class=\"note\">The full table was not exported (use --format csv).</p>"
            );
        }
    }
    let _ = writeln!(w, "</section>");

    // Charts.
    let sections = [
        ("equity", "Equity curves"),
        ("heatmaps", "Parameter heatmaps"),
        ("distribution", "Distribution"),
        ("overfitting", "Is the winner real? Overfitting statistics"),
    ];
    for (id, heading) in sections {
        let _ = writeln!(w, "<section id=\"{id}\">\n<h2>{heading}</h2>");
        let mine: Vec<&Result<Placed, String>> =
            charts.iter().filter(|(s, _)| *s == id).map(|(_, c)| c).collect();
        if mine.is_empty() {
            let text = match id {
                "equity" => "No equity curves were recorded for this report.",
                "heatmaps" => "Fewer than two numeric parameters vary: no heatmap.",
                "overfitting" => "No successful simulation: no overfitting statistics.",
                _ => "Nothing to show.",
            };
            let _ = writeln!(w, "<p class=\"note\">{text}</p>");
        }
        if id == "overfitting" && !validation.is_empty() {
            let _ = writeln!(w, "<div class=\"scroll\">\n{}</div>", validation_html(validation));
            let _ = writeln!(w, "{OVERFIT_NOTE}");
        }
        if id == "heatmaps" && !mine.is_empty() {
            let _ = writeln!(
                w,
                "<p class=\"note\">{} of <code>{}</code> per cell over the other parameters.</p>",
                opts.agg,
                esc(&opts.metric)
            );
        }
        for c in mine {
            match c {
                Ok(p) => {
                    let _ = writeln!(
                        w,
                        "<figure id=\"{}\">\n{}</figure>",
                        esc(&p.anchor),
                        svg_body(&p.svg)
                    );
                }
                Err(msg) => {
                    let _ = writeln!(w, "<p class=\"note\">{}</p>", esc(msg));
                }
            }
        }
        let _ = writeln!(w, "</section>");
    }

    // Failed simulations.
    let failed = failed(records);
    let _ = writeln!(w, "<section id=\"failed\">\n<h2>Failed simulations ({})</h2>", failed.len());
    if failed.is_empty() {
        let _ = writeln!(w, "<p>None.</p>");
    } else {
        let _ = writeln!(
            w,
            "<table id=\"failed-table\">\n<thead><tr><th>id</th><th>dataset</th><th>strategy</th>\
             <th>reason</th></tr></thead>\n<tbody>"
        );
        for (r, msg) in failed.iter().take(opts.max_failed_listed) {
            let _ = writeln!(
                w,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.id),
                esc(&r.dataset),
                esc(&r.strategy),
                esc(msg)
            );
        }
        let _ = writeln!(w, "</tbody>\n</table>");
        if failed.len() > opts.max_failed_listed {
            let _ = writeln!(
                w,
                "<p class=\"note\">... and {} more: see the <code>error</code> column of the summary table.</p>",
                failed.len() - opts.max_failed_listed
            );
        }
    }
    let _ = writeln!(w, "</section>");
    let _ = writeln!(
        w,
        "<footer>Generated by bt {} from the run's results; charts are inline SVG.</footer>\n</body>\n</html>",
        esc(&info.bt_version)
    );
    h
}

/// The `<svg>` element of a plotters document, without anything before it (plotters writes
/// none today, but an XML declaration would be invalid inside HTML).
fn svg_body(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
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

    #[test]
    fn absolute_queue_paths_are_shortened() {
        assert_eq!(display_queue("/home/me/q/grid.ron"), "grid.ron");
        assert_eq!(display_queue("queues/grid.ron"), "queues/grid.ron");
    }

    #[test]
    fn svg_body_drops_a_prolog() {
        assert_eq!(svg_body("<?xml version=\"1.0\"?>\n<svg a>x</svg>"), "<svg a>x</svg>");
    }
}
