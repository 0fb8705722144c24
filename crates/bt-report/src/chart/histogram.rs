//! The distribution of one metric across the simulations of a run, from two passes over the
//! records (range and count, then bin counts) plus what the exact median needs (see
//! [`Median`]); nothing grows with the number of records.

use bt_domain::{SimRecord, Stats};
use plotters::{
    coord::Shift,
    prelude::{
        ChartBuilder, DrawingArea, DrawingBackend, IntoFont, PathElement, Rectangle,
        SeriesLabelPosition,
    },
    style::{Color, WHITE},
};

use crate::font::FAMILY;
use crate::{
    chart::group::{GroupKey, Grouped},
    chart::{
        BLUE, Chart, DESC_PX, DrawResult, GRID, Hover, INK, Kind, LABEL_PX, RED, TITLE_PX, compact,
    },
    error::ReportError,
    select::{Median, share_cap},
    source::{Records, visit},
    table::{metric_pos, metric_value},
};

#[derive(Debug, Clone)]
pub(crate) struct Hist {
    metric: String,
    /// What is counted (the y axis).
    unit: &'static str,
    lo: f64,
    width: f64,
    counts: Vec<u64>,
    n: usize,
    non_finite: usize,
    median: f64,
    /// Every value is a whole number: the bins are whole numbers wide, centred on them, and
    /// the x axis has whole-number ticks only.
    integer: bool,
}

/// The histogram of `metric` over the successful simulations (finite values; how many were
/// NaN or infinite is written under the title). About √n bins, between 5 and 50 (whole
/// numbers wide for a metric that only takes whole numbers, such as `n_trades`). Reads
/// `records` twice, or a few times more for the median of more than a million values.
pub fn histogram(records: &(impl Records + ?Sized), metric: &str) -> Result<Chart, ReportError> {
    let mut scan = HistScan::new(metric_pos(metric)?);
    visit(&records, |r| scan.observe(r))?;
    let mut bins = scan.plan(metric, 1);
    visit(&records, |r| bins.observe(r))?;
    let (_, chart) = bins.into_charts(&records, metric)?.into_iter().next().expect("one group");
    chart
}

/// A ranked simulation's metric (see [`SimRecord::ranked_stats`]).
fn ranked_metric(r: &SimRecord, pos: usize) -> Option<f64> {
    r.ranked_stats().map(|s| metric_value(s, pos))
}

/// What the first pass learns of one group's values: how many, how many finite, their range
/// and whether all are whole numbers.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    all: usize,
    n: usize,
    range: Option<(f64, f64)>,
    integer: bool,
}

impl Default for Facts {
    fn default() -> Facts {
        Facts { all: 0, n: 0, range: None, integer: true }
    }
}

impl Facts {
    fn add(&mut self, v: f64) {
        self.all += 1;
        if !v.is_finite() {
            return;
        }
        self.n += 1;
        self.integer &= v.fract() == 0.0;
        self.range = Some(match self.range {
            None => (v, v),
            Some((lo, hi)) => (
                if v.total_cmp(&lo).is_lt() { v } else { lo },
                if v.total_cmp(&hi).is_gt() { v } else { hi },
            ),
        });
    }

    /// The empty bins over the range (about √n of them), or why there is no histogram.
    fn bins(&self, metric: &str, group: &GroupKey) -> Result<Bins, ReportError> {
        let Some((lo, hi)) = self.range else {
            let of = match group.label() {
                l if l.is_empty() => String::new(),
                l => format!(" ({l})"),
            };
            return Err(ReportError::NoData {
                chart: format!("histogram of {metric}{of}"),
                reason: format!(
                    "no successful simulation has a finite {metric} ({} values, all NaN or infinite)",
                    self.all
                ),
            });
        };
        let bins = ((self.n as f64).sqrt().ceil() as usize).clamp(5, 50);
        let (lo, width, bins) = if self.integer && hi - lo < 1e15 {
            // Whole-number bins centred on the values: `k - 0.5 .. k + w - 0.5`.
            let span = hi - lo + 1.0;
            let width = (span / bins as f64).ceil().max(1.0);
            (lo - 0.5, width, ((span / width).ceil() as usize).max(1))
        } else if hi > lo {
            (lo, (hi - lo) / bins as f64, bins)
        } else {
            let d = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
            (lo - d, 2.0 * d / bins as f64, bins)
        };
        Ok(Bins {
            lo,
            width,
            counts: vec![0; bins],
            n: self.n,
            non_finite: self.all - self.n,
            integer: self.integer,
            median: Median::new(),
        })
    }
}

/// The first pass of the histograms: the [`Facts`] of each group of records (every record,
/// or each strategy and each sweep of one).
#[derive(Debug, Clone)]
pub(crate) struct HistScan {
    pos: usize,
    groups: Grouped<Facts>,
}

impl HistScan {
    /// One histogram of every record.
    pub(crate) fn new(pos: usize) -> HistScan {
        HistScan { pos, groups: Grouped::one() }
    }

    /// A histogram per strategy, or per sweep of a strategy swept several times.
    pub(crate) fn by_strategy(pos: usize) -> HistScan {
        HistScan { pos, groups: Grouped::by_strategy() }
    }

    pub(crate) fn observe(&mut self, r: &SimRecord) {
        let Some(v) = ranked_metric(r, self.pos) else { return };
        self.groups.observe(r, |f| f.add(v));
    }

    /// The bins to fill for the first `limit` groups (each, or why it has no histogram), and
    /// the labels of the groups left out. The medians share [`crate::select::CAP`] by the
    /// groups' sizes.
    pub(crate) fn plan(self, metric: &str, limit: usize) -> HistBins {
        let mut groups = self.groups.into_groups();
        let several = groups.len() > 1;
        let left_out =
            groups.split_off(limit.min(groups.len())).into_iter().map(|(k, _)| k.label()).collect();
        let mut hists: Vec<(GroupKey, Result<Bins, ReportError>)> = groups
            .into_iter()
            .map(|(k, f)| {
                let bins = f.bins(metric, &k);
                (k, bins)
            })
            .collect();
        let sizes: Vec<usize> = hists.iter().map(|(_, b)| b.as_ref().map_or(0, |b| b.n)).collect();
        for ((_, b), cap) in hists.iter_mut().zip(share_cap(&sizes)) {
            if let Ok(b) = b {
                b.median = Median::with_cap(cap);
            }
        }
        HistBins { pos: self.pos, several, hists, left_out }
    }
}

/// A group's chart, or why it has none.
pub(crate) type GroupChart = (GroupKey, Result<Chart, ReportError>);

/// One histogram's bin counts and median, being filled.
#[derive(Debug, Clone)]
struct Bins {
    lo: f64,
    width: f64,
    counts: Vec<u64>,
    n: usize,
    non_finite: usize,
    integer: bool,
    median: Median,
}

/// The second pass of the histograms: every planned group's bin counts (and the first pass
/// of its median).
#[derive(Debug)]
pub(crate) struct HistBins {
    pos: usize,
    several: bool,
    hists: Vec<(GroupKey, Result<Bins, ReportError>)>,
    /// The groups beyond the limit, by label.
    pub(crate) left_out: Vec<String>,
}

impl HistBins {
    /// Whether a pass over the records fills anything.
    pub(crate) fn is_active(&self) -> bool {
        self.hists.iter().any(|(_, b)| b.is_ok())
    }

    pub(crate) fn observe(&mut self, r: &SimRecord) {
        let Some(v) = ranked_metric(r, self.pos).filter(|v| v.is_finite()) else { return };
        for (key, b) in &mut self.hists {
            let Ok(b) = b else { continue };
            if !key.matches(r) {
                continue;
            }
            let bins = b.counts.len();
            let i = (((v - b.lo) / b.width).floor().max(0.0) as usize).min(bins - 1);
            b.counts[i] += 1;
            b.median.observe(v);
        }
    }

    /// The charts (or why each has none), in group order, after the further passes over
    /// `records` the medians may need: titled with their group when there are several.
    pub(crate) fn into_charts(
        mut self,
        records: &dyn Records,
        metric: &str,
    ) -> Result<Vec<GroupChart>, ReportError> {
        fn medians(
            h: &mut [(GroupKey, Result<Bins, ReportError>)],
        ) -> Vec<(&GroupKey, &mut Median)> {
            h.iter_mut()
                .filter_map(|(k, b)| b.as_mut().ok().map(|b| (&*k, &mut b.median)))
                .collect()
        }
        medians(&mut self.hists).into_iter().for_each(|(_, m)| m.end_pass());
        while medians(&mut self.hists).iter().any(|(_, m)| m.needs_pass()) {
            let pos = self.pos;
            let mut open: Vec<(&GroupKey, &mut Median)> =
                medians(&mut self.hists).into_iter().filter(|(_, m)| m.needs_pass()).collect();
            visit(records, |r| {
                let Some(v) = ranked_metric(r, pos).filter(|v| v.is_finite()) else { return };
                for (k, m) in &mut open {
                    if k.matches(r) {
                        m.observe(v);
                    }
                }
            })?;
            open.into_iter().for_each(|(_, m)| m.end_pass());
        }
        let label = Stats::label(metric).unwrap_or(metric);
        let several = self.several;
        Ok(self
            .hists
            .into_iter()
            .map(|(key, b)| {
                let chart = b.map(|b| {
                    let hist = Hist {
                        metric: metric.to_string(),
                        unit: "simulations",
                        lo: b.lo,
                        width: b.width,
                        counts: b.counts,
                        n: b.n,
                        non_finite: b.non_finite,
                        median: b.median.value().expect("a histogram has a finite value"),
                        integer: b.integer,
                    };
                    let mut title = format!("Distribution of {label}");
                    if several {
                        title = format!("{}: {title}", key.label());
                    }
                    Chart::new(title, (800, 460), Kind::Histogram(hist))
                });
                (key, chart)
            })
            .collect())
    }
}

impl Hist {
    /// A histogram already binned: `edges` (bins + 1, evenly spaced) and `counts`, with the
    /// median of the values; `None` without bins.
    pub(super) fn binned(
        label: &str,
        unit: &'static str,
        edges: &[f64],
        counts: &[u64],
        median: f64,
    ) -> Option<Hist> {
        if edges.len() != counts.len() + 1 || counts.is_empty() {
            return None;
        }
        Some(Hist {
            metric: label.to_string(),
            unit,
            lo: edges[0],
            width: (edges[edges.len() - 1] - edges[0]) / counts.len() as f64,
            counts: counts.to_vec(),
            n: counts.iter().sum::<u64>() as usize,
            non_finite: 0,
            median,
            integer: false,
        })
    }
}

/// `v` as a whole number when it is one (up to rounding in the tick computation).
pub(crate) fn whole(v: f64) -> Option<i64> {
    let r = v.round();
    ((v - r).abs() <= 1e-9 * r.abs().max(1.0) && r.abs() < 1e15).then_some(r as i64)
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    h: &Hist,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let label_style = (FAMILY, LABEL_PX).into_font().color(&INK);
    let desc_style = (FAMILY, DESC_PX).into_font().color(&INK);
    let area = root.titled(title, (FAMILY, TITLE_PX).into_font().color(&INK))?;
    let hi = h.lo + h.width * h.counts.len() as f64;
    let ymax = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.3;
    let mut c = ChartBuilder::on(&area)
        .margin(12)
        .margin_right(30)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(h.lo..hi, 0.0..ymax)?;
    c.configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .disable_x_mesh()
        .x_labels(8)
        .y_labels(10)
        .x_label_formatter(&|v| match h.integer {
            // Whole-number values: whole-number ticks only (no 2.5 trades).
            true => whole(*v).map(|k| k.to_string()).unwrap_or_default(),
            false => compact(*v),
        })
        .y_label_formatter(&|v| if v.fract() == 0.0 { format!("{v:.0}") } else { String::new() })
        .x_desc(h.metric.as_str())
        .y_desc(h.unit)
        .label_style(label_style.clone())
        .axis_desc_style(desc_style)
        .draw()?;
    c.draw_series(h.counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, &n)| {
        let x0 = h.lo + h.width * i as f64;
        Rectangle::new([(x0, 0.0), (x0 + h.width, n as f64)], BLUE.mix(0.75).filled())
    }))?;
    c.draw_series(h.counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, &n)| {
        let x0 = h.lo + h.width * i as f64;
        Rectangle::new([(x0, 0.0), (x0 + h.width, n as f64)], WHITE.stroke_width(1))
    }))?;
    for (i, &n) in h.counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        let x0 = h.lo + h.width * i as f64;
        let (a, b) = (c.backend_coord(&(x0, 0.0)), c.backend_coord(&(x0 + h.width, n as f64)));
        let range = match h.integer {
            true => match (whole(x0 + 0.5), whole(x0 + h.width - 0.5)) {
                (Some(a), Some(b)) if a == b => a.to_string(),
                (Some(a), Some(b)) => format!("{a}..{b}"),
                _ => format!("{}..{}", compact(x0), compact(x0 + h.width)),
            },
            false => format!("{}..{}", compact(x0), compact(x0 + h.width)),
        };
        hovers.push(Hover::new(a, b, format!("{} {range}: {n} {}", h.metric, h.unit)));
    }
    c.draw_series(std::iter::once(PathElement::new(
        vec![(h.median, 0.0), (h.median, ymax)],
        RED.stroke_width(2),
    )))?
    .label(format!("median {}", compact(h.median)))
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    let mut note = format!("n = {}", h.n);
    if h.non_finite > 0 {
        note.push_str(&format!(" ({} NaN/inf left out)", h.non_finite));
    }
    c.draw_series(std::iter::once(PathElement::new(Vec::<(f64, f64)>::new(), WHITE)))?
        .label(note)
        .legend(|(x, y)| PathElement::new(vec![(x, y)], WHITE));
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(label_style)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use bt_domain::{ReturnStats, SimOutcome, SimSummary};

    use super::*;

    /// Records whose `sharpe_ratio` is `values[i]`, counting the passes over them.
    struct Sharpes {
        records: Vec<SimRecord>,
        passes: Cell<u32>,
    }

    impl Records for Sharpes {
        fn for_each(
            &self,
            f: &mut dyn FnMut(&SimRecord) -> Result<(), ReportError>,
        ) -> Result<(), ReportError> {
            self.passes.set(self.passes.get() + 1);
            self.records.iter().try_for_each(f)
        }
    }

    fn sharpes(values: impl IntoIterator<Item = f64>) -> Sharpes {
        let z = 0.0;
        let records = values
            .into_iter()
            .enumerate()
            .map(|(i, sharpe_ratio)| SimRecord {
                index: i as u64,
                id: i.to_string(),
                dataset: "d".into(),
                strategy: "s".into(),
                params: Default::default(),
                outcome: SimOutcome::Ok(Box::new(SimSummary {
                    stats: Stats {
                        start: 0,
                        end: 0,
                        duration: 0,
                        exposure_time_pct: z,
                        equity_final: z,
                        equity_peak: z,
                        commissions: z,
                        return_pct: z,
                        buy_hold_return_pct: z,
                        return_ann_pct: z,
                        volatility_ann_pct: z,
                        cagr_pct: z,
                        sharpe_ratio,
                        sortino_ratio: z,
                        calmar_ratio: z,
                        alpha_pct: z,
                        beta: z,
                        max_drawdown_pct: z,
                        avg_drawdown_pct: z,
                        max_drawdown_duration: None,
                        avg_drawdown_duration: None,
                        n_trades: 0,
                        win_rate_pct: z,
                        best_trade_pct: z,
                        worst_trade_pct: z,
                        avg_trade_pct: z,
                        max_trade_duration: None,
                        avg_trade_duration: None,
                        profit_factor: z,
                        expectancy_pct: z,
                        sqn: z,
                        kelly_criterion: z,
                    },
                    returns: ReturnStats::missing(),
                    n_bars: 0,
                    bar_steps: 0,
                    open_trades: 0,
                    cancelled_orders: 0,
                    bust_bar: None,
                })),
            })
            .collect();
        Sharpes { records, passes: Cell::new(0) }
    }

    fn median_of(chart: &Chart) -> f64 {
        match &chart.kind {
            Kind::Histogram(h) => h.median,
            _ => unreachable!("a histogram"),
        }
    }

    #[test]
    fn a_median_past_the_collected_values_takes_more_passes_and_stays_exact() {
        // Unit tests collect at most 1,024 values: 3,001 values a few ulps apart share their
        // top 48 key bits, so the median takes a pass per 16 bits before it is collected.
        let values: Vec<f64> =
            (0..3_001u64).map(|i| 1.0 + ((i * 7_919) % 3_001) as f64 * f64::EPSILON).collect();
        let source = sharpes(values.iter().copied().chain([f64::NAN, f64::INFINITY]));
        let chart = histogram(&source, "sharpe_ratio").unwrap();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(median_of(&chart).to_bits(), sorted[1_500].to_bits());
        assert_eq!(
            source.passes.get(),
            5,
            "the range, the bins with the median's key bits 0-16, bits 16-32, 32-48, 48-64"
        );

        // An even count: the mean of the two middle values.
        let source = sharpes((0..2_000).map(|i| f64::from(i % 1_000)));
        assert_eq!(median_of(&histogram(&source, "sharpe_ratio").unwrap()), 499.5);
        assert_eq!(source.passes.get(), 3, "few distinct values: collected after the bins pass");
    }
}
