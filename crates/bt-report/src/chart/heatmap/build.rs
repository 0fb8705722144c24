//! Heatmap grids from a stream of records, in two passes of bounded memory: the first learns
//! each parameter's distinct values (up to one more than an axis shows, so whether an axis is
//! binned is known without keeping every value) and its range; the second fills the cells.

use std::{cmp::Ordering, collections::BTreeSet};

use bt_domain::{ParamValue, Params, SimRecord};

use super::{Agg, Axis, Grid, MAX_AXIS};
use crate::{
    chart::{
        Chart, Kind,
        group::{GroupKey, Grouped},
    },
    error::ReportError,
    source::{Records, visit},
    table::{metric_pos, metric_value},
};

/// Order of parameter values: numbers by value, then booleans, then strings.
fn cmp_param(a: &ParamValue, b: &ParamValue) -> Ordering {
    let rank = |v: &ParamValue| match v {
        ParamValue::Int(_) | ParamValue::Float(_) => 0,
        ParamValue::Bool(_) => 1,
        ParamValue::Str(_) => 2,
    };
    match (a, b) {
        (ParamValue::Bool(x), ParamValue::Bool(y)) => x.cmp(y),
        (ParamValue::Str(x), ParamValue::Str(y)) => x.cmp(y),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => rank(a).cmp(&rank(b)),
        },
    }
}

/// The distinct values of a parameter, at most `MAX_AXIS + 1` of them (enough to know an axis
/// must be binned), whether all are numbers, and the numbers' range.
#[derive(Debug, Clone)]
struct Distinct {
    /// Sorted by [`cmp_param`].
    values: Vec<ParamValue>,
    numeric: bool,
    /// Every value is an integer ([`ParamValue::Int`]): a binned axis gets whole-number bins.
    integer: bool,
    /// Smallest and largest number, in `f64::total_cmp` order.
    range: Option<(f64, f64)>,
}

impl Default for Distinct {
    fn default() -> Distinct {
        Distinct { values: Vec::new(), numeric: true, integer: true, range: None }
    }
}

impl Distinct {
    fn insert(&mut self, v: &ParamValue) {
        self.integer &= matches!(v, ParamValue::Int(_));
        match v.as_f64() {
            Some(x) => self.widen(x, x),
            None => self.numeric = false,
        }
        self.add(v);
    }

    fn add(&mut self, v: &ParamValue) {
        if self.values.len() > MAX_AXIS {
            return;
        }
        if let Err(i) = self.values.binary_search_by(|x| cmp_param(x, v)) {
            self.values.insert(i, v.clone());
        }
    }

    fn widen(&mut self, lo: f64, hi: f64) {
        self.range = Some(match self.range {
            None => (lo, hi),
            Some((a, b)) => (
                if lo.total_cmp(&a).is_lt() { lo } else { a },
                if hi.total_cmp(&b).is_gt() { hi } else { b },
            ),
        });
    }

    /// Adds the values of `other` (a union stays capped, and overflows when either did).
    fn merge(&mut self, other: &Distinct) {
        self.numeric &= other.numeric;
        self.integer &= other.integer;
        if let Some((lo, hi)) = other.range {
            self.widen(lo, hi);
        }
        other.values.iter().for_each(|v| self.add(v));
    }

    fn varies(&self) -> bool {
        self.values.len() > 1
    }

    /// The axis of a numeric parameter: one column per value, or [`MAX_AXIS`] equal-width bins
    /// over the range when there are more (bins a whole number of integers wide, at most
    /// [`MAX_AXIS`] of them, for an integer parameter: its ticks stay integers).
    fn axis(&self) -> Axis {
        match self.range {
            Some((lo, hi)) if self.values.len() > MAX_AXIS && self.integer && hi - lo < 1e15 => {
                let span = (hi - lo) as u64 + 1;
                let width = span.div_ceil(MAX_AXIS as u64);
                let n = span.div_ceil(width) as usize;
                Axis::IntBinned { lo: lo as i64, width: width as i64, n }
            }
            Some((lo, hi)) if self.values.len() > MAX_AXIS => Axis::Binned { lo, hi, n: MAX_AXIS },
            _ => Axis::Exact(self.values.iter().filter_map(ParamValue::as_f64).collect()),
        }
    }
}

/// The parameters of a group of records: for each set of names the records come with (a
/// strategy's records normally share one), each name's [`Distinct`] values. Knowing the sets
/// keeps a pair's axes to the records that have both parameters.
#[derive(Debug, Clone, Default)]
struct ParamFacts {
    shapes: Vec<Shape>,
}

#[derive(Debug, Clone)]
struct Shape {
    /// Sorted (a [`Params`] map's order).
    names: Vec<String>,
    values: Vec<Distinct>,
}

impl ParamFacts {
    fn observe(&mut self, params: &Params) {
        let i = match self.shapes.iter().position(|s| s.names.iter().eq(params.keys())) {
            Some(i) => i,
            None => {
                let names = params.keys().cloned().collect();
                self.shapes.push(Shape { names, values: vec![Distinct::default(); params.len()] });
                self.shapes.len() - 1
            }
        };
        for (d, v) in self.shapes[i].values.iter_mut().zip(params.values()) {
            d.insert(v);
        }
    }

    /// The values of `p` in the records that also have `with`; `None` when none has both.
    fn values(&self, p: &str, with: &str) -> Option<Distinct> {
        let mut out: Option<Distinct> = None;
        for s in &self.shapes {
            let has = |n: &str| s.names.binary_search_by(|x| x.as_str().cmp(n));
            if let (Ok(i), Ok(_)) = (has(p), has(with)) {
                out.get_or_insert_with(Distinct::default).merge(&s.values[i]);
            }
        }
        out
    }

    /// Every name, sorted.
    fn names(&self) -> BTreeSet<&str> {
        self.shapes.iter().flat_map(|s| s.names.iter().map(String::as_str)).collect()
    }

    /// The names that take more than one value (of any type), in name order.
    fn swept(&self) -> Vec<&str> {
        self.names().into_iter().filter(|p| self.values(p, p).is_some_and(|d| d.varies())).collect()
    }

    /// The swept names whose values are all numbers, in name order.
    fn swept_numeric(&self) -> Vec<&str> {
        let numeric = |p: &&str| self.values(p, p).is_some_and(|d| d.numeric);
        self.swept().into_iter().filter(numeric).collect()
    }
}

/// Parameters that take more than one distinct value across `records` (any type), in name
/// order: the swept dimensions of a run.
pub fn swept_params(records: &[SimRecord]) -> Vec<String> {
    let mut facts = ParamFacts::default();
    records.iter().for_each(|r| facts.observe(&r.params));
    facts.swept().into_iter().map(str::to_owned).collect()
}

/// The first pass of a run's heatmaps: the [`ParamFacts`] of each group of records (every
/// record, or each strategy and each sweep of one: see [`Grouped`]), runs on windows left out.
#[derive(Debug, Clone)]
pub(crate) struct HeatScan {
    groups: Grouped<ParamFacts>,
}

impl Default for HeatScan {
    /// Every record in one group.
    fn default() -> HeatScan {
        HeatScan { groups: Grouped::one() }
    }
}

impl HeatScan {
    /// One group per strategy (parameters of different strategies do not share axes), or
    /// per sweep of a strategy swept several times.
    pub(crate) fn by_strategy() -> HeatScan {
        HeatScan { groups: Grouped::by_strategy() }
    }

    pub(crate) fn observe(&mut self, r: &SimRecord) {
        if r.on_window() {
            return;
        }
        self.groups.observe(r, |facts| facts.observe(&r.params));
    }

    /// The heatmaps to fill, the first `limit` of them: one per pair of swept numeric
    /// parameters of each group (groups, then pairs, in name order); the titles of the others
    /// are [`HeatCells::left_out`]. A pair no record has together is an error
    /// ([`ReportError::NoData`]).
    pub(crate) fn plan(self, metric: &str, limit: usize) -> Result<HeatCells, ReportError> {
        let pos = metric_pos(metric)?;
        let groups = self.groups.into_groups();
        let several = groups.len() > 1;
        let (mut maps, mut left_out) = (Vec::new(), Vec::new());
        for (group, facts) in &groups {
            let params = facts.swept_numeric();
            for (i, p1) in params.iter().enumerate() {
                for p2 in &params[i + 1..] {
                    let (Some(x), Some(y)) = (facts.values(p1, p2), facts.values(p2, p1)) else {
                        return Err(no_pair(metric, p1, p2));
                    };
                    if maps.len() < limit {
                        maps.push(Cells::new(group, p1, p2, x.axis(), y.axis()));
                    } else {
                        left_out.push(title(metric, group, p1, p2, several));
                    }
                }
            }
        }
        Ok(HeatCells { pos, several, maps, left_out })
    }
}

/// A heatmap's title: `metric by p1 and p2`, after its group's label when there are several.
fn title(metric: &str, group: &GroupKey, p1: &str, p2: &str, several: bool) -> String {
    let title = format!("{metric} by {p1} and {p2}");
    if several { format!("{}: {title}", group.label()) } else { title }
}

fn no_pair(metric: &str, p1: &str, p2: &str) -> ReportError {
    ReportError::NoData {
        chart: format!("heatmap of {metric} by {p1} and {p2}"),
        reason: format!(
            "no simulation has both `{p1}` and `{p2}`; pick two parameters of the same strategy"
        ),
    }
}

/// The second pass of a run's heatmaps: every planned grid's cells.
#[derive(Debug, Clone)]
pub(crate) struct HeatCells {
    pos: usize,
    several: bool,
    maps: Vec<Cells>,
    /// The titles of the heatmaps beyond the limit.
    pub(crate) left_out: Vec<String>,
}

impl HeatCells {
    pub(crate) fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    pub(crate) fn observe(&mut self, r: &SimRecord) {
        if self.maps.is_empty() || r.on_window() {
            return;
        }
        let m = finite_metric(r, self.pos);
        for c in &mut self.maps {
            if c.group.matches(r) {
                c.observe(&r.params, m);
            }
        }
    }

    /// The charts, titled with their strategy when a run has several.
    pub(crate) fn into_charts(self, metric: &str, agg: Agg) -> Vec<Chart> {
        let several = self.several;
        self.maps.into_iter().map(|c| c.into_chart(metric, agg, several)).collect()
    }
}

/// A successful simulation's metric, when finite.
fn finite_metric(r: &SimRecord, pos: usize) -> Option<f64> {
    r.stats().map(|s| metric_value(s, pos)).filter(|m| m.is_finite())
}

/// One grid being filled: per cell, the sum, count and maximum of the metric.
#[derive(Debug, Clone)]
struct Cells {
    group: GroupKey,
    p1: String,
    p2: String,
    x: Axis,
    y: Axis,
    acc: Vec<(f64, usize, f64)>,
}

impl Cells {
    fn new(group: &GroupKey, p1: &str, p2: &str, x: Axis, y: Axis) -> Cells {
        let acc = vec![(0.0, 0, f64::NEG_INFINITY); x.len() * y.len()];
        Cells { group: group.clone(), p1: p1.to_owned(), p2: p2.to_owned(), x, y, acc }
    }

    fn observe(&mut self, params: &Params, m: Option<f64>) {
        let (Some(a), Some(b), Some(m)) = (params.get(&self.p1), params.get(&self.p2), m) else {
            return;
        };
        let (Some(px), Some(py)) = (a.as_f64(), b.as_f64()) else { return };
        let cell = &mut self.acc[self.y.index(py) * self.x.len() + self.x.index(px)];
        cell.0 += m;
        cell.1 += 1;
        cell.2 = cell.2.max(m);
    }

    fn into_chart(self, metric: &str, agg: Agg, titled_by_group: bool) -> Chart {
        let values = self
            .acc
            .into_iter()
            .map(|(sum, n, max)| match (n, agg) {
                (0, _) => f64::NAN,
                (_, Agg::Max) => max,
                (_, Agg::Mean) => sum / n as f64,
            })
            .collect();
        let title = title(metric, &self.group, &self.p1, &self.p2, titled_by_group);
        let grid = Grid {
            p1: self.p1,
            p2: self.p2,
            metric: metric.to_string(),
            agg,
            x: self.x,
            y: self.y,
            values,
        };
        Chart::new(title, (800, 640), Kind::Heatmap(grid))
    }
}

/// What a first pass learns for one heatmap: the names seen, the first simulation with a
/// value that is not a number, and the two axes' values.
struct PairScan<'p> {
    p1: &'p str,
    p2: &'p str,
    names: BTreeSet<String>,
    non_numeric: Option<ReportError>,
    x: Option<Distinct>,
    y: Distinct,
}

impl PairScan<'_> {
    fn observe(&mut self, r: &SimRecord) {
        for k in r.params.keys() {
            if !self.names.contains(k) {
                self.names.insert(k.clone());
            }
        }
        let (Some(a), Some(b)) = (r.params.get(self.p1), r.params.get(self.p2)) else { return };
        if self.non_numeric.is_none()
            && let Some((p, v)) =
                [(self.p1, a), (self.p2, b)].into_iter().find(|(_, v)| v.as_f64().is_none())
        {
            self.non_numeric = Some(ReportError::NonNumericParam {
                param: p.to_string(),
                id: r.id.clone(),
                kind: v.type_name(),
            });
        }
        if !r.on_window() {
            self.x.get_or_insert_with(Distinct::default).insert(a);
            self.y.insert(b);
        }
    }

    /// The two axes, or why there is no heatmap.
    fn axes(self, metric: &str) -> Result<(Axis, Axis), ReportError> {
        for p in [self.p1, self.p2] {
            if !self.names.contains(p) {
                let known: Vec<&str> = self.names.iter().map(String::as_str).collect();
                let known =
                    if known.is_empty() { "no parameters".into() } else { known.join(", ") };
                return Err(ReportError::UnknownParam { param: p.to_string(), known });
            }
        }
        if let Some(e) = self.non_numeric {
            return Err(e);
        }
        match self.x {
            Some(x) => Ok((x.axis(), self.y.axis())),
            None => Err(no_pair(metric, self.p1, self.p2)),
        }
    }
}

/// The heatmap of `metric` by `p1` (x axis) and `p2` (y axis), aggregating with `agg` over
/// every simulation in a cell (the other parameters).
///
/// Only successful simulations with a finite metric contribute; empty cells are grey. Records
/// without both parameters, and runs on windows, are left out. An axis with more than 40
/// distinct values is binned. Reads `records` twice, holding no record.
pub fn heatmap(
    records: &(impl Records + ?Sized),
    p1: &str,
    p2: &str,
    metric: &str,
    agg: Agg,
) -> Result<Chart, ReportError> {
    let pos = metric_pos(metric)?;
    let mut scan = PairScan {
        p1,
        p2,
        names: BTreeSet::new(),
        non_numeric: None,
        x: None,
        y: Distinct::default(),
    };
    visit(&records, |r| scan.observe(r))?;
    let (x, y) = scan.axes(metric)?;
    let mut cells = Cells::new(&GroupKey::All, p1, p2, x, y);
    visit(&records, |r| {
        if !r.on_window() {
            cells.observe(&r.params, finite_metric(r, pos));
        }
    })?;
    Ok(cells.into_chart(metric, agg, false))
}

/// One heatmap per pair of swept numeric parameters (pairs in name order); empty when fewer
/// than two numeric parameters vary. Runs on windows are left out.
pub fn heatmaps(
    records: &(impl Records + ?Sized),
    metric: &str,
    agg: Agg,
) -> Result<Vec<Chart>, ReportError> {
    fill(&records, HeatScan::default(), metric, agg)
}

/// [`heatmaps`] for each strategy of a run on its own, and for each sweep of a strategy swept
/// more than once (a sweep is the first path segment of the ids): parameters of different
/// strategies do not share axes (`fast` of `sma_cross` is not `fast` of `macd_cross`). With
/// more than one group, titles are prefixed with the group (`rsi (sweep rsi_long)`).
pub fn strategy_heatmaps(
    records: &(impl Records + ?Sized),
    metric: &str,
    agg: Agg,
) -> Result<Vec<Chart>, ReportError> {
    fill(&records, HeatScan::by_strategy(), metric, agg)
}

/// Both passes of the heatmaps of `records`.
fn fill(
    records: &dyn Records,
    mut scan: HeatScan,
    metric: &str,
    agg: Agg,
) -> Result<Vec<Chart>, ReportError> {
    metric_pos(metric)?;
    visit(records, |r| scan.observe(r))?;
    let mut cells = scan.plan(metric, usize::MAX)?;
    if !cells.is_empty() {
        visit(records, |r| cells.observe(r))?;
    }
    Ok(cells.into_charts(metric, agg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct(values: impl IntoIterator<Item = f64>) -> Distinct {
        let mut d = Distinct::default();
        values.into_iter().for_each(|v| d.insert(&ParamValue::Float(v)));
        d
    }

    #[test]
    fn axis_bins_beyond_the_limit() {
        let exact = distinct([3.0, 1.0, 2.0, 2.0]).axis();
        assert_eq!(exact.len(), 3);
        assert_eq!(exact.index(2.0), 1);
        assert_eq!(exact.label(0), "1");
        let many = distinct((0..1000).map(f64::from));
        assert_eq!(many.values.len(), MAX_AXIS + 1, "capped");
        let binned = many.axis();
        assert_eq!(binned.len(), MAX_AXIS);
        assert_eq!(binned.index(0.0), 0);
        assert_eq!(binned.index(999.0), MAX_AXIS - 1);
        assert!(matches!(binned, Axis::Binned { .. }));
    }

    #[test]
    fn integer_axes_bin_whole_numbers() {
        let mut d = Distinct::default();
        (2..62).for_each(|v| d.insert(&ParamValue::Int(v)));
        let axis = d.axis();
        assert!(matches!(axis, Axis::IntBinned { lo: 2, width: 2, n: 30 }), "{axis:?}");
        let labels: Vec<String> = (0..axis.len()).map(|i| axis.label(i)).collect();
        assert_eq!(labels[..3], ["2", "4", "6"]);
        assert_eq!(labels[29], "60");
        assert_eq!((axis.index(3.0), axis.index(4.0), axis.index(61.0)), (0, 1, 29));
        assert_eq!(
            (axis.span(0), axis.binned_note()),
            ("2..3".into(), " (2 values per cell)".into())
        );
        // 41 integers: 2 per cell, 21 cells; the last holds one value.
        let mut d = Distinct::default();
        (0..41).for_each(|v| d.insert(&ParamValue::Int(v)));
        assert!(matches!(d.axis(), Axis::IntBinned { lo: 0, width: 2, n: 21 }));
        // Floats with whole values are not integers: their bins stay equal-width.
        let floats = distinct((0..50).map(f64::from));
        assert!(matches!(floats.axis(), Axis::Binned { .. }));
    }

    #[test]
    fn merged_values_stay_capped_and_exact() {
        let (mut a, b) = (distinct((0..30).map(f64::from)), distinct((20..45).map(f64::from)));
        a.merge(&b);
        assert!(matches!(a.axis(), Axis::Binned { lo: 0.0, hi: 44.0, n: MAX_AXIS }));
        let (mut a, b) = (distinct([1.0, 2.0]), distinct([2.0, 3.0]));
        a.merge(&b);
        assert!(matches!(a.axis(), Axis::Exact(v) if v == [1.0, 2.0, 3.0]));
        let mut mixed = distinct([1.0]);
        mixed.insert(&ParamValue::Str("x".into()));
        assert!(!mixed.numeric && mixed.varies());
    }

    #[test]
    fn pair_axes_come_from_records_with_both() {
        let mut facts = ParamFacts::default();
        let params = |pairs: &[(&str, i64)]| -> Params {
            pairs.iter().map(|(k, v)| (k.to_string(), ParamValue::Int(*v))).collect()
        };
        facts.observe(&params(&[("a", 1), ("b", 1)]));
        facts.observe(&params(&[("a", 2), ("b", 2)]));
        facts.observe(&params(&[("a", 9), ("c", 1)]));
        facts.observe(&params(&[("a", 9), ("c", 2)]));
        assert!(
            matches!(facts.values("a", "b").unwrap().axis(), Axis::Exact(v) if v == [1.0, 2.0])
        );
        assert_eq!(facts.values("a", "a").unwrap().values.len(), 3);
        assert!(facts.values("b", "c").is_none());
        assert_eq!(facts.swept_numeric(), ["a", "b", "c"]);
    }
}
