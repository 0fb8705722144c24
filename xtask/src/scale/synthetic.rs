//! The synthetic results of `cargo xtask scale`: every simulation of a queue written as a
//! record with made-up but deterministic statistics into two shard run directories, through
//! the executor's own writers ([`LogWriter`], [`bt_executor::LockedRunDir::write_info`]), as
//! `bt run QUEUE --shard K/2 --no-report --pbo-blocks 0` would, without simulating.

use std::{
    fs,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use bt_domain::{
    Attempt, DatasetInfo, ParamValue, ReturnStats, RunInfo, RunMode, RunStatus, SimOutcome,
    SimRecord, SimSpec, SimSummary, Stats, rng::SplitMix64,
};
use bt_executor::{RunDir, Shard, log::LogWriter};

use super::{SEED, Step, dir_files, status_kib};
use crate::tools;

/// Facts of the data set the synthetic results claim to have run on.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DataFacts {
    n_bars: u64,
    start: i64,
    end: i64,
}

/// Writes the results of every simulation of `queue` into two shard run directories, as
/// `bt run QUEUE --shard K/2 --no-report --pbo-blocks 0` would, without simulating.
pub(super) fn generate(queue_path: &Path, dirs: &[PathBuf; 2]) -> anyhow::Result<Step> {
    let start = Instant::now();
    let load_avg_1m = tools::load_avg();
    let workbench = bt::Workbench::new(bt_strategies::Registry::builtin());
    let queue = workbench.read_queue(queue_path)?;
    let queue_hash = bt::run_hash(&queue)?;
    let mut datasets = Vec::new();
    let mut facts = None;
    for (name, source) in queue.datasets() {
        let bt_queue::DatasetSource::File(path) = source else { bail!("{name}: not a file") };
        let bars = bt::data::load(path).with_context(|| format!("loading {}", path.display()))?;
        facts = Some(DataFacts {
            n_bars: bars.len() as u64,
            start: bars.first_ts(),
            end: bars.last_ts(),
        });
        datasets.push(DatasetInfo {
            name: name.clone(),
            source: path.display().to_string(),
            bars: bars.len() as u64,
        });
    }
    let facts = facts.context("the synthetic queue has no data set")?;
    let holder = format!("pid {}: cargo xtask scale", std::process::id());
    let shards = [Shard::new(0, 2)?, Shard::new(1, 2)?];
    let mut locked = Vec::new();
    let mut writers = Vec::new();
    for dir in dirs {
        let dir = RunDir::new(dir).lock(&holder)?;
        writers.push(
            LogWriter::open(&dir.results())
                .with_context(|| format!("cannot open {}", dir.results().display()))?,
        );
        locked.push(dir);
    }
    let mut counts = [0u64; 2];
    for (index, spec) in queue.iter().enumerate() {
        let k = usize::from(!shards[0].contains(&spec.id));
        // Zero work: frames fill to their 4096 records, as for quick simulations.
        if !writers[k].append(&synth_record(index as u64, spec, facts), Duration::ZERO) {
            break; // `finish` below says why.
        }
        counts[k] += 1;
    }
    for writer in writers {
        writer.finish()?;
    }
    let wall_time_s = start.elapsed().as_secs_f64();
    for (k, dir) in locked.iter().enumerate() {
        let (mode, threads, ran) = (RunMode::Sequential, 1, counts[k]);
        dir.write_info(&RunInfo {
            bt_version: env!("CARGO_PKG_VERSION").into(),
            queue: queue_path.display().to_string(),
            queue_hash: queue_hash.clone(),
            status: RunStatus::Complete,
            mode,
            threads,
            wall_time_s,
            attempts: vec![Attempt { mode, threads, started: None, wall_time_s, ran, ended: true }],
            total: ran,
            ok: ran,
            failed: 0,
            shard: Some(shards[k].to_string()),
            datasets: datasets.clone(),
            config: queue.defaults().values().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            pbo_blocks: 0,
        })?;
    }
    let mut files = Vec::new();
    for (k, dir) in dirs.iter().enumerate() {
        files.extend(dir_files(dir)?.into_iter().map(|(name, n)| (format!("shard-{k}/{name}"), n)));
    }
    let self_status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    Ok(Step {
        name: "generate",
        command: "cargo xtask scale (in process: LogWriter + write_info)".into(),
        sims: counts.iter().sum(),
        wall_s: wall_time_s,
        peak_rss: status_kib(&self_status, "VmHWM:").map(|k| k * 1024),
        files,
        outcome: "ok".into(),
        load_avg_1m,
        ..Step::default()
    })
}

/// The record of simulation `index` of the synthetic queue: the spec's parameters with
/// sma_cross's default `long_only: false` filled in (as a real run records them) and
/// plausible statistics drawn from a generator seeded by the index alone, so that any sharding
/// gives the same records.
fn synth_record(index: u64, spec: SimSpec, facts: DataFacts) -> SimRecord {
    let mut params = spec.params;
    params.entry("long_only".to_owned()).or_insert(ParamValue::Bool(false));
    let slow = match params.get("slow") {
        Some(ParamValue::Int(n)) => u64::try_from(*n).unwrap_or(0),
        _ => 0,
    };
    SimRecord {
        index,
        id: spec.id,
        dataset: spec.dataset,
        strategy: spec.strategy,
        params,
        outcome: SimOutcome::Ok(Box::new(synth_summary(index, slow, facts))),
    }
}

fn synth_summary(index: u64, slow: u64, facts: DataFacts) -> SimSummary {
    const DAY_NS: i64 = 86_400_000_000_000;
    let mut rng = SplitMix64::new(SEED ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut u = |lo: f64, hi: f64| lo + (hi - lo) * rng.unit_f64();
    // sma_cross first acts at bar `slow`.
    let bar_steps = facts.n_bars.saturating_sub(slow);
    let n_trades = (u(0.0, 1.0) * (bar_steps as f64 / 10.0).min(200.0)) as u64;
    let traded = n_trades > 0;
    let if_traded = |x: f64| if traded { x } else { f64::NAN };
    let days = |d: f64| Some(d as i64 * DAY_NS);
    let return_pct = if traded { u(-60.0, 200.0) } else { 0.0 };
    let equity_final = 10_000.0 * (1.0 + return_pct / 100.0);
    let years = (facts.end - facts.start) as f64 / (365.25 * DAY_NS as f64);
    let cagr_pct = ((equity_final / 10_000.0).powf(1.0 / years) - 1.0) * 100.0;
    let volatility_ann_pct = if traded { u(5.0, 45.0) } else { 0.0 };
    let sharpe_ratio = if traded { cagr_pct / volatility_ann_pct } else { f64::NAN };
    let max_drawdown_pct = if traded { -u(5.0, 70.0) } else { -0.0 };
    let beta = u(-0.2, 0.6);
    let buy_hold_return_pct = u(40.0, 700.0);
    let stats = Stats {
        start: facts.start,
        end: facts.end,
        duration: facts.end - facts.start,
        exposure_time_pct: 100.0 * bar_steps as f64 / facts.n_bars as f64 * u(0.3, 1.0),
        equity_final,
        equity_peak: equity_final.max(10_000.0) * u(1.0, 1.3),
        commissions: n_trades as f64 * 40.0 * u(0.5, 1.5),
        return_pct,
        buy_hold_return_pct,
        return_ann_pct: cagr_pct * u(0.98, 1.02),
        volatility_ann_pct,
        cagr_pct,
        sharpe_ratio,
        sortino_ratio: sharpe_ratio * u(1.2, 1.8),
        calmar_ratio: if traded { cagr_pct / -max_drawdown_pct } else { f64::NAN },
        alpha_pct: return_pct - beta * buy_hold_return_pct,
        beta,
        max_drawdown_pct,
        avg_drawdown_pct: max_drawdown_pct * u(0.1, 0.4),
        max_drawdown_duration: days(u(30.0, 1500.0)),
        avg_drawdown_duration: days(u(5.0, 150.0)),
        n_trades,
        win_rate_pct: if_traded(u(0.0, 100.0)),
        best_trade_pct: if_traded(u(0.0, 80.0)),
        worst_trade_pct: if_traded(u(-40.0, 0.0)),
        avg_trade_pct: if_traded(u(-3.0, 3.0)),
        max_trade_duration: if traded { days(u(5.0, 900.0)) } else { None },
        avg_trade_duration: if traded { days(u(2.0, 90.0)) } else { None },
        profit_factor: if_traded(u(0.2, 3.0)),
        expectancy_pct: if_traded(u(-3.0, 3.0)),
        sqn: if_traded(u(-3.0, 3.0)),
        kelly_criterion: if_traded(u(-1.0, 0.5)),
    };
    let returns = ReturnStats {
        t: facts.n_bars - 1,
        sr: sharpe_ratio / 252f64.sqrt(),
        skew: u(-1.0, 2.0),
        kurtosis: u(3.0, 40.0),
        psr: u(0.0, 1.0),
        blocks: Vec::new(),
    };
    SimSummary {
        stats,
        returns,
        n_bars: facts.n_bars,
        bar_steps,
        open_trades: u64::from(traded && u(0.0, 1.0) < 0.5),
        cancelled_orders: 0,
        bust_bar: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        project_root,
        scale::{SPACE, queue_text},
    };

    fn facts() -> DataFacts {
        // GOOG.csv: 2004-08-19 to 2013-03-01.
        DataFacts { n_bars: 2148, start: 1_092_873_600_000_000_000, end: 1_362_096_000_000_000_000 }
    }

    #[test]
    fn synthetic_records_are_deterministic_and_plausible() {
        let a = synth_summary(42, 100, facts());
        assert_eq!(a, synth_summary(42, 100, facts()));
        assert_ne!(a, synth_summary(43, 100, facts()));
        assert_eq!((a.n_bars, a.bar_steps, a.returns.t), (2148, 2048, 2147));
        for i in 0..1000 {
            let s = synth_summary(i, 10 + i, facts()).stats;
            assert!(s.equity_final > 0.0 && s.equity_peak >= s.equity_final, "{s:?}");
            assert!(s.max_drawdown_pct <= 0.0 && (0.0..=100.0).contains(&s.exposure_time_pct));
            assert_eq!(s.n_trades == 0, s.win_rate_pct.is_nan());
        }
        let spec = SimSpec {
            id: "scale/goog/fast=5,slow=40".into(),
            dataset: "goog".into(),
            strategy: "sma_cross".into(),
            params: [("fast", 5), ("slow", 40)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), ParamValue::Int(v)))
                .collect(),
            config: bt_domain::BacktestConfig::default(),
        };
        let r = synth_record(7, spec, facts());
        assert_eq!(r.params["long_only"], ParamValue::Bool(false));
        assert_eq!(r.outcome, SimOutcome::Ok(Box::new(synth_summary(7, 40, facts()))));
    }

    #[test]
    fn generated_shards_hold_the_queue_and_say_so_in_run_json() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir(tmp.path().join("data")).unwrap();
        fs::copy(project_root().join("data/GOOG.csv"), tmp.path().join("data/GOOG.csv")).unwrap();
        let queue = tmp.path().join("q.ron");
        fs::write(&queue, queue_text(500, SPACE)).unwrap();
        let dirs = [tmp.path().join("s0"), tmp.path().join("s1")];
        let step = generate(&queue, &dirs).unwrap();
        assert_eq!(step.sims, 500);
        let mut total = 0;
        for (k, dir) in dirs.iter().enumerate() {
            let info = RunDir::new(dir).read_info().unwrap().unwrap();
            assert_eq!(info.shard.as_deref(), Some(format!("{k}/2").as_str()));
            assert_eq!((info.status, info.pbo_blocks, info.failed), (RunStatus::Complete, 0, 0));
            assert_eq!(info.datasets[0].bars, 2148);
            let q = bt_queue::Queue::from_path(&queue).unwrap();
            assert_eq!(info.queue_hash, bt::run_hash(&q).unwrap());
            let mut n = 0;
            bt_executor::for_each_result(&RunDir::new(dir).results(), |r| {
                assert!(Shard::new(k as u64, 2).unwrap().contains(&r.id));
                n += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(n, info.ok);
            total += n;
        }
        assert_eq!(total, 500);
    }
}
