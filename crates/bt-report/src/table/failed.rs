//! The failed simulations of a run: listed in queue order, the first few thousand kept.

use bt_domain::{SimOutcome, SimRecord};

use crate::{
    source::queue_ordered,
    table::{markdown_table, thousands},
};

/// Failed simulations kept for failed.md and the report (the rest are counted).
pub(crate) const FAILED_KEPT: usize = 1_000;

/// One failed simulation as the lists show it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FailedSim {
    pub id: String,
    pub dataset: String,
    pub strategy: String,
    pub reason: String,
}

/// The failed simulations of a stream of records, in its order: the first `limit` kept, every
/// one counted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FailedList {
    /// The first failed simulations.
    pub shown: Vec<FailedSim>,
    /// How many failed in all.
    pub total: u64,
    limit: usize,
}

impl FailedList {
    pub(crate) fn new(limit: usize) -> FailedList {
        FailedList { shown: Vec::new(), total: 0, limit }
    }

    pub(crate) fn observe(&mut self, r: &SimRecord) {
        let SimOutcome::Failed(reason) = &r.outcome else { return };
        self.total += 1;
        if self.shown.len() < self.limit {
            self.shown.push(FailedSim {
                id: r.id.clone(),
                dataset: r.dataset.clone(),
                strategy: r.strategy.clone(),
                reason: reason.clone(),
            });
        }
    }

    /// How many failed but are not listed.
    pub(crate) fn more(&self, listed: usize) -> u64 {
        self.total - listed.min(self.shown.len()) as u64
    }

    /// failed.md: a Markdown table (`id | dataset | strategy | reason`) of the first `limit`
    /// and, when some are left out, a line that says how many.
    pub(crate) fn to_markdown(&self, limit: usize) -> String {
        let columns: Vec<String> =
            ["id", "dataset", "strategy", "reason"].iter().map(|s| s.to_string()).collect();
        let rows: Vec<[String; 4]> = self
            .shown
            .iter()
            .take(limit)
            .map(|f| [f.id.clone(), f.dataset.clone(), f.strategy.clone(), f.reason.clone()])
            .collect();
        let mut out = markdown_table(&columns, rows.iter().map(|r| r.as_slice()));
        let more = self.more(rows.len());
        if more > 0 {
            out.push_str(&format!(
                "\n... and {} more: see the `error` column of the summary table.\n",
                thousands(more)
            ));
        }
        out
    }
}

/// The failed simulations, in queue order, with their reasons.
pub fn failed(records: &[SimRecord]) -> Vec<(&SimRecord, &str)> {
    queue_ordered(records)
        .into_iter()
        .filter_map(|r| match &r.outcome {
            SimOutcome::Failed(msg) => Some((r, msg.as_str())),
            SimOutcome::Ok(_) => None,
        })
        .collect()
}

/// The failed simulations as a Markdown table (`id | dataset | strategy | reason`), in queue
/// order; past the first thousand, a line says how many more failed.
pub fn failed_markdown(records: &[SimRecord]) -> String {
    let mut list = FailedList::new(FAILED_KEPT);
    queue_ordered(records).into_iter().for_each(|r| list.observe(r));
    list.to_markdown(FAILED_KEPT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(index: u64) -> SimRecord {
        SimRecord {
            index,
            id: format!("s{index}"),
            dataset: "d".into(),
            strategy: "s".into(),
            params: Default::default(),
            outcome: SimOutcome::Failed("boom".into()),
        }
    }

    #[test]
    fn the_list_is_capped_and_counts_the_rest() {
        let records: Vec<SimRecord> = (0..2_345).map(failure).collect();
        let md = failed_markdown(&records);
        assert_eq!(md.lines().count(), 2 + FAILED_KEPT + 2, "header, rows, blank, note");
        assert!(
            md.ends_with("\n... and 1,345 more: see the `error` column of the summary table.\n")
        );
        assert!(md.contains("| s999 |") && !md.contains("| s1000 |"));
        let few = failed_markdown(&records[..3]);
        assert_eq!(few.lines().count(), 5);
        assert!(!few.contains("more"));
    }
}
