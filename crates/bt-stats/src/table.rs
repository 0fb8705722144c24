use bt_domain::{STAT_LABELS, StatValue, Stats, time};

/// Renders the statistics as backtesting.py prints them (`print(stats)`), without its trailing
/// `_strategy`, `_equity_curve`, `_trades` and `dtype` lines.
///
/// Labels are left-aligned in a column 3 wider than the longest label; values are
/// right-aligned. As in backtesting.py's `_Stats.__repr__` (pandas with `display.precision` 5),
/// floats get 5 decimals with trailing zeros trimmed (`607.37036`, `10000.0`), NaN and NaT print
/// as `--`, timestamps as `2004-08-19 00:00:00`, durations as `3116 days 00:00:00`.
/// `Commissions [$]` is left out when it is zero, as backtesting.py omits the key.
///
/// Two pandas details show with extreme numbers: a value wider than `display.max_colwidth`
/// (20, e.g. `13089241556919.70117` with 1e12 prices) is cut to 17 characters and `...`, and
/// `Return (Ann.) [%]` / `Avg. Trade [%]` print as the integer `0` when backtesting.py's
/// `geometric_mean` returned its integer 0.
pub fn format_table(stats: &Stats) -> String {
    /// pandas' `display.max_colwidth` in `_Stats.__repr__`.
    const MAX_COLWIDTH: usize = 20;
    let rows: Vec<(&str, String)> = stats
        .values()
        .iter()
        .zip(STAT_LABELS)
        .filter(|((key, _), _)| *key != "commissions" || stats.commissions_reported())
        .map(|((key, value), label)| {
            let text =
                if is_integer_zero(stats, key) { " 0".to_owned() } else { format_value(*value) };
            (label, text)
        })
        .collect();
    let label_width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0) + 3;
    let value_width =
        rows.iter().map(|(_, v)| v.chars().count()).max().unwrap_or(0).min(MAX_COLWIDTH);
    let mut out = String::new();
    for (label, mut value) in rows {
        // pandas `_make_fixed_width`: `x[:max_len - 3] + "..."` (values are ASCII).
        if value.len() > value_width {
            value.truncate(value_width - 3);
            value.push_str("...");
        }
        out.push_str(&format!("{label:<label_width$}{value:>value_width$}\n"));
    }
    out
}

/// Whether statistic `key` is backtesting.py's integer 0 rather than a float: its
/// `geometric_mean` returns the int `0` when some `1 + r <= 0`, and pandas prints it as `0`.
///
/// - `return_ann_pct`: a period return of -100 %, which an engine run has exactly when the
///   account went bust (equity is then 0 to the end, so the final equity is 0);
/// - `avg_trade_pct`: a trade return of -100 % or worse (e.g. a fixed commission larger than
///   the trade's value), i.e. the worst trade is at or below -100 %.
fn is_integer_zero(stats: &Stats, key: &str) -> bool {
    match key {
        "return_ann_pct" => stats.return_ann_pct == 0.0 && stats.equity_final <= 0.0,
        "avg_trade_pct" => stats.avg_trade_pct == 0.0 && stats.worst_trade_pct <= -100.0,
        _ => false,
    }
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

    fn stats_of(equity: &[f64], trades: &[bt_domain::Trade]) -> Stats {
        let day = time::NANOS_PER_DAY;
        let n = equity.len();
        let c = vec![100.0; n];
        let bars = bt_domain::Bars::new(
            (0..n as i64).map(|i| (12_000 + i) * day).collect(),
            c.clone(),
            c.clone(),
            c.clone(),
            c,
            vec![0.0; n],
        )
        .unwrap();
        crate::compute_from_curve(&bars, equity, &crate::RunFacts { trades, warmup: 0 }).unwrap()
    }

    fn row<'a>(table: &'a str, label: &str) -> &'a str {
        table.lines().find(|l| l.starts_with(label)).unwrap()
    }

    #[test]
    fn values_wider_than_max_colwidth_are_cut_like_pandas() {
        // backtesting.py (goog_giga_script_cash1e15): `Commissions [$]` 13089241556919.70117
        // prints as `13089241556919.7...` and the value column stays 20 wide.
        let mut s = stats_of(&[1e15, 1.1e15, 1.05e15], &[]);
        s.commissions = 13089241556919.701;
        let table = format_table(&s);
        assert_eq!(row(&table, "Commissions"), "Commissions [$]           13089241556919.7...");
        assert_eq!(row(&table, "Start"), "Start                     2002-11-09 00:00:00");
        assert_eq!(row(&table, "Equity Final"), "Equity Final [$]           1050000000000000.0");
        assert!(table.lines().all(|l| l.len() == 45), "{table}");
    }

    #[test]
    fn integer_zero_geometric_means_print_as_0() {
        // A bust (equity 0 to the end) makes backtesting.py's Return (Ann.) the int 0, and a
        // trade losing more than 100 % (a fixed fee above its value) the Avg. Trade int 0.
        let day = time::NANOS_PER_DAY;
        let trade = bt_domain::Trade {
            size: 1.0,
            entry_bar: 0,
            exit_bar: Some(1),
            entry_price: 100.0,
            exit_price: 100.0,
            sl: None,
            tp: None,
            pnl: -150.0,
            commission: 150.0,
            return_frac: -1.5,
            entry_time: 12_000 * day,
            exit_time: Some(12_001 * day),
            tag: None,
        };
        let table = format_table(&stats_of(&[100.0, 50.0, 0.0, 0.0], std::slice::from_ref(&trade)));
        assert_eq!(row(&table, "Return (Ann.)"), "Return (Ann.) [%]                           0");
        assert_eq!(row(&table, "Avg. Trade"), "Avg. Trade [%]                              0");
        // A float 0 (flat equity, a break-even trade) keeps its decimal point.
        let even = bt_domain::Trade { pnl: 0.0, commission: 0.0, return_frac: 0.0, ..trade };
        let table = format_table(&stats_of(&[100.0, 100.0, 100.0], &[even]));
        assert_eq!(row(&table, "Return (Ann.)"), "Return (Ann.) [%]                         0.0");
        assert_eq!(row(&table, "Avg. Trade"), "Avg. Trade [%]                            0.0");
    }

    #[test]
    fn timestamps_like_pandas() {
        let t = time::parse_iso("2004-08-19").unwrap();
        assert_eq!(format_timestamp(t), "2004-08-19 00:00:00");
        assert_eq!(format_timestamp(t + 250_000_000), "2004-08-19 00:00:00.250000");
        assert_eq!(format_timestamp(t + 5), "2004-08-19 00:00:00.000000005");
    }
}
