//! The `backtest` target: a built-in strategy on arbitrary valid bars, parameters and broker
//! settings.

use super::*;

/// One backtest as `bt backtest` runs it: arbitrary valid bars, any strategy, any parameters,
/// any broker settings.
#[derive(Debug, Arbitrary)]
struct BacktestInput {
    bars: BarsInput,
    strategy: u8,
    params: Vec<ParamChoice>,
    extra_param: Option<(String, ParamInput)>,
    config: ConfigInput,
}

#[derive(Debug, Arbitrary)]
struct BarsInput {
    /// Seconds between bars, folded into 1 s ..= 31 days.
    step: u32,
    /// Price scale: 10^(exponent mod 21 - 8), from 1e-8 to 1e12.
    exponent: u8,
    bars: Vec<BarInput>,
    zero_volume: bool,
}

#[derive(Debug, Arbitrary)]
struct BarInput {
    /// Close-to-close move in 1/65536ths, up to +-50 % (0 gives flat stretches).
    change: i16,
    /// Open relative to the previous close, in 1/4096ths.
    gap: i8,
    /// How far high and low reach beyond the body, in 1/4096ths.
    up: u8,
    down: u8,
    volume: u16,
}

#[derive(Debug, Arbitrary)]
enum ParamChoice {
    /// Leave the parameter to its default (or missing, if required).
    Omit,
    /// A value of the right type.
    Typed(ParamInput),
    /// Whatever value and type.
    Any(ParamInput),
}

#[derive(Debug, Clone, Arbitrary)]
enum ParamInput {
    SmallInt(i8),
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl ParamInput {
    fn value(&self) -> ParamValue {
        match self {
            ParamInput::SmallInt(v) => ParamValue::Int(i64::from(*v)),
            ParamInput::Int(v) => ParamValue::Int(*v),
            ParamInput::Float(v) => ParamValue::Float(*v),
            ParamInput::Bool(v) => ParamValue::Bool(*v),
            ParamInput::Str(v) => ParamValue::Str(v.clone()),
        }
    }

    /// A value of `kind` derived from this input.
    fn typed(&self, kind: ParamKind) -> ParamValue {
        let n = match self {
            ParamInput::SmallInt(v) => f64::from(*v),
            ParamInput::Int(v) => *v as f64,
            ParamInput::Float(v) => *v,
            ParamInput::Bool(v) => f64::from(u8::from(*v)),
            ParamInput::Str(s) => s.len() as f64,
        };
        match kind {
            ParamKind::Int => match self {
                ParamInput::Int(v) => ParamValue::Int(*v),
                _ => ParamValue::Int(n as i64),
            },
            ParamKind::Float => ParamValue::Float(n),
            ParamKind::Bool => ParamValue::Bool(n != 0.0),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct ConfigInput {
    /// Raw values are used as they are, to reach the config validation too.
    raw: bool,
    cash: f64,
    commission: f64,
    commission_fixed: f64,
    spread: f64,
    margin: f64,
    trade_on_close: bool,
    hedging: bool,
    exclusive_orders: bool,
    finalize_trades: bool,
    /// 0: no trailing stop, 1: `trailing_atr`, 2: `trailing_pct`, 3: both (invalid).
    trailing: u8,
    trail: f64,
    atr_periods: u8,
    /// `fractional_unit = 10^-(n % 10)` when set.
    fractional: Option<u8>,
    slippage: f64,
    slippage_fixed: f64,
}

impl ConfigInput {
    /// The realism settings (trailing stop, fractional units, slippage) on `base`.
    fn realism(&self, base: BacktestConfig, raw: bool) -> BacktestConfig {
        let unit = |x: f64| if x.is_finite() { x.abs().fract() } else { 0.0 };
        let trail = if raw { self.trail } else { 0.5 + unit(self.trail) * 5.0 };
        let pct = if raw { self.trail } else { 0.01 + unit(self.trail) * 0.2 };
        BacktestConfig {
            trailing_atr: matches!(self.trailing % 4, 1 | 3).then_some(trail),
            trailing_pct: matches!(self.trailing % 4, 2 | 3).then_some(pct),
            atr_periods: if raw {
                usize::from(self.atr_periods)
            } else {
                1 + usize::from(self.atr_periods % 120)
            },
            fractional_unit: self.fractional.map(|n| 10f64.powi(-i32::from(n % 10))),
            slippage: if raw { self.slippage } else { unit(self.slippage) * 0.01 },
            slippage_fixed: if raw {
                self.slippage_fixed
            } else {
                unit(self.slippage_fixed) * 0.01
            },
            ..base
        }
    }

    fn config(&self) -> BacktestConfig {
        // Folds any finite value into [0, 1); NaN and infinities to 0.
        let unit = |x: f64| if x.is_finite() { x.abs().fract() } else { 0.0 };
        let base = BacktestConfig {
            trade_on_close: self.trade_on_close,
            hedging: self.hedging,
            exclusive_orders: self.exclusive_orders,
            finalize_trades: self.finalize_trades,
            ..BacktestConfig::default()
        };
        if self.raw {
            let raw = BacktestConfig {
                cash: self.cash,
                commission: self.commission,
                commission_fixed: self.commission_fixed,
                spread: self.spread,
                margin: self.margin,
                ..base
            };
            return self.realism(raw, true);
        }
        let folded = BacktestConfig {
            cash: 10f64.powf(1.0 + unit(self.cash) * 14.0),
            commission: unit(self.commission) * 0.02 - 0.005,
            commission_fixed: unit(self.commission_fixed) * 5.0,
            spread: unit(self.spread) * 0.01,
            margin: 1.0 - unit(self.margin) * 0.99,
            ..base
        };
        self.realism(folded, false)
    }
}

impl BarsInput {
    fn bars(&self) -> Option<Bars> {
        let n = self.bars.len().min(600);
        let scale = 10f64.powi(i32::from(self.exponent % 21) - 8);
        let step = (i64::from(self.step % 2_678_400) + 1) * 1_000_000_000;
        let (mut ts, mut open, mut high, mut low, mut close, mut volume) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut prev = 100.0 * scale;
        for (i, b) in self.bars[..n].iter().enumerate() {
            let o = prev * (1.0 + f64::from(b.gap) / 4096.0);
            let c = (prev * (1.0 + f64::from(b.change) / 65536.0)).max(scale * 1e-3);
            let h = o.max(c) * (1.0 + f64::from(b.up) / 4096.0);
            let l = o.min(c) * (1.0 - f64::from(b.down) / 4096.0);
            ts.push(1_600_000_000_000_000_000 + i as i64 * step);
            open.push(o);
            high.push(h);
            low.push(l);
            close.push(c);
            volume.push(if self.zero_volume { 0.0 } else { f64::from(b.volume) });
            prev = c;
        }
        Bars::new(ts, open, high, low, close, volume).ok()
    }
}

/// Arbitrary bytes -> a backtest of a built-in strategy; see the crate docs for what is checked.
pub fn backtest(data: &[u8]) {
    let Ok(input) = BacktestInput::arbitrary_take_rest(Unstructured::new(data)) else { return };
    let Some(bars) = input.bars.bars() else { return };
    let registry = registry();
    let names = registry.names();
    let name = names[input.strategy as usize % names.len()];
    let specs = registry.describe(name).expect("a listed strategy describes itself");
    let mut params = Params::new();
    for (spec, choice) in specs.iter().zip(&input.params) {
        match choice {
            ParamChoice::Omit => {}
            ParamChoice::Typed(v) => {
                params.insert(spec.name.to_string(), v.typed(spec.kind));
            }
            ParamChoice::Any(v) => {
                params.insert(spec.name.to_string(), v.value());
            }
        }
    }
    if let Some((key, value)) = &input.extra_param {
        params.insert(key.clone(), value.value());
    }
    let checked = registry.check(name, &params);
    let built = registry.build(name, &params);
    assert_eq!(
        checked.is_ok(),
        built.is_ok(),
        "check and build disagree on {name} {params:?}: {checked:?}"
    );
    let Ok(strategy) = built else { return };
    registry.canonical_params(name, &params).expect("checked params have a canonical form");

    let config = input.config.config();
    let ds = DatasetStats::new(&bars);
    let cache = IndicatorCache::new();
    let run = |mut strategy: Box<dyn bt_engine::Strategy>| {
        let mut observer = (StatsAccumulator::new(&ds), EquityCurve(Vec::new()));
        let result = bt_engine::run(&bars, strategy.as_mut(), &config, &cache, &mut observer)
            .map_err(|e| e.to_string())?;
        let (acc, curve) = observer;
        let stats = acc.finish(&RunFacts { trades: &result.trades, warmup: result.warmup });
        Ok::<_, String>((format!("{result:?}"), format!("{stats:?}"), curve.0))
    };
    let first = run(strategy);
    if config.validate().is_err() {
        assert!(first.is_err(), "an invalid config ran: {config:?}");
        return;
    }
    // A clean error is a fine outcome (a period longer than the data, sizes that overflow f64);
    // a panic or a NaN result is not.
    let Ok((result, stats, curve)) = first else { return };
    assert_eq!(curve.len(), bars.len(), "the equity stream skipped bars");
    assert!(curve.iter().all(|e| e.is_finite()), "non-finite equity: {curve:?}");
    let again = run(registry.build(name, &params).expect("built once, builds again"))
        .expect("ran once, runs again");
    assert_eq!((&result, &stats), (&again.0, &again.1), "a second run differs");
}
