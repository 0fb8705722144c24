use bt_domain::{
    EquityCurve, Params, ReturnStats, SimSpec, SimSummary, Stats, StrategyError, Trade,
};
use bt_engine::{BacktestResult, EngineError};
use bt_stats::{LANES, LaneCurves, RunAccumulator, RunFacts};
use bt_strategies::Registry;

use crate::{dataset::Dataset, walk_forward::WalkForwards};

/// Why one simulation failed: its strategy or parameters, or the backtest itself.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// An unknown strategy or a bad parameter.
    #[error(transparent)]
    Strategy(#[from] StrategyError),
    /// The engine refused a strategy action, or the account overflowed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A portfolio strategy or run failed (docs/portfolio.md).
    #[error(transparent)]
    Portfolio(#[from] bt_portfolio::PortfolioError),
    /// A walk-forward window's out-of-sample run failed (the window and why).
    #[error("walk-forward window {0}")]
    WalkForward(String),
}

impl SimError {
    /// Always [`bt_domain::ErrorKind::Input`]: the strategy, its parameters or the data.
    pub fn kind(&self) -> bt_domain::ErrorKind {
        bt_domain::ErrorKind::Input
    }
}

/// A finished backtest with everything a caller may want to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Backtest {
    /// The parameters, with the strategy's defaults filled in.
    pub params: Params,
    /// Trades, balances and run facts.
    pub result: BacktestResult,
    /// The 32 statistics.
    pub stats: Stats,
    /// The per-bar return statistics (Sharpe ratio, PSR, the PBO's blocks).
    pub returns: ReturnStats,
    /// The equity curve, one value per bar, when it was asked for.
    pub equity: Option<Vec<f64>>,
    /// Per instrument, for a portfolio run (exposure, turnover, contribution).
    pub instruments: Option<Vec<bt_portfolio::InstrumentSummary>>,
    /// A portfolio run's weights over time, when the curve was asked for.
    pub weights: Option<crate::portfolio::PortfolioWeights>,
}

impl Backtest {
    /// Closed trades, then the trades still open at the end (for charts).
    pub fn all_trades(&self) -> Vec<Trade> {
        self.result.trades.iter().chain(&self.result.open_trades).cloned().collect()
    }

    /// The run's summary as a results record holds it.
    pub fn summary(&self) -> SimSummary {
        SimSummary {
            stats: self.stats,
            returns: self.returns.clone(),
            n_bars: self.result.n_bars as u64,
            bar_steps: self.result.bar_steps as u64,
            open_trades: self.result.open_trades.len() as u64,
            cancelled_orders: self.result.cancelled_orders,
            bust_bar: self.result.bust_bar.map(|b| b as u64),
        }
    }
}

/// Runs a registry strategy through the engine and computes its statistics: the unit of work
/// the executor schedules (it implements [`bt_executor::Simulator`]).
#[derive(Debug, Clone, Copy)]
pub struct Simulator<'r> {
    registry: &'r Registry,
    pbo_blocks: usize,
    /// The run's walk-forwards, whose out-of-sample simulations run their window chains.
    walk_forwards: Option<&'r WalkForwards<'r>>,
}

/// Simulations of at most this many bars have their statistics folded together
/// ([`bt_executor::Simulator::simulate_many`]): [`LANES`] curves of them take 4 MiB.
pub const LOCKSTEP_MAX_BARS: usize = 1 << 16;

/// The PBO's default number of blocks of returns.
pub const DEFAULT_PBO_BLOCKS: usize = 16;

impl<'r> Simulator<'r> {
    /// A simulator building strategies from `registry`, keeping [`DEFAULT_PBO_BLOCKS`] blocks
    /// of returns per simulation for the PBO.
    pub fn new(registry: &'r Registry) -> Simulator<'r> {
        Simulator { registry, pbo_blocks: DEFAULT_PBO_BLOCKS, walk_forwards: None }
    }

    /// With the walk-forwards of the run, for their out-of-sample simulations.
    pub(crate) fn with_walk_forwards(mut self, wf: &'r WalkForwards<'r>) -> Simulator<'r> {
        self.walk_forwards = Some(wf);
        self
    }

    /// Blocks of returns kept per simulation for the PBO.
    pub(crate) fn pbo_blocks(&self) -> usize {
        self.pbo_blocks
    }

    /// The strategy of `spec`, built, and its parameters as records keep them: the strategy's
    /// canonical parameters (defaults filled in) plus the broker settings given as parameters.
    pub(crate) fn prepare(
        &self,
        spec: &SimSpec,
    ) -> Result<(Params, Box<dyn bt_engine::Strategy>), SimError> {
        // Broker settings given as parameters (a sweep over `trailing_atr`) are in
        // `spec.config` already; the strategy gets the rest, the record keeps them all.
        let strategy_params = spec.strategy_params();
        let mut params = self.registry.canonical_params(&spec.strategy, &strategy_params)?;
        let strategy = self.registry.build(&spec.strategy, &strategy_params)?;
        if strategy_params.len() != spec.params.len() {
            for (k, v) in &spec.params {
                params.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        Ok((params, strategy))
    }

    /// With `blocks` blocks of returns per simulation (0: no PBO).
    pub fn with_pbo_blocks(mut self, blocks: usize) -> Simulator<'r> {
        self.pbo_blocks = blocks;
        self
    }

    /// One backtest; keeps the equity curve when `record_curve`.
    pub fn run(
        &self,
        spec: &SimSpec,
        data: &Dataset,
        record_curve: bool,
    ) -> Result<Backtest, SimError> {
        let _sim = tracing::debug_span!("sim").entered();
        let (params, mut strategy) = self.prepare(spec)?;
        if let Some(portfolio) = &data.portfolio {
            return crate::portfolio::run(
                spec,
                data,
                portfolio,
                params,
                strategy,
                record_curve,
                self.pbo_blocks,
            );
        }
        let mut acc = RunAccumulator::new(&data.stats, self.pbo_blocks);
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
        let (stats, returns) = {
            let _stats = tracing::debug_span!("stats").entered();
            acc.finish(&RunFacts { trades: &result.trades, warmup: result.warmup })
        };
        Ok(Backtest { params, result, stats, returns, equity, instruments: None, weights: None })
    }
}

impl bt_executor::Simulator for Simulator<'_> {
    type Dataset = Dataset;
    type Error = SimError;

    fn simulate(&self, spec: &SimSpec, data: &Dataset) -> Result<(Params, SimSummary), SimError> {
        if let Some(wf) = self.walk_forwards
            && let Some(out) = wf.simulate(self, spec)
        {
            return out;
        }
        let b = self.run(spec, data, false)?;
        let summary = b.summary();
        Ok((b.params, summary))
    }

    /// Runs each simulation's engine alone, recording its equity, and folds the statistics of
    /// [`LANES`] of them together ([`bt_stats::LaneCurves`]): the same results, bit for bit,
    /// as [`bt_executor::Simulator::simulate`] gives each. Portfolio data sets, walk-forward
    /// simulations and runs over more than [`LOCKSTEP_MAX_BARS`] bars go one by one.
    fn simulate_many(
        &self,
        specs: &[SimSpec],
        data: &Dataset,
    ) -> Vec<Result<(Params, SimSummary), SimError>> {
        if specs.len() < 2 || data.portfolio.is_some() || data.bars.len() > LOCKSTEP_MAX_BARS {
            return specs.iter().map(|spec| self.simulate(spec, data)).collect();
        }
        thread_local! {
            /// The last batch's curves, reused: every lane a batch folds is written first.
            static CURVES: std::cell::Cell<Option<LaneCurves>> = const { std::cell::Cell::new(None) };
        }
        let n = data.bars.len();
        let mut curves =
            CURVES.take().filter(|c| c.n_bars() == n).unwrap_or_else(|| LaneCurves::new(n));
        let mut out = Vec::with_capacity(specs.len());
        for group in specs.chunks(LANES) {
            let mut results: Vec<Option<Result<(Params, SimSummary), SimError>>> =
                (0..group.len()).map(|_| None).collect();
            // The runs whose equity is in a lane: their place in `group`, in lane order.
            let mut runs = Vec::with_capacity(group.len());
            for (k, spec) in group.iter().enumerate() {
                if let Some(wf) = self.walk_forwards
                    && let Some(out) = wf.simulate(self, spec)
                {
                    results[k] = Some(out);
                    continue;
                }
                let _sim = tracing::debug_span!("sim").entered();
                let run = self.prepare(spec).and_then(|(params, mut strategy)| {
                    let mut lane = curves.recorder(runs.len());
                    let result = bt_engine::run(
                        &data.bars,
                        strategy.as_mut(),
                        &spec.config,
                        &data.cache,
                        &mut lane,
                    )?;
                    Ok((params, result))
                });
                match run {
                    Ok(run) => runs.push((k, run)),
                    Err(e) => results[k] = Some(Err(e)),
                }
            }
            let folded = {
                let _stats = tracing::debug_span!("stats").entered();
                let facts: Vec<RunFacts<'_>> = runs
                    .iter()
                    .map(|(_, (_, r))| RunFacts { trades: &r.trades, warmup: r.warmup })
                    .collect();
                curves.finish(&data.stats, self.pbo_blocks, &facts)
            };
            for ((k, (params, result)), (stats, returns)) in runs.into_iter().zip(folded) {
                let b = Backtest {
                    params,
                    result,
                    stats,
                    returns,
                    equity: None,
                    instruments: None,
                    weights: None,
                };
                let summary = b.summary();
                results[k] = Some(Ok((b.params, summary)));
            }
            out.extend(results.into_iter().map(|r| r.expect("every simulation ran")));
        }
        CURVES.set(Some(curves));
        out
    }

    /// [`LANES`] where `simulate_many` folds them together; 1 for portfolios and runs over
    /// more than [`LOCKSTEP_MAX_BARS`] bars, which it runs one by one.
    fn batch(&self, data: &Dataset) -> usize {
        if data.portfolio.is_some() || data.bars.len() > LOCKSTEP_MAX_BARS { 1 } else { LANES }
    }
}
