//! Where a report's records come from: any source that can replay them, one at a time.

use bt_domain::SimRecord;

use crate::error::ReportError;

/// A run's records, replayable: every call of [`Records::for_each`] visits the same records in
/// the same order, queue order (the order of summary.csv), one at a time.
///
/// A report reads its records in a few passes (counts and bounded aggregates first, then the
/// exports and the chart cells), so it never holds more than a bounded number of them: a
/// source that streams from a file lets a 10-million-simulation run report in bounded memory.
/// The fixed order also fixes the order of every floating-point sum, so the report's bytes
/// depend only on the records.
///
/// Implemented for slices and vectors (visited in queue order whatever their own order) and
/// for references to any source.
///
/// ```
/// use bt_domain::SimRecord;
/// use bt_report::{Records, ReportError};
///
/// /// No records at all.
/// struct Empty;
/// impl Records for Empty {
///     fn for_each(
///         &self,
///         _f: &mut dyn FnMut(&SimRecord) -> Result<(), ReportError>,
///     ) -> Result<(), ReportError> {
///         Ok(())
///     }
/// }
/// let board = bt_report::Leaderboard::new(&Empty, "sharpe_ratio", 10).unwrap();
/// assert!(board.rows.is_empty());
/// ```
pub trait Records {
    /// Calls `f` with every record, in queue order; stops at the first error (of `f` or of the
    /// source itself) and returns it.
    fn for_each(
        &self,
        f: &mut dyn FnMut(&SimRecord) -> Result<(), ReportError>,
    ) -> Result<(), ReportError>;
}

impl Records for [SimRecord] {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&SimRecord) -> Result<(), ReportError>,
    ) -> Result<(), ReportError> {
        queue_ordered(self).into_iter().try_for_each(f)
    }
}

impl Records for Vec<SimRecord> {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&SimRecord) -> Result<(), ReportError>,
    ) -> Result<(), ReportError> {
        self.as_slice().for_each(f)
    }
}

impl<R: Records + ?Sized> Records for &R {
    fn for_each(
        &self,
        f: &mut dyn FnMut(&SimRecord) -> Result<(), ReportError>,
    ) -> Result<(), ReportError> {
        (**self).for_each(f)
    }
}

/// The records of a slice in queue order: by queue index, then id (as summary.csv orders them).
pub(crate) fn queue_ordered(records: &[SimRecord]) -> Vec<&SimRecord> {
    let mut order: Vec<&SimRecord> = records.iter().collect();
    // Stable and linear on sorted input: the usual case costs one comparison per record.
    order.sort_by(|a, b| a.index.cmp(&b.index).then_with(|| a.id.cmp(&b.id)));
    order
}

/// Calls `f` with every record of `records` and nothing can fail but `f`'s own bookkeeping: for
/// the aggregates, which never fail.
pub(crate) fn visit(
    records: &dyn Records,
    mut f: impl FnMut(&SimRecord),
) -> Result<(), ReportError> {
    records.for_each(&mut |r| {
        f(r);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use bt_domain::SimOutcome;

    use super::*;

    fn record(index: u64, id: &str) -> SimRecord {
        SimRecord {
            index,
            id: id.into(),
            dataset: "d".into(),
            strategy: "s".into(),
            params: Default::default(),
            outcome: SimOutcome::Failed("x".into()),
        }
    }

    #[test]
    fn slices_are_visited_in_queue_order() {
        let records = vec![record(2, "c"), record(0, "b"), record(0, "a"), record(1, "d")];
        let mut seen = Vec::new();
        visit(&records, |r| seen.push(r.id.clone())).unwrap();
        assert_eq!(seen, ["a", "b", "d", "c"]);
        let mut again = Vec::new();
        visit(&&records[..], |r| again.push(r.id.clone())).unwrap();
        assert_eq!(again, seen);
    }
}
