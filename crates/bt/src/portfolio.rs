//! Portfolio runs in the workbench (docs/portfolio.md): the built-in portfolio strategies as
//! registry entries, user portfolio strategies registered the same way ([`entry`]), and the
//! simulation of a portfolio strategy on a portfolio data set (a queue's `portfolios`, or
//! several `--data` files).
//!
//! A portfolio strategy travels through the [`Registry`] like any strategy: its entry builds a
//! [`PortfolioBox`], which the simulator unwraps when the data set is a portfolio. Run on a
//! single data set it refuses to start, naming the fix.

use bt_domain::{EquityCurve, ParamSpec, Params, SimSpec};
use bt_engine::{BacktestResult, Ctx, EngineError, Init, Strategy};
use bt_stats::{RunAccumulator, RunFacts};
use bt_strategies::{Args, Registry, StrategyEntry, StrategyError};

pub use bt_portfolio::{
    Fill, InstrumentCosts, InstrumentSummary, Portfolio, PortfolioCtx, PortfolioError,
    PortfolioResult, PortfolioStrategy, RunOptions, builtin, run as run_portfolio,
};

use crate::{
    dataset::Dataset,
    simulate::{Backtest, SimError},
};

/// A portfolio run's weights over time (for charts): bar-major, one value per instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioWeights {
    /// Instrument names, in portfolio order.
    pub names: Vec<String>,
    /// Each instrument's contribution to the return (a fraction of the initial cash).
    pub contributions: Vec<f64>,
    /// Each bar's weights: `names.len()` values per bar.
    pub weights: Vec<f64>,
    /// Per instrument, in `names` order: exposure, turnover, fees and fills (report.html's
    /// table under the weights chart).
    pub instruments: Vec<bt_report::InstrumentRow>,
}

impl PortfolioWeights {
    /// The weights chart of this run (`bt_report::weights_chart`).
    pub fn chart_data<'a>(
        &'a self,
        id: &'a str,
        timestamps: &'a [i64],
    ) -> bt_report::WeightsData<'a> {
        bt_report::WeightsData {
            id,
            timestamps,
            names: &self.names,
            contributions: &self.contributions,
            weights: &self.weights,
            instruments: &self.instruments,
        }
    }
}

/// A portfolio strategy as the registry carries it.
pub struct PortfolioBox {
    name: String,
    strategy: Option<Box<dyn PortfolioStrategy>>,
}

impl PortfolioBox {
    /// Wraps a portfolio strategy for a registry entry's builder.
    pub fn new(name: &str, strategy: Box<dyn PortfolioStrategy>) -> PortfolioBox {
        PortfolioBox { name: name.to_owned(), strategy: Some(strategy) }
    }
}

impl Strategy for PortfolioBox {
    fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> {
        Err(EngineError::Init(format!(
            "{:?} is a portfolio strategy: run it on a portfolio (a queue's `portfolios`, or \
             several data files)",
            self.name
        )))
    }

    fn next(&mut self, _: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        Ok(())
    }

    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        Some(self)
    }
}

/// A registry entry for a portfolio strategy: `build` makes it from validated arguments;
/// `warmup` (timeline bars before the first rebalance) lets queues refuse data too short.
pub fn entry(
    name: &'static str,
    doc: &'static str,
    params: &'static [ParamSpec],
    build: fn(&Args<'_>) -> Result<Box<dyn PortfolioStrategy>, StrategyError>,
    warmup: fn(&Args<'_>) -> usize,
) -> StrategyEntry {
    StrategyEntry::new(name, move |args| Ok(Box::new(PortfolioBox::new(name, build(args)?))))
        .with_doc(doc)
        .with_params(params)
        .with_warmup(warmup)
}

const EVERY: ParamSpec = ParamSpec::int(
    "every",
    21,
    0,
    "rebalance on timeline bars that are multiples of `every`; 0: on the last bar of each month",
);
static EQUAL_WEIGHT: [ParamSpec; 1] = [EVERY];
static MOMENTUM: [ParamSpec; 3] = [
    ParamSpec::int("lookback", 60, 1, "bars of the return instruments are ranked by"),
    ParamSpec::int("top", 1, 1, "instruments held, each at weight 1/top"),
    EVERY,
];
static INVERSE_VOL: [ParamSpec; 2] = [
    ParamSpec::int("window", 60, 2, "close-to-close returns the volatility is measured over"),
    EVERY,
];

fn param_error(name: &str, e: PortfolioError) -> StrategyError {
    StrategyError::InvalidCombination {
        strategy: name.to_owned(),
        problem: e.to_string(),
        fix: "see `bt strategies` for the valid values".into(),
    }
}

/// The built-in portfolio strategies (docs/portfolio.md).
pub fn builtin_entries() -> Vec<StrategyEntry> {
    vec![
        entry(
            "equal_weight",
            "portfolio: equal weights (1/N of the value per instrument), rebalanced every `every` bars or monthly",
            &EQUAL_WEIGHT,
            |a| Ok(Box::new(builtin::EqualWeight::new(a.usize("every")?))),
            |_| 0,
        ),
        entry(
            "momentum",
            "portfolio: holds the `top` instruments by `lookback`-bar return, equally weighted, rebalanced on a schedule",
            &MOMENTUM,
            |a| {
                builtin::Momentum::new(a.usize("lookback")?, a.usize("top")?, a.usize("every")?)
                    .map(|s| Box::new(s) as Box<dyn PortfolioStrategy>)
                    .map_err(|e| param_error("momentum", e))
            },
            |a| a.usize("lookback").unwrap_or(0),
        ),
        entry(
            "inverse_vol",
            "portfolio: weights proportional to 1 / volatility of returns over `window` bars, rebalanced on a schedule",
            &INVERSE_VOL,
            |a| {
                builtin::InverseVol::new(a.usize("window")?, a.usize("every")?)
                    .map(|s| Box::new(s) as Box<dyn PortfolioStrategy>)
                    .map_err(|e| param_error("inverse_vol", e))
            },
            |a| a.usize("window").unwrap_or(0),
        ),
    ]
}

/// `registry` with the built-in portfolio strategies (a name already taken keeps its entry).
pub fn with_builtin_portfolio_strategies(mut registry: Registry) -> Registry {
    for e in builtin_entries() {
        if registry.entry(e.name()).is_err() {
            // Cannot fail: the name is free.
            let _ = registry.register(e);
        }
    }
    registry
}

/// Whether `strategy` is a portfolio strategy (`None`: it cannot be built without arguments,
/// so its kind is only known when a simulation builds it).
fn is_portfolio_strategy(registry: &Registry, strategy: &str) -> Option<bool> {
    let params = registry.canonical_params(strategy, &Params::new()).ok()?;
    let mut built = registry.build(strategy, &params).ok()?;
    Some(built.as_any_mut().is_some_and(|a| a.is::<PortfolioBox>()))
}

/// Refuses a queue that runs a portfolio strategy on a data set, or a single-instrument
/// strategy on a portfolio, naming the first such simulation of each pair and the fix.
pub(crate) fn check_kinds(
    registry: &Registry,
    queue: &bt_queue::Queue,
) -> Result<(), StrategyError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for spec in queue.iter() {
        if !seen.insert((spec.dataset.clone(), spec.strategy.clone())) {
            continue;
        }
        let on_portfolio = queue.portfolios().contains_key(&spec.dataset);
        match is_portfolio_strategy(registry, &spec.strategy) {
            Some(true) if !on_portfolio => problems.push(format!(
                "{:?} runs portfolio strategy {:?} on data set {:?}: name a portfolio of the queue's `portfolios` instead",
                spec.id, spec.strategy, spec.dataset
            )),
            Some(false) if on_portfolio => problems.push(format!(
                "{:?} runs single-instrument strategy {:?} on portfolio {:?}: use a portfolio strategy (equal_weight, momentum, inverse_vol) or one of its data sets",
                spec.id, spec.strategy, spec.dataset
            )),
            _ => {}
        }
    }
    match problems.is_empty() {
        true => Ok(()),
        false => Err(StrategyError::InvalidCombination {
            strategy: "(queue)".into(),
            problem: problems.join("; "),
            fix: "match each strategy to the kind of data it trades (docs/portfolio.md)".into(),
        }),
    }
}

/// Runs the portfolio strategy in `strategy` (built from the registry) on `portfolio` and
/// computes the statistics on the portfolio's equity.
pub(crate) fn run(
    spec: &SimSpec,
    data: &Dataset,
    portfolio: &Portfolio,
    params: Params,
    mut strategy: Box<dyn Strategy>,
    record_curve: bool,
    pbo_blocks: usize,
) -> Result<Backtest, SimError> {
    let Some(boxed) = strategy.as_any_mut().and_then(|a| a.downcast_mut::<PortfolioBox>()) else {
        return Err(EngineError::Init(format!(
            "{:?} trades one instrument but data set {:?} is a portfolio: use a portfolio \
             strategy (equal_weight, momentum, inverse_vol)",
            spec.strategy, spec.dataset
        ))
        .into());
    };
    let mut strategy = boxed.strategy.take().expect("a fresh strategy from the registry");
    let n = data.bars.len();
    let mut acc = RunAccumulator::new(&data.stats, pbo_blocks);
    let costs = (!data.costs.is_empty()).then(|| {
        data.costs.iter().map(|c| InstrumentCosts::from_config(&c.apply(spec.config))).collect()
    });
    let options = RunOptions { costs, record_weights: record_curve, ..RunOptions::default() };
    let (result, equity) = if record_curve {
        let mut pair = (acc, EquityCurve(Vec::with_capacity(n)));
        let result =
            bt_portfolio::run(portfolio, strategy.as_mut(), &spec.config, &options, &mut pair)?;
        acc = pair.0;
        (result, Some(pair.1.0))
    } else {
        (bt_portfolio::run(portfolio, strategy.as_mut(), &spec.config, &options, &mut acc)?, None)
    };
    let (stats, returns) = acc.finish(&RunFacts { trades: &result.trades, warmup: result.warmup });
    let PortfolioResult {
        n_bars,
        warmup,
        final_equity,
        final_cash,
        bust_bar,
        cancelled_orders,
        instruments,
        trades,
        open_trades,
        bar_steps,
        weights,
        ..
    } = result;
    Ok(Backtest {
        params,
        result: BacktestResult {
            trades,
            open_trades,
            warmup,
            n_bars,
            final_cash,
            final_equity,
            bust_bar,
            cancelled_orders,
            bar_steps,
        },
        stats,
        returns,
        equity,
        weights: record_curve.then(|| PortfolioWeights {
            names: portfolio.names().to_vec(),
            contributions: instruments.iter().map(|i| i.contribution).collect(),
            weights,
            instruments: instruments
                .iter()
                .map(|i| bt_report::InstrumentRow {
                    exposure: i.exposure,
                    turnover: i.turnover,
                    fees: i.fees,
                    fills: i.fills,
                })
                .collect(),
        }),
        instruments: Some(instruments),
    })
}
