//! Characters to tokens, each with its 1-based column.

use std::fmt;

use crate::ExprError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Num(f64),
    Str(String),
    Name(String),
    Op(&'static str),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Dollar,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Num(x) => write!(f, "number {x}"),
            Kind::Str(s) => write!(f, "string {s:?}"),
            Kind::Name(n) => write!(f, "`{n}`"),
            Kind::Op(op) => write!(f, "`{op}`"),
            Kind::LParen => f.write_str("`(`"),
            Kind::RParen => f.write_str("`)`"),
            Kind::LBracket => f.write_str("`[`"),
            Kind::RBracket => f.write_str("`]`"),
            Kind::Comma => f.write_str("`,`"),
            Kind::Dot => f.write_str("`.`"),
            Kind::Dollar => f.write_str("`$`"),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) kind: Kind,
    pub(crate) column: usize,
}

const OPERATORS: [&str; 10] = ["<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/"];

pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let single = match c {
            '(' => Some(Kind::LParen),
            ')' => Some(Kind::RParen),
            '[' => Some(Kind::LBracket),
            ']' => Some(Kind::RBracket),
            ',' => Some(Kind::Comma),
            '$' => Some(Kind::Dollar),
            '.' if !chars.get(i + 1).is_some_and(char::is_ascii_digit) => Some(Kind::Dot),
            _ => None,
        };
        if c.is_whitespace() {
            i += 1;
        } else if let Some(kind) = single {
            tokens.push(Token { kind, column });
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
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
            let x: f64 = text.parse().map_err(|_| {
                ExprError::new(
                    column,
                    format!("malformed number `{}`", chars[start..i].iter().collect::<String>()),
                )
            })?;
            tokens.push(Token { kind: Kind::Num(x), column });
        } else if c == '"' {
            let start = i + 1;
            let Some(len) = chars[start..].iter().position(|&c| c == '"') else {
                return Err(ExprError::new(column, "the string is never closed: add `\"`"));
            };
            tokens.push(Token {
                kind: Kind::Str(chars[start..start + len].iter().collect()),
                column,
            });
            i = start + len + 1;
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
                '\'' => ": strings are in double quotes",
                _ => "",
            };
            return Err(ExprError::new(column, format!("unexpected character `{c}`{hint}")));
        }
    }
    Ok(tokens)
}
