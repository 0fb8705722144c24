//! The overfitting statistics (docs/validation.md) against an independent reference:
//! `tests/overfit/make_overfit_reference.py` computes them with numpy and scipy from
//! backtesting.py 0.6.6's own equity curves of two SmaCross grids (GOOG daily, EURUSD hourly).

use std::fs;

use bt_domain::{BacktestConfig, ReturnStats};
use bt_engine::IndicatorCache;
use bt_stats::overfit::{Pbo, PboData, ReturnsAccumulator, TrialGroup};
use serde_json::Value;

use crate::{
    engine_parity::sma_cross,
    fixtures::{parity_dir, read_bars, rel_err},
};

fn reference() -> Value {
    let path = parity_dir().join("../overfit/overfit_reference.json");
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Equal to 1e-9 relative (absolute below 1e-12), NaN only with NaN.
fn close(ours: f64, reference: &Value, what: &str) {
    let r = crate::fixtures::reference_float(reference);
    let ok = rel_err(ours, r) <= 1e-9 || (ours - r).abs() <= 1e-12;
    assert!(ok, "{what}: ours {ours:?}, reference {r:?}");
}

/// The return statistics of one trial, for `blocks` PBO blocks.
fn trial(group: &Value, t: &Value, blocks: usize) -> ReturnStats {
    let data =
        parity_dir().join("data").join(format!("{}.csv", group["dataset"].as_str().unwrap()));
    let bars = read_bars(&data);
    let config = BacktestConfig {
        cash: 10_000.0,
        commission: group["commission"].as_f64().unwrap(),
        ..BacktestConfig::default()
    };
    let mut strategy = sma_cross(
        t["fast"].as_u64().unwrap() as usize,
        t["slow"].as_u64().unwrap() as usize,
        false,
    );
    let mut acc = ReturnsAccumulator::new(bars.len(), blocks);
    bt_engine::run(&bars, &mut strategy, &config, &IndicatorCache::new(), &mut acc).unwrap();
    acc.finish()
}

#[test]
fn return_statistics_dsr_and_pbo_match_numpy_and_scipy() {
    let r = reference();
    let groups = r["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    for g in groups {
        let name = g["dataset"].as_str().unwrap();
        let trials = g["trials"].as_array().unwrap();
        for s in ["16", "8", "4"] {
            let blocks: usize = s.parse().unwrap();
            let ours: Vec<ReturnStats> = trials.iter().map(|t| trial(g, t, blocks)).collect();
            if s == "16" {
                for (o, t) in ours.iter().zip(trials) {
                    let id = t["id"].as_str().unwrap();
                    assert_eq!(o.t, t["T"].as_u64().unwrap(), "{id}");
                    close(o.sr, &t["sr"], &format!("{id} sr"));
                    close(o.skew, &t["skew"], &format!("{id} skew"));
                    close(o.kurtosis, &t["kurtosis"], &format!("{id} kurtosis"));
                    close(o.psr, &t["psr"], &format!("{id} psr"));
                }
                let refs: Vec<&ReturnStats> = ours.iter().collect();
                let d = TrialGroup::of(&refs).deflated().unwrap();
                assert_eq!(d.n as u64, g["n"].as_u64().unwrap());
                assert_eq!(trials[d.best]["id"], g["best_id"], "{name}: best trial");
                close(d.best_sr, &g["best_sr"], &format!("{name} best_sr"));
                close(d.sr_variance, &g["sr_variance"], &format!("{name} sr_variance"));
                close(d.sr0, &g["sr0"], &format!("{name} sr0"));
                close(d.dsr, &g["dsr"], &format!("{name} dsr"));
            }
            let refs: Vec<&ReturnStats> = ours.iter().collect();
            let data = PboData::of(&refs).unwrap();
            let outcomes = data.run(&data.splits());
            let p = Pbo::new(blocks, &outcomes);
            let e = &g["pbo"][s];
            let what = format!("{name} S={s}");
            assert_eq!(p.splits as u64, e["n_splits"].as_u64().unwrap(), "{what}");
            close(p.pbo, &e["pbo"], &format!("{what} pbo"));
            close(p.median_lambda, &e["median_lambda"], &format!("{what} median_lambda"));
            close(p.degradation, &e["degradation"], &format!("{what} degradation"));
            close(p.prob_loss, &e["prob_loss"], &format!("{what} prob_loss"));
            for (k, l) in e["lambdas_first_10"].as_array().unwrap().iter().enumerate() {
                close(p.lambdas[k], l, &format!("{what} lambda #{k}"));
            }
            if let Some(stars) = e["n_star_first_10"].as_array() {
                for (k, n) in stars.iter().enumerate() {
                    assert_eq!(
                        outcomes[k].best as u64,
                        n.as_u64().unwrap(),
                        "{what}: n* of split {k}"
                    );
                }
            }
        }
    }
}
