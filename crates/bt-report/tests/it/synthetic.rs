//! A run generated on the fly, one record at a time, behind [`Records`]: as large as wanted
//! without holding it (the streaming tests, and `examples/report_scale.rs`).

use std::cell::Cell;

use bt_domain::{ParamValue, SimOutcome, SimRecord, rng::SplitMix64};
use bt_report::{Records, ReportError};

use crate::fixtures::{ok, params, stats_for};

/// The strategies of a synthetic run, in turn.
pub const STRATEGIES: [&str; 3] = ["sma_cross", "rsi_band", "breakout"];

/// `n` simulations: three strategies in turn over a grid of `fast` (60 values: a binned
/// heatmap axis), `slow` (25) and, but for `sma_cross`, `mult` (7); every 97th fails; the
/// metrics get seeded noise, so nearly every value is distinct.
#[derive(Debug)]
pub struct Synthetic {
    pub n: u64,
    passes: Cell<u32>,
}

impl Synthetic {
    pub fn new(n: u64) -> Synthetic {
        Synthetic { n, passes: Cell::new(0) }
    }

    /// How many times the records were read.
    pub fn passes(&self) -> u32 {
        self.passes.get()
    }

    /// Simulation `i` (the same every time).
    pub fn record(&self, i: u64) -> SimRecord {
        let strategy = STRATEGIES[(i % 3) as usize];
        let j = i / 3;
        let fast = 2 + (j % 60) as i64;
        let slow = 20 + 4 * ((j / 60) % 25) as i64;
        let mult = 0.5 + 0.25 * ((j / 1500) % 7) as f64;
        let mut p = params(fast, slow);
        if strategy != "sma_cross" {
            p.insert("mult".into(), ParamValue::Float(mult));
        }
        let outcome = if i % 97 == 13 {
            SimOutcome::Failed(format!("strategy error at bar {}: division by zero", i % 500))
        } else {
            let mut s = stats_for(fast as f64, slow as f64);
            let noise = SplitMix64::new(i).unit_f64() - 0.5;
            s.sharpe_ratio += noise * 0.3 - (mult - 1.2).powi(2);
            s.return_pct += noise * 40.0;
            ok(s)
        };
        SimRecord {
            index: i,
            id: format!("{strategy}/fast={fast},slow={slow},mult={mult}/{i}"),
            dataset: "goog".into(),
            strategy: strategy.into(),
            params: p,
            outcome,
        }
    }

    /// Every record, in memory (for comparisons).
    pub fn to_vec(&self) -> Vec<SimRecord> {
        (0..self.n).map(|i| self.record(i)).collect()
    }
}

impl Records for Synthetic {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&SimRecord) -> Result<(), ReportError>,
    ) -> Result<(), ReportError> {
        self.passes.set(self.passes.get() + 1);
        (0..self.n).try_for_each(|i| f(&self.record(i)))
    }
}
