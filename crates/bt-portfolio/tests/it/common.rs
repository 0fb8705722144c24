//! Fixture readers.

use std::{fs, path::PathBuf};

use bt_domain::Bars;

/// The crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A CSV file as header and rows of fields.
pub fn read_csv(path: &PathBuf) -> (Vec<String>, Vec<Vec<String>>) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().expect("a header").split(',').map(str::to_owned).collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// A float field (empty: NaN).
pub fn float(field: &str) -> f64 {
    if field.is_empty() { f64::NAN } else { field.parse().expect("a float") }
}

/// A backtesting.py-style data file: `,Open,High,Low,Close,Volume` with an ISO date index.
pub fn read_bars(path: &PathBuf) -> Bars {
    let (_, rows) = read_csv(path);
    let mut cols: [Vec<f64>; 5] = Default::default();
    let mut ts = Vec::new();
    for row in &rows {
        ts.push(bt_domain::time::parse_iso(&row[0]).expect("a date"));
        for (c, col) in cols.iter_mut().enumerate() {
            col.push(float(&row[c + 1]));
        }
    }
    let [o, h, l, c, v] = cols;
    Bars::new(ts, o, h, l, c, v).expect("valid bars")
}
