//! Properties over random queues: whatever the queue (simulations that succeed, fail, panic or
//! name an unknown data set, of uneven cost so that completion order varies), the thread count
//! and the shard count, a sequential run, a parallel run and the shards merged back give
//! byte-identical `summary.csv` and the same record for every id; the shards partition the
//! queue.
//!
//! The simulator here derives awkward statistics (NaN, infinities, -0.0, subnormals, huge and
//! fractional durations, sub-second timestamps) from a seed parameter, so the result log's
//! round trip that every summary and every merge goes through is exercised too.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
    sync::Once,
    time::Duration,
};

use bt_domain::{
    BacktestConfig, ParamValue, Params, ReturnStats, RunInfo, SimSpec, SimSummary, Stats,
    hash::fnv1a_64, push_csv_line,
};
use bt_executor::{
    ExecOptions, Mode, RunDir, RunOutcome, Shard, Simulator, decode_record, encode_record, execute,
    finalize, log::LogWriter, read_results,
};
use proptest::{
    prelude::*,
    test_runner::{Config as ProptestConfig, RngSeed, contextualize_config},
};

/// Marks the panics the simulator raises on purpose, so the panic hook can keep them quiet.
const PANIC_MARK: &str = "prop-deliberate-panic";

/// Extra parameter names a simulation may carry (the summary has one column per name seen).
const EXTRA_NAMES: [&str; 5] = ["alpha", "beta", "k", "long_only", "z_last"];

/// Characters of generated string parameters: CSV and JSON specials included.
const CHARS: [char; 9] = ['a', 'Z', ',', '"', '\n', ' ', '\\', 'é', '0'];

/// proptest settings: `cases` cases from a fixed seed (reproducible), no regression files in
/// the tree. `PROPTEST_CASES` / `PROPTEST_RNG_SEED` override for a longer exploration.
fn config(cases: u32) -> ProptestConfig {
    contextualize_config(ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x6274_6578_6563_7072),
        ..ProptestConfig::default()
    })
}

/// What a generated simulation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Ok,
    Err,
    Panic,
    UnknownDataset,
}

impl Behaviour {
    fn word(self) -> &'static str {
        match self {
            Behaviour::Ok => "ok",
            Behaviour::Err => "err",
            Behaviour::Panic => "panic",
            Behaviour::UnknownDataset => "nodata",
        }
    }
}

/// A generated simulation: a small printable description, turned into a `SimSpec` by [`spec`].
#[derive(Debug, Clone)]
struct Sim {
    /// Varies the id, hence the shard it falls in.
    tag: u16,
    /// 0: plain id, 1: sweep-like id with `,` and `=`, 2: id with a quote and a space.
    id_style: u8,
    behaviour: Behaviour,
    /// Data set `e` instead of `d`.
    other_dataset: bool,
    /// Busy-loop iterations: uneven costs reorder completions on a pool.
    cost: u32,
    /// Seeds the statistics.
    seed: u64,
    extra: Vec<(&'static str, ParamValue)>,
}

fn spec(index: usize, sim: &Sim) -> SimSpec {
    let id = match sim.id_style {
        0 => format!("s{index}-{:x}", sim.tag),
        1 => format!("grid/d/fast={},slow={index}", sim.tag),
        _ => format!("q\"{index}\" {}", sim.tag),
    };
    let mut params = Params::new();
    for (name, value) in &sim.extra {
        params.insert((*name).into(), value.clone());
    }
    params.insert("do".into(), ParamValue::Str(sim.behaviour.word().into()));
    params.insert("cost".into(), ParamValue::Int(i64::from(sim.cost)));
    params.insert("seed".into(), ParamValue::Int(sim.seed as i64));
    let dataset = match (sim.behaviour, sim.other_dataset) {
        (Behaviour::UnknownDataset, _) => "missing",
        (_, true) => "e",
        (_, false) => "d",
    };
    SimSpec {
        id,
        dataset: dataset.into(),
        strategy: "prop".into(),
        params,
        config: BacktestConfig::default(),
    }
}

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn float(&mut self) -> f64 {
        // Extreme magnitudes are rare: `Display` writes 1e-300 with 300 digits, which is slow.
        match self.next() % 40 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => f64::from_bits(self.next() % 0x1000), // subnormal
            5 => {
                let x = f64::from_bits(self.next());
                if x.is_nan() { 1e300 } else { x }
            }
            _ => (self.next() as i64) as f64 / 3e9,
        }
    }

    /// Nanoseconds: whole seconds, sub-second, or large with a fractional part.
    fn nanos(&mut self) -> i64 {
        match self.next() % 3 {
            0 => (self.next() % 9_000_000_000) as i64 * 1_000_000_000,
            1 => (self.next() % 1_000_000_000_000) as i64,
            _ => (self.next() >> 4) as i64,
        }
    }

    /// A timestamp between about 1906 and 2191, to the nanosecond.
    fn time(&mut self) -> i64 {
        -2_000_000_000_000_000_000 + (self.next() % 8_000_000_000_000_000_000) as i64
    }
}

/// Return statistics with any floats (NaN and infinities included) and 0 to 3 blocks.
fn returns(r: &mut Rng) -> ReturnStats {
    let blocks = (0..r.next() % 4).map(|_| [r.float(), r.float()]).collect();
    ReturnStats {
        t: r.next() % 5000,
        sr: r.float(),
        skew: r.float(),
        kurtosis: r.float(),
        psr: r.float(),
        blocks,
    }
}

fn stats(seed: u64) -> Stats {
    let mut r = Rng(seed);
    let mut d = || if r.next().is_multiple_of(4) { None } else { Some(r.nanos()) };
    let durations = [d(), d(), d(), d()];
    let mut r = Rng(seed ^ 0x5555);
    Stats {
        start: r.time(),
        end: r.time(),
        duration: r.nanos(),
        exposure_time_pct: r.float(),
        equity_final: r.float(),
        equity_peak: r.float(),
        commissions: r.float(),
        return_pct: r.float(),
        buy_hold_return_pct: r.float(),
        return_ann_pct: r.float(),
        volatility_ann_pct: r.float(),
        cagr_pct: r.float(),
        sharpe_ratio: r.float(),
        sortino_ratio: r.float(),
        calmar_ratio: r.float(),
        alpha_pct: r.float(),
        beta: r.float(),
        max_drawdown_pct: r.float(),
        avg_drawdown_pct: r.float(),
        max_drawdown_duration: durations[0],
        avg_drawdown_duration: durations[1],
        n_trades: r.next(),
        win_rate_pct: r.float(),
        best_trade_pct: r.float(),
        worst_trade_pct: r.float(),
        avg_trade_pct: r.float(),
        max_trade_duration: durations[2],
        avg_trade_duration: durations[3],
        profit_factor: r.float(),
        expectancy_pct: r.float(),
        sqn: r.float(),
        kelly_criterion: r.float(),
    }
}

/// Spins `cost` iterations, then succeeds, fails or panics as the `do` parameter says. Takes
/// specs in batches (`simulate_many`'s default: one by one, so a panic takes its batch down
/// and the executor runs the batch again one spec at a time), of a size per data set.
struct PropSim;

impl Simulator for PropSim {
    /// Number of bars.
    type Dataset = u64;

    type Error = crate::Failed;

    fn batch(&self, bars: &u64) -> usize {
        if *bars == 50 { 4 } else { 3 }
    }

    fn simulate(&self, spec: &SimSpec, bars: &u64) -> Result<(Params, SimSummary), crate::Failed> {
        let int = |k: &str| match spec.params.get(k) {
            Some(ParamValue::Int(i)) => *i,
            _ => 0,
        };
        let mut acc = 0u64;
        for i in 0..int("cost") as u64 {
            acc = acc.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(acc);
        match spec.params.get("do") {
            Some(ParamValue::Str(s)) if s == "err" => {
                return Err(crate::Failed(format!("refused \"{}\",\nsee line two", spec.id)));
            }
            Some(ParamValue::Str(s)) if s == "panic" => panic!("{PANIC_MARK} in {}", spec.id),
            _ => {}
        }
        let seed = int("seed") as u64;
        // Canonical parameters differ from the spec's: a failed record keeps the spec's, so the
        // summary's parameter columns depend on which records failed.
        let mut params = spec.params.clone();
        params.remove("cost");
        params.insert("bars".into(), ParamValue::Int(*bars as i64));
        let mut r = Rng(seed ^ 0xaaaa);
        Ok((
            params,
            SimSummary {
                stats: stats(seed),
                n_bars: *bars,
                bar_steps: r.next() % 1000,
                open_trades: r.next() % 3,
                cancelled_orders: r.next() % 5,
                bust_bar: if r.next().is_multiple_of(3) { Some(r.next() % 100) } else { None },
                returns: returns(&mut r),
            },
        ))
    }
}

/// Keeps the deliberate panics off stderr; every other panic goes to the previous hook.
fn quiet_deliberate_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or_default();
            if !message.contains(PANIC_MARK) {
                previous(info);
            }
        }));
    });
}

fn run(
    dir: &Path,
    specs: &[SimSpec],
    mode: Mode,
    shard: Option<Shard>,
    work_estimate: u64,
) -> RunOutcome {
    let datasets = BTreeMap::from([("d".to_string(), 50u64), ("e".to_string(), 7u64)]);
    let locked = RunDir::new(dir).lock("test").expect("lock");
    let opts = ExecOptions {
        out: &locked,
        mode,
        resume: false,
        shard,
        info: RunInfo { queue: "q.ron".into(), queue_hash: "h".into(), ..RunInfo::default() },
        work_estimate,
        stop: None,
        then: None,
        summary: None,
    };
    execute(specs.iter().cloned(), specs.len() as u64, &datasets, &PropSim, &opts, None)
        .expect("execute")
}

/// A temporary directory, on tmpfs where there is one: the executor syncs every file it
/// writes, and on a busy disk those syncs took most of this test's time.
fn fast_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

/// The executor's own merge: the shards' records appended to one log as they are, shard by
/// shard in `order`, then [`finalize`] (which orders by queue index).
fn merge_raw(shards: &[PathBuf], order: &[usize], out: &Path) {
    fs::create_dir_all(out).unwrap();
    let w = LogWriter::open(&out.join("results.btr")).unwrap();
    for &k in order {
        for r in read_results(&shards[k].join("results.btr")).unwrap() {
            assert!(w.append(&r, Duration::ZERO));
        }
        assert!(w.flush());
    }
    w.finish().unwrap();
    finalize(&RunDir::new(out).lock("test").unwrap(), None).unwrap();
}

/// What `bt merge` does: union by id of decoded and re-encoded records, written in queue
/// order, then [`finalize`].
fn merge_reencoded(shards: &[PathBuf], specs: &[SimSpec], out: &Path) {
    let mut by_id = BTreeMap::new();
    for dir in shards {
        for r in read_results(&dir.join("results.btr")).unwrap() {
            by_id.insert(r.id.clone(), r);
        }
    }
    fs::create_dir_all(out).unwrap();
    let w = LogWriter::open(&out.join("results.btr")).unwrap();
    for s in specs {
        if let Some(r) = by_id.remove(&s.id) {
            assert!(w.append(&r, Duration::ZERO));
        }
    }
    w.finish().unwrap();
    finalize(&RunDir::new(out).lock("test").unwrap(), None).unwrap();
}

/// Records by id, as exact JSON lines; fails on an id seen twice.
fn lines_by_id(dir: &Path) -> Result<BTreeMap<String, String>, TestCaseError> {
    let mut out = BTreeMap::new();
    for r in read_results(&dir.join("results.btr")).unwrap() {
        let id = r.id.clone();
        prop_assert!(
            out.insert(id.clone(), encode_record(&r)).is_none(),
            "{id:?} twice in {dir:?}"
        );
    }
    Ok(out)
}

fn summary(dir: &Path) -> String {
    fs::read_to_string(dir.join("summary.csv")).unwrap()
}

fn param_value() -> impl Strategy<Value = ParamValue> {
    let float = prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-0.0),
        (-1000i32..1000).prop_map(f64::from),
    ];
    prop_oneof![
        any::<i64>().prop_map(ParamValue::Int),
        float.prop_map(ParamValue::Float),
        any::<bool>().prop_map(ParamValue::Bool),
        prop::collection::vec(prop::sample::select(&CHARS[..]), 0..6)
            .prop_map(|c| ParamValue::Str(c.into_iter().collect())),
    ]
}

fn sim() -> impl Strategy<Value = Sim> {
    let behaviour = prop_oneof![
        8 => Just(Behaviour::Ok),
        1 => Just(Behaviour::Err),
        1 => Just(Behaviour::Panic),
        1 => Just(Behaviour::UnknownDataset),
    ];
    let cost = prop_oneof![3 => 0u32..300, 1 => 0u32..30_000];
    let extra =
        prop::collection::vec((prop::sample::select(&EXTRA_NAMES[..]), param_value()), 0..3);
    (any::<u16>(), 0u8..3, behaviour, any::<bool>(), cost, any::<u64>(), extra).prop_map(
        |(tag, id_style, behaviour, other_dataset, cost, seed, extra)| Sim {
            tag,
            id_style,
            behaviour,
            other_dataset,
            cost,
            seed,
            extra,
        },
    )
}

/// Mostly short queues, a quarter up to 200 long (a debug build spends ~0.2 ms a line in
/// serde_json, and every simulation is encoded and decoded about ten times here).
fn queue() -> impl Strategy<Value = Vec<Sim>> {
    prop_oneof![
        3 => prop::collection::vec(sim(), 0..40),
        1 => prop::collection::vec(sim(), 0..200),
    ]
}

fn pool_mode(max_threads: usize) -> impl Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::Sequential),
        (1..=max_threads).prop_map(Mode::Threads),
        (1..=max_threads).prop_map(Mode::Auto),
    ]
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn sequential_parallel_and_merged_shards_agree(
        sims in queue(),
        threads in 1usize..=8,
        work_estimate in 0u64..40_000,
        shard_count in 1u64..=6,
        shard_modes in prop::collection::vec(pool_mode(8), 6),
        rotate in 0usize..6,
    ) {
        quiet_deliberate_panics();
        let specs: Vec<SimSpec> = sims.iter().enumerate().map(|(i, s)| spec(i, s)).collect();
        let tmp = fast_tempdir();
        let dir = |name: &str| tmp.path().join(name);

        let seq = run(&dir("seq"), &specs, Mode::Sequential, None, work_estimate);
        let par = run(&dir("par"), &specs, Mode::Threads(threads), None, work_estimate);
        let mut shard_dirs = Vec::new();
        let mut shard_totals = 0;
        for k in 0..shard_count {
            let d = dir(&format!("shard-{k}"));
            let shard = Shard::new(k, shard_count).unwrap();
            let out = run(&d, &specs, shard_modes[k as usize], Some(shard), work_estimate);
            shard_totals += out.info.total;
            shard_dirs.push(d);
        }
        let order: Vec<usize> =
            (0..shard_dirs.len()).map(|i| (i + rotate) % shard_dirs.len()).rev().collect();
        merge_raw(&shard_dirs, &order, &dir("merged-raw"));
        merge_reencoded(&shard_dirs, &specs, &dir("merged-bt"));

        // Every run's counts describe the whole queue.
        let n = specs.len() as u64;
        let failing = sims.iter().filter(|s| s.behaviour != Behaviour::Ok).count() as u64;
        prop_assert_eq!((seq.ran, seq.info.total), (n, n));
        prop_assert_eq!((seq.info.ok, seq.info.failed), (n - failing, failing));
        prop_assert_eq!((par.info.ok, par.info.failed), (n - failing, failing));
        prop_assert_eq!(shard_totals, n);

        // The reference: one record per queue entry, at its queue index, with the right status.
        let reference = lines_by_id(&dir("seq"))?;
        prop_assert_eq!(reference.len(), specs.len());
        for (index, (s, sim)) in specs.iter().zip(&sims).enumerate() {
            let line = reference.get(&s.id).ok_or_else(|| TestCaseError::fail(format!("{:?} missing", s.id)))?;
            let r = decode_record(line).map_err(TestCaseError::fail)?;
            prop_assert_eq!(r.index, index as u64);
            let error = match &r.outcome {
                bt_domain::SimOutcome::Ok(_) => None,
                bt_domain::SimOutcome::Failed(e) => Some(e.as_str()),
            };
            match sim.behaviour {
                Behaviour::Ok => prop_assert!(error.is_none(), "{line}"),
                Behaviour::Err => prop_assert!(error.is_some_and(|e| e.starts_with("refused")), "{line}"),
                Behaviour::Panic => prop_assert!(error.is_some_and(|e| e.contains("panicked")), "{line}"),
                Behaviour::UnknownDataset => prop_assert!(error.is_some_and(|e| e.contains("unknown dataset")), "{line}"),
            }
        }
        // summary.csv: a header, then one row per simulation, in queue order.
        let reference_summary = summary(&dir("seq"));
        let rows = csv_rows(&reference_summary);
        prop_assert_eq!(rows.len(), specs.len() + 1);
        prop_assert!(rows[0].starts_with("id,dataset,strategy,status,"), "{}", rows[0]);
        for (row, s) in rows[1..].iter().zip(&specs) {
            let mut cell = String::new();
            push_csv_line(&mut cell, [s.id.as_str()]);
            let prefix = format!("{},", cell.trim_end());
            prop_assert!(row.starts_with(&prefix), "row {:?} is not {:?}'s", row, s.id);
        }

        // The shards partition the queue, by the documented rule (FNV-1a 64 of the id mod N).
        let mut owners: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for (k, d) in shard_dirs.iter().enumerate() {
            for id in lines_by_id(d)?.into_keys() {
                prop_assert_eq!(fnv1a_64(id.as_bytes()) % shard_count, k as u64, "{:?}", id);
                owners.entry(id).or_default().push(k as u64);
            }
        }
        prop_assert_eq!(owners.len(), specs.len());
        prop_assert!(owners.values().all(|o| o.len() == 1), "an id in several shards");

        // Every other way of running gives the same bytes and the same record for every id.
        for name in ["par", "merged-raw", "merged-bt"] {
            prop_assert!(summary(&dir(name)) == reference_summary, "summary.csv of {} differs", name);
            prop_assert!(lines_by_id(&dir(name))? == reference, "records of {} differ", name);
        }
    }
}

/// The rows of a CSV text (each with its `\n`), split at newlines outside quotes.
fn csv_rows(text: &str) -> Vec<&str> {
    let mut rows = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => {
                rows.push(&text[start..=i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    assert_eq!(start, text.len(), "text after the last newline");
    rows
}
