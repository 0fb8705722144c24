//! Shared helpers: bars from closes, fixture readers, one-call backtests.

use std::path::{Path, PathBuf};

use bt_domain::{BacktestConfig, Bars, EquityCurve, ParamValue, Params};
use bt_engine::{BacktestResult, IndicatorCache, Strategy};
use bt_strategies::Registry;

pub const DAY: i64 = 86_400_000_000_000;

pub fn data_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Daily bars whose open, high, low and close all equal `close[i]`: a market order placed at
/// bar `i` fills at `close[i+1]`.
pub fn flat_bars(close: &[f64]) -> Bars {
    let ts = (0..close.len() as i64).map(|i| i * DAY).collect();
    Bars::new(
        ts,
        close.to_vec(),
        close.to_vec(),
        close.to_vec(),
        close.to_vec(),
        vec![0.0; close.len()],
    )
    .expect("test bars are valid")
}

/// Bars of a deterministic random walk: `seed`-driven, positive, with real wicks.
pub fn walk_bars(returns: &[f64]) -> Bars {
    let n = returns.len();
    let (mut ts, mut open, mut high, mut low, mut close) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut price = 100.0;
    for (i, r) in returns.iter().enumerate() {
        let o = price;
        let c = price * (1.0 + r);
        ts.push(i as i64 * DAY);
        open.push(o);
        close.push(c);
        high.push(o.max(c) * (1.0 + r.abs() / 2.0));
        low.push(o.min(c) * (1.0 - r.abs() / 2.0));
        price = c;
    }
    Bars::new(ts, open, high, low, close, vec![1.0; n]).expect("walk bars are valid")
}

pub fn params(pairs: &[(&str, ParamValue)]) -> Params {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

/// Runs `strategy` with the default broker, recording the equity curve.
pub fn run(bars: &Bars, strategy: &mut dyn Strategy) -> (BacktestResult, Vec<f64>) {
    run_with(bars, strategy, &BacktestConfig::default())
}

pub fn run_with(
    bars: &Bars,
    strategy: &mut dyn Strategy,
    config: &BacktestConfig,
) -> (BacktestResult, Vec<f64>) {
    let mut curve = EquityCurve::default();
    let result = bt_engine::run(bars, strategy, config, &IndicatorCache::new(), &mut curve)
        .expect("backtest runs");
    (result, curve.0)
}

/// Builds a built-in strategy by name.
pub fn build(name: &str, pairs: &[(&str, ParamValue)]) -> Box<dyn Strategy + Send> {
    Registry::builtin().build(name, &params(pairs)).expect("valid strategy")
}

/// A CSV file as a header and rows of fields (no quoting needed by our fixtures' numeric
/// columns; quoted header names are kept as written).
pub fn read_csv(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(data_path(name)).expect("fixture exists");
    let mut lines = text.lines();
    let header = lines.next().expect("header").split(',').map(str::to_owned).collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// An optional float field: empty is NaN.
pub fn float(field: &str) -> f64 {
    if field.is_empty() { f64::NAN } else { field.parse().expect("a float") }
}

/// GOOG.csv (backtesting.py's sample data) as bars.
pub fn goog() -> Bars {
    let (_, rows) = read_csv("GOOG.csv");
    let mut cols: [Vec<f64>; 5] = Default::default();
    let mut ts = Vec::new();
    for row in &rows {
        ts.push(bt_domain::time::parse_iso(&row[0]).expect("a date"));
        for (c, col) in cols.iter_mut().enumerate() {
            col.push(float(&row[c + 1]));
        }
    }
    let [open, high, low, close, volume] = cols;
    Bars::new(ts, open, high, low, close, volume).expect("GOOG is valid")
}
