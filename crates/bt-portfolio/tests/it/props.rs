//! Properties of the one cash account over random instruments (with missing bars) and random
//! long-only orders of every kind: cash is never overdrawn, sells fill before buys within a bar,
//! and the per-instrument contributions add up to the total return.

use bt_domain::{BacktestConfig, Bars, EquityCurve, rng::SplitMix64};
use bt_portfolio::{
    InstrumentCosts, Portfolio, PortfolioCtx, PortfolioError, PortfolioStrategy, RunOptions, run,
};
use proptest::prelude::*;

const DAY: i64 = 86_400_000_000_000;

/// A random walk of `n` days, each day missing with probability `gap`.
fn walk(rng: &mut SplitMix64, n: usize, gap: f64) -> Bars {
    let mut ts = Vec::new();
    let (mut o, mut h, mut l, mut c) = (vec![], vec![], vec![], vec![]);
    let mut price = 20.0 + 100.0 * rng.unit_f64();
    for d in 0..n {
        let open = price * (1.0 + 0.02 * (rng.unit_f64() - 0.5));
        let close = open * (1.0 + 0.04 * (rng.unit_f64() - 0.5));
        price = close;
        if d > 0 && rng.unit_f64() < gap {
            continue;
        }
        ts.push(d as i64 * DAY);
        o.push(open);
        c.push(close);
        h.push(open.max(close) * 1.01);
        l.push(open.min(close) * 0.99);
    }
    let v = vec![1.0; ts.len()];
    Bars::new(ts, o, h, l, c, v).unwrap()
}

/// Random long-only orders; checks the cash after every bar.
struct Chaos {
    rng: SplitMix64,
    min_cash_ratio: f64,
}

impl PortfolioStrategy for Chaos {
    fn init(&mut self, _: &Portfolio) -> Result<usize, PortfolioError> {
        Ok(0)
    }

    fn next(&mut self, ctx: &mut PortfolioCtx<'_, '_>) -> Result<(), PortfolioError> {
        self.min_cash_ratio = self.min_cash_ratio.min(ctx.cash() / ctx.equity());
        for k in 0..ctx.n_instruments() {
            match self.rng.below(12) {
                0 => ctx.order_target_percent(k, 0.7 * self.rng.unit_f64())?,
                1 => ctx.buy(k, 0.05 + 0.9 * self.rng.unit_f64())?,
                2 => ctx.buy(k, 1.0 + self.rng.below(50) as f64)?,
                // Sells only on instrument 0 (no missing bars: a sell fills at the next bar), never
                // with a close: long only.
                3 if k == 0 && ctx.position(k) >= 1.0 => {
                    ctx.sell(k, 1.0 + self.rng.below(ctx.position(k) as u64) as f64)?;
                }
                4 if k != 0 => ctx.close_position(k)?,
                _ => {}
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn one_account_is_never_overdrawn_and_sells_fill_first(
        seed in any::<u64>(),
        n_instruments in 1usize..5,
        gap in 0.0f64..0.3,
        rate in 0.0f64..0.01,
        fixed in 0.0f64..2.0,
        whole in any::<bool>(),
    ) {
        let mut rng = SplitMix64::new(seed);
        let portfolio = Portfolio::new(
            (0..n_instruments)
                .map(|k| (format!("I{k}"), walk(&mut rng, 300, if k == 0 { 0.0 } else { gap })))
                .collect(),
        ).unwrap();
        let costs = InstrumentCosts {
            commission: rate,
            commission_fixed: fixed,
            spread: 0.0,
            slippage: 0.0,
            slippage_fixed: 0.0,
            granularity: if whole { Some(1.0) } else { None },
        };
        let config = BacktestConfig { cash: 100_000.0, ..Default::default() };
        let options = RunOptions {
            costs: Some(vec![costs; n_instruments]),
            record_fills: true,
            record_weights: true,
        };
        let mut strategy = Chaos { rng: SplitMix64::new(seed ^ 1), min_cash_ratio: f64::INFINITY };
        let mut curve = EquityCurve::default();
        let result = run(&portfolio, &mut strategy, &config, &options, &mut curve).unwrap();

        prop_assert_eq!(curve.0.len(), portfolio.timeline().len());
        prop_assert!(strategy.min_cash_ratio >= -1e-9, "cash overdrawn: {}", strategy.min_cash_ratio);
        prop_assert!(result.final_cash >= -1e-9 * result.final_equity.abs());
        for w in result.fills.windows(2) {
            if w[0].bar == w[1].bar {
                prop_assert!(!(w[0].size > 0.0 && w[1].size < 0.0), "a sell after a buy: {:?}", w);
            }
        }
        // Every instrument's fills happen on its own bars only.
        for f in &result.fills {
            let ts = portfolio.timeline()[f.bar];
            prop_assert!(portfolio.bars(f.instrument).timestamps().binary_search(&ts).is_ok());
        }
        // The weights of the last bar: the positions' share of the equity, the rest is cash.
        prop_assert_eq!(result.weights.len(), curve.0.len() * n_instruments);
        if result.bust_bar.is_none() {
            let last: f64 = result.weights[result.weights.len() - n_instruments..].iter().sum();
            let invested = 1.0 - result.final_cash / result.final_equity;
            prop_assert!((last - invested).abs() <= 1e-9, "{} vs {}", last, invested);
        }
        let contributions: f64 = result.instruments.iter().map(|i| i.contribution).sum();
        let total = result.final_equity / config.cash - 1.0;
        prop_assert!((contributions - total).abs() <= 1e-9, "{} vs {}", contributions, total);
    }
}

#[test]
fn the_timeline_is_the_union_and_a_missing_bar_keeps_the_last_price() {
    let a = Bars::new(
        vec![0, DAY, 2 * DAY, 3 * DAY],
        vec![10.0; 4],
        vec![20.0; 4],
        vec![10.0; 4],
        vec![10.0, 11.0, 12.0, 13.0],
        vec![1.0; 4],
    )
    .unwrap();
    let b = Bars::new(
        vec![DAY, 3 * DAY],
        vec![5.0; 2],
        vec![9.0; 2],
        vec![5.0; 2],
        vec![5.0, 6.0],
        vec![1.0; 2],
    )
    .unwrap();
    let portfolio = Portfolio::new(vec![("A".into(), a), ("B".into(), b)]).unwrap();
    assert_eq!(portfolio.timeline(), &[0, DAY, 2 * DAY, 3 * DAY]);

    /// Buys 10 B at bar 1: B has no bar 2, so the order waits for bar 3's open.
    struct BuyB(Vec<(usize, bool, f64)>);
    impl PortfolioStrategy for BuyB {
        fn init(&mut self, _: &Portfolio) -> Result<usize, PortfolioError> {
            Ok(0)
        }
        fn next(&mut self, ctx: &mut PortfolioCtx<'_, '_>) -> Result<(), PortfolioError> {
            self.0.push((ctx.bar(), ctx.has_bar(1), *ctx.close(1).last().unwrap_or(&f64::NAN)));
            if ctx.bar() == 1 {
                ctx.buy(1, 10.0)?;
            }
            Ok(())
        }
    }
    let mut s = BuyB(vec![]);
    let options = RunOptions { record_fills: true, ..Default::default() };
    let mut curve = EquityCurve::default();
    let r = run(&portfolio, &mut s, &BacktestConfig::default(), &options, &mut curve).unwrap();
    // Bar 2: B shows its bar-1 close.
    assert_eq!(s.0[1], (2, false, 5.0));
    assert_eq!(r.fills.len(), 1);
    assert_eq!((r.fills[0].bar, r.fills[0].size, r.fills[0].price), (3, 10.0, 5.0));
    assert_eq!(curve.0, vec![10_000.0, 10_000.0, 10_000.0, 10_010.0]);
}
