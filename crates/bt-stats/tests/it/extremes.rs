//! Numeric extremes: prices near 0 (1e-6, a penny stock decaying to 1e-8) and near 1e12, flat
//! prices, a flat series with one jump, a zero-return stretch, volume 0, one day of minute bars
//! (no period return at all, CAGR near overflow).
//!
//! The runs on these data sets are ordinary parity fixtures (`tests/parity/runs`, checked by
//! `parity` and `engine_parity` with everything else); this module checks what those generic
//! comparisons take for granted: the NaN / infinity pattern of backtesting.py on zero-volatility
//! curves, and the indicators on the same series against pandas, bit for bit.

use bt_domain::{EquityCurve, Stats};
use bt_engine::IndicatorCache;
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator, compute_from_curve};
use bt_strategies::indicators::{atr, bollinger, ema, macd, rolling_max, rolling_min, rsi, sma};
use serde_json::Value;

use crate::fixtures::{Case, case_named, cases_named, parity_dir, read_bars, reference_float};

/// Numeric-extreme runs (the data sets `gen_fixtures.py` makes for them).
const EXTREME_DATA: [&str; 9] = [
    "GOOG_MICRO",
    "GOOG_GIGA",
    "GOOG_VOL0",
    "GOOG_VOLGAPS",
    "PENNY_DECAY",
    "FLAT",
    "FLAT_JUMP",
    "ZERO_STRETCH",
    "INTRADAY_1DAY",
];

/// The runs `gen_fixtures.py` made on the numeric-extreme data sets (from the manifest).
fn extreme_cases() -> Vec<Case> {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(parity_dir().join("manifest.json")).unwrap())
            .unwrap();
    let names: Vec<&str> = manifest["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter(|r| {
            let data = r["data"].as_str().unwrap_or_default();
            EXTREME_DATA.iter().any(|d| data == format!("data/{d}.csv"))
        })
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    cases_named(&names)
}

fn stats_of(case: &Case) -> Stats {
    compute_from_curve(
        &case.bars,
        &case.equity,
        &RunFacts { trades: &case.trades, warmup: case.warmup() },
    )
    .unwrap()
}

#[test]
fn every_extreme_data_set_has_reference_runs() {
    let cases = extreme_cases();
    for d in EXTREME_DATA {
        let n = cases.iter().filter(|c| c.json["data"] == format!("data/{d}.csv")).count();
        assert!(n >= 1, "no reference run on {d}");
    }
    assert!(cases.len() >= 20, "{} extreme runs", cases.len());
}

/// The exact float class of every statistic: NaN where backtesting.py has NaN (`null`), the
/// same infinity where it has one (`"inf"`), and a finite value where it is finite. The parity
/// tests compare values; this names the class first, so a zero-volatility regression reads as
/// "Sharpe: NaN expected" rather than as a relative error.
#[test]
fn nan_and_infinity_follow_backtesting_py_on_extreme_runs() {
    let mut failures = Vec::new();
    let mut seen_inf = 0;
    for case in extreme_cases() {
        let stats = stats_of(&case);
        for ((key, value), label) in stats.values().into_iter().zip(bt_domain::STAT_LABELS) {
            let bt_domain::StatValue::Float(x) = value else { continue };
            let r = &case.json["stats"][label];
            if key == "commissions" && r.is_null() {
                continue;
            }
            let expected = reference_float(r);
            seen_inf += usize::from(expected.is_infinite());
            let class = |v: f64| {
                if v.is_nan() {
                    "NaN"
                } else if v == f64::INFINITY {
                    "+inf"
                } else if v == f64::NEG_INFINITY {
                    "-inf"
                } else {
                    "finite"
                }
            };
            if class(x) != class(expected) {
                failures.push(format!(
                    "{} {label}: ours {x:?} ({}), backtesting.py {expected:?} ({})",
                    case.name,
                    class(x),
                    class(expected)
                ));
            }
        }
    }
    assert!(seen_inf >= 1, "no reference run with an infinite statistic");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Flat prices: zero volatility, so the ratios have nothing to divide by.
#[test]
fn flat_prices_give_nan_ratios_not_infinities() {
    for name in ["flat_smacross_10_20", "flat_script_hold_finalize", "flat_script_roundtrips_comm0"]
    {
        let case = case_named(name);
        let s = stats_of(&case);
        assert_eq!((s.return_pct, s.volatility_ann_pct), (0.0, 0.0), "{name}");
        for (what, v) in [
            ("sharpe", s.sharpe_ratio),
            ("sortino", s.sortino_ratio),
            ("calmar", s.calmar_ratio),
            ("alpha", s.alpha_pct),
            ("beta", s.beta),
            ("avg drawdown", s.avg_drawdown_pct),
        ] {
            assert!(v.is_nan(), "{name}: {what} {v}");
        }
        assert_eq!(s.max_drawdown_duration, None, "{name}");
    }
    // Break-even trades only: win rate 0, SQN (std 0), Kelly and Profit Factor NaN.
    let case = case_named("flat_script_roundtrips_comm0");
    let s = stats_of(&case);
    assert!(s.n_trades >= 5 && s.win_rate_pct == 0.0 && s.avg_trade_pct == 0.0);
    assert!(s.sqn.is_nan() && s.kelly_criterion.is_nan() && s.profit_factor.is_nan());
}

/// One jump up while long and no down period: backtesting.py's Sortino is +inf (no downside
/// deviation) while Calmar (no drawdown) is NaN.
#[test]
fn single_jump_gives_infinite_sortino_and_nan_calmar() {
    let case = case_named("flat_jump_script_long");
    let s = stats_of(&case);
    assert_eq!(s.sortino_ratio, f64::INFINITY);
    assert!(s.calmar_ratio.is_nan() && s.sharpe_ratio.is_finite() && s.sharpe_ratio > 0.0);
}

/// Volume plays no part in the simulation or the statistics: the volume-0 copy of GOOG's first
/// 600 bars trades exactly like the same bars with GOOG's real volume, and both match the
/// backtesting.py run on the volume-0 file.
#[test]
fn volume_zero_changes_nothing() {
    let case = case_named("goog_vol0_smacross_10_20_comm002");
    assert!(case.bars.volume().iter().all(|&v| v == 0.0));
    let goog = read_bars(&parity_dir().join("data/GOOG.csv"));
    let n = case.bars.len();
    let with_volume = bt_domain::Bars::new(
        goog.timestamps()[..n].to_vec(),
        goog.open()[..n].to_vec(),
        goog.high()[..n].to_vec(),
        goog.low()[..n].to_vec(),
        goog.close()[..n].to_vec(),
        goog.volume()[..n].to_vec(),
    )
    .unwrap();
    assert_eq!(with_volume.close(), case.bars.close());
    assert!(with_volume.volume().iter().all(|&v| v > 0.0));
    let run = |bars: &bt_domain::Bars| {
        let ds = DatasetStats::new(bars);
        let mut observer = (StatsAccumulator::new(&ds), EquityCurve::default());
        let mut strategy = crate::engine_parity::sma_cross(10, 20, false);
        let result = bt_engine::run(
            bars,
            &mut strategy,
            &case.config(),
            &IndicatorCache::new(),
            &mut observer,
        )
        .unwrap();
        let (acc, curve) = observer;
        let stats = acc.finish(&RunFacts { trades: &result.trades, warmup: result.warmup });
        (result.trades, curve.0, stats)
    };
    let (trades_zero, curve_zero, stats_zero) = run(&case.bars);
    let (trades_real, curve_real, stats_real) = run(&with_volume);
    assert_eq!(curve_zero, case.equity);
    assert_eq!((&trades_zero, &curve_zero), (&trades_real, &curve_real));
    assert!(crate::stream::same_stats(&stats_zero, &stats_real));
    assert_eq!(trades_zero.len(), case.trades.len());
}

/// Compares one indicator with its pandas column bit for bit, NaN warm-up included.
fn check_column(
    failures: &mut Vec<String>,
    file: &str,
    rows: &[Vec<String>],
    k: usize,
    got: &[f64],
) {
    let col = &rows[0][k];
    let want: Vec<f64> = rows[1..]
        .iter()
        .map(|r| if r[k].is_empty() { f64::NAN } else { r[k].parse().unwrap() })
        .collect();
    if got.len() != want.len() {
        failures.push(format!("{file} {col}: length {} vs {}", got.len(), want.len()));
        return;
    }
    if let Some(i) = (0..got.len())
        .find(|&i| !(got[i].to_bits() == want[i].to_bits() || got[i].is_nan() && want[i].is_nan()))
    {
        failures.push(format!("{file} {col}[{i}]: ours {:?}, pandas {:?}", got[i], want[i]));
    }
}

/// The strategies' indicators on 1e-6, 1e-8 and 1e12 prices and on flat series (RSI with no
/// gains and no losses, Bollinger with a zero standard deviation, ATR 0) against pandas.
#[test]
fn indicators_match_pandas_on_extreme_series() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(parity_dir().join("manifest.json")).unwrap())
            .unwrap();
    let files = manifest["extreme_indicators"].as_object().expect("extreme_indicators");
    assert!(files.len() >= 6);
    let mut failures = Vec::new();
    for (data, file) in files {
        let bars = read_bars(&parity_dir().join(data));
        let file = file.as_str().unwrap();
        let text = std::fs::read_to_string(parity_dir().join(file)).unwrap();
        let rows: Vec<Vec<String>> =
            text.lines().map(|l| l.split(',').map(str::to_owned).collect()).collect();
        let (h, l, c) = (bars.high(), bars.low(), bars.close());
        let (line, signal) = macd(c, 12, 26, 9);
        let (mid, upper, lower) = bollinger(c, 20, 2.0);
        for (k, name) in rows[0].iter().enumerate().skip(1) {
            let got = match name.as_str() {
                "sma_10" => sma(c, 10),
                "sma_20" => sma(c, 20),
                "ema_12" => ema(c, 12),
                "ema_26" => ema(c, 26),
                "rsi_14" => rsi(c, 14),
                "atr_14" => atr(h, l, c, 14),
                "bb_mid_20" => mid.clone(),
                "bb_upper_20_2" => upper.clone(),
                "bb_lower_20_2" => lower.clone(),
                "donchian_high_20" => rolling_max(h, 20),
                "donchian_low_20" => rolling_min(l, 20),
                "macd_12_26" => line.clone(),
                "macd_signal_9" => signal.clone(),
                other => panic!("{file}: unknown column {other}"),
            };
            check_column(&mut failures, file, &rows, k, &got);
        }
        for series in [rsi(c, 14), atr(h, l, c, 14), upper.clone(), lower.clone()] {
            assert!(series.iter().all(|v| v.is_nan() || v.is_finite()), "{file}: infinity");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
