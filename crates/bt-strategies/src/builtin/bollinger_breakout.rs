//! Breakouts through Bollinger bands.

use std::borrow::Cow;

use bt_domain::{Limit, ParamKind, ParamSpec, ParamValue, StrategyError};
use bt_engine::{Ctx, EngineError, Ind, Init, Strategy};

use crate::{
    builtin::{
        LONG_ONLY, check_period, close_first_doc, crossover_doc, go_long, go_short,
        not_initialised, orders_doc, period, register_indicator, reversal_doc, warmup_doc,
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

/// What `bt strategies bollinger_breakout` prints: enough to reproduce the trades in
/// backtesting.py.
const DESCRIPTION: &str = concat!(
    "Breakout through Bollinger bands of the closes: long after the close crosses above the\n",
    "upper band, short after it crosses below the lower band (flat instead with\n",
    "`long_only`).\n",
    "\n",
    "At every bar i that `next` runs on (see the warm-up):\n",
    "- if `crossover(close, upper)`, that is `close[i-1] < upper[i-1] and\n",
    "  close[i] > upper[i]`: unless the position is already long, close every open trade,\n",
    "  then buy;\n",
    "- else, if `crossover(lower, close)`, that is `close[i-1] > lower[i-1] and\n",
    "  close[i] < lower[i]`: unless the position is already short, close every open trade,\n",
    "  then sell short (with `long_only`: if the position is long, close it; never sell).\n",
    "\n",
    reversal_doc!(),
    "\n",
    "Indicators, over the closes, bit for bit as pandas computes them:\n",
    "- `mid = close.rolling(period).mean()`: pandas' rolling mean;\n",
    "- `std = close.rolling(period).std(ddof=0)`: the population standard deviation\n",
    "  (divided by `period`, not `period - 1`), pandas' rolling variance;\n",
    "- `upper = mid + k * std`, `lower = mid - k * std`; all three are NaN before bar\n",
    "  period - 1.\n",
    "\n",
    crossover_doc!(),
    "\n",
    warmup_doc!(),
    "Here the bands have their first value at bar period - 1, so `next` first runs at bar\n",
    "`period` and the first order fills at bar period + 1's open.\n",
    "\n",
    orders_doc!(),
    close_first_doc!(),
    "\n",
    "In backtesting.py 0.6.6 (with pandas 3.1.1), run as\n",
    "`Backtest(data, BollingerBreakout, cash=10_000).run(period=20, k=2.0)`:\n",
    "\n",
    "    import pandas as pd\n",
    "    from backtesting import Strategy\n",
    "    from backtesting.lib import crossover\n",
    "\n",
    "    def BANDS(x, n, k):\n",
    "        close = pd.Series(x)\n",
    "        mid = close.rolling(n).mean()\n",
    "        std = close.rolling(n).std(ddof=0)\n",
    "        return mid + k * std, mid - k * std\n",
    "\n",
    "    class BollingerBreakout(Strategy):\n",
    "        period = 20\n",
    "        k = 2.0\n",
    "        long_only = False\n",
    "\n",
    "        def init(self):\n",
    "            self.upper, self.lower = self.I(BANDS, self.data.Close, self.period, self.k)\n",
    "\n",
    "        def next(self):\n",
    "            if crossover(self.data.Close, self.upper):\n",
    "                if not self.position.is_long:\n",
    "                    self.position.close()\n",
    "                    self.buy()\n",
    "            elif crossover(self.lower, self.data.Close):\n",
    "                if self.long_only:\n",
    "                    if self.position.is_long:\n",
    "                        self.position.close()\n",
    "                elif not self.position.is_short:\n",
    "                    self.position.close()\n",
    "                    self.sell()\n",
);

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |args| Ok(Box::new(BollingerBreakout::from_args(args)?)))
        .with_doc(
            "breakout through Bollinger bands of closes (mid = SMA(period), bands = mid +- k * \
          population std): when the close crosses above the upper band, close any short and \
          buy; when it crosses below the lower band, close any long and sell short (long_only: \
          close and stay flat)",
        )
        .with_description(DESCRIPTION)
        .with_warmup(|a| a.usize("period").unwrap_or(1).saturating_sub(1))
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
