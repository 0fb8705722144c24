use bt_domain::Trade;

use crate::numeric::{ceil_ns, np_sum, pd_mean, pd_timedelta_mean, pd_var};

/// The trade statistics of `compute_stats`, from the closed trades (pandas operations on the
/// trades table, reproduced with numpy's summation order).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TradeStats {
    pub n_trades: u64,
    /// Share of bars covered by a closed trade, entry to exit bar inclusive.
    pub exposure_frac: f64,
    /// `sum(t._commissions for t in trades)`: Python's sequential sum.
    pub commissions: f64,
    pub win_rate: f64,
    pub best: f64,
    pub worst: f64,
    pub gmean: f64,
    pub max_duration: Option<i64>,
    pub avg_duration: Option<i64>,
    pub profit_factor: f64,
    pub mean_return: f64,
    pub sqn: f64,
    pub kelly: f64,
}

impl TradeStats {
    /// `trades` may contain open trades (no exit): they are skipped. `res` is the unit durations
    /// are rounded up to.
    pub fn new(trades: &[Trade], n_bars: usize, res: i64) -> TradeStats {
        let closed: Vec<&Trade> = trades.iter().filter(|t| t.exit_bar.is_some()).collect();
        let n = closed.len();
        let returns: Vec<f64> = closed.iter().map(|t| t.return_frac).collect();
        let pl: Vec<f64> = closed.iter().map(|t| t.pnl).collect();
        let durations: Vec<i64> = closed.iter().filter_map(|t| t.duration()).collect();

        let mut commissions = 0.0;
        for t in &closed {
            commissions += t.commission;
        }

        let win_rate = if n == 0 {
            f64::NAN
        } else {
            pl.iter().filter(|&&p| p > 0.0).count() as f64 / n as f64
        };
        let positive = |x: &[f64]| x.iter().copied().filter(|&v| v > 0.0).collect::<Vec<_>>();
        let negative = |x: &[f64]| x.iter().copied().filter(|&v| v < 0.0).collect::<Vec<_>>();

        let neg_sum = np_sum(&negative(&returns)).abs();
        let profit_factor =
            np_sum(&positive(&returns)) / if neg_sum != 0.0 { neg_sum } else { f64::NAN };

        let std = pd_var(&pl, 1).sqrt();
        let sqn = (n as f64).sqrt() * pd_mean(&pl) / if std != 0.0 { std } else { f64::NAN };
        let kelly =
            win_rate - (1.0 - win_rate) / (pd_mean(&positive(&pl)) / -pd_mean(&negative(&pl)));

        TradeStats {
            n_trades: n as u64,
            exposure_frac: exposure_frac(&closed, n_bars),
            commissions,
            win_rate,
            best: returns.iter().copied().fold(f64::NAN, pd_max),
            worst: returns.iter().copied().fold(f64::NAN, pd_min),
            gmean: geometric_mean(&returns),
            max_duration: durations.iter().copied().max().map(|d| ceil_ns(d, res)),
            avg_duration: pd_timedelta_mean(&durations).map(|d| ceil_ns(d, res)),
            profit_factor,
            mean_return: pd_mean(&returns),
            sqn,
            kelly,
        }
    }
}

/// `Series.max()` (NaN skipped, NaN when empty).
fn pd_max(acc: f64, v: f64) -> f64 {
    if acc.is_nan() || v > acc { v } else { acc }
}

fn pd_min(acc: f64, v: f64) -> f64 {
    if acc.is_nan() || v < acc { v } else { acc }
}

/// backtesting.py's `geometric_mean`: 0 when any `1 + r <= 0`, NaN when empty.
pub(crate) fn geometric_mean(returns: &[f64]) -> f64 {
    let growth: Vec<f64> =
        returns.iter().map(|&r| if r.is_nan() { 0.0 } else { r } + 1.0).collect();
    if growth.iter().any(|&g| g <= 0.0) {
        return 0.0;
    }
    let logs: Vec<f64> = growth.iter().map(|g| g.ln()).collect();
    let len = if logs.is_empty() { f64::NAN } else { logs.len() as f64 };
    (np_sum(&logs) / len).exp() - 1.0
}

/// Share of bars with `have_position` set, entry to exit bar inclusive, by a union of the
/// sorted spans (no per-bar array).
fn exposure_frac(closed: &[&Trade], n_bars: usize) -> f64 {
    let mut spans: Vec<(usize, usize)> = closed
        .iter()
        .filter_map(|t| {
            // Python slicing clips `have_position[entry:exit + 1]` to the array.
            let exit = t.exit_bar?.min(n_bars - 1);
            (t.entry_bar <= exit).then_some((t.entry_bar, exit))
        })
        .collect();
    spans.sort_unstable();
    let mut covered = 0usize;
    let mut next_free = 0usize; // first bar not yet counted
    for (start, end) in spans {
        let from = start.max(next_free);
        if end >= from {
            covered += end - from + 1;
            next_free = end + 1;
        }
    }
    covered as f64 / n_bars as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(entry: usize, exit: usize, ret: f64, pnl: f64) -> Trade {
        Trade {
            size: 1.0,
            entry_bar: entry,
            exit_bar: Some(exit),
            entry_price: 1.0,
            exit_price: 1.0,
            sl: None,
            tp: None,
            pnl,
            commission: 0.0,
            return_frac: ret,
            entry_time: entry as i64 * 10,
            exit_time: Some(exit as i64 * 10),
            tag: None,
        }
    }

    #[test]
    fn exposure_is_the_union_of_inclusive_spans() {
        let t = [
            trade(2, 5, 0.1, 1.0),
            trade(4, 8, 0.1, 1.0),
            trade(8, 8, 0.1, 1.0),
            trade(12, 20, 0.1, 1.0),
        ];
        let refs: Vec<&Trade> = t.iter().collect();
        // bars 2..=8 (7) and 12..=15 clipped (4) of 16
        assert_eq!(exposure_frac(&refs, 16), 11.0 / 16.0);
        assert_eq!(exposure_frac(&[], 16), 0.0);
    }

    #[test]
    fn no_trades_gives_nan_and_nat_like_pandas() {
        let s = TradeStats::new(&[], 10, 1);
        assert_eq!(s.n_trades, 0);
        for v in
            [s.win_rate, s.best, s.worst, s.gmean, s.profit_factor, s.mean_return, s.sqn, s.kelly]
        {
            assert!(v.is_nan());
        }
        assert_eq!((s.max_duration, s.avg_duration), (None, None));
        assert_eq!(s.commissions, 0.0);
    }

    #[test]
    fn losers_only_and_bankrupt_trades() {
        let t = [trade(0, 1, -0.1, -5.0), trade(1, 3, -0.2, -7.0)];
        let s = TradeStats::new(&t, 4, 1);
        assert_eq!(s.profit_factor, 0.0);
        assert!(s.kelly.is_nan());
        assert_eq!(s.win_rate, 0.0);
        // A -100 % trade: geometric mean is backtesting.py's integer 0.
        assert_eq!(geometric_mean(&[0.5, -1.0]), 0.0);
        assert!(geometric_mean(&[]).is_nan());
        // Single trade: std is NaN, SQN NaN.
        assert!(TradeStats::new(&t[..1], 4, 1).sqn.is_nan());
        assert_eq!(s.avg_duration, Some(15));
        assert_eq!(TradeStats::new(&t, 4, 10).avg_duration, Some(20));
    }
}
