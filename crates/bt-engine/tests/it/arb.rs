//! proptest generators: bars (a seeded random walk), broker settings and an order script (a
//! seeded draw from a generated list of actions).
//!
//! Generated values are small, printable specs (not `Bars`, whose `Debug` hides the prices), so
//! a failing case can be reproduced from proptest's output alone.

use bt_domain::{BacktestConfig, Bars};
use bt_engine::FULL_EQUITY;
use proptest::{
    prelude::*,
    test_runner::{Config as ProptestConfig, RngSeed, contextualize_config},
};

/// The longest generated series.
pub const MAX_BARS: usize = 400;

/// proptest settings for this binary: `cases` cases from a fixed seed (reproducible runs, as
/// the house rules ask), no regression files written into the tree. `PROPTEST_CASES`,
/// `PROPTEST_RNG_SEED` etc. still override (e.g. `PROPTEST_RNG_SEED=7 PROPTEST_CASES=5000`
/// for a longer exploration).
pub fn config(cases: u32) -> ProptestConfig {
    contextualize_config(ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x6274_656e_6769_6e65),
        ..ProptestConfig::default()
    })
}

/// splitmix64: the walk's own tiny deterministic generator.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [-1, 1).
    fn sym(&mut self) -> f64 {
        self.unit() * 2.0 - 1.0
    }
}

/// Parameters of a random-walk OHLC series.
#[derive(Debug, Clone, PartialEq)]
pub struct BarSpec {
    /// Number of bars.
    pub n: usize,
    /// Seed of the walk.
    pub seed: u64,
    /// First open.
    pub p0: f64,
    /// Largest per-bar relative move.
    pub vol: f64,
    /// Per-bar drift, relative.
    pub drift: f64,
    /// Probability that a bar opens away from the previous close.
    pub gap_prob: f64,
    /// Probability that a flat stretch (O = H = L = C) starts at a bar.
    pub flat_prob: f64,
    /// Round prices to this tick (makes exact price ties common).
    pub tick: Option<f64>,
    /// Seconds between bars (before the occasional gap in time).
    pub step_s: i64,
}

impl BarSpec {
    /// The bars this spec describes; always valid.
    pub fn build(&self) -> Bars {
        let mut rng = Rng(self.seed);
        let n = self.n;
        let (mut ts, mut open, mut high, mut low, mut close) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut t = 1_600_000_000_i64;
        let mut prev = self.p0;
        let mut flat_left = 0usize;
        for i in 0..n {
            if i > 0 {
                let gap_steps =
                    if rng.unit() < 0.05 { 2 + (rng.next_u64() % 50) as i64 } else { 1 };
                t += self.step_s * gap_steps;
            }
            ts.push(t * 1_000_000_000);
            if flat_left == 0 && rng.unit() < self.flat_prob {
                flat_left = 2 + (rng.next_u64() % 9) as usize;
            }
            let (o, h, l, c) = if flat_left > 0 {
                flat_left -= 1;
                (prev, prev, prev, prev)
            } else {
                let o = if i > 0 && rng.unit() < self.gap_prob {
                    prev * (1.0 + 0.08 * rng.sym())
                } else {
                    prev
                };
                let c = o * (1.0 + self.drift + self.vol * rng.sym());
                let h = o.max(c) * (1.0 + self.vol * rng.unit());
                let l = o.min(c) * (1.0 - self.vol * rng.unit());
                match self.tick {
                    Some(tick) => {
                        let q = |x: f64| ((x / tick).round() * tick).max(tick);
                        let (o, c) = (q(o), q(c));
                        (o, q(h).max(o).max(c), q(l).min(o).min(c), c)
                    }
                    None => (o, h, l, c),
                }
            };
            open.push(o);
            high.push(h);
            low.push(l);
            close.push(c);
            prev = c;
        }
        let volume = vec![1.0; n];
        Bars::new(ts, open, high, low, close, volume).expect("generated bars are valid")
    }
}

/// Random-walk bars: 30..400 bars, prices > 0, gaps and flat stretches now and then.
pub fn bar_spec() -> impl Strategy<Value = BarSpec> {
    (
        30..=MAX_BARS,
        any::<u64>(),
        5.0..500.0f64,
        prop_oneof![Just(0.002), 0.001..0.05f64],
        -0.003..0.003f64,
        prop_oneof![Just(0.0), 0.0..0.2f64],
        prop_oneof![Just(0.0), 0.0..0.08f64],
        prop_oneof![3 => Just(None), 1 => Just(Some(0.01)), 1 => Just(Some(0.5))],
        prop_oneof![Just(60i64), Just(86_400i64)],
    )
        .prop_map(|(n, seed, p0, vol, drift, gap_prob, flat_prob, tick, step_s)| BarSpec {
            n,
            seed,
            p0,
            vol,
            drift,
            gap_prob,
            flat_prob,
            tick,
            step_s,
        })
}

/// Broker settings over backtesting.py's whole valid range (the brief's sub-ranges).
pub fn backtest_config() -> impl Strategy<Value = BacktestConfig> {
    (
        3.0..6.0f64,
        prop_oneof![Just(0.0), -0.01..0.05f64],
        prop_oneof![Just(0.0), 0.0..5.0f64],
        prop_oneof![Just(0.0), 0.0..0.01f64],
        prop::sample::select(vec![1.0, 0.5, 0.1, 0.02]),
        any::<[bool; 4]>(),
    )
        .prop_map(|(log_cash, commission, commission_fixed, spread, margin, flags)| {
            BacktestConfig {
                cash: 10f64.powf(log_cash),
                commission,
                commission_fixed,
                spread,
                margin,
                trade_on_close: flags[0],
                hedging: flags[1],
                exclusive_orders: flags[2],
                finalize_trades: flags[3],
                ..BacktestConfig::default()
            }
        })
}

/// How an entry order's prices are set, as offsets from the bar's reference price.
///
/// Offsets are in the order's favour when positive: a long limit `off` below the reference, a
/// long stop `off` above it; shorts mirrored. Negative offsets make marketable limits and stops
/// on the wrong side, which backtesting.py accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Market order.
    Market,
    /// Limit order.
    Limit(f64),
    /// Stop (market-if-touched) order.
    Stop(f64),
    /// Stop-limit: the limit is `limit_off` beyond the stop (negative: before it).
    StopLimit {
        /// Stop offset from the reference.
        stop_off: f64,
        /// Limit offset from the stop.
        limit_off: f64,
    },
}

/// One strategy action. Trade and order indices are taken modulo `count + 1`, so index
/// `count` (no such item) also occurs and its error is ignored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Action {
    /// `buy(...)` or `sell(...)`.
    Entry {
        /// Buy when true.
        long: bool,
        /// Order type and prices.
        kind: Kind,
        /// Fraction or units (sometimes invalid).
        size: f64,
        /// Stop-loss offset (positive: on the losing side).
        sl_off: Option<f64>,
        /// Take-profit offset (positive: on the winning side).
        tp_off: Option<f64>,
    },
    /// `position.close(portion)`.
    ClosePosition(f64),
    /// `trades[k].close(portion)`.
    CloseTrade(usize, f64),
    /// `trades[k].sl = reference * (1 -/+ off)` or `None`.
    SetSl(usize, Option<f64>),
    /// `trades[k].tp = reference * (1 +/- off)` or `None`.
    SetTp(usize, Option<f64>),
    /// `orders[k].cancel()`.
    Cancel(usize),
}

fn offset() -> impl Strategy<Value = f64> {
    prop_oneof![2 => 0.0..0.05f64, 1 => Just(0.0), 1 => -0.02..0.0f64]
}

fn size() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.01..0.99f64,
        2 => Just(FULL_EQUITY),
        3 => (1u32..=30).prop_map(f64::from),
        // Invalid sizes, refused by the engine. Negative sizes are left out: `Ctx::sell` with a
        // negative size places a buy instead of refusing it as backtesting.py does (reported).
        1 => prop::sample::select(vec![0.0, 1.0, 2.5]),
    ]
}

fn portion() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => Just(1.0),
        2 => Just(0.5),
        3 => 0.01..=1.0f64,
        1 => prop::sample::select(vec![0.0, 1.5]),
    ]
}

fn bracket_off() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![3 => Just(None), 4 => (0.002..0.06f64).prop_map(Some), 1 => (-0.01..0.002f64).prop_map(Some)]
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Market),
        2 => offset().prop_map(Kind::Limit),
        2 => offset().prop_map(Kind::Stop),
        1 => (offset(), -0.02..0.03f64)
            .prop_map(|(stop_off, limit_off)| Kind::StopLimit { stop_off, limit_off }),
    ]
}

/// One action.
pub fn action() -> impl Strategy<Value = Action> {
    let index = 0usize..6;
    prop_oneof![
        10 => (any::<bool>(), kind(), size(), bracket_off(), bracket_off()).prop_map(
            |(long, kind, size, sl_off, tp_off)| Action::Entry { long, kind, size, sl_off, tp_off }
        ),
        2 => portion().prop_map(Action::ClosePosition),
        2 => (index.clone(), portion()).prop_map(|(k, p)| Action::CloseTrade(k, p)),
        2 => (index.clone(), prop::option::weighted(0.85, 0.0..0.05f64))
            .prop_map(|(k, off)| Action::SetSl(k, off)),
        2 => (index.clone(), prop::option::weighted(0.85, 0.0..0.05f64))
            .prop_map(|(k, off)| Action::SetTp(k, off)),
        2 => index.prop_map(Action::Cancel),
    ]
}

/// The order stream: on each bar, 0..=3 actions drawn from `pool` by a generator seeded with
/// `seed` and the bar index. Generating a short pool instead of a list per bar keeps case
/// generation cheap (it dominated the run time) and failing cases short.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The actions to draw from.
    pub pool: Vec<Action>,
    /// Seed of the draw.
    pub seed: u64,
    /// Probability that a bar has any action.
    pub activity: f64,
}

impl Script {
    /// The actions of bar `i`, in order.
    pub fn actions_at(&self, i: usize) -> impl Iterator<Item = Action> + '_ {
        let mut rng = Rng(self.seed ^ (i as u64).wrapping_mul(0xd134_2543_de82_ef95));
        let count = if rng.unit() < self.activity { 1 + rng.next_u64() % 3 } else { 0 };
        (0..count).map(move |_| self.pool[(rng.next_u64() % self.pool.len() as u64) as usize])
    }
}

/// A script: 1..=16 actions, drawn on 2%..60% of the bars.
pub fn script() -> impl Strategy<Value = Script> {
    (prop::collection::vec(action(), 1..=16), any::<u64>(), 0.02..0.6f64)
        .prop_map(|(pool, seed, activity)| Script { pool, seed, activity })
}

/// The warm-up indicator a case registers, if any.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Warmup {
    /// No indicator: the loop starts at bar 1 and prices are set from the close.
    None,
    /// An indicator that is NaN before this bar (all NaN when past the data, which
    /// backtesting.py treats as no warm-up).
    NanBefore(usize),
    /// NaN before bar `n - k`: `k = 1` leaves no bar for `next`, `k = 2` only the last one.
    NanBeforeEnd(usize),
}

impl Warmup {
    /// The first bar with a value, for `n` bars.
    pub fn first_valid(self, n: usize) -> Option<usize> {
        match self {
            Warmup::None => None,
            Warmup::NanBefore(w) => Some(w),
            Warmup::NanBeforeEnd(k) => Some(n.saturating_sub(k)),
        }
    }
}

/// A whole backtest input.
#[derive(Debug, Clone)]
pub struct Case {
    /// The bars.
    pub bars: BarSpec,
    /// Broker settings.
    pub config: BacktestConfig,
    /// Indicator warm-up.
    pub warmup: Warmup,
    /// The order stream.
    pub script: Script,
}

/// A full random case.
pub fn case() -> impl Strategy<Value = Case> {
    (
        bar_spec(),
        backtest_config(),
        prop_oneof![
            6 => Just(Warmup::None),
            3 => (0usize..40).prop_map(Warmup::NanBefore),
            1 => (1usize..=4).prop_map(Warmup::NanBeforeEnd),
            1 => (MAX_BARS..=MAX_BARS + 10).prop_map(Warmup::NanBefore),
        ],
        script(),
    )
        .prop_map(|(bars, config, warmup, script)| Case { bars, config, warmup, script })
}
