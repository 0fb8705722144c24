//! End to end: engine + strategy + streamed statistics against backtesting.py's reference runs.
//!
//! The strategies are written here against the engine API, mirroring the Python of
//! `tests/parity/gen_fixtures.py` (SmaCross, SmaCrossLongOnly, Script).

use bt_domain::{EquityCurve, Trade};
use bt_engine::{Ctx, EngineError, FULL_EQUITY, Ind, IndicatorCache, Init, OrderSpec, Strategy};
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator};
use bt_strategies::indicators::{crossover, sma};
use serde_json::Value;

use crate::fixtures::{Case, Worst, all_cases, check_all, compare_stats, parity_dir};

/// backtesting.py's `SmaCross` (and `SmaCrossLongOnly`: a death cross only closes).
pub struct SmaCross {
    n1: usize,
    n2: usize,
    long_only: bool,
    inds: Option<(Ind, Ind)>,
}

/// The test strategy of the `SmaCross` / `SmaCrossLongOnly` reference runs.
pub fn sma_cross(n1: usize, n2: usize, long_only: bool) -> SmaCross {
    SmaCross { n1, n2, long_only, inds: None }
}

impl Strategy for SmaCross {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        let (n1, n2) = (self.n1, self.n2);
        let a = init.indicator(&format!("sma(close,{n1})"), |b| sma(b.close(), n1))?;
        let b = init.indicator(&format!("sma(close,{n2})"), |b| sma(b.close(), n2))?;
        self.inds = Some((a, b));
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let (a, b) = self.inds.expect("init ran");
        let (s1, s2) = (ctx.ind(a), ctx.ind(b));
        if crossover(s1, s2) {
            ctx.close_position(1.0)?;
            ctx.buy(OrderSpec::market())?;
        } else if crossover(s2, s1) {
            ctx.close_position(1.0)?;
            if !self.long_only {
                ctx.sell(OrderSpec::market())?;
            }
        }
        Ok(())
    }
}

/// The Python `Script` strategy: replays `NAME.script.json` and records each action's outcome.
struct Script {
    actions: Vec<Value>,
    results: Vec<&'static str>,
    next_action: usize,
}

impl Script {
    fn new(actions: Vec<Value>) -> Script {
        let results = vec!["not_reached"; actions.len()];
        Script { actions, results, next_action: 0 }
    }

    fn apply(a: &Value, ctx: &mut Ctx<'_, '_>) -> Result<&'static str, EngineError> {
        let close = *ctx.close().last().expect("bars up to now");
        let px = |v: &Value| v.as_f64().map(|rel| close * rel);
        let index = |key: &str| a[key].as_u64().expect("index") as usize;
        match a["op"].as_str().expect("op") {
            op @ ("buy" | "sell") => {
                let spec = OrderSpec {
                    size: a["size"].as_f64().unwrap_or(FULL_EQUITY),
                    limit: px(&a["limit"]),
                    stop: px(&a["stop"]),
                    sl: px(&a["sl"]),
                    tp: px(&a["tp"]),
                    tag: a["tag"].as_u64().map(|t| t as u32),
                };
                if op == "buy" { ctx.buy(spec)? } else { ctx.sell(spec)? }
            }
            "close" => ctx.close_position(a["portion"].as_f64().expect("portion"))?,
            "trade_close" => {
                let k = index("trade");
                if k >= ctx.trade_count() {
                    return Ok("no_target");
                }
                ctx.close_trade(k, a["portion"].as_f64().expect("portion"))?;
            }
            op @ ("trade_sl" | "trade_tp") => {
                let k = index("trade");
                if k >= ctx.trade_count() {
                    return Ok("no_target");
                }
                let price = px(&a["rel"]);
                if op == "trade_sl" {
                    ctx.set_trade_sl(k, price)?
                } else {
                    ctx.set_trade_tp(k, price)?
                }
            }
            "cancel" => {
                let k = index("order");
                if k >= ctx.order_count() {
                    return Ok("no_target");
                }
                ctx.cancel_order(k)?;
            }
            op => panic!("unknown script op {op}"),
        }
        Ok("done")
    }
}

impl Strategy for Script {
    fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> {
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let i = ctx.bar_idx();
        while self.next_action < self.actions.len() {
            let k = self.next_action;
            let bar = self.actions[k]["bar"].as_u64().expect("bar") as usize;
            if bar > i {
                break;
            }
            self.next_action += 1;
            if bar < i {
                continue; // not reached (no next() at that bar)
            }
            // The Python script catches ValueError/AssertionError: the action is skipped.
            self.results[k] = Self::apply(&self.actions[k], ctx).unwrap_or("skipped_error");
        }
        Ok(())
    }
}

/// Runs the case's strategy through the engine; checks trades and equity bit for bit and the
/// statistics within tolerance. Returns every divergence found, the first ones first.
fn check_end_to_end(case: &Case, worst: &mut Worst) -> Result<(), String> {
    check_run(case, worst, false)
}

/// The rules form of SmaCross (data/rules/sma_cross.ron, docs/rules.md) on the same fixtures.
fn check_rules_end_to_end(case: &Case, worst: &mut Worst) -> Result<(), String> {
    check_run(case, worst, true)
}

fn sma_cross_rules() -> &'static bt_rules::Rules {
    static RULES: std::sync::OnceLock<bt_rules::Rules> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/rules/sma_cross.ron");
        bt_rules::Rules::load(path).unwrap()
    })
}

fn check_run(case: &Case, worst: &mut Worst, rules: bool) -> Result<(), String> {
    let mut sma;
    let mut rules_form;
    let mut script: Option<Script> = None;
    let strategy: &mut dyn Strategy = match case.strategy() {
        s @ ("SmaCross" | "SmaCrossLongOnly") if rules => {
            let mut params = bt_domain::Params::new();
            let int = |k: &str| bt_domain::ParamValue::Int(case.param(k) as i64);
            params.insert("fast".into(), int("n1"));
            params.insert("slow".into(), int("n2"));
            params.insert("long_only".into(), bt_domain::ParamValue::Bool(s == "SmaCrossLongOnly"));
            rules_form = sma_cross_rules()
                .strategy("sma_cross", &params)
                .map_err(|e| format!("the rules form does not compile: {e}"))?;
            &mut rules_form
        }
        s @ ("SmaCross" | "SmaCrossLongOnly") => {
            sma = sma_cross(case.param("n1"), case.param("n2"), s == "SmaCrossLongOnly");
            &mut sma
        }
        "Script" => {
            let path = parity_dir().join(case.json["script"].as_str().expect("script path"));
            let actions: Vec<Value> =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            script.insert(Script::new(actions))
        }
        other => return Err(format!("no test strategy for {other}")),
    };
    let ds = DatasetStats::new(&case.bars);
    let mut observer = (StatsAccumulator::new(&ds), EquityCurve::default());
    let result =
        bt_engine::run(&case.bars, strategy, &case.config(), &IndicatorCache::new(), &mut observer)
            .map_err(|e| format!("engine error: {e}"))?;
    let (acc, curve) = observer;

    let mut diffs = Vec::new();
    if let Some(script) = &script {
        let expected: Vec<&str> = case.json["derived"]["action_results"]
            .as_array()
            .expect("action_results")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if let Some(k) = (0..expected.len()).find(|&k| script.results.get(k) != Some(&expected[k]))
        {
            diffs.push(format!(
                "action #{k} ({}): ours {:?}, reference {:?}",
                script.actions[k],
                script.results.get(k),
                expected[k]
            ));
        }
    }
    if let Some(d) = first_trade_diff(&result.trades, &case.trades) {
        diffs.push(d);
    }
    if let Some(i) = (0..case.equity.len())
        .find(|&i| curve.0.get(i).map(|e| e.to_bits()) != Some(case.equity[i].to_bits()))
    {
        diffs.push(format!(
            "equity differs first at bar {i}: ours {:?}, reference {:?} (curve lengths {} / {})",
            curve.0.get(i),
            case.equity[i],
            curve.0.len(),
            case.equity.len()
        ));
    }
    if curve.0.len() != case.equity.len() {
        diffs.push(format!(
            "curve length: ours {}, reference {}",
            curve.0.len(),
            case.equity.len()
        ));
    }
    let open_ref: Vec<(f64, usize, f64)> = case.json["derived"]["open_trades_at_end"]
        .as_array()
        .expect("open trades")
        .iter()
        .map(|t| {
            let f = |k: &str| t[k].as_f64().expect("open trade field");
            (f("size"), f("entry_bar") as usize, f("entry_price"))
        })
        .collect();
    let open_ours: Vec<(f64, usize, f64)> =
        result.open_trades.iter().map(|t| (t.size, t.entry_bar, t.entry_price)).collect();
    if open_ours != open_ref {
        diffs.push(format!("open trades at end: ours {open_ours:?}, reference {open_ref:?}"));
    }
    // Every "Broker canceled ..." warning is one order the broker dropped for lack of margin
    // (with 1e12 prices and 10 000 cash: all of them).
    let cancelled = case.json["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter(|w| w.as_str().is_some_and(|w| w.contains("Broker canceled")))
        .count() as u64;
    if result.cancelled_orders != cancelled {
        diffs.push(format!(
            "cancelled orders: ours {}, reference {cancelled} warnings",
            result.cancelled_orders
        ));
    }
    let expected_warmup = case.warmup();
    if result.warmup != expected_warmup {
        diffs.push(format!("warm-up: ours {}, reference {expected_warmup}", result.warmup));
    }
    let stats = acc.finish(&RunFacts { trades: &result.trades, warmup: result.warmup });
    diffs.extend(compare_stats(&stats, &case.json, worst));
    if diffs.is_empty() { Ok(()) } else { Err(diffs.join("\n    ")) }
}

/// The first trade that differs in any field (bit for bit), or in the number of trades.
fn first_trade_diff(ours: &[Trade], reference: &[Trade]) -> Option<String> {
    let key = |t: &Trade| {
        (
            t.size.to_bits(),
            t.entry_bar,
            t.exit_bar,
            t.entry_price.to_bits(),
            t.exit_price.to_bits(),
            t.pnl.to_bits(),
            t.commission.to_bits(),
            t.return_frac.to_bits(),
            t.sl.map(f64::to_bits),
            t.tp.map(f64::to_bits),
            t.tag,
        )
    };
    for (k, (a, b)) in ours.iter().zip(reference).enumerate() {
        if key(a) != key(b) {
            return Some(format!(
                "trade #{k} differs:\n      ours      {a:?}\n      reference {b:?}"
            ));
        }
    }
    (ours.len() != reference.len())
        .then(|| format!("closed trades: ours {}, reference {}", ours.len(), reference.len()))
}

fn run_all(kind: fn(&str) -> bool) {
    let cases: Vec<Case> = all_cases().into_iter().filter(|c| kind(c.strategy())).collect();
    assert!(!cases.is_empty(), "no fixtures of this kind");
    check_all(&cases, "end-to-end runs", check_end_to_end);
}

#[test]
fn sma_cross_runs_match_backtesting_py_end_to_end() {
    run_all(|s| s == "SmaCross" || s == "SmaCrossLongOnly");
}

#[test]
fn the_rules_form_of_sma_cross_matches_backtesting_py_end_to_end() {
    let cases: Vec<Case> = all_cases()
        .into_iter()
        .filter(|c| matches!(c.strategy(), "SmaCross" | "SmaCrossLongOnly"))
        .collect();
    assert!(cases.len() >= 10, "{} SmaCross fixtures", cases.len());
    check_all(&cases, "runs of the rules form", check_rules_end_to_end);
}

#[test]
fn scripted_runs_match_backtesting_py_end_to_end() {
    run_all(|s| s == "Script");
}
