//! The run directory: `results.jsonl` (streamed), `summary.csv` and `run.json` (written at the
//! end, atomically).

use std::{
    cmp::Ordering,
    collections::BinaryHeap,
    fs::{self, File, OpenOptions},
    io::{BufRead, BufReader, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

use bt_domain::{RunInfo, SimRecord, SummaryLayout, push_csv_line};
use serde_json::{Value, json};

use crate::{error::ExecError, hash::fnv1a_128, jsonl::decode_record};

/// Paths of a run directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    /// The directory.
    pub path: PathBuf,
}

impl RunDir {
    /// A run directory at `path` (not created yet).
    pub fn new(path: impl Into<PathBuf>) -> RunDir {
        RunDir { path: path.into() }
    }
    /// `results.jsonl`: one line per finished simulation, in completion order.
    pub fn results(&self) -> PathBuf {
        self.path.join("results.jsonl")
    }
    /// `summary.csv`: one row per simulation, in queue order.
    pub fn summary(&self) -> PathBuf {
        self.path.join("summary.csv")
    }
    /// `run.json`: run metadata.
    pub fn run_json(&self) -> PathBuf {
        self.path.join("run.json")
    }

    /// Reads `run.json`.
    pub fn read_run_json(&self) -> Result<Option<Value>, ExecError> {
        let path = self.run_json();
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| ExecError::Corrupt {
                path,
                line: e.line(),
                message: format!("run.json is not valid JSON: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ExecError::Io { path, source: e }),
        }
    }

    /// Writes `run.json` atomically.
    pub fn write_run_json(&self, info: &RunInfo, status: &str) -> Result<(), ExecError> {
        let datasets: Vec<Value> = info
            .datasets
            .iter()
            .map(|(name, source, bars)| json!({"name": name, "source": source, "bars": bars}))
            .collect();
        let v = json!({
            "bt_version": info.bt_version,
            "status": status,
            "queue": info.queue,
            "queue_hash": info.queue_hash,
            "shard": info.shard,
            "mode": info.mode,
            "threads": info.threads,
            "wall_time_s": info.wall_time_s,
            "total": info.total,
            "ok": info.ok,
            "failed": info.failed,
            "datasets": datasets,
        });
        let text = serde_json::to_string_pretty(&v).expect("json values serialize") + "\n";
        write_run_file(&self.run_json(), text.as_bytes())
    }
}

/// Parses `run.json` back into a [`RunInfo`] (missing fields default).
pub fn run_info_from_json(v: &Value) -> RunInfo {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let u = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or_default();
    RunInfo {
        bt_version: s("bt_version"),
        queue: s("queue"),
        queue_hash: s("queue_hash"),
        mode: s("mode"),
        threads: u("threads"),
        wall_time_s: v.get("wall_time_s").and_then(Value::as_f64).unwrap_or_default(),
        total: u("total"),
        ok: u("ok"),
        failed: u("failed"),
        shard: v.get("shard").and_then(Value::as_str).map(str::to_owned),
        datasets: v
            .get("datasets")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|d| {
                        let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or_default();
                        (
                            s("name").to_owned(),
                            s("source").to_owned(),
                            d.get("bars").and_then(Value::as_u64).unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Writes `bytes` to `path` through a temporary file `NAME.tmp` in the same directory, synced
/// to disk, then a rename (and a best-effort sync of the directory), so a reader never sees a
/// half-written file and a crash or power cut leaves the old file or the new one. On failure
/// (disk full...) the temporary file is removed; a stale one from a killed process is simply
/// overwritten by the next write.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!("{name}.tmp"));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        // Best effort: the write error matters more than a failed cleanup.
        let _ = fs::remove_file(&tmp);
        return result;
    }
    // Makes the rename itself durable. Best effort: some file systems cannot sync a directory,
    // and the file's content is already on disk.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// [`write_atomic`] for a file of the run directory; the error names `path`, the file the user
/// knows.
fn write_run_file(path: &Path, bytes: &[u8]) -> Result<(), ExecError> {
    write_atomic(path, bytes).map_err(ExecError::write(path))
}

/// Scans `results.jsonl`: calls `f(byte offset, line length, record)` for every complete line.
///
/// A final line without its newline (a write torn by a crash) is ignored and its length
/// returned, so the caller can truncate it away. A bad line elsewhere is an error.
fn scan(
    path: &Path,
    mut f: impl FnMut(u64, usize, SimRecord) -> Result<(), ExecError>,
) -> Result<u64, ExecError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(ExecError::Io { path: path.into(), source: e }),
    };
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = String::new();
    let mut offset = 0u64;
    let mut line_no = 0;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(ExecError::io(path))?;
        if n == 0 {
            return Ok(0);
        }
        line_no += 1;
        if !line.ends_with('\n') {
            // Torn last line: the process died mid-write.
            return Ok(n as u64);
        }
        match decode_record(line.trim_end()) {
            Ok(record) => f(offset, n, record)?,
            Err(message) => {
                // A torn line followed by nothing else can also end in a newline only if a later
                // write completed; anything unparsable before the end is corruption.
                return Err(ExecError::Corrupt { path: path.into(), line: line_no, message });
            }
        }
        offset += n as u64;
    }
}

/// Reads every record of a `results.jsonl` (ignoring a torn last line), in file order.
pub fn read_results(path: &Path) -> Result<Vec<SimRecord>, ExecError> {
    let mut out = Vec::new();
    scan(path, |_, _, r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

/// Ids already in `results.jsonl`, as sorted 128-bit hashes, after truncating a torn last line.
pub(crate) fn done_ids(path: &Path) -> Result<Vec<u128>, ExecError> {
    let mut ids = Vec::new();
    let mut valid = 0u64;
    let torn = scan(path, |offset, len, r| {
        ids.push(fnv1a_128(r.id.as_bytes()));
        valid = offset + len as u64;
        Ok(())
    })?;
    if torn > 0 {
        tracing::warn!("{}: dropping a torn last line ({torn} bytes)", path.display());
        let f = OpenOptions::new().write(true).open(path).map_err(ExecError::write(path))?;
        f.set_len(valid).map_err(ExecError::write(path))?;
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
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

/// Writes `summary.csv` (queue order, atomically) from `results.jsonl` without holding the
/// records in memory: one pass collects (index, offset) pairs and parameter names, a sort, then
/// each line is read again at its offset. Duplicate ids (a shard that ran twice) keep the first.
pub fn finalize(dir: &RunDir) -> Result<Counts, ExecError> {
    let results = dir.results();
    let mut entries: Vec<(u64, u128, u64, usize)> = Vec::new();
    let mut params: Vec<String> = Vec::new();
    let mut counts = Counts::default();
    scan(&results, |offset, len, r| {
        for k in r.params.keys() {
            if !params.contains(k) {
                params.push(k.clone());
            }
        }
        entries.push((r.index, fnv1a_128(r.id.as_bytes()), offset, len));
        Ok(())
    })?;
    entries.sort_unstable_by_key(|&(index, id, _, _)| (index, id));
    entries.dedup_by_key(|&mut (_, id, _, _)| id);
    let layout = SummaryLayout::new(params.iter().map(String::as_str));
    let mut out = String::new();
    push_csv_line(&mut out, layout.columns());
    let mut file = File::open(&results).map_err(ExecError::io(&results))?;
    let mut buf = Vec::new();
    for (line_no, &(_, _, offset, len)) in entries.iter().enumerate() {
        buf.resize(len, 0);
        file.seek(SeekFrom::Start(offset)).map_err(ExecError::io(&results))?;
        file.read_exact(&mut buf).map_err(ExecError::io(&results))?;
        let line = std::str::from_utf8(&buf).map_err(|e| ExecError::Corrupt {
            path: results.clone(),
            line: line_no + 1,
            message: e.to_string(),
        })?;
        let r = decode_record(line.trim_end()).map_err(|message| ExecError::Corrupt {
            path: results.clone(),
            line: line_no + 1,
            message,
        })?;
        counts.total += 1;
        if r.stats().is_some() {
            counts.ok += 1;
        } else {
            counts.failed += 1;
        }
        push_csv_line(&mut out, layout.row(&r).iter().map(bt_domain::Cell::to_text));
    }
    write_run_file(&dir.summary(), out.as_bytes())?;
    Ok(counts)
}

struct Ranked {
    score: f64,
    index: u64,
    record: SimRecord,
}

impl Ranked {
    /// Better first: higher score, NaN last, then lower queue index.
    fn better(&self, other: &Ranked) -> Ordering {
        let (a, b) = (self.score, other.score);
        match (a.is_nan(), b.is_nan()) {
            (true, true) => other.index.cmp(&self.index),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => a.total_cmp(&b).then_with(|| other.index.cmp(&self.index)),
        }
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.better(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    // Reversed, so the max-heap's top is the worst kept record.
    fn cmp(&self, other: &Self) -> Ordering {
        other.better(self)
    }
}

/// The best `k` successful records by `metric` (a `bt_domain::STAT_KEYS` key), best first; NaN
/// last; ties by queue index. A bounded heap: O(n log k) time, O(k) memory.
pub fn top_k(
    records: impl IntoIterator<Item = SimRecord>,
    metric: &str,
    k: usize,
) -> Vec<SimRecord> {
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(k + 1);
    if k == 0 {
        return Vec::new();
    }
    for record in records {
        let Some(score) = record.stats().and_then(|s| s.metric(metric)) else { continue };
        heap.push(Ranked { score, index: record.index, record });
        if heap.len() > k {
            heap.pop();
        }
    }
    let mut best: Vec<Ranked> = heap.into_vec();
    best.sort_by(|a, b| b.better(a));
    best.into_iter().map(|r| r.record).collect()
}

/// [`top_k`] over a `results.jsonl` file, streaming.
pub fn top_k_file(path: &Path, metric: &str, k: usize) -> Result<Vec<SimRecord>, ExecError> {
    let mut records = Vec::new();
    let mut heap_input = Vec::new();
    scan(path, |_, _, r| {
        heap_input.push(r);
        if heap_input.len() >= 4096 {
            records = top_k(records.drain(..).chain(heap_input.drain(..)), metric, k);
        }
        Ok(())
    })?;
    Ok(top_k(records.into_iter().chain(heap_input), metric, k))
}
