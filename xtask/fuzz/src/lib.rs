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

/// CSV bytes -> bars or a located error; bars round-trip through both writers.
pub fn csv(data: &[u8]) {
    let path = scratch_file("input.csv", data);
    load_and_round_trip(&path);
}

/// Parquet input -> bars or a located error; bars round-trip through both writers.
///
/// The first byte picks the mode: raw bytes (mutations of the seed files), or a table of
/// arbitrary columns written by bt's own Parquet table writer, which reaches the loader's
/// column, type and value checks far more often than random bytes.
pub fn parquet(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let path = if mode % 2 == 0 {
        scratch_file("input.parquet", rest)
    } else {
        let Ok(table) = Table::arbitrary_take_rest(Unstructured::new(rest)) else { return };
        let path = scratch().join("table.parquet");
        if bt_data::write_table_parquet(&table.columns(), &path).is_err() {
            return;
        }
        path
    };
    load_and_round_trip(&path);
}

/// Set while bt-data reads a file: see [`tolerate_polars_panics`].
static IN_LOAD: AtomicBool = AtomicBool::new(false);

/// bt-data turns a panic inside polars (on its pool threads too) into
/// `DataError::ReaderFailed`, but libFuzzer's panic hook aborts on every panic, caught or not.
/// Wraps that hook to let through panics raised in polars' own code while a load runs; a panic
/// anywhere else (bt's code included) still aborts and is a finding. The polars panics found
/// this way are kept in `regressions/parquet/` and listed in docs/testing.md.
fn tolerate_polars_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_polars = info.location().is_some_and(|l| l.file().contains("/polars-"));
            if !(in_polars && IN_LOAD.load(Ordering::SeqCst)) {
                previous(info);
            }
        }));
    });
}

fn load(path: &Path) -> Result<Bars, bt_data::DataError> {
    tolerate_polars_panics();
    IN_LOAD.store(true, Ordering::SeqCst);
    let result = bt_data::load(path);
    IN_LOAD.store(false, Ordering::SeqCst);
    result
}

fn load_and_round_trip(path: &Path) {
    let bars = match load(path) {
        Ok(bars) => bars,
        Err(e) => {
            // Every error names the file.
            let message = e.to_string();
            assert!(
                message.contains(&*path.to_string_lossy()),
                "error without the path: {message}"
            );
            return;
        }
    };
    for ext in ["csv", "parquet"] {
        let out = scratch().join(format!("roundtrip.{ext}"));
        bt_data::save(&bars, &out).unwrap_or_else(|e| panic!("writing loaded bars failed: {e}"));
        let back = load(&out).unwrap_or_else(|e| panic!("reloading written bars: {e}"));
        assert!(same_bars(&bars, &back), "bars changed through {ext}");
    }
}

/// Bit-for-bit equality (`-0.0` and `0.0` differ, as they would in a result).
fn same_bars(a: &Bars, b: &Bars) -> bool {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    a.timestamps() == b.timestamps()
        && bits(a.open()) == bits(b.open())
        && bits(a.high()) == bits(b.high())
        && bits(a.low()) == bits(b.low())
        && bits(a.close()) == bits(b.close())
        && bits(a.volume()) == bits(b.volume())
}

/// A table for the structured Parquet mode.
#[derive(Debug, Arbitrary)]
struct Table {
    columns: Vec<(ColumnName, ColumnData)>,
}

#[derive(Debug, Arbitrary)]
enum ColumnName {
    Known(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum ColumnData {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Str(Vec<String>),
    /// Plausible prices, so that some tables pass validation and reach the round trip.
    Prices {
        start: u16,
        steps: Vec<i8>,
    },
    /// Increasing epoch timestamps in seconds.
    Epochs {
        start: u32,
        steps: Vec<u16>,
    },
}

impl Table {
    fn columns(&self) -> Vec<(String, bt_data::TableColumn)> {
        use bt_data::TableColumn as C;
        const NAMES: [&str; 9] =
            ["Date", "timestamp", "Open", "High", "Low", "Close", "Volume", "open", ""];
        let len = self.columns.iter().map(|(_, d)| d.len()).max().unwrap_or(0).min(512);
        let mut out: Vec<(String, C)> = Vec::new();
        for (name, data) in &self.columns {
            let name = match name {
                ColumnName::Known(i) => NAMES[*i as usize % NAMES.len()].to_owned(),
                ColumnName::Other(s) => s.clone(),
            };
            if out.iter().any(|(n, _)| *n == name) {
                continue;
            }
            out.push((name, data.column(len)));
        }
        out
    }
}

impl ColumnData {
    fn len(&self) -> usize {
        match self {
            ColumnData::F64(v) => v.len(),
            ColumnData::I64(v) => v.len(),
            ColumnData::Str(v) => v.len(),
            ColumnData::Prices { steps, .. } => steps.len(),
            ColumnData::Epochs { steps, .. } => steps.len(),
        }
    }

    /// The column at exactly `len` values (cycled or padded), as the table writer requires.
    fn column(&self, len: usize) -> bt_data::TableColumn {
        use bt_data::TableColumn as C;
        fn fit<T: Clone>(v: &[T], len: usize, pad: T) -> Vec<T> {
            (0..len)
                .map(|i| if v.is_empty() { pad.clone() } else { v[i % v.len()].clone() })
                .collect()
        }
        match self {
            ColumnData::F64(v) => C::F64(fit(v, len, 1.0)),
            ColumnData::I64(v) => C::I64(fit(v, len, 0)),
            ColumnData::Str(v) => C::Str(fit(v, len, String::new())),
            ColumnData::Prices { start, steps } => {
                let mut p = f64::from(*start).max(1.0);
                C::F64(
                    fit(steps, len, 0)
                        .into_iter()
                        .map(|s| {
                            p = (p * (1.0 + f64::from(s) / 1024.0)).max(1e-6);
                            p
                        })
                        .collect(),
                )
            }
            ColumnData::Epochs { start, steps } => {
                let mut t = i64::from(*start);
                C::I64(
                    fit(steps, len, 1)
                        .into_iter()
                        .map(|s| {
                            t += i64::from(s);
                            t
                        })
                        .collect(),
                )
            }
        }
    }
}

/// One backtest as `bt backtest` runs it: arbitrary valid bars, any strategy, any parameters,
/// any broker settings.
#[derive(Debug, Arbitrary)]
struct BacktestInput {
    bars: BarsInput,
    strategy: u8,
    params: Vec<ParamChoice>,
    extra_param: Option<(String, ParamInput)>,
    config: ConfigInput,
}

#[derive(Debug, Arbitrary)]
struct BarsInput {
    /// Seconds between bars, folded into 1 s ..= 31 days.
    step: u32,
    /// Price scale: 10^(exponent mod 21 - 8), from 1e-8 to 1e12.
    exponent: u8,
    bars: Vec<BarInput>,
    zero_volume: bool,
}

#[derive(Debug, Arbitrary)]
struct BarInput {
    /// Close-to-close move in 1/65536ths, up to +-50 % (0 gives flat stretches).
    change: i16,
    /// Open relative to the previous close, in 1/4096ths.
    gap: i8,
    /// How far high and low reach beyond the body, in 1/4096ths.
    up: u8,
    down: u8,
    volume: u16,
}

#[derive(Debug, Arbitrary)]
enum ParamChoice {
    /// Leave the parameter to its default (or missing, if required).
    Omit,
    /// A value of the right type.
    Typed(ParamInput),
    /// Whatever value and type.
    Any(ParamInput),
}

#[derive(Debug, Clone, Arbitrary)]
enum ParamInput {
    SmallInt(i8),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl ParamInput {
    fn value(&self) -> ParamValue {
        match self {
            ParamInput::SmallInt(v) => ParamValue::Int(i64::from(*v)),
            ParamInput::Int(v) => ParamValue::Int(*v),
            ParamInput::Float(v) => ParamValue::Float(*v),
            ParamInput::Bool(v) => ParamValue::Bool(*v),
            ParamInput::Str(v) => ParamValue::Str(v.clone()),
        }
    }

    /// A value of `kind` derived from this input.
    fn typed(&self, kind: ParamKind) -> ParamValue {
        let n = match self {
            ParamInput::SmallInt(v) => f64::from(*v),
            ParamInput::Int(v) => *v as f64,
            ParamInput::Float(v) => *v,
            ParamInput::Bool(v) => f64::from(u8::from(*v)),
            ParamInput::Str(s) => s.len() as f64,
        };
        match kind {
            ParamKind::Int => match self {
                ParamInput::Int(v) => ParamValue::Int(*v),
                _ => ParamValue::Int(n as i64),
            },
            ParamKind::Float => ParamValue::Float(n),
            ParamKind::Bool => ParamValue::Bool(n != 0.0),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct ConfigInput {
    /// Raw values are used as they are, to reach the config validation too.
    raw: bool,
    cash: f64,
    commission: f64,
    commission_fixed: f64,
    spread: f64,
    margin: f64,
    trade_on_close: bool,
    hedging: bool,
    exclusive_orders: bool,
    finalize_trades: bool,
    /// 0: no trailing stop, 1: `trailing_atr`, 2: `trailing_pct`, 3: both (invalid).
    trailing: u8,
    trail: f64,
    atr_periods: u8,
    /// `fractional_unit = 10^-(n % 10)` when set.
    fractional: Option<u8>,
    slippage: f64,
    slippage_fixed: f64,
}

impl ConfigInput {
    /// The realism settings (trailing stop, fractional units, slippage) on `base`.
    fn realism(&self, base: BacktestConfig, raw: bool) -> BacktestConfig {
        let unit = |x: f64| if x.is_finite() { x.abs().fract() } else { 0.0 };
        let trail = if raw { self.trail } else { 0.5 + unit(self.trail) * 5.0 };
        let pct = if raw { self.trail } else { 0.01 + unit(self.trail) * 0.2 };
        BacktestConfig {
            trailing_atr: matches!(self.trailing % 4, 1 | 3).then_some(trail),
            trailing_pct: matches!(self.trailing % 4, 2 | 3).then_some(pct),
            atr_periods: if raw {
                usize::from(self.atr_periods)
            } else {
                1 + usize::from(self.atr_periods % 120)
            },
            fractional_unit: self.fractional.map(|n| 10f64.powi(-i32::from(n % 10))),
            slippage: if raw { self.slippage } else { unit(self.slippage) * 0.01 },
            slippage_fixed: if raw {
                self.slippage_fixed
            } else {
                unit(self.slippage_fixed) * 0.01
            },
            ..base
        }
    }

    fn config(&self) -> BacktestConfig {
        // Folds any finite value into [0, 1); NaN and infinities to 0.
        let unit = |x: f64| if x.is_finite() { x.abs().fract() } else { 0.0 };
        let base = BacktestConfig {
            trade_on_close: self.trade_on_close,
            hedging: self.hedging,
            exclusive_orders: self.exclusive_orders,
            finalize_trades: self.finalize_trades,
            ..BacktestConfig::default()
        };
        if self.raw {
            let raw = BacktestConfig {
                cash: self.cash,
                commission: self.commission,
                commission_fixed: self.commission_fixed,
                spread: self.spread,
                margin: self.margin,
                ..base
            };
            return self.realism(raw, true);
        }
        let folded = BacktestConfig {
            cash: 10f64.powf(1.0 + unit(self.cash) * 14.0),
            commission: unit(self.commission) * 0.02 - 0.005,
            commission_fixed: unit(self.commission_fixed) * 5.0,
            spread: unit(self.spread) * 0.01,
            margin: 1.0 - unit(self.margin) * 0.99,
            ..base
        };
        self.realism(folded, false)
    }
}

impl BarsInput {
    fn bars(&self) -> Option<Bars> {
        let n = self.bars.len().min(600);
        let scale = 10f64.powi(i32::from(self.exponent % 21) - 8);
        let step = (i64::from(self.step % 2_678_400) + 1) * 1_000_000_000;
        let (mut ts, mut open, mut high, mut low, mut close, mut volume) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut prev = 100.0 * scale;
        for (i, b) in self.bars[..n].iter().enumerate() {
            let o = prev * (1.0 + f64::from(b.gap) / 4096.0);
            let c = (prev * (1.0 + f64::from(b.change) / 65536.0)).max(scale * 1e-3);
            let h = o.max(c) * (1.0 + f64::from(b.up) / 4096.0);
            let l = o.min(c) * (1.0 - f64::from(b.down) / 4096.0);
            ts.push(1_600_000_000_000_000_000 + i as i64 * step);
            open.push(o);
            high.push(h);
            low.push(l);
            close.push(c);
            volume.push(if self.zero_volume { 0.0 } else { f64::from(b.volume) });
            prev = c;
        }
        Bars::new(ts, open, high, low, close, volume).ok()
    }
}

/// Arbitrary bytes -> a backtest of a built-in strategy; see the crate docs for what is checked.
pub fn backtest(data: &[u8]) {
    let Ok(input) = BacktestInput::arbitrary_take_rest(Unstructured::new(data)) else { return };
    let Some(bars) = input.bars.bars() else { return };
    let registry = registry();
    let names = registry.names();
    let name = names[input.strategy as usize % names.len()];
    let specs = registry.describe(name).expect("a listed strategy describes itself");
    let mut params = Params::new();
    for (spec, choice) in specs.iter().zip(&input.params) {
        match choice {
            ParamChoice::Omit => {}
            ParamChoice::Typed(v) => {
                params.insert(spec.name.to_string(), v.typed(spec.kind));
            }
            ParamChoice::Any(v) => {
                params.insert(spec.name.to_string(), v.value());
            }
        }
    }
    if let Some((key, value)) = &input.extra_param {
        params.insert(key.clone(), value.value());
    }
    let checked = registry.check(name, &params);
    let built = registry.build(name, &params);
    assert_eq!(
        checked.is_ok(),
        built.is_ok(),
        "check and build disagree on {name} {params:?}: {checked:?}"
    );
    let Ok(strategy) = built else { return };
    registry.canonical_params(name, &params).expect("checked params have a canonical form");

    let config = input.config.config();
    let ds = DatasetStats::new(&bars);
    let cache = IndicatorCache::new();
    let run = |mut strategy: Box<dyn bt_engine::Strategy>| {
        let mut observer = (StatsAccumulator::new(&ds), EquityCurve(Vec::new()));
        let result = bt_engine::run(&bars, strategy.as_mut(), &config, &cache, &mut observer)
            .map_err(|e| e.to_string())?;
        let (acc, curve) = observer;
        let stats = acc.finish(&RunFacts { trades: &result.trades, warmup: result.warmup });
        Ok::<_, String>((format!("{result:?}"), format!("{stats:?}"), curve.0))
    };
    let first = run(strategy);
    if config.validate().is_err() {
        assert!(first.is_err(), "an invalid config ran: {config:?}");
        return;
    }
    // A clean error is a fine outcome (a period longer than the data, sizes that overflow f64);
    // a panic or a NaN result is not.
    let Ok((result, stats, curve)) = first else { return };
    assert_eq!(curve.len(), bars.len(), "the equity stream skipped bars");
    assert!(curve.iter().all(|e| e.is_finite()), "non-finite equity: {curve:?}");
    let again = run(registry.build(name, &params).expect("built once, builds again"))
        .expect("ran once, runs again");
    assert_eq!((&result, &stats), (&again.0, &again.1), "a second run differs");
}
