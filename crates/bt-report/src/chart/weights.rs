//! A portfolio's weights over time as a stacked area (one band per instrument, the instrument's
//! contribution to the return in the legend).

use std::path::Path;

use plotters::{
    coord::Shift,
    prelude::{AreaSeries, ChartBuilder, DrawingArea, DrawingBackend, IntoFont, Rectangle},
    style::{Color, RGBColor, WHITE},
};

use crate::{
    chart::{
        BLUE, Chart, ChartFormat, DESC_PX, DrawResult, GREEN, GREY, GRID, INK, Kind, LABEL_PX,
        ORANGE, PURPLE, RED, TITLE_PX, compact,
        equity::{TimeAxis, fmt_tick, time_ticks},
    },
    error::ReportError,
    font::FAMILY,
};

/// One portfolio run's weights, for [`weights`].
#[derive(Debug, Clone, Copy)]
pub struct WeightsData<'a> {
    /// Simulation id (the chart's title).
    pub id: &'a str,
    /// Bar timestamps, ns since the epoch (UTC).
    pub timestamps: &'a [i64],
    /// Instrument names.
    pub names: &'a [String],
    /// Each instrument's contribution to the return, a fraction of the initial cash.
    pub contributions: &'a [f64],
    /// Each bar's weights, bar-major: `names.len()` values per bar.
    pub weights: &'a [f64],
    /// Per instrument, in `names` order, for the table under the chart in report.html (empty:
    /// no table).
    pub instruments: &'a [InstrumentRow],
}

/// One instrument of a portfolio run, as report.html's table under the weights chart shows
/// it (with the name and the contribution of [`WeightsData`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstrumentRow {
    /// Share of the traded bars that closed with a position (a fraction).
    pub exposure: f64,
    /// Traded value over the run's mean equity.
    pub turnover: f64,
    /// Commissions paid.
    pub fees: f64,
    /// Fills.
    pub fills: u64,
}

/// At most this many points per band are drawn (every k-th bar).
const MAX_POINTS: usize = 1500;

const PALETTE: [RGBColor; 10] = [
    BLUE,
    ORANGE,
    GREEN,
    RED,
    PURPLE,
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    GREY,
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

#[derive(Debug, Clone)]
pub(super) struct WeightsPlot {
    /// Per kept bar: timestamp and the cumulative weights (band k's top).
    rows: Vec<(i64, Vec<f64>)>,
    labels: Vec<String>,
    t_range: (i64, i64),
    y_max: f64,
}

/// Prepares the weights chart of one run (1000 x 500 pixels).
pub fn weights(data: &WeightsData<'_>) -> Result<Chart, ReportError> {
    let (n, m) = (data.timestamps.len(), data.names.len());
    if n == 0 || m == 0 || data.weights.len() != n * m || data.contributions.len() != m {
        return Err(ReportError::NoData {
            chart: format!("weights chart of {}", data.id),
            reason: format!(
                "{} weights for {n} bars x {m} instruments ({} contributions)",
                data.weights.len(),
                data.contributions.len()
            ),
        });
    }
    let step = n.div_ceil(MAX_POINTS).max(1);
    let mut rows = Vec::with_capacity(n / step + 2);
    let mut y_max: f64 = 1.0;
    let mut push = |i: usize| {
        let mut cum = 0.0;
        let tops: Vec<f64> = data.weights[i * m..(i + 1) * m]
            .iter()
            .map(|&w| {
                cum += if w.is_finite() { w.max(0.0) } else { 0.0 };
                cum
            })
            .collect();
        y_max = y_max.max(cum);
        rows.push((data.timestamps[i], tops));
    };
    for i in (0..n).step_by(step) {
        push(i);
    }
    if (n - 1) % step != 0 {
        push(n - 1);
    }
    let labels = data
        .names
        .iter()
        .zip(data.contributions)
        .map(|(name, c)| format!("{name} ({:+.2} %)", c * 100.0))
        .collect();
    let (t0, t1) = (data.timestamps[0], data.timestamps[n - 1]);
    let t_range = if t1 > t0 { (t0, t1) } else { (t0 - 1, t0 + 1) };
    let plot = WeightsPlot { rows, labels, t_range, y_max: y_max * 1.02 };
    Ok(Chart::new(format!("{}: weights", data.id), (1000, 500), Kind::Weights(plot)))
}

/// Writes the weights chart to `path`, PNG or SVG by its extension.
pub fn weights_chart_to(data: &WeightsData<'_>, path: &Path) -> Result<(), ReportError> {
    weights(data)?.write_as(path, ChartFormat::from_path(path)?)
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    p: &WeightsPlot,
) -> DrawResult<DB> {
    let title_style = (FAMILY, TITLE_PX).into_font().color(&INK);
    let label_style = (FAMILY, LABEL_PX).into_font().color(&INK);
    let desc_style = (FAMILY, DESC_PX).into_font().color(&INK);
    let area = root.titled(title, title_style)?;
    let (t0, t1) = p.t_range;
    let (ticks, step) = time_ticks(t0, t1, 8);
    let axis = TimeAxis { lo: t0, hi: t1, ticks };
    let fmt_t = |t: &i64| fmt_tick(*t, step);
    let mut c = ChartBuilder::on(&area)
        .margin_left(10)
        .margin_right(30)
        .margin_top(4)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(axis, 0.0..p.y_max)?;
    c.configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .y_labels(6)
        .y_desc("Weight")
        .y_label_formatter(&|v| compact(*v))
        .x_label_formatter(&fmt_t)
        .label_style(label_style.clone())
        .axis_desc_style(desc_style)
        .draw()?;
    // The top band first, each lower one drawn over it down to 0: stacked areas.
    for k in (0..p.labels.len()).rev() {
        let colour = PALETTE[k % PALETTE.len()];
        c.draw_series(AreaSeries::new(
            p.rows.iter().map(|(t, tops)| (*t, tops[k])),
            0.0,
            colour.mix(0.85).filled(),
        ))?
        .label(p.labels[k].as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(label_style)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_chart_renders_deterministically_and_checks_shapes() {
        let names = vec!["a".to_string(), "b".to_string()];
        let ts: Vec<i64> = (0..5000).map(|i| i * 86_400_000_000_000).collect();
        let w: Vec<f64> = (0..5000).flat_map(|i| [0.5, (i % 7) as f64 / 14.0]).collect();
        let data = WeightsData {
            id: "run",
            timestamps: &ts,
            names: &names,
            contributions: &[0.1, -0.05],
            weights: &w,
            instruments: &[],
        };
        let a = weights(&data).unwrap().to_svg().unwrap();
        assert_eq!(a, weights(&data).unwrap().to_svg().unwrap());
        assert!(a.contains("a (+10.00 %)") && a.contains("b (-5.00 %)"), "legend");
        let bad = WeightsData { weights: &w[..10], ..data };
        assert!(weights(&bad).is_err());
    }
}
