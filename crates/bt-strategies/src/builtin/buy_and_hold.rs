//! Buy once, hold to the end.

use bt_domain::ParamSpec;
use bt_engine::{Ctx, EngineError, Init, OrderSpec, Strategy};

use crate::registry::StrategyEntry;

const NAME: &str = "buy_and_hold";

static PARAMS: [ParamSpec; 0] = [];

pub(crate) fn entry() -> StrategyEntry {
    StrategyEntry::new(NAME, |_| Ok(Box::new(BuyAndHold::new())))
        .with_doc(
            "buys with all available cash on the first bar it can (no indicators, so the order is \
          placed on bar 1 and filled at bar 2's open) and holds to the end",
        )
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
