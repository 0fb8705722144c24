//! Parameter heatmaps: a metric by two swept parameters, like backtesting.py's
//! `plot_heatmaps`, aggregated over the other parameters. The grid is built from the records
//! in two passes (`build`); this module draws it.

mod build;

use std::{fmt, str::FromStr};

use plotters::{
    coord::{
        Shift,
        ranged1d::{DefaultFormatting, KeyPointHint, Ranged},
    },
    prelude::{ChartBuilder, DrawingArea, DrawingBackend, IntoFont, Rectangle, Text},
    style::{
        Color, RGBColor,
        text_anchor::{HPos, Pos, VPos},
    },
};

pub(crate) use crate::chart::heatmap::build::{HeatCells, HeatScan};
pub use crate::chart::heatmap::build::{heatmap, heatmaps, strategy_heatmaps, swept_params};
use crate::{
    chart::{DESC_PX, DrawResult, Hover, INK, LABEL_PX, TITLE_PX, compact},
    font::FAMILY,
};

/// How the simulations that fall in one heatmap cell (same two parameters, any others) are
/// combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Agg {
    /// The best (largest) value: what an optimiser could reach in that cell.
    #[default]
    Max,
    /// The mean: how robust the cell is to the other parameters.
    Mean,
}

impl Agg {
    /// `max` or `mean`.
    pub fn name(self) -> &'static str {
        match self {
            Agg::Max => "max",
            Agg::Mean => "mean",
        }
    }
}

impl fmt::Display for Agg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Agg {
    type Err = String;
    fn from_str(s: &str) -> Result<Agg, String> {
        match s {
            "max" => Ok(Agg::Max),
            "mean" => Ok(Agg::Mean),
            _ => Err(format!("unknown aggregation `{s}`: use max or mean")),
        }
    }
}

/// At most this many distinct values per axis; beyond it the axis is cut into this many
/// equal-width bins, so a heatmap (and its SVG) stays bounded whatever the sweep size.
const MAX_AXIS: usize = 40;
/// Cells get their value written in them when the grid is at most this large.
const MAX_LABELLED_CELLS: usize = 144;

#[derive(Debug, Clone)]
pub(crate) struct Grid {
    p1: String,
    p2: String,
    metric: String,
    agg: Agg,
    x: Axis,
    y: Axis,
    /// Row-major by y: `values[y * nx + x]`; NaN where no finite value fell.
    values: Vec<f64>,
}

#[derive(Debug, Clone)]
enum Axis {
    /// One column per distinct value (sorted).
    Exact(Vec<f64>),
    /// `n` equal-width bins from `lo` to `hi`.
    Binned { lo: f64, hi: f64, n: usize },
    /// `n` bins of `width` integers each from `lo` on (labelled by their first integer).
    IntBinned { lo: i64, width: i64, n: usize },
}

impl Axis {
    fn len(&self) -> usize {
        match self {
            Axis::Exact(v) => v.len(),
            Axis::Binned { n, .. } | Axis::IntBinned { n, .. } => *n,
        }
    }

    fn index(&self, v: f64) -> usize {
        match self {
            Axis::Exact(vals) => vals.binary_search_by(|x| x.total_cmp(&v)).unwrap_or(0),
            Axis::Binned { lo, hi, n } => {
                let f = (v - lo) / (hi - lo) * *n as f64;
                (f.floor().max(0.0) as usize).min(n - 1)
            }
            Axis::IntBinned { lo, width, n } => {
                let k = ((v - *lo as f64) / *width as f64).floor().max(0.0) as usize;
                k.min(n - 1)
            }
        }
    }

    fn label(&self, i: usize) -> String {
        match self {
            Axis::Exact(vals) => fmt_value(vals[i]),
            Axis::Binned { lo, hi, n } => compact(lo + (hi - lo) * (i as f64 + 0.5) / *n as f64),
            Axis::IntBinned { lo, width, .. } => (lo + width * i as i64).to_string(),
        }
    }

    /// The values of cell `i`, for its tooltip: `7`, `7..9` or `2.5..3.1`.
    fn span(&self, i: usize) -> String {
        match self {
            Axis::Exact(vals) => fmt_value(vals[i]),
            Axis::Binned { lo, hi, n } => {
                let w = (hi - lo) / *n as f64;
                format!("{}..{}", fmt_value(lo + w * i as f64), fmt_value(lo + w * (i + 1) as f64))
            }
            Axis::IntBinned { lo, width: 1, .. } => (lo + i as i64).to_string(),
            Axis::IntBinned { lo, width, .. } => {
                let a = lo + width * i as i64;
                format!("{a}..{}", a + width - 1)
            }
        }
    }

    /// How the axis title says it is binned: ` (binned)`, ` (3 per cell)`; empty when exact.
    fn binned_note(&self) -> String {
        match self {
            Axis::Exact(_) => String::new(),
            Axis::Binned { .. } => " (binned)".into(),
            Axis::IntBinned { width: 1, .. } => String::new(),
            Axis::IntBinned { width, .. } => format!(" ({width} values per cell)"),
        }
    }
}

/// A parameter value as an axis label: integers whole, others with at most 6 significant
/// digits (`0.1 * 7 + 0.5` prints as `1.2`, not `1.2000000000000002`).
fn fmt_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    if v.abs() < 1e-4 || v.abs() >= 1e15 {
        return format!("{v:.2e}");
    }
    let digits = (5 - v.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{v:.digits$}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Viridis, sampled at 9 points and interpolated linearly (perceptually uniform and readable
/// in grey scale).
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 45, 123),
        (59, 82, 139),
        (44, 114, 142),
        (33, 145, 140),
        (40, 174, 128),
        (94, 201, 98),
        (173, 220, 48),
        (253, 231, 37),
    ];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.5 };
    let f = t * (STOPS.len() - 1) as f64;
    let i = (f.floor() as usize).min(STOPS.len() - 2);
    let w = f - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * w).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

const NO_DATA: RGBColor = RGBColor(230, 230, 230);

/// An axis of `n` cells, `0.0..n`, whose labels sit at the cell centres (plotters' own f64
/// axes put them at round numbers instead).
#[derive(Debug, Clone)]
struct CellAxis {
    n: usize,
    labels: Vec<f64>,
}

impl Ranged for CellAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let frac = value / self.n as f64;
        limit.0 + (frac * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.labels.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.n as f64
    }
}

/// Positions of the axis labels: every category when few, otherwise about 12 evenly spread.
fn label_points(n: usize) -> Vec<f64> {
    let step = if n <= 20 { 1 } else { n.div_ceil(12) };
    (0..n).step_by(step).map(|i| i as f64 + 0.5).collect()
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    g: &Grid,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let label_style = (FAMILY, LABEL_PX).into_font().color(&INK);
    let desc_style = (FAMILY, DESC_PX).into_font().color(&INK);
    let area = root.titled(title, (FAMILY, TITLE_PX).into_font().color(&INK))?;
    let (w, _) = area.dim_in_pixel();
    let (main, bar) = area.split_horizontally(w.saturating_sub(130));
    let (nx, ny) = (g.x.len(), g.y.len());
    let finite = g.values.iter().copied().filter(|v| v.is_finite());
    let (vmin, vmax) =
        finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (vmin, vmax) = if vmin.is_finite() { (vmin, vmax) } else { (0.0, 1.0) };
    let norm = |v: f64| if vmax > vmin { (v - vmin) / (vmax - vmin) } else { 0.5 };

    let mut c = ChartBuilder::on(&main)
        .margin(10)
        .x_label_area_size(56)
        .y_label_area_size(76)
        .build_cartesian_2d(
            CellAxis { n: nx, labels: label_points(nx) },
            CellAxis { n: ny, labels: label_points(ny) },
        )?;
    let x_desc = format!("{}{}", g.p1, g.x.binned_note());
    let y_desc = format!("{}{}", g.p2, g.y.binned_note());
    let x_label = |v: &f64| g.x.label((v.floor() as usize).min(nx - 1));
    let y_label = |v: &f64| g.y.label((v.floor() as usize).min(ny - 1));
    c.configure_mesh()
        .disable_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .label_style(label_style.clone())
        .axis_desc_style(desc_style.clone())
        .draw()?;
    c.draw_series((0..ny).flat_map(|j| (0..nx).map(move |i| (i, j))).map(|(i, j)| {
        let v = g.values[j * nx + i];
        let fill = if v.is_finite() { viridis(norm(v)) } else { NO_DATA };
        Rectangle::new([(i as f64, j as f64), (i as f64 + 1.0, j as f64 + 1.0)], fill.filled())
    }))?;
    for (i, j) in (0..ny).flat_map(|j| (0..nx).map(move |i| (i, j))) {
        let v = g.values[j * nx + i];
        if v.is_finite() {
            let a = c.backend_coord(&(i as f64, j as f64));
            let b = c.backend_coord(&(i as f64 + 1.0, j as f64 + 1.0));
            let text = format!(
                "{} {}, {} {}: {} {} ({})",
                g.p1,
                g.x.span(i),
                g.p2,
                g.y.span(j),
                g.metric,
                compact(v),
                g.agg
            );
            hovers.push(Hover::new(a, b, text));
        }
    }
    if nx * ny <= MAX_LABELLED_CELLS && nx <= 16 {
        let centre = Pos::new(HPos::Center, VPos::Center);
        let cells = (0..ny).flat_map(|j| (0..nx).map(move |i| (i, j)));
        c.draw_series(cells.filter(|&(i, j)| g.values[j * nx + i].is_finite()).map(|(i, j)| {
            let v = g.values[j * nx + i];
            let ink = if norm(v) > 0.6 { RGBColor(0, 0, 0) } else { RGBColor(255, 255, 255) };
            let style = (FAMILY, 12).into_font().color(&ink).pos(centre);
            Text::new(compact(v), (i as f64 + 0.5, j as f64 + 0.5), style)
        }))?;
    }

    // Colour scale legend.
    let span_for_ticks = (vmax - vmin).abs().max(f64::MIN_POSITIVE);
    let mut s = ChartBuilder::on(&bar)
        .margin_top(40)
        .margin_bottom(66)
        .margin_right(8)
        .margin_left(4)
        .x_label_area_size(0)
        .y_label_area_size(0)
        .right_y_label_area_size(62)
        .build_cartesian_2d(0.0..1.0, vmin..if vmax > vmin { vmax } else { vmin + 1.0 })?;
    s.configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        // Ticks are computed in floating point: one meant to be 0 can come out as 5.55e-17.
        .y_label_formatter(&|v| compact(if v.abs() < 1e-9 * span_for_ticks { 0.0 } else { *v }))
        .label_style(label_style.clone())
        .draw()?;
    const STEPS: usize = 64;
    let span = if vmax > vmin { vmax - vmin } else { 1.0 };
    s.draw_series((0..STEPS).map(|k| {
        let (a, b) = (k as f64 / STEPS as f64, (k + 1) as f64 / STEPS as f64);
        let fill = viridis((a + b) / 2.0);
        Rectangle::new([(0.0, vmin + a * span), (1.0, vmin + b * span)], fill.filled())
    }))?;
    bar.draw_text(&g.metric, &label_style, (4, 14))?;
    bar.draw_text(&format!("({} per cell)", g.agg), &label_style, (4, 28))?;
    if g.values.iter().any(|v| !v.is_finite()) {
        let (_, bh) = bar.dim_in_pixel();
        bar.draw(&Rectangle::new([(4, bh as i32 - 44), (18, bh as i32 - 30)], NO_DATA.filled()))?;
        bar.draw_text("no data", &label_style, (22, bh as i32 - 43))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_values_print_short() {
        assert_eq!(fmt_value(0.5 + 7.0 * 0.1), "1.2");
        assert_eq!(fmt_value(20.0), "20");
        assert_eq!(fmt_value(0.00125), "0.00125");
        assert_eq!(fmt_value(123456.75), "123457");
        assert_eq!(fmt_value(-2.5), "-2.5");
        assert_eq!(fmt_value(1e-9), "1.00e-9");
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), viridis(0.5));
    }

    #[test]
    fn agg_parses() {
        assert_eq!("mean".parse::<Agg>().unwrap(), Agg::Mean);
        assert!("median".parse::<Agg>().unwrap_err().contains("use max or mean"));
    }
}
