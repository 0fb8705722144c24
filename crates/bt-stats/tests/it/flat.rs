//! `on_flat` (a run of equal equities in one call: the warm-up's cash, the 0 after a bust) gives
//! the statistics bit for bit of the same values delivered bar by bar, whatever comes before
//! and after it and however the bars fall into periods; and the fused [`RunAccumulator`] gives
//! the same as the two accumulators side by side, across its blocks of pending equity.

use bt_domain::{Bars, EquityObserver, ReturnStats, rng::SplitMix64, time::NANOS_PER_DAY};
use bt_stats::{
    DatasetStats, RunAccumulator, RunFacts, StatsAccumulator, overfit::ReturnsAccumulator,
};
use proptest::prelude::*;

use crate::stream::same_stats;

/// Delivers everything bar by bar (the trait's default `on_flat`).
struct PerBar<O>(O);

impl<O: EquityObserver> EquityObserver for PerBar<O> {
    fn on_equity(&mut self, bar_idx: usize, equity: f64) {
        self.0.on_equity(bar_idx, equity);
    }
}

/// One piece of an equity curve.
#[derive(Debug, Clone)]
pub enum Piece {
    Moves(Vec<f64>),
    Flat(usize, f64),
    /// The same equity bar by bar (whole blocks of it take the accumulators' flat path).
    Repeat(usize, f64),
    /// A random walk of small moves (ratios near 1, as daily equity moves), from a seed.
    Walk(usize, u64),
}

pub fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        prop::collection::vec(prop_oneof![Just(0.0), 1.0..20_000.0f64, Just(10_000.0)], 1..40)
            .prop_map(Piece::Moves),
        (0..120usize, prop_oneof![Just(10_000.0), Just(0.0), 1.0..20_000.0f64])
            .prop_map(|(k, e)| Piece::Flat(k, e)),
        (0..400usize, prop_oneof![Just(10_000.0), Just(0.0), 1.0..20_000.0f64])
            .prop_map(|(k, e)| Piece::Repeat(k, e)),
        (0..600usize, any::<u64>()).prop_map(|(k, seed)| Piece::Walk(k, seed)),
    ]
}

pub fn feed<O: EquityObserver>(o: &mut O, pieces: &[Piece], n: usize) {
    let mut b = 0;
    for p in pieces {
        match p {
            Piece::Moves(v) => {
                for &e in v.iter().take(n - b) {
                    o.on_equity(b, e);
                    b += 1;
                }
            }
            Piece::Flat(k, e) => {
                let k = (*k).min(n - b);
                o.on_flat(b, k, *e);
                b += k;
            }
            Piece::Repeat(k, e) => {
                for _ in 0..(*k).min(n - b) {
                    o.on_equity(b, *e);
                    b += 1;
                }
            }
            Piece::Walk(k, seed) => {
                let mut rng = SplitMix64::new(*seed);
                let mut e = 10_000.0;
                for _ in 0..(*k).min(n - b) {
                    // Mostly moves under 3 %, now and then none, now and then a jump.
                    let u = rng.unit_f64();
                    e *= match rng.next_u64() % 16 {
                        0 => 1.0,
                        1 => 0.5 + u,
                        _ => 1.0 + (u - 0.5) * 0.06,
                    };
                    o.on_equity(b, e);
                    b += 1;
                }
            }
        }
    }
    o.on_flat(b, n - b, 10_000.0);
}

pub fn bars(n: usize, step_ns: i64, start: i64) -> Bars {
    let close: Vec<f64> = (0..n).map(|i| 100.0 + ((i * 37) % 23) as f64).collect();
    let ts = (0..n as i64).map(|i| start + i * step_ns).collect();
    Bars::new(ts, close.clone(), close.clone(), close.clone(), close, vec![0.0; n]).unwrap()
}

pub fn same_returns(a: &ReturnStats, b: &ReturnStats) -> bool {
    let bits = |r: &ReturnStats| {
        let mut v =
            vec![r.t, r.sr.to_bits(), r.skew.to_bits(), r.kurtosis.to_bits(), r.psr.to_bits()];
        v.extend(r.blocks.iter().flat_map(|[s, q]| [s.to_bits(), q.to_bits()]));
        v
    };
    bits(a) == bits(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn a_flat_run_in_one_call_is_the_same_as_bar_by_bar_and_fused(
        n in 2..1200usize,
        step in prop_oneof![Just(NANOS_PER_DAY), Just(NANOS_PER_DAY / 24), Just(7 * NANOS_PER_DAY),
                            Just(31 * NANOS_PER_DAY), Just(NANOS_PER_DAY / 1440)],
        start_day in 12_000..12_010i64,
        pieces in prop::collection::vec(piece(), 0..6),
        blocks in prop_oneof![Just(0usize), Just(4), Just(16)],
    ) {
        let bars = bars(n, step, start_day * NANOS_PER_DAY + 13 * NANOS_PER_DAY / 24);
        let ds = DatasetStats::new(&bars);
        let facts = RunFacts { trades: &[], warmup: 0 };

        let mut fast = (StatsAccumulator::new(&ds), ReturnsAccumulator::new(n, blocks));
        feed(&mut fast, &pieces, n);
        let mut slow = PerBar((StatsAccumulator::new(&ds), ReturnsAccumulator::new(n, blocks)));
        feed(&mut slow, &pieces, n);

        // The fused accumulator a simulation uses: one block, one division per bar for both.
        let mut fused = RunAccumulator::new(&ds, blocks);
        feed(&mut fused, &pieces, n);

        let (a, b) = (fast.0.finish(&facts), slow.0.0.finish(&facts));
        prop_assert!(same_stats(&a, &b), "{a:?}\n{b:?}");
        let (fused_stats, fused_returns) = fused.finish(&facts);
        prop_assert!(same_stats(&fused_stats, &b), "{fused_stats:?}\n{b:?}");
        let (a, b) = (fast.1.finish(), slow.0.1.finish());
        prop_assert!(same_returns(&a, &b), "{a:?}\n{b:?}");
        prop_assert!(same_returns(&fused_returns, &b), "{fused_returns:?}\n{b:?}");
    }
}
