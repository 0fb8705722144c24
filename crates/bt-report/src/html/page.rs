//! `report.html` itself: one page with inline CSS, SVG and one small script (the leaderboard's
//! sorting), no network.

use std::{fmt::Write as _, path::Path};

use bt_domain::{RunInfo, Stats};

use super::{Format, Placed, ReportData, ReportOptions, esc};
use crate::{
    table::{FailedList, Leaderboard, MARKDOWN_ROWS, thousands},
    validation::validation_html,
    walk_forward::walk_forward_html,
};

/// What the page says of the records as a whole.
pub(crate) struct Tally<'a> {
    /// Simulations in the run.
    pub total: u64,
    /// The failed ones (the first of them kept).
    pub failed: &'a FailedList,
}

const CSS: &str = "\
:root{color-scheme:light}
body{font-family:-apple-system,'Segoe UI',Roboto,'DejaVu Sans',Helvetica,Arial,sans-serif;\
margin:0 auto;max-width:1200px;padding:1.5rem;color:#212121;background:#fff;line-height:1.45}
h1{font-size:1.6rem;margin:0 0 .25rem}
h2{font-size:1.25rem;margin:2rem 0 .6rem;border-bottom:1px solid #ddd;padding-bottom:.25rem}
table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.metric{font-weight:bold}
#leaderboard-table td,#leaderboard-table th{white-space:nowrap}
#leaderboard-table th{cursor:pointer;user-select:none}
#leaderboard-table th[aria-sort=descending]::after{content:' \\25BE'}
#leaderboard-table th[aria-sort=ascending]::after{content:' \\25B4'}
table.kv th{width:11rem}
.scroll{overflow-x:auto;max-width:100%}
figure{margin:1rem 0}
figure svg{max-width:100%;height:auto;display:block}
.note{color:#666;font-size:.85rem}
footer{margin-top:2rem;color:#888;font-size:.8rem}
";

/// Sorts the leaderboard by the column whose header is clicked: numbers numerically (the
/// first click largest first, the next smallest first), text alphabetically; NaN, n/a and
/// empty cells always last; ties keep the rank order. `report.html#sort=COLUMN` (or
/// `#sort=COLUMN:asc`) sorts on opening, as one click would (a link to a sorted view, and the
/// hook of the browser test). No network, no library.
const SORT_SCRIPT: &str = r#"(function () {
  var table = document.getElementById("leaderboard-table");
  if (!table || !table.tHead || !table.tBodies.length) return;
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var body = table.tBodies[0];
  Array.prototype.forEach.call(body.rows, function (r, i) { r.dataset.rank = i; });
  function value(cell) {
    var s = cell ? cell.textContent.trim() : "";
    if (s === "inf") return Infinity;
    if (s === "-inf") return -Infinity;
    var d = /^(-?\d+) days? (\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(s);
    if (d) return ((+d[1] * 24 + +d[2]) * 60 + +d[3]) * 60 + +d[4];
    return s === "" || isNaN(s) ? NaN : +s;
  }
  function numeric(i) {
    return Array.prototype.every.call(body.rows, function (r) {
      var s = r.cells[i] ? r.cells[i].textContent.trim() : "";
      return !isNaN(value(r.cells[i])) || /^(|NaN|NaT|n\/a|-)$/.test(s);
    });
  }
  function sort(i, dir) {
    var num = numeric(i);
    var now = heads[i].getAttribute("aria-sort");
    if (!dir) dir = now ? (now === "descending" ? "ascending" : "descending")
      : (num ? "descending" : "ascending");
    var sign = dir === "ascending" ? 1 : -1;
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var c;
      if (num) {
        var x = value(a.cells[i]), y = value(b.cells[i]);
        if (isNaN(x) || isNaN(y)) c = isNaN(x) - isNaN(y);
        else c = x === y ? 0 : sign * (x < y ? -1 : 1);
      } else {
        var p = a.cells[i] ? a.cells[i].textContent : "", q = b.cells[i] ? b.cells[i].textContent : "";
        c = sign * (p < q ? -1 : p > q ? 1 : 0);
      }
      return c || a.dataset.rank - b.dataset.rank;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
    heads[i].setAttribute("aria-sort", dir);
  }
  heads.forEach(function (h, i) {
    h.title = "Sort by " + h.textContent;
    h.addEventListener("click", function () { sort(i); });
  });
  var m = /^#sort=([^:]*)(?::(asc|desc))?$/.exec(location.hash);
  if (m) {
    var name = decodeURIComponent(m[1]);
    var i = heads.findIndex(function (h) { return h.textContent.trim() === name; });
    if (i >= 0) sort(i, m[2] ? (m[2] === "asc" ? "ascending" : "descending") : null);
  }
})();
"#;

/// How to read the walk-forward tables.
const WALK_FORWARD_NOTE: &str = "<p class=\"note\">Each window trains every point of the grid \
on its training bars and trades the best one (by the selection metric) on the test bars that \
follow, starting from the previous window's ending equity; the test run reads earlier bars to \
warm its indicators up but trades only inside its window. <b>efficiency</b> is the window's \
out-of-sample annualised return over its in-sample one (overall: the stitched curve's over the \
windows' mean). Every window is in walk_forward.csv; the stitched statistics are the \
<code>ID/oos</code> row of the summary. Definitions: docs/validation.md.</p>";

/// How to read the overfitting table (docs/validation.md has the definitions).
const OVERFIT_NOTE: &str = "<p class=\"note\">Per group of trials (the successful simulations \
of one strategy on one data set): <b>sr</b> is the per-bar Sharpe ratio of the equity's returns, \
not annualised; <b>sr0</b> the best sr expected from that many trials without skill; \
<b>dsr</b> (Deflated Sharpe Ratio) the probability that the best trial's true sr is above sr0 \
&mdash; below 0.95 the winner is not distinguishable from luck; <b>pbo</b> (Probability of \
Backtest Overfitting) the share of in-sample/out-of-sample splits of the returns where the \
best in-sample trial ranks in the lower half out of sample (0.5 and above: the selection is \
no better than chance); <b>degradation</b> the slope of out-of-sample on in-sample sr; \
<b>p(loss)</b> the share of splits whose in-sample winner loses out of sample. Definitions: \
docs/validation.md; figures: validation.json.</p>";

/// A queue path for display: the file name when it is absolute (no machine paths in the
/// report), as given otherwise.
fn display_queue(queue: &str) -> String {
    let p = Path::new(queue);
    if p.is_absolute() {
        p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    } else {
        queue.to_string()
    }
}

/// The run's wall time: the sum of its sessions, with the count when it was resumed.
fn wall_time(info: &RunInfo) -> String {
    match info.attempts.len() {
        0 | 1 => format!("{:.3} s", info.wall_time_s),
        n => format!("{:.3} s over {n} sessions (a run and {} resumes)", info.wall_time_s, n - 1),
    }
}

pub(crate) fn render_html(
    data: &ReportData<'_>,
    tally: &Tally<'_>,
    leaderboard: &Leaderboard,
    charts: &[(&str, Result<Placed, String>)],
    opts: &ReportOptions,
) -> String {
    let ReportData { info, validation, walk_forwards, .. } = *data;
    let queue = display_queue(&info.queue);
    let mut h = String::new();
    let w = &mut h;
    let _ = write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>bt report: {}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
        esc(&queue)
    );
    let _ = writeln!(w, "<header>\n<h1 id=\"title\">bt report: {}</h1>", esc(&queue));
    let _ = writeln!(
        w,
        "<p class=\"note\">{} simulations: {} ok, {} failed.</p>\n</header>",
        info.total, info.ok, info.failed
    );

    // Run metadata.
    let _ = writeln!(w, "<section id=\"run\">\n<h2>Run</h2>\n<table class=\"kv\">");
    let mut kv = |k: &str, v: String| {
        let _ = writeln!(w, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(&v));
    };
    kv("Queue", queue.clone());
    kv("Queue hash", info.queue_hash.clone());
    kv("bt version", info.bt_version.clone());
    kv("Mode", info.mode.to_string());
    kv("Threads", info.threads.to_string());
    kv("Status", info.status.to_string());
    kv("Wall time", wall_time(info));
    kv("Simulations", format!("{} total, {} ok, {} failed", info.total, info.ok, info.failed));
    if let Some(shard) = &info.shard {
        kv("Shard", shard.clone());
    }
    if !info.config.is_empty() {
        let settings: Vec<String> = info.config.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        kv("Broker defaults", settings.join(", "));
    }
    let _ = writeln!(w, "</table>");
    if !info.datasets.is_empty() {
        let _ = writeln!(
            w,
            "<table id=\"datasets\">\n<thead><tr><th>Data set</th><th>Description</th>\
             <th>Bars</th></tr></thead>\n<tbody>"
        );
        for d in &info.datasets {
            let _ = writeln!(
                w,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(&d.name),
                esc(&d.source),
                d.bars
            );
        }
        let _ = writeln!(w, "</tbody>\n</table>");
    }
    let _ = writeln!(w, "</section>");

    // Leaderboard.
    let label = Stats::label(&opts.metric).unwrap_or(&opts.metric);
    let _ = writeln!(
        w,
        "<section id=\"leaderboard\">\n<h2>Top {} by {} (<code>{}</code>)</h2>",
        leaderboard.rows.len(),
        esc(label),
        esc(&opts.metric)
    );
    if let Some(note) = &leaderboard.note {
        let _ = writeln!(w, "<p class=\"note\" id=\"leaderboard-filter\">{}</p>", esc(note));
    }
    if leaderboard.rows.is_empty() {
        if leaderboard.note.is_none() {
            let _ = writeln!(w, "<p>No simulation succeeded.</p>");
        }
    } else {
        let _ = writeln!(w, "<div class=\"scroll\">\n{}</div>", leaderboard.to_html());
        let _ = writeln!(
            w,
            "<p class=\"note\">Ranked by {} descending (for drawdowns, which are negative, the \
             shallowest first); NaN last; ties by queue position.</p>",
            esc(&opts.metric)
        );
    }
    let md_is_whole = tally.total <= MARKDOWN_ROWS as u64;
    let full =
        [(Format::Csv, "summary.csv"), (Format::Json, "summary.json"), (Format::Md, "summary.md")]
            .into_iter()
            .find(|(f, _)| opts.formats.contains(f) && (*f != Format::Md || md_is_whole));
    match full {
        Some((_, name)) => {
            let _ = writeln!(
                w,
                "<p>All {} simulations: <a href=\"{name}\">{name}</a>.</p>",
                tally.total
            );
        }
        None if opts.formats.contains(&Format::Md) => {
            let _ = writeln!(
                w,
                "<p>The best {} of {} simulations: <a href=\"summary.md\">summary.md</a>. The \
                 full table was not exported (use --format csv).</p>",
                thousands(MARKDOWN_ROWS as u64),
                thousands(tally.total)
            );
        }
        None => {
            let _ = writeln!(
                w,
                "<p class=\"note\">The full table was not exported (use --format csv).</p>"
            );
        }
    }
    let _ = writeln!(w, "</section>");

    // Charts.
    let sections = [
        ("equity", "Equity curves"),
        ("heatmaps", "Parameter heatmaps"),
        ("distribution", "Distribution"),
        ("overfitting", "Is the winner real? Overfitting statistics"),
        ("walk-forward", "Walk-forward optimisation"),
    ];
    for (id, heading) in sections {
        if id == "walk-forward" && walk_forwards.is_empty() {
            continue;
        }
        let _ = writeln!(w, "<section id=\"{id}\">\n<h2>{heading}</h2>");
        let mine: Vec<&Result<Placed, String>> =
            charts.iter().filter(|(s, _)| *s == id).map(|(_, c)| c).collect();
        if mine.is_empty() {
            let text = match id {
                "equity" => "No equity curves were recorded for this report.",
                "heatmaps" => "Fewer than two numeric parameters vary: no heatmap.",
                "overfitting" => "No successful simulation: no overfitting statistics.",
                "walk-forward" => "",
                _ => "Nothing to show.",
            };
            let _ = writeln!(w, "<p class=\"note\">{text}</p>");
        }
        if id == "walk-forward" {
            for v in walk_forwards {
                let _ = write!(w, "{}", walk_forward_html(v.result));
            }
            let _ = writeln!(w, "{WALK_FORWARD_NOTE}");
        }
        if id == "overfitting" && !validation.is_empty() {
            let _ = writeln!(w, "<div class=\"scroll\">\n{}</div>", validation_html(validation));
            let _ = writeln!(w, "{OVERFIT_NOTE}");
        }
        if id == "heatmaps" && !mine.is_empty() {
            let _ = writeln!(
                w,
                "<p class=\"note\">{} of <code>{}</code> per cell over the other parameters.</p>",
                opts.agg,
                esc(&opts.metric)
            );
        }
        for c in mine {
            match c {
                Ok(p) => {
                    let _ = writeln!(
                        w,
                        "<figure id=\"{}\">\n{}</figure>",
                        esc(&p.anchor),
                        svg_body(&p.svg)
                    );
                    if let Some(table) = &p.under {
                        let _ = write!(w, "<div class=\"scroll\">\n{table}</div>\n");
                    }
                }
                Err(msg) => {
                    let _ = writeln!(w, "<p class=\"note\">{}</p>", esc(msg));
                }
            }
        }
        let _ = writeln!(w, "</section>");
    }

    // Failed simulations.
    let failed = tally.failed;
    let _ = writeln!(w, "<section id=\"failed\">\n<h2>Failed simulations ({})</h2>", failed.total);
    if failed.total == 0 {
        let _ = writeln!(w, "<p>None.</p>");
    } else {
        let _ = writeln!(
            w,
            "<table id=\"failed-table\">\n<thead><tr><th>id</th><th>dataset</th><th>strategy</th>\
             <th>reason</th></tr></thead>\n<tbody>"
        );
        let listed = &failed.shown[..failed.shown.len().min(opts.max_failed_listed)];
        for f in listed {
            let _ = writeln!(
                w,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&f.id),
                esc(&f.dataset),
                esc(&f.strategy),
                esc(&f.reason)
            );
        }
        let _ = writeln!(w, "</tbody>\n</table>");
        let more = failed.more(listed.len());
        if more > 0 {
            let _ = writeln!(
                w,
                "<p class=\"note\">... and {} more: see the <code>error</code> column of the summary table.</p>",
                thousands(more)
            );
        }
    }
    let _ = writeln!(w, "</section>");
    let _ = writeln!(
        w,
        "<footer>Generated by bt {} from the run's results; charts are inline SVG (hover a \
         bar, cell or marker for its value); click a leaderboard column to sort it.</footer>",
        esc(&info.bt_version)
    );
    let _ = writeln!(w, "<script>\n{SORT_SCRIPT}</script>\n</body>\n</html>");
    h
}

/// The `<svg>` element of a plotters document, without anything before it (plotters writes
/// none today, but an XML declaration would be invalid inside HTML).
fn svg_body(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_queue_paths_are_shortened() {
        assert_eq!(display_queue("/home/me/q/grid.ron"), "grid.ron");
        assert_eq!(display_queue("queues/grid.ron"), "queues/grid.ron");
    }

    #[test]
    fn svg_body_drops_a_prolog() {
        assert_eq!(svg_body("<?xml version=\"1.0\"?>\n<svg a>x</svg>"), "<svg a>x</svg>");
    }
}
