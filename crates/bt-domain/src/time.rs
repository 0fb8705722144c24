//! UTC calendar arithmetic on i64 nanosecond timestamps.
//!
//! Pure functions (Howard Hinnant's civil-date algorithms); no time zones, no wall clock.

/// Nanoseconds per second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Nanoseconds per day.
pub const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SEC;

/// Days since 1970-01-01 of the civil date `y-m-d` (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day number (days since 1970-01-01).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day number (days since 1970-01-01, floored) of a timestamp.
pub fn day_index(ts: i64) -> i64 {
    ts.div_euclid(NANOS_PER_DAY)
}

/// ISO weekday of a day number: Monday = 0 ... Sunday = 6.
pub fn weekday(day: i64) -> u32 {
    // 1970-01-01 was a Thursday (3).
    (day + 3).rem_euclid(7) as u32
}

/// Formats a timestamp as ISO 8601 without offset: `2004-08-19T00:00:00`, with a fractional
/// part only when there is one (`...T09:30:00.250`).
pub fn format_iso(ts: i64) -> String {
    let day = day_index(ts);
    let (y, m, d) = civil_from_days(day);
    let rem = ts - day * NANOS_PER_DAY;
    let secs = rem / NANOS_PER_SEC;
    let frac = rem % NANOS_PER_SEC;
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut s = format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}");
    if frac != 0 {
        let digits = format!("{frac:09}");
        s.push('.');
        s.push_str(digits.trim_end_matches('0'));
    }
    s
}

/// Formats a duration the way pandas prints a `Timedelta`: `3116 days 00:00:00`,
/// `0 days 01:30:00.500000`.
pub fn format_timedelta(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let day = NANOS_PER_DAY.unsigned_abs();
    let days = n / day;
    let rem = n % day;
    let secs = rem / 1_000_000_000;
    let frac = rem % 1_000_000_000;
    let mut s =
        format!("{sign}{days} days {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac != 0 {
        if frac.is_multiple_of(1000) {
            s.push_str(&format!(".{:06}", frac / 1000));
        } else {
            s.push_str(&format!(".{frac:09}"));
        }
    }
    s
}

/// Parses an ISO 8601 date or date-time into UTC nanoseconds.
///
/// Accepts `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff...]]` (a space may replace `T`), with an
/// optional `Z` or `+HH:MM`/`-HH:MM` offset (converted to UTC). Returns `None` otherwise.
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    // Every slice below is by byte position: a non-ASCII character could split one (fuzzing
    // found `2024-02-\u{FFFD}5` panicking), and no valid timestamp has one.
    if !s.is_ascii() {
        return None;
    }
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = digits(&s[0..4])?;
    let m: u32 = digits(&s[5..7])?;
    let d: u32 = digits(&s[8..10])?;
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut ts = days_from_civil(y, m, d).checked_mul(NANOS_PER_DAY)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(ts);
    }
    let rest = rest.strip_prefix('T').or_else(|| rest.strip_prefix(' '))?;
    // Split off the offset.
    let (clock, offset_ns) = if let Some(c) = rest.strip_suffix('Z') {
        (c, 0)
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (c, off) = rest.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (oh, om) = match off.len() {
            5 if off.as_bytes()[2] == b':' => {
                (digits::<i64>(&off[0..2])?, digits::<i64>(&off[3..5])?)
            }
            4 => (digits::<i64>(&off[0..2])?, digits::<i64>(&off[2..4])?),
            2 => (digits::<i64>(off)?, 0),
            _ => return None,
        };
        if oh > 23 || om > 59 {
            return None;
        }
        (c, sign * (oh * 3600 + om * 60) * NANOS_PER_SEC)
    } else {
        (rest, 0)
    };
    let cb = clock.as_bytes();
    if cb.len() < 5 || cb[2] != b':' {
        return None;
    }
    let hh: i64 = digits(&clock[0..2])?;
    let mm: i64 = digits(&clock[3..5])?;
    let mut ss = 0i64;
    let mut frac_ns = 0i64;
    if cb.len() > 5 {
        if cb[5] != b':' || cb.len() < 8 {
            return None;
        }
        ss = digits(&clock[6..8])?;
        if cb.len() > 8 {
            if cb[8] != b'.' || cb.len() == 9 || cb.len() > 18 {
                return None;
            }
            let f = &clock[9..];
            let v: i64 = digits(f)?;
            frac_ns = v * 10i64.pow(9 - f.len() as u32);
        }
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    ts = ts.checked_add((hh * 3600 + mm * 60 + ss) * NANOS_PER_SEC + frac_ns)?;
    ts.checked_sub(offset_ns)
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Number of days of month `m` (1-12) in year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips_over_four_centuries() {
        for day in (-200_000..200_000).step_by(17) {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(weekday(0), 3);
        assert_eq!(weekday(days_from_civil(2024, 1, 7)), 6); // a Sunday
    }

    #[test]
    fn iso_parse_and_format() {
        let t = parse_iso("2004-08-19").unwrap();
        assert_eq!(format_iso(t), "2004-08-19T00:00:00");
        assert_eq!(parse_iso("2024-01-02T09:30:00+01:00"), parse_iso("2024-01-02 08:30:00"));
        assert_eq!(parse_iso("2024-01-02T09:30:00Z"), parse_iso("2024-01-02T09:30"));
        assert_eq!(
            format_iso(parse_iso("2024-01-02T09:30:00.25").unwrap()),
            "2024-01-02T09:30:00.25"
        );
        for bad in
            ["2024-13-01", "2024-02-30", "20240101", "2024-01-01T25:00", "2024-01-01Tx", "abc"]
        {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
        assert_eq!(parse_iso("1969-12-31T23:59:59"), Some(-NANOS_PER_SEC));
    }

    /// Found by fuzzing the csv target: a multi-byte character where a digit or separator is
    /// expected made a byte-position slice panic.
    #[test]
    fn non_ascii_characters_are_rejected_not_sliced_through() {
        for bad in [
            "2024-02-\u{FFFD}5",
            "2024-02-05T0\u{e9}:00",
            "2024-02-05T09:00+0\u{e9}:00",
            "\u{e9}024-02-05",
            "2024-02-05T09:00:00.\u{e9}",
            "2024-02-05 09:30:0\u{1F600}",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn timedelta_like_pandas() {
        assert_eq!(format_timedelta(3116 * NANOS_PER_DAY), "3116 days 00:00:00");
        assert_eq!(format_timedelta(5400 * NANOS_PER_SEC + 500_000_000), "0 days 01:30:00.500000");
    }
}
