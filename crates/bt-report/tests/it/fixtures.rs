//! Synthetic runs: a fast/slow SMA grid with made-up but plausible statistics.

use bt_domain::{
    Attempt, DatasetInfo, ParamValue, Params, PboSummary, ReturnStats, RunInfo, RunMode, RunStatus,
    SimOutcome, SimRecord, SimSummary, Stats, Trade, ValidationGroup, time,
};
use bt_report::{CurveData, EquityCurve, PerfPoint, buy_and_hold};

pub const FAST: [i64; 6] = [5, 10, 15, 20, 25, 30];
pub const SLOW: [i64; 5] = [20, 40, 60, 80, 100];

fn day(s: &str) -> i64 {
    time::parse_iso(s).expect("fixture date")
}

/// Plausible statistics for a parameter point: a smooth hill around fast=12, slow=55.
pub fn stats_for(fast: f64, slow: f64) -> Stats {
    let sharpe = 1.2 - (fast - 12.0).powi(2) / 200.0 - (slow - 55.0).powi(2) / 3000.0;
    let ret = sharpe * 180.0;
    let n_trades = (400.0 / (fast + slow / 4.0)).round() as u64;
    let dd = -(40.0 - sharpe * 20.0);
    Stats {
        start: day("2004-08-19"),
        end: day("2013-03-01"),
        duration: 3116 * time::NANOS_PER_DAY,
        exposure_time_pct: 90.0 + sharpe,
        equity_final: 10_000.0 * (1.0 + ret / 100.0),
        equity_peak: 10_000.0 * (1.0 + ret / 100.0) * 1.1,
        commissions: 0.0,
        return_pct: ret,
        buy_hold_return_pct: 703.46,
        return_ann_pct: ret / 8.5,
        volatility_ann_pct: 38.4 + fast / 10.0,
        cagr_pct: ret / 9.0,
        sharpe_ratio: sharpe,
        sortino_ratio: sharpe * 1.6,
        calmar_ratio: sharpe / 2.0,
        alpha_pct: ret - 100.0,
        beta: 0.2 + slow / 500.0,
        max_drawdown_pct: dd,
        avg_drawdown_pct: dd / 5.0,
        max_drawdown_duration: Some((300.0 + slow * 3.0) as i64 * time::NANOS_PER_DAY),
        avg_drawdown_duration: Some(40 * time::NANOS_PER_DAY),
        n_trades,
        win_rate_pct: 45.0 + sharpe * 5.0,
        best_trade_pct: 60.0,
        worst_trade_pct: -18.0,
        avg_trade_pct: ret / n_trades as f64 / 4.0,
        max_trade_duration: Some(120 * time::NANOS_PER_DAY),
        avg_trade_duration: Some(35 * time::NANOS_PER_DAY),
        profit_factor: 1.0 + sharpe,
        expectancy_pct: 2.0 * sharpe,
        sqn: sharpe * 1.3,
        kelly_criterion: sharpe / 6.0,
    }
}

pub fn params(fast: i64, slow: i64) -> Params {
    let mut p = Params::new();
    p.insert("fast".into(), ParamValue::Int(fast));
    p.insert("slow".into(), ParamValue::Int(slow));
    p
}

/// Per-bar return statistics in line with the annual Sharpe ratio: 16 blocks of returns whose
/// means wander around the overall mean by an amount that depends on the Sharpe ratio's bits, so
/// in-sample and out-of-sample rankings disagree as they do for real strategies.
fn returns(sharpe: f64) -> ReturnStats {
    const T: u64 = 2147;
    const BLOCKS: u64 = 16;
    let sd = 0.015;
    let mean = if sharpe.is_nan() { 0.0 } else { sharpe / 252f64.sqrt() * sd };
    let mut state = sharpe.to_bits() | 1;
    let blocks = (0..BLOCKS)
        .map(|k| {
            let n = (T / BLOCKS + u64::from(k < T % BLOCKS)) as f64;
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let wander = (state % 2001) as f64 / 1000.0 - 1.0;
            let m = mean + wander * sd * 0.2;
            [m * n, n * (sd * sd + m * m)]
        })
        .collect();
    ReturnStats {
        t: T,
        sr: mean / sd,
        skew: -0.2,
        kurtosis: 6.5,
        psr: if sharpe.is_nan() { f64::NAN } else { 0.5 + sharpe.clamp(-1.0, 1.0) * 0.45 },
        blocks,
    }
}

pub fn ok(summary_stats: Stats) -> SimOutcome {
    let returns = returns(summary_stats.sharpe_ratio);
    SimOutcome::Ok(Box::new(SimSummary {
        stats: summary_stats,
        n_bars: 2148,
        bar_steps: 2148,
        open_trades: 1,
        cancelled_orders: 0,
        bust_bar: None,
        returns,
    }))
}

/// The 6 x 5 grid (30 simulations, queue order fast-major). fast >= slow fails; fast=5,
/// slow=100 has no trades (NaN ratios); fast=15/slow=40 ties fast=10/slow=60 on Sharpe.
pub fn grid() -> Vec<SimRecord> {
    let mut out = Vec::new();
    for &fast in &FAST {
        for &slow in &SLOW {
            let index = out.len() as u64;
            let id = format!("sma-{fast}-{slow}");
            let outcome = if fast >= slow {
                SimOutcome::Failed(format!(
                    "bad parameters: fast ({fast}) must be below slow ({slow})"
                ))
            } else {
                let mut s = stats_for(fast as f64, slow as f64);
                if (fast, slow) == (5, 100) {
                    s.n_trades = 0;
                    s.sharpe_ratio = f64::NAN;
                    s.sortino_ratio = f64::NAN;
                    s.profit_factor = f64::NAN;
                    s.win_rate_pct = f64::NAN;
                    s.max_trade_duration = None;
                }
                if (fast, slow) == (15, 40) {
                    s.sharpe_ratio = stats_for(10.0, 60.0).sharpe_ratio;
                }
                ok(s)
            };
            out.push(SimRecord {
                index,
                id,
                dataset: "goog".into(),
                strategy: "sma_cross".into(),
                params: params(fast, slow),
                outcome,
            });
        }
    }
    out
}

/// `n` simulations over three parameters (a cube of about n^(1/3) per axis), every 97th failed.
pub fn big(n: usize) -> Vec<SimRecord> {
    let side = (n as f64).cbrt().ceil() as usize;
    (0..n)
        .map(|i| {
            let (a, b, c) = (i % side, (i / side) % side, i / (side * side));
            let fast = 2 + a as i64;
            let slow = 20 + 3 * b as i64;
            let mult = 0.5 + c as f64 * 0.1;
            let mut p = params(fast, slow);
            p.insert("atr_mult".into(), ParamValue::Float(mult));
            let outcome = if i % 97 == 13 {
                SimOutcome::Failed(format!("strategy error at bar {}: division by zero", i % 500))
            } else {
                let mut s = stats_for(fast as f64, slow as f64);
                s.sharpe_ratio -= (mult - 1.2).powi(2);
                ok(s)
            };
            SimRecord {
                index: i as u64,
                id: format!("grid/goog/fast={fast},slow={slow},atr_mult={mult:.1}"),
                dataset: "goog".into(),
                strategy: "sma_atr".into(),
                params: p,
                outcome,
            }
        })
        .collect()
}

/// The overfitting statistics of [`grid`] as a run would report them: made-up but consistent
/// figures, the best trial `sma-10-60`, and a second group without a PBO.
pub fn validation() -> Vec<ValidationGroup> {
    let lambdas: Vec<f64> = (0..40).map(|k| (k as f64 * 0.37).sin() * 2.0 + 0.4).collect();
    let lo = -1.6;
    let mut counts = vec![0u64; 8];
    for l in &lambdas {
        counts[(((l - lo) / 0.5) as usize).min(7)] += 1;
    }
    vec![
        ValidationGroup {
            strategy: "sma_cross".into(),
            dataset: "goog".into(),
            n: 20,
            best_id: "sma-10-60".into(),
            best_sr: 0.0738,
            sr_variance: 0.00021,
            sr0: 0.0271,
            dsr: 0.9312,
            pbo: Some(PboSummary {
                blocks: 16,
                splits: 12870,
                pbo: 0.3547,
                median_lambda: 0.6929,
                degradation: -0.8806,
                prob_loss: 0.1665,
                lambda_edges: (0..=8).map(|k| lo + 0.5 * k as f64).collect(),
                lambda_counts: counts,
                is_oos: (0..40)
                    .map(|k| {
                        let x = 0.03 + k as f64 * 0.002;
                        (x, 0.09 - 0.88 * x + (k as f64 * 1.7).sin() * 0.01)
                    })
                    .collect(),
            }),
        },
        ValidationGroup {
            strategy: "buy_and_hold".into(),
            dataset: "goog".into(),
            n: 1,
            best_id: "hold".into(),
            best_sr: 0.0535,
            sr_variance: f64::NAN,
            sr0: f64::NAN,
            dsr: f64::NAN,
            pbo: None,
        },
    ]
}

pub fn info(records: &[SimRecord]) -> RunInfo {
    let failed = records.iter().filter(|r| r.stats().is_none()).count() as u64;
    RunInfo {
        bt_version: "0.1.0".into(),
        queue: "queues/sma_grid.ron".into(),
        queue_hash: "3f2a9c01d5e7b864".into(),
        status: RunStatus::Complete,
        mode: RunMode::Parallel,
        threads: 2,
        wall_time_s: 1.234,
        attempts: vec![Attempt {
            mode: RunMode::Parallel,
            threads: 2,
            wall_time_s: 1.234,
            ran: records.len() as u64,
            ..Attempt::default()
        }],
        total: records.len() as u64,
        ok: records.len() as u64 - failed,
        failed,
        shard: None,
        datasets: vec![DatasetInfo {
            name: "goog".into(),
            source: "GOOG daily 2004-2013 (data/GOOG.csv)".into(),
            bars: 2148,
        }],
        config: vec![("commission".into(), ParamValue::Float(0.002))],
        pbo_blocks: 16,
    }
}

/// An owned equity curve: a deterministic random walk over `n` bars with a trade every
/// 60 bars, alternating long and short.
pub struct OwnedCurve {
    pub id: String,
    pub timestamps: Vec<i64>,
    pub equity: Vec<f64>,
    pub trades: Vec<Trade>,
    /// Buy and hold of a slowly rising asset from bar 5 on.
    pub buy_hold: Vec<f64>,
}

impl OwnedCurve {
    pub fn new(id: &str, n: usize, seed: u64) -> OwnedCurve {
        let t0 = day("2004-08-19");
        // Daily bars, or minute bars for long curves (200k days would be 550 years).
        let step = if n > 20_000 { 60 * time::NANOS_PER_SEC } else { time::NANOS_PER_DAY };
        let timestamps: Vec<i64> = (0..n as i64).map(|i| t0 + i * step).collect();
        let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mut e = 10_000.0;
        let equity: Vec<f64> = (0..n)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                // Drift scaled to the length: about x3 over the curve, whatever n.
                e *= 1.0 + (u - 0.5) * 0.03 + 1.1 / n as f64;
                e
            })
            .collect();
        let mut trades = Vec::new();
        let mut bar = 10;
        let mut long = true;
        while bar + 30 < n {
            let exit = bar + 30;
            trades.push(Trade {
                size: if long { 10.0 } else { -10.0 },
                entry_bar: bar,
                exit_bar: Some(exit),
                entry_price: 100.0,
                exit_price: 101.0,
                sl: None,
                tp: None,
                pnl: 10.0,
                commission: 0.0,
                return_frac: 0.01,
                entry_time: timestamps[bar],
                exit_time: Some(timestamps[exit]),
                tag: None,
            });
            bar += 60;
            long = !long;
        }
        let closes: Vec<f64> = (0..n).map(|i| 100.0 + i as f64 * 50.0 / n as f64).collect();
        let buy_hold = buy_and_hold(&closes, 10_000.0, 5);
        OwnedCurve { id: id.into(), timestamps, equity, trades, buy_hold }
    }

    pub fn data(&self) -> CurveData<'_> {
        CurveData {
            id: &self.id,
            timestamps: &self.timestamps,
            equity: &self.equity,
            trades: &self.trades,
        }
    }

    /// The curve with its buy-and-hold line, as a report charts it.
    pub fn curve(&self) -> EquityCurve<'_> {
        EquityCurve { curve: self.data(), buy_hold: Some(&self.buy_hold) }
    }
}

pub fn perf_points() -> Vec<PerfPoint> {
    let mut out = Vec::new();
    for &sims in &[10u64, 100, 1_000, 10_000] {
        let seq = 0.002 + sims as f64 * 0.004;
        for (mode, factor, overhead) in [
            ("sequential", 1.0, 0.0),
            ("threads", 0.55, 0.001),
            ("processes", 0.6, 0.08),
            ("auto", 0.56, 0.001),
        ] {
            let median = seq * factor + overhead;
            out.push(PerfPoint {
                sims,
                mode: mode.into(),
                median_s: median,
                min_s: median * 0.93,
                max_s: median * 1.12,
            });
        }
    }
    out
}
