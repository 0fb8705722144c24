use std::path::{Path, PathBuf};

use bt_domain::{BacktestConfig, Params, SimRecord, SimSpec};
use bt_executor::RunDir;
use bt_queue::Queue;
use bt_report::{FilterTally, RecordFilter, ReportFiles};
use bt_strategies::Registry;

use crate::{
    dataset::{Dataset, Datasets, load_datasets},
    error::{Error, Result},
    filter::{FilterColumns, compile_filter},
    merge::{MergeOptions, MergeOutcome},
    reporting::{ReportOptions, queue_for_report, report_into},
    run::{RunOptions, RunOutcome},
    simulate::{Backtest, Simulator},
};

/// The workbench: a strategy registry and everything bt does with it. Queues in, run
/// directories, reports and merges out.
///
/// ```no_run
/// use bt::prelude::*;
/// let wb = Workbench::new(Registry::builtin());
/// let queue = wb.read_queue("data/queues/example.ron")?;
/// let outcome = wb.run_queue(&queue, &RunOptions { out: "runs/x".into(), ..RunOptions::default() })?;
/// wb.report(&outcome.dir, &ReportOptions::default())?;
/// # Ok::<(), bt::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Workbench {
    registry: Registry,
}

impl Default for Workbench {
    /// The built-in strategies.
    fn default() -> Workbench {
        Workbench::new(Registry::builtin())
    }
}

impl Workbench {
    /// A workbench whose queues, backtests and reports use `registry`'s strategies, plus the
    /// built-in portfolio strategies (`bt::portfolio`) where their names are free.
    pub fn new(registry: Registry) -> Workbench {
        Workbench { registry: crate::portfolio::with_builtin_portfolio_strategies(registry) }
    }

    /// The strategies.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The simulator the executor runs: registry strategy + engine + statistics.
    pub fn simulator(&self) -> Simulator<'_> {
        Simulator::new(&self.registry)
    }

    /// Reads a queue file and validates it against the registry: every problem is found
    /// before anything runs.
    pub fn read_queue(&self, path: impl AsRef<Path>) -> Result<Queue> {
        let queue = Queue::from_path(path)?;
        self.check_queue(&queue)?;
        Ok(queue)
    }

    /// Validates a queue against the registry.
    pub fn check_queue(&self, queue: &Queue) -> Result<()> {
        let registry = self.registry_for(queue)?;
        queue.validate(registry.as_ref())?;
        crate::portfolio::check_kinds(registry.as_ref(), queue)?;
        Ok(())
    }

    /// The registry with the rules strategies `queue` defines in `strategies`.
    pub fn registry_for(&self, queue: &Queue) -> Result<std::borrow::Cow<'_, Registry>> {
        crate::queue_strategies::with_queue_strategies(&self.registry, queue)
    }

    /// Loads (or generates) the data sets of a queue.
    pub fn load_datasets(&self, queue: &Queue) -> Result<Datasets> {
        load_datasets(queue)
    }

    /// Runs a queue into a run directory: its data sets are loaded first, then the executor
    /// runs every simulation (see [`RunOptions`]), then the report is written when asked.
    pub fn run_queue(&self, queue: &Queue, opts: &RunOptions<'_>) -> Result<RunOutcome> {
        self.check_queue(queue)?;
        let datasets = {
            let _span = tracing::info_span!("load_data").entered();
            load_datasets(queue)?
        };
        self.run_queue_with(queue, &datasets, opts)
    }

    /// [`Workbench::run_queue`] with data sets already loaded (by [`Workbench::load_datasets`]).
    pub fn run_queue_with(
        &self,
        queue: &Queue,
        datasets: &Datasets,
        opts: &RunOptions<'_>,
    ) -> Result<RunOutcome> {
        crate::run::run_queue(self.registry_for(queue)?.as_ref(), queue, datasets, opts)
    }

    /// Writes the report of the run in `dir` (into `dir`, or `opts.out`), re-running its top
    /// simulations to chart their equity curves. Takes the lock of the directory written.
    pub fn report(&self, dir: &Path, opts: &ReportOptions) -> Result<ReportFiles> {
        let run = RunDir::new(dir);
        let info = run.read_info()?.ok_or_else(|| Error::NotARunDir { path: dir.to_owned() })?;
        bt_domain::ranking::rank_metric(&opts.by)?;
        let queue = queue_for_report(&info)?;
        let target = opts.out.clone().unwrap_or_else(|| dir.to_owned());
        let _lock = RunDir::new(&target).lock(&bt_fs::this_process())?;
        let (queue, datasets) = match &queue {
            Some((q, d)) => (Some(q), d),
            None => (None, &Datasets::new()),
        };
        let registry = match queue {
            Some(q) => self.registry_for(q)?,
            None => std::borrow::Cow::Borrowed(&self.registry),
        };
        report_into(registry.as_ref(), &target, &run, &info, queue, datasets, opts)
    }

    /// Merges shard run directories into `out` (see [`MergeOptions`]).
    pub fn merge(
        &self,
        dirs: &[impl AsRef<Path>],
        out: impl AsRef<Path>,
        opts: &MergeOptions,
    ) -> Result<MergeOutcome> {
        let dirs: Vec<PathBuf> = dirs.iter().map(|d| d.as_ref().to_owned()).collect();
        crate::merge::merge(&self.registry, &dirs, out.as_ref(), opts)
    }

    /// One backtest of `strategy` with `params` on `data`, its equity curve recorded when
    /// `record_curve`.
    pub fn backtest(
        &self,
        data: &Dataset,
        strategy: &str,
        params: &Params,
        config: &BacktestConfig,
        record_curve: bool,
    ) -> Result<Backtest> {
        let spec = SimSpec {
            id: strategy.to_owned(),
            dataset: data.source.clone(),
            strategy: strategy.to_owned(),
            params: params.clone(),
            config: *config,
        };
        Ok(self.simulator().run(&spec, data, record_curve)?)
    }

    /// The best `k` successful simulations of a run directory by `metric`, best first
    /// (streamed: memory holds `k` records).
    pub fn leaderboard(&self, dir: &Path, metric: &str, k: usize) -> Result<Vec<SimRecord>> {
        bt_domain::ranking::rank_metric(metric)?;
        Ok(bt_executor::top_k_file(&RunDir::new(dir).results(), metric, k)?)
    }

    /// [`Workbench::leaderboard`] of the simulations `filter` keeps, and what it kept.
    pub fn leaderboard_filtered(
        &self,
        dir: &Path,
        metric: &str,
        k: usize,
        filter: Option<&RecordFilter>,
    ) -> Result<(Vec<SimRecord>, Option<FilterTally>)> {
        let Some(filter) = filter else {
            return Ok((self.leaderboard(dir, metric, k)?, None));
        };
        bt_domain::ranking::rank_metric(metric)?;
        let run = RunDir::new(dir);
        crate::reporting::leaders_of_run(&run, metric, k, filter)
    }

    /// The leaderboard filter `expr` and `--min-trades` `min_trades` for runs of `queue`: it
    /// may name the parameters of the queue's strategies (the registry's and the queue's rules
    /// files') and the broker settings, the statistics, `id`, `dataset` and `strategy` (see
    /// [`crate::filter`]). `None` when both are.
    pub fn queue_filter(
        &self,
        queue: Option<&Queue>,
        expr: Option<&str>,
        min_trades: Option<u64>,
    ) -> Result<Option<RecordFilter>> {
        if expr.is_none() && min_trades.is_none() {
            return Ok(None);
        }
        let registry = match queue {
            Some(q) => self.registry_for(q)?,
            None => std::borrow::Cow::Borrowed(&self.registry),
        };
        Ok(compile_filter(expr, min_trades, &FilterColumns::of_registry(&registry))?)
    }

    /// [`Workbench::queue_filter`] for the run in `dir` (its queue, when it can still be read;
    /// else this workbench's strategies).
    pub fn run_filter(
        &self,
        dir: &Path,
        expr: Option<&str>,
        min_trades: Option<u64>,
    ) -> Result<Option<RecordFilter>> {
        if expr.is_none() && min_trades.is_none() {
            return Ok(None);
        }
        let info = RunDir::new(dir)
            .read_info()?
            .ok_or_else(|| Error::NotARunDir { path: dir.to_owned() })?;
        let queue = Queue::from_path(&info.queue).ok();
        self.queue_filter(queue.as_ref(), expr, min_trades)
    }
}
