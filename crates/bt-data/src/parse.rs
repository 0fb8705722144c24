//! Text parsing shared by the CSV and Parquet readers: column names, timestamps, numbers.
//!
//! Numbers go through `str::parse::<f64>`, which is correctly rounded, so a value reads to the
//! same f64 as Python's `float()` (and pandas' default "high" float precision reader on the
//! same text).

use bt_domain::time::{NANOS_PER_DAY, NANOS_PER_SEC, days_from_civil, days_in_month, parse_iso};

/// The columns the loader uses, as indices into the file's columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ColumnMap {
    pub ts: usize,
    pub open: usize,
    pub high: usize,
    pub low: usize,
    pub close: usize,
    pub volume: Option<usize>,
}

/// Header names that mark the timestamp column (compared case-insensitively).
/// `__index_level_0__` is what pandas calls an unnamed index in Parquet.
const TIME_NAMES: [&str; 5] = ["date", "datetime", "time", "timestamp", "__index_level_0__"];

fn find(names: &[String], wanted: &str) -> Option<usize> {
    names.iter().position(|n| n.trim().eq_ignore_ascii_case(wanted))
}

/// Resolves the columns by name. `is_temporal[i]` says whether column `i` has a date/time type
/// (Parquet); the timestamp column is, in order of preference: the first column named one of
/// [`TIME_NAMES`], the first temporal column, the first column (unless it is a price column).
pub(crate) fn resolve_columns(
    names: &[String],
    is_temporal: &[bool],
) -> Result<ColumnMap, (&'static str, Vec<String>)> {
    let missing = |c: &'static str| (c, names.to_vec());
    let open = find(names, "open").ok_or_else(|| missing("open"))?;
    let high = find(names, "high").ok_or_else(|| missing("high"))?;
    let low = find(names, "low").ok_or_else(|| missing("low"))?;
    let close = find(names, "close").ok_or_else(|| missing("close"))?;
    let volume = find(names, "volume");
    let by_name = names.iter().position(|n| {
        let n = n.trim();
        TIME_NAMES.iter().any(|t| n.eq_ignore_ascii_case(t))
    });
    let by_type = || is_temporal.iter().position(|&t| t);
    let first = || {
        let used = [Some(open), Some(high), Some(low), Some(close), volume];
        (!names.is_empty() && !used.contains(&Some(0))).then_some(0)
    };
    let ts = by_name.or_else(by_type).or_else(first).ok_or_else(|| {
        missing("timestamp (a first column, or one named date, datetime, time or timestamp)")
    })?;
    Ok(ColumnMap { ts, open, high, low, close, volume })
}

/// How a text timestamp column is written; decided from its first value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextTime {
    /// ISO 8601 dates or date-times.
    Iso,
    /// Integer Unix epoch; the unit is decided afterwards by [`epoch_to_nanos`].
    Epoch,
}

/// What a valid value of a [`TextTime`] column looks like (for error messages).
pub(crate) fn expected(kind: TextTime) -> &'static str {
    match kind {
        TextTime::Iso => {
            "an ISO date or date-time like the first row (2024-01-02, 2024-01-02 09:30:00, 2024-01-02T09:30:00.5+01:00), between 1677-09-22 and 2262-04-11 (nanosecond timestamps)"
        }
        TextTime::Epoch => {
            "an integer like the first row: a Unix epoch (seconds, milliseconds, microseconds or nanoseconds) or a compact date YYYYMMDD"
        }
    }
}

/// Classifies a timestamp column by its first value: all digits (optionally signed) means Unix
/// epoch, anything else ISO.
pub(crate) fn classify(first: &str) -> TextTime {
    let s = first.trim();
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        TextTime::Epoch
    } else {
        TextTime::Iso
    }
}

/// Parses an integer epoch value (unit not yet applied).
pub(crate) fn parse_epoch_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The unit of an integer epoch column, decided once per column from the largest absolute
/// value `m`:
///
/// | largest \|value\| | unit | why |
/// |---|---|---|
/// | < 10^11 | seconds | 10^11 s is the year 5138 |
/// | < 10^14 | milliseconds | 10^11 ms is 1973-03-03, 10^14 ms the year 5138 |
/// | < 10^17 | microseconds | |
/// | otherwise | nanoseconds | |
///
/// A millisecond series that never leaves 1970-01-01 .. 1973-03-03 is therefore read as seconds;
/// real market data does not live there.
pub(crate) fn epoch_factor(max_abs: u64) -> i64 {
    if max_abs < 100_000_000_000 {
        NANOS_PER_SEC
    } else if max_abs < 100_000_000_000_000 {
        1_000_000
    } else if max_abs < 100_000_000_000_000_000 {
        1_000
    } else {
        1
    }
}

/// Scales raw epoch integers to nanoseconds in place (see [`epoch_factor`]); returns the index
/// of the first value that overflows i64 nanoseconds, if any.
///
/// A column whose every value is a valid compact date `YYYYMMDD` between 1900-01-01 and
/// 2262-04-11 (`20240102`) is read as those dates at midnight UTC instead: as epoch seconds it
/// would all lie within 1970-08-09 .. 1970-09-18, where no market data lives.
pub(crate) fn epoch_to_nanos(values: &mut [i64]) -> Result<(), usize> {
    if !values.is_empty() && values.iter().all(|&v| compact_date_days(v).is_some()) {
        for v in values.iter_mut() {
            // Every value was checked above; the days of 1900..2262 fit in nanoseconds.
            *v = compact_date_days(*v).map_or(0, |d| d * NANOS_PER_DAY);
        }
        return Ok(());
    }
    let max_abs = values.iter().map(|v| v.unsigned_abs()).max().unwrap_or(0);
    let factor = epoch_factor(max_abs);
    for (i, v) in values.iter_mut().enumerate() {
        *v = v.checked_mul(factor).ok_or(i)?;
    }
    Ok(())
}

/// The days since 1970-01-01 of a compact date `YYYYMMDD` (years 1900 ..= 2262-04-11), if `v`
/// is one.
fn compact_date_days(v: i64) -> Option<i64> {
    if !(19_000_101..=22_620_411).contains(&v) {
        return None;
    }
    let (y, m, d) = (v / 10_000, (v / 100 % 100) as u32, (v % 100) as u32);
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then(|| days_from_civil(y, m, d))
}

#[inline]
fn two(b: &[u8], i: usize) -> Option<u32> {
    let (h, l) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
    (h < 10 && l < 10).then_some(u32::from(h) * 10 + u32::from(l))
}

/// Parses an ISO timestamp to UTC nanoseconds.
///
/// Fast path for the two layouts that cover nearly all files, `YYYY-MM-DD` and
/// `YYYY-MM-DD HH:MM:SS` (or with `T`): a fixed-position digit check, about 10x faster than the
/// general parser. Everything else (fractions, offsets, `Z`, minutes only) goes to
/// [`bt_domain::time::parse_iso`]; both give the same result on the fast layouts.
#[inline]
pub(crate) fn parse_iso_fast(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if (b.len() == 10 || b.len() == 19) && b[4] == b'-' && b[7] == b'-' {
        let y = two(b, 0)? * 100 + two(b, 2)?;
        let (m, d) = (two(b, 5)?, two(b, 8)?);
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(i64::from(y), m) {
            return None;
        }
        // i64 nanoseconds span 1677-09-21 to 2262-04-11: other years overflow (fuzzing found
        // year 0004 wrapping around silently in release builds).
        let day_ns = days_from_civil(i64::from(y), m, d).checked_mul(NANOS_PER_DAY)?;
        if b.len() == 10 {
            return Some(day_ns);
        }
        if (b[10] == b' ' || b[10] == b'T') && b[13] == b':' && b[16] == b':' {
            let (hh, mm, ss) = (two(b, 11)?, two(b, 14)?, two(b, 17)?);
            if hh < 24 && mm < 60 && ss < 60 {
                let secs = i64::from(hh * 3600 + mm * 60 + ss);
                return day_ns.checked_add(secs * NANOS_PER_SEC);
            }
        }
    }
    parse_iso(s)
}

/// Parses a price or volume: surrounding ASCII whitespace is ignored (as Python's `float()`
/// does); the rest must be a decimal or scientific literal, `nan` or `inf`.
#[inline]
pub(crate) fn parse_f64(s: &str) -> Option<f64> {
    s.trim_ascii().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn resolves_backtesting_py_layout_with_unnamed_index() {
        let n = names(&["", "Open", "High", "Low", "Close", "Volume"]);
        let m = resolve_columns(&n, &[]).unwrap();
        assert_eq!(m, ColumnMap { ts: 0, open: 1, high: 2, low: 3, close: 4, volume: Some(5) });
    }

    #[test]
    fn named_time_column_wins_over_first_column_and_case_is_ignored() {
        let n = names(&["symbol", "CLOSE", "low", "HIGH", "Open", "DateTime"]);
        let m = resolve_columns(&n, &[]).unwrap();
        assert_eq!(m, ColumnMap { ts: 5, open: 4, high: 3, low: 2, close: 1, volume: None });
        let n = names(&["x", "open", "high", "low", "close", "ts"]);
        let m = resolve_columns(&n, &[false, false, false, false, false, true]).unwrap();
        assert_eq!(m.ts, 5, "a temporal column beats the first column");
    }

    #[test]
    fn missing_columns_are_named() {
        let n = names(&["date", "open", "high", "low"]);
        let (col, found) = resolve_columns(&n, &[]).unwrap_err();
        assert_eq!(col, "close");
        assert_eq!(found, n);
        let n = names(&["open", "high", "low", "close"]);
        let (col, _) = resolve_columns(&n, &[]).unwrap_err();
        assert!(col.starts_with("timestamp"));
    }

    #[test]
    fn fast_iso_path_agrees_with_the_general_parser() {
        for s in [
            "2004-08-19",
            "1900-01-01 00:00:00",
            "2024-02-29T23:59:59",
            "1969-12-31 23:59:59",
            "2000-03-01",
            "2100-02-28 12:00:00",
        ] {
            assert_eq!(parse_iso_fast(s), parse_iso(s), "{s}");
            assert!(parse_iso_fast(s).is_some(), "{s}");
        }
        for bad in ["2023-02-29", "2024-13-01", "2024-00-10", "2024-01-01 24:00:00", "2024-1-01"] {
            assert_eq!(parse_iso_fast(bad), None, "{bad}");
        }
        // Outside i64 nanoseconds (1677-09-21 .. 2262-04-11): None, as the general parser.
        for far in
            ["0004-08-19", "1677-09-20", "2262-04-12", "9999-12-31 23:59:59", "2262-04-11 23:59:59"]
        {
            assert_eq!(parse_iso_fast(far), None, "{far}");
            assert_eq!(parse_iso(far), None, "{far}");
        }
        // Layouts outside the fast path still parse.
        assert_eq!(
            parse_iso_fast("2024-01-02T09:30:00+01:00"),
            parse_iso_fast("2024-01-02 08:30:00")
        );
        assert_eq!(parse_iso_fast("2024-01-02T09:30:00Z"), parse_iso_fast("2024-01-02 09:30:00"));
    }

    #[test]
    fn compact_dates_are_dates_not_epoch_seconds() {
        let mut v = vec![20240102, 20240103, 19991231];
        epoch_to_nanos(&mut v).unwrap();
        assert_eq!(bt_domain::time::format_iso(v[0]), "2024-01-02T00:00:00");
        assert_eq!(bt_domain::time::format_iso(v[2]), "1999-12-31T00:00:00");
        // One value that is no date (month 13) and the column is epoch seconds again.
        let mut mixed = vec![20240102, 20241302];
        epoch_to_nanos(&mut mixed).unwrap();
        assert_eq!(mixed[0], 20240102 * NANOS_PER_SEC);
        // February 30th is no date either.
        let mut feb = vec![20240230];
        epoch_to_nanos(&mut feb).unwrap();
        assert_eq!(feb[0], 20240230 * NANOS_PER_SEC);
    }

    #[test]
    fn epoch_unit_by_magnitude() {
        let mut s = vec![1_092_873_600, 1_092_960_000]; // 2004-08-19, 2004-08-20 in seconds
        epoch_to_nanos(&mut s).unwrap();
        assert_eq!(s[0], parse_iso("2004-08-19").unwrap());
        let mut ms = vec![1_092_873_600_000, 1_092_960_000_000];
        epoch_to_nanos(&mut ms).unwrap();
        assert_eq!(ms, s);
        // Early milliseconds are decided by the column's largest value, not the first.
        let mut early = vec![0, 60_000, 200_000_000_000];
        epoch_to_nanos(&mut early).unwrap();
        assert_eq!(early[1], 60 * NANOS_PER_SEC);
        assert_eq!(classify("1092873600"), TextTime::Epoch);
        assert_eq!(classify("-5"), TextTime::Epoch);
        assert_eq!(classify("2004-08-19"), TextTime::Iso);
        assert_eq!(parse_epoch_int("12.5"), None);
        assert_eq!(parse_epoch_int("-"), None);
    }

    #[test]
    fn numbers_parse_like_python_float() {
        assert_eq!(parse_f64(" 100.34 "), Some(100.34));
        assert_eq!(parse_f64("1e3"), Some(1000.0));
        assert_eq!(parse_f64("-0.5"), Some(-0.5));
        // 0.1 + 0.2 style literal: correctly rounded, the nearest double.
        assert_eq!(parse_f64("0.30000000000000004"), Some(0.1 + 0.2));
        assert_eq!(parse_f64("9007199254740993"), Some(9007199254740992.0));
        assert!(parse_f64("nan").unwrap().is_nan());
        assert_eq!(parse_f64("inf"), Some(f64::INFINITY));
        for bad in ["", "1,5", "1.2.3", "abc", "1o"] {
            assert_eq!(parse_f64(bad), None, "{bad}");
        }
    }
}
