//! The `csv` and `parquet` targets: bars that load write back and reload bit for bit.

use super::*;

/// CSV bytes -> bars or a located error; bars round-trip through both writers.
pub fn csv(data: &[u8]) {
    let path = scratch_file("input.csv", data);
    load_and_round_trip(&path);
}

/// Parquet input -> bars or a located error; bars round-trip through both writers.
///
/// The first byte picks the mode: raw bytes (mutations of the seed files), or a table of
/// arbitrary columns written by bt's own Parquet table writer, which reaches the loader's
/// column, type and value checks far more often than random bytes.
pub fn parquet(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let path = if mode % 2 == 0 {
        scratch_file("input.parquet", rest)
    } else {
        let Ok(table) = Table::arbitrary_take_rest(Unstructured::new(rest)) else { return };
        let path = scratch().join("table.parquet");
        if bt_data::write_table_parquet(&table.columns(), &path).is_err() {
            return;
        }
        path
    };
    load_and_round_trip(&path);
}

/// Set while bt-data reads a file: see [`tolerate_polars_panics`].
static IN_LOAD: AtomicBool = AtomicBool::new(false);

/// bt-data turns a panic inside polars (on its pool threads too) into
/// `DataError::ReaderFailed`, but libFuzzer's panic hook aborts on every panic, caught or not.
/// Wraps that hook to let through panics raised in polars' own code while a load runs; a panic
/// anywhere else (bt's code included) still aborts and is a finding. The polars panics found
/// this way are kept in `regressions/parquet/` and listed in docs/testing.md.
fn tolerate_polars_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_polars = info.location().is_some_and(|l| l.file().contains("/polars-"));
            if !(in_polars && IN_LOAD.load(Ordering::SeqCst)) {
                previous(info);
            }
        }));
    });
}

fn load(path: &Path) -> Result<Bars, bt_data::DataError> {
    tolerate_polars_panics();
    IN_LOAD.store(true, Ordering::SeqCst);
    let result = bt_data::load(path);
    IN_LOAD.store(false, Ordering::SeqCst);
    result
}

fn load_and_round_trip(path: &Path) {
    let bars = match load(path) {
        Ok(bars) => bars,
        Err(e) => {
            // Every error names the file.
            let message = e.to_string();
            assert!(
                message.contains(&*path.to_string_lossy()),
                "error without the path: {message}"
            );
            return;
        }
    };
    for ext in ["csv", "parquet"] {
        let out = scratch().join(format!("roundtrip.{ext}"));
        bt_data::save(&bars, &out).unwrap_or_else(|e| panic!("writing loaded bars failed: {e}"));
        let back = load(&out).unwrap_or_else(|e| panic!("reloading written bars: {e}"));
        assert!(same_bars(&bars, &back), "bars changed through {ext}");
    }
}

/// Bit-for-bit equality (`-0.0` and `0.0` differ, as they would in a result).
fn same_bars(a: &Bars, b: &Bars) -> bool {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    a.timestamps() == b.timestamps()
        && bits(a.open()) == bits(b.open())
        && bits(a.high()) == bits(b.high())
        && bits(a.low()) == bits(b.low())
        && bits(a.close()) == bits(b.close())
        && bits(a.volume()) == bits(b.volume())
}

/// A table for the structured Parquet mode.
#[derive(Debug, Arbitrary)]
struct Table {
    columns: Vec<(ColumnName, ColumnData)>,
}

#[derive(Debug, Arbitrary)]
enum ColumnName {
    Known(u8),
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum ColumnData {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Str(Vec<String>),
    /// Plausible prices, so that some tables pass validation and reach the round trip.
    Prices {
        start: u16,
        steps: Vec<i8>,
    },
    /// Increasing epoch timestamps in seconds.
    Epochs {
        start: u32,
        steps: Vec<u16>,
    },
}

impl Table {
    fn columns(&self) -> Vec<(String, bt_data::TableColumn)> {
        use bt_data::TableColumn as C;
        const NAMES: [&str; 9] =
            ["Date", "timestamp", "Open", "High", "Low", "Close", "Volume", "open", ""];
        let len = self.columns.iter().map(|(_, d)| d.len()).max().unwrap_or(0).min(512);
        let mut out: Vec<(String, C)> = Vec::new();
        for (name, data) in &self.columns {
            let name = match name {
                ColumnName::Known(i) => NAMES[*i as usize % NAMES.len()].to_owned(),
                ColumnName::Other(s) => s.clone(),
            };
            if out.iter().any(|(n, _)| *n == name) {
                continue;
            }
            out.push((name, data.column(len)));
        }
        out
    }
}

impl ColumnData {
    fn len(&self) -> usize {
        match self {
            ColumnData::F64(v) => v.len(),
            ColumnData::I64(v) => v.len(),
            ColumnData::Str(v) => v.len(),
            ColumnData::Prices { steps, .. } => steps.len(),
            ColumnData::Epochs { steps, .. } => steps.len(),
        }
    }

    /// The column at exactly `len` values (cycled or padded), as the table writer requires.
    fn column(&self, len: usize) -> bt_data::TableColumn {
        use bt_data::TableColumn as C;
        fn fit<T: Clone>(v: &[T], len: usize, pad: T) -> Vec<T> {
            (0..len)
                .map(|i| if v.is_empty() { pad.clone() } else { v[i % v.len()].clone() })
                .collect()
        }
        match self {
            ColumnData::F64(v) => C::F64(fit(v, len, 1.0)),
            ColumnData::I64(v) => C::I64(fit(v, len, 0)),
            ColumnData::Str(v) => C::Str(fit(v, len, String::new())),
            ColumnData::Prices { start, steps } => {
                let mut p = f64::from(*start).max(1.0);
                C::F64(
                    fit(steps, len, 0)
                        .into_iter()
                        .map(|s| {
                            p = (p * (1.0 + f64::from(s) / 1024.0)).max(1e-6);
                            p
                        })
                        .collect(),
                )
            }
            ColumnData::Epochs { start, steps } => {
                let mut t = i64::from(*start);
                C::I64(
                    fit(steps, len, 1)
                        .into_iter()
                        .map(|s| {
                            t += i64::from(s);
                            t
                        })
                        .collect(),
                )
            }
        }
    }
}
