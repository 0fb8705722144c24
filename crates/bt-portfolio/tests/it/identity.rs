//! One instrument, traded like `sma_cross`: the portfolio broker gives the single-instrument
//! engine's equity bit for bit, and its final equity matches backtesting.py's reference runs
//! (bt-stats' parity fixtures, produced by backtesting.py 0.6.6).

use bt_domain::{BacktestConfig, EquityCurve, ParamValue, Params};
use bt_engine::{FULL_EQUITY, IndicatorCache};
use bt_portfolio::{Portfolio, PortfolioCtx, PortfolioError, PortfolioStrategy, RunOptions, run};
use bt_strategies::{
    Registry,
    indicators::{crossover, sma},
};
use serde_json::Value;

use crate::common::{crate_dir, float, read_bars, read_csv};

/// backtesting.py's SmaCross as a portfolio strategy on instrument 0.
struct PortfolioSmaCross {
    fast: usize,
    slow: usize,
    sma_fast: Vec<f64>,
    sma_slow: Vec<f64>,
}

impl PortfolioStrategy for PortfolioSmaCross {
    fn init(&mut self, portfolio: &Portfolio) -> Result<usize, PortfolioError> {
        let close = portfolio.bars(0).close();
        self.sma_fast = sma(close, self.fast);
        self.sma_slow = sma(close, self.slow);
        // backtesting.py's warm-up: the largest first-valid index of the indicators.
        let first = |x: &[f64]| x.iter().position(|v| !v.is_nan()).unwrap_or(x.len());
        Ok(first(&self.sma_fast).max(first(&self.sma_slow)))
    }

    fn next(&mut self, ctx: &mut PortfolioCtx<'_, '_>) -> Result<(), PortfolioError> {
        let n = ctx.close(0).len();
        let (f, s) = (&self.sma_fast[..n], &self.sma_slow[..n]);
        if crossover(f, s) {
            ctx.close_position(0)?;
            ctx.buy(0, FULL_EQUITY)?;
        } else if crossover(s, f) {
            ctx.close_position(0)?;
            ctx.sell(0, FULL_EQUITY)?;
        }
        Ok(())
    }
}

fn check(run_name: &str) {
    let parity = crate_dir().join("../bt-stats/tests/parity");
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(parity.join(format!("runs/{run_name}.stats.json"))).unwrap(),
    )
    .unwrap();
    let k = &json["backtest_kwargs"];
    let commission = &k["commission"];
    let config = BacktestConfig {
        cash: k["cash"].as_f64().unwrap(),
        commission: commission.as_f64().unwrap(),
        spread: k["spread"].as_f64().unwrap(),
        margin: k["margin"].as_f64().unwrap(),
        trade_on_close: k["trade_on_close"].as_bool().unwrap(),
        ..Default::default()
    };
    let (fast, slow) = (
        json["params"]["n1"].as_u64().unwrap() as usize,
        json["params"]["n2"].as_u64().unwrap() as usize,
    );
    let bars = read_bars(&parity.join("data/GOOG.csv"));

    // The single-instrument engine with the registry's sma_cross.
    let params: Params = [
        ("fast".to_owned(), ParamValue::Int(fast as i64)),
        ("slow".to_owned(), ParamValue::Int(slow as i64)),
    ]
    .into_iter()
    .collect();
    let mut single = Registry::builtin().build("sma_cross", &params).unwrap();
    let mut engine_curve = EquityCurve::default();
    let engine =
        bt_engine::run(&bars, single.as_mut(), &config, &IndicatorCache::new(), &mut engine_curve)
            .unwrap();

    let portfolio = Portfolio::new(vec![("GOOG".into(), bars)]).unwrap();
    let mut strategy = PortfolioSmaCross { fast, slow, sma_fast: vec![], sma_slow: vec![] };
    let mut curve = EquityCurve::default();
    let result =
        run(&portfolio, &mut strategy, &config, &RunOptions::default(), &mut curve).unwrap();

    assert_eq!(curve.0.len(), engine_curve.0.len());
    for (i, (a, b)) in curve.0.iter().zip(&engine_curve.0).enumerate() {
        assert_eq!(a.to_bits(), b.to_bits(), "{run_name}: equity at bar {i}: {a} vs engine {b}");
    }
    assert_eq!(result.final_equity.to_bits(), engine.final_equity.to_bits());
    assert_eq!(
        result.instruments[0].final_position,
        engine.open_trades.iter().map(|t| t.size).sum::<f64>()
    );
    assert_eq!(result.trades.len(), engine.trades.len(), "{run_name}: trades");
    for (a, b) in result.trades.iter().zip(&engine.trades) {
        let same = |x: f64, y: f64| x.to_bits() == y.to_bits();
        assert!(
            same(a.size, b.size)
                && same(a.entry_price, b.entry_price)
                && same(a.exit_price, b.exit_price)
                && same(a.pnl, b.pnl)
                && same(a.commission, b.commission)
                && a.entry_time <= b.entry_time,
            "{run_name}: trade {a:?} vs engine {b:?}"
        );
    }
    let fills = result.instruments[0].fills;
    let engine_fills = 2 * engine.trades.len() as u64 + engine.open_trades.len() as u64;
    assert_eq!(fills, engine_fills, "{run_name}: fills");

    // And backtesting.py's own curve.
    let (_, rows) = read_csv(&parity.join(format!("runs/{run_name}.equity.csv")));
    for (i, (a, row)) in curve.0.iter().zip(&rows).enumerate() {
        let want = float(&row[1]);
        assert!((a - want).abs() <= 1e-9 * want.abs(), "{run_name}: bar {i}: {a} vs {want}");
    }
}

#[test]
fn one_instrument_sma_cross_is_bit_identical_to_the_engine() {
    for run_name in [
        "goog_smacross_10_20_comm002",
        "goog_smacross_20_50_comm0",
        "goog_smacross_5_15_comm001",
        "goog_smacross_30_100_spread0005",
        "goog_smacross_10_20_comm002_trade_on_close",
        "goog_smacross_10_20_margin05_comm002",
    ] {
        check(run_name);
    }
}
