//! bt's expression language, one grammar for every place bt takes a formula: the `where`
//! constraints of queue sweeps, the indicators and conditions of rules files, and leaderboard
//! filters.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | cmp
//! cmp     := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
//! sum     := term (("+" | "-") term)*
//! term    := unary (("*" | "/") unary)*
//! unary   := "-" unary | postfix
//! postfix := atom ("[" integer "]" | "." name)*
//! atom    := number | string | "true" | "false" | "$" name | name | name "(" args ")"
//!          | "(" expr ")"
//! args    := expr ("," expr)*
//! ```
//!
//! - [`parse`]: text to a [`Node`] tree with the column of every part, or an [`ExprError`]
//!   naming the column and what is valid there. The parser knows no names: each use resolves
//!   them (a sweep's parameters, a rules file's series and indicators).
//! - [`scalar`]: the constant evaluator: a tree over named values (`fast < slow`), type-checked
//!   once (numbers vs conditions), evaluated without allocating.
//!
//! `x[1]` is the previous value of a series: an index is a non-negative integer literal, so no
//! expression can name a future bar.
//!
//! Architecture invariant: depends on nothing; no I/O.
//!
//! ```
//! use bt_expr::scalar::{Binding, Scalar, Ty};
//! let resolve = |name: &str| match name {
//!     "fast" => Some(Binding::Slot(0, Ty::Num)),
//!     "slow" => Some(Binding::Slot(1, Ty::Num)),
//!     _ => None,
//! };
//! let expr = Scalar::compile("fast < slow", &resolve, &["fast", "slow"]).unwrap();
//! assert!(expr.holds(&[5.0, 40.0]));
//! let err = Scalar::compile("fast < slw", &resolve, &["fast", "slow"]).unwrap_err();
//! assert_eq!(err.column, 8);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod lex;
mod parse;
pub mod scalar;

pub use crate::parse::{BinOp, Node, NodeKind, UnOp, parse};

/// A parse or type error, with the 1-based column (in characters) where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// 1-based column of the offending part.
    pub column: usize,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl ExprError {
    /// An error at `column`.
    pub fn new(column: usize, message: impl Into<String>) -> ExprError {
        ExprError { column, message: message.into() }
    }
}

impl std::fmt::Display for ExprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ExprError {}

/// `a, b, c`, or `none`.
pub fn known_list(known: &[&str]) -> String {
    if known.is_empty() { "none".into() } else { known.join(", ") }
}
