//! Tables: the leaderboard (top K by a metric), the summary exports and the failed list.

use std::{cmp::Ordering, collections::BinaryHeap, fmt::Write as _};

use bt_domain::{
    Cell, ParamValue, STAT_KEYS, SimOutcome, SimRecord, StatValue, Stats, SummaryTable, time,
};

use crate::{error::ReportError, html::esc};

/// The statistics every leaderboard shows after the ranking metric.
pub const LEADERBOARD_STATS: [&str; 7] = [
    "return_pct",
    "sharpe_ratio",
    "max_drawdown_pct",
    "win_rate_pct",
    "n_trades",
    "profit_factor",
    "equity_final",
];

/// Position of a metric in [`STAT_KEYS`], or the error that lists the valid names.
pub(crate) fn metric_pos(metric: &str) -> Result<usize, ReportError> {
    STAT_KEYS.iter().position(|k| *k == metric).ok_or_else(|| ReportError::UnknownMetric {
        metric: metric.to_string(),
        known: STAT_KEYS.join(", "),
    })
}

/// A metric's value for ranking and charts (durations in seconds, NaT as NaN).
pub(crate) fn metric_value(stats: &Stats, pos: usize) -> f64 {
    stats.values()[pos].1.as_f64()
}

/// Ranking key: `Less` means better. Larger values first, NaN last, then queue index, then the
/// position in the input (so equal indices still give one order).
#[derive(Debug, Clone, Copy)]
struct RankKey {
    value: f64,
    index: u64,
    pos: usize,
}

impl Ord for RankKey {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_value = match (self.value.is_nan(), other.value.is_nan()) {
            (false, true) => Ordering::Less,
            (true, false) => Ordering::Greater,
            (true, true) => Ordering::Equal,
            (false, false) => other.value.partial_cmp(&self.value).unwrap_or(Ordering::Equal),
        };
        by_value.then(self.index.cmp(&other.index)).then(self.pos.cmp(&other.pos))
    }
}

impl PartialOrd for RankKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RankKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for RankKey {}

/// The best `k` successful simulations by `metric` (any of [`STAT_KEYS`]), best first.
///
/// Always descending: the largest value ranks first. That is "best first" for every statistic
/// where higher is better, and also for `max_drawdown_pct` / `avg_drawdown_pct`, which are
/// negative percentages (-5 beats -30). For metrics where smaller is better (durations,
/// `volatility_ann_pct`) the list shows the largest, as backtesting.py's `optimize(maximize=)`
/// would. NaN ranks last; ties go to the lower queue index. Failed simulations are left out.
///
/// Selection keeps a heap of `k` entries: O(n log k) time and O(k) memory, so a 10M-row run
/// never sorts everything.
pub fn top_k<'a>(
    records: &'a [SimRecord],
    metric: &str,
    k: usize,
) -> Result<Vec<&'a SimRecord>, ReportError> {
    let pos = metric_pos(metric)?;
    if k == 0 {
        return Ok(Vec::new());
    }
    // Max-heap whose top is the worst entry kept so far.
    let mut heap: BinaryHeap<RankKey> = BinaryHeap::with_capacity(k + 1);
    for (i, r) in records.iter().enumerate() {
        let Some(stats) = r.stats() else { continue };
        let key = RankKey { value: metric_value(stats, pos), index: r.index, pos: i };
        if heap.len() < k {
            heap.push(key);
        } else if let Some(mut worst) = heap.peek_mut()
            && key < *worst
        {
            *worst = key;
        }
    }
    Ok(heap.into_sorted_vec().into_iter().map(|key| &records[key.pos]).collect())
}

/// The top-K table of a run, ready to render as Markdown or HTML.
#[derive(Debug, Clone)]
pub struct Leaderboard<'a> {
    /// The ranking metric (a [`STAT_KEYS`] key).
    pub metric: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// The ranked simulations, best first.
    pub records: Vec<&'a SimRecord>,
    /// Rendered cells, one row per record.
    pub rows: Vec<Vec<String>>,
}

impl<'a> Leaderboard<'a> {
    /// Ranks `records` by `metric` and keeps the best `k` (see [`top_k`]).
    ///
    /// Columns: `#`, `id`, `dataset`, `strategy`, the parameters of the ranked rows (sorted),
    /// the metric, then [`LEADERBOARD_STATS`] (without repeating the metric).
    pub fn new(
        records: &'a [SimRecord],
        metric: &str,
        k: usize,
    ) -> Result<Leaderboard<'a>, ReportError> {
        let top = top_k(records, metric, k)?;
        let mut params: Vec<&str> =
            top.iter().flat_map(|r| r.params.keys().map(String::as_str)).collect();
        params.sort_unstable();
        params.dedup();
        let stats: Vec<&str> = std::iter::once(metric)
            .chain(LEADERBOARD_STATS.iter().copied().filter(|s| *s != metric))
            .collect();
        let mut columns: Vec<String> =
            ["#", "id", "dataset", "strategy"].iter().map(|s| s.to_string()).collect();
        columns.extend(params.iter().map(|p| p.to_string()));
        columns.extend(stats.iter().map(|s| s.to_string()));
        let rows = top
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut row =
                    vec![(i + 1).to_string(), r.id.clone(), r.dataset.clone(), r.strategy.clone()];
                row.extend(
                    params.iter().map(|p| r.params.get(*p).map(fmt_param).unwrap_or_default()),
                );
                if let Some(s) = r.stats() {
                    let values = s.values();
                    for key in &stats {
                        let v = values.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
                        row.push(v.map(|v| fmt_stat(key, v)).unwrap_or_default());
                    }
                }
                row
            })
            .collect();
        Ok(Leaderboard { metric: metric.to_string(), columns, records: top, rows })
    }

    /// A GitHub-flavoured Markdown table (header, alignment row, one line per row).
    pub fn to_markdown(&self) -> String {
        markdown_table(&self.columns, self.rows.iter().map(|r| r.as_slice()))
    }

    /// An HTML `<table id="leaderboard-table">` fragment (escaped, no styles).
    pub fn to_html(&self) -> String {
        let mut out = String::from("<table id=\"leaderboard-table\">\n<thead><tr>");
        for c in &self.columns {
            let class = if c == &self.metric { " class=\"metric\"" } else { "" };
            let _ = write!(out, "<th{class}>{}</th>", esc(c));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for row in &self.rows {
            out.push_str("<tr>");
            for (c, cell) in self.columns.iter().zip(row) {
                let class = if c == &self.metric {
                    " class=\"num metric\""
                } else if c == "id" || c == "dataset" || c == "strategy" {
                    ""
                } else {
                    " class=\"num\""
                };
                let _ = write!(out, "<td{class}>{}</td>", esc(cell));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody>\n</table>\n");
        out
    }
}

/// A parameter value as shown in tables.
pub(crate) fn fmt_param(v: &ParamValue) -> String {
    v.to_string()
}

/// A statistic for people: timestamps ISO, durations as pandas prints them, money and
/// percentages with 2 decimals, ratios with 3, NaN as `NaN`.
pub fn fmt_stat(key: &str, v: StatValue) -> String {
    match v {
        StatValue::Time(t) => time::format_iso(t),
        StatValue::Duration(Some(d)) => time::format_timedelta(d),
        StatValue::Duration(None) => "NaT".into(),
        StatValue::Count(n) => n.to_string(),
        StatValue::Float(x) if x.is_nan() => "NaN".into(),
        StatValue::Float(x) if x.is_infinite() => if x > 0.0 { "inf" } else { "-inf" }.into(),
        StatValue::Float(x) => {
            let money = matches!(key, "equity_final" | "equity_peak" | "commissions");
            if key.ends_with("_pct") || money { format!("{x:.2}") } else { format!("{x:.3}") }
        }
    }
}

/// Appends a Markdown table cell (` text |`), escaping pipes and backslashes and folding
/// line breaks.
fn push_md_cell(out: &mut String, s: &str) {
    out.push(' ');
    if s.contains(['\\', '|', '\r', '\n']) {
        out.push_str(&s.replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " "));
    } else {
        out.push_str(s);
    }
    out.push_str(" |");
}

fn markdown_header(out: &mut String, columns: &[String]) {
    out.push('|');
    for c in columns {
        push_md_cell(out, c);
    }
    out.push_str("\n|");
    for _ in columns {
        out.push_str(" --- |");
    }
    out.push('\n');
}

fn markdown_table<'r>(columns: &[String], rows: impl Iterator<Item = &'r [String]>) -> String {
    let mut out = String::new();
    markdown_header(&mut out, columns);
    for row in rows {
        out.push('|');
        for cell in row {
            push_md_cell(&mut out, cell);
        }
        out.push('\n');
    }
    out
}

/// The whole summary table as Markdown (cells as in the CSV: NaN and missing empty).
pub fn summary_markdown(table: &SummaryTable) -> String {
    let mut out = String::with_capacity(table.rows.len() * table.columns.len() * 12);
    markdown_header(&mut out, &table.columns);
    for row in &table.rows {
        out.push('|');
        for cell in row {
            match cell {
                Cell::Str(s) => push_md_cell(&mut out, s),
                other => push_md_cell(&mut out, &other.to_text()),
            }
        }
        out.push('\n');
    }
    out
}

/// The summary table as a JSON array of objects, one per line.
///
/// Keys follow the table's column order (stable across runs); NaN, infinities and missing cells
/// are `null`, since JSON has no NaN.
pub fn summary_json(table: &SummaryTable) -> String {
    let keys: Vec<String> = table.columns.iter().map(|c| json_string(c)).collect();
    let mut out = String::from("[");
    for (i, row) in table.rows.iter().enumerate() {
        out.push_str(if i == 0 { "\n{" } else { ",\n{" });
        for (j, (key, cell)) in keys.iter().zip(row).enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(key);
            out.push(':');
            match cell {
                Cell::Str(s) => out.push_str(&json_string(s)),
                Cell::Int(n) => {
                    let _ = write!(out, "{n}");
                }
                Cell::Float(x) => match serde_json::Number::from_f64(*x) {
                    Some(n) => {
                        let _ = write!(out, "{n}");
                    }
                    None => out.push_str("null"),
                },
                Cell::Null => out.push_str("null"),
            }
        }
        out.push('}');
    }
    out.push_str("\n]\n");
    out
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The failed simulations, in queue order, with their reasons.
pub fn failed(records: &[SimRecord]) -> Vec<(&SimRecord, &str)> {
    let mut out: Vec<(&SimRecord, &str)> = records
        .iter()
        .filter_map(|r| match &r.outcome {
            SimOutcome::Failed(msg) => Some((r, msg.as_str())),
            SimOutcome::Ok(_) => None,
        })
        .collect();
    out.sort_by(|a, b| a.0.index.cmp(&b.0.index).then_with(|| a.0.id.cmp(&b.0.id)));
    out
}

/// The failed simulations as a Markdown table (`id | dataset | strategy | reason`).
pub fn failed_markdown(records: &[SimRecord]) -> String {
    let columns: Vec<String> =
        ["id", "dataset", "strategy", "reason"].iter().map(|s| s.to_string()).collect();
    let rows: Vec<Vec<String>> = failed(records)
        .into_iter()
        .map(|(r, msg)| vec![r.id.clone(), r.dataset.clone(), r.strategy.clone(), msg.into()])
        .collect();
    markdown_table(&columns, rows.iter().map(|r| r.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(value: f64, index: u64) -> RankKey {
        RankKey { value, index, pos: index as usize }
    }

    #[test]
    fn rank_order_is_descending_with_nan_last_and_index_ties() {
        let mut v = [key(1.0, 3), key(f64::NAN, 0), key(2.0, 5), key(1.0, 1), key(-1.0, 2)];
        v.sort();
        let got: Vec<u64> = v.iter().map(|k| k.index).collect();
        assert_eq!(got, [5, 1, 3, 2, 0]);
    }

    #[test]
    fn unknown_metric_lists_the_valid_keys() {
        let err = top_k(&[], "sharpe", 3).unwrap_err().to_string();
        assert!(err.contains("unknown metric `sharpe`"), "{err}");
        assert!(err.contains("sharpe_ratio"), "{err}");
    }

    #[test]
    fn markdown_cells_escape_pipes_and_newlines() {
        let mut out = String::new();
        push_md_cell(&mut out, "a|b\nc\\");
        assert_eq!(out, " a\\|b c\\\\ |");
    }

    #[test]
    fn fmt_stat_formats_by_kind() {
        assert_eq!(fmt_stat("return_pct", StatValue::Float(12.3456)), "12.35");
        assert_eq!(fmt_stat("sharpe_ratio", StatValue::Float(0.12345)), "0.123");
        assert_eq!(fmt_stat("sqn", StatValue::Float(f64::NAN)), "NaN");
        assert_eq!(fmt_stat("profit_factor", StatValue::Float(f64::INFINITY)), "inf");
        assert_eq!(fmt_stat("n_trades", StatValue::Count(7)), "7");
        assert_eq!(fmt_stat("duration", StatValue::Duration(None)), "NaT");
    }
}
