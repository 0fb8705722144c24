//! Throughput of whole simulations (strategy + engine + the 32 statistics + the return
//! statistics), in process: the numbers of the per-core and parallel-efficiency goals in
//! docs/performance.md. `cargo bench -p bt --bench sweep`.
//!
//! - `goog_grid_sequential` / `goog_grid_threads`: the README's 300-point sma_cross grid on
//!   GOOG (2148 daily bars), as a sweep runs it: one data set (indicator cache shared), the
//!   simulations in batches of `Simulator::batch()` through `Simulator::simulate_many` (their
//!   statistics folded together in vector lanes), on the calling thread or on 2 threads
//!   through the executor's pool (`parallel_map`); items are bar-steps;
//! - `goog_grid_one_by_one`: the same grid, one `Simulator::simulate` per simulation;
//! - `million_bars`: one sma_cross simulation over 1M synthetic minute bars, indicators cached;
//! - `goog_random_1000`: 1000 points of the million-simulation sweep of docs/performance.md
//!   (sma_cross on GOOG, fast in 2..1200, slow in 10..2100, fast < slow): long warm-ups, so the
//!   per-simulation set-up counts; items are simulations.

use bt::{
    Dataset, Simulator,
    domain::{BacktestConfig, Bars, ParamValue, Params, SimSpec},
    executor::Simulator as _,
    strategies::Registry,
};
use divan::{Bencher, black_box, counter::ItemsCount};

fn main() {
    divan::main();
}

fn goog() -> Dataset {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/GOOG.csv");
    Dataset::load(&path).unwrap()
}

fn synthetic(n: usize) -> Dataset {
    let mut rng = bt::domain::rng::SplitMix64::new(3);
    let (mut o, mut h, mut l, mut c) = (vec![], vec![], vec![], vec![]);
    let mut price = 100.0f64;
    for _ in 0..n {
        let open = price;
        price = (price * (1.0 + (rng.unit_f64() - 0.5) * 0.004)).max(1.0);
        o.push(open);
        c.push(price);
        h.push(open.max(price) * 1.0005);
        l.push(open.min(price) * 0.9995);
    }
    let ts = (0..n as i64).map(|i| i * 60_000_000_000).collect();
    Dataset::new(Bars::new(ts, o, h, l, c, vec![1.0; n]).unwrap(), "synthetic")
}

fn spec(fast: i64, slow: i64) -> SimSpec {
    let mut params = Params::new();
    params.insert("fast".into(), ParamValue::Int(fast));
    params.insert("slow".into(), ParamValue::Int(slow));
    SimSpec {
        id: format!("g/goog/fast={fast},slow={slow}"),
        dataset: "goog".into(),
        strategy: "sma_cross".into(),
        params,
        config: BacktestConfig { commission: 0.002, ..BacktestConfig::default() },
    }
}

/// The README's grid: fast 5..=34, slow 40..=130 step 10, fast < slow: 300 points.
fn grid() -> Vec<SimSpec> {
    (5..=34).flat_map(|f| (40..=130).step_by(10).map(move |s| spec(f, s))).collect()
}

fn steps(sim: &Simulator<'_>, data: &Dataset, specs: &[SimSpec]) -> usize {
    specs.iter().map(|s| sim.simulate(s, data).unwrap().1.bar_steps as usize).sum()
}

/// The simulations as the executor runs them: batches of one data set through
/// `simulate_many` (their statistics folded together in vector lanes).
fn run_batches(sim: &Simulator<'_>, data: &Dataset, specs: &[SimSpec]) {
    for batch in specs.chunks(sim.batch(data)) {
        for r in sim.simulate_many(batch, data) {
            black_box(r.unwrap());
        }
    }
}

#[divan::bench(sample_count = 20)]
fn goog_grid_sequential(bencher: Bencher<'_, '_>) {
    let registry = Registry::builtin();
    let sim = Simulator::new(&registry);
    let (data, specs) = (goog(), grid());
    bencher
        .counter(ItemsCount::new(steps(&sim, &data, &specs)))
        .bench_local(|| run_batches(&sim, &data, &specs));
}

/// One `simulate` call per simulation, each folding its own statistics (an embedder's
/// single runs; the executor's path before lockstep statistics).
#[divan::bench(sample_count = 20)]
fn goog_grid_one_by_one(bencher: Bencher<'_, '_>) {
    let registry = Registry::builtin();
    let sim = Simulator::new(&registry);
    let (data, specs) = (goog(), grid());
    bencher.counter(ItemsCount::new(steps(&sim, &data, &specs))).bench_local(|| {
        for s in &specs {
            black_box(sim.simulate(s, &data).unwrap());
        }
    });
}

#[divan::bench(sample_count = 20)]
fn goog_grid_threads(bencher: Bencher<'_, '_>) {
    let registry = Registry::builtin();
    let sim = Simulator::new(&registry);
    let (data, specs) = (goog(), grid());
    let batches: Vec<&[SimSpec]> = specs.chunks(sim.batch(&data)).collect();
    bencher.counter(ItemsCount::new(steps(&sim, &data, &specs))).bench_local(|| {
        black_box(
            bt::executor::parallel_map(&batches, 2, |b| sim.simulate_many(b, &data)).unwrap(),
        );
    });
}

/// 16 grid points over 60,000 synthetic minute bars (under `LOCKSTEP_MAX_BARS`): lockstep
/// statistics when the curves no longer fit the core's cache; items are bar-steps.
#[divan::bench(sample_count = 10, args = [true, false])]
fn long_grid(bencher: Bencher<'_, '_>, batched: bool) {
    let registry = Registry::builtin();
    let sim = Simulator::new(&registry);
    let data = synthetic(60_000);
    let specs: Vec<SimSpec> = (0..16).map(|k| spec(5 + k, 50 + 10 * k)).collect();
    bencher.counter(ItemsCount::new(steps(&sim, &data, &specs))).bench_local(|| {
        if batched {
            run_batches(&sim, &data, &specs);
        } else {
            for s in &specs {
                black_box(sim.simulate(s, &data).unwrap());
            }
        }
    });
}

#[divan::bench(sample_count = 10)]
fn million_bars(bencher: Bencher<'_, '_>) {
    let registry = Registry::builtin();
    let sim = Simulator::new(&registry);
    let data = synthetic(1_000_000);
    let mut s = spec(10, 50);
    s.dataset = "syn".into();
    bencher
        .counter(ItemsCount::new(steps(&sim, &data, std::slice::from_ref(&s))))
        .bench_local(|| black_box(sim.simulate(&s, &data).unwrap()));
}

/// Random points of the docs' million-simulation sweep, from a fixed seed.
fn random_points(n: usize) -> Vec<SimSpec> {
    let mut rng = bt::domain::rng::SplitMix64::new(11);
    let mut out = Vec::new();
    while out.len() < n {
        let fast = 2 + (rng.unit_f64() * 1198.0) as i64;
        let slow = 10 + (rng.unit_f64() * 2090.0) as i64;
        if fast < slow {
            out.push(spec(fast, slow));
        }
    }
    out
}

#[divan::bench(sample_count = 10)]
fn goog_random_1000(bencher: Bencher<'_, '_>) {
    let registry = Registry::builtin();
    let sim = Simulator::new(&registry).with_pbo_blocks(0);
    let (data, specs) = (goog(), random_points(1000));
    bencher.counter(ItemsCount::new(specs.len())).bench_local(|| run_batches(&sim, &data, &specs));
}
