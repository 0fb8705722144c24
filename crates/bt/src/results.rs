//! A run directory's results, exported: every record in queue order as JSON lines (the
//! format docs/json-output.md describes) or as the summary CSV, for tools that want text.

use std::{io::Write, path::Path};

use bt_domain::{SummaryLayout, push_csv_line};
use bt_executor::{ExecError, RunDir, encode_record, for_each_in_queue_order, param_kinds};

use crate::error::{Error, Result};

/// What [`export`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per simulation and line.
    Jsonl,
    /// The summary table (`summary.csv`'s bytes, whatever the size of the run).
    Csv,
}

/// Writes the results of the run directory `dir` to `out` in queue order, one simulation at a
/// time (memory does not grow with the run). Returns the number of simulations.
pub fn export(dir: &Path, format: ExportFormat, out: &mut dyn Write) -> Result<u64> {
    let run = RunDir::new(dir);
    if run.read_info()?.is_none() {
        return Err(Error::NotARunDir { path: dir.to_owned() });
    }
    let results = run.results();
    let written = |e: std::io::Error| ExecError::Io { path: "stdout".into(), source: e };
    let mut n = 0;
    let mut line = String::new();
    let layout = match format {
        ExportFormat::Csv => {
            let kinds = param_kinds(&[&results])?;
            let layout = SummaryLayout::new(kinds.iter().map(|(name, _)| name.as_str()));
            push_csv_line(&mut line, layout.columns());
            out.write_all(line.as_bytes()).map_err(written)?;
            Some(layout)
        }
        ExportFormat::Jsonl => None,
    };
    for_each_in_queue_order(&results, |r| {
        n += 1;
        line.clear();
        match &layout {
            Some(layout) => {
                push_csv_line(&mut line, layout.row(&r).iter().map(bt_domain::Cell::to_text))
            }
            None => {
                line.push_str(&encode_record(&r));
                line.push('\n');
            }
        }
        out.write_all(line.as_bytes()).map_err(written)
    })?;
    Ok(n)
}
