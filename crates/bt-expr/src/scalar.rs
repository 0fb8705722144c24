//! The constant evaluator: an expression over named values (a sweep point's parameters, a
//! record's columns), type-checked once, evaluated per point without allocating.

use std::fmt;

use crate::{BinOp, ExprError, Node, NodeKind, UnOp, known_list, parse};

/// The type of a name or sub-expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// Integers and floats.
    Num,
    /// Booleans and comparisons.
    Bool,
    /// Strings: compared with `==` and `!=` only.
    Str,
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::Num => "a number",
            Ty::Bool => "a condition",
            Ty::Str => "a string",
        })
    }
}

/// What a name refers to.
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    /// A value from slot `index` of the numbers each evaluation gets (booleans as 0 or 1).
    Slot(usize, Ty),
    /// A constant number (booleans as 0 or 1).
    Const(f64, Ty),
    /// A string from slot `index` of the strings each evaluation gets.
    StrSlot(usize),
    /// A constant string.
    StrConst(String),
}

/// How errors name what names refer to: `unknown parameter `x`; parameters of this sweep: ...`.
#[derive(Debug, Clone, Copy)]
pub struct Vocabulary<'a> {
    /// What one name is (`parameter`, `column`).
    pub noun: &'a str,
    /// What the list of known names is (`parameters of this sweep`).
    pub known_label: &'a str,
    /// Where the expression is used, for the type error of a string (`where`).
    pub context: &'a str,
    /// Whether string values may be compared (`==`, `!=`).
    pub strings: bool,
}

/// The vocabulary of a sweep's `where`.
pub const WHERE: Vocabulary<'static> = Vocabulary {
    noun: "parameter",
    known_label: "parameters of this sweep",
    context: "`where`",
    strings: false,
};

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Num(f64),
    Slot(usize),
    Neg(Box<Op>),
    Arith(BinOp, Box<Op>, Box<Op>),
    Cmp(BinOp, Box<Op>, Box<Op>),
    StrEq { negate: bool, left: StrOp, right: StrOp },
    And(Box<Op>, Box<Op>),
    Or(Box<Op>, Box<Op>),
    Not(Box<Op>),
}

#[derive(Debug, Clone, PartialEq)]
enum StrOp {
    Const(String),
    Slot(usize),
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    root: Op,
}

impl Scalar {
    /// Compiles the condition `src` with the names of a sweep's `where`.
    pub fn compile(
        src: &str,
        resolve: &dyn Fn(&str) -> Option<Binding>,
        known: &[&str],
    ) -> Result<Scalar, ExprError> {
        Scalar::compile_with(src, resolve, known, WHERE)
    }

    /// Compiles the condition `src`, resolving names with `resolve` (`None`: unknown; `known`
    /// lists the valid ones), with messages in `words`.
    pub fn compile_with(
        src: &str,
        resolve: &dyn Fn(&str) -> Option<Binding>,
        known: &[&str],
        words: Vocabulary<'_>,
    ) -> Result<Scalar, ExprError> {
        let node = parse(src)?;
        let c = Compiler { resolve, known, words };
        let (root, ty) = c.compile(&node)?;
        if ty != Ty::Bool {
            return Err(ExprError::new(
                1,
                format!("the expression is {ty}, not a condition: compare it, e.g. `fast < slow`"),
            ));
        }
        Ok(Scalar { root })
    }

    /// Whether values in these slots (numbers) satisfy the condition.
    pub fn holds(&self, slots: &[f64]) -> bool {
        truth(&self.root, slots, &[])
    }

    /// Whether values in these slots (numbers and strings) satisfy the condition.
    pub fn holds_with(&self, slots: &[f64], strings: &[&str]) -> bool {
        truth(&self.root, slots, strings)
    }
}

fn value(op: &Op, slots: &[f64], strings: &[&str]) -> f64 {
    match op {
        Op::Num(x) => *x,
        Op::Slot(i) => slots[*i],
        Op::Neg(a) => -value(a, slots, strings),
        Op::Arith(bin, a, b) => {
            let (a, b) = (value(a, slots, strings), value(b, slots, strings));
            match bin {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a * b,
                _ => a / b,
            }
        }
        // Conditions used as numbers only occur in `==`/`!=` between conditions.
        other => f64::from(u8::from(truth(other, slots, strings))),
    }
}

fn text<'a>(op: &'a StrOp, strings: &[&'a str]) -> &'a str {
    match op {
        StrOp::Const(s) => s,
        StrOp::Slot(i) => strings[*i],
    }
}

fn truth(op: &Op, slots: &[f64], strings: &[&str]) -> bool {
    match op {
        Op::Cmp(bin, a, b) => {
            let (a, b) = (value(a, slots, strings), value(b, slots, strings));
            match bin {
                BinOp::Lt => a < b,
                BinOp::Le => a <= b,
                BinOp::Gt => a > b,
                BinOp::Ge => a >= b,
                BinOp::Eq => a == b,
                _ => a != b,
            }
        }
        Op::StrEq { negate, left, right } => {
            (text(left, strings) == text(right, strings)) != *negate
        }
        Op::And(a, b) => truth(a, slots, strings) && truth(b, slots, strings),
        Op::Or(a, b) => truth(a, slots, strings) || truth(b, slots, strings),
        Op::Not(a) => !truth(a, slots, strings),
        other => value(other, slots, strings) != 0.0,
    }
}

/// A compiled part: a number or condition, or a string.
enum Part {
    Op(Op, Ty),
    Str(StrOp),
}

struct Compiler<'a> {
    resolve: &'a dyn Fn(&str) -> Option<Binding>,
    known: &'a [&'a str],
    words: Vocabulary<'a>,
}

impl Compiler<'_> {
    fn compile(&self, node: &Node) -> Result<(Op, Ty), ExprError> {
        match self.part(node)? {
            Part::Op(op, ty) => Ok((op, ty)),
            Part::Str(_) => Ok((Op::Num(f64::NAN), Ty::Str)),
        }
    }

    fn expect(&self, node: &Node, want: Ty, context: &str) -> Result<Op, ExprError> {
        let (op, got) = self.compile(node)?;
        if got == want {
            Ok(op)
        } else {
            Err(ExprError::new(node.column, format!("{context} needs {want}, found {got}")))
        }
    }

    fn part(&self, node: &Node) -> Result<Part, ExprError> {
        let column = node.column;
        Ok(match &node.kind {
            NodeKind::Num(x) => Part::Op(Op::Num(*x), Ty::Num),
            NodeKind::Bool(b) => Part::Op(Op::Num(f64::from(u8::from(*b))), Ty::Bool),
            NodeKind::Str(s) if self.words.strings => Part::Str(StrOp::Const(s.clone())),
            NodeKind::Str(_) => {
                return Err(ExprError::new(
                    column,
                    format!(
                        "{} compares only numbers and booleans, not strings",
                        self.words.context
                    ),
                ));
            }
            NodeKind::Name(name) => match (self.resolve)(name) {
                Some(Binding::Slot(_, Ty::Str) | Binding::Const(_, Ty::Str))
                | Some(Binding::StrSlot(_) | Binding::StrConst(_))
                    if !self.words.strings =>
                {
                    return Err(ExprError::new(
                        column,
                        format!(
                            "{} `{name}` is a string: {} compares only numbers and booleans",
                            self.words.noun, self.words.context
                        ),
                    ));
                }
                Some(Binding::Slot(i, ty)) => Part::Op(Op::Slot(i), ty),
                Some(Binding::Const(x, ty)) => Part::Op(Op::Num(x), ty),
                Some(Binding::StrSlot(i)) => Part::Str(StrOp::Slot(i)),
                Some(Binding::StrConst(s)) => Part::Str(StrOp::Const(s)),
                None => {
                    return Err(ExprError::new(
                        column,
                        format!(
                            "unknown {} `{name}`; {}: {}",
                            self.words.noun,
                            self.words.known_label,
                            known_list(self.known)
                        ),
                    ));
                }
            },
            NodeKind::Param(name) => {
                return Err(ExprError::new(
                    column,
                    format!(
                        "`${name}`: {} names a {} without `$`: write `{name}`",
                        self.words.context, self.words.noun
                    ),
                ));
            }
            NodeKind::Call { name, .. } => {
                return Err(ExprError::new(
                    column,
                    format!(
                        "{} has no functions (`{name}(...)`): use numbers, {}s and operators",
                        self.words.context, self.words.noun
                    ),
                ));
            }
            NodeKind::Field { .. } | NodeKind::Index { .. } => {
                return Err(ExprError::new(
                    column,
                    format!(
                        "{} has no series: `.field` and `[bars back]` are for rules files",
                        self.words.context
                    ),
                ));
            }
            NodeKind::Unary(UnOp::Neg, inner) => {
                Part::Op(Op::Neg(Box::new(self.expect(inner, Ty::Num, "`-`")?)), Ty::Num)
            }
            NodeKind::Unary(UnOp::Not, inner) => {
                Part::Op(Op::Not(Box::new(self.expect(inner, Ty::Bool, "`not`")?)), Ty::Bool)
            }
            NodeKind::Binary { op, op_column, left, right } => {
                self.binary(*op, *op_column, left, right)?
            }
        })
    }

    fn binary(
        &self,
        op: BinOp,
        op_column: usize,
        left: &Node,
        right: &Node,
    ) -> Result<Part, ExprError> {
        let context = format!("`{}`", op.symbol());
        match op {
            BinOp::And | BinOp::Or => {
                let (a, b) = (
                    self.expect(left, Ty::Bool, &context)?,
                    self.expect(right, Ty::Bool, &context)?,
                );
                let (a, b) = (Box::new(a), Box::new(b));
                Ok(Part::Op(if op == BinOp::And { Op::And(a, b) } else { Op::Or(a, b) }, Ty::Bool))
            }
            _ if op.is_arithmetic() => {
                let (a, b) =
                    (self.expect(left, Ty::Num, &context)?, self.expect(right, Ty::Num, &context)?);
                Ok(Part::Op(Op::Arith(op, Box::new(a), Box::new(b)), Ty::Num))
            }
            _ if op.is_ordering() => {
                let (a, b) =
                    (self.expect(left, Ty::Num, &context)?, self.expect(right, Ty::Num, &context)?);
                Ok(Part::Op(Op::Cmp(op, Box::new(a), Box::new(b)), Ty::Bool))
            }
            _ => match (self.part(left)?, self.part(right)?) {
                (Part::Str(l), Part::Str(r)) => {
                    Ok(Part::Op(Op::StrEq { negate: op == BinOp::Ne, left: l, right: r }, Ty::Bool))
                }
                (Part::Op(a, ta), Part::Op(b, tb)) if ta == tb => {
                    Ok(Part::Op(Op::Cmp(op, Box::new(a), Box::new(b)), Ty::Bool))
                }
                (l, r) => {
                    let ty = |p: &Part| match p {
                        Part::Op(_, t) => *t,
                        Part::Str(_) => Ty::Str,
                    };
                    Err(ExprError::new(
                        op_column,
                        format!("{context} compares {} with {}", ty(&l), ty(&r)),
                    ))
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(name: &str) -> Option<Binding> {
        match name {
            "fast" => Some(Binding::Slot(0, Ty::Num)),
            "slow" => Some(Binding::Slot(1, Ty::Num)),
            "long" => Some(Binding::Slot(2, Ty::Bool)),
            "k" => Some(Binding::Const(2.5, Ty::Num)),
            "name" => Some(Binding::Const(0.0, Ty::Str)),
            "strategy" => Some(Binding::StrSlot(0)),
            _ => None,
        }
    }

    fn parse(src: &str) -> Result<Scalar, ExprError> {
        Scalar::compile(src, &resolve, &["fast", "k", "long", "name", "slow"])
    }

    fn holds(src: &str, fast: f64, slow: f64, long: bool) -> bool {
        parse(src).unwrap().holds(&[fast, slow, f64::from(u8::from(long))])
    }

    #[test]
    fn evaluates_comparisons_logic_and_arithmetic() {
        assert!(holds("fast < slow", 5.0, 40.0, false));
        assert!(!holds("fast < slow", 40.0, 40.0, false));
        assert!(holds("fast <= slow", 40.0, 40.0, false));
        assert!(holds("fast * 2 <= slow and not long", 10.0, 20.0, false));
        assert!(!holds("fast * 2 <= slow and not long", 10.0, 20.0, true));
        assert!(holds("fast > 100 or long", 1.0, 2.0, true));
        assert!(holds("(fast + 1) * 2 == 12", 5.0, 0.0, false));
        assert!(holds("fast + 1 * 2 == 7", 5.0, 0.0, false));
        assert!(holds("slow - fast - 1 == 3", 1.0, 5.0, false));
        assert!(holds("slow / fast / 2 == 1", 2.0, 4.0, false));
        assert!(holds("-fast == -3 and - -fast == 3", 3.0, 0.0, false));
        assert!(holds("k * 2 == 5.0 and 1e1 == 10 and .5 < 1", 0.0, 0.0, false));
        assert!(holds("long == true and long != false", 0.0, 0.0, true));
        assert!(holds("not not long", 0.0, 0.0, true));
        assert!(holds("true or fast / 0 > 1", 0.0, 0.0, false));
        // `and` binds tighter than `or`.
        assert!(holds("long or fast > 1 and fast < 0", 5.0, 0.0, true));
        assert!(!holds("(long or fast > 1) and fast < 0", 5.0, 0.0, true));
    }

    #[test]
    fn errors_name_the_column() {
        let err = |src: &str| parse(src).unwrap_err();
        let e = err("fast < ");
        assert_eq!(e.column, 8, "{e:?}");
        assert!(e.message.contains("end of the expression"), "{e:?}");
        let e = err("fast < slw");
        assert_eq!((e.column, e.message.contains("unknown parameter `slw`")), (8, true), "{e:?}");
        assert!(e.message.contains("fast, k, long, name, slow"), "{e:?}");
        assert_eq!(err("fast = slow").column, 6);
        assert!(err("fast = slow").message.contains("`==`"));
        assert_eq!(err("fast && slow").column, 6);
        assert_eq!(err("(fast < slow").column, 13);
        assert_eq!(err("fast < slow)").column, 12);
        assert_eq!(err("fast + slow").column, 1, "a number is not a condition");
        assert_eq!(err("fast < slow < 3").column, 13);
        assert_eq!(err("long < 3").column, 1);
        assert_eq!(err("fast and slow").column, 1);
        assert_eq!(err("fast == long").column, 6);
        assert_eq!(err("name == 1").column, 1);
        assert_eq!(err("fast < 1..2").column, 8);
        assert_eq!(err("").column, 1);
        assert_eq!(err("fast < slow and").column, 16);
        assert_eq!(
            err("$fast < 1").message,
            "`$fast`: `where` names a parameter without `$`: write `fast`"
        );
        assert!(err("sma(fast) < 1").message.contains("no functions"));
        assert!(err("fast[1] < 1").message.contains("no series"));
        assert!(err("strategy == \"x\"").message.contains("is a string"));
    }

    #[test]
    fn strings_compare_where_allowed() {
        let words = Vocabulary {
            noun: "column",
            known_label: "columns",
            context: "the filter",
            strings: true,
        };
        let f = |src: &str| Scalar::compile_with(src, &resolve, &[], words).unwrap();
        assert!(f("strategy == \"rsi\" and fast > 2").holds_with(&[3.0], &["rsi"]));
        assert!(!f("strategy != \"rsi\"").holds_with(&[3.0], &["rsi"]));
        let e = Scalar::compile_with("strategy == 1", &resolve, &[], words).unwrap_err();
        assert_eq!(e.message, "`==` compares a string with a number");
    }
}
