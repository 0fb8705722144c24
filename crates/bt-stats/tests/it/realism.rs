//! Trailing stops and fractional units against backtesting.py 0.6.6's `lib.TrailingStrategy`
//! and `lib.FractionalBacktest` (`tests/parity/realism/`, made by `make_parity_realism.py`
//! there): trades, equity and the 32 statistics, as the engine's broker settings
//! `trailing_atr` / `trailing_pct` / `atr_periods` / `fractional_unit` give them to any strategy.

use std::{collections::BTreeMap, fs};

use bt_domain::{BacktestConfig, Bars, EquityCurve, Trade};
use bt_engine::{EngineError, IndicatorCache};
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator};
use serde_json::Value;

use crate::{
    engine_parity::sma_cross,
    fixtures::{
        Case, Worst, check_all, compare_stats, load_case_in, parity_dir, read_bars, rel_err,
    },
};

fn realism_dir() -> std::path::PathBuf {
    parity_dir().join("realism")
}

fn manifest() -> Vec<Value> {
    let text = fs::read_to_string(realism_dir().join("manifest.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["runs"].as_array().unwrap().clone()
}

/// The broker settings of a manifest run.
fn config(run: &Value) -> BacktestConfig {
    let k = &run["backtest_kwargs"];
    let f = |key: &str| k[key].as_f64().unwrap();
    let b = |key: &str| k[key].as_bool().unwrap();
    let (commission_fixed, commission) = match &k["commission"] {
        Value::Array(pair) => (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap()),
        v => (0.0, v.as_f64().unwrap()),
    };
    let mut c = BacktestConfig {
        cash: f("cash"),
        commission,
        commission_fixed,
        spread: f("spread"),
        margin: f("margin"),
        trade_on_close: b("trade_on_close"),
        hedging: b("hedging"),
        exclusive_orders: b("exclusive_orders"),
        finalize_trades: b("finalize_trades"),
        fractional_unit: run["fractional_unit"].as_f64(),
        ..BacktestConfig::default()
    };
    if let Some(t) = run["trailing"].as_object() {
        c.atr_periods = t["atr_periods"].as_u64().unwrap() as usize;
        let value = t["value"].as_f64().unwrap();
        match t["kind"].as_str().unwrap() {
            "atr" => c.trailing_atr = Some(value),
            _ => c.trailing_pct = Some(value),
        }
    }
    c
}

fn run(
    run: &Value,
    bars: &Bars,
) -> Result<(bt_engine::BacktestResult, Vec<f64>, bt_domain::Stats), EngineError> {
    let long_only = run["strategy"].as_str().unwrap().starts_with("SmaCrossLongOnly");
    let mut strategy = sma_cross(
        run["n1"].as_u64().unwrap() as usize,
        run["n2"].as_u64().unwrap() as usize,
        long_only,
    );
    let ds = DatasetStats::new(bars);
    let mut observer = (StatsAccumulator::new(&ds), EquityCurve::default());
    let result =
        bt_engine::run(bars, &mut strategy, &config(run), &IndicatorCache::new(), &mut observer)?;
    let (acc, curve) = observer;
    let stats = acc.finish(&RunFacts { trades: &result.trades, warmup: result.warmup });
    Ok((result, curve.0, stats))
}

/// The first closed trade that differs: bars, tags and counts exactly, floats to 1e-9 (sizes
/// and prices of fractional runs are `k * u` and `(P * u) / u`, computed as backtesting.py does).
fn trade_diff(ours: &[Trade], reference: &[Trade]) -> Option<String> {
    for (k, (a, b)) in ours.iter().zip(reference).enumerate() {
        let floats = [
            ("size", a.size, b.size),
            ("entry price", a.entry_price, b.entry_price),
            ("exit price", a.exit_price, b.exit_price),
            ("pnl", a.pnl, b.pnl),
            ("commission", a.commission, b.commission),
            ("return", a.return_frac, b.return_frac),
            ("sl", a.sl.unwrap_or(f64::NAN), b.sl.unwrap_or(f64::NAN)),
            ("tp", a.tp.unwrap_or(f64::NAN), b.tp.unwrap_or(f64::NAN)),
        ];
        let bad: Vec<String> = floats
            .iter()
            .filter(|(_, x, y)| rel_err(*x, *y).is_nan() || rel_err(*x, *y) > 1e-9)
            .map(|(what, x, y)| format!("{what} {x:?} vs {y:?}"))
            .collect();
        if a.entry_bar != b.entry_bar || a.exit_bar != b.exit_bar || !bad.is_empty() {
            return Some(format!(
                "trade #{k}: {}\n      ours      {a:?}\n      reference {b:?}",
                bad.join(", ")
            ));
        }
    }
    (ours.len() != reference.len())
        .then(|| format!("closed trades: ours {}, reference {}", ours.len(), reference.len()))
}

fn check(case: &Case, spec: &Value, worst: &mut Worst) -> Result<(), String> {
    let (result, equity, stats) = run(spec, &case.bars).map_err(|e| format!("engine: {e}"))?;
    let mut diffs = Vec::new();
    if let Some(d) = trade_diff(&result.trades, &case.trades) {
        diffs.push(d);
    }
    if equity.len() != case.equity.len() {
        diffs.push(format!("curve length {} vs {}", equity.len(), case.equity.len()));
    }
    if let Some(i) = (0..equity.len().min(case.equity.len())).find(|&i| {
        rel_err(equity[i], case.equity[i]) > 1e-9 || rel_err(equity[i], case.equity[i]).is_nan()
    }) {
        diffs.push(format!("equity at bar {i}: {:?} vs {:?}", equity[i], case.equity[i]));
    }
    let open: Vec<usize> = result.open_trades.iter().map(|t| t.entry_bar).collect();
    let open_ref: Vec<usize> = case.json["derived"]["open_trades_at_end"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["entry_bar"].as_u64().unwrap() as usize)
        .collect();
    if open != open_ref {
        diffs.push(format!("open trades at end (entry bars): {open:?} vs {open_ref:?}"));
    }
    diffs.extend(compare_stats(&stats, &case.json, worst));
    if diffs.is_empty() { Ok(()) } else { Err(diffs.join("\n    ")) }
}

#[test]
fn trailing_stops_and_fractional_units_match_backtesting_py() {
    let specs = manifest();
    let mut data = BTreeMap::new();
    let ok: Vec<(Case, Value)> = specs
        .iter()
        .filter(|r| r["outcome"] == "ok")
        .map(|r| (load_case_in(&realism_dir(), r["run"].as_str().unwrap(), &mut data), r.clone()))
        .collect();
    assert!(ok.len() >= 25, "{} runs", ok.len());
    let cases: Vec<Case> = ok
        .iter()
        .map(|(c, _)| Case {
            name: c.name.clone(),
            json: c.json.clone(),
            bars: c.bars.clone(),
            trades: c.trades.clone(),
            equity: c.equity.clone(),
        })
        .collect();
    let by_name: BTreeMap<String, Value> = ok.into_iter().map(|(c, r)| (c.name, r)).collect();
    check_all(&cases, "trailing / fractional runs", |case, worst| {
        check(case, &by_name[&case.name], worst)
    });
}

#[test]
fn the_trailing_atr_and_its_pct_distance_equal_pandas_and_numpy_bit_for_bit() {
    for spec in manifest() {
        let Some(t) = spec["trailing"].as_object() else { continue };
        let name = spec["run"].as_str().unwrap();
        let path = realism_dir().join(format!("{name}.atr.csv"));
        if !path.exists() {
            continue; // error runs have none
        }
        let bars = read_bars(&parity_dir().join("data").join(spec["data"].as_str().unwrap()));
        let bars = match spec["fractional_unit"].as_f64() {
            Some(u) => IndicatorCache::new().scaled(u, &bars).unwrap().bars.clone(),
            None => bars,
        };
        let periods = t["atr_periods"].as_u64().unwrap() as usize;
        let atr = bt_engine::trailing_atr(&bars, periods);
        let reference: Vec<f64> = fs::read_to_string(&path)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(atr.len(), reference.len(), "{name}");
        for (i, (a, b)) in atr.iter().zip(&reference).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{name}: ATR at bar {i}: {a:?} vs {b:?}");
        }
        if t["kind"] == "pct" {
            let pct = t["value"].as_f64().unwrap();
            let ratios: Vec<f64> =
                bars.close().iter().zip(&atr).map(|(c, a)| c * pct / a).collect();
            let n = bt_domain::numeric::np_mean(&ratios);
            assert_eq!(
                n,
                t["n_atr_effective"].as_f64().unwrap(),
                "{name}: set_trailing_pct's n_atr"
            );
        }
    }
}

#[test]
fn a_stop_that_is_not_a_price_fails_the_run_at_backtesting_pys_bar() {
    let mut seen = 0;
    for spec in manifest().into_iter().filter(|r| r["outcome"] == "error") {
        let name = spec["run"].as_str().unwrap();
        let bars = read_bars(&parity_dir().join("data").join(spec["data"].as_str().unwrap()));
        let err = run(&spec, &bars).err().unwrap_or_else(|| panic!("{name}: the run succeeded"));
        let bar = spec["error"]["bar"].as_u64().unwrap() as usize;
        let EngineError::TrailingStop { bar: ours, stop, .. } = &err else {
            panic!("{name}: {err}")
        };
        assert_eq!(*ours, bar, "{name}: {err}");
        let message = spec["error"]["message"].as_str().unwrap();
        let python: f64 = message.rsplit("price: ").next().unwrap().parse().unwrap();
        assert!(
            stop.to_bits() == python.to_bits() || (stop.is_infinite() && python.is_infinite()),
            "{name}: {stop} vs {message}"
        );
        assert!(
            err.to_string().starts_with(&format!("bar {bar}: the trailing stop of a")),
            "{err}"
        );
        seen += 1;
    }
    assert_eq!(seen, 2);
}
