//! Each built-in strategy on a hand-made series whose trades can be worked out by hand.
//!
//! Bars are "flat" (open = high = low = close), so an order placed at bar `i` fills at
//! `close[i+1]`.

use bt_domain::{ParamValue, Trade};
use bt_engine::BacktestResult;

use crate::common::{build, flat_bars, run};

/// (is_long, entry_bar, exit_bar) of every trade, closed ones first, then the open ones.
fn summary(result: &BacktestResult) -> Vec<(bool, usize, Option<usize>)> {
    result
        .trades
        .iter()
        .chain(&result.open_trades)
        .map(|t: &Trade| (t.is_long(), t.entry_bar, t.exit_bar))
        .collect()
}

fn int(v: i64) -> ParamValue {
    ParamValue::Int(v)
}

fn yes(v: bool) -> ParamValue {
    ParamValue::Bool(v)
}

/// Falling to a bottom at bar 5, then rising.
const V: [f64; 12] = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0];

#[test]
fn sma_cross_on_a_v_enters_long_once() {
    // SMA(2) - SMA(4): bar 6: 5.5 - 6.0 < 0; bar 7: 6.5 - 6.0 > 0, the only cross. The buy
    // placed at bar 7 fills at bar 8's open (8.0) and stays open.
    let bars = flat_bars(&V);
    let mut s = build("sma_cross", &[("fast", int(2)), ("slow", int(4))]);
    let (result, curve) = run(&bars, s.as_mut());
    assert_eq!(result.warmup, 3);
    assert_eq!(summary(&result), [(true, 8, None)]);
    assert_eq!(result.open_trades[0].entry_price, 8.0);
    // floor(10_000 * (1 - eps) / 8) units.
    assert_eq!(result.open_trades[0].size, 1249.0);
    assert_eq!(curve.len(), V.len());
}

#[test]
fn sma_cross_on_an_inverted_v_goes_short_unless_long_only() {
    let peak: Vec<f64> = V.iter().map(|v| 20.0 - v).collect();
    let bars = flat_bars(&peak);
    let mut s = build("sma_cross", &[("fast", int(2)), ("slow", int(4))]);
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(summary(&result), [(false, 8, None)]);

    let mut s = build("sma_cross", &[("fast", int(2)), ("slow", int(4)), ("long_only", yes(true))]);
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(summary(&result), [], "long_only: a death cross only closes, and nothing is open");
}

#[test]
fn sma_cross_reverses_on_each_cross() {
    // V then an inverted V: golden cross at bar 7 (long from 8), then the peak at bar 12.
    // SMA(2) - SMA(4) at bar 13: 11.5 - 11.0 > 0 and at bar 14: 10.5 - 11.0 < 0: death cross
    // at bar 14: the long closes at bar 15's open (9) and a short opens there.
    let mut close = V.to_vec();
    close.extend([12.0, 11.0, 10.0, 9.0, 8.0]);
    let bars = flat_bars(&close);
    let mut s = build("sma_cross", &[("fast", int(2)), ("slow", int(4))]);
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(summary(&result), [(true, 8, Some(15)), (false, 15, None)]);
    let long = &result.trades[0];
    assert_eq!((long.entry_price, long.exit_price), (8.0, 9.0));
}

#[test]
fn buy_and_hold_buys_on_bar_1_fills_on_bar_2_and_holds() {
    let bars = flat_bars(&V);
    let mut s = build("buy_and_hold", &[]);
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(result.warmup, 0);
    assert_eq!(summary(&result), [(true, 2, None)]);
    assert_eq!(result.open_trades[0].entry_price, 8.0);
}

#[test]
fn buy_and_hold_retries_until_it_can_afford_a_unit() {
    // 20 000 per unit with 10 000 cash: the broker cancels the buys filled at bars 2 and 3;
    // the buy placed at bar 3 fills at bar 4's open of 5 000.
    let bars = flat_bars(&[20_000.0, 20_000.0, 20_000.0, 20_000.0, 5_000.0, 5_000.0, 5_000.0]);
    let mut s = build("buy_and_hold", &[]);
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(summary(&result), [(true, 4, None)]);
    assert_eq!(result.open_trades[0].size, 1.0);
    assert_eq!(result.cancelled_orders, 2);
}

#[test]
fn rsi_reversion_buys_the_dip_and_reverses_on_overbought() {
    // Steps of exactly 1, so with period 2 (alpha 1/2) avg_gain + avg_loss = 1 and
    // RSI = 100 * avg_gain: 100 while rising; after the top at bar 4 it falls to 50 (bar 5),
    // 25 (bar 6: crosses below 30 -> buy, filled at bar 7), 12.5, 6.25; then rises to
    // 53.1 (bar 9) and 76.6 (bar 10: crosses above 70 -> close the long and sell, at bar 11).
    let close = [10.0, 11.0, 12.0, 13.0, 14.0, 13.0, 12.0, 11.0, 10.0, 11.0, 12.0, 13.0, 14.0];
    let bars = flat_bars(&close);
    let p = |long_only| {
        [("period", int(2)), ("lower", int(30)), ("upper", int(70)), ("long_only", yes(long_only))]
    };
    let mut s = build("rsi_reversion", &p(false));
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(summary(&result), [(true, 7, Some(11)), (false, 11, None)]);
    assert_eq!(result.trades[0].entry_price, 11.0);
    assert_eq!(result.trades[0].exit_price, 13.0);

    let mut s = build("rsi_reversion", &p(true));
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(summary(&result), [(true, 7, Some(11))]);
}

#[test]
fn rsi_reversion_does_not_add_to_a_position_on_a_second_signal() {
    // Two dips below 30 without an overbought cross in between: one long only.
    let close = [10.0, 11.0, 12.0, 13.0, 14.0, 13.0, 12.0, 11.0, 12.0, 11.0, 10.0, 9.0, 8.0];
    let bars = flat_bars(&close);
    let mut s = build("rsi_reversion", &[("period", int(2))]);
    let (result, _) = run(&bars, s.as_mut());
    // First cross below 30 at bar 6 (RSI 25); RSI(bar 8) = 56.25 (< 70, no short), then it
    // falls again: 28.1 at bar 9 crosses below 30 again, but the strategy is already long.
    assert_eq!(summary(&result), [(true, 7, None)]);
}

#[test]
fn bollinger_breakout_follows_a_breakout_and_reverses_on_a_breakdown() {
    // period 3, k = 1. Bar 7 jumps to 13: window (10.5, 10, 13) has mean 11.17 and std 1.31,
    // so the upper band is 12.48 < 13, while at bar 6 the close 10 was below its upper band
    // 10.40: cross above -> long at bar 8's open. Bar 10 drops to 9: window (13.2, 13.4, 9),
    // lower band 11.87 - 2.03 = 9.84 > 9, and at bar 9 the close 13.4 was above its lower band
    // 13.04: cross below -> close the long and go short at bar 11.
    let close = [10.0, 10.5, 10.0, 10.5, 10.0, 10.5, 10.0, 13.0, 13.2, 13.4, 9.0, 9.0];
    let bars = flat_bars(&close);
    let p = |long_only| [("period", int(3)), ("k", int(1)), ("long_only", yes(long_only))];
    let mut s = build("bollinger_breakout", &p(false));
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(summary(&result), [(true, 8, Some(11)), (false, 11, None)]);

    let mut s = build("bollinger_breakout", &p(true));
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(summary(&result), [(true, 8, Some(11))]);
}

#[test]
fn donchian_breakout_trades_new_highs_and_lows_once_each() {
    // period 3 on flat bars (high = low = close). Bar 4 closes at 11 above the highest high of
    // bars 1..=3 (10): buy, filled at bar 5. Bars 5 and 6 make new highs again but the position
    // is already long: no order. Bar 8 closes at 9 below the lowest low of bars 5..=7 (11):
    // close the long and sell short at bar 9.
    let close = [10.0, 10.0, 10.0, 10.0, 11.0, 11.5, 12.0, 11.0, 9.0, 9.5, 9.0];
    let bars = flat_bars(&close);
    let p = |long_only| [("period", int(3)), ("long_only", yes(long_only))];
    let mut s = build("donchian_breakout", &p(false));
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(result.warmup, 2);
    assert_eq!(summary(&result), [(true, 5, Some(9)), (false, 9, None)]);
    assert_eq!(result.trades[0].entry_price, 11.5);

    let mut s = build("donchian_breakout", &p(true));
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(summary(&result), [(true, 5, Some(9))]);
}

#[test]
fn macd_cross_enters_long_once_after_the_bottom_of_a_v() {
    // A steady fall keeps MACD below its (lagging) signal; after the bottom at bar 20 MACD
    // turns up first and crosses above the signal within a few bars, once; the steady rise
    // keeps it above. So: one long, opened shortly after the bottom, still open.
    let mut close: Vec<f64> = (0..=20).map(|i| 100.0 - i as f64).collect();
    close.extend((1..=20).map(|i| 80.0 + i as f64));
    let bars = flat_bars(&close);
    let mut s = build("macd_cross", &[("fast", int(3)), ("slow", int(6)), ("signal", int(3))]);
    let (result, _) = run(&bars, s.as_mut());
    assert_eq!(result.warmup, 7, "signal line starts at slow + signal - 2");
    let trades = summary(&result);
    assert_eq!(trades.len(), 1, "{trades:?}");
    let (long, entry, exit) = trades[0];
    assert!(long && exit.is_none());
    assert!((22..=26).contains(&entry), "entry at bar {entry}");
}

#[test]
fn a_period_longer_than_the_data_is_an_init_error() {
    let bars = flat_bars(&V);
    let mut s = build("sma_cross", &[("fast", int(5)), ("slow", int(50))]);
    let err = bt_engine::run(
        &bars,
        s.as_mut(),
        &bt_domain::BacktestConfig::default(),
        &bt_engine::IndicatorCache::new(),
        &mut (),
    )
    .unwrap_err();
    insta::assert_snapshot!(err.to_string());
}

#[test]
fn strategies_share_indicators_through_the_cache() {
    // A sweep over one data set: sma(close,20) is computed once for both strategies.
    let bars = crate::common::goog();
    let cache = bt_engine::IndicatorCache::new();
    let config = bt_domain::BacktestConfig::default();
    for (fast, slow) in [(10, 20), (5, 20)] {
        let mut s = build("sma_cross", &[("fast", int(fast)), ("slow", int(slow))]);
        bt_engine::run(&bars, s.as_mut(), &config, &cache, &mut ()).expect("runs");
    }
    let mut s = build("bollinger_breakout", &[("period", int(20))]);
    bt_engine::run(&bars, s.as_mut(), &config, &cache, &mut ()).expect("runs");
    // sma10, sma20, sma5 and std20 computed; sma20 reused twice.
    assert_eq!(cache.hit_stats(), (2, 4));
}
