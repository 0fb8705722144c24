//! Reports from a streamed source (records generated one at a time, never held): the same
//! leaderboard, heatmaps, histogram and files as from the records in memory, in two passes;
//! summary.md and the failed list capped; the streamed exports byte for byte the whole table's.

use std::fs;

use bt_domain::{SimRecord, SummaryTable};
use bt_report::{
    Agg, Chart, Format, Leaderboard, ReportData, ReportOptions, histogram, strategy_heatmaps,
    summary_json, summary_markdown, top_k, write_report,
};

use crate::{
    fixtures::{big, grid, info},
    report::names,
    synthetic::Synthetic,
};

const N: u64 = 200_000;

fn svgs(charts: Vec<Chart>) -> Vec<(String, String)> {
    charts.iter().map(|c| (c.title().to_string(), c.to_svg().unwrap())).collect()
}

#[test]
fn a_streamed_run_ranks_and_charts_like_its_records_in_memory() {
    let source = Synthetic::new(N);
    let records = source.to_vec();

    let streamed = Leaderboard::new(&source, "sharpe_ratio", 25).unwrap();
    let in_memory = Leaderboard::new(&records, "sharpe_ratio", 25).unwrap();
    assert_eq!(streamed.rows, in_memory.rows);
    let best: Vec<&str> =
        top_k(&records, "sharpe_ratio", 25).unwrap().iter().map(|r| r.id.as_str()).collect();
    let ids: Vec<&str> = streamed.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, best);

    let maps = svgs(strategy_heatmaps(&source, "sharpe_ratio", Agg::Mean).unwrap());
    assert!(maps == svgs(strategy_heatmaps(&records, "sharpe_ratio", Agg::Mean).unwrap()));
    let titles: Vec<&str> = maps.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            "breakout: sharpe_ratio by fast and mult",
            "breakout: sharpe_ratio by fast and slow",
            "breakout: sharpe_ratio by mult and slow",
            "rsi_band: sharpe_ratio by fast and mult",
            "rsi_band: sharpe_ratio by fast and slow",
            "rsi_band: sharpe_ratio by mult and slow",
            "sma_cross: sharpe_ratio by fast and slow",
        ]
    );
    // 60 integer values of `fast`: binned two per column, labelled by whole numbers.
    assert!(maps[0].1.contains("fast (2 values per cell)"), "fast is not binned");

    let hist = histogram(&source, "sharpe_ratio").unwrap().to_svg().unwrap();
    assert_eq!(hist, histogram(&records, "sharpe_ratio").unwrap().to_svg().unwrap());
    let finite = records.iter().filter_map(SimRecord::ranked_stats).count();
    assert!(hist.contains(&format!("n = {finite}")), "count missing");
    // Leaderboard: 1 pass; heatmaps and histogram: 2 each.
    assert_eq!(source.passes(), 5);
}

#[test]
fn a_streamed_report_is_the_in_memory_report_in_two_passes() {
    let source = Synthetic::new(N);
    let records = source.to_vec();
    let info = info(&records);
    let opts =
        ReportOptions { formats: vec![Format::Html, Format::Md], ..ReportOptions::default() };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_report(a.path(), &ReportData::new(&info, &source), &opts).unwrap();
    assert_eq!(source.passes(), 2, "one pass for the aggregates, one for cells and bins");
    write_report(b.path(), &ReportData::new(&info, &records), &opts).unwrap();
    let files = names(a.path());
    assert_eq!(files, names(b.path()));
    // 7 heatmaps and a histogram per strategy.
    assert_eq!(files.len(), 3 + 1 + 2 * (7 + 3), "md files, report.html, PNG+SVG per chart");
    for f in &files {
        assert!(fs::read(a.path().join(f)).unwrap() == fs::read(b.path().join(f)).unwrap(), "{f}");
    }

    // summary.md: the best 1,000, ranked like the leaderboard, under a line that says so.
    let md = fs::read_to_string(a.path().join("summary.md")).unwrap();
    let mut lines = md.lines();
    assert_eq!(
        lines.next().unwrap(),
        "Top 1,000 of 200,000 simulations by sharpe_ratio; the full table was not exported."
    );
    assert_eq!(lines.next().unwrap(), "");
    assert!(
        lines.next().unwrap().starts_with("| id | dataset | strategy | status | fast | mult |")
    );
    let rows: Vec<&str> = lines.skip(1).collect();
    let best = top_k(&records, "sharpe_ratio", 1_000).unwrap();
    assert_eq!(rows.len(), 1_000);
    for (row, r) in rows.iter().zip(&best) {
        assert!(row.starts_with(&format!("| {} |", r.id)), "{row} is not {}", r.id);
    }

    // The failed list: 1,000 in failed.md, 100 in the page, and how many more.
    let n_failed = records.iter().filter(|r| r.stats().is_none()).count();
    assert_eq!(n_failed, 2_062);
    let failed = fs::read_to_string(a.path().join("failed.md")).unwrap();
    assert_eq!(failed.lines().count(), 2 + 1_000 + 2);
    assert!(
        failed.ends_with("\n... and 1,062 more: see the `error` column of the summary table.\n")
    );
    let html = fs::read_to_string(a.path().join("report.html")).unwrap();
    assert!(html.contains("<h2>Failed simulations (2062)</h2>"));
    assert!(html.contains("... and 1,962 more: see the <code>error</code> column"));
    assert!(html.contains(
        "<p>The best 1,000 of 200,000 simulations: <a href=\"summary.md\">summary.md</a>. The \
         full table was not exported (use --format csv).</p>"
    ));
}

/// The report's exports of `records` (in any order), with `formats`.
fn exports(records: &[SimRecord], formats: Vec<Format>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let opts = ReportOptions { formats, chart_files: false, ..ReportOptions::default() };
    write_report(dir.path(), &ReportData::new(&info(records), &records), &opts).unwrap();
    dir
}

#[test]
fn streamed_exports_have_the_bytes_of_the_whole_table() {
    let mut reversed = grid();
    reversed.reverse();
    for records in [grid(), reversed, big(1_000)] {
        let dir = exports(&records, vec![Format::Csv, Format::Json, Format::Md]);
        let table = SummaryTable::new(&records);
        let read = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap();
        assert!(read("summary.csv") == table.to_csv(), "summary.csv");
        assert!(read("summary.json") == summary_json(&table), "summary.json");
        assert!(read("summary.md") == summary_markdown(&table), "summary.md");
    }
    let empty = exports(&[], vec![Format::Csv, Format::Json, Format::Md]);
    let table = SummaryTable::new(&[]);
    assert_eq!(fs::read_to_string(empty.path().join("summary.json")).unwrap(), "[\n]\n");
    assert_eq!(fs::read_to_string(empty.path().join("summary.csv")).unwrap(), table.to_csv());
}

#[test]
fn summary_md_past_a_thousand_rows_names_the_full_exports() {
    let records = big(1_001);
    let ranked = records.iter().filter(|r| r.stats().is_some()).count();
    assert_eq!(ranked, 990, "11 failed");
    let dir = exports(&records, vec![Format::Md, Format::Parquet, Format::Csv]);
    let md = fs::read_to_string(dir.path().join("summary.md")).unwrap();
    let first = "Top 990 of 1,001 simulations by sharpe_ratio; every row is in summary.csv and \
                 summary.parquet.\n\n| id |";
    assert!(md.starts_with(first), "{}", &md[..200]);
    assert_eq!(md.lines().count(), 2 + 2 + ranked);
}
