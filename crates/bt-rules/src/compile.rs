//! From a checked rules file and one parameter set to a flat program: every number known
//! before the run folded to a constant, every period checked, every array the conditions read
//! listed once (with the cache key the built-ins use), and the conditions as small trees that
//! evaluate a bar without allocating.

use bt_expr::BinOp;

use crate::{
    check::{K, Price, T, Ty},
    functions::{self, Arg, Func, Out},
};

/// A number per bar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SNode {
    Const(f64),
    Price(Price),
    /// Array `k` of the program.
    Arr(usize),
    Lag(Box<SNode>, u32),
    Neg(Box<SNode>),
    Bin(BinOp, Box<SNode>, Box<SNode>),
    Abs(Box<SNode>),
    Min(Box<SNode>, Box<SNode>),
    Max(Box<SNode>, Box<SNode>),
}

/// A condition per bar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CNode {
    Const(bool),
    Cmp(BinOp, SNode, SNode),
    /// `==`/`!=` between conditions.
    Same(bool, Box<CNode>, Box<CNode>),
    CrossAbove(SNode, SNode),
    CrossBelow(SNode, SNode),
    And(Box<CNode>, Box<CNode>),
    Or(Box<CNode>, Box<CNode>),
    Not(Box<CNode>),
    Lag(Box<CNode>, u32),
}

/// Where an array's input comes from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Input {
    Price(Price),
    Arr(usize),
}

/// How to get one array of the program.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Recipe {
    /// A function over inputs (registered as an indicator: it counts for the warm-up).
    Call { func: &'static Func, inputs: Vec<Input>, nums: Vec<f64>, field: Option<usize> },
    /// A series expression materialised because a function takes it as input.
    Derived(SNode),
}

/// One array: its cache key and recipe.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Array {
    pub(crate) key: String,
    pub(crate) recipe: Recipe,
}

/// A rules strategy for one parameter set.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Program {
    /// In dependency order: an array's inputs come before it.
    pub(crate) arrays: Vec<Array>,
    pub(crate) long_entry: Option<CNode>,
    pub(crate) long_exit: Option<CNode>,
    pub(crate) short_entry: Option<CNode>,
    pub(crate) short_exit: Option<CNode>,
}

/// What went wrong compiling with these parameters: the expression's key, its column, why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CompileError {
    pub(crate) key: String,
    pub(crate) column: usize,
    pub(crate) message: String,
}

pub(crate) struct Compiler<'a> {
    /// Parameter values (flags as 0 or 1), by parameter index.
    pub(crate) values: &'a [f64],
    pub(crate) param_names: &'a [String],
    /// The file's named indicators, typed.
    pub(crate) indicators: &'a [T],
    pub(crate) indicator_names: &'a [&'a str],
    pub(crate) arrays: Vec<Array>,
}

impl Compiler<'_> {
    fn err(&self, key: &str, column: usize, message: String) -> CompileError {
        CompileError { key: key.to_owned(), column, message }
    }

    /// The value of an expression known before the run.
    pub(crate) fn constant(&self, t: &T) -> Result<f64, CompileError> {
        Ok(match &t.kind {
            K::Num(x) => *x,
            K::Bool(b) => f64::from(u8::from(*b)),
            K::Param(p) => self.values[*p],
            K::Neg(a) => -self.constant(a)?,
            K::Not(a) => f64::from(u8::from(self.constant(a)? == 0.0)),
            K::Bin(op, a, b) => {
                let (a, b) = (self.constant(a)?, self.constant(b)?);
                let truth = |x: bool| f64::from(u8::from(x));
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Lt => truth(a < b),
                    BinOp::Le => truth(a <= b),
                    BinOp::Gt => truth(a > b),
                    BinOp::Ge => truth(a >= b),
                    BinOp::Eq => truth(a == b),
                    BinOp::Ne => truth(a != b),
                    BinOp::And => truth(a != 0.0 && b != 0.0),
                    BinOp::Or => truth(a != 0.0 || b != 0.0),
                }
            }
            K::Call { func, args, .. } => {
                let v: Vec<f64> =
                    args.iter().map(|a| self.constant(a)).collect::<Result<_, _>>()?;
                match func.name {
                    "abs" => v[0].abs(),
                    "min" => nan_min(v[0], v[1]),
                    _ => nan_max(v[0], v[1]),
                }
            }
            K::Named(k) => self.constant(&self.indicators[*k])?,
            K::Price(_) | K::Lag(..) => unreachable!("per-bar expressions are not constants"),
        })
    }

    /// A number per bar.
    pub(crate) fn series(&mut self, t: &T, key: &str) -> Result<SNode, CompileError> {
        if t.ty == Ty::Num {
            return Ok(SNode::Const(self.constant(t)?));
        }
        Ok(match &t.kind {
            K::Price(p) => SNode::Price(*p),
            K::Named(k) => {
                let (t, key) = (&self.indicators[*k].clone(), self.indicator_names[*k]);
                self.series(t, key)?
            }
            K::Lag(inner, n) => SNode::Lag(Box::new(self.series(inner, key)?), *n),
            K::Neg(a) => SNode::Neg(Box::new(self.series(a, key)?)),
            K::Bin(op, a, b) => {
                SNode::Bin(*op, Box::new(self.series(a, key)?), Box::new(self.series(b, key)?))
            }
            K::Call { func, args, field } => match func.out {
                Out::Pointwise => {
                    let mut v = Vec::new();
                    for a in args {
                        v.push(Box::new(self.series(a, key)?));
                    }
                    let mut v = v.into_iter();
                    let a = v.next().expect("arity checked");
                    match func.name {
                        "abs" => SNode::Abs(a),
                        "min" => SNode::Min(a, v.next().expect("arity checked")),
                        _ => SNode::Max(a, v.next().expect("arity checked")),
                    }
                }
                _ => SNode::Arr(self.call(func, args, *field, t.column, key)?),
            },
            K::Num(_) | K::Bool(_) | K::Param(_) | K::Not(_) => {
                unreachable!("typed as a series by the checker")
            }
        })
    }

    /// The array of a function call (added once per key).
    fn call(
        &mut self,
        func: &'static Func,
        args: &[T],
        field: Option<usize>,
        column: usize,
        key: &str,
    ) -> Result<usize, CompileError> {
        let mut inputs = Vec::new();
        let mut series_keys = Vec::new();
        let mut nums = Vec::new();
        for (a, kind) in args.iter().zip(func.args) {
            match kind {
                Arg::Series => {
                    let node = self.series(a, key)?;
                    let (input, text) = self.input(node);
                    inputs.push(input);
                    series_keys.push(text);
                }
                Arg::Period => {
                    let v = self.constant(a)?;
                    if !(v >= 1.0 && v.fract() == 0.0 && v < 1e15) {
                        return Err(self.err(
                            key,
                            a.column,
                            format!(
                                "`{}`: the period is {}, not a whole number >= 1{}",
                                func.name,
                                functions::fmt_num(v),
                                self.param_hint(a)
                            ),
                        ));
                    }
                    nums.push(v);
                }
                Arg::Number => {
                    let v = self.constant(a)?;
                    if !v.is_finite() {
                        return Err(self.err(
                            key,
                            a.column,
                            format!(
                                "`{}`: the argument is {v}, not a finite number{}",
                                func.name,
                                self.param_hint(a)
                            ),
                        ));
                    }
                    nums.push(v);
                }
            }
        }
        let _ = column;
        let k = functions::key(func, &series_keys, &nums, field);
        Ok(self.add(k, Recipe::Call { func, inputs, nums, field }))
    }

    /// ` (fast = 0)` when `t` is a parameter.
    fn param_hint(&self, t: &T) -> String {
        match t.kind {
            K::Param(p) => {
                format!(" (${} = {})", self.param_names[p], functions::fmt_num(self.values[p]))
            }
            _ => String::new(),
        }
    }

    /// An input of a function: a price as is, anything else materialised as an array.
    fn input(&mut self, node: SNode) -> (Input, String) {
        match node {
            SNode::Price(p) => (Input::Price(p), price_name(p).to_owned()),
            SNode::Arr(k) => (Input::Arr(k), self.arrays[k].key.clone()),
            other => {
                let text = canonical(&other, &self.arrays);
                let k = self.add(text.clone(), Recipe::Derived(other));
                (Input::Arr(k), text)
            }
        }
    }

    fn add(&mut self, key: String, recipe: Recipe) -> usize {
        if let Some(k) = self.arrays.iter().position(|a| a.key == key) {
            return k;
        }
        self.arrays.push(Array { key, recipe });
        self.arrays.len() - 1
    }

    /// A condition per bar.
    pub(crate) fn cond(&mut self, t: &T, key: &str) -> Result<CNode, CompileError> {
        if t.ty == Ty::Bool {
            return Ok(CNode::Const(self.constant(t)? != 0.0));
        }
        Ok(match &t.kind {
            K::Named(k) => {
                let (t, key) = (&self.indicators[*k].clone(), self.indicator_names[*k]);
                self.cond(t, key)?
            }
            K::Lag(inner, n) => CNode::Lag(Box::new(self.cond(inner, key)?), *n),
            K::Not(a) => CNode::Not(Box::new(self.cond(a, key)?)),
            K::Bin(op @ (BinOp::And | BinOp::Or), a, b) => {
                let (a, b) = (Box::new(self.cond(a, key)?), Box::new(self.cond(b, key)?));
                if *op == BinOp::And { CNode::And(a, b) } else { CNode::Or(a, b) }
            }
            K::Bin(op, a, b) if a.ty.numeric_like() => {
                CNode::Cmp(*op, self.series(a, key)?, self.series(b, key)?)
            }
            K::Bin(op, a, b) => CNode::Same(
                *op == BinOp::Ne,
                Box::new(self.cond(a, key)?),
                Box::new(self.cond(b, key)?),
            ),
            K::Call { func, args, .. } => {
                let (a, b) = (self.series(&args[0], key)?, self.series(&args[1], key)?);
                if func.name == "crosses_above" {
                    CNode::CrossAbove(a, b)
                } else {
                    CNode::CrossBelow(a, b)
                }
            }
            _ => unreachable!("typed as a condition by the checker"),
        })
    }
}

impl Ty {
    fn numeric_like(self) -> bool {
        matches!(self, Ty::Num | Ty::Series)
    }
}

fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}

pub(crate) fn price_name(p: Price) -> &'static str {
    crate::check::PRICES.iter().find(|(_, q)| *q == p).map_or("close", |(n, _)| n)
}

/// The canonical text of a series expression: its cache key when materialised.
fn canonical(node: &SNode, arrays: &[Array]) -> String {
    match node {
        SNode::Const(x) => functions::fmt_num(*x),
        SNode::Price(p) => price_name(*p).to_owned(),
        SNode::Arr(k) => arrays[*k].key.clone(),
        SNode::Lag(a, n) => format!("{}[{n}]", canonical(a, arrays)),
        SNode::Neg(a) => format!("(-{})", canonical(a, arrays)),
        SNode::Bin(op, a, b) => {
            format!("({}{}{})", canonical(a, arrays), op.symbol(), canonical(b, arrays))
        }
        SNode::Abs(a) => format!("abs({})", canonical(a, arrays)),
        SNode::Min(a, b) => format!("min({},{})", canonical(a, arrays), canonical(b, arrays)),
        SNode::Max(a, b) => format!("max({},{})", canonical(a, arrays), canonical(b, arrays)),
    }
}

/// What expressions read: the prices and the program's arrays, whole (the language has no
/// way to read a bar after the one it decides at: `x[k]` looks back, crosses read the bar
/// before).
pub(crate) struct Env<'a> {
    pub(crate) prices: [&'a [f64]; 5],
    pub(crate) arrays: &'a [std::sync::Arc<[f64]>],
    pub(crate) n: usize,
}

/// A series over every bar, computed column by column.
pub(crate) enum Col<'a> {
    Slice(&'a [f64]),
    Owned(Vec<f64>),
    Const(f64),
}

impl Col<'_> {
    fn slice(&self) -> Option<&[f64]> {
        match self {
            Col::Slice(s) => Some(s),
            Col::Owned(v) => Some(v),
            Col::Const(_) => None,
        }
    }

    /// Every value (a constant repeated), as an owned column.
    pub(crate) fn into_vec(self, n: usize) -> Vec<f64> {
        match self {
            Col::Slice(s) => s.to_vec(),
            Col::Owned(v) => v,
            Col::Const(c) => vec![c; n],
        }
    }
}

/// `f(a[j], b[j])` for every bar, with a constant side broadcast.
fn zip<T>(a: &Col<'_>, b: &Col<'_>, n: usize, f: impl Fn(f64, f64) -> T) -> Vec<T> {
    match (a.slice(), b.slice(), a, b) {
        (Some(x), Some(y), ..) => x.iter().zip(y).map(|(&p, &q)| f(p, q)).collect(),
        (Some(x), None, _, Col::Const(c)) => x.iter().map(|&p| f(p, *c)).collect(),
        (None, Some(y), Col::Const(c), _) => y.iter().map(|&q| f(*c, q)).collect(),
        (_, _, Col::Const(p), Col::Const(q)) => (0..n).map(|_| f(*p, *q)).collect(),
        _ => unreachable!("a column is a slice or a constant"),
    }
}

/// A condition over every bar.
pub(crate) enum Flags {
    Const(bool),
    Owned(Vec<bool>),
}

impl Flags {
    pub(crate) fn get(&self, j: usize) -> bool {
        match self {
            Flags::Const(b) => *b,
            Flags::Owned(v) => v[j],
        }
    }
}

impl SNode {
    /// The series at every bar (NaN before the first bar of a look-back).
    pub(crate) fn column<'a>(&self, env: &Env<'a>) -> Col<'a> {
        let n = env.n;
        match self {
            SNode::Const(x) => Col::Const(*x),
            SNode::Price(p) => Col::Slice(env.prices[*p as usize]),
            SNode::Arr(k) => Col::Slice(&env.arrays[*k][..]),
            SNode::Lag(a, lag) => match a.column(env) {
                Col::Const(c) => Col::Const(c),
                col => {
                    let x = col.slice().expect("not a constant");
                    let lag = (*lag as usize).min(n);
                    let mut out = vec![f64::NAN; lag];
                    out.extend_from_slice(&x[..n - lag]);
                    Col::Owned(out)
                }
            },
            SNode::Neg(a) => match a.column(env) {
                Col::Const(c) => Col::Const(-c),
                col => {
                    Col::Owned(col.slice().expect("not a constant").iter().map(|v| -v).collect())
                }
            },
            SNode::Abs(a) => match a.column(env) {
                Col::Const(c) => Col::Const(c.abs()),
                col => Col::Owned(
                    col.slice().expect("not a constant").iter().map(|v| v.abs()).collect(),
                ),
            },
            SNode::Bin(op, a, b) => {
                let (a, b) = (a.column(env), b.column(env));
                let f = |p: f64, q: f64| match op {
                    BinOp::Add => p + q,
                    BinOp::Sub => p - q,
                    BinOp::Mul => p * q,
                    _ => p / q,
                };
                match (&a, &b) {
                    (Col::Const(p), Col::Const(q)) => Col::Const(f(*p, *q)),
                    _ => Col::Owned(zip(&a, &b, n, f)),
                }
            }
            SNode::Min(a, b) | SNode::Max(a, b) => {
                let (a, b) = (a.column(env), b.column(env));
                let min = matches!(self, SNode::Min(..));
                let f = |p: f64, q: f64| if min { nan_min(p, q) } else { nan_max(p, q) };
                match (&a, &b) {
                    (Col::Const(p), Col::Const(q)) => Col::Const(f(*p, *q)),
                    _ => Col::Owned(zip(&a, &b, n, f)),
                }
            }
        }
    }
}

impl CNode {
    /// The condition at every bar (false before the first bar of a look-back).
    pub(crate) fn column(&self, env: &Env<'_>) -> Flags {
        let n = env.n;
        match self {
            CNode::Const(b) => Flags::Const(*b),
            CNode::Cmp(op, a, b) => {
                let (a, b) = (a.column(env), b.column(env));
                let f = |p: f64, q: f64| match op {
                    BinOp::Lt => p < q,
                    BinOp::Le => p <= q,
                    BinOp::Gt => p > q,
                    BinOp::Ge => p >= q,
                    BinOp::Eq => p == q,
                    _ => p != q,
                };
                match (&a, &b) {
                    (Col::Const(p), Col::Const(q)) => Flags::Const(f(*p, *q)),
                    _ => Flags::Owned(zip(&a, &b, n, f)),
                }
            }
            // backtesting.py's crossover: `a[-2] < b[-2] and a[-1] > b[-1]`.
            CNode::CrossAbove(a, b) | CNode::CrossBelow(a, b) => {
                let above = matches!(self, CNode::CrossAbove(..));
                let (a, b) = (a.column(env), b.column(env));
                let at = |c: &Col<'_>, j: usize| match c {
                    Col::Const(v) => *v,
                    c => c.slice().expect("not a constant")[j],
                };
                let mut out = vec![false; n];
                for (j, o) in out.iter_mut().enumerate().skip(1) {
                    let (a0, b0, a1, b1) = (at(&a, j - 1), at(&b, j - 1), at(&a, j), at(&b, j));
                    *o = if above { a0 < b0 && a1 > b1 } else { a0 > b0 && a1 < b1 };
                }
                Flags::Owned(out)
            }
            CNode::Same(negate, a, b) => {
                both(a.column(env), b.column(env), n, |p, q| (p == q) != *negate)
            }
            CNode::And(a, b) => both(a.column(env), b.column(env), n, |p, q| p && q),
            CNode::Or(a, b) => both(a.column(env), b.column(env), n, |p, q| p || q),
            CNode::Not(a) => match a.column(env) {
                Flags::Const(b) => Flags::Const(!b),
                Flags::Owned(v) => Flags::Owned(v.into_iter().map(|b| !b).collect()),
            },
            CNode::Lag(a, lag) => match a.column(env) {
                Flags::Const(b) => Flags::Const(b),
                Flags::Owned(v) => {
                    let lag = (*lag as usize).min(n);
                    let mut out = vec![false; lag];
                    out.extend_from_slice(&v[..n - lag]);
                    Flags::Owned(out)
                }
            },
        }
    }
}

fn both(a: Flags, b: Flags, n: usize, f: impl Fn(bool, bool) -> bool) -> Flags {
    match (a, b) {
        (Flags::Const(p), Flags::Const(q)) => Flags::Const(f(p, q)),
        (a, b) => Flags::Owned((0..n).map(|j| f(a.get(j), b.get(j))).collect()),
    }
}
