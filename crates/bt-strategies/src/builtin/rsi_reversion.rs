//! Mean reversion on Wilder's RSI.

use bt_domain::{Limit, ParamSpec, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, Strategy};

use crate::{
    builtin::{
        LONG_ONLY, check_period, close_first_doc, crossover_doc, go_long, go_short,
        not_initialised, orders_doc, period, register_indicator, reversal_doc, warmup_doc,
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

/// What `bt strategies rsi_reversion` prints: enough to reproduce the trades in backtesting.py.
const DESCRIPTION: &str = concat!(
    "Mean reversion on Wilder's RSI of the closes: long after the RSI crosses below `lower`\n",
    "(oversold), short after it crosses above `upper` (overbought; flat instead with\n",
    "`long_only`).\n",
    "\n",
    "At every bar i that `next` runs on (see the warm-up):\n",
    "- if `crossover(lower, rsi)`, that is `rsi[i-1] > lower and rsi[i] < lower`: unless the\n",
    "  position is already long, close every open trade, then buy;\n",
    "- else, if `crossover(rsi, upper)`, that is `rsi[i-1] < upper and rsi[i] > upper`: unless\n",
    "  the position is already short, close every open trade, then sell short (with\n",
    "  `long_only`: if the position is long, close it; never sell).\n",
    "\n",
    reversal_doc!(),
    "\n",
    "Indicator `rsi`, over the closes, bit for bit as pandas computes it:\n",
    "- `delta = close.diff()` (NaN at bar 0), `gain = delta.clip(lower=0)`,\n",
    "  `loss = -delta.clip(upper=0)`;\n",
    "- `avg_gain`, `avg_loss`: `gain` and `loss`, each smoothed with\n",
    "  `.ewm(alpha=1 / period, adjust=False, min_periods=period).mean()`, Wilder's smoothing\n",
    "  as an exponential average that starts at the first delta (bar 1) with no SMA seed;\n",
    "- `rsi = 100 - 100 / (1 + avg_gain / avg_loss)`, and 100 where `avg_loss == 0` (also\n",
    "  on a flat stretch, where the division alone gives NaN). NaN before bar `period`.\n",
    "\n",
    crossover_doc!(),
    "\n",
    warmup_doc!(),
    "Here `rsi` has its first value at bar `period`, so `next` first runs at bar period + 1\n",
    "and the first order fills at bar period + 2's open.\n",
    "\n",
    orders_doc!(),
    close_first_doc!(),
    "\n",
    "In backtesting.py 0.6.6 (with pandas 3.1.1), run as\n",
    "`Backtest(data, RsiReversion, cash=10_000).run(period=14, lower=30, upper=70)`:\n",
    "\n",
    "    import pandas as pd\n",
    "    from backtesting import Strategy\n",
    "    from backtesting.lib import crossover\n",
    "\n",
    "    def RSI(x, n):\n",
    "        delta = pd.Series(x).diff()\n",
    "        gain = delta.clip(lower=0)\n",
    "        loss = -delta.clip(upper=0)\n",
    "        avg_gain = gain.ewm(alpha=1 / n, adjust=False, min_periods=n).mean()\n",
    "        avg_loss = loss.ewm(alpha=1 / n, adjust=False, min_periods=n).mean()\n",
    "        rsi = 100 - 100 / (1 + avg_gain / avg_loss)\n",
    "        return rsi.where(avg_loss != 0, 100.0)\n",
    "\n",
    "    class RsiReversion(Strategy):\n",
    "        period = 14\n",
    "        lower = 30.0\n",
    "        upper = 70.0\n",
    "        long_only = False\n",
    "\n",
    "        def init(self):\n",
    "            self.rsi = self.I(RSI, self.data.Close, self.period)\n",
    "\n",
    "        def next(self):\n",
    "            if crossover(self.lower, self.rsi):\n",
    "                if not self.position.is_long:\n",
    "                    self.position.close()\n",
    "                    self.buy()\n",
    "            elif crossover(self.rsi, self.upper):\n",
    "                if self.long_only:\n",
    "                    if self.position.is_long:\n",
    "                        self.position.close()\n",
    "                elif not self.position.is_short:\n",
    "                    self.position.close()\n",
    "                    self.sell()\n",
);

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |args| Ok(Box::new(RsiReversion::from_args(args)?)))
        .with_doc(
            "mean reversion on Wilder's RSI of closes: when the RSI crosses below `lower`, close \
          any short and buy; when it crosses above `upper`, close any long and sell short \
          (long_only: close the long and stay flat). Does nothing when already positioned in \
          the signal's direction.",
        )
        .with_description(DESCRIPTION)
        .with_warmup(|a| a.usize("period").unwrap_or(0))
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
