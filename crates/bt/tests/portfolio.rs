//! Portfolios in the workbench: a user's portfolio strategy registered like any strategy and
//! swept from a queue (byte-identical summaries sequentially and on threads), and the
//! statistics of a portfolio run (Buy & Hold is the equal-weight basket; the per-instrument
//! contributions add up to the return).

use bt::{
    Dataset, RunOptions, Workbench,
    domain::{BacktestConfig, ParamSpec, ParamValue, Params},
    executor::Mode,
    portfolio::{self, Portfolio, PortfolioCtx, PortfolioError, PortfolioStrategy},
    strategies::Registry,
};

/// `w` of the value in instrument 0, the rest equally in the others, every `every` bars.
struct Tilt {
    w: f64,
    every: usize,
}

impl PortfolioStrategy for Tilt {
    fn init(&mut self, _: &Portfolio) -> Result<usize, PortfolioError> {
        Ok(0)
    }

    fn next(&mut self, ctx: &mut PortfolioCtx<'_, '_>) -> Result<(), PortfolioError> {
        if ctx.bar().is_multiple_of(self.every) {
            let n = ctx.n_instruments();
            ctx.order_target_percent(0, self.w)?;
            for k in 1..n {
                ctx.order_target_percent(k, (1.0 - self.w) / (n - 1) as f64)?;
            }
        }
        Ok(())
    }
}

static TILT: [ParamSpec; 2] = [
    ParamSpec::float("w", 0.5, "weight of the first instrument"),
    ParamSpec::int("every", 10, 1, "bars between rebalances"),
];

fn registry() -> Registry {
    Registry::builtin().with(portfolio::entry(
        "tilt",
        "a user portfolio strategy",
        &TILT,
        |a| Ok(Box::new(Tilt { w: a.f64("w")?, every: a.usize("every")? })),
        |_| 0,
    ))
}

const QUEUE: &str = r#"(
    version: 1,
    defaults: (cash: 100000.0, commission: 0.001),
    datasets: {
        "x": (synthetic: (bars: 600, seed: 1, interval: "1d")),
        "y": (synthetic: (bars: 600, seed: 2, interval: "1d", volatility: 0.4)),
        "z": (synthetic: (bars: 400, seed: 3, interval: "1d", start: "2000-03-01")),
    },
    portfolios: {"xyz": ["x", "y", "z"]},
    sweeps: [
        (id: "tilt", datasets: ["xyz"], strategy: "tilt", grid: {"w": [0.2, 0.5, 0.8], "every": [5, 21]}),
        (id: "mom", datasets: ["xyz"], strategy: "momentum", grid: {"lookback": [10, 30], "top": [1, 2]}),
    ],
)"#;

#[test]
fn a_user_portfolio_strategy_sweeps_like_any_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let queue_path = dir.path().join("q.ron");
    std::fs::write(&queue_path, QUEUE).unwrap();
    let wb = Workbench::new(registry());
    let queue = wb.read_queue(&queue_path).unwrap();
    let mut summaries = Vec::new();
    for (name, mode) in [("seq", Mode::Sequential), ("par", Mode::Threads(2))] {
        let out = dir.path().join(name);
        let opts = RunOptions { out: out.clone(), mode, ..RunOptions::default() };
        wb.run_queue(&queue, &opts).unwrap();
        summaries.push(std::fs::read(out.join("summary.csv")).unwrap());
    }
    assert_eq!(summaries[0], summaries[1], "sequential and parallel summaries differ");
    let text = String::from_utf8(summaries.remove(0)).unwrap();
    assert_eq!(text.lines().count(), 1 + 6 + 4, "{text}");
    assert!(text.lines().skip(1).all(|l| l.contains(",ok,")), "{text}");
}

#[test]
fn portfolio_statistics_use_the_equal_weight_basket() {
    let make = |seed, vol| {
        bt::data::synthetic::generate(&bt::data::synthetic::GbmSpec {
            bars: 500,
            seed,
            volatility: vol,
            ..Default::default()
        })
        .unwrap()
    };
    let bars = [make(5, 0.2), make(6, 0.3), make(7, 0.1)];
    let portfolio = Portfolio::new(
        bars.iter().enumerate().map(|(k, b)| (format!("i{k}"), b.clone())).collect(),
    )
    .unwrap();
    let data = Dataset::portfolio(portfolio, "three").unwrap();
    let wb = Workbench::default();
    let params = Params::from([("every".to_owned(), ParamValue::Int(21))]);
    let config = BacktestConfig { cash: 100_000.0, commission: 0.001, ..Default::default() };
    let b = wb.backtest(&data, "equal_weight", &params, &config, true).unwrap();

    // The basket bought at the first bar: mean of each instrument's last / first close.
    let basket: f64 = bars.iter().map(|b| b.close()[499] / b.close()[0]).sum::<f64>() / 3.0;
    let want = (basket - 1.0) * 100.0;
    assert!(
        (b.stats.buy_hold_return_pct - want).abs() < 1e-9,
        "{} vs {want}",
        b.stats.buy_hold_return_pct
    );

    let instruments = b.instruments.as_ref().unwrap();
    let total: f64 = instruments.iter().map(|i| i.contribution).sum();
    assert!((total * 100.0 - b.stats.return_pct).abs() < 1e-9, "{total} vs {}", b.stats.return_pct);
    assert!(instruments.iter().all(|i| i.exposure > 0.9 && i.turnover > 0.0 && i.fills > 0));
    assert_eq!(b.equity.as_ref().unwrap().len(), 500);
    assert_eq!(*b.equity.as_ref().unwrap().last().unwrap(), b.stats.equity_final);
}

#[test]
fn strategy_and_data_kinds_must_match() {
    let wb = Workbench::default();
    let single = Dataset::new(
        bt::data::synthetic::generate(&bt::data::synthetic::GbmSpec {
            bars: 100,
            ..Default::default()
        })
        .unwrap(),
        "one",
    );
    let e = wb
        .backtest(&single, "momentum", &Params::new(), &BacktestConfig::default(), false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a portfolio strategy: run it on a portfolio"), "{e}");
}

#[test]
fn a_queue_mixing_strategy_and_data_kinds_is_refused_before_running() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.ron");
    // One bad simulation each way.
    let text = format!(
        "{}\n    simulations: [(id: \"single\", dataset: \"xyz\", strategy: \"sma_cross\"), (id: \"port\", dataset: \"x\", strategy: \"tilt\")],\n)",
        QUEUE.split("    sweeps:").next().unwrap()
    );
    std::fs::write(&path, &text).unwrap();
    let e = Workbench::new(registry()).read_queue(&path).unwrap_err().to_string();
    assert!(
        e.contains("\"single\" runs single-instrument strategy \"sma_cross\" on portfolio \"xyz\""),
        "{e}"
    );
    assert!(e.contains("\"port\" runs portfolio strategy \"tilt\" on data set \"x\""), "{e}");
}
