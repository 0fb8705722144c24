//! The `where` constraint language of sweeps: a tiny recursive-descent parser and evaluator.
//!
//! ```text
//! expr  := or
//! or    := and ("or" and)*
//! and   := not ("and" not)*
//! not   := "not" not | cmp
//! cmp   := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
//! sum   := term (("+" | "-") term)*
//! term  := unary (("*" | "/") unary)*
//! unary := "-" unary | atom
//! atom  := number | "true" | "false" | name | "(" expr ")"
//! ```
//!
//! Expressions are type-checked while parsing (numbers vs conditions), so evaluation cannot fail:
//! a point's parameter values arrive as `f64` slots (booleans as 0 or 1).

use std::fmt;

/// The type of a parameter or sub-expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    /// Integers and floats.
    Num,
    /// Booleans and comparisons.
    Bool,
    /// Strings: not usable in expressions.
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

/// What a name in an expression refers to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Binding {
    /// A swept parameter: the value comes from slot `index` of each point.
    Slot(usize, Ty),
    /// A fixed parameter: a constant (booleans as 0 or 1).
    Const(f64, Ty),
}

/// A parse or type error, with the 1-based column (in characters) where it was found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExprError {
    pub(crate) column: usize,
    pub(crate) message: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Num(f64),
    Slot(usize),
    Neg(Box<Node>),
    Arith(Arith, Box<Node>, Box<Node>),
    Cmp(Cmp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
}

/// A parsed, type-checked constraint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    root: Node,
}

impl Expr {
    /// Parses `src`, resolving names with `resolve` (`None`: unknown name; `known` lists the
    /// valid ones for the error message).
    pub(crate) fn parse(
        src: &str,
        resolve: &dyn Fn(&str) -> Option<Binding>,
        known: &[&str],
    ) -> Result<Expr, ExprError> {
        let tokens = lex(src)?;
        let mut p = Parser { tokens, pos: 0, resolve, known, end_column: src.chars().count() + 1 };
        let (root, ty) = p.or()?;
        if let Some(t) = p.peek() {
            return Err(
                p.error_at(t.column, format!("unexpected {} after a complete expression", t.kind))
            );
        }
        if ty != Ty::Bool {
            return Err(ExprError {
                column: 1,
                message:
                    "the expression is a number, not a condition: compare it, e.g. `fast < slow`"
                        .into(),
            });
        }
        Ok(Expr { root })
    }

    /// Whether a point with these slot values satisfies the constraint.
    pub(crate) fn holds(&self, slots: &[f64]) -> bool {
        truth(&self.root, slots)
    }
}

fn value(node: &Node, slots: &[f64]) -> f64 {
    match node {
        Node::Num(x) => *x,
        Node::Slot(i) => slots[*i],
        Node::Neg(a) => -value(a, slots),
        Node::Arith(op, a, b) => {
            let (a, b) = (value(a, slots), value(b, slots));
            match op {
                Arith::Add => a + b,
                Arith::Sub => a - b,
                Arith::Mul => a * b,
                Arith::Div => a / b,
            }
        }
        // Conditions used as numbers only occur in `==`/`!=` between conditions.
        other => f64::from(u8::from(truth(other, slots))),
    }
}

fn truth(node: &Node, slots: &[f64]) -> bool {
    match node {
        Node::Cmp(op, a, b) => {
            let (a, b) = (value(a, slots), value(b, slots));
            match op {
                Cmp::Lt => a < b,
                Cmp::Le => a <= b,
                Cmp::Gt => a > b,
                Cmp::Ge => a >= b,
                Cmp::Eq => a == b,
                Cmp::Ne => a != b,
            }
        }
        Node::And(a, b) => truth(a, slots) && truth(b, slots),
        Node::Or(a, b) => truth(a, slots) || truth(b, slots),
        Node::Not(a) => !truth(a, slots),
        other => value(other, slots) != 0.0,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Num(f64),
    Name(String),
    Op(&'static str),
    LParen,
    RParen,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Num(x) => write!(f, "number {x}"),
            Kind::Name(n) => write!(f, "`{n}`"),
            Kind::Op(op) => write!(f, "`{op}`"),
            Kind::LParen => f.write_str("`(`"),
            Kind::RParen => f.write_str("`)`"),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    column: usize,
}

const OPERATORS: [&str; 10] = ["<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/"];

fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' || c == ')' {
            tokens.push(Token { kind: if c == '(' { Kind::LParen } else { Kind::RParen }, column });
            i += 1;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let text: String = chars[start..i].iter().filter(|&&c| c != '_').collect();
            let x: f64 = text.parse().map_err(|_| ExprError {
                column,
                message: format!(
                    "malformed number `{}`",
                    chars[start..i].iter().collect::<String>()
                ),
            })?;
            tokens.push(Token { kind: Kind::Num(x), column });
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token { kind: Kind::Name(chars[start..i].iter().collect()), column });
        } else if let Some(op) = OPERATORS
            .iter()
            .find(|op| op.chars().enumerate().all(|(k, oc)| chars.get(i + k) == Some(&oc)))
        {
            tokens.push(Token { kind: Kind::Op(op), column });
            i += op.len();
        } else {
            let hint = match c {
                '=' => ": use `==` to compare",
                '&' => ": use `and`",
                '|' => ": use `or`",
                '!' => ": use `not` or `!=`",
                _ => "",
            };
            return Err(ExprError { column, message: format!("unexpected character `{c}`{hint}") });
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    resolve: &'a dyn Fn(&str) -> Option<Binding>,
    known: &'a [&'a str],
    end_column: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end_column, |t| t.column)
    }

    fn error_at(&self, column: usize, message: String) -> ExprError {
        ExprError { column, message }
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token { kind: Kind::Name(n), .. }) if n == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn eat_op(&mut self, ops: &[&'static str]) -> Option<(&'static str, usize)> {
        match self.peek() {
            Some(Token { kind: Kind::Op(op), column }) if ops.contains(op) => {
                let found = (*op, *column);
                self.pos += 1;
                Some(found)
            }
            _ => None,
        }
    }

    fn expect(&self, column: usize, got: Ty, want: Ty, context: &str) -> Result<(), ExprError> {
        if got == want {
            Ok(())
        } else {
            Err(self.error_at(column, format!("{context} needs {want}, found {got}")))
        }
    }

    fn or(&mut self) -> Result<(Node, Ty), ExprError> {
        let column = self.column();
        let (mut left, mut ty) = self.and()?;
        while self.eat_word("or") {
            self.expect(column, ty, Ty::Bool, "`or`")?;
            let right_column = self.column();
            let (right, rty) = self.and()?;
            self.expect(right_column, rty, Ty::Bool, "`or`")?;
            left = Node::Or(Box::new(left), Box::new(right));
            ty = Ty::Bool;
        }
        Ok((left, ty))
    }

    fn and(&mut self) -> Result<(Node, Ty), ExprError> {
        let column = self.column();
        let (mut left, mut ty) = self.not()?;
        while self.eat_word("and") {
            self.expect(column, ty, Ty::Bool, "`and`")?;
            let right_column = self.column();
            let (right, rty) = self.not()?;
            self.expect(right_column, rty, Ty::Bool, "`and`")?;
            left = Node::And(Box::new(left), Box::new(right));
            ty = Ty::Bool;
        }
        Ok((left, ty))
    }

    fn not(&mut self) -> Result<(Node, Ty), ExprError> {
        if self.eat_word("not") {
            let column = self.column();
            let (inner, ty) = self.not()?;
            self.expect(column, ty, Ty::Bool, "`not`")?;
            return Ok((Node::Not(Box::new(inner)), Ty::Bool));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<(Node, Ty), ExprError> {
        let column = self.column();
        let (left, ty) = self.sum()?;
        let Some((op, op_column)) = self.eat_op(&["<", "<=", ">", ">=", "==", "!="]) else {
            return Ok((left, ty));
        };
        let right_column = self.column();
        let (right, rty) = self.sum()?;
        let ordering = !matches!(op, "==" | "!=");
        if ordering {
            self.expect(column, ty, Ty::Num, &format!("`{op}`"))?;
            self.expect(right_column, rty, Ty::Num, &format!("`{op}`"))?;
        } else if ty != rty {
            return Err(self.error_at(op_column, format!("`{op}` compares {ty} with {rty}")));
        }
        if let Some((next, next_column)) = self.eat_op(&["<", "<=", ">", ">=", "==", "!="]) {
            return Err(self.error_at(
                next_column,
                format!("comparisons do not chain: write `a {op} b and b {next} c`"),
            ));
        }
        let op = match op {
            "<" => Cmp::Lt,
            "<=" => Cmp::Le,
            ">" => Cmp::Gt,
            ">=" => Cmp::Ge,
            "==" => Cmp::Eq,
            _ => Cmp::Ne,
        };
        Ok((Node::Cmp(op, Box::new(left), Box::new(right)), Ty::Bool))
    }

    fn sum(&mut self) -> Result<(Node, Ty), ExprError> {
        let column = self.column();
        let (mut left, ty) = self.term()?;
        while let Some((op, _)) = self.eat_op(&["+", "-"]) {
            self.expect(column, ty, Ty::Num, &format!("`{op}`"))?;
            let right_column = self.column();
            let (right, rty) = self.term()?;
            self.expect(right_column, rty, Ty::Num, &format!("`{op}`"))?;
            let op = if op == "+" { Arith::Add } else { Arith::Sub };
            left = Node::Arith(op, Box::new(left), Box::new(right));
        }
        Ok((left, ty))
    }

    fn term(&mut self) -> Result<(Node, Ty), ExprError> {
        let column = self.column();
        let (mut left, ty) = self.unary()?;
        while let Some((op, _)) = self.eat_op(&["*", "/"]) {
            self.expect(column, ty, Ty::Num, &format!("`{op}`"))?;
            let right_column = self.column();
            let (right, rty) = self.unary()?;
            self.expect(right_column, rty, Ty::Num, &format!("`{op}`"))?;
            let op = if op == "*" { Arith::Mul } else { Arith::Div };
            left = Node::Arith(op, Box::new(left), Box::new(right));
        }
        Ok((left, ty))
    }

    fn unary(&mut self) -> Result<(Node, Ty), ExprError> {
        if self.eat_op(&["-"]).is_some() {
            let column = self.column();
            let (inner, ty) = self.unary()?;
            self.expect(column, ty, Ty::Num, "`-`")?;
            return Ok((Node::Neg(Box::new(inner)), Ty::Num));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<(Node, Ty), ExprError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.error_at(
                self.end_column,
                "expected a number, a parameter name or `(`, found the end of the expression"
                    .into(),
            ));
        };
        self.pos += 1;
        match token.kind {
            Kind::Num(x) => Ok((Node::Num(x), Ty::Num)),
            Kind::LParen => {
                let inner = self.or()?;
                match self.peek() {
                    Some(Token { kind: Kind::RParen, .. }) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some(t) => Err(self.error_at(t.column, format!("expected `)`, found {}", t.kind))),
                    None => Err(self.error_at(
                        self.end_column,
                        format!("`(` at column {} is never closed: add `)`", token.column),
                    )),
                }
            }
            Kind::Name(name) => match name.as_str() {
                "true" => Ok((Node::Num(1.0), Ty::Bool)),
                "false" => Ok((Node::Num(0.0), Ty::Bool)),
                "and" | "or" | "not" => Err(self.error_at(
                    token.column,
                    format!("expected a number, a parameter name or `(`, found `{name}`"),
                )),
                _ => match (self.resolve)(&name) {
                    Some(Binding::Slot(_, Ty::Str) | Binding::Const(_, Ty::Str)) => Err(self.error_at(
                        token.column,
                        format!("parameter `{name}` is a string: `where` compares only numbers and booleans"),
                    )),
                    Some(Binding::Slot(i, ty)) => Ok((Node::Slot(i), ty)),
                    Some(Binding::Const(x, ty)) => Ok((Node::Num(x), ty)),
                    None => Err(self.error_at(
                        token.column,
                        format!("unknown parameter `{name}`; parameters of this sweep: {}", known_list(self.known)),
                    )),
                },
            },
            kind => Err(self.error_at(
                token.column,
                format!("expected a number, a parameter name or `(`, found {kind}"),
            )),
        }
    }
}

fn known_list(known: &[&str]) -> String {
    if known.is_empty() { "none".into() } else { known.join(", ") }
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
            _ => None,
        }
    }

    fn parse(src: &str) -> Result<Expr, ExprError> {
        Expr::parse(src, &resolve, &["fast", "k", "long", "name", "slow"])
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
        assert_eq!(err("fast $ 1").column, 6);
    }
}
