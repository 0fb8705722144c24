//! What the facade adds to the executor's one pass over a finished run's log (queue order):
//! the trials of the overfitting statistics (validation.json) and summary.parquet, so a run
//! of a million simulations reads its log once to write every summary.
//!
//! summary.parquet has summary.csv's columns ([`bt_domain::SummaryLayout`]), typed
//! (docs/results-format.md): text as Utf8, parameters by their type, `start`/`end` as
//! `Datetime(ns, UTC)`, the durations as `Duration(ns)`, `n_trades` as Int64, the other
//! statistics as Float64; a value a record lacks (a failed simulation's statistics, another
//! strategy's parameters, NaT) is a null. It is written [`BATCH_ROWS`] rows at a time, so
//! memory holds one batch, and its bytes depend only on the records (not on the thread
//! count, the shards merged or the time).

use std::{path::Path, sync::Mutex};

use bt_data::{Column, ColumnType, TableWriter};
use bt_domain::{ParamValue, RETURN_KEYS, STAT_KEYS, SimOutcome, SimRecord, StatValue, Stats};
use bt_executor::{ExecError, SummaryOutput, SummaryRows, log::ParamKind};

use crate::validation::Groups;

/// Rows per batch (and Parquet row group) of summary.parquet.
pub(crate) const BATCH_ROWS: usize = 65_536;

/// The summaries of a run directory beyond summary.csv.
#[derive(Default)]
pub(crate) struct RunSummaries {
    /// The trials collected by the last pass, until taken.
    trials: Mutex<Option<Groups>>,
}

impl RunSummaries {
    /// The trials of the pass that ran (`None` if none finished).
    pub(crate) fn take_trials(&self) -> Option<Groups> {
        self.trials.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl SummaryOutput for RunSummaries {
    fn start(
        &self,
        dir: &Path,
        params: &[(String, ParamKind)],
    ) -> Result<Box<dyn SummaryRows + '_>, ExecError> {
        let path = bt_executor::RunDir::new(dir).summary_parquet();
        let table = SummaryParquet::create(&path, params).map_err(exec_error)?;
        Ok(Box::new(Rows { owner: self, trials: Groups::default(), table }))
    }
}

/// One pass's rows.
struct Rows<'a> {
    owner: &'a RunSummaries,
    trials: Groups,
    table: SummaryParquet,
}

impl SummaryRows for Rows<'_> {
    fn row(&mut self, record: &SimRecord) -> Result<(), ExecError> {
        self.trials.push(record);
        self.table.row(record).map_err(exec_error)
    }

    fn finish(self: Box<Self>) -> Result<(), ExecError> {
        let Rows { owner, trials, table } = *self;
        table.finish().map_err(exec_error)?;
        *owner.trials.lock().unwrap_or_else(|e| e.into_inner()) = Some(trials);
        Ok(())
    }
}

/// A summary.parquet error as the executor's: writing a run file failed.
fn exec_error(e: bt_data::DataError) -> ExecError {
    let path = match &e {
        bt_data::DataError::ParquetWrite { path, .. }
        | bt_data::DataError::Io { path, .. }
        | bt_data::DataError::BadTable { path, .. } => path.clone(),
        _ => "summary.parquet".into(),
    };
    ExecError::Write { path, source: std::io::Error::other(e.to_string()) }
}

/// summary.parquet of `run`'s records (in queue order), written at `path` streaming: what
/// `bt report --format parquet` writes.
pub(crate) fn write_summary_parquet(path: &Path, run: &bt_executor::RunDir) -> crate::Result<()> {
    let results = run.results();
    let kinds = bt_executor::param_kinds(&[&results])?;
    let mut table = SummaryParquet::create(path, &kinds)?;
    bt_executor::for_each_in_queue_order(&results, |r| table.row(&r).map_err(exec_error))?;
    table.finish()?;
    Ok(())
}

/// A parameter column's type: the type of its values, Float64 where some are integers and
/// some floats, Utf8 (the values as summary.csv writes them) for any other mix.
fn param_type(kinds: &[ParamKind]) -> ColumnType {
    let only = |k: ParamKind| kinds.iter().all(|&x| x == k);
    if only(ParamKind::Int) {
        ColumnType::I64
    } else if only(ParamKind::Bool) {
        ColumnType::Bool
    } else if kinds.iter().all(|k| matches!(k, ParamKind::Int | ParamKind::Float)) {
        ColumnType::F64
    } else {
        ColumnType::Str
    }
}

/// The column type of each statistic of [`STAT_KEYS`], from the types of its values.
fn stat_types() -> [ColumnType; 32] {
    Stats::from_words([0; 32]).values().map(|(_, v)| match v {
        StatValue::Time(_) => ColumnType::Timestamp,
        StatValue::Duration(_) => ColumnType::Duration,
        StatValue::Float(_) => ColumnType::F64,
        StatValue::Count(_) => ColumnType::I64,
    })
}

/// The fixed columns before the parameters.
const LEADING: [&str; 4] = ["id", "dataset", "strategy", "status"];

/// summary.parquet being written (see the [module docs](self)).
pub(crate) struct SummaryParquet {
    table: TableWriter,
    /// The parameter columns' names (as in the records) and types.
    params: Vec<(String, ColumnType)>,
    /// The batch being filled, one column per schema column.
    batch: Vec<Column>,
    rows: usize,
}

impl SummaryParquet {
    /// Starts the table at `path` for records with these parameters (see
    /// [`bt_executor::param_kinds`]: sorted, a name may come with several types).
    pub(crate) fn create(
        path: &Path,
        kinds: &[(String, ParamKind)],
    ) -> Result<SummaryParquet, bt_data::DataError> {
        let mut params: Vec<(String, ColumnType)> = Vec::new();
        let mut i = 0;
        while i < kinds.len() {
            let name = &kinds[i].0;
            let n = kinds[i..].iter().take_while(|(k, _)| k == name).count();
            let types: Vec<ParamKind> = kinds[i..i + n].iter().map(|(_, t)| *t).collect();
            params.push((name.clone(), param_type(&types)));
            i += n;
        }
        let fixed: Vec<&str> = LEADING
            .iter()
            .chain(&STAT_KEYS)
            .chain(&RETURN_KEYS)
            .copied()
            .chain(["error"])
            .collect();
        let mut schema: Vec<(String, ColumnType)> =
            LEADING.iter().map(|n| (n.to_string(), ColumnType::Str)).collect();
        for (name, kind) in &params {
            // A parameter named like a fixed column (a rules file's `id`) is `param.NAME`.
            let column =
                if fixed.contains(&name.as_str()) { format!("param.{name}") } else { name.clone() };
            schema.push((column, *kind));
        }
        schema.extend(STAT_KEYS.iter().zip(stat_types()).map(|(n, t)| (n.to_string(), t)));
        schema.extend(RETURN_KEYS.iter().map(|n| (n.to_string(), ColumnType::F64)));
        schema.push(("error".into(), ColumnType::Str));
        let batch = schema.iter().map(|(_, t)| empty(*t)).collect();
        let table = TableWriter::create(path, schema)?;
        Ok(SummaryParquet { table, params, batch, rows: 0 })
    }

    /// Adds one record's row (records come in queue order).
    pub(crate) fn row(&mut self, r: &SimRecord) -> Result<(), bt_data::DataError> {
        let mut cols = self.batch.iter_mut();
        let mut next = || cols.next().expect("one column per schema column");
        let ok = matches!(r.outcome, SimOutcome::Ok(_));
        for text in [&r.id, &r.dataset, &r.strategy] {
            push_str(next(), Some(text.clone()));
        }
        push_str(next(), Some(if ok { "ok" } else { "failed" }.into()));
        for (name, _) in &self.params {
            push_param(next(), r.params.get(name));
        }
        match &r.outcome {
            SimOutcome::Ok(s) => {
                for (_, v) in s.stats.values() {
                    push_stat(next(), Some(v));
                }
                for x in s.returns.values() {
                    push_stat(next(), Some(StatValue::Float(x)));
                }
                push_str(next(), None);
            }
            SimOutcome::Failed(message) => {
                for _ in 0..STAT_KEYS.len() + RETURN_KEYS.len() {
                    push_stat(next(), None);
                }
                push_str(next(), Some(message.clone()));
            }
        }
        self.rows += 1;
        if self.rows == BATCH_ROWS { self.flush() } else { Ok(()) }
    }

    /// Writes the rows collected so far as one batch.
    fn flush(&mut self) -> Result<(), bt_data::DataError> {
        let batch = self.batch.iter_mut().map(|c| std::mem::replace(c, empty(c.column_type())));
        self.rows = 0;
        self.table.write_batch(batch.collect())
    }

    /// Writes the last batch and publishes the file.
    pub(crate) fn finish(mut self) -> Result<(), bt_data::DataError> {
        self.flush()?;
        self.table.finish()
    }
}

/// An empty column of type `t`, with room for a batch.
fn empty(t: ColumnType) -> Column {
    let n = BATCH_ROWS;
    match t {
        ColumnType::Bool => Column::Bool(Vec::with_capacity(n)),
        ColumnType::I64 => Column::I64(Vec::with_capacity(n)),
        ColumnType::F64 => Column::F64(Vec::with_capacity(n)),
        ColumnType::Str => Column::Str(Vec::with_capacity(n)),
        ColumnType::Timestamp => Column::Timestamp(Vec::with_capacity(n)),
        ColumnType::Duration => Column::Duration(Vec::with_capacity(n)),
    }
}

fn push_str(c: &mut Column, v: Option<String>) {
    if let Column::Str(c) = c {
        c.push(v);
    }
}

/// A parameter's value in its column's type (see [`param_type`]).
fn push_param(c: &mut Column, v: Option<&ParamValue>) {
    match c {
        Column::I64(c) => c.push(match v {
            Some(ParamValue::Int(i)) => Some(*i),
            _ => None,
        }),
        Column::F64(c) => c.push(match v {
            Some(ParamValue::Int(i)) => Some(*i as f64),
            Some(ParamValue::Float(x)) => Some(*x),
            _ => None,
        }),
        Column::Bool(c) => c.push(match v {
            Some(ParamValue::Bool(b)) => Some(*b),
            _ => None,
        }),
        Column::Str(c) => c.push(v.map(|v| match v {
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(x) => x.to_string(),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Str(s) => s.clone(),
        })),
        Column::Timestamp(_) | Column::Duration(_) => {}
    }
}

/// A statistic in its column (see [`stat_types`]); NaT is a null.
fn push_stat(c: &mut Column, v: Option<StatValue>) {
    match (c, v) {
        (Column::Timestamp(c), Some(StatValue::Time(t))) => c.push(Some(t)),
        (Column::Duration(c), Some(StatValue::Duration(d))) => c.push(d),
        (Column::F64(c), Some(StatValue::Float(x))) => c.push(Some(x)),
        (Column::I64(c), Some(StatValue::Count(n))) => c.push(i64::try_from(n).ok()),
        (Column::Timestamp(c) | Column::Duration(c) | Column::I64(c), None) => c.push(None),
        (Column::F64(c), None) => c.push(None),
        // Not reached (the types come from the same statistics); a value left out would be
        // refused by `write_batch` (columns of different lengths).
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use bt_data::read_table_parquet;
    use bt_domain::{ReturnStats, SimSummary};

    use super::*;

    /// Record `i`: every 1000th failed; `p` an integer on even records, a float on odd ones;
    /// a parameter named `id`.
    fn record(i: u64) -> SimRecord {
        let outcome = if i % 1000 == 999 {
            SimOutcome::Failed(format!("failure {i}"))
        } else {
            let mut words = [0; 32];
            words[12] = (i as f64 / 7.0).to_bits(); // sharpe_ratio
            words[21] = i % 50; // n_trades
            words[19] = i64::MIN as u64; // max_drawdown_duration: NaT
            SimOutcome::Ok(Box::new(SimSummary {
                stats: Stats::from_words(words),
                returns: ReturnStats::missing(),
                n_bars: 10,
                bar_steps: 10,
                open_trades: 0,
                cancelled_orders: 0,
                bust_bar: None,
            }))
        };
        let p =
            if i.is_multiple_of(2) { ParamValue::Int(i as i64) } else { ParamValue::Float(0.5) };
        SimRecord {
            index: i,
            id: format!("s{i}"),
            dataset: "d".into(),
            strategy: "x".into(),
            params: [
                ("p".to_string(), p),
                ("id".to_string(), ParamValue::Bool(i.is_multiple_of(3))),
            ]
            .into(),
            outcome,
        }
    }

    #[test]
    fn more_rows_than_a_batch_are_written_in_batches_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.parquet");
        let kinds = [
            ("id".to_string(), ParamKind::Bool),
            ("p".to_string(), ParamKind::Int),
            ("p".to_string(), ParamKind::Float),
        ];
        let n = BATCH_ROWS as u64 * 2 + 17;
        let mut table = SummaryParquet::create(&path, &kinds).unwrap();
        for i in 0..n {
            table.row(&record(i)).unwrap();
        }
        table.finish().unwrap();
        let back = read_table_parquet(&path).unwrap();
        let col = |name: &str| &back.iter().find(|(n, _)| n == name).unwrap().1;
        let Column::Str(ids) = col("id") else { panic!("id is text") };
        assert_eq!(ids.len() as u64, n);
        assert!(ids.iter().enumerate().all(|(i, id)| id.as_deref() == Some(&*format!("s{i}"))));
        let Column::Bool(param_id) = col("param.id") else { panic!("param.id is Boolean") };
        assert_eq!(param_id[65_537], Some(65_537_u64.is_multiple_of(3)));
        let Column::F64(p) = col("p") else { panic!("an Int/Float parameter is Float64") };
        assert_eq!((p[65_536], p[65_537]), (Some(65_536.0), Some(0.5)));
        let Column::F64(sharpe) = col("sharpe_ratio") else { panic!("Float64") };
        let Column::I64(trades) = col("n_trades") else { panic!("Int64") };
        let Column::Duration(mdd) = col("max_drawdown_duration") else { panic!("Duration") };
        let Column::Str(error) = col("error") else { panic!("text") };
        for i in [0, 998, 999, 65_535, 65_536, 131_071, 131_072, n as usize - 1] {
            if i % 1000 == 999 {
                assert_eq!((sharpe[i], trades[i]), (None, None), "failed row {i}");
                assert_eq!(error[i].as_deref(), Some(&*format!("failure {i}")));
            } else {
                assert_eq!(sharpe[i], Some(i as f64 / 7.0), "row {i}");
                assert_eq!(trades[i], Some(i as i64 % 50), "row {i}");
                assert_eq!((mdd[i], &error[i]), (None, &None), "NaT is a null (row {i})");
            }
        }
    }
}
