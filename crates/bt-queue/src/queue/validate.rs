//! Checking a queue before anything runs: every problem at once, each naming its subject.

use std::collections::{BTreeMap, BTreeSet};

use bt_domain::{StrategyCatalog, apply_config_params, strategy_params};

use super::{DatasetSource, LISTED_POINT_FAILURES, Queue};
use crate::{
    error::{Problem, QueueError, Subject},
    sweep::{Cursor, Plan, Sweep},
    value::push_id_value,
};

impl Queue {
    /// Checks what needs the data's length: every walk-forward entry must have a window, i.e.
    /// `train` at most the bars of its data set (`bars`, by name).
    pub fn validate_lengths(&self, bars: &BTreeMap<String, usize>) -> Result<(), QueueError> {
        let problems: Vec<Problem> = self
            .walk_forwards
            .iter()
            .filter_map(|w| {
                let n = *bars.get(&w.dataset)?;
                w.windows(n).is_empty().then(|| {
                    Problem::new(
                        Subject::WalkForward(w.id.clone()),
                        format!(
                            "train = {} bars, but data set {:?} has {n}: use a `train` of at most {n} bars",
                            w.train, w.dataset
                        ),
                    )
                })
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(QueueError::Invalid { file: self.name.clone(), problems })
        }
    }

    /// Checks everything that can be checked before running, and reports every problem at
    /// once: duplicate ids, unknown data sets, missing data files, unknown strategies and
    /// invalid parameters (of every sweep point), invalid configs, sweeps without points,
    /// malformed sweeps, and a queue with nothing to run.
    pub fn validate(&self, catalog: &dyn StrategyCatalog) -> Result<(), QueueError> {
        let mut problems = Vec::new();
        if self.simulations.is_empty() && self.sweeps.is_empty() && self.walk_forwards.is_empty() {
            problems.push(Problem::new(
                Subject::Queue,
                "nothing to run: add a simulation to `simulations`, a sweep to `sweeps` or an entry to `walk_forward`",
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
        for (name, path) in &self.strategy_files {
            if !path.is_file() {
                problems.push(Problem::new(
                    Subject::Queue,
                    format!(
                        "strategy {name:?}: rules file {} does not exist: fix `rules` (it is relative to the queue file's directory)",
                        path.display()
                    ),
                ));
            }
        }
        self.validate_simulations(catalog, &mut problems);
        self.validate_sweeps(catalog, &mut problems);
        self.validate_walk_forwards(catalog, &mut problems);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(QueueError::Invalid { file: self.name.clone(), problems })
        }
    }

    /// How many sweeps and walk-forward entries use each id (they share the id space).
    fn section_id_counts(&self) -> BTreeMap<&str, usize> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for id in self.sweeps.iter().map(|s| &s.id).chain(self.walk_forwards.iter().map(|w| &w.id))
        {
            *counts.entry(id).or_default() += 1;
        }
        counts
    }

    fn validate_walk_forwards(&self, catalog: &dyn StrategyCatalog, problems: &mut Vec<Problem>) {
        let counts = self.section_id_counts();
        let explicit: BTreeSet<&str> =
            self.simulations.iter().map(|s| s.spec.id.as_str()).collect();
        let mut reported = BTreeSet::new();
        for w in &self.walk_forwards {
            let mut report = |message: String| {
                problems.push(Problem::new(Subject::WalkForward(w.id.clone()), message))
            };
            if w.id.is_empty() {
                report("the id is empty: give every walk-forward a unique id".into());
            }
            if w.id.contains('/') {
                report("the id contains `/`, which separates the parts of simulation ids: use `-` or `_`".into());
            }
            // A sweep with the same id has reported the clash already.
            let count = counts[w.id.as_str()];
            if count > 1 && !self.sweeps.iter().any(|s| s.id == w.id) && reported.insert(&w.id) {
                report(format!(
                    "the id is used by {count} sweeps or walk-forwards: give each a unique id"
                ));
            }
            let prefix = format!("{}/", w.id);
            if explicit.range(prefix.as_str()..).next().is_some_and(|id| id.starts_with(&prefix)) {
                report(format!(
                    "explicit simulations have ids starting with {prefix:?}, which are the walk-forward's: rename them"
                ));
            }
            if !self.declared.contains(&w.dataset) {
                report(format!(
                    "unknown dataset {:?}; datasets of this queue: {}",
                    w.dataset,
                    self.known_datasets()
                ));
            }
            if w.train < 2 {
                report(format!("train = {} bars: a training window needs at least 2", w.train));
            }
            if w.test < 2 {
                report(format!("test = {} bars: a test window needs at least 2", w.test));
            }
            if let Err(e) = bt_domain::ranking::rank_metric(&w.select_by) {
                report(format!("select_by: {e}"));
            }
            check_sweep(&w.sweep, catalog, &mut report);
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
        let counts = self.section_id_counts();
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
                report(format!(
                    "the id is used by {count} sweeps or walk-forwards: give each a unique id"
                ));
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
            if !check_sweep(sweep, catalog, &mut report) {
                continue;
            }
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

/// A sweep's own checks (its config, the problems found while reading it, an empty grid) and
/// then its points'; whether it has points (so that callers check their ids).
fn check_sweep(
    sweep: &Sweep,
    catalog: &dyn StrategyCatalog,
    report: &mut dyn FnMut(String),
) -> bool {
    if !sweep.overrides.is_empty()
        && let Err(e) = sweep.config.validate()
    {
        report(format!("config: {e}"));
    }
    for p in &sweep.problems {
        report(p.clone());
    }
    let Some(plan) = &sweep.plan else { return false };
    if plan.point_count() == 0 {
        let src = plan.where_src.as_deref().unwrap_or_default();
        report(format!(
            "no grid point satisfies where {src:?}: relax the condition or widen the grid"
        ));
        return false;
    }
    check_points(sweep, plan, catalog, report);
    true
}

/// Runs the catalog on every point of a sweep (once: points do not depend on the data set).
/// Failures are grouped by the rule they break ([`bt_domain::StrategyError::rule`]): each
/// rule lists its first points and says how many more break it; an unknown strategy or
/// parameter name, the same for every point, is reported once.
fn check_points(
    sweep: &Sweep,
    plan: &Plan,
    catalog: &dyn StrategyCatalog,
    report: &mut dyn FnMut(String),
) {
    let mut cursor = Cursor::new(plan);
    let mut total = 0u64;
    // Per rule, in order of first failure: how many points break it.
    let mut rules: Vec<(String, u64)> = Vec::new();
    while let Some(idx) = cursor.next() {
        total += 1;
        let params = sweep.params(plan, idx);
        // Broker settings given as parameters: checked per point, unless the sweep's own
        // config is already reported as invalid.
        let config = if sweep.sets_config && sweep.config.validate().is_ok() {
            apply_config_params(&params, sweep.config)
                .and_then(|c| c.validate())
                .map_err(|e| (format!("config: {e}"), format!("config: {e}")))
        } else {
            Ok(())
        };
        let checked = config.and_then(|()| {
            catalog.check(&sweep.strategy, &strategy_params(&params)).map_err(|e| {
                if e.is_sweep_wide() {
                    (e.to_string(), String::new())
                } else {
                    (e.to_string(), e.rule())
                }
            })
        });
        let Err((message, rule)) = checked else { continue };
        if rule.is_empty() {
            report(message);
            return;
        }
        let k = match rules.iter().position(|(r, _)| *r == rule) {
            Some(k) => k,
            None => {
                rules.push((rule, 0));
                rules.len() - 1
            }
        };
        rules[k].1 += 1;
        if rules[k].1 <= LISTED_POINT_FAILURES as u64 {
            report(format!("point {}: {message}", point_name(plan, idx)));
        }
    }
    for (rule, n) in rules {
        if n > LISTED_POINT_FAILURES as u64 {
            report(format!(
                "{} more of its {total} points break the same rule ({rule})",
                n - LISTED_POINT_FAILURES as u64
            ));
        }
    }
}

/// `fast=5,slow=40`: a point's values, as in its id.
pub(super) fn point_name(plan: &Plan, idx: &[u64]) -> String {
    let mut point = String::new();
    for (k, (name, axis)) in plan.names.iter().zip(&plan.axes).enumerate() {
        if k > 0 {
            point.push(',');
        }
        point.push_str(name);
        point.push('=');
        push_id_value(&mut point, &axis.value(idx[k]));
    }
    point
}
