//! `cargo xtask fuzz`: builds the cargo-fuzz targets of `xtask/fuzz` and runs each for a while,
//! then reports executions, coverage and findings per target.
//!
//! The machine's only toolchain is stable, and cargo fuzz passes nightly-only flags
//! (`-Zsanitizer=address`): `RUSTC_BOOTSTRAP=1` lets stable rustc accept them. `--sanitizer none`
//! needs no unstable flag beyond cargo fuzz's own, and runs faster (bt has no `unsafe`; ASan
//! watches the `unsafe` inside the dependencies, polars' Parquet decoder above all).
//!
//! Each target fuzzes into a scratch corpus under the target directory, reading the committed
//! seeds (`xtask/fuzz/corpus/<target>`) without writing to them; crashes land in
//! `<target-dir>/fuzz/artifacts/<target>/`. Nothing under `xtask/fuzz` changes.

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
    time::Instant,
};

use anyhow::{Context as _, bail};

use crate::{display_path, project_root, tools};

/// The targets, in the order they run (names of `xtask/fuzz/fuzz_targets/*.rs`).
const TARGETS: [&str; 5] = ["queue", "csv", "parquet", "backtest", "rules"];

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cargo xtask fuzz --time 60                 # every target for 60 s (the smoke run)
  cargo xtask fuzz --time 600 --target csv   # one target for 10 minutes
  cargo xtask fuzz --sanitizer none          # faster, without AddressSanitizer

Needs cargo-fuzz: `cargo install cargo-fuzz`. See docs/testing.md.")]
pub struct FuzzArgs {
    /// Seconds to fuzz each target.
    #[arg(long, default_value_t = 60)]
    time: u64,
    /// Only these targets (repeatable): queue, csv, parquet, backtest, rules.
    #[arg(long = "target", value_name = "NAME")]
    targets: Vec<String>,
    /// Sanitizer of the build: address or none.
    #[arg(long, default_value = "address", value_parser = ["address", "none"])]
    sanitizer: String,
}

/// What one target's run reported.
#[derive(Debug)]
struct Outcome {
    target: &'static str,
    seconds: f64,
    executions: Option<u64>,
    coverage: Option<u64>,
    corpus: usize,
    crashed: bool,
    artifacts: Vec<PathBuf>,
}

pub fn run(args: &FuzzArgs) -> anyhow::Result<ExitCode> {
    let targets = selected(&args.targets)?;
    check_cargo_fuzz()?;
    let fuzz_dir = project_root().join("xtask/fuzz");
    let work = tools::target_dir()?.join("fuzz");
    let target_dir = work.join("build");

    eprintln!("building the fuzz targets (sanitizer {}) ...", args.sanitizer);
    let status = cargo_fuzz(&fuzz_dir, &target_dir, &args.sanitizer, "build")
        .status()
        .context("running `cargo fuzz build`")?;
    if !status.success() {
        bail!("`cargo fuzz build` failed ({status}): see the compiler output above");
    }

    let mut outcomes = Vec::new();
    for target in targets {
        let corpus = work.join("corpus").join(target);
        let artifacts = work.join("artifacts").join(target);
        std::fs::create_dir_all(&corpus)
            .and_then(|()| std::fs::create_dir_all(&artifacts))
            .with_context(|| format!("cannot create {}", work.display()))?;
        let seeds = fuzz_dir.join("corpus").join(target);
        let before = files(&artifacts);
        eprintln!("fuzzing {target} for {} s ...", args.time);
        let scratch = work.join("scratch").join(target);
        let mut cmd = cargo_fuzz(&fuzz_dir, &target_dir, &args.sanitizer, "run");
        cmd.env("BT_FUZZ_SCRATCH", &scratch);
        cmd.arg(target).arg(&corpus).arg(&seeds).arg("--").args([
            format!("-max_total_time={}", args.time),
            "-timeout=20".to_owned(),
            "-rss_limit_mb=4096".to_owned(),
            "-print_final_stats=1".to_owned(),
            format!("-artifact_prefix={}/", artifacts.display()),
        ]);
        let dict = fuzz_dir.join("dicts").join(format!("{target}.dict"));
        if dict.is_file() {
            cmd.arg(format!("-dict={}", dict.display()));
        }
        let start = Instant::now();
        let out = cmd
            .stdout(Stdio::inherit())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("running `cargo fuzz run {target}`"))?;
        tools::remove_dir(&scratch)?;
        let log = String::from_utf8_lossy(&out.stderr);
        let log_path = work.join(format!("{target}.log"));
        std::fs::write(&log_path, log.as_bytes())
            .with_context(|| format!("cannot write {}", log_path.display()))?;
        let new: Vec<PathBuf> =
            files(&artifacts).into_iter().filter(|p| !before.contains(p)).collect();
        let outcome = Outcome {
            target,
            seconds: start.elapsed().as_secs_f64(),
            executions: stat(&log, "stat::number_of_executed_units:"),
            coverage: last_cov(&log),
            corpus: files(&corpus).len(),
            crashed: !out.status.success() || !new.is_empty(),
            artifacts: new,
        };
        if outcome.crashed {
            // The tail of libFuzzer's output has the panic message and the input's path.
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            for line in tail.into_iter().rev() {
                eprintln!("  | {line}");
            }
        }
        outcomes.push(outcome);
    }

    println!("{}", table(&outcomes));
    let report = work.join("summary.md");
    std::fs::write(&report, table(&outcomes))
        .with_context(|| format!("cannot write {}", report.display()))?;
    println!("logs and this table: {}", display_path(&work));
    let crashed: Vec<&Outcome> = outcomes.iter().filter(|o| o.crashed).collect();
    if crashed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for o in crashed {
        for a in &o.artifacts {
            eprintln!(
                "error: {} found a crash: {}\n  reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir xtask/fuzz --features libfuzzer --sanitizer {} --codegen-units 16 --target-dir {} {} {}\n  then fix it and keep the input as xtask/fuzz/regressions/{}/<what-it-found>",
                o.target,
                a.display(),
                args.sanitizer,
                target_dir.display(),
                o.target,
                a.display(),
                o.target
            );
        }
        if o.artifacts.is_empty() {
            eprintln!("error: {} failed without leaving an input: see its log", o.target);
        }
    }
    Ok(ExitCode::FAILURE)
}

fn selected(names: &[String]) -> anyhow::Result<Vec<&'static str>> {
    if names.is_empty() {
        return Ok(TARGETS.to_vec());
    }
    names
        .iter()
        .map(|n| {
            TARGETS.iter().copied().find(|t| t == n).with_context(|| {
                format!("unknown fuzz target {n:?}: use one of {}", TARGETS.join(", "))
            })
        })
        .collect()
}

fn check_cargo_fuzz() -> anyhow::Result<()> {
    let ok = tools::cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        bail!("cargo-fuzz is not installed: install it with `cargo install cargo-fuzz`");
    }
    Ok(())
}

/// `cargo fuzz <verb>` with the project's settings. `RUSTC_BOOTSTRAP=1` lets the stable
/// toolchain take the sanitizer flags; 16 codegen units keep the polars build bearable.
fn cargo_fuzz(fuzz_dir: &Path, target_dir: &Path, sanitizer: &str, verb: &str) -> Command {
    let mut cmd = tools::cargo();
    cmd.env("RUSTC_BOOTSTRAP", "1").args(["fuzz", verb, "--fuzz-dir"]).arg(fuzz_dir).args([
        "--features",
        "libfuzzer",
        "--sanitizer",
        sanitizer,
        "--codegen-units",
        "16",
        "--target-dir",
    ]);
    cmd.arg(target_dir);
    cmd
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// A `stat::name: value` line of libFuzzer's final statistics.
fn stat(log: &str, key: &str) -> Option<u64> {
    log.lines().rev().find_map(|l| l.strip_prefix(key)).and_then(|v| v.trim().parse().ok())
}

/// The last `cov: N` of libFuzzer's status lines (edges covered).
fn last_cov(log: &str) -> Option<u64> {
    log.lines().rev().find_map(|l| {
        let rest = l.split(" cov: ").nth(1)?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

fn table(outcomes: &[Outcome]) -> String {
    let mut out = String::from(
        "| target | seconds | executions | exec/s | coverage (edges) | corpus | result |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    let show = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
    for o in outcomes {
        let rate =
            o.executions.map_or_else(|| "?".to_owned(), |e| format!("{:.0}", e as f64 / o.seconds));
        out.push_str(&format!(
            "| {} | {:.0} | {} | {} | {} | {} | {} |\n",
            o.target,
            o.seconds,
            show(o.executions),
            rate,
            show(o.coverage),
            o.corpus,
            if o.crashed { "CRASH" } else { "clean" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "#2048\tpulse  cov: 812 ft: 1900 corp: 40/3Kb exec/s: 1024 rss: 90Mb\n\
        #9000\tDONE   cov: 1020 ft: 2400 corp: 61/5Kb lim: 400 exec/s: 150 rss: 120Mb\n\
        Done 9000 runs in 61 second(s)\n\
        stat::number_of_executed_units: 9000\n\
        stat::average_exec_per_sec:     147\n";

    #[test]
    fn reads_libfuzzer_statistics() {
        assert_eq!(stat(LOG, "stat::number_of_executed_units:"), Some(9000));
        assert_eq!(stat(LOG, "stat::peak_rss_mb:"), None);
        assert_eq!(last_cov(LOG), Some(1020));
        assert_eq!(last_cov("no status lines"), None);
    }

    #[test]
    fn unknown_targets_are_refused_with_the_list() {
        assert_eq!(selected(&[]).unwrap(), TARGETS.to_vec());
        assert_eq!(selected(&["csv".into()]).unwrap(), vec!["csv"]);
        let err = selected(&["yaml".into()]).unwrap_err().to_string();
        assert!(err.contains("queue, csv, parquet, backtest"), "{err}");
    }
}
