//! Rule-based strategies written in RON (docs/rules.md): indicators and entry/exit conditions
//! in bt's expression language, swept like any strategy with no compiler.
//!
//! ```ron
//! (
//!     version: 1,
//!     name: "trend_rsi",
//!     params: {"fast": 10, "slow": 50, "rsi_n": 14, "rsi_max": 70.0},
//!     indicators: {"f": "sma(close, $fast)", "s": "sma(close, $slow)", "r": "rsi(close, $rsi_n)"},
//!     long_entry: "crosses_above(f, s) and r < $rsi_max",
//!     long_exit: "crosses_below(f, s)",
//! )
//! ```
//!
//! - [`Rules`]: a file parsed and type-checked once ([`Rules::from_str`], [`Rules::load`]):
//!   names resolved, types checked, indicators free of cycles, errors at the file's line and
//!   column.
//! - [`Rules::entry`]: a registry entry (parameters, defaults, description) whose builder
//!   compiles the rules for one parameter set into a flat program ([`RulesStrategy`]):
//!   constants folded, periods checked (a period of 0 is an error at queue validation, before
//!   anything runs), arrays taken from the data set's indicator cache under the built-ins' keys,
//!   conditions evaluated bar by bar without allocating.
//!
//! Position semantics are the built-ins': at each bar, a long entry closes any position and
//! buys (when not already long, or with `reenter: true` always), else a short entry does the
//! same the other way, else an exit closes the position it applies to.
//!
//! Architecture invariant: depends on domain, expr, engine, strategies (indicators, registry
//! entries) and queue (RON files); no I/O but reading the rules file.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod check;
mod compile;
mod error;
mod file;
mod functions;
mod strategy;

use std::{collections::BTreeMap, path::Path, sync::Arc};

use bt_domain::{Limit, ParamKind, ParamSpec, ParamValue, Params, StrategyError};
use bt_expr::scalar::{Binding, Scalar, Ty as ScalarTy};
use bt_queue::ron_file::{Located, locate_string};
use bt_strategies::{Args, StrategyEntry};

use crate::{
    check::{CheckError, Checker, Source, T, Ty},
    compile::{CompileError, Compiler, Program},
    file::NumOrParam,
    strategy::Orders,
};
pub use crate::{error::RulesError, file::VERSION, strategy::RulesStrategy};

/// The conditions of a rules file, in the order they are checked at each bar.
const CONDITIONS: [&str; 4] = ["long_entry", "short_entry", "long_exit", "short_exit"];

/// A rules file, parsed and type-checked.
#[derive(Debug)]
pub struct Rules {
    name: String,
    file: String,
    /// The file's text, to place errors found per parameter set.
    text: String,
    description: Option<String>,
    params: Vec<check::Param>,
    indicator_names: Vec<String>,
    indicator_sources: Vec<String>,
    indicators: Vec<T>,
    /// `long_entry`, `short_entry`, `long_exit`, `short_exit` and their texts.
    conditions: [Option<(T, String)>; 4],
    size: Option<T>,
    sl_pct: Option<T>,
    tp_pct: Option<T>,
    reenter: bool,
    where_: Option<(Scalar, String)>,
}

impl Rules {
    /// Reads and checks the rules file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Rules, RulesError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| RulesError::Read { path: path.to_owned(), source })?;
        Rules::from_str(&text, &path.display().to_string())
    }

    /// Checks the text of a rules file; messages name it `file`.
    pub fn from_str(text: &str, file: &str) -> Result<Rules, RulesError> {
        let repr = file::parse(text, file)?;
        let located = |e: CheckError| -> RulesError {
            let (line, col) = locate_string(text, &e.key).unwrap_or((1, 1));
            Located::at(file, text, line, col + e.error.column - 1, e.error.message).into()
        };
        let params: BTreeMap<String, ParamValue> =
            repr.params.0.into_iter().map(|(k, v)| (k, v.0)).collect();
        let indicator_map = repr.indicators.0;
        let mut checker = Checker::new(&params, &indicator_map);
        let indicators = checker.indicators().map_err(located)?;
        for (name, t) in checker.indicator_names().iter().zip(&indicators) {
            if !matches!(t.ty, Ty::Series | Ty::Cond) {
                return Err(located(CheckError {
                    key: (*name).to_owned(),
                    error: bt_expr::ExprError::new(
                        1,
                        format!(
                            "indicator `{name}` is {}, known before the run: an indicator is a series or a condition per bar; use a `$param` for a constant",
                            if t.ty == Ty::Bool { "true/false" } else { "a number" }
                        ),
                    ),
                }));
            }
        }
        let texts = [&repr.long_entry, &repr.short_entry, &repr.long_exit, &repr.short_exit];
        let mut conditions: [Option<(T, String)>; 4] = Default::default();
        for (k, (key, text)) in CONDITIONS.iter().zip(texts).enumerate() {
            let Some(src) = text else { continue };
            let t = checker.expr(Source { key, text: src }).map_err(located)?;
            if !matches!(t.ty, Ty::Cond | Ty::Bool) {
                return Err(located(CheckError {
                    key: (*key).to_owned(),
                    error: bt_expr::ExprError::new(
                        1,
                        format!(
                            "`{key}` is {}, not a condition: compare it, e.g. `close > sma(close, 20)`",
                            match t.ty {
                                Ty::Series => "a series",
                                _ => "a number",
                            }
                        ),
                    ),
                }));
            }
            conditions[k] = Some((t, src.clone()));
        }
        if conditions[0].is_none() && conditions[1].is_none() {
            return Err(RulesError::Invalid {
                file: file.to_owned(),
                message: "no entry: give `long_entry`, `short_entry` or both".into(),
            });
        }
        let mut number = |key: &str, v: Option<NumOrParam>| -> Result<Option<T>, RulesError> {
            match v {
                None => Ok(None),
                Some(NumOrParam::Num(x)) => {
                    Ok(Some(T { kind: check::K::Num(x), ty: Ty::Num, column: 1 }))
                }
                Some(NumOrParam::Text(src)) => {
                    let t = checker.expr(Source { key, text: &src }).map_err(located)?;
                    if t.ty != Ty::Num {
                        return Err(located(CheckError {
                            key: key.to_owned(),
                            error: bt_expr::ExprError::new(
                                1,
                                format!(
                                    "`{key}` must be a number known before the run, like `0.5` or `\"$size\"`"
                                ),
                            ),
                        }));
                    }
                    Ok(Some(t))
                }
            }
        };
        let size = number("size", repr.size)?;
        let sl_pct = number("sl_pct", repr.sl_pct)?;
        let tp_pct = number("tp_pct", repr.tp_pct)?;
        let params_checked = checker.params.clone();
        let where_ = match repr.where_ {
            None => None,
            Some(src) => {
                let resolve = |name: &str| {
                    params_checked.iter().position(|p| p.name == name).map(|k| {
                        let ty = if params_checked[k].kind == ParamKind::Bool {
                            ScalarTy::Bool
                        } else {
                            ScalarTy::Num
                        };
                        Binding::Slot(k, ty)
                    })
                };
                let known: Vec<&str> = params_checked.iter().map(|p| p.name.as_str()).collect();
                let words = bt_expr::scalar::Vocabulary {
                    known_label: "parameters of this file",
                    ..bt_expr::scalar::WHERE
                };
                let scalar = Scalar::compile_with(&src, &resolve, &known, words)
                    .map_err(|e| located(CheckError { key: "where".into(), error: e }))?;
                Some((scalar, src))
            }
        };
        Ok(Rules {
            name: repr.name,
            file: file.to_owned(),
            text: text.to_owned(),
            description: repr.description,
            params: checker.params,
            indicator_names: indicator_map.keys().cloned().collect(),
            indicator_sources: indicator_map.values().cloned().collect(),
            indicators,
            conditions,
            size,
            sl_pct,
            tp_pct,
            reenter: repr.reenter,
            where_,
        })
    }

    /// The file's `name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file as given.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Parameter specs: the declared ones with their defaults, then those only used as
    /// `$name` (required); a parameter used as a period is an integer >= 1.
    pub fn param_specs(&self) -> Vec<ParamSpec> {
        self.params
            .iter()
            .map(|p| {
                let kind = if p.period && p.default.is_none() { ParamKind::Int } else { p.kind };
                let min = (p.period && kind == ParamKind::Int).then_some(Limit::Inclusive(1.0));
                let uses = self.uses(&p.name);
                ParamSpec {
                    name: p.name.clone().into(),
                    kind,
                    default: p.default.clone(),
                    min,
                    max: None,
                    doc: if uses.is_empty() {
                        "a parameter of the rules file".into()
                    } else {
                        format!("used in {}", uses.join(", ")).into()
                    },
                }
            })
            .collect()
    }

    /// Where `$name` appears: indicator names and condition fields.
    fn uses(&self, name: &str) -> Vec<String> {
        let needle = format!("${name}");
        let contains = |src: &str| {
            src.match_indices(&needle).any(|(i, _)| {
                !src[i + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            })
        };
        let mut out: Vec<String> = self
            .indicator_names
            .iter()
            .zip(&self.indicator_sources)
            .filter(|(_, src)| contains(src))
            .map(|(n, _)| n.clone())
            .collect();
        for (key, c) in CONDITIONS.iter().zip(&self.conditions) {
            if c.as_ref().is_some_and(|(_, src)| contains(src)) {
                out.push((*key).to_owned());
            }
        }
        out
    }

    /// A description for `bt strategies`: the file's, or one made from its rules.
    pub fn description(&self) -> String {
        let mut out = self.description.clone().unwrap_or_default();
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&format!("rules file {} ({}):\n", self.file, self.name));
        for (name, src) in self.indicator_names.iter().zip(&self.indicator_sources) {
            out.push_str(&format!("  {name} = {src}\n"));
        }
        for (key, c) in CONDITIONS.iter().zip(&self.conditions) {
            if let Some((_, src)) = c {
                out.push_str(&format!("  {key}: {src}\n"));
            }
        }
        if self.reenter {
            out.push_str(
                "  reenter: an entry while already in its direction closes and re-enters\n",
            );
        }
        out
    }

    /// The registry entry of these rules under `name` (a queue may call a file anything).
    pub fn entry(self: &Arc<Rules>, name: &str) -> StrategyEntry {
        let rules = Arc::clone(self);
        let entry_name: Arc<str> = Arc::from(name);
        let built_name = Arc::clone(&entry_name);
        let mut entry = StrategyEntry::new(name.to_owned(), move |args: &Args<'_>| {
            let s = rules.strategy(&built_name, args.params())?;
            Ok(Box::new(s) as bt_strategies::BoxedStrategy)
        })
        .with_doc(self.description.clone().unwrap_or_else(|| format!("rules file {}", self.file)))
        .with_description(self.description())
        .with_params(self.param_specs());
        if let Some((_, src)) = &self.where_ {
            entry = entry.with_rule(src.clone());
        }
        entry
    }

    /// The strategy for one parameter set (missing parameters take their defaults), compiled:
    /// the errors a queue's validation reports before anything runs.
    pub fn strategy(&self, name: &str, params: &Params) -> Result<RulesStrategy, StrategyError> {
        let invalid = |problem: String, fix: &str| StrategyError::InvalidCombination {
            strategy: name.to_owned(),
            problem,
            fix: fix.to_owned(),
        };
        let values: Vec<f64> = self
            .params
            .iter()
            .map(|p| match params.get(&p.name).or(p.default.as_ref()) {
                Some(ParamValue::Int(i)) => Ok(*i as f64),
                Some(ParamValue::Float(x)) => Ok(*x),
                Some(ParamValue::Bool(b)) => Ok(f64::from(u8::from(*b))),
                Some(ParamValue::Str(_)) | None => Err(StrategyError::MissingParam {
                    strategy: name.to_owned(),
                    param: p.name.clone(),
                    expected: "a number".into(),
                }),
            })
            .collect::<Result<_, _>>()?;
        if let Some((w, src)) = &self.where_
            && !w.holds(&values)
        {
            let shown: Vec<String> = self
                .params
                .iter()
                .zip(&values)
                .map(|(p, v)| format!("{} = {}", p.name, functions::fmt_num(*v)))
                .collect();
            return Err(invalid(
                format!("the parameters break the file's rule `{src}` ({})", shown.join(", ")),
                "choose parameters that satisfy it (add it to the sweep's `where`)",
            ));
        }
        let names: Vec<String> = self.params.iter().map(|p| p.name.clone()).collect();
        let indicator_names: Vec<&str> = self.indicator_names.iter().map(String::as_str).collect();
        let mut c = Compiler {
            values: &values,
            param_names: &names,
            indicators: &self.indicators,
            indicator_names: &indicator_names,
            arrays: Vec::new(),
        };
        let compile_err = |e: CompileError| {
            let (line, column) = locate_string(&self.text, &e.key)
                .map_or((1, e.column), |(l, c)| (l, c + e.column - 1));
            invalid(
                format!("{}:{line}:{column}: {}", self.file, e.message),
                "change the parameter values (periods are whole numbers >= 1)",
            )
        };
        let mut conds: [Option<compile::CNode>; 4] = Default::default();
        for (k, c_src) in self.conditions.iter().enumerate() {
            if let Some((t, _)) = c_src {
                conds[k] = Some(c.cond(t, CONDITIONS[k]).map_err(compile_err)?);
            }
        }
        let num = |t: &Option<T>| -> Result<Option<f64>, StrategyError> {
            t.as_ref().map(|t| c.constant(t).map_err(compile_err)).transpose()
        };
        let size = num(&self.size)?.unwrap_or(bt_engine::FULL_EQUITY);
        if !(size > 0.0 && (size < 1.0 || size.fract() == 0.0)) {
            return Err(invalid(
                format!(
                    "size = {size}: a size is a fraction of equity in (0, 1) or a whole number of units >= 1"
                ),
                "set `size` to e.g. 0.5 (half the equity) or 10 (ten units)",
            ));
        }
        let (sl_pct, tp_pct) = (num(&self.sl_pct)?, num(&self.tp_pct)?);
        for (key, v) in [("sl_pct", sl_pct), ("tp_pct", tp_pct)] {
            if let Some(v) = v
                && !(v > 0.0 && v < 1.0)
            {
                return Err(invalid(
                    format!(
                        "{key} = {v}: a bracket is a fraction of the entry bar's close in (0, 1)"
                    ),
                    "set it to e.g. 0.02 (2 %)",
                ));
            }
        }
        let [long_entry, short_entry, long_exit, short_exit] = conds;
        let program = Program { arrays: c.arrays, long_entry, long_exit, short_entry, short_exit };
        Ok(RulesStrategy::new(program, Orders { size, sl_pct, tp_pct, reenter: self.reenter }))
    }
}

/// The function names of the language, with their formulas (docs/rules.md lists them).
pub fn functions() -> Vec<(&'static str, &'static str)> {
    functions::FUNCS.iter().map(|f| (f.name, f.doc)).collect()
}
