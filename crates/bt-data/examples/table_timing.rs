//! Times [`bt_data::TableWriter`] on a summary-like table (release build: `cargo run --release
//! -p bt-data --example table_timing -- OUT [ROWS] [BATCH]`, defaults 10,000,000 rows in
//! batches of 65,536): 45 columns, as a sweep's summary.parquet has them: id, strategy,
//! dataset, status and error (text), two integer parameters, a flag, a start timestamp, a
//! duration and 35 statistics (f64). Prints the wall time (total, and inside the writer) and
//! the file's bytes per row; run it under `/usr/bin/time -v` for the peak RSS.

use std::{path::Path, time::Instant};

use bt_data::{Column, ColumnType, TableWriter};

const STATS: usize = 35;

fn schema() -> Vec<(String, ColumnType)> {
    let mut s: Vec<(String, ColumnType)> = [
        ("id", ColumnType::Str),
        ("strategy", ColumnType::Str),
        ("dataset", ColumnType::Str),
        ("status", ColumnType::Str),
        ("error", ColumnType::Str),
        ("fast", ColumnType::I64),
        ("slow", ColumnType::I64),
        ("ok", ColumnType::Bool),
        ("start", ColumnType::Timestamp),
        ("duration", ColumnType::Duration),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t))
    .collect();
    s.extend((0..STATS).map(|k| (format!("stat_{k}"), ColumnType::F64)));
    s
}

/// A deterministic pseudo-random f64 in [0, 1) for row `i`, statistic `k` (SplitMix64).
fn noise(i: u64, k: u64) -> f64 {
    let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / u64::MAX as f64
}

fn batch(rows: std::ops::Range<u64>) -> Vec<Column> {
    let fast = |i: u64| 5 + (i % 50) as i64;
    let slow = |i: u64| 20 + (i / 50 % 200) as i64;
    let text = |f: &dyn Fn(u64) -> String| Column::Str(rows.clone().map(|i| Some(f(i))).collect());
    let mut cols = vec![
        text(&|i| format!("sma/goog/fast={},slow={}", fast(i), slow(i))),
        text(&|_| "sma".to_string()),
        text(&|_| "goog".to_string()),
        text(&|i| if i % 1000 == 7 { "failed" } else { "ok" }.to_string()),
        Column::Str(rows.clone().map(|i| (i % 1000 == 7).then(|| "no trades".into())).collect()),
        Column::I64(rows.clone().map(|i| Some(fast(i))).collect()),
        Column::I64(rows.clone().map(|i| Some(slow(i))).collect()),
        Column::Bool(rows.clone().map(|i| Some(i % 1000 != 7)).collect()),
        Column::Timestamp(rows.clone().map(|_| Some(1_092_873_600_000_000_000)).collect()),
        Column::Duration(rows.clone().map(|i| Some(1_000_000 + (i % 977) as i64 * 1000)).collect()),
    ];
    for k in 0..STATS as u64 {
        cols.push(Column::F64(rows.clone().map(|i| Some(noise(i, k) * 4.0 - 2.0)).collect()));
    }
    cols
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: table_timing OUT [ROWS] [BATCH]");
        return Ok(());
    };
    let rows: u64 = args.get(1).map_or(Ok(10_000_000), |s| s.parse())?;
    let batch_rows: u64 = args.get(2).map_or(Ok(65_536), |s| s.parse())?;
    let start = Instant::now();
    let mut in_writer = std::time::Duration::ZERO;
    let mut table = TableWriter::create(Path::new(out), schema())?;
    let mut done = 0;
    while done < rows {
        let next = (done + batch_rows).min(rows);
        let columns = batch(done..next);
        let t = Instant::now();
        table.write_batch(columns)?;
        in_writer += t.elapsed();
        done = next;
    }
    let t = Instant::now();
    table.finish()?;
    in_writer += t.elapsed();
    let bytes = std::fs::metadata(out)?.len();
    println!(
        "{rows} rows x {} columns in batches of {batch_rows}: {:.2} s total, {:.2} s in the writer; {bytes} bytes, {:.1} bytes/row",
        schema().len(),
        start.elapsed().as_secs_f64(),
        in_writer.as_secs_f64(),
        bytes as f64 / rows as f64,
    );
    Ok(())
}
