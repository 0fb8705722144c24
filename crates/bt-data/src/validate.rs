//! Final validation through [`bt_domain::Bars::new`], with its 0-based bar indices translated
//! back to file rows and column names as the file spells them.

use std::path::Path;

use bt_domain::{Bars, BarsError, BarsErrorKind, Column};

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
    Bars::new(raw.ts, raw.open, raw.high, raw.low, raw.close, raw.volume)
        .map_err(|e| bars_error(path, e, names, rows))
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
