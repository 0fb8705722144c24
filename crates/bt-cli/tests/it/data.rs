//! `bt data`: inspect, validate, generate, convert, driven through the real binary.

use std::{path::Path, process::Output};

use crate::bt;

/// Runs `bt` from the crate root (so fixture paths in the output are relative).
fn run(args: &[&str]) -> Output {
    bt().current_dir(env!("CARGO_MANIFEST_DIR")).args(args).output().expect("bt runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn inspect_goog() {
    let o = run(&["data", "inspect", "tests/data/GOOG.csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("2148"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn validate_ok() {
    let o = run(&["data", "validate", "tests/data/GOOG.csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "OK: tests/data/GOOG.csv: 2148 bars, 2004-08-19T00:00:00 .. 2013-03-01T00:00:00\n"
    );
}

#[test]
fn validate_bad_number_exits_2_naming_row_and_column() {
    let o = run(&["data", "validate", "tests/data/bad_number_row7.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(err.contains("row 7, column Open"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn validate_duplicate_timestamp_exits_2_naming_both_rows() {
    let o = run(&["data", "validate", "tests/data/duplicate_timestamp.csv"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("row 5") && err.contains("(row 4)"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn validate_missing_file_exits_2() {
    let o = run(&["data", "validate", "tests/data/no_such_file.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no_such_file.csv: file not found"), "{}", stderr(&o));
}

fn load(p: &Path) -> bt::domain::Bars {
    bt::data::load(p).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn generate_is_deterministic_and_convert_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let d = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let args = |out: &str| {
        vec![
            "data".to_string(),
            "generate".into(),
            "--bars".into(),
            "500".into(),
            "--seed".into(),
            "7".into(),
            "--interval".into(),
            "1h".into(),
            "--start".into(),
            "2020-01-01T00:00:00".into(),
            "--drift".into(),
            "-0.1".into(),
            "-o".into(),
            out.to_string(),
        ]
    };
    for out in [d("a.csv"), d("b.parquet"), d("c.csv")] {
        let o = bt().args(args(&out)).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).starts_with("wrote 500 bars (2020-01-01T00:00:00 .. 2020-01-21T19:00:00)")
        );
    }
    // Same seed, same bits, whichever format and run.
    let a = load(Path::new(&d("a.csv")));
    assert_eq!(a, load(Path::new(&d("b.parquet"))));
    assert_eq!(std::fs::read(d("a.csv")).unwrap(), std::fs::read(d("c.csv")).unwrap());
    assert_eq!(a.len(), 500);

    let o = bt().args(["data", "convert", &d("a.csv"), "-o", &d("a.parquet")]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("converted 500 bars: "));
    assert_eq!(load(Path::new(&d("a.parquet"))), a);
}

#[test]
fn generate_rejects_a_bad_spec_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let o = bt()
        .args(["data", "generate", "--bars", "1", "--seed", "1", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bars = 1 is invalid"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn every_subcommand_help_shows_an_example() {
    for sub in ["inspect", "validate", "generate", "convert"] {
        let o = run(&["data", sub, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        let help = stdout(&o);
        assert!(help.contains(&format!("Example:\n  bt data {sub} ")), "{help}");
    }
}
