//! Sweeps: lazy grid expansion over index tuples and seeded random sampling without replacement.

use std::{collections::BTreeSet, sync::OnceLock};

use bt_domain::{BacktestConfig, Params, SimSpec, apply_config_params, rng::SplitMix64};

use bt_expr::scalar::{Binding, Scalar, Ty};

use crate::{
    axis::Axis,
    value::{ConfigOverrides, push_id_value},
};

/// Spaces up to this many points are sampled by shuffling the list of their indices.
const DENSE_LIMIT: u64 = 1 << 22;
/// Counting a space under `where` evaluates every point; beyond this it takes too long.
pub(crate) const COUNT_LIMIT: u64 = 100_000_000;

/// One sweep of a queue: which data sets, which strategy, and the points to run.
#[derive(Debug)]
pub(crate) struct Sweep {
    pub(crate) id: String,
    pub(crate) datasets: Vec<String>,
    pub(crate) strategy: String,
    pub(crate) fixed: Params,
    pub(crate) overrides: ConfigOverrides,
    pub(crate) config: BacktestConfig,
    /// Problems found while reading the sweep; reported by `Queue::validate`.
    pub(crate) problems: Vec<String>,
    /// `None` when the sweep is too broken to expand (see `problems`).
    pub(crate) plan: Option<Plan>,
    /// Whether a fixed or swept parameter is named after a broker setting.
    pub(crate) sets_config: bool,
}

/// The swept parameters of a sweep and how its points are chosen.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Swept parameter names, in name order (the last varies fastest).
    pub(crate) names: Vec<String>,
    pub(crate) axes: Vec<Axis>,
    pub(crate) where_src: Option<String>,
    filter: Option<Scalar>,
    pub(crate) points: Points,
}

#[derive(Debug)]
pub(crate) enum Points {
    /// Every point of the product that satisfies `where`; the count is computed on first use.
    Grid { count: OnceLock<u64> },
    /// Sampled flat indices (last axis fastest), ascending.
    Random { n: u64, seed: u64, indices: Vec<u64> },
}

impl Plan {
    /// Builds a plan; `fixed` parameters may appear in `where` as constants.
    pub(crate) fn new(
        axes: Vec<(String, Axis)>,
        fixed: &Params,
        where_src: Option<String>,
        random: Option<(u64, u64)>,
    ) -> Result<Plan, String> {
        let (names, axes): (Vec<String>, Vec<Axis>) = axes.into_iter().unzip();
        if names.is_empty() {
            return Err(format!(
                "the {} is empty: give at least one parameter and its values",
                if random.is_some() { "space" } else { "grid" }
            ));
        }
        let filter = match &where_src {
            None => None,
            Some(src) => Some(parse_where(src, &names, &axes, fixed)?),
        };
        let total = axes.iter().try_fold(1u64, |acc, a| acc.checked_mul(a.len()));
        let Some(total) = total else {
            return Err(
                "the product of the parameter values has more than 2^64 points: narrow it".into()
            );
        };
        let mut plan = Plan {
            names,
            axes,
            where_src,
            filter,
            points: Points::Grid { count: OnceLock::new() },
        };
        if let Some((n, seed)) = random {
            let indices = plan.sample(total, n, seed)?;
            plan.points = Points::Random { n, seed, indices };
        }
        Ok(plan)
    }

    /// Number of points (per data set).
    pub(crate) fn point_count(&self) -> u64 {
        match &self.points {
            Points::Grid { count } => *count.get_or_init(|| match &self.filter {
                None => self.total(),
                Some(_) => self.count_grid(),
            }),
            Points::Random { indices, .. } => indices.len() as u64,
        }
    }

    fn total(&self) -> u64 {
        // Checked in `new`.
        self.axes.iter().map(Axis::len).product()
    }

    fn sample(&self, total: u64, n: u64, seed: u64) -> Result<Vec<u64>, String> {
        if n == 0 {
            return Err("random n = 0 samples nothing: set n to at least 1".into());
        }
        if n > COUNT_LIMIT {
            return Err(format!(
                "random n = {n} is more than {COUNT_LIMIT} points: use a grid sweep"
            ));
        }
        let filtered = match &self.filter {
            None => total,
            Some(_) if total > COUNT_LIMIT => {
                return Err(format!(
                    "the space has {total} points, too many to count under `where` (limit {COUNT_LIMIT}): narrow the space or drop `where`"
                ));
            }
            Some(_) => self.count_grid(),
        };
        let space =
            if self.filter.is_some() { "points satisfy `where`" } else { "points in the space" };
        if n > filtered {
            return Err(format!(
                "random n = {n} is more than the {filtered} distinct {space}: lower n to at most {filtered} or widen the space"
            ));
        }
        let mut rng = SplitMix64::new(seed);
        let mut indices = if filtered <= DENSE_LIMIT || n.saturating_mul(2) >= filtered {
            // Partial Fisher-Yates over the list of valid points: exact, no retries.
            let mut all = Vec::with_capacity(filtered as usize);
            let mut cursor = Cursor::new(self);
            while let Some(idx) = cursor.next() {
                all.push(self.flat(idx));
            }
            for i in 0..n as usize {
                let j = i + rng.below((all.len() - i) as u64) as usize;
                all.swap(i, j);
            }
            all.truncate(n as usize);
            all
        } else {
            // Far fewer points wanted than exist: draw each parameter uniformly and retry
            // repeats and points that fail `where` (at least half of the draws succeed).
            let mut chosen = BTreeSet::new();
            let mut idx = vec![0; self.axes.len()];
            let mut slots = vec![0.0; self.axes.len()];
            while (chosen.len() as u64) < n {
                for (k, axis) in self.axes.iter().enumerate() {
                    idx[k] = rng.below(axis.len());
                    slots[k] = axis.number(idx[k]);
                }
                if self.filter.as_ref().is_none_or(|f| f.holds(&slots)) {
                    chosen.insert(self.flat(&idx));
                }
            }
            chosen.into_iter().collect()
        };
        // Grid order: independent of the order of the draws.
        indices.sort_unstable();
        Ok(indices)
    }

    fn count_grid(&self) -> u64 {
        let mut cursor = Cursor::new(self);
        let mut n = 0;
        while cursor.next().is_some() {
            n += 1;
        }
        n
    }

    fn flat(&self, idx: &[u64]) -> u64 {
        idx.iter().zip(&self.axes).fold(0, |acc, (&i, a)| acc * a.len() + i)
    }

    fn unflat(&self, mut flat: u64, idx: &mut [u64]) {
        for (k, axis) in self.axes.iter().enumerate().rev() {
            idx[k] = flat % axis.len();
            flat /= axis.len();
        }
    }
}

fn parse_where(
    src: &str,
    names: &[String],
    axes: &[Axis],
    fixed: &Params,
) -> Result<Scalar, String> {
    let resolve = |name: &str| -> Option<Binding> {
        if let Some(k) = names.iter().position(|n| n == name) {
            return Some(Binding::Slot(k, axes[k].ty()));
        }
        fixed.get(name).map(|v| match v {
            bt_domain::ParamValue::Int(i) => Binding::Const(*i as f64, Ty::Num),
            bt_domain::ParamValue::Float(x) => Binding::Const(*x, Ty::Num),
            bt_domain::ParamValue::Bool(b) => Binding::Const(f64::from(u8::from(*b)), Ty::Bool),
            bt_domain::ParamValue::Str(_) => Binding::Const(f64::NAN, Ty::Str),
        })
    };
    let known: BTreeSet<&str> =
        names.iter().map(String::as_str).chain(fixed.keys().map(String::as_str)).collect();
    let known: Vec<&str> = known.into_iter().collect();
    Scalar::compile(src, &resolve, &known)
        .map_err(|e| format!("where {src:?}: column {}: {}", e.column, e.message))
}

/// Walks the index tuples of a plan's points in order, without allocating per point.
pub(crate) struct Cursor<'a> {
    plan: &'a Plan,
    idx: Vec<u64>,
    slots: Vec<f64>,
    /// Grid: whether `idx` holds the last tuple visited.
    started: bool,
    done: bool,
    /// Random: position in `indices`.
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(plan: &'a Plan) -> Cursor<'a> {
        let n = plan.axes.len();
        Cursor { plan, idx: vec![0; n], slots: vec![0.0; n], started: false, done: false, pos: 0 }
    }

    pub(crate) fn reset(&mut self) {
        self.started = false;
        self.done = false;
        self.pos = 0;
    }

    /// The next point's index tuple, or `None` at the end (until `reset`).
    pub(crate) fn next(&mut self) -> Option<&[u64]> {
        let plan = self.plan;
        if let Points::Random { indices, .. } = &plan.points {
            let flat = *indices.get(self.pos)?;
            self.pos += 1;
            plan.unflat(flat, &mut self.idx);
            return Some(&self.idx);
        }
        loop {
            if self.done {
                return None;
            }
            if !self.started {
                self.started = true;
                self.idx.fill(0);
                for (k, axis) in plan.axes.iter().enumerate() {
                    self.slots[k] = axis.number(0);
                }
            } else if !self.advance() {
                self.done = true;
                return None;
            }
            if plan.filter.as_ref().is_none_or(|f| f.holds(&self.slots)) {
                return Some(&self.idx);
            }
        }
    }

    /// Odometer step, last axis fastest; false after the last tuple.
    fn advance(&mut self) -> bool {
        for k in (0..self.idx.len()).rev() {
            let axis = &self.plan.axes[k];
            self.idx[k] += 1;
            if self.idx[k] < axis.len() {
                self.slots[k] = axis.number(self.idx[k]);
                return true;
            }
            self.idx[k] = 0;
            self.slots[k] = axis.number(0);
        }
        false
    }
}

impl Sweep {
    /// The simulation of one point on one data set.
    pub(crate) fn spec(&self, plan: &Plan, dataset: &str, idx: &[u64]) -> SimSpec {
        let mut params = self.fixed.clone();
        let mut id = String::with_capacity(self.id.len() + dataset.len() + 16 * idx.len());
        id.push_str(&self.id);
        id.push('/');
        id.push_str(dataset);
        id.push('/');
        for (k, (name, axis)) in plan.names.iter().zip(&plan.axes).enumerate() {
            if k > 0 {
                id.push(',');
            }
            id.push_str(name);
            id.push('=');
            let v = axis.value(idx[k]);
            push_id_value(&mut id, &v);
            params.insert(name.clone(), v);
        }
        // Parameters named after broker settings set them (checked by `Queue::validate`).
        let config = if self.sets_config {
            apply_config_params(&params, self.config).unwrap_or(self.config)
        } else {
            self.config
        };
        SimSpec { id, dataset: dataset.to_owned(), strategy: self.strategy.clone(), params, config }
    }

    /// The parameters of one point (fixed and swept), without building an id.
    pub(crate) fn params(&self, plan: &Plan, idx: &[u64]) -> Params {
        let mut params = self.fixed.clone();
        for (k, (name, axis)) in plan.names.iter().zip(&plan.axes).enumerate() {
            params.insert(name.clone(), axis.value(idx[k]));
        }
        params
    }

    /// Number of simulations: points times data sets (0 for a broken sweep).
    pub(crate) fn len(&self) -> u64 {
        self.plan.as_ref().map_or(0, |p| p.point_count() * self.datasets.len() as u64)
    }

    pub(crate) fn iter(&self) -> SweepIter<'_> {
        SweepIter { sweep: self, cursor: self.plan.as_ref().map(Cursor::new), dataset: 0 }
    }
}

/// The simulations of a sweep: data sets in listed order, then points in grid order.
pub(crate) struct SweepIter<'a> {
    sweep: &'a Sweep,
    cursor: Option<Cursor<'a>>,
    dataset: usize,
}

impl Iterator for SweepIter<'_> {
    type Item = SimSpec;

    fn next(&mut self) -> Option<SimSpec> {
        let cursor = self.cursor.as_mut()?;
        loop {
            let dataset = self.sweep.datasets.get(self.dataset)?;
            let plan = cursor.plan;
            if let Some(idx) = cursor.next() {
                return Some(self.sweep.spec(plan, dataset, idx));
            }
            self.dataset += 1;
            cursor.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bt_domain::ParamValue;

    fn plan(
        axes: &[(&str, Axis)],
        where_src: Option<&str>,
        random: Option<(u64, u64)>,
    ) -> Result<Plan, String> {
        let axes = axes.iter().map(|(n, a)| (n.to_string(), a.clone())).collect();
        Plan::new(axes, &Params::new(), where_src.map(str::to_owned), random)
    }

    fn points(p: &Plan) -> Vec<Vec<u64>> {
        let mut c = Cursor::new(p);
        let mut out = Vec::new();
        while let Some(idx) = c.next() {
            out.push(idx.to_vec());
        }
        out
    }

    #[test]
    fn grid_walks_last_axis_fastest_and_filters() {
        let a = Axis::int_range(1, 3, 1).unwrap();
        let b = Axis::int_range(1, 3, 1).unwrap();
        let p = plan(&[("a", a.clone()), ("b", b.clone())], None, None).unwrap();
        assert_eq!(points(&p)[..4], [vec![0, 0], vec![0, 1], vec![0, 2], vec![1, 0]]);
        assert_eq!(p.point_count(), 9);
        let p = plan(&[("a", a), ("b", b)], Some("a < b"), None).unwrap();
        assert_eq!(points(&p), [vec![0, 1], vec![0, 2], vec![1, 2]]);
        assert_eq!(p.point_count(), 3);
    }

    #[test]
    fn cursor_restarts_after_reset_and_stays_exhausted_otherwise() {
        let p = plan(&[("a", Axis::int_range(1, 2, 1).unwrap())], None, None).unwrap();
        let mut c = Cursor::new(&p);
        assert!(c.next().is_some() && c.next().is_some());
        assert!(c.next().is_none() && c.next().is_none());
        c.reset();
        assert_eq!(c.next(), Some(&[0][..]));
    }

    #[test]
    fn flat_indices_round_trip() {
        let axes =
            [("a", Axis::int_range(0, 4, 1).unwrap()), ("b", Axis::int_range(0, 2, 1).unwrap())];
        let p = plan(&axes, None, None).unwrap();
        let mut idx = [0, 0];
        for (flat, expected) in points(&p).iter().enumerate() {
            assert_eq!(p.flat(expected), flat as u64);
            p.unflat(flat as u64, &mut idx);
            assert_eq!(&idx[..], &expected[..]);
        }
    }

    #[test]
    fn random_samples_are_distinct_seeded_and_filtered() {
        let axes =
            [("a", Axis::int_range(1, 40, 1).unwrap()), ("b", Axis::int_range(1, 40, 1).unwrap())];
        for n in [1, 10, 700, 780] {
            let p = plan(&axes, Some("a < b"), Some((n, 3))).unwrap();
            let pts = points(&p);
            assert_eq!(pts.len() as u64, n);
            assert!(pts.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
            assert!(pts.iter().all(|i| i[0] < i[1]));
        }
        let e = plan(&axes, Some("a < b"), Some((781, 3))).unwrap_err();
        assert!(e.contains("781") && e.contains("780"), "{e}");
    }

    #[test]
    fn sparse_sampling_draws_distinct_points() {
        // 5000 x 5000 = 25M points: above the dense limit, so draws are rejected and retried.
        let axes = [
            ("a", Axis::int_range(0, 4999, 1).unwrap()),
            ("b", Axis::int_range(0, 4999, 1).unwrap()),
        ];
        let p = plan(&axes, None, Some((2000, 9))).unwrap();
        let pts = points(&p);
        assert_eq!(pts.len(), 2000);
        assert!(pts.windows(2).all(|w| w[0] < w[1]));
        let again = plan(&axes, None, Some((2000, 9))).unwrap();
        assert_eq!(points(&again), pts);
        let other = plan(&axes, None, Some((2000, 10))).unwrap();
        assert_ne!(points(&other), pts);
    }

    #[test]
    fn where_sees_fixed_params_and_rejects_strings() {
        let mut fixed = Params::new();
        fixed.insert("cap".into(), ParamValue::Int(2));
        fixed.insert("mode".into(), ParamValue::Str("x".into()));
        let axes = vec![("a".to_string(), Axis::int_range(1, 5, 1).unwrap())];
        let p = Plan::new(axes.clone(), &fixed, Some("a <= cap".into()), None).unwrap();
        assert_eq!(p.point_count(), 2);
        let e = Plan::new(axes.clone(), &fixed, Some("mode == 1".into()), None).unwrap_err();
        assert!(e.contains("column 1") && e.contains("string"), "{e}");
        let e = Plan::new(axes, &fixed, Some("a < b".into()), None).unwrap_err();
        assert!(e.contains("column 5") && e.contains("a, cap, mode"), "{e}");
    }
}
