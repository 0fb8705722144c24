//! Tokens to a tree: precedence climbing by recursive descent, every node with its column.

use crate::{
    ExprError,
    lex::{Kind, Token, lex},
};

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `and`
    And,
    /// `or`
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }

    /// `+ - * /`.
    pub fn is_arithmetic(self) -> bool {
        matches!(self, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div)
    }

    /// `< <= > >=` (`==` and `!=` compare any two values of one type).
    pub fn is_ordering(self) -> bool {
        matches!(self, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

/// A unary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `not x`
    Not,
}

/// A part of an expression and the column where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What it is.
    pub kind: NodeKind,
    /// 1-based column of its first character.
    pub column: usize,
}

/// The parts of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A number literal.
    Num(f64),
    /// A string literal (`"rsi_reversion"`).
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// A name (`fast`, `close`, a named indicator).
    Name(String),
    /// `$name`: a parameter of a rules file.
    Param(String),
    /// `name(args)`.
    Call {
        /// The function.
        name: String,
        /// Its arguments, in order.
        args: Vec<Node>,
    },
    /// `base.name`: a part of a multi-output function (`bollinger(close, 20, 2).upper`).
    Field {
        /// The value the field belongs to.
        base: Box<Node>,
        /// The field.
        name: String,
        /// Column of the field's name.
        name_column: usize,
    },
    /// `base[lag]`: the value `lag` bars before the current one.
    Index {
        /// The series.
        base: Box<Node>,
        /// Bars back (0 is the current bar).
        lag: u32,
    },
    /// A unary operation.
    Unary(UnOp, Box<Node>),
    /// A binary operation.
    Binary {
        /// The operator.
        op: BinOp,
        /// Column of the operator.
        op_column: usize,
        /// Left operand.
        left: Box<Node>,
        /// Right operand.
        right: Box<Node>,
    },
}

/// Parses `src` into a tree (syntax only: names are resolved, and types checked, by the user).
pub fn parse(src: &str) -> Result<Node, ExprError> {
    let tokens = lex(src)?;
    let mut p = Parser { tokens, pos: 0, end_column: src.chars().count() + 1 };
    let node = p.or()?;
    if let Some(t) = p.peek() {
        return Err(ExprError::new(
            t.column,
            format!("unexpected {} after a complete expression", t.kind),
        ));
    }
    Ok(node)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn eat_word(&mut self, word: &str) -> Option<usize> {
        match self.peek() {
            Some(Token { kind: Kind::Name(n), column }) if n == word => {
                let column = *column;
                self.pos += 1;
                Some(column)
            }
            _ => None,
        }
    }

    fn eat(&mut self, kind: &Kind) -> Option<usize> {
        match self.peek() {
            Some(t) if t.kind == *kind => {
                let column = t.column;
                self.pos += 1;
                Some(column)
            }
            _ => None,
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

    fn binary(op: BinOp, op_column: usize, left: Node, right: Node) -> Node {
        let column = left.column;
        Node {
            kind: NodeKind::Binary { op, op_column, left: Box::new(left), right: Box::new(right) },
            column,
        }
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let mut left = self.and()?;
        while let Some(c) = self.eat_word("or") {
            let right = self.and()?;
            left = Parser::binary(BinOp::Or, c, left, right);
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let mut left = self.not()?;
        while let Some(c) = self.eat_word("and") {
            let right = self.not()?;
            left = Parser::binary(BinOp::And, c, left, right);
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Node, ExprError> {
        if let Some(column) = self.eat_word("not") {
            let inner = self.not()?;
            return Ok(Node { kind: NodeKind::Unary(UnOp::Not, Box::new(inner)), column });
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Node, ExprError> {
        const CMP: [&str; 6] = ["<", "<=", ">", ">=", "==", "!="];
        let left = self.sum()?;
        let Some((op, op_column)) = self.eat_op(&CMP) else { return Ok(left) };
        let right = self.sum()?;
        if let Some((next, next_column)) = self.eat_op(&CMP) {
            return Err(ExprError::new(
                next_column,
                format!("comparisons do not chain: write `a {op} b and b {next} c`"),
            ));
        }
        let op = match op {
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "==" => BinOp::Eq,
            _ => BinOp::Ne,
        };
        Ok(Parser::binary(op, op_column, left, right))
    }

    fn sum(&mut self) -> Result<Node, ExprError> {
        let mut left = self.term()?;
        while let Some((op, c)) = self.eat_op(&["+", "-"]) {
            let right = self.term()?;
            left = Parser::binary(if op == "+" { BinOp::Add } else { BinOp::Sub }, c, left, right);
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Node, ExprError> {
        let mut left = self.unary()?;
        while let Some((op, c)) = self.eat_op(&["*", "/"]) {
            let right = self.unary()?;
            left = Parser::binary(if op == "*" { BinOp::Mul } else { BinOp::Div }, c, left, right);
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        if let Some((_, column)) = self.eat_op(&["-"]) {
            let inner = self.unary()?;
            return Ok(Node { kind: NodeKind::Unary(UnOp::Neg, Box::new(inner)), column });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Node, ExprError> {
        let mut node = self.atom()?;
        loop {
            if let Some(open) = self.eat(&Kind::LBracket) {
                let lag = match self.peek().cloned() {
                    Some(Token { kind: Kind::Num(x), column })
                        if x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) =>
                    {
                        self.pos += 1;
                        let _ = column;
                        x as u32
                    }
                    Some(t) => {
                        return Err(ExprError::new(
                            t.column,
                            format!(
                                "an index is the number of bars back, a whole number >= 0 like `x[1]`; found {}",
                                t.kind
                            ),
                        ));
                    }
                    None => {
                        return Err(ExprError::new(
                            self.end_column,
                            format!("`[` at column {open} is never closed: write `x[1]`"),
                        ));
                    }
                };
                if self.eat(&Kind::RBracket).is_none() {
                    let column = self.peek().map_or(self.end_column, |t| t.column);
                    return Err(ExprError::new(column, "expected `]` after the index"));
                }
                let column = node.column;
                node = Node { kind: NodeKind::Index { base: Box::new(node), lag }, column };
            } else if self.eat(&Kind::Dot).is_some() {
                match self.peek().cloned() {
                    Some(Token { kind: Kind::Name(name), column: name_column }) => {
                        self.pos += 1;
                        let column = node.column;
                        node = Node {
                            kind: NodeKind::Field { base: Box::new(node), name, name_column },
                            column,
                        };
                    }
                    other => {
                        let column = other.as_ref().map_or(self.end_column, |t| t.column);
                        return Err(ExprError::new(
                            column,
                            "expected a field name after `.`, like `.upper`",
                        ));
                    }
                }
            } else {
                return Ok(node);
            }
        }
    }

    fn atom(&mut self) -> Result<Node, ExprError> {
        let Some(token) = self.peek().cloned() else {
            return Err(ExprError::new(
                self.end_column,
                "expected a number, a name or `(`, found the end of the expression",
            ));
        };
        self.pos += 1;
        let column = token.column;
        let kind = match token.kind {
            Kind::Num(x) => NodeKind::Num(x),
            Kind::Str(s) => NodeKind::Str(s),
            Kind::LParen => {
                let inner = self.or()?;
                return match self.peek() {
                    Some(Token { kind: Kind::RParen, .. }) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some(t) => {
                        Err(ExprError::new(t.column, format!("expected `)`, found {}", t.kind)))
                    }
                    None => Err(ExprError::new(
                        self.end_column,
                        format!("`(` at column {column} is never closed: add `)`"),
                    )),
                };
            }
            Kind::Dollar => match self.peek().cloned() {
                Some(Token { kind: Kind::Name(name), .. }) => {
                    self.pos += 1;
                    NodeKind::Param(name)
                }
                _ => {
                    return Err(ExprError::new(
                        column,
                        "`$` starts a parameter: write `$name`, like `$fast`",
                    ));
                }
            },
            Kind::Name(name) => match name.as_str() {
                "true" => NodeKind::Bool(true),
                "false" => NodeKind::Bool(false),
                "and" | "or" | "not" => {
                    return Err(ExprError::new(
                        column,
                        format!("expected a number, a name or `(`, found `{name}`"),
                    ));
                }
                _ if self.eat(&Kind::LParen).is_some() => {
                    let mut args = Vec::new();
                    if self.eat(&Kind::RParen).is_none() {
                        loop {
                            args.push(self.or()?);
                            if self.eat(&Kind::Comma).is_some() {
                                continue;
                            }
                            if self.eat(&Kind::RParen).is_some() {
                                break;
                            }
                            let (c, what) = match self.peek() {
                                Some(t) => (t.column, t.kind.to_string()),
                                None => (self.end_column, "the end of the expression".into()),
                            };
                            return Err(ExprError::new(
                                c,
                                format!(
                                    "expected `,` or `)` in the arguments of `{name}`, found {what}"
                                ),
                            ));
                        }
                    }
                    NodeKind::Call { name, args }
                }
                _ => NodeKind::Name(name),
            },
            kind => {
                return Err(ExprError::new(
                    column,
                    format!("expected a number, a name or `(`, found {kind}"),
                ));
            }
        };
        Ok(Node { kind, column })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(src: &str) -> String {
        fn show(n: &Node) -> String {
            match &n.kind {
                NodeKind::Num(x) => format!("{x}"),
                NodeKind::Str(s) => format!("{s:?}"),
                NodeKind::Bool(b) => format!("{b}"),
                NodeKind::Name(s) => s.clone(),
                NodeKind::Param(s) => format!("${s}"),
                NodeKind::Call { name, args } => {
                    format!("{name}({})", args.iter().map(show).collect::<Vec<_>>().join(", "))
                }
                NodeKind::Field { base, name, .. } => format!("{}.{name}", show(base)),
                NodeKind::Index { base, lag } => format!("{}[{lag}]", show(base)),
                NodeKind::Unary(UnOp::Neg, a) => format!("(-{})", show(a)),
                NodeKind::Unary(UnOp::Not, a) => format!("(not {})", show(a)),
                NodeKind::Binary { op, left, right, .. } => {
                    format!("({} {} {})", show(left), op.symbol(), show(right))
                }
            }
        }
        show(&parse(src).unwrap())
    }

    #[test]
    fn precedence_calls_fields_and_indices() {
        assert_eq!(
            shape("a or b and not c < 1 + 2 * -d"),
            "(a or (b and (not (c < (1 + (2 * (-d)))))))"
        );
        assert_eq!(
            shape("crosses_above(f, s) and r < $rsi_max"),
            "(crosses_above(f, s) and (r < $rsi_max))"
        );
        assert_eq!(shape("bollinger(close, 20, 2.0).upper[1]"), "bollinger(close, 20, 2).upper[1]");
        assert_eq!(shape("x[0] - x[12]"), "(x[0] - x[12])");
        assert_eq!(
            shape("strategy == \"rsi\" and n() > .5"),
            "((strategy == \"rsi\") and (n() > 0.5))"
        );
        assert_eq!(parse("  f(x)").unwrap().column, 3);
    }

    #[test]
    fn errors_name_the_column_and_the_fix() {
        let err = |src: &str| parse(src).unwrap_err();
        assert_eq!(err("x[-1]").column, 3, "no future index");
        assert!(err("x[1.5]").message.contains("whole number"));
        assert!(err("x[$n]").message.contains("whole number"));
        assert_eq!(err("x[1").column, 4);
        assert_eq!(err("f(a b)").column, 5);
        assert!(err("f(a b)").message.contains("arguments of `f`"));
        assert_eq!(err("f(a,").column, 5);
        assert_eq!(err("$ 1").column, 1);
        assert_eq!(err("a.").column, 3);
        assert_eq!(err("\"abc").column, 1);
        assert_eq!(err("a < b < c").column, 7);
        assert_eq!(err("(a").column, 3);
        assert_eq!(err("a)").column, 2);
        assert_eq!(err("a = b").column, 3);
    }
}
