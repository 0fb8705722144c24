//! Reading result logs: every record in file order, or several logs merged in queue order
//! with a bounded number of frames in memory.

use std::{
    collections::VecDeque,
    fs::File,
    path::{Path, PathBuf},
};

use bt_domain::SimRecord;

use super::{
    codec::{self, ParamKind, S},
    frame::{self, FrameMeta, ScanError},
};
use crate::{error::ExecError, jsonl::encode_record};

/// A result log's complete frames (see the module docs for the format).
#[derive(Debug)]
pub(crate) struct Log {
    pub(crate) path: PathBuf,
    pub(crate) frames: Vec<FrameMeta>,
    /// Bytes of a torn frame at the end (a crash mid-write), which readers ignore.
    pub(crate) torn: u64,
}

impl Log {
    /// Scans `path` (an absent file is an empty log).
    pub(crate) fn open(path: &Path) -> Result<Log, ExecError> {
        match frame::scan(path) {
            Ok((frames, torn)) => Ok(Log { path: path.into(), frames, torn }),
            Err(ScanError::Io(e)) => Err(ExecError::Io { path: path.into(), source: e }),
            Err(ScanError::Bad(bad)) => Err(corrupt(path, bad)),
        }
    }

    /// Records in the log.
    pub(crate) fn len(&self) -> u64 {
        self.frames.iter().map(|f| u64::from(f.records)).sum()
    }

    /// The file, to read frames from (`None` for a log without one: possibly no file).
    fn file(&self) -> Result<Option<File>, ExecError> {
        if self.frames.is_empty() {
            return Ok(None);
        }
        File::open(&self.path).map(Some).map_err(ExecError::io(&self.path))
    }

    /// The streams of frame `meta` that `wanted` picks.
    fn streams(
        &self,
        file: &mut File,
        meta: &FrameMeta,
        wanted: impl Fn(usize) -> bool,
    ) -> Result<frame::Streams, ExecError> {
        frame::read(file, meta, wanted)
            .map_err(ExecError::io(&self.path))?
            .map_err(|bad| corrupt(&self.path, bad))
    }

    /// The records of one frame, in their order in it.
    fn records(&self, file: &mut File, meta: &FrameMeta) -> Result<Vec<SimRecord>, ExecError> {
        let streams = self.streams(file, meta, |_| true)?;
        codec::decode(&streams, meta.records).map_err(|m| corrupt(&self.path, (meta.number, m)))
    }

    /// Calls `f` with every record, in file order, one frame in memory at a time.
    pub(crate) fn for_each(
        &self,
        mut f: impl FnMut(SimRecord) -> Result<(), ExecError>,
    ) -> Result<(), ExecError> {
        let Some(mut file) = self.file()? else { return Ok(()) };
        for meta in &self.frames {
            self.records(&mut file, meta)?.into_iter().try_for_each(&mut f)?;
        }
        Ok(())
    }

    /// The queue index of every record, in file order (one column read per frame).
    pub(crate) fn indices(&self) -> Result<Vec<u64>, ExecError> {
        let mut out = Vec::with_capacity(self.len() as usize);
        let Some(mut file) = self.file()? else { return Ok(out) };
        for meta in &self.frames {
            let streams = self.streams(&mut file, meta, |k| k == S::Index as usize)?;
            let column = &streams[S::Index as usize];
            if column.len() != 8 * meta.records as usize {
                return Err(corrupt(
                    &self.path,
                    (meta.number, "the index column has the wrong length".into()),
                ));
            }
            out.extend(
                column.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))),
            );
        }
        Ok(out)
    }

    /// Every (parameter name, type) the records use (one column read per frame).
    pub(crate) fn param_kinds(&self, into: &mut Vec<(String, ParamKind)>) -> Result<(), ExecError> {
        let Some(mut file) = self.file()? else { return Ok(()) };
        for meta in &self.frames {
            let streams = self.streams(&mut file, meta, |k| k == S::ParamKeys as usize)?;
            let keys = codec::param_keys(&streams[S::ParamKeys as usize])
                .map_err(|m| corrupt(&self.path, (meta.number, m)))?;
            for key in keys {
                if !into.contains(&key) {
                    into.push(key);
                }
            }
        }
        Ok(())
    }
}

/// [`ExecError::Corrupt`] for frame `bad.0` (0: the file header) of `path`.
fn corrupt(path: &Path, (frame, message): frame::Bad) -> ExecError {
    let message = if frame == 0 { message } else { format!("frame {frame}: {message}") };
    ExecError::Corrupt { path: path.into(), line: frame.max(1), message }
}

/// A simulation recorded twice with different results: the first record, and where the two
/// are (`path frame N`).
#[derive(Debug)]
pub struct Conflict {
    /// The first record found.
    pub record: SimRecord,
    /// Where it is.
    pub first: String,
    /// Where the other is.
    pub second: String,
}

/// A record and where it came from.
struct Head {
    record: SimRecord,
    log: usize,
    frame: usize,
}

/// Walks `logs` together in queue order (by index, then id): frames are opened in order of
/// their smallest index and only while they can hold the next record, so memory holds the
/// frames that overlap in index (a few, for a run's log), not the records. A simulation found
/// twice (two shards, a retried task, two writers of one log before the lock) is passed to
/// `f` once when the records are equal; different records go to `conflict` (and the first is
/// passed to `f`). Returns the number of equal copies dropped.
pub(crate) fn for_each_in_order(
    logs: &[Log],
    conflict: &mut dyn FnMut(Conflict) -> Result<(), ExecError>,
    mut f: impl FnMut(SimRecord) -> Result<(), ExecError>,
) -> Result<u64, ExecError> {
    let mut pending: Vec<(u64, usize, usize)> = logs
        .iter()
        .enumerate()
        .flat_map(|(l, log)| log.frames.iter().enumerate().map(move |(k, m)| (m.min_index, l, k)))
        .collect();
    pending.sort_unstable();
    let mut pending = pending.into_iter().peekable();
    let mut files = logs.iter().map(Log::file).collect::<Result<Vec<_>, _>>()?;
    let mut open: Vec<VecDeque<Head>> = Vec::new();
    let mut dropped = 0u64;
    loop {
        // Open every frame that may hold a record at or before the smallest one open.
        while let Some(&(min, l, k)) = pending.peek() {
            let first = smallest(&open).map(|h| h.record.index);
            if first.is_some_and(|i| i < min) {
                break;
            }
            pending.next();
            let file = files[l].as_mut().expect("a log with frames has its file open");
            let mut records = logs[l].records(file, &logs[l].frames[k])?;
            records.sort_by(|a, b| (a.index, &a.id).cmp(&(b.index, &b.id)));
            open.push(
                records.into_iter().map(|record| Head { record, log: l, frame: k }).collect(),
            );
        }
        let Some(q) = position_of_smallest(&open) else { break };
        let head = open[q].pop_front().expect("a non-empty frame");
        // Every frame not open yet starts after this index: any copy is at the front of one
        // that is open.
        while let Some(q) = position_of_smallest(&open).filter(|&q| {
            let next = &open[q][0].record;
            next.index == head.record.index && next.id == head.record.id
        }) {
            let copy = open[q].pop_front().expect("a non-empty frame");
            if encode_record(&copy.record) == encode_record(&head.record) {
                dropped += 1;
                continue;
            }
            let at = |h: &Head| {
                format!(
                    "{} frame {}",
                    logs[h.log].path.display(),
                    logs[h.log].frames[h.frame].number
                )
            };
            conflict(Conflict {
                record: head.record.clone(),
                first: at(&head),
                second: at(&copy),
            })?;
        }
        open.retain(|d| !d.is_empty());
        f(head.record)?;
    }
    Ok(dropped)
}

fn smallest(open: &[VecDeque<Head>]) -> Option<&Head> {
    position_of_smallest(open).map(|q| &open[q][0])
}

fn position_of_smallest(open: &[VecDeque<Head>]) -> Option<usize> {
    (0..open.len()).filter(|&q| !open[q].is_empty()).min_by(|&a, &b| {
        let (x, y) = (&open[a][0].record, &open[b][0].record);
        (x.index, &x.id).cmp(&(y.index, &y.id))
    })
}
