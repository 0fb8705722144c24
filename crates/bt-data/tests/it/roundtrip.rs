//! CSV -> Parquet -> load and bars -> CSV -> load give identical bars.

use bt_data::synthetic::{GbmSpec, generate};
use bt_domain::Interval;

use crate::fixture;

#[test]
fn goog_csv_to_parquet_and_back_is_identical() {
    let dir = tempfile::tempdir().unwrap();
    let goog = bt_data::load(&fixture("data/GOOG.csv")).unwrap();
    let pq = dir.path().join("goog.parquet");
    bt_data::write_parquet(&goog, &pq).unwrap();
    let from_pq = bt_data::load(&pq).unwrap();
    assert_eq!(from_pq, goog);
    let csv = dir.path().join("goog.csv");
    bt_data::save(&from_pq, &csv).unwrap();
    assert_eq!(bt_data::load(&csv).unwrap(), goog);
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("timestamp,open,high,low,close,volume\n2004-08-19T00:00:00,100,104.06,95.96,100.34,22351900\n"));
    // No temporary files are left next to the outputs.
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["goog.csv", "goog.parquet"]);
}

#[test]
fn synthetic_bars_round_trip_bit_for_bit_through_csv() {
    // Full-precision floats and sub-second timestamps: the CSV writer must print enough digits.
    let spec = GbmSpec {
        bars: 3000,
        seed: 9,
        interval: Interval::MINUTE,
        start: 1_500_000_000_123_456_789,
        ..GbmSpec::default()
    };
    let bars = generate(&spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in ["s.csv", "s.parquet"] {
        let p = dir.path().join(name);
        bt_data::save(&bars, &p).unwrap();
        assert_eq!(bt_data::load(&p).unwrap(), bars, "{name}");
    }
}

#[test]
fn save_rejects_unknown_extensions_and_overwrites_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let bars = generate(&GbmSpec { bars: 10, ..GbmSpec::default() }).unwrap();
    let e = bt_data::save(&bars, &dir.path().join("x.json")).unwrap_err();
    assert!(matches!(e, bt_data::DataError::UnknownFormat { .. }));
    let p = dir.path().join("x.csv");
    std::fs::write(&p, "old").unwrap();
    bt_data::save(&bars, &p).unwrap();
    assert_eq!(bt_data::load(&p).unwrap(), bars);
    // Writing into a missing directory fails with a named path and leaves nothing behind.
    // The message says what to check, not "file not found" as for an input.
    let e = bt_data::save(&bars, &dir.path().join("missing/x.csv")).unwrap_err();
    assert!(matches!(e, bt_data::DataError::Io { action: "write", .. }) && e.is_write(), "{e:?}");
    let message = e.to_string();
    assert!(
        message.contains("missing/x.csv: cannot write (check that the directory exists"),
        "{message}"
    );
}

#[test]
fn table_writer_checks_shape_and_reads_back() {
    use bt_data::TableColumn;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.parquet");
    let cols = vec![
        ("name".to_string(), TableColumn::Str(vec!["a".into(), "b".into()])),
        ("n".to_string(), TableColumn::I64(vec![1, 2])),
        ("x".to_string(), TableColumn::F64(vec![0.5])),
    ];
    let e = bt_data::write_table_parquet(&cols, &p).unwrap_err();
    assert!(matches!(&e, bt_data::DataError::BadTable { column, .. } if column == "x"), "{e:?}");
    assert!(!p.exists());
    let dup = vec![
        ("a".to_string(), TableColumn::I64(vec![1])),
        ("a".to_string(), TableColumn::I64(vec![2])),
    ];
    assert!(matches!(
        bt_data::write_table_parquet(&dup, &p),
        Err(bt_data::DataError::BadTable { .. })
    ));
    let ok = vec![
        ("name".to_string(), TableColumn::Str(vec!["a".into(), "b".into()])),
        ("n".to_string(), TableColumn::I64(vec![1, 2])),
        ("x".to_string(), TableColumn::F64(vec![0.5, 1.5])),
    ];
    bt_data::write_table_parquet(&ok, &p).unwrap();
    use polars::prelude::SerReader;
    let df =
        polars::prelude::ParquetReader::new(std::fs::File::open(&p).unwrap()).finish().unwrap();
    assert_eq!(df.shape(), (2, 3));
    assert_eq!(df.column("x").unwrap().f64().unwrap().get(1), Some(1.5));
    assert_eq!(df.column("name").unwrap().str().unwrap().get(0), Some("a"));
    assert_eq!(df.column("n").unwrap().i64().unwrap().get(1), Some(2));
}
