//! RON files as bt writes them (queues, rules files): parsing with errors that name the file,
//! line and column, show the line with a caret and say what is valid; maps that refuse a
//! repeated key; finding where a string value sits in the text.

use std::{collections::BTreeMap, fmt, marker::PhantomData};

use ron::{error::SpannedError, extensions::Extensions};
use serde::{Deserialize, Deserializer, de, de::DeserializeOwned};

pub use crate::value::ParamRepr;

/// A message about a place in a file: `file:line:column: message`, then the line with a caret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Display name of the file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The line of the file, for the caret display.
    pub source_line: String,
}

impl Located {
    /// A message at `line:column` of `text`.
    pub fn at(
        file: &str,
        text: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Located {
        Located {
            file: file.to_owned(),
            line,
            column,
            message: message.into(),
            source_line: text.lines().nth(line.saturating_sub(1)).unwrap_or("").to_owned(),
        }
    }
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}\n{}",
            self.file,
            self.line,
            self.column,
            self.message,
            crate::error::snippet(self.line, self.column, &self.source_line)
        )
    }
}

impl std::error::Error for Located {}

/// Reads only `version`, so that a file of another version gets a version error rather than
/// a confusing unknown-field error.
#[derive(Debug, Deserialize)]
struct VersionProbe {
    version: Option<u64>,
}

/// The `version` field of a RON file, if it has one.
pub fn version(text: &str, file: &str) -> Result<Option<u64>, Located> {
    let probe: VersionProbe = options().from_str(text).map_err(|e| located(e, text, file))?;
    Ok(probe.version)
}

/// Parses `text` (the file `file`) into `T`; optional fields are written bare.
pub fn from_str<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, Located> {
    options().from_str(text).map_err(|e| located(e, text, file))
}

/// Where the string value of `key` starts in `text` (line, column of its first character after
/// the opening quote): `key: "..."` for a field, `"key": "..."` for a map entry. The first
/// match; `None` when there is none.
pub fn locate_string(text: &str, key: &str) -> Option<(usize, usize)> {
    for (n, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut start = 0;
        while let Some(pos) = find(&chars[start..], key).map(|p| p + start) {
            let before = if pos > 0 { chars[pos - 1] } else { ' ' };
            let mut j = pos + key.chars().count();
            let quoted = before == '"' && chars.get(j) == Some(&'"');
            if quoted {
                j += 1;
            }
            let boundary = quoted || !(before.is_alphanumeric() || before == '_' || before == '"');
            while chars.get(j).is_some_and(|c| c.is_whitespace()) {
                j += 1;
            }
            if boundary && chars.get(j) == Some(&':') {
                j += 1;
                while chars.get(j).is_some_and(|c| c.is_whitespace()) {
                    j += 1;
                }
                if chars.get(j) == Some(&'"') {
                    return Some((n + 1, j + 2));
                }
            }
            start = pos + 1;
        }
    }
    None
}

fn find(hay: &[char], needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| hay[i..i + needle.len()] == needle[..])
}

/// A string-keyed map that rejects repeated keys (serde's `BTreeMap` keeps the last silently).
#[derive(Debug)]
pub struct UniqueMap<V>(pub BTreeMap<String, V>);

impl<V> Default for UniqueMap<V> {
    fn default() -> Self {
        UniqueMap(BTreeMap::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> de::Visitor<'de> for Visit<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map with string keys, like {\"name\": value}")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(de::Error::custom(format!(
                            "key {key:?} appears twice: keep one"
                        )));
                    }
                    let value = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(Visit(PhantomData))
    }
}

fn options() -> ron::Options {
    // Optional fields are written bare (`cash: 10000.0`), not `Some(10000.0)`.
    ron::Options::default().with_default_extension(Extensions::IMPLICIT_SOME)
}

fn located(e: SpannedError, text: &str, file: &str) -> Located {
    Located::at(file, text, e.span.start.line.max(1), e.span.start.col.max(1), message(&e.code))
}

/// ron's messages, reworded in the house style (lowercase, with what to do).
fn message(code: &ron::Error) -> String {
    use ron::Error as E;
    let within =
        |outer: &Option<String>| outer.as_ref().map(|o| format!(" in {o}")).unwrap_or_default();
    match code {
        E::NoSuchStructField { expected, found, outer } => format!(
            "unknown field `{found}`{}; valid fields: {}",
            within(outer),
            expected.join(", ")
        ),
        E::MissingStructField { field, outer } => {
            format!("missing field `{field}`{}: add `{field}: ...`", within(outer))
        }
        E::DuplicateStructField { field, outer } => {
            format!("field `{field}` is given twice{}: keep one", within(outer))
        }
        E::Message(m) => m.clone(),
        E::ExpectedFloat => "expected a number, like 0.5 or 10000".into(),
        E::ExpectedInteger => "expected a whole number, like 10".into(),
        E::ExpectedBoolean => "expected true or false".into(),
        E::ExpectedString => "expected a string in double quotes".into(),
        E::ExpectedComma => "expected a comma between items".into(),
        E::Eof => "unexpected end of file: a bracket or parenthesis is not closed".into(),
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_located_after_their_key() {
        let text = "(\n  long_entry: \"a < b\",\n  indicators: {\"f\": \"sma(close, 2)\", \"ff\" : \"x\"},\n)";
        assert_eq!(locate_string(text, "long_entry"), Some((2, 16)));
        assert_eq!(locate_string(text, "f"), Some((3, 22)));
        assert_eq!(locate_string(text, "ff"), Some((3, 46)));
        assert_eq!(locate_string(text, "short_entry"), None);
    }
}
