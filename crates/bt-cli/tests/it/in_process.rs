//! The command line in this test process, with test-only strategies registered: how a program
//! embedding `bt_cli::App` with strategies of its own runs it. The shipped `bt` binary has no
//! test strategies.

use std::{ffi::OsString, process::ExitCode};

use bt::{
    domain::ParamSpec,
    engine::{Ctx, EngineError, Init, Strategy},
    strategies::{Registry, StrategyEntry},
};

/// Panics in `next()` at bar `at`: a strategy with a bug, to test failure isolation.
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

/// The built-in registry plus `test_panic {at}`.
pub fn registry() -> Registry {
    static PARAMS: [ParamSpec; 1] =
        [ParamSpec::int("at", 10, 0, "bar index at which next() panics")];
    Registry::builtin().with(
        StrategyEntry::new("test_panic", |args| Ok(Box::new(PanicAt(args.usize("at")?))))
            .with_doc("test only: panics in next() at bar `at`")
            .with_params(&PARAMS[..]),
    )
}

/// What one in-process command line gave.
pub struct Output {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `bt ARGS` in this process with the test strategies (quiet: no progress lines).
pub fn bt_test<I, T>(args: I) -> Output
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let args: Vec<OsString> =
        std::iter::once(OsString::from("bt")).chain(args.into_iter().map(Into::into)).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = bt_cli::App::new(registry()).run(args, &mut out, &mut err);
    let code = (0..=255u8).find(|&k| ExitCode::from(k) == code).expect("an exit code");
    Output {
        code,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}
