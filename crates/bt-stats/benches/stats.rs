//! Cost of the statistics per simulated bar: `cargo bench -p bt-stats --bench stats`.
//!
//! A 1M-bar minute series (a deterministic random walk) and an equity curve that is in the
//! market half of the time (equity changes on every bar of a trade, flat in between).

use bt_domain::{Bars, EquityObserver};
use bt_stats::{DatasetStats, LANES, LaneCurves, RunAccumulator, RunFacts, StatsAccumulator};
use divan::{Bencher, black_box, counter::ItemsCount};

const N: usize = 1_000_000;

fn main() {
    divan::main();
}

fn synthetic() -> (Bars, Vec<f64>) {
    // xorshift64*: deterministic, no dependency.
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
    let ts: Vec<i64> =
        (0..N as i64).map(|i| 1_600_000_000_000_000_000 + i * 60_000_000_000).collect();
    let equity: Vec<f64> = (0..N)
        .scan((10_000.0f64, 0.0f64, 0.0f64), |(cash, units, entry), i| {
            if i % 1000 == 0 {
                *units = (*cash / close[i]).floor();
                *entry = close[i];
            } else if i % 1000 == 500 {
                *cash += *units * (close[i] - *entry);
                *units = 0.0;
            }
            Some(*cash + *units * (close[i] - *entry))
        })
        .collect();
    let bars =
        Bars::new(ts, close.clone(), close.clone(), close.clone(), close, vec![0.0; N]).unwrap();
    (bars, equity)
}

#[divan::bench]
fn dataset_stats_new(bencher: Bencher<'_, '_>) {
    let (bars, _) = synthetic();
    bencher.counter(ItemsCount::new(N)).bench(|| DatasetStats::new(black_box(&bars)));
}

#[divan::bench]
fn stream_and_finish(bencher: Bencher<'_, '_>) {
    let (bars, equity) = synthetic();
    let ds = DatasetStats::new(&bars);
    let facts = RunFacts { trades: &[], warmup: 0 };
    bencher.counter(ItemsCount::new(N)).bench(|| {
        let mut acc = StatsAccumulator::new(&ds);
        for (i, &e) in black_box(&equity).iter().enumerate() {
            acc.on_equity(i, e);
        }
        acc.finish(&facts)
    });
}

#[divan::bench]
fn stream_flat_equity(bencher: Bencher<'_, '_>) {
    let (bars, _) = synthetic();
    let ds = DatasetStats::new(&bars);
    let facts = RunFacts { trades: &[], warmup: 0 };
    bencher.counter(ItemsCount::new(N)).bench(|| {
        let mut acc = StatsAccumulator::new(&ds);
        for i in 0..N {
            acc.on_equity(i, black_box(10_000.0));
        }
        acc.finish(&facts)
    });
}

/// Days of the daily benches.
const DAYS: usize = 100_000;

/// [`DAYS`] daily bars (every bar closes a period) with the closes of the synthetic minutes,
/// and a daily equity curve in the market on 9 bars of 10, shifted by `shift` cycles of the
/// minute curve (which trades 500 bars of 1000).
fn daily(shift: usize) -> (Bars, Vec<f64>) {
    let (minute, equity) = synthetic();
    let day = 86_400_000_000_000i64;
    let close = minute.close()[..DAYS].to_vec();
    let bars = Bars::new(
        (0..DAYS as i64).map(|i| i * day).collect(),
        close.clone(),
        close.clone(),
        close.clone(),
        close,
        vec![0.0; DAYS],
    )
    .unwrap();
    let curve =
        (0..DAYS).map(|i| equity[((i / 10 + shift) % 1000) * 1000 + (i % 10) * 60]).collect();
    (bars, curve)
}

/// The daily curve fed to the [`RunAccumulator`] a simulation uses (16 PBO blocks): the
/// statistics' share of a daily sweep such as the README's grid, one run at a time.
#[divan::bench]
fn run_accumulator_daily(bencher: Bencher<'_, '_>) {
    let (bars, equity) = daily(0);
    let ds = DatasetStats::new(&bars);
    let facts = RunFacts { trades: &[], warmup: 0 };
    bencher.counter(ItemsCount::new(DAYS)).bench(|| {
        let mut acc = RunAccumulator::new(&ds, 16);
        for (i, &e) in black_box(&equity).iter().enumerate() {
            acc.on_equity(i, e);
        }
        acc.finish(&facts)
    });
}

/// [`LANES`] daily curves (each shifted by 37 cycles) folded together by [`LaneCurves`], as a
/// sweep folds its simulations: items are bars of one run, so the figure compares with
/// `run_accumulator_daily`'s.
#[divan::bench]
fn lockstep_daily(bencher: Bencher<'_, '_>) {
    let mut curves = LaneCurves::new(DAYS);
    let mut bars = None;
    for lane in 0..LANES {
        let (b, curve) = daily(37 * lane);
        let mut rec = curves.recorder(lane);
        for (i, e) in curve.into_iter().enumerate() {
            rec.on_equity(i, e);
        }
        bars = Some(b);
    }
    let ds = DatasetStats::new(&bars.expect("lanes"));
    let facts = [RunFacts { trades: &[], warmup: 0 }; LANES];
    bencher
        .counter(ItemsCount::new(DAYS * LANES))
        .bench_local(|| black_box(&mut curves).finish(&ds, 16, &facts));
}
