//! The result log read back (see [`crate::log`]): every record, the indices a resume skips,
//! the summaries in queue order and the leaderboard, all streaming (memory bounded by a few
//! frames, never by the number of records).

use std::{fs::OpenOptions, path::Path};

use bt_domain::{SimRecord, SummaryLayout, push_csv_line, ranking::TopK};

use crate::{
    error::ExecError,
    log::{Conflict, Log, ParamKind, for_each_in_order},
    rundir::{LockedRunDir, write_run_file},
};

/// Reads every record of a result log (ignoring a torn last frame), in file order.
pub fn read_results(path: &Path) -> Result<Vec<SimRecord>, ExecError> {
    let mut out = Vec::new();
    for_each_result(path, |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `f` with every record of a result log (ignoring a torn last frame), in file order,
/// holding one frame at a time.
pub fn for_each_result(
    path: &Path,
    f: impl FnMut(SimRecord) -> Result<(), ExecError>,
) -> Result<(), ExecError> {
    Log::open(path)?.for_each(f)
}

/// Calls `f` with every record of a result log in queue order, one per simulation (a
/// simulation recorded twice with the same result is used once, with a warning; with
/// different results it is [`ExecError::DuplicateResult`]), holding a few frames at a time.
pub fn for_each_in_queue_order(
    path: &Path,
    f: impl FnMut(SimRecord) -> Result<(), ExecError>,
) -> Result<(), ExecError> {
    for_each_in_queue_order_of(&[path], &mut refuse_conflict, f)
}

/// [`for_each_in_queue_order`] over several logs at once (the shards of a merge): a
/// simulation in two of them is passed once when both results are equal; when they differ,
/// `conflict` says what to do (the first is passed on if it returns `Ok`).
pub fn for_each_in_queue_order_of(
    paths: &[&Path],
    conflict: &mut dyn FnMut(Conflict) -> Result<(), ExecError>,
    f: impl FnMut(SimRecord) -> Result<(), ExecError>,
) -> Result<(), ExecError> {
    let logs = paths.iter().map(|p| Log::open(p)).collect::<Result<Vec<_>, _>>()?;
    let dropped = for_each_in_order(&logs, conflict, f)?;
    if dropped > 0 && logs.len() == 1 {
        tracing::warn!(
            "{}: {dropped} result(s) repeat an earlier record of the same simulation (two writers on one run directory?): using one of each",
            paths[0].display()
        );
    }
    Ok(())
}

/// [`Conflict`] as the error that stops a summary.
pub fn refuse_conflict(c: Conflict) -> Result<(), ExecError> {
    Err(ExecError::DuplicateResult { id: c.record.id, first: c.first, second: c.second })
}

/// The (name, type) of every parameter in the logs at `paths`, sorted.
pub fn param_kinds(paths: &[&Path]) -> Result<Vec<(String, ParamKind)>, ExecError> {
    let mut kinds = Vec::new();
    for p in paths {
        Log::open(p)?.param_kinds(&mut kinds)?;
    }
    kinds.sort();
    Ok(kinds)
}

/// Queue indices already in the log at `path`, sorted, after cutting a torn last frame.
pub(crate) fn done_indices(path: &Path) -> Result<Vec<u64>, ExecError> {
    let log = Log::open(path)?;
    if log.torn > 0 {
        tracing::warn!("{}: dropping a torn last frame ({} bytes)", path.display(), log.torn);
        let len = std::fs::metadata(path).map_err(ExecError::write(path))?.len();
        let f = OpenOptions::new().write(true).open(path).map_err(ExecError::write(path))?;
        f.set_len(len - log.torn).map_err(ExecError::write(path))?;
    }
    let mut done = log.indices()?;
    done.sort_unstable();
    done.dedup();
    Ok(done)
}

/// Counts of a finished run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records.
    pub total: u64,
    /// Successful.
    pub ok: u64,
    /// Failed.
    pub failed: u64,
}

/// Runs of up to this many simulations get a `summary.csv`; larger ones have
/// `summary.parquet` (and `bt results DIR --csv` writes the CSV on demand).
pub const SUMMARY_CSV_MAX_ROWS: u64 = 100_000;

/// Where the summary rows of a run go besides `summary.csv` (the facade writes
/// `summary.parquet` with one).
pub trait SummaryOutput: Sync {
    /// Starts the table of run directory `dir`, whose records have these parameters (see
    /// [`param_kinds`]).
    fn start(
        &self,
        dir: &Path,
        params: &[(String, ParamKind)],
    ) -> Result<Box<dyn SummaryRows + '_>, ExecError>;
}

/// One summary table being written, a row at a time in queue order.
pub trait SummaryRows {
    /// Adds one record's row.
    fn row(&mut self, record: &SimRecord) -> Result<(), ExecError>;
    /// Publishes the table.
    fn finish(self: Box<Self>) -> Result<(), ExecError>;
}

/// Writes the summaries of `dir` in queue order from its log, streaming: `summary.csv`
/// (atomically; runs of more than [`SUMMARY_CSV_MAX_ROWS`] simulations get none and lose a
/// stale one) and `output`'s table. A simulation recorded twice is used once (see
/// [`ExecError::DuplicateResult`] for when that is an error).
pub fn finalize(
    dir: &LockedRunDir,
    output: Option<&dyn SummaryOutput>,
) -> Result<Counts, ExecError> {
    let results = dir.results();
    let kinds = param_kinds(&[&results])?;
    let csv = Log::open(&results)?.len() <= SUMMARY_CSV_MAX_ROWS;
    let layout = SummaryLayout::new(kinds.iter().map(|(n, _)| n.as_str()));
    let mut rows = output.map(|o| o.start(&dir.path, &kinds)).transpose()?;
    let mut out = String::new();
    if csv {
        push_csv_line(&mut out, layout.columns());
    }
    let mut counts = Counts::default();
    for_each_in_queue_order(&results, |r| {
        counts.total += 1;
        if r.stats().is_some() {
            counts.ok += 1;
        } else {
            counts.failed += 1;
        }
        if csv {
            push_csv_line(&mut out, layout.row(&r).iter().map(bt_domain::Cell::to_text));
        }
        rows.as_mut().map_or(Ok(()), |t| t.row(&r))
    })?;
    if csv {
        write_run_file(&dir.summary(), out.as_bytes())?;
    } else {
        remove_stale(&dir.summary())?;
    }
    if let Some(rows) = rows {
        rows.finish()?;
    }
    Ok(counts)
}

/// Removes `path` if it exists.
pub(crate) fn remove_stale(path: &Path) -> Result<(), ExecError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(ExecError::write(path)(e)),
        _ => Ok(()),
    }
}

/// The best `k` successful records by `metric` (a rankable statistic, see
/// [`bt_domain::ranking`]), best first; NaN last; ties by queue index.
pub fn top_k(
    records: impl IntoIterator<Item = SimRecord>,
    metric: &str,
    k: usize,
) -> Vec<SimRecord> {
    let mut top = TopK::new(k);
    for record in records {
        if let Some(score) = record.ranked_stats().and_then(|s| s.metric(metric)) {
            top.push(score, record.index, record);
        }
    }
    top.into_sorted()
}

/// [`top_k`] over a result log, streaming (O(k) records and a frame in memory).
pub fn top_k_file(path: &Path, metric: &str, k: usize) -> Result<Vec<SimRecord>, ExecError> {
    let mut top = TopK::new(k);
    for_each_result(path, |record| {
        if let Some(score) = record.ranked_stats().and_then(|s| s.metric(metric)) {
            top.push(score, record.index, record);
        }
        Ok(())
    })?;
    // A log written by two processes at once (before the lock) may hold an id twice.
    let mut best = top.into_sorted();
    let mut seen = Vec::new();
    best.retain(|r| {
        let new = !seen.contains(&r.id);
        seen.push(r.id.clone());
        new
    });
    Ok(best)
}

impl std::fmt::Debug for dyn SummaryOutput + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SummaryOutput")
    }
}
