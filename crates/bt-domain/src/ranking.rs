//! Ranking simulations: which statistics can rank ([`rank_metric`]), and the bounded top-K
//! selection every leaderboard uses ([`TopK`]): larger first, NaN last, ties to the lower queue
//! index. One comparator for the terminal, Markdown and HTML leaderboards and the report's
//! re-runs, so they always agree.

use std::{cmp::Ordering, collections::BinaryHeap, fmt};

use crate::stats::STAT_KEYS;

/// A ranking metric that is not a rankable statistic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMetric {
    /// The name given.
    pub metric: String,
}

impl fmt::Display for UnknownMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a statistic to rank by: use one of {}",
            self.metric,
            rankable().join(", ")
        )
    }
}

impl std::error::Error for UnknownMetric {}

/// The statistics a leaderboard can rank by: every [`STAT_KEYS`] key except the `start` and
/// `end` timestamps (the same for every simulation of a data set).
pub fn rankable() -> &'static [&'static str] {
    &STAT_KEYS[2..]
}

/// The position of a rankable metric in [`STAT_KEYS`] (for `Stats::values()[pos]`).
pub fn rank_metric(metric: &str) -> Result<usize, UnknownMetric> {
    match STAT_KEYS.iter().position(|k| *k == metric) {
        Some(pos) if pos >= 2 => Ok(pos),
        _ => Err(UnknownMetric { metric: metric.to_owned() }),
    }
}

/// Better first: the larger score, NaN last, then the lower queue index, then the earlier push.
fn better(a: (f64, u64, u64), b: (f64, u64, u64)) -> Ordering {
    let by_score = match (a.0.is_nan(), b.0.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => b.0.total_cmp(&a.0),
    };
    by_score.then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
}

struct Entry<T> {
    key: (f64, u64, u64),
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    // Worse is greater: the max-heap's top is the worst entry kept.
    fn cmp(&self, other: &Self) -> Ordering {
        better(self.key, other.key)
    }
}

/// The best `k` items pushed, by score: O(log k) per push, O(k) memory, so a leaderboard of a
/// 10M-simulation run never sorts or holds everything.
///
/// ```
/// let mut top = bt_domain::ranking::TopK::new(2);
/// for (score, index) in [(1.0, 0), (f64::NAN, 1), (3.0, 2), (3.0, 3)] {
///     top.push(score, index, index);
/// }
/// assert_eq!(top.into_sorted(), vec![2, 3]);
/// ```
pub struct TopK<T> {
    k: usize,
    pushed: u64,
    heap: BinaryHeap<Entry<T>>,
}

impl<T> fmt::Debug for TopK<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopK").field("k", &self.k).field("len", &self.heap.len()).finish()
    }
}

impl<T> TopK<T> {
    /// Keeps the best `k`.
    pub fn new(k: usize) -> TopK<T> {
        TopK { k, pushed: 0, heap: BinaryHeap::with_capacity(k.min(1 << 16) + 1) }
    }

    /// Offers an item with its score and queue index.
    pub fn push(&mut self, score: f64, index: u64, item: T) {
        let entry = Entry { key: (score, index, self.pushed), item };
        self.pushed += 1;
        if self.heap.len() < self.k {
            self.heap.push(entry);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && entry < *worst
        {
            *worst = entry;
        }
    }

    /// Whether an item with this score and index would be kept now (to skip decoding one that
    /// would not).
    pub fn would_keep(&self, score: f64, index: u64) -> bool {
        self.heap.len() < self.k
            || self.heap.peek().is_some_and(|w| better((score, index, self.pushed), w.key).is_lt())
    }

    /// Items kept so far.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether nothing was kept.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The kept items, best first.
    pub fn into_sorted(self) -> Vec<T> {
        self.heap.into_sorted_vec().into_iter().map(|e| e.item).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn larger_first_nan_last_ties_by_index_then_push_order() {
        let mut top = TopK::new(10);
        for (i, s) in [2.0, f64::NAN, 5.0, 2.0, f64::NEG_INFINITY].into_iter().enumerate() {
            top.push(s, i as u64, i);
        }
        top.push(5.0, 2, 99);
        assert_eq!(top.into_sorted(), vec![2, 99, 0, 3, 4, 1]);
        let mut one = TopK::new(1);
        one.push(1.0, 5, "a");
        assert!(one.would_keep(2.0, 9) && !one.would_keep(1.0, 6) && one.would_keep(1.0, 4));
        let mut none: TopK<u8> = TopK::new(0);
        none.push(1.0, 0, 1);
        assert!(none.into_sorted().is_empty());
    }

    #[test]
    fn metrics_exclude_the_timestamps() {
        assert_eq!(rank_metric("sharpe_ratio"), Ok(12));
        assert!(rank_metric("start").is_err() && rank_metric("nope").is_err());
        let e = rank_metric("sharpe").unwrap_err().to_string();
        assert!(
            e.starts_with("\"sharpe\" is not a statistic to rank by: use one of duration,"),
            "{e}"
        );
    }
}
