//! Final validation through [`bt_domain::Bars::new`], with its 0-based bar indices translated
//! back to file rows and column names as the file spells them.

use std::path::Path;

use bt_domain::{BarChecks, Bars, BarsError, BarsErrorKind, Column};

use crate::error::{DataError, Row};

/// Parsed columns, not yet validated.
pub(crate) struct Raw {
    pub ts: Vec<i64>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

/// The file's names for the six columns.
pub(crate) struct Names {
    pub ts: String,
    pub open: String,
    pub high: String,
    pub low: String,
    pub close: String,
    pub volume: String,
}

impl Names {
    fn of(&self, c: Column) -> String {
        match c {
            Column::Timestamp => &self.ts,
            Column::Open => &self.open,
            Column::High => &self.high,
            Column::Low => &self.low,
            Column::Close => &self.close,
            Column::Volume => &self.volume,
        }
        .clone()
    }
}

/// Maps a 0-based bar index to the row it came from.
pub(crate) struct RowMap<'a>(pub &'a dyn Fn(usize) -> Row);

/// Validates and builds the bars, naming the file row of the first bad bar.
pub(crate) fn build(
    path: &Path,
    raw: Raw,
    names: &Names,
    rows: &RowMap<'_>,
) -> Result<Bars, DataError> {
    let n = raw.ts.len();
    if n < 2 {
        return Err(DataError::TooFewBars { path: path.to_path_buf(), bars: n });
    }
    Bars::new_with_checks(raw.ts, raw.open, raw.high, raw.low, raw.close, raw.volume, run_checks)
        .map_err(|e| bars_error(path, e, names, rows))
}

/// From this many bars on, the checks run on two threads.
const PARALLEL_MIN_BARS: usize = 1 << 18;

/// The checks read every column once and are bound by memory: on 1M bars (48 MB) they took
/// 3.7 ms on one core, a fifth of a Parquet load, and one core draws only part of the memory
/// bandwidth. Two halves on two threads took 2.0 ms (`examples/load_timing.rs`, 1M bars, 40
/// loads each, interleaved). Small files stay on the calling thread (a thread costs tens of
/// microseconds).
fn run_checks(checks: &BarChecks<'_>) {
    let n = checks.len();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if n < PARALLEL_MIN_BARS || cores < 2 {
        checks.check(0..n);
        return;
    }
    std::thread::scope(|s| {
        // Without a second thread (a limit on threads), `Bars::new_with_checks` checks the
        // half left unchecked itself.
        let _helper = std::thread::Builder::new().spawn_scoped(s, || checks.check(n / 2..n));
        checks.check(0..n / 2);
    });
}

fn bars_error(path: &Path, e: BarsError, names: &Names, rows: &RowMap<'_>) -> DataError {
    let path = path.to_path_buf();
    let row = (rows.0)(e.index);
    match e.kind {
        BarsErrorKind::NotFinite { column, value } => {
            DataError::NotFinite { path, row, column: names.of(column), value }
        }
        BarsErrorKind::NonPositivePrice { column, value } => {
            DataError::NonPositivePrice { path, row, column: names.of(column), value }
        }
        BarsErrorKind::NegativeVolume { value } => {
            DataError::NegativeVolume { path, row, column: names.volume.clone(), value }
        }
        BarsErrorKind::HighBelowBody { high, body_max } => {
            DataError::HighBelowBody { path, row, column: names.high.clone(), high, body_max }
        }
        BarsErrorKind::LowAboveBody { low, body_min } => {
            DataError::LowAboveBody { path, row, column: names.low.clone(), low, body_min }
        }
        BarsErrorKind::NotIncreasing { previous, current } => DataError::NotIncreasing {
            path,
            row,
            previous_row: (rows.0)(e.index.saturating_sub(1)),
            column: names.ts.clone(),
            current,
            previous,
        },
        BarsErrorKind::TooFewBars { len } => DataError::TooFewBars { path, bars: len },
        kind => DataError::InvalidBars { path, row, message: kind.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bars enough for two threads of checks, with faults in both halves: the first is named,
    /// as one thread names it.
    #[test]
    fn checks_on_two_threads_name_the_first_bad_row() {
        let n = PARALLEL_MIN_BARS + 1000;
        let raw = |bad: &[usize]| {
            let mut high = vec![11.0; n];
            bad.iter().for_each(|&i| high[i] = 9.5);
            Raw {
                ts: (0..n as i64).collect(),
                open: vec![10.0; n],
                high,
                low: vec![9.0; n],
                close: vec![10.0; n],
                volume: vec![1.0; n],
            }
        };
        let names = Names {
            ts: "t".into(),
            open: "o".into(),
            high: "h".into(),
            low: "l".into(),
            close: "c".into(),
            volume: "v".into(),
        };
        let rows = RowMap(&|bar| Row::Record(bar + 1));
        let path = Path::new("bars.parquet");
        let row = |bad: &[usize]| build(path, raw(bad), &names, &rows).err().and_then(|e| e.row());
        assert_eq!(row(&[]), None);
        assert_eq!(row(&[n - 1]), Some(Row::Record(n)), "the second half");
        assert_eq!(row(&[n - 5, n / 2 - 1, 7]), Some(Row::Record(8)), "one in each half");
        assert_eq!(row(&[n - 5, n / 2]), Some(Row::Record(n / 2 + 1)));
        let err = build(path, raw(&[n / 2 + 3]), &names, &rows).unwrap_err().to_string();
        assert!(err.contains("bars.parquet") && err.contains('h'), "{err}");
    }
}
