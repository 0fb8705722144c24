//! Parameters whose warm-up needs at least as many bars as the data has: such a simulation
//! never trades (or fails at its first indicator), which only running it would tell.

use std::collections::BTreeMap;

use bt_domain::{StrategyCatalog, strategy_params};

use super::{Queue, validate::point_name};
use crate::{
    error::{Problem, QueueError, Subject},
    sweep::{Cursor, Sweep},
};

impl Queue {
    /// Checks every simulation, sweep point and walk-forward point against the length of its
    /// data (`bars`, by data set name; a walk-forward's against its `train` window): a
    /// warm-up ([`StrategyCatalog::warmup`]) of at least that many bars is a problem naming
    /// the simulation or sweep, the first offending point and how many there are. Strategies
    /// that cannot tell their warm-up without data are not checked.
    pub fn validate_warmups(
        &self,
        catalog: &dyn StrategyCatalog,
        bars: &BTreeMap<String, usize>,
    ) -> Result<(), QueueError> {
        let mut problems = Vec::new();
        for sim in &self.simulations {
            let spec = &sim.spec;
            let (Some(&n), Some(w)) =
                (bars.get(&spec.dataset), catalog.warmup(&spec.strategy, &spec.strategy_params()))
            else {
                continue;
            };
            if w >= n {
                problems.push(Problem::new(
                    Subject::Simulation(spec.id.clone()),
                    format!(
                        "its warm-up is {w} bars but data set {:?} has {n}: it would never trade; shorten its periods or use more data",
                        spec.dataset
                    ),
                ));
            }
        }
        for sweep in &self.sweeps {
            let shortest = sweep.datasets.iter().filter_map(|d| Some((*bars.get(d)?, d))).min();
            if let Some((n, dataset)) = shortest {
                let what = format!("the bars of data set {dataset:?}");
                if let Some(p) = sweep_problem(sweep, catalog, n, &what) {
                    problems.push(Problem::new(Subject::Sweep(sweep.id.clone()), p));
                }
            }
        }
        for w in &self.walk_forwards {
            let Some(&n) = bars.get(&w.dataset) else { continue };
            let train = w.train.min(n);
            let what = format!("a training window (train = {})", w.train);
            if let Some(p) = sweep_problem(&w.sweep, catalog, train, &what) {
                problems.push(Problem::new(Subject::WalkForward(w.id.clone()), p));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(QueueError::Invalid { file: self.name.clone(), problems })
        }
    }
}

/// The problem of a sweep whose points need `n` bars or more of warm-up (`what` says where
/// `n` comes from), if any.
fn sweep_problem(
    sweep: &Sweep,
    catalog: &dyn StrategyCatalog,
    n: usize,
    what: &str,
) -> Option<String> {
    let plan = sweep.plan.as_ref()?;
    let mut cursor = Cursor::new(plan);
    let (mut count, mut total, mut first) = (0u64, 0u64, None);
    while let Some(idx) = cursor.next() {
        total += 1;
        let params = strategy_params(&sweep.params(plan, idx));
        if let Some(w) = catalog.warmup(&sweep.strategy, &params).filter(|&w| w >= n) {
            count += 1;
            first.get_or_insert_with(|| (point_name(plan, idx), w));
        }
    }
    let (point, w) = first?;
    Some(format!(
        "{count} of its {total} points need a warm-up of at least {n} bars, {what}, so they would never trade; the first: {point} (warm-up {w} bars): narrow the ranges (e.g. with `where`) or use more data"
    ))
}
