//! The record filter of a leaderboard: which simulations may be ranked.

use std::{fmt, sync::Arc};

use bt_domain::SimRecord;

/// A predicate over records, chosen by the user, that a report's leaderboard honours: only
/// the records it keeps are ranked (and their equity curves charted). Summaries, heatmaps and
/// histograms still show every simulation.
///
/// The predicate is opaque to this crate (the facade compiles it from an expression); the
/// label says what it is, in the words the user wrote, above every leaderboard. Two filters
/// are equal, and print, by their labels.
///
/// ```
/// use bt_report::RecordFilter;
/// let f = RecordFilter::new("strategy == \"rsi\"", |r| r.strategy == "rsi");
/// assert_eq!(format!("{f:?}"), "RecordFilter(\"strategy == \\\"rsi\\\"\")");
/// ```
#[derive(Clone)]
pub struct RecordFilter {
    /// What the filter keeps, as the user wrote it (`n_trades >= 20 and strategy == "rsi"`).
    pub label: String,
    /// Whether a record may be ranked.
    pub keep: Arc<dyn Fn(&SimRecord) -> bool + Send + Sync>,
}

impl RecordFilter {
    /// A filter named `label` that keeps the records `keep` accepts.
    pub fn new(
        label: impl Into<String>,
        keep: impl Fn(&SimRecord) -> bool + Send + Sync + 'static,
    ) -> RecordFilter {
        RecordFilter { label: label.into(), keep: Arc::new(keep) }
    }

    /// Whether `r` may be ranked.
    pub fn keeps(&self, r: &SimRecord) -> bool {
        (self.keep)(r)
    }
}

impl fmt::Debug for RecordFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RecordFilter").field(&self.label).finish()
    }
}

impl PartialEq for RecordFilter {
    fn eq(&self, other: &RecordFilter) -> bool {
        self.label == other.label
    }
}

/// What a filter did to a leaderboard: how many of the ranked simulations it kept. The notes
/// every leaderboard (page, Markdown, terminal) shows above its rows come from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterTally {
    /// The filter's label.
    pub label: String,
    /// Simulations that could be ranked (successful, not on a walk-forward window).
    pub ranked: u64,
    /// Of those, how many the filter kept.
    pub kept: u64,
}

impl FilterTally {
    /// The line above a leaderboard: `filter: LABEL (12 of 27 simulations pass)`, or, when
    /// none passes, `no simulation passes the filter LABEL (0 of 27)`.
    pub fn note(&self) -> String {
        if self.kept == 0 {
            format!("no simulation passes the filter {} (0 of {})", self.label, self.ranked)
        } else {
            format!("filter: {} ({} of {} simulations pass)", self.label, self.kept, self.ranked)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compare_by_label() {
        let a = RecordFilter::new("x", |_| true);
        let b = RecordFilter::new("x", |_| false);
        assert_eq!(a, b.clone());
        assert_ne!(a, RecordFilter::new("y", |_| true));
    }

    #[test]
    fn notes_say_what_was_kept() {
        let t = FilterTally { label: "n_trades >= 20".into(), ranked: 27, kept: 12 };
        assert_eq!(t.note(), "filter: n_trades >= 20 (12 of 27 simulations pass)");
        let none = FilterTally { kept: 0, ..t };
        assert_eq!(none.note(), "no simulation passes the filter n_trades >= 20 (0 of 27)");
    }
}
