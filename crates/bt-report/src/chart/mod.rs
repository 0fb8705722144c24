//! Charts: one drawing routine per chart, generic over plotters' `DrawingBackend`, so the PNG
//! and the SVG of a chart come from the same code.
//!
//! A [`Chart`] holds the prepared data (aggregated, decimated) and renders on demand; no
//! plotters type appears in this crate's public API.

mod equity;
mod group;
mod heatmap;
mod histogram;
mod overfit;
mod perf;
mod weights;

use std::path::Path;

use plotters::{
    coord::Shift,
    prelude::{
        BitMapBackend, DrawingArea, DrawingAreaErrorKind, DrawingBackend, IntoDrawingArea,
        SVGBackend,
    },
    style::{RGBColor, WHITE},
};

pub use crate::chart::{
    equity::{
        CurveData, EquityCurve, buy_and_hold, equity, equity_chart, equity_chart_to,
        equity_vs_buy_hold, equity_with_windows,
    },
    heatmap::{Agg, heatmap, heatmaps, strategy_heatmaps, swept_params},
    histogram::histogram,
    overfit::overfit_chart,
    perf::{PerfPoint, perf, perf_chart},
    weights::{InstrumentRow, WeightsData, weights, weights_chart_to},
};
pub(crate) use crate::chart::{
    heatmap::{HeatCells, HeatScan},
    histogram::{HistBins, HistScan},
};
use crate::{error::ReportError, font, io::write_atomic};

/// A chart ready to render as SVG or PNG.
#[derive(Debug, Clone)]
pub struct Chart {
    title: String,
    size: (u32, u32),
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Equity(equity::EquityPlot),
    Heatmap(heatmap::Grid),
    Histogram(histogram::Hist),
    Overfit(overfit::OverfitPlot),
    Perf(perf::PerfPlot),
    Weights(weights::WeightsPlot),
}

/// Result of a drawing routine on backend `DB`.
type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The output format of a chart file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFormat {
    /// `.png`: a bitmap.
    Png,
    /// `.svg`: vector graphics (text drawn by the viewer).
    Svg,
}

impl ChartFormat {
    /// The format of `path` by its extension (case-insensitive `png` or `svg`).
    pub fn from_path(path: &Path) -> Result<ChartFormat, ReportError> {
        let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("png") => Ok(ChartFormat::Png),
            Some("svg") => Ok(ChartFormat::Svg),
            _ => Err(ReportError::UnknownChartFormat { path: path.to_path_buf() }),
        }
    }
}

impl Chart {
    fn new(title: String, size: (u32, u32), kind: Kind) -> Chart {
        Chart { title, size, kind }
    }

    /// The same chart under another title.
    pub fn titled(mut self, title: impl Into<String>) -> Chart {
        self.title = title.into();
        self
    }

    /// The chart's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        self.size
    }

    /// The same chart at another size (clamped to at least 200 x 150 pixels).
    pub fn with_size(mut self, width: u32, height: u32) -> Chart {
        self.size = (width.max(200), height.max(150));
        self
    }

    /// Renders the chart as an SVG document (deterministic: same data, same bytes). Bars,
    /// heatmap cells and trade markers carry their values as `<title>` tooltips (a browser
    /// shows them on hover).
    pub fn to_svg(&self) -> Result<String, ReportError> {
        font::ensure_registered()?;
        let mut out = String::new();
        let mut hovers = Vec::new();
        {
            let root = SVGBackend::with_string(&mut out, self.size).into_drawing_area();
            self.draw(&root, &mut hovers)
                .and_then(|()| root.present())
                .map_err(|e| self.draw_error(&e))?;
        }
        Ok(with_hovers(out, &hovers))
    }

    /// Renders the chart as RGB pixels (3 bytes per pixel, row by row).
    pub fn to_rgb(&self) -> Result<Vec<u8>, ReportError> {
        font::ensure_registered()?;
        let (w, h) = self.size;
        let mut buf = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut buf, self.size).into_drawing_area();
            self.draw(&root, &mut Vec::new())
                .and_then(|()| root.present())
                .map_err(|e| self.draw_error(&e))?;
        }
        Ok(buf)
    }

    /// Renders the chart as a PNG file's bytes.
    pub fn to_png(&self) -> Result<Vec<u8>, ReportError> {
        let rgb = self.to_rgb()?;
        let mut out = Vec::new();
        let png_err = |e: png::EncodingError| ReportError::Png {
            chart: self.title.clone(),
            reason: e.to_string(),
        };
        {
            let mut enc = png::Encoder::new(&mut out, self.size.0, self.size.1);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            enc.set_compression(png::Compression::Fast);
            let mut writer = enc.write_header().map_err(png_err)?;
            writer.write_image_data(&rgb).map_err(png_err)?;
            writer.finish().map_err(png_err)?;
        }
        Ok(out)
    }

    /// Writes the chart to `path` (atomically), as PNG or SVG by the file's extension.
    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        self.write_as(path, ChartFormat::from_path(path)?)
    }

    /// Writes the chart to `path` (atomically) in `format`, whatever the extension.
    pub fn write_as(&self, path: &Path, format: ChartFormat) -> Result<(), ReportError> {
        match format {
            ChartFormat::Png => write_atomic(path, &self.to_png()?),
            ChartFormat::Svg => write_atomic(path, self.to_svg()?.as_bytes()),
        }
    }

    fn draw_error(&self, e: &dyn std::fmt::Display) -> ReportError {
        ReportError::Draw { chart: self.title.clone(), reason: e.to_string() }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        hovers: &mut Vec<Hover>,
    ) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        match &self.kind {
            Kind::Equity(p) => equity::draw(root, &self.title, p, hovers),
            Kind::Heatmap(g) => heatmap::draw(root, &self.title, g, hovers),
            Kind::Histogram(h) => histogram::draw(root, &self.title, h, hovers),
            Kind::Overfit(p) => overfit::draw(root, &self.title, p, hovers),
            Kind::Perf(p) => perf::draw(root, &self.title, p),
            Kind::Weights(p) => weights::draw(root, &self.title, p),
        }
    }
}

/// A region of a chart (pixels: left, top, right, bottom) and the text a browser shows when
/// the pointer is over it.
#[derive(Debug, Clone)]
pub(crate) struct Hover {
    pub(crate) rect: (i32, i32, i32, i32),
    pub(crate) text: String,
}

impl Hover {
    /// The region between two corners (in any order), at least 4 pixels each way.
    pub(crate) fn new(a: (i32, i32), b: (i32, i32), text: String) -> Hover {
        let (mut x0, mut x1) = (a.0.min(b.0), a.0.max(b.0));
        let (mut y0, mut y1) = (a.1.min(b.1), a.1.max(b.1));
        if x1 - x0 < 4 {
            (x0, x1) = (x0 - 2, x1 + 2);
        }
        if y1 - y0 < 4 {
            (y0, y1) = (y0 - 2, y1 + 2);
        }
        Hover { rect: (x0, y0, x1, y1), text }
    }
}

/// `svg` with an invisible rectangle per hover region on top of the drawing, each holding its
/// text as a `<title>`.
fn with_hovers(mut svg: String, hovers: &[Hover]) -> String {
    use std::fmt::Write as _;
    if hovers.is_empty() {
        return svg;
    }
    let Some(end) = svg.rfind("</svg>") else { return svg };
    let mut layer = String::from("<g class=\"hover\" fill=\"none\" pointer-events=\"all\">\n");
    for h in hovers {
        let (x0, y0, x1, y1) = h.rect;
        let _ = writeln!(
            layer,
            "<rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>",
            x1 - x0,
            y1 - y0,
            crate::html::esc(&h.text)
        );
    }
    layer.push_str("</g>\n");
    svg.insert_str(end, &layer);
    svg
}

/// Font sizes (pixels) shared by every chart.
const TITLE_PX: u32 = 22;
const DESC_PX: u32 = 16;
const LABEL_PX: u32 = 13;

/// Text colour and the grid colours.
const INK: RGBColor = RGBColor(33, 33, 33);
const GRID: RGBColor = RGBColor(225, 225, 225);
const BLUE: RGBColor = RGBColor(31, 119, 180);
const GREEN: RGBColor = RGBColor(44, 160, 44);
const RED: RGBColor = RGBColor(214, 39, 40);
const ORANGE: RGBColor = RGBColor(255, 127, 14);
const PURPLE: RGBColor = RGBColor(148, 103, 189);
const GREY: RGBColor = RGBColor(127, 127, 127);

/// A short axis label for a number: 3 significant digits or so, no trailing zeros.
pub(crate) fn compact(v: f64) -> String {
    if !v.is_finite() {
        return if v.is_nan() {
            "NaN".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let a = v.abs();
    let s = if a != 0.0 && !(1e-3..1e7).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    let s = if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// A count for a log axis: `500`, `10k`, `2.5M`.
pub(crate) fn compact_count(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", compact(v / 1e6))
    } else if a >= 1e3 {
        format!("{}k", compact(v / 1e3))
    } else {
        compact(v)
    }
}

/// A range that plotters can draw: finite, and not empty (a flat series gets some room).
pub(crate) fn padded_range(lo: f64, hi: f64, pad_frac: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()).max(1.0) {
        let d = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        return (lo - d, hi + d);
    }
    let pad = (hi - lo) * pad_frac;
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_labels_are_short() {
        assert_eq!(compact(10234.56), "10235");
        assert_eq!(compact(12.34), "12.3");
        assert_eq!(compact(1.5), "1.5");
        assert_eq!(compact(0.1234), "0.123");
        assert_eq!(compact(-0.0001), "-1.00e-4");
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(-0.0), "0");
        assert_eq!(compact(f64::NAN), "NaN");
        assert_eq!(compact_count(10_000.0), "10k");
        assert_eq!(compact_count(2_500_000.0), "2.5M");
    }

    #[test]
    fn padded_range_never_empty() {
        assert_eq!(padded_range(5.0, 5.0, 0.1), (4.75, 5.25));
        assert_eq!(padded_range(0.0, 0.0, 0.1), (-1.0, 1.0));
        assert_eq!(padded_range(0.0, 10.0, 0.1), (-1.0, 11.0));
        assert_eq!(padded_range(f64::NAN, 1.0, 0.1), (0.0, 1.0));
    }

    #[test]
    fn chart_format_by_extension() {
        assert_eq!(ChartFormat::from_path(Path::new("a/b.PNG")).unwrap(), ChartFormat::Png);
        assert_eq!(ChartFormat::from_path(Path::new("b.svg")).unwrap(), ChartFormat::Svg);
        let err = ChartFormat::from_path(Path::new("b.jpg")).unwrap_err().to_string();
        assert!(err.contains("use a .png or .svg"), "{err}");
    }
}
