//! CSV reading and writing.
//!
//! Reading: polars' CSV reader splits the file (quotes, line endings, BOM, parallel chunks) with
//! every column read as text; this module then parses the five or six columns it needs itself.
//! That keeps exact record numbers for errors, and parsing `YYYY-MM-DD[ HH:MM:SS]` by hand is
//! several times faster than polars' date inference (DEPS.md: `try_parse_dates` costs ~1.2 s
//! per million rows).
//!
//! Row numbers: polars skips blank lines before the header and turns a blank line after it into
//! an all-null record, so record `i` (0-based) is normally on line `i + 2`. Quoted fields may
//! span lines, so on the error path [`line_of_record`] recounts from the bytes.

use std::{io::Write, path::Path};

use bt_domain::time::format_iso;
use polars::prelude::{
    CsvEncoding, CsvReadOptions, DataFrame, PolarsError, SerReader, StringChunked,
};

use crate::{
    Format, Loaded,
    error::{DataError, Row},
    parse::{self, TextTime},
    validate::{self, Raw, RowMap},
};

/// How many leading bytes decide whether a file is text.
const SNIFF_LEN: usize = 8192;

/// Reads CSV `bytes` (the whole file) loaded from `path`.
pub(crate) fn read(path: &Path, bytes: &[u8]) -> Result<Loaded, DataError> {
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(DataError::Empty { path: path.to_path_buf() });
    }
    check_text(path, body)?;
    let sep = sniff_separator(body);
    let t0 = std::time::Instant::now();
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0)) // every column as text: we parse ourselves
        .with_raise_if_empty(false)
        .map_parse_options(|o| o.with_separator(sep).with_encoding(CsvEncoding::LossyUtf8))
        .into_reader_with_file_handle(std::io::Cursor::new(body))
        .finish()
        .map_err(|e| reader_error(path, body, sep, e))?;
    eprintln!("polars read {:?}", t0.elapsed());
    let t0 = std::time::Instant::now();
    let r = from_frame(path, body, &df);
    eprintln!("from_frame {:?}", t0.elapsed());
    r
}

fn from_frame(path: &Path, body: &[u8], df: &DataFrame) -> Result<Loaded, DataError> {
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
    let t0 = std::time::Instant::now();
    let open = f64_col(open, map.open);
    eprintln!("open {:?}", t0.elapsed());
    let high = f64_col(high, map.high);
    let low = f64_col(low, map.low);
    let close = f64_col(close, map.close);
    let volume = volume.zip(map.volume).map(|(ca, column)| f64_col(ca, column));
    let ts = parse_time_column(ts, keep).unwrap_or_else(|(rec, fail)| {
        fails.push((rec, fail, map.ts));
        Vec::new()
    });
    eprintln!("all parsed {:?}", t0.elapsed());
    if let Some(&(rec, fail, column)) = fails.iter().min_by_key(|(rec, _, column)| (*rec, *column))
    {
        let value = df.columns()[column].str().ok().and_then(|ca| ca.get(rec)).unwrap_or("");
        return Err(rows.error(path, rec, &names[column], value, fail));
    }
    let n = ts.len();
    let has_volume = volume.is_some();
    let volume = volume.unwrap_or_else(|| vec![0.0; n]);

    let records: Option<Vec<usize>> =
        keep.map(|k| k.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i).collect());
    let row_of_bar = |bar: usize| {
        let rec = records.as_ref().map_or(bar, |r| r[bar]);
        rows.row(rec)
    };
    let names6 = validate::Names {
        ts: names[map.ts].clone(),
        open: names[map.open].clone(),
        high: names[map.high].clone(),
        low: names[map.low].clone(),
        close: names[map.close].clone(),
        volume: map.volume.map_or_else(|| "volume".to_string(), |i| names[i].clone()),
    };
    let bars = validate::build(
        path,
        Raw { ts, open, high, low, close, volume },
        &names6,
        &RowMap(&row_of_bar),
    )?;
    Ok(Loaded {
        bars,
        format: Format::Csv,
        timestamp_column: names[map.ts].clone(),
        columns: names,
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
struct CsvRows<'a> {
    body: &'a [u8],
}

impl CsvRows<'_> {
    fn row(&self, rec: usize) -> Row {
        Row::Line(line_of_record(self.body, rec))
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
fn check_text(path: &Path, body: &[u8]) -> Result<(), DataError> {
    let head = &body[..body.len().min(SNIFF_LEN)];
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
mod tests {
    use super::*;

    #[test]
    fn line_numbers_follow_the_editor() {
        let body = b"a,b\n1,2\n3,4\n";
        assert_eq!(line_of_record(body, 0), 2);
        assert_eq!(line_of_record(body, 1), 3);
        // Blank lines before the header are skipped by polars but still count as lines.
        assert_eq!(line_of_record(b"\n\r\na,b\n1,2\n", 0), 4);
        // A quoted newline does not end a record.
        assert_eq!(line_of_record(b"a,b\n\"x\ny\",2\n3,4\n", 1), 4);
    }

    #[test]
    fn separator_is_sniffed_from_the_header() {
        assert_eq!(sniff_separator(b"Date,Open,High\n"), b',');
        assert_eq!(sniff_separator(b"Date;Open;High\n1,5;2;3"), b';');
        assert_eq!(sniff_separator(b"Date\tOpen\tHigh\n"), b'\t');
        assert_eq!(sniff_separator(b"\"a;b\",c\n"), b',');
        assert_eq!(sniff_separator(b"Date\n"), b',');
    }

    #[test]
    fn long_records_are_found() {
        assert_eq!(find_long_record(b"a,b\n1,2\n1,2,3\n", b','), Some((1, 2, 3)));
        assert_eq!(find_long_record(b"a,b\n1,2\n1,\"2,3\"\n", b','), None);
        assert_eq!(find_long_record(b"a,b\n1,2,3", b','), Some((0, 2, 3)));
    }

    #[test]
    fn binary_content_is_not_text() {
        let p = Path::new("x.csv");
        assert!(check_text(p, b"Date,Open\n1,2\n").is_ok());
        assert!(check_text(p, b"Date,Op\xe9n\n1,2\n").is_ok(), "latin-1 text is still text");
        assert!(matches!(
            check_text(p, b"\x89PNG\r\n\x1a\n\0\0"),
            Err(DataError::NotTabular { .. })
        ));
        assert!(matches!(check_text(p, b"PAR1...."), Err(DataError::NotTabular { .. })));
    }
}
