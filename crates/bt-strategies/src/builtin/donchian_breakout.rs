//! Breakouts through the Donchian channel.

use bt_domain::{ParamSpec, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, Strategy};

use crate::{
    builtin::{
        LONG_ONLY, check_period, go_long, go_short, not_initialised, period, register_indicator,
    },
    indicators::{rolling_max, rolling_min},
    params::Args,
    registry::StrategyEntry,
};

const NAME: &str = "donchian_breakout";

static PARAMS: [ParamSpec; 2] = [
    period("period", 20, 1.0, "channel window: highest high and lowest low of this many bars"),
    LONG_ONLY,
];

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |args| Ok(Box::new(DonchianBreakout::from_args(args)?)))
        .with_doc(
            "Donchian channel breakout: when the close rises above the highest high of the \
          `period` bars before it, close any short and buy; when it falls below their lowest \
          low, close any long and sell short (long_only: close and stay flat)",
        )
        .with_params(&PARAMS[..])
}

/// Parameters of [`DonchianBreakout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DonchianBreakoutParams {
    /// Channel window (>= 1).
    pub period: usize,
    /// Do not sell short.
    pub long_only: bool,
}

impl Default for DonchianBreakoutParams {
    fn default() -> Self {
        DonchianBreakoutParams { period: 20, long_only: false }
    }
}

/// Donchian breakout. With `hi` = [`rolling_max`]`(high, period)` and `lo` =
/// [`rolling_min`]`(low, period)` (keys `rolling_max(high,{n})`, `rolling_min(low,{n})`), the
/// channel of the bars *before* the current one is `hi[i-1]`, `lo[i-1]`; at bar `i`:
///
/// - `close[i] > hi[i-1]`: if not long, close every open trade and buy with all margin;
/// - else `close[i] < lo[i-1]`: if not short, close every open trade and sell short (with
///   `long_only`: close a long, never sell).
///
/// These are levels, not crosses: a close that stays above the channel keeps the position and
/// places no new order. The first decision is at bar `period` (the channel's first value is at
/// `period - 1`).
#[derive(Debug, Clone)]
pub struct DonchianBreakout {
    params: DonchianBreakoutParams,
    channel: Option<(Ind, Ind)>,
}

impl DonchianBreakout {
    /// Validates the parameters: `period >= 1`.
    pub fn new(params: DonchianBreakoutParams) -> Result<DonchianBreakout, StrategyError> {
        check_period(NAME, &PARAMS[0], params.period)?;
        Ok(DonchianBreakout { params, channel: None })
    }

    fn from_args(args: &Args<'_>) -> Result<DonchianBreakout, StrategyError> {
        DonchianBreakout::new(DonchianBreakoutParams {
            period: args.usize("period")?,
            long_only: args.bool("long_only")?,
        })
    }

    /// The parameters.
    pub fn params(&self) -> DonchianBreakoutParams {
        self.params
    }
}

impl Strategy for DonchianBreakout {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        let n = self.params.period;
        let hi = register_indicator(init, &format!("rolling_max(high,{n})"), |b| {
            rolling_max(b.high(), n)
        })?;
        let lo = register_indicator(init, &format!("rolling_min(low,{n})"), |b| {
            rolling_min(b.low(), n)
        })?;
        self.channel = Some((hi, lo));
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let Some((hi, lo)) = self.channel else { return Err(not_initialised(ctx, NAME)) };
        let i = ctx.bar_idx();
        if i == 0 {
            return Ok(());
        }
        let (hi, lo, close) = (ctx.ind(hi), ctx.ind(lo), ctx.close()[i]);
        if close > hi[i - 1] {
            go_long(ctx)?;
        } else if close < lo[i - 1] {
            go_short(ctx, self.params.long_only)?;
        }
        Ok(())
    }
}
