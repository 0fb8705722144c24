//! A parsed queue: its data sets, explicit simulations, sweeps and walk-forwards (checked by
//! `validate`).

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use bt_domain::{
    BacktestConfig, Interval, Params, SimSpec, apply_config_params,
    hash::{FNV64_OFFSET, fnv1a_64_from},
    time,
};

use crate::{
    axis::Axis,
    error::{Problem, QueueError, Subject},
    file::{self, DatasetRepr, QueueRepr, SimRepr, SweepRepr, SyntheticRepr},
    sweep::{Plan, Sweep},
    value::{ConfigOverrides, CostOverrides},
    walk_forward::WalkForward,
};

/// Where a data set's bars come from.
#[derive(Debug, Clone, PartialEq)]
pub enum DatasetSource {
    /// A data file, resolved against the queue file's directory.
    File(PathBuf),
    /// Generated bars.
    Synthetic(SyntheticSpec),
}

pub use bt_domain::SyntheticSpec;

/// An explicit simulation of the queue file.
#[derive(Debug)]
pub(crate) struct Simulation {
    pub(crate) spec: SimSpec,
    pub(crate) overrides: ConfigOverrides,
    /// A parameter named after a broker setting whose value has the wrong type.
    pub(crate) config_problem: Option<String>,
}

/// A queue of simulations read from a RON file (format: docs/queue-format.md).
///
/// Reading checks the syntax and the shape; [`Queue::validate`] checks everything else and
/// must pass before anything runs. Sweeps are expanded lazily by [`Queue::iter`].
#[derive(Debug)]
pub struct Queue {
    name: String,
    hash: String,
    defaults: ConfigOverrides,
    default_config: BacktestConfig,
    datasets: BTreeMap<String, DatasetSource>,
    /// Portfolios: name -> the data sets it trades, in order.
    portfolios: BTreeMap<String, Vec<String>>,
    /// Data sets with broker costs of their own (used when they trade in a portfolio).
    costs: BTreeMap<String, CostOverrides>,
    /// Strategies the queue defines: name -> rules file (resolved against its directory).
    strategy_files: BTreeMap<String, PathBuf>,
    /// Every declared data set name, usable or not.
    declared: BTreeSet<String>,
    dataset_problems: Vec<Problem>,
    simulations: Vec<Simulation>,
    sweeps: Vec<Sweep>,
    walk_forwards: Vec<WalkForward>,
}

/// How many failing points of one sweep are listed before the rest are only counted.
const LISTED_POINT_FAILURES: usize = 3;

mod validate;
mod warmup;

impl Queue {
    /// Reads a queue file; data paths are resolved against its directory.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Queue, QueueError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| QueueError::Read { path: path.to_owned(), source })?;
        let base_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        Queue::from_str(&text, base_dir, &path.display().to_string())
    }

    /// Reads queue text; data paths are resolved against `base_dir`, and messages name the
    /// file `display_name`.
    pub fn from_str(text: &str, base_dir: &Path, display_name: &str) -> Result<Queue, QueueError> {
        let repr = file::parse(text, display_name)?;
        let mut queue = Queue::build(repr, base_dir, display_name);
        queue.hash = content_hash(text, &queue.datasets);
        Ok(queue)
    }

    fn build(repr: QueueRepr, base_dir: &Path, name: &str) -> Queue {
        let default_config = repr.defaults.apply(BacktestConfig::default());
        let mut datasets = BTreeMap::new();
        let mut dataset_problems = Vec::new();
        let mut costs = BTreeMap::new();
        let mut declared: BTreeSet<String> = repr.datasets.0.keys().cloned().collect();
        let portfolios = portfolios(repr.portfolios, &declared, &mut dataset_problems);
        declared.extend(portfolios.keys().cloned());
        for (ds_name, ds) in repr.datasets.0 {
            dataset_problems.extend(
                ds.costs
                    .problems()
                    .into_iter()
                    .map(|m| Problem::new(Subject::Dataset(ds_name.clone()), m)),
            );
            if !ds.costs.is_empty() {
                costs.insert(ds_name.clone(), ds.costs);
            }
            match dataset(&ds_name, ds, base_dir) {
                Ok(source) => {
                    datasets.insert(ds_name, source);
                }
                Err(messages) => dataset_problems.extend(
                    messages
                        .into_iter()
                        .map(|m| Problem::new(Subject::Dataset(ds_name.clone()), m)),
                ),
            }
        }
        for (name, s) in &repr.strategies.0 {
            if name.is_empty() || name.contains('/') {
                dataset_problems.push(Problem::new(
                    Subject::Queue,
                    format!("strategy name {name:?} must be non-empty and free of `/`"),
                ));
            }
            if s.rules.trim().is_empty() {
                dataset_problems.push(Problem::new(
                    Subject::Queue,
                    format!("strategy {name:?}: `rules` is empty: name a rules file"),
                ));
            }
        }
        let strategy_files =
            repr.strategies.0.into_iter().map(|(k, s)| (k, base_dir.join(s.rules))).collect();
        let simulations =
            repr.simulations.into_iter().map(|s| simulation(s, default_config)).collect();
        let sweeps = repr.sweeps.into_iter().map(|s| sweep(s, default_config)).collect();
        let walk_forwards =
            repr.walk_forward.into_iter().map(|w| WalkForward::new(w, default_config)).collect();
        Queue {
            name: name.to_owned(),
            hash: String::new(),
            defaults: repr.defaults,
            default_config,
            datasets,
            portfolios,
            costs,
            strategy_files,
            declared,
            dataset_problems,
            simulations,
            sweeps,
            walk_forwards,
        }
    }

    /// The display name of the queue file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A stable content hash: 16 hex digits of FNV-1a 64 over the file's bytes and the
    /// absolute path of every data file. Recorded by the executor and checked on resume.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The usable data sets by name (a broken one is reported by [`Queue::validate`]).
    pub fn datasets(&self) -> &BTreeMap<String, DatasetSource> {
        &self.datasets
    }

    /// The portfolios: name -> the data sets it trades on one cash account, in order
    /// (docs/portfolio.md). Simulations and sweeps name them like data sets.
    pub fn portfolios(&self) -> &BTreeMap<String, Vec<String>> {
        &self.portfolios
    }

    /// The broker costs data set `name` sets for itself (a data set's `costs`), which apply
    /// when it trades as an instrument of a portfolio; unset fields (all, for a data set
    /// without `costs`) keep the simulation's configuration.
    pub fn costs(&self, name: &str) -> CostOverrides {
        self.costs.get(name).copied().unwrap_or_default()
    }

    /// The strategies the queue defines in `strategies`: name -> rules file, resolved against
    /// the queue file's directory (the caller reads them: see bt-rules).
    pub fn strategy_files(&self) -> &BTreeMap<String, PathBuf> {
        &self.strategy_files
    }

    /// The broker settings of `defaults`, over [`BacktestConfig::default`].
    pub fn default_config(&self) -> BacktestConfig {
        self.default_config
    }

    /// Number of simulations [`Queue::iter`] yields. Grids with `where` are counted once, on
    /// the first call, by evaluating the constraint on every point (no point is stored).
    /// Walk-forward simulations are not counted: how many there are depends on the data's
    /// length ([`Queue::walk_forward_len`]).
    pub fn len(&self) -> u64 {
        self.simulations.len() as u64 + self.sweeps.iter().map(Sweep::len).sum::<u64>()
    }

    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.walk_forwards.is_empty()
    }

    /// The `walk_forward` entries, in file order.
    pub fn walk_forwards(&self) -> &[WalkForward] {
        &self.walk_forwards
    }

    /// Number of walk-forward simulations over data sets of `bars` bars each (by name): per
    /// entry, points times windows for the training, plus one run per window with test bars
    /// and one stitched run when there is any.
    pub fn walk_forward_len(&self, bars: &BTreeMap<String, usize>) -> u64 {
        self.walk_forwards
            .iter()
            .map(|w| {
                let windows = bars.get(&w.dataset).map_or(Vec::new(), |&n| w.windows(n));
                let tests = windows.iter().filter(|w| !w.test.is_empty()).count() as u64;
                w.points() * windows.len() as u64 + tests + u64::from(tests > 0)
            })
            .sum()
    }

    /// Every simulation in queue order: explicit simulations, then sweeps in listed order
    /// (each: data sets in listed order, then points in grid order, last name fastest).
    /// Points are generated on the fly; ids are stable whatever the order of execution.
    pub fn iter(&self) -> impl Iterator<Item = SimSpec> + '_ {
        self.simulations
            .iter()
            .map(|s| s.spec.clone())
            .chain(self.sweeps.iter().flat_map(Sweep::iter))
    }

    /// [`Queue::iter`], then every walk-forward's training simulations over data sets of
    /// `bars` bars each (by name): entry by entry, window by window, points in grid order.
    /// These are the simulations a run (or a shard) executes first; the out-of-sample ones
    /// depend on their results.
    pub fn iter_with<'a>(
        &'a self,
        bars: &'a BTreeMap<String, usize>,
    ) -> impl Iterator<Item = SimSpec> + Send + 'a {
        self.iter().chain(self.walk_forwards.iter().flat_map(move |w| {
            let windows = bars.get(&w.dataset).map_or(Vec::new(), |&n| w.windows(n));
            windows.into_iter().flat_map(move |window| w.train_specs(&window))
        }))
    }

    /// The broker settings the queue's `defaults` set (the rest are backtesting.py's).
    pub fn defaults(&self) -> ConfigOverrides {
        self.defaults
    }

    pub(crate) fn simulations(&self) -> &[Simulation] {
        &self.simulations
    }

    pub(crate) fn sweeps(&self) -> &[Sweep] {
        &self.sweeps
    }
}

/// Checks the `portfolios` map: a name of its own, at least one member, members that are data
/// sets of the queue (not portfolios), each listed once.
fn portfolios(
    repr: crate::ron_file::UniqueMap<Vec<String>>,
    datasets: &BTreeSet<String>,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, Vec<String>> {
    let known = || datasets.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", ");
    let mut out = BTreeMap::new();
    for (name, members) in repr.0 {
        let mut report = |m: String| problems.push(Problem::new(Subject::Dataset(name.clone()), m));
        if datasets.contains(&name) {
            report(format!(
                "portfolio {name:?} has the name of a data set: give the portfolio a name of its own"
            ));
        }
        if members.is_empty() {
            report("portfolio with no data sets: list at least one data set".into());
        }
        for (i, m) in members.iter().enumerate() {
            if members[..i].contains(m) {
                report(format!("data set {m:?} is listed twice in the portfolio: list it once"));
            } else if !datasets.contains(m) {
                report(format!(
                    "portfolio member {m:?} is not a data set of this queue; data sets: {}",
                    known()
                ));
            }
        }
        out.insert(name, members);
    }
    out
}

fn dataset(name: &str, ds: DatasetRepr, base_dir: &Path) -> Result<DatasetSource, Vec<String>> {
    let mut problems = Vec::new();
    if name.is_empty() || name.contains(['/', '[', ']']) {
        problems.push(
            "a dataset name must be non-empty and free of `/` (it is part of point ids), `[` and `]` (walk-forward windows are named `name[start:end]`)"
                .to_string(),
        );
    }
    let source = match (ds.path, ds.synthetic) {
        (Some(_), Some(_)) => {
            problems.push("give either `path` or `synthetic`, not both".into());
            None
        }
        (None, None) => {
            problems.push(
                "give `path: \"file.csv\"` or `synthetic: (bars: ..., seed: ..., interval: ...)`"
                    .into(),
            );
            None
        }
        (Some(path), None) if path.trim().is_empty() => {
            problems.push("`path` is empty: name a data file".into());
            None
        }
        (Some(path), None) => Some(DatasetSource::File(base_dir.join(path))),
        (None, Some(s)) => {
            synthetic(s).map_err(|p| problems.extend(p)).ok().map(DatasetSource::Synthetic)
        }
    };
    match source {
        Some(source) if problems.is_empty() => Ok(source),
        _ => Err(problems),
    }
}

fn synthetic(s: SyntheticRepr) -> Result<SyntheticSpec, Vec<String>> {
    let mut problems = Vec::new();
    let interval =
        s.interval.parse::<Interval>().map_err(|e| problems.push(format!("synthetic: {e}"))).ok();
    let start = match &s.start {
        None => Some(SyntheticSpec::DEFAULT_START),
        Some(text) => time::parse_iso(text).or_else(|| {
            problems.push(format!(
                "synthetic: start {text:?} is not a date: write e.g. \"2000-01-01T00:00:00\""
            ));
            None
        }),
    };
    let bars = usize::try_from(s.bars).unwrap_or(usize::MAX);
    if bars < 2 {
        problems.push(format!("synthetic: bars = {bars}: a backtest needs at least 2 bars"));
    }
    let start_price = s.start_price.unwrap_or(SyntheticSpec::DEFAULT_START_PRICE);
    if !(start_price.is_finite() && start_price > 0.0) {
        problems.push(format!("synthetic: start_price = {start_price}: expected a price > 0"));
    }
    let drift = s.drift.unwrap_or(SyntheticSpec::DEFAULT_DRIFT);
    if !drift.is_finite() {
        problems.push(format!("synthetic: drift = {drift}: expected a finite number"));
    }
    let volatility = s.volatility.unwrap_or(SyntheticSpec::DEFAULT_VOLATILITY);
    if !(volatility.is_finite() && volatility >= 0.0) {
        problems.push(format!("synthetic: volatility = {volatility}: expected a number >= 0"));
    }
    match (interval, start) {
        (Some(interval), Some(start)) if problems.is_empty() => Ok(SyntheticSpec {
            bars,
            seed: s.seed,
            interval,
            start,
            start_price,
            drift,
            volatility,
        }),
        _ => Err(problems),
    }
}

fn params(repr: crate::ron_file::UniqueMap<crate::value::ParamRepr>) -> Params {
    repr.0.into_iter().map(|(k, v)| (k, v.0)).collect()
}

fn simulation(s: SimRepr, defaults: BacktestConfig) -> Simulation {
    let params = params(s.params);
    let base = s.config.apply(defaults);
    let (config, config_problem) = match apply_config_params(&params, base) {
        Ok(config) => (config, None),
        Err(e) => (base, Some(e.to_string())),
    };
    Simulation {
        spec: SimSpec { id: s.id, dataset: s.dataset, strategy: s.strategy, params, config },
        overrides: s.config,
        config_problem,
    }
}

pub(crate) fn sweep(s: SweepRepr, defaults: BacktestConfig) -> Sweep {
    let fixed = params(s.params);
    let mut problems = Vec::new();
    let (values, random) = match (s.grid, s.random, s.space) {
        (Some(grid), None, None) => (Some(grid), None),
        (None, Some(random), Some(space)) => (Some(space), Some((random.n, random.seed))),
        (Some(_), Some(_), None) => {
            problems.push(
                "a random sweep samples from `space`, not `grid`: rename `grid` to `space`".into(),
            );
            (None, None)
        }
        (None, None, Some(_)) => {
            problems.push(
                "`space` needs `random: (n: ..., seed: ...)`; for every point, use `grid`".into(),
            );
            (None, None)
        }
        (Some(_), _, Some(_)) => {
            problems.push("give `grid` or `space`, not both".into());
            (None, None)
        }
        (None, Some(_), None) => {
            problems.push("`random` needs `space: {\"name\": values, ...}` to sample from".into());
            (None, None)
        }
        (None, None, None) => {
            problems.push(
                "give `grid: {\"name\": values, ...}`, or `random: (n: ..., seed: ...)` with `space: {...}`".into(),
            );
            (None, None)
        }
    };
    let section = if random.is_some() { "space" } else { "grid" };
    let mut axes = Vec::new();
    for (name, raw) in values.map(|v| v.0).unwrap_or_default() {
        if fixed.contains_key(&name) {
            problems.push(format!(
                "parameter `{name}` is both fixed in `params` and swept in `{section}`: keep one"
            ));
        }
        match Axis::from_ron(raw.get_ron()) {
            Ok(axis) => axes.push((name, axis)),
            Err(e) => problems.push(format!("{section} values of `{name}`: {e}")),
        }
    }
    let plan = if problems.is_empty() {
        Plan::new(axes, &fixed, s.where_, random).map_err(|e| problems.push(e)).ok()
    } else {
        None
    };
    let sets_config = fixed
        .keys()
        .chain(plan.iter().flat_map(|p| p.names.iter()))
        .any(|k| BacktestConfig::is_field(k));
    Sweep {
        sets_config,
        id: s.id,
        datasets: s.datasets,
        strategy: s.strategy,
        fixed,
        overrides: s.config,
        config: s.config.apply(defaults),
        problems,
        plan,
    }
}

fn content_hash(text: &str, datasets: &BTreeMap<String, DatasetSource>) -> String {
    let mut h = fnv1a_64_from(FNV64_OFFSET, text.as_bytes());
    for source in datasets.values() {
        if let DatasetSource::File(path) = source {
            // The same queue text pointing at other data must not resume old results.
            let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            h = fnv1a_64_from(h, &[0]);
            h = fnv1a_64_from(h, path.as_os_str().as_encoded_bytes());
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_can_be_shared_between_executor_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Queue>();
    }

    #[test]
    fn synthetic_defaults_and_checks() {
        let s = |extra: &str| {
            let text = format!(
                "(version: 1, datasets: {{\"s\": (synthetic: (bars: 100, seed: 7, interval: \"1m\"{extra}))}}, simulations: [])"
            );
            Queue::from_str(&text, Path::new("."), "q.ron").unwrap()
        };
        let q = s("");
        let DatasetSource::Synthetic(spec) = &q.datasets()["s"] else { panic!("not synthetic") };
        assert_eq!(*spec, SyntheticSpec::new(100, 7, Interval::MINUTE));
        assert_eq!(time::format_iso(SyntheticSpec::DEFAULT_START), "2000-01-01T00:00:00");
        let q = s(", start: \"2021-06-01\", start_price: 50, drift: 0.001, volatility: 0.02");
        let DatasetSource::Synthetic(spec) = &q.datasets()["s"] else { panic!("not synthetic") };
        assert_eq!((spec.start_price, spec.drift, spec.volatility), (50.0, 0.001, 0.02));
        assert_eq!(time::format_iso(spec.start), "2021-06-01T00:00:00");
        let q = s(", start: \"June\", volatility: -1");
        assert!(q.datasets().is_empty());
        assert_eq!(q.dataset_problems.len(), 2, "{:?}", q.dataset_problems);
    }
}
