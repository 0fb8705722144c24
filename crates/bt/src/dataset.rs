use std::collections::BTreeMap;

use bt_domain::{Bars, DatasetInfo};
use bt_engine::IndicatorCache;
use bt_queue::{DatasetSource, Queue};
use bt_stats::DatasetStats;

use crate::error::{Error, Result};

/// One data set, prepared once and shared by all its simulations: the bars, the indicators
/// computed so far, and the per-dataset facts statistics need.
#[derive(Debug)]
pub struct Dataset {
    /// The bars.
    pub bars: Bars,
    /// Indicators computed once per data set and shared by every simulation on it.
    pub cache: IndicatorCache,
    /// What statistics need of the data set (buy and hold, annualisation).
    pub stats: DatasetStats,
    /// Where the bars came from: a path or a synthetic spec, for run.json and reports.
    pub source: String,
    /// The instruments when the data set is a portfolio (`bars` is then its equal-weight
    /// basket on the timeline, which the statistics' Buy & Hold and Beta use).
    pub portfolio: Option<std::sync::Arc<bt_portfolio::Portfolio>>,
    /// A portfolio's per-instrument costs (a queue data set's `costs`), in instrument order;
    /// empty: every instrument with the simulation's configuration.
    pub costs: Vec<bt_queue::CostOverrides>,
}

impl Dataset {
    /// Prepares `bars` (from `source`, a description for run.json and reports).
    pub fn new(bars: Bars, source: impl Into<String>) -> Dataset {
        Dataset {
            stats: DatasetStats::new(&bars),
            cache: IndicatorCache::new(),
            bars,
            source: source.into(),
            portfolio: None,
            costs: Vec::new(),
        }
    }

    /// A portfolio of instruments as one data set (docs/portfolio.md).
    pub fn portfolio(
        portfolio: bt_portfolio::Portfolio,
        source: impl Into<String>,
    ) -> Result<Dataset> {
        let basket = portfolio.basket()?;
        let mut data = Dataset::new(basket, source);
        data.portfolio = Some(std::sync::Arc::new(portfolio));
        Ok(data)
    }

    /// This portfolio with per-instrument costs, one per instrument in order (unset fields keep
    /// each simulation's configuration). All empty: the same as none.
    pub fn with_costs(mut self, costs: Vec<bt_queue::CostOverrides>) -> Dataset {
        self.costs = match costs.iter().all(bt_queue::CostOverrides::is_empty) {
            true => Vec::new(),
            false => costs,
        };
        self
    }

    /// Loads a CSV or Parquet file.
    pub fn load(path: &std::path::Path) -> Result<Dataset> {
        Ok(Dataset::new(bt_data::load(path)?, path.display().to_string()))
    }
}

/// A queue's data sets by name.
pub type Datasets = BTreeMap<String, Dataset>;

/// Loads (or generates) every data set of a queue, before any simulation starts, so polars'
/// thread pool and the simulation pool never compete for the cores.
pub fn load_datasets(queue: &Queue) -> Result<Datasets> {
    let mut out = BTreeMap::new();
    for (name, source) in queue.datasets() {
        let _span = tracing::info_span!("load", dataset = %name).entered();
        let data = match source {
            DatasetSource::File(path) => Dataset::load(path)?,
            DatasetSource::Synthetic(s) => {
                let bars = bt_data::synthetic::generate(s).map_err(|e| {
                    Error::from(e).context(format!("generating synthetic data set {name:?}"))
                })?;
                let source = format!(
                    "synthetic(bars: {}, seed: {}, interval: {})",
                    s.bars, s.seed, s.interval
                );
                Dataset::new(bars, source)
            }
        };
        out.insert(name.clone(), data);
    }
    for (name, members) in queue.portfolios() {
        let instruments =
            members.iter().map(|m| (m.clone(), out[m].bars.clone())).collect::<Vec<_>>();
        let source = format!("portfolio({})", members.join(", "));
        let costs = members.iter().map(|m| queue.costs(m)).collect();
        let data = bt_portfolio::Portfolio::new(instruments)
            .map_err(Error::from)
            .and_then(|p| Dataset::portfolio(p, source))
            .map_err(|e| e.context(format!("building portfolio {name:?}")))?
            .with_costs(costs);
        out.insert(name.clone(), data);
    }
    Ok(out)
}

/// The data sets as run.json records them.
pub fn dataset_infos(datasets: &Datasets) -> Vec<DatasetInfo> {
    datasets
        .iter()
        .map(|(name, d)| DatasetInfo {
            name: name.clone(),
            source: d.source.clone(),
            bars: d.bars.len() as u64,
        })
        .collect()
}
