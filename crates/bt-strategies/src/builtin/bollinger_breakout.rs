//! Breakouts through Bollinger bands.

use std::borrow::Cow;

use bt_domain::{Limit, ParamKind, ParamSpec, ParamValue, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, Strategy};

use crate::{
    builtin::{
        LONG_ONLY, check_period, go_long, go_short, not_initialised, period, register_indicator,
    },
    indicators::{rolling_std, sma},
    params::Args,
    registry::StrategyEntry,
};

const NAME: &str = "bollinger_breakout";

static PARAMS: [ParamSpec; 3] = [
    period("period", 20, 2.0, "window of the moving average and standard deviation of closes"),
    ParamSpec {
        name: Cow::Borrowed("k"),
        kind: ParamKind::Float,
        default: Some(ParamValue::Float(2.0)),
        min: Some(Limit::Exclusive(0.0)),
        max: None,
        doc: Cow::Borrowed("band width in standard deviations"),
    },
    LONG_ONLY,
];

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |args| Ok(Box::new(BollingerBreakout::from_args(args)?)))
        .with_doc(
            "breakout through Bollinger bands of closes (mid = SMA(period), bands = mid +- k * \
          population std): when the close crosses above the upper band, close any short and \
          buy; when it crosses below the lower band, close any long and sell short (long_only: \
          close and stay flat)",
        )
        .with_params(&PARAMS[..])
}

/// Parameters of [`BollingerBreakout`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BollingerBreakoutParams {
    /// Window (>= 2: a one-bar band is the close itself and is never crossed).
    pub period: usize,
    /// Band width in standard deviations (> 0).
    pub k: f64,
    /// Do not sell short.
    pub long_only: bool,
}

impl Default for BollingerBreakoutParams {
    fn default() -> Self {
        BollingerBreakoutParams { period: 20, k: 2.0, long_only: false }
    }
}

/// Bollinger breakout. With `mid` = [`sma`]`(close, period)` and `sd` =
/// [`rolling_std`]`(close, period)` (keys `sma(close,{n})` and `std(close,{n})`, shared across
/// values of `k`), `upper[j] = mid[j] + k * sd[j]`, `lower[j] = mid[j] - k * sd[j]` (pandas'
/// `mid + k * std`), at bar `i`:
///
/// - `close[i-1] < upper[i-1] && close[i] > upper[i]`: if not long, close every open trade and
///   buy with all available margin;
/// - else `close[i-1] > lower[i-1] && close[i] < lower[i]`: if not short, close every open
///   trade and sell short (with `long_only`: close a long, never sell).
#[derive(Debug, Clone)]
pub struct BollingerBreakout {
    params: BollingerBreakoutParams,
    bands: Option<(Ind, Ind)>,
}

impl BollingerBreakout {
    /// Validates the parameters: `period >= 2`, `k > 0` and finite.
    pub fn new(params: BollingerBreakoutParams) -> Result<BollingerBreakout, StrategyError> {
        check_period(NAME, &PARAMS[0], params.period)?;
        PARAMS[1].check_range(NAME, params.k)?;
        Ok(BollingerBreakout { params, bands: None })
    }

    fn from_args(args: &Args<'_>) -> Result<BollingerBreakout, StrategyError> {
        BollingerBreakout::new(BollingerBreakoutParams {
            period: args.usize("period")?,
            k: args.f64("k")?,
            long_only: args.bool("long_only")?,
        })
    }

    /// The parameters.
    pub fn params(&self) -> BollingerBreakoutParams {
        self.params
    }
}

impl Strategy for BollingerBreakout {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        let n = self.params.period;
        let mid = register_indicator(init, &format!("sma(close,{n})"), |b| sma(b.close(), n))?;
        let sd =
            register_indicator(init, &format!("std(close,{n})"), |b| rolling_std(b.close(), n))?;
        self.bands = Some((mid, sd));
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let Some((mid, sd)) = self.bands else { return Err(not_initialised(ctx, NAME)) };
        let i = ctx.bar_idx();
        if i == 0 {
            return Ok(());
        }
        let (mid, sd, close, k) = (ctx.ind(mid), ctx.ind(sd), ctx.close(), self.params.k);
        let upper = |j: usize| mid[j] + k * sd[j];
        let lower = |j: usize| mid[j] - k * sd[j];
        if close[i - 1] < upper(i - 1) && close[i] > upper(i) {
            go_long(ctx)?;
        } else if close[i - 1] > lower(i - 1) && close[i] < lower(i) {
            go_short(ctx, self.params.long_only)?;
        }
        Ok(())
    }
}
