//! Walk-forward optimisation (docs/validation.md): the `walk_forward` entries of a queue, run
//! in two stages of one executor run.
//!
//! 1. Training: every point of the entry's grid on every window's training bars, as ordinary
//!    simulations on window data sets (`goog[0:500]`): parallel, streamed, resumable, sharded.
//! 2. Out of sample ([`bt_executor::Then`]): once the training results are in, each window's
//!    best point by `select_by` trades the window's test bars (`goog[500:625]`, id
//!    `ID/wKK/test`), starting from the previous window's ending equity, and `ID/oos` is the
//!    stitched curve of them all. Each of these simulations runs the chain of windows up to its
//!    own, so they are independent of each other and of the order they run in.
//!
//! A test run reads the bars before its window (indicator warm-up: the strategy's `init` sees
//! bars `[0, end)`) but its first `next` is at the window's first bar, so it trades only inside
//! it; nothing reads a bar after the window's end.

mod output;

use std::{collections::BTreeMap, ops::Range, sync::OnceLock};

use bt_domain::{
    BacktestConfig, EquityObserver, Params, SimSpec, SimSummary, Stats, Trade,
    ranking::TopK,
    window::{Window, window_name},
};
use bt_engine::BacktestResult;
use bt_executor::{DatasetLookup, ExecError, LockedRunDir};
use bt_queue::{Queue, WalkForward, window_label};
use bt_stats::{DatasetStats, RunAccumulator, RunFacts};

pub use self::output::{
    WALK_FORWARD_CSV, WALK_FORWARD_JSON, walk_forward_csv, walk_forward_json, walk_forward_results,
    write_walk_forward,
};
use crate::{
    dataset::{Dataset, Datasets},
    simulate::{SimError, Simulator},
};

/// One `walk_forward` entry with its windows over its data set.
#[derive(Debug)]
pub(crate) struct Section<'a> {
    pub(crate) wf: &'a WalkForward,
    pub(crate) windows: Vec<Window>,
    base: &'a Dataset,
}

impl Section<'_> {
    /// The stitched out-of-sample bars: from the first test bar to the last.
    pub(crate) fn oos_range(&self) -> Option<Range<usize>> {
        let mut tests = self.windows.iter().map(|w| &w.test).filter(|t| !t.is_empty());
        let first = tests.next()?;
        let last = tests.next_back().unwrap_or(first);
        Some(first.start..last.end)
    }
}

/// The ids of every walk-forward's out-of-sample simulations over data sets of `bars` bars.
pub(crate) fn out_of_sample_ids(queue: &Queue, bars: &BTreeMap<String, usize>) -> Vec<String> {
    let mut out = Vec::new();
    for wf in queue.walk_forwards() {
        let Some(&n) = bars.get(&wf.dataset) else { continue };
        let windows = wf.windows(n);
        let tests: Vec<&Window> = windows.iter().filter(|w| !w.test.is_empty()).collect();
        out.extend(tests.iter().map(|w| wf.test_spec(w, Params::new()).id));
        if let (Some(a), Some(b)) = (tests.first(), tests.last()) {
            out.push(wf.oos_spec(&(a.test.start..b.test.end)).id);
        }
    }
    out
}

/// A run's records, fed to a callback (any order: choices rank by queue index).
pub(crate) type Records<'a> = &'a mut dyn FnMut(&mut dyn FnMut(&bt_domain::SimRecord));

/// What an out-of-sample simulation computes.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// Window `k`'s test run.
    Window(usize),
    /// The stitched curve of every window.
    Stitched,
}

/// The chosen training run of a window.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub(crate) params: Params,
}

/// The training of one window: how many runs succeeded, and the best one (id, parameters,
/// statistics) when one did.
#[derive(Debug, Clone)]
pub(crate) struct Picked {
    pub(crate) trials: u64,
    pub(crate) best: Option<(String, Params, Stats)>,
}

/// The walk-forward entries of a run: their window data sets, and (once the training has run)
/// each window's choice.
#[derive(Debug)]
pub struct WalkForwards<'a> {
    pub(crate) sections: Vec<Section<'a>>,
    /// Training and test windows, and the stitched ranges, as data sets.
    datasets: BTreeMap<String, Dataset>,
    /// Out-of-sample simulation ids: section and target.
    targets: BTreeMap<String, (usize, Target)>,
    /// Per section and window, the choice (`None`: no successful training run).
    choices: OnceLock<Vec<Vec<Option<Choice>>>>,
}

impl<'a> WalkForwards<'a> {
    /// The entries of `queue` over its loaded data sets (validated: every entry's data set is
    /// there and has a window).
    pub(crate) fn new(queue: &'a Queue, data: &'a Datasets) -> WalkForwards<'a> {
        let mut sections = Vec::new();
        let mut datasets = BTreeMap::new();
        let mut targets = BTreeMap::new();
        for wf in queue.walk_forwards() {
            let Some(base) = data.get(&wf.dataset) else { continue };
            let s = sections.len();
            let section = Section { wf, windows: wf.windows(base.bars.len()), base };
            let mut add = |range: &Range<usize>, bars: Range<usize>, what: &str| {
                let name = window_name(&wf.dataset, range);
                datasets.entry(name).or_insert_with(|| window_dataset(base, range, bars, what));
            };
            for w in &section.windows {
                add(&w.train, w.train.clone(), "training bars");
                if !w.test.is_empty() {
                    add(&w.test, 0..w.test.end, "test bars");
                    targets.insert(wf.test_spec(w, Params::new()).id, (s, Target::Window(w.k)));
                }
            }
            if let Some(range) = section.oos_range() {
                add(&range, 0..range.end, "stitched test bars");
                targets.insert(wf.oos_spec(&range).id, (s, Target::Stitched));
            }
            sections.push(section);
        }
        WalkForwards { sections, datasets, targets, choices: OnceLock::new() }
    }

    /// Whether the queue has no walk-forward.
    pub(crate) fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// The queue's data sets and the windows', for the executor.
    pub(crate) fn lookup<'s>(&'s self, base: &'s Datasets) -> Lookup<'s> {
        Lookup { base, windows: &self.datasets }
    }

    /// The training of every window from the records read in queue order (`records` calls
    /// its argument with each): successful runs, and the one with the best `select_by` (NaN
    /// last, ties to the first in grid order).
    pub(crate) fn pick(&self, records: Records<'_>) -> Vec<Vec<Picked>> {
        type Best = (String, Params, Stats);
        let mut best: Vec<Vec<(u64, TopK<Best>)>> = self
            .sections
            .iter()
            .map(|s| s.windows.iter().map(|_| (0, TopK::new(1))).collect())
            .collect();
        let by_dataset = self.train_datasets();
        records(&mut |r| {
            let Some(stats) = r.stats() else { return };
            let Some(windows) = by_dataset.get(r.dataset.as_str()) else { return };
            for &(s, k) in windows {
                let wf = self.sections[s].wf;
                if r.id.len() > wf.id.len()
                    && r.id.starts_with(&wf.id)
                    && r.id.as_bytes()[wf.id.len()] == b'/'
                {
                    let score = stats.metric(&wf.select_by).unwrap_or(f64::NAN);
                    let (trials, top) = &mut best[s][k];
                    *trials += 1;
                    top.push(score, r.index, (r.id.clone(), r.params.clone(), *stats));
                }
            }
        });
        best.into_iter()
            .map(|windows| {
                windows
                    .into_iter()
                    .map(|(trials, top)| Picked {
                        trials,
                        best: top.into_sorted().into_iter().next(),
                    })
                    .collect()
            })
            .collect()
    }

    /// Chooses every window's parameters (see [`WalkForwards::pick`]) for the out-of-sample
    /// simulations.
    pub(crate) fn choose(&self, records: Records<'_>) {
        let choices = self
            .pick(records)
            .into_iter()
            .map(|windows| {
                windows
                    .into_iter()
                    .map(|p| p.best.map(|(_, params, _)| Choice { params }))
                    .collect()
            })
            .collect();
        let _ = self.choices.set(choices);
    }

    /// The training window data sets: name -> every (section, window) training on it (two
    /// entries on the same data set may share windows; each finds its records by id).
    fn train_datasets(&self) -> BTreeMap<String, Vec<(usize, usize)>> {
        let mut out: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
        for (s, section) in self.sections.iter().enumerate() {
            for w in &section.windows {
                out.entry(window_name(&section.wf.dataset, &w.train)).or_default().push((s, w.k));
            }
        }
        out
    }

    /// The out-of-sample simulations, once [`WalkForwards::choose`] has run.
    pub(crate) fn test_specs(&self) -> Vec<SimSpec> {
        let Some(choices) = self.choices.get() else { return Vec::new() };
        let mut out = Vec::new();
        for (section, chosen) in self.sections.iter().zip(choices) {
            for w in section.windows.iter().filter(|w| !w.test.is_empty()) {
                let params = chosen[w.k].as_ref().map(|c| c.params.clone()).unwrap_or_default();
                out.push(section.wf.test_spec(w, params));
            }
            if let Some(range) = section.oos_range() {
                out.push(section.wf.oos_spec(&range));
            }
        }
        out
    }

    /// Runs `spec` when it is an out-of-sample simulation of a walk-forward (`None`
    /// otherwise): the window chain up to its target.
    pub(crate) fn simulate(
        &self,
        sim: &Simulator<'_>,
        spec: &SimSpec,
    ) -> Option<Result<(Params, SimSummary), SimError>> {
        let &(s, target) = self.targets.get(&spec.id)?;
        Some(self.run_target(sim, s, target))
    }

    fn run_target(
        &self,
        sim: &Simulator<'_>,
        s: usize,
        target: Target,
    ) -> Result<(Params, SimSummary), SimError> {
        let section = &self.sections[s];
        let (upto, range) = match target {
            Target::Window(k) => (k, section.windows[k].test.clone()),
            Target::Stitched => (
                section.windows.len() - 1,
                section.oos_range().expect("a stitched target has test bars"),
            ),
        };
        let data = &self.datasets[&window_name(&section.wf.dataset, &range)];
        let mut acc = RunAccumulator::new(&data.stats, sim.pbo_blocks());
        let chain = self.chain(sim, s, upto, &mut |k, i, e| {
            let w = &section.windows[k];
            if let Target::Window(t) = target
                && t != k
            {
                return;
            }
            acc.on_equity(w.test.start + i - range.start, e);
        })?;
        // Trades with bar indices into `range`.
        let shift = |t: &Trade| Trade {
            entry_bar: t.entry_bar - range.start,
            exit_bar: t.exit_bar.map(|b| b - range.start),
            ..t.clone()
        };
        let runs: Vec<&WindowRun> = match target {
            Target::Window(k) => chain.iter().filter(|r| r.k == k).collect(),
            Target::Stitched => chain.iter().collect(),
        };
        let trades: Vec<Trade> =
            runs.iter().flat_map(|r| r.result.iter().flat_map(|b| &b.trades)).map(shift).collect();
        let last = runs.last().and_then(|r| r.result.as_ref());
        let (stats, returns): (Stats, _) = acc.finish(&RunFacts { trades: &trades, warmup: 0 });
        let params = match target {
            Target::Window(_) => runs.last().map(|r| r.params.clone()).unwrap_or_default(),
            Target::Stitched => Params::new(),
        };
        let summary = SimSummary {
            stats,
            returns,
            n_bars: range.len() as u64,
            bar_steps: runs.iter().flat_map(|r| &r.result).map(|b| b.bar_steps as u64).sum(),
            open_trades: last.map_or(0, |b| b.open_trades.len() as u64),
            cancelled_orders: runs.iter().flat_map(|r| &r.result).map(|b| b.cancelled_orders).sum(),
            bust_bar: runs
                .iter()
                .find_map(|r| r.result.as_ref().and_then(|b| b.bust_bar))
                .map(|b| (b - range.start) as u64),
        };
        Ok((params, summary))
    }

    /// Runs windows `0..=upto` of section `s` that have test bars, in order, each starting
    /// from the previous one's ending equity (the first from the entry's cash); `equity(k, i,
    /// e)` receives bar `i` of window `k`'s test range. A window without a choice, or after
    /// the account went bust, stays in cash.
    pub(crate) fn chain(
        &self,
        sim: &Simulator<'_>,
        s: usize,
        upto: usize,
        equity: &mut dyn FnMut(usize, usize, f64),
    ) -> Result<Vec<WindowRun>, SimError> {
        let section = &self.sections[s];
        let choices = self.choices.get().map(|c| &c[s]);
        let config = section.wf.config();
        let mut cash = config.cash;
        let mut out = Vec::new();
        for w in section.windows.iter().take(upto + 1).filter(|w| !w.test.is_empty()) {
            let data = &self.datasets[&window_name(&section.wf.dataset, &w.test)];
            let choice = choices.and_then(|c| c[w.k].as_ref());
            let (params, result) = match choice {
                Some(choice) if cash > 0.0 => {
                    let spec = section.wf.test_spec(w, choice.params.clone());
                    let (params, mut strategy) = sim.prepare(&spec)?;
                    let config = BacktestConfig { cash, ..spec.config };
                    let mut feed = Feed { from: w.test.start, k: w.k, equity: &mut *equity };
                    let result = bt_engine::run_from(
                        &data.bars,
                        strategy.as_mut(),
                        &config,
                        &data.cache,
                        &mut feed,
                        w.test.start,
                    )
                    .map_err(|e| SimError::WalkForward(format!("{}: {e}", window_label(w.k))))?;
                    cash = result.final_equity;
                    (params, Some(result))
                }
                _ => {
                    for i in 0..w.test.len() {
                        equity(w.k, i, cash);
                    }
                    (choice.map(|c| c.params.clone()).unwrap_or_default(), None)
                }
            };
            out.push(WindowRun { k: w.k, params, result });
        }
        Ok(out)
    }
}

impl WalkForwards<'_> {
    /// The stitched out-of-sample curve of section `s` (after [`WalkForwards::choose`]): its
    /// timestamps, equity and trades (bar indices into the curve); `None` without test bars.
    pub(crate) fn stitched_curve(
        &self,
        sim: &Simulator<'_>,
        s: usize,
    ) -> Result<Option<StitchedCurve>, SimError> {
        let section = &self.sections[s];
        let Some(range) = section.oos_range() else { return Ok(None) };
        let mut equity = vec![f64::NAN; range.len()];
        let chain = self.chain(sim, s, section.windows.len() - 1, &mut |k, i, e| {
            equity[section.windows[k].test.start + i - range.start] = e;
        })?;
        let trades = chain
            .iter()
            .flat_map(|r| r.result.iter().flat_map(|b| b.trades.iter().chain(&b.open_trades)))
            .map(|t| Trade {
                entry_bar: t.entry_bar - range.start,
                exit_bar: t.exit_bar.map(|b| b - range.start),
                ..t.clone()
            })
            .collect();
        // Buying with the first window's starting equity at the first test bar, and holding.
        let cash = equity.first().copied().filter(|e| e.is_finite());
        let buy_hold = cash.map(|cash| {
            bt_report::buy_and_hold(&section.base.bars.close()[range.clone()], cash, 0)
        });
        Ok(Some(StitchedCurve {
            timestamps: section.base.bars.timestamps()[range].to_vec(),
            equity,
            trades,
            buy_hold,
        }))
    }
}

/// A walk-forward's stitched out-of-sample curve.
#[derive(Debug, Clone)]
pub(crate) struct StitchedCurve {
    pub(crate) timestamps: Vec<i64>,
    pub(crate) equity: Vec<f64>,
    pub(crate) trades: Vec<Trade>,
    /// Buy and hold over the same bars from the same starting equity.
    pub(crate) buy_hold: Option<Vec<f64>>,
}

/// One window of a chain.
#[derive(Debug)]
pub(crate) struct WindowRun {
    pub(crate) k: usize,
    pub(crate) params: Params,
    /// `None` when the window stayed in cash.
    pub(crate) result: Option<BacktestResult>,
}

/// Passes on the equity of the bars from `from` on, numbered from 0.
struct Feed<'f> {
    from: usize,
    k: usize,
    equity: &'f mut dyn FnMut(usize, usize, f64),
}

impl EquityObserver for Feed<'_> {
    #[inline]
    fn on_equity(&mut self, bar_idx: usize, equity: f64) {
        if bar_idx >= self.from {
            (self.equity)(self.k, bar_idx - self.from, equity);
        }
    }
}

/// A window of `base` as a data set: `bars` of it (zero-copy) with statistics over `range`.
fn window_dataset(base: &Dataset, range: &Range<usize>, bars: Range<usize>, what: &str) -> Dataset {
    let window = |r: Range<usize>| base.bars.window(r).expect("windows hold at least 2 bars");
    let bars = window(bars);
    Dataset {
        stats: DatasetStats::new(&window(range.clone())),
        cache: bt_engine::IndicatorCache::new(),
        bars,
        source: format!("{} of {}: {}..{}", what, base.source, range.start, range.end),
        portfolio: None,
        costs: Vec::new(),
    }
}

/// The queue's data sets and the walk-forward windows', by name.
pub(crate) struct Lookup<'a> {
    base: &'a Datasets,
    windows: &'a BTreeMap<String, Dataset>,
}

impl DatasetLookup<Dataset> for Lookup<'_> {
    fn get(&self, name: &str) -> Option<&Dataset> {
        self.base.get(name).or_else(|| self.windows.get(name))
    }
}

/// Stage 2 of a run with walk-forwards: choose from the training results, then the
/// out-of-sample simulations.
impl bt_executor::Then for WalkForwards<'_> {
    fn specs(&self, dir: &LockedRunDir) -> Result<Vec<SimSpec>, ExecError> {
        let mut failed = None;
        self.choose(&mut |f| {
            if let Err(e) = bt_executor::for_each_in_queue_order(&dir.results(), |r| {
                f(&r);
                Ok(())
            }) {
                failed = Some(e);
            }
        });
        match failed {
            Some(e) => Err(e),
            None => Ok(self.test_specs()),
        }
    }
}
