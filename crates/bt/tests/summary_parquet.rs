//! summary.parquet of a run (docs/results-format.md): one typed column per parameter and
//! statistic, the same values as summary.csv, nulls where a record has no value.

use std::path::Path;

use bt::{
    RunOptions, Workbench,
    data::{Column, ColumnType, read_table_parquet},
    domain::time::format_iso,
    executor::Mode,
    strategies::Registry,
};

fn run(queue: &Path, out: &Path, allow_short_data: bool) {
    let wb = Workbench::new(Registry::builtin());
    let queue = wb.read_queue(queue).unwrap();
    let opts = RunOptions {
        out: out.to_owned(),
        mode: Mode::Threads(2),
        allow_short_data,
        ..RunOptions::default()
    };
    wb.run_queue(&queue, &opts).unwrap();
}

/// The fields of one RFC 4180 line (quotes undone).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Cell `row` of `column` as summary.csv writes it (floats shortest round-trip, NaN and null
/// empty, times ISO 8601, durations in seconds).
fn as_csv(column: &Column, row: usize) -> String {
    fn text<T: ToString>(v: &Option<T>) -> String {
        v.as_ref().map_or(String::new(), T::to_string)
    }
    match column {
        Column::Bool(v) => text(&v[row]),
        Column::I64(v) => text(&v[row]),
        Column::F64(v) => v[row].filter(|x| !x.is_nan()).map_or(String::new(), |x| x.to_string()),
        Column::Str(v) => v[row].clone().unwrap_or_default(),
        Column::Timestamp(v) => v[row].map_or(String::new(), format_iso),
        Column::Duration(v) => v[row].map_or(String::new(), |d| (d as f64 / 1e9).to_string()),
    }
}

fn column<'a>(table: &'a [(String, Column)], name: &str) -> &'a Column {
    &table.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no column {name}")).1
}

#[test]
fn the_example_queue_gives_typed_columns_with_summary_csv_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run(&root.join("data/queues/example.ron"), &out, false);
    let table = read_table_parquet(&out.join("summary.parquet")).unwrap();
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    let header = csv_fields(lines.next().unwrap());
    let names: Vec<&str> = table.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, header, "the columns of summary.csv, in its order");

    let ty = |name: &str| column(&table, name).column_type();
    for (name, expected) in [
        ("id", ColumnType::Str),
        ("dataset", ColumnType::Str),
        ("strategy", ColumnType::Str),
        ("status", ColumnType::Str),
        ("fast", ColumnType::I64),
        ("period", ColumnType::I64),
        ("k", ColumnType::F64),
        ("long_only", ColumnType::Bool),
        ("start", ColumnType::Timestamp),
        ("end", ColumnType::Timestamp),
        ("duration", ColumnType::Duration),
        ("max_drawdown_duration", ColumnType::Duration),
        ("avg_trade_duration", ColumnType::Duration),
        ("n_trades", ColumnType::I64),
        ("sharpe_ratio", ColumnType::F64),
        ("equity_final", ColumnType::F64),
        ("psr", ColumnType::F64),
        ("error", ColumnType::Str),
    ] {
        assert_eq!(ty(name), expected, "type of {name}");
    }

    let rows: Vec<Vec<String>> = lines.map(csv_fields).collect();
    assert_eq!(rows.len(), 365);
    for (r, row) in rows.iter().enumerate() {
        for ((name, col), cell) in table.iter().zip(row) {
            assert_eq!(col.len(), rows.len());
            assert_eq!(&as_csv(col, r), cell, "row {r} ({}), column {name}", row[0]);
        }
    }
    // Another strategy's parameter is a null, not 0 or false.
    let Column::I64(fast) = column(&table, "fast") else { unreachable!() };
    let Column::Bool(long_only) = column(&table, "long_only") else { unreachable!() };
    let bh = rows.iter().position(|r| r[0] == "buy-and-hold").unwrap();
    assert_eq!((fast[bh], long_only[bh]), (None, None));
    assert_eq!(fast[0], Some(10));
}

#[test]
fn a_failed_simulation_has_null_statistics_and_its_error() {
    let tmp = tempfile::tempdir().unwrap();
    let q = tmp.path().join("q.ron");
    // The warm-up of slow = 50 is longer than 30 bars: that simulation fails.
    std::fs::write(
        &q,
        r#"(
    version: 1,
    datasets: {"tiny": (synthetic: (bars: 30, seed: 1, interval: "1d")),
               "big": (synthetic: (bars: 300, seed: 1, interval: "1d"))},
    simulations: [
        (id: "short", dataset: "tiny", strategy: "sma_cross", params: {"fast": 10, "slow": 50}),
        (id: "fine", dataset: "big", strategy: "sma_cross", params: {"fast": 10, "slow": 50}),
    ],
)"#,
    )
    .unwrap();
    let out = tmp.path().join("run");
    run(&q, &out, true);
    let table = read_table_parquet(&out.join("summary.parquet")).unwrap();
    let Column::Str(status) = column(&table, "status") else { unreachable!() };
    assert_eq!(status, &[Some("failed".to_string()), Some("ok".to_string())]);
    let Column::Str(error) = column(&table, "error") else { unreachable!() };
    assert!(error[0].as_deref().is_some_and(|e| !e.is_empty()), "{error:?}");
    assert_eq!(error[1], None);
    let Column::F64(sharpe) = column(&table, "sharpe_ratio") else { unreachable!() };
    assert_eq!(sharpe[0], None);
    assert!(sharpe[1].is_some());
    let Column::Timestamp(start) = column(&table, "start") else { unreachable!() };
    assert_eq!(start[0], None);
    assert!(start[1].is_some());
    let Column::I64(n_trades) = column(&table, "n_trades") else { unreachable!() };
    assert_eq!(n_trades[0], None);
    let Column::I64(fast) = column(&table, "fast") else { unreachable!() };
    assert_eq!(fast, &[Some(10), Some(10)], "a failed simulation keeps its parameters");
}
