//! Leaderboard filters: `strategy == "rsi_reversion" and n_trades >= 20` compiled, in the
//! language of a queue's `where` (bt-expr's constant evaluator, typed once), to the
//! report's [`RecordFilter`].
//!
//! A filter names:
//! - `id`, `dataset`, `strategy`, `sweep` (the id up to its first `/`: a sweep's id for its
//!   points, an explicit simulation's own id): strings, compared with `==` and `!=`;
//! - every parameter of the run's strategies and every broker setting a sweep can vary
//!   (numbers, or booleans for flags): a record without that parameter does not pass;
//! - every statistic ([`STAT_KEYS`]: durations in seconds, `start`/`end` in seconds since
//!   1970) and the return statistics `sr`, `skew`, `kurtosis`, `psr` ([`RETURN_KEYS`]): a NaN
//!   fails every comparison (`win_rate_pct >= 0` keeps no simulation without trades).
//!
//! `--min-trades N` is `n_trades >= N`, joined to the expression by `and`.

use std::{cell::RefCell, collections::BTreeMap, fmt};

use bt_domain::{BacktestConfig, ParamKind, ParamValue, RETURN_KEYS, STAT_KEYS, SimRecord};
use bt_expr::{
    BinOp, NodeKind,
    scalar::{Binding, Scalar, Ty, Vocabulary},
};
use bt_report::RecordFilter;
use bt_strategies::Registry;

/// How errors speak of the filter's names.
const WORDS: Vocabulary<'static> = Vocabulary {
    noun: "column",
    known_label: "columns (id, dataset, strategy, parameters, statistics)",
    context: "the filter",
    strings: true,
};

/// The parameters a filter may name, with their types: those of a registry's strategies and
/// the broker settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FilterColumns {
    params: BTreeMap<String, Ty>,
}

impl FilterColumns {
    /// Every parameter of `registry`'s strategies and every broker setting
    /// ([`BacktestConfig::FIELDS`]). A name that is a flag in one strategy and a number in
    /// another is a number (flags compare as 0 and 1).
    pub fn of_registry(registry: &Registry) -> FilterColumns {
        let mut columns = FilterColumns::default();
        for name in BacktestConfig::FIELDS {
            let flag = BacktestConfig::default().set(name, &ParamValue::Bool(true)).is_ok();
            columns.add(name, if flag { Ty::Bool } else { Ty::Num });
        }
        for strategy in registry.names() {
            for p in registry.describe(strategy).unwrap_or_default() {
                columns.add(&p.name, if p.kind == ParamKind::Bool { Ty::Bool } else { Ty::Num });
            }
        }
        columns
    }

    /// Adds parameter `name` of type `ty` (a number when it is already there with another).
    pub fn add(&mut self, name: &str, ty: Ty) {
        let entry = self.params.entry(name.to_owned()).or_insert(ty);
        if *entry != ty {
            *entry = Ty::Num;
        }
    }

    /// Every name a filter may use: `id`, `dataset`, `strategy`, the parameters (sorted), the
    /// statistics, the return statistics.
    pub fn names(&self) -> Vec<&str> {
        let mut names = vec!["id", "dataset", "strategy", "sweep"];
        names.extend(self.params.keys().map(String::as_str).filter(|p| !is_fixed(p)));
        names.extend(STAT_KEYS);
        names.extend(RETURN_KEYS);
        names
    }

    /// What a filter may name, grouped, for errors.
    fn allowed(&self) -> String {
        let params: Vec<&str> =
            self.params.keys().map(String::as_str).filter(|p| !is_fixed(p)).collect();
        format!(
            "a filter names `id`, `dataset`, `strategy`, `sweep` (strings, compared with == and !=), \
             parameters ({}), statistics ({}) and return statistics ({})",
            params.join(", "),
            STAT_KEYS.join(", "),
            RETURN_KEYS.join(", ")
        )
    }

    /// What `name` is, in the filter's terms.
    fn column(&self, name: &str) -> Option<Column> {
        Some(match name {
            "id" => Column::Id,
            "dataset" => Column::Dataset,
            "strategy" => Column::Strategy,
            "sweep" => Column::Sweep,
            _ => {
                if let Some(i) = STAT_KEYS.iter().position(|k| *k == name) {
                    Column::Stat(i)
                } else if let Some(i) = RETURN_KEYS.iter().position(|k| *k == name) {
                    Column::Return(i)
                } else {
                    Column::Param(name.to_owned(), *self.params.get(name)?)
                }
            }
        })
    }
}

/// A name the filter knows whatever the strategies: a statistic or a record field.
fn is_fixed(name: &str) -> bool {
    matches!(name, "id" | "dataset" | "strategy" | "sweep")
        || STAT_KEYS.contains(&name)
        || RETURN_KEYS.contains(&name)
}

/// A name of the filter.
#[derive(Debug, Clone, PartialEq)]
enum Column {
    Id,
    Dataset,
    Strategy,
    Sweep,
    Stat(usize),
    Return(usize),
    Param(String, Ty),
}

/// A filter expression that does not compile: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// The expression as written.
    pub expr: String,
    /// 1-based column (in characters) of the offending part.
    pub column: usize,
    /// What is wrong and what is valid.
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "leaderboard filter, column {}: {}", self.column, self.message)?;
        writeln!(f, "  {}", self.expr)?;
        write!(f, "  {}^", " ".repeat(self.column.saturating_sub(1)))
    }
}

impl std::error::Error for FilterError {}

/// The filter of `expr` and `min_trades` together (`n_trades >= N and EXPR`), or `None`
/// when both are `None`.
///
/// ```
/// use bt::filter::{FilterColumns, compile_filter};
/// let columns = FilterColumns::of_registry(&bt::strategies::Registry::builtin());
/// let f = compile_filter(Some("strategy == \"sma_cross\""), Some(5), &columns).unwrap().unwrap();
/// assert_eq!(f.label, "n_trades >= 5 and strategy == \"sma_cross\"");
/// let err = compile_filter(Some("n_trade > 1"), None, &columns).unwrap_err();
/// assert_eq!(err.column, 1);
/// assert!(err.message.starts_with("unknown column `n_trade`"), "{err}");
/// ```
pub fn compile_filter(
    expr: Option<&str>,
    min_trades: Option<u64>,
    columns: &FilterColumns,
) -> Result<Option<RecordFilter>, FilterError> {
    let compiled = expr.map(|e| Compiled::new(e, columns)).transpose()?;
    Ok(match (compiled, min_trades) {
        (None, None) => None,
        (Some(c), None) => Some(RecordFilter::new(c.label(), move |r| c.keeps(r))),
        (None, Some(n)) => {
            Some(RecordFilter::new(format!("n_trades >= {n}"), move |r| trades(r) >= n))
        }
        (Some(c), Some(n)) => {
            let label = format!("n_trades >= {n} and {}", c.label_in_and());
            Some(RecordFilter::new(label, move |r| trades(r) >= n && c.keeps(r)))
        }
    })
}

/// Closed trades of a successful record (0 for a failed one).
fn trades(r: &SimRecord) -> u64 {
    r.stats().map_or(0, |s| s.n_trades)
}

/// A compiled expression and the names its slots hold.
struct Compiled {
    expr: String,
    /// The top of the expression is an `or` (parenthesised after an `and`).
    is_or: bool,
    scalar: Scalar,
    /// Number slots: what each holds.
    nums: Vec<Column>,
    /// String slots.
    strs: Vec<Column>,
}

impl Compiled {
    fn new(expr: &str, columns: &FilterColumns) -> Result<Compiled, FilterError> {
        let error = |e: bt_expr::ExprError| FilterError {
            expr: expr.to_owned(),
            column: e.column,
            message: e.message,
        };
        let node = bt_expr::parse(expr).map_err(error)?;
        let is_or = matches!(node.kind, NodeKind::Binary { op: BinOp::Or, .. });
        let slots: RefCell<(Vec<Column>, Vec<Column>)> = RefCell::default();
        let resolve = |name: &str| {
            let column = columns.column(name)?;
            let mut slots = slots.borrow_mut();
            let (nums, strs) = &mut *slots;
            let slot = |list: &mut Vec<Column>| match list.iter().position(|c| *c == column) {
                Some(i) => i,
                None => {
                    list.push(column.clone());
                    list.len() - 1
                }
            };
            Some(match &column {
                Column::Id | Column::Dataset | Column::Strategy | Column::Sweep => {
                    Binding::StrSlot(slot(strs))
                }
                Column::Stat(_) | Column::Return(_) => Binding::Slot(slot(nums), Ty::Num),
                Column::Param(_, ty) => Binding::Slot(slot(nums), *ty),
            })
        };
        let names = columns.names();
        let scalar = Scalar::compile_with(expr, &resolve, &names, WORDS).map_err(|e| {
            match e.message.strip_prefix("unknown column `").and_then(|m| m.split_once('`')) {
                Some((name, _)) => FilterError {
                    expr: expr.to_owned(),
                    column: e.column,
                    message: format!("unknown column `{name}`; {}", columns.allowed()),
                },
                None => error(e),
            }
        })?;
        let (nums, strs) = slots.into_inner();
        Ok(Compiled { expr: expr.trim().to_owned(), is_or, scalar, nums, strs })
    }

    fn label(&self) -> String {
        self.expr.clone()
    }

    /// The label after `and`: parenthesised when its top is an `or`.
    fn label_in_and(&self) -> String {
        if self.is_or { format!("({})", self.expr) } else { self.expr.clone() }
    }

    /// Whether `r` passes: it succeeded, has every parameter named (of the type named) and
    /// the expression holds.
    fn keeps(&self, r: &SimRecord) -> bool {
        let Some(summary) = (match &r.outcome {
            bt_domain::SimOutcome::Ok(s) => Some(s),
            bt_domain::SimOutcome::Failed(_) => None,
        }) else {
            return false;
        };
        let mut nums = Vec::with_capacity(self.nums.len());
        for c in &self.nums {
            let v = match c {
                Column::Stat(i) => summary.stats.values()[*i].1.as_f64(),
                Column::Return(i) => summary.returns.values()[*i],
                Column::Param(name, ty) => match (r.params.get(name), ty) {
                    (Some(ParamValue::Bool(b)), Ty::Bool | Ty::Num) => f64::from(u8::from(*b)),
                    (Some(v @ (ParamValue::Int(_) | ParamValue::Float(_))), Ty::Num) => {
                        v.as_f64().unwrap_or(f64::NAN)
                    }
                    _ => return false,
                },
                Column::Id | Column::Dataset | Column::Strategy | Column::Sweep => f64::NAN,
            };
            nums.push(v);
        }
        let strs: Vec<&str> = self
            .strs
            .iter()
            .map(|c| match c {
                Column::Id => r.id.as_str(),
                Column::Dataset => r.dataset.as_str(),
                Column::Sweep => r.id.split('/').next().unwrap_or_default(),
                _ => r.strategy.as_str(),
            })
            .collect();
        self.scalar.holds_with(&nums, &strs)
    }
}

#[cfg(test)]
mod tests {
    use bt_domain::{Params, ReturnStats, SimOutcome, SimSummary, Stats};

    use super::*;

    fn record(strategy: &str, params: &[(&str, ParamValue)], n_trades: u64) -> SimRecord {
        let mut stats = Stats::from_words([0; 32]);
        (stats.n_trades, stats.sharpe_ratio, stats.win_rate_pct) = (n_trades, 1.5, f64::NAN);
        let params: Params = params.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        SimRecord {
            index: 0,
            id: format!("{strategy}-1"),
            dataset: "goog".into(),
            strategy: strategy.into(),
            params,
            outcome: SimOutcome::Ok(Box::new(SimSummary {
                stats,
                returns: ReturnStats { psr: 0.9, ..ReturnStats::missing() },
                n_bars: 10,
                bar_steps: 10,
                open_trades: 0,
                cancelled_orders: 0,
                bust_bar: None,
            })),
        }
    }

    fn columns() -> FilterColumns {
        FilterColumns::of_registry(&Registry::builtin())
    }

    fn filter(expr: &str) -> RecordFilter {
        compile_filter(Some(expr), None, &columns()).unwrap().unwrap()
    }

    #[test]
    fn keeps_by_strings_parameters_and_statistics() {
        let sma = record("sma_cross", &[("fast", ParamValue::Int(10))], 12);
        let rsi = record("rsi_reversion", &[("rsi_period", ParamValue::Int(14))], 3);
        let f = filter("strategy == \"sma_cross\" and fast < 20 and n_trades >= 10");
        assert!(f.keeps(&sma));
        assert!(!f.keeps(&rsi), "no `fast`, other strategy");
        assert!(filter("psr > 0.5 and sharpe_ratio == 1.5 and dataset != \"x\"").keeps(&rsi));
        assert!(filter("id == \"rsi_reversion-1\"").keeps(&rsi));
        let point = SimRecord { id: "rsi/goog/period=9".into(), ..rsi.clone() };
        assert!(filter("sweep == \"rsi\"").keeps(&point));
        assert!(filter("sweep == \"rsi_reversion-1\"").keeps(&rsi), "a simulation's own id");
        assert!(!filter("sweep == \"rsi\"").keeps(&rsi));
        // A record without the parameter does not pass, even under `not`.
        assert!(!filter("not (fast > 100)").keeps(&rsi));
        assert!(filter("not (fast > 100)").keeps(&sma));
        // NaN fails every comparison.
        assert!(!filter("win_rate_pct >= 0").keeps(&sma));
        let failed = SimRecord { outcome: SimOutcome::Failed("x".into()), ..sma.clone() };
        assert!(!filter("fast > 0").keeps(&failed));
    }

    #[test]
    fn min_trades_joins_the_expression_by_and() {
        let sma = record("sma_cross", &[("fast", ParamValue::Int(10))], 4);
        let only = compile_filter(None, Some(5), &columns()).unwrap().unwrap();
        assert_eq!(only.label, "n_trades >= 5");
        assert!(!only.keeps(&sma));
        let both =
            compile_filter(Some("fast == 10 or fast == 20"), Some(4), &columns()).unwrap().unwrap();
        assert_eq!(both.label, "n_trades >= 4 and (fast == 10 or fast == 20)");
        assert!(both.keeps(&sma));
        assert!(compile_filter(None, None, &columns()).unwrap().is_none());
    }

    #[test]
    fn errors_name_the_column_and_what_is_allowed() {
        let err = |e: &str| compile_filter(Some(e), None, &columns()).unwrap_err();
        let e = err("n_trades >= 20 and strat == \"x\"");
        assert_eq!(e.column, 20);
        assert!(e.message.starts_with("unknown column `strat`; a filter names `id`"), "{e}");
        for name in ["parameters (atr_periods, ", "fast", "commission", "n_trades", "psr)"] {
            assert!(e.message.contains(name), "{name}: {e}");
        }
        let e = err("strategy == 3");
        assert_eq!((e.column, e.message.as_str()), (10, "`==` compares a string with a number"));
        assert_eq!(err("n_trades").column, 1);
        assert!(
            err("fast < ").to_string().ends_with("\n  fast < \n         ^"),
            "{}",
            err("fast < ")
        );
    }
}
