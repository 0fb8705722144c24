//! The rules form of sma_cross (data/rules/sma_cross.ron) against the compiled built-in: the
//! 300-point GOOG grid as a sweep runs it (one indicator cache, statistics included) and one
//! run over 1M synthetic bars. `cargo bench -p bt-rules`; the budget is 1.3x and 1.5x.

use std::{path::Path, sync::Arc};

use bt_domain::{BacktestConfig, Bars, ParamValue, Params};
use bt_engine::{IndicatorCache, Strategy};
use bt_rules::Rules;
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator};
use bt_strategies::Registry;
use divan::{Bencher, black_box, counter::ItemsCount};

fn main() {
    divan::main();
}

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// GOOG daily bars from the repository's CSV (date, open, high, low, close, volume).
fn goog() -> Bars {
    let text = std::fs::read_to_string(repo("data/GOOG.csv")).unwrap();
    let mut cols: [Vec<f64>; 5] = Default::default();
    let mut ts = Vec::new();
    for (i, line) in text.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        ts.push(i as i64 * 86_400_000_000_000);
        for (k, c) in cols.iter_mut().enumerate() {
            c.push(f[k + 1].parse().unwrap());
        }
    }
    let [o, h, l, c, v] = cols;
    Bars::new(ts, o, h, l, c, v).unwrap()
}

/// 1M minute bars of a seeded random walk.
fn synthetic() -> Bars {
    let n = 1_000_000;
    let mut rng = bt_domain::rng::SplitMix64::new(3);
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
    Bars::new((0..n as i64).map(|i| i * 60_000_000_000).collect(), o, h, l, c, vec![1.0; n])
        .unwrap()
}

/// The GOOG grid of the README: fast 5..=34, slow 40..=130 step 10, fast < slow.
fn grid() -> Vec<Params> {
    let mut out = Vec::new();
    for fast in 5..=34i64 {
        for slow in (40..=130i64).step_by(10) {
            let mut p = Params::new();
            p.insert("fast".into(), ParamValue::Int(fast));
            p.insert("slow".into(), ParamValue::Int(slow));
            out.push(p);
        }
    }
    out
}

type Build = dyn Fn(&Params) -> Box<dyn Strategy + Send>;

fn builtin() -> Box<Build> {
    let registry = Registry::builtin();
    Box::new(move |p| registry.build("sma_cross", p).unwrap())
}

fn rules() -> Box<Build> {
    let rules = Arc::new(Rules::load(repo("data/rules/sma_cross.ron")).unwrap());
    let registry = Registry::new().with(rules.entry("sma_cross"));
    Box::new(move |p| registry.build("sma_cross", p).unwrap())
}

/// Every point of the grid, as a sweep runs it: one shared cache, statistics streamed.
fn sweep(bencher: Bencher<'_, '_>, build: Box<Build>) {
    let bars = goog();
    let ds = DatasetStats::new(&bars);
    let cache = IndicatorCache::new();
    let config = BacktestConfig { commission: 0.002, ..BacktestConfig::default() };
    let points = grid();
    bencher.counter(ItemsCount::new(points.len() * bars.len())).bench_local(|| {
        for p in &points {
            let mut s = build(p);
            let mut acc = StatsAccumulator::new(&ds);
            let r = bt_engine::run(&bars, s.as_mut(), &config, &cache, &mut acc).unwrap();
            black_box(acc.finish(&RunFacts { trades: &r.trades, warmup: r.warmup }));
        }
    });
}

#[divan::bench(sample_count = 20)]
fn goog_grid_builtin(bencher: Bencher<'_, '_>) {
    sweep(bencher, builtin());
}

#[divan::bench(sample_count = 20)]
fn goog_grid_rules(bencher: Bencher<'_, '_>) {
    sweep(bencher, rules());
}

/// One run over 1M bars, the indicators already cached (a sweep's later simulations).
fn long_run(bencher: Bencher<'_, '_>, build: Box<Build>) {
    let bars = synthetic();
    let cache = IndicatorCache::new();
    let mut p = Params::new();
    p.insert("fast".into(), ParamValue::Int(10));
    p.insert("slow".into(), ParamValue::Int(50));
    let config = BacktestConfig::default();
    bt_engine::run(&bars, build(&p).as_mut(), &config, &cache, &mut ()).unwrap();
    bencher.counter(ItemsCount::new(bars.len())).bench_local(|| {
        let mut s = build(&p);
        black_box(bt_engine::run(&bars, s.as_mut(), &config, &cache, &mut ()).unwrap());
    });
}

#[divan::bench(sample_count = 10)]
fn million_bars_builtin(bencher: Bencher<'_, '_>) {
    long_run(bencher, builtin());
}

#[divan::bench(sample_count = 10)]
fn million_bars_rules(bencher: Bencher<'_, '_>) {
    long_run(bencher, rules());
}
