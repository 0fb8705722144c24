//! A rules program run by the engine: arrays from the data set's cache at `init`, conditions
//! evaluated bar by bar in `next`, positions taken as the built-in strategies take them.

use std::sync::Arc;

use bt_engine::{Ctx, EngineError, Init, OrderSpec, Strategy};
use bt_strategies::builtin::indicator_values;

use crate::{
    check::Price,
    compile::{Env, Flags, Input, Program, Recipe},
    functions,
};

/// How orders are sized and bracketed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Orders {
    pub(crate) size: f64,
    pub(crate) sl_pct: Option<f64>,
    pub(crate) tp_pct: Option<f64>,
    pub(crate) reenter: bool,
}

/// One rules strategy with its parameters compiled in.
#[derive(Debug)]
pub struct RulesStrategy {
    program: Program,
    orders: Orders,
    /// Per bar, which conditions hold (computed at `init`).
    signals: Vec<u8>,
}

impl RulesStrategy {
    pub(crate) fn new(program: Program, orders: Orders) -> RulesStrategy {
        RulesStrategy { program, orders, signals: Vec::new() }
    }

    fn order(&self, long: bool, close: f64) -> OrderSpec {
        let o = self.orders;
        let (down, up) = (|p: f64| close * (1.0 - p), |p: f64| close * (1.0 + p));
        let (sl, tp) = if long {
            (o.sl_pct.map(down), o.tp_pct.map(up))
        } else {
            (o.sl_pct.map(up), o.tp_pct.map(down))
        };
        OrderSpec { size: o.size, sl, tp, ..OrderSpec::market() }
    }
}

fn price(bars: &bt_domain::Bars, p: Price) -> &[f64] {
    match p {
        Price::Open => bars.open(),
        Price::High => bars.high(),
        Price::Low => bars.low(),
        Price::Close => bars.close(),
        Price::Volume => bars.volume(),
    }
}

/// Bits of a bar's signals.
const LONG_ENTRY: u8 = 1;
const SHORT_ENTRY: u8 = 2;
const LONG_EXIT: u8 = 4;
const SHORT_EXIT: u8 = 8;

impl Strategy for RulesStrategy {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        let bars = init.bars();
        let hlc = [bars.high(), bars.low(), bars.close()];
        let prices = [bars.open(), bars.high(), bars.low(), bars.close(), bars.volume()];
        let mut arrays: Vec<Arc<[f64]>> = Vec::with_capacity(self.program.arrays.len());
        for array in &self.program.arrays {
            let values = match &array.recipe {
                Recipe::Call { func, inputs, nums, field } => {
                    let inputs: Vec<&[f64]> = inputs
                        .iter()
                        .map(|i| match i {
                            Input::Price(p) => price(bars, *p),
                            Input::Arr(k) => &arrays[*k][..],
                        })
                        .collect();
                    indicator_values(init, &array.key, |_| {
                        functions::compute(func, &inputs, nums, *field, hlc)
                    })?
                    .1
                }
                Recipe::Derived(node) => {
                    let env = Env { prices, arrays: &arrays, n: bars.len() };
                    init.cache().get_or_compute(&array.key, || node.column(&env).into_vec(env.n))
                }
            };
            arrays.push(values);
        }
        // Every condition at every bar, column by column, into one byte of flags per bar:
        // `next` only reads it.
        let env = Env { prices, arrays: &arrays, n: bars.len() };
        let p = &self.program;
        let mut signals = vec![0u8; bars.len()];
        for (cond, bit) in [
            (&p.long_entry, LONG_ENTRY),
            (&p.short_entry, SHORT_ENTRY),
            (&p.long_exit, LONG_EXIT),
            (&p.short_exit, SHORT_EXIT),
        ] {
            match cond.as_ref().map(|c| c.column(&env)) {
                None | Some(Flags::Const(false)) => {}
                Some(Flags::Const(true)) => signals.iter_mut().for_each(|s| *s |= bit),
                Some(Flags::Owned(v)) => {
                    for (s, f) in signals.iter_mut().zip(v) {
                        *s |= bit * u8::from(f);
                    }
                }
            }
        }
        self.signals = signals;
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let i = ctx.bar_idx();
        let s = self.signals[i];
        if s == 0 {
            return Ok(());
        }
        let reenter = self.orders.reenter;
        let close = ctx.close()[i];
        if s & LONG_ENTRY != 0 {
            if reenter || ctx.position_size() <= 0.0 {
                ctx.close_position(1.0)?;
                ctx.buy(self.order(true, close))?;
            }
        } else if s & SHORT_ENTRY != 0 {
            if reenter || ctx.position_size() >= 0.0 {
                ctx.close_position(1.0)?;
                ctx.sell(self.order(false, close))?;
            }
        } else {
            let position = ctx.position_size();
            if (position > 0.0 && s & LONG_EXIT != 0) || (position < 0.0 && s & SHORT_EXIT != 0) {
                ctx.close_position(1.0)?;
            }
        }
        Ok(())
    }
}
