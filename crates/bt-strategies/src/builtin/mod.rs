//! The built-in strategies and what they share: indicator registration through the cache,
//! entering a direction, and parameter checks.

mod bollinger_breakout;
mod buy_and_hold;
mod donchian_breakout;
mod macd_cross;
mod rsi_reversion;
mod sma_cross;

use std::borrow::Cow;

use bt_domain::{Bars, Limit, ParamKind, ParamSpec, ParamValue, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, OrderSpec};

pub use self::{
    bollinger_breakout::{BollingerBreakout, BollingerBreakoutParams},
    buy_and_hold::BuyAndHold,
    donchian_breakout::{DonchianBreakout, DonchianBreakoutParams},
    macd_cross::{MacdCross, MacdCrossParams},
    rsi_reversion::{RsiReversion, RsiReversionParams},
    sma_cross::{SmaCross, SmaCrossParams},
};
use crate::registry::StrategyEntry;

// Paragraphs the built-ins' descriptions share (`bt strategies NAME`, docs/strategies.md).
// Macros rather than consts because `concat!` takes only literals.

/// backtesting.py's `crossover`, as the signals use it.
macro_rules! crossover_doc {
    () => {
        concat!(
            "`crossover(a, b)` is backtesting.py's `backtesting.lib.crossover`: at bar i,\n",
            "`a[i-1] < b[i-1] and a[i] > b[i]` (`a[-2] < b[-2] and a[-1] > b[-1]`), both\n",
            "strict: a tie on either bar is no cross, and neither is a NaN. A number stands for\n",
            "a constant line (`crossover(rsi, 70)`, `crossover(30, rsi)`).\n",
        )
    };
}

/// backtesting.py's warm-up rule; the strategy's own numbers follow on the next line.
macro_rules! warmup_doc {
    () => {
        concat!(
            "Warm-up, as in backtesting.py: `next` first runs at bar w + 1, where w is the\n",
            "largest index, over all indicators, of the first value that is not NaN. Before that\n",
            "bar there is no signal and no order, and the equity is the cash.\n",
        )
    };
}

/// Sizing and fills of `buy()`/`sell()` without arguments.
macro_rules! orders_doc {
    () => {
        concat!(
            "Orders: `buy()` and `sell()` are market orders of backtesting.py's default size,\n",
            "`1 - eps` = 0.9999999999999998 of the equity: the broker fills the largest whole\n",
            "number of units that the available margin (times the leverage) pays for at the\n",
            "fill price, commission included, and cancels an order for 0 units\n",
            "(docs/SEMANTICS.md, section 2, has the exact expression). An order placed at bar i\n",
            "fills at bar i + 1's open (`trade_on_close=False`). An order placed on the last bar\n",
            "never fills, and a trade still open at the end stays open, outside the trades table\n",
            "(`finalize_trades=False`). Commission, spread, margin and the other broker settings\n",
            "(`trade_on_close`, `hedging`, `exclusive_orders`, `finalize_trades`, bt's trailing\n",
            "stops and slippage) are the backtest's, as for any strategy.\n",
        )
    };
}

/// The order of a close and an entry placed on the same bar.
macro_rules! close_first_doc {
    () => {
        concat!(
            "`position.close()` puts a close order for every open trade at the front of the\n",
            "order queue, so at the next open the position is closed first and the new entry is\n",
            "sized on the cash after the close.\n",
        )
    };
}

/// What a long or short signal does in the strategies that ignore a signal in the direction
/// they hold ([`go_long`], [`go_short`]).
macro_rules! reversal_doc {
    () => {
        concat!(
            "A signal in the direction already held does nothing, so a position is held until\n",
            "the opposite signal: the strategy has no other exit, no stop and no target of its\n",
            "own. With `long_only`, a short signal only closes a long position and the strategy\n",
            "is long or flat.\n",
        )
    };
}

pub(crate) use {close_first_doc, crossover_doc, orders_doc, reversal_doc, warmup_doc};

/// Every built-in strategy's registry entry.
pub(crate) fn entries() -> [StrategyEntry; 6] {
    [
        bollinger_breakout::entry(),
        buy_and_hold::entry(),
        donchian_breakout::entry(),
        macd_cross::entry(),
        rsi_reversion::entry(),
        sma_cross::entry(),
    ]
}

/// A period parameter: an integer >= `min`.
const fn period(name: &'static str, default: i64, min: f64, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name: Cow::Borrowed(name),
        kind: ParamKind::Int,
        default: Some(ParamValue::Int(default)),
        min: Some(Limit::Inclusive(min)),
        max: None,
        doc: Cow::Borrowed(doc),
    }
}

/// The `long_only` flag every directional strategy takes.
const LONG_ONLY: ParamSpec = ParamSpec {
    name: Cow::Borrowed("long_only"),
    kind: ParamKind::Bool,
    default: Some(ParamValue::Bool(false)),
    min: None,
    max: None,
    doc: Cow::Borrowed("never sell short: a short signal only closes a long position"),
};

/// Checks a period given directly in Rust against its spec.
fn check_period(strategy: &str, spec: &ParamSpec, value: usize) -> Result<(), StrategyError> {
    spec.check_range(strategy, value as f64)
}

/// Registers an indicator computed once per data set under `key`, refusing one that has no
/// value at all (a period longer than the data): backtesting.py would run such a strategy
/// without ever trading, which hides the mistake.
pub fn register_indicator(
    init: &mut Init<'_>,
    key: &str,
    compute: impl FnOnce(&Bars) -> Vec<f64>,
) -> Result<Ind, EngineError> {
    indicator_values(init, key, compute).map(|(ind, _)| ind)
}

/// [`register_indicator`], also returning the values.
pub fn indicator_values(
    init: &mut Init<'_>,
    key: &str,
    compute: impl FnOnce(&Bars) -> Vec<f64>,
) -> Result<(Ind, std::sync::Arc<[f64]>), EngineError> {
    let bars = init.bars();
    let values = init.cache().get_or_compute(key, || compute(bars));
    match init.add_checked(key, values.clone())? {
        (ind, Some(_)) => Ok((ind, values)),
        (_, None) => Err(EngineError::Init(format!(
            "indicator {key} has no value on these {} bars: use a shorter period or more data",
            bars.len()
        ))),
    }
}

/// The error for `next` called before `init` registered the indicators.
fn not_initialised(ctx: &Ctx<'_, '_>, strategy: &str) -> EngineError {
    EngineError::Strategy {
        bar: ctx.bar_idx(),
        message: format!(
            "{strategy}: next() was called before init(): run it through bt_engine::run"
        ),
    }
}

/// Goes long unless already long: closes every open trade (the close orders are queued first,
/// so they fill before the entry) and buys with all available margin.
fn go_long(ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
    if ctx.position_size() <= 0.0 {
        ctx.close_position(1.0)?;
        ctx.buy(OrderSpec::market())?;
    }
    Ok(())
}

/// Goes short unless already short; with `long_only`, only closes a long position.
fn go_short(ctx: &mut Ctx<'_, '_>, long_only: bool) -> Result<(), EngineError> {
    let position = ctx.position_size();
    if long_only {
        if position > 0.0 {
            ctx.close_position(1.0)?;
        }
    } else if position >= 0.0 {
        ctx.close_position(1.0)?;
        ctx.sell(OrderSpec::market())?;
    }
    Ok(())
}
