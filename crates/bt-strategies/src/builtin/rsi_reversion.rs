//! Mean reversion on Wilder's RSI.

use bt_domain::{Limit, ParamSpec, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, Strategy};

use crate::{
    builtin::{
        LONG_ONLY, check_period, go_long, go_short, not_initialised, period, register_indicator,
    },
    indicators::{crossover_level, crossunder_level, rsi},
    params::Args,
    registry::StrategyEntry,
};

const NAME: &str = "rsi_reversion";

const fn level(name: &'static str, default: f64, doc: &'static str) -> ParamSpec {
    ParamSpec::float(name, default, doc)
        .range(Some(Limit::Exclusive(0.0)), Some(Limit::Exclusive(100.0)))
}

static PARAMS: [ParamSpec; 4] = [
    period("period", 14, 1.0, "RSI period (Wilder's smoothing)"),
    level("lower", 30.0, "oversold level: RSI crossing below it goes long"),
    level("upper", 70.0, "overbought level: RSI crossing above it goes short"),
    LONG_ONLY,
];

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |args| Ok(Box::new(RsiReversion::from_args(args)?)))
        .with_doc(
            "mean reversion on Wilder's RSI of closes: when the RSI crosses below `lower`, close \
          any short and buy; when it crosses above `upper`, close any long and sell short \
          (long_only: close the long and stay flat). Does nothing when already positioned in \
          the signal's direction.",
        )
        .with_params(&PARAMS[..])
        .with_rule("lower < upper")
}

/// Parameters of [`RsiReversion`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RsiReversionParams {
    /// RSI period (>= 1).
    pub period: usize,
    /// Oversold level in (0, 100).
    pub lower: f64,
    /// Overbought level in (0, 100), above `lower`.
    pub upper: f64,
    /// Do not sell short.
    pub long_only: bool,
}

impl Default for RsiReversionParams {
    fn default() -> Self {
        RsiReversionParams { period: 14, lower: 30.0, upper: 70.0, long_only: false }
    }
}

/// RSI mean reversion. With `r` = [`rsi`]`(close, period)` (key `rsi(close,{period})`), at bar
/// `i`:
///
/// - `r[i-1] > lower && r[i] < lower` (backtesting.py's `crossover(lower, rsi)`): if not
///   long, close every open trade and buy with all available margin;
/// - else `r[i-1] < upper && r[i] > upper` (`crossover(rsi, upper)`): if not short, close every
///   open trade and sell short (with `long_only`: close a long, never sell).
///
/// Orders fill at the next bar's open. The first signal can come at bar `period + 1` (the RSI's
/// first value is at `period`).
#[derive(Debug, Clone)]
pub struct RsiReversion {
    params: RsiReversionParams,
    rsi: Option<Ind>,
}

impl RsiReversion {
    /// Validates the parameters: `period >= 1`, `0 < lower < upper < 100`.
    pub fn new(params: RsiReversionParams) -> Result<RsiReversion, StrategyError> {
        check_period(NAME, &PARAMS[0], params.period)?;
        PARAMS[1].check_range(NAME, params.lower)?;
        PARAMS[2].check_range(NAME, params.upper)?;
        if params.lower >= params.upper {
            return Err(StrategyError::InvalidCombination {
                strategy: NAME.to_owned(),
                problem: format!(
                    "lower ({}) must be less than upper ({})",
                    params.lower, params.upper
                ),
                fix: "use 0 < lower < upper < 100, e.g. lower = 30, upper = 70".to_owned(),
            });
        }
        Ok(RsiReversion { params, rsi: None })
    }

    fn from_args(args: &Args<'_>) -> Result<RsiReversion, StrategyError> {
        RsiReversion::new(RsiReversionParams {
            period: args.usize("period")?,
            lower: args.f64("lower")?,
            upper: args.f64("upper")?,
            long_only: args.bool("long_only")?,
        })
    }

    /// The parameters.
    pub fn params(&self) -> RsiReversionParams {
        self.params
    }
}

impl Strategy for RsiReversion {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        let n = self.params.period;
        self.rsi =
            Some(register_indicator(init, &format!("rsi(close,{n})"), |b| rsi(b.close(), n))?);
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let Some(r) = self.rsi else { return Err(not_initialised(ctx, NAME)) };
        let r = ctx.ind(r);
        if crossunder_level(r, self.params.lower) {
            go_long(ctx)?;
        } else if crossover_level(r, self.params.upper) {
            go_short(ctx, self.params.long_only)?;
        }
        Ok(())
    }
}
