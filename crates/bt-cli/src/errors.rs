//! Failures as the command line reports them: one `error:` line (the cause chain), an optional
//! `hint:` with the flags to use, and the exit code.

use bt::{MergeError, domain::ErrorKind, executor::ExecError};

/// An error in what the user gave us (a flag value, a metric name...): exit code 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// The error chain joined with ": " like `{:#}`, skipping a cause its parent's message already
/// quotes: thiserror messages embed their `source` ("cannot write X: No space left on device
/// (os error 28): free disk space..."). Only the parent's own message counts, and only as a
/// whole ": "-separated part of it, so a short cause that merely occurs in a path or in an
/// earlier message is still printed.
pub fn render_error(err: &anyhow::Error) -> String {
    let mut text = String::new();
    let mut parent = String::new();
    for cause in err.chain() {
        let message = cause.to_string();
        if !message.is_empty() && !quotes(&parent, &message) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&message);
        }
        parent = message;
    }
    text
}

/// Whether `message` is a whole part of `parent`: all of it, or a part that starts the text or
/// follows ": ", and ends the text or is followed by ':' or ';'.
fn quotes(parent: &str, message: &str) -> bool {
    parent.match_indices(message).any(|(at, _)| {
        let (before, after) = (&parent[..at], &parent[at + message.len()..]);
        (before.is_empty() || before.ends_with(": "))
            && (after.is_empty() || after.starts_with(':') || after.starts_with(';'))
    })
}

pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// 2 when the cause is the user's input, 1 for internal and runtime failures: the first link of
/// the chain that knows its kind decides ([`bt::Error::kind`], [`BadInput`]).
///
/// One rule for every output (run, merge, gen-queue, report, data generate/convert): a path
/// that cannot be created or opened because of permissions, a regular file or a directory in
/// the way, or a read-only file system is 2, the user must choose another path; a write that
/// failed for space (full disk, quota, file size limit) is 1, the same command works once there
/// is room (`bt run` mid-run: `--resume`).
pub fn exit_code(err: &anyhow::Error) -> u8 {
    for e in err.chain() {
        let kind = if e.is::<BadInput>() {
            ErrorKind::Input
        } else if let Some(b) = e.downcast_ref::<bt::Error>() {
            b.kind()
        } else {
            continue;
        };
        return match kind {
            ErrorKind::Input => 2,
            ErrorKind::Io | ErrorKind::Internal => 1,
        };
    }
    1
}

/// The flags that fix a library error, when there are some.
pub(crate) fn hint(err: &anyhow::Error) -> Option<&'static str> {
    let mut e: &bt::Error = err.chain().find_map(|e| e.downcast_ref::<bt::Error>())?;
    while let bt::Error::Context { source, .. } = e {
        e = source;
    }
    Some(match e {
        bt::Error::Exec(x) => match x {
            ExecError::AlreadyHasResults { .. } => {
                "pass --resume to finish that run, or --out DIR for a new one"
            }
            ExecError::Write { .. } => {
                "once there is space, run the same command with --resume: the results so far are kept"
            }
            ExecError::OutDir { .. } => "pass another --out",
            ExecError::Locked { .. } => {
                "wait for the other bt process to finish, or pass another --out"
            }
            ExecError::PboBlocksMismatch { .. } => {
                "pass the --pbo-blocks the run started with, or another --out"
            }
            ExecError::QueueMismatch { .. } => {
                "resume with the original queue, data and rules files, or pass another --out"
            }
            _ => return None,
        },
        bt::Error::Merge(m) => match m {
            MergeError::Missing { .. } => {
                "finish the missing shards (`bt run ... --shard K/N --resume`), or pass --allow-partial"
            }
            MergeError::QueueChanged { .. } => "pass the original queue with --queue",
            MergeError::OutHasResults { .. } => "pass another --out",
            MergeError::Write { source, .. } if bt::domain::unusable_output(source.kind()) => {
                "pass another --out"
            }
            MergeError::Write { .. } | MergeError::Undone { .. } => "run the same `bt merge` again",
            _ => return None,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind as Io};

    use super::*;

    #[test]
    fn render_error_keeps_a_short_cause_that_only_occurs_elsewhere() {
        // The cause's text is in a path and in an earlier message, not quoted by its parent.
        let err = anyhow::Error::new(Error::other("denied"))
            .context("reading denied.csv")
            .context("step: denied: x");
        assert_eq!(render_error(&err), "step: denied: x: reading denied.csv: denied");
    }

    #[test]
    fn render_error_prints_a_quoted_source_once() {
        let full = || Error::from(Io::StorageFull);
        let os = full().to_string();
        // The source in the middle (before a hint) and at the end of the parent's message.
        let write =
            bt::Error::from(ExecError::Write { path: "out/results.btr".into(), source: full() });
        let text = render_error(&anyhow::Error::new(write).context("running q.ron"));
        assert_eq!(text.matches(&os).count(), 1, "{text}");
        assert!(text.starts_with("running q.ron: cannot write out/results.btr: "), "{text}");
        let at_end = anyhow::Error::new(Error::other("boom")).context("x: boom");
        assert_eq!(render_error(&at_end), "x: boom");
        let mine =
            bt::Error::from(bt::queue::QueueError::Write { path: "q.ron".into(), source: full() });
        let text = render_error(&anyhow::Error::new(mine));
        assert_eq!(
            text,
            format!("cannot write queue file q.ron: {os}; free disk space, then write it again")
        );
    }

    #[test]
    fn an_unusable_output_path_is_exit_2_and_a_full_disk_exit_1_for_every_writer() {
        let unusable =
            [Io::PermissionDenied, Io::NotADirectory, Io::IsADirectory, Io::ReadOnlyFilesystem];
        let space = [Io::StorageFull, Io::QuotaExceeded, Io::FileTooLarge];
        for (kinds, want) in [(&unusable[..], 2), (&space[..], 1)] {
            for &kind in kinds {
                let errors: Vec<anyhow::Error> = vec![
                    bt::Error::from(bt::queue::QueueError::Write {
                        path: "q.ron".into(),
                        source: kind.into(),
                    })
                    .into(),
                    anyhow::Error::new(bt::Error::from(bt::report::ReportError::Io {
                        path: "r/report.html".into(),
                        source: kind.into(),
                    }))
                    .context("writing the report into r"),
                    bt::Error::from(bt::data::DataError::Io {
                        path: "g.csv".into(),
                        action: "write",
                        source: kind.into(),
                    })
                    .into(),
                ];
                for err in errors {
                    assert_eq!(exit_code(&err), want, "{kind:?}: {err:#}");
                }
            }
        }
        let bad = anyhow::Error::new(BadInput("x".into())).context("while doing y");
        assert_eq!(exit_code(&bad), 2);
        assert_eq!(exit_code(&anyhow::anyhow!("internal")), 1);
    }
}
