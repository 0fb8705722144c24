//! The first pass of a report over its records: everything of bounded size the report needs
//! before it can write a row.

use std::collections::BTreeSet;

use bt_domain::{SimRecord, SummaryLayout};

use crate::{
    chart::{HeatScan, HistScan},
    error::ReportError,
    filter::FilterTally,
    html::{Format, ReportOptions},
    source::{Records, visit},
    table::{Board, FAILED_KEPT, FailedList, MARKDOWN_ROWS, Ranking, metric_pos},
};

/// What one pass over a run's records learns for its report, in memory bounded by the
/// report's options, never by the number of records: the counts, the parameter names (the
/// summary's columns), the best simulations by the report's metric (the leaderboard's top K,
/// and up to 1,000 for summary.md), the first 1,000 failed simulations, and the facts the
/// heatmaps and the histograms are planned from (each parameter's distinct values up to what
/// an axis shows, the metric's range).
///
/// [`crate::write_report`] scans its records itself; a caller that needs the best simulations
/// first (to re-run them for their equity curves) scans once with [`Overview::scan`], then
/// passes the overview to [`crate::write_report_from`].
#[derive(Debug)]
pub struct Overview {
    /// The options scanned for.
    pub(crate) opts: ReportOptions,
    pub(crate) total: u64,
    pub(crate) ok: u64,
    pub(crate) params: BTreeSet<String>,
    /// Best first, up to the larger of the leaderboard's K and summary.md's rows (summary.md's
    /// rows only, when a filter makes the leaderboard's its own).
    pub(crate) ranked: Vec<SimRecord>,
    /// The leaderboard's records when the options have a filter: the best K it keeps.
    pub(crate) filtered: Option<Vec<SimRecord>>,
    /// What the filter kept.
    pub(crate) tally: Option<FilterTally>,
    pub(crate) failed: FailedList,
    /// When the report has charts.
    pub(crate) heat: Option<HeatScan>,
    pub(crate) hist: Option<HistScan>,
}

impl Overview {
    /// Reads `records` once for a report with `opts`.
    pub fn scan(records: &dyn Records, opts: &ReportOptions) -> Result<Overview, ReportError> {
        let pos = metric_pos(&opts.metric)?;
        let charts = opts.formats.contains(&Format::Html) || opts.chart_files;
        let md_rows = if opts.formats.contains(&Format::Md) { MARKDOWN_ROWS } else { 0 };
        // Without a filter one ranking serves both; with one, summary.md still ranks every
        // record and the leaderboard only those the filter keeps.
        let (mut ranking, mut board) = match &opts.filter {
            None => (Ranking::new(pos, opts.top_k.max(md_rows)), None),
            Some(f) => (Ranking::new(pos, md_rows), Some(Board::new(pos, opts.top_k, Some(f)))),
        };
        let mut o = Overview {
            opts: opts.clone(),
            total: 0,
            ok: 0,
            params: BTreeSet::new(),
            ranked: Vec::new(),
            filtered: None,
            tally: None,
            failed: FailedList::new(FAILED_KEPT.max(opts.max_failed_listed)),
            heat: charts.then(HeatScan::by_strategy),
            hist: charts.then(|| HistScan::by_strategy(pos)),
        };
        visit(records, |r| {
            o.observe(r);
            ranking.observe(r);
            if let Some(b) = &mut board {
                b.observe(r);
            }
        })?;
        o.ranked = ranking.into_sorted();
        if let Some((best, tally)) = board.map(Board::finish) {
            o.filtered = Some(best);
            o.tally = tally;
        }
        Ok(o)
    }

    fn observe(&mut self, r: &SimRecord) {
        self.total += 1;
        if r.stats().is_some() {
            self.ok += 1;
        }
        for k in r.params.keys() {
            if !self.params.contains(k) {
                self.params.insert(k.clone());
            }
        }
        self.failed.observe(r);
        if let Some(h) = &mut self.heat {
            h.observe(r);
        }
        if let Some(h) = &mut self.hist {
            h.observe(r);
        }
    }

    /// Simulations read.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Successful simulations.
    pub fn ok(&self) -> u64 {
        self.ok
    }

    /// Failed simulations.
    pub fn failed(&self) -> u64 {
        self.failed.total
    }

    /// The leaderboard's simulations: the best `top_k` by the report's metric that the
    /// report's filter keeps, best first (see [`crate::top_k`] for the order).
    pub fn best(&self) -> &[SimRecord] {
        match &self.filtered {
            Some(best) => best,
            None => &self.ranked[..self.opts.top_k.min(self.ranked.len())],
        }
    }

    /// What the report's filter kept, when it has one.
    pub fn filter_tally(&self) -> Option<&FilterTally> {
        self.tally.as_ref()
    }

    /// The summary's column layout (every parameter name of the run).
    pub(crate) fn layout(&self) -> SummaryLayout {
        SummaryLayout::new(self.params.iter().map(String::as_str))
    }
}
