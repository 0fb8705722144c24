//! `results.jsonl`, read back: scanning with torn-line recovery, the ids a resume skips,
//! `summary.csv` in queue order, and the leaderboard, all streaming (memory bounded by the
//! number of simulations times a few words, never by their records).

use std::{
    fs::{File, OpenOptions},
    io::{BufRead, BufReader, Read, Seek, SeekFrom},
    path::Path,
};

use bt_domain::{SimRecord, SummaryLayout, hash::fnv1a_128, push_csv_line, ranking::TopK};

use crate::{
    error::ExecError,
    jsonl::decode_record,
    rundir::{LockedRunDir, write_run_file},
};

/// Where a record's line sits in the file.
#[derive(Debug, Clone, Copy)]
struct Span {
    line: usize,
    offset: u64,
    len: usize,
}

/// Scans `results.jsonl`: calls `f(span, record)` for every complete line.
///
/// A final line without its newline (a write torn by a crash) is ignored and its length
/// returned, so the caller can truncate it away. A bad line elsewhere is an error.
fn scan(
    path: &Path,
    mut f: impl FnMut(Span, SimRecord) -> Result<(), ExecError>,
) -> Result<u64, ExecError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(ExecError::Io { path: path.into(), source: e }),
    };
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut text = String::new();
    let mut offset = 0u64;
    let mut line = 0;
    loop {
        text.clear();
        let n = reader.read_line(&mut text).map_err(ExecError::io(path))?;
        if n == 0 {
            return Ok(0);
        }
        line += 1;
        if !text.ends_with('\n') {
            // Torn last line: the process died mid-write.
            return Ok(n as u64);
        }
        match decode_record(text.trim_end()) {
            Ok(record) => f(Span { line, offset, len: n }, record)?,
            Err(message) => return Err(ExecError::Corrupt { path: path.into(), line, message }),
        }
        offset += n as u64;
    }
}

/// Reads every record of a `results.jsonl` (ignoring a torn last line), in file order.
pub fn read_results(path: &Path) -> Result<Vec<SimRecord>, ExecError> {
    let mut out = Vec::new();
    scan(path, |_, r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// Calls `f` with every record of a `results.jsonl` (ignoring a torn last line), in file
/// order, holding one record at a time.
pub fn for_each_result(
    path: &Path,
    mut f: impl FnMut(SimRecord) -> Result<(), ExecError>,
) -> Result<(), ExecError> {
    scan(path, |_, r| f(r)).map(|_| ())
}

/// Reads the bytes of one line.
fn read_span(file: &mut File, path: &Path, span: Span) -> Result<Vec<u8>, ExecError> {
    let mut buf = vec![0; span.len];
    file.seek(SeekFrom::Start(span.offset)).map_err(ExecError::io(path))?;
    file.read_exact(&mut buf).map_err(ExecError::io(path))?;
    Ok(buf)
}

/// Keeps the first of each id in `entries` (sorted by id hash, then file order). A second
/// line with the same id (two writers on one directory, from a version without the lock)
/// is dropped with a warning when its bytes equal the first's, and is an error naming both
/// lines when they differ.
fn drop_duplicates(path: &Path, entries: &mut Vec<(u128, Span)>) -> Result<(), ExecError> {
    let mut file = None;
    let mut dropped = 0usize;
    let mut k = 1;
    while k < entries.len() {
        let (first, second) = (entries[k - 1], entries[k]);
        if first.0 != second.0 {
            k += 1;
            continue;
        }
        let f = match &mut file {
            Some(f) => f,
            None => file.insert(File::open(path).map_err(ExecError::io(path))?),
        };
        if read_span(f, path, first.1)? != read_span(f, path, second.1)? {
            let text = String::from_utf8_lossy(&read_span(f, path, first.1)?).into_owned();
            let id = decode_record(text.trim_end()).map(|r| r.id).unwrap_or_default();
            return Err(ExecError::DuplicateResult {
                path: path.into(),
                id,
                first_line: first.1.line,
                second_line: second.1.line,
            });
        }
        entries.remove(k);
        dropped += 1;
    }
    if dropped > 0 {
        tracing::warn!(
            "{}: {dropped} result line(s) repeat an earlier line of the same simulation (two writers on one run directory?): using one of each",
            path.display()
        );
    }
    Ok(())
}

/// Ids already in `results.jsonl`, as sorted 128-bit hashes, after truncating a torn last line.
pub(crate) fn done_ids(path: &Path) -> Result<Vec<u128>, ExecError> {
    let mut entries = Vec::new();
    let mut valid = 0u64;
    let torn = scan(path, |span, r| {
        entries.push((fnv1a_128(r.id.as_bytes()), span));
        valid = span.offset + span.len as u64;
        Ok(())
    })?;
    if torn > 0 {
        tracing::warn!("{}: dropping a torn last line ({torn} bytes)", path.display());
        let f = OpenOptions::new().write(true).open(path).map_err(ExecError::write(path))?;
        f.set_len(valid).map_err(ExecError::write(path))?;
    }
    entries.sort_by_key(|&(id, span)| (id, span.line));
    drop_duplicates(path, &mut entries)?;
    Ok(entries.into_iter().map(|(id, _)| id).collect())
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

/// The lines of `results.jsonl` in queue order, one per id (see [`drop_duplicates`]), and the
/// parameter names in order of first appearance: one pass, a few words per record.
fn queue_order(results: &Path) -> Result<(Vec<Span>, Vec<String>), ExecError> {
    let mut entries: Vec<(u128, Span)> = Vec::new();
    let mut order: Vec<u64> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    scan(results, |span, r| {
        for k in r.params.keys() {
            if !params.contains(k) {
                params.push(k.clone());
            }
        }
        entries.push((fnv1a_128(r.id.as_bytes()), span));
        order.push(r.index);
        Ok(())
    })?;
    // Queue index of each line, looked up by line number after the duplicate check.
    let index_of = |span: &Span| order[span.line - 1];
    entries.sort_by_key(|&(id, span)| (id, span.line));
    drop_duplicates(results, &mut entries)?;
    entries.sort_by_key(|(id, span)| (index_of(span), *id));
    Ok((entries.into_iter().map(|(_, span)| span).collect(), params))
}

/// Reads the records at `spans`, in their order, one at a time.
fn visit(
    results: &Path,
    spans: &[Span],
    mut f: impl FnMut(SimRecord) -> Result<(), ExecError>,
) -> Result<(), ExecError> {
    let mut file = File::open(results).map_err(ExecError::io(results))?;
    for &span in spans {
        let bytes = read_span(&mut file, results, span)?;
        let corrupt =
            |message: String| ExecError::Corrupt { path: results.into(), line: span.line, message };
        let line = std::str::from_utf8(&bytes).map_err(|e| corrupt(e.to_string()))?;
        f(decode_record(line.trim_end()).map_err(corrupt)?)?;
    }
    Ok(())
}

/// Calls `f` with every record of a `results.jsonl` in queue order, one per simulation (an id
/// written twice is used once), holding one record at a time.
pub fn for_each_in_queue_order(
    path: &Path,
    f: impl FnMut(SimRecord) -> Result<(), ExecError>,
) -> Result<(), ExecError> {
    let (spans, _) = queue_order(path)?;
    visit(path, &spans, f)
}

/// Writes `summary.csv` (queue order, atomically) from `results.jsonl` without holding the
/// records in memory: one pass collects (index, offset) pairs and parameter names, a sort, then
/// each line is read again at its offset. An id written twice is used once (see
/// [`ExecError::DuplicateResult`] for when that is an error).
pub fn finalize(dir: &LockedRunDir) -> Result<Counts, ExecError> {
    let results = dir.results();
    let (spans, params) = queue_order(&results)?;
    let layout = SummaryLayout::new(params.iter().map(String::as_str));
    let mut out = String::new();
    push_csv_line(&mut out, layout.columns());
    let mut counts = Counts::default();
    visit(&results, &spans, |r| {
        counts.total += 1;
        if r.stats().is_some() {
            counts.ok += 1;
        } else {
            counts.failed += 1;
        }
        push_csv_line(&mut out, layout.row(&r).iter().map(bt_domain::Cell::to_text));
        Ok(())
    })?;
    write_run_file(&dir.summary(), out.as_bytes())?;
    Ok(counts)
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

/// [`top_k`] over a `results.jsonl` file, streaming (O(k) records in memory).
pub fn top_k_file(path: &Path, metric: &str, k: usize) -> Result<Vec<SimRecord>, ExecError> {
    let mut top = TopK::new(k);
    scan(path, |_, record| {
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
