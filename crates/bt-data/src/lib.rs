//! Market data in and out of bt: CSV and Parquet files to validated [`bt_domain::Bars`], bars
//! back to files, a generic Parquet table writer, and deterministic synthetic bars.
//!
//! - [`load`] / [`load_detailed`]: read a CSV or Parquet file (chosen by extension, sniffed when
//!   the extension is unknown) into [`Bars`]. Layouts: the timestamp is the column named `date`,
//!   `datetime`, `time` or `timestamp` (any case) or else the first column, which may be
//!   unnamed as in backtesting.py's sample data (`,Open,High,Low,Close,Volume`); `Open`, `High`,
//!   `Low`, `Close` in any case; `Volume` optional (0 when absent). Timestamps may be ISO dates,
//!   ISO date-times with or without offset (converted to UTC), or integer Unix epochs (unit by
//!   magnitude: below 10^11 seconds, below 10^14 milliseconds, below 10^17 microseconds, else
//!   nanoseconds, decided once per file from the largest value). Parquet files in the common
//!   layouts (flat f64/i64 columns, plain or dictionary pages, no nulls) are decoded straight
//!   into the bars' vectors on up to 4 threads; other files are read through polars, with the
//!   same result (a test reads every test file both ways).
//! - [`DataError`]: every error names the file and, where it has one, the [`Row`] (CSV: line as
//!   an editor numbers it, header = row 1; Parquet: 1-based record), the column and the value.
//! - [`write_csv`], [`write_parquet`], [`save`]: write bars atomically (temporary file in the
//!   same directory, then rename); both formats read back to identical bars.
//! - [`table`]: typed Parquet tables for other crates' summaries, no polars types:
//!   [`TableWriter`] streams batches of [`Column`]s (Bool, I64, F64, Str, Timestamp, Duration,
//!   nullable) in memory bounded by one batch and publishes the file atomically on
//!   [`TableWriter::finish`]; [`write_table_parquet`] writes a [`TableColumn`] table held in
//!   memory.
//! - [`synthetic`]: geometric Brownian motion bars, bit-identical on every machine.
//!
//! Architecture invariant: polars lives here and nowhere else, and no polars type appears in
//! this crate's public API. The crate knows files and formats, not strategies, engines or
//! reports.
//!
//! ```no_run
//! let bars = bt_data::load(std::path::Path::new("GOOG.csv"))?;
//! println!("{} bars from {}", bars.len(), bt_domain::time::format_iso(bars.first_ts()));
//! # Ok::<(), bt_data::DataError>(())
//! ```

mod csv;
mod error;
mod parquet;
mod parse;
pub mod synthetic;
pub mod table;
mod thrift;
mod validate;

use std::{
    fs::File,
    io::{Read, Write},
    path::Path,
};

use bt_domain::Bars;

pub use crate::{
    error::{DataError, Row},
    table::{
        Column, ColumnType, TableColumn, TableWriter, read_table_parquet, write_table_parquet,
    },
};

/// How many leading bytes are read to tell the format and whether a file is text.
const SNIFF_LEN: usize = 8192;

/// A file format bt reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma- (or semicolon- or tab-) separated text with a header line.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format an extension names: `.csv`/`.txt` CSV, `.parquet`/`.pq` Parquet (any case).
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" => Some(Format::Csv),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Csv => "CSV",
            Format::Parquet => "Parquet",
        })
    }
}

/// Bars with a description of the file they came from (for `bt data inspect`).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The validated bars.
    pub bars: Bars,
    /// The format that was read.
    pub format: Format,
    /// All column names of the file, in file order (an unnamed column is `""`).
    pub columns: Vec<String>,
    /// The column the timestamps came from.
    pub timestamp_column: String,
    /// Whether the file had a volume column (otherwise volume is all 0).
    pub has_volume: bool,
}

/// Loads a CSV or Parquet file into validated bars. See the crate docs for accepted layouts.
pub fn load(path: &Path) -> Result<Bars, DataError> {
    load_detailed(path).map(|l| l.bars)
}

/// Like [`load`], and also describes the file.
pub fn load_detailed(path: &Path) -> Result<Loaded, DataError> {
    let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, "read", e))?;
    if meta.is_dir() {
        return Err(DataError::IsDirectory { path: path.to_path_buf() });
    }
    let io = |e| DataError::io(path, "read", e);
    let mut file = File::open(path).map_err(io)?;
    let len = meta.len();
    let _span = tracing::debug_span!("load", path = %path.display(), bytes = len).entered();
    if len == 0 {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    // Only the head is read here: polars maps the whole file itself.
    let mut head = Vec::with_capacity(SNIFF_LEN);
    Read::by_ref(&mut file).take(SNIFF_LEN as u64).read_to_end(&mut head).map_err(io)?;
    let format = Format::from_path(path).unwrap_or(if head.starts_with(parquet::MAGIC) {
        Format::Parquet
    } else {
        Format::Csv
    });
    // polars panics on some malformed files (fuzzing found `thrift bool field` in its Parquet
    // footer decoder): a panic while reading becomes an error naming the file, like any other.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match format {
        Format::Csv => csv::read(path, &head, len),
        Format::Parquet => parquet::read(path, &head, file, len),
    }));
    read.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".to_owned());
        Err(DataError::ReaderFailed { path: path.to_path_buf(), format, message })
    })
}

/// Writes bars as CSV (header `timestamp,open,high,low,close,volume`, ISO UTC timestamps,
/// shortest round-trip floats), atomically.
pub fn write_csv(bars: &Bars, path: &Path) -> Result<(), DataError> {
    atomic_write(path, |w| csv::write(bars, w).map_err(|e| DataError::io(path, "write", e)))
}

/// Writes bars as Parquet (`timestamp` Datetime ns without time zone, `open`, `high`, `low`,
/// `close`, `volume` f64; LZ4-compressed, LZ4_RAW), atomically.
pub fn write_parquet(bars: &Bars, path: &Path) -> Result<(), DataError> {
    atomic_write(path, |w| parquet::write_bars(bars, w, path))
}

/// Writes bars in the format `path`'s extension names ([`Format::from_path`]).
pub fn save(bars: &Bars, path: &Path) -> Result<(), DataError> {
    match Format::from_path(path) {
        Some(Format::Csv) => write_csv(bars, path),
        Some(Format::Parquet) => write_parquet(bars, path),
        None => Err(DataError::UnknownFormat { path: path.to_path_buf() }),
    }
}

/// Writes through `body` into an [`bt_fs::AtomicFile`]: readers see the old file or the
/// complete new one, never a partial one, and a crash leaves no half-written file.
fn atomic_write(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> Result<(), DataError>,
) -> Result<(), DataError> {
    if path.file_name().is_none() {
        return Err(DataError::UnknownFormat { path: path.to_path_buf() });
    }
    let io = |e| DataError::io(path, "write", e);
    let mut file = bt_fs::AtomicFile::create(path).map_err(io)?;
    body(&mut file)?;
    file.commit().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_by_extension() {
        assert_eq!(Format::from_path(Path::new("a/b.CSV")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("b.txt")), Some(Format::Csv));
        assert_eq!(Format::from_path(Path::new("b.pq")), Some(Format::Parquet));
        assert_eq!(Format::from_path(Path::new("b.Parquet")), Some(Format::Parquet));
        assert_eq!(Format::from_path(Path::new("b.json")), None);
        assert_eq!(Format::from_path(Path::new("b")), None);
    }
}
