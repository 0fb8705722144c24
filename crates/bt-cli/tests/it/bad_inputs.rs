//! The bad-input corpus (`tests/bad-inputs/`): every file is fed to the real `bt` binary, which
//! must exit 2 with one `error:` message that names the input, and never panic.
//!
//! - `*.csv`, `*.parquet`: `bt data validate FILE`;
//! - `*.ron`: `bt run FILE --check`;
//! - `*.rules`: `bt rules check FILE` (rules files, docs/rules.md);
//! - `*.args`: a command line, one argument per line (`{dir}` is the corpus directory, `{tmp}`
//!   a fresh temporary directory).
//!
//! A file whose first line is `// expect: TEXT` must also say TEXT.

use std::{fs, path::Path};

use crate::bt;

#[test]
fn every_bad_input_exits_2_with_a_located_message_and_no_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            [".csv", ".parquet", ".ron", ".rules", ".args"].iter().any(|ext| n.ends_with(ext))
        })
        .filter(|n| n != "GOOG.csv")
        .collect();
    names.sort();
    assert!(names.len() >= 30, "the corpus has {} cases, want at least 30", names.len());
    let rules =
        names.iter().filter(|n| n.ends_with(".rules") || n.starts_with("queue_rules_")).count();
    assert!(rules >= 25, "{rules} bad rules cases, want at least 25");
    let mut problems = Vec::new();
    for name in &names {
        let tmp = tempfile::tempdir().unwrap();
        let path = dir.join(name);
        let (args, place): (Vec<String>, String) = if let Some(stem) = name.strip_suffix(".args") {
            let text = fs::read_to_string(&path).unwrap();
            let args = text
                .lines()
                .map(|l| {
                    l.replace("{dir}", &dir.display().to_string())
                        .replace("{tmp}", &tmp.path().display().to_string())
                })
                .collect();
            (args, stem.to_owned())
        } else if name.ends_with(".rules") {
            (vec!["rules".into(), "check".into(), path.display().to_string()], name.clone())
        } else if name.ends_with(".ron") {
            (vec!["run".into(), path.display().to_string(), "--check".into()], name.clone())
        } else {
            (vec!["data".into(), "validate".into(), path.display().to_string()], name.clone())
        };
        let o = bt().args(&args).current_dir(tmp.path()).env_remove("RUST_LOG").output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        let mut fail = |why: &str| {
            problems.push(format!("{name}: {why}\n  args: {args:?}\n  stderr: {stderr}"))
        };
        if o.status.code() != Some(2) {
            fail(&format!("exit {:?}, want 2", o.status.code()));
        }
        if stderr.contains("panicked") || stderr.contains("RUST_BACKTRACE") {
            fail("a panic message leaked");
        }
        if !stderr.starts_with("error:") {
            fail("no `error:` message");
        }
        // File inputs: the message names the file (its place); command lines: a message at all.
        if !name.ends_with(".args") && !stderr.contains(place.as_str()) {
            fail("the message does not name the file");
        }
        let expect = fs::read_to_string(&path).ok().and_then(|t| {
            t.lines().next().and_then(|l| l.strip_prefix("// expect: ")).map(str::to_owned)
        });
        if let Some(expect) = expect
            && !stderr.contains(expect.trim())
        {
            fail(&format!("the message does not say {expect:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} cases:\n{}",
        problems.len(),
        names.len(),
        problems.join("\n")
    );
}
