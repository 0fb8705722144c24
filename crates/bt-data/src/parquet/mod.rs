//! Parquet reading and writing.
//!
//! Accepted column types: timestamp as Datetime (any unit, any time zone: the stored instant is
//! UTC), Date, integer Unix epoch (unit by magnitude, see [`crate::parse::epoch_factor`]) or
//! ISO text; prices and volume as any float or integer type. Rows in errors are 1-based record
//! numbers ([`Row::Record`]).
//!
//! Two readers, one result: [`direct`] decodes the common layouts (flat f64/i64 columns, plain
//! or dictionary pages, no nulls) straight into the vectors of [`Bars`], several times faster
//! than polars; every other file, and every file with anything unusual, is read by polars
//! behind the hardening checks of [`read_checked`], which also produces every error.
//! A unit test reads each test file both ways and compares.

mod direct;
mod pages;
#[cfg(test)]
mod tests;

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom, Write},
    path::Path,
};

use bt_domain::{Bars, time::NANOS_PER_DAY};
use polars::prelude::{
    ArrowDataType, ArrowSchema, ChunkedArray, Column, DataFrame, DataType, Int64Chunked,
    IntoSeries, ParquetCompression, ParquetReader, ParquetWriter, PolarsError, PolarsNumericType,
    SerReader, Series, TimeUnit,
};

use crate::{
    Format, Loaded,
    error::{DataError, Row},
    parse::{self, ColumnMap, TextTime},
    validate::{self, Names, Raw, RowMap},
};

/// The magic bytes at both ends of every Parquet file.
pub(crate) const MAGIC: &[u8; 4] = b"PAR1";

const PRICE_TYPES: &str = "a float or integer column";
const TIME_TYPES: &str = "Datetime, Date, an integer Unix epoch or ISO text";

fn parquet_err(path: &Path) -> impl Fn(PolarsError) -> DataError + '_ {
    move |e| DataError::Parquet { path: path.to_path_buf(), message: e.to_string() }
}

fn write_err(path: &Path) -> impl Fn(PolarsError) -> DataError + '_ {
    move |e| DataError::ParquetWrite { path: path.to_path_buf(), message: e.to_string() }
}

/// Largest page bt accepts (uncompressed), as polars' own reader limits it.
const MAX_PAGE_SIZE: usize = 1 << 30;

/// polars trusts the lengths a file declares: a footer list claiming a billion row groups and a
/// page header claiming 2^61 values made it request gigabytes to exabytes and abort the process,
/// which no `catch_unwind` can stop (both found by fuzzing). So the footer's declared lengths
/// are checked against its size ([`crate::thrift`]), then every page header is read (headers
/// only, not the data) and a page claiming more values than its column chunk holds is refused.
/// Returns the file's bytes, which polars then reads from memory (the file is read once).
fn read_checked(path: &Path, file: &mut File) -> Result<polars_buffer::Buffer<u8>, DataError> {
    use polars_parquet::parquet::{
        page::CompressedPage,
        read::{get_page_iterator, read_metadata},
    };

    let bad = |message: String| DataError::Parquet { path: path.to_path_buf(), message };
    let mut bytes = Vec::new();
    file.rewind()
        .and_then(|()| file.read_to_end(&mut bytes))
        .map_err(|e| DataError::io(path, "read", e))?;
    // The footer: [Thrift FileMetaData][its length, u32 LE]["PAR1"], after the leading "PAR1".
    let n = bytes.len();
    if n < 12 {
        return Err(bad("the file is truncated (shorter than 12 bytes)".to_string()));
    }
    let footer_len = bytes[n - 8..n - 4].try_into().map(u32::from_le_bytes).unwrap_or(u32::MAX);
    let footer_len = usize::try_from(footer_len).unwrap_or(usize::MAX);
    if footer_len > n - 12 {
        return Err(bad(format!("the footer claims {footer_len} bytes of a {n}-byte file")));
    }
    crate::thrift::check_footer(&bytes[n - 8 - footer_len..n - 8])
        .map_err(|e| bad(format!("malformed footer: {e}")))?;
    let bytes = polars_buffer::Buffer::from(bytes);
    let metadata = read_metadata(&mut std::io::Cursor::new(bytes.clone()))
        .map_err(|e| bad(format!("unreadable footer: {e}")))?;
    for (r, group) in metadata.row_groups.iter().enumerate() {
        for column in group.parquet_columns() {
            let name = &column.descriptor().path_in_schema.join(".");
            let total = usize::try_from(column.num_values()).unwrap_or(0);
            let pages = get_page_iterator(
                column,
                std::io::Cursor::new(bytes.clone()),
                Vec::new(),
                MAX_PAGE_SIZE,
            )
            .map_err(|e| bad(format!("row group {}, column {name}: {e}", r + 1)))?;
            for page in pages {
                let page =
                    page.map_err(|e| bad(format!("row group {}, column {name}: {e}", r + 1)))?;
                // A negative count in the header reads as a huge one.
                let claimed = match &page {
                    CompressedPage::Data(data) => data.num_values(),
                    CompressedPage::Dict(_) => continue,
                };
                if claimed > total {
                    return Err(bad(format!(
                        "row group {}, column {name}: a page claims {claimed} values but the column chunk holds {total}",
                        r + 1,
                    )));
                }
            }
        }
    }
    Ok(bytes)
}

/// Reads the Parquet file at `path`: `head` holds its first bytes, `file` is open on it and
/// `len` is its length. Only the columns used are decoded.
pub(crate) fn read(path: &Path, head: &[u8], file: File, len: u64) -> Result<Loaded, DataError> {
    let file = check_magic(path, head, file, len)?;
    match direct::read(path, &file, len)? {
        Some(loaded) => Ok(loaded),
        None => read_polars(path, file),
    }
}

/// The leading and trailing `PAR1`: a file without them is refused before anything is read.
fn check_magic(path: &Path, head: &[u8], mut file: File, len: u64) -> Result<File, DataError> {
    if !head.starts_with(MAGIC) {
        return Err(DataError::NotTabular {
            path: path.to_path_buf(),
            reason: "no Parquet magic bytes PAR1 at the start".to_string(),
        });
    }
    let mut tail = [0u8; 4];
    let io = |e| DataError::io(path, "read", e);
    if len >= 12 {
        file.seek(SeekFrom::End(-4)).map_err(io)?;
        file.read_exact(&mut tail).map_err(io)?;
    }
    if &tail != MAGIC {
        return Err(DataError::Parquet {
            path: path.to_path_buf(),
            message: "the file is truncated (no PAR1 footer)".to_string(),
        });
    }
    Ok(file)
}

/// The file's column names, and which of them have a date/time type.
fn names_and_temporal(schema: &ArrowSchema) -> (Vec<String>, Vec<bool>) {
    let names = schema.iter_names().map(|n| n.to_string()).collect();
    let temporal = schema
        .iter_values()
        .map(|f| {
            matches!(
                f.dtype,
                ArrowDataType::Timestamp(..) | ArrowDataType::Date32 | ArrowDataType::Date64
            )
        })
        .collect();
    (names, temporal)
}

/// The file's names of the six columns.
fn file_names(names: &[String], map: &ColumnMap) -> Names {
    Names {
        ts: names[map.ts].clone(),
        open: names[map.open].clone(),
        high: names[map.high].clone(),
        low: names[map.low].clone(),
        close: names[map.close].clone(),
        volume: map.volume.map_or_else(|| "volume".to_string(), |i| names[i].clone()),
    }
}

/// Validates the columns and describes the file.
fn finish(
    path: &Path,
    raw: Raw,
    names: Vec<String>,
    map: &ColumnMap,
    file_names: &Names,
) -> Result<Loaded, DataError> {
    let bars = validate::build(path, raw, file_names, &RowMap(&|bar| Row::Record(bar + 1)))?;
    Ok(Loaded {
        bars,
        format: Format::Parquet,
        timestamp_column: names[map.ts].clone(),
        columns: names,
        has_volume: map.volume.is_some(),
    })
}

/// Reads the file through polars, after [`read_checked`].
fn read_polars(path: &Path, mut file: File) -> Result<Loaded, DataError> {
    let bytes = read_checked(path, &mut file)?;
    let mut reader = ParquetReader::new(std::io::Cursor::new(bytes));
    let schema = reader.schema().map_err(parquet_err(path))?;
    let (names, temporal) = names_and_temporal(&schema);
    let map = parse::resolve_columns(&names, &temporal).map_err(|(column, found)| {
        DataError::MissingColumn { path: path.to_path_buf(), column, found }
    })?;
    let mut used: Vec<usize> =
        [map.ts, map.open, map.high, map.low, map.close].into_iter().chain(map.volume).collect();
    used.sort_unstable();
    let df = reader.with_projection(Some(used.clone())).finish().map_err(parquet_err(path))?;
    // Projected columns come back in file order: find each by its rank in `used`.
    let col = |i: usize| {
        let k = used.iter().position(|&u| u == i).unwrap_or(0);
        df.columns()[k].as_materialized_series()
    };
    let price = |i: usize| f64_column(path, col(i), &names[i]);
    let (open, high, low, close) =
        (price(map.open)?, price(map.high)?, price(map.low)?, price(map.close)?);
    let volume = map.volume.map(price).transpose()?;
    let ts = time_column(path, col(map.ts), &names[map.ts])?;
    let volume = volume.unwrap_or_else(|| vec![0.0; ts.len()]);
    let file_names = file_names(&names, &map);
    finish(path, Raw { ts, open, high, low, close, volume }, names, &map, &file_names)
}

fn missing(path: &Path, column: &str, index: usize) -> DataError {
    DataError::MissingValue {
        path: path.to_path_buf(),
        row: Row::Record(index + 1),
        column: column.to_string(),
    }
}

pub(crate) fn values<T: PolarsNumericType>(ca: &ChunkedArray<T>) -> Vec<T::Native> {
    let mut out = Vec::with_capacity(ca.len());
    for arr in ca.downcast_iter() {
        out.extend_from_slice(arr.values());
    }
    out
}

fn f64_column(path: &Path, s: &Series, name: &str) -> Result<Vec<f64>, DataError> {
    if !s.dtype().is_primitive_numeric() {
        return Err(DataError::UnsupportedType {
            path: path.to_path_buf(),
            column: name.to_string(),
            dtype: s.dtype().to_string(),
            expected: PRICE_TYPES,
        });
    }
    let s = s.cast(&DataType::Float64).map_err(parquet_err(path))?;
    let ca = s.f64().map_err(parquet_err(path))?;
    if let Some(i) = ca.first_null() {
        return Err(missing(path, name, i));
    }
    Ok(values(ca))
}

/// A timestamp outside i64 nanoseconds, at 0-based record `i`.
fn overflow(path: &Path, name: &str, i: usize, value: String) -> DataError {
    DataError::BadTimestamp {
        path: path.to_path_buf(),
        row: Row::Record(i + 1),
        column: name.to_string(),
        value,
        expected: "a timestamp within 64-bit nanoseconds (years 1677..2262)",
    }
}

/// Stored date/time units to nanoseconds (`factor` nanoseconds per unit).
fn scale(path: &Path, name: &str, mut v: Vec<i64>, factor: i64) -> Result<Vec<i64>, DataError> {
    if factor != 1 {
        for (i, x) in v.iter_mut().enumerate() {
            *x = x.checked_mul(factor).ok_or_else(|| overflow(path, name, i, x.to_string()))?;
        }
    }
    Ok(v)
}

/// Integer Unix epochs to nanoseconds, the unit chosen by magnitude.
fn epoch_nanos(path: &Path, name: &str, mut v: Vec<i64>) -> Result<Vec<i64>, DataError> {
    parse::epoch_to_nanos(&mut v).map_err(|i| overflow(path, name, i, v[i].to_string()))?;
    Ok(v)
}

fn time_column(path: &Path, s: &Series, name: &str) -> Result<Vec<i64>, DataError> {
    let physical = || -> Result<Vec<i64>, DataError> {
        let p = s.to_physical_repr().cast(&DataType::Int64).map_err(parquet_err(path))?;
        let ca: &Int64Chunked = p.i64().map_err(parquet_err(path))?;
        if let Some(i) = ca.first_null() {
            return Err(missing(path, name, i));
        }
        Ok(values(ca))
    };
    match s.dtype() {
        DataType::Datetime(unit, _) => {
            let factor = match unit {
                TimeUnit::Nanoseconds => 1,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Milliseconds => 1_000_000,
            };
            scale(path, name, physical()?, factor)
        }
        DataType::Date => scale(path, name, physical()?, NANOS_PER_DAY),
        dt if dt.is_integer() => epoch_nanos(path, name, physical()?),
        DataType::String => {
            let ca = s.str().map_err(parquet_err(path))?;
            let first = ca.first_non_null().and_then(|i| ca.get(i)).unwrap_or("");
            let kind = parse::classify(first);
            let mut out = Vec::with_capacity(ca.len());
            for (i, v) in ca.iter().enumerate() {
                let v = v.ok_or_else(|| missing(path, name, i))?;
                let t = match kind {
                    TextTime::Iso => parse::parse_iso_fast(v.trim_ascii()),
                    TextTime::Epoch => parse::parse_epoch_int(v),
                };
                out.push(t.ok_or_else(|| DataError::BadTimestamp {
                    path: path.to_path_buf(),
                    row: Row::Record(i + 1),
                    column: name.to_string(),
                    value: v.to_string(),
                    expected: parse::expected(kind),
                })?);
            }
            if kind == TextTime::Epoch {
                parse::epoch_to_nanos(&mut out)
                    .map_err(|i| overflow(path, name, i, ca.get(i).unwrap_or("").to_string()))?;
            }
            Ok(out)
        }
        // Dictionary-encoded text (pandas categoricals, pyarrow's `dictionary_encode`): read the
        // values as text.
        DataType::Categorical(..) | DataType::Enum(..) => {
            let text = s.cast(&DataType::String).map_err(parquet_err(path))?;
            time_column(path, &text, name)
        }
        other => Err(DataError::UnsupportedType {
            path: path.to_path_buf(),
            column: name.to_string(),
            dtype: other.to_string(),
            expected: TIME_TYPES,
        }),
    }
}

/// Writes bars as Parquet: `timestamp` (Datetime ns, no time zone, UTC instants), then `open`,
/// `high`, `low`, `close`, `volume` (f64).
pub(crate) fn write_bars(bars: &Bars, w: &mut dyn Write, path: &Path) -> Result<(), DataError> {
    let n = bars.len();
    let ts = Int64Chunked::from_vec("timestamp".into(), bars.timestamps().to_vec())
        .into_datetime(TimeUnit::Nanoseconds, None);
    let f = |name: &str, v: &[f64]| Column::new(name.into(), v);
    let mut df = DataFrame::new(
        n,
        vec![
            Column::from(ts.into_series()),
            f("open", bars.open()),
            f("high", bars.high()),
            f("low", bars.low()),
            f("close", bars.close()),
            f("volume", bars.volume()),
        ],
    )
    .map_err(write_err(path))?;
    writer(w).finish(&mut df).map_err(write_err(path))?;
    Ok(())
}

/// A writer with LZ4 (LZ4_RAW) compression, chosen for bt's own load time. Measured with the
/// direct reader on 1M one-minute bars (`examples/load_timing.rs`, medians, one run, contended
/// machine), full-precision / rounded to 4 decimals: LZ4 45 / 32 MB, 33 / 42 ms to load;
/// Snappy (pyarrow's default, the previous choice) 44 / 33 MB, 40 / 58 ms; zstd (polars'
/// default) 38 / 22 MB, 71 / 73 ms; uncompressed 48 / 48 MB, 27 / 31 ms. Again with today's
/// reader (docs/performance.md): LZ4 16.9 / 21.6 ms, uncompressed 18.0 / 16.0 ms. Readers of
/// LZ4_RAW: polars, pyarrow (Arrow C++), DuckDB, parquet-mr from 1.13.
fn writer(w: &mut dyn Write) -> ParquetWriter<&mut dyn Write> {
    ParquetWriter::new(w).with_compression(ParquetCompression::Lz4Raw)
}
