//! A parsed queue: its data sets, explicit simulations and sweeps, and their validation.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use bt_domain::{
    BacktestConfig, Interval, Params, SimSpec, StrategyCatalog, apply_config_params,
    hash::{FNV64_OFFSET, fnv1a_64_from},
    strategy_params, time,
};

use crate::{
    axis::Axis,
    error::{Problem, QueueError, Subject},
    file::{self, DatasetRepr, QueueRepr, SimRepr, SweepRepr, SyntheticRepr},
    sweep::{Cursor, Plan, Sweep},
    value::{ConfigOverrides, push_id_value},
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
    /// Every declared data set name, usable or not.
    declared: BTreeSet<String>,
    dataset_problems: Vec<Problem>,
    simulations: Vec<Simulation>,
    sweeps: Vec<Sweep>,
}

/// How many failing points of one sweep are listed before the rest are only counted.
const LISTED_POINT_FAILURES: usize = 3;

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
        let declared = repr.datasets.0.keys().cloned().collect();
        for (ds_name, ds) in repr.datasets.0 {
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
        let simulations =
            repr.simulations.into_iter().map(|s| simulation(s, default_config)).collect();
        let sweeps = repr.sweeps.into_iter().map(|s| sweep(s, default_config)).collect();
        Queue {
            name: name.to_owned(),
            hash: String::new(),
            defaults: repr.defaults,
            default_config,
            datasets,
            declared,
            dataset_problems,
            simulations,
            sweeps,
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

    /// The broker settings of `defaults`, over [`BacktestConfig::default`].
    pub fn default_config(&self) -> BacktestConfig {
        self.default_config
    }

    /// Number of simulations [`Queue::iter`] yields. Grids with `where` are counted once, on
    /// the first call, by evaluating the constraint on every point (no point is stored).
    pub fn len(&self) -> u64 {
        self.simulations.len() as u64 + self.sweeps.iter().map(Sweep::len).sum::<u64>()
    }

    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// Checks everything that can be checked before running, and reports every problem at
    /// once: duplicate ids, unknown data sets, missing data files, unknown strategies and
    /// invalid parameters (of every sweep point), invalid configs, sweeps without points,
    /// malformed sweeps, and a queue with nothing to run.
    pub fn validate(&self, catalog: &dyn StrategyCatalog) -> Result<(), QueueError> {
        let mut problems = Vec::new();
        if self.simulations.is_empty() && self.sweeps.is_empty() {
            problems.push(Problem::new(
                Subject::Queue,
                "nothing to run: add a simulation to `simulations` or a sweep to `sweeps`",
            ));
        }
        if let Err(e) = self.default_config.validate() {
            problems.push(Problem::new(Subject::Defaults, e.to_string()));
        }
        problems.extend(self.dataset_problems.iter().cloned());
        for (name, source) in &self.datasets {
            if let DatasetSource::File(path) = source {
                if !path.exists() {
                    problems.push(Problem::new(
                        Subject::Dataset(name.clone()),
                        format!(
                            "data file {} does not exist: fix `path` (it is relative to the queue file's directory)",
                            path.display()
                        ),
                    ));
                } else if !path.is_file() {
                    problems.push(Problem::new(
                        Subject::Dataset(name.clone()),
                        format!("{} is not a file: `path` must name a data file", path.display()),
                    ));
                }
            }
        }
        self.validate_simulations(catalog, &mut problems);
        self.validate_sweeps(catalog, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(QueueError::Invalid { file: self.name.clone(), problems })
        }
    }

    fn known_datasets(&self) -> String {
        if self.declared.is_empty() {
            "none".into()
        } else {
            self.declared.iter().map(|d| format!("{d:?}")).collect::<Vec<_>>().join(", ")
        }
    }

    fn validate_simulations(&self, catalog: &dyn StrategyCatalog, problems: &mut Vec<Problem>) {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for sim in &self.simulations {
            *counts.entry(&sim.spec.id).or_default() += 1;
        }
        let mut reported = BTreeSet::new();
        for sim in &self.simulations {
            let spec = &sim.spec;
            let subject = || Subject::Simulation(spec.id.clone());
            if spec.id.is_empty() {
                problems.push(Problem::new(
                    subject(),
                    "the id is empty: give every simulation a unique id",
                ));
            }
            let count = counts[spec.id.as_str()];
            if count > 1 && reported.insert(&spec.id) {
                problems.push(Problem::new(
                    subject(),
                    format!("the id is used by {count} simulations: give each a unique id"),
                ));
            }
            if !self.declared.contains(&spec.dataset) {
                problems.push(Problem::new(
                    subject(),
                    format!(
                        "unknown dataset {:?}; datasets of this queue: {}",
                        spec.dataset,
                        self.known_datasets()
                    ),
                ));
            }
            if let Some(p) = &sim.config_problem {
                problems.push(Problem::new(subject(), format!("config: {p}")));
            } else if (!sim.overrides.is_empty()
                || spec.params.len() != spec.strategy_params().len())
                && let Err(e) = spec.config.validate()
            {
                problems.push(Problem::new(subject(), format!("config: {e}")));
            }
            if let Err(e) = catalog.check(&spec.strategy, &spec.strategy_params()) {
                problems.push(Problem::new(subject(), e.to_string()));
            }
        }
    }

    fn validate_sweeps(&self, catalog: &dyn StrategyCatalog, problems: &mut Vec<Problem>) {
        let explicit: BTreeSet<&str> =
            self.simulations.iter().map(|s| s.spec.id.as_str()).collect();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for sweep in &self.sweeps {
            *counts.entry(&sweep.id).or_default() += 1;
        }
        let mut reported = BTreeSet::new();
        for sweep in &self.sweeps {
            let mut report = |message: String| {
                problems.push(Problem::new(Subject::Sweep(sweep.id.clone()), message))
            };
            if sweep.id.is_empty() {
                report("the id is empty: give every sweep a unique id".into());
            }
            if sweep.id.contains('/') {
                report(
                    "the id contains `/`, which separates the parts of point ids: use `-` or `_`"
                        .into(),
                );
            }
            let count = counts[sweep.id.as_str()];
            if count > 1 && reported.insert(&sweep.id) {
                report(format!("the id is used by {count} sweeps: give each a unique id"));
            }
            if sweep.datasets.is_empty() {
                report("`datasets` is empty: list at least one dataset".into());
            }
            for (i, ds) in sweep.datasets.iter().enumerate() {
                if sweep.datasets[..i].contains(ds) {
                    report(format!("dataset {ds:?} is listed twice: list it once"));
                } else if !self.declared.contains(ds) {
                    report(format!(
                        "unknown dataset {ds:?}; datasets of this queue: {}",
                        self.known_datasets()
                    ));
                }
            }
            if !sweep.overrides.is_empty()
                && let Err(e) = sweep.config.validate()
            {
                report(format!("config: {e}"));
            }
            for p in &sweep.problems {
                report(p.clone());
            }
            let Some(plan) = &sweep.plan else { continue };
            if plan.point_count() == 0 {
                let src = plan.where_src.as_deref().unwrap_or_default();
                report(format!(
                    "no grid point satisfies where {src:?}: relax the condition or widen the grid"
                ));
                continue;
            }
            check_points(sweep, plan, catalog, &mut report);
            // Sweep ids are distinct and free of `/`, and points within a sweep are distinct,
            // so a point id can only clash with an explicit simulation's id.
            let prefix = format!("{}/", sweep.id);
            if explicit.range(prefix.as_str()..).next().is_some_and(|id| id.starts_with(&prefix)) {
                for spec in sweep.iter() {
                    if explicit.contains(spec.id.as_str()) {
                        problems.push(Problem::new(
                            Subject::Simulation(spec.id.clone()),
                            format!(
                                "the id is also generated by sweep {:?}: rename the simulation",
                                sweep.id
                            ),
                        ));
                    }
                }
            }
        }
    }
}

/// Runs the catalog on every point of a sweep (once: points do not depend on the data set).
fn check_points(
    sweep: &Sweep,
    plan: &Plan,
    catalog: &dyn StrategyCatalog,
    report: &mut dyn FnMut(String),
) {
    let mut cursor = Cursor::new(plan);
    let (mut failed, mut total) = (0u64, 0u64);
    while let Some(idx) = cursor.next() {
        total += 1;
        let params = sweep.params(plan, idx);
        // Broker settings given as parameters: checked per point, unless the sweep's own
        // config is already reported as invalid.
        let config = if sweep.sets_config && sweep.config.validate().is_ok() {
            apply_config_params(&params, sweep.config)
                .and_then(|c| c.validate())
                .map_err(|e| format!("config: {e}"))
        } else {
            Ok(())
        };
        let checked = config.and_then(|()| {
            catalog.check(&sweep.strategy, &strategy_params(&params)).map_err(|e| e.to_string())
        });
        if let Err(e) = checked {
            failed += 1;
            if failed <= LISTED_POINT_FAILURES as u64 {
                let mut point = String::new();
                for (k, (name, axis)) in plan.names.iter().zip(&plan.axes).enumerate() {
                    if k > 0 {
                        point.push(',');
                    }
                    point.push_str(name);
                    point.push('=');
                    push_id_value(&mut point, &axis.value(idx[k]));
                }
                report(format!("point {point}: {e}"));
            }
        }
    }
    if failed > LISTED_POINT_FAILURES as u64 {
        report(format!(
            "{} more of its {total} points fail the same check",
            failed - LISTED_POINT_FAILURES as u64
        ));
    }
}

fn dataset(name: &str, ds: DatasetRepr, base_dir: &Path) -> Result<DatasetSource, Vec<String>> {
    let mut problems = Vec::new();
    if name.is_empty() || name.contains('/') {
        problems.push(
            "a dataset name must be non-empty and free of `/` (it is part of point ids)"
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

fn params(repr: crate::file::UniqueMap<crate::value::ParamRepr>) -> Params {
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

fn sweep(s: SweepRepr, defaults: BacktestConfig) -> Sweep {
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
