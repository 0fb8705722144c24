use std::path::PathBuf;

use bt_domain::ErrorKind;

/// Everything that can go wrong in the workbench, in the library's terms (no command-line
/// flags). [`Error::kind`] says whether the input, the environment or bt is to blame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A data file could not be read or written.
    #[error(transparent)]
    Data(#[from] bt_data::DataError),
    /// A queue file is wrong.
    #[error(transparent)]
    Queue(#[from] bt_queue::QueueError),
    /// A rules file is wrong.
    #[error(transparent)]
    Rules(#[from] bt_rules::RulesError),
    /// A strategy name or parameter is wrong.
    #[error(transparent)]
    Strategy(#[from] bt_domain::StrategyError),
    /// A backtest failed (a strategy action the broker refused, an overflow).
    #[error(transparent)]
    Engine(#[from] bt_engine::EngineError),
    /// A portfolio could not be built or run.
    #[error(transparent)]
    Portfolio(#[from] bt_portfolio::PortfolioError),
    /// A run directory could not be used, read or written.
    #[error(transparent)]
    Exec(#[from] bt_executor::ExecError),
    /// The report could not be written.
    #[error(transparent)]
    Report(#[from] bt_report::ReportError),
    /// A leaderboard filter that does not compile.
    #[error(transparent)]
    Filter(#[from] crate::filter::FilterError),
    /// A ranking metric that is not a statistic.
    #[error(transparent)]
    Metric(#[from] bt_domain::ranking::UnknownMetric),
    /// A directory without run.json.
    #[error("{}: no run.json: not a bt run directory", path.display())]
    NotARunDir {
        /// The directory.
        path: PathBuf,
    },
    /// A data file named by a queue could not be read to fingerprint it.
    #[error("reading data set {name:?} ({}): {source}", path.display())]
    ReadData {
        /// The data set's name in the queue.
        name: String,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A merge that cannot be done as asked.
    #[error(transparent)]
    Merge(#[from] crate::merge::MergeError),
    /// The scheduler's environment does not name a shard.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    /// A Slurm script that cannot be made as asked.
    #[error(transparent)]
    Slurm(#[from] crate::slurm::SlurmError),
    /// A walk-forward's out-of-sample run failed.
    #[error("walk-forward window {message}")]
    WalkForward {
        /// The window and why.
        message: String,
    },
    /// A number of PBO blocks the PBO cannot use.
    #[error(
        "PBO blocks must be 0 (no PBO) or an even number from 2 to {max}, not {blocks}",
        max = crate::validation::MAX_PBO_BLOCKS
    )]
    BadPboBlocks {
        /// The number asked for.
        blocks: usize,
    },
    /// An error with what the workbench was doing when it happened.
    #[error("{context}")]
    Context {
        /// What was being done ("writing the report into runs/x").
        context: String,
        /// The error.
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// Input, I/O or internal: see [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Data(e) => e.kind(),
            Error::Queue(e) => e.kind(),
            Error::Strategy(e) => e.kind(),
            Error::Rules(e) => e.kind(),
            Error::Engine(e) => e.kind(),
            Error::Portfolio(e) => e.kind(),
            Error::Exec(e) => e.kind(),
            Error::Report(e) => e.kind(),
            Error::Merge(e) => e.kind(),
            Error::Slurm(e) => e.kind(),
            Error::Cluster(e) => e.kind(),
            Error::Metric(_)
            | Error::Filter(_)
            | Error::NotARunDir { .. }
            | Error::ReadData { .. }
            | Error::BadPboBlocks { .. }
            | Error::WalkForward { .. } => ErrorKind::Input,
            Error::Context { source, .. } => source.kind(),
        }
    }

    /// This error with what was being done.
    pub fn context(self, context: impl Into<String>) -> Error {
        Error::Context { context: context.into(), source: Box::new(self) }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<crate::simulate::SimError> for Error {
    fn from(e: crate::simulate::SimError) -> Error {
        match e {
            crate::simulate::SimError::Strategy(e) => Error::Strategy(e),
            crate::simulate::SimError::Engine(e) => Error::Engine(e),
            crate::simulate::SimError::Portfolio(e) => Error::Portfolio(e),
            crate::simulate::SimError::WalkForward(message) => Error::WalkForward { message },
        }
    }
}
