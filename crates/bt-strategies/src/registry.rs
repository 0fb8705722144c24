//! Strategies by name: what each accepts and how to build it from [`Params`].

use std::{borrow::Cow, fmt, sync::Arc};

use bt_domain::{ParamSpec, Params, StrategyCatalog, StrategyError};
use bt_engine::Strategy;

use crate::{builtin, params::Args};

/// A strategy ready to run on any thread.
pub type BoxedStrategy = Box<dyn Strategy + Send>;

/// Builds a strategy from validated arguments (a closure may carry state: a parsed rules file,
/// a model, a configuration read at start-up).
pub type BuildFn = dyn Fn(&Args<'_>) -> Result<BoxedStrategy, StrategyError> + Send + Sync;

/// Bars of warm-up a strategy needs with these arguments (see [`StrategyCatalog::warmup`]).
pub type WarmupFn = dyn Fn(&Args<'_>) -> usize + Send + Sync;

/// A strategy the registry can build: its name, what it accepts and a builder.
///
/// ```
/// use bt_strategies::{ParamSpec, Registry, StrategyEntry, builtin::BuyAndHold};
/// let entry = StrategyEntry::new("hold", |_| Ok(Box::new(BuyAndHold::new())))
///     .with_doc("buys once and holds")
///     .with_params(vec![ParamSpec::int("unused", 1, 0, "an example parameter")]);
/// let registry = Registry::builtin().with(entry);
/// assert!(registry.names().contains(&"hold"));
/// ```
#[derive(Clone)]
pub struct StrategyEntry {
    name: Cow<'static, str>,
    doc: Cow<'static, str>,
    description: Cow<'static, str>,
    params: Cow<'static, [ParamSpec]>,
    rules: Vec<Cow<'static, str>>,
    build: Arc<BuildFn>,
    warmup: Option<Arc<WarmupFn>>,
}

impl fmt::Debug for StrategyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StrategyEntry")
            .field("name", &self.name)
            .field("params", &self.params)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl StrategyEntry {
    /// An entry named `name` (used in queue files and on the command line) built by `build`,
    /// with no parameters until [`StrategyEntry::with_params`] says otherwise.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        build: impl Fn(&Args<'_>) -> Result<BoxedStrategy, StrategyError> + Send + Sync + 'static,
    ) -> StrategyEntry {
        StrategyEntry {
            name: name.into(),
            doc: Cow::Borrowed(""),
            description: Cow::Borrowed(""),
            params: Cow::Borrowed(&[]),
            rules: Vec::new(),
            build: Arc::new(build),
            warmup: None,
        }
    }

    /// With a one-paragraph summary of what the strategy does.
    pub fn with_doc(mut self, doc: impl Into<Cow<'static, str>>) -> StrategyEntry {
        self.doc = doc.into();
        self
    }

    /// With the full description `bt strategies NAME` prints: entry, exit, sizing, indicators.
    pub fn with_description(mut self, text: impl Into<Cow<'static, str>>) -> StrategyEntry {
        self.description = text.into();
        self
    }

    /// With these parameters, in the order they are documented.
    pub fn with_params(mut self, params: impl Into<Cow<'static, [ParamSpec]>>) -> StrategyEntry {
        self.params = params.into();
        self
    }

    /// With a rule involving several parameters, in words (`fast < slow`); the builder checks it.
    pub fn with_rule(mut self, rule: impl Into<Cow<'static, str>>) -> StrategyEntry {
        self.rules.push(rule.into());
        self
    }

    /// With the warm-up the strategy needs for given arguments.
    pub fn with_warmup(
        mut self,
        warmup: impl Fn(&Args<'_>) -> usize + Send + Sync + 'static,
    ) -> StrategyEntry {
        self.warmup = Some(Arc::new(warmup));
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The one-paragraph summary.
    pub fn doc(&self) -> &str {
        &self.doc
    }

    /// The full description (empty when none was given).
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The parameters.
    pub fn params(&self) -> &[ParamSpec] {
        &self.params
    }

    /// Rules across parameters, in words.
    pub fn rules(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.as_ref())
    }

    /// Validates `params` (defaults filled in) and builds the strategy.
    pub fn build(&self, params: &Params) -> Result<BoxedStrategy, StrategyError> {
        let args = Args::new(&self.name, &self.params, params)?;
        (self.build)(&args)
    }

    /// Validated arguments, with the builder run once to check rules across parameters.
    fn args<'a>(&'a self, params: &Params) -> Result<Args<'a>, StrategyError> {
        let args = Args::new(&self.name, &self.params, params)?;
        (self.build)(&args)?;
        Ok(args)
    }
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
        builtin::entries().into_iter().fold(Registry::new(), Registry::with)
    }

    /// Adds a strategy; its name must not be taken.
    pub fn register(&mut self, entry: StrategyEntry) -> Result<(), StrategyError> {
        match self.entries.binary_search_by(|e| e.name().cmp(entry.name())) {
            Ok(_) => Err(StrategyError::DuplicateStrategy { name: entry.name().to_owned() }),
            Err(at) => {
                self.entries.insert(at, entry);
                Ok(())
            }
        }
    }

    /// The registry with `entry` added (builder style).
    ///
    /// # Panics
    /// When the name is taken: two strategies under one name is a programming error. Use
    /// [`Registry::register`] for names that come from input.
    pub fn with(mut self, entry: StrategyEntry) -> Registry {
        if let Err(e) = self.register(entry) {
            panic!("{e}");
        }
        self
    }

    /// Registered names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.entries.iter().map(StrategyEntry::name).collect()
    }

    /// The entry for `name`.
    pub fn entry(&self, name: &str) -> Result<&StrategyEntry, StrategyError> {
        match self.entries.binary_search_by(|e| e.name().cmp(name)) {
            Ok(k) => Ok(&self.entries[k]),
            Err(_) => Err(StrategyError::UnknownStrategy {
                name: name.to_owned(),
                valid: self.names().join(", "),
            }),
        }
    }

    /// The parameters `name` accepts.
    pub fn describe(&self, name: &str) -> Result<&[ParamSpec], StrategyError> {
        Ok(self.entry(name)?.params())
    }

    /// Builds strategy `name` with `params` (missing parameters take their defaults).
    ///
    /// Errors name what is valid: the registered strategies, the strategy's parameters, the
    /// type or range a value must have, or the rule two values break.
    pub fn build(&self, name: &str, params: &Params) -> Result<BoxedStrategy, StrategyError> {
        self.entry(name)?.build(params)
    }

    /// Validates `params` for `name` exactly as [`Registry::build`] does, without returning a
    /// strategy (built-in strategies compute nothing until `init`, so this is cheap).
    pub fn check(&self, name: &str, params: &Params) -> Result<(), StrategyError> {
        self.entry(name)?.args(params).map(drop)
    }

    /// `params` validated, with every default filled in and values converted to their
    /// declared types, so results can report all parameters (`{fast: 10}` becomes
    /// `{fast: 10, long_only: false, slow: 20}`).
    pub fn canonical_params(&self, name: &str, params: &Params) -> Result<Params, StrategyError> {
        Ok(self.entry(name)?.args(params)?.into_params())
    }

    /// The warm-up of `name` with `params`, when the entry declares one and the parameters
    /// are valid.
    pub fn warmup(&self, name: &str, params: &Params) -> Option<usize> {
        let entry = self.entry(name).ok()?;
        let warmup = entry.warmup.as_ref()?;
        let args = Args::new(&entry.name, &entry.params, params).ok()?;
        Some(warmup(&args))
    }
}

impl StrategyCatalog for Registry {
    fn check(&self, strategy: &str, params: &Params) -> Result<(), StrategyError> {
        Registry::check(self, strategy, params)
    }

    fn warmup(&self, strategy: &str, params: &Params) -> Option<usize> {
        Registry::warmup(self, strategy, params)
    }
}

/// [`Registry::canonical_params`] on the built-in registry.
pub fn canonical_params(name: &str, params: &Params) -> Result<Params, StrategyError> {
    Registry::builtin().canonical_params(name, params)
}
