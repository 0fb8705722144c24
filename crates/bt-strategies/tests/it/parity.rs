//! Parity with pandas and backtesting.py on GOOG.
//!
//! `goog_indicators.csv` was computed by pandas 3.1.1 (`gen_fixtures.py` in bt-stats' parity
//! fixtures) from `GOOG.csv`; the `goog_*` runs are backtesting.py 0.6.6's SmaCross reference
//! runs. Both are copies: they are never regenerated from our output.

use bt_domain::{BacktestConfig, ParamValue};
use bt_strategies::indicators::{atr, bollinger, ema, macd, rolling_max, rolling_min, rsi, sma};

use crate::common::{build, float, goog, read_csv, run_with};

/// Compares one indicator with its pandas reference column bit for bit, NaN warm-up included.
///
/// Every indicator is a port of pandas' own loop (same operations in the same order), so no
/// tolerance is needed; a difference of one ulp is a bug (it can flip an exact crossover tie).
fn check(column: &str, got: &[f64]) {
    let (header, rows) = read_csv("goog_indicators.csv");
    let c = header.iter().position(|h| h == column).expect("column exists");
    let want: Vec<f64> = rows.iter().map(|r| float(&r[c])).collect();
    assert_eq!(got.len(), want.len(), "{column}: length");
    for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
            "{column}[{i}]: got {g}, pandas {w}"
        );
    }
}

#[test]
fn indicators_match_pandas_on_goog() {
    let bars = goog();
    let (h, l, c) = (bars.high(), bars.low(), bars.close());
    check("sma_10", &sma(c, 10));
    check("sma_20", &sma(c, 20));
    check("ema_12", &ema(c, 12));
    check("ema_26", &ema(c, 26));
    check("rsi_14", &rsi(c, 14));
    check("atr_14", &atr(h, l, c, 14));
    check("donchian_high_20", &rolling_max(h, 20));
    check("donchian_low_20", &rolling_min(l, 20));
    let (line, signal) = macd(c, 12, 26, 9);
    check("macd_12_26", &line);
    check("macd_signal_9", &signal);
    let (mid, upper, lower) = bollinger(c, 20, 2.0);
    check("bb_mid_20", &mid);
    check("bb_upper_20_2", &upper);
    check("bb_lower_20_2", &lower);
}

/// One reference run: the registry's sma_cross against backtesting.py's trades table.
fn check_smacross_run(run: &str, long_only: bool) {
    let bars = goog();
    let mut strategy = build(
        "sma_cross",
        &[
            ("fast", ParamValue::Int(10)),
            ("slow", ParamValue::Int(20)),
            ("long_only", ParamValue::Bool(long_only)),
        ],
    );
    let config = BacktestConfig { commission: 0.002, ..BacktestConfig::default() };
    let (result, _) = run_with(&bars, strategy.as_mut(), &config);

    let (_, rows) = read_csv(&format!("{run}.trades.csv"));
    assert_eq!(result.trades.len(), rows.len(), "{run}: closed trades");
    for (k, (trade, row)) in result.trades.iter().zip(&rows).enumerate() {
        // i,Size,EntryBar,ExitBar,EntryPrice,ExitPrice,SL,TP,PnL,...
        assert_eq!(trade.size, float(&row[1]), "{run} trade {k}: size");
        assert_eq!(trade.entry_bar as f64, float(&row[2]), "{run} trade {k}: entry bar");
        assert_eq!(trade.exit_bar.map(|b| b as f64), Some(float(&row[3])), "{run} trade {k}");
        assert_eq!(trade.entry_price, float(&row[4]), "{run} trade {k}: entry price");
        assert_eq!(trade.exit_price, float(&row[5]), "{run} trade {k}: exit price");
        let pnl = float(&row[8]);
        assert!((trade.pnl - pnl).abs() <= 1e-9 * pnl.abs().max(1.0), "{run} trade {k}: pnl");
    }

    let stats: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::common::data_path(&format!("{run}.stats.json")))
            .expect("stats fixture"),
    )
    .expect("json");
    let final_equity = stats["stats"]["Equity Final [$]"].as_f64().expect("equity");
    assert!(
        (result.final_equity - final_equity).abs() <= 1e-9 * final_equity,
        "{run}: final equity {} vs {final_equity}",
        result.final_equity
    );
    let open = stats["derived"]["open_trades_at_end"].as_array().expect("open trades");
    assert_eq!(result.open_trades.len(), open.len(), "{run}: open trades");
    for (trade, want) in result.open_trades.iter().zip(open) {
        assert_eq!(Some(trade.size), want["size"].as_f64());
        assert_eq!(Some(trade.entry_bar as u64), want["entry_bar"].as_u64());
        assert_eq!(Some(trade.entry_price), want["entry_price"].as_f64());
    }
}

#[test]
fn sma_cross_reproduces_backtesting_py_smacross() {
    check_smacross_run("goog_smacross_10_20_comm002", false);
}

#[test]
fn sma_cross_long_only_reproduces_backtesting_py() {
    check_smacross_run("goog_longonly_10_20_comm002", true);
}
