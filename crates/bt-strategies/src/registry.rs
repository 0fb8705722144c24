//! Strategies by name: what each accepts and how to build it from [`Params`].

use bt_domain::Params;
use bt_engine::Strategy;

use crate::{
    builtin,
    error::StrategyError,
    params::{Args, ParamSpec},
};

/// Builds a strategy from validated arguments.
pub type BuildFn = fn(&Args<'_>) -> Result<Box<dyn Strategy + Send>, StrategyError>;

/// A strategy the registry can build.
#[derive(Debug, Clone, Copy)]
pub struct StrategyEntry {
    /// Name used in queue files and on the command line (`sma_cross`).
    pub name: &'static str,
    /// One paragraph on what the strategy does.
    pub doc: &'static str,
    /// Parameters, in the order they are documented.
    pub params: &'static [ParamSpec],
    /// Rules that involve several parameters (`fast < slow`), in words.
    pub rules: &'static [&'static str],
    /// Builds the strategy; also checks the rules across parameters.
    pub build: BuildFn,
}

/// Strategies by name, in name order (deterministic listings).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    entries: Vec<StrategyEntry>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Every built-in strategy: `bollinger_breakout`, `buy_and_hold`, `donchian_breakout`,
    /// `macd_cross`, `rsi_reversion`, `sma_cross`.
    pub fn builtin() -> Registry {
        let mut registry = Registry::new();
        for entry in builtin::entries() {
            // Built-in names are distinct; a clash would be a bug caught by the tests.
            if let Err(e) = registry.register(entry) {
                panic!("built-in strategies must have distinct names: {e}");
            }
        }
        registry
    }

    /// Adds a strategy; its name must not be taken.
    pub fn register(&mut self, entry: StrategyEntry) -> Result<(), StrategyError> {
        match self.entries.binary_search_by(|e| e.name.cmp(entry.name)) {
            Ok(_) => Err(StrategyError::DuplicateStrategy { name: entry.name.to_owned() }),
            Err(at) => {
                self.entries.insert(at, entry);
                Ok(())
            }
        }
    }

    /// Registered names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.name).collect()
    }

    /// The entry for `name`.
    pub fn entry(&self, name: &str) -> Result<&StrategyEntry, StrategyError> {
        match self.entries.binary_search_by(|e| e.name.cmp(name)) {
            Ok(k) => Ok(&self.entries[k]),
            Err(_) => Err(StrategyError::UnknownStrategy {
                name: name.to_owned(),
                valid: self.names().join(", "),
            }),
        }
    }

    /// The parameters `name` accepts.
    pub fn describe(&self, name: &str) -> Result<&'static [ParamSpec], StrategyError> {
        Ok(self.entry(name)?.params)
    }

    /// Builds strategy `name` with `params` (missing parameters take their defaults).
    ///
    /// Errors name what is valid: the registered strategies, the strategy's parameters, the
    /// type or range a value must have, or the rule two values break.
    pub fn build(
        &self,
        name: &str,
        params: &Params,
    ) -> Result<Box<dyn Strategy + Send>, StrategyError> {
        let entry = self.entry(name)?;
        let args = Args::new(entry.name, entry.params, params)?;
        (entry.build)(&args)
    }

    /// Validates `params` for `name` exactly as [`Registry::build`] does, without returning a
    /// strategy (built-in strategies compute nothing until `init`, so this is cheap).
    pub fn check(&self, name: &str, params: &Params) -> Result<(), StrategyError> {
        self.build(name, params).map(drop)
    }

    /// `params` validated, with every default filled in and values converted to their
    /// declared types, so results can report all parameters (`{fast: 10}` becomes
    /// `{fast: 10, long_only: false, slow: 20}`).
    pub fn canonical_params(&self, name: &str, params: &Params) -> Result<Params, StrategyError> {
        let entry = self.entry(name)?;
        let args = Args::new(entry.name, entry.params, params)?;
        (entry.build)(&args)?;
        Ok(args.into_params())
    }
}

/// [`Registry::canonical_params`] on the built-in registry.
pub fn canonical_params(name: &str, params: &Params) -> Result<Params, StrategyError> {
    Registry::builtin().canonical_params(name, params)
}
