//! The fast path of the Parquet reader: the used columns decoded by [`super::pages`] straight
//! into the vectors [`bt_domain::Bars`] keeps.
//!
//! The file is read column chunk by column chunk into one reused buffer per thread, never whole:
//! on 1M bars, most of polars' load time was the kernel faulting in fresh pages (for the
//! 44 MB file copy, the Arrow arrays, then bt's own copies). Column chunks are decoded on up to
//! [`MAX_THREADS`] threads (std's scoped threads), each onto the end of its column, the
//! columns with the most work left first ([`Plan::work`]).
//!
//! It declines (`Ok(None)`) whenever anything is unusual: a footer or page header that fails a
//! check, a layout [`super::pages`] does not cover, a type whose meaning would need polars'
//! conversions. The caller then reads the file through polars and its hardening checks, which
//! produce every error; the only errors returned here come after all columns decoded (a
//! timestamp out of range, validation of the bars) and are the same by construction.

use std::{
    fs::File,
    path::Path,
    sync::{
        Condvar, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use polars::prelude::{ArrowDataType, ArrowSchema, ArrowTimeUnit};
use polars_buffer::Buffer;
use polars_parquet::{
    parquet::{
        metadata::{ColumnChunkMetadata, FileMetadata, RowGroupMetadata},
        read::{PageMetaData, deserialize_metadata},
        schema::types::{IntegerType, PhysicalType, PrimitiveLogicalType, TimeUnit},
    },
    read::infer_schema,
};

use super::pages::{self, Scratch};
use crate::{
    Loaded,
    error::DataError,
    parse::{self, ColumnMap},
    validate::{Names, Raw},
};

/// Files smaller than this are decoded on the calling thread: threads cost more than they save
/// (spawning one takes tens of microseconds here).
pub(super) const PARALLEL_MIN_BYTES: u64 = 1 << 20;

/// At most this many decoding threads: there are only six columns to share.
const MAX_THREADS: usize = 4;

/// Reads the file at `path` (open as `file`, `len` bytes, magic bytes checked), or `Ok(None)`
/// when polars must.
pub(super) fn read(path: &Path, file: &File, len: u64) -> Result<Option<Loaded>, DataError> {
    let Some(metadata) = footer(file, len) else { return Ok(None) };
    let Ok(schema) = infer_schema(&metadata) else { return Ok(None) };
    let (names, temporal) = super::names_and_temporal(&schema);
    let Ok(map) = parse::resolve_columns(&names, &temporal) else { return Ok(None) };
    let used: Vec<usize> =
        [map.ts, map.open, map.high, map.low, map.close].into_iter().chain(map.volume).collect();
    let Some(plan) = Plan::new(&metadata, &schema, &used, len) else { return Ok(None) };
    // A panic inside polars-parquet on a malformed page declines too: polars then reads the
    // file, and the caller turns its panic or error into the error it always gave.
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plan.run(file, len)));
    let Ok(Some(decoded)) = run else { return Ok(None) };
    let file_names = super::file_names(&names, &map);
    let Some(raw) = raw(path, decoded, &plan.stored, &map, &file_names)? else {
        return Ok(None);
    };
    super::finish(path, raw, names, &map, &file_names).map(Some)
}

/// The decoded columns as the loader's raw columns (prices as f64, timestamps in
/// nanoseconds), `Ok(None)` if one is missing. The only errors are timestamps out of range,
/// found exactly as polars' path finds them.
fn raw(
    path: &Path,
    mut decoded: Vec<Option<Values>>,
    stored: &[Option<Stored>],
    map: &ColumnMap,
    names: &Names,
) -> Result<Option<Raw>, DataError> {
    let mut take = |i: usize| decoded.get_mut(i).and_then(Option::take);
    let (Some(open), Some(high), Some(low), Some(close), Some(ts)) =
        (take(map.open), take(map.high), take(map.low), take(map.close), take(map.ts))
    else {
        return Ok(None);
    };
    let volume = match map.volume.map(take) {
        Some(Some(v)) => v.into_f64(),
        Some(None) => return Ok(None),
        None => vec![0.0; ts.len()],
    };
    let ts = match (ts, stored[map.ts]) {
        (Values::I64(v), Some(Stored::Datetime(factor))) => {
            super::scale(path, &names.ts, v, factor)?
        }
        (Values::I64(v), Some(Stored::I64)) => super::epoch_nanos(path, &names.ts, v)?,
        _ => return Ok(None),
    };
    let (open, high, low, close) =
        (open.into_f64(), high.into_f64(), low.into_f64(), close.into_f64());
    Ok(Some(Raw { ts, open, high, low, close, volume }))
}

/// Reads `buf.len()` bytes at `offset` (a positioned read, so threads can share the file).
#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file; // `&File` reads and seeks; callers on these systems use one thread
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

/// The footer, after the same checks as [`super::read_checked`] makes: its declared length
/// fits in the file and the Thrift structure fits in its bytes ([`crate::thrift`]).
fn footer(file: &File, len: u64) -> Option<FileMetadata> {
    if len < 12 {
        return None;
    }
    let mut tail = [0u8; 8];
    read_at(file, &mut tail, len - 8).ok()?;
    let footer_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer_len > len - 12 {
        return None;
    }
    // [Thrift FileMetaData][its length, u32 LE]["PAR1"], as polars-parquet takes it.
    let mut bytes = vec![0u8; usize::try_from(footer_len + 8).ok()?];
    read_at(file, &mut bytes, len - 8 - footer_len).ok()?;
    crate::thrift::check_footer(&bytes[..bytes.len() - 8]).ok()?;
    deserialize_metadata(Buffer::from(bytes)).ok()
}

/// How a column's values are stored, as far as [`super::pages`] covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// DOUBLE, read by polars as Float64.
    F64,
    /// INT64, read by polars as Int64.
    I64,
    /// INT64, read by polars as Datetime: nanoseconds per stored unit.
    Datetime(i64),
}

/// What polars would make of leaf `i`, from its Arrow type (the file's `ARROW:schema` or the
/// Parquet types) and its Parquet type; `None` when that needs one of polars' conversions.
fn stored(schema: &ArrowSchema, metadata: &FileMetadata, i: usize) -> Option<Stored> {
    let (_, field) = schema.get_at_index(i)?;
    let leaf = &metadata.schema().columns().get(i)?.descriptor.primitive_type;
    let logical = leaf.logical_type;
    match (&field.dtype, leaf.physical_type) {
        (ArrowDataType::Float64, PhysicalType::Double) if logical.is_none() => Some(Stored::F64),
        (ArrowDataType::Int64, PhysicalType::Int64)
            if matches!(
                logical,
                None | Some(PrimitiveLogicalType::Integer(IntegerType::Int64))
            ) =>
        {
            Some(Stored::I64)
        }
        (ArrowDataType::Timestamp(unit, _), PhysicalType::Int64) => {
            let (factor, parquet_unit) = match unit {
                ArrowTimeUnit::Nanosecond => (1, TimeUnit::Nanoseconds),
                ArrowTimeUnit::Microsecond => (1_000, TimeUnit::Microseconds),
                ArrowTimeUnit::Millisecond => (1_000_000, TimeUnit::Milliseconds),
                ArrowTimeUnit::Second => return None,
            };
            // polars rescales a Parquet unit that differs from the Arrow one: not covered.
            match logical {
                None => Some(Stored::Datetime(factor)),
                Some(PrimitiveLogicalType::Timestamp { unit, .. }) if unit == parquet_unit => {
                    Some(Stored::Datetime(factor))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A decoded column.
enum Values {
    F64(Vec<f64>),
    I64(Vec<i64>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::I64(v) => v.len(),
        }
    }

    /// As polars casts Int64 to Float64: `as`, round to nearest (in place, no new allocation).
    fn into_f64(self) -> Vec<f64> {
        match self {
            Values::F64(v) => v,
            Values::I64(v) => v.into_iter().map(|x| x as f64).collect(),
        }
    }
}

/// The columns to read and how.
struct Plan<'a> {
    metadata: &'a FileMetadata,
    /// Per leaf column, what it holds when it is used.
    stored: Vec<Option<Stored>>,
    /// Bytes of the largest column chunk: each thread's read buffer is sized once.
    largest_chunk: usize,
}

impl<'a> Plan<'a> {
    fn new(
        metadata: &'a FileMetadata,
        schema: &ArrowSchema,
        used: &[usize],
        len: u64,
    ) -> Option<Plan<'a>> {
        let leaves = metadata.schema().columns();
        // Arrow fields and Parquet leaves correspond one to one only in a flat schema.
        if leaves.len() != schema.len() {
            return None;
        }
        let rows =
            metadata.row_groups.iter().try_fold(0usize, |n, g| n.checked_add(g.num_rows()))?;
        // Plain values take 8 bytes each: more rows than bytes is a dictionary run, compression
        // beyond 8x or a lie, none of which this path sizes buffers for.
        if rows != metadata.num_rows || u64::try_from(rows).ok()? > len {
            return None;
        }
        if metadata.row_groups.iter().any(|g| g.parquet_columns().len() != leaves.len()) {
            return None;
        }
        let mut stored = vec![None; leaves.len()];
        for &col in used {
            let leaf = leaves.get(col)?;
            let d = &leaf.descriptor;
            if d.max_rep_level != 0 || d.max_def_level > 1 || leaf.path_in_schema.len() != 1 {
                return None;
            }
            stored[col] = Some(self::stored(schema, metadata, col)?);
        }
        let chunks = metadata.row_groups.iter().flat_map(|g| g.parquet_columns());
        let largest_chunk = chunks.map(|c| c.compressed_size()).max().unwrap_or(0);
        // Within the file, as `ChunkReader` checks for every chunk before reading it.
        let largest_chunk = usize::try_from(largest_chunk.clamp(0, len.try_into().ok()?)).ok()?;
        Some(Plan { metadata, stored, largest_chunk })
    }

    /// One lane per column.
    fn lanes(&self) -> Vec<Lane> {
        let groups = &self.metadata.row_groups;
        let lane = |(col, stored): (usize, &Option<Stored>)| {
            let chunk = |g: &RowGroupMetadata| {
                let c = &g.parquet_columns()[col];
                // Bytes written to memory, plus what decompression rebuilds: volumes that LZ4
                // halves took 6 ms per 1M bars, prices it cannot shrink 4.2 ms.
                let (written, stored) = (c.uncompressed_size(), c.compressed_size());
                u64::try_from(written.saturating_mul(2).saturating_sub(stored)).unwrap_or(0)
            };
            Lane {
                col,
                values: None,
                stored: *stored,
                next: 0,
                held: false,
                cost: groups.iter().map(chunk).fold(0, u64::saturating_add),
                chunk_costs: groups.iter().map(chunk).collect(),
            }
        };
        self.stored.iter().enumerate().map(lane).collect()
    }

    /// Every column chunk, on as many threads as help; `None` if any declines.
    fn run(&self, file: &File, len: u64) -> Option<Vec<Option<Values>>> {
        let lanes = self.lanes();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let threads = if cfg!(unix) && len >= PARALLEL_MIN_BYTES {
            cores.min(MAX_THREADS).min(lanes.len())
        } else {
            1
        };
        let queue = Queue { lanes: Mutex::new(lanes), failed: false.into(), turn: Condvar::new() };
        let work = || self.work(file, len, &queue);
        let done = std::thread::scope(|s| {
            let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
            let mine = work();
            // A helper that panicked declines: polars then reads the file (and fails alike).
            helpers.into_iter().map(|h| h.join().ok().flatten()).fold(mine, Option::and)
        });
        done?;
        let lanes = queue.lanes.into_inner().unwrap_or_else(PoisonError::into_inner);
        Some(lanes.into_iter().map(|lane| lane.values).collect())
    }

    /// One thread's share: column chunks until none is left or one declined. A thread takes
    /// the free column with the most work left and decodes its next chunk onto the end of
    /// it, so a column's chunks stay in order while the threads share even its last ones.
    fn work(&self, file: &File, len: u64, queue: &Queue) -> Option<()> {
        let mut chunk = vec![0u8; self.largest_chunk];
        let mut scratch = Scratch::default();
        let lock = || queue.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut lanes = lock();
        loop {
            if queue.failed.load(Ordering::Relaxed) {
                return None;
            }
            let left = |l: &&mut Lane| l.next < self.metadata.row_groups.len();
            let Some(lane) =
                lanes.iter_mut().filter(left).filter(|l| !l.held).max_by_key(|l| l.cost)
            else {
                if !lanes.iter().any(|l| l.held) {
                    return Some(());
                }
                // The only columns left are being decoded: one of them may have more chunks.
                lanes = queue.turn.wait(lanes).unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            lane.held = true;
            let (col, group, stored) = (lane.col, lane.next, lane.stored);
            let mut values = lane.values.take();
            drop(lanes);
            // Reserved by the thread that decodes the first chunk (not touched: the kernel
            // provides the pages as they are first written).
            let rows = self.metadata.num_rows;
            if values.is_none() {
                values = stored.map(|s| match s {
                    Stored::F64 => Values::F64(Vec::with_capacity(rows)),
                    Stored::I64 | Stored::Datetime(_) => Values::I64(Vec::with_capacity(rows)),
                });
            }
            let mut reader = ChunkReader { file, len, buf: &mut chunk };
            // A panic (a malformed page inside polars-parquet) must not leave the column held
            // and the other threads waiting for it.
            let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let g = &self.metadata.row_groups[group];
                let (c, n) = (&g.parquet_columns()[col], g.num_rows());
                match &mut values {
                    None => reader.with_chunk(c, pages::check),
                    Some(Values::F64(out)) => {
                        reader.with_chunk(c, |src| pages::decode(src, n, out, &mut scratch))
                    }
                    Some(Values::I64(out)) => {
                        reader.with_chunk(c, |src| pages::decode(src, n, out, &mut scratch))
                    }
                }
            }));
            lanes = lock();
            let lane = &mut lanes[col];
            lane.values = values;
            lane.held = false;
            lane.cost = lane.cost.saturating_sub(lane.chunk_costs[group]);
            lane.next += 1;
            if !matches!(done, Ok(Some(()))) {
                queue.failed.store(true, Ordering::Relaxed);
            }
            queue.turn.notify_all();
        }
    }
}

/// A column's progress: its values so far (out while a thread decodes the next chunk onto
/// them) and its next row group.
struct Lane {
    col: usize,
    values: Option<Values>,
    /// `None` for a column bt does not use: only its page headers are checked.
    stored: Option<Stored>,
    next: usize,
    held: bool,
    /// Estimated work left, and per chunk (see [`Plan::lanes`]).
    cost: u64,
    chunk_costs: Vec<u64>,
}

/// The columns shared by the decoding threads; `failed` when a chunk declined (all stop).
struct Queue {
    lanes: Mutex<Vec<Lane>>,
    failed: AtomicBool,
    /// Signalled whenever a column is handed back.
    turn: Condvar,
}

/// Reads column chunks into one reused buffer.
struct ChunkReader<'a> {
    file: &'a File,
    len: u64,
    buf: &'a mut Vec<u8>,
}

impl ChunkReader<'_> {
    /// Reads `chunk`'s bytes (checked to lie inside the file) and hands them to `f` with a page
    /// reader's view of the chunk alone.
    fn with_chunk<R>(
        &mut self,
        chunk: &ColumnChunkMetadata,
        f: impl FnOnce(PageSource) -> Option<R>,
    ) -> Option<R> {
        // `byte_range` panics on an overflowing offset: computed here with checks instead.
        let start = chunk.dictionary_page_offset().unwrap_or(chunk.data_page_offset());
        let start = u64::try_from(start).ok()?;
        let end = start.checked_add(u64::try_from(chunk.compressed_size()).ok()?)?;
        if end > self.len {
            return None;
        }
        let n = usize::try_from(end - start).ok()?;
        if self.buf.len() < n {
            self.buf.resize(n, 0);
        }
        read_at(self.file, &mut self.buf[..n], start).ok()?;
        let meta = PageMetaData::new(
            start,
            chunk.num_values(),
            chunk.compression(),
            chunk.descriptor().descriptor.clone(),
        );
        // The buffer is lent to the page reader and comes back when `f` returns (every page,
        // a view of it, is dropped by then).
        Buffer::with_vec(self.buf, |bytes| f(PageSource { bytes: bytes.sliced(..n), meta }))
    }
}

/// A column chunk's bytes and what a page reader needs to know of it.
pub(super) struct PageSource {
    pub bytes: Buffer<u8>,
    pub meta: PageMetaData,
}
