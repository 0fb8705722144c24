//! MACD line crossing its signal line.

use bt_domain::{ParamSpec, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, Strategy};

use crate::{
    builtin::{
        LONG_ONLY, check_period, close_first_doc, crossover_doc, go_long, go_short,
        not_initialised, orders_doc, period, register_indicator, reversal_doc, warmup_doc,
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

/// What `bt strategies macd_cross` prints: enough to reproduce the trades in backtesting.py.
const DESCRIPTION: &str = concat!(
    "MACD crossover: long after the MACD line of the closes crosses above its signal line,\n",
    "short after it crosses below (flat instead with `long_only`).\n",
    "\n",
    "At every bar i that `next` runs on (see the warm-up):\n",
    "- if `crossover(macd, signal)`: unless the position is already long, close every open\n",
    "  trade, then buy;\n",
    "- else, if `crossover(signal, macd)`: unless the position is already short, close every\n",
    "  open trade, then sell short (with `long_only`: if the position is long, close it;\n",
    "  never sell).\n",
    "\n",
    reversal_doc!(),
    "\n",
    "Indicators, over the closes, bit for bit as pandas computes them:\n",
    "- `macd = ema_fast - ema_slow`, with\n",
    "  `ema_fast = close.ewm(span=fast, adjust=False).mean()` and `ema_slow` likewise with\n",
    "  `span=slow`: exponential averages with alpha = 2 / (span + 1), `y[0] = close[0]` and\n",
    "  `y[t] = (1 - alpha) * y[t-1] + alpha * close[t]`, started at bar 0 with no\n",
    "  `min_periods`;\n",
    "- `signal = macd.ewm(span=signal, adjust=False).mean()`, over that whole MACD line from\n",
    "  bar 0;\n",
    "- then masked: `macd` is NaN before bar slow - 1 and `signal` before bar\n",
    "  slow + signal - 2 (`fast < slow`). The masks change no later value: those are the\n",
    "  averages started at bar 0.\n",
    "\n",
    crossover_doc!(),
    "\n",
    warmup_doc!(),
    "Here `signal` has its first value at bar slow + signal - 2, so `next` first runs at bar\n",
    "slow + signal - 1 (34 with the defaults) and the first order fills a bar later.\n",
    "\n",
    orders_doc!(),
    close_first_doc!(),
    "\n",
    "In backtesting.py 0.6.6 (with pandas 3.1.1), run as\n",
    "`Backtest(data, MacdCross, cash=10_000).run(fast=12, slow=26, signal=9)`:\n",
    "\n",
    "    import numpy as np\n",
    "    import pandas as pd\n",
    "    from backtesting import Strategy\n",
    "    from backtesting.lib import crossover\n",
    "\n",
    "    def MACD(x, fast, slow, signal):\n",
    "        close = pd.Series(x)\n",
    "        ema_fast = close.ewm(span=fast, adjust=False).mean()\n",
    "        ema_slow = close.ewm(span=slow, adjust=False).mean()\n",
    "        macd = ema_fast - ema_slow\n",
    "        sig = macd.ewm(span=signal, adjust=False).mean()\n",
    "        bar = np.arange(len(close))\n",
    "        return macd.where(bar >= slow - 1), sig.where(bar >= slow + signal - 2)\n",
    "\n",
    "    class MacdCross(Strategy):\n",
    "        fast = 12\n",
    "        slow = 26\n",
    "        signal = 9\n",
    "        long_only = False\n",
    "\n",
    "        def init(self):\n",
    "            self.macd, self.macd_signal = self.I(\n",
    "                MACD, self.data.Close, self.fast, self.slow, self.signal)\n",
    "\n",
    "        def next(self):\n",
    "            if crossover(self.macd, self.macd_signal):\n",
    "                if not self.position.is_long:\n",
    "                    self.position.close()\n",
    "                    self.buy()\n",
    "            elif crossover(self.macd_signal, self.macd):\n",
    "                if self.long_only:\n",
    "                    if self.position.is_long:\n",
    "                        self.position.close()\n",
    "                elif not self.position.is_short:\n",
    "                    self.position.close()\n",
    "                    self.sell()\n",
);

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |args| Ok(Box::new(MacdCross::from_args(args)?)))
        .with_doc(
            "MACD crossover (MACD = EMA(fast) - EMA(slow) of closes, signal = EMA(signal) of \
          MACD): when MACD crosses above its signal line, close any short and buy; when it \
          crosses below, close any long and sell short (long_only: close and stay flat)",
        )
        .with_description(DESCRIPTION)
        .with_warmup(|a| {
            let (slow, signal) = (a.usize("slow").unwrap_or(1), a.usize("signal").unwrap_or(1));
            (slow + signal).saturating_sub(2).max(a.usize("fast").unwrap_or(1).saturating_sub(1))
        })
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
