use std::{fmt, path::PathBuf};

use bt_domain::ErrorKind;

/// Everything that can be wrong with a queue file or a queue specification.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The queue file could not be read.
    #[error("cannot read queue file {}: {source}; check the path and permissions", path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The output file could not be written.
    #[error(
        "cannot write queue file {}: {source}; {}",
        path.display(),
        if bt_domain::unusable_output(source.kind()) {
            "choose another file, or make sure its directory exists and is writable"
        } else {
            "free disk space, then write it again"
        }
    )]
    Write {
        /// The path as given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid RON, or a value has the wrong shape (unknown field, wrong type).
    #[error("{file}:{line}:{column}: {message}\n{}", snippet(*line, *column, source_line))]
    Syntax {
        /// Display name of the file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What is wrong and how to fix it.
        message: String,
        /// The offending line of the file, for the caret display.
        source_line: String,
    },
    /// The file declares a format version this crate does not read.
    #[error(
        "{file}: unsupported queue version {found}: this bt reads version {supported}; write `version: {supported}` and the version-{supported} fields (see docs/queue-format.md)"
    )]
    Version {
        /// Display name of the file.
        file: String,
        /// The version in the file.
        found: u64,
        /// The version this crate reads.
        supported: u64,
    },
    /// The queue parsed, but is not valid: every problem found, each naming its subject.
    #[error("{file}: {} found; fix {} and try again:{}", count(problems.len()), if problems.len() == 1 { "it" } else { "them" }, list(problems))]
    Invalid {
        /// Display name of the file.
        file: String,
        /// Every problem, in file order.
        problems: Vec<Problem>,
    },
    /// A command-line sweep specification (`fast=5..=34`, `slow=40,50`) is malformed.
    #[error("invalid grid spec {spec:?}: {reason}")]
    GridSpec {
        /// The spec as given.
        spec: String,
        /// What is wrong and what a valid spec looks like.
        reason: String,
    },
    /// A `key=value` parameter specification is malformed.
    #[error("invalid parameter {spec:?}: {reason}")]
    ParamSpec {
        /// The spec as given.
        spec: String,
        /// What is wrong and what a valid spec looks like.
        reason: String,
    },
}

impl QueueError {
    /// [`ErrorKind::Input`], except a queue file that could not be written, which is an
    /// [`ErrorKind::Io`] failure when the path itself was usable (a full disk).
    pub fn kind(&self) -> ErrorKind {
        match self {
            QueueError::Write { source, .. } => ErrorKind::of_write(source.kind()),
            _ => ErrorKind::Input,
        }
    }
}

/// What a [`Problem`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// The queue as a whole.
    Queue,
    /// The `defaults` section.
    Defaults,
    /// A data set, by name.
    Dataset(String),
    /// An explicit simulation, by id.
    Simulation(String),
    /// A sweep, by id.
    Sweep(String),
    /// A walk-forward entry, by id.
    WalkForward(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Queue => f.write_str("queue"),
            Subject::Defaults => f.write_str("defaults"),
            Subject::Dataset(name) => write!(f, "dataset {name:?}"),
            Subject::Simulation(id) => write!(f, "simulation {id:?}"),
            Subject::Sweep(id) => write!(f, "sweep {id:?}"),
            Subject::WalkForward(id) => write!(f, "walk_forward {id:?}"),
        }
    }
}

/// One problem found in a queue: its subject and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What the problem is about.
    pub subject: Subject,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(subject: Subject, message: impl Into<String>) -> Problem {
        Problem { subject, message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.message)
    }
}

fn count(n: usize) -> String {
    if n == 1 { "1 problem".to_string() } else { format!("{n} problems") }
}

fn list(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// The offending line with a caret under the column, rustc style.
pub(crate) fn snippet(line: usize, column: usize, source_line: &str) -> String {
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    // Keep tabs so that the caret lines up with the source in any terminal.
    let indent: String = source_line
        .chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    format!("{pad} |\n{number} | {source_line}\n{pad} | {indent}^")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_shows_line_and_caret() {
        let e = QueueError::Syntax {
            file: "q.ron".into(),
            line: 12,
            column: 5,
            message: "expected comma".into(),
            source_line: "\tab cd".into(),
        };
        assert_eq!(e.to_string(), "q.ron:12:5: expected comma\n   |\n12 | \tab cd\n   | \t   ^");
    }

    #[test]
    fn invalid_lists_every_problem_on_its_own_line() {
        let e = QueueError::Invalid {
            file: "q.ron".into(),
            problems: vec![
                Problem::new(Subject::Simulation("a".into()), "unknown dataset \"x\""),
                Problem::new(Subject::Queue, "nothing to run"),
            ],
        };
        assert_eq!(
            e.to_string(),
            "q.ron: 2 problems found; fix them and try again:\n  - simulation \"a\": unknown dataset \"x\"\n  - queue: nothing to run"
        );
    }
}
