//! The properties are only as good as the cases: check that the generators reach the broker's
//! corners (busts, SL/TP exits, same-bar exits, partial closes, cancellations, ...), so that no
//! property passes vacuously. Run with `--nocapture` to see the counts.

use std::collections::BTreeMap;

use proptest::{
    strategy::{Strategy, ValueTree},
    test_runner::TestRunner,
};

use crate::{
    arb::{case, config},
    harness::run_case,
};

const CASES: usize = 128;

#[test]
fn generated_cases_reach_the_brokers_corners() {
    let mut runner = TestRunner::new(config(CASES as u32));
    let strategy = case();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut max_rel_err = 0.0f64;
    for _ in 0..CASES {
        let case = strategy.new_tree(&mut runner).expect("generator never rejects").current();
        let (bars, out) = run_case(&case);
        let r = &out.result;
        let (low, high) = (bars.low(), bars.high());
        let mut count = |key, hit: bool| *seen.entry(key).or_default() += usize::from(hit);
        count("closed trades", !r.trades.is_empty());
        count("open trades at end", !r.open_trades.is_empty());
        count("bust", r.bust_bar.is_some());
        count("bust in finalize pass", r.bust_bar == Some(r.n_bars - 1));
        count("no next() call", r.bar_steps == 0);
        count("cancelled for margin", r.cancelled_orders > 0);
        count("refused actions", out.refused > 0);
        count("exit at the SL price", r.trades.iter().any(|t| Some(t.exit_price) == t.sl));
        count("exit at the TP price", r.trades.iter().any(|t| Some(t.exit_price) == t.tp));
        count("exit on the entry bar", r.trades.iter().any(|t| t.exit_bar == Some(t.entry_bar)));
        count("exit before entry", r.trades.iter().any(|t| t.exit_bar < Some(t.entry_bar)));
        count("short trades", out.all_trades().any(|t| t.size < 0.0));
        count("limit/stop fills", out.all_trades().any(|t| !out.order_of(t).is_market()));
        count(
            "split trades",
            r.trades.iter().enumerate().any(|(k, t)| {
                r.trades[..k].iter().chain(&r.open_trades).any(|u| {
                    u.tag == t.tag && u.entry_bar == t.entry_bar && u.entry_price == t.entry_price
                })
            }),
        );
        count(
            "brackets pending at next()",
            out.log.iter().any(|l| l.orders.iter().any(|o| o.is_contingent)),
        );
        count(
            "limit/stop pending at next()",
            out.log.iter().any(|l| l.orders.iter().any(|o| !o.is_contingent)),
        );
        count(
            "exit outside the bar range",
            r.trades.iter().any(|t| {
                t.exit_bar.is_some_and(|x| t.exit_price < low[x] || t.exit_price > high[x])
            }),
        );
        for log in &out.log {
            let c = bars.close()[log.bar];
            let natural: f64 =
                log.cash + log.trades.iter().map(|t| t.size * (c - t.entry_price)).sum::<f64>();
            if log.equity != 0.0 {
                max_rel_err = max_rel_err.max(((natural - log.equity) / log.equity).abs());
            }
        }
    }
    eprintln!("of {CASES} cases:");
    for (key, n) in &seen {
        eprintln!("  {n:4}  {key}");
    }
    eprintln!("  max |cash + Σ size*(close-entry) - equity| / |equity| = {max_rel_err:e}");
    // Corners every generator change must keep reaching (a few percent of cases each).
    for key in [
        "closed trades",
        "open trades at end",
        "bust",
        "cancelled for margin",
        "refused actions",
        "exit at the SL price",
        "exit at the TP price",
        "exit on the entry bar",
        "short trades",
        "limit/stop fills",
        "split trades",
        "no next() call",
        "brackets pending at next()",
        "limit/stop pending at next()",
    ] {
        assert!(seen[key] >= 2, "only {} of {CASES} cases have {key}", seen[key]);
    }
}
