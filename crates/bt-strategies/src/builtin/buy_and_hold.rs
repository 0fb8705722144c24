//! Buy once, hold to the end.

use bt_domain::ParamSpec;
use bt_engine::{Ctx, EngineError, Init, OrderSpec, Strategy};

use crate::{
    builtin::{orders_doc, warmup_doc},
    registry::StrategyEntry,
};

const NAME: &str = "buy_and_hold";

static PARAMS: [ParamSpec; 0] = [];

/// What `bt strategies buy_and_hold` prints: enough to reproduce the trades in backtesting.py.
const DESCRIPTION: &str = concat!(
    "Buys once, as early as it can, and holds to the end.\n",
    "\n",
    "At the first bar `next` runs on, bar 1, it buys; the order fills at bar 2's open. If\n",
    "the broker cancels the order (not one unit is affordable), it buys again at the next\n",
    "bar, until a trade is open. From the bar at which it sees the open trade, it never\n",
    "places an order again: the trade is held to the end, where it stays open (outside the\n",
    "trades table unless `finalize_trades`), and if something else closes it (a trailing\n",
    "stop, running out of money) nothing is bought again.\n",
    "\n",
    "Its Return [%] is not the Buy & Hold Return [%] statistic, which backtesting.py\n",
    "measures from the close of bar w (here bar 0) to the last close, with no commission.\n",
    "\n",
    warmup_doc!(),
    "Here there are no indicators: w = 0, so `next` first runs at bar 1.\n",
    "\n",
    orders_doc!(),
    "\n",
    "In backtesting.py 0.6.6, run as `Backtest(data, BuyAndHold, cash=10_000).run()`:\n",
    "\n",
    "    from backtesting import Strategy\n",
    "\n",
    "    class BuyAndHold(Strategy):\n",
    "        def init(self):\n",
    "            self.holding = False\n",
    "\n",
    "        def next(self):\n",
    "            if self.holding:\n",
    "                return\n",
    "            if self.trades:\n",
    "                self.holding = True\n",
    "            elif not self.orders:\n",
    "                self.buy()\n",
);

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |_| Ok(Box::new(BuyAndHold::new())))
        .with_doc(
            "buys with all available cash on the first bar it can (no indicators, so the order is \
          placed on bar 1 and filled at bar 2's open) and holds to the end",
        )
        .with_description(DESCRIPTION)
        .with_warmup(|_| 0)
        .with_params(&PARAMS[..])
}

/// Buys with all available margin on the first bar `next` runs (bar 1: no indicators, no
/// warm-up) and holds. If the broker cancels the order for lack of cash (one unit costs more
/// than the account), it tries again on the next bar, until a trade is open; after that it
/// never trades again.
#[derive(Debug, Clone, Default)]
pub struct BuyAndHold {
    holding: bool,
}

impl BuyAndHold {
    /// A new buy-and-hold strategy.
    pub fn new() -> BuyAndHold {
        BuyAndHold::default()
    }
}

impl Strategy for BuyAndHold {
    fn init(&mut self, _init: &mut Init<'_>) -> Result<(), EngineError> {
        self.holding = false;
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        if self.holding {
            return Ok(());
        }
        if ctx.trade_count() > 0 {
            self.holding = true;
        } else if ctx.order_count() == 0 {
            ctx.buy(OrderSpec::market())?;
        }
        Ok(())
    }
}
