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
    if values.iter().all(|v| v.is_nan()) {
        return Err(EngineError::Init(format!(
            "indicator {key} has no value on these {} bars: use a shorter period or more data",
            bars.len()
        )));
    }
    Ok((init.add(key, values.clone())?, values))
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
