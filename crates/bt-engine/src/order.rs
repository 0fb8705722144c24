/// A new entry order, as `Strategy.buy(size=, limit=, stop=, sl=, tp=, tag=)` takes it.
///
/// - no `limit`, no `stop`: market order, filled at the next bar's open (or this bar's close
///   with `trade_on_close`);
/// - `limit`: filled when the price trades through the limit;
/// - `stop`: becomes a market order once the price touches the stop;
/// - `stop` and `limit`: a stop-limit order;
/// - `sl`/`tp`: stop-loss and take-profit orders attached to the resulting trade.
///
/// `size` is a fraction of available margin in (0, 1) or a whole number of units (>= 1); the
/// default is [`crate::FULL_EQUITY`]. Sizes are always positive: the direction comes from
/// [`crate::Ctx::buy`] or [`crate::Ctx::sell`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderSpec {
    /// Fraction in (0, 1) or whole units >= 1.
    pub size: f64,
    /// Limit price.
    pub limit: Option<f64>,
    /// Stop price.
    pub stop: Option<f64>,
    /// Stop-loss price for the resulting trade.
    pub sl: Option<f64>,
    /// Take-profit price for the resulting trade.
    pub tp: Option<f64>,
    /// A tag carried to the resulting trade.
    pub tag: Option<u32>,
}

impl Default for OrderSpec {
    fn default() -> Self {
        OrderSpec::market()
    }
}

impl OrderSpec {
    /// A market order for all available margin.
    pub const fn market() -> OrderSpec {
        OrderSpec {
            size: crate::FULL_EQUITY,
            limit: None,
            stop: None,
            sl: None,
            tp: None,
            tag: None,
        }
    }
    /// With this size (fraction or units).
    pub const fn size(mut self, size: f64) -> OrderSpec {
        self.size = size;
        self
    }
    /// With a limit price.
    pub const fn limit(mut self, price: f64) -> OrderSpec {
        self.limit = Some(price);
        self
    }
    /// With a stop price.
    pub const fn stop(mut self, price: f64) -> OrderSpec {
        self.stop = Some(price);
        self
    }
    /// With a stop-loss.
    pub const fn sl(mut self, price: f64) -> OrderSpec {
        self.sl = Some(price);
        self
    }
    /// With a take-profit.
    pub const fn tp(mut self, price: f64) -> OrderSpec {
        self.tp = Some(price);
        self
    }
    /// With a tag.
    pub const fn tag(mut self, tag: u32) -> OrderSpec {
        self.tag = Some(tag);
        self
    }
}

/// What an order is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A stand-alone order that opens (or nets) a position.
    Entry,
    /// `Trade.close()`: closes (part of) the trade with this id.
    Close(u64),
    /// The stop-loss of the trade with this id.
    StopLoss(u64),
    /// The take-profit of the trade with this id.
    TakeProfit(u64),
}

/// A pending order, as the broker keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Order {
    pub id: u64,
    /// Signed: > 0 long. Fraction in (-1, 1) or whole units.
    pub size: f64,
    pub limit: Option<f64>,
    pub stop: Option<f64>,
    pub sl: Option<f64>,
    pub tp: Option<f64>,
    pub tag: Option<u32>,
    pub role: Role,
}

impl Order {
    pub fn is_long(&self) -> bool {
        self.size > 0.0
    }
    pub fn parent(&self) -> Option<u64> {
        match self.role {
            Role::Entry => None,
            Role::Close(t) | Role::StopLoss(t) | Role::TakeProfit(t) => Some(t),
        }
    }
    pub fn is_contingent(&self) -> bool {
        matches!(self.role, Role::StopLoss(_) | Role::TakeProfit(_))
    }
}

/// A pending order, as a strategy sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderInfo {
    /// Signed size: fraction in (-1, 1) or units; > 0 long.
    pub size: f64,
    /// Limit price.
    pub limit: Option<f64>,
    /// Stop price (cleared once the stop was hit).
    pub stop: Option<f64>,
    /// Stop-loss for the resulting trade.
    pub sl: Option<f64>,
    /// Take-profit for the resulting trade.
    pub tp: Option<f64>,
    /// Tag.
    pub tag: Option<u32>,
    /// True for SL/TP orders attached to an open trade.
    pub is_contingent: bool,
}

impl From<&Order> for OrderInfo {
    fn from(o: &Order) -> OrderInfo {
        OrderInfo {
            size: o.size,
            limit: o.limit,
            stop: o.stop,
            sl: o.sl,
            tp: o.tp,
            tag: o.tag,
            is_contingent: o.is_contingent(),
        }
    }
}

/// An open trade, as a strategy sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TradeInfo {
    /// Signed whole units.
    pub size: f64,
    /// Entry fill price.
    pub entry_price: f64,
    /// Bar index of the entry.
    pub entry_bar: usize,
    /// Current stop-loss, if any.
    pub sl: Option<f64>,
    /// Current take-profit, if any.
    pub tp: Option<f64>,
    /// Tag.
    pub tag: Option<u32>,
}
