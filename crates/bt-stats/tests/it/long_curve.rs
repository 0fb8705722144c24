//! Accuracy of the streamed statistics over 1M bars against backtesting.py.
//!
//! `tests/reference/gen_long_curve.py` generates the same hourly bars, equity curve and trades
//! (integer xorshift64* and IEEE basic operations, so both sides get identical floats) and stores
//! backtesting.py's `compute_stats` output; here the accumulator streams the curve and every
//! statistic must agree within [`REL_TOL`].

use bt_domain::{Bars, EquityObserver, Trade, time::parse_iso};
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator};
use serde_json::Value;

use crate::fixtures::{REL_TOL, Worst, compare_stats, parity_dir};

const N: usize = 1_000_000;

fn synthetic() -> (Bars, Vec<f64>, Vec<Trade>) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let mut close = Vec::with_capacity(N);
    let mut c = 100.0f64;
    for _ in 0..N {
        c *= 1.0 + 0.002 * next();
        close.push(c);
    }
    let t0 = parse_iso("1900-01-01").unwrap();
    let ts: Vec<i64> = (0..N as i64).map(|i| t0 + i * 3_600_000_000_000).collect();
    let (mut cash, mut units, mut entry, mut entry_bar) = (10_000.0f64, 0.0f64, 0.0f64, 0usize);
    let mut equity = Vec::with_capacity(N);
    let mut trades = Vec::new();
    for i in 0..N {
        if i % 1000 == 0 {
            units = (cash / close[i]).floor();
            (entry, entry_bar) = (close[i], i);
        } else if i % 1000 == 500 {
            let pnl = units * (close[i] - entry);
            cash += pnl;
            trades.push(Trade {
                size: units,
                entry_bar,
                exit_bar: Some(i),
                entry_price: entry,
                exit_price: close[i],
                sl: None,
                tp: None,
                pnl,
                commission: 0.0,
                return_frac: close[i] / entry - 1.0,
                entry_time: ts[entry_bar],
                exit_time: Some(ts[i]),
                tag: None,
            });
            units = 0.0;
        }
        equity.push(cash + units * (close[i] - entry));
    }
    let bars =
        Bars::new(ts, close.clone(), close.clone(), close.clone(), close, vec![0.0; N]).unwrap();
    (bars, equity, trades)
}

#[test]
fn million_bar_stream_matches_backtesting_py_within_tolerance() {
    let path = parity_dir().join("../reference/long_curve_1m.stats.json");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (bars, equity, trades) = synthetic();
    let ds = DatasetStats::new(&bars);
    let mut acc = StatsAccumulator::new(&ds);
    for (i, &e) in equity.iter().enumerate() {
        acc.on_equity(i, e);
    }
    let stats = acc.finish(&RunFacts { trades: &trades, warmup: 0 });
    let mut worst = Worst::new();
    let diffs = compare_stats(&stats, &reference, &mut worst);
    println!("worst relative error per statistic over 1M bars (tolerance {REL_TOL:e}):");
    for (label, rel) in &worst {
        println!("  {label:<24} {rel:.3e}");
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
