//! backtesting.py's `SmaCross`.

use bt_domain::{ParamSpec, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, OrderSpec, Strategy};

use crate::{
    builtin::{
        LONG_ONLY, check_period, close_first_doc, crossover_doc, not_initialised, orders_doc,
        period, register_indicator, warmup_doc,
    },
    indicators::{crossover, sma},
    params::Args,
    registry::StrategyEntry,
};

const NAME: &str = "sma_cross";

static PARAMS: [ParamSpec; 3] = [
    period("fast", 10, 1.0, "period of the fast simple moving average of closes"),
    period("slow", 20, 1.0, "period of the slow simple moving average of closes"),
    LONG_ONLY,
];

/// What `bt strategies sma_cross` prints: enough to reproduce the trades in backtesting.py.
const DESCRIPTION: &str = concat!(
    "backtesting.py's `SmaCross` example: long after the fast SMA of the closes crosses above\n",
    "the slow one, short after it crosses below (flat instead with `long_only`).\n",
    "\n",
    "At every bar i that `next` runs on (see the warm-up):\n",
    "- if `crossover(sma_fast, sma_slow)`: close every open trade, then buy;\n",
    "- else, if `crossover(sma_slow, sma_fast)`: close every open trade, then sell short\n",
    "  (with `long_only`: only close, and stay flat).\n",
    "\n",
    "Unlike the other built-ins it acts on every cross, also one in the direction it already\n",
    "holds (possible after an exact tie of the two averages): it then closes the position\n",
    "and opens a new one at the same open, as backtesting.py's `SmaCross` does.\n",
    "\n",
    "Indicators, over the closes, bit for bit as pandas computes them:\n",
    "- `sma_fast = close.rolling(fast).mean()`, `sma_slow = close.rolling(slow).mean()`:\n",
    "  pandas' rolling mean (a Kahan-compensated running sum), NaN before bar n - 1.\n",
    "\n",
    crossover_doc!(),
    "\n",
    warmup_doc!(),
    "Here `sma_slow` has its first value at bar slow - 1 (`fast < slow`), so `next` first\n",
    "runs at bar `slow` and the first order fills at bar slow + 1's open.\n",
    "\n",
    orders_doc!(),
    close_first_doc!(),
    "\n",
    "In backtesting.py 0.6.6 (with pandas 3.1.1), run as\n",
    "`Backtest(data, SmaCross, cash=10_000, commission=0.002).run(fast=10, slow=20)`:\n",
    "\n",
    "    import pandas as pd\n",
    "    from backtesting import Strategy\n",
    "    from backtesting.lib import crossover\n",
    "\n",
    "    def SMA(x, n):\n",
    "        return pd.Series(x).rolling(n).mean()\n",
    "\n",
    "    class SmaCross(Strategy):\n",
    "        fast = 10\n",
    "        slow = 20\n",
    "        long_only = False\n",
    "\n",
    "        def init(self):\n",
    "            self.sma_fast = self.I(SMA, self.data.Close, self.fast)\n",
    "            self.sma_slow = self.I(SMA, self.data.Close, self.slow)\n",
    "\n",
    "        def next(self):\n",
    "            if crossover(self.sma_fast, self.sma_slow):\n",
    "                self.position.close()\n",
    "                self.buy()\n",
    "            elif crossover(self.sma_slow, self.sma_fast):\n",
    "                self.position.close()\n",
    "                if not self.long_only:\n",
    "                    self.sell()\n",
);

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |args| Ok(Box::new(SmaCross::from_args(args)?)))
        .with_doc(
            "backtesting.py's SmaCross: when the fast SMA of closes crosses above the slow one, \
          close any position and buy; when it crosses below, close and sell short (long_only: \
          close and stay flat). Crosses are strict, as backtesting.py's crossover.",
        )
        .with_description(DESCRIPTION)
        .with_warmup(|a| {
            a.usize("slow").unwrap_or(1).max(a.usize("fast").unwrap_or(1)).saturating_sub(1)
        })
        .with_params(&PARAMS[..])
        .with_rule("fast < slow")
}

/// Parameters of [`SmaCross`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmaCrossParams {
    /// Fast SMA period (>= 1).
    pub fast: usize,
    /// Slow SMA period (> `fast`).
    pub slow: usize,
    /// Do not sell short.
    pub long_only: bool,
}

impl Default for SmaCrossParams {
    /// backtesting.py's `SmaCross` defaults: `n1 = 10`, `n2 = 20`.
    fn default() -> Self {
        SmaCrossParams { fast: 10, slow: 20, long_only: false }
    }
}

/// backtesting.py's `SmaCross`, operation for operation:
///
/// ```python
/// def next(self):
///     if crossover(self.sma1, self.sma2):
///         self.position.close(); self.buy()
///     elif crossover(self.sma2, self.sma1):
///         self.position.close(); self.sell()   # long_only: close only
/// ```
///
/// Indicators are `sma(close,{n})`, shared through the cache by every simulation of a sweep.
/// Unlike the other built-ins it closes and re-enters on every cross, even one in the
/// direction it already holds (possible after an exact tie), exactly as the Python does.
#[derive(Debug, Clone)]
pub struct SmaCross {
    params: SmaCrossParams,
    smas: Option<(Ind, Ind)>,
}

impl SmaCross {
    /// Validates the parameters: periods >= 1 and `fast < slow`.
    pub fn new(params: SmaCrossParams) -> Result<SmaCross, StrategyError> {
        check_period(NAME, &PARAMS[0], params.fast)?;
        check_period(NAME, &PARAMS[1], params.slow)?;
        if params.fast >= params.slow {
            return Err(StrategyError::InvalidCombination {
                strategy: NAME.to_owned(),
                problem: format!("fast ({}) must be less than slow ({})", params.fast, params.slow),
                fix: "use a fast period below the slow period, e.g. fast = 10, slow = 20"
                    .to_owned(),
            });
        }
        Ok(SmaCross { params, smas: None })
    }

    fn from_args(args: &Args<'_>) -> Result<SmaCross, StrategyError> {
        SmaCross::new(SmaCrossParams {
            fast: args.usize("fast")?,
            slow: args.usize("slow")?,
            long_only: args.bool("long_only")?,
        })
    }

    /// The parameters.
    pub fn params(&self) -> SmaCrossParams {
        self.params
    }
}

impl Strategy for SmaCross {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        let SmaCrossParams { fast, slow, .. } = self.params;
        let fast =
            register_indicator(init, &format!("sma(close,{fast})"), |b| sma(b.close(), fast))?;
        let slow =
            register_indicator(init, &format!("sma(close,{slow})"), |b| sma(b.close(), slow))?;
        self.smas = Some((fast, slow));
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let Some((fast, slow)) = self.smas else { return Err(not_initialised(ctx, NAME)) };
        let (fast, slow) = (ctx.ind(fast), ctx.ind(slow));
        if crossover(fast, slow) {
            ctx.close_position(1.0)?;
            ctx.buy(OrderSpec::market())?;
        } else if crossover(slow, fast) {
            ctx.close_position(1.0)?;
            if !self.params.long_only {
                ctx.sell(OrderSpec::market())?;
            }
        }
        Ok(())
    }
}
