use crate::{
    sim::{ParamValue, Params},
    stats::{STAT_KEYS, StatValue, Stats},
    time,
};

/// What one finished simulation of a run produced: the unit of the result log.
#[derive(Debug, Clone, PartialEq)]
pub struct SimRecord {
    /// Position of the simulation in its queue (0-based): the order of every summary.
    pub index: u64,
    /// Stable simulation id.
    pub id: String,
    /// Data set key.
    pub dataset: String,
    /// Strategy name.
    pub strategy: String,
    /// Parameters, with the strategy's defaults filled in.
    pub params: Params,
    /// Statistics, or why the simulation failed.
    pub outcome: SimOutcome,
}

/// The result of one simulation.
#[derive(Debug, Clone, PartialEq)]
pub enum SimOutcome {
    /// It ran.
    Ok(Box<SimSummary>),
    /// It failed (bad parameters, a strategy error, a panic); the message says why.
    Failed(String),
}

/// The per-bar returns of a simulation's equity curve, summarised for the overfitting
/// statistics (docs/validation.md): `r_t = E_t / E_{t-1} - 1` for `t = 1..bars`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReturnStats {
    /// Number of returns `T` (bars - 1).
    pub t: u64,
    /// `mean(r) / std(r, ddof = 1)`, per bar, not annualised.
    pub sr: f64,
    /// Skewness, central moments with ddof = 0 (`scipy.stats.skew(bias=True)`).
    pub skew: f64,
    /// Kurtosis, not excess (`scipy.stats.kurtosis(fisher=False, bias=True)`).
    pub kurtosis: f64,
    /// The Probabilistic Sharpe Ratio of `sr` against 0.
    pub psr: f64,
    /// Per contiguous block of returns (the PBO's blocks): `[sum, sum of squares]`; the block
    /// sizes follow from `t` and the number of blocks.
    pub blocks: Vec<[f64; 2]>,
}

/// The statistics columns that follow backtesting.py's 32 in every summary.
pub const RETURN_KEYS: [&str; 4] = ["sr", "skew", "kurtosis", "psr"];

impl ReturnStats {
    /// Not computed (a record written before these statistics existed): every value NaN.
    pub fn missing() -> ReturnStats {
        ReturnStats {
            t: 0,
            sr: f64::NAN,
            skew: f64::NAN,
            kurtosis: f64::NAN,
            psr: f64::NAN,
            blocks: Vec::new(),
        }
    }

    /// `sr`, `skew`, `kurtosis`, `psr`, in [`RETURN_KEYS`] order.
    pub fn values(&self) -> [f64; 4] {
        [self.sr, self.skew, self.kurtosis, self.psr]
    }
}

/// Statistics and run facts of one successful simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSummary {
    /// The 32 statistics.
    pub stats: Stats,
    /// The per-bar return statistics (overfitting analysis).
    pub returns: ReturnStats,
    /// Bars in the data set.
    pub n_bars: u64,
    /// Bars the loop stepped through.
    pub bar_steps: u64,
    /// Trades still open at the end.
    pub open_trades: u64,
    /// Orders the broker cancelled for lack of margin.
    pub cancelled_orders: u64,
    /// Bar index at which the account went bust, if it did.
    pub bust_bar: Option<u64>,
}

impl SimRecord {
    /// The statistics, when the simulation succeeded.
    pub fn stats(&self) -> Option<&Stats> {
        match &self.outcome {
            SimOutcome::Ok(s) => Some(&s.stats),
            SimOutcome::Failed(_) => None,
        }
    }

    /// Whether it ran on a window of a data set (`goog[500:625]`): a walk-forward's training
    /// or out-of-sample run, which leaderboards, heatmaps, histograms and the overfitting
    /// statistics leave to the walk-forward's own outputs.
    pub fn on_window(&self) -> bool {
        crate::window::parse_window_name(&self.dataset).is_some()
    }

    /// The statistics leaderboards and charts rank: those of a successful simulation that
    /// did not run on a window (see [`SimRecord::on_window`]).
    pub fn ranked_stats(&self) -> Option<&Stats> {
        if self.on_window() { None } else { self.stats() }
    }
}

/// One cell of a summary table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean (a `bool` parameter): `true`/`false` in text, a boolean in JSON and Parquet.
    Bool(bool),
    /// A number (NaN allowed).
    Float(f64),
    /// Missing.
    Null,
}

impl Cell {
    /// The cell as CSV/Markdown text: floats in Rust's shortest round-trip form, NaN and
    /// missing as empty.
    pub fn to_text(&self) -> String {
        match self {
            Cell::Str(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Float(x) if x.is_nan() => String::new(),
            Cell::Float(x) => x.to_string(),
            Cell::Null => String::new(),
        }
    }
}

/// The column layout of a run's summary: one row per simulation, in queue order.
///
/// Columns: `id, dataset, strategy, status`, then every parameter name that appears in any
/// record (sorted), then the 32 [`STAT_KEYS`] (timestamps ISO 8601, durations in seconds), then
/// `error`. The same layout feeds summary.csv, the Markdown/JSON/Parquet exports and the report,
/// so they always agree. Rows can be produced one at a time (a 10M-row summary is streamed).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummaryLayout {
    /// Parameter names, sorted and unique.
    pub params: Vec<String>,
}

impl SummaryLayout {
    /// The layout for records with these parameter names (any order, duplicates allowed).
    pub fn new<'a>(param_names: impl IntoIterator<Item = &'a str>) -> SummaryLayout {
        let mut params: Vec<String> = param_names.into_iter().map(str::to_owned).collect();
        params.sort_unstable();
        params.dedup();
        SummaryLayout { params }
    }

    /// Column names.
    pub fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> =
            ["id", "dataset", "strategy", "status"].iter().map(|s| s.to_string()).collect();
        columns.extend(self.params.iter().cloned());
        columns.extend(STAT_KEYS.iter().map(|s| s.to_string()));
        columns.extend(RETURN_KEYS.iter().map(|s| s.to_string()));
        columns.push("error".into());
        columns
    }

    /// One record's row.
    pub fn row(&self, r: &SimRecord) -> Vec<Cell> {
        let mut row = vec![
            Cell::Str(r.id.clone()),
            Cell::Str(r.dataset.clone()),
            Cell::Str(r.strategy.clone()),
            Cell::Str(if matches!(r.outcome, SimOutcome::Ok(_)) { "ok" } else { "failed" }.into()),
        ];
        for p in &self.params {
            row.push(match r.params.get(p) {
                Some(ParamValue::Int(i)) => Cell::Int(*i),
                Some(ParamValue::Float(x)) => Cell::Float(*x),
                Some(ParamValue::Bool(b)) => Cell::Bool(*b),
                Some(ParamValue::Str(s)) => Cell::Str(s.clone()),
                None => Cell::Null,
            });
        }
        match &r.outcome {
            SimOutcome::Ok(s) => {
                row.extend(s.stats.values().into_iter().map(|(_, v)| stat_cell(v)));
                row.extend(s.returns.values().into_iter().map(Cell::Float));
                row.push(Cell::Null);
            }
            SimOutcome::Failed(msg) => {
                row.extend(std::iter::repeat_n(Cell::Null, STAT_KEYS.len() + RETURN_KEYS.len()));
                row.push(Cell::Str(msg.clone()));
            }
        }
        row
    }
}

/// Appends one RFC 4180 CSV line (quoted where needed, `\n` line end).
pub fn push_csv_line<S: AsRef<str>>(out: &mut String, cells: impl IntoIterator<Item = S>) {
    let mut first = true;
    for c in cells {
        let c = c.as_ref();
        if !first {
            out.push(',');
        }
        first = false;
        if c.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(c);
        }
    }
    out.push('\n');
}

/// A whole summary table in memory (for small runs, tests and reports).
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryTable {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, in queue order.
    pub rows: Vec<Vec<Cell>>,
}

impl SummaryTable {
    /// Builds the table; `records` may come in any order.
    pub fn new(records: &[SimRecord]) -> SummaryTable {
        let layout =
            SummaryLayout::new(records.iter().flat_map(|r| r.params.keys().map(String::as_str)));
        let mut order: Vec<&SimRecord> = records.iter().collect();
        order.sort_by(|a, b| a.index.cmp(&b.index).then_with(|| a.id.cmp(&b.id)));
        SummaryTable {
            columns: layout.columns(),
            rows: order.into_iter().map(|r| layout.row(r)).collect(),
        }
    }

    /// Renders CSV, exactly as summary.csv is written.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        push_csv_line(&mut out, &self.columns);
        for row in &self.rows {
            push_csv_line(&mut out, row.iter().map(Cell::to_text));
        }
        out
    }
}

/// A statistic as a table cell: timestamps as ISO text, durations in seconds.
pub fn stat_cell(v: StatValue) -> Cell {
    match v {
        StatValue::Time(t) => Cell::Str(time::format_iso(t)),
        StatValue::Duration(Some(d)) => Cell::Float(d as f64 / 1e9),
        StatValue::Duration(None) => Cell::Null,
        StatValue::Float(x) => Cell::Float(x),
        StatValue::Count(n) => Cell::Int(n as i64),
    }
}
