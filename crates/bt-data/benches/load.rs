//! Loading 1M one-minute bars from CSV and from Parquet: `cargo bench -p bt-data --bench load`.
//!
//! Both files hold the same synthetic bars (`synthetic::generate`, seed 1), written once to a
//! temporary directory by bt-data's own writers; the ratio of the two medians is the Parquet
//! speed-up the loader promises (at least 10x).

use std::{path::PathBuf, sync::OnceLock};

use bt_data::synthetic::{GbmSpec, generate};
use divan::{Bencher, black_box};

const N: usize = 1_000_000;

fn main() {
    divan::main();
    // A static is never dropped, nor the `TempDir` in it: without this, every run left its
    // 140 MB behind in the temporary directory (and filled the disk).
    if let Some(files) = FILES.get() {
        let _ = std::fs::remove_dir_all(files.dir.path());
    }
}

/// The temporary directory (kept alive for the whole run) and the two files in it.
struct Files {
    dir: tempfile::TempDir,
    csv: PathBuf,
    parquet: PathBuf,
}

static FILES: OnceLock<Files> = OnceLock::new();

fn files() -> &'static Files {
    FILES.get_or_init(|| {
        let spec = GbmSpec {
            bars: N,
            seed: 1,
            interval: bt_domain::Interval::MINUTE,
            ..GbmSpec::default()
        };
        let bars = generate(&spec).expect("synthetic bars");
        let dir = tempfile::tempdir().expect("temporary directory");
        let csv = dir.path().join("bars_1m.csv");
        let parquet = dir.path().join("bars_1m.parquet");
        bt_data::save(&bars, &csv).expect("write CSV");
        bt_data::save(&bars, &parquet).expect("write Parquet");
        assert_eq!(bt_data::load(&parquet).expect("load Parquet"), bars);
        Files { dir, csv, parquet }
    })
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn load_csv_1m(bencher: Bencher<'_, '_>) {
    let path = &files().csv;
    bencher.bench(|| bt_data::load(black_box(path)).expect("load CSV"));
}

#[divan::bench(sample_count = 30, sample_size = 1)]
fn load_parquet_1m(bencher: Bencher<'_, '_>) {
    let path = &files().parquet;
    bencher.bench(|| bt_data::load(black_box(path)).expect("load Parquet"));
}
