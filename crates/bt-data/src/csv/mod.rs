//! CSV reading and writing.
//!
//! Reading uses polars' CSV reader for the splitting (quotes, CRLF, BOM, parallel chunks, a
//! memory-mapped file) and parses timestamps here: `YYYY-MM-DD[ HH:MM:SS]` by hand is several
//! times faster than polars' date inference (DEPS.md: `try_parse_dates` costs ~1.2 s per
//! million rows). Two paths:
//!
//! - fast: polars parses the price columns as f64 (fast-float2, correctly rounded, so the same
//!   bits as `str::parse` and Python's `float()`), the timestamp column stays text;
//! - precise: taken when the fast path fails (a number polars rejects, a missing value, a bad
//!   timestamp, an unusual header). Every column is read as text and parsed here, which finds
//!   the first bad value with its exact row and column, skips blank lines like pandas, and
//!   accepts what Python's `float()` accepts and polars does not (numbers padded with spaces).
//!
//! Row numbers: polars skips blank lines before the header and turns a blank line after it into
//! an all-null record, so record `i` (0-based) is normally on line `i + 2`. Quoted fields may
//! span lines, so errors recount lines from the bytes ([`line_of_record`]).

use std::{cell::OnceCell, io::Write, path::Path, sync::Arc};

use bt_domain::time::format_iso;
use polars::prelude::{
    CsvEncoding, CsvReadOptions, DataFrame, DataType, PolarsError, PolarsResult, SerReader,
    StringChunked,
};

use crate::{
    Format, Loaded, SNIFF_LEN,
    error::{DataError, Row},
    parse::{self, ColumnMap, TextTime},
    validate::{self, Raw, RowMap},
};

/// Reads the CSV file at `path`, whose first bytes are `head` and length `len`.
pub(crate) fn read(path: &Path, head: &[u8], len: u64) -> Result<Loaded, DataError> {
    let head = head.strip_prefix(BOM).unwrap_or(head);
    let whole_file_in_head = len <= SNIFF_LEN as u64;
    if whole_file_in_head && head.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    check_text(path, head)?;
    let sep = sniff_separator(head);
    let options = || {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0)) // text unless told otherwise
            .with_raise_if_empty(false)
            .map_parse_options(|o| o.with_separator(sep).with_encoding(CsvEncoding::LossyUtf8))
    };
    // Polars maps the file itself; our copy of the bytes is read only if an error needs it.
    let finish = |o: CsvReadOptions| o.try_into_reader_with_file_path(Some(path.into()))?.finish();
    let body = Body::lazy(path);
    // The header is split here rather than by a polars pass (which costs a scan of the file);
    // if anything about it is unusual, the precise path decides.
    let names = header_names(head, sep);
    if let Ok(map) = parse::resolve_columns(&names, &[])
        && let Some(loaded) = read_typed(path, &body, &names, &map, options(), finish)?
    {
        return Ok(loaded);
    }
    tracing::debug!(path = %path.display(), "csv: precise path");
    let df = finish(options()).map_err(|e| reader_error(path, body.get(), sep, e))?;
    from_frame(path, &body, &df)
}

/// A UTF-8 byte order mark (polars skips it too).
const BOM: &[u8] = b"\xef\xbb\xbf";

/// The file's bytes, read on first use: the fast path never needs them, errors do (to count
/// lines exactly, quotes included).
pub(crate) struct Body<'a> {
    path: &'a Path,
    bytes: OnceCell<Vec<u8>>,
}

impl<'a> Body<'a> {
    fn lazy(path: &'a Path) -> Self {
        Body { path, bytes: OnceCell::new() }
    }

    /// The bytes without BOM; empty if the file cannot be read again (it was read moments
    /// ago, so rows are then only approximate).
    fn get(&self) -> &[u8] {
        let b = self.bytes.get_or_init(|| std::fs::read(self.path).unwrap_or_default());
        b.strip_prefix(BOM).unwrap_or(b)
    }
}

/// The fast path: `Ok(None)` sends the file to the precise path (a number polars rejects, a
/// missing value, a bad timestamp); `Err` is a validation error, already exact.
fn read_typed(
    path: &Path,
    body: &Body<'_>,
    names: &[String],
    map: &ColumnMap,
    options: CsvReadOptions,
    finish: impl Fn(CsvReadOptions) -> PolarsResult<DataFrame>,
) -> Result<Option<Loaded>, DataError> {
    let prices: Vec<usize> =
        [map.open, map.high, map.low, map.close].into_iter().chain(map.volume).collect();
    let dtypes: Vec<DataType> = (0..names.len())
        .map(|i| if prices.contains(&i) { DataType::Float64 } else { DataType::String })
        .collect();
    let mut used: Vec<usize> = prices.iter().copied().chain([map.ts]).collect();
    used.sort_unstable();
    let options = options
        .with_dtype_overwrite(Some(Arc::new(dtypes)))
        .with_projection(Some(Arc::new(used.clone())));
    let Ok(df) = finish(options) else { return Ok(None) };
    // Projected columns come back in file order: find each by its rank in `used`.
    let column = |i: usize| used.iter().position(|&u| u == i).and_then(|k| df.columns().get(k));
    let f64s = |i: usize| -> Option<Vec<f64>> {
        let ca = column(i)?.f64().ok()?;
        (ca.null_count() == 0).then(|| crate::parquet::values(ca))
    };
    let (Some(open), Some(high), Some(low), Some(close)) =
        (f64s(map.open), f64s(map.high), f64s(map.low), f64s(map.close))
    else {
        return Ok(None);
    };
    let volume = match map.volume {
        Some(i) => match f64s(i) {
            Some(v) => Some(v),
            None => return Ok(None),
        },
        None => None,
    };
    let Some(ts_text) = column(map.ts).and_then(|c| c.str().ok()) else {
        return Ok(None);
    };
    if ts_text.null_count() > 0 {
        return Ok(None);
    }
    let Ok(ts) = parse_time_column(ts_text, None) else { return Ok(None) };
    finish_bars(
        path,
        body,
        names,
        map,
        None,
        Raw { volume: volume.unwrap_or_default(), ts, open, high, low, close },
        map.volume.is_some(),
    )
    .map(Some)
}

/// The precise path: every column of `df` is text.
fn from_frame(path: &Path, body: &Body<'_>, df: &DataFrame) -> Result<Loaded, DataError> {
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    let map = parse::resolve_columns(&names, &[]).map_err(|(column, found)| {
        DataError::MissingColumn { path: path.to_path_buf(), column, found }
    })?;
    let text = |i: usize| -> Result<&StringChunked, DataError> {
        df.columns()[i]
            .str()
            .map_err(|e| DataError::Csv { path: path.to_path_buf(), message: e.to_string() })
    };
    let (ts, open, high, low, close) =
        (text(map.ts)?, text(map.open)?, text(map.high)?, text(map.low)?, text(map.close)?);
    let volume = map.volume.map(text).transpose()?;

    // Blank lines come back as all-null records; skip them like pandas does. Only computed
    // when a column has a null at all (never on clean files).
    let used = [ts, open, high, low, close];
    let keep: Option<Vec<bool>> = used.iter().any(|c| c.null_count() > 0).then(|| {
        let mut keep = vec![true; df.height()];
        let mut iters: Vec<_> = used.iter().map(|c| c.iter()).collect();
        for k in keep.iter_mut() {
            let vals: Vec<Option<&str>> = iters.iter_mut().map(|it| it.next().flatten()).collect();
            let blank = vals[0].is_none_or(|t| t.trim().is_empty())
                && vals[1..].iter().all(Option::is_none);
            *k = !blank;
        }
        keep
    });
    let keep = keep.as_deref();

    let rows = CsvRows { body };
    // Parse every column before reporting, so the error shown is the earliest in the file.
    let mut fails: Vec<(usize, Fail, usize)> = Vec::new();
    let mut f64_col = |ca: &StringChunked, column: usize| {
        parse_f64_column(ca, keep).unwrap_or_else(|(rec, fail)| {
            fails.push((rec, fail, column));
            Vec::new()
        })
    };
    let open = f64_col(open, map.open);
    let high = f64_col(high, map.high);
    let low = f64_col(low, map.low);
    let close = f64_col(close, map.close);
    let volume = volume.zip(map.volume).map(|(ca, column)| f64_col(ca, column));
    let ts = parse_time_column(ts, keep).unwrap_or_else(|(rec, fail)| {
        fails.push((rec, fail, map.ts));
        Vec::new()
    });
    if let Some(&(rec, fail, column)) = fails.iter().min_by_key(|(rec, _, column)| (*rec, *column))
    {
        let value = df.columns()[column].str().ok().and_then(|ca| ca.get(rec)).unwrap_or("");
        return Err(rows.error(path, rec, &names[column], value, fail));
    }
    let has_volume = volume.is_some();
    let records: Option<Vec<usize>> =
        keep.map(|k| k.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect());
    let raw = Raw { volume: volume.unwrap_or_default(), ts, open, high, low, close };
    finish_bars(path, body, &names, &map, records.as_deref(), raw, has_volume)
}

/// Validates the parsed columns. `records[bar]` is the record of each bar when blank lines
/// were skipped (identity otherwise); an empty `raw.volume` means the file has none.
fn finish_bars(
    path: &Path,
    body: &Body<'_>,
    names: &[String],
    map: &ColumnMap,
    records: Option<&[usize]>,
    mut raw: Raw,
    has_volume: bool,
) -> Result<Loaded, DataError> {
    if !has_volume {
        raw.volume = vec![0.0; raw.ts.len()];
    }
    let row_of_bar =
        |bar: usize| Row::Line(line_of_record(body.get(), records.map_or(bar, |r| r[bar])));
    let name = |i: usize| names[i].clone();
    let file_names = validate::Names {
        ts: name(map.ts),
        open: name(map.open),
        high: name(map.high),
        low: name(map.low),
        close: name(map.close),
        volume: map.volume.map_or_else(|| "volume".to_string(), name),
    };
    let bars = validate::build(path, raw, &file_names, &RowMap(&row_of_bar))?;
    Ok(Loaded {
        bars,
        format: Format::Csv,
        timestamp_column: name(map.ts),
        columns: names.to_vec(),
        has_volume,
    })
}

/// Why a value failed to parse (the record and column are added by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    Missing,
    Number,
    Time(TextTime),
    TimeOverflow,
}

/// Turns a record index into a row, recounting from the bytes only when asked (errors).
struct CsvRows<'a, 'b> {
    body: &'a Body<'b>,
}

impl CsvRows<'_, '_> {
    fn row(&self, rec: usize) -> Row {
        Row::Line(line_of_record(self.body.get(), rec))
    }

    fn error(&self, path: &Path, rec: usize, column: &str, value: &str, fail: Fail) -> DataError {
        let path = path.to_path_buf();
        let row = self.row(rec);
        let column = column.to_string();
        let value = value.to_string();
        match fail {
            Fail::Missing => DataError::MissingValue { path, row, column },
            _ if value.contains('\u{FFFD}') => DataError::InvalidUtf8 { path, row, value, column },
            Fail::Number => DataError::BadNumber { path, row, value, column },
            Fail::Time(kind) => DataError::BadTimestamp {
                path,
                row,
                value,
                column,
                expected: parse::expected(kind),
            },
            Fail::TimeOverflow => DataError::BadTimestamp {
                path,
                row,
                value,
                column,
                expected: "a Unix epoch that fits in 64-bit nanoseconds (years 1677..2262)",
            },
        }
    }
}

fn parse_f64_column(col: &StringChunked, keep: Option<&[bool]>) -> Result<Vec<f64>, (usize, Fail)> {
    let mut out = Vec::with_capacity(col.len());
    for (rec, v) in col.iter().enumerate() {
        if keep.is_some_and(|k| !k[rec]) {
            continue;
        }
        let v = v.ok_or((rec, Fail::Missing))?;
        out.push(parse::parse_f64(v).ok_or((rec, Fail::Number))?);
    }
    Ok(out)
}

fn parse_time_column(
    col: &StringChunked,
    keep: Option<&[bool]>,
) -> Result<Vec<i64>, (usize, Fail)> {
    let kept = |rec: &usize| keep.is_none_or(|k| k[*rec]);
    let first = col.iter().enumerate().filter(|(rec, _)| kept(rec)).find_map(|(_, v)| v);
    let kind = parse::classify(first.unwrap_or(""));
    let mut out = Vec::with_capacity(col.len());
    let mut recs_kept = Vec::new();
    for (rec, v) in col.iter().enumerate() {
        if !kept(&rec) {
            continue;
        }
        let v = v.ok_or((rec, Fail::Missing))?;
        let t = match kind {
            TextTime::Iso => parse::parse_iso_fast(v.trim_ascii()),
            TextTime::Epoch => parse::parse_epoch_int(v),
        };
        out.push(t.ok_or((rec, Fail::Time(kind)))?);
        if keep.is_some() {
            recs_kept.push(rec);
        }
    }
    if kind == TextTime::Epoch {
        parse::epoch_to_nanos(&mut out).map_err(|i| {
            let rec = if keep.is_some() { recs_kept[i] } else { i };
            (rec, Fail::TimeOverflow)
        })?;
    }
    Ok(out)
}

/// Rejects content that is clearly not text: NUL bytes or many control characters in the
/// first [`SNIFF_LEN`] bytes. Latin-1 or other non-UTF-8 text passes (and is caught per value).
fn check_text(path: &Path, head: &[u8]) -> Result<(), DataError> {
    let not_tabular = |reason: &str| {
        Err(DataError::NotTabular { path: path.to_path_buf(), reason: reason.to_string() })
    };
    if head.starts_with(b"PAR1") {
        return not_tabular("it is a Parquet file with a CSV name: rename it to .parquet");
    }
    let control =
        head.iter().filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f);
    if head.contains(&0) || control.count() * 20 > head.len() {
        return not_tabular("binary data: control bytes in the first 8 KiB");
    }
    Ok(())
}

/// The header's field names: the first non-blank line split at `sep` outside quotes, quotes
/// removed and `""` unescaped, as polars reads it.
fn header_names(body: &[u8], sep: u8) -> Vec<String> {
    let start = body.iter().position(|b| !matches!(b, b'\n' | b'\r')).unwrap_or(0);
    let mut names = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    let mut bytes = body[start..].iter().peekable();
    while let Some(&b) = bytes.next() {
        match b {
            b'"' if quoted && bytes.peek() == Some(&&b'"') => {
                cur.push(b'"');
                bytes.next();
            }
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b'\r' if !quoted && matches!(bytes.peek(), None | Some(b'\n')) => {}
            x if x == sep && !quoted => names.push(std::mem::take(&mut cur)),
            x => cur.push(x),
        }
    }
    names.push(cur);
    names.into_iter().map(|n| String::from_utf8_lossy(&n).into_owned()).collect()
}

/// Picks `,`, `;` or tab, whichever occurs most in the header line outside quotes (`,` on ties).
fn sniff_separator(body: &[u8]) -> u8 {
    let start = body.iter().position(|b| !matches!(b, b'\n' | b'\r')).unwrap_or(0);
    let line = body[start..].split(|&b| b == b'\n').next().unwrap_or(&[]);
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let seps = [b',', b';', b'\t'];
    let best = (0..3).rev().max_by_key(|&i| (counts[i], i == 0)).unwrap_or(0);
    if counts[best] == 0 { b',' } else { seps[best] }
}

/// The 1-based line on which data record `rec` (0-based, header excluded) starts, counting
/// like polars: blank lines before the header are skipped, newlines inside quotes do not end a
/// record, every other newline does (so a blank line after the header is a record).
pub(crate) fn line_of_record(body: &[u8], rec: usize) -> usize {
    let mut line = 1;
    let mut i = 0;
    while i < body.len() && matches!(body[i], b'\n' | b'\r') {
        line += usize::from(body[i] == b'\n');
        i += 1;
    }
    let mut to_skip = rec + 1; // the header, then `rec` records
    let mut quoted = false;
    while to_skip > 0 && i < body.len() {
        match body[i] {
            b'"' => quoted = !quoted,
            b'\n' => {
                line += 1;
                if !quoted {
                    to_skip -= 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    line
}

/// Maps a reader failure to the most precise error: a line with too many fields is found by
/// recounting fields per record, anything else keeps polars' message.
fn reader_error(path: &Path, body: &[u8], sep: u8, e: PolarsError) -> DataError {
    if let Some((rec, expected, found)) = find_long_record(body, sep) {
        return DataError::TooManyFields {
            path: path.to_path_buf(),
            row: Row::Line(line_of_record(body, rec)),
            expected,
            found,
        };
    }
    DataError::Csv { path: path.to_path_buf(), message: e.to_string().replace('\n', " ") }
}

/// The first data record with more fields than the header: (record, header fields, fields).
fn find_long_record(body: &[u8], sep: u8) -> Option<(usize, usize, usize)> {
    let start = body.iter().position(|b| !matches!(b, b'\n' | b'\r')).unwrap_or(0);
    let mut fields = 1;
    let mut header = None;
    let mut rec = 0;
    let mut quoted = false;
    let mut line_has_content = false;
    for &b in &body[start..] {
        match b {
            b'"' => quoted = !quoted,
            x if x == sep && !quoted => fields += 1,
            b'\n' if !quoted => {
                match header {
                    None => header = Some(fields),
                    Some(h) => {
                        if fields > h {
                            return Some((rec, h, fields));
                        }
                        rec += 1;
                    }
                }
                fields = 1;
                line_has_content = false;
                continue;
            }
            _ => {}
        }
        line_has_content = true;
    }
    match header {
        Some(h) if line_has_content && fields > h => Some((rec, h, fields)),
        _ => None,
    }
}

/// Writes bars as CSV: header `timestamp,open,high,low,close,volume`, ISO timestamps (UTC, no
/// offset), floats in Rust's shortest round-trip form, so [`crate::load`] reads back the same
/// bits.
pub(crate) fn write(bars: &bt_domain::Bars, w: &mut dyn Write) -> std::io::Result<()> {
    writeln!(w, "timestamp,open,high,low,close,volume")?;
    let (o, h, l, c, v) = (bars.open(), bars.high(), bars.low(), bars.close(), bars.volume());
    for (i, &ts) in bars.timestamps().iter().enumerate() {
        writeln!(w, "{},{},{},{},{},{}", format_iso(ts), o[i], h[i], l[i], c[i], v[i])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
