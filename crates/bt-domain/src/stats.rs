/// The snake_case keys of [`Stats`], in backtesting.py's order (the `--json` contract).
pub const STAT_KEYS: [&str; 32] = [
    "start",
    "end",
    "duration",
    "exposure_time_pct",
    "equity_final",
    "equity_peak",
    "commissions",
    "return_pct",
    "buy_hold_return_pct",
    "return_ann_pct",
    "volatility_ann_pct",
    "cagr_pct",
    "sharpe_ratio",
    "sortino_ratio",
    "calmar_ratio",
    "alpha_pct",
    "beta",
    "max_drawdown_pct",
    "avg_drawdown_pct",
    "max_drawdown_duration",
    "avg_drawdown_duration",
    "n_trades",
    "win_rate_pct",
    "best_trade_pct",
    "worst_trade_pct",
    "avg_trade_pct",
    "max_trade_duration",
    "avg_trade_duration",
    "profit_factor",
    "expectancy_pct",
    "sqn",
    "kelly_criterion",
];

/// backtesting.py's labels for [`STAT_KEYS`], in the same order.
pub const STAT_LABELS: [&str; 32] = [
    "Start",
    "End",
    "Duration",
    "Exposure Time [%]",
    "Equity Final [$]",
    "Equity Peak [$]",
    "Commissions [$]",
    "Return [%]",
    "Buy & Hold Return [%]",
    "Return (Ann.) [%]",
    "Volatility (Ann.) [%]",
    "CAGR [%]",
    "Sharpe Ratio",
    "Sortino Ratio",
    "Calmar Ratio",
    "Alpha [%]",
    "Beta",
    "Max. Drawdown [%]",
    "Avg. Drawdown [%]",
    "Max. Drawdown Duration",
    "Avg. Drawdown Duration",
    "# Trades",
    "Win Rate [%]",
    "Best Trade [%]",
    "Worst Trade [%]",
    "Avg. Trade [%]",
    "Max. Trade Duration",
    "Avg. Trade Duration",
    "Profit Factor",
    "Expectancy [%]",
    "SQN",
    "Kelly Criterion",
];

/// One statistic's value, typed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatValue {
    /// A timestamp (ns since the epoch, UTC).
    Time(i64),
    /// A duration in ns; `None` is pandas' NaT.
    Duration(Option<i64>),
    /// A real number; NaN where backtesting.py gives NaN.
    Float(f64),
    /// A count.
    Count(u64),
}

impl StatValue {
    /// The value as a number for ranking and tables: durations in seconds, times in seconds
    /// since the epoch, NaT as NaN.
    pub fn as_f64(self) -> f64 {
        match self {
            StatValue::Time(t) => t as f64 / 1e9,
            StatValue::Duration(d) => d.map_or(f64::NAN, |d| d as f64 / 1e9),
            StatValue::Float(x) => x,
            StatValue::Count(n) => n as f64,
        }
    }
}

/// The 32 statistics of backtesting.py 0.6.6's `compute_stats`, with `rf = 0`.
///
/// Percentages are in percent (`return_pct = 462.6` means +462.6 %). Durations are in
/// nanoseconds, `None` where pandas gives NaT. `commissions` is 0 where backtesting.py omits the
/// key; `commissions_reported` says whether it would print it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(missing_docs, reason = "field names are the documented STAT_KEYS")]
pub struct Stats {
    pub start: i64,
    pub end: i64,
    pub duration: i64,
    pub exposure_time_pct: f64,
    pub equity_final: f64,
    pub equity_peak: f64,
    pub commissions: f64,
    pub return_pct: f64,
    pub buy_hold_return_pct: f64,
    pub return_ann_pct: f64,
    pub volatility_ann_pct: f64,
    pub cagr_pct: f64,
    pub sharpe_ratio: f64,
    pub sortino_ratio: f64,
    pub calmar_ratio: f64,
    pub alpha_pct: f64,
    pub beta: f64,
    pub max_drawdown_pct: f64,
    pub avg_drawdown_pct: f64,
    pub max_drawdown_duration: Option<i64>,
    pub avg_drawdown_duration: Option<i64>,
    pub n_trades: u64,
    pub win_rate_pct: f64,
    pub best_trade_pct: f64,
    pub worst_trade_pct: f64,
    pub avg_trade_pct: f64,
    pub max_trade_duration: Option<i64>,
    pub avg_trade_duration: Option<i64>,
    pub profit_factor: f64,
    pub expectancy_pct: f64,
    pub sqn: f64,
    pub kelly_criterion: f64,
}

impl Stats {
    /// Whether backtesting.py reports `Commissions [$]` (it omits the key when the sum is 0).
    pub fn commissions_reported(&self) -> bool {
        self.commissions != 0.0
    }

    /// Every statistic as `(key, value)`, in [`STAT_KEYS`] order.
    pub fn values(&self) -> [(&'static str, StatValue); 32] {
        use StatValue::{Count, Duration, Float, Time};
        let v = [
            Time(self.start),
            Time(self.end),
            Duration(Some(self.duration)),
            Float(self.exposure_time_pct),
            Float(self.equity_final),
            Float(self.equity_peak),
            Float(self.commissions),
            Float(self.return_pct),
            Float(self.buy_hold_return_pct),
            Float(self.return_ann_pct),
            Float(self.volatility_ann_pct),
            Float(self.cagr_pct),
            Float(self.sharpe_ratio),
            Float(self.sortino_ratio),
            Float(self.calmar_ratio),
            Float(self.alpha_pct),
            Float(self.beta),
            Float(self.max_drawdown_pct),
            Float(self.avg_drawdown_pct),
            Duration(self.max_drawdown_duration),
            Duration(self.avg_drawdown_duration),
            Count(self.n_trades),
            Float(self.win_rate_pct),
            Float(self.best_trade_pct),
            Float(self.worst_trade_pct),
            Float(self.avg_trade_pct),
            Duration(self.max_trade_duration),
            Duration(self.avg_trade_duration),
            Float(self.profit_factor),
            Float(self.expectancy_pct),
            Float(self.sqn),
            Float(self.kelly_criterion),
        ];
        std::array::from_fn(|i| (STAT_KEYS[i], v[i]))
    }

    /// Every statistic as one 64-bit word, in [`STAT_KEYS`] order, losslessly (the binary
    /// result log's encoding): times and durations as `i64` nanoseconds (NaT as `i64::MIN`),
    /// floats as their bits, counts as they are. [`Stats::from_words`] is the inverse.
    pub fn to_words(&self) -> [u64; 32] {
        self.values().map(|(_, v)| match v {
            StatValue::Time(t) => t as u64,
            StatValue::Duration(d) => d.unwrap_or(i64::MIN) as u64,
            StatValue::Float(x) => x.to_bits(),
            StatValue::Count(n) => n,
        })
    }

    /// The statistics from [`Stats::to_words`]'s words, bit for bit.
    pub fn from_words(w: [u64; 32]) -> Stats {
        let t = |i: usize| w[i] as i64;
        let d = |i: usize| Some(w[i] as i64).filter(|&x| x != i64::MIN);
        let f = |i: usize| f64::from_bits(w[i]);
        Stats {
            start: t(0),
            end: t(1),
            duration: t(2),
            exposure_time_pct: f(3),
            equity_final: f(4),
            equity_peak: f(5),
            commissions: f(6),
            return_pct: f(7),
            buy_hold_return_pct: f(8),
            return_ann_pct: f(9),
            volatility_ann_pct: f(10),
            cagr_pct: f(11),
            sharpe_ratio: f(12),
            sortino_ratio: f(13),
            calmar_ratio: f(14),
            alpha_pct: f(15),
            beta: f(16),
            max_drawdown_pct: f(17),
            avg_drawdown_pct: f(18),
            max_drawdown_duration: d(19),
            avg_drawdown_duration: d(20),
            n_trades: w[21],
            win_rate_pct: f(22),
            best_trade_pct: f(23),
            worst_trade_pct: f(24),
            avg_trade_pct: f(25),
            max_trade_duration: d(26),
            avg_trade_duration: d(27),
            profit_factor: f(28),
            expectancy_pct: f(29),
            sqn: f(30),
            kelly_criterion: f(31),
        }
    }

    /// One statistic by key (`sharpe_ratio`), as a number (see [`StatValue::as_f64`]).
    pub fn metric(&self, key: &str) -> Option<f64> {
        self.values().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_f64())
    }

    /// The label backtesting.py prints for a key.
    pub fn label(key: &str) -> Option<&'static str> {
        STAT_KEYS.iter().position(|k| *k == key).map(|i| STAT_LABELS[i])
    }
}
