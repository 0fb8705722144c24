//! One broken file per error kind (tests/bad/), each checked for variant, row and column, and
//! all messages snapshotted together.

use std::path::Path;

use bt_data::{DataError, Row, TableColumn};
use bt_domain::time::format_iso;

use crate::fixture;

/// Loads `tests/bad/{name}` and returns the error (panics if it loads).
fn bad(name: &str) -> DataError {
    match bt_data::load(&fixture(&format!("bad/{name}"))) {
        Ok(bars) => panic!("{name} loaded {} bars but should fail", bars.len()),
        Err(e) => e,
    }
}

/// Asserts the row (CSV line) and column of an error.
fn at(e: &DataError, row: usize, column: &str) {
    assert_eq!(e.row(), Some(Row::Line(row)), "{e}");
    assert_eq!(e.column(), Some(column), "{e}");
}

#[test]
fn missing_close_column_lists_the_columns_found() {
    let e = bad("missing_close_column.csv");
    match &e {
        DataError::MissingColumn { column, found, .. } => {
            assert_eq!(*column, "close");
            assert_eq!(found, &["", "Open", "High", "Low", "Volume"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_number_at_row_7() {
    let e = bad("bad_number_row7.csv");
    assert!(matches!(&e, DataError::BadNumber { value, .. } if value == "104.9S"), "{e:?}");
    at(&e, 7, "Open");
}

#[test]
fn nan_and_inf_are_not_finite() {
    let e = bad("nan_close.csv");
    assert!(matches!(&e, DataError::NotFinite { value, .. } if value.is_nan()), "{e:?}");
    at(&e, 4, "Close");
    let e = bad("inf_high.csv");
    assert!(matches!(e, DataError::NotFinite { value: f64::INFINITY, .. }), "{e:?}");
    at(&e, 5, "High");
}

#[test]
fn negative_and_zero_prices() {
    let e = bad("negative_low.csv");
    assert!(matches!(e, DataError::NonPositivePrice { value: -103.88, .. }), "{e:?}");
    at(&e, 6, "Low");
    let e = bad("zero_open.csv");
    assert!(matches!(e, DataError::NonPositivePrice { value: 0.0, .. }), "{e:?}");
    at(&e, 8, "Open");
}

#[test]
fn negative_volume() {
    let e = bad("negative_volume.csv");
    assert!(matches!(e, DataError::NegativeVolume { value: -9137200.0, .. }), "{e:?}");
    at(&e, 4, "Volume");
}

#[test]
fn high_below_and_low_above_the_body() {
    let e = bad("high_below_body.csv");
    assert!(matches!(e, DataError::HighBelowBody { high: 108.0, body_max: 108.31, .. }), "{e:?}");
    at(&e, 3, "High");
    let e = bad("low_above_body.csv");
    assert!(matches!(e, DataError::LowAboveBody { low: 102.5, body_min: 102.01, .. }), "{e:?}");
    at(&e, 9, "Low");
}

#[test]
fn duplicate_and_decreasing_timestamps_name_both_rows() {
    let e = bad("duplicate_timestamp.csv");
    match &e {
        DataError::NotIncreasing { previous_row, current, previous, .. } => {
            assert_eq!(*previous_row, Row::Line(4));
            assert_eq!(format_iso(*current), "2004-08-23T00:00:00");
            assert_eq!(previous, current);
        }
        other => panic!("{other:?}"),
    }
    at(&e, 5, "");
    let e = bad("decreasing_timestamp.csv");
    assert!(
        matches!(&e, DataError::NotIncreasing { previous_row: Row::Line(7), current, .. }
            if format_iso(*current) == "2004-08-20T00:00:00"),
        "{e:?}"
    );
    at(&e, 8, "");
}

#[test]
fn too_few_rows() {
    assert!(matches!(bad("one_data_row.csv"), DataError::TooFewBars { bars: 1, .. }));
    assert!(matches!(bad("header_only.csv"), DataError::TooFewBars { bars: 0, .. }));
}

#[test]
fn empty_file_and_binary_garbage() {
    assert!(matches!(bad("empty.csv"), DataError::Empty { .. }));
    assert!(matches!(bad("binary_garbage.csv"), DataError::NotTabular { .. }));
    assert!(matches!(bad("not_parquet.parquet"), DataError::NotTabular { .. }));
}

#[test]
fn truncated_last_line_and_empty_field_are_missing_values() {
    let e = bad("truncated_last_line.csv");
    assert!(matches!(e, DataError::MissingValue { .. }), "{e:?}");
    at(&e, 9, "Low");
    let e = bad("empty_field.csv");
    assert!(matches!(e, DataError::MissingValue { .. }), "{e:?}");
    at(&e, 5, "High");
}

#[test]
fn non_utf8_bytes_are_named() {
    let e = bad("non_utf8.csv");
    assert!(matches!(&e, DataError::InvalidUtf8 { value, .. } if value == "109.\u{FFFD}"), "{e:?}");
    at(&e, 4, "Close");
}

#[test]
fn bad_and_mixed_timestamps() {
    let e = bad("bad_timestamp.csv");
    assert!(matches!(&e, DataError::BadTimestamp { value, .. } if value == "2004-08-32"), "{e:?}");
    at(&e, 4, "");
    let e = bad("mixed_epoch_and_iso.csv");
    assert!(matches!(&e, DataError::BadTimestamp { value, .. } if value == "2004-08-23"), "{e:?}");
    at(&e, 6, "timestamp");
}

#[test]
fn too_many_fields() {
    let e = bad("too_many_fields.csv");
    assert!(matches!(e, DataError::TooManyFields { expected: 6, found: 7, .. }), "{e:?}");
    assert_eq!(e.row(), Some(Row::Line(6)));
}

#[test]
fn io_errors() {
    let e = bt_data::load(Path::new("tests/bad/does_not_exist.csv")).unwrap_err();
    assert!(matches!(e, DataError::NotFound { .. }), "{e:?}");
    let e = bt_data::load(Path::new("tests/bad")).unwrap_err();
    assert!(matches!(e, DataError::IsDirectory { .. }), "{e:?}");
}

/// Writes a Parquet table of GOOG's first rows without the columns in `drop`.
fn goog_parquet(dir: &Path, name: &str, drop: &[&str]) -> std::path::PathBuf {
    let bars = bt_data::load(&fixture("data/GOOG.csv")).unwrap();
    let n = 5;
    let cols: Vec<(String, TableColumn)> = [
        ("Date", TableColumn::I64(bars.timestamps()[..n].iter().map(|t| t / 1_000_000).collect())),
        ("Open", TableColumn::F64(bars.open()[..n].to_vec())),
        ("High", TableColumn::F64(bars.high()[..n].to_vec())),
        ("Low", TableColumn::F64(bars.low()[..n].to_vec())),
        ("Close", TableColumn::F64(bars.close()[..n].to_vec())),
    ]
    .into_iter()
    .filter(|(name, _)| !drop.contains(name))
    .map(|(name, c)| (name.to_string(), c))
    .collect();
    let p = dir.join(name);
    bt_data::write_table_parquet(&cols, &p).unwrap();
    p
}

#[test]
fn parquet_missing_column_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let e = bt_data::load(&goog_parquet(dir.path(), "no_high.parquet", &["High"])).unwrap_err();
    match &e {
        DataError::MissingColumn { column, found, .. } => {
            assert_eq!(*column, "high");
            assert_eq!(found, &["Date", "Open", "Low", "Close"]);
        }
        other => panic!("{other:?}"),
    }
    // The complete file loads (epoch milliseconds in an Int64 column).
    let ok = goog_parquet(dir.path(), "ok.parquet", &[]);
    let bars = bt_data::load(&ok).unwrap();
    assert_eq!(bars.len(), 5);
    let bytes = std::fs::read(&ok).unwrap();
    let cut = dir.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    assert!(matches!(bt_data::load(&cut), Err(DataError::Parquet { .. })));
}

#[test]
fn parquet_rows_are_records() {
    let dir = tempfile::tempdir().unwrap();
    let cols = vec![
        (
            "timestamp".to_string(),
            TableColumn::Str(vec!["2024-01-01".into(), "2024-01-02".into(), "2024-01-03".into()]),
        ),
        ("open".to_string(), TableColumn::F64(vec![1.0, 1.0, 1.0])),
        ("high".to_string(), TableColumn::F64(vec![2.0, 2.0, 0.5])),
        ("low".to_string(), TableColumn::F64(vec![0.5, 0.5, 0.5])),
        ("close".to_string(), TableColumn::F64(vec![1.5, 1.5, 1.5])),
    ];
    let p = dir.path().join("bad_high.parquet");
    bt_data::write_table_parquet(&cols, &p).unwrap();
    let e = bt_data::load(&p).unwrap_err();
    assert!(matches!(e, DataError::HighBelowBody { .. }), "{e:?}");
    assert_eq!(e.row(), Some(Row::Record(3)));
    assert_eq!(e.column(), Some("high"));
    let msg = e.to_string();
    assert!(msg.contains("record 3 (1-based)"), "{msg}");
}

#[test]
fn error_messages() {
    let mut files: Vec<String> = std::fs::read_dir("tests/bad")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut out = String::new();
    for f in &files {
        out.push_str(&format!("{}\n", bad(f)));
    }
    let dir = tempfile::tempdir().unwrap();
    let p = goog_parquet(dir.path(), "no_high.parquet", &["High"]);
    let e = bt_data::load(&p).unwrap_err().to_string();
    out.push_str(&e.replace(&dir.path().display().to_string(), "[TMP]"));
    out.push('\n');
    insta::assert_snapshot!(out);
}
