//! A deterministic parallel map, for work other than simulations that the executor's pool
//! should run (the PBO's splits): results in input order, whatever the thread count.

use std::sync::{Arc, Mutex, PoisonError};

use rayon::{ThreadPool, prelude::*};

use crate::error::ExecError;

/// `items.iter().map(f)`, on `threads` threads (1: on the calling thread), in input order.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Result<Vec<R>, ExecError> {
    if threads <= 1 || items.len() < 2 {
        return Ok(items.iter().map(f).collect());
    }
    Ok(pool(threads)?.install(|| items.par_iter().map(&f).collect()))
}

/// The pool of `threads` threads, built on first use and kept for the process: starting and
/// joining threads costs a few hundred microseconds, as much as a small group's PBO pass, and
/// a run's validation calls this twice per group.
fn pool(threads: usize) -> Result<Arc<ThreadPool>, ExecError> {
    static POOLS: Mutex<Vec<(usize, Arc<ThreadPool>)>> = Mutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, pool)) = pools.iter().find(|(n, _)| *n == threads) {
        return Ok(Arc::clone(pool));
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("bt-map-{i}"))
            .build()
            .map_err(|e| ExecError::Pool { threads, message: e.to_string() })?,
    );
    pools.push((threads, Arc::clone(&pool)));
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_results_in_the_same_order_on_any_number_of_threads() {
        let items: Vec<u64> = (0..1000).collect();
        let one = parallel_map(&items, 1, |x| x * x + 1).unwrap();
        for threads in [2, 3, 8] {
            assert_eq!(parallel_map(&items, threads, |x| x * x + 1).unwrap(), one);
        }
    }
}
