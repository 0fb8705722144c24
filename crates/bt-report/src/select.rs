//! The exact median of values replayed pass after pass, in bounded memory.
//!
//! Radix selection on each value's order-preserving 64-bit key: a pass counts the keys that
//! share the prefix found so far by their next 16 bits (65,536 counters), which pins the
//! wanted rank to one bucket; once a bucket holds at most `cap` values, the next pass
//! collects them and sorts. So memory is at most a few MB whatever the number of values, and
//! a pass narrows the candidates by a factor of 65,536 at worst (usually far more), while a run
//! of up to `cap` values is done in its first pass. The result is the value the sort of all
//! of them in `f64::total_cmp` order would give, bit for bit.
//!
//! Several medians computed side by side (one per histogram) share [`CAP`]: each gets a part
//! of it ([`share_cap`]).

/// At most this many candidates are collected and sorted (8 MB of `f64`), for all the medians
/// of a report together; a thousand in unit tests, so that small inputs reach every path.
pub(crate) const CAP: usize = if cfg!(test) { 1 << 10 } else { 1 << 20 };

/// Splits [`CAP`] between medians of `sizes` values each: the smaller ones get all they need
/// (they are collected in their first pass), the rest share what is left evenly.
pub(crate) fn share_cap(sizes: &[usize]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let mut caps = vec![0; sizes.len()];
    let mut budget = CAP;
    for (k, &i) in order.iter().enumerate() {
        let share = budget / (sizes.len() - k);
        caps[i] = sizes[i].min(share).max(1);
        budget = budget.saturating_sub(caps[i]);
    }
    caps
}
/// Bits of the key pinned by one counting pass.
const STEP: u32 = 16;
const BUCKETS: usize = 1 << STEP;

/// The key of `v` whose unsigned order is `f64::total_cmp`'s.
fn key(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 { !b } else { b | 1 << 63 }
}

fn from_key(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// The bucket of cumulative `counts` that holds `rank` (0-based), the rank within it and its
/// count.
fn descend(counts: &[u64], mut rank: u64) -> (u64, u64, u64) {
    for (b, &c) in counts.iter().enumerate() {
        if rank < c {
            return (b as u64, rank, c);
        }
        rank -= c;
    }
    unreachable!("a rank below the number of values counted lies in a bucket")
}

/// One rank being selected: the key prefix its value has (the top `bits` bits), its rank among
/// the values with that prefix, and what the next pass does.
#[derive(Debug, Clone)]
struct Target {
    prefix: u64,
    bits: u32,
    rank: u64,
    state: State,
    cap: usize,
}

#[derive(Debug, Clone)]
enum State {
    /// Count the candidates by their next 16 bits.
    Count(Vec<u64>),
    /// Collect the candidates (few enough).
    Collect(Vec<f64>),
    Done(f64),
}

impl Target {
    /// Counts or collects `v` (key `k`) when it is a candidate. Counting and collecting
    /// targets have pinned between 16 and 48 bits.
    fn observe(&mut self, v: f64, k: u64) {
        let (bits, prefix) = (self.bits, self.prefix);
        match &mut self.state {
            State::Done(_) => {}
            _ if k >> (64 - bits) != prefix => {}
            State::Count(counts) => {
                counts[((k >> (64 - bits - STEP)) as usize) & (BUCKETS - 1)] += 1
            }
            State::Collect(values) => values.push(v),
        }
    }

    /// Pins the next 16 bits (after a counting pass) or picks the value (after collecting).
    fn end_pass(&mut self) {
        self.state = match std::mem::replace(&mut self.state, State::Done(f64::NAN)) {
            State::Count(counts) => {
                let (bucket, rank, count) = descend(&counts, self.rank);
                self.prefix = self.prefix << STEP | bucket;
                self.bits += STEP;
                self.rank = rank;
                Target::next_state(self.bits, self.prefix, count, self.cap)
            }
            State::Collect(mut values) => {
                let rank = self.rank as usize;
                values.select_nth_unstable_by(rank, f64::total_cmp);
                State::Done(values[rank])
            }
            done @ State::Done(_) => done,
        };
    }

    fn next_state(bits: u32, prefix: u64, count: u64, cap: usize) -> State {
        if bits == 64 {
            // Every candidate has this very key.
            State::Done(from_key(prefix))
        } else if count as usize <= cap {
            State::Collect(Vec::with_capacity(count as usize))
        } else {
            State::Count(vec![0; BUCKETS])
        }
    }
}

/// The median of the values fed to [`Median::observe`], the same values in the same
/// multiset at every pass, until [`Median::value`] is known.
#[derive(Debug, Clone)]
pub(crate) struct Median {
    /// The first pass: how many values and, while they are at most `cap`, the values
    /// themselves; past that, the counts of their top 16 bits.
    first: Option<First>,
    /// From the second pass on: the one or two middle ranks (two when the count is even).
    targets: Vec<Target>,
    /// At most this many values are collected at once.
    cap: usize,
}

#[derive(Debug, Clone)]
struct First {
    n: u64,
    /// Empty while the values are collected.
    counts: Vec<u64>,
    values: Option<Vec<f64>>,
}

impl Default for Median {
    fn default() -> Median {
        Median::new()
    }
}

impl Median {
    /// Nothing seen yet: the first pass starts.
    pub(crate) fn new() -> Median {
        Median::with_cap(CAP)
    }

    /// [`Median::new`] collecting at most `cap` values at once (a share of [`CAP`]).
    pub(crate) fn with_cap(cap: usize) -> Median {
        let first = First { n: 0, counts: Vec::new(), values: Some(Vec::new()) };
        Median { first: Some(first), targets: Vec::new(), cap: cap.max(1) }
    }

    /// Whether a pass over the values is still needed.
    pub(crate) fn needs_pass(&self) -> bool {
        self.first.is_some() || self.targets.iter().any(|t| !matches!(t.state, State::Done(_)))
    }

    /// Feeds one value of the current pass (only finite values are meaningful; the caller
    /// filters).
    pub(crate) fn observe(&mut self, v: f64) {
        let k = key(v);
        if let Some(first) = &mut self.first {
            first.n += 1;
            match &mut first.values {
                Some(values) if values.len() < self.cap => values.push(v),
                Some(values) => {
                    // Too many to collect: count the collected ones and go on counting.
                    first.counts = vec![0; BUCKETS];
                    for &x in values.iter() {
                        first.counts[(key(x) >> (64 - STEP)) as usize] += 1;
                    }
                    first.values = None;
                    first.counts[(k >> (64 - STEP)) as usize] += 1;
                }
                None => first.counts[(k >> (64 - STEP)) as usize] += 1,
            }
            return;
        }
        for t in &mut self.targets {
            t.observe(v, k);
        }
    }

    /// Ends a pass.
    pub(crate) fn end_pass(&mut self) {
        let Some(first) = self.first.take() else {
            self.targets.iter_mut().for_each(Target::end_pass);
            return;
        };
        let ranks: &[u64] = match first.n {
            0 => &[],
            n if n % 2 == 1 => &[n / 2],
            n => &[n / 2 - 1, n / 2],
        };
        self.targets = match first.values {
            // Few values: all collected already.
            Some(mut values) => {
                values.sort_unstable_by(f64::total_cmp);
                let done = |rank: u64| State::Done(values[rank as usize]);
                let cap = self.cap;
                ranks
                    .iter()
                    .map(|&rank| Target { prefix: 0, bits: 0, rank, state: done(rank), cap })
                    .collect()
            }
            None => ranks
                .iter()
                .map(|&rank| {
                    let (bucket, rank, count) = descend(&first.counts, rank);
                    let state = Target::next_state(STEP, bucket, count, self.cap);
                    Target { prefix: bucket, bits: STEP, rank, state, cap: self.cap }
                })
                .collect(),
        };
    }

    /// The median once no pass is needed (the mean of the two middle values when their count
    /// is even); `None` before, or without values.
    pub(crate) fn value(&self) -> Option<f64> {
        if self.needs_pass() {
            return None;
        }
        let done = |t: &Target| match t.state {
            State::Done(v) => v,
            _ => unreachable!("needs_pass is false"),
        };
        match self.targets.as_slice() {
            [one] => Some(done(one)),
            [a, b] => Some((done(a) + done(b)) / 2.0),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The median by sorting everything (the definition).
    fn sorted_median(values: &[f64]) -> Option<f64> {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => Some(v[n / 2]),
            _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
        }
    }

    fn streamed(values: &[f64]) -> (Option<f64>, usize) {
        let mut m = Median::new();
        let mut passes = 0;
        while m.needs_pass() {
            values.iter().for_each(|&v| m.observe(v));
            m.end_pass();
            passes += 1;
        }
        (m.value(), passes)
    }

    #[test]
    fn small_medians_get_what_they_need_and_the_rest_share() {
        assert_eq!(share_cap(&[10]), [10]);
        assert_eq!(share_cap(&[5_000]), [CAP]);
        assert_eq!(share_cap(&[100, 5_000, 5_000]), [100, (CAP - 100) / 2, (CAP - 100) / 2]);
        assert_eq!(share_cap(&[0, 0]), [1, 1]);
        assert!(share_cap(&[]).is_empty());
    }

    #[test]
    fn keys_order_like_total_cmp() {
        let vals = [f64::NEG_INFINITY, -2.5, -0.0, 0.0, 1e-300, 3.0, f64::INFINITY];
        for w in vals.windows(2) {
            assert!(key(w[0]) < key(w[1]), "{w:?}");
        }
        for v in vals {
            assert_eq!(from_key(key(v)).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn few_values_take_one_pass() {
        assert_eq!(streamed(&[]), (None, 1));
        assert_eq!(streamed(&[3.0, 1.0, 2.0]), (Some(2.0), 1));
        assert_eq!(streamed(&[4.0, 1.0, 2.0, 3.0]), (Some(2.5), 1));
    }

    #[test]
    fn many_values_match_the_sort_bit_for_bit() {
        let mut state = 7u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // Spread values, a heavy cluster of equal values, and a narrow band: each forces more
        // counting passes than the last.
        let spread: Vec<f64> =
            (0..CAP + 3).map(|_| (next() % 2_000_001) as f64 / 1e6 - 1.0).collect();
        let equal: Vec<f64> = (0..CAP + 10).map(|i| if i % 3 == 0 { -0.0 } else { 0.5 }).collect();
        let narrow: Vec<f64> =
            (0..CAP + 2).map(|_| 1.0 + (next() % 1000) as f64 * f64::EPSILON).collect();
        for (name, values) in [("spread", spread), ("equal", equal), ("narrow", narrow)] {
            let (got, passes) = streamed(&values);
            let want = sorted_median(&values).unwrap();
            assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "{name}");
            assert!((2..=5).contains(&passes), "{name}: {passes} passes");
        }
    }
}
