//! Trailing stops, fractional units and slippage, worked out by hand (backtesting.py's
//! `TrailingStrategy` and `FractionalBacktest` are checked against its own runs in bt-stats'
//! parity tests; slippage has no reference and is defined in docs/SEMANTICS.md).

use bt_domain::{BacktestConfig, Bars, EquityCurve, Trade};
use bt_engine::{BacktestResult, Ctx, EngineError, IndicatorCache, Init, OrderSpec, Strategy};
use proptest::{prelude::*, strategy::Strategy as PropStrategy};

/// A strategy from a closure over the context.
struct FnStrategy<F>(F);

impl<F: FnMut(&mut Ctx<'_, '_>) -> Result<(), EngineError>> Strategy for FnStrategy<F> {
    fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> {
        Ok(())
    }
    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        (self.0)(ctx)
    }
}

fn bars(rows: &[[f64; 4]]) -> Bars {
    let day = 86_400_000_000_000;
    let col = |k: usize| rows.iter().map(|r| r[k]).collect::<Vec<_>>();
    let ts = (0..rows.len() as i64).map(|i| i * day).collect();
    Bars::new(ts, col(0), col(1), col(2), col(3), vec![1.0; rows.len()]).unwrap()
}

fn run(
    rows: &[[f64; 4]],
    config: BacktestConfig,
    next: impl FnMut(&mut Ctx<'_, '_>) -> Result<(), EngineError>,
) -> Result<BacktestResult, EngineError> {
    let mut curve = EquityCurve::default();
    bt_engine::run(&bars(rows), &mut FnStrategy(next), &config, &IndicatorCache::new(), &mut curve)
}

const FLAT: [f64; 4] = [100.0, 101.0, 99.0, 100.0];

fn slip(s: f64) -> BacktestConfig {
    BacktestConfig { cash: 100_000.0, slippage: s, ..BacktestConfig::default() }
}

/// The only trade, closed or open.
fn one(r: &BacktestResult) -> &Trade {
    let all: Vec<&Trade> = r.trades.iter().chain(&r.open_trades).collect();
    assert_eq!(all.len(), 1, "{all:?}");
    all[0]
}

#[test]
fn market_entries_and_exits_slip_against_the_trader() {
    // Buy 10 on bar 1 (fills at bar 2's open 110), close on bar 2 (fills at bar 3's open 120).
    let rows = [FLAT, FLAT, [110.0, 111.0, 109.0, 110.0], [120.0, 121.0, 119.0, 120.0], [120.0; 4]];
    let strategy = |ctx: &mut Ctx<'_, '_>| match ctx.bar_idx() {
        1 => ctx.buy(OrderSpec::market().size(10.0)),
        2 => ctx.close_position(1.0),
        _ => Ok(()),
    };
    let t = one(&run(&rows, slip(0.01), strategy).unwrap()).clone();
    assert_eq!((t.entry_price, t.exit_price), (110.0 * 1.01, 120.0 * 0.99));
    assert_eq!(t.pnl, 10.0 * (120.0 * 0.99 - 110.0 * 1.01));
    // A short: sells lower, buys back higher.
    let short = |ctx: &mut Ctx<'_, '_>| match ctx.bar_idx() {
        1 => ctx.sell(OrderSpec::market().size(10.0)),
        2 => ctx.close_position(1.0),
        _ => Ok(()),
    };
    let t = one(&run(&rows, slip(0.01), short).unwrap()).clone();
    assert_eq!((t.entry_price, t.exit_price), (110.0 * 0.99, 120.0 * 1.01));
    // A fixed amount per unit, alone.
    let fixed = BacktestConfig { slippage_fixed: 0.5, ..slip(0.0) };
    let t = one(&run(&rows, fixed, strategy).unwrap()).clone();
    assert_eq!((t.entry_price, t.exit_price), (110.5, 119.5));
}

#[test]
fn stop_and_stop_loss_fills_slip_limit_and_take_profit_fills_stay_within_their_limit() {
    // A buy stop at 105 gapped through (open 110): max(open, stop) = 110, slipped to 111.1.
    let gap = [FLAT, FLAT, [110.0, 112.0, 108.0, 111.0], [111.0; 4]];
    let stop = |ctx: &mut Ctx<'_, '_>| match ctx.bar_idx() {
        1 => ctx.buy(OrderSpec::market().size(10.0).stop(105.0)),
        _ => Ok(()),
    };
    assert_eq!(one(&run(&gap, slip(0.01), stop).unwrap()).entry_price, 110.0 * 1.01);

    // A buy limit at 99: touched from above (open 100, low 98) it fills at the limit, which
    // slippage cannot worsen; gapped below (open 97) it fills at 97 slipped to 97.97 (< 99).
    let touch = [FLAT, FLAT, [100.0, 100.5, 98.0, 99.5], [99.5; 4]];
    let below = [FLAT, FLAT, [97.0, 98.0, 96.0, 97.5], [97.5; 4]];
    let limit = |ctx: &mut Ctx<'_, '_>| match ctx.bar_idx() {
        1 => ctx.buy(OrderSpec::market().size(10.0).limit(99.0)),
        _ => Ok(()),
    };
    assert_eq!(one(&run(&touch, slip(0.01), limit).unwrap()).entry_price, 99.0);
    assert_eq!(one(&run(&below, slip(0.01), limit).unwrap()).entry_price, 97.0 * 1.01);

    // A long's stop-loss at 95 hit inside a bar (open 96, low 94): min(open, stop) = 95, sold
    // 1 % lower. The trades table keeps the stop price.
    let sl_bars = [FLAT, FLAT, FLAT, [96.0, 97.0, 94.0, 95.0], [95.0; 4]];
    let with_sl = |ctx: &mut Ctx<'_, '_>| match ctx.bar_idx() {
        1 => ctx.buy(OrderSpec::market().size(10.0).sl(95.0).tp(105.0)),
        _ => Ok(()),
    };
    let t = one(&run(&sl_bars, slip(0.01), with_sl).unwrap()).clone();
    assert_eq!((t.entry_price, t.exit_price, t.sl), (101.0, 95.0 * 0.99, Some(95.0)));

    // Its take-profit at 105 touched (open 104, high 106) fills at the limit: slippage cannot
    // take a limit below it. Gapped above (open 107) it fills at 107 less 1 %: 105.93 >= 105.
    let tp_touch = [FLAT, FLAT, FLAT, [104.0, 106.0, 103.5, 105.5], [105.5; 4]];
    let tp_gap = [FLAT, FLAT, FLAT, [107.0, 108.0, 106.0, 107.5], [107.5; 4]];
    assert_eq!(one(&run(&tp_touch, slip(0.01), with_sl).unwrap()).exit_price, 105.0);
    assert_eq!(one(&run(&tp_gap, slip(0.01), with_sl).unwrap()).exit_price, 107.0 * 0.99);
}

#[test]
fn zero_slippage_is_exactly_no_slippage_and_a_sell_below_zero_is_refused() {
    let rows = [FLAT, FLAT, [110.0, 111.0, 109.0, 110.0], [0.4, 0.5, 0.3, 0.4], [0.4; 4]];
    let strategy = |ctx: &mut Ctx<'_, '_>| match ctx.bar_idx() {
        1 => ctx.buy(OrderSpec::market().size(10.0)),
        2 => ctx.close_position(1.0),
        _ => Ok(()),
    };
    let none =
        run(&rows, BacktestConfig { cash: 100_000.0, ..BacktestConfig::default() }, strategy)
            .unwrap();
    assert_eq!(run(&rows, slip(0.0), strategy).unwrap(), none);
    let err =
        run(&rows, BacktestConfig { slippage_fixed: 0.5, ..slip(0.0) }, strategy).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("bar 3: a sell at 0.4 less slippage is -0.09999999999999998: not a price"),
        "{err}"
    );
}

/// Random bars and a random stream of unit-sized market, stop and bracket orders: with
/// slippage no trade does better than the same trade without.
/// Bars (open, high, low, close), actions (bar, kind, units) and a slippage.
type Stream = (Vec<[f64; 4]>, Vec<(usize, u8, f64)>, f64);

fn stream() -> impl PropStrategy<Value = Stream> {
    let rows =
        prop::collection::vec((-0.03..0.03f64, 0.0..0.02f64, 0.0..0.02f64, -0.02..0.02f64), 20..80)
            .prop_map(|moves| {
                let mut close = 100.0;
                moves
                    .into_iter()
                    .map(|(gap, up, down, drift)| {
                        let open: f64 = close * (1.0 + gap);
                        let c = open * (1.0 + drift);
                        let rows = [open, open.max(c) * (1.0 + up), open.min(c) * (1.0 - down), c];
                        close = c;
                        rows
                    })
                    .collect::<Vec<_>>()
            });
    let actions = prop::collection::vec((1usize..80, 0u8..5, 1.0..5.0f64), 1..30);
    (rows, actions, 0.0001..0.02f64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn with_slippage_no_trade_does_better((rows, actions, s) in stream()) {
        let strategy = |actions: Vec<(usize, u8, f64)>| move |ctx: &mut Ctx<'_, '_>| {
            let i = ctx.bar_idx();
            let close = *ctx.close().last().unwrap();
            for &(bar, op, units) in actions.iter().filter(|a| a.0 == i) {
                let _ = bar;
                let units = units.round();
                match op {
                    0 => ctx.buy(OrderSpec::market().size(units))?,
                    1 => ctx.sell(OrderSpec::market().size(units))?,
                    2 => ctx.buy(OrderSpec::market().size(units).sl(close * 0.97).tp(close * 1.03))?,
                    3 => ctx.buy(OrderSpec::market().size(units).stop(close * 1.01))?,
                    _ => ctx.close_position(1.0)?,
                }
            }
            Ok(())
        };
        let config = |s: f64| BacktestConfig { cash: 1e9, slippage: s, hedging: true, ..BacktestConfig::default() };
        let a = run(&rows, config(0.0), strategy(actions.clone())).unwrap();
        let b = run(&rows, config(s), strategy(actions)).unwrap();
        let (ta, tb): (Vec<&Trade>, Vec<&Trade>) =
            (a.trades.iter().chain(&a.open_trades).collect(), b.trades.iter().chain(&b.open_trades).collect());
        prop_assert_eq!(ta.len(), tb.len());
        for (x, y) in ta.iter().zip(&tb) {
            prop_assert_eq!((x.entry_bar, x.exit_bar, x.size), (y.entry_bar, y.exit_bar, y.size));
            prop_assert!(y.pnl <= x.pnl, "slipped {} > unslipped {}: {:?} vs {:?}", y.pnl, x.pnl, y, x);
            prop_assert!(y.return_frac <= x.return_frac);
        }
        prop_assert!(b.final_equity <= a.final_equity);
    }
}

#[test]
fn a_trailing_stop_ratchets_with_the_close_and_exits_any_strategy() {
    // A buy-and-hold strategy knows nothing of stops: the broker setting adds the trailing
    // stop. True ranges from bar 1: 2, 2, 3, 4, 2, 2, 4 (gaps count: |C[i-1] - H|); their
    // 2-bar mean (ATR) from bar 2: 2, 2.5, 3.5, 3, 2, 3. The stop trails the close by 1.5 ATR.
    let mut rows = vec![[100.0, 101.0, 99.0, 100.0]; 2];
    for c in [101.0, 103.0, 106.0, 105.0, 104.0, 101.0, 99.0] {
        rows.push([c, c + 1.0, c - 1.0, c]);
    }
    let config =
        BacktestConfig { trailing_atr: Some(1.5), atr_periods: 2, ..BacktestConfig::default() };
    let mut seen = Vec::new();
    let r = run(&rows, config, |ctx| {
        if let Some(t) = ctx.trade(0) {
            seen.push(t.sl);
        } else if ctx.bar_idx() == 1 {
            ctx.buy(OrderSpec::market().size(1.0))?;
        }
        Ok(())
    })
    .unwrap();
    // Stops as the strategy sees them after the update of bars 2..6: 101 - 3, 103 - 3.75,
    // 106 - 5.25, (105 - 4.5 is lower: kept), 104 - 3.
    assert_eq!(seen, [Some(98.0), Some(99.25), Some(100.75), Some(100.75), Some(101.0)]);
    let t = one(&r);
    // Bar 7 (open 101, low 100) reaches the stop of 101: it fills at min(open, stop) = 101.
    assert_eq!((t.entry_bar, t.exit_bar, t.exit_price, t.sl), (2, Some(7), 101.0, Some(101.0)));
}

#[test]
fn a_trailing_stop_that_is_not_a_price_fails_the_run_with_the_bar_and_the_value() {
    let rows =
        [[10.0, 30.0, 1.0, 10.0], [10.0, 30.0, 1.0, 10.0], [10.0, 11.0, 9.0, 10.0], [10.0; 4]];
    let config =
        BacktestConfig { trailing_atr: Some(3.0), atr_periods: 2, ..BacktestConfig::default() };
    let err = run(&rows, config, |ctx| {
        if ctx.bar_idx() == 1 { ctx.buy(OrderSpec::market().size(1.0)) } else { Ok(()) }
    })
    .unwrap_err();
    let EngineError::TrailingStop { bar, side, stop, .. } = err.clone() else { panic!("{err}") };
    assert_eq!((bar, side), (2, "long"));
    assert!(stop < 0.0);
    assert!(err.to_string().contains("a stop must be a price above 0"), "{err}");
}

#[test]
fn fractional_units_trade_what_whole_units_cannot_afford() {
    // One unit costs 60 000; 10 000 cash buys none, or 0.16666666 of it in 1e-8 units.
    let rows = [[60_000.0; 4], [60_000.0; 4], [60_000.0; 4], [66_000.0; 4]];
    let buy = |ctx: &mut Ctx<'_, '_>| {
        if ctx.bar_idx() == 1 { ctx.buy(OrderSpec::market()) } else { Ok(()) }
    };
    let whole = run(&rows, BacktestConfig::default(), buy).unwrap();
    assert!(whole.open_trades.is_empty() && whole.cancelled_orders == 1);
    let config = BacktestConfig { fractional_unit: Some(1e-8), ..BacktestConfig::default() };
    let r = run(&rows, config, buy).unwrap();
    let t = one(&r);
    assert_eq!(t.size, 16_666_666.0 * 1e-8);
    assert_eq!(t.entry_price, (60_000.0 * 1e-8) / 1e-8);
    assert!((r.final_equity - (10_000.0 + t.size * 6_000.0)).abs() < 1e-6);
}
