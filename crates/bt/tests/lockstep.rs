//! `Simulator::simulate_many`, which the executor calls with batches of one data set: each
//! simulation's result is the one `simulate` gives it alone, bit for bit, with the statistics
//! of up to `LANES` runs folded together; failures stay in their place.

use bt::{
    Dataset, Simulator,
    domain::{BacktestConfig, Bars, ParamValue, Params, SimSpec},
    executor::Simulator as _,
    strategies::Registry,
};

fn goog() -> Dataset {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/GOOG.csv");
    Dataset::load(&path).unwrap()
}

fn spec(strategy: &str, params: &[(&str, i64)], config: BacktestConfig) -> SimSpec {
    let mut p = Params::new();
    for (k, v) in params {
        p.insert((*k).into(), ParamValue::Int(*v));
    }
    SimSpec {
        id: format!("{strategy}/{params:?}/{}", config.margin),
        dataset: "goog".into(),
        strategy: strategy.into(),
        params: p,
        config,
    }
}

/// Every simulation of `specs`, through `simulate_many` in batches of `size` and alone; how
/// many failed and how many busts.
fn check(sim: &Simulator<'_>, data: &Dataset, specs: &[SimSpec], size: usize) -> (usize, usize) {
    let (mut failed, mut busts) = (0, 0);
    for batch in specs.chunks(size) {
        let many = sim.simulate_many(batch, data);
        assert_eq!(many.len(), batch.len());
        for (spec, got) in batch.iter().zip(many) {
            let alone = sim.simulate(spec, data);
            // Debug output shows every bit that matters (NaN as NaN).
            assert_eq!(format!("{got:?}"), format!("{alone:?}"), "{}", spec.id);
            failed += usize::from(got.is_err());
            busts += usize::from(got.is_ok_and(|(_, s)| s.bust_bar.is_some()));
        }
    }
    (failed, busts)
}

#[test]
fn batches_give_each_simulation_its_own_results() {
    let registry = Registry::builtin();
    let data = goog();
    let cost = BacktestConfig { commission: 0.002, ..BacktestConfig::default() };
    let mut specs = Vec::new();
    for fast in [3, 5, 10, 20] {
        for slow in [15, 40, 120] {
            specs.push(spec("sma_cross", &[("fast", fast), ("slow", slow)], cost));
        }
    }
    // Failures (bad parameters, fast >= slow above) and an account that busts (leverage 50)
    // among them.
    specs.insert(3, spec("sma_cross", &[("fast", 0), ("slow", 10)], cost));
    let leverage = BacktestConfig { margin: 0.02, ..cost };
    specs.insert(6, spec("sma_cross", &[("fast", 2), ("slow", 5)], leverage));
    specs.push(spec("rsi_reversion", &[], cost));
    specs.push(spec("buy_and_hold", &[], cost));
    specs.push(spec("no_such_strategy", &[], cost));
    let trailing = BacktestConfig { trailing_pct: Some(0.05), ..cost };
    specs.push(spec("donchian_breakout", &[], trailing));
    let fractional = BacktestConfig { fractional_unit: Some(0.001), ..cost };
    specs.push(spec("macd_cross", &[], fractional));

    for blocks in [0, 16] {
        let sim = Simulator::new(&registry).with_pbo_blocks(blocks);
        assert_eq!(sim.batch(&data), bt::stats::LANES);
        for size in [2, 5, sim.batch(&data), specs.len()] {
            let (failed, busts) = check(&sim, &data, &specs, size);
            assert_eq!(failed, 3, "batches of {size}");
            assert!(busts >= 1, "a bust among them (folded alone, the others in lanes)");
        }
    }
}

#[test]
fn long_runs_and_single_specs_go_one_by_one() {
    let registry = Registry::builtin();
    let sim = Simulator::new(&registry);
    let n = bt::LOCKSTEP_MAX_BARS + 10;
    let close: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.01).sin() * 10.0).collect();
    let ts = (0..n as i64).map(|i| i * 60_000_000_000).collect();
    let bars =
        Bars::new(ts, close.clone(), close.clone(), close.clone(), close, vec![1.0; n]).unwrap();
    let data = Dataset::new(bars, "synthetic");
    let cost = BacktestConfig { commission: 0.002, ..BacktestConfig::default() };
    let specs: Vec<SimSpec> = [(10, 50), (20, 100), (5, 30)]
        .iter()
        .map(|&(f, s)| spec("sma_cross", &[("fast", f), ("slow", s)], cost))
        .collect();
    assert_eq!(sim.batch(&data), 1, "past LOCKSTEP_MAX_BARS the executor sends one at a time");
    assert_eq!(check(&sim, &data, &specs, 3), (0, 0));
    assert_eq!(check(&sim, &goog(), &specs, 1), (0, 0));
}
