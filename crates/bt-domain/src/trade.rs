/// A trade, as backtesting.py's `stats['_trades']` row.
///
/// For a trade still open at the end of the data, `exit_bar`/`exit_time` are `None` and the
/// exit fields are marked at the last close (see the engine's result).
#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    /// Signed whole units: positive long, negative short.
    pub size: f64,
    /// Bar index of the entry fill.
    pub entry_bar: usize,
    /// Bar index of the exit fill (`None` while open).
    pub exit_bar: Option<usize>,
    /// Entry fill price (spread-adjusted).
    pub entry_price: f64,
    /// Exit fill price (the last close for an open trade).
    pub exit_price: f64,
    /// Stop-loss price attached to the trade, if any.
    pub sl: Option<f64>,
    /// Take-profit price attached to the trade, if any.
    pub tp: Option<f64>,
    /// `size * (exit - entry) - commission`.
    pub pnl: f64,
    /// Entry plus exit commission (entry only while open).
    pub commission: f64,
    /// `sign(size) * (exit / entry - 1) - commission / (|size| * entry)`, a fraction.
    pub return_frac: f64,
    /// Timestamp (ns) of the entry bar.
    pub entry_time: i64,
    /// Timestamp (ns) of the exit bar (`None` while open).
    pub exit_time: Option<i64>,
    /// A user tag given with the entry order.
    pub tag: Option<u32>,
}

impl Trade {
    /// `exit_time - entry_time` in nanoseconds, for a closed trade.
    pub fn duration(&self) -> Option<i64> {
        self.exit_time.map(|exit| exit - self.entry_time)
    }

    /// True for a long trade.
    pub fn is_long(&self) -> bool {
        self.size > 0.0
    }
}
