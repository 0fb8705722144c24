//! The overfitting statistics of a run's groups of trials (docs/validation.md) as tables: for
//! a terminal, Markdown and the report's HTML.

use std::fmt::Write as _;

use bt_domain::ValidationGroup;

use crate::{
    html::esc,
    table::{markdown_table, text_table},
};

/// Column headers, in order.
const COLUMNS: [&str; 11] = [
    "strategy",
    "dataset",
    "trials",
    "best",
    "best sr",
    "sr0",
    "dsr",
    "pbo",
    "median lambda",
    "degradation",
    "p(loss)",
];

/// A figure with 3 decimals (4 significant digits for the small per-bar Sharpe ratios), `n/a`
/// when undefined.
fn fig(x: f64, decimals: usize) -> String {
    if x.is_nan() { "n/a".into() } else { format!("{x:.decimals$}") }
}

fn rows(groups: &[ValidationGroup]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            let p = g.pbo.as_ref();
            let pbo = |f: fn(&bt_domain::PboSummary) -> f64| fig(p.map_or(f64::NAN, f), 3);
            vec![
                g.strategy.clone(),
                g.dataset.clone(),
                g.n.to_string(),
                g.best_id.clone(),
                fig(g.best_sr, 4),
                fig(g.sr0, 4),
                fig(g.dsr, 3),
                pbo(|p| p.pbo),
                pbo(|p| p.median_lambda),
                pbo(|p| p.degradation),
                pbo(|p| p.prob_loss),
            ]
        })
        .collect()
}

fn columns() -> Vec<String> {
    COLUMNS.iter().map(|c| c.to_string()).collect()
}

/// A plain-text table, one line per group.
pub fn validation_text(groups: &[ValidationGroup]) -> String {
    text_table(&columns(), &rows(groups), |c| matches!(c, "strategy" | "dataset" | "best"))
}

/// A Markdown table, one line per group.
pub fn validation_markdown(groups: &[ValidationGroup]) -> String {
    let rows = rows(groups);
    markdown_table(&columns(), rows.iter().map(Vec::as_slice))
}

/// The `<table id="validation-table">` of the report.
pub(crate) fn validation_html(groups: &[ValidationGroup]) -> String {
    let mut out = String::from("<table id=\"validation-table\">\n<thead><tr>");
    for c in COLUMNS {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows(groups) {
        out.push_str("<tr>");
        for (c, cell) in COLUMNS.iter().zip(&row) {
            let class =
                if matches!(*c, "strategy" | "dataset" | "best") { "" } else { " class=\"num\"" };
            let _ = write!(out, "<td{class}>{}</td>", esc(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}
