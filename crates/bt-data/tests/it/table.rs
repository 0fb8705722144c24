//! The streaming table writer: typed columns read back by polars, batches in order, schema
//! mismatches as errors, the file published only by `finish`.

use bt_data::{Column, ColumnType, DataError, TableWriter};
use polars::prelude::{DataFrame, DataType, ParquetReader, SerReader, TimeUnit, TimeZone};

fn schema(cols: &[(&str, ColumnType)]) -> Vec<(String, ColumnType)> {
    cols.iter().map(|(n, t)| (n.to_string(), *t)).collect()
}

fn read(path: &std::path::Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap()).finish().unwrap()
}

fn all_types() -> Vec<(String, ColumnType)> {
    schema(&[
        ("ok", ColumnType::Bool),
        ("n", ColumnType::I64),
        ("x", ColumnType::F64),
        ("id", ColumnType::Str),
        ("start", ColumnType::Timestamp),
        ("took", ColumnType::Duration),
    ])
}

fn batch(rows: std::ops::Range<i64>) -> Vec<Column> {
    let some = |i: i64| i % 3 != 1; // every third value from 1 on is null
    let opt = |i: i64, v: i64| some(i).then_some(v);
    vec![
        Column::Bool(rows.clone().map(|i| some(i).then_some(i % 2 == 0)).collect()),
        Column::I64(rows.clone().map(|i| opt(i, i * 10)).collect()),
        Column::F64(
            rows.clone()
                .map(|i| match i {
                    4 => Some(f64::NAN),
                    7 => None,
                    _ => Some(i as f64 + 0.5),
                })
                .collect(),
        ),
        Column::Str(rows.clone().map(|i| some(i).then(|| format!("sma/goog/fast={i}"))).collect()),
        Column::Timestamp(rows.clone().map(|i| opt(i, 1_700_000_000_000_000_000 + i)).collect()),
        Column::Duration(rows.map(|i| opt(i, i * 1_000_000_000)).collect()),
    ]
}

#[test]
fn typed_columns_round_trip_through_polars_with_nulls_and_nan() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("summary.parquet");
    let mut w = TableWriter::create(&p, all_types()).unwrap();
    w.write_batch(batch(0..8)).unwrap();
    assert_eq!(w.rows(), 8);
    w.finish().unwrap();
    let df = read(&p);
    let dtypes: Vec<DataType> = df.columns().iter().map(|c| c.dtype().clone()).collect();
    assert_eq!(
        dtypes,
        [
            DataType::Boolean,
            DataType::Int64,
            DataType::Float64,
            DataType::String,
            DataType::Datetime(TimeUnit::Nanoseconds, Some(TimeZone::UTC)),
            DataType::Duration(TimeUnit::Nanoseconds),
        ]
    );
    let col = |n: &str| df.column(n).unwrap().as_materialized_series().clone();
    let ok: Vec<Option<bool>> = col("ok").bool().unwrap().iter().collect();
    assert_eq!(ok[..6], [Some(true), None, Some(true), Some(false), None, Some(false)]);
    let n: Vec<Option<i64>> = col("n").i64().unwrap().iter().collect();
    assert_eq!(n[..6], [Some(0), None, Some(20), Some(30), None, Some(50)]);
    let x = col("x");
    let x = x.f64().unwrap();
    assert_eq!(x.null_count(), 1, "NaN is a value, not a null");
    assert!(x.get(4).unwrap().is_nan());
    assert_eq!(x.get(5), Some(5.5));
    assert_eq!(x.get(7), None, "None is a null");
    let id: Vec<Option<String>> =
        col("id").str().unwrap().iter().map(|s| s.map(str::to_string)).collect();
    assert_eq!(id[0].as_deref(), Some("sma/goog/fast=0"));
    assert_eq!(id[1], None);
    let start = col("start").to_physical_repr().i64().unwrap().clone();
    assert_eq!(start.get(2), Some(1_700_000_000_000_000_002));
    assert_eq!(start.get(4), None);
    let took = col("took").to_physical_repr().i64().unwrap().clone();
    assert_eq!(took.get(3), Some(3_000_000_000));
    assert_eq!(took.null_count(), 3);
}

#[test]
fn batches_concatenate_in_order_and_large_ones_split_into_row_groups() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.parquet");
    let mut w = TableWriter::create(&p, all_types()).unwrap();
    for range in [0..3, 3..3, 3..10, 10..11] {
        w.write_batch(batch(range)).unwrap();
    }
    w.finish().unwrap();
    let df = read(&p);
    assert_eq!(df.height(), 11);
    let x: Vec<Option<u64>> =
        df.column("x").unwrap().f64().unwrap().iter().map(|v| v.map(f64::to_bits)).collect();
    let want: Vec<Option<u64>> = (0..11)
        .map(|i| match i {
            4 => Some(f64::NAN.to_bits()),
            7 => None,
            _ => Some((i as f64 + 0.5).to_bits()),
        })
        .collect();
    assert_eq!(x, want);
    assert_eq!(row_groups(&p), 3, "one row group per non-empty batch");

    let big = dir.path().join("big.parquet");
    let mut w = TableWriter::create(&big, schema(&[("i", ColumnType::I64)])).unwrap();
    w.write_batch(vec![Column::I64((0..600_000).map(Some).collect())]).unwrap();
    w.finish().unwrap();
    assert_eq!(row_groups(&big), 3, "262,144 rows per row group at most");
    let i = read(&big);
    let i = i.column("i").unwrap().i64().unwrap();
    assert_eq!((i.len(), i.get(599_999)), (600_000, Some(599_999)));
}

fn row_groups(path: &std::path::Path) -> usize {
    let mut file = std::fs::File::open(path).unwrap();
    polars_parquet::parquet::read::read_metadata(&mut file).unwrap().row_groups.len()
}

#[test]
fn a_batch_that_does_not_match_the_schema_is_an_error_and_the_writer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.parquet");
    let s = schema(&[("id", ColumnType::Str), ("x", ColumnType::F64)]);
    let mut w = TableWriter::create(&p, s).unwrap();
    let bad = |e: DataError, col: &str, words: &str| match &e {
        DataError::BadTable { column, problem, .. } => {
            assert_eq!(column, col, "{e}");
            assert!(problem.contains(words), "{e}");
        }
        other => panic!("not BadTable: {other:?}"),
    };
    let id = || Column::Str(vec![Some("a".into()), None]);
    bad(w.write_batch(vec![id()]).unwrap_err(), "x", "schema of 2 columns, but the batch has 1");
    bad(
        w.write_batch(vec![id(), Column::I64(vec![Some(1), None])]).unwrap_err(),
        "x",
        "is F64 in the schema but I64",
    );
    bad(
        w.write_batch(vec![id(), Column::F64(vec![Some(1.0)])]).unwrap_err(),
        "x",
        "has 1 values but column \"id\" has 2",
    );
    bad(
        w.write_batch(vec![
            Column::F64(vec![Some(1.0), Some(2.0)]),
            Column::F64(vec![Some(1.0), Some(2.0)]),
        ])
        .unwrap_err(),
        "id",
        "is Str",
    );
    w.write_batch(vec![id(), Column::F64(vec![Some(1.0), Some(2.0)])]).unwrap();
    w.finish().unwrap();
    assert_eq!(read(&p).height(), 2);
    let dup = schema(&[("a", ColumnType::I64), ("a", ColumnType::F64)]);
    bad(TableWriter::create(dir.path().join("d.parquet"), dup).unwrap_err(), "a", "appears twice");
    assert!(TableWriter::create(dir.path().join("e.parquet"), Vec::new()).is_err());
}

#[test]
fn nothing_appears_at_the_path_before_finish() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("summary.parquet");
    let tmp = dir.path().join("summary.parquet.tmp");
    let mut w = TableWriter::create(&p, all_types()).unwrap();
    w.write_batch(batch(0..5)).unwrap();
    assert!(!p.exists() && tmp.exists());
    w.finish().unwrap();
    assert!(p.exists() && !tmp.exists());
    // An old file stays whole until the new one replaces it; an abandoned writer leaves it.
    let before = std::fs::read(&p).unwrap();
    let mut w = TableWriter::create(&p, all_types()).unwrap();
    w.write_batch(batch(0..2)).unwrap();
    drop(w);
    assert_eq!(std::fs::read(&p).unwrap(), before);
    assert!(!tmp.exists(), "an abandoned writer removes its temporary file");
    // A missing directory fails at create, naming the path.
    let e = TableWriter::create(dir.path().join("no/summary.parquet"), all_types()).unwrap_err();
    assert!(e.is_write() && e.to_string().contains("no/summary.parquet"), "{e}");
}

#[test]
fn an_empty_table_is_a_valid_file_with_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("empty.parquet");
    TableWriter::create(&p, all_types()).unwrap().finish().unwrap();
    let df = read(&p);
    assert_eq!(df.height(), 0);
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    assert_eq!(names, ["ok", "n", "x", "id", "start", "took"]);
    assert_eq!(df.column("took").unwrap().dtype(), &DataType::Duration(TimeUnit::Nanoseconds));
}

#[test]
fn the_same_batches_give_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str| {
        let p = dir.path().join(name);
        let mut w = TableWriter::create(&p, all_types()).unwrap();
        w.write_batch(batch(0..1000)).unwrap();
        w.write_batch(batch(1000..1500)).unwrap();
        w.finish().unwrap();
        std::fs::read(p).unwrap()
    };
    assert_eq!(write("a.parquet"), write("b.parquet"));
}

#[test]
fn a_table_writer_can_move_to_another_thread() {
    fn is_send<T: Send>() {}
    is_send::<TableWriter>();
}

#[test]
fn read_table_parquet_gives_back_the_written_columns() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.parquet");
    let mut w = TableWriter::create(&p, all_types()).unwrap();
    // 5..9: no NaN (NaN != NaN), a null in every nullable column (7).
    w.write_batch(batch(5..7)).unwrap();
    w.write_batch(batch(7..9)).unwrap();
    w.finish().unwrap();
    let back = bt_data::read_table_parquet(&p).unwrap();
    let names: Vec<&str> = back.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["ok", "n", "x", "id", "start", "took"]);
    let columns: Vec<Column> = back.into_iter().map(|(_, c)| c).collect();
    assert_eq!(columns, batch(5..9));
    // A missing file, or one that is not Parquet, is an error naming it.
    let e = bt_data::read_table_parquet(&dir.path().join("missing.parquet")).unwrap_err();
    assert!(e.to_string().contains("missing.parquet"), "{e}");
    let junk = dir.path().join("junk.parquet");
    std::fs::write(&junk, b"PAR1 this is not a table PAR1").unwrap();
    let e = bt_data::read_table_parquet(&junk).unwrap_err();
    assert!(e.to_string().contains("junk.parquet"), "{e}");
}
