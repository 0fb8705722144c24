//! Type-checking a rules file once: every name resolved (prices, indicators, parameters,
//! functions), every expression typed (numbers and flags known before the run; series and
//! conditions per bar), indicators free of cycles. The result is the file's typed trees, with
//! parameters still symbolic (`compile` substitutes them per parameter set).

use std::collections::BTreeMap;

use bt_domain::{ParamKind, ParamValue};
use bt_expr::{BinOp, ExprError, Node, NodeKind, UnOp};

use crate::functions::{self, Arg, Func, Out};

/// The type of an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// A number known before the run (literals, numeric parameters, arithmetic over them).
    Num,
    /// A flag known before the run.
    Bool,
    /// A number per bar.
    Series,
    /// A condition per bar.
    Cond,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Num => "a number",
            Ty::Bool => "true/false",
            Ty::Series => "a series",
            Ty::Cond => "a condition",
        }
    }

    fn numeric(self) -> bool {
        matches!(self, Ty::Num | Ty::Series)
    }

    fn logical(self) -> bool {
        matches!(self, Ty::Bool | Ty::Cond)
    }

    fn per_bar(self) -> bool {
        matches!(self, Ty::Series | Ty::Cond)
    }
}

/// A price series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Price {
    Open,
    High,
    Low,
    Close,
    Volume,
}

pub(crate) const PRICES: [(&str, Price); 5] = [
    ("open", Price::Open),
    ("high", Price::High),
    ("low", Price::Low),
    ("close", Price::Close),
    ("volume", Price::Volume),
];

/// A typed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct T {
    pub(crate) kind: K,
    pub(crate) ty: Ty,
    pub(crate) column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum K {
    Num(f64),
    Bool(bool),
    Param(usize),
    Price(Price),
    Named(usize),
    Call { func: &'static Func, args: Vec<T>, field: Option<usize> },
    Lag(Box<T>, u32),
    Neg(Box<T>),
    Not(Box<T>),
    Bin(BinOp, Box<T>, Box<T>),
}

/// A parameter of the file: declared in `params` (with its default), or only used as
/// `$name` (required: a sweep or the command line must give it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) kind: ParamKind,
    pub(crate) default: Option<ParamValue>,
    /// Used directly as a period: a whole number >= 1.
    pub(crate) period: bool,
}

/// Where an expression of the file is, for messages: the field or indicator and its text.
#[derive(Debug, Clone)]
pub(crate) struct Source<'a> {
    /// `long_entry`, an indicator's name.
    pub(crate) key: &'a str,
    pub(crate) text: &'a str,
}

/// An error in the expression `source` at a column of it.
#[derive(Debug, Clone)]
pub(crate) struct CheckError {
    pub(crate) key: String,
    pub(crate) error: ExprError,
}

/// The names of a file and what is known of them while checking.
pub(crate) struct Checker<'a> {
    pub(crate) params: Vec<Param>,
    indicator_names: Vec<&'a str>,
    indicator_src: Vec<&'a str>,
    /// Checked indicators (by index); `None` while being checked (a cycle) or not yet.
    indicators: Vec<Option<T>>,
    visiting: Vec<bool>,
    /// The chain of indicators being checked, for a cycle's message.
    stack: Vec<usize>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(
        params: &BTreeMap<String, ParamValue>,
        indicators: &'a BTreeMap<String, String>,
    ) -> Checker<'a> {
        let params = params
            .iter()
            .map(|(name, v)| Param {
                name: name.clone(),
                kind: match v {
                    ParamValue::Int(_) => ParamKind::Int,
                    ParamValue::Bool(_) => ParamKind::Bool,
                    _ => ParamKind::Float,
                },
                default: Some(v.clone()),
                period: false,
            })
            .collect();
        Checker {
            params,
            indicator_names: indicators.keys().map(String::as_str).collect(),
            indicator_src: indicators.values().map(String::as_str).collect(),
            indicators: vec![None; indicators.len()],
            visiting: vec![false; indicators.len()],
            stack: Vec::new(),
        }
    }

    /// Checks every indicator (in name order); then the typed trees by index.
    pub(crate) fn indicators(&mut self) -> Result<Vec<T>, CheckError> {
        for k in 0..self.indicator_names.len() {
            self.indicator(k, None)?;
        }
        Ok(self.indicators.iter().map(|t| t.clone().expect("checked above")).collect())
    }

    /// The names of the indicators, by index.
    pub(crate) fn indicator_names(&self) -> &[&'a str] {
        &self.indicator_names
    }

    fn indicator(&mut self, k: usize, used_at: Option<(&str, usize)>) -> Result<Ty, CheckError> {
        if let Some(t) = &self.indicators[k] {
            return Ok(t.ty);
        }
        if self.visiting[k] {
            let start = self.stack.iter().position(|&j| j == k).unwrap_or(0);
            let mut chain: Vec<&str> =
                self.stack[start..].iter().map(|&j| self.indicator_names[j]).collect();
            chain.push(self.indicator_names[k]);
            let (key, column) = used_at.unwrap_or((self.indicator_names[k], 1));
            return Err(CheckError {
                key: key.to_owned(),
                error: ExprError::new(
                    column,
                    format!(
                        "indicators refer to each other in a cycle: {}; an indicator can only use indicators that do not use it",
                        chain.join(" -> ")
                    ),
                ),
            });
        }
        self.visiting[k] = true;
        self.stack.push(k);
        let key = self.indicator_names[k];
        let src = self.indicator_src[k];
        let t = self.expr(Source { key, text: src })?;
        if t.ty.logical() || t.ty == Ty::Num {
            // Conditions are fine as named indicators; constants too (lifted to series).
        }
        self.stack.pop();
        self.visiting[k] = false;
        let ty = t.ty;
        self.indicators[k] = Some(t);
        Ok(ty)
    }

    /// Parses and types one expression of the file.
    pub(crate) fn expr(&mut self, source: Source<'_>) -> Result<T, CheckError> {
        let wrap = |error: ExprError| CheckError { key: source.key.to_owned(), error };
        let node = bt_expr::parse(source.text).map_err(wrap)?;
        self.node(&node, source.key)
    }

    fn err(&self, key: &str, column: usize, message: String) -> CheckError {
        CheckError { key: key.to_owned(), error: ExprError::new(column, message) }
    }

    fn param(&mut self, name: &str) -> usize {
        match self.params.iter().position(|p| p.name == name) {
            Some(k) => k,
            None => {
                self.params.push(Param {
                    name: name.to_owned(),
                    kind: ParamKind::Float,
                    default: None,
                    period: false,
                });
                self.params.len() - 1
            }
        }
    }

    fn node(&mut self, node: &Node, key: &str) -> Result<T, CheckError> {
        let column = node.column;
        let t = |kind: K, ty: Ty| T { kind, ty, column };
        Ok(match &node.kind {
            NodeKind::Num(x) => t(K::Num(*x), Ty::Num),
            NodeKind::Bool(b) => t(K::Bool(*b), Ty::Bool),
            NodeKind::Str(s) => {
                return Err(self.err(
                    key,
                    column,
                    format!("string {s:?}: rules expressions have numbers, series and conditions, no strings"),
                ));
            }
            NodeKind::Param(name) => {
                let k = self.param(name);
                let ty = if self.params[k].kind == ParamKind::Bool { Ty::Bool } else { Ty::Num };
                t(K::Param(k), ty)
            }
            NodeKind::Name(name) => {
                if let Some((_, p)) = PRICES.iter().find(|(n, _)| n == name) {
                    t(K::Price(*p), Ty::Series)
                } else if let Some(k) = self.indicator_names.iter().position(|n| n == name) {
                    let ty = self.indicator(k, Some((key, column)))?;
                    t(K::Named(k), ty)
                } else if self.params.iter().any(|p| p.name == *name) {
                    return Err(self.err(
                        key,
                        column,
                        format!("`{name}` is a parameter: write `${name}`"),
                    ));
                } else {
                    let indicators = if self.indicator_names.is_empty() {
                        "none".to_owned()
                    } else {
                        self.indicator_names.join(", ")
                    };
                    return Err(self.err(
                        key,
                        column,
                        format!(
                            "unknown name `{name}`; prices: open, high, low, close, volume; indicators of this file: {indicators}; parameters are written `$name`"
                        ),
                    ));
                }
            }
            NodeKind::Call { name, args } => self.call(name, args, None, column, key)?,
            NodeKind::Field { base, name, name_column } => match &base.kind {
                NodeKind::Call { name: f, args } => {
                    self.call(f, args, Some((name.as_str(), *name_column)), base.column, key)?
                }
                _ => {
                    return Err(self.err(
                        key,
                        *name_column,
                        format!("`.{name}`: only a function with several outputs has fields, like `bollinger(close, 20, 2.0).upper`"),
                    ));
                }
            },
            NodeKind::Index { base, lag } => {
                let inner = self.node(base, key)?;
                if !inner.ty.per_bar() {
                    return Err(self.err(
                        key,
                        column,
                        format!(
                            "`[{lag}]` looks back on a series or condition; this is {}",
                            inner.ty.name()
                        ),
                    ));
                }
                let ty = inner.ty;
                t(K::Lag(Box::new(inner), *lag), ty)
            }
            NodeKind::Unary(UnOp::Neg, inner) => {
                let inner = self.node(inner, key)?;
                if !inner.ty.numeric() {
                    return Err(self.err(
                        key,
                        inner.column,
                        format!("`-` needs a number or series, found {}", inner.ty.name()),
                    ));
                }
                let ty = inner.ty;
                t(K::Neg(Box::new(inner)), ty)
            }
            NodeKind::Unary(UnOp::Not, inner) => {
                let inner = self.node(inner, key)?;
                if !inner.ty.logical() {
                    return Err(self.err(
                        key,
                        inner.column,
                        format!("`not` needs a condition, found {}", inner.ty.name()),
                    ));
                }
                let ty = inner.ty;
                t(K::Not(Box::new(inner)), ty)
            }
            NodeKind::Binary { op, op_column, left, right } => {
                let (l, r) = (self.node(left, key)?, self.node(right, key)?);
                let per_bar = l.ty.per_bar() || r.ty.per_bar();
                let ty = match op {
                    BinOp::And | BinOp::Or => {
                        for side in [&l, &r] {
                            if !side.ty.logical() {
                                return Err(self.err(
                                    key,
                                    side.column,
                                    format!(
                                        "`{}` needs conditions, found {}",
                                        op.symbol(),
                                        side.ty.name()
                                    ),
                                ));
                            }
                        }
                        if per_bar { Ty::Cond } else { Ty::Bool }
                    }
                    _ if op.is_arithmetic() || op.is_ordering() => {
                        for side in [&l, &r] {
                            if !side.ty.numeric() {
                                return Err(self.err(
                                    key,
                                    side.column,
                                    format!(
                                        "`{}` needs numbers or series, found {}",
                                        op.symbol(),
                                        side.ty.name()
                                    ),
                                ));
                            }
                        }
                        match (op.is_arithmetic(), per_bar) {
                            (true, true) => Ty::Series,
                            (true, false) => Ty::Num,
                            (false, true) => Ty::Cond,
                            (false, false) => Ty::Bool,
                        }
                    }
                    _ => {
                        if l.ty.numeric() != r.ty.numeric() {
                            return Err(self.err(
                                key,
                                *op_column,
                                format!(
                                    "`{}` compares {} with {}",
                                    op.symbol(),
                                    l.ty.name(),
                                    r.ty.name()
                                ),
                            ));
                        }
                        if per_bar { Ty::Cond } else { Ty::Bool }
                    }
                };
                t(K::Bin(*op, Box::new(l), Box::new(r)), ty)
            }
        })
    }

    fn call(
        &mut self,
        name: &str,
        args: &[Node],
        field: Option<(&str, usize)>,
        column: usize,
        key: &str,
    ) -> Result<T, CheckError> {
        let Some(func) = functions::func(name) else {
            return Err(self.err(
                key,
                column,
                format!("unknown function `{name}`; functions: {}", functions::names()),
            ));
        };
        if args.len() != func.args.len() {
            let kinds: Vec<&str> = func
                .args
                .iter()
                .map(|a| match a {
                    Arg::Series => "series",
                    Arg::Period => "period",
                    Arg::Number => "number",
                })
                .collect();
            return Err(self.err(
                key,
                column,
                format!(
                    "`{name}` takes {} argument(s) ({}), found {}",
                    func.args.len(),
                    kinds.join(", "),
                    args.len()
                ),
            ));
        }
        let mut typed = Vec::new();
        for (arg, kind) in args.iter().zip(func.args) {
            let t = self.node(arg, key)?;
            match kind {
                Arg::Series if !t.ty.numeric() => {
                    return Err(self.err(
                        key,
                        t.column,
                        format!(
                            "argument of `{name}` must be a series or a number, found {}",
                            t.ty.name()
                        ),
                    ));
                }
                Arg::Period | Arg::Number if t.ty != Ty::Num => {
                    let what = if *kind == Arg::Period { "a period" } else { "a number" };
                    return Err(self.err(
                        key,
                        t.column,
                        format!("argument of `{name}` must be {what} known before the run (a number or a `$param`), found {}", t.ty.name()),
                    ));
                }
                _ => {}
            }
            if *kind == Arg::Period
                && let K::Param(p) = t.kind
            {
                self.params[p].period = true;
            }
            typed.push(t);
        }
        let field = match (field, func.fields) {
            (None, []) => None,
            (Some((f, c)), []) => {
                return Err(self.err(key, c, format!("`{name}` has one output: remove `.{f}`")));
            }
            (None, fields) => {
                return Err(self.err(
                    key,
                    column,
                    format!(
                        "`{name}` has several outputs: pick one with {}",
                        fields.iter().map(|f| format!("`.{f}`")).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            (Some((f, c)), fields) => match fields.iter().position(|x| *x == f) {
                Some(k) => Some(k),
                None => {
                    return Err(self.err(
                        key,
                        c,
                        format!("`{name}` has no output `{f}`; its outputs: {}", fields.join(", ")),
                    ));
                }
            },
        };
        let ty = match func.out {
            Out::Cond => Ty::Cond,
            Out::Series => Ty::Series,
            Out::Pointwise if typed.iter().all(|t| t.ty == Ty::Num) => Ty::Num,
            Out::Pointwise => Ty::Series,
        };
        Ok(T { kind: K::Call { func, args: typed, field }, ty, column })
    }
}
