//! MACD line crossing its signal line.

use bt_domain::{ParamSpec, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, Strategy};

use crate::{
    builtin::{
        LONG_ONLY, check_period, go_long, go_short, not_initialised, period, register_indicator,
    },
    indicators::{crossover, macd},
    params::Args,
    registry::StrategyEntry,
};

const NAME: &str = "macd_cross";

static PARAMS: [ParamSpec; 4] = [
    period("fast", 12, 1.0, "span of the fast EMA of closes"),
    period("slow", 26, 1.0, "span of the slow EMA of closes"),
    period("signal", 9, 1.0, "span of the EMA of the MACD line"),
    LONG_ONLY,
];

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |args| Ok(Box::new(MacdCross::from_args(args)?)))
        .with_doc(
            "MACD crossover (MACD = EMA(fast) - EMA(slow) of closes, signal = EMA(signal) of \
          MACD): when MACD crosses above its signal line, close any short and buy; when it \
          crosses below, close any long and sell short (long_only: close and stay flat)",
        )
        .with_params(&PARAMS[..])
        .with_rule("fast < slow")
}

/// Parameters of [`MacdCross`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacdCrossParams {
    /// Fast EMA span (>= 1).
    pub fast: usize,
    /// Slow EMA span (> `fast`).
    pub slow: usize,
    /// Signal EMA span (>= 1).
    pub signal: usize,
    /// Do not sell short.
    pub long_only: bool,
}

impl Default for MacdCrossParams {
    fn default() -> Self {
        MacdCrossParams { fast: 12, slow: 26, signal: 9, long_only: false }
    }
}

/// MACD crossover. With `(m, s)` = [`macd`]`(close, fast, slow, signal)` (keys
/// `macd(close,{fast},{slow})` and `macd_signal(close,{fast},{slow},{signal})`), at bar `i`:
///
/// - `crossover(m, s)` (`m[i-1] < s[i-1] && m[i] > s[i]`): if not long, close every open trade
///   and buy with all available margin;
/// - else `crossover(s, m)`: if not short, close every open trade and sell short (with
///   `long_only`: close a long, never sell).
///
/// The signal line's first value is at `slow + signal - 2`, so trading starts one bar later.
#[derive(Debug, Clone)]
pub struct MacdCross {
    params: MacdCrossParams,
    lines: Option<(Ind, Ind)>,
}

impl MacdCross {
    /// Validates the parameters: spans >= 1 and `fast < slow`.
    pub fn new(params: MacdCrossParams) -> Result<MacdCross, StrategyError> {
        check_period(NAME, &PARAMS[0], params.fast)?;
        check_period(NAME, &PARAMS[1], params.slow)?;
        check_period(NAME, &PARAMS[2], params.signal)?;
        if params.fast >= params.slow {
            return Err(StrategyError::InvalidCombination {
                strategy: NAME.to_owned(),
                problem: format!("fast ({}) must be less than slow ({})", params.fast, params.slow),
                fix: "use a fast span below the slow span, e.g. fast = 12, slow = 26".to_owned(),
            });
        }
        Ok(MacdCross { params, lines: None })
    }

    fn from_args(args: &Args<'_>) -> Result<MacdCross, StrategyError> {
        MacdCross::new(MacdCrossParams {
            fast: args.usize("fast")?,
            slow: args.usize("slow")?,
            signal: args.usize("signal")?,
            long_only: args.bool("long_only")?,
        })
    }

    /// The parameters.
    pub fn params(&self) -> MacdCrossParams {
        self.params
    }
}

impl Strategy for MacdCross {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        let MacdCrossParams { fast, slow, signal, .. } = self.params;
        let line = register_indicator(init, &format!("macd(close,{fast},{slow})"), |b| {
            macd(b.close(), fast, slow, signal).0
        })?;
        let sig =
            register_indicator(init, &format!("macd_signal(close,{fast},{slow},{signal})"), |b| {
                macd(b.close(), fast, slow, signal).1
            })?;
        self.lines = Some((line, sig));
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let Some((line, sig)) = self.lines else { return Err(not_initialised(ctx, NAME)) };
        let (line, sig) = (ctx.ind(line), ctx.ind(sig));
        if crossover(line, sig) {
            go_long(ctx)?;
        } else if crossover(sig, line) {
            go_short(ctx, self.params.long_only)?;
        }
        Ok(())
    }
}
