//! `cargo xtask perf`: the release `bt` binary timed end to end as a subprocess, per queue
//! size and execution mode, like the original project's multiprocessing benchmark.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::{Child, Command, ExitCode, Stdio},
    time::Instant,
};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::{QueueOpts, display_path, test_queue, tools};

mod findings;

use findings::{compare, conclusions, read_baseline, table};

/// A median more than this fraction slower than the baseline's is a regression.
const REGRESSION_FRAC: f64 = 0.10;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cargo xtask perf                                   # the committed numbers: 5,50,100,300 sims x 5
  cargo xtask perf --quick                           # CI smoke test: 5,50 sims, once, target/perf-quick
  cargo xtask perf --sims 100,1000 --bars 100000     # bigger runs on synthetic data
  cargo xtask perf --baseline old/results.json       # exit 1 if a median got >10% slower")]
pub struct PerfArgs {
    /// Queue sizes (simulations), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "5,50,100,300")]
    sims: Vec<usize>,
    /// Measured repetitions per size and mode (after one warm-up run).
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Synthetic data of N one-minute bars instead of data/GOOG.csv.
    #[arg(long, value_name = "N", conflicts_with = "data")]
    bars: Option<usize>,
    /// Data file [default: data/GOOG.csv].
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Only this strategy in the queues (default: the five-strategy mix).
    #[arg(long)]
    strategy: Option<String>,
    /// Threads of the parallel mode and processes of the multi-process mode [default: all cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Compare the medians with an earlier results.json; exit 1 if any got >10% slower.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// CI smoke test: sizes 5,50, one repetition, no warm-up, the dev build of bt (what
    /// `cargo build` made), output in target/perf-quick. It checks the machinery, not timings.
    #[arg(long, conflicts_with_all = ["sims", "repeats", "baseline"])]
    quick: bool,
    /// Cargo profile of the bt binary [default: release; dev with --quick].
    #[arg(long, value_name = "PROFILE")]
    build_profile: Option<String>,
    /// Output directory [default: data/performance_test_results, or target/perf-quick].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

/// An execution mode of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Sequential,
    Threads,
    Auto,
    Processes,
}

const MODES: [Mode; 4] = [Mode::Sequential, Mode::Threads, Mode::Auto, Mode::Processes];

impl Mode {
    /// The name in the outputs and the chart.
    fn name(self) -> &'static str {
        match self {
            Mode::Sequential => "sequential",
            Mode::Threads => "threads",
            Mode::Auto => "auto",
            Mode::Processes => "processes",
        }
    }
}

/// One timed run.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    /// Around the process(es), merge included.
    wall_s: f64,
    /// `wall_time_s` of run.json (the slowest shard for processes).
    inproc_s: f64,
    /// run.json's `mode` (`processes` for the multi-process mode).
    run_mode: String,
    /// run.json's `threads` (the process count for the multi-process mode).
    threads: u64,
}

/// Every measurement of one size and mode.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    sims: usize,
    mode: &'static str,
    threads: u64,
    /// The mode(s) run.json reported, e.g. what `auto` chose.
    run_mode: String,
    wall: Vec<f64>,
    inproc: Vec<f64>,
    bar_steps: u64,
}

/// Median, min and max of a non-empty sample.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Summary {
    median: f64,
    min: f64,
    max: f64,
}

fn summarize(xs: &[f64]) -> Summary {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    Summary {
        median,
        min: v.first().copied().unwrap_or(f64::NAN),
        max: v.last().copied().unwrap_or(f64::NAN),
    }
}

/// What is derived from a row and the sequential row of the same size.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Derived {
    wall: Summary,
    inproc: Summary,
    speedup: f64,
    efficiency: f64,
    sims_per_s: f64,
    bar_steps_per_s: f64,
}

fn derive(row: &Row, rows: &[Row]) -> Derived {
    let wall = summarize(&row.wall);
    let seq = rows
        .iter()
        .find(|r| r.sims == row.sims && r.mode == "sequential")
        .map_or(f64::NAN, |r| summarize(&r.wall).median);
    let speedup = seq / wall.median;
    Derived {
        wall,
        inproc: summarize(&row.inproc),
        speedup,
        efficiency: speedup / row.threads.max(1) as f64,
        sims_per_s: row.sims as f64 / wall.median,
        bar_steps_per_s: row.bar_steps as f64 / wall.median,
    }
}

/// Everything fixed for a benchmark run.
struct Plan {
    bt: PathBuf,
    /// Cargo profile `bt` was built with.
    build_profile: String,
    sizes: Vec<usize>,
    repeats: usize,
    warmup: bool,
    threads: usize,
    queue: QueueOpts,
    work: PathBuf,
    out: PathBuf,
}

pub fn run(args: &PerfArgs) -> anyhow::Result<ExitCode> {
    let (sizes, repeats, warmup) =
        if args.quick { (vec![5, 50], 1, false) } else { (args.sims.clone(), args.repeats, true) };
    if sizes.is_empty() || sizes.contains(&0) {
        bail!("--sims needs positive sizes, e.g. --sims 5,50,100,300");
    }
    if repeats == 0 {
        bail!("--repeats 0 measures nothing: use at least 1");
    }
    let threads = match args.threads {
        Some(0) => bail!("--threads 0: use at least 1"),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    let tools::Bench { profile, bt, target, out } = tools::Bench::prepare(
        args.build_profile.as_deref(),
        args.quick,
        args.out.as_deref(),
        "perf-quick",
    )?;
    let plan = Plan {
        bt,
        build_profile: profile,
        sizes,
        repeats,
        warmup,
        threads,
        queue: QueueOpts {
            strategy: args.strategy.clone(),
            data: args.data.clone(),
            synthetic_bars: args.bars,
            seed: 42,
        },
        work: target.join("xtask/perf-work"),
        out,
    };
    let machine = tools::machine_info(&plan.bt);
    if let Some(load) = machine["load_avg_1m"].as_f64()
        && load > 0.5 * threads as f64
    {
        eprintln!(
            "note: the machine is busy (load average {load:.2} on {threads} cores): timings will be noisy; use more --repeats"
        );
    }
    let rows = measure(&plan)?;
    let derived: Vec<Derived> = rows.iter().map(|r| derive(r, &rows)).collect();
    let conclusions = conclusions(&rows, &derived, threads);
    print!("{}", table(&rows, &derived));
    println!();
    for c in &conclusions {
        println!("- {c}");
    }
    let mut machine = machine;
    machine["load_avg_1m_after"] = tools::load_avg().map_or(Value::Null, Value::from);
    write_outputs(&plan, &rows, &derived, &conclusions, machine)?;
    println!(
        "\nwrote {}/{{results.csv,results.json,performance_comparison.png,performance_comparison.svg}}",
        display_path(&plan.out)
    );
    match baseline {
        None => Ok(ExitCode::SUCCESS),
        Some((path, base)) => {
            let (report, slower) = compare(&base, &rows, &derived);
            println!("\ncompared with {}:\n{report}", display_path(&path));
            println!(
                "note: a busy or noisy machine moves medians by more than 10%: rerun with more --repeats before trusting a regression"
            );
            if slower.is_empty() {
                println!("no median is more than {:.0}% slower", REGRESSION_FRAC * 100.0);
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!(
                    "error: {} median(s) more than {:.0}% slower than the baseline: {}",
                    slower.len(),
                    REGRESSION_FRAC * 100.0,
                    slower.join("; ")
                );
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

fn measure(plan: &Plan) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for &sims in &plan.sizes {
        let dir = plan.work.join(format!("sims-{sims}"));
        tools::remove_dir(&dir)?;
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let queue = dir.join("queue.ron");
        let spec = plan.queue.spec(sims);
        let text = test_queue::build(&spec, &dir, &format!("cargo xtask perf (size {sims})"))?;
        test_queue::validate(&text, &queue, sims)?;
        std::fs::write(&queue, text)
            .with_context(|| format!("cannot write {}", queue.display()))?;
        eprintln!(
            "{sims} simulations: {}{} runs per mode ...",
            if plan.warmup { "1 warm-up + " } else { "" },
            plan.repeats
        );
        let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); MODES.len()];
        if plan.warmup {
            for mode in MODES {
                run_mode(plan, &queue, &dir.join("run"), mode, sims)?;
            }
        }
        // Round-robin, so that a slow spell of the machine hits every mode alike.
        let mut bar_steps = None;
        for _ in 0..plan.repeats {
            for (k, mode) in MODES.into_iter().enumerate() {
                let run_dir = dir.join("run");
                samples[k].push(run_mode(plan, &queue, &run_dir, mode, sims)?);
                if bar_steps.is_none() {
                    bar_steps = Some(sum_bar_steps(&results_path(&run_dir, mode))?);
                }
            }
        }
        let bar_steps = bar_steps.unwrap_or_default();
        for (k, mode) in MODES.into_iter().enumerate() {
            let s = &samples[k];
            let mut run_modes: Vec<&str> = s.iter().map(|x| x.run_mode.as_str()).collect();
            run_modes.sort_unstable();
            run_modes.dedup();
            rows.push(Row {
                sims,
                mode: mode.name(),
                threads: s.iter().map(|x| x.threads).max().unwrap_or(1),
                run_mode: run_modes.join("+"),
                wall: s.iter().map(|x| x.wall_s).collect(),
                inproc: s.iter().map(|x| x.inproc_s).collect(),
                bar_steps,
            });
        }
    }
    Ok(rows)
}

fn results_path(run_dir: &Path, mode: Mode) -> PathBuf {
    match mode {
        Mode::Processes => run_dir.join("merged/results.btr"),
        _ => run_dir.join("results.btr"),
    }
}

/// Runs the queue once in `mode` into a fresh `run_dir` and times it.
fn run_mode(
    plan: &Plan,
    queue: &Path,
    run_dir: &Path,
    mode: Mode,
    sims: usize,
) -> anyhow::Result<Sample> {
    tools::remove_dir(run_dir)?;
    let bt_run = |out: &Path| {
        let mut c = Command::new(&plan.bt);
        c.arg("run").arg(queue).arg("--out").arg(out).args(["--no-report", "-q"]);
        c
    };
    if mode != Mode::Processes {
        let mut cmd = bt_run(run_dir);
        match mode {
            Mode::Sequential => {
                cmd.arg("--sequential");
            }
            Mode::Threads => {
                cmd.args(["--threads", &plan.threads.to_string()]);
            }
            Mode::Auto | Mode::Processes => {}
        }
        let start = Instant::now();
        let child = spawn(&mut cmd)?;
        finish(child, &cmd)?;
        let wall_s = start.elapsed().as_secs_f64();
        let info = read_run_json(run_dir, sims)?;
        return Ok(Sample { wall_s, inproc_s: info.0, run_mode: info.1, threads: info.2 });
    }
    let n = plan.threads;
    let shards: Vec<PathBuf> = (0..n).map(|k| run_dir.join(format!("shard-{k}"))).collect();
    let merged = run_dir.join("merged");
    std::fs::create_dir_all(run_dir)
        .with_context(|| format!("cannot create {}", run_dir.display()))?;
    let start = Instant::now();
    let mut children = Vec::new();
    for (k, shard) in shards.iter().enumerate() {
        let mut cmd = bt_run(shard);
        cmd.args(["--sequential", "--shard", &format!("{k}/{n}")]);
        children.push((spawn(&mut cmd)?, cmd));
    }
    for (child, cmd) in children {
        finish(child, &cmd)?;
    }
    let mut merge = Command::new(&plan.bt);
    merge.arg("merge").args(&shards).arg("--out").arg(&merged).args(["--no-report", "-q"]);
    let child = spawn(&mut merge)?;
    finish(child, &merge)?;
    let wall_s = start.elapsed().as_secs_f64();
    read_run_json(&merged, sims)?;
    let mut inproc_s = 0.0f64;
    for shard in &shards {
        let v = read_json(&shard.join("run.json"))?;
        inproc_s = inproc_s.max(v["wall_time_s"].as_f64().unwrap_or(f64::NAN));
    }
    Ok(Sample { wall_s, inproc_s, run_mode: "processes".into(), threads: n as u64 })
}

fn spawn(cmd: &mut Command) -> anyhow::Result<Child> {
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    cmd.spawn().with_context(|| format!("cannot start {}", tools::shown(cmd)))
}

fn finish(child: Child, cmd: &Command) -> anyhow::Result<()> {
    let out =
        child.wait_with_output().with_context(|| format!("waiting for {}", tools::shown(cmd)))?;
    if !out.status.success() {
        bail!(
            "{} failed ({}):\n{}",
            tools::shown(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    Ok(())
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))
}

/// (wall_time_s, mode, threads) of a run that must have run `sims` simulations without failure.
fn read_run_json(dir: &Path, sims: usize) -> anyhow::Result<(f64, String, u64)> {
    let path = dir.join("run.json");
    let v = read_json(&path)?;
    let (ok, failed) = (v["ok"].as_u64().unwrap_or(0), v["failed"].as_u64().unwrap_or(0));
    if ok != sims as u64 || failed != 0 {
        bail!(
            "{}: {ok} ok and {failed} failed simulations, expected {sims} ok: see {}",
            path.display(),
            dir.join("summary.csv").display()
        );
    }
    Ok((
        v["wall_time_s"].as_f64().unwrap_or(f64::NAN),
        v["mode"].as_str().unwrap_or("?").to_owned(),
        v["threads"].as_u64().unwrap_or(1),
    ))
}

/// Sum of `bar_steps` over the successful simulations of a result log.
fn sum_bar_steps(path: &Path) -> anyhow::Result<u64> {
    let mut total = 0u64;
    bt_executor::for_each_result(path, |r| {
        if let bt_domain::SimOutcome::Ok(s) = &r.outcome {
            total += s.bar_steps;
        }
        Ok(())
    })
    .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(total)
}

fn write_outputs(
    plan: &Plan,
    rows: &[Row],
    derived: &[Derived],
    conclusions: &[String],
    machine: Value,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&plan.out)
        .with_context(|| format!("cannot create {}", plan.out.display()))?;
    let mut csv = String::from(
        "sims,mode,threads,ran_as,repeats,wall_median_s,wall_min_s,wall_max_s,inproc_median_s,inproc_min_s,inproc_max_s,speedup,efficiency,sims_per_s,bar_steps,bar_steps_per_s\n",
    );
    for (r, d) in rows.iter().zip(derived) {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.4},{:.4},{:.2},{},{:.0}",
            r.sims,
            r.mode,
            r.threads,
            r.run_mode,
            r.wall.len(),
            d.wall.median,
            d.wall.min,
            d.wall.max,
            d.inproc.median,
            d.inproc.min,
            d.inproc.max,
            d.speedup,
            d.efficiency,
            d.sims_per_s,
            r.bar_steps,
            d.bar_steps_per_s
        );
    }
    tools::write(&plan.out.join("results.csv"), &csv)?;
    let spec = plan.queue.spec(1);
    let data = match &spec.data {
        test_queue::DataChoice::File(p) => display_path(p),
        test_queue::DataChoice::Synthetic(n) => format!("synthetic, {n} one-minute bars"),
    };
    let results: Vec<Value> = rows
        .iter()
        .zip(derived)
        .map(|(r, d)| {
            let stats = |s: Summary, xs: &[f64]| json!({"median": s.median, "min": s.min, "max": s.max, "samples": xs});
            json!({
                "sims": r.sims,
                "mode": r.mode,
                "threads": r.threads,
                "ran_as": r.run_mode,
                "repeats": r.wall.len(),
                "wall_s": stats(d.wall, &r.wall),
                "in_process_s": stats(d.inproc, &r.inproc),
                "speedup": finite(d.speedup),
                "efficiency": finite(d.efficiency),
                "sims_per_s": finite(d.sims_per_s),
                "bar_steps": r.bar_steps,
                "bar_steps_per_s": finite(d.bar_steps_per_s),
            })
        })
        .collect();
    let doc = json!({
        "schema": 1,
        "machine": machine,
        "settings": {
            "command": "cargo xtask perf",
            "bt_build_profile": plan.build_profile,
            "sizes": plan.sizes,
            "repeats": plan.repeats,
            "warmup_runs": u8::from(plan.warmup),
            "threads": plan.threads,
            "processes": plan.threads,
            "data": data,
            "strategy": plan.queue.strategy,
            "seed": plan.queue.seed,
            "wall_s": "around the bt process(es), merge included, from spawn to exit",
            "in_process_s": "wall_time_s of run.json: the simulate phase inside bt (slowest shard for processes)",
        },
        "results": results,
        "conclusions": conclusions,
    });
    tools::write(&plan.out.join("results.json"), &(serde_json::to_string_pretty(&doc)? + "\n"))?;
    let points: Vec<bt_report::PerfPoint> = rows
        .iter()
        .zip(derived)
        .map(|(r, d)| bt_report::PerfPoint {
            sims: r.sims as u64,
            mode: r.mode.to_owned(),
            median_s: d.wall.median,
            min_s: d.wall.min,
            max_s: d.wall.max,
        })
        .collect();
    for ext in ["png", "svg"] {
        let path = plan.out.join(format!("performance_comparison.{ext}"));
        bt_report::perf_chart(&points, &path)
            .with_context(|| format!("drawing {}", path.display()))?;
    }
    Ok(())
}

fn finite(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

#[cfg(test)]
mod tests;
