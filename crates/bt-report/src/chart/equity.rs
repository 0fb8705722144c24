//! The equity chart: equity with trade markers on top, drawdown underneath.

use std::path::Path;

use bt_domain::{Trade, time};
use plotters::{
    coord::Shift,
    prelude::{
        AreaSeries, ChartBuilder, Cross, DrawingArea, DrawingBackend, IntoFont, LineSeries,
        PathElement, SeriesLabelPosition, TriangleMarker,
    },
    style::{Color, WHITE},
};

use crate::{
    chart::{
        BLUE, Chart, ChartFormat, DESC_PX, DrawResult, GREEN, GRID, INK, Kind, LABEL_PX, RED, TITLE_PX,
        compact, padded_range,
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
    let t_range = if t1 > t0 { (t0, t1) } else { (t0 - time::NANOS_PER_DAY, t0 + time::NANOS_PER_DAY) };

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
    };
    Ok(Chart::new(curve.id.to_string(), (1000, 600), Kind::Equity(plot)))
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

/// A timestamp as an axis label: the date, or month-day and time for spans under 3 days.
fn fmt_time(t: i64, span: i64) -> String {
    let iso = time::format_iso(t);
    if span >= 3 * time::NANOS_PER_DAY {
        iso[..10].to_string()
    } else {
        iso[5..16].replace('T', " ")
    }
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    p: &EquityPlot,
) -> DrawResult<DB> {
    let title_style = (FAMILY, TITLE_PX).into_font().color(&INK);
    let label_style = (FAMILY, LABEL_PX).into_font().color(&INK);
    let desc_style = (FAMILY, DESC_PX).into_font().color(&INK);
    let area = root.titled(title, title_style)?;
    let (_, h) = area.dim_in_pixel();
    let (top, bottom) = area.split_vertically(h * 64 / 100);
    let (t0, t1) = p.t_range;
    let span = t1 - t0;
    let fmt_t = |t: &i64| fmt_time(*t, span);

    let mut c = ChartBuilder::on(&top)
        .margin_left(10)
        .margin_right(30)
        .margin_top(4)
        .x_label_area_size(0)
        .y_label_area_size(80)
        .build_cartesian_2d(t0..t1, p.eq_range.0..p.eq_range.1)?;
    c.configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .x_labels(8)
        .y_labels(6)
        .y_desc("Equity [$]")
        .y_label_formatter(&|v| compact(*v))
        .label_style(label_style.clone())
        .axis_desc_style(desc_style.clone())
        .draw()?;
    c.draw_series(LineSeries::new(p.points.iter().map(|&(t, e, _)| (t, e)), BLUE.stroke_width(2)))?
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
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(label_style.clone())
        .draw()?;
    if p.n_trades > MAX_MARKED_TRADES {
        let note = format!("{} trades: too many to mark", p.n_trades);
        top.draw_text(&note, &label_style, (100, 8))?;
    }

    let dd_lo = if p.dd_min < 0.0 { p.dd_min * 1.1 } else { -1.0 };
    let mut d = ChartBuilder::on(&bottom)
        .margin_left(10)
        .margin_right(30)
        .margin_bottom(8)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(t0..t1, dd_lo..(-dd_lo * 0.05))?;
    d.configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .x_labels(8)
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
    fn time_labels_depend_on_span() {
        let t = time::parse_iso("2024-03-05T09:30:00").unwrap();
        assert_eq!(fmt_time(t, 10 * time::NANOS_PER_DAY), "2024-03-05");
        assert_eq!(fmt_time(t, time::NANOS_PER_DAY), "03-05 09:30");
    }
}
