//! Numeric robustness end to end: prices near 0 (1e-6, a penny stock decaying to 1e-8) and near
//! 1e12, flat prices (zero volatility), one jump in a flat series, volume 0. Every built-in
//! strategy runs through the real binary on each data set; where backtesting.py has the same
//! strategy (SmaCross, buy and hold) the outcome is checked against what backtesting.py 0.6.6
//! gives on the same CSV, elsewhere against invariants.

use std::{fmt::Write as _, fs, path::Path, process::Output};

use bt::domain::{
    STAT_KEYS,
    time::{civil_from_days, days_from_civil, weekday},
};
use serde_json::Value;

use crate::{bt, text};

/// `n` business days (Monday to Friday) from 2020-01-01, as `YYYY-MM-DD`.
fn business_days(n: usize) -> Vec<String> {
    let mut day = days_from_civil(2020, 1, 1);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        if weekday(day) < 5 {
            let (y, m, d) = civil_from_days(day);
            out.push(format!("{y:04}-{m:02}-{d:02}"));
        }
        day += 1;
    }
    out
}

/// OHLC in integer ticks (price = ticks * `tick`, written shortest round-trip, never with an
/// exponent), and volumes.
struct Series {
    open: Vec<i64>,
    high: Vec<i64>,
    low: Vec<i64>,
    close: Vec<i64>,
    volume: Vec<u64>,
}

impl Series {
    /// Open = previous close, high/low a few ticks outside (integer arithmetic: deterministic).
    fn from_closes(close: Vec<i64>, spread_ticks: i64, volume: impl Fn(usize) -> u64) -> Series {
        let n = close.len();
        let open: Vec<i64> = (0..n).map(|i| if i == 0 { close[0] } else { close[i - 1] }).collect();
        let high = (0..n).map(|i| open[i].max(close[i]) + spread_ticks * (i as i64 % 3)).collect();
        let low = (0..n)
            .map(|i| (open[i].min(close[i]) - spread_ticks * (i as i64 % 4)).max(1))
            .collect();
        Series { open, high, low, close, volume: (0..n).map(volume).collect() }
    }

    fn flat(price: i64, n: usize) -> Series {
        Series {
            open: vec![price; n],
            high: vec![price; n],
            low: vec![price; n],
            close: vec![price; n],
            volume: vec![0; n],
        }
    }

    fn csv(&self, tick: f64) -> String {
        let mut s = String::from(",Open,High,Low,Close,Volume\n");
        for (i, day) in business_days(self.close.len()).iter().enumerate() {
            let p = |t: i64| t as f64 * tick;
            writeln!(
                s,
                "{day},{},{},{},{},{}",
                p(self.open[i]),
                p(self.high[i]),
                p(self.low[i]),
                p(self.close[i]),
                self.volume[i]
            )
            .unwrap();
        }
        s
    }
}

/// A wavy series around 10 000 ticks with enough swings for every strategy to trade.
fn wave_ticks(n: usize) -> Vec<i64> {
    (0..n)
        .map(|i| {
            let x = i as f64;
            (10_000.0 * (1.0 + 0.3 * (x / 15.0).sin() + 0.1 * (x / 4.3).sin())).round() as i64
        })
        .collect()
}

/// The data sets, as (file name, CSV text).
fn data_sets() -> Vec<(&'static str, String)> {
    let n = 400;
    // 1e-6: 10 000 ticks of 1e-10; volume 0 on every fifth bar.
    let micro = Series::from_closes(wave_ticks(n), 37, |i| if i % 5 == 0 { 0 } else { 1000 });
    // 1e12: the same shape in ticks of 1e8 (integer prices up to ~1.4e12).
    let giga = Series::from_closes(wave_ticks(n), 37, |i| 1000 + i as u64);
    // A penny stock: 0.01 decaying to about 1e-8 over 400 bars, in ticks of 1e-12.
    let penny_close: Vec<i64> = (0..n)
        .map(|i| {
            let x = i as f64;
            (1e10 * (-0.0345 * x).exp() * (1.0 + 0.6 * (x / 9.0).sin())).round() as i64
        })
        .collect();
    let penny = Series::from_closes(penny_close, 0, |_| 5_000);
    // Flat at 50, one jump to 55 inside bar 120, flat again.
    let jump_close: Vec<i64> = (0..200).map(|i| if i >= 120 { 5500 } else { 5000 }).collect();
    let mut jump = Series::from_closes(jump_close, 0, |_| 1000);
    jump.volume[50..60].fill(0);
    vec![
        ("micro.csv", micro.csv(1e-10)),
        ("giga.csv", giga.csv(1e8)),
        ("penny.csv", penny.csv(1e-12)),
        ("flat.csv", Series::flat(10_000, 250).csv(0.01)),
        ("flat_jump.csv", jump.csv(0.01)),
    ]
}

/// The built-in strategies (`bt strategies`), run with their default parameters.
const STRATEGIES: [&str; 6] = [
    "bollinger_breakout",
    "buy_and_hold",
    "donchian_breakout",
    "macd_cross",
    "rsi_reversion",
    "sma_cross",
];

/// Cash levels: backtesting.py's default, and enough to buy whole units at 1e12.
const CASH: [f64; 2] = [10_000.0, 1e15];

/// Trade statistics, NaN (`null`) when no trade was closed: every key after `n_trades` (the
/// 22nd; checked in `every_strategy_survives_extreme_prices_through_backtest`).
const NO_TRADE_NULLS: &[&str] = bt::domain::STAT_KEYS.split_at(22).1;

/// Curve statistics, NaN when the equity never moves (zero volatility, no drawdown).
const FLAT_EQUITY_NULLS: [&str; 6] = [
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "avg_drawdown_pct",
    "max_drawdown_duration",
    "avg_drawdown_duration",
];

/// NaN when the closes never move (Beta divides by the market's zero variance).
const FLAT_MARKET_NULLS: [&str; 2] = ["alpha_pct", "beta"];

/// What backtesting.py 0.6.6 gives on the same CSV with the same strategy and default settings
/// (cash aside): `SmaCross` (n1 = 10, n2 = 20) for `sma_cross`, and for `buy_and_hold`
/// `if self.holding: return; if self.trades: self.holding = True; elif not self.orders:
/// self.buy()`. Numbers are backtesting.py's output (run on the files `data_sets` writes).
struct Reference {
    data: &'static str,
    strategy: &'static str,
    cash: f64,
    closed: usize,
    open: usize,
    equity_final: f64,
    /// Statistics that are NaN.
    nulls: &'static [&'static [&'static str]],
    /// Statistics that are +inf.
    inf: &'static [&'static str],
}

const REFERENCES: [Reference; 16] = [
    Reference {
        data: "micro.csv",
        strategy: "sma_cross",
        cash: 1e4,
        closed: 15,
        open: 1,
        equity_final: 29619.9903767468,
        nulls: &[],
        inf: &[],
    },
    Reference {
        data: "micro.csv",
        strategy: "buy_and_hold",
        cash: 1e4,
        closed: 0,
        open: 1,
        equity_final: 11495.685522448,
        nulls: &[NO_TRADE_NULLS],
        inf: &[],
    },
    // 1e15 cash at 1e-6: sizes near 1e21 units, beyond 2**53.
    Reference {
        data: "micro.csv",
        strategy: "sma_cross",
        cash: 1e15,
        closed: 15,
        open: 1,
        equity_final: 2961999037666383.0,
        nulls: &[],
        inf: &[],
    },
    Reference {
        data: "micro.csv",
        strategy: "buy_and_hold",
        cash: 1e15,
        closed: 0,
        open: 1,
        equity_final: 1149568552253116.0,
        nulls: &[NO_TRADE_NULLS],
        inf: &[],
    },
    // 1e12 prices and 10 000 cash: every order is cancelled for lack of margin.
    Reference {
        data: "giga.csv",
        strategy: "sma_cross",
        cash: 1e4,
        closed: 0,
        open: 0,
        equity_final: 10000.0,
        nulls: &[&FLAT_EQUITY_NULLS, NO_TRADE_NULLS],
        inf: &[],
    },
    Reference {
        data: "giga.csv",
        strategy: "sma_cross",
        cash: 1e15,
        closed: 15,
        open: 1,
        equity_final: 2961021100000000.0,
        nulls: &[],
        inf: &[],
    },
    Reference {
        data: "giga.csv",
        strategy: "buy_and_hold",
        cash: 1e4,
        closed: 0,
        open: 0,
        equity_final: 10000.0,
        nulls: &[&FLAT_EQUITY_NULLS, NO_TRADE_NULLS],
        inf: &[],
    },
    Reference {
        data: "giga.csv",
        strategy: "buy_and_hold",
        cash: 1e15,
        closed: 0,
        open: 1,
        equity_final: 1149448000000000.0,
        nulls: &[NO_TRADE_NULLS],
        inf: &[],
    },
    Reference {
        data: "penny.csv",
        strategy: "sma_cross",
        cash: 1e4,
        closed: 12,
        open: 1,
        equity_final: 252161.18048932447,
        nulls: &[],
        inf: &[],
    },
    // Holding a penny stock from 0.01 to 1e-8: equity near 0, still positive.
    Reference {
        data: "penny.csv",
        strategy: "buy_and_hold",
        cash: 1e4,
        closed: 0,
        open: 1,
        equity_final: 0.02143609253653267,
        nulls: &[NO_TRADE_NULLS],
        inf: &[],
    },
    Reference {
        data: "penny.csv",
        strategy: "buy_and_hold",
        cash: 1e15,
        closed: 0,
        open: 1,
        equity_final: 1230829806.125,
        nulls: &[NO_TRADE_NULLS],
        inf: &[],
    },
    Reference {
        data: "flat.csv",
        strategy: "sma_cross",
        cash: 1e4,
        closed: 0,
        open: 0,
        equity_final: 10000.0,
        nulls: &[&FLAT_EQUITY_NULLS, &FLAT_MARKET_NULLS, NO_TRADE_NULLS],
        inf: &[],
    },
    Reference {
        data: "flat.csv",
        strategy: "buy_and_hold",
        cash: 1e4,
        closed: 0,
        open: 1,
        equity_final: 10000.0,
        nulls: &[&FLAT_EQUITY_NULLS, &FLAT_MARKET_NULLS, NO_TRADE_NULLS],
        inf: &[],
    },
    // Equal SMAs before the jump are no crossover: nothing trades.
    Reference {
        data: "flat_jump.csv",
        strategy: "sma_cross",
        cash: 1e4,
        closed: 0,
        open: 0,
        equity_final: 10000.0,
        nulls: &[&FLAT_EQUITY_NULLS, NO_TRADE_NULLS],
        inf: &[],
    },
    // Long through the jump: no down period, so Sortino is +inf; no drawdown, Calmar NaN.
    Reference {
        data: "flat_jump.csv",
        strategy: "buy_and_hold",
        cash: 1e4,
        closed: 0,
        open: 1,
        equity_final: 10995.0,
        nulls: &[
            &["calmar_ratio", "avg_drawdown_pct", "max_drawdown_duration", "avg_drawdown_duration"],
            NO_TRADE_NULLS,
        ],
        inf: &["sortino_ratio"],
    },
    Reference {
        data: "flat_jump.csv",
        strategy: "buy_and_hold",
        cash: 1e15,
        closed: 0,
        open: 1,
        equity_final: 1099999999999995.0,
        nulls: &[
            &["calmar_ratio", "avg_drawdown_pct", "max_drawdown_duration", "avg_drawdown_duration"],
            NO_TRADE_NULLS,
        ],
        inf: &["sortino_ratio"],
    },
];

fn ok(o: &Output, what: &str) {
    let err = text(&o.stderr);
    assert!(
        o.status.success(),
        "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{err}",
        o.status.code(),
        text(&o.stdout)
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
}

fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (name, csv) in data_sets() {
        fs::write(tmp.path().join(name), csv).unwrap();
    }
    tmp
}

fn backtest(dir: &Path, data: &str, strategy: &str, cash: f64) -> Value {
    let what = format!("{strategy} on {data}, cash {cash}");
    let o = bt()
        .current_dir(dir)
        .args(["backtest", "--data", data, "--strategy", strategy, "--json", "--cash"])
        .arg(cash.to_string())
        .output()
        .unwrap();
    ok(&o, &what);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {}", text(&o.stdout)));
    check_stats(&v["stats"], cash, &what);
    let trades = v["trades"].as_array().expect("trades");
    assert_eq!(v["stats"]["n_trades"].as_u64(), Some(trades.len() as u64), "{what}");
    for t in trades.iter().chain(v["open_trades"].as_array().expect("open_trades")) {
        for k in ["entry_price", "exit_price"] {
            let p = t[k].as_f64().unwrap_or(f64::NAN);
            assert!(p.is_finite() && p > 0.0, "{what}: trade {k} {t}");
        }
        let size = t["size"].as_f64().unwrap_or(f64::NAN);
        // Whole units; above 2**53 (1e15 cash at 1e-6) every float is an integer.
        assert!(size != 0.0 && size.fract() == 0.0, "{what}: size {t}");
        for k in ["pnl", "commission", "return_pct"] {
            assert!(t[k].as_f64().is_some_and(f64::is_finite), "{what}: trade {k} {t}");
        }
    }
    v
}

/// The statistics any run must satisfy, whatever the strategy: every key, in order; numbers
/// finite or NaN (`null`), infinite only where backtesting.py can be (Sortino with no down
/// period); equity finite and >= 0; the NaN rules of zero volatility and of no closed trade.
fn check_stats(stats: &Value, cash: f64, what: &str) {
    let m = stats.as_object().unwrap_or_else(|| panic!("{what}: stats {stats}"));
    // `bt backtest --json` adds the return statistics after the 32; the run's records keep
    // them in their own object.
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    let returns: &[&str] =
        if keys.len() > STAT_KEYS.len() { &bt::domain::RETURN_KEYS } else { &[] };
    assert!(
        keys.iter().copied().eq(STAT_KEYS.iter().chain(returns).copied()),
        "{what}: keys {keys:?}"
    );
    let num = |k: &str| m[k].as_f64().unwrap_or(f64::NAN);
    for (k, v) in m {
        match (k.as_str(), v) {
            ("start" | "end", Value::String(_)) | (_, Value::Null | Value::Number(_)) => {}
            ("sortino_ratio", Value::String(s)) if s == "inf" => {
                // No negative period return: then there is no drawdown either.
                assert_eq!(num("max_drawdown_pct"), 0.0, "{what}: inf Sortino with a drawdown");
                assert!(num("return_ann_pct") > 0.0, "{what}");
            }
            _ => panic!("{what}: {k} = {v}"),
        }
    }
    let final_equity = num("equity_final");
    assert!(final_equity.is_finite() && final_equity >= 0.0, "{what}: equity {final_equity}");
    assert!(num("equity_peak") >= final_equity && num("equity_peak") >= cash, "{what}");
    let ret = (final_equity - cash) / cash * 100.0;
    assert!((num("return_pct") - ret).abs() <= 1e-9 * ret.abs().max(1.0), "{what}: return");
    let exposure = num("exposure_time_pct");
    assert!((0.0..=100.0).contains(&exposure), "{what}: exposure {exposure}");
    if num("volatility_ann_pct") == 0.0 {
        assert!(m["sharpe_ratio"].is_null(), "{what}: Sharpe with zero volatility");
    }
    if num("max_drawdown_pct") == 0.0 {
        assert!(m["calmar_ratio"].is_null(), "{what}: Calmar with no drawdown");
    }
    if m["n_trades"] == 0 {
        for &k in NO_TRADE_NULLS {
            assert!(m[k].is_null(), "{what}: {k} without a closed trade");
        }
    }
}

fn keys_where(stats: &Value, pred: impl Fn(&Value) -> bool) -> Vec<String> {
    stats.as_object().unwrap().iter().filter(|(_, v)| pred(v)).map(|(k, _)| k.clone()).collect()
}

/// Every built-in strategy on every data set and at both cash levels, through `bt backtest
/// --json`; sma_cross and buy_and_hold against backtesting.py's outcome on the same files.
#[test]
fn every_strategy_survives_extreme_prices_through_backtest() {
    assert_eq!(bt::domain::STAT_KEYS[21], "n_trades", "NO_TRADE_NULLS follow the trade count");
    let tmp = workspace();
    let (mut runs, mut compared) = (0, 0);
    for (data, _) in data_sets() {
        for strategy in STRATEGIES {
            for cash in CASH {
                let v = backtest(tmp.path(), data, strategy, cash);
                runs += 1;
                let stats = &v["stats"];
                let flat_data = data == "flat.csv";
                if flat_data {
                    // Constant prices, no commission: whatever a strategy does, equity is constant.
                    let nulls = keys_where(stats, Value::is_null);
                    for k in FLAT_EQUITY_NULLS.iter().chain(&FLAT_MARKET_NULLS) {
                        assert!(nulls.iter().any(|n| n == k), "{strategy} on flat: {k} not NaN");
                    }
                    assert_eq!(stats["equity_final"].as_f64(), Some(cash), "{strategy} on flat");
                    assert_eq!(stats["volatility_ann_pct"].as_f64(), Some(0.0));
                }
                let Some(r) = REFERENCES
                    .iter()
                    .find(|r| r.data == data && r.strategy == strategy && r.cash == cash)
                else {
                    continue;
                };
                compared += 1;
                let what = format!("{strategy} on {data}, cash {cash}");
                assert_eq!(v["trades"].as_array().unwrap().len(), r.closed, "{what}: closed");
                assert_eq!(v["open_trades"].as_array().unwrap().len(), r.open, "{what}: open");
                assert_eq!(stats["equity_final"].as_f64(), Some(r.equity_final), "{what}");
                let mut nulls: Vec<&str> = r.nulls.iter().flat_map(|l| l.iter().copied()).collect();
                nulls.sort_unstable();
                let mut ours = keys_where(stats, Value::is_null);
                ours.retain(|k| STAT_KEYS.contains(&k.as_str()));
                ours.sort_unstable();
                assert_eq!(ours, nulls, "{what}: NaN statistics");
                assert_eq!(keys_where(stats, Value::is_string).len(), 2 + r.inf.len(), "{what}");
                for k in r.inf {
                    assert_eq!(stats[*k], "inf", "{what}: {k}");
                }
            }
        }
    }
    assert_eq!(runs, 5 * STRATEGIES.len() * CASH.len());
    assert_eq!(compared, REFERENCES.len());
}

/// The text table (the default output) with 1e15 equity, `inf` and NaN rows.
#[test]
fn tables_print_for_extreme_runs() {
    let tmp = workspace();
    for (data, strategy, cash) in [
        ("giga.csv", "sma_cross", "1e15"),
        ("flat_jump.csv", "buy_and_hold", "10000"),
        ("flat.csv", "rsi_reversion", "10000"),
        ("penny.csv", "buy_and_hold", "10000"),
    ] {
        let o = bt()
            .current_dir(tmp.path())
            .args(["backtest", "--data", data, "--strategy", strategy, "--cash", cash])
            .output()
            .unwrap();
        let what = format!("{strategy} on {data}");
        ok(&o, &what);
        let out = text(&o.stdout);
        let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("Sharpe Ratio")).collect();
        assert_eq!(rows.len(), 1, "{what}:\n{out}");
        assert!(!out.contains("NaN"), "{what}: NaN prints as --:\n{out}");
    }
}

/// `bt run` over the same data sets: every strategy, both cash levels; every simulation
/// completes and its statistics equal `bt backtest`'s.
#[test]
fn a_queue_over_extreme_data_completes_every_simulation() {
    let tmp = workspace();
    let names: Vec<&str> = data_sets().iter().map(|(n, _)| *n).collect();
    let mut queue = String::from("(\n    version: 1,\n    datasets: {\n");
    for n in &names {
        writeln!(queue, "        {:?}: (path: {n:?}),", n.trim_end_matches(".csv")).unwrap();
    }
    queue.push_str("    },\n    simulations: [\n");
    let mut sims = Vec::new();
    for n in &names {
        let ds = n.trim_end_matches(".csv");
        for s in STRATEGIES {
            for (k, cash) in CASH.iter().enumerate() {
                let id = format!("{ds}-{s}-{k}");
                writeln!(
                    queue,
                    "        (id: {id:?}, dataset: {ds:?}, strategy: {s:?}, config: (cash: {cash:?})),"
                )
                .unwrap();
                sims.push((id, *n, s, *cash));
            }
        }
    }
    queue.push_str("    ],\n)\n");
    fs::write(tmp.path().join("q.ron"), &queue).unwrap();
    let o = bt()
        .current_dir(tmp.path())
        .args(["run", "q.ron", "--out", "out", "--no-report", "--threads", "2"])
        .output()
        .unwrap();
    ok(&o, "bt run");
    let out = tmp.path().join("out");
    let run: Value =
        serde_json::from_str(&fs::read_to_string(out.join("run.json")).unwrap()).expect("run.json");
    assert_eq!(run["status"], "complete");
    assert_eq!((run["total"].as_u64(), run["failed"].as_u64()), (Some(sims.len() as u64), Some(0)));
    let results = crate::results_jsonl(&out);
    assert_eq!(results.lines().count(), sims.len());
    for line in results.lines() {
        let r: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let id = r["id"].as_str().unwrap();
        assert_eq!(r["status"], "ok", "{line}");
        let &(_, data, strategy, cash) = sims.iter().find(|s| s.0 == id).expect("known id");
        check_stats(&r["stats"], cash, id);
        // Same engine, same statistics as `bt backtest` (spot checks keep the test quick).
        if strategy == "buy_and_hold" || data == "giga.csv" {
            let v = backtest(tmp.path(), data, strategy, cash);
            let mut stats = r["stats"].clone();
            for k in bt::domain::RETURN_KEYS {
                stats[k] = r["returns"][k].clone();
            }
            assert_eq!(stats, v["stats"], "{id}: bt run and bt backtest differ");
        }
    }
}
