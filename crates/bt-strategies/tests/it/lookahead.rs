//! No look-ahead: a strategy run on the first `k` bars makes exactly the decisions it makes on
//! all bars, up to bar `k - 1`. Indicators are computed over the whole history in `init`, so
//! this would catch an indicator that peeks at later values or a strategy that reads past
//! the current bar.

use bt_domain::ParamValue;
use bt_engine::Strategy;
use proptest::prelude::*;

use crate::common::{build, run, walk_bars};

fn strategies() -> Vec<(&'static str, Box<dyn Strategy + Send>)> {
    let int = ParamValue::Int;
    vec![
        ("sma_cross", build("sma_cross", &[("fast", int(3)), ("slow", int(8))])),
        ("buy_and_hold", build("buy_and_hold", &[])),
        (
            "rsi_reversion",
            build("rsi_reversion", &[("period", int(4)), ("lower", int(35)), ("upper", int(65))]),
        ),
        (
            "bollinger_breakout",
            build("bollinger_breakout", &[("period", int(5)), ("k", ParamValue::Float(1.0))]),
        ),
        ("donchian_breakout", build("donchian_breakout", &[("period", int(4))])),
        (
            "macd_cross",
            build("macd_cross", &[("fast", int(3)), ("slow", int(7)), ("signal", int(3))]),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_prefix_of_the_data_gives_a_prefix_of_the_run(
        returns in prop::collection::vec(-0.04f64..0.04, 40..160),
        cut in 0.0f64..1.0,
    ) {
        let full = walk_bars(&returns);
        // Long enough for every indicator to have values.
        let k = 20 + ((returns.len() - 20) as f64 * cut) as usize;
        let prefix = walk_bars(&returns[..k]);
        for ((name, mut on_full), (_, mut on_prefix)) in strategies().into_iter().zip(strategies()) {
            let (all, all_curve) = run(&full, on_full.as_mut());
            let (part, part_curve) = run(&prefix, on_prefix.as_mut());
            // Same equity at every bar both runs saw.
            prop_assert_eq!(&part_curve[..], &all_curve[..k], "{}: equity", name);
            // Every trade the prefix run closed, the full run closed identically, and nothing
            // else closed before bar k.
            let closed_before_k: Vec<_> =
                all.trades.iter().filter(|t| t.exit_bar.is_some_and(|b| b < k)).collect();
            prop_assert_eq!(part.trades.iter().collect::<Vec<_>>(), closed_before_k, "{}: trades", name);
            // Trades still open at the end of the prefix were opened identically in the full run.
            for open in &part.open_trades {
                prop_assert!(
                    all.trades.iter().chain(&all.open_trades).any(|t| t.entry_bar == open.entry_bar
                        && t.size == open.size
                        && t.entry_price == open.entry_price),
                    "{}: open trade {:?}", name, open
                );
            }
        }
    }
}
