//! The performance chart of `cargo xtask perf`: runtime against the number of simulations per
//! execution mode, and the speed-up over sequential on a second axis.

use std::path::Path;

use plotters::{
    coord::Shift,
    prelude::{
        BindKeyPoints, ChartBuilder, Circle, DashedLineSeries, DrawingArea, DrawingBackend,
        EmptyElement, IntoFont, IntoLogRange, LineSeries, PathElement, SeriesLabelPosition,
    },
    style::{Color, RGBColor, WHITE},
};

use crate::{
    chart::{
        BLUE, Chart, DESC_PX, DrawResult, GREEN, GREY, GRID, INK, Kind, LABEL_PX, ORANGE, PURPLE,
        RED, TITLE_PX, compact, compact_count,
    },
    error::ReportError,
    font::FAMILY,
};

/// One measurement: `sims` simulations run in `mode`, repeated; times in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfPoint {
    /// Number of simulations in the run.
    pub sims: u64,
    /// `sequential`, `threads`, `processes` or `auto` (any other name is drawn too).
    pub mode: String,
    /// Median wall time over the repetitions.
    pub median_s: f64,
    /// Fastest repetition.
    pub min_s: f64,
    /// Slowest repetition.
    pub max_s: f64,
}

#[derive(Debug, Clone)]
pub(crate) struct PerfPlot {
    /// Per mode (in display order): points sorted by `sims`.
    series: Vec<(String, Vec<PerfPoint>)>,
    /// Per non-sequential mode: (sims, sequential median / mode median).
    speedups: Vec<(String, Vec<(f64, f64)>)>,
    x_range: (f64, f64),
    y_range: (f64, f64),
    /// Tick positions: the measured sizes, and 1-2-5 steps of the time axis (plotters' log
    /// axes only label powers of ten, which leaves a one-decade chart with a single label).
    x_ticks: Vec<f64>,
    y_ticks: Vec<f64>,
    s_max: f64,
}

/// Round values (1, 2, 5 times a power of ten; 1, 1.5, 2, 3, 5, 7 when that gives fewer
/// than four) inside `lo..=hi`, for a logarithmic axis.
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let within = |mantissas: &[f64]| {
        let mut out = Vec::new();
        let mut exp = lo.log10().floor() as i32;
        while 10f64.powi(exp) <= hi {
            for m in mantissas {
                // m * 10^exp, written so that 0.2 is 0.2 rather than 0.2000000000000001.
                let v = if exp < 0 { m / 10f64.powi(-exp) } else { m * 10f64.powi(exp) };
                if v >= lo && v <= hi {
                    out.push(v);
                }
            }
            exp += 1;
        }
        out
    };
    if !(lo > 0.0 && hi > lo && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let ticks = within(&[1.0, 2.0, 5.0]);
    if ticks.len() >= 4 { ticks } else { within(&[1.0, 1.5, 2.0, 3.0, 5.0, 7.0]) }
}

const MODE_ORDER: [&str; 4] = ["sequential", "threads", "processes", "auto"];

fn mode_colour(mode: &str) -> RGBColor {
    match mode {
        "sequential" => BLUE,
        "threads" => ORANGE,
        "processes" => GREEN,
        "auto" => PURPLE,
        _ => GREY,
    }
}

/// Prepares the performance chart (960 x 560 pixels). Points with no simulations or a
/// non-positive or non-finite median are left out (the axes are logarithmic).
pub fn perf(points: &[PerfPoint]) -> Result<Chart, ReportError> {
    let ok: Vec<&PerfPoint> = points
        .iter()
        .filter(|p| p.sims > 0 && p.median_s.is_finite() && p.median_s > 0.0)
        .collect();
    if ok.is_empty() {
        return Err(ReportError::NoData {
            chart: "performance chart".into(),
            reason: format!(
                "none of the {} points has sims > 0 and a positive median time",
                points.len()
            ),
        });
    }
    let mut modes: Vec<&str> = ok.iter().map(|p| p.mode.as_str()).collect();
    modes.sort_by_key(|m| (MODE_ORDER.iter().position(|o| o == m).unwrap_or(MODE_ORDER.len()), *m));
    modes.dedup();
    let series: Vec<(String, Vec<PerfPoint>)> = modes
        .iter()
        .map(|m| {
            let mut pts: Vec<PerfPoint> =
                ok.iter().filter(|p| p.mode == *m).map(|p| (*p).clone()).collect();
            pts.sort_by_key(|p| p.sims);
            // Error bars must bracket the median even if the caller swapped or omitted them.
            for p in &mut pts {
                p.min_s = if p.min_s.is_finite() && p.min_s > 0.0 {
                    p.min_s.min(p.median_s)
                } else {
                    p.median_s
                };
                p.max_s = if p.max_s.is_finite() { p.max_s.max(p.median_s) } else { p.median_s };
            }
            (m.to_string(), pts)
        })
        .collect();
    let seq = series.iter().find(|(m, _)| m == "sequential").map(|(_, p)| p);
    let speedups: Vec<(String, Vec<(f64, f64)>)> = match seq {
        None => Vec::new(),
        Some(seq) => series
            .iter()
            .filter(|(m, _)| m != "sequential")
            .map(|(m, pts)| {
                let s = pts
                    .iter()
                    .filter_map(|p| {
                        let base = seq.iter().find(|q| q.sims == p.sims)?;
                        Some((p.sims as f64, base.median_s / p.median_s))
                    })
                    .collect();
                (m.clone(), s)
            })
            .filter(|(_, s): &(String, Vec<(f64, f64)>)| !s.is_empty())
            .collect(),
    };
    let all = series.iter().flat_map(|(_, p)| p);
    let (xlo, xhi) = all.clone().fold((f64::INFINITY, 0.0f64), |(lo, hi), p| {
        (lo.min(p.sims as f64), hi.max(p.sims as f64))
    });
    let (ylo, yhi) =
        all.fold((f64::INFINITY, 0.0f64), |(lo, hi), p| (lo.min(p.min_s), hi.max(p.max_s)));
    let mut x_ticks: Vec<f64> =
        series.iter().flat_map(|(_, p)| p.iter().map(|q| q.sims as f64)).collect();
    x_ticks.sort_by(f64::total_cmp);
    x_ticks.dedup();
    let s_max = speedups.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).fold(1.0, f64::max);
    let plot = PerfPlot {
        series,
        speedups,
        x_range: (xlo / 1.5, xhi * 1.5),
        y_range: (ylo / 1.6, yhi * 1.6),
        x_ticks,
        y_ticks: log_ticks(ylo / 1.6, yhi * 1.6),
        s_max: (s_max * 1.25).max(2.0),
    };
    Ok(Chart::new("Runtime by execution mode".into(), (960, 560), Kind::Perf(plot)))
}

/// Writes the performance chart to `out`, PNG or SVG by its extension.
pub fn perf_chart(points: &[PerfPoint], out: &Path) -> Result<(), ReportError> {
    let format = crate::chart::ChartFormat::from_path(out)?;
    perf(points)?.write_as(out, format)
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    p: &PerfPlot,
) -> DrawResult<DB> {
    let label_style = (FAMILY, LABEL_PX).into_font().color(&INK);
    let desc_style = (FAMILY, DESC_PX).into_font().color(&INK);
    let area = root.titled(title, (FAMILY, TITLE_PX).into_font().color(&INK))?;
    let (x0, x1) = p.x_range;
    let (y0, y1) = p.y_range;
    let mut c = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .right_y_label_area_size(if p.speedups.is_empty() { 0 } else { 72 })
        .build_cartesian_2d(
            (x0..x1).log_scale().with_key_points(p.x_ticks.clone()),
            (y0..y1).log_scale().with_key_points(p.y_ticks.clone()),
        )?
        .set_secondary_coord((x0..x1).log_scale(), 0.0..p.s_max);
    c.configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .x_labels(10)
        .y_labels(8)
        .x_label_formatter(&|v| compact_count(*v))
        .y_label_formatter(&|v| compact(*v))
        .x_desc("simulations (log scale)")
        .y_desc("wall time [s] (log scale; bars: min to max)")
        .label_style(label_style.clone())
        .axis_desc_style(desc_style.clone())
        .draw()?;
    if !p.speedups.is_empty() {
        c.configure_secondary_axes()
            .y_labels(8)
            .y_label_formatter(&|v| format!("{}x", compact(*v)))
            .y_desc("speed-up vs sequential (dashed)")
            .label_style(label_style.clone())
            .axis_desc_style(desc_style)
            .draw()?;
    }
    for (mode, pts) in &p.series {
        let colour = mode_colour(mode);
        c.draw_series(LineSeries::new(
            pts.iter().map(|q| (q.sims as f64, q.median_s)),
            colour.stroke_width(2),
        ))?
        .label(format!("{mode}: time"))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        c.draw_series(
            pts.iter().map(|q| Circle::new((q.sims as f64, q.median_s), 4, colour.filled())),
        )?;
        c.draw_series(pts.iter().flat_map(|q| {
            let x = q.sims as f64;
            let cap = |y: f64| {
                PathElement::new(vec![(x / 1.06, y), (x * 1.06, y)], colour.stroke_width(1))
            };
            [
                PathElement::new(vec![(x, q.min_s), (x, q.max_s)], colour.stroke_width(1)),
                cap(q.min_s),
                cap(q.max_s),
            ]
        }))?;
    }
    for (mode, s) in &p.speedups {
        let colour = mode_colour(mode);
        c.draw_secondary_series(DashedLineSeries::new(
            s.iter().copied(),
            6,
            4,
            colour.stroke_width(2),
        ))?
        .label(format!("{mode}: speed-up"))
        .legend(move |(x, y)| {
            let dash = |a: i32| PathElement::new(vec![(a, 0), (a + 7, 0)], colour.stroke_width(2));
            EmptyElement::at((x, y)) + dash(0) + dash(13)
        });
        c.draw_secondary_series(s.iter().map(|&pt| Circle::new(pt, 3, WHITE.filled())))?;
        c.draw_secondary_series(s.iter().map(|&pt| Circle::new(pt, 3, colour.stroke_width(2))))?;
    }
    if !p.speedups.is_empty() {
        // The break-even line: below it the mode is slower than sequential.
        c.draw_secondary_series(LineSeries::new(
            [(x0, 1.0), (x1, 1.0)],
            RED.mix(0.4).stroke_width(1),
        ))?;
    }
    // Runtime grows with the number of simulations, so the lower right is free.
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(GRID)
        .label_font(label_style)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_label_a_one_decade_axis_more_than_once() {
        assert_eq!(log_ticks(0.012, 0.45), [0.02, 0.05, 0.1, 0.2]);
        assert_eq!(log_ticks(0.05, 0.3), [0.05, 0.07, 0.1, 0.15, 0.2, 0.3]);
        assert_eq!(
            log_ticks(3.0, 2_000.0),
            [5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]
        );
        assert!(log_ticks(0.0, 1.0).is_empty());
        assert!(log_ticks(f64::NAN, 1.0).is_empty());
    }
}
