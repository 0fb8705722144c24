//! The overfitting chart of a group of trials (docs/validation.md): the distribution of the
//! PBO's logits `lambda` over the splits, and each split's best in-sample trial, its
//! in-sample against its out-of-sample Sharpe ratio.

use bt_domain::{PboSummary, ValidationGroup};
use plotters::{
    coord::Shift,
    prelude::{
        ChartBuilder, Circle, DashedLineSeries, DrawingArea, DrawingBackend, IntoFont, PathElement,
        SeriesLabelPosition,
    },
    style::{Color, WHITE},
};

use crate::{
    chart::{
        BLUE, Chart, DESC_PX, DrawResult, GREY, GRID, Hover, INK, Kind, LABEL_PX, RED, TITLE_PX,
        compact,
        histogram::{self, Hist},
        padded_range,
    },
    error::ReportError,
    font::FAMILY,
};

#[derive(Debug, Clone)]
pub(crate) struct OverfitPlot {
    lambdas: Hist,
    pbo: PboSummary,
}

/// The chart of `group`'s PBO: the lambda histogram beside the in-sample/out-of-sample
/// scatter. [`ReportError::NoData`] when the group has no PBO.
pub fn overfit_chart(group: &ValidationGroup) -> Result<Chart, ReportError> {
    let no_data = |reason: &str| ReportError::NoData {
        chart: format!("overfitting of {} on {}", group.strategy, group.dataset),
        reason: reason.to_string(),
    };
    let pbo = group.pbo.as_ref().ok_or_else(|| {
        no_data("no PBO: fewer than 2 trials, or their returns do not split into the blocks")
    })?;
    let lambdas = Hist::binned(
        "lambda = logit of the best in-sample trial's out-of-sample rank",
        "splits",
        &pbo.lambda_edges,
        &pbo.lambda_counts,
        pbo.median_lambda,
    )
    .ok_or_else(|| no_data("no finite lambda"))?;
    let title = format!(
        "{} on {}: {} trials, PBO {} over {} splits",
        group.strategy,
        group.dataset,
        group.n,
        compact(pbo.pbo),
        pbo.splits
    );
    Ok(Chart::new(title, (1100, 440), Kind::Overfit(OverfitPlot { lambdas, pbo: pbo.clone() })))
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    p: &OverfitPlot,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let area = root.titled(title, (FAMILY, TITLE_PX).into_font().color(&INK))?;
    let (w, _) = area.dim_in_pixel();
    let (left, right) = area.split_horizontally(w / 2);
    let title = "Logits over the splits (PBO: share with lambda <= 0)";
    histogram::draw(&left, title, &p.lambdas, hovers)?;
    scatter(&right, &p.pbo, hovers)
}

fn scatter<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &PboSummary,
    hovers: &mut Vec<Hover>,
) -> DrawResult<DB> {
    let label_style = (FAMILY, LABEL_PX).into_font().color(&INK);
    let area = area.titled(
        "Best in-sample trial of each split",
        (FAMILY, DESC_PX + 2).into_font().color(&INK),
    )?;
    let pts: Vec<(f64, f64)> =
        p.is_oos.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let (xlo, xhi) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (x, _)| (a.min(*x), b.max(*x)));
    let (ylo, yhi) = pts.iter().fold((0.0f64, 0.0f64), |(a, b), (_, y)| (a.min(*y), b.max(*y)));
    let (xlo, xhi) = padded_range(xlo, xhi, 0.05);
    let (ylo, yhi) = padded_range(ylo, yhi, 0.08);
    let mut c = ChartBuilder::on(&area)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(xlo..xhi, ylo..yhi)?;
    c.configure_mesh()
        .max_light_lines(0)
        .bold_line_style(GRID)
        .x_labels(6)
        .y_labels(8)
        .x_label_formatter(&|v| compact(*v))
        .y_label_formatter(&|v| compact(*v))
        .x_desc("in-sample sr (per bar)")
        .y_desc("out-of-sample sr (per bar)")
        .label_style(label_style.clone())
        .axis_desc_style((FAMILY, DESC_PX).into_font().color(&INK))
        .draw()?;
    c.draw_series(DashedLineSeries::new(vec![(xlo, 0.0), (xhi, 0.0)], 6, 4, GREY.stroke_width(1)))?;
    c.draw_series(pts.iter().map(|&(x, y)| Circle::new((x, y), 2, BLUE.mix(0.6).filled())))?
        .label(format!("splits ({} shown)", pts.len()))
        .legend(|(x, y)| Circle::new((x + 10, y), 3, BLUE.filled()));
    for &(x, y) in &pts {
        let (px, py) = c.backend_coord(&(x, y));
        let text = format!("in-sample sr {}, out-of-sample sr {}", compact(x), compact(y));
        hovers.push(Hover::new((px - 3, py - 3), (px + 3, py + 3), text));
    }
    if p.degradation.is_finite() && !pts.is_empty() {
        // The least-squares line has the degradation as its slope and passes through the means
        // (of the points shown: a sample when there are many splits).
        let n = pts.len() as f64;
        let (mx, my) = pts.iter().fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
        let line = [xlo, xhi].map(|x| (x, my + p.degradation * (x - mx)));
        c.draw_series(std::iter::once(PathElement::new(line.to_vec(), RED.stroke_width(2))))?
            .label(format!("slope (degradation) {}", compact(p.degradation)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    }
    c.draw_series(std::iter::once(PathElement::new(Vec::<(f64, f64)>::new(), WHITE)))?
        .label(format!("P(out-of-sample sr < 0) = {}", compact(p.prob_loss)))
        .legend(|(x, y)| PathElement::new(vec![(x, y)], WHITE));
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(label_style)
        .draw()?;
    Ok(())
}
