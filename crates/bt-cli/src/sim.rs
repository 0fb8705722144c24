//! Wiring: strategies + engine + statistics behind the executor's `Simulator`, the registry
//! behind the queue's `StrategyCatalog`, and queue data sets loaded through bt-data.

use std::collections::BTreeMap;

use anyhow::Context as _;
use bt_domain::{Bars, EquityCurve, Params, SimSpec, SimSummary, Stats, Trade};
use bt_engine::{BacktestResult, IndicatorCache};
use bt_queue::{DatasetSource, Queue, StrategyCatalog};
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator};
use bt_strategies::Registry;

/// One data set, prepared once and shared by all its simulations.
#[derive(Debug)]
pub struct Prepared {
    pub bars: Bars,
    pub cache: IndicatorCache,
    pub stats: DatasetStats,
    pub source: String,
}

impl Prepared {
    pub fn new(bars: Bars, source: String) -> Prepared {
        Prepared { stats: DatasetStats::new(&bars), cache: IndicatorCache::new(), bars, source }
    }
}

/// Runs a strategy from the registry through the engine and computes its statistics.
#[derive(Debug)]
pub struct Backtester<'r> {
    pub registry: &'r Registry,
}

/// A finished backtest with everything a caller may want to show.
#[derive(Debug)]
pub struct Detailed {
    pub params: Params,
    pub result: BacktestResult,
    pub stats: Stats,
    pub equity: Option<Vec<f64>>,
}

impl Backtester<'_> {
    /// One backtest; keeps the equity curve when `record_curve`.
    pub fn run(
        &self,
        spec: &SimSpec,
        data: &Prepared,
        record_curve: bool,
    ) -> anyhow::Result<Detailed> {
        let _sim = tracing::debug_span!("sim").entered();
        let params = self.registry.canonical_params(&spec.strategy, &spec.params)?;
        let mut strategy = self.registry.build(&spec.strategy, &spec.params)?;
        let mut acc = StatsAccumulator::new(&data.stats);
        let engine = tracing::debug_span!("engine").entered();
        let (result, equity) = if record_curve {
            let mut pair = (acc, EquityCurve(Vec::with_capacity(data.bars.len())));
            let result = bt_engine::run(
                &data.bars,
                strategy.as_mut(),
                &spec.config,
                &data.cache,
                &mut pair,
            )?;
            acc = pair.0;
            (result, Some(pair.1.0))
        } else {
            let result =
                bt_engine::run(&data.bars, strategy.as_mut(), &spec.config, &data.cache, &mut acc)?;
            (result, None)
        };
        drop(engine);
        let stats = {
            let _stats = tracing::debug_span!("stats").entered();
            acc.finish(&RunFacts { trades: &result.trades, warmup: result.warmup })
        };
        Ok(Detailed { params, result, stats, equity })
    }
}

impl bt_executor::Simulator for Backtester<'_> {
    type Dataset = Prepared;

    fn simulate(&self, spec: &SimSpec, data: &Prepared) -> Result<(Params, SimSummary), String> {
        let d = self.run(spec, data, false).map_err(|e| format!("{e:#}"))?;
        Ok((
            d.params,
            SimSummary {
                stats: d.stats,
                n_bars: d.result.n_bars as u64,
                bar_steps: d.result.bar_steps as u64,
                open_trades: d.result.open_trades.len() as u64,
                cancelled_orders: d.result.cancelled_orders,
                bust_bar: d.result.bust_bar.map(|b| b as u64),
            },
        ))
    }
}

/// The strategy registry as the queue validator sees it.
#[derive(Debug)]
pub struct Catalog<'r>(pub &'r Registry);

impl StrategyCatalog for Catalog<'_> {
    fn check(&self, strategy: &str, params: &Params) -> Result<(), String> {
        self.0.check(strategy, params).map_err(|e| e.to_string())
    }
}

/// Loads (or generates) every data set of a queue, before any simulation starts, so polars'
/// thread pool and the simulation pool never compete for the cores.
pub fn load_datasets(queue: &Queue) -> anyhow::Result<BTreeMap<String, Prepared>> {
    let mut out = BTreeMap::new();
    for (name, source) in queue.datasets() {
        let _span = tracing::info_span!("load", dataset = %name).entered();
        let (bars, source) = match source {
            DatasetSource::File(path) => (bt_data::load(path)?, path.display().to_string()),
            DatasetSource::Synthetic(s) => {
                let bars = bt_data::synthetic::generate(s)
                    .with_context(|| format!("generating synthetic data set {name:?}"))?;
                (
                    bars,
                    format!(
                        "synthetic(bars: {}, seed: {}, interval: {})",
                        s.bars, s.seed, s.interval
                    ),
                )
            }
        };
        out.insert(name.clone(), Prepared::new(bars, source));
    }
    Ok(out)
}

/// Trades of a result, closed and still open, for charts.
pub fn all_trades(result: &BacktestResult) -> Vec<Trade> {
    result.trades.iter().chain(&result.open_trades).cloned().collect()
}

/// The hash a run directory records: the queue's own hash (its text and data paths) combined
/// with a fingerprint of every data file's bytes, so `--resume` and `bt merge` refuse results
/// computed from data that has changed since.
pub fn run_hash(queue: &Queue) -> anyhow::Result<String> {
    let mut text = queue.hash().to_owned();
    for (name, source) in queue.datasets() {
        if let DatasetSource::File(path) = source {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading data set {name:?} ({})", path.display()))?;
            text.push_str(&format!(
                "|{name}:{}:{:016x}",
                bytes.len(),
                bt_executor::fnv1a_64(&bytes)
            ));
        }
    }
    Ok(format!("{:016x}", bt_executor::fnv1a_64(text.as_bytes())))
}
