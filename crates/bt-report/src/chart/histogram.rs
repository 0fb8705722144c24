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
    chart::{BLUE, Chart, DESC_PX, DrawResult, GRID, INK, Kind, LABEL_PX, RED, TITLE_PX, compact},
    error::ReportError,
    select::Median,
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
}

/// The histogram of `metric` over the successful simulations (finite values; how many were
/// NaN or infinite is written under the title). About √n bins, between 5 and 50. Reads
/// `records` twice, or a few times more for the median of more than a million values.
pub fn histogram(records: &(impl Records + ?Sized), metric: &str) -> Result<Chart, ReportError> {
    let mut scan = HistScan::new(metric_pos(metric)?);
    visit(&records, |r| scan.observe(r))?;
    let mut bins = scan.plan(metric)?;
    visit(&records, |r| bins.observe(r))?;
    bins.into_chart(&records, metric)
}

/// A ranked simulation's metric (see [`SimRecord::ranked_stats`]).
fn ranked_metric(r: &SimRecord, pos: usize) -> Option<f64> {
    r.ranked_stats().map(|s| metric_value(s, pos))
}

/// The first pass of a histogram: how many values, how many finite, their range, and the
/// median's first pass.
#[derive(Debug, Clone)]
pub(crate) struct HistScan {
    pos: usize,
    all: usize,
    n: usize,
    range: Option<(f64, f64)>,
    median: Median,
}

impl HistScan {
    pub(crate) fn new(pos: usize) -> HistScan {
        HistScan { pos, all: 0, n: 0, range: None, median: Median::new() }
    }

    pub(crate) fn observe(&mut self, r: &SimRecord) {
        let Some(v) = ranked_metric(r, self.pos) else { return };
        self.all += 1;
        if !v.is_finite() {
            return;
        }
        self.n += 1;
        self.median.observe(v);
        self.range = Some(match self.range {
            None => (v, v),
            Some((lo, hi)) => (
                if v.total_cmp(&lo).is_lt() { v } else { lo },
                if v.total_cmp(&hi).is_gt() { v } else { hi },
            ),
        });
    }

    /// The bins to fill, or why there is no histogram.
    pub(crate) fn plan(mut self, metric: &str) -> Result<HistBins, ReportError> {
        let Some((lo, hi)) = self.range else {
            return Err(ReportError::NoData {
                chart: format!("histogram of {metric}"),
                reason: format!(
                    "no successful simulation has a finite {metric} ({} values, all NaN or infinite)",
                    self.all
                ),
            });
        };
        self.median.end_pass();
        let bins = ((self.n as f64).sqrt().ceil() as usize).clamp(5, 50);
        let (lo, width) = if hi > lo {
            (lo, (hi - lo) / bins as f64)
        } else {
            let d = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
            (lo - d, 2.0 * d / bins as f64)
        };
        Ok(HistBins {
            pos: self.pos,
            lo,
            width,
            counts: vec![0; bins],
            n: self.n,
            non_finite: self.all - self.n,
            median: self.median,
        })
    }
}

/// The second pass of a histogram: the bin counts (and the median's second pass).
#[derive(Debug, Clone)]
pub(crate) struct HistBins {
    pos: usize,
    lo: f64,
    width: f64,
    counts: Vec<u64>,
    n: usize,
    non_finite: usize,
    median: Median,
}

impl HistBins {
    pub(crate) fn observe(&mut self, r: &SimRecord) {
        let Some(v) = ranked_metric(r, self.pos).filter(|v| v.is_finite()) else { return };
        let bins = self.counts.len();
        let i = (((v - self.lo) / self.width).floor().max(0.0) as usize).min(bins - 1);
        self.counts[i] += 1;
        if self.median.needs_pass() {
            self.median.observe(v);
        }
    }

    /// The chart, after the further passes over `records` the median may need.
    pub(crate) fn into_chart(
        mut self,
        records: &dyn Records,
        metric: &str,
    ) -> Result<Chart, ReportError> {
        self.median.end_pass();
        while self.median.needs_pass() {
            let (median, pos) = (&mut self.median, self.pos);
            visit(records, |r| {
                if let Some(v) = ranked_metric(r, pos).filter(|v| v.is_finite()) {
                    median.observe(v);
                }
            })?;
            self.median.end_pass();
        }
        let hist = Hist {
            metric: metric.to_string(),
            unit: "simulations",
            lo: self.lo,
            width: self.width,
            counts: self.counts,
            n: self.n,
            non_finite: self.non_finite,
            median: self.median.value().expect("a histogram has at least one finite value"),
        };
        let label = Stats::label(metric).unwrap_or(metric);
        Ok(Chart::new(format!("Distribution of {label}"), (800, 460), Kind::Histogram(hist)))
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
        })
    }
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    h: &Hist,
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
        .x_label_formatter(&|v| compact(*v))
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
            4,
            "the first pass, the bins (key bits 16-32), bits 32-48, bits 48-64"
        );

        // An even count: the mean of the two middle values.
        let source = sharpes((0..2_000).map(|i| f64::from(i % 1_000)));
        assert_eq!(median_of(&histogram(&source, "sharpe_ratio").unwrap()), 499.5);
        assert_eq!(source.passes.get(), 2, "few distinct values: collected in the bins pass");
    }
}
