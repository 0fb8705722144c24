use bt_domain::{STAT_LABELS, StatValue, Stats, time};

/// Renders the statistics as backtesting.py prints them (`print(stats)`), without its trailing
/// `_strategy`, `_equity_curve`, `_trades` and `dtype` lines.
///
/// Labels are left-aligned in a column 3 wider than the longest label; values are
/// right-aligned. As in backtesting.py's `_Stats.__repr__` (pandas with `display.precision` 5),
/// floats get 5 decimals with trailing zeros trimmed (`607.37036`, `10000.0`), NaN and NaT print
/// as `--`, timestamps as `2004-08-19 00:00:00`, durations as `3116 days 00:00:00`.
/// `Commissions [$]` is left out when it is zero, as backtesting.py omits the key.
pub fn format_table(stats: &Stats) -> String {
    let rows: Vec<(&str, String)> = stats
        .values()
        .iter()
        .zip(STAT_LABELS)
        .filter(|((key, _), _)| *key != "commissions" || stats.commissions_reported())
        .map(|((_, value), label)| (label, format_value(*value)))
        .collect();
    let label_width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0) + 3;
    let value_width = rows.iter().map(|(_, v)| v.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (label, value) in rows {
        out.push_str(&format!("{label:<label_width$}{value:>value_width$}\n"));
    }
    out
}

/// One value as pandas formats it in an object Series (with its leading sign column).
pub fn format_value(value: StatValue) -> String {
    const NA: &str = " --";
    match value {
        StatValue::Time(t) => format!(" {}", format_timestamp(t)),
        StatValue::Duration(Some(d)) => format!(" {}", time::format_timedelta(d)),
        StatValue::Duration(None) => NA.to_owned(),
        StatValue::Count(n) => format!(" {n}"),
        StatValue::Float(x) if x.is_nan() => NA.to_owned(),
        StatValue::Float(x) => format_float(x),
    }
}

/// `_trim_zeros_single_float(f"{x: .5f}")`.
fn format_float(x: f64) -> String {
    let sign = if x.is_sign_negative() { "" } else { " " };
    let s = format!("{sign}{x:.5}");
    if !s.contains('.') {
        return s; // inf
    }
    let trimmed = s.trim_end_matches('0');
    if trimmed.ends_with('.') { format!("{trimmed}0") } else { trimmed.to_owned() }
}

/// `str(pd.Timestamp)`: `2004-08-19 00:00:00`, with 6 or 9 fractional digits when needed.
pub fn format_timestamp(ts: i64) -> String {
    let day = time::day_index(ts);
    let (y, m, d) = time::civil_from_days(day);
    let rem = ts - day * time::NANOS_PER_DAY;
    let secs = rem / time::NANOS_PER_SEC;
    let frac = rem % time::NANOS_PER_SEC;
    let mut s =
        format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac != 0 {
        if frac % 1000 == 0 {
            s.push_str(&format!(".{:06}", frac / 1000));
        } else {
            s.push_str(&format!(".{frac:09}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_pandas_precision_5() {
        // f"{x: .5f}" then trailing zeros trimmed, one kept after the point.
        assert_eq!(format_float(607.3703606212162), " 607.37036");
        assert_eq!(format_float(10000.0), " 10000.0");
        assert_eq!(format_float(-0.0), "-0.0");
        assert_eq!(format_float(-33.93159182905461), "-33.93159");
        assert_eq!(format_float(0.015625), " 0.01562");
        assert_eq!(format_float(f64::INFINITY), " inf");
        assert_eq!(format_value(StatValue::Float(f64::NAN)), " --");
        assert_eq!(format_value(StatValue::Duration(None)), " --");
    }

    #[test]
    fn timestamps_like_pandas() {
        let t = time::parse_iso("2004-08-19").unwrap();
        assert_eq!(format_timestamp(t), "2004-08-19 00:00:00");
        assert_eq!(format_timestamp(t + 250_000_000), "2004-08-19 00:00:00.250000");
        assert_eq!(format_timestamp(t + 5), "2004-08-19 00:00:00.000000005");
    }
}
