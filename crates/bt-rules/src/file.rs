//! The rules file format (version 1, docs/rules.md): its RON schema, read with the queue
//! format's located errors.

use bt_domain::ParamValue;
use bt_queue::ron_file::{self, Located, ParamRepr, UniqueMap};
use serde::Deserialize;

use crate::error::RulesError;

/// The only format version this crate reads.
pub const VERSION: u64 = 1;

/// A number or a `"$param"` (sizes, brackets).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub(crate) enum NumOrParam {
    Num(f64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "rules")]
pub(crate) struct RulesRepr {
    #[expect(dead_code, reason = "checked by the version probe before the full parse")]
    pub(crate) version: u64,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) description: Option<String>,
    #[serde(default)]
    pub(crate) params: UniqueMap<ParamRepr>,
    #[serde(default)]
    pub(crate) indicators: UniqueMap<String>,
    pub(crate) long_entry: Option<String>,
    pub(crate) long_exit: Option<String>,
    pub(crate) short_entry: Option<String>,
    pub(crate) short_exit: Option<String>,
    #[serde(default)]
    pub(crate) reenter: bool,
    pub(crate) size: Option<NumOrParam>,
    pub(crate) sl_pct: Option<NumOrParam>,
    pub(crate) tp_pct: Option<NumOrParam>,
    #[serde(rename = "where")]
    pub(crate) where_: Option<String>,
}

/// Parses the text of a rules file (`file` names it in messages).
pub(crate) fn parse(text: &str, file: &str) -> Result<RulesRepr, RulesError> {
    if let Some(found) = ron_file::version(text, file)?
        && found != VERSION
    {
        return Err(RulesError::Version { file: file.to_owned(), found, supported: VERSION });
    }
    let repr: RulesRepr = ron_file::from_str(text, file)?;
    for (name, v) in &repr.params.0 {
        if let ParamValue::Str(_) = v.0 {
            let (line, column) = ron_file::locate_string(text, name).unwrap_or((1, 1));
            return Err(RulesError::Located(Located::at(
                file,
                text,
                line,
                column,
                format!(
                    "parameter `{name}` is a string: rules parameters are numbers or true/false"
                ),
            )));
        }
    }
    Ok(repr)
}
