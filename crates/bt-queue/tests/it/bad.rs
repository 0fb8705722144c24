//! The corpus of malformed queue files in tests/bad: every file is rejected, with a message
//! that names the position or the id, and never a panic.
//!
//! Each file starts with `// expect: TEXT`; the message must contain TEXT. The whole message
//! is snapshotted.

use std::path::Path;

use bt_queue::{Queue, QueueError};

use crate::catalog::TestCatalog;

fn load(name: &str) -> (String, Result<(), QueueError>) {
    let dir = Path::new("tests/bad");
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    let expect = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("// expect: "))
        .unwrap_or_else(|| panic!("{name} must start with `// expect: ...`"))
        .to_owned();
    // Relative base dir and display name: messages hold no absolute path.
    (expect, Queue::from_str(&text, dir, name).and_then(|q| q.validate(&TestCatalog)))
}

#[test]
fn every_bad_file_is_rejected_with_a_located_message() {
    let mut names: Vec<String> = std::fs::read_dir("tests/bad")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ron"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "the corpus shrank: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let (expect, result) = load(name);
        let Err(e) = result else {
            failures.push(format!("{name} was accepted"));
            continue;
        };
        let message = e.to_string();
        if !message.contains(&expect) {
            failures.push(format!("{name}: expected {expect:?} in:\n{message}"));
        }
        let after_name = message.strip_prefix(&format!("{name}:")).unwrap_or_default();
        let has_position = after_name.split(':').next().is_some_and(|l| l.parse::<u32>().is_ok());
        let has_subject =
            ["simulation \"", "sweep \"", "dataset \"", "defaults:", "queue:", "version"]
                .iter()
                .any(|s| after_name.contains(s));
        if !(has_position || has_subject) {
            failures.push(format!(
                "{name}: the message names neither a position nor an id:\n{message}"
            ));
        }
        insta::assert_snapshot!(name.trim_end_matches(".ron"), message);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn syntax_errors_carry_line_and_column_fields() {
    let (_, result) = load("syntax_error.ron");
    match result {
        Err(QueueError::Syntax { line, column, source_line, .. }) => {
            assert_eq!((line, column), (7, 9));
            assert!(source_line.contains("(id: \"b\""), "{source_line}");
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn validation_reports_every_problem_with_its_subject() {
    let (_, result) = load("many_problems.ron");
    let Err(QueueError::Invalid { problems, .. }) = result else { panic!("expected Invalid") };
    let subjects: Vec<String> = problems.iter().map(|p| p.subject.to_string()).collect();
    assert_eq!(
        subjects,
        [
            "defaults",
            "dataset \"gone\"",
            "simulation \"a\"",
            "simulation \"\"",
            "sweep \"g\"",
            "sweep \"r\""
        ]
    );
}
