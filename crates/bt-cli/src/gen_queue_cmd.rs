//! `bt gen-queue`: write a queue file from a parameter grid or a random search, or expand the
//! sweeps of an existing queue into explicit simulations.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::ExitCode,
};

use bt::{
    domain::{Interval, Params, StrategyCatalog},
    queue::{Queue, Sampling, StrategyQueue, SyntheticSpec, parse_grid_arg, parse_param_arg},
};

use crate::{BadInput, config_flags::ConfigFlags};
use bt::shell::shell_word;

#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  # 300 simulations: fast 5..=34 x slow 40, 50, ..., 130, all with fast < slow
  bt gen-queue --strategy sma_cross --grid fast=5..=34 --grid slow=40..=130:10 \\
      --where 'fast < slow' --data data/GOOG.csv --cash 10000 --commission 0.002 -o queue.ron
  # 100 random points of a space, on a million synthetic one-minute bars
  bt gen-queue --strategy rsi_reversion --grid period=5..=30 --grid lower=20,25,30 \\
      --grid upper=70,75,80 --random 100 --seed 1 --synthetic-bars 1000000 --interval 1m -o rnd.ron
  # every sweep point of a queue as an explicit simulation
  bt gen-queue --expand queue.ron -o expanded.ron

Grid values: a..=b (inclusive), a..=b:step, 0.5..=2.0:0.5, or a list v1,v2,v3.
Data paths are written relative to the output file's directory. Format: docs/queue-format.md")]
pub struct GenQueueArgs {
    /// Queue file to write.
    #[arg(short = 'o', long = "out", value_name = "FILE.ron")]
    pub out: PathBuf,
    /// Strategy name (see `bt strategies`).
    #[arg(long, required_unless_present = "expand")]
    pub strategy: Option<String>,
    /// A swept parameter, repeatable: fast=5..=34, slow=40..=130:10, k=0.5..=2.0:0.5, fast=5,10,20.
    #[arg(long = "grid", value_name = "NAME=VALUES")]
    pub grid: Vec<String>,
    /// Only grid points satisfying this condition, e.g. 'fast < slow'.
    #[arg(long = "where", value_name = "EXPR", requires = "grid")]
    pub where_: Option<String>,
    /// A parameter fixed for every simulation, repeatable: --param long_only=true.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// A data file (CSV or Parquet), repeatable; the data set is named after the file stem.
    #[arg(long = "data", value_name = "FILE")]
    pub data: Vec<PathBuf>,
    /// Add a synthetic data set of N bars, named `synthetic` (see --seed, --interval).
    #[arg(long, value_name = "N")]
    pub synthetic_bars: Option<usize>,
    /// Bar interval of the synthetic data set.
    #[arg(long, default_value = "1d", value_parser = parse_interval, requires = "synthetic_bars")]
    pub interval: Interval,
    /// Sample N distinct grid points instead of running them all.
    #[arg(long, value_name = "N", requires = "grid")]
    pub random: Option<u64>,
    /// Seed of --random and of the synthetic data set.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Id of the sweep, the first part of every simulation id (default: the strategy name).
    #[arg(long)]
    pub id: Option<String>,
    #[command(flatten)]
    pub config: ConfigFlags,
    /// Instead of building a queue: rewrite this queue with every sweep point as an explicit
    /// simulation (same ids, parameters and configs).
    #[arg(long, value_name = "QUEUE.ron", conflicts_with_all = [
        "strategy", "grid", "where_", "params", "data", "synthetic_bars", "random", "id",
    ])]
    pub expand: Option<PathBuf>,
}

fn parse_interval(s: &str) -> Result<Interval, String> {
    s.parse()
}

/// Builds (or expands) the queue, validates it as it will be read back, writes it, and prints
/// `wrote N simulations to FILE`. Nothing is written when validation fails.
pub fn run(
    args: GenQueueArgs,
    catalog: &dyn StrategyCatalog,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<ExitCode> {
    let out_dir = match args.out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let text = match &args.expand {
        Some(source) => expand(source, &out_dir, catalog)?,
        None => build(&args, &out_dir)?,
    };
    // Check what will be written, as it will be read: paths resolved from the output directory.
    let display = args.out.display().to_string();
    let queue = Queue::from_str(&text, &out_dir, &display).map_err(bt::Error::from)?;
    queue.validate(catalog).map_err(bt::Error::from)?;
    // Through a synced temporary file and a rename: a full disk leaves the old file (or none),
    // never a half-written queue.
    bt::fs::write_atomic(&args.out, text.as_bytes()).map_err(|source| {
        bt::Error::from(bt::queue::QueueError::Write { path: args.out.clone(), source })
    })?;
    writeln!(out, "wrote {} simulations to {display}", queue.len())?;
    Ok(ExitCode::SUCCESS)
}

fn expand(source: &Path, out_dir: &Path, catalog: &dyn StrategyCatalog) -> anyhow::Result<String> {
    let queue = Queue::from_path(source).map_err(bt::Error::from)?;
    queue.validate(catalog).map_err(bt::Error::from)?;
    let header = vec![
        format!(
            "Generated by `bt gen-queue --expand {}`",
            shell_word(&source.display().to_string())
        ),
        format!(
            "from a queue with hash {}: every sweep point as an explicit simulation",
            queue.hash()
        ),
    ];
    Ok(bt::queue::expand(&queue, out_dir, &header))
}

fn build(args: &GenQueueArgs, out_dir: &Path) -> anyhow::Result<String> {
    let strategy =
        args.strategy.clone().ok_or_else(|| BadInput("--strategy is required".into()))?;
    if args.data.is_empty() && args.synthetic_bars.is_none() {
        return Err(BadInput(
            "no data: give --data FILE (repeatable) or --synthetic-bars N".into(),
        )
        .into());
    }
    let mut params = Params::new();
    for spec in &args.params {
        let (name, value) = parse_param_arg(spec).map_err(bt::Error::from)?;
        if params.insert(name.clone(), value).is_some() {
            return Err(BadInput(format!("--param {name} is given twice: give it once")).into());
        }
    }
    let mut axes = BTreeMap::new();
    for spec in &args.grid {
        let (name, axis) = parse_grid_arg(spec).map_err(bt::Error::from)?;
        if axes.insert(name.clone(), axis).is_some() {
            return Err(BadInput(format!("--grid {name} is given twice: give it once")).into());
        }
    }
    let queue = StrategyQueue {
        header: format!("Generated by `{}`", command_line(args)),
        strategy,
        id: args.id.clone(),
        data: args.data.clone(),
        synthetic: args.synthetic_bars.map(|n| SyntheticSpec::new(n, args.seed, args.interval)),
        params,
        axes,
        where_: args.where_.clone(),
        sampling: match args.random {
            Some(n) => Sampling::Random { n, seed: args.seed },
            None => Sampling::Grid,
        },
        defaults: args.config.overrides(),
    };
    Ok(queue.to_ron(out_dir))
}

/// The command, rebuilt from the parsed flags in a fixed order (so that the header does not
/// depend on the binary's path or on flag order), without `-o`.
fn command_line(args: &GenQueueArgs) -> String {
    let mut words = vec!["bt".to_string(), "gen-queue".to_string()];
    let mut flag = |name: &str, value: Option<String>| {
        words.push(format!("--{name}"));
        if let Some(v) = value {
            words.push(shell_word(&v));
        }
    };
    if let Some(s) = &args.strategy {
        flag("strategy", Some(s.clone()));
    }
    if let Some(id) = &args.id {
        flag("id", Some(id.clone()));
    }
    for g in &args.grid {
        flag("grid", Some(g.clone()));
    }
    if let Some(w) = &args.where_ {
        flag("where", Some(w.clone()));
    }
    for p in &args.params {
        flag("param", Some(p.clone()));
    }
    if let Some(n) = args.random {
        flag("random", Some(n.to_string()));
    }
    for d in &args.data {
        flag("data", Some(d.display().to_string()));
    }
    if let Some(n) = args.synthetic_bars {
        flag("synthetic-bars", Some(n.to_string()));
        flag("interval", Some(args.interval.to_string()));
    }
    if args.random.is_some() || args.synthetic_bars.is_some() {
        flag("seed", Some(args.seed.to_string()));
    }
    words.extend(args.config.words().iter().map(|w| shell_word(w)));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use bt::domain::StrategyError;
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: GenQueueArgs,
    }

    fn args(argv: &[&str]) -> GenQueueArgs {
        Cli::try_parse_from(std::iter::once("gen-queue").chain(argv.iter().copied())).unwrap().args
    }

    /// Accepts known strategies with any parameters, except `fast >= slow`.
    struct Catalog;

    impl StrategyCatalog for Catalog {
        fn check(&self, strategy: &str, params: &Params) -> Result<(), StrategyError> {
            if !["sma_cross", "rsi_reversion"].contains(&strategy) {
                return Err(StrategyError::UnknownStrategy {
                    name: strategy.into(),
                    valid: "rsi_reversion, sma_cross".into(),
                });
            }
            match (params.get("fast"), params.get("slow")) {
                (Some(f), Some(s)) if f.as_f64() >= s.as_f64() => {
                    Err(StrategyError::InvalidCombination {
                        strategy: strategy.into(),
                        problem: "fast must be below slow".into(),
                        fix: "lower fast".into(),
                    })
                }
                _ => Ok(()),
            }
        }
    }

    fn layout() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        std::fs::create_dir_all(dir.path().join("out")).unwrap();
        std::fs::write(dir.path().join("data/GOOG.csv"), "stand-in: only its existence is checked")
            .unwrap();
        dir
    }

    #[test]
    fn writes_the_300_point_grid_with_relative_paths_and_defaults() {
        let dir = layout();
        let (data, out) = (dir.path().join("data/GOOG.csv"), dir.path().join("out/q.ron"));
        let argv = [
            "--strategy",
            "sma_cross",
            "--grid",
            "fast=5..=34",
            "--grid",
            "slow=40..=130:10",
            "--where",
            "fast < slow",
            "--data",
            data.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--cash",
            "10000",
            "--commission",
            "0.002",
            "--hedging",
            "-o",
            out.to_str().unwrap(),
        ];
        assert_eq!(run(args(&argv), &Catalog, &mut Vec::new()).unwrap(), ExitCode::SUCCESS);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.starts_with(
                "// Generated by `bt gen-queue --strategy sma_cross --grid fast=5..=34"
            ),
            "{text}"
        );
        assert!(text.contains("--where 'fast < slow'"), "{text}");
        assert!(text.contains("\"GOOG\": (path: \"../data/GOOG.csv\"),"), "{text}");
        assert!(
            text.contains("defaults: (cash: 10000.0, commission: 0.002, hedging: true),"),
            "{text}"
        );
        assert!(
            text.contains("datasets: [\"GOOG\"],"),
            "the same file twice is one data set: {text}"
        );
        let q = Queue::from_path(&out).unwrap();
        assert_eq!(q.len(), 300);
        // Same inputs, same bytes.
        run(args(&argv), &Catalog, &mut Vec::new()).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
    }

    #[test]
    fn random_search_on_synthetic_data_and_expansion() {
        let dir = layout();
        let out = dir.path().join("out/rnd.ron");
        let argv = [
            "--strategy",
            "rsi_reversion",
            "--grid",
            "period=5..=30",
            "--grid",
            "lower=20,25,30",
            "--random",
            "10",
            "--seed",
            "4",
            "--synthetic-bars",
            "5000",
            "--interval",
            "1m",
            "--param",
            "upper=70",
            "--id",
            "rnd",
            "-o",
            out.to_str().unwrap(),
        ];
        run(args(&argv), &Catalog, &mut Vec::new()).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.contains("\"synthetic\": (synthetic: (bars: 5000, seed: 4, interval: \"1m\")),"),
            "{text}"
        );
        assert!(text.contains("random: (n: 10, seed: 4),"), "{text}");
        let q = Queue::from_path(&out).unwrap();
        let ids: Vec<String> = q.iter().map(|s| s.id).collect();
        assert!(ids.iter().all(|id| id.starts_with("rnd/synthetic/lower=")), "{ids:?}");

        let expanded = dir.path().join("expanded.ron");
        let argv = ["--expand", out.to_str().unwrap(), "-o", expanded.to_str().unwrap()];
        run(args(&argv), &Catalog, &mut Vec::new()).unwrap();
        let e = Queue::from_path(&expanded).unwrap();
        assert_eq!(e.iter().map(|s| s.id).collect::<Vec<_>>(), ids);
        assert!(!std::fs::read_to_string(&expanded).unwrap().contains("sweeps:"));
    }

    #[test]
    fn without_a_grid_there_is_one_simulation_per_dataset() {
        let dir = layout();
        let out = dir.path().join("one.ron");
        let data = dir.path().join("data/GOOG.csv");
        let argv = [
            "--strategy",
            "sma_cross",
            "--param",
            "fast=10",
            "--param",
            "slow=20",
            "--data",
            data.to_str().unwrap(),
            "--synthetic-bars",
            "100",
            "-o",
            out.to_str().unwrap(),
        ];
        run(args(&argv), &Catalog, &mut Vec::new()).unwrap();
        let ids: Vec<String> = Queue::from_path(&out).unwrap().iter().map(|s| s.id).collect();
        assert_eq!(ids, ["sma_cross/GOOG", "sma_cross/synthetic"]);
    }

    #[test]
    fn invalid_results_are_not_written() {
        let dir = layout();
        let out = dir.path().join("bad.ron");
        let data = dir.path().join("data/GOOG.csv");
        let o = out.to_str().unwrap();
        let d = data.to_str().unwrap();
        let cases: [(&[&str], &str); 6] = [
            (
                &[
                    "--strategy",
                    "sma_cross",
                    "--grid",
                    "fast=5..=9",
                    "--grid",
                    "slow=1,2",
                    "--data",
                    d,
                    "-o",
                    o,
                ],
                "fast must be below slow",
            ),
            (
                &["--strategy", "sma_crossover", "--grid", "fast=5", "--data", d, "-o", o],
                "unknown strategy",
            ),
            (
                &[
                    "--strategy",
                    "sma_cross",
                    "--grid",
                    "fast=5..=9",
                    "--where",
                    "fast <",
                    "--data",
                    d,
                    "-o",
                    o,
                ],
                "column 7",
            ),
            (
                &["--strategy", "sma_cross", "--grid", "fast=5..9", "--data", d, "-o", o],
                "inclusive",
            ),
            (&["--strategy", "sma_cross", "--grid", "fast=5", "-o", o], "no data"),
            (
                &[
                    "--strategy",
                    "sma_cross",
                    "--grid",
                    "fast=5",
                    "--data",
                    "nope.csv",
                    "--commission",
                    "0.2",
                    "-o",
                    o,
                ],
                "commission = 0.2",
            ),
        ];
        for (argv, expected) in cases {
            let e = format!("{:#}", run(args(argv), &Catalog, &mut Vec::new()).unwrap_err());
            assert!(e.contains(expected), "{argv:?}: {e}");
            assert!(!out.exists(), "{argv:?} wrote a file");
        }
    }

    #[test]
    fn broker_realism_flags_become_queue_defaults() {
        let dir = layout();
        let out = dir.path().join("out/real.ron");
        let data = dir.path().join("data/GOOG.csv");
        let argv = [
            "--strategy",
            "sma_cross",
            "--data",
            data.to_str().unwrap(),
            "--trailing-atr",
            "3",
            "--atr-periods",
            "50",
            "--slippage",
            "0.0005",
            "--fractional-unit",
            "0.01",
            "-o",
            out.to_str().unwrap(),
        ];
        run(args(&argv), &Catalog, &mut Vec::new()).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(
            text.contains(
                "defaults: (trailing_atr: 3.0, atr_periods: 50, fractional_unit: 0.01, slippage: 0.0005),"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "--trailing-atr 3 --atr-periods 50 --fractional-unit 0.01 --slippage 0.0005`"
            ),
            "{text}"
        );
        let q = Queue::from_path(&out).unwrap();
        let spec = q.iter().next().unwrap();
        assert_eq!((spec.config.trailing_atr, spec.config.atr_periods), (Some(3.0), 50));
    }

    #[test]
    fn flag_conflicts_are_rejected_by_the_parser() {
        let parse = |argv: &[&str]| {
            Cli::try_parse_from(std::iter::once("gen-queue").chain(argv.iter().copied()))
        };
        assert!(parse(&["--expand", "q.ron", "--strategy", "x", "-o", "o.ron"]).is_err());
        assert!(
            parse(&["--strategy", "x", "--random", "5", "-o", "o.ron"]).is_err(),
            "--random needs --grid"
        );
        assert!(parse(&["--grid", "fast=5", "-o", "o.ron"]).is_err(), "--strategy required");
        assert!(
            parse(&["--strategy", "x", "--interval", "1x", "--synthetic-bars", "5", "-o", "o"])
                .is_err()
        );
        let a =
            args(&["--strategy", "x", "--hedging=false", "--commission", "-0.001", "-o", "o.ron"]);
        assert_eq!((a.config.hedging, a.config.commission), (Some(false), Some(-0.001)));
        assert_eq!(
            command_line(&a),
            "bt gen-queue --strategy x --commission -0.001 --hedging=false"
        );
    }
}
