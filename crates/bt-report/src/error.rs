use std::path::PathBuf;

use bt_domain::ErrorKind;

/// Everything that can go wrong while rendering tables, charts or the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Reading or writing a file failed.
    #[error(
        "cannot write {}: {source}; {}",
        path.display(),
        if bt_domain::unusable_output(source.kind()) {
            "check that the directory exists and is writable"
        } else {
            "free disk space, then write the report again"
        }
    )]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The metric is not one of the 32 statistics.
    #[error("unknown metric `{metric}`: use one of the statistic keys ({known})")]
    UnknownMetric {
        /// The name given.
        metric: String,
        /// The accepted names, comma separated.
        known: String,
    },
    /// No record has this parameter.
    #[error("unknown parameter `{param}`: the records have {known}")]
    UnknownParam {
        /// The name given.
        param: String,
        /// The parameters the records have, comma separated (or `no parameters`).
        known: String,
    },
    /// A heatmap axis must be numeric.
    #[error(
        "parameter `{param}` is not numeric (simulation {id} has a {kind}): heatmaps need \
         integer or number parameters"
    )]
    NonNumericParam {
        /// The parameter.
        param: String,
        /// A simulation whose value is not numeric.
        id: String,
        /// The type found.
        kind: &'static str,
    },
    /// An equity curve's columns disagree in length, or it is empty.
    #[error(
        "equity curve of {id} has {timestamps} timestamps and {equity} equity values: pass one \
         equity value per bar (at least one bar)"
    )]
    BadCurve {
        /// Simulation id.
        id: String,
        /// Timestamps given.
        timestamps: usize,
        /// Equity values given.
        equity: usize,
    },
    /// A chart has nothing to show.
    #[error("{chart}: {reason}")]
    NoData {
        /// Which chart.
        chart: String,
        /// What is missing and what to do.
        reason: String,
    },
    /// The chart file name has no known extension.
    #[error("cannot tell the chart format of {path}: use a .png or .svg file name")]
    UnknownChartFormat {
        /// The path given.
        path: PathBuf,
    },
    /// An output format name is not known.
    #[error("unknown output format `{format}`: use html, md, csv, json or parquet")]
    UnknownFormat {
        /// The name given.
        format: String,
    },
    /// The embedded font could not be loaded (a corrupt build).
    #[error("the embedded font cannot be loaded: rebuild bt-report ({reason})")]
    Font {
        /// What failed.
        reason: String,
    },
    /// plotters failed while drawing.
    #[error("drawing the chart `{chart}` failed: {reason}")]
    Draw {
        /// Chart title.
        chart: String,
        /// The backend's message.
        reason: String,
    },
    /// The record source failed while a report read it (its own error says why and what to
    /// do).
    #[error("reading the run's records failed: {reason}")]
    Records {
        /// The source's message.
        reason: String,
    },
    /// PNG encoding failed.
    #[error("encoding the chart `{chart}` as PNG failed: {reason}")]
    Png {
        /// Chart title.
        chart: String,
        /// The encoder's message.
        reason: String,
    },
}

impl ReportError {
    /// [`ErrorKind::Io`] for a write that failed for space and for a record source that
    /// failed, [`ErrorKind::Input`] for an unusable output path and for wrong options;
    /// [`ErrorKind::Internal`] for a drawing, encoding or font failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ReportError::Io { source, .. } => ErrorKind::of_write(source.kind()),
            ReportError::Records { .. } => ErrorKind::Io,
            ReportError::Font { .. } | ReportError::Draw { .. } | ReportError::Png { .. } => {
                ErrorKind::Internal
            }
            _ => ErrorKind::Input,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> ReportError {
        ReportError::Io { path: path.into(), source }
    }
}
