//! Frames on disk: the file header, each frame's header and checksum, compression, and the
//! scan that finds every complete frame (and a torn one at the end).

use std::{
    fs::File,
    io::{BufReader, Read, Seek, SeekFrom},
    path::Path,
};

use super::codec::{Columns, STREAMS};

/// The first bytes of a result log: magic and format version.
pub(crate) const FILE_MAGIC: &[u8; 8] = b"BTRESULT";
/// The format this build writes and reads.
pub(crate) const VERSION: u32 = 1;
/// File header: magic, version (`u32`), reserved (`u32`, 0).
pub(crate) const FILE_HEADER: usize = 16;
const FRAME_MAGIC: &[u8; 4] = b"BTfr";
/// Frame header: magic, streams (`u32`), records (`u32`), body bytes (`u32`), min and max
/// queue index (`u64`), CRC-32 (`u32`) of the header's first 32 bytes and the body.
pub(crate) const FRAME_HEADER: usize = 36;
/// zstd level: 1 compresses a frame of GOOG results to ~110 bytes a record at ~1 GB/s.
const LEVEL: i32 = 1;

/// The file header bytes.
pub(crate) fn file_header() -> [u8; FILE_HEADER] {
    let mut h = [0u8; FILE_HEADER];
    h[..8].copy_from_slice(FILE_MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// A frame's bytes, header included: each stream compressed on its own, behind a table of
/// (compressed, raw) lengths.
pub(crate) fn encode(mut cols: Columns) -> Vec<u8> {
    cols.seal();
    let mut table = Vec::with_capacity(8 * STREAMS);
    let mut data = Vec::new();
    for raw in &cols.streams {
        let packed = if raw.is_empty() {
            Vec::new()
        } else {
            zstd::bulk::compress(raw, LEVEL).expect("zstd compresses in memory")
        };
        table.extend_from_slice(&(packed.len() as u32).to_le_bytes());
        table.extend_from_slice(&(raw.len() as u32).to_le_bytes());
        data.extend_from_slice(&packed);
    }
    let body_len = (table.len() + data.len()) as u32;
    let mut out = Vec::with_capacity(FRAME_HEADER + body_len as usize);
    out.extend_from_slice(FRAME_MAGIC);
    out.extend_from_slice(&(STREAMS as u32).to_le_bytes());
    out.extend_from_slice(&cols.records.to_le_bytes());
    out.extend_from_slice(&body_len.to_le_bytes());
    out.extend_from_slice(&cols.min_index.to_le_bytes());
    out.extend_from_slice(&cols.max_index.to_le_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(&out);
    crc.update(&table);
    crc.update(&data);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&table);
    out.extend_from_slice(&data);
    out
}

/// Where a complete frame sits and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameMeta {
    /// 1-based position in the file (for messages).
    pub(crate) number: usize,
    /// Byte offset of its header.
    pub(crate) offset: u64,
    pub(crate) streams: u32,
    pub(crate) records: u32,
    pub(crate) body_len: u32,
    pub(crate) min_index: u64,
    pub(crate) max_index: u64,
    crc: u32,
}

/// A frame read back: its streams, decompressed.
pub(crate) type Streams = Vec<Vec<u8>>;

/// What is wrong with a log, for [`crate::ExecError::Corrupt`]: the frame (1-based; 0 for the
/// file header) and the problem.
pub(crate) type Bad = (usize, String);

/// The complete frames of the log at `path` (none when it does not exist), and the bytes of a
/// torn frame (or file header) at its end, which a crash mid-write leaves and a resume cuts.
/// Only headers are read here; the checksum is checked when a frame is read.
pub(crate) fn scan(path: &Path) -> Result<(Vec<FrameMeta>, u64), ScanError> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(ScanError::Io(e)),
    };
    let len = file.metadata().map_err(ScanError::Io)?.len();
    if len < FILE_HEADER as u64 {
        // A crash while the file was being created: no frame yet.
        return Ok((Vec::new(), len));
    }
    let mut head = [0u8; FILE_HEADER];
    file.read_exact(&mut head).map_err(ScanError::Io)?;
    check_file_header(&head).map_err(|m| ScanError::Bad((0, m)))?;
    let mut frames = Vec::new();
    let mut offset = FILE_HEADER as u64;
    let mut reader = BufReader::with_capacity(FRAME_HEADER, file);
    while offset < len {
        if len - offset < FRAME_HEADER as u64 {
            return Ok((frames, len - offset));
        }
        reader.seek(SeekFrom::Start(offset)).map_err(ScanError::Io)?;
        let mut h = [0u8; FRAME_HEADER];
        reader.read_exact(&mut h).map_err(ScanError::Io)?;
        let number = frames.len() + 1;
        let meta = parse_header(&h, number, offset).map_err(|m| ScanError::Bad((number, m)))?;
        let end = offset + FRAME_HEADER as u64 + u64::from(meta.body_len);
        if end > len {
            return Ok((frames, len - offset));
        }
        frames.push(meta);
        offset = end;
    }
    Ok((frames, 0))
}

/// Why a scan failed.
#[derive(Debug)]
pub(crate) enum ScanError {
    Io(std::io::Error),
    Bad(Bad),
}

fn check_file_header(h: &[u8; FILE_HEADER]) -> Result<(), String> {
    if &h[..8] != FILE_MAGIC {
        return Err("not a bt result log (the file does not start with BTRESULT)".into());
    }
    let version = u32::from_le_bytes(h[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(format!(
            "result log format version {version}; this bt reads version {VERSION}: use the bt that wrote it"
        ));
    }
    Ok(())
}

fn parse_header(h: &[u8; FRAME_HEADER], number: usize, offset: u64) -> Result<FrameMeta, String> {
    if &h[..4] != FRAME_MAGIC {
        return Err(format!("no frame header at byte {offset}"));
    }
    let u32_at = |i: usize| u32::from_le_bytes(h[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(h[i..i + 8].try_into().expect("8 bytes"));
    Ok(FrameMeta {
        number,
        offset,
        streams: u32_at(4),
        records: u32_at(8),
        body_len: u32_at(12),
        min_index: u64_at(16),
        max_index: u64_at(24),
        crc: u32_at(32),
    })
}

/// Reads one frame (`file` is the log), checks its checksum and decompresses the streams
/// `wanted` says (the others stay empty).
pub(crate) fn read(
    file: &mut File,
    meta: &FrameMeta,
    wanted: impl Fn(usize) -> bool,
) -> Result<Result<Streams, Bad>, std::io::Error> {
    let mut buf = vec![0u8; FRAME_HEADER + meta.body_len as usize];
    file.seek(SeekFrom::Start(meta.offset))?;
    file.read_exact(&mut buf)?;
    Ok(unpack(&buf, meta, wanted).map_err(|m| (meta.number, m)))
}

fn unpack(buf: &[u8], meta: &FrameMeta, wanted: impl Fn(usize) -> bool) -> Result<Streams, String> {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&buf[..32]);
    crc.update(&buf[FRAME_HEADER..]);
    if crc.finalize() != meta.crc {
        return Err("checksum mismatch (the file was damaged after it was written)".into());
    }
    let n = meta.streams as usize;
    let body = &buf[FRAME_HEADER..];
    if n != STREAMS || body.len() < 8 * n {
        return Err(format!("{n} columns, expected {STREAMS}"));
    }
    let (table, mut data) = body.split_at(8 * n);
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let word = |i: usize| {
            u32::from_le_bytes(table[8 * k + i..8 * k + i + 4].try_into().expect("4 bytes"))
                as usize
        };
        let (packed, raw) = (word(0), word(4));
        if packed > data.len() {
            return Err(format!("column {k} runs past the frame"));
        }
        let (this, rest) = data.split_at(packed);
        data = rest;
        out.push(if packed == 0 || !wanted(k) {
            Vec::new()
        } else {
            let bytes =
                zstd::bulk::decompress(this, raw).map_err(|e| format!("column {k}: {e}"))?;
            if bytes.len() != raw {
                return Err(format!("column {k} has {} bytes, expected {raw}", bytes.len()));
            }
            bytes
        });
    }
    if !data.is_empty() {
        return Err("bytes after the last column".into());
    }
    Ok(out)
}
