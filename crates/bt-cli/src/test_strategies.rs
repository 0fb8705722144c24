//! Strategies that exist only to test failure isolation end to end: registered when the
//! environment variable `BT_TEST_STRATEGIES=1` is set, never otherwise.

use bt_domain::ParamValue;
use bt_engine::{Ctx, EngineError, Init, Strategy};
use bt_strategies::{Limit, ParamKind, ParamSpec, Registry, StrategyEntry};

static PARAMS: [ParamSpec; 1] = [ParamSpec {
    name: "at",
    kind: ParamKind::Int,
    default: Some(ParamValue::Int(10)),
    min: Some(Limit::Inclusive(0.0)),
    max: None,
    doc: "bar index at which next() panics",
}];

const TEST_PANIC: StrategyEntry = StrategyEntry {
    name: "test_panic",
    doc: "test only: panics in next() at bar `at`",
    params: &PARAMS,
    rules: &[],
    build: |args| Ok(Box::new(PanicAt(args.usize("at")?))),
};

struct PanicAt(usize);

impl Strategy for PanicAt {
    fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> {
        Ok(())
    }
    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        assert!(ctx.bar_idx() != self.0, "test_panic: deliberate panic at bar {}", self.0);
        Ok(())
    }
}

/// The built-in registry, plus the test strategies when `BT_TEST_STRATEGIES=1`.
pub fn registry() -> Registry {
    let mut registry = Registry::builtin();
    if std::env::var("BT_TEST_STRATEGIES").is_ok_and(|v| v == "1") {
        // The name is not a built-in one.
        let _ = registry.register(TEST_PANIC);
    }
    registry
}
