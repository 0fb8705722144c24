//! Leaderboards of several strategies, filtered and not: the rows a filter keeps, its note, the
//! parameter columns of every strategy ranked, and the report files that honour it.

use std::fs;

use bt_domain::{ParamValue, Params, SimRecord};
use bt_report::{
    Format, Leaderboard, RecordFilter, ReportData, ReportOptions, leaders, write_report,
};

use crate::fixtures::{grid, info, ok, stats_for};

/// The SMA grid and four RSI runs (other parameters: period, lower, upper), two of which
/// rank among the best Sharpe ratios; one RSI run has a single trade.
fn mixed() -> Vec<SimRecord> {
    let mut records = grid();
    for (k, (period, sharpe, trades)) in
        [(9, 2.5, 21), (14, 0.1, 7), (21, 2.4, 1), (28, -0.3, 12)].into_iter().enumerate()
    {
        let mut s = stats_for(12.0, 55.0);
        (s.sharpe_ratio, s.sortino_ratio) = (sharpe, sharpe * 1.3);
        s.n_trades = trades;
        let mut params = Params::new();
        params.insert("period".into(), ParamValue::Int(period));
        params.insert("lower".into(), ParamValue::Int(30));
        params.insert("upper".into(), ParamValue::Int(70));
        params.insert("long_only".into(), ParamValue::Bool(true));
        records.push(SimRecord {
            index: (30 + k) as u64,
            id: format!("rsi-{period}"),
            dataset: "goog".into(),
            strategy: "rsi_reversion".into(),
            params,
            outcome: ok(s),
        });
    }
    records
}

fn rsi_with_trades() -> RecordFilter {
    RecordFilter::new("n_trades >= 5 and strategy == \"rsi_reversion\"", |r| {
        r.strategy == "rsi_reversion" && r.stats().is_some_and(|s| s.n_trades >= 5)
    })
}

#[test]
fn markdown_shows_every_strategys_parameter_columns() {
    let lb = Leaderboard::new(&mixed(), "sharpe_ratio", 5).unwrap();
    let md = lb.to_markdown();
    let header = md.lines().next().unwrap();
    for p in ["fast", "slow", "period", "lower", "upper", "long_only"] {
        assert!(header.contains(&format!("| {p} |")), "{p}: {header}");
    }
    insta::assert_snapshot!(md);
}

#[test]
fn filtered_markdown_has_the_note_above_the_kept_rows() {
    let filter = rsi_with_trades();
    let (top, tally) = leaders(&mixed(), "sharpe_ratio", 5, Some(&filter)).unwrap();
    let ids: Vec<&str> = top.iter().map(|r| r.id.as_str()).collect();
    // rsi-21 has one trade; 27 SMA runs and 4 RSI runs succeeded.
    assert_eq!(ids, ["rsi-9", "rsi-14", "rsi-28"]);
    let tally = tally.unwrap();
    assert_eq!((tally.ranked, tally.kept), (31, 3));
    let lb = Leaderboard::from_ranked(top, "sharpe_ratio").unwrap().with_filter(Some(&tally));
    insta::assert_snapshot!(lb.to_markdown());
}

#[test]
fn terminal_text_is_aligned_and_names_the_metric_once() {
    let records = mixed();
    for (name, filter) in [("all", None), ("filtered", Some(rsi_with_trades()))] {
        let (top, _) = leaders(&records, "sortino_ratio", 4, filter.as_ref()).unwrap();
        let text = Leaderboard::from_ranked(top, "sortino_ratio").unwrap().to_text();
        let header = text.lines().next().unwrap();
        assert_eq!(header.matches("sortino_ratio").count(), 1, "{header}");
        assert_eq!(header.matches("sharpe_ratio").count(), 1, "{header}");
        // Right-aligned numbers: every line ends at the same column.
        let widths: Vec<usize> = text.lines().map(|l| l.chars().count()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{name}: {widths:?}\n{text}");
        insta::assert_snapshot!(format!("terminal_leaderboard_{name}"), text);
    }
}

#[test]
fn a_report_ranks_only_what_the_filter_keeps() {
    let records = mixed();
    let info = info(&records);
    let data = ReportData::new(&info, &records);
    let formats = vec![Format::Html, Format::Md, Format::Csv];
    let base = ReportOptions { top_k: 5, formats, chart_files: false, ..ReportOptions::default() };
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = write_report(plain_dir.path(), &data, &base).unwrap();
    assert_eq!(plain.filter, None);
    assert_eq!(plain.leaderboard.len(), 5);

    let dir = tempfile::tempdir().unwrap();
    let opts = ReportOptions { filter: Some(rsi_with_trades()), ..base.clone() };
    let files = write_report(dir.path(), &data, &opts).unwrap();
    let ids: Vec<&str> = files.leaderboard.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["rsi-9", "rsi-14", "rsi-28"]);
    let note = "filter: n_trades >= 5 and strategy == \"rsi_reversion\" (3 of 31 simulations pass)";
    assert_eq!(files.filter.as_ref().unwrap().note(), note);
    let md = fs::read_to_string(dir.path().join("leaderboard.md")).unwrap();
    assert!(md.starts_with(&format!("{note}\n\n| # |")), "{md}");
    let html = fs::read_to_string(files.html.as_ref().unwrap()).unwrap();
    let escaped = bt_report::esc(note);
    assert!(html.contains(&format!("id=\"leaderboard-filter\">{escaped}</p>")), "no note");
    // Summaries still show every simulation.
    for table in ["summary.csv", "summary.md"] {
        assert_eq!(
            fs::read(dir.path().join(table)).unwrap(),
            fs::read(plain_dir.path().join(table)).unwrap(),
            "{table}"
        );
    }

    // A filter nobody passes: an empty leaderboard under its note.
    let none = RecordFilter::new("fast > 1000", |_| false);
    let opts = ReportOptions { filter: Some(none), ..base };
    let files = write_report(dir.path(), &data, &opts).unwrap();
    assert!(files.leaderboard.is_empty());
    let md = fs::read_to_string(dir.path().join("leaderboard.md")).unwrap();
    assert!(md.starts_with("no simulation passes the filter fast > 1000 (0 of 31)\n"), "{md}");
    let html = fs::read_to_string(files.html.as_ref().unwrap()).unwrap();
    assert!(!html.contains("No simulation succeeded"), "the note says why the table is empty");
}
