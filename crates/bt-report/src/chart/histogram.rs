//! The distribution of one metric across the simulations of a run.

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
/// NaN or infinite is written under the title). About √n bins, between 5 and 50.
pub fn histogram(records: &[SimRecord], metric: &str) -> Result<Chart, ReportError> {
    let pos = metric_pos(metric)?;
    let all: Vec<f64> =
        records.iter().filter_map(SimRecord::ranked_stats).map(|s| metric_value(s, pos)).collect();
    let mut vals: Vec<f64> = all.iter().copied().filter(|v| v.is_finite()).collect();
    if vals.is_empty() {
        return Err(ReportError::NoData {
            chart: format!("histogram of {metric}"),
            reason: format!(
                "no successful simulation has a finite {metric} ({} values, all NaN or infinite)",
                all.len()
            ),
        });
    }
    vals.sort_by(f64::total_cmp);
    let n = vals.len();
    let median = if n % 2 == 1 { vals[n / 2] } else { (vals[n / 2 - 1] + vals[n / 2]) / 2.0 };
    let (lo, hi) = (vals[0], vals[n - 1]);
    let bins = ((n as f64).sqrt().ceil() as usize).clamp(5, 50);
    let (lo, width) = if hi > lo {
        (lo, (hi - lo) / bins as f64)
    } else {
        let d = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
        (lo - d, 2.0 * d / bins as f64)
    };
    let mut counts = vec![0u64; bins];
    for v in &vals {
        let i = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[i] += 1;
    }
    let hist = Hist {
        metric: metric.to_string(),
        unit: "simulations",
        lo,
        width,
        counts,
        n,
        non_finite: all.len() - n,
        median,
    };
    let label = Stats::label(metric).unwrap_or(metric);
    Ok(Chart::new(format!("Distribution of {label}"), (800, 460), Kind::Histogram(hist)))
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
