//! The HTML report: structure (snapshot), self-containment, determinism, size at 10k rows.

use std::{fs, path::Path};

use bt_report::{Agg, Format, ReportData, ReportOptions, write_report};

use bt_domain::{ParamValue, Params, SimRecord};

use crate::fixtures::{OwnedCurve, big, grid, info, ok, stats_for, validation};

/// The report with every inline `<svg>...</svg>` replaced by a placeholder naming its size
/// and element counts (stable across machines), for a readable snapshot.
pub fn redact_svgs(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("</svg>").expect("unclosed svg") + start + "</svg>".len();
        let svg = &rest[start..end];
        let head = &svg[..svg.find('>').unwrap()];
        let attr = |name: &str| {
            let i = head.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            head[i..].split('"').next().unwrap().to_string()
        };
        out.push_str(&format!(
            "<svg {}x{}: {} text, {} rect, {} polyline, {} polygon, {} circle/>",
            attr("width"),
            attr("height"),
            svg.matches("<text").count(),
            svg.matches("<rect").count(),
            svg.matches("<polyline").count(),
            svg.matches("<polygon").count(),
            svg.matches("<circle").count(),
        ));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        walk(dir).into_iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

fn write_grid_report(dir: &Path, formats: Vec<Format>) -> bt_report::ReportFiles {
    let records = grid();
    let curves = [OwnedCurve::new("sma-10-60", 600, 1), OwnedCurve::new("sma-15-40", 600, 2)];
    let data: Vec<_> = curves.iter().map(OwnedCurve::curve).collect();
    let opts = ReportOptions { top_k: 5, formats, ..ReportOptions::default() };
    let (info, validation) = (info(&records), validation());
    let data =
        ReportData { curves: &data, validation: &validation, ..ReportData::new(&info, &records) };
    write_report(dir, &data, &opts).unwrap()
}

#[test]
fn html_structure() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_grid_report(
        dir.path(),
        vec![Format::Html, Format::Md, Format::Csv, Format::Json, Format::Parquet],
    );
    let html = fs::read_to_string(files.html.as_ref().unwrap()).unwrap();
    insta::assert_snapshot!(redact_svgs(&html));
    insta::assert_debug_snapshot!(names(dir.path()));
}

#[test]
fn html_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_grid_report(dir.path(), vec![Format::Html, Format::Csv]);
    let html = fs::read_to_string(files.html.unwrap()).unwrap();
    let lower = html.to_ascii_lowercase();
    // One inline script (the leaderboard's sorting), nothing fetched.
    assert_eq!(lower.matches("<script").count(), 1);
    assert!(lower.contains("<script>\n(function () {"), "an inline script without attributes");
    for banned in
        ["<img", "<link", "<iframe", "@import", "url(", "http://", "https://", "src=", "fetch("]
    {
        // The SVG namespace is an identifier, not a fetch.
        let hits = lower.matches(banned).count();
        let allowed = if banned == "http://" {
            lower.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        } else {
            0
        };
        assert_eq!(hits, allowed, "found {banned}");
    }
    let tmp = dir.path().to_string_lossy().to_string();
    assert!(!html.contains(&tmp), "absolute path in the report");
    // The leaderboard scrolls sideways in its own box instead of being cut by the page's width,
    // and the script that sorts it knows it by id.
    assert!(html.contains(".scroll{overflow-x:auto;max-width:100%}"));
    assert!(html.contains("<div class=\"scroll\">\n<table id=\"leaderboard-table\">"));
    assert!(html.contains("document.getElementById(\"leaderboard-table\")"));
    assert!(html.contains("#leaderboard-table th{cursor:pointer"));
    // 2 equity curves + 1 heatmap (fast x slow) + 1 histogram + 1 overfitting chart (the
    // group without a PBO has a note instead), all inline.
    assert_eq!(html.matches("<svg ").count(), 5);
    assert!(html.contains("<a href=\"summary.csv\">summary.csv</a>"));
}

#[test]
fn report_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_grid_report(a.path(), vec![Format::Html, Format::Md, Format::Csv, Format::Json]);
    write_grid_report(b.path(), vec![Format::Html, Format::Md, Format::Csv, Format::Json]);
    let (na, nb) = (names(a.path()), names(b.path()));
    assert_eq!(na, nb);
    for n in &na {
        assert!(
            fs::read(a.path().join(n)).unwrap() == fs::read(b.path().join(n)).unwrap(),
            "{n} differs"
        );
    }
}

#[test]
fn only_requested_formats_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let records = grid();
    let opts = ReportOptions {
        formats: vec![Format::Json],
        chart_files: false,
        ..ReportOptions::default()
    };
    let info = info(&records);
    let files = write_report(dir.path(), &ReportData::new(&info, &records), &opts).unwrap();
    assert_eq!(files.html, None);
    assert!(files.charts.is_empty());
    assert_eq!(names(dir.path()), ["summary.json"]);
    let bad = ReportOptions { metric: "sharpe".into(), ..ReportOptions::default() };
    let err = write_report(dir.path(), &ReportData::new(&info, &records), &bad).unwrap_err();
    assert!(err.to_string().starts_with("unknown metric `sharpe`"), "{err}");
}

#[test]
fn ten_thousand_simulations_stay_light() {
    let records = big(10_000);
    let dir = tempfile::tempdir().unwrap();
    let curves: Vec<OwnedCurve> =
        (0..10).map(|i| OwnedCurve::new(&records[i].id, 2_500, i as u64)).collect();
    let data: Vec<_> = curves.iter().map(OwnedCurve::curve).collect();
    let opts = ReportOptions {
        formats: vec![Format::Html, Format::Md, Format::Csv, Format::Json],
        agg: Agg::Mean,
        ..ReportOptions::default()
    };
    let start = std::time::Instant::now();
    let info = info(&records);
    let data = ReportData { curves: &data, ..ReportData::new(&info, &records) };
    let files = write_report(dir.path(), &data, &opts).unwrap();
    let took = start.elapsed();
    let html = fs::read_to_string(files.html.unwrap()).unwrap();
    eprintln!("10k report: html {} bytes, written in {took:?}", html.len());
    assert!(html.len() < 3_000_000, "report.html is {} bytes", html.len());
    // Leaderboard limited to K rows, failed list capped, full table only linked.
    let lb = &html[html.find("id=\"leaderboard-table\"").unwrap()..];
    let lb = &lb[..lb.find("</table>").unwrap()];
    assert_eq!(lb.matches("<tr>").count(), 11);
    let n_failed = records.iter().filter(|r| r.stats().is_none()).count();
    assert_eq!(n_failed, 103);
    assert!(
        html.contains("... and 3 more: see the <code>error</code> column"),
        "failed list not capped"
    );
    assert_eq!(html.matches("<svg ").count(), 10 + 3 + 1);
    let csv = fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 10_001);
}

#[test]
fn overfitting_statistics_are_tabled_charted_and_marked_on_the_leaderboard() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_grid_report(dir.path(), vec![Format::Html, Format::Md]);
    let html = fs::read_to_string(files.html.unwrap()).unwrap();
    let section = &html[html.find("<section id=\"overfitting\">").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    let table = &section[section.find("id=\"validation-table\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), 3, "header + 2 groups");
    for cell in ["sma-10-60", "0.0738", "0.0271", "0.931", "0.355", "0.693", "-0.881", "0.167"] {
        assert!(table.contains(&format!(">{cell}</td>")), "{cell} missing in {table}");
    }
    assert_eq!(table.matches(">n/a</td>").count(), 6, "the one-trial group: no sr0, dsr, PBO");
    assert_eq!(section.matches("<svg ").count(), 1, "one chart: the group with a PBO");
    assert!(section.contains("<title>in-sample sr "), "the scatter's points say their values");
    assert!(section.contains("<title>lambda "), "the logits' bars say their counts");
    assert!(section.contains("no PBO: fewer than 2 trials"), "{section}");
    // The leaderboard marks the best trial's DSR, and only its.
    let lb = &html[html.find("id=\"leaderboard-table\"").unwrap()..];
    let lb = &lb[..lb.find("</table>").unwrap()];
    assert!(lb.contains("<th>dsr</th>"), "{lb}");
    let row = lb.split("<tr>").find(|r| r.contains(">sma-10-60<")).unwrap();
    assert!(row.contains(">0.931</td>"), "{row}");
    assert_eq!(lb.matches(">0.931</td>").count(), 1);
    let md = fs::read_to_string(dir.path().join("validation.md")).unwrap();
    assert_eq!(md.lines().count(), 4, "{md}");
    assert!(
        md.lines().nth(2).unwrap().starts_with("| sma_cross | goog | 20 | sma-10-60 |"),
        "{md}"
    );
}

#[test]
fn a_re_report_replaces_the_charts_it_owns_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_grid_report(dir.path(), vec![Format::Html]);
    let charts = dir.path().join("charts");
    assert!(charts.join("equity-02-sma-15-40.svg").exists());
    assert!(first.removed_charts.is_empty());
    // A chart of an older report, and files that are not the report's.
    for name in ["equity-03-sma-5-20.png", "heatmap-old.svg", "notes.txt", "equity-final.png"] {
        fs::write(charts.join(name), "x").unwrap();
    }
    // The re-report charts one curve only.
    let records = grid();
    let curve = OwnedCurve::new("sma-10-60", 600, 1);
    let curves = [curve.curve()];
    let info = info(&records);
    let data = ReportData { curves: &curves, ..ReportData::new(&info, &records) };
    let opts = ReportOptions { top_k: 5, formats: vec![Format::Html], ..ReportOptions::default() };
    let files = write_report(dir.path(), &data, &opts).unwrap();
    let removed: Vec<String> = files
        .removed_charts
        .iter()
        .map(|p| p.strip_prefix(&charts).unwrap().display().to_string())
        .collect();
    assert_eq!(
        removed,
        [
            "equity-02-sma-15-40.png",
            "equity-02-sma-15-40.svg",
            "equity-03-sma-5-20.png",
            "heatmap-old.svg",
            "overfit-sma_cross-goog.png",
            "overfit-sma_cross-goog.svg",
        ]
    );
    let mut left = names(&charts);
    left.retain(|n| !files.charts.contains(&charts.join(n)));
    assert_eq!(left, ["equity-final.png", "notes.txt"], "only the report's own names go");
    assert!(files.charts.iter().all(|p| p.exists()));
}

/// The SMA grid and an RSI sweep (`rsi/goog/period=P,threshold=T`: 60 periods, two thresholds).
fn two_strategies() -> Vec<SimRecord> {
    let mut records = grid();
    for period in 2..62i64 {
        for threshold in [20i64, 30] {
            let mut params = Params::new();
            params.insert("period".into(), ParamValue::Int(period));
            params.insert("threshold".into(), ParamValue::Int(threshold));
            records.push(SimRecord {
                index: records.len() as u64,
                id: format!("rsi/goog/period={period},threshold={threshold}"),
                dataset: "goog".into(),
                strategy: "rsi_reversion".into(),
                params,
                outcome: ok(stats_for(12.0 + period as f64 / 10.0, threshold as f64 * 2.0)),
            });
        }
    }
    records
}

/// The `<text>` contents of an SVG.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let t = &t[t.find('>').unwrap() + 1..];
            t[..t.find("</text>").unwrap()].trim().to_string()
        })
        .collect()
}

/// The inline SVGs of one section of the page.
fn section_svgs<'h>(html: &'h str, id: &str) -> Vec<&'h str> {
    let section = &html[html.find(&format!("<section id=\"{id}\">")).unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    section.split("<svg").skip(1).map(|s| &s[..s.find("</svg>").unwrap()]).collect()
}

#[test]
fn each_strategy_gets_its_own_histogram_and_heatmaps() {
    let dir = tempfile::tempdir().unwrap();
    let records = two_strategies();
    let info = info(&records);
    let opts = ReportOptions { formats: vec![Format::Html], ..ReportOptions::default() };
    let files = write_report(dir.path(), &ReportData::new(&info, &records), &opts).unwrap();
    let html = fs::read_to_string(files.html.unwrap()).unwrap();

    let hists = section_svgs(&html, "distribution");
    assert_eq!(hists.len(), 2, "one histogram per strategy");
    let finite = |strategy: &str| {
        records
            .iter()
            .filter(|r| r.strategy == strategy)
            .filter_map(SimRecord::ranked_stats)
            .filter(|s| s.sharpe_ratio.is_finite())
            .count()
    };
    for (svg, strategy) in hists.iter().zip(["rsi_reversion", "sma_cross"]) {
        let t = texts(svg);
        assert_eq!(t[0], format!("{strategy}: Distribution of Sharpe Ratio"), "{t:?}");
        let n = format!("n = {}", finite(strategy));
        assert!(t.iter().any(|x| x == &n || x.starts_with(&format!("{n} "))), "{strategy}: {t:?}");
    }
    for name in ["histogram-sharpe_ratio-rsi_reversion", "histogram-sharpe_ratio-sma_cross"] {
        assert!(files.charts.contains(&dir.path().join("charts").join(format!("{name}.svg"))));
    }

    // A heatmap per strategy; the RSI's 60 integer periods binned two by two, whole ticks.
    let maps = section_svgs(&html, "heatmaps");
    let titles: Vec<String> = maps.iter().map(|svg| texts(svg)[0].clone()).collect();
    assert_eq!(
        titles,
        [
            "rsi_reversion: sharpe_ratio by period and threshold",
            "sma_cross: sharpe_ratio by fast and slow"
        ]
    );
    let t = texts(maps[0]);
    assert!(t.contains(&"period (2 values per cell)".to_string()), "{t:?}");
    for tick in ["2", "8", "14", "20", "56"] {
        assert!(t.contains(&tick.to_string()), "tick {tick} missing: {t:?}");
    }
    // Cells show the values they hold on hover.
    assert!(maps[0].contains("<title>period 2..3, threshold 20: sharpe_ratio "), "no cell title");

    // At most one histogram: the other one is named.
    let one = ReportOptions { max_histograms: 1, ..opts };
    let files = write_report(dir.path(), &ReportData::new(&info, &records), &one).unwrap();
    let html = fs::read_to_string(files.html.unwrap()).unwrap();
    assert_eq!(section_svgs(&html, "distribution").len(), 1);
    assert!(
        html.contains("1 more histograms not drawn (at most max_histograms are): sma_cross."),
        "no note of the histogram left out"
    );
    let stale: Vec<_> = files.removed_charts.iter().map(|p| p.file_name().unwrap()).collect();
    assert_eq!(
        stale,
        ["histogram-sharpe_ratio-sma_cross.png", "histogram-sharpe_ratio-sma_cross.svg"]
    );
}
