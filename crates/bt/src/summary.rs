//! What the facade adds to the executor's one pass over a finished run's log (queue order):
//! the trials of the overfitting statistics (validation.json) and summary.parquet, so a run
//! of a million simulations reads its log once to write every summary.

use std::{path::Path, sync::Mutex};

use bt_domain::SimRecord;
use bt_executor::{ExecError, SummaryOutput, SummaryRows, log::ParamKind};

use crate::validation::Groups;

/// The summaries of a run directory beyond summary.csv.
#[derive(Default)]
pub(crate) struct RunSummaries {
    /// The trials collected by the last pass, until taken.
    trials: Mutex<Option<Groups>>,
}

impl RunSummaries {
    /// The trials of the pass that ran (`None` if none finished).
    pub(crate) fn take_trials(&self) -> Option<Groups> {
        self.trials.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl SummaryOutput for RunSummaries {
    fn start(
        &self,
        _dir: &Path,
        _params: &[(String, ParamKind)],
    ) -> Result<Box<dyn SummaryRows + '_>, ExecError> {
        Ok(Box::new(Rows { owner: self, trials: Groups::default() }))
    }
}

/// One pass's rows.
struct Rows<'a> {
    owner: &'a RunSummaries,
    trials: Groups,
}

impl SummaryRows for Rows<'_> {
    fn row(&mut self, record: &SimRecord) -> Result<(), ExecError> {
        self.trials.push(record);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), ExecError> {
        *self.owner.trials.lock().unwrap_or_else(|e| e.into_inner()) = Some(self.trials);
        Ok(())
    }
}
