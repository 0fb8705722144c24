use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use bt_domain::Bars;

type Slot = Arc<OnceLock<Arc<[f64]>>>;

/// A data set in a fractional unit, made once (or why it cannot be made).
type ScaledSlot = Arc<OnceLock<Result<Arc<Scaled>, String>>>;

/// A data set in fractional units (backtesting.py's `FractionalBacktest`): prices times the
/// unit, volumes divided by it, with its own indicator cache (indicators of scaled prices are
/// not those of the original ones).
#[derive(Debug)]
pub struct Scaled {
    /// The scaled bars.
    pub bars: Bars,
    /// Indicators computed on them.
    pub cache: IndicatorCache,
}

/// Indicators shared by every simulation of one data set, computed once per key.
///
/// Keys name the indicator and all its inputs (`sma(close,20)`); a cache belongs to exactly one
/// data set. Two simulations asking for the same key at once compute it once: the second waits.
/// The cache stops storing new entries past its byte budget (it then computes without keeping),
/// so memory stays bounded on very long series.
#[derive(Debug)]
pub struct IndicatorCache {
    slots: Mutex<BTreeMap<String, Slot>>,
    /// The data set in fractional units, by the unit's bits.
    scaled: Mutex<BTreeMap<u64, ScaledSlot>>,
    budget_bytes: usize,
    used_bytes: AtomicUsize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for IndicatorCache {
    fn default() -> Self {
        IndicatorCache::new()
    }
}

impl IndicatorCache {
    /// Default budget: 512 MiB of indicator values per data set.
    pub const DEFAULT_BUDGET_BYTES: usize = 512 << 20;

    /// A cache with the default budget.
    pub fn new() -> IndicatorCache {
        IndicatorCache::with_budget(IndicatorCache::DEFAULT_BUDGET_BYTES)
    }

    /// A cache that keeps at most `budget_bytes` of values (0 disables caching).
    pub fn with_budget(budget_bytes: usize) -> IndicatorCache {
        IndicatorCache {
            slots: Mutex::new(BTreeMap::new()),
            scaled: Mutex::new(BTreeMap::new()),
            budget_bytes,
            used_bytes: AtomicUsize::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The values for `key`, computing them with `compute` on first use.
    pub fn get_or_compute(&self, key: &str, compute: impl FnOnce() -> Vec<f64>) -> Arc<[f64]> {
        if self.budget_bytes == 0 {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return compute().into();
        }
        let slot = {
            // A poisoned lock only means another simulation panicked while inserting a slot; the
            // map itself is still consistent (insertions are single calls).
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            match slots.get(key) {
                Some(slot) => slot.clone(),
                None => {
                    if self.used_bytes.load(Ordering::Relaxed) >= self.budget_bytes {
                        drop(slots);
                        self.misses.fetch_add(1, Ordering::Relaxed);
                        return compute().into();
                    }
                    let slot = Slot::default();
                    slots.insert(key.to_owned(), slot.clone());
                    slot
                }
            }
        };
        let mut computed = false;
        let values = slot.get_or_init(|| {
            computed = true;
            let values: Arc<[f64]> = compute().into();
            self.used_bytes.fetch_add(values.len() * 8, Ordering::Relaxed);
            values
        });
        if computed {
            self.misses.fetch_add(1, Ordering::Relaxed);
        } else {
            self.hits.fetch_add(1, Ordering::Relaxed);
        }
        values.clone()
    }

    /// `bars` (the data set this cache belongs to) in units of `unit`, made once per unit and
    /// shared: `FractionalBacktest`'s data (`Open/High/Low/Close * unit`, `Volume / unit`).
    pub fn scaled(&self, unit: f64, bars: &Bars) -> Result<Arc<Scaled>, String> {
        let slot = {
            let mut map = self.scaled.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(unit.to_bits()).or_default().clone()
        };
        slot.get_or_init(|| {
            let scale = |x: &[f64]| x.iter().map(|v| v * unit).collect::<Vec<f64>>();
            let volume = bars.volume().iter().map(|v| v / unit).collect();
            Bars::new(
                bars.timestamps().to_vec(),
                scale(bars.open()),
                scale(bars.high()),
                scale(bars.low()),
                scale(bars.close()),
                volume,
            )
            .map(|bars| {
                Arc::new(Scaled { bars, cache: IndicatorCache::with_budget(self.budget_bytes) })
            })
            .map_err(|e| format!("the data in fractional units of {unit}: {e}"))
        })
        .clone()
    }

    /// (hits, misses) so far: how much work the cache saved.
    pub fn hit_stats(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_per_key() {
        let cache = IndicatorCache::new();
        let mut calls = 0;
        let a = cache.get_or_compute("k", || {
            calls += 1;
            vec![1.0, 2.0]
        });
        let b = cache.get_or_compute("k", || {
            calls += 1;
            vec![9.0]
        });
        assert_eq!(calls, 1);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(cache.hit_stats(), (1, 1));
    }

    #[test]
    fn over_budget_computes_without_keeping() {
        let cache = IndicatorCache::with_budget(8);
        let a = cache.get_or_compute("a", || vec![1.0]);
        let b = cache.get_or_compute("b", || vec![2.0]);
        let b2 = cache.get_or_compute("b", || vec![3.0]);
        assert_eq!((&*a, &*b, &*b2), (&[1.0][..], &[2.0][..], &[3.0][..]));
    }
}
