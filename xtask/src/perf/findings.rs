//! What a perf run found, as text: the table, the computed conclusions, and the comparison
//! with a baseline results.json.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use anyhow::Context as _;

use super::{Derived, REGRESSION_FRAC, Row, read_json};

pub(super) fn table(rows: &[Row], derived: &[Derived]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>6}  {:<10} {:>4} {:<10} {:>9} {:>9} {:>9} {:>10} {:>8} {:>6} {:>9} {:>12}",
        "sims",
        "mode",
        "thr",
        "ran as",
        "median s",
        "min s",
        "max s",
        "in-proc s",
        "speedup",
        "eff.",
        "sims/s",
        "bar-steps/s"
    );
    for (r, d) in rows.iter().zip(derived) {
        let _ = writeln!(
            s,
            "{:>6}  {:<10} {:>4} {:<10} {:>9.4} {:>9.4} {:>9.4} {:>10.4} {:>7.2}x {:>5.0}% {:>9.1} {:>12}",
            r.sims,
            r.mode,
            r.threads,
            r.run_mode,
            d.wall.median,
            d.wall.min,
            d.wall.max,
            d.inproc.median,
            d.speedup,
            d.efficiency * 100.0,
            d.sims_per_s,
            si(d.bar_steps_per_s)
        );
    }
    s
}

/// 12.3M-style numbers for throughputs.
pub(super) fn si(x: f64) -> String {
    match x {
        x if !x.is_finite() => "-".into(),
        x if x >= 1e9 => format!("{:.2}G", x / 1e9),
        x if x >= 1e6 => format!("{:.1}M", x / 1e6),
        x if x >= 1e3 => format!("{:.1}k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

/// Findings computed from the measurements (never written by hand).
pub(super) fn conclusions(rows: &[Row], derived: &[Derived], threads: usize) -> Vec<String> {
    let mut out = Vec::new();
    let median = |sims: usize, mode: &str| {
        rows.iter().zip(derived).find(|(r, _)| r.sims == sims && r.mode == mode).map(|(_, d)| *d)
    };
    let mut sizes: Vec<usize> = rows.iter().map(|r| r.sims).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let Some(&largest) = sizes.last() else { return out };
    for mode in ["threads", "processes"] {
        let pairs: Vec<(usize, Derived, Derived)> = sizes
            .iter()
            .filter_map(|&n| Some((n, median(n, mode)?, median(n, "sequential")?)))
            .collect();
        let what = format!("{threads} {mode}");
        // The definition of "starts to win": the smallest size with a lower median.
        let first_win = pairs.iter().find(|(_, m, s)| m.wall.median < s.wall.median);
        // A win beyond run-to-run noise: the median below sequential's fastest run.
        let first_clear = pairs.iter().find(|(_, m, s)| m.wall.median < s.wall.min);
        let mut text = match first_win {
            None => format!("{what} never beat sequential, up to {largest} simulations"),
            Some((n, m, s)) => {
                let later_losses: Vec<usize> = pairs
                    .iter()
                    .filter(|(k, m, s)| k > n && m.wall.median >= s.wall.median)
                    .map(|(k, _, _)| *k)
                    .collect();
                format!(
                    "{what} start to beat sequential at {n} simulations ({:.4} s vs {:.4} s median, {:.0}% faster{}){}",
                    m.wall.median,
                    s.wall.median,
                    100.0 * (1.0 - m.wall.median / s.wall.median),
                    if m.wall.median >= s.wall.min { ", within run-to-run spread" } else { "" },
                    if later_losses.is_empty() {
                        String::new()
                    } else {
                        format!(", but lose again at {later_losses:?}")
                    }
                )
            }
        };
        match (first_win, first_clear) {
            (Some((w, _, _)), Some((c, _, _))) if c != w => {
                let _ = write!(
                    text,
                    "; clearly faster (median below sequential's fastest run) from {c} simulations"
                );
            }
            (Some(_), None) => {
                text.push_str("; never clearly faster (median below sequential's fastest run)")
            }
            _ => {}
        }
        out.push(text);
    }
    let at_largest: Vec<String> = ["threads", "processes", "auto"]
        .iter()
        .filter_map(|mode| {
            let d = median(largest, mode)?;
            let r = rows.iter().find(|r| r.sims == largest && r.mode == *mode)?;
            Some(format!(
                "{mode} {:.2}x ({:.0}% efficiency on {}{})",
                d.speedup,
                d.efficiency * 100.0,
                r.threads,
                if *mode == "auto" { format!(", ran {}", r.run_mode) } else { String::new() }
            ))
        })
        .collect();
    out.push(format!(
        "speed-up over sequential at {largest} simulations: {}",
        at_largest.join(", ")
    ));
    let auto: Vec<String> = sizes
        .iter()
        .filter_map(|&n| {
            rows.iter()
                .find(|r| r.sims == n && r.mode == "auto")
                .map(|r| format!("{n}: {}", r.run_mode))
        })
        .collect();
    out.push(format!("auto mode chose: {}", auto.join(", ")));
    if let Some(d) = median(sizes[0], "sequential") {
        out.push(format!(
            "one sequential `bt run` of {} simulations takes {:.1} ms end to end (process start, queue and data loading, results), of which {:.1} ms in the executor (run.json wall_time_s)",
            sizes[0],
            d.wall.median * 1e3,
            d.inproc.median * 1e3
        ));
    }
    if let Some((r, d)) = rows
        .iter()
        .zip(derived)
        .filter(|(_, d)| d.sims_per_s.is_finite())
        .max_by(|a, b| a.1.sims_per_s.total_cmp(&b.1.sims_per_s))
    {
        out.push(format!(
            "best throughput: {:.0} simulations/s, {} bar-steps/s ({} at {} simulations)",
            d.sims_per_s,
            si(d.bar_steps_per_s),
            r.mode,
            r.sims
        ));
    }
    out
}

/// A baseline measurement: (sims, mode, median wall time in seconds).
pub(super) type BaselineRow = (u64, String, f64);

/// Reads a baseline results.json.
pub(super) fn read_baseline(path: &Path) -> anyhow::Result<(PathBuf, Vec<BaselineRow>)> {
    let v = read_json(path).context("reading --baseline")?;
    let rows = v["results"].as_array().with_context(|| {
        format!(
            "{}: no `results` array: give a results.json written by `cargo xtask perf`",
            path.display()
        )
    })?;
    let base = rows
        .iter()
        .filter_map(|r| {
            Some((
                r["sims"].as_u64()?,
                r["mode"].as_str()?.to_owned(),
                r["wall_s"]["median"].as_f64()?,
            ))
        })
        .collect();
    Ok((path.to_owned(), base))
}

/// A comparison table and the list of medians more than [`REGRESSION_FRAC`] slower.
pub(super) fn compare(
    base: &[BaselineRow],
    rows: &[Row],
    derived: &[Derived],
) -> (String, Vec<String>) {
    let mut report = format!(
        "{:>6}  {:<10} {:>11} {:>11} {:>8}\n",
        "sims", "mode", "baseline s", "now s", "change"
    );
    let mut slower = Vec::new();
    for (r, d) in rows.iter().zip(derived) {
        let Some((_, _, old)) = base.iter().find(|(n, m, _)| *n == r.sims as u64 && m == r.mode)
        else {
            let _ = writeln!(
                report,
                "{:>6}  {:<10} {:>11} {:>11.4}",
                r.sims, r.mode, "-", d.wall.median
            );
            continue;
        };
        let change = d.wall.median / old - 1.0;
        let flag = change > REGRESSION_FRAC;
        let _ = writeln!(
            report,
            "{:>6}  {:<10} {:>11.4} {:>11.4} {:>+7.1}%{}",
            r.sims,
            r.mode,
            old,
            d.wall.median,
            change * 100.0,
            if flag { "  SLOWER" } else { "" }
        );
        if flag {
            slower.push(format!(
                "{} sims {}: {:.4} s -> {:.4} s ({:+.1}%)",
                r.sims,
                r.mode,
                old,
                d.wall.median,
                change * 100.0
            ));
        }
    }
    (report, slower)
}
