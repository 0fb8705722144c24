//! Breakouts through the Donchian channel.

use bt_domain::{ParamSpec, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, Strategy};

use crate::{
    builtin::{
        LONG_ONLY, check_period, close_first_doc, go_long, go_short, not_initialised, orders_doc,
        period, register_indicator, reversal_doc, warmup_doc,
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

/// What `bt strategies donchian_breakout` prints: enough to reproduce the trades in
/// backtesting.py.
const DESCRIPTION: &str = concat!(
    "Donchian channel breakout: long when the close is above the highest high of the\n",
    "`period` bars before it, short when it is below their lowest low (flat instead with\n",
    "`long_only`).\n",
    "\n",
    "At every bar i that `next` runs on (see the warm-up):\n",
    "- if `close[i] > hi[i-1]`: unless the position is already long, close every open\n",
    "  trade, then buy;\n",
    "- else, if `close[i] < lo[i-1]`: unless the position is already short, close every open\n",
    "  trade, then sell short (with `long_only`: if the position is long, close it; never\n",
    "  sell).\n",
    "\n",
    "These are levels, not crosses: while the close stays beyond the channel the signal\n",
    "repeats at every bar. Both comparisons are strict: a close equal to the channel's edge\n",
    "is no signal.\n",
    reversal_doc!(),
    "\n",
    "Indicators, bit for bit as pandas computes them:\n",
    "- `hi = high.rolling(period).max()`, `lo = low.rolling(period).min()`: windows of\n",
    "  `period` bars that end at (and include) their own bar, NaN before bar period - 1;\n",
    "- so `hi[i-1]` and `lo[i-1]`, which the signals read, cover bars i - period .. i - 1:\n",
    "  the channel excludes the current bar (`self.hi[-2]` in backtesting.py).\n",
    "\n",
    warmup_doc!(),
    "Here `hi` and `lo` have their first value at bar period - 1, so `next` first runs at\n",
    "bar `period`, comparing its close with the channel of bars 0 .. period - 1, and the\n",
    "first order fills at bar period + 1's open.\n",
    "\n",
    orders_doc!(),
    close_first_doc!(),
    "\n",
    "In backtesting.py 0.6.6 (with pandas 3.1.1), run as\n",
    "`Backtest(data, DonchianBreakout, cash=10_000).run(period=20)`:\n",
    "\n",
    "    import pandas as pd\n",
    "    from backtesting import Strategy\n",
    "\n",
    "    def ROLLING_MAX(x, n):\n",
    "        return pd.Series(x).rolling(n).max()\n",
    "\n",
    "    def ROLLING_MIN(x, n):\n",
    "        return pd.Series(x).rolling(n).min()\n",
    "\n",
    "    class DonchianBreakout(Strategy):\n",
    "        period = 20\n",
    "        long_only = False\n",
    "\n",
    "        def init(self):\n",
    "            self.hi = self.I(ROLLING_MAX, self.data.High, self.period)\n",
    "            self.lo = self.I(ROLLING_MIN, self.data.Low, self.period)\n",
    "\n",
    "        def next(self):\n",
    "            close = self.data.Close[-1]\n",
    "            if close > self.hi[-2]:\n",
    "                if not self.position.is_long:\n",
    "                    self.position.close()\n",
    "                    self.buy()\n",
    "            elif close < self.lo[-2]:\n",
    "                if self.long_only:\n",
    "                    if self.position.is_long:\n",
    "                        self.position.close()\n",
    "                elif not self.position.is_short:\n",
    "                    self.position.close()\n",
    "                    self.sell()\n",
);

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |args| Ok(Box::new(DonchianBreakout::from_args(args)?)))
        .with_doc(
            "Donchian channel breakout: when the close rises above the highest high of the \
          `period` bars before it, close any short and buy; when it falls below their lowest \
          low, close any long and sell short (long_only: close and stay flat)",
        )
        .with_description(DESCRIPTION)
        .with_warmup(|a| a.usize("period").unwrap_or(1).saturating_sub(1))
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
