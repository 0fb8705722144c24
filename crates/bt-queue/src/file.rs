//! The serde schema of a version-1 queue file, and RON errors turned into located messages.

use std::{collections::BTreeMap, fmt, marker::PhantomData};

use ron::{error::SpannedError, extensions::Extensions, value::RawValue};
use serde::{Deserialize, Deserializer, de};

use crate::{error::QueueError, value::ConfigOverrides, value::ParamRepr};

/// The only format version this crate reads.
pub(crate) const VERSION: u64 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "queue")]
pub(crate) struct QueueRepr {
    #[expect(dead_code, reason = "checked by the version probe before the full parse")]
    pub(crate) version: u64,
    #[serde(default)]
    pub(crate) defaults: ConfigOverrides,
    pub(crate) datasets: UniqueMap<DatasetRepr>,
    #[serde(default)]
    pub(crate) simulations: Vec<SimRepr>,
    #[serde(default)]
    pub(crate) sweeps: Vec<SweepRepr>,
    #[serde(default)]
    pub(crate) walk_forward: Vec<WalkForwardRepr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "dataset")]
pub(crate) struct DatasetRepr {
    pub(crate) path: Option<String>,
    pub(crate) synthetic: Option<SyntheticRepr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "synthetic")]
pub(crate) struct SyntheticRepr {
    pub(crate) bars: u64,
    pub(crate) seed: u64,
    pub(crate) interval: String,
    pub(crate) start: Option<String>,
    pub(crate) start_price: Option<f64>,
    pub(crate) drift: Option<f64>,
    pub(crate) volatility: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "simulation")]
pub(crate) struct SimRepr {
    pub(crate) id: String,
    pub(crate) dataset: String,
    pub(crate) strategy: String,
    #[serde(default)]
    pub(crate) params: UniqueMap<ParamRepr>,
    #[serde(default)]
    pub(crate) config: ConfigOverrides,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "sweep")]
pub(crate) struct SweepRepr {
    pub(crate) id: String,
    pub(crate) datasets: Vec<String>,
    pub(crate) strategy: String,
    #[serde(default)]
    pub(crate) params: UniqueMap<ParamRepr>,
    #[serde(default)]
    pub(crate) config: ConfigOverrides,
    pub(crate) grid: Option<UniqueMap<Box<RawValue>>>,
    pub(crate) random: Option<RandomRepr>,
    pub(crate) space: Option<UniqueMap<Box<RawValue>>>,
    #[serde(rename = "where")]
    pub(crate) where_: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "walk_forward")]
pub(crate) struct WalkForwardRepr {
    pub(crate) id: String,
    pub(crate) dataset: String,
    pub(crate) strategy: String,
    #[serde(default)]
    pub(crate) params: UniqueMap<ParamRepr>,
    #[serde(default)]
    pub(crate) config: ConfigOverrides,
    pub(crate) grid: Option<UniqueMap<Box<RawValue>>>,
    pub(crate) random: Option<RandomRepr>,
    pub(crate) space: Option<UniqueMap<Box<RawValue>>>,
    #[serde(rename = "where")]
    pub(crate) where_: Option<String>,
    pub(crate) train: u64,
    pub(crate) test: u64,
    #[serde(default)]
    pub(crate) anchored: bool,
    pub(crate) select_by: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "random")]
pub(crate) struct RandomRepr {
    pub(crate) n: u64,
    pub(crate) seed: u64,
}

/// Reads only `version`, so that a file of another version gets a version error rather than
/// a confusing unknown-field error.
#[derive(Debug, Deserialize)]
#[serde(rename = "queue")]
struct VersionProbe {
    version: Option<u64>,
}

/// A string-keyed map that rejects repeated keys (serde's `BTreeMap` keeps the last silently).
#[derive(Debug)]
pub(crate) struct UniqueMap<V>(pub(crate) BTreeMap<String, V>);

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

/// Parses the text of a queue file: version first, then the whole schema.
pub(crate) fn parse(text: &str, file: &str) -> Result<QueueRepr, QueueError> {
    let probe: VersionProbe = options().from_str(text).map_err(|e| syntax(e, text, file))?;
    if let Some(found) = probe.version
        && found != VERSION
    {
        return Err(QueueError::Version { file: file.to_owned(), found, supported: VERSION });
    }
    options().from_str(text).map_err(|e| syntax(e, text, file))
}

fn syntax(e: SpannedError, text: &str, file: &str) -> QueueError {
    let line = e.span.start.line.max(1);
    let column = e.span.start.col.max(1);
    let source_line = text.lines().nth(line - 1).unwrap_or("").to_owned();
    QueueError::Syntax {
        file: file.to_owned(),
        line,
        column,
        message: message(&e.code),
        source_line,
    }
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

    fn err(text: &str) -> String {
        parse(text, "q.ron").unwrap_err().to_string()
    }

    #[test]
    fn minimal_file_parses() {
        let q = parse("(version: 1, datasets: {})", "q.ron").unwrap();
        assert!(q.simulations.is_empty() && q.sweeps.is_empty() && q.datasets.0.is_empty());
        let q = parse(
            "(version: 1, defaults: (cash: 500, hedging: true), datasets: {\"a\": (path: \"a.csv\")},\n\
             sweeps: [(id: \"s\", datasets: [\"a\"], strategy: \"x\", grid: {\"f\": range(1, 3)}, where: \"f > 1\")])",
            "q.ron",
        )
        .unwrap();
        assert_eq!(q.defaults.cash, Some(500.0), "integers are accepted for float fields");
        assert_eq!(q.sweeps[0].where_.as_deref(), Some("f > 1"));
        assert_eq!(q.sweeps[0].grid.as_ref().unwrap().0["f"].get_ron(), "range(1, 3)");
    }

    #[test]
    fn errors_have_positions_and_house_style() {
        assert_eq!(
            err("(version: 1,\n datasets: {},\n bogus: 3)"),
            "q.ron:3:2: unknown field `bogus` in queue; valid fields: version, defaults, datasets, simulations, sweeps, walk_forward\n  |\n3 |  bogus: 3)\n  |  ^"
        );
        assert!(
            err("(version: 2, datasets: {}, whatever: 1)")
                .starts_with("q.ron: unsupported queue version 2")
        );
        assert!(err("(datasets: {})").contains("missing field `version`"));
        assert!(
            err("(version: 1, datasets: {\"a\": (path: \"x\"), \"a\": (path: \"y\")})")
                .contains("appears twice")
        );
        assert!(
            err("(version: \"1\", datasets: {})")
                .starts_with("q.ron:1:10: expected a whole number")
        );
    }
}
