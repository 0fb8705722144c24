//! Property tests: random bars, broker settings and order streams against invariants that hold
//! for backtesting.py's broker (read from its source, not from our output).

use bt_domain::{BacktestConfig, Bars};
use bt_engine::IndicatorCache;
use proptest::{prelude::*, test_runner::TestCaseError};

use crate::{
    arb::{Case, Warmup, case, config},
    harness::{Outcome, run_case, run_with},
};

type Check = Result<(), TestCaseError>;

/// Cases per property: about 0.7 s each in a debug build (the suite runs in ~6 s).
const CASES: u32 = 256;

/// `cash + (close * Σ size - Σ size * entry)`: backtesting.py's `equity`, in its evaluation
/// order (`_position_unrealized_pl`), so the engine must match it bit for bit.
fn python_equity(cash: f64, close: f64, trades: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (mut size, mut cost) = (0.0, 0.0);
    for (s, entry) in trades {
        size += s;
        cost += s * entry;
    }
    cash + (close * size - cost)
}

/// Property 1: equity is cash plus open trades marked at the close, on every bar `next` saw,
/// and at the end.
pub fn check_accounting(case: &Case, bars: &Bars, out: &Outcome) -> Check {
    let n = bars.len();
    let close = bars.close();
    for log in &out.log {
        let i = log.bar;
        // The finalize pass overwrites the last bar's value after `next` ran.
        if !(case.config.finalize_trades && i == n - 1) {
            prop_assert_eq!(
                log.equity.to_bits(),
                out.curve[i].to_bits(),
                "bar {}: ctx.equity() {} != streamed {}",
                i,
                log.equity,
                out.curve[i]
            );
        }
        let exact =
            python_equity(log.cash, close[i], log.trades.iter().map(|t| (t.size, t.entry_price)));
        prop_assert_eq!(
            exact.to_bits(),
            log.equity.to_bits(),
            "bar {}: {} vs {}",
            i,
            exact,
            log.equity
        );
        let size: f64 = log.trades.iter().map(|t| t.size).sum();
        prop_assert_eq!(size, log.position_size);
        // The textbook form, summed per trade: equal up to rounding of the notional.
        let mut natural = log.cash;
        let mut scale = log.cash.abs();
        for t in &log.trades {
            natural += t.size * (close[i] - t.entry_price);
            scale += t.size.abs() * (close[i] + t.entry_price);
        }
        prop_assert!(
            (natural - log.equity).abs() <= 1e-9 * scale,
            "bar {}: cash + Σ size*(close-entry) = {} vs equity {}",
            i,
            natural,
            log.equity
        );
    }
    let r = &out.result;
    prop_assert_eq!(out.curve.last().map(|e| e.to_bits()), Some(r.final_equity.to_bits()));
    if r.bust_bar.is_none() {
        let open = r.open_trades.iter().map(|t| (t.size, t.entry_price));
        let end = python_equity(r.final_cash, close[n - 1], open);
        prop_assert_eq!(end.to_bits(), r.final_equity.to_bits(), "{} vs {}", end, r.final_equity);
    }
    Ok(())
}

/// Property 2: fills never precede their orders. Per order (tags link trades to orders):
/// market orders fill exactly on the next bar's open (`trade_on_close`: at the close of the bar
/// they were placed, with that bar's index); stop/limit orders on a later bar; in the finalize
/// pass, orders placed on the last bar fill on it (with `trade_on_close`, market ones at the
/// previous close with the previous bar's index: backtesting.py's `time_index = i - 1`). Limit
/// fills are never worse than the limit, stop fills never better than the stop.
pub fn check_timing(case: &Case, bars: &Bars, out: &Outcome) -> Check {
    let c = &case.config;
    let n = bars.len();
    let last = n - 1;
    let (open, close, ts) = (bars.open(), bars.close(), bars.timestamps());
    let Some(first) = out.first_order_bar() else {
        prop_assert!(out.all_trades().next().is_none(), "a trade without any accepted order");
        return Ok(());
    };
    for t in out.all_trades() {
        let o = out.order_of(t);
        prop_assert!(o.accepted, "a trade from a refused order: {:?}", t);
        prop_assert_eq!(t.size > 0.0, o.long, "trade direction differs from its order's");
        prop_assert!(t.size != 0.0 && t.size.fract() == 0.0, "size {} not whole", t.size);
        let in_finalize = c.finalize_trades && o.bar == last;
        let adj = 1.0 + c.spread.copysign(t.size);
        if o.is_market() {
            let (bar, price) = match (c.trade_on_close, in_finalize) {
                (false, false) => (o.bar + 1, open[o.bar + 1]),
                (false, true) => (last, open[last]),
                (true, false) => (o.bar, close[o.bar]),
                (true, true) => (last - 1, close[last - 1]),
            };
            prop_assert_eq!(t.entry_bar, bar, "market order from bar {}: {:?}", o.bar, t);
            prop_assert_eq!(t.entry_price, price * adj, "market fill price: {:?}", t);
        } else {
            let earliest = if in_finalize { last } else { o.bar + 1 };
            prop_assert!(t.entry_bar >= earliest, "order from bar {} filled early: {:?}", o.bar, t);
            if let Some(limit) = o.limit {
                let bound = limit * adj;
                let ok = if o.long { t.entry_price <= bound } else { t.entry_price >= bound };
                prop_assert!(ok, "limit {} filled worse: {:?}", limit, t);
            } else if let Some(stop) = o.stop {
                let bound = stop * adj;
                let ok = if o.long { t.entry_price >= bound } else { t.entry_price <= bound };
                prop_assert!(ok, "stop {} filled better: {:?}", stop, t);
            }
        }
        // The brief's aggregate form; the finalize pass is the documented exception.
        let (d, floor) = if c.trade_on_close { (0, last - 1) } else { (1, last) };
        let min_entry = if c.finalize_trades { (first + d).min(floor) } else { first + d };
        prop_assert!(t.entry_bar >= min_entry, "entry before any order: {:?}", t);
        prop_assert_eq!(t.entry_time, ts[t.entry_bar]);
        if let Some(exit) = t.exit_bar {
            // With trade_on_close a market order netting against a trade that a stop order
            // opened earlier in the same pass exits at `i - 1`, one bar before that entry.
            let slack = usize::from(c.trade_on_close);
            prop_assert!(exit + slack >= t.entry_bar, "exit before entry: {:?}", t);
            let min_exit =
                if c.trade_on_close && c.finalize_trades { first.min(last - 1) } else { first };
            prop_assert!(exit >= min_exit, "exit before any order: {:?}", t);
            prop_assert_eq!(t.exit_time, Some(ts[exit]));
        } else {
            prop_assert!(t.exit_time.is_none());
        }
    }
    Ok(())
}

fn bits(curve: &[f64]) -> Vec<u64> {
    curve.iter().map(|e| e.to_bits()).collect()
}

/// Property 3: same inputs, same outputs; whether the indicator came from a fresh cache, a
/// shared warm one, or no cache at all.
pub fn check_determinism(case: &Case, bars: &Bars, out: &Outcome) -> Check {
    let again = run_with(case, bars, &case.config, &IndicatorCache::new());
    prop_assert_eq!(&again.result, &out.result);
    prop_assert_eq!(bits(&again.curve), bits(&out.curve));
    prop_assert_eq!(&again.log, &out.log);

    let shared = IndicatorCache::new();
    let cold = run_with(case, bars, &case.config, &shared);
    let warm = run_with(case, bars, &case.config, &shared);
    let uncached = run_with(case, bars, &case.config, &IndicatorCache::with_budget(0));
    if case.warmup != Warmup::None {
        prop_assert_eq!(shared.hit_stats(), (1, 1), "the second run must hit the cache");
    }
    for other in [&cold, &warm, &uncached] {
        prop_assert_eq!(&other.result, &out.result);
        prop_assert_eq!(bits(&other.curve), bits(&out.curve));
        prop_assert_eq!(&other.log, &out.log);
        // Debug text: order prices are NaN when the indicator is (and NaN != NaN).
        prop_assert_eq!(format!("{:?}", other.orders), format!("{:?}", out.orders));
    }
    Ok(())
}

/// Property 4: one equity value per bar, in bar order; warm-up bars hold the cash; after a bust
/// everything is 0 and nothing happens any more.
pub fn check_stream(case: &Case, bars: &Bars, out: &Outcome) -> Check {
    let n = bars.len();
    let r = &out.result;
    prop_assert_eq!(&out.bar_indices, &(0..n).collect::<Vec<_>>());
    prop_assert_eq!(out.curve.len(), n);
    prop_assert_eq!(r.n_bars, n);
    let start = (r.warmup + 1).min(n);
    prop_assert!(out.curve[..start].iter().all(|&e| e == case.config.cash));
    let steps: Vec<usize> = out.log.iter().map(|l| l.bar).collect();
    prop_assert_eq!(steps.len(), r.bar_steps);
    match r.bust_bar {
        None => {
            prop_assert_eq!(&steps, &(start..n).collect::<Vec<_>>());
            prop_assert!(out.curve[start..].iter().all(|&e| e > 0.0), "equity <= 0 without a bust");
        }
        Some(b) => {
            prop_assert!(b >= start && b < n);
            // The loop stops before `next` at the bust bar, unless the bust came in the
            // finalize pass on the last bar (after `next` ran there).
            let finalize_bust =
                case.config.finalize_trades && b == n - 1 && steps.last() == Some(&b);
            let ran_to = if finalize_bust { n } else { b };
            prop_assert_eq!(&steps, &(start..ran_to).collect::<Vec<_>>());
            prop_assert!(out.curve[start..b].iter().all(|&e| e > 0.0));
            prop_assert!(out.curve[b..].iter().all(|&e| e.to_bits() == 0), "non-zero after bust");
            prop_assert_eq!(r.final_equity.to_bits(), 0);
            prop_assert_eq!(r.final_cash.to_bits(), 0);
            for t in out.all_trades() {
                prop_assert!(t.entry_bar <= b, "entry after the bust at {}: {:?}", b, t);
                prop_assert!(t.exit_bar.is_none_or(|x| x <= b), "exit after bust: {:?}", t);
            }
        }
    }
    Ok(())
}

/// Property 5: with `finalize_trades`, the only trades left open were opened by the finalize
/// pass itself (on the last bar; with `trade_on_close`, market orders of the last bar get the
/// previous bar's index).
pub fn check_finalize(case: &Case, bars: &Bars, out: &Outcome) -> Check {
    let last = bars.len() - 1;
    for t in &out.result.open_trades {
        let from_last_market = {
            let o = out.order_of(t);
            o.bar == last && o.is_market()
        };
        let ok = t.entry_bar == last
            || (case.config.trade_on_close && t.entry_bar == last - 1 && from_last_market);
        prop_assert!(ok, "open after finalize: {:?}", t);
    }
    Ok(())
}

/// Property 6: without fixed fees, the trades' P&L adds up to the change in equity (open
/// trades marked at the last close, net of their entry commission). With no fees at all this is
/// the brief's identity; a relative commission and the spread are booked identically in cash
/// and in the trade records, so they must not break it either.
pub fn check_pnl_sum(config: &BacktestConfig, out: &Outcome) -> Check {
    let r = &out.result;
    let pnl: f64 = out.all_trades().map(|t| t.pnl).sum();
    let change = r.final_equity - config.cash;
    // A float sum is exact to about n·ε·Σ|terms|. `1e-9 * cash` alone is not enough: leveraged
    // runs compound to 1e9..1e20 times the cash, where the rounding of Σ pnl exceeds it.
    let magnitude = config.cash + out.all_trades().map(|t| t.pnl.abs()).sum::<f64>();
    prop_assert!(
        (pnl - change).abs() <= 1e-9 * magnitude,
        "Σ pnl {} vs equity change {} (diff {:e}, magnitude {:e})",
        pnl,
        change,
        pnl - change,
        magnitude
    );
    Ok(())
}

/// Property 7: every SL/TP a trade shows has exactly one pending contingent order (same tag,
/// price, and size `-trade.size`), and nothing else is contingent; market and `Trade.close()`
/// orders never survive a broker pass, so `next` only ever sees pending limit/stop entries.
/// Setting an SL/TP reads back at once.
pub fn check_orders(out: &Outcome) -> Check {
    prop_assert!(out.violations.is_empty(), "{:?}", out.violations);
    for log in &out.log {
        let i = log.bar;
        for o in log.orders.iter().filter(|o| !o.is_contingent) {
            prop_assert!(o.limit.is_some() || o.stop.is_some(), "bar {}: pending {:?}", i, o);
            prop_assert!(o.size.abs() > 0.0 && (o.size.abs() < 1.0 || o.size.fract() == 0.0));
        }
        let mut expected = 0;
        for t in &log.trades {
            let brackets = log.orders.iter().filter(|o| o.is_contingent && o.tag == t.tag);
            let (mut sl, mut tp) = (None, None);
            for o in brackets {
                prop_assert_eq!(o.size, -t.size, "bar {}: {:?} for {:?}", i, o, t);
                prop_assert!(o.sl.is_none() && o.tp.is_none());
                match (o.stop, o.limit) {
                    (Some(stop), None) if sl.is_none() => sl = Some(stop),
                    (None, Some(limit)) if tp.is_none() => tp = Some(limit),
                    _ => prop_assert!(false, "bar {}: stray bracket {:?} for {:?}", i, o, t),
                }
            }
            prop_assert_eq!((sl, tp), (t.sl, t.tp), "bar {}: orders vs trade {:?}", i, t);
            expected += usize::from(sl.is_some()) + usize::from(tp.is_some());
        }
        let contingent = log.orders.iter().filter(|o| o.is_contingent).count();
        prop_assert_eq!(contingent, expected, "bar {}: orphan contingent orders", i);
        // One open trade per entry order: brackets can be matched by tag.
        let mut tags: Vec<_> = log.trades.iter().map(|t| t.tag).collect();
        tags.sort_unstable();
        tags.dedup();
        prop_assert_eq!(tags.len(), log.trades.len(), "bar {}: two open trades share a tag", i);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(CASES))]

    #[test]
    fn equity_is_cash_plus_open_trades_at_the_close(case in case()) {
        let (bars, out) = run_case(&case);
        check_accounting(&case, &bars, &out)?;
    }

    #[test]
    fn fills_never_precede_their_orders(case in case()) {
        let (bars, out) = run_case(&case);
        check_timing(&case, &bars, &out)?;
    }

    #[test]
    fn runs_are_deterministic_with_any_cache(case in case()) {
        let (bars, out) = run_case(&case);
        check_determinism(&case, &bars, &out)?;
    }

    #[test]
    fn equity_stream_has_one_value_per_bar_and_stops_at_bust(case in case()) {
        let (bars, out) = run_case(&case);
        check_stream(&case, &bars, &out)?;
    }

    #[test]
    fn brackets_match_their_trades_and_only_limit_stop_orders_stay_pending(case in case()) {
        let (_, out) = run_case(&case);
        check_orders(&out)?;
    }

    #[test]
    fn finalize_leaves_only_trades_of_the_finalize_pass_open(mut case in case()) {
        case.config.finalize_trades = true;
        let (bars, out) = run_case(&case);
        prop_assume!(out.result.bust_bar.is_none());
        check_finalize(&case, &bars, &out)?;
    }

    #[test]
    fn without_fees_trade_pnl_sums_to_the_equity_change(mut case in case()) {
        case.config.commission = 0.0;
        case.config.commission_fixed = 0.0;
        case.config.spread = 0.0;
        let (_, out) = run_case(&case);
        prop_assume!(out.result.bust_bar.is_none());
        check_pnl_sum(&case.config, &out)?;
    }

    #[test]
    fn with_relative_fees_trade_pnl_sums_to_the_equity_change(mut case in case()) {
        case.config.commission_fixed = 0.0;
        let (_, out) = run_case(&case);
        prop_assume!(out.result.bust_bar.is_none());
        check_pnl_sum(&case.config, &out)?;
    }
}
