//! The serde schema of a version-1 queue file, and RON errors turned into located messages.

use ron::value::RawValue;
use serde::Deserialize;

use crate::{
    error::QueueError,
    ron_file::{self, UniqueMap},
    value::{ConfigOverrides, CostOverrides, ParamRepr},
};

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
    /// Portfolios: a name for several data sets traded on one cash account.
    #[serde(default)]
    pub(crate) portfolios: UniqueMap<Vec<String>>,
    #[serde(default)]
    pub(crate) strategies: UniqueMap<StrategyRepr>,
    #[serde(default)]
    pub(crate) simulations: Vec<SimRepr>,
    #[serde(default)]
    pub(crate) sweeps: Vec<SweepRepr>,
    #[serde(default)]
    pub(crate) walk_forward: Vec<WalkForwardRepr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "strategy")]
pub(crate) struct StrategyRepr {
    pub(crate) rules: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "dataset")]
pub(crate) struct DatasetRepr {
    pub(crate) path: Option<String>,
    pub(crate) synthetic: Option<SyntheticRepr>,
    /// Broker costs when the data set trades in a portfolio.
    #[serde(default)]
    pub(crate) costs: CostOverrides,
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

/// Parses the text of a queue file: version first, then the whole schema.
pub(crate) fn parse(text: &str, file: &str) -> Result<QueueRepr, QueueError> {
    if let Some(found) = ron_file::version(text, file).map_err(|e| syntax(e, file))?
        && found != VERSION
    {
        return Err(QueueError::Version { file: file.to_owned(), found, supported: VERSION });
    }
    ron_file::from_str(text, file).map_err(|e| syntax(e, file))
}

fn syntax(e: ron_file::Located, _file: &str) -> QueueError {
    QueueError::Syntax {
        file: e.file,
        line: e.line,
        column: e.column,
        message: e.message,
        source_line: e.source_line,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "random")]
pub(crate) struct RandomRepr {
    pub(crate) n: u64,
    pub(crate) seed: u64,
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
            "q.ron:3:2: unknown field `bogus` in queue; valid fields: version, defaults, datasets, portfolios, strategies, simulations, sweeps, walk_forward\n  |\n3 |  bogus: 3)\n  |  ^"
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
