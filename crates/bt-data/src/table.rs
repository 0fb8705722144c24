//! Typed tables to Parquet, streamed: [`TableWriter`] writes batches of rows as they come, in
//! memory bounded by one batch, for tables too large to hold (summary.parquet of a 10-million
//! simulation sweep). [`write_table_parquet`] writes a table held in memory.
//!
//! Columns are typed and nullable ([`Column`], [`ColumnType`]), so that polars, pandas or
//! DuckDB read Boolean, Int64, Float64, String, Datetime(ns) and Duration(ns) columns, not
//! text. NaN in a [`Column::F64`] stays NaN (a value, not a null); `None` is a null.
//!
//! The file appears whole or not at all: it is written to `NAME.tmp` beside the target
//! ([`bt_fs::AtomicFile`]) and renamed over it by [`TableWriter::finish`]; a writer dropped
//! without finishing (an error, a panic) removes its temporary file. Compression is zstd.
//! Output bytes depend only on the schema and the batches (the same batches give the same
//! file), not on the number of threads polars encodes with.

use std::{
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, PoisonError},
};

use polars::{
    io::parquet::write::BatchedWriter,
    prelude::{
        BooleanChunked, DataFrame, DataType, Field, Float64Chunked, Int64Chunked, IntoSeries,
        NewChunkedArray, ParquetCompression, ParquetWriter, PolarsError, Schema, StringChunked,
        TimeUnit, TimeZone,
    },
};

use crate::error::DataError;

/// Most rows per Parquet row group (polars' own default): a larger batch is split.
const MAX_ROW_GROUP_ROWS: usize = 512 * 512;

/// The type of a table column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// Booleans (polars `Boolean`).
    Bool,
    /// 64-bit integers (polars `Int64`).
    I64,
    /// 64-bit floats (polars `Float64`).
    F64,
    /// UTF-8 text (polars `String`).
    Str,
    /// Instants, nanoseconds since the Unix epoch (polars `Datetime(ns, "UTC")`; Parquet
    /// `TIMESTAMP(NANOS)`, adjusted to UTC).
    Timestamp,
    /// Time spans in nanoseconds (polars `Duration(ns)`).
    Duration,
}

impl ColumnType {
    fn polars(self) -> DataType {
        match self {
            ColumnType::Bool => DataType::Boolean,
            ColumnType::I64 => DataType::Int64,
            ColumnType::F64 => DataType::Float64,
            ColumnType::Str => DataType::String,
            ColumnType::Timestamp => DataType::Datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC)),
            ColumnType::Duration => DataType::Duration(TimeUnit::Nanoseconds),
        }
    }
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// The values of one column of a batch; `None` is a null.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// 64-bit integers.
    I64(Vec<Option<i64>>),
    /// 64-bit floats: NaN is written as NaN (a value), `None` as a null.
    F64(Vec<Option<f64>>),
    /// Text.
    Str(Vec<Option<String>>),
    /// Instants, nanoseconds since the Unix epoch.
    Timestamp(Vec<Option<i64>>),
    /// Time spans, nanoseconds.
    Duration(Vec<Option<i64>>),
}

impl Column {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Column::Bool(v) => v.len(),
            Column::F64(v) => v.len(),
            Column::Str(v) => v.len(),
            Column::I64(v) | Column::Timestamp(v) | Column::Duration(v) => v.len(),
        }
    }

    /// Whether the column has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column's type.
    pub fn column_type(&self) -> ColumnType {
        match self {
            Column::Bool(_) => ColumnType::Bool,
            Column::I64(_) => ColumnType::I64,
            Column::F64(_) => ColumnType::F64,
            Column::Str(_) => ColumnType::Str,
            Column::Timestamp(_) => ColumnType::Timestamp,
            Column::Duration(_) => ColumnType::Duration,
        }
    }

    /// The polars column named `name` (the values are moved, or copied once into Arrow's
    /// layout with its validity mask).
    fn into_polars(self, name: &str) -> polars::prelude::Column {
        let name = name.into();
        let ns = TimeUnit::Nanoseconds;
        let series = match self {
            Column::Bool(v) => BooleanChunked::from_iter_options(name, v.into_iter()).into_series(),
            Column::I64(v) => Int64Chunked::from_iter_options(name, v.into_iter()).into_series(),
            Column::F64(v) => Float64Chunked::from_iter_options(name, v.into_iter()).into_series(),
            Column::Str(v) => {
                StringChunked::from_iter_options(name, v.iter().map(Option::as_deref)).into_series()
            }
            Column::Timestamp(v) => Int64Chunked::from_iter_options(name, v.into_iter())
                .into_datetime(ns, Some(TimeZone::UTC))
                .into_series(),
            Column::Duration(v) => {
                Int64Chunked::from_iter_options(name, v.into_iter()).into_duration(ns).into_series()
            }
        };
        polars::prelude::Column::from(series)
    }
}

/// The temporary file, shared between polars' writer (which never gives its sink back) and
/// [`TableWriter::finish`], which takes it out to commit it.
#[derive(Clone)]
struct Sink(Arc<Mutex<Option<bt_fs::AtomicFile>>>);

impl Sink {
    fn with<R>(&self, f: impl FnOnce(&mut bt_fs::AtomicFile) -> io::Result<R>) -> io::Result<R> {
        let mut file = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match file.as_mut() {
            Some(file) => f(file),
            None => Err(io::Error::other("the table was finished")),
        }
    }

    fn take(&self) -> Option<bt_fs::AtomicFile> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.with(|f| f.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.with(|f| f.write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.with(Write::flush)
    }
}

/// A Parquet table written batch by batch (see the [module docs](self)).
///
/// ```
/// use bt_data::{Column, ColumnType, TableWriter};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("summary.parquet");
/// let schema = vec![("id".to_string(), ColumnType::Str), ("sharpe".to_string(), ColumnType::F64)];
/// let mut table = TableWriter::create(&path, schema)?;
/// table.write_batch(vec![
///     Column::Str(vec![Some("s1".into()), Some("s2".into())]),
///     Column::F64(vec![Some(1.25), Some(f64::NAN)]),
/// ])?;
/// assert!(!path.exists(), "nothing at the path before finish");
/// table.finish()?;
/// assert!(path.exists());
/// # Ok::<(), bt_data::DataError>(())
/// ```
pub struct TableWriter {
    path: PathBuf,
    schema: Vec<(String, ColumnType)>,
    writer: BatchedWriter<Sink>,
    sink: Sink,
    rows: u64,
}

impl std::fmt::Debug for TableWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableWriter")
            .field("path", &self.path)
            .field("schema", &self.schema)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl TableWriter {
    /// Starts the table at `path` (its directory must exist) with columns `schema`, in order;
    /// names must be unique. Nothing appears at `path` before [`TableWriter::finish`].
    pub fn create(
        path: impl Into<PathBuf>,
        schema: Vec<(String, ColumnType)>,
    ) -> Result<TableWriter, DataError> {
        let path = path.into();
        if path.file_name().is_none() {
            return Err(DataError::UnknownFormat { path });
        }
        let bad = |column: &str, problem: &str| DataError::BadTable {
            path: path.clone(),
            column: column.to_string(),
            problem: problem.to_string(),
        };
        for (i, (name, _)) in schema.iter().enumerate() {
            if schema[..i].iter().any(|(other, _)| other == name) {
                return Err(bad(name, "appears twice"));
            }
        }
        if schema.is_empty() {
            return Err(bad("", "is missing: a table needs at least one column"));
        }
        let fields = schema.iter().map(|(n, t)| Field::new(n.as_str().into(), t.polars()));
        let polars_schema: Schema = fields.collect();
        let file =
            bt_fs::AtomicFile::create(&path).map_err(|e| DataError::io(&path, "write", e))?;
        let sink = Sink(Arc::new(Mutex::new(Some(file))));
        let writer = ParquetWriter::new(sink.clone())
            .with_compression(ParquetCompression::Zstd(None))
            .batched(&polars_schema)
            .map_err(write_err(&path))?;
        Ok(TableWriter { path, schema, writer, sink, rows: 0 })
    }

    /// The target path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The columns, as given to [`TableWriter::create`].
    pub fn schema(&self) -> &[(String, ColumnType)] {
        &self.schema
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends a batch: one column per schema column, in schema order, of the schema's types
    /// and all the same length. It becomes one row group (several above 262,144 rows); an
    /// empty batch writes nothing. A batch that does not match is an error and writes
    /// nothing; the writer stays usable.
    pub fn write_batch(&mut self, columns: Vec<Column>) -> Result<(), DataError> {
        let height = self.check(&columns)?;
        if height == 0 {
            return Ok(());
        }
        let columns = self.schema.iter().zip(columns).map(|((name, _), c)| c.into_polars(name));
        let df = DataFrame::new(height, columns.collect()).map_err(write_err(&self.path))?;
        let mut offset = 0;
        while offset < height {
            let rows = MAX_ROW_GROUP_ROWS.min(height - offset);
            let group = df.slice(i64::try_from(offset).unwrap_or(i64::MAX), rows);
            self.writer.write_batch(&group).map_err(write_err(&self.path))?;
            offset += rows;
        }
        self.rows += height as u64;
        Ok(())
    }

    /// The batch's height, if it matches the schema.
    fn check(&self, columns: &[Column]) -> Result<usize, DataError> {
        let bad = |column: &str, problem: String| DataError::BadTable {
            path: self.path.clone(),
            column: column.to_string(),
            problem,
        };
        if columns.len() != self.schema.len() {
            let last = self.schema.last().map_or("", |(n, _)| n.as_str());
            let problem = format!(
                "ends a schema of {} columns, but the batch has {}",
                self.schema.len(),
                columns.len()
            );
            return Err(bad(last, problem));
        }
        let height = columns.first().map_or(0, Column::len);
        for ((name, kind), c) in self.schema.iter().zip(columns) {
            if c.column_type() != *kind {
                return Err(bad(
                    name,
                    format!("is {kind} in the schema but {} in the batch", c.column_type()),
                ));
            }
            if c.len() != height {
                let first = &self.schema[0].0;
                return Err(bad(
                    name,
                    format!("has {} values but column {first:?} has {height}", c.len()),
                ));
            }
        }
        Ok(height)
    }

    /// Writes the footer and publishes the file at the path (fsync, rename). An empty table
    /// (no rows) is a valid file with the schema.
    pub fn finish(self) -> Result<(), DataError> {
        let TableWriter { path, writer, sink, .. } = self;
        writer.finish().map_err(write_err(&path))?;
        drop(writer);
        let file = sink.take().ok_or_else(|| DataError::ParquetWrite {
            path: path.clone(),
            message: "the temporary file is gone".to_string(),
        })?;
        file.commit().map_err(|e| DataError::io(&path, "write", e))
    }
}

fn write_err(path: &Path) -> impl Fn(PolarsError) -> DataError + '_ {
    move |e| DataError::ParquetWrite { path: path.to_path_buf(), message: e.to_string() }
}

/// One column of a table for [`write_table_parquet`] (no nulls; see [`Column`] for typed,
/// nullable columns).
#[derive(Debug, Clone, PartialEq)]
pub enum TableColumn {
    /// 64-bit floats.
    F64(Vec<f64>),
    /// 64-bit integers.
    I64(Vec<i64>),
    /// Text.
    Str(Vec<String>),
}

impl TableColumn {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            TableColumn::F64(v) => v.len(),
            TableColumn::I64(v) => v.len(),
            TableColumn::Str(v) => v.len(),
        }
    }

    /// Whether the column has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn typed(&self) -> (ColumnType, Column) {
        match self {
            TableColumn::F64(v) => {
                (ColumnType::F64, Column::F64(v.iter().copied().map(Some).collect()))
            }
            TableColumn::I64(v) => {
                (ColumnType::I64, Column::I64(v.iter().copied().map(Some).collect()))
            }
            TableColumn::Str(v) => {
                (ColumnType::Str, Column::Str(v.iter().cloned().map(Some).collect()))
            }
        }
    }
}

/// Writes named columns (all the same length, names unique) as a Parquet file, atomically:
/// one [`TableWriter`] batch.
pub fn write_table_parquet(
    columns: &[(String, TableColumn)],
    path: &Path,
) -> Result<(), DataError> {
    let (schema, batch): (Vec<_>, Vec<_>) = columns
        .iter()
        .map(|(name, c)| {
            let (kind, column) = c.typed();
            ((name.clone(), kind), column)
        })
        .unzip();
    let mut table = TableWriter::create(path, schema)?;
    table.write_batch(batch)?;
    table.finish()
}

/// Reads a whole Parquet table written by [`TableWriter`] (a run's summary.parquet, for tests
/// and small tables: every row is held) as named, typed columns in file order. A column of a
/// type [`ColumnType`] does not have is [`DataError::BadTable`]. It trusts the file more than
/// [`crate::load`] does (no page checks before polars reads it): for tables bt wrote, not for
/// input from elsewhere.
pub fn read_table_parquet(path: &Path) -> Result<Vec<(String, Column)>, DataError> {
    use polars::prelude::{ParquetReader, SerReader};
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, "read", e))?;
    let parquet_err =
        |e: PolarsError| DataError::Parquet { path: path.into(), message: e.to_string() };
    // A panic inside polars on a malformed file becomes an error naming the file.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ParquetReader::new(file).finish()
    }));
    let df = read
        .map_err(|payload| DataError::ReaderFailed {
            path: path.into(),
            format: crate::Format::Parquet,
            message: payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".to_owned()),
        })?
        .map_err(parquet_err)?;
    let mut out = Vec::with_capacity(df.width());
    for c in df.columns() {
        let s = c.as_materialized_series();
        let name = s.name().to_string();
        let ints = || s.to_physical_repr().i64().map(|v| v.iter().collect::<Vec<_>>());
        let column = match s.dtype() {
            DataType::Boolean => s.bool().map(|v| Column::Bool(v.iter().collect())),
            DataType::Int64 => ints().map(Column::I64),
            DataType::Float64 => s.f64().map(|v| Column::F64(v.iter().collect())),
            DataType::String => {
                s.str().map(|v| Column::Str(v.iter().map(|x| x.map(str::to_owned)).collect()))
            }
            DataType::Datetime(TimeUnit::Nanoseconds, _) => ints().map(Column::Timestamp),
            DataType::Duration(TimeUnit::Nanoseconds) => ints().map(Column::Duration),
            other => {
                return Err(DataError::BadTable {
                    path: path.into(),
                    column: name,
                    problem: format!("has type {other}, which is not a bt table type"),
                });
            }
        };
        out.push((name, column.map_err(parquet_err)?));
    }
    Ok(out)
}
