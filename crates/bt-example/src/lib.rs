//! A worked example of bt with a strategy of your own (see docs/embedding.md):
//!
//! - [`VolBreakout`], a volatility breakout with a trailing exit, written against the engine's
//!   [`Strategy`] trait and registered with [`entry`];
//! - `src/bin/mybt.rs`: a program that gets the whole `bt` command line (queues, sweeps,
//!   threads, resume, shards, merge, reports, Slurm) with the strategy added, in a few lines;
//! - `src/bin/sweep.rs`: a grid of the strategy run with the library alone, no command line.
//!
//! The integration tests (`tests/`) drive both as a user would.

use bt::{
    domain::{Limit, ParamSpec},
    engine::{Ctx, EngineError, Ind, Init, OrderSpec, Strategy},
    strategies::{Args, StrategyEntry, indicators::atr},
};

/// Buy when the close jumps above the previous close by more than `k` times the previous bar's
/// ATR(`n`) (a volatility breakout, after Larry Williams); exit through a stop that trails the
/// close by `trail` ATRs and only ever rises. Long only, all available cash.
#[derive(Debug, Clone)]
pub struct VolBreakout {
    n: usize,
    k: f64,
    trail: f64,
    atr: Option<Ind>,
}

static PARAMS: [ParamSpec; 3] = [
    ParamSpec::int("n", 14, 1, "period of the average true range (Wilder's smoothing)"),
    ParamSpec::float("k", 1.0, "breakout threshold, in ATRs above the previous close")
        .range(Some(Limit::Exclusive(0.0)), None),
    ParamSpec::float("trail", 3.0, "distance of the trailing stop below the close, in ATRs")
        .range(Some(Limit::Exclusive(0.0)), None),
];

/// The registry entry: `vol_breakout {n, k, trail}`.
pub fn entry() -> StrategyEntry {
    StrategyEntry::new("vol_breakout", |args: &Args<'_>| {
        Ok(Box::new(VolBreakout {
            n: args.usize("n")?,
            k: args.f64("k")?,
            trail: args.f64("trail")?,
            atr: None,
        }))
    })
    .with_doc(
        "volatility breakout (example of a user strategy): buy when the close rises more than \
         k ATR(n) above the previous close; a stop trails the close by `trail` ATRs",
    )
    .with_params(&PARAMS[..])
    .with_warmup(|args| args.usize("n").unwrap_or(1))
}

impl Strategy for VolBreakout {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        let n = self.n;
        let key = format!("atr({n})");
        self.atr = Some(init.indicator(&key, |b| atr(b.high(), b.low(), b.close(), n))?);
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let Some(atr) = self.atr else {
            return Err(EngineError::Init("vol_breakout: next() before init()".into()));
        };
        let i = ctx.bar_idx();
        let (close, atr) = (ctx.close(), ctx.ind(atr));
        if ctx.trade_count() > 0 {
            // Trail: the stop follows the close up, never down.
            let stop = close[i] - self.trail * atr[i];
            let current = ctx.trade(0).and_then(|t| t.sl).unwrap_or(f64::NEG_INFINITY);
            if stop > current && stop > 0.0 {
                ctx.set_trade_sl(0, Some(stop))?;
            }
        } else if ctx.order_count() == 0 && i > 0 && close[i] > close[i - 1] + self.k * atr[i - 1] {
            ctx.buy(OrderSpec::market())?;
        }
        Ok(())
    }
}
