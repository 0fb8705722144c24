//! Fuzz targets for everything bt reads from outside: queue files, CSV and Parquet data, and
//! backtests of the built-in strategies on arbitrary (valid) bars with arbitrary parameters.
//!
//! Each target is a plain function from bytes, so the same code runs under libFuzzer
//! (`fuzz_targets/*.rs`, built by `cargo fuzz` through `cargo xtask fuzz`, see docs/testing.md)
//! and in `cargo test`, which replays the committed seed corpus (`corpus/<target>/`) and every
//! past finding (`regressions/<target>/<finding>`) through it.
//!
//! A target fails by panicking. Besides "no panic on any input", each checks a property that
//! holds for every input its parser accepts:
//! - [`queue`]: a queue that validates expands (`bt gen-queue --expand`) to a queue with the
//!   same simulations, ids unique, `len()` equal to what `iter()` yields;
//! - [`csv`], [`parquet`]: bars that load write back and reload bit for bit, in both formats;
//! - [`backtest`]: strategy parameters the registry accepts build a strategy (and those it
//!   rejects do not), the run covers every bar, equity is finite, and a second run is
//!   identical.
//! - [`rules`]: a rules file that checks compiles with its defaults and runs twice to the same
//!   equity bits.
//!
//! This crate is test tooling: nothing depends on it.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    sync::{
        Once, OnceLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use arbitrary::{Arbitrary, Unstructured};
use bt_domain::{BacktestConfig, Bars, EquityCurve, ParamValue, Params, SimSpec};
use bt_engine::IndicatorCache;
use bt_queue::Queue;
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator};
use bt_strategies::{ParamKind, Registry};

mod backtest;
mod data;

pub use crate::{
    backtest::backtest,
    data::{csv, parquet},
};

/// A fuzz target: panics when it finds a bug.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `cargo xtask fuzz` and the replay test know them.
pub const TARGETS: [(&str, Target); 5] = [
    ("queue", queue),
    ("csv", csv),
    ("parquet", parquet),
    ("backtest", backtest),
    ("rules", rules),
];

/// Queues with more simulations than this are only validated, not expanded.
const MAX_EXPANDED: u64 = 2_000;

/// A scratch directory per thread (the replay test runs targets on parallel threads), with
/// `data.csv` for queues to name. Under `BT_FUZZ_SCRATCH` when set (`cargo xtask fuzz` sets it
/// and removes it afterwards: libFuzzer exits without running destructors), else in tmpfs or
/// the temporary directory, removed when the thread ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

thread_local! {
    static SCRATCH: Scratch = Scratch(make_scratch());
}

fn make_scratch() -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let base = match std::env::var_os("BT_FUZZ_SCRATCH") {
        Some(dir) => PathBuf::from(dir),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
        None => std::env::temp_dir(),
    };
    let dir = base.join(format!(
        "bt-fuzz-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create the fuzz scratch directory");
    std::fs::write(
        dir.join("data.csv"),
        "Date,Open,High,Low,Close,Volume\n\
         2024-01-01,10,11,9,10.5,100\n2024-01-02,10.5,12,10,11,100\n\
         2024-01-03,11,11.5,10,10.2,100\n2024-01-04,10.2,10.8,9.5,10.6,100\n",
    )
    .expect("write the fuzz data file");
    dir
}

fn scratch() -> PathBuf {
    SCRATCH.with(|s| s.0.clone())
}

/// Writes `data` to a scratch file named `name` and returns its path.
fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    let mut f = std::fs::File::create(&path).expect("create a scratch file");
    f.write_all(data).expect("write a scratch file");
    path
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::builtin)
}

/// Queue text (any bytes) -> parse -> validate -> expand -> parse -> same simulations.
pub fn queue(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let base = scratch();
    let Ok(queue) = Queue::from_str(text, &base, "fuzz.ron") else { return };
    let catalog = registry();
    // Messages are rendered too: formatting must not panic either.
    if let Err(e) = queue.validate(catalog) {
        let _ = e.to_string();
        return;
    }
    let len = queue.len();
    if len > MAX_EXPANDED {
        assert!(queue.iter().take(MAX_EXPANDED as usize).count() == MAX_EXPANDED as usize);
        return;
    }
    let specs: Vec<SimSpec> = queue.iter().collect();
    assert_eq!(specs.len() as u64, len, "len() disagrees with iter()");
    let mut ids: Vec<&str> = specs.iter().map(|s| s.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), specs.len(), "a validated queue yields duplicate ids");

    let expanded = bt_queue::expand(&queue, &base, &[]);
    let again = Queue::from_str(&expanded, &base, "expanded.ron")
        .unwrap_or_else(|e| panic!("the expanded queue does not parse: {e}\n{expanded}"));
    if let Err(e) = again.validate(catalog) {
        panic!("the expanded queue does not validate: {e}\n{expanded}");
    }
    let specs_again: Vec<SimSpec> = again.iter().collect();
    assert_eq!(specs.len(), specs_again.len(), "expansion changed the number of simulations");
    for (a, b) in specs.iter().zip(&specs_again) {
        assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "expansion changed a simulation\n{expanded}"
        );
    }
}

/// Rules file text (any bytes) -> check -> compile with its defaults -> a backtest on fixed
/// bars: a located error or a run, never a panic; the same run twice gives the same equity.
pub fn rules(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let rules = match bt_rules::Rules::from_str(text, "fuzz.rules") {
        Ok(rules) => rules,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let specs = rules.param_specs();
    let params: Params =
        specs.iter().filter_map(|p| Some((p.name.to_string(), p.default.clone()?))).collect();
    if params.len() != specs.len() {
        return;
    }
    let bars = rules_bars();
    let run = || {
        let mut strategy = rules.strategy("fuzz", &params).ok()?;
        let mut curve = EquityCurve(Vec::new());
        let config = BacktestConfig::default();
        bt_engine::run(bars, &mut strategy, &config, &IndicatorCache::new(), &mut curve).ok()?;
        Some(curve.0)
    };
    if let Some(first) = run() {
        let again = run().expect("the same rules ran once");
        assert!(
            first.iter().zip(&again).all(|(a, b)| a.to_bits() == b.to_bits()),
            "a rules strategy is not deterministic"
        );
    }
}

/// 400 hourly bars of a seeded random walk for the `rules` target.
fn rules_bars() -> &'static Bars {
    static BARS: OnceLock<Bars> = OnceLock::new();
    BARS.get_or_init(|| {
        let mut rng = bt_domain::rng::SplitMix64::new(11);
        let mut close = 100.0;
        let (mut o, mut h, mut l, mut c) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..400 {
            let open = close;
            close *= 1.0 + (rng.unit_f64() - 0.5) * 0.04;
            o.push(open);
            h.push(open.max(close) * 1.01);
            l.push(open.min(close) * 0.99);
            c.push(close);
        }
        let ts = (0..400).map(|i| i * 3_600_000_000_000).collect();
        Bars::new(ts, o, h, l, c, vec![1.0; 400]).expect("valid bars")
    })
}
