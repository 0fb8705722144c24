//! `results.btr`, the result log of a run directory: every finished simulation, appended as
//! the run goes, compact, checksummed, and cut back to its last complete frame after a crash.
//!
//! Format version 1 (all integers little-endian; docs/results-format.md is the reference):
//!
//! ```text
//! file   = "BTRESULT" version:u32 reserved:u32 frame*
//! frame  = "BTfr" streams:u32 records:u32 body_len:u32 min_index:u64 max_index:u64 crc32:u32
//!          table:(packed_len:u32 raw_len:u32)*streams  column*streams
//! ```
//!
//! A frame holds up to 4096 records (fewer when they took a second of simulation time to
//! compute, so a kill -9 loses little finished work) as columns: one byte stream per field
//! (queue index, status, id, data set, strategy, parameters with a per-frame dictionary of
//! names and types, each of the 32 statistics as a 64-bit word, the run facts, the return
//! statistics and their PBO blocks, error messages), each compressed with zstd on its own. The
//! CRC-32 covers the header's first 32 bytes and the body. Records are in completion order;
//! readers sort by queue index.
//!
//! A frame reaches the file in one `write`. A crash can leave only a torn last frame (or a torn
//! file header), which readers ignore and a resume cuts; a frame whose checksum fails is damage
//! from outside, an error naming the frame.

mod codec;
mod frame;
mod read;
mod write;

pub use codec::ParamKind;
pub use read::Conflict;
pub(crate) use read::{Log, for_each_in_order};
pub use write::LogWriter;

#[cfg(test)]
mod tests;
