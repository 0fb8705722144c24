//! Tables: the leaderboard (top K by a metric), the summary exports and the failed list.

mod export;
mod failed;

use std::fmt::Write as _;

use bt_domain::{
    ParamValue, SimRecord, StatValue, Stats, ValidationGroup,
    ranking::{TopK, rank_metric, rankable},
    time,
};

pub(crate) use crate::table::{
    export::{ExportSet, Exports, MARKDOWN_ROWS, top_summary_markdown},
    failed::{FAILED_KEPT, FailedList},
};
pub use crate::table::{
    export::{summary_json, summary_markdown},
    failed::{failed, failed_markdown},
};
use crate::{
    error::ReportError,
    filter::{FilterTally, RecordFilter},
    html::esc,
    source::{Records, visit},
};

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

/// Position of a rankable metric in [`STAT_KEYS`], or the error that lists the valid names.
pub(crate) fn metric_pos(metric: &str) -> Result<usize, ReportError> {
    rank_metric(metric)
        .map_err(|e| ReportError::UnknownMetric { metric: e.metric, known: rankable().join(", ") })
}

/// A metric's value for ranking and charts (durations in seconds, NaT as NaN).
pub(crate) fn metric_value(stats: &Stats, pos: usize) -> f64 {
    stats.values()[pos].1.as_f64()
}

/// The score a record is ranked by: its `metric` (position `pos`) when it is ranked at all
/// (see [`SimRecord::ranked_stats`]).
fn rank_score(r: &SimRecord, pos: usize) -> Option<f64> {
    r.ranked_stats().map(|s| metric_value(s, pos))
}

/// The best `k` successful simulations by `metric` (a rankable statistic, see
/// [`bt_domain::ranking`]), best first: larger first, NaN last, ties to the lower queue index.
///
/// That is "best first" for every statistic where higher is better, and also for
/// `max_drawdown_pct` / `avg_drawdown_pct`, which are negative percentages (-5 beats -30). For
/// metrics where smaller is better (durations, `volatility_ann_pct`) the list shows the largest,
/// as backtesting.py's `optimize(maximize=)` would. Failed simulations are left out. O(n log k)
/// time, O(k) memory.
pub fn top_k<'a>(
    records: &'a [SimRecord],
    metric: &str,
    k: usize,
) -> Result<Vec<&'a SimRecord>, ReportError> {
    let pos = metric_pos(metric)?;
    let mut top = TopK::new(k);
    for r in records {
        if let Some(score) = rank_score(r, pos) {
            top.push(score, r.index, r);
        }
    }
    Ok(top.into_sorted())
}

/// [`top_k`] over a stream: the best `k` records, owned (a record is cloned only when it
/// enters the top).
#[derive(Debug)]
pub(crate) struct Ranking {
    pos: usize,
    top: TopK<SimRecord>,
}

impl Ranking {
    pub(crate) fn new(pos: usize, k: usize) -> Ranking {
        Ranking { pos, top: TopK::new(k) }
    }

    pub(crate) fn observe(&mut self, r: &SimRecord) {
        if let Some(score) = rank_score(r, self.pos)
            && self.top.would_keep(score, r.index)
        {
            self.top.push(score, r.index, r.clone());
        }
    }

    /// The kept records, best first.
    pub(crate) fn into_sorted(self) -> Vec<SimRecord> {
        self.top.into_sorted()
    }
}

/// [`Ranking`] of the records a filter keeps (every record without one), counting what the
/// filter kept.
#[derive(Debug)]
pub(crate) struct Board {
    ranking: Ranking,
    filter: Option<RecordFilter>,
    tally: Option<FilterTally>,
}

impl Board {
    pub(crate) fn new(pos: usize, k: usize, filter: Option<&RecordFilter>) -> Board {
        Board {
            ranking: Ranking::new(pos, k),
            filter: filter.cloned(),
            tally: filter.map(|f| FilterTally { label: f.label.clone(), ranked: 0, kept: 0 }),
        }
    }

    pub(crate) fn observe(&mut self, r: &SimRecord) {
        match (&self.filter, &mut self.tally) {
            (Some(filter), Some(tally)) => {
                if r.ranked_stats().is_none() {
                    return;
                }
                tally.ranked += 1;
                if filter.keeps(r) {
                    tally.kept += 1;
                    self.ranking.observe(r);
                }
            }
            _ => self.ranking.observe(r),
        }
    }

    /// The kept records, best first, and the filter's tally (when there is a filter).
    pub(crate) fn finish(self) -> (Vec<SimRecord>, Option<FilterTally>) {
        (self.ranking.into_sorted(), self.tally)
    }
}

/// The best `k` records by `metric` that `filter` keeps (every successful record without a
/// filter), best first as in [`top_k`], read once, and what the filter kept.
///
/// ```
/// use bt_report::{RecordFilter, leaders};
/// let none: Vec<bt_domain::SimRecord> = Vec::new();
/// let filter = RecordFilter::new("n_trades >= 5", |_| true);
/// let (top, tally) = leaders(&none, "sharpe_ratio", 3, Some(&filter)).unwrap();
/// assert!(top.is_empty());
/// assert_eq!(tally.unwrap().note(), "no simulation passes the filter n_trades >= 5 (0 of 0)");
/// ```
pub fn leaders(
    records: &(impl Records + ?Sized),
    metric: &str,
    k: usize,
    filter: Option<&RecordFilter>,
) -> Result<(Vec<SimRecord>, Option<FilterTally>), ReportError> {
    let mut board = Board::new(metric_pos(metric)?, k, filter);
    visit(&records, |r| board.observe(r))?;
    Ok(board.finish())
}

/// The top-K table of a run, ready to render as Markdown or HTML.
#[derive(Debug, Clone)]
pub struct Leaderboard {
    /// The ranking metric (a [`bt_domain::STAT_KEYS`] key).
    pub metric: String,
    /// Column headers.
    pub columns: Vec<String>,
    /// The ranked simulations, best first.
    pub records: Vec<SimRecord>,
    /// Rendered cells, one row per record.
    pub rows: Vec<Vec<String>>,
    /// The line shown above the table: what the filter kept (see [`FilterTally::note`]).
    pub note: Option<String>,
}

impl Leaderboard {
    /// Ranks `records` by `metric` and keeps the best `k` (see [`top_k`]), reading them once
    /// and holding only the best `k`.
    ///
    /// Columns: `#`, `id`, `dataset`, `strategy`, the parameters of the ranked rows (sorted),
    /// the metric, then [`LEADERBOARD_STATS`] (without repeating the metric).
    pub fn new(
        records: &(impl Records + ?Sized),
        metric: &str,
        k: usize,
    ) -> Result<Leaderboard, ReportError> {
        let mut ranking = Ranking::new(metric_pos(metric)?, k);
        visit(&records, |r| ranking.observe(r))?;
        Leaderboard::from_ranked(ranking.into_sorted(), metric)
    }

    /// The table of records already ranked by `metric`, best first (see [`top_k`]).
    pub fn from_ranked(top: Vec<SimRecord>, metric: &str) -> Result<Leaderboard, ReportError> {
        metric_pos(metric)?;
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
        let rows =
            top.iter().enumerate().map(|(i, r)| leaderboard_row(i, r, &params, &stats)).collect();
        Ok(Leaderboard { metric: metric.to_string(), columns, records: top, rows, note: None })
    }

    /// The table with the note of a filter's tally above it (nothing without a filter).
    pub fn with_filter(mut self, tally: Option<&FilterTally>) -> Leaderboard {
        self.note = tally.map(FilterTally::note);
        self
    }

    /// A GitHub-flavoured Markdown table (header, alignment row, one line per row), after the
    /// filter's note when there is one.
    pub fn to_markdown(&self) -> String {
        let table = markdown_table(&self.columns, self.rows.iter().map(|r| r.as_slice()));
        match &self.note {
            Some(note) => format!("{note}\n\n{table}"),
            None => table,
        }
    }

    /// A plain-text table for a terminal: one header line and one line per row, columns
    /// padded to their widest cell, text left-aligned and numbers right-aligned (the note is
    /// the caller's to print).
    pub fn to_text(&self) -> String {
        text_table(&self.columns, &self.rows, |c| matches!(c, "id" | "dataset" | "strategy"))
    }

    /// Adds a `dsr` column: the Deflated Sharpe Ratio on the rows that are their group's best
    /// trial (docs/validation.md); nothing when no row is.
    pub fn with_dsr(mut self, groups: &[ValidationGroup]) -> Leaderboard {
        let cells: Vec<String> = self
            .records
            .iter()
            .map(|r| {
                groups
                    .iter()
                    .find(|g| {
                        g.best_id == r.id && g.strategy == r.strategy && g.dataset == r.dataset
                    })
                    .map(|g| fmt_stat("dsr", StatValue::Float(g.dsr)))
                    .unwrap_or_default()
            })
            .collect();
        if cells.iter().any(|c| !c.is_empty()) {
            self.columns.push("dsr".into());
            for (row, cell) in self.rows.iter_mut().zip(cells) {
                row.push(cell);
            }
        }
        self
    }

    /// An HTML `<table id="leaderboard-table">` fragment (escaped, no styles); the note is
    /// the page's to show.
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

/// One leaderboard row: rank, id, data set, strategy, `params`, then `stats`.
fn leaderboard_row(i: usize, r: &SimRecord, params: &[&str], stats: &[&str]) -> Vec<String> {
    let mut row = vec![(i + 1).to_string(), r.id.clone(), r.dataset.clone(), r.strategy.clone()];
    row.extend(params.iter().map(|p| r.params.get(*p).map(fmt_param).unwrap_or_default()));
    if let Some(s) = r.stats() {
        let values = s.values();
        for key in stats {
            let v = values.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
            row.push(v.map(|v| fmt_stat(key, v)).unwrap_or_default());
        }
    }
    row
}

/// A plain-text table for a terminal: one header line and one line per row, columns padded
/// to their widest cell, text columns left-aligned and the others right-aligned.
pub(crate) fn text_table(
    columns: &[String],
    rows: &[Vec<String>],
    text_column: impl Fn(&str) -> bool,
) -> String {
    let widths: Vec<usize> = (0..columns.len())
        .map(|j| {
            let cells = rows.iter().map(|r| r[j].chars().count());
            cells.chain([columns[j].chars().count()]).max().unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &String>| {
        let mut l = String::new();
        for (j, cell) in cells.enumerate() {
            if j > 0 {
                l.push_str("  ");
            }
            let pad = widths[j].saturating_sub(cell.chars().count());
            if text_column(&columns[j]) {
                l.push_str(cell);
                l.extend(std::iter::repeat_n(' ', pad));
            } else {
                l.extend(std::iter::repeat_n(' ', pad));
                l.push_str(cell);
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut columns.iter());
    for row in rows {
        line(&mut row.iter());
    }
    out
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
pub(crate) fn push_md_cell(out: &mut String, s: &str) {
    out.push(' ');
    if s.contains(['\\', '|', '\r', '\n']) {
        out.push_str(&s.replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " "));
    } else {
        out.push_str(s);
    }
    out.push_str(" |");
}

pub(crate) fn markdown_header(out: &mut String, columns: &[String]) {
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

pub(crate) fn markdown_table<'r>(
    columns: &[String],
    rows: impl Iterator<Item = &'r [String]>,
) -> String {
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

/// A count with thousands separators: `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn thousands_are_separated() {
        let got: Vec<String> = [0, 999, 1_000, 12_345, 1_000_000].map(thousands).to_vec();
        assert_eq!(got, ["0", "999", "1,000", "12,345", "1,000,000"]);
    }
}
