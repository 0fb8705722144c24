//! Lockstep statistics ([`LaneCurves`]): every lane gets the bits a [`RunAccumulator`] gives
//! its run alone, whatever the curves (small moves, jumps, flat stretches, common warm-ups,
//! busts, NaN, equities at the bounds) and the bars (daily, intraday, weekly periods), with
//! any number of lanes from 1 to [`LANES`].

use bt_domain::{EquityObserver, time::NANOS_PER_DAY};
use bt_stats::{DatasetStats, LANES, LaneCurves, RunAccumulator, RunFacts};
use proptest::prelude::*;

use crate::{
    flat::{Piece, bars, feed, piece, same_returns},
    stream::same_stats,
};

/// Equities at and past the vector loop's bounds (1e-150, 1e150), NaN and negative ones:
/// their lanes are folded alone.
fn extreme() -> impl Strategy<Value = Piece> {
    let value = prop_oneof![
        Just(1e149),
        Just(1.5e-149),
        Just(2e150),
        Just(1e-151),
        Just(f64::NAN),
        Just(-3.0),
        1.0..20_000.0f64,
    ];
    prop::collection::vec(value, 1..10).prop_map(Piece::Moves)
}

fn lane() -> impl Strategy<Value = Vec<Piece>> {
    prop::collection::vec(prop_oneof![6 => piece(), 1 => extreme()], 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_lane_is_its_run_folded_alone(
        n in 2..1500usize,
        step in prop_oneof![Just(NANOS_PER_DAY), Just(NANOS_PER_DAY / 24), Just(7 * NANOS_PER_DAY),
                            Just(NANOS_PER_DAY / 1440)],
        lanes in prop::collection::vec(lane(), 1..=LANES),
        blocks in prop_oneof![Just(0usize), Just(4), Just(16)],
        warmup in prop_oneof![Just(0usize), 1..400usize],
    ) {
        // A warm-up common to every lane (the cash before the strategies' first orders).
        let lanes: Vec<Vec<Piece>> = lanes
            .into_iter()
            .map(|pieces| std::iter::once(Piece::Flat(warmup, 10_000.0)).chain(pieces).collect())
            .collect();
        let bars = bars(n, step, 12_003 * NANOS_PER_DAY + 13 * NANOS_PER_DAY / 24);
        let ds = DatasetStats::new(&bars);
        let facts: Vec<RunFacts<'_>> =
            (0..lanes.len()).map(|l| RunFacts { trades: &[], warmup: l }).collect();
        let mut curves = LaneCurves::new(n);
        // A lane written twice keeps the second run only.
        feed(&mut curves.recorder(0), &lanes[lanes.len() - 1], n);
        for (l, pieces) in lanes.iter().enumerate() {
            feed(&mut curves.recorder(l), pieces, n);
        }
        let together = curves.finish(&ds, blocks, &facts);
        prop_assert_eq!(together.len(), lanes.len());
        // The lanes of the runs are left as they were: again, the same results.
        let again = curves.finish(&ds, blocks, &facts);
        prop_assert_eq!(format!("{together:?}"), format!("{again:?}"));
        for ((pieces, (stats, returns)), facts) in lanes.iter().zip(&together).zip(&facts) {
            let mut alone = RunAccumulator::new(&ds, blocks);
            feed(&mut alone, pieces, n);
            let (a, r) = alone.finish(facts);
            prop_assert!(same_stats(stats, &a), "{stats:?}\n{a:?}");
            prop_assert!(same_returns(returns, &r), "{returns:?}\n{r:?}");
        }
    }
}

/// Fewer lanes than [`LANES`], and lanes the vector loop leaves to the scalar fold, in one
/// batch: each still gets its own results.
#[test]
fn lanes_outside_the_bounds_are_folded_alone() {
    let n = 300;
    let bars = bars(n, NANOS_PER_DAY, 12_003 * NANOS_PER_DAY);
    let ds = DatasetStats::new(&bars);
    let curve = |k: usize| -> Vec<f64> {
        (0..n)
            .map(|i| match (k, i) {
                (1, i) if i > 150 => 0.0,
                (3, 200) => f64::NAN,
                _ => 1000.0 * (1.0 + 0.01 * ((i * (k + 3)) % 17) as f64),
            })
            .collect()
    };
    let facts = [RunFacts { trades: &[], warmup: 0 }; 5];
    let mut curves = LaneCurves::new(n);
    for k in 0..5 {
        let mut rec = curves.recorder(k);
        for (i, e) in curve(k).into_iter().enumerate() {
            rec.on_equity(i, e);
        }
    }
    let together = curves.finish(&ds, 16, &facts);
    for (k, (stats, returns)) in together.iter().enumerate() {
        let mut alone = RunAccumulator::new(&ds, 16);
        for (i, e) in curve(k).into_iter().enumerate() {
            alone.on_equity(i, e);
        }
        let (a, r) = alone.finish(&facts[k]);
        assert!(same_stats(stats, &a), "lane {k}: {stats:?}\n{a:?}");
        assert!(same_returns(returns, &r), "lane {k}");
    }
    assert_eq!(together[1].0.equity_final, 0.0);
}

/// A lane that did not receive one equity per bar is refused, as `RunAccumulator` refuses a
/// short stream: stale values of an earlier run are never folded.
#[test]
#[should_panic(expected = "one value per bar")]
fn a_lane_short_of_bars_is_refused() {
    let n = 50;
    let bars = bars(n, NANOS_PER_DAY, 12_003 * NANOS_PER_DAY);
    let ds = DatasetStats::new(&bars);
    let mut curves = LaneCurves::new(n);
    for lane in 0..2 {
        let mut rec = curves.recorder(lane);
        for i in 0..n {
            rec.on_equity(i, 1000.0 + i as f64);
        }
    }
    // Lane 1 again, a run that stopped half way.
    let mut rec = curves.recorder(1);
    for i in 0..n / 2 {
        rec.on_equity(i, 900.0);
    }
    let facts = [RunFacts { trades: &[], warmup: 0 }; 2];
    curves.finish(&ds, 16, &facts);
}
