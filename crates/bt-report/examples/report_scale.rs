//! The memory and time of a report over a very large run: `cargo run --release -p bt-report
//! --example report_scale -- [SIMULATIONS] [FORMATS] [DIR]` (defaults 10000000, html,md,csv
//! and a temporary directory). The records are generated one at a time behind
//! `bt_report::Records` (three strategies, a binned axis, every 97th failed, distinct metric
//! values) and never held, as a run directory's result log streams them; prints the passes
//! over them, the wall time and the process's peak resident memory (VmHWM).

use std::{path::PathBuf, time::Instant};

use bt_report::{Format, ReportData, ReportOptions, write_report};

#[path = "../tests/it/fixtures.rs"]
#[expect(dead_code, reason = "the example uses the generator's part of the test fixtures")]
mod fixtures;
#[path = "../tests/it/synthetic.rs"]
#[expect(dead_code, reason = "the example reads the records through `Records` only")]
mod synthetic;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kb.map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), bt_report::ReportError> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().map_or(10_000_000, |a| a.parse().expect("SIMULATIONS is a count"));
    let formats: Vec<Format> = args
        .next()
        .unwrap_or_else(|| "html,md,csv".into())
        .split(',')
        .map(|f| f.parse())
        .collect::<Result<_, _>>()?;
    let temp = tempfile::tempdir().expect("a temporary directory");
    let dir = args.next().map_or_else(|| temp.path().to_path_buf(), PathBuf::from);

    let source = synthetic::Synthetic::new(n);
    let info = fixtures::info(&[]);
    let opts = ReportOptions { formats, ..ReportOptions::default() };
    let start = Instant::now();
    let files = write_report(&dir, &ReportData::new(&info, &source), &opts)?;
    let took = start.elapsed();
    let bytes: u64 = files
        .tables
        .iter()
        .chain(&files.html)
        .chain(&files.charts)
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{n} simulations: {} passes, {} files ({:.1} MB) in {:.1} s; peak RSS {:.0} MB",
        source.passes(),
        files.tables.len() + files.charts.len() + usize::from(files.html.is_some()),
        bytes as f64 / 1e6,
        took.as_secs_f64(),
        peak_rss_mb()
    );
    Ok(())
}
