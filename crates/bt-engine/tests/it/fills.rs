//! Fills worked out by hand from backtesting.py 0.6.6's `_Broker._process_orders` (each also
//! confirmed by running backtesting.py 0.6.6 on the same bars and orders).

use bt_domain::{BacktestConfig, Bars, EquityCurve, Trade};
use bt_engine::{BacktestResult, Ctx, EngineError, IndicatorCache, Init, OrderSpec, Strategy};

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

const FLAT: [f64; 4] = [100.0, 101.0, 99.0, 100.0];

/// Daily bars from `[open, high, low, close]` rows; cash 10 000.
fn run(
    rows: &[[f64; 4]],
    config: BacktestConfig,
    next: impl FnMut(&mut Ctx<'_, '_>) -> Result<(), EngineError>,
) -> (BacktestResult, Vec<f64>) {
    let day = 86_400_000_000_000;
    let col = |k: usize| rows.iter().map(|r| r[k]).collect::<Vec<_>>();
    let ts = (0..rows.len() as i64).map(|i| i * day).collect();
    let bars = Bars::new(ts, col(0), col(1), col(2), col(3), vec![0.0; rows.len()]).unwrap();
    let mut curve = EquityCurve::default();
    let config = BacktestConfig { cash: 10_000.0, ..config };
    let result =
        bt_engine::run(&bars, &mut FnStrategy(next), &config, &IndicatorCache::new(), &mut curve)
            .unwrap();
    (result, curve.0)
}

/// Places `order` (long when `long`) on bar `at`, nothing else.
fn once(
    at: usize,
    long: bool,
    order: OrderSpec,
) -> impl FnMut(&mut Ctx<'_, '_>) -> Result<(), EngineError> {
    move |ctx| match ctx.bar_idx() == at {
        true if long => ctx.buy(order),
        true => ctx.sell(order),
        false => Ok(()),
    }
}

fn only_open(result: &BacktestResult) -> &Trade {
    assert!(result.trades.is_empty(), "{:?}", result.trades);
    assert_eq!(result.open_trades.len(), 1, "{:?}", result.open_trades);
    &result.open_trades[0]
}

fn only_closed(result: &BacktestResult) -> &Trade {
    assert!(result.open_trades.is_empty(), "{:?}", result.open_trades);
    assert_eq!(result.trades.len(), 1, "{:?}", result.trades);
    &result.trades[0]
}

#[test]
fn stop_order_that_gaps_through_its_stop_fills_at_the_open() {
    // `price = max(open, stop)` for a long stop, `min(open, stop)` for a short one.
    let up = [FLAT, FLAT, [110.0, 112.0, 108.0, 111.0], [111.0; 4]];
    let (r, curve) = run(
        &up,
        BacktestConfig::default(),
        once(1, true, OrderSpec::market().size(10.0).stop(105.0)),
    );
    let t = only_open(&r);
    assert_eq!((t.entry_bar, t.entry_price), (2, 110.0));
    assert_eq!(curve, [10_000.0, 10_000.0, 10_010.0, 10_010.0]);

    let down = [FLAT, FLAT, [90.0, 92.0, 88.0, 89.0], [89.0; 4]];
    let (r, _) = run(
        &down,
        BacktestConfig::default(),
        once(1, false, OrderSpec::market().size(10.0).stop(95.0)),
    );
    let t = only_open(&r);
    assert_eq!((t.entry_bar, t.entry_price, t.size), (2, 90.0, -10.0));

    // Without a gap the stop price itself is paid.
    let through = [FLAT, FLAT, [101.0, 107.0, 100.0, 106.0], [106.0; 4]];
    let (r, _) = run(
        &through,
        BacktestConfig::default(),
        once(1, true, OrderSpec::market().size(10.0).stop(105.0)),
    );
    assert_eq!(only_open(&r).entry_price, 105.0);
}

#[test]
fn limit_order_never_fills_at_a_worse_price_than_its_limit() {
    // `price = min(open, limit)` for a long limit, `max(open, limit)` for a short one.
    let dip = [FLAT, FLAT, [99.0, 100.0, 94.0, 96.0], [96.0; 4]];
    let (r, _) = run(
        &dip,
        BacktestConfig::default(),
        once(1, true, OrderSpec::market().size(10.0).limit(95.0)),
    );
    assert_eq!(only_open(&r).entry_price, 95.0);

    let gap_down = [FLAT, FLAT, [90.0, 92.0, 88.0, 91.0], [91.0; 4]];
    let (r, _) = run(
        &gap_down,
        BacktestConfig::default(),
        once(1, true, OrderSpec::market().size(10.0).limit(95.0)),
    );
    assert_eq!(only_open(&r).entry_price, 90.0);

    let gap_up = [FLAT, FLAT, [107.0, 108.0, 106.0, 107.0], [107.0; 4]];
    let (r, _) = run(
        &gap_up,
        BacktestConfig::default(),
        once(1, false, OrderSpec::market().size(10.0).limit(105.0)),
    );
    assert_eq!(only_open(&r).entry_price, 107.0);

    // Never reached: no fill.
    let (r, _) = run(
        &[FLAT, FLAT, FLAT, FLAT],
        BacktestConfig::default(),
        once(1, true, OrderSpec::market().size(10.0).limit(95.0)),
    );
    assert!(r.trades.is_empty() && r.open_trades.is_empty());
}

#[test]
fn stop_loss_wins_when_sl_and_tp_are_both_hit_on_a_market_orders_entry_bar() {
    // The market fill sets `reprocess_orders`; `trade.tp = ` appends the TP, then `trade.sl = `
    // inserts the SL at the front, so the second pass meets the SL first: exit at
    // `min(open, sl) = 95` on the entry bar.
    let wide = [FLAT, FLAT, [100.0, 110.0, 90.0, 100.0], [100.0; 4]];
    let order = OrderSpec::market().size(10.0).sl(95.0).tp(105.0);
    let (r, curve) = run(&wide, BacktestConfig::default(), once(1, true, order));
    let t = only_closed(&r);
    assert_eq!((t.entry_bar, t.exit_bar, t.entry_price, t.exit_price), (2, Some(2), 100.0, 95.0));
    assert_eq!((t.sl, t.tp, t.pnl), (Some(95.0), Some(105.0), -50.0));
    assert_eq!(curve, [10_000.0, 10_000.0, 9_950.0, 9_950.0]);
}

#[test]
fn after_a_stop_entry_only_an_unambiguous_take_profit_fills_on_the_entry_bar() {
    // Stop entry at 103 with TP 106 in the bar and SL 95 below its low: reprocessed, TP fills.
    let up = [FLAT, FLAT, [101.0, 110.0, 100.5, 108.0], [108.0; 4]];
    let order = OrderSpec::market().size(10.0).stop(103.0).sl(95.0).tp(106.0);
    let (r, _) = run(&up, BacktestConfig::default(), once(1, true, order));
    let t = only_closed(&r);
    assert_eq!((t.entry_bar, t.exit_bar, t.entry_price, t.exit_price), (2, Some(2), 103.0, 106.0));

    // SL 95 inside the entry bar: ambiguous, so it waits for the next bar (`min(96, 95)`).
    let down = [FLAT, FLAT, [101.0, 104.0, 94.0, 96.0], [96.0, 97.0, 93.0, 94.0], [94.0; 4]];
    let order = OrderSpec::market().size(10.0).stop(103.0).sl(95.0);
    let (r, curve) = run(&down, BacktestConfig::default(), once(1, true, order));
    let t = only_closed(&r);
    assert_eq!((t.entry_bar, t.exit_bar, t.exit_price), (2, Some(3), 95.0));
    assert_eq!(curve, [10_000.0, 10_000.0, 9_930.0, 9_920.0, 9_920.0]);
}

#[test]
fn with_trade_on_close_a_netting_market_order_can_exit_before_the_entry() {
    // Queue at bar 3: [buy stop 103 (from bar 1), sell 10 at market (from bar 2)]. The stop
    // fills at bar 3 (`max(close[2], 103)`); the market sell then nets against it at close[2]
    // with `time_index = i - 1 = 2`: the trade exits one bar before it entered.
    let rows = [FLAT, FLAT, FLAT, [101.0, 106.0, 100.0, 105.0], [105.0; 4]];
    let config = BacktestConfig { trade_on_close: true, ..BacktestConfig::default() };
    let (r, _) = run(&rows, config, |ctx| match ctx.bar_idx() {
        1 => ctx.buy(OrderSpec::market().size(10.0).stop(103.0)),
        2 => ctx.sell(OrderSpec::market().size(10.0)),
        _ => Ok(()),
    });
    let t = only_closed(&r);
    assert_eq!((t.entry_bar, t.exit_bar, t.entry_price, t.exit_price), (3, Some(2), 103.0, 100.0));
    assert!(t.duration().unwrap() < 0);
}

#[test]
fn stop_limit_whose_stop_is_below_the_bar_fills_at_the_stop_outside_the_bar() {
    // Buy stop 90 / limit 98 placed at 100: the stop is "hit" (high >= 90), the limit is hit
    // (low 97 <= 98) and not before the stop, so `price = min(stop, limit) = 90`, below the
    // bar's low of 97. backtesting.py does the same.
    let rows = [FLAT, FLAT, [100.0, 102.0, 97.0, 101.0], [101.0; 4]];
    let order = OrderSpec::market().size(10.0).stop(90.0).limit(98.0);
    let (r, _) = run(&rows, BacktestConfig::default(), once(1, true, order));
    assert_eq!(only_open(&r).entry_price, 90.0);
}

#[test]
fn finalize_with_trade_on_close_fills_last_bar_orders_at_the_previous_close() {
    // The finalize pass reruns the broker on the last bar; with trade_on_close a market order
    // uses `Close[-2]` and `time_index = i - 1`, both for the closes and for new orders.
    let rows = [FLAT, FLAT, FLAT, [101.0, 102.0, 100.0, 102.0], [103.0, 106.0, 102.0, 105.0]];
    let config =
        BacktestConfig { trade_on_close: true, finalize_trades: true, ..BacktestConfig::default() };
    let (r, _) = run(&rows, config, once(4, true, OrderSpec::market().size(10.0)));
    let t = only_open(&r);
    assert_eq!((t.entry_bar, t.entry_price), (3, 102.0));

    let (r, _) = run(&rows, config, once(3, true, OrderSpec::market().size(10.0)));
    let t = only_closed(&r);
    assert_eq!((t.entry_bar, t.exit_bar, t.entry_price, t.exit_price), (3, Some(3), 102.0, 102.0));
}

#[test]
fn fixed_commission_is_charged_once_but_booked_on_every_piece_of_a_split_trade() {
    // Buy 10 at 100 with a fixed fee of 5, close half at 110, finalize the rest at 110. Cash
    // pays the entry fee once; `_close_trade` books `commission(piece.size, entry)` on each
    // piece. So Σ PnL (80) understates the equity change (85) by one fixed fee.
    let rows = [FLAT, FLAT, FLAT, FLAT, [110.0, 111.0, 109.0, 110.0], [110.0; 4]];
    let config = BacktestConfig {
        commission_fixed: 5.0,
        finalize_trades: true,
        ..BacktestConfig::default()
    };
    let (r, curve) = run(&rows, config, |ctx| match ctx.bar_idx() {
        1 => ctx.buy(OrderSpec::market().size(10.0)),
        3 => ctx.close_trade(0, 0.5),
        _ => Ok(()),
    });
    let pnl: Vec<f64> = r.trades.iter().map(|t| t.pnl).collect();
    assert_eq!(pnl, [40.0, 40.0]);
    assert_eq!(r.trades.iter().map(|t| t.commission).sum::<f64>(), 20.0);
    assert_eq!(r.final_equity - 10_000.0, 85.0);
    assert_eq!(curve, [10_000.0, 10_000.0, 9_995.0, 9_995.0, 10_090.0, 10_085.0]);
}

/// Regression: a negative size given to `sell` used to open a long (found by the property
/// tests); backtesting.py refuses it, and an infinite size too.
#[test]
fn negative_and_infinite_sizes_are_refused() {
    use bt_domain::{BacktestConfig, Bars};
    use bt_engine::{Ctx, EngineError, IndicatorCache, Init, OrderSpec, Strategy};

    struct Try(Vec<Result<(), EngineError>>);
    impl Strategy for Try {
        fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> {
            Ok(())
        }
        fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
            if ctx.bar_idx() == 1 {
                self.0.push(ctx.sell(OrderSpec::market().size(-0.5)));
                self.0.push(ctx.buy(OrderSpec::market().size(-3.0)));
                self.0.push(ctx.buy(OrderSpec::market().size(f64::INFINITY)));
                self.0.push(ctx.buy(OrderSpec::market().size(f64::NAN)));
                self.0.push(ctx.buy(OrderSpec::market().size(2.5)));
            }
            Ok(())
        }
    }
    let day = 86_400_000_000_000;
    let bars = Bars::new(
        (0..4).map(|i| i * day).collect(),
        vec![100.0; 4],
        vec![101.0; 4],
        vec![99.0; 4],
        vec![100.0; 4],
        vec![0.0; 4],
    )
    .unwrap();
    let mut s = Try(Vec::new());
    let r =
        bt_engine::run(&bars, &mut s, &BacktestConfig::default(), &IndicatorCache::new(), &mut ())
            .unwrap();
    assert_eq!(s.0.len(), 5);
    for res in &s.0 {
        assert!(matches!(res, Err(EngineError::InvalidSize { bar: 1, .. })), "{res:?}");
    }
    assert!(r.trades.is_empty() && r.open_trades.is_empty());
}
