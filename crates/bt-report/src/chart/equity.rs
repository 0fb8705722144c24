//! The equity chart: equity with trade markers on top, drawdown underneath.

use std::path::Path;

use bt_domain::{Trade, time};
use plotters::{
    coord::{
        Shift,
        ranged1d::{DefaultFormatting, KeyPointHint, Ranged},
    },
    prelude::{
        AreaSeries, ChartBuilder, Cross, DashedLineSeries, DrawingArea, DrawingBackend, IntoFont,
        LineSeries, PathElement, SeriesLabelPosition, Text, TriangleMarker,
    },
    style::{
        Color, WHITE,
        text_anchor::{HPos, Pos, VPos},
    },
};

use crate::{
    chart::{
        BLUE, Chart, ChartFormat, DESC_PX, DrawResult, GREEN, GREY, GRID, Hover, INK, Kind,
        LABEL_PX, RED, TITLE_PX, compact, padded_range,
    },
    error::ReportError,
    font::FAMILY,
};

/// One simulation's equity curve and trades, borrowed from whoever ran it.
#[derive(Debug, Clone, Copy)]
pub struct CurveData<'a> {
    /// Simulation id (the chart's title).
    pub id: &'a str,
    /// Bar timestamps, ns since the epoch (UTC).
    pub timestamps: &'a [i64],
    /// Equity at each bar; same length as `timestamps`.
    pub equity: &'a [f64],
    /// The simulation's trades (bar indices refer to `timestamps`).
    pub trades: &'a [Trade],
}

/// An equity curve of a report and, when the caller has the data set's closes, the equity of
/// buying and holding the asset over the same bars (see [`buy_and_hold`]), drawn beside it.
#[derive(Debug, Clone, Copy)]
pub struct EquityCurve<'a> {
    /// The simulation's curve.
    pub curve: CurveData<'a>,
    /// Buy-and-hold equity, one value per bar of `curve`.
    pub buy_hold: Option<&'a [f64]>,
}

impl<'a> From<CurveData<'a>> for EquityCurve<'a> {
    /// The curve alone, without buy and hold.
    fn from(curve: CurveData<'a>) -> EquityCurve<'a> {
        EquityCurve { curve, buy_hold: None }
    }
}

/// The equity of buying the asset with `cash` at the close of bar `from` and holding it:
/// `cash` up to `from` (the warm-up, as a strategy's equity is), then `cash * close[i] /
/// close[from]`. Its last value is `cash * (1 + Buy & Hold Return [%] / 100)`, the statistic
/// backtesting.py reports (which also starts after the warm-up). All `cash` when `from` is
/// past the end or its close is not a positive number.
pub fn buy_and_hold(closes: &[f64], cash: f64, from: usize) -> Vec<f64> {
    let c0 = closes.get(from).copied().filter(|c| c.is_finite() && *c > 0.0);
    closes
        .iter()
        .enumerate()
        .map(|(i, &c)| match c0 {
            Some(c0) if i > from => cash * c / c0,
            _ => cash,
        })
        .collect()
}

/// The buy-and-hold line: grey, lighter than the axis text.
const BUY_HOLD: plotters::style::RGBColor = plotters::style::RGBColor(150, 150, 150);

/// Curves longer than this many buckets are decimated to the first, last, lowest and highest
/// points of each bucket: the drawn shape is the same at chart resolution, and the SVG stays
/// small whatever the number of bars.
const MAX_BUCKETS: usize = 1000;

/// Above this many trades the markers would cover the curve (and bloat the SVG): none are
/// drawn and the chart says so.
pub(crate) const MAX_MARKED_TRADES: usize = 400;

#[derive(Debug, Clone)]
pub(crate) struct EquityPlot {
    /// (timestamp, equity, drawdown %), decimated.
    points: Vec<(i64, f64, f64)>,
    t_range: (i64, i64),
    eq_range: (f64, f64),
    dd_min: f64,
    markers: Vec<Marker>,
    n_trades: usize,
    /// Vertical lines with a label at the top: where each walk-forward window starts.
    windows: Vec<(i64, String)>,
    /// (timestamp, buy-and-hold equity), decimated; empty without.
    buy_hold: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, Copy)]
struct Marker {
    t: i64,
    y: f64,
    long: bool,
    entry: bool,
}

/// Prepares the equity chart of one curve (1000 x 600 pixels).
pub fn equity(curve: &CurveData<'_>) -> Result<Chart, ReportError> {
    let n = curve.timestamps.len();
    if n == 0 || n != curve.equity.len() {
        return Err(ReportError::BadCurve {
            id: curve.id.to_string(),
            timestamps: n,
            equity: curve.equity.len(),
        });
    }
    // Drawdown from the running peak of the finite values.
    let mut peak = f64::NEG_INFINITY;
    let mut dd = vec![0.0; n];
    for (i, &e) in curve.equity.iter().enumerate() {
        if e.is_finite() {
            peak = peak.max(e);
            dd[i] = if peak > 0.0 { (e / peak - 1.0) * 100.0 } else { 0.0 };
        }
    }
    let finite: Vec<usize> = (0..n).filter(|&i| curve.equity[i].is_finite()).collect();
    if finite.is_empty() {
        return Err(ReportError::NoData {
            chart: format!("equity chart of {}", curve.id),
            reason: "every equity value is NaN or infinite; nothing to draw".into(),
        });
    }
    let keep = decimate(&finite, curve.equity, &dd);
    let points: Vec<(i64, f64, f64)> =
        keep.iter().map(|&i| (curve.timestamps[i], curve.equity[i], dd[i])).collect();
    let (lo, hi) = finite
        .iter()
        .map(|&i| curve.equity[i])
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), e| (lo.min(e), hi.max(e)));
    let dd_min = dd.iter().copied().fold(0.0, f64::min);
    let (t0, t1) = (curve.timestamps[0], curve.timestamps[n - 1]);
    let t_range =
        if t1 > t0 { (t0, t1) } else { (t0 - time::NANOS_PER_DAY, t0 + time::NANOS_PER_DAY) };

    let mut markers = Vec::new();
    if curve.trades.len() <= MAX_MARKED_TRADES {
        let at = |bar: usize| {
            curve.equity.get(bar).filter(|e| e.is_finite()).map(|&y| (curve.timestamps[bar], y))
        };
        for tr in curve.trades {
            let long = tr.is_long();
            if let Some((t, y)) = at(tr.entry_bar) {
                markers.push(Marker { t, y, long, entry: true });
            }
            if let Some((t, y)) = tr.exit_bar.and_then(at) {
                markers.push(Marker { t, y, long, entry: false });
            }
        }
    }
    let plot = EquityPlot {
        points,
        t_range,
        eq_range: padded_range(lo, hi, 0.05),
        dd_min,
        markers,
        n_trades: curve.trades.len(),
        windows: Vec::new(),
        buy_hold: Vec::new(),
    };
    Ok(Chart::new(curve.id.to_string(), (1000, 600), Kind::Equity(plot)))
}

/// [`equity`] with the buy-and-hold line of [`EquityCurve::buy_hold`] when there is one (a
/// thin grey line with its own legend entry; the equity axis spans both).
pub fn equity_vs_buy_hold(c: &EquityCurve<'_>) -> Result<Chart, ReportError> {
    let mut chart = equity(&c.curve)?;
    let Some(bh) = c.buy_hold else { return Ok(chart) };
    if bh.len() != c.curve.timestamps.len() {
        return Err(ReportError::BadCurve {
            id: format!("{} (buy and hold)", c.curve.id),
            timestamps: c.curve.timestamps.len(),
            equity: bh.len(),
        });
    }
    let finite: Vec<usize> = (0..bh.len()).filter(|&i| bh[i].is_finite()).collect();
    if finite.is_empty() {
        return Ok(chart);
    }
    let Kind::Equity(p) = &mut chart.kind else { unreachable!("equity() draws an equity chart") };
    p.buy_hold =
        decimate(&finite, bh, bh).into_iter().map(|i| (c.curve.timestamps[i], bh[i])).collect();
    let (lo, hi) = finite.iter().map(|&i| bh[i]).fold(
        p.points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, e, _)| {
            (lo.min(e), hi.max(e))
        }),
        |(lo, hi), e| (lo.min(e), hi.max(e)),
    );
    p.eq_range = padded_range(lo, hi, 0.05);
    Ok(chart)
}

/// [`equity_vs_buy_hold`] with a dashed line where each window starts (timestamp) and its
/// label (the window's parameters) above: a walk-forward's stitched out-of-sample curve.
pub fn equity_with_windows(
    curve: &EquityCurve<'_>,
    windows: &[(i64, String)],
) -> Result<Chart, ReportError> {
    let mut chart = equity_vs_buy_hold(curve)?;
    if let Kind::Equity(p) = &mut chart.kind {
        p.windows = windows.to_vec();
    }
    chart.size = (1100, 640);
    Ok(chart)
}

/// Writes the equity chart as both a PNG and an SVG.
pub fn equity_chart(
    curve: &CurveData<'_>,
    out_png: &Path,
    out_svg: &Path,
) -> Result<(), ReportError> {
    let chart = equity(curve)?;
    chart.write_as(out_png, ChartFormat::Png)?;
    chart.write_as(out_svg, ChartFormat::Svg)
}

/// Writes the equity chart to `path`, PNG or SVG by its extension (`bt backtest --plot`).
pub fn equity_chart_to(curve: &CurveData<'_>, path: &Path) -> Result<(), ReportError> {
    let format = ChartFormat::from_path(path)?;
    equity(curve)?.write_as(path, format)
}

/// Indices to draw: all of them for short curves; otherwise per bucket the first, last,
/// lowest and highest equity and the deepest drawdown, in order.
fn decimate(finite: &[usize], equity: &[f64], dd: &[f64]) -> Vec<usize> {
    if finite.len() <= 4 * MAX_BUCKETS {
        return finite.to_vec();
    }
    let size = finite.len().div_ceil(MAX_BUCKETS);
    let mut keep = Vec::with_capacity(5 * MAX_BUCKETS);
    for chunk in finite.chunks(size) {
        let by = |f: &dyn Fn(usize) -> f64, max: bool| {
            chunk.iter().copied().fold(chunk[0], |best, i| {
                let better = if max { f(i) > f(best) } else { f(i) < f(best) };
                if better { i } else { best }
            })
        };
        let mut pick = [
            chunk[0],
            chunk[chunk.len() - 1],
            by(&|i| equity[i], false),
            by(&|i| equity[i], true),
            by(&|i| dd[i], false),
        ];
        pick.sort_unstable();
        for (j, &i) in pick.iter().enumerate() {
            if j == 0 || pick[j - 1] != i {
                keep.push(i);
            }
        }
    }
    keep
}

/// A tick spacing of the time axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Step {
    /// Fixed seconds, aligned to the epoch (weeks to Mondays).
    Secs(i64),
    /// Calendar months, aligned to multiples of the step since year 0.
    Months(i64),
}

const STEPS: [Step; 20] = [
    Step::Secs(60),
    Step::Secs(300),
    Step::Secs(900),
    Step::Secs(3600),
    Step::Secs(3 * 3600),
    Step::Secs(6 * 3600),
    Step::Secs(12 * 3600),
    Step::Secs(86_400),
    Step::Secs(2 * 86_400),
    Step::Secs(7 * 86_400),
    Step::Months(1),
    Step::Months(2),
    Step::Months(3),
    Step::Months(6),
    Step::Months(12),
    Step::Months(24),
    Step::Months(60),
    Step::Months(120),
    Step::Months(240),
    Step::Months(600),
];

/// Calendar-aligned ticks in `t0..=t1` (ns): the finest step that gives at most `max` ticks.
pub(super) fn time_ticks(t0: i64, t1: i64, max: usize) -> (Vec<i64>, Step) {
    let mut last = (Vec::new(), STEPS[STEPS.len() - 1]);
    for step in STEPS {
        let ticks = ticks_for(t0, t1, step, max + 1);
        if ticks.len() <= max {
            return (ticks, step);
        }
        last = (ticks, step);
    }
    last.0.truncate(max);
    last
}

/// Ticks of one step (at most `limit`, to bound the work on huge spans).
fn ticks_for(t0: i64, t1: i64, step: Step, limit: usize) -> Vec<i64> {
    let mut out = Vec::new();
    match step {
        Step::Secs(s) => {
            let ns = s * time::NANOS_PER_SEC;
            // 1970-01-05 was a Monday: weekly ticks fall on Mondays.
            let offset = if s == 7 * 86_400 { 4 * time::NANOS_PER_DAY } else { 0 };
            let mut t = (t0 - offset).div_euclid(ns) * ns + offset;
            if t < t0 {
                t += ns;
            }
            while t <= t1 && out.len() < limit {
                out.push(t);
                t += ns;
            }
        }
        Step::Months(m) => {
            let (y, mo, _) = time::civil_from_days(time::day_index(t0));
            let mut k = (y * 12 + i64::from(mo) - 1).div_euclid(m) * m;
            while out.len() < limit {
                let (ty, tm) = (k.div_euclid(12), k.rem_euclid(12) as u32 + 1);
                let t = time::days_from_civil(ty, tm, 1).saturating_mul(time::NANOS_PER_DAY);
                if t > t1 {
                    break;
                }
                if t >= t0 {
                    out.push(t);
                }
                k += m;
            }
        }
    }
    out
}

/// A tick label for `step`: `2005`, `2005-03`, `2005-03-07` or `03-07 09:30`.
pub(super) fn fmt_tick(t: i64, step: Step) -> String {
    let iso = time::format_iso(t);
    match step {
        Step::Months(m) if m % 12 == 0 => iso[..4].to_string(),
        Step::Months(_) => iso[..7].to_string(),
        Step::Secs(s) if s >= 86_400 => iso[..10].to_string(),
        Step::Secs(_) => iso[5..16].replace('T', " "),
    }
}

/// The time axis: nanosecond timestamps mapped with f64 arithmetic (plotters' i64 axis
/// overflows on nanosecond values) and calendar-aligned ticks.
#[derive(Debug, Clone)]
pub(super) struct TimeAxis {
    pub(super) lo: i64,
    pub(super) hi: i64,
    pub(super) ticks: Vec<i64>,
}

impl Ranged for TimeAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = i64;

    fn map(&self, value: &i64, limit: (i32, i32)) -> i32 {
        let frac = (*value as f64 - self.lo as f64) / (self.hi as f64 - self.lo as f64);
        limit.0 + (frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<i64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<i64> {
        self.lo..self.hi
    }
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    p: &EquityPlot,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let title_style = (FAMILY, TITLE_PX).into_font().color(&INK);
    let label_style = (FAMILY, LABEL_PX).into_font().color(&INK);
    let desc_style = (FAMILY, DESC_PX).into_font().color(&INK);
    let area = root.titled(title, title_style)?;
    let (_, h) = area.dim_in_pixel();
    let (top, bottom) = area.split_vertically(h * 64 / 100);
    let (t0, t1) = p.t_range;
    let (ticks, step) = time_ticks(t0, t1, 8);
    let axis = TimeAxis { lo: t0, hi: t1, ticks };
    let fmt_t = |t: &i64| fmt_tick(*t, step);

    let mut c = ChartBuilder::on(&top)
        .margin_left(10)
        .margin_right(30)
        .margin_top(4)
        .x_label_area_size(0)
        .y_label_area_size(80)
        .build_cartesian_2d(axis.clone(), p.eq_range.0..p.eq_range.1)?;
    c.configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .y_labels(6)
        .y_desc("Equity [$]")
        .y_label_formatter(&|v| compact(*v))
        .label_style(label_style.clone())
        .axis_desc_style(desc_style.clone())
        .draw()?;
    // A 2-pixel line is easier to see, but plotters' bitmap backend joins thick segments with
    // unbounded miters: a curve denser than the pixels zigzags and grows spikes. Thin it then.
    let width = if p.points.len() > 800 { 1 } else { 2 };
    if !p.buy_hold.is_empty() {
        c.draw_series(LineSeries::new(p.buy_hold.iter().copied(), BUY_HOLD.stroke_width(1)))?
            .label("buy & hold")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BUY_HOLD.stroke_width(1)));
    }
    c.draw_series(LineSeries::new(
        p.points.iter().map(|&(t, e, _)| (t, e)),
        BLUE.stroke_width(width),
    ))?
    .label("equity")
    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    let groups = [
        (true, true, "long entry"),
        (true, false, "long exit"),
        (false, true, "short entry"),
        (false, false, "short exit"),
    ];
    for (long, entry, label) in groups {
        let colour = if long { GREEN } else { RED };
        let pts: Vec<(i64, f64)> = p
            .markers
            .iter()
            .filter(|m| m.long == long && m.entry == entry)
            .map(|m| (m.t, m.y))
            .collect();
        if pts.is_empty() {
            continue;
        }
        if entry {
            c.draw_series(pts.iter().map(|&pt| TriangleMarker::new(pt, 6, colour.filled())))?
                .label(label)
                .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 6, colour.filled()));
        } else {
            c.draw_series(pts.iter().map(|&pt| Cross::new(pt, 5, colour.stroke_width(2))))?
                .label(label)
                .legend(move |(x, y)| Cross::new((x + 10, y), 5, colour.stroke_width(2)));
        }
    }
    for m in &p.markers {
        let (x, y) = c.backend_coord(&(m.t, m.y));
        let what = match (m.long, m.entry) {
            (true, true) => "long entry",
            (true, false) => "long exit",
            (false, true) => "short entry",
            (false, false) => "short exit",
        };
        let at = time::format_iso(m.t).replace("T00:00:00", "");
        let text = format!("{what} {at}: equity {:.2}", m.y);
        hovers.push(Hover::new((x - 6, y - 6), (x + 6, y + 6), text));
    }
    let (lo, hi) = p.eq_range;
    for (k, (t, label)) in p.windows.iter().enumerate() {
        c.draw_series(DashedLineSeries::new(vec![(*t, lo), (*t, hi)], 4, 4, GREY.stroke_width(1)))?;
        // Labels alternate between two rows so that neighbours do not overlap.
        let y = hi - (hi - lo) * if k % 2 == 0 { 0.02 } else { 0.07 };
        let style =
            (FAMILY, LABEL_PX - 2).into_font().color(&INK).pos(Pos::new(HPos::Left, VPos::Top));
        c.draw_series(std::iter::once(Text::new(label.clone(), (*t, y), style)))?;
    }
    c.configure_series_labels()
        .position(if p.windows.is_empty() {
            SeriesLabelPosition::UpperLeft
        } else {
            SeriesLabelPosition::LowerRight
        })
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(label_style.clone())
        .draw()?;
    if p.n_trades > MAX_MARKED_TRADES {
        let note = format!("{} trades: too many to mark", p.n_trades);
        let (tw, _) = top.dim_in_pixel();
        let right = label_style.pos(Pos::new(HPos::Right, VPos::Top));
        top.draw_text(&note, &right, (tw as i32 - 40, 10))?;
    }

    let dd_lo = if p.dd_min < 0.0 { p.dd_min * 1.1 } else { -1.0 };
    let mut d = ChartBuilder::on(&bottom)
        .margin_left(10)
        .margin_right(30)
        .margin_bottom(8)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(axis, dd_lo..(-dd_lo * 0.05))?;
    d.configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .y_labels(4)
        .x_label_formatter(&fmt_t)
        .y_label_formatter(&|v| compact(*v))
        .x_desc("Date (UTC)")
        .y_desc("Drawdown [%]")
        .label_style(label_style)
        .axis_desc_style(desc_style)
        .draw()?;
    d.draw_series(
        AreaSeries::new(p.points.iter().map(|&(t, _, dd)| (t, dd)), 0.0, RED.mix(0.25))
            .border_style(RED.stroke_width(1)),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_extremes_and_bounds_size() {
        let n = 100_000;
        let equity: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.01).sin() * 100.0 + 1000.0).collect();
        let mut eq = equity.clone();
        eq[54_321] = 5000.0; // a spike must survive
        eq[77_777] = 1.0;
        let dd = vec![0.0; n];
        let finite: Vec<usize> = (0..n).collect();
        let keep = decimate(&finite, &eq, &dd);
        assert!(keep.len() <= 5 * MAX_BUCKETS, "{}", keep.len());
        assert!(keep.contains(&54_321) && keep.contains(&77_777));
        assert!(keep.contains(&0) && keep.contains(&(n - 1)));
        assert!(keep.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn short_curves_are_kept_whole() {
        let finite: Vec<usize> = (0..10).collect();
        assert_eq!(decimate(&finite, &[1.0; 10], &[0.0; 10]), finite);
    }

    #[test]
    fn mismatched_curve_is_an_error() {
        let curve = CurveData { id: "x", timestamps: &[1, 2], equity: &[1.0], trades: &[] };
        let err = equity(&curve).unwrap_err().to_string();
        assert!(err.contains("2 timestamps and 1 equity values"), "{err}");
    }

    #[test]
    fn time_ticks_are_calendar_aligned() {
        let t = |s: &str| time::parse_iso(s).unwrap();
        let fmt = |(ticks, step): (Vec<i64>, Step)| -> Vec<String> {
            ticks.into_iter().map(|x| fmt_tick(x, step)).collect()
        };
        assert_eq!(
            fmt(time_ticks(t("2004-08-19"), t("2013-03-01"), 8)),
            ["2006", "2008", "2010", "2012"]
        );
        assert_eq!(
            fmt(time_ticks(t("2024-01-03"), t("2024-06-20"), 8)),
            ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
        );
        assert_eq!(
            fmt(time_ticks(t("2024-01-03"), t("2024-01-31"), 8)),
            ["2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29"]
        );
        assert_eq!(
            fmt(time_ticks(t("2024-01-03T09:30"), t("2024-01-03T16:00"), 8)),
            [
                "01-03 10:00",
                "01-03 11:00",
                "01-03 12:00",
                "01-03 13:00",
                "01-03 14:00",
                "01-03 15:00",
                "01-03 16:00"
            ]
        );
        // 4 years in at most 8 ticks: half-yearly, starting on the first day of the range.
        let (ticks, step) = time_ticks(t("2020-01-01"), t("2023-12-31"), 8);
        assert_eq!((ticks.len(), step), (8, Step::Months(6)));
        assert_eq!(fmt_tick(ticks[0], step), "2020-01");
        assert_eq!(time::weekday(time::day_index(t("2024-01-08"))), 0);
    }
}
