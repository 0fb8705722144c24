//! sma_cross over 1M synthetic bars: bar-steps per second on one core, without statistics.
//!
//! `cargo bench -p bt-strategies` prints, per benchmark, the time per run and the throughput
//! in bars/s (`item/s`). Three views of the same work:
//! - `full_run`: a fresh indicator cache each run, so both SMAs are computed (what a
//!   single backtest costs);
//! - `cached_indicators`: the cache already holds the SMAs (what each simulation of a sweep
//!   costs after the first): engine plus strategy only;
//! - `no_trades`: the same indicators through the cache, but a strategy that never trades: the
//!   engine's bar loop alone;
//! - `sma_only`: one SMA over the closes, to split the cost;
//! - `cached_indicators_trailing`: `cached_indicators` with a 3-ATR trailing stop on every trade
//!   (the broker setting `trailing_atr`): the cost of re-setting the stop on every bar.

use bt_domain::{BacktestConfig, Bars};
use bt_engine::{Ctx, EngineError, IndicatorCache, Init, Strategy};
use bt_strategies::{
    builtin::{SmaCross, SmaCrossParams},
    indicators::sma,
};
use divan::{Bencher, black_box, counter::ItemsCount};

const N_BARS: usize = 1_000_000;

fn main() {
    divan::main();
}

/// A deterministic random walk (xorshift64*, fixed seed) of minute bars with wicks.
fn bars() -> Bars {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut uniform = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut ts, mut open, mut high, mut low, mut close) = (
        Vec::with_capacity(N_BARS),
        Vec::with_capacity(N_BARS),
        Vec::with_capacity(N_BARS),
        Vec::with_capacity(N_BARS),
        Vec::with_capacity(N_BARS),
    );
    let mut price = 100.0f64;
    for i in 0..N_BARS {
        let o = price;
        let c = (price * (1.0 + (uniform() - 0.5) * 0.004)).max(1.0);
        ts.push(i as i64 * 60_000_000_000);
        open.push(o);
        close.push(c);
        high.push(o.max(c) * (1.0 + uniform() * 0.001));
        low.push(o.min(c) * (1.0 - uniform() * 0.001));
        price = c;
    }
    Bars::new(ts, open, high, low, close, vec![1.0; N_BARS]).expect("synthetic bars are valid")
}

fn sma_cross() -> SmaCross {
    SmaCross::new(SmaCrossParams { fast: 10, slow: 20, long_only: false }).expect("valid params")
}

#[divan::bench(sample_count = 10)]
fn full_run(bencher: Bencher<'_, '_>) {
    let bars = bars();
    let config = BacktestConfig::default();
    bencher.counter(ItemsCount::new(N_BARS)).bench_local(|| {
        let cache = IndicatorCache::new();
        let mut strategy = sma_cross();
        let result =
            bt_engine::run(&bars, &mut strategy, &config, &cache, &mut ()).expect("backtest runs");
        black_box(result.final_equity)
    });
}

#[divan::bench(sample_count = 10)]
fn cached_indicators(bencher: Bencher<'_, '_>) {
    let bars = bars();
    let config = BacktestConfig::default();
    let cache = IndicatorCache::new();
    let mut strategy = sma_cross();
    bt_engine::run(&bars, &mut strategy, &config, &cache, &mut ()).expect("backtest runs");
    bencher.counter(ItemsCount::new(N_BARS)).bench_local(|| {
        let mut strategy = sma_cross();
        let result =
            bt_engine::run(&bars, &mut strategy, &config, &cache, &mut ()).expect("backtest runs");
        black_box(result.final_equity)
    });
}

#[divan::bench(sample_count = 10)]
fn sma_only(bencher: Bencher<'_, '_>) {
    let bars = bars();
    bencher.counter(ItemsCount::new(N_BARS)).bench_local(|| black_box(sma(bars.close(), 20)));
}

/// Registers sma_cross' indicators (already cached) and reads them every bar, never trading.
struct NoTrades;

impl Strategy for NoTrades {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        init.indicator("sma(close,10)", |b| sma(b.close(), 10))?;
        init.indicator("sma(close,20)", |b| sma(b.close(), 20))?;
        Ok(())
    }
    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        black_box(ctx.bar_idx());
        Ok(())
    }
}

#[divan::bench(sample_count = 10)]
fn no_trades(bencher: Bencher<'_, '_>) {
    let bars = bars();
    let config = BacktestConfig::default();
    let cache = IndicatorCache::new();
    bt_engine::run(&bars, &mut NoTrades, &config, &cache, &mut ()).expect("backtest runs");
    bencher.counter(ItemsCount::new(N_BARS)).bench_local(|| {
        let result =
            bt_engine::run(&bars, &mut NoTrades, &config, &cache, &mut ()).expect("backtest runs");
        black_box(result.final_equity)
    });
}

#[divan::bench(sample_count = 10)]
fn cached_indicators_trailing(bencher: Bencher<'_, '_>) {
    let bars = bars();
    let config = BacktestConfig { trailing_atr: Some(3.0), ..BacktestConfig::default() };
    let cache = IndicatorCache::new();
    let mut strategy = sma_cross();
    bt_engine::run(&bars, &mut strategy, &config, &cache, &mut ()).expect("backtest runs");
    bencher.counter(ItemsCount::new(N_BARS)).bench_local(|| {
        let mut strategy = sma_cross();
        let result =
            bt_engine::run(&bars, &mut strategy, &config, &cache, &mut ()).expect("backtest runs");
        black_box(result.final_equity)
    });
}
