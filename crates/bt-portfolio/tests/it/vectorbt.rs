//! The cross-check with vectorbt 1.2 (`tests/fixtures/vectorbt`, produced by vectorbt itself with
//! `make_vectorbt_reference.py`; never regenerated from bt): equity per bar to 1e-9 and every
//! order (bar, instrument, size, price, fees, side) of five rebalancing cases.

use bt_domain::{BacktestConfig, EquityCurve};
use bt_portfolio::{
    InstrumentCosts, Portfolio, PortfolioCtx, PortfolioError, PortfolioStrategy, RunOptions,
    builtin::EqualWeight, run,
};
use serde_json::Value;

use crate::common::{crate_dir, float, read_bars, read_csv};

/// case4's strategy, written against the public trait as a user would: at each month end from
/// bar 60 on, weights 0.5/0.3/0.2/0 by the rank of the 60-bar return (ties by column order).
struct RankedMomentum;

impl PortfolioStrategy for RankedMomentum {
    fn init(&mut self, _: &Portfolio) -> Result<usize, PortfolioError> {
        Ok(0)
    }

    fn next(&mut self, ctx: &mut PortfolioCtx<'_, '_>) -> Result<(), PortfolioError> {
        if ctx.bar() < 60 || !ctx.is_month_end() {
            return Ok(());
        }
        let mut r: Vec<(f64, usize)> = (0..ctx.n_instruments())
            .map(|k| {
                let c = ctx.close(k);
                (c[c.len() - 1] / c[c.len() - 61] - 1.0, k)
            })
            .collect();
        r.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (rank, &(_, k)) in r.iter().enumerate() {
            ctx.order_target_percent(k, [0.5, 0.3, 0.2, 0.0][rank])?;
        }
        Ok(())
    }
}

fn check_case(name: &str) {
    let dir = crate_dir().join("tests/fixtures/vectorbt");
    let case = dir.join("cases").join(name);
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(case.join("case.json")).unwrap()).unwrap();
    let columns: Vec<String> =
        meta["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    let portfolio = Portfolio::new(
        columns
            .iter()
            .map(|c| (c.clone(), read_bars(&dir.join("data").join(format!("{c}.csv")))))
            .collect(),
    )
    .unwrap();
    let p = &meta["params"];
    let config = BacktestConfig { cash: p["init_cash"].as_f64().unwrap(), ..Default::default() };
    let costs = InstrumentCosts {
        commission: p["fees"].as_f64().unwrap(),
        commission_fixed: p["fixed_fees"].as_f64().unwrap(),
        spread: 0.0,
        slippage: 0.0,
        slippage_fixed: 0.0,
        granularity: p["size_granularity"].as_f64(),
    };
    let options = RunOptions {
        costs: Some(vec![costs; columns.len()]),
        record_fills: true,
        ..Default::default()
    };
    let mut strategy: Box<dyn PortfolioStrategy> = match name {
        "case4_momentum_monthly" => Box::new(RankedMomentum),
        "case5_three_assets_every21" => Box::new(EqualWeight::new(21)),
        _ => Box::new(EqualWeight::new(0)),
    };
    let mut curve = EquityCurve::default();
    let result = run(&portfolio, strategy.as_mut(), &config, &options, &mut curve).unwrap();

    let (_, equity) = read_csv(&case.join("equity.csv"));
    assert_eq!(curve.0.len(), equity.len(), "{name}: bars");
    for (i, (got, row)) in curve.0.iter().zip(&equity).enumerate() {
        let want = float(&row[2]);
        assert!(
            ((got - want) / want).abs() <= 1e-9,
            "{name}: equity at bar {i}: bt {got}, vectorbt {want}"
        );
    }
    let (_, orders) = read_csv(&case.join("orders.csv"));
    assert_eq!(result.fills.len(), orders.len(), "{name}: number of orders");
    let continuous = costs.granularity.is_none();
    for (f, row) in result.fills.iter().zip(&orders) {
        let (bar, col, size, price, fees, side) = (
            row[1].parse::<usize>().unwrap(),
            row[3].parse::<usize>().unwrap(),
            float(&row[5]),
            float(&row[6]),
            float(&row[7]),
            row[8].as_str(),
        );
        let what = format!("{name}: order {} ({f:?})", row[0]);
        assert_eq!((f.bar, f.instrument), (bar, col), "{what}: bar, instrument");
        assert_eq!(f.size > 0.0, side == "0", "{what}: side");
        if continuous {
            assert!((f.size.abs() - size).abs() <= 1e-9 * size, "{what}: size {size}");
        } else {
            assert_eq!(f.size.abs(), size, "{what}: size");
        }
        assert_eq!(f.price, price, "{what}: price");
        assert!((f.fees - fees).abs() <= 1e-9 * fees.max(1.0), "{what}: fees {fees}");
    }
    let final_value: f64 = meta["final_value"].as_str().unwrap().parse().unwrap();
    assert!((result.final_equity - final_value).abs() <= 1e-9 * final_value, "{name}: final");
}

#[test]
fn equal_weight_monthly_matches_vectorbt() {
    check_case("case1_equal_monthly");
}

#[test]
fn equal_weight_monthly_with_fixed_fees_matches_vectorbt() {
    check_case("case2_equal_monthly_fixed_fees");
}

#[test]
fn equal_weight_monthly_continuous_sizes_match_vectorbt() {
    check_case("case3_equal_monthly_continuous");
}

#[test]
fn ranked_momentum_monthly_matches_vectorbt() {
    check_case("case4_momentum_monthly");
}

#[test]
fn equal_weight_every_21_bars_on_three_assets_matches_vectorbt() {
    check_case("case5_three_assets_every21");
}
