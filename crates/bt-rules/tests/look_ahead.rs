//! No look-ahead: a rules strategy's decisions at a bar depend on nothing after it. For random
//! bars and rules that use every kind of function, lag and cross, changing the bars after bar
//! `k` (all but the open of `k + 1`, which is the close of `k`) leaves the equity up to `k`
//! and every fill decided up to bar `k` (entries and exits filled at `k + 1`'s open) unchanged.

use bt_domain::{BacktestConfig, Bars, EquityCurve, ParamValue, Params};
use bt_engine::IndicatorCache;
use bt_rules::Rules;
use proptest::prelude::*;

const RULES: &str = r#"(
    version: 1,
    name: "everything",
    params: {"n": 5, "k": 2.0},
    indicators: {
        "f": "ema(close, $n)",
        "s": "sma(close, $n * 3)",
        "up": "bollinger(close, $n * 2, $k).upper",
        "m": "macd(close, $n, $n * 3, 4).hist",
        "hi": "highest(high, $n)",
        "r": "rsi(close, $n)",
        "spread": "(f - s) / atr($n)",
    },
    long_entry: "(crosses_above(f, s) or close > hi[1]) and r < 80 and m > m[2]",
    short_entry: "crosses_below(spread, 0) or close < lowest(low, $n)[1] - abs(f - s)",
    long_exit: "close > up or not (r[1] < 90)",
    short_exit: "crosses_above(sma(spread, 3), spread[1])",
)"#;

fn bars(moves: &[f64]) -> Bars {
    let n = moves.len();
    let mut close = 100.0;
    let (mut o, mut h, mut l, mut c) = (vec![], vec![], vec![], vec![]);
    for m in moves {
        let open = close;
        close *= 1.0 + m;
        o.push(open);
        h.push(open.max(close) * 1.004);
        l.push(open.min(close) * 0.996);
        c.push(close);
    }
    let ts = (0..n as i64).map(|i| i * 3_600_000_000_000).collect();
    Bars::new(ts, o, h, l, c, vec![1.0; n]).unwrap()
}

/// (entry bar, entry price, size, exit bar and price when at most `last`) of every trade
/// entered at or before `last`.
type Fill = (usize, f64, f64, Option<(usize, f64)>);

fn run(rules: &Rules, bars: &Bars, last: usize) -> (Vec<f64>, Vec<Fill>) {
    let mut params = Params::new();
    params.insert("n".into(), ParamValue::Int(5));
    let mut strategy = rules.strategy("everything", &params).unwrap();
    let mut curve = EquityCurve(Vec::new());
    let result = bt_engine::run(
        bars,
        &mut strategy,
        &BacktestConfig::default(),
        &IndicatorCache::new(),
        &mut curve,
    )
    .unwrap();
    let mut trades: Vec<Fill> = result
        .trades
        .iter()
        .chain(&result.open_trades)
        .filter(|t| t.entry_bar <= last)
        .map(|t| {
            let exit = t.exit_bar.filter(|&b| b <= last).map(|b| (b, t.exit_price));
            (t.entry_bar, t.entry_price, t.size, exit)
        })
        .collect();
    trades.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (curve.0, trades)
}

fn the_rules() -> &'static Rules {
    static RULES_FILE: std::sync::OnceLock<Rules> = std::sync::OnceLock::new();
    RULES_FILE.get_or_init(|| Rules::from_str(RULES, "everything.ron").unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn bars_after_k_change_nothing_up_to_k(
        moves in prop::collection::vec(-0.03f64..0.03, 120..300),
        split in 0.2f64..0.9,
        shock in prop::collection::vec(-0.05f64..0.05, 1..50),
    ) {
        let rules = the_rules();
        let k = ((moves.len() as f64) * split) as usize;
        let mut later = moves.clone();
        for (i, m) in later[k + 1..].iter_mut().enumerate() {
            *m += shock[i % shock.len()];
        }
        let (a, b) = (bars(&moves), bars(&later));
        prop_assert_eq!(&a.close()[..=k], &b.close()[..=k]);
        prop_assert_eq!(a.open()[k + 1], b.open()[k + 1]);
        let (eq_a, fills_a) = run(rules, &a, k + 1);
        let (eq_b, fills_b) = run(rules, &b, k + 1);
        prop_assert_eq!(&eq_a[..=k], &eq_b[..=k], "equity up to bar {}", k);
        prop_assert_eq!(fills_a, fills_b, "fills decided up to bar {}", k);
    }
}

#[test]
fn the_rules_trade_on_random_bars() {
    let moves: Vec<f64> = (0..400).map(|i| ((i * 7919 % 61) as f64 - 30.0) / 1000.0).collect();
    let (_, trades) = run(the_rules(), &bars(&moves), 400);
    assert!(trades.len() >= 5, "{} trades: the property above would test little", trades.len());
}
