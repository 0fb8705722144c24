//! Tables: leaderboard ranking and the summary exports (insta snapshots, read and checked).

use bt_domain::SummaryTable;
use bt_report::{Leaderboard, failed, failed_markdown, summary_json, summary_markdown, top_k};

use crate::fixtures::{big, grid};

fn ids(v: &[&bt_domain::SimRecord]) -> Vec<String> {
    v.iter().map(|r| r.id.clone()).collect()
}

#[test]
fn leaderboard_markdown() {
    let records = grid();
    let lb = Leaderboard::new(&records, "sharpe_ratio", 5).unwrap();
    insta::assert_snapshot!(lb.to_markdown());
}

#[test]
fn leaderboard_html_fragment() {
    let records = grid();
    let lb = Leaderboard::new(&records, "max_drawdown_pct", 3).unwrap();
    insta::assert_snapshot!(lb.to_html());
}

#[test]
fn ranking_is_descending_nan_last_ties_by_index() {
    let records = grid();
    let all = top_k(&records, "sharpe_ratio", 100).unwrap();
    // 27 successful, failures left out; the NaN one (sma-5-100) last.
    assert_eq!(all.len(), 27);
    assert_eq!(all.last().unwrap().id, "sma-5-100");
    let vals: Vec<f64> = all.iter().map(|r| r.stats().unwrap().sharpe_ratio).collect();
    assert!(vals[..26].windows(2).all(|w| w[0] >= w[1]), "{vals:?}");
    // sma-10-60 (index 7) and sma-15-40 (index 11) tie: lower index first.
    let got = ids(&all);
    let a = got.iter().position(|i| i == "sma-10-60").unwrap();
    let b = got.iter().position(|i| i == "sma-15-40").unwrap();
    assert_eq!(b, a + 1, "{got:?}");
    // Input order does not matter.
    let mut rev = records.clone();
    rev.reverse();
    assert_eq!(ids(&top_k(&rev, "sharpe_ratio", 100).unwrap()), got);
    // Max drawdown (negative numbers): the shallowest first.
    let dd = top_k(&records, "max_drawdown_pct", 3).unwrap();
    let d: Vec<f64> = dd.iter().map(|r| r.stats().unwrap().max_drawdown_pct).collect();
    assert!(d[0] > d[1] && d[1] > d[2] && d[0] < 0.0, "{d:?}");
    assert!(top_k(&records, "sharpe_ratio", 0).unwrap().is_empty());
}

#[test]
fn heap_selection_matches_a_full_sort() {
    let records = big(5000);
    for metric in ["sharpe_ratio", "return_pct", "max_drawdown_duration", "n_trades"] {
        let pos = bt_domain::STAT_KEYS.iter().position(|k| *k == metric).unwrap();
        let mut sorted: Vec<&bt_domain::SimRecord> =
            records.iter().filter(|r| r.stats().is_some()).collect();
        let v = |r: &bt_domain::SimRecord| r.stats().unwrap().values()[pos].1.as_f64();
        sorted.sort_by(|a, b| v(b).partial_cmp(&v(a)).unwrap().then(a.index.cmp(&b.index)));
        for k in [1, 7, 50] {
            assert_eq!(
                ids(&top_k(&records, metric, k).unwrap()),
                ids(&sorted[..k]),
                "{metric} {k}"
            );
        }
    }
}

#[test]
fn summary_csv() {
    insta::assert_snapshot!(SummaryTable::new(&grid()[..8]).to_csv());
}

#[test]
fn summary_json_snapshot() {
    let table = SummaryTable::new(&grid()[..6]);
    let json = summary_json(&table);
    // It parses, and keys keep the column order.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 6);
    let first_line = json.lines().nth(1).unwrap();
    assert!(first_line.starts_with("{\"id\":\"sma-5-20\",\"dataset\":\"goog\",\"strategy\":\"sma_cross\",\"status\":\"ok\",\"fast\":5,\"slow\":20,\"start\":\"2004-08-19T00:00:00\""), "{first_line}");
    // NaN becomes null.
    assert!(v[4]["sharpe_ratio"].is_null(), "{}", v[4]);
    insta::assert_snapshot!(json);
}

#[test]
fn summary_json_keeps_parameter_types() {
    let mut records = grid()[..2].to_vec();
    records[0].params.insert("long_only".into(), bt_domain::ParamValue::Bool(true));
    records[1].params.insert("long_only".into(), bt_domain::ParamValue::Bool(false));
    let json = summary_json(&SummaryTable::new(&records));
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["long_only"], serde_json::Value::Bool(true));
    assert_eq!(v[1]["long_only"], serde_json::Value::Bool(false));
    assert!(v[0]["fast"].is_i64(), "{}", v[0]);
    // CSV keeps the text form.
    assert!(SummaryTable::new(&records).to_csv().lines().nth(1).unwrap().contains(",true,"));
}

#[test]
fn summary_markdown_snapshot() {
    insta::assert_snapshot!(summary_markdown(&SummaryTable::new(&grid()[15..])));
}

#[test]
fn failed_list_in_queue_order() {
    let records = grid();
    let f = failed(&records);
    let got: Vec<(&str, &str)> = f.iter().map(|(r, m)| (r.id.as_str(), *m)).collect();
    assert_eq!(
        got,
        [
            ("sma-20-20", "bad parameters: fast (20) must be below slow (20)"),
            ("sma-25-20", "bad parameters: fast (25) must be below slow (20)"),
            ("sma-30-20", "bad parameters: fast (30) must be below slow (20)"),
        ]
    );
    insta::assert_snapshot!(failed_markdown(&records));
}
