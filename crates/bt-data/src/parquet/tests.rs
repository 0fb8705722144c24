//! The two Parquet readers agree: every test and fuzz-corpus file, and files written here in the
//! layouts [`super::direct`] covers or declines, read the same through both (same bars, bit for
//! bit, and same description), or fail with the same message.

use std::path::{Path, PathBuf};

use polars::prelude::{
    Column, DataFrame, Int64Chunked, IntoSeries, NamedFrom, ParquetCompression, ParquetWriter,
    Series, TimeUnit,
};

use super::{check_magic, direct, read_polars};
use crate::{DataError, Loaded};

/// What a reader made of a file, in comparable form.
#[derive(Debug, PartialEq)]
enum Outcome {
    Loaded { bits: Vec<Vec<u64>>, columns: Vec<String>, ts: String, volume: bool },
    Failed(String),
}

fn outcome(r: Result<Loaded, DataError>) -> Outcome {
    match r {
        Ok(l) => {
            let b = &l.bars;
            let f = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect();
            let ts = b.timestamps().iter().map(|&t| t as u64).collect();
            Outcome::Loaded {
                bits: vec![ts, f(b.open()), f(b.high()), f(b.low()), f(b.close()), f(b.volume())],
                columns: l.columns,
                ts: l.timestamp_column,
                volume: l.has_volume,
            }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Reads `path` both ways; `true` when the direct reader took it.
fn agree(path: &Path) -> bool {
    let open = || std::fs::File::open(path).unwrap();
    let len = open().metadata().unwrap().len();
    let mut head = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(open(), 8192), &mut head).unwrap();
    let Ok(file) = check_magic(path, &head, open(), len) else { return false };
    let direct = std::panic::catch_unwind(|| direct::read(path, &file, len));
    let direct =
        direct.unwrap_or_else(|_| panic!("{}: the direct reader panicked", path.display()));
    let Some(direct) = direct.transpose() else { return false };
    let polars = std::panic::catch_unwind(|| read_polars(path, open()));
    let polars = polars.unwrap_or_else(|_| panic!("{}: polars panicked", path.display()));
    assert_eq!(outcome(direct), outcome(polars), "{}", path.display());
    true
}

fn files_in(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

#[test]
fn both_readers_agree_on_the_test_and_fuzz_files() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut direct = Vec::new();
    for dir in ["tests/data/pyarrow", "tests/bad"] {
        for p in files_in(&crate_dir.join(dir), "parquet") {
            if agree(&p) {
                direct.push(p.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    // The fuzz inputs start with a mode byte: even means "the rest is the file".
    let tmp = tempfile::tempdir().unwrap();
    let fuzz = crate_dir.join("../../xtask/fuzz");
    let mut inputs = files_in(&fuzz.join("corpus/parquet"), "parquet");
    inputs.extend(files_in(&fuzz.join("regressions/parquet"), "bin"));
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let Some((mode, rest)) = data.split_first() else { continue };
        if mode % 2 == 0 {
            let name = input.file_stem().unwrap().to_string_lossy().into_owned();
            let p = tmp.path().join(format!("{name}.parquet"));
            std::fs::write(&p, rest).unwrap();
            if agree(&p) {
                direct.push(name);
            }
        }
    }
    for name in ["ts_ns_utc.parquet", "ts_us_offset.parquet", "epoch_seconds.parquet"] {
        assert!(direct.contains(&name.to_string()), "{name} not read directly: {direct:?}");
    }
    for name in ["ts_ms_naive_gzip_rg3", "decreasing", "float32_int_prices"] {
        let covered = direct.contains(&name.to_string());
        assert_eq!(covered, !name.starts_with("float32"), "{name}: {direct:?}");
    }
}

/// Bars of `n` rows: prices cycle through a few values (dictionary pages) when `few`.
fn frame(n: usize, few: bool, unit: TimeUnit) -> DataFrame {
    let per_unit = match unit {
        TimeUnit::Nanoseconds => 1,
        TimeUnit::Microseconds => 1_000,
        TimeUnit::Milliseconds => 1_000_000,
    };
    let ts: Vec<i64> = (0..n as i64)
        .map(|i| (1_500_000_000_123_456_789 + i * 60_000_000_123) / per_unit)
        .collect();
    let price = |i: usize, k: f64| {
        if few { 100.0 + k + (i % 3) as f64 } else { 100.0 + k + (i as f64 * 0.37).sin() * 3.0 }
    };
    let col = |name: &str, k: f64| -> Column {
        let v: Vec<f64> = (0..n).map(|i| price(i, k)).collect();
        Column::new(name.into(), v)
    };
    let ts = Int64Chunked::from_vec("ts".into(), ts).into_datetime(unit, None);
    let columns = vec![
        Column::from(ts.into_series()),
        col("open", 0.0),
        col("high", 10.0),
        col("low", -10.0),
        col("close", 0.5),
        Column::new("volume".into(), (0..n as i64).map(|i| i % 7 * 100).collect::<Vec<_>>()),
        Column::from(Series::new("symbol".into(), vec!["GOOG"; n])),
    ];
    DataFrame::new(n, columns).unwrap()
}

#[test]
fn both_readers_agree_on_written_layouts() {
    let dir = tempfile::tempdir().unwrap();
    type Writer = ParquetWriter<std::fs::File>;
    let write = |name: &str, mut df: DataFrame, w: fn(Writer) -> Writer| {
        let p = dir.path().join(name);
        w(ParquetWriter::new(std::fs::File::create(&p).unwrap())).finish(&mut df).unwrap();
        p
    };
    let small_pages = |w: Writer| w.with_row_group_size(Some(1000)).with_data_page_size(Some(4096));
    fn many_groups(w: Writer) -> Writer {
        w.with_row_group_size(Some(15_000)).with_compression(ParquetCompression::Uncompressed)
    }
    let cases = [
        write("plain.parquet", frame(3000, false, TimeUnit::Nanoseconds), |w| w),
        write("dict.parquet", frame(3000, true, TimeUnit::Microseconds), |w| w),
        write("pages.parquet", frame(5000, false, TimeUnit::Milliseconds), small_pages),
        write("lz4.parquet", frame(2000, true, TimeUnit::Nanoseconds), |w| {
            w.with_compression(ParquetCompression::Lz4Raw)
        }),
        write("none.parquet", frame(2000, false, TimeUnit::Nanoseconds), |w| {
            w.with_compression(ParquetCompression::Uncompressed)
        }),
        write("snappy.parquet", frame(2000, false, TimeUnit::Nanoseconds), |w| {
            w.with_compression(ParquetCompression::Snappy)
        }),
        // Over `direct::PARALLEL_MIN_BYTES`: several threads share the row groups' chunks.
        write("threads.parquet", frame(100_000, false, TimeUnit::Microseconds), many_groups),
        write("threads_lz4.parquet", frame(100_000, true, TimeUnit::Nanoseconds), |w| {
            many_groups(w).with_compression(ParquetCompression::Lz4Raw)
        }),
    ];
    for p in &cases {
        assert!(agree(p), "{} not read directly", p.display());
    }
    let threads = std::fs::metadata(&cases[6]).unwrap().len();
    assert!(threads > super::direct::PARALLEL_MIN_BYTES, "{threads} bytes");
    // Declined: a null; covered but invalid: duplicate timestamps (the same error both ways).
    let mut nulls = frame(100, false, TimeUnit::Nanoseconds);
    let close: Vec<Option<f64>> = (0..100).map(|i| (i != 42).then_some(100.0)).collect();
    nulls.replace("close", Column::new("close".into(), close)).unwrap();
    assert!(!agree(&write("nulls.parquet", nulls, |w| w)));
    // A null in the last row group of a file read on several threads: all stop, polars reads.
    let mut nulls = frame(100_000, false, TimeUnit::Nanoseconds);
    let close: Vec<Option<f64>> = (0..100_000).map(|i| (i != 99_000).then_some(100.0)).collect();
    nulls.replace("close", Column::new("close".into(), close)).unwrap();
    let big = write("nulls_threads.parquet", nulls, many_groups);
    assert!(std::fs::metadata(&big).unwrap().len() > super::direct::PARALLEL_MIN_BYTES);
    assert!(!agree(&big));
    let mut dup = frame(100, false, TimeUnit::Nanoseconds);
    let ts = Int64Chunked::from_vec("ts".into(), vec![7; 100]);
    let ts = ts.into_datetime(TimeUnit::Nanoseconds, None).into_series();
    dup.replace("ts", Column::from(ts)).unwrap();
    assert!(agree(&write("dup.parquet", dup, |w| w)));
}
