//! The summary exports: CSV, JSON and Markdown, whole (from a [`SummaryTable`]) or streamed a
//! row at a time while a report reads its records.

use std::{
    fmt::Write as _,
    io::Write as _,
    path::{Path, PathBuf},
};

use bt_domain::{Cell, SimRecord, SummaryLayout, SummaryTable, push_csv_line};
use bt_fs::AtomicFile;

use crate::{
    error::ReportError,
    table::{markdown_header, push_md_cell, thousands},
};

/// The whole summary table as Markdown (cells as in the CSV: NaN and missing empty).
pub fn summary_markdown(table: &SummaryTable) -> String {
    let mut out = String::with_capacity(table.rows.len() * table.columns.len() * 12);
    markdown_header(&mut out, &table.columns);
    for row in &table.rows {
        push_md_row(&mut out, row);
    }
    out
}

/// The summary table as a JSON array of objects, one per line.
///
/// Keys follow the table's column order (stable across runs); NaN, infinities and missing cells
/// are `null`, since JSON has no NaN.
pub fn summary_json(table: &SummaryTable) -> String {
    let keys = json_keys(&table.columns);
    let mut out = String::from("[");
    for (i, row) in table.rows.iter().enumerate() {
        push_json_row(&mut out, &keys, row, i == 0);
    }
    out.push_str(JSON_END);
    out
}

/// What closes the JSON array (after the last row, or right after `[`).
const JSON_END: &str = "\n]\n";

/// Summary rows up to which summary.md shows every simulation (in queue order); beyond, it
/// shows this many, the best by the report's metric.
pub(crate) const MARKDOWN_ROWS: usize = 1_000;

fn push_md_row(out: &mut String, row: &[Cell]) {
    out.push('|');
    for cell in row {
        match cell {
            Cell::Str(s) => push_md_cell(out, s),
            other => push_md_cell(out, &other.to_text()),
        }
    }
    out.push('\n');
}

fn json_keys(columns: &[String]) -> Vec<String> {
    columns.iter().map(|c| json_string(c)).collect()
}

/// Appends one row as a JSON object on its own line (`,` before it unless it is the first).
fn push_json_row(out: &mut String, keys: &[String], row: &[Cell], first: bool) {
    out.push_str(if first { "\n{" } else { ",\n{" });
    for (j, (key, cell)) in keys.iter().zip(row).enumerate() {
        if j > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push(':');
        match cell {
            Cell::Str(s) => out.push_str(&json_string(s)),
            Cell::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Cell::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            Cell::Float(x) => match serde_json::Number::from_f64(*x) {
                Some(n) => {
                    let _ = write!(out, "{n}");
                }
                None => out.push_str("null"),
            },
            Cell::Null => out.push_str("null"),
        }
    }
    out.push('}');
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// summary.md of a run too large to show whole: a first line that says so, then the best
/// `top.len()` rows (ranked like the leaderboard); `full` names the exports that hold every row.
pub(crate) fn top_summary_markdown(
    layout: &SummaryLayout,
    top: &[SimRecord],
    total: u64,
    metric: &str,
    full: &[&str],
) -> String {
    let whole = match full {
        [] => "the full table was not exported".to_string(),
        [one] => format!("every row is in {one}"),
        [rest @ .., last] => format!("every row is in {} and {last}", rest.join(", ")),
    };
    let mut out = format!(
        "Top {} of {} simulations by {metric}; {whole}.\n\n",
        thousands(top.len() as u64),
        thousands(total)
    );
    markdown_header(&mut out, &layout.columns());
    for r in top {
        push_md_row(&mut out, &layout.row(r));
    }
    out
}

/// A file written a line at a time, atomically.
struct Streamed {
    file: AtomicFile,
    path: PathBuf,
}

impl Streamed {
    fn create(path: PathBuf) -> Result<Streamed, ReportError> {
        let file = AtomicFile::create(&path).map_err(|e| ReportError::io(&path, e))?;
        Ok(Streamed { file, path })
    }

    fn write(&mut self, text: &str) -> Result<(), ReportError> {
        self.file.write_all(text.as_bytes()).map_err(|e| ReportError::io(&self.path, e))
    }

    fn commit(self, files: &mut Vec<PathBuf>) -> Result<(), ReportError> {
        self.file.commit().map_err(|e| ReportError::io(&self.path, e))?;
        files.push(self.path);
        Ok(())
    }
}

/// Which summary exports to write while the records stream by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExportSet {
    /// summary.csv.
    pub csv: bool,
    /// summary.json.
    pub json: bool,
    /// summary.md with every row (a small run).
    pub md_whole: bool,
}

/// The summary exports being written, a record at a time in queue order: summary.csv and
/// summary.json go straight to their files, with the same bytes as the whole table's
/// [`SummaryTable::to_csv`] and [`summary_json`]; summary.md stays in memory (it is only
/// written whole for at most [`MARKDOWN_ROWS`] rows).
pub(crate) struct Exports {
    layout: SummaryLayout,
    csv: Option<Streamed>,
    json: Option<(Streamed, Vec<String>)>,
    md: Option<String>,
    rows: u64,
    line: String,
}

impl Exports {
    /// Starts the files of `set` in `dir`, their headers written.
    pub(crate) fn create(
        dir: &Path,
        layout: SummaryLayout,
        set: ExportSet,
    ) -> Result<Exports, ReportError> {
        let columns = layout.columns();
        let mut line = String::new();
        let csv = if set.csv {
            let mut f = Streamed::create(dir.join("summary.csv"))?;
            push_csv_line(&mut line, &columns);
            f.write(&line)?;
            Some(f)
        } else {
            None
        };
        let json = if set.json {
            let mut f = Streamed::create(dir.join("summary.json"))?;
            f.write("[")?;
            Some((f, json_keys(&columns)))
        } else {
            None
        };
        let md = set.md_whole.then(|| {
            let mut out = String::new();
            markdown_header(&mut out, &columns);
            out
        });
        Ok(Exports { layout, csv, json, md, rows: 0, line })
    }

    /// Whether any export is being written.
    pub(crate) fn active(&self) -> bool {
        self.csv.is_some() || self.json.is_some() || self.md.is_some()
    }

    /// Writes one record's row.
    pub(crate) fn observe(&mut self, r: &SimRecord) -> Result<(), ReportError> {
        if !self.active() {
            return Ok(());
        }
        let row = self.layout.row(r);
        if let Some(f) = &mut self.csv {
            self.line.clear();
            push_csv_line(&mut self.line, row.iter().map(Cell::to_text));
            f.write(&self.line)?;
        }
        if let Some((f, keys)) = &mut self.json {
            self.line.clear();
            push_json_row(&mut self.line, keys, &row, self.rows == 0);
            f.write(&self.line)?;
        }
        if let Some(md) = &mut self.md {
            push_md_row(md, &row);
        }
        self.rows += 1;
        Ok(())
    }

    /// Publishes summary.csv then summary.json (their paths pushed on `files`) and returns the
    /// text of summary.md when it was kept whole.
    pub(crate) fn finish(self, files: &mut Vec<PathBuf>) -> Result<Option<String>, ReportError> {
        if let Some(f) = self.csv {
            f.commit(files)?;
        }
        if let Some((mut f, _)) = self.json {
            f.write(JSON_END)?;
            f.commit(files)?;
        }
        Ok(self.md)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_line_names_the_full_exports() {
        let layout = SummaryLayout::new([]);
        let line = |full: &[&str]| {
            let text = top_summary_markdown(&layout, &[], 1_234_567, "sqn", full);
            text.lines().next().unwrap().to_string()
        };
        assert_eq!(
            line(&["summary.csv", "summary.json", "summary.parquet"]),
            "Top 0 of 1,234,567 simulations by sqn; every row is in summary.csv, summary.json and summary.parquet."
        );
        assert_eq!(
            line(&["summary.csv"]),
            "Top 0 of 1,234,567 simulations by sqn; every row is in summary.csv."
        );
        assert_eq!(
            line(&[]),
            "Top 0 of 1,234,567 simulations by sqn; the full table was not exported."
        );
    }
}
