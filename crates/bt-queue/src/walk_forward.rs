//! Walk-forward sections of a queue (docs/validation.md): a sweep of one strategy on one data
//! set, trained on rolling or anchored windows of bars; each window's best point by
//! `select_by` then trades the bars that follow, out of sample.

use bt_domain::{
    BacktestConfig, Params, SimSpec,
    window::{Window, window_name, windows},
};

use crate::{
    file::{SweepRepr, WalkForwardRepr},
    sweep::Sweep,
};

/// The metric a walk-forward selects by when the queue does not say.
pub const DEFAULT_SELECT_BY: &str = "sharpe_ratio";

/// One `walk_forward` entry of a queue.
#[derive(Debug)]
pub struct WalkForward {
    /// Its id: the first part of its simulations' ids.
    pub id: String,
    /// The data set its windows cut.
    pub dataset: String,
    /// The strategy.
    pub strategy: String,
    /// Bars per training window (the first window's, when anchored).
    pub train: usize,
    /// Bars per out-of-sample window, and the step between windows.
    pub test: usize,
    /// Training windows all start at bar 0 (else they roll).
    pub anchored: bool,
    /// The statistic whose best value chooses a window's parameters (a rankable statistic:
    /// larger first, NaN last, ties to the first point in grid order).
    pub select_by: String,
    /// The points, as a sweep over the one data set (its problems are the section's).
    pub(crate) sweep: Sweep,
}

impl WalkForward {
    pub(crate) fn new(r: WalkForwardRepr, defaults: BacktestConfig) -> WalkForward {
        let sweep = crate::queue::sweep(
            SweepRepr {
                id: r.id.clone(),
                datasets: vec![r.dataset.clone()],
                strategy: r.strategy.clone(),
                params: r.params,
                config: r.config,
                grid: r.grid,
                random: r.random,
                space: r.space,
                where_: r.where_,
            },
            defaults,
        );
        WalkForward {
            id: r.id,
            dataset: r.dataset,
            strategy: r.strategy,
            train: usize::try_from(r.train).unwrap_or(usize::MAX),
            test: usize::try_from(r.test).unwrap_or(usize::MAX),
            anchored: r.anchored,
            select_by: r.select_by.unwrap_or_else(|| DEFAULT_SELECT_BY.to_owned()),
            sweep,
        }
    }

    /// Its windows over a data set of `bars` bars (see [`bt_domain::window::windows`]).
    pub fn windows(&self, bars: usize) -> Vec<Window> {
        windows(bars, self.train, self.test, self.anchored)
    }

    /// Points per window.
    pub fn points(&self) -> u64 {
        self.sweep.len()
    }

    /// The broker settings of its simulations (defaults and the section's `config`).
    pub fn config(&self) -> BacktestConfig {
        self.sweep.config
    }

    /// Every training simulation of `window`, in grid order: id `ID/wKK/POINT` (`KK` the
    /// window, two digits or more), data set `DATASET[start:end]` (the training bars).
    pub fn train_specs<'a>(&'a self, window: &Window) -> impl Iterator<Item = SimSpec> + use<'a> {
        let dataset = window_name(&self.dataset, &window.train);
        let prefix = format!("{}/{}/", self.id, self.dataset);
        let id = format!("{}/{}/", self.id, window_label(window.k));
        self.sweep.iter().map(move |mut spec| {
            spec.id = format!("{id}{}", &spec.id[prefix.len()..]);
            spec.dataset.clone_from(&dataset);
            spec
        })
    }

    /// The out-of-sample simulation of `window` with the chosen `params`: id `ID/wKK/test`,
    /// data set `DATASET[start:end]` (the test bars).
    pub fn test_spec(&self, window: &Window, params: Params) -> SimSpec {
        self.spec(format!("{}/{}/test", self.id, window_label(window.k)), &window.test, params)
    }

    /// The stitched out-of-sample run over `range` (from the first test bar to the last):
    /// id `ID/oos`, no parameters of its own (each window's are in its test run).
    pub fn oos_spec(&self, range: &std::ops::Range<usize>) -> SimSpec {
        self.spec(format!("{}/oos", self.id), range, Params::new())
    }

    fn spec(&self, id: String, range: &std::ops::Range<usize>, params: Params) -> SimSpec {
        let config = if self.sweep.sets_config {
            bt_domain::apply_config_params(&params, self.sweep.config).unwrap_or(self.sweep.config)
        } else {
            self.sweep.config
        };
        SimSpec {
            id,
            dataset: window_name(&self.dataset, range),
            strategy: self.strategy.clone(),
            params,
            config,
        }
    }
}

/// `w00`, `w01`, ... `w100`.
pub fn window_label(k: usize) -> String {
    format!("w{k:02}")
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeMap, path::Path};

    use bt_domain::{ParamValue, StrategyCatalog, StrategyError};

    use crate::Queue;

    struct Any;
    impl StrategyCatalog for Any {
        fn check(&self, _: &str, _: &bt_domain::Params) -> Result<(), StrategyError> {
            Ok(())
        }
    }

    fn queue(entry: &str) -> Queue {
        let text = format!(
            "(version: 1, defaults: (commission: 0.002), datasets: {{\"goog\": (synthetic: (bars: 1000, seed: 1, interval: \"1d\"))}},\n walk_forward: [{entry}])"
        );
        Queue::from_str(&text, Path::new("."), "q.ron").unwrap()
    }

    const WF: &str = r#"(id: "wf", dataset: "goog", strategy: "sma_cross",
        grid: {"fast": [5, 10, 40], "slow": [20, 40]}, where: "fast < slow",
        train: 500, test: 200)"#;

    #[test]
    fn windows_specs_and_counts() {
        let q = queue(WF);
        q.validate(&Any).unwrap();
        let wf = &q.walk_forwards()[0];
        assert_eq!((wf.select_by.as_str(), wf.anchored, wf.points()), ("sharpe_ratio", false, 4));
        let windows = wf.windows(1000);
        assert_eq!(windows.len(), 3);
        let ids: Vec<(String, String)> =
            wf.train_specs(&windows[1]).take(3).map(|s| (s.id, s.dataset)).collect();
        assert_eq!(
            ids,
            [
                ("wf/w01/fast=5,slow=20".into(), "goog[200:700]".into()),
                ("wf/w01/fast=5,slow=40".into(), "goog[200:700]".into()),
                ("wf/w01/fast=10,slow=20".into(), "goog[200:700]".into()),
            ]
        );
        let spec = wf.train_specs(&windows[0]).next().unwrap();
        assert_eq!(spec.config.commission, 0.002, "the queue's defaults apply");
        let mut chosen = bt_domain::Params::new();
        chosen.insert("fast".into(), ParamValue::Int(10));
        let test = wf.test_spec(&windows[2], chosen.clone());
        assert_eq!((test.id.as_str(), test.dataset.as_str()), ("wf/w02/test", "goog[900:1000]"));
        assert_eq!(test.params, chosen);
        assert_eq!(wf.oos_spec(&(500..1000)).dataset, "goog[500:1000]");
        let bars = BTreeMap::from([("goog".to_owned(), 1000)]);
        assert_eq!(q.walk_forward_len(&bars), 4 * 3 + 3 + 1);
        assert_eq!(q.len(), 0);
        assert!(!q.is_empty());
        q.validate_lengths(&bars).unwrap();
        let short = BTreeMap::from([("goog".to_owned(), 400)]);
        let err = q.validate_lengths(&short).unwrap_err().to_string();
        assert!(
            err.contains("walk_forward \"wf\": train = 500 bars, but data set \"goog\" has 400"),
            "{err}"
        );
    }

    #[test]
    fn bad_entries_are_reported_with_the_fix() {
        let err = |entry: &str| queue(entry).validate(&Any).unwrap_err().to_string();
        let e = err(&WF
            .replace("train: 500", "train: 1")
            .replace("sma_cross\"", "sma_cross\", select_by: \"sharpe\""));
        assert!(e.contains("train = 1 bars: a training window needs at least 2"), "{e}");
        assert!(e.contains("select_by: \"sharpe\" is not a statistic to rank by"), "{e}");
        let e = err(&WF.replace("\"goog\", strategy", "\"msft\", strategy"));
        assert!(e.contains("unknown dataset \"msft\""), "{e}");
        let e = err(&format!("{WF}, {WF}"));
        assert!(e.contains("walk_forward \"wf\": the id is used by 2"), "{e}");
        let e = err(&WF.replace("where: \"fast < slow\"", "where: \"fast > 100\""));
        assert!(e.contains("no grid point satisfies"), "{e}");
        let text = "(version: 1, datasets: {\"a[1]\": (path: \"a.csv\")}, walk_forward: [])";
        let e = Queue::from_str(text, Path::new("."), "q.ron").unwrap().validate(&Any).unwrap_err();
        assert!(e.to_string().contains("free of `/`"), "{e}");
    }
}
