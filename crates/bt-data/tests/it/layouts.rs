//! The layouts researchers have, and the values they must read to.

use bt_data::{Format, load, load_detailed};
use bt_domain::time::{format_iso, parse_iso};
use polars::prelude::{
    Column, DataFrame, DataType, Int32Chunked, Int64Chunked, IntoSeries, ParquetWriter, TimeUnit,
};

use crate::{fixture, write};

const ROWS: &str = "2004-08-19,100,104.06,95.96,100.34,22351900\n\
                    2004-08-20,101.01,109.08,100.5,108.31,11428600\n\
                    2004-08-23,110.75,113.48,109.05,109.4,9137200\n";

fn ts(s: &str) -> i64 {
    parse_iso(s).unwrap()
}

#[test]
fn goog_sample_from_backtesting_py() {
    let l = load_detailed(&fixture("data/GOOG.csv")).unwrap();
    let b = &l.bars;
    assert_eq!(b.len(), 2148);
    assert_eq!(format_iso(b.first_ts()), "2004-08-19T00:00:00");
    assert_eq!(format_iso(b.last_ts()), "2013-03-01T00:00:00");
    assert_eq!(
        (b.open()[0], b.high()[0], b.low()[0], b.close()[0]),
        (100.0, 104.06, 95.96, 100.34)
    );
    assert_eq!(b.volume()[0], 22351900.0);
    assert_eq!(*b.close().last().unwrap(), 806.19);
    assert_eq!(l.format, Format::Csv);
    assert_eq!(l.columns, ["", "Open", "High", "Low", "Close", "Volume"]);
    assert_eq!(l.timestamp_column, "");
    assert!(l.has_volume);
}

#[test]
fn named_time_column_anywhere_any_case_and_no_volume() {
    let dir = tempfile::tempdir().unwrap();
    let body = "close,LOW,High,oPeN,Symbol,DATE\n\
                100.34,95.96,104.06,100,GOOG,2004-08-19\n\
                108.31,100.5,109.08,101.01,GOOG,2004-08-20\n";
    let l = load_detailed(&write(dir.path(), "x.csv", body)).unwrap();
    assert_eq!(l.bars.close(), [100.34, 108.31]);
    assert_eq!(l.bars.open(), [100.0, 101.01]);
    assert_eq!(l.bars.volume(), [0.0, 0.0]);
    assert!(!l.has_volume);
    assert_eq!(l.timestamp_column, "DATE");
    assert_eq!(l.bars.timestamps()[1], ts("2004-08-20"));
}

#[test]
fn iso_datetimes_with_offsets_become_utc() {
    let dir = tempfile::tempdir().unwrap();
    let body = "Datetime,Open,High,Low,Close\n\
                2024-01-02T09:30:00+01:00,1,2,0.5,1.5\n\
                2024-01-02 09:30:00Z,1,2,0.5,1.5\n\
                2024-01-02T09:30:00.250-05:00,1,2,0.5,1.5\n";
    let b = load(&write(dir.path(), "x.csv", body)).unwrap();
    assert_eq!(
        b.timestamps(),
        [ts("2024-01-02T08:30:00"), ts("2024-01-02T09:30:00"), ts("2024-01-02T14:30:00.25")]
    );
}

#[test]
fn epoch_seconds_and_milliseconds_read_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let secs = "timestamp,open,high,low,close\n1092873600,1,2,0.5,1.5\n1092960000,1,2,0.5,1.5\n";
    let ms =
        "timestamp,open,high,low,close\n1092873600000,1,2,0.5,1.5\n1092960000000,1,2,0.5,1.5\n";
    let a = load(&write(dir.path(), "s.csv", secs)).unwrap();
    let b = load(&write(dir.path(), "ms.csv", ms)).unwrap();
    assert_eq!(a.timestamps(), [ts("2004-08-19"), ts("2004-08-20")]);
    assert_eq!(a, b);
}

#[test]
fn compact_yyyymmdd_dates() {
    let dir = tempfile::tempdir().unwrap();
    let body = "Date,Open,High,Low,Close\n20240102,1,2,0.5,1.5\n20240103,1,2,0.5,1.5\n";
    let b = load(&write(dir.path(), "d.csv", body)).unwrap();
    assert_eq!(b.timestamps(), [ts("2024-01-02"), ts("2024-01-03")]);
}

#[test]
fn separators_quotes_bom_crlf_and_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    let plain =
        load(&write(dir.path(), "plain.csv", format!(",Open,High,Low,Close,Volume\n{ROWS}")))
            .unwrap();
    let semi = format!("Date;Open;High;Low;Close;Volume\n{}", ROWS.replace(',', ";"));
    let tab = format!("Date\tOpen\tHigh\tLow\tClose\tVolume\n{}", ROWS.replace(',', "\t"));
    let quoted = format!(
        "\u{feff}\"Date\",\"Open\",High,Low,Close,Volume\r\n\r\n{}\n\n",
        ROWS.replace('\n', "\r\n").replacen("2004-08-20", "\"2004-08-20\"", 1)
    );
    for (name, body) in [("semi.csv", semi), ("tab.txt", tab), ("quoted.csv", quoted)] {
        let b = load(&write(dir.path(), name, body)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(b, plain, "{name}");
    }
}

#[test]
fn blank_lines_do_not_shift_error_rows() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(",Open,High,Low,Close,Volume\n\n{ROWS}\n2004-08-24,1,0.5,0.4,0.9,1\n");
    // line 1 header, 2 blank, 3-5 rows, 6 blank, 7 the bad bar (high below open)
    let e = load(&write(dir.path(), "x.csv", body)).unwrap_err();
    assert_eq!(e.row(), Some(bt_data::Row::Line(7)), "{e}");
}

#[test]
fn unknown_extension_is_sniffed() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write(dir.path(), "bars.dat", format!(",Open,High,Low,Close,Volume\n{ROWS}"));
    let bars = load(&csv).unwrap();
    let pq = dir.path().join("bars.parquet");
    bt_data::write_parquet(&bars, &pq).unwrap();
    let renamed = dir.path().join("bars.bin");
    std::fs::rename(&pq, &renamed).unwrap();
    let l = load_detailed(&renamed).unwrap();
    assert_eq!(l.format, Format::Parquet);
    assert_eq!(l.bars, bars);
}

#[test]
fn numbers_parse_like_python_float() {
    // tests/data/floats_python_bits.txt holds CPython's float() bits for each value.
    let b = load(&fixture("data/floats.csv")).unwrap();
    let want: Vec<u64> = std::fs::read_to_string(fixture("data/floats_python_bits.txt"))
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(want.len(), b.len());
    let got: Vec<u64> = b.open().iter().map(|x| x.to_bits()).collect();
    assert_eq!(got, want);
}

/// A Parquet file written by polars with the column types other tools produce.
fn typed_parquet(
    dir: &std::path::Path,
    name: &str,
    time: Column,
    price: DataType,
) -> std::path::PathBuf {
    let f = |n: &str, v: &[f64]| Column::new(n.into(), v).cast(&price).unwrap();
    let mut df = DataFrame::new(
        2,
        vec![
            time,
            f("Open", &[100.0, 101.0]),
            f("High", &[104.0, 109.0]),
            f("Low", &[95.0, 100.0]),
            f("Close", &[100.0, 108.0]),
        ],
    )
    .unwrap();
    let p = dir.join(name);
    ParquetWriter::new(std::fs::File::create(&p).unwrap()).finish(&mut df).unwrap();
    p
}

#[test]
fn parquet_time_and_price_types() {
    let dir = tempfile::tempdir().unwrap();
    let days = [ts("2004-08-19"), ts("2004-08-20")];
    let want = load(&typed_parquet(
        dir.path(),
        "ns.parquet",
        Int64Chunked::from_vec("Date".into(), days.to_vec())
            .into_datetime(TimeUnit::Nanoseconds, None)
            .into_series()
            .into(),
        DataType::Float64,
    ))
    .unwrap();
    assert_eq!(want.timestamps(), days);
    assert_eq!(want.high(), [104.0, 109.0]);
    let variants: Vec<(&str, Column, DataType)> = vec![
        (
            "ms_f32.parquet",
            Int64Chunked::from_vec("time".into(), days.iter().map(|d| d / 1_000_000).collect())
                .into_datetime(TimeUnit::Milliseconds, None)
                .into_series()
                .into(),
            DataType::Float32,
        ),
        (
            "us_i64.parquet",
            Int64Chunked::from_vec("x".into(), days.iter().map(|d| d / 1_000).collect())
                .into_datetime(TimeUnit::Microseconds, None)
                .into_series()
                .into(),
            DataType::Int64,
        ),
        (
            "date.parquet",
            Int32Chunked::from_vec("d".into(), vec![12649, 12650]).into_date().into_series().into(),
            DataType::Float64,
        ),
        (
            "str.parquet",
            Column::new("Timestamp".into(), &["2004-08-19", "2004-08-20T00:00:00Z"]),
            DataType::Float64,
        ),
        (
            "epoch_s.parquet",
            Column::new("date".into(), &[1092873600i64, 1092960000]),
            DataType::Int32,
        ),
    ];
    for (name, time, price) in variants {
        let b = load(&typed_parquet(dir.path(), name, time, price))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(b, want, "{name}");
    }
}

#[test]
fn parquet_unsupported_types_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = typed_parquet(
        dir.path(),
        "bool_time.parquet",
        Column::new("Date".into(), &[true, false]),
        DataType::Float64,
    );
    let e = load(&p).unwrap_err();
    assert!(matches!(e, bt_data::DataError::UnsupportedType { .. }), "{e:?}");
    assert_eq!(e.column(), Some("Date"));
    let p = typed_parquet(
        dir.path(),
        "str_price.parquet",
        Int64Chunked::from_vec("Date".into(), vec![1, 2]).into_series().into(),
        DataType::String,
    );
    let e = load(&p).unwrap_err();
    assert!(matches!(e, bt_data::DataError::UnsupportedType { .. }), "{e:?}");
    assert_eq!(e.column(), Some("Open"));
}

#[test]
fn parquet_with_extra_columns_in_any_order() {
    use bt_data::TableColumn::{F64, I64, Str};
    let dir = tempfile::tempdir().unwrap();
    let cols = vec![
        ("Symbol".to_string(), Str(vec!["GOOG".into(), "GOOG".into()])),
        ("Close".to_string(), F64(vec![100.34, 108.31])),
        ("Date".to_string(), I64(vec![1092873600, 1092960000])),
        ("Open".to_string(), F64(vec![100.0, 101.01])),
        ("Adj Close".to_string(), F64(vec![50.17, 54.155])),
        ("Low".to_string(), F64(vec![95.96, 100.5])),
        ("High".to_string(), F64(vec![104.06, 109.08])),
        ("Volume".to_string(), I64(vec![22351900, 11428600])),
    ];
    let p = dir.path().join("wide.pq");
    bt_data::write_table_parquet(&cols, &p).unwrap();
    let l = load_detailed(&p).unwrap();
    let two_rows: String = ROWS.lines().take(2).map(|l| format!("{l}\n")).collect();
    let csv = write(dir.path(), "x.csv", format!(",Open,High,Low,Close,Volume\n{two_rows}"));
    let csv = load(&csv).unwrap();
    assert_eq!(l.bars, csv);
    assert_eq!(l.timestamp_column, "Date");
    assert!(l.has_volume);
    assert_eq!(l.columns.len(), 8);
}

/// Files written by pyarrow (an independent writer; `xtask/fuzz/seeds/make_parquet_seeds.py`):
/// the same 12 daily bars with the time as Datetime(ns, UTC), Datetime(us, Europe/Berlin),
/// Date32, integer epoch seconds, ISO text, and dictionary-encoded ISO text (pandas
/// categoricals), which polars reads as Categorical.
#[test]
fn pyarrow_time_layouts_read_the_same_bars() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pyarrow");
    let load = |name: &str| load(&dir.join(format!("{name}.parquet"))).unwrap();
    let reference = load("ts_ns_utc");
    assert_eq!(reference.len(), 12);
    assert_eq!(reference.timestamps()[0], ts("2024-01-01"));
    for name in ["ts_us_offset", "date32", "epoch_seconds", "iso_strings", "dictionary_dates"] {
        assert_eq!(load(name), reference, "{name}");
    }
}
