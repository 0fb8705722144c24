//! `cargo xtask profile`: one run of `bt-profile` (the `bt` command line under pprof); prints
//! where the time goes (phases from tracing spans, top functions from CPU samples).

use std::{
    path::PathBuf,
    process::{Command, ExitCode, Stdio},
};

use anyhow::{Context as _, bail};

use crate::{QueueOpts, display_path, test_queue, tools};

/// The environment variable the `bt` binary reads to profile itself.
const ENV: &str = "BT_PROFILE_DIR";

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cargo xtask profile                         # 300 sma_cross runs over 200k synthetic bars
  cargo xtask profile --strategy macd_cross --sims 100
  cargo xtask profile --bars 0 --sims 300     # the five-strategy mix on data/GOOG.csv

pprof samples at about 230 Hz here (the kernel's tick caps the 997 Hz asked for): a run
should last a few seconds for the top functions to mean something.")]
pub struct ProfileArgs {
    /// Simulations.
    #[arg(long, default_value_t = 300)]
    sims: usize,
    /// Bars of the synthetic data set; 0 for data/GOOG.csv.
    #[arg(long, default_value_t = 200_000)]
    bars: usize,
    /// Strategy ("mix" for the five-strategy mix of the test queue).
    #[arg(long, default_value = "sma_cross")]
    strategy: String,
    /// Worker threads [default: sequential, so that phases add up to the wall time].
    #[arg(long)]
    threads: Option<usize>,
    /// Output directory [default: target/profile].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: &ProfileArgs) -> anyhow::Result<ExitCode> {
    let bt = tools::build_binary("profiling", "bt-profile", "bt-profile")?;
    let out = match &args.out {
        Some(o) => crate::absolute(o),
        None => tools::target_dir()?.join("profile"),
    };
    tools::remove_dir(&out)?;
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let opts = QueueOpts {
        strategy: (args.strategy != "mix").then(|| args.strategy.clone()),
        data: None,
        synthetic_bars: (args.bars > 0).then_some(args.bars),
        seed: 42,
    };
    let queue = out.join("queue.ron");
    let text = test_queue::build(&opts.spec(args.sims), &out, "cargo xtask profile")?;
    test_queue::validate(&text, &queue, args.sims)?;
    std::fs::write(&queue, text).with_context(|| format!("cannot write {}", queue.display()))?;

    let mut cmd = Command::new(&bt);
    cmd.arg("run").arg(&queue).arg("--out").arg(out.join("run")).args(["--no-report", "-q"]);
    match args.threads {
        Some(n) => cmd.args(["--threads", &n.to_string()]),
        None => cmd.arg("--sequential"),
    };
    cmd.env(ENV, &out).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    eprintln!(
        "profiling {} simulations of {} on {} ...",
        args.sims,
        args.strategy,
        if args.bars > 0 {
            format!("{} synthetic bars", args.bars)
        } else {
            "data/GOOG.csv".into()
        }
    );
    let output = cmd.output().with_context(|| format!("cannot start {}", bt.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        bail!("bt run failed ({}):\n{}", output.status, stderr.trim_end());
    }
    let read = |name: &str| std::fs::read_to_string(out.join(name));
    let (Ok(phases), Ok(top)) = (read("phases.txt"), read("top.txt")) else {
        bail!(
            "bt ran but wrote no profile into {}: the binary must start the profiler when {ENV} is set (xtask/profile: see docs/performance.md)",
            display_path(&out)
        );
    };
    println!("{phases}");
    println!("{top}");
    println!("flamegraph: {}", display_path(&out.join("flamegraph.svg")));
    println!("phases:     {}", display_path(&out.join("phases.json")));
    Ok(ExitCode::SUCCESS)
}
