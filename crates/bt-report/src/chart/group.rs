//! The groups of records that get their own histogram and heatmaps: each strategy, and each
//! sweep of a strategy swept more than once, so that 500 runs of one strategy do not vanish
//! among 200,000 of another.

use std::collections::BTreeMap;

use bt_domain::SimRecord;

/// The sweep of a simulation: its id's first path segment (`rsi/goog/period=9` is sweep
/// `rsi`); empty for an id without `/` (a simulation listed on its own).
pub(crate) fn sweep_of(id: &str) -> &str {
    id.split_once('/').map_or("", |(sweep, _)| sweep)
}

/// At most this many sweeps of one strategy are told apart; a strategy swept more often is
/// one group (memory stays bounded whatever the ids).
const MAX_SWEEPS: usize = 32;

/// Which records a chart is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GroupKey {
    /// Every record.
    All,
    /// One strategy's records.
    Strategy(String),
    /// The records of one sweep of a strategy (an empty sweep: its simulations listed on
    /// their own).
    Sweep { strategy: String, sweep: String },
}

impl GroupKey {
    pub(crate) fn matches(&self, r: &SimRecord) -> bool {
        match self {
            GroupKey::All => true,
            GroupKey::Strategy(s) => r.strategy == *s,
            GroupKey::Sweep { strategy, sweep } => {
                r.strategy == *strategy && sweep_of(&r.id) == sweep
            }
        }
    }

    /// How titles name the group: `sma_cross`, `rsi_reversion (sweep rsi)`,
    /// `rsi_reversion (no sweep)`; empty for every record.
    pub(crate) fn label(&self) -> String {
        match self {
            GroupKey::All => String::new(),
            GroupKey::Strategy(s) => s.clone(),
            GroupKey::Sweep { strategy, sweep } if sweep.is_empty() => {
                format!("{strategy} (no sweep)")
            }
            GroupKey::Sweep { strategy, sweep } => format!("{strategy} (sweep {sweep})"),
        }
    }
}

/// Facts `T` gathered per group in one pass, before the groups are known: per strategy as a
/// whole and per sweep of it (up to [`MAX_SWEEPS`]); [`Grouped::into_groups`] then splits a
/// strategy by sweep when it has at least two.
#[derive(Debug, Clone, Default)]
pub(crate) struct Grouped<T> {
    by_strategy: bool,
    all: T,
    strategies: BTreeMap<String, PerStrategy<T>>,
}

#[derive(Debug, Clone, Default)]
struct PerStrategy<T> {
    whole: T,
    /// `None` once the strategy has more than [`MAX_SWEEPS`] sweeps.
    sweeps: Option<BTreeMap<String, T>>,
}

impl<T: Default> Grouped<T> {
    /// Every record in one group.
    pub(crate) fn one() -> Grouped<T> {
        Grouped { by_strategy: false, all: T::default(), strategies: BTreeMap::new() }
    }

    /// A group per strategy, or per sweep of a strategy swept more than once.
    pub(crate) fn by_strategy() -> Grouped<T> {
        Grouped { by_strategy: true, ..Grouped::one() }
    }

    /// Calls `f` with the facts of every candidate group `r` belongs to.
    pub(crate) fn observe(&mut self, r: &SimRecord, mut f: impl FnMut(&mut T)) {
        if !self.by_strategy {
            f(&mut self.all);
            return;
        }
        let s = match self.strategies.get_mut(&r.strategy) {
            Some(s) => s,
            None => self.strategies.entry(r.strategy.clone()).or_insert_with(|| PerStrategy {
                whole: T::default(),
                sweeps: Some(BTreeMap::new()),
            }),
        };
        f(&mut s.whole);
        let Some(sweeps) = &mut s.sweeps else { return };
        let sweep = sweep_of(&r.id);
        if let Some(t) = sweeps.get_mut(sweep) {
            f(t);
        } else if sweeps.len() < MAX_SWEEPS {
            f(sweeps.entry(sweep.to_owned()).or_default());
        } else {
            s.sweeps = None;
        }
    }

    /// The groups, in order: strategies by name; a strategy with two or more named sweeps
    /// split into them (by name, then its simulations listed on their own).
    pub(crate) fn into_groups(self) -> Vec<(GroupKey, T)> {
        if !self.by_strategy {
            return vec![(GroupKey::All, self.all)];
        }
        let mut out = Vec::new();
        for (strategy, s) in self.strategies {
            let named = s.sweeps.as_ref().map_or(0, |m| m.keys().filter(|k| !k.is_empty()).count());
            match s.sweeps {
                Some(sweeps) if named >= 2 => {
                    let (unswept, named): (Vec<_>, Vec<_>) =
                        sweeps.into_iter().partition(|(k, _)| k.is_empty());
                    for (sweep, t) in named.into_iter().chain(unswept) {
                        out.push((GroupKey::Sweep { strategy: strategy.clone(), sweep }, t));
                    }
                }
                _ => out.push((GroupKey::Strategy(strategy), s.whole)),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use bt_domain::SimOutcome;

    use super::*;

    fn record(id: &str, strategy: &str) -> SimRecord {
        SimRecord {
            index: 0,
            id: id.into(),
            dataset: "d".into(),
            strategy: strategy.into(),
            params: Default::default(),
            outcome: SimOutcome::Failed("x".into()),
        }
    }

    fn counts(records: &[SimRecord]) -> Vec<(String, usize)> {
        let mut g = Grouped::<usize>::by_strategy();
        records.iter().for_each(|r| g.observe(r, |n| *n += 1));
        g.into_groups().into_iter().map(|(k, n)| (k.label(), n)).collect()
    }

    #[test]
    fn a_strategy_is_split_by_sweep_only_when_swept_twice() {
        let records = [
            record("sma/goog/fast=5", "sma_cross"),
            record("sma/goog/fast=6", "sma_cross"),
            record("sma-10-20", "sma_cross"),
            record("rsi/goog/period=9", "rsi"),
            record("rsi_long/goog/period=30", "rsi"),
            record("rsi_long/goog/period=40", "rsi"),
            record("hand-picked", "rsi"),
        ];
        assert_eq!(
            counts(&records),
            [
                ("rsi (sweep rsi)".to_string(), 1),
                ("rsi (sweep rsi_long)".to_string(), 2),
                ("rsi (no sweep)".to_string(), 1),
                ("sma_cross".to_string(), 3),
            ]
        );
        assert_eq!(sweep_of("rsi/goog/period=9"), "rsi");
        assert_eq!(sweep_of("plain"), "");
        let key = GroupKey::Sweep { strategy: "rsi".into(), sweep: "rsi_long".into() };
        assert!(key.matches(&records[4]) && !key.matches(&records[3]));
    }

    #[test]
    fn too_many_sweeps_make_one_group() {
        let records: Vec<SimRecord> =
            (0..=MAX_SWEEPS).map(|i| record(&format!("s{i}/d/p"), "x")).collect();
        assert_eq!(counts(&records), [("x".to_string(), MAX_SWEEPS + 1)]);
    }
}
