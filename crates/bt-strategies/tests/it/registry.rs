//! The registry: names, parameter specs, coercion, defaults, and errors that list what is valid.

use std::{
    borrow::Cow,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use bt_domain::{ParamValue, Params};
use bt_engine::{Ctx, EngineError, Init, Strategy};
use bt_strategies::{
    Args, ParamKind, ParamSpec, Registry, StrategyEntry, StrategyError, canonical_params,
};

use crate::common::params;

const BUILTIN: [&str; 6] = [
    "bollinger_breakout",
    "buy_and_hold",
    "donchian_breakout",
    "macd_cross",
    "rsi_reversion",
    "sma_cross",
];

fn int(v: i64) -> ParamValue {
    ParamValue::Int(v)
}

fn float(v: f64) -> ParamValue {
    ParamValue::Float(v)
}

#[test]
fn builtin_names_are_sorted_and_all_build_with_defaults() {
    let registry = Registry::builtin();
    assert_eq!(registry.names(), BUILTIN);
    for name in BUILTIN {
        assert!(registry.build(name, &Params::new()).is_ok(), "{name}");
        let canonical = registry.canonical_params(name, &Params::new()).expect("defaults valid");
        let declared: Vec<&str> =
            registry.describe(name).unwrap().iter().map(|s| s.name.as_ref()).collect();
        let filled: Vec<&str> = canonical.keys().map(String::as_str).collect();
        let mut declared_sorted = declared.clone();
        declared_sorted.sort_unstable();
        assert_eq!(filled, declared_sorted, "{name}: every parameter gets a value");
        assert!(!registry.entry(name).unwrap().doc().is_empty());
    }
}

#[test]
fn sma_cross_defaults_are_backtesting_py_smacross() {
    let canonical = canonical_params("sma_cross", &Params::new()).unwrap();
    assert_eq!(
        canonical,
        params(&[("fast", int(10)), ("long_only", ParamValue::Bool(false)), ("slow", int(20))])
    );
}

#[test]
fn numbers_are_coerced_to_the_declared_type() {
    // An integral float where an integer is expected, an integer where a number is expected.
    let c = canonical_params("sma_cross", &params(&[("fast", float(5.0))])).unwrap();
    assert_eq!(c["fast"], int(5));
    let c = canonical_params("bollinger_breakout", &params(&[("k", int(3))])).unwrap();
    assert_eq!(c["k"], float(3.0));
    let c = canonical_params("rsi_reversion", &params(&[("lower", int(25))])).unwrap();
    assert_eq!(c["lower"], float(25.0));
}

#[test]
fn check_agrees_with_build() {
    let registry = Registry::builtin();
    let good = params(&[("fast", int(3)), ("slow", int(7))]);
    let bad = params(&[("fast", int(7)), ("slow", int(3))]);
    assert_eq!(registry.check("sma_cross", &good), Ok(()));
    assert_eq!(
        registry.check("sma_cross", &bad).unwrap_err(),
        registry.build("sma_cross", &bad).err().unwrap()
    );
}

/// Every error case, one message per line, in one snapshot to read at a glance.
#[test]
fn error_messages_list_what_is_valid() {
    let registry = Registry::builtin();
    let cases: Vec<(&str, &str, Params)> = vec![
        ("unknown strategy", "sma_crossover", Params::new()),
        ("unknown parameter", "sma_cross", params(&[("fats", int(5))])),
        ("parameter of a strategy without any", "buy_and_hold", params(&[("size", int(1))])),
        ("bool for an integer", "sma_cross", params(&[("fast", ParamValue::Bool(true))])),
        ("fractional float for an integer", "sma_cross", params(&[("fast", float(10.5))])),
        (
            "string for a number",
            "bollinger_breakout",
            params(&[("k", ParamValue::Str("wide".into()))]),
        ),
        ("integer for a bool", "macd_cross", params(&[("long_only", int(1))])),
        ("period < 1", "sma_cross", params(&[("fast", int(0))])),
        ("negative period", "rsi_reversion", params(&[("period", int(-3))])),
        ("bollinger period 1", "bollinger_breakout", params(&[("period", int(1))])),
        ("k = 0", "bollinger_breakout", params(&[("k", float(0.0))])),
        ("k < 0", "bollinger_breakout", params(&[("k", float(-1.5))])),
        ("k infinite", "bollinger_breakout", params(&[("k", float(f64::INFINITY))])),
        ("lower at 0", "rsi_reversion", params(&[("lower", float(0.0))])),
        ("upper at 100", "rsi_reversion", params(&[("upper", int(100))])),
        ("lower above 100", "rsi_reversion", params(&[("lower", float(120.0))])),
        ("fast >= slow", "sma_cross", params(&[("fast", int(20)), ("slow", int(10))])),
        ("fast == slow", "sma_cross", params(&[("fast", int(10)), ("slow", int(10))])),
        ("macd fast >= slow", "macd_cross", params(&[("fast", int(26)), ("slow", int(12))])),
        ("lower >= upper", "rsi_reversion", params(&[("lower", int(70)), ("upper", int(30))])),
    ];
    let mut report = String::new();
    for (what, name, p) in &cases {
        let err = registry.build(name, p).err().unwrap_or_else(|| panic!("{what}: must fail"));
        let message = err.to_string();
        assert!(!message.ends_with('.'), "{what}: no trailing period");
        report.push_str(&format!("{what}:\n  {message}\n"));
    }
    insta::assert_snapshot!(report);
}

#[test]
fn unknown_names_list_every_valid_name() {
    let registry = Registry::builtin();
    let err = registry.build("nope", &Params::new()).err().unwrap();
    for name in BUILTIN {
        assert!(err.to_string().contains(name), "{err} lists {name}");
    }
    let err = registry.build("sma_cross", &params(&[("n1", int(5))])).err().unwrap();
    assert!(matches!(&err, StrategyError::UnknownParam { param, .. } if param == "n1"));
    for p in ["fast", "slow", "long_only"] {
        assert!(err.to_string().contains(p), "{err} lists {p}");
    }
}

/// A user strategy with a required parameter, registered next to the built-ins.
#[derive(Debug)]
struct Noop;

impl Strategy for Noop {
    fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> {
        Ok(())
    }
    fn next(&mut self, _: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        Ok(())
    }
}

static NOOP_PARAMS: [ParamSpec; 1] = [ParamSpec {
    name: Cow::Borrowed("threshold"),
    kind: ParamKind::Float,
    default: None,
    min: None,
    max: None,
    doc: Cow::Borrowed("a required number"),
}];

fn build_noop(args: &Args<'_>) -> Result<Box<dyn Strategy + Send>, StrategyError> {
    args.f64("threshold")?;
    Ok(Box::new(Noop))
}

fn noop() -> StrategyEntry {
    StrategyEntry::new("noop", build_noop).with_doc("does nothing").with_params(&NOOP_PARAMS[..])
}

#[test]
fn user_strategies_register_with_required_parameters() {
    let mut registry = Registry::builtin();
    registry.register(noop()).expect("new name");
    assert_eq!(registry.names().len(), 7);
    assert!(registry.build("noop", &params(&[("threshold", int(2))])).is_ok());

    let missing = registry.build("noop", &Params::new()).err().unwrap();
    let duplicate = registry.register(noop()).unwrap_err();
    let unknown = registry.build("nope", &Params::new()).err().unwrap();
    insta::assert_snapshot!(format!("{missing}\n{duplicate}\n{unknown}"));
}

#[test]
fn param_specs_describe_their_rules() {
    let registry = Registry::builtin();
    let rules: Vec<String> = BUILTIN
        .iter()
        .flat_map(|name| {
            let entry = registry.entry(name).unwrap();
            let params = entry.params().iter().map(move |s| format!("{name}: {}", s.summary()));
            let rules = entry.rules().map(move |r| format!("{name}: rule {r}"));
            params.chain(rules)
        })
        .collect();
    insta::assert_snapshot!(rules.join("\n"));
}

/// A strategy whose entry is made at run time and carries state: here a threshold read "from a
/// file" and a counter of builds, shared with the program that registered it.
#[test]
fn entries_built_at_run_time_carry_state() {
    let builds = Arc::new(AtomicUsize::new(0));
    let seen = builds.clone();
    let name = format!("noop_{}", 42);
    let specs = vec![ParamSpec::int("n", 3, 1, "a period")];
    let entry = StrategyEntry::new(name.clone(), move |args| {
        seen.fetch_add(args.usize("n")?, Ordering::SeqCst);
        Ok(Box::new(Noop))
    })
    .with_params(specs)
    .with_warmup(|args| args.usize("n").unwrap_or(0) * 2);
    let registry = Registry::builtin().with(entry);
    registry.build(&name, &params(&[("n", int(5))])).unwrap();
    registry.build(&name, &Params::new()).unwrap();
    assert_eq!(builds.load(Ordering::SeqCst), 8);
    assert_eq!(registry.warmup(&name, &params(&[("n", int(7))])), Some(14));
    assert_eq!(registry.warmup(&name, &params(&[("n", int(0))])), None, "invalid params");
    let clone = registry.clone();
    clone.build(&name, &Params::new()).unwrap();
    assert_eq!(builds.load(Ordering::SeqCst), 11, "clones share the builder and its state");
}

/// Every built-in declares its warm-up without data (what `bt run --check` compares with the
/// data's length), and it is exactly the warm-up the engine finds from its indicators.
#[test]
fn declared_warm_ups_are_the_engine_s() {
    use bt_domain::{BacktestConfig, StrategyCatalog};
    use bt_engine::IndicatorCache;
    let registry = Registry::builtin();
    let returns: Vec<f64> = (0..400).map(|i| ((i * 7919) % 41) as f64 / 1000.0 - 0.02).collect();
    let bars = crate::common::walk_bars(&returns);
    let cases: &[(&str, &[(&str, i64)])] = &[
        ("sma_cross", &[("fast", 3), ("slow", 7)]),
        ("sma_cross", &[("fast", 50), ("slow", 200)]),
        ("rsi_reversion", &[("period", 14)]),
        ("rsi_reversion", &[("period", 2)]),
        ("bollinger_breakout", &[("period", 20)]),
        ("donchian_breakout", &[("period", 55)]),
        ("macd_cross", &[("fast", 12), ("slow", 26), ("signal", 9)]),
        ("macd_cross", &[("fast", 3), ("slow", 5), ("signal", 40)]),
        ("buy_and_hold", &[]),
    ];
    for (name, given) in cases {
        let params: Params = given.iter().map(|(k, v)| (k.to_string(), int(*v))).collect();
        let declared = StrategyCatalog::warmup(&registry, name, &params)
            .unwrap_or_else(|| panic!("{name} declares no warm-up"));
        let mut strategy = registry.build(name, &params).unwrap();
        let result = bt_engine::run(
            &bars,
            strategy.as_mut(),
            &BacktestConfig::default(),
            &IndicatorCache::new(),
            &mut (),
        )
        .unwrap();
        assert_eq!(declared, result.warmup, "{name} {given:?}");
    }
}
