use std::{fmt, path::PathBuf};

use bt_domain::{ErrorKind, time::format_iso};

/// Where a value sits in its file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Row {
    /// A line of a CSV file as an editor numbers it: the header is row 1, so data row `k` is
    /// row `k + 1`.
    Line(usize),
    /// A record of a Parquet file, counted from 1 (Parquet has no header line).
    Record(usize),
}

impl Row {
    /// The 1-based number, whatever the kind.
    pub fn number(self) -> usize {
        match self {
            Row::Line(n) | Row::Record(n) => n,
        }
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Row::Line(n) => write!(f, "row {n}"),
            Row::Record(n) => write!(f, "record {n} (1-based)"),
        }
    }
}

/// A column name as the file spells it; shown as `(unnamed)` when the header cell is empty
/// (backtesting.py's sample data has an unnamed index column).
struct Col<'a>(&'a str);

impl fmt::Display for Col<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { f.write_str("(unnamed)") } else { f.write_str(self.0) }
    }
}

fn col(name: &str) -> Col<'_> {
    Col(name)
}

/// Everything that can go wrong reading, validating or writing market data.
///
/// Every variant about a file names it (`path`); every variant about a value names its
/// [`Row`], its column (as spelled in the file) and the value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file does not exist.
    #[error("{}: file not found: check the path", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The path is a directory.
    #[error("{}: is a directory: pass a .csv or .parquet file", path.display())]
    IsDirectory {
        /// The path.
        path: PathBuf,
    },
    /// The file cannot be read or written for lack of permission.
    #[error("{}: permission denied: check the file's permissions", path.display())]
    PermissionDenied {
        /// The file.
        path: PathBuf,
    },
    /// Any other I/O error, and every error while writing.
    #[error("{}: cannot {action}{}: {source}", path.display(), io_hint(action))]
    Io {
        /// The file.
        path: PathBuf,
        /// `read` or `write`.
        action: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// The file has no bytes (or only whitespace).
    #[error("{}: the file is empty: expected a header line and at least 2 data rows", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The content is neither CSV text nor Parquet.
    #[error(
        "{}: not a CSV or Parquet file ({reason}): pass a CSV with a header line or a Parquet file",
        path.display()
    )]
    NotTabular {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// A required column is absent.
    #[error(
        "{}: no {column} column (columns found: {}): add or rename the column (names are case-insensitive)",
        path.display(), quote_list(found)
    )]
    MissingColumn {
        /// The column that was looked for, as the loader names it (`close`, `timestamp`, ...).
        column: &'static str,
        /// The columns the file has, in file order.
        found: Vec<String>,
        /// The file.
        path: PathBuf,
    },
    /// A CSV line has more fields than the header.
    #[error(
        "{}: {row}: {found} fields but the header has {expected}: fix the line (quote values that contain the separator)",
        path.display()
    )]
    TooManyFields {
        /// The file.
        path: PathBuf,
        /// The line.
        row: Row,
        /// Number of header fields.
        expected: usize,
        /// Number of fields on the line.
        found: usize,
    },
    /// A required value is empty or absent (short line, null in Parquet).
    #[error(
        "{}: {row}, column {}: value is missing (empty field, short line or null): fill it in or remove the row",
        path.display(), col(column)
    )]
    MissingValue {
        /// The file.
        path: PathBuf,
        /// Where.
        row: Row,
        /// The column as spelled in the file.
        column: String,
    },
    /// A value contains bytes that are not UTF-8 (shown as U+FFFD).
    #[error(
        "{}: {row}, column {}: value {value:?} is not valid UTF-8: save the file as UTF-8",
        path.display(), col(column)
    )]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// Where.
        row: Row,
        /// The column as spelled in the file.
        column: String,
        /// The value, with invalid bytes replaced by U+FFFD.
        value: String,
    },
    /// A timestamp cannot be parsed.
    #[error(
        "{}: {row}, column {}: cannot parse {value:?} as a timestamp: expected {expected}",
        path.display(), col(column)
    )]
    BadTimestamp {
        /// The file.
        path: PathBuf,
        /// Where.
        row: Row,
        /// The column as spelled in the file.
        column: String,
        /// The value.
        value: String,
        /// What a valid value looks like here.
        expected: &'static str,
    },
    /// A price or volume cannot be parsed as a number.
    #[error(
        "{}: {row}, column {}: cannot parse {value:?} as a number: fix or remove the row",
        path.display(), col(column)
    )]
    BadNumber {
        /// The file.
        path: PathBuf,
        /// Where.
        row: Row,
        /// The column as spelled in the file.
        column: String,
        /// The value.
        value: String,
    },
    /// A price or volume is NaN or infinite.
    #[error(
        "{}: {row}, column {}: value is {value}: prices and volumes must be finite numbers: fix or remove the row",
        path.display(), col(column)
    )]
    NotFinite {
        /// The file.
        path: PathBuf,
        /// Where.
        row: Row,
        /// The column as spelled in the file.
        column: String,
        /// The value.
        value: f64,
    },
    /// A price is zero or negative.
    #[error(
        "{}: {row}, column {}: price is {value}: prices must be greater than 0: fix or remove the row",
        path.display(), col(column)
    )]
    NonPositivePrice {
        /// The file.
        path: PathBuf,
        /// Where.
        row: Row,
        /// The column as spelled in the file.
        column: String,
        /// The value.
        value: f64,
    },
    /// A volume is negative.
    #[error(
        "{}: {row}, column {}: volume is {value}: volume must not be negative: fix or remove the row",
        path.display(), col(column)
    )]
    NegativeVolume {
        /// The file.
        path: PathBuf,
        /// Where.
        row: Row,
        /// The column as spelled in the file.
        column: String,
        /// The value.
        value: f64,
    },
    /// High is below max(open, close).
    #[error(
        "{}: {row}, column {}: high {high} is below max(open, close) = {body_max}: fix the bar",
        path.display(), col(column)
    )]
    HighBelowBody {
        /// The file.
        path: PathBuf,
        /// Where.
        row: Row,
        /// The high column as spelled in the file.
        column: String,
        /// The high.
        high: f64,
        /// max(open, close).
        body_max: f64,
    },
    /// Low is above min(open, close).
    #[error(
        "{}: {row}, column {}: low {low} is above min(open, close) = {body_min}: fix the bar",
        path.display(), col(column)
    )]
    LowAboveBody {
        /// The file.
        path: PathBuf,
        /// Where.
        row: Row,
        /// The low column as spelled in the file.
        column: String,
        /// The low.
        low: f64,
        /// min(open, close).
        body_min: f64,
    },
    /// A timestamp is not after the previous one (duplicate or out of order).
    #[error(
        "{}: {row}, column {}: timestamp {} is not after {} ({previous_row}): sort the file by time and remove duplicates",
        path.display(), col(column), format_iso(*current), format_iso(*previous)
    )]
    NotIncreasing {
        /// The file.
        path: PathBuf,
        /// The later row.
        row: Row,
        /// The earlier row.
        previous_row: Row,
        /// The timestamp column as spelled in the file.
        column: String,
        /// This row's timestamp, ns since the Unix epoch (UTC).
        current: i64,
        /// The previous row's timestamp, ns since the Unix epoch (UTC).
        previous: i64,
    },
    /// Fewer than two bars.
    #[error(
        "{}: {}: a backtest needs at least 2 bars: use a longer file",
        path.display(), count_rows(*bars)
    )]
    TooFewBars {
        /// The file.
        path: PathBuf,
        /// How many bars it has.
        bars: usize,
    },
    /// A Parquet column has a type the loader cannot use.
    #[error(
        "{}: column {} has type {dtype}: expected {expected}: convert the column",
        path.display(), col(column)
    )]
    UnsupportedType {
        /// The file.
        path: PathBuf,
        /// The column as spelled in the file.
        column: String,
        /// Its type, as polars names it.
        dtype: String,
        /// The accepted types.
        expected: &'static str,
    },
    /// The CSV reader failed on the file as a whole.
    #[error(
        "{}: cannot read as CSV: {message}: check that it is comma-, semicolon- or tab-separated text with a header line",
        path.display()
    )]
    Csv {
        /// The file.
        path: PathBuf,
        /// The reader's message.
        message: String,
    },
    /// The Parquet reader failed.
    #[error("{}: Parquet error: {message}: is the file complete and not corrupted?", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The reader's message.
        message: String,
    },
    /// The reader (polars) failed inside on a malformed file instead of returning an error.
    #[error(
        "{}: the {format} reader failed on this file ({message}): the file is malformed; check that it is a complete {format} file",
        path.display()
    )]
    ReaderFailed {
        /// The file.
        path: PathBuf,
        /// The format being read.
        format: crate::Format,
        /// What the reader said.
        message: String,
    },
    /// The Parquet writer failed (a full disk, most often); nothing was written to the path.
    #[error("{}: cannot write Parquet: {message}: check free disk space and permissions", path.display())]
    ParquetWrite {
        /// The file.
        path: PathBuf,
        /// The writer's message.
        message: String,
    },
    /// An output path whose extension names no known format.
    #[error("{}: unknown file format: use a .csv or .parquet extension", path.display())]
    UnknownFormat {
        /// The path.
        path: PathBuf,
    },
    /// A table handed to [`crate::write_table_parquet`] is malformed.
    #[error("{}: column {column:?} {problem}: fix the table before writing it", path.display())]
    BadTable {
        /// The output file.
        path: PathBuf,
        /// The offending column.
        column: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A synthetic-data specification is invalid.
    #[error("synthetic data: {field} = {value} is invalid: expected {expected}")]
    InvalidSpec {
        /// The field of [`crate::synthetic::GbmSpec`].
        field: &'static str,
        /// Its value.
        value: String,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// Bars that failed validation for a reason this crate has no dedicated variant for.
    #[error("{}: {row}: {message}", path.display())]
    InvalidBars {
        /// The file (or `<synthetic>`).
        path: PathBuf,
        /// Where.
        row: Row,
        /// The validator's message.
        message: String,
    },
}

impl DataError {
    /// The row an error points at, if it points at one.
    pub fn row(&self) -> Option<Row> {
        match self {
            DataError::TooManyFields { row, .. }
            | DataError::MissingValue { row, .. }
            | DataError::InvalidUtf8 { row, .. }
            | DataError::BadTimestamp { row, .. }
            | DataError::BadNumber { row, .. }
            | DataError::NotFinite { row, .. }
            | DataError::NonPositivePrice { row, .. }
            | DataError::NegativeVolume { row, .. }
            | DataError::HighBelowBody { row, .. }
            | DataError::LowAboveBody { row, .. }
            | DataError::NotIncreasing { row, .. }
            | DataError::InvalidBars { row, .. } => Some(*row),
            _ => None,
        }
    }

    /// The column (as spelled in the file) an error points at, if it points at one.
    pub fn column(&self) -> Option<&str> {
        match self {
            DataError::MissingValue { column, .. }
            | DataError::InvalidUtf8 { column, .. }
            | DataError::BadTimestamp { column, .. }
            | DataError::BadNumber { column, .. }
            | DataError::NotFinite { column, .. }
            | DataError::NonPositivePrice { column, .. }
            | DataError::NegativeVolume { column, .. }
            | DataError::HighBelowBody { column, .. }
            | DataError::LowAboveBody { column, .. }
            | DataError::NotIncreasing { column, .. }
            | DataError::UnsupportedType { column, .. } => Some(column),
            DataError::MissingColumn { column, .. } => Some(column),
            _ => None,
        }
    }

    /// [`ErrorKind::Input`] for input that cannot be read or used and for an output path
    /// that cannot be used; [`ErrorKind::Io`] for a write that failed for space (a Parquet
    /// writer's failure carries no OS error: most often a full disk).
    pub fn kind(&self) -> ErrorKind {
        match self {
            DataError::Io { source, action: "write", .. } => ErrorKind::of_write(source.kind()),
            DataError::ParquetWrite { .. } => ErrorKind::Io,
            _ => ErrorKind::Input,
        }
    }

    /// Whether the error happened while writing (disk full, permissions), not reading input.
    pub fn is_write(&self) -> bool {
        matches!(self, DataError::Io { action: "write", .. } | DataError::ParquetWrite { .. })
    }

    /// Maps an I/O error on `path`: when reading, to the dedicated variants (not found,
    /// directory, permission) or to [`DataError::Io`]; when writing, always to
    /// [`DataError::Io`], whose message then says what to check.
    pub(crate) fn io(path: &std::path::Path, action: &'static str, e: std::io::Error) -> Self {
        let path = path.to_path_buf();
        if action == "write" {
            return DataError::Io { path, action, source: e };
        }
        match e.kind() {
            std::io::ErrorKind::NotFound => DataError::NotFound { path },
            std::io::ErrorKind::IsADirectory => DataError::IsDirectory { path },
            std::io::ErrorKind::PermissionDenied => DataError::PermissionDenied { path },
            _ => DataError::Io { path, action, source: e },
        }
    }
}

/// What to check after a failed write (a read error's variant says it itself).
fn io_hint(action: &str) -> &'static str {
    if action == "write" {
        " (check that the directory exists and is writable, and that the disk has free space)"
    } else {
        ""
    }
}

fn count_rows(n: usize) -> String {
    match n {
        0 => "no data rows".to_string(),
        1 => "only 1 data row".to_string(),
        n => format!("only {n} data rows"),
    }
}

fn quote_list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_string();
    }
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}
