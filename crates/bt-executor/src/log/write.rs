//! Appending to a result log: records collect into a frame in memory, and a frame goes to the
//! file in one `write` when it is full or holds a second of simulation work.

use std::{
    fs::{File, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
    sync::Mutex,
    time::Duration,
};

use bt_domain::SimRecord;

use super::{codec::Columns, frame};
use crate::error::ExecError;

/// A frame is written when it holds this many records (`BT_FRAME_RECORDS`, 1 to 65536, sets
/// another: smaller frames lose less finished work to a kill and compress less)...
const MAX_RECORDS: u32 = 4096;
/// ...or this many raw bytes...
const MAX_RAW: usize = 4 << 20;
/// ...or this much simulation time: a kill -9 loses at most about a second of finished work
/// (which a resume runs again), whatever the size of the simulations.
const MAX_WORK: Duration = Duration::from_secs(1);

/// The frame being filled.
#[derive(Debug, Default)]
struct Pending {
    cols: Columns,
    work: Duration,
}

/// The file and what went wrong with it.
#[derive(Debug)]
struct Sink {
    file: File,
    /// Bytes of complete frames.
    len: u64,
    /// The file is empty: the first frame goes out behind the file header, in one write.
    needs_header: bool,
    /// The first failed write; nothing is written after it.
    error: Option<std::io::Error>,
}

/// Appends records to a result log (shared by the worker threads of a run; also how tools
/// write a log of their own, e.g. synthetic runs for benchmarks).
#[derive(Debug)]
pub struct LogWriter {
    path: PathBuf,
    max_records: u32,
    pending: Mutex<Pending>,
    sink: Mutex<Sink>,
}

/// Records per frame: `BT_FRAME_RECORDS` when set to 1..=65536, else [`MAX_RECORDS`].
fn max_records() -> u32 {
    std::env::var("BT_FRAME_RECORDS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| (1..=65_536).contains(n))
        .unwrap_or(MAX_RECORDS)
}

impl LogWriter {
    /// Opens (or creates, with its file header) the log at `path` for appending. A torn tail
    /// must have been cut first (see `Log::torn` in the reader); a file shorter than the
    /// header is started again.
    pub fn open(path: &Path) -> Result<LogWriter, std::io::Error> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let mut len = file.metadata()?.len();
        if len > 0 && len < frame::FILE_HEADER as u64 {
            file.set_len(0)?;
            len = 0;
        }
        Ok(LogWriter {
            path: path.into(),
            max_records: max_records(),
            pending: Mutex::new(Pending::default()),
            sink: Mutex::new(Sink { file, len, needs_header: len == 0, error: None }),
        })
    }

    /// Adds a record that took `work` to compute. Returns false when the log cannot be
    /// written (disk full...): the run must stop.
    pub fn append(&self, record: &SimRecord, work: Duration) -> bool {
        let full = {
            let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            p.cols.push(record);
            p.work += work;
            let full = p.cols.records >= self.max_records
                || p.cols.raw_len() >= MAX_RAW
                || p.work >= MAX_WORK;
            full.then(|| std::mem::take(&mut *p))
        };
        match full {
            // Compressed outside the lock: the other workers keep adding to the next frame.
            Some(p) => self.write(p.cols),
            None => !self.failed(),
        }
    }

    /// Writes the frame being filled, if any. Returns false when the log cannot be written.
    pub fn flush(&self) -> bool {
        let p = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        if p.cols.records == 0 { !self.failed() } else { self.write(p.cols) }
    }

    fn failed(&self) -> bool {
        self.sink.lock().unwrap_or_else(|e| e.into_inner()).error.is_some()
    }

    fn write(&self, cols: Columns) -> bool {
        let mut bytes = frame::encode(cols);
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        if sink.error.is_some() {
            return false;
        }
        if sink.needs_header {
            bytes.splice(0..0, frame::file_header());
        }
        // One `write` per frame: it reaches the OS whole, or (if the process dies inside the
        // call) as a torn tail that a resume cuts.
        match sink.file.write_all(&bytes) {
            Ok(()) => {
                sink.len += bytes.len() as u64;
                sink.needs_header = false;
                true
            }
            Err(e) => {
                // A write can fail after part of the frame went out (a file size limit): cut
                // it off, so the file holds only complete frames. Best effort: if even that
                // fails, a resume drops the torn frame.
                let len = sink.len;
                let _ = sink.file.set_len(len);
                sink.error = Some(e);
                false
            }
        }
    }

    /// Writes what is pending and syncs the file: [`ExecError::Write`] with the first write
    /// error, if any.
    pub fn finish(self) -> Result<(), ExecError> {
        self.flush();
        let sink = self.sink.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some(source) = sink.error {
            return Err(ExecError::Write { path: self.path, source });
        }
        sink.file.sync_all().map_err(ExecError::write(self.path))
    }
}
