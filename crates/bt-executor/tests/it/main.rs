//! Behavioural tests of the executor with a fake simulator (the real engine is wired in bt-cli
//! and tested end to end there).

mod props;

use std::{
    collections::BTreeMap,
    fs,
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
};

use bt_domain::{
    BacktestConfig, ParamValue, Params, ReturnStats, RunInfo, SimSpec, SimSummary, Stats,
};
use bt_executor::{
    ExecOptions, Mode, RunDir, Shard, Simulator, execute, log::LogWriter, read_results,
};

/// Why a fake simulation failed.
#[derive(Debug)]
pub struct Failed(pub String);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// Computes fake but deterministic statistics from the params; panics or fails on request.
struct Fake {
    calls: AtomicU64,
    stop_after: Option<(u64, &'static AtomicBool)>,
    /// Specs per `simulate_many` call (the trait's default runs them one by one, so a panic
    /// in a batch takes the batch down and the executor runs its specs again alone).
    batch: usize,
}

fn fake_stats(x: i64, bars: u64) -> Stats {
    let f = x as f64;
    Stats {
        start: 0,
        end: 86_400_000_000_000,
        duration: 86_400_000_000_000,
        exposure_time_pct: f / 7.0,
        equity_final: 10_000.0 + f * 1.1,
        equity_peak: 10_000.0 + f * 1.3,
        commissions: f * 0.01,
        return_pct: f.sin(),
        buy_hold_return_pct: 1.0 / 3.0,
        return_ann_pct: f.sqrt(),
        volatility_ann_pct: 12.5,
        cagr_pct: f64::NAN,
        sharpe_ratio: (f * 0.7).cos(),
        sortino_ratio: f64::INFINITY,
        calmar_ratio: 0.1,
        alpha_pct: 0.2,
        beta: -0.3,
        max_drawdown_pct: -f,
        avg_drawdown_pct: -f / 2.0,
        max_drawdown_duration: Some(86_400_000_000_000),
        avg_drawdown_duration: None,
        n_trades: bars,
        win_rate_pct: 50.0,
        best_trade_pct: 1.0,
        worst_trade_pct: -1.0,
        avg_trade_pct: 0.1,
        max_trade_duration: None,
        avg_trade_duration: Some(3_600_000_000_000),
        profit_factor: 1.2,
        expectancy_pct: 0.3,
        sqn: 0.4,
        kelly_criterion: 0.5,
    }
}

impl Simulator for Fake {
    type Dataset = u64;
    type Error = Failed;
    fn batch(&self, _: &u64) -> usize {
        self.batch
    }
    fn simulate(&self, spec: &SimSpec, bars: &u64) -> Result<(Params, SimSummary), Failed> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some((after, flag)) = self.stop_after
            && n >= after
        {
            flag.store(true, Ordering::SeqCst);
        }
        let x = match spec.params.get("x") {
            Some(ParamValue::Int(x)) => *x,
            _ => return Err(Failed("x must be an integer".into())),
        };
        if x == 13 {
            panic!("unlucky thirteen");
        }
        // Some real work so threads interleave.
        let mut acc = 0u64;
        for i in 0..(x as u64 * 2000) {
            acc = acc.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(acc);
        let mut params = spec.params.clone();
        params.insert("filled".into(), ParamValue::Bool(true));
        Ok((
            params,
            SimSummary {
                stats: fake_stats(x, *bars),
                n_bars: *bars,
                bar_steps: *bars - 1,
                open_trades: 0,
                cancelled_orders: 0,
                bust_bar: None,
                returns: ReturnStats::missing(),
            },
        ))
    }
}

fn specs(n: i64) -> Vec<SimSpec> {
    (0..n)
        .map(|x| {
            let mut params = Params::new();
            if x == 20 {
                params.insert("x".into(), ParamValue::Str("twenty".into()));
            } else {
                params.insert("x".into(), ParamValue::Int(x));
            }
            SimSpec {
                id: format!("sim-{x}"),
                dataset: if x == 30 { "nope".into() } else { "d".into() },
                strategy: "fake".into(),
                params,
                config: BacktestConfig::default(),
            }
        })
        .collect()
}

fn run(
    dir: &std::path::Path,
    mode: Mode,
    resume: bool,
    shard: Option<Shard>,
    fake: &Fake,
) -> bt_executor::RunOutcome {
    let datasets = BTreeMap::from([("d".to_string(), 500u64)]);
    let specs = specs(60);
    let locked = RunDir::new(dir).lock("test").unwrap();
    let opts = ExecOptions {
        out: &locked,
        mode,
        resume,
        shard,
        info: RunInfo { queue: "q.ron".into(), queue_hash: "abc".into(), ..RunInfo::default() },
        work_estimate: 1_000_000,
        stop: fake.stop_after.map(|(_, f)| f),
        then: None,
        summary: None,
    };
    let total = specs.len() as u64;
    execute(specs.into_iter(), total, &datasets, fake, &opts, None).unwrap()
}

fn fake() -> Fake {
    Fake { calls: AtomicU64::new(0), stop_after: None, batch: 1 }
}

#[test]
fn sequential_and_parallel_summaries_are_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let mut summaries = Vec::new();
    for (name, mode, batch) in [
        ("seq", Mode::Sequential, 1),
        ("t1", Mode::Threads(1), 1),
        ("t2", Mode::Threads(2), 1),
        ("t4", Mode::Threads(4), 1),
        ("auto", Mode::Auto(3), 1),
        // Batches: sim-13 panics inside one, sim-30's unknown data set ends another.
        ("seq-batch", Mode::Sequential, 8),
        ("t2-batch", Mode::Threads(2), 4),
    ] {
        let dir = tmp.path().join(name);
        let out = run(&dir, mode, false, None, &Fake { batch, ..fake() });
        assert_eq!(out.ran, 60);
        assert_eq!((out.info.ok, out.info.failed), (57, 3), "{name}");
        summaries.push(fs::read(dir.join("summary.csv")).unwrap());
    }
    for s in &summaries[1..] {
        assert_eq!(s, &summaries[0]);
    }
    let text = String::from_utf8(summaries[0].clone()).unwrap();
    assert_eq!(text.lines().count(), 61);
    assert!(text.lines().nth(1).unwrap().starts_with("sim-0,d,fake,ok,true,0,"), "{text}");
    assert!(text.contains("sim-13,d,fake,failed"), "a panic is a failed row");
    assert!(text.contains("panicked: unlucky thirteen"));
    assert!(text.contains("x must be an integer"));
    assert!(text.contains("unknown dataset"));
}

/// Appends `records` to the log at `path` in frames of `per_frame`.
fn write_log(path: &std::path::Path, records: &[bt_domain::SimRecord], per_frame: usize) {
    let w = LogWriter::open(path).unwrap();
    for chunk in records.chunks(per_frame) {
        for r in chunk {
            assert!(w.append(r, std::time::Duration::ZERO));
        }
        assert!(w.flush());
    }
    w.finish().unwrap();
}

#[test]
fn refuses_to_overwrite_and_resumes_after_a_torn_frame() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    run(&clean, Mode::Sequential, false, None, &fake());

    // A second run into the same directory must not clobber results.
    let datasets = BTreeMap::from([("d".to_string(), 500u64)]);
    let locked = RunDir::new(&clean).lock("test").unwrap();
    let opts = ExecOptions {
        out: &locked,
        mode: Mode::Sequential,
        resume: false,
        shard: None,
        info: RunInfo { queue_hash: "abc".into(), ..RunInfo::default() },
        work_estimate: 0,
        stop: None,
        then: None,
        summary: None,
    };
    let err = execute(specs(60).into_iter(), 60, &datasets, &fake(), &opts, None).unwrap_err();
    assert!(err.to_string().contains("resume it"), "{err}");
    // Resuming with another queue is refused.
    let other = ExecOptions {
        resume: true,
        info: RunInfo { queue_hash: "zzz".into(), ..RunInfo::default() },
        ..opts
    };
    let err = execute(specs(60).into_iter(), 60, &datasets, &fake(), &other, None).unwrap_err();
    assert!(err.to_string().contains("different queue"), "{err}");

    // Simulate a crash: 25 results in frames of 5, and half of the frame that follows.
    let crashed = tmp.path().join("crashed");
    fs::create_dir_all(&crashed).unwrap();
    fs::copy(clean.join("run.json"), crashed.join("run.json")).unwrap();
    let records = read_results(&clean.join("results.btr")).unwrap();
    let log = crashed.join("results.btr");
    write_log(&log, &records[..25], 5);
    let kept = fs::metadata(&log).unwrap().len();
    write_log(&log, &records[25..30], 5);
    let torn = fs::metadata(&log).unwrap().len();
    fs::OpenOptions::new().write(true).open(&log).unwrap().set_len((kept + torn) / 2).unwrap();

    let f = fake();
    let out = run(&crashed, Mode::Threads(2), true, None, &f);
    assert_eq!(out.resumed, 25);
    assert_eq!(out.ran, 35);
    // sim-30 names an unknown dataset: recorded as failed without calling the simulator.
    assert_eq!(f.calls.load(Ordering::SeqCst), 34);
    assert_eq!(
        fs::read(crashed.join("summary.csv")).unwrap(),
        fs::read(clean.join("summary.csv")).unwrap()
    );
    let records = read_results(&crashed.join("results.btr")).unwrap();
    assert_eq!(records.len(), 60, "no duplicated or missing ids");
}

#[test]
fn stop_flag_leaves_a_resumable_directory() {
    static STOP: AtomicBool = AtomicBool::new(false);
    // One simulation at a time, and batches (the stop is seen between batches).
    for (mode, batch) in [(Mode::Threads(2), 1), (Mode::Threads(2), 4), (Mode::Sequential, 4)] {
        STOP.store(false, Ordering::SeqCst);
        let tmp = tempfile::tempdir().unwrap();
        let f = Fake { calls: AtomicU64::new(0), stop_after: Some((10, &STOP)), batch };
        let out = run(tmp.path(), mode, false, None, &f);
        assert!(out.interrupted);
        assert!(out.ran >= 10 && out.ran < 60, "{mode:?} batch {batch}: {}", out.ran);
        let status = fs::read_to_string(tmp.path().join("run.json")).unwrap();
        assert!(status.contains("\"interrupted\""), "{status}");
        STOP.store(false, Ordering::SeqCst);
        let out = run(tmp.path(), Mode::Sequential, true, None, &fake());
        assert_eq!(out.ran + out.resumed, 60);
        assert!(!out.interrupted);
        let clean = tempfile::tempdir().unwrap();
        run(clean.path(), Mode::Sequential, false, None, &fake());
        assert_eq!(
            fs::read(tmp.path().join("summary.csv")).unwrap(),
            fs::read(clean.path().join("summary.csv")).unwrap()
        );
    }
}

#[test]
fn shards_cover_the_queue_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    for k in 0..3 {
        let dir = tmp.path().join(format!("s{k}"));
        let out = run(&dir, Mode::Threads(2), false, Some(Shard::new(k, 3).unwrap()), &fake());
        assert_eq!(out.info.shard.as_deref(), Some(format!("{k}/3").as_str()));
        ids.extend(read_results(&dir.join("results.btr")).unwrap().into_iter().map(|r| r.id));
    }
    ids.sort();
    let mut expected: Vec<String> = (0..60).map(|x| format!("sim-{x}")).collect();
    expected.sort();
    assert_eq!(ids, expected);
}

#[test]
fn a_log_holding_an_id_twice_is_used_once_when_equal_and_refused_when_not() {
    // Two writers on one directory (a version without the lock) could leave an id twice.
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    run(&clean, Mode::Sequential, false, None, &fake());
    let reference = fs::read(clean.join("summary.csv")).unwrap();
    let records = read_results(&clean.join("results.btr")).unwrap();

    // Equal duplicates: a resume has nothing to run and the summary is the clean one.
    let twice = tmp.path().join("twice");
    fs::create_dir_all(&twice).unwrap();
    fs::copy(clean.join("run.json"), twice.join("run.json")).unwrap();
    write_log(&twice.join("results.btr"), &records, 60);
    write_log(&twice.join("results.btr"), &records[3..9], 60);
    let f = fake();
    let out = run(&twice, Mode::Threads(2), true, None, &f);
    assert_eq!((out.ran, out.resumed), (0, 60));
    assert_eq!(f.calls.load(Ordering::SeqCst), 0);
    assert!(fs::read(twice.join("summary.csv")).unwrap() == reference);
    assert_eq!((out.info.ok, out.info.failed), (57, 3), "counted once");

    // Different results for one id: which is right is unknown, so both frames are named.
    let differ = tmp.path().join("differ");
    fs::create_dir_all(&differ).unwrap();
    fs::copy(clean.join("run.json"), differ.join("run.json")).unwrap();
    let mut changed = records.iter().find(|r| r.id == "sim-4").unwrap().clone();
    let bt_domain::SimOutcome::Ok(summary) = &mut changed.outcome else { panic!("sim-4 failed") };
    summary.n_bars += 1;
    write_log(&differ.join("results.btr"), &records, 60);
    write_log(&differ.join("results.btr"), &[changed], 60);
    let locked = RunDir::new(&differ).lock("test").unwrap();
    let opts = ExecOptions {
        out: &locked,
        mode: Mode::Sequential,
        resume: true,
        shard: None,
        info: RunInfo { queue: "q.ron".into(), queue_hash: "abc".into(), ..RunInfo::default() },
        work_estimate: 0,
        stop: None,
        then: None,
        summary: None,
    };
    let datasets = BTreeMap::from([("d".to_string(), 500u64)]);
    let err = execute(specs(60).into_iter(), 60, &datasets, &fake(), &opts, None).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("\"sim-4\" has two different results"), "{text}");
    assert!(
        text.contains("results.btr frame 1 and in ") && text.contains("results.btr frame 2"),
        "{text}"
    );
    let err = bt_executor::finalize(&locked, None).unwrap_err().to_string();
    assert!(err.contains("frame 1 and in "), "{err}");
}

/// A second stage whose specs depend on the first stage's results: one spec per multiple of
/// 10 among the successful `x`, with `x` = that multiple + 1.
struct FromResults(AtomicU64);

impl bt_executor::Then for FromResults {
    fn specs(
        &self,
        dir: &bt_executor::LockedRunDir,
    ) -> Result<Vec<SimSpec>, bt_executor::ExecError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        let mut xs: Vec<i64> = read_results(&dir.results())?
            .into_iter()
            .filter(|r| r.stats().is_some())
            .filter_map(|r| match r.params.get("x") {
                Some(ParamValue::Int(x)) if x % 10 == 0 => Some(*x),
                _ => None,
            })
            .collect();
        xs.sort_unstable();
        Ok(xs
            .into_iter()
            .map(|x| {
                let mut params = Params::new();
                params.insert("x".into(), ParamValue::Int(x + 1));
                SimSpec {
                    id: format!("then-{x}"),
                    dataset: "d".into(),
                    strategy: "fake".into(),
                    params,
                    config: BacktestConfig::default(),
                }
            })
            .collect())
    }
}

#[test]
fn a_second_stage_runs_once_the_first_has_its_results_and_resumes_like_it() {
    let tmp = tempfile::tempdir().unwrap();
    let datasets = BTreeMap::from([("d".to_string(), 500u64)]);
    let then = FromResults(AtomicU64::new(0));
    let go = |dir: &std::path::Path, resume: bool, shard: Option<Shard>| {
        let locked = RunDir::new(dir).lock("test").unwrap();
        let opts = ExecOptions {
            out: &locked,
            mode: Mode::Threads(2),
            resume,
            shard,
            info: RunInfo { queue: "q.ron".into(), queue_hash: "abc".into(), ..RunInfo::default() },
            work_estimate: 1_000_000,
            stop: None,
            then: Some(&then),
            summary: None,
        };
        // x = 0, 10, 20 (a string: fails), 30 (unknown data set: fails), 40, 50 succeed.
        execute(specs(60).into_iter(), 64, &datasets, &fake(), &opts, None).unwrap()
    };
    let dir = tmp.path().join("run");
    let out = go(&dir, false, None);
    assert_eq!((out.ran, out.info.total, out.info.ok, out.info.failed), (64, 64, 61, 3));
    assert_eq!(out.info.status, bt_domain::RunStatus::Complete);
    let records = read_results(&dir.join("results.btr")).unwrap();
    let mut second: Vec<(u64, String)> = records
        .iter()
        .filter(|r| r.id.starts_with("then-"))
        .map(|r| (r.index, r.id.clone()))
        .collect();
    second.sort();
    let ids = ["then-0", "then-10", "then-40", "then-50"];
    assert_eq!(second, (60..).zip(ids.map(String::from)).collect::<Vec<_>>(), "numbered after");
    let summary = fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(summary.lines().last().unwrap().starts_with("then-50,"), "queue order");
    // A resume finds everything done, asks for the second stage again and runs nothing.
    let again = go(&dir, true, None);
    assert_eq!((again.ran, again.resumed, again.info.ok), (0, 64, 61));
    assert_eq!(then.0.load(Ordering::SeqCst), 2);
    assert_eq!(fs::read_to_string(dir.join("summary.csv")).unwrap(), summary);
    // A shard never runs it: only the whole results can say what it is.
    let shard = go(&tmp.path().join("shard"), false, Some(Shard { index: 0, count: 2 }));
    assert_eq!(then.0.load(Ordering::SeqCst), 2);
    assert!(shard.ran < 60 && shard.info.total == shard.ran);
}
