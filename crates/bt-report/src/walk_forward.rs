//! Walk-forward results (docs/validation.md) as tables: for a terminal and the report's HTML.

use std::fmt::Write as _;

use bt_domain::{Params, Stats, time, window::WalkForwardResult};

use crate::{
    chart::EquityCurve,
    html::esc,
    table::{fmt_param, text_table},
};

/// A walk-forward with its stitched out-of-sample curve, when the caller re-ran it.
#[derive(Debug, Clone, Copy)]
pub struct WalkForwardView<'a> {
    /// The windows and the stitched statistics.
    pub result: &'a WalkForwardResult,
    /// The stitched out-of-sample curve and its trades (and the buy-and-hold over its bars).
    pub curve: Option<EquityCurve<'a>>,
}

/// The names of the parameters whose chosen value changes between windows (all of them
/// when none does), in name order.
pub(crate) fn varying_params(r: &WalkForwardResult) -> Vec<&str> {
    let mut names: Vec<&str> =
        r.windows.iter().flat_map(|w| w.params.keys().map(String::as_str)).collect();
    names.sort_unstable();
    names.dedup();
    let varies = |n: &&str| {
        let mut values = r.windows.iter().filter_map(|w| w.params.get(*n));
        let first = values.next();
        values.any(|v| Some(v) != first)
    };
    let varying: Vec<&str> = names.iter().copied().filter(varies).collect();
    if varying.is_empty() { names } else { varying }
}

fn params_text(params: &Params, names: &[&str], values_only: bool) -> String {
    let value = |n: &str| params.get(n).map(fmt_param).unwrap_or_else(|| "-".into());
    if params.is_empty() {
        return "(none)".into();
    }
    let parts: Vec<String> = names
        .iter()
        .map(|n| if values_only { value(n) } else { format!("{n}={}", value(n)) })
        .collect();
    parts.join(if values_only { "/" } else { ", " })
}

/// A window's label on the stitched chart: its parameter values (`8/40`).
pub(crate) fn window_label(params: &Params, names: &[&str]) -> String {
    params_text(params, names, true)
}

fn fig(x: f64, decimals: usize) -> String {
    if x.is_nan() { "n/a".into() } else { format!("{x:.decimals$}") }
}

fn day(t: i64) -> String {
    time::format_iso(t)[..10].to_string()
}

const COLUMNS: [&str; 10] = [
    "window",
    "train",
    "test",
    "chosen",
    "trials",
    "is metric",
    "oos metric",
    "is return ann %",
    "oos return ann %",
    "efficiency",
];

fn rows(r: &WalkForwardResult) -> Vec<Vec<String>> {
    let names = varying_params(r);
    r.windows
        .iter()
        .map(|w| {
            let test = match w.test_span {
                Some((a, b)) => format!("{} .. {}", day(a), day(b)),
                None => "(none)".into(),
            };
            vec![
                w.window.k.to_string(),
                format!("{} .. {}", day(w.train_span.0), day(w.train_span.1)),
                test,
                if w.chosen_id.is_some() {
                    params_text(&w.params, &names, false)
                } else {
                    "(no successful run)".into()
                },
                w.trials.to_string(),
                fig(w.is_metric, 3),
                fig(w.oos_metric, 3),
                fig(w.is_return_ann_pct, 2),
                fig(w.oos_return_ann_pct, 2),
                fig(w.efficiency, 2),
            ]
        })
        .collect()
}

fn heading(r: &WalkForwardResult) -> String {
    format!(
        "{}: {} on {}, {} windows of {} training bars ({}) and {} test bars, chosen by {}",
        r.id,
        r.strategy,
        r.dataset,
        r.windows.len(),
        r.train,
        if r.anchored { "anchored" } else { "rolling" },
        r.test,
        r.select_by
    )
}

/// One line on the stitched out-of-sample curve.
fn stitched(r: &WalkForwardResult) -> String {
    match &r.oos {
        Some(s) => format!(
            "stitched out of sample ({}): return {} %, annual {} %, Sharpe {}, max drawdown {} %, {} trades; walk-forward efficiency {}",
            r.oos_id,
            fig(s.return_pct, 2),
            fig(s.return_ann_pct, 2),
            fig(s.sharpe_ratio, 3),
            fig(s.max_drawdown_pct, 2),
            s.n_trades,
            fig(r.efficiency, 2)
        ),
        None => "no stitched out-of-sample result (no test bars, or its run failed)".into(),
    }
}

/// Plain-text tables, one per walk-forward.
pub fn walk_forward_text(results: &[WalkForwardResult]) -> String {
    let mut out = String::new();
    for r in results {
        let _ = writeln!(out, "\nWalk-forward {}", heading(r));
        let columns: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        out.push_str(&text_table(&columns, &rows(r), |c| matches!(c, "train" | "test" | "chosen")));
        let _ = writeln!(out, "{}", stitched(r));
    }
    out
}

/// The report's tables of one walk-forward: the windows, then the stitched statistics.
pub(crate) fn walk_forward_html(r: &WalkForwardResult) -> String {
    let mut out = format!("<h3 id=\"wf-{}\">{}</h3>\n", esc(&r.id), esc(&heading(r)));
    out.push_str("<div class=\"scroll\">\n<table class=\"walk-forward\">\n<thead><tr>");
    for c in COLUMNS {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows(r) {
        out.push_str("<tr>");
        for (c, cell) in COLUMNS.iter().zip(&row) {
            let class =
                if matches!(*c, "train" | "test" | "chosen") { "" } else { " class=\"num\"" };
            let _ = write!(out, "<td{class}>{}</td>", esc(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
    let _ = writeln!(out, "<p>{}</p>", esc(&stitched(r)));
    if let Some(s) = &r.oos {
        out.push_str(&stats_table(s));
    }
    out
}

/// The 32 statistics of the stitched curve, two columns of label and value.
fn stats_table(s: &Stats) -> String {
    let mut out = String::from("<table class=\"kv\">\n");
    for (key, v) in s.values() {
        let label = Stats::label(key).unwrap_or(key);
        let _ = writeln!(
            out,
            "<tr><th>{}</th><td class=\"num\">{}</td></tr>",
            esc(label),
            esc(&crate::table::fmt_stat(key, v))
        );
    }
    out.push_str("</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use bt_domain::ParamValue;

    use super::*;

    #[test]
    fn only_parameters_that_change_label_the_windows() {
        let mut r = WalkForwardResult::default();
        for (fast, slow) in [(8, 40), (7, 40), (7, 40)] {
            let mut w = bt_domain::window::WindowResult::default();
            w.params.insert("fast".into(), ParamValue::Int(fast));
            w.params.insert("slow".into(), ParamValue::Int(slow));
            w.params.insert("long_only".into(), ParamValue::Bool(false));
            r.windows.push(w);
        }
        assert_eq!(varying_params(&r), ["fast"]);
        r.windows[2].params.insert("slow".into(), ParamValue::Int(60));
        assert_eq!(varying_params(&r), ["fast", "slow"]);
        assert_eq!(window_label(&r.windows[2].params, &varying_params(&r)), "7/60");
    }
}
