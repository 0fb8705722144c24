//! The scripted test strategy and a runner that captures everything the properties check.

use bt_domain::{BacktestConfig, Bars, EquityCurve, EquityObserver, Trade};
use bt_engine::{
    BacktestResult, Ctx, EngineError, Ind, IndicatorCache, Init, OrderInfo, OrderSpec, Strategy,
    TradeInfo,
};

use crate::arb::{Action, Case, Kind, Script, Warmup};

/// An entry order as the strategy placed it; its index is the order's tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderRec {
    /// Bar at which `buy`/`sell` was called.
    pub bar: usize,
    /// Direction.
    pub long: bool,
    /// Limit price.
    pub limit: Option<f64>,
    /// Stop price.
    pub stop: Option<f64>,
    /// Whether the engine accepted it.
    pub accepted: bool,
}

impl OrderRec {
    /// No limit and no stop.
    pub fn is_market(&self) -> bool {
        self.limit.is_none() && self.stop.is_none()
    }
}

/// What `next()` saw on entry to bar `bar`, before any action.
#[derive(Debug, Clone, PartialEq)]
pub struct BarLog {
    /// Bar index.
    pub bar: usize,
    /// `ctx.cash()`.
    pub cash: f64,
    /// `ctx.equity()`.
    pub equity: f64,
    /// `ctx.position_size()`.
    pub position_size: f64,
    /// `ctx.trade(k)` for every open trade.
    pub trades: Vec<TradeInfo>,
    /// `ctx.order(k)` for every pending order.
    pub orders: Vec<OrderInfo>,
}

/// A strategy that replays a script of actions, ignoring refused actions (as a Python strategy
/// catching `ValueError`/`AssertionError` would).
#[derive(Debug)]
pub struct Scripted<'s> {
    script: &'s Script,
    warmup: Warmup,
    ind: Option<Ind>,
    /// Every `buy`/`sell` attempted, indexed by tag.
    pub orders: Vec<OrderRec>,
    /// One entry per `next()` call.
    pub log: Vec<BarLog>,
    /// Actions the engine refused.
    pub refused: usize,
    /// Immediate read-backs that disagreed with what was just set.
    pub violations: Vec<String>,
}

impl<'s> Scripted<'s> {
    /// A strategy replaying `script`.
    pub fn new(script: &'s Script, warmup: Warmup) -> Scripted<'s> {
        Scripted {
            script,
            warmup,
            ind: None,
            orders: Vec::new(),
            log: Vec::new(),
            refused: 0,
            violations: Vec::new(),
        }
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, '_>, action: Action, reference: f64) -> bool {
        let i = ctx.bar_idx();
        let dir_of = |size: f64| if size > 0.0 { 1.0 } else { -1.0 };
        let result = match action {
            Action::Entry { long, kind, size, sl_off, tp_off } => {
                let dir = if long { 1.0 } else { -1.0 };
                let (limit, stop) = match kind {
                    Kind::Market => (None, None),
                    Kind::Limit(off) => (Some(reference * (1.0 - dir * off)), None),
                    Kind::Stop(off) => (None, Some(reference * (1.0 + dir * off))),
                    Kind::StopLimit { stop_off, limit_off } => {
                        let stop = reference * (1.0 + dir * stop_off);
                        (Some(stop * (1.0 + dir * limit_off)), Some(stop))
                    }
                };
                let tag = u32::try_from(self.orders.len()).expect("fewer than 2^32 orders");
                let mut spec = OrderSpec::market().size(size).tag(tag);
                spec.limit = limit;
                spec.stop = stop;
                spec.sl = sl_off.map(|off| reference * (1.0 - dir * off));
                spec.tp = tp_off.map(|off| reference * (1.0 + dir * off));
                let result = if long { ctx.buy(spec) } else { ctx.sell(spec) };
                self.orders.push(OrderRec { bar: i, long, limit, stop, accepted: result.is_ok() });
                result
            }
            Action::ClosePosition(portion) => ctx.close_position(portion),
            Action::CloseTrade(k, portion) => ctx.close_trade(k % (ctx.trade_count() + 1), portion),
            Action::SetSl(k, off) | Action::SetTp(k, off) => {
                let is_sl = matches!(action, Action::SetSl(..));
                let k = k % (ctx.trade_count() + 1);
                // SL on the losing side, TP on the winning side of the trade.
                let dir =
                    ctx.trade(k).map_or(1.0, |t| dir_of(t.size)) * if is_sl { -1.0 } else { 1.0 };
                let price = off.map(|off| reference * (1.0 + dir * off));
                let result =
                    if is_sl { ctx.set_trade_sl(k, price) } else { ctx.set_trade_tp(k, price) };
                let now = ctx.trade(k).map(|t| if is_sl { t.sl } else { t.tp });
                if result.is_ok() && now != Some(price) {
                    self.violations
                        .push(format!("bar {i}: set {action:?} to {price:?}, reads {now:?}"));
                }
                result
            }
            Action::Cancel(k) => ctx.cancel_order(k % (ctx.order_count() + 1)),
        };
        result.is_ok()
    }
}

impl Strategy for Scripted<'_> {
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        if let Some(w) = self.warmup.first_valid(init.bars().len()) {
            // The bar's mid price, NaN before `w`: prices then depend on the cached values.
            let key = format!("test:mid(open,close)[nan<{w}]");
            let ind = init.indicator(&key, |bars: &Bars| {
                let (o, c) = (bars.open(), bars.close());
                (0..bars.len())
                    .map(|i| if i < w { f64::NAN } else { (o[i] + c[i]) / 2.0 })
                    .collect()
            })?;
            self.ind = Some(ind);
        }
        Ok(())
    }

    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let i = ctx.bar_idx();
        let trades = (0..ctx.trade_count()).map(|k| ctx.trade(k).expect("k < trade_count"));
        let orders = (0..ctx.order_count()).map(|k| ctx.order(k).expect("k < order_count"));
        self.log.push(BarLog {
            bar: i,
            cash: ctx.cash(),
            equity: ctx.equity(),
            position_size: ctx.position_size(),
            trades: trades.collect(),
            orders: orders.collect(),
        });
        let reference = match self.ind {
            Some(ind) => ctx.ind(ind)[i],
            None => ctx.close()[i],
        };
        let script = self.script;
        for action in script.actions_at(i) {
            if !self.apply(ctx, action, reference) {
                self.refused += 1;
            }
        }
        Ok(())
    }
}

/// Records the bar index of every equity value, to check the stream's order.
#[derive(Debug, Default)]
pub struct BarIndices(pub Vec<usize>);

impl EquityObserver for BarIndices {
    fn on_equity(&mut self, bar_idx: usize, _equity: f64) {
        self.0.push(bar_idx);
    }
}

/// Everything one run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The engine's result.
    pub result: BacktestResult,
    /// Equity values, in the order streamed.
    pub curve: Vec<f64>,
    /// The bar index given with each value.
    pub bar_indices: Vec<usize>,
    /// What `next()` saw.
    pub log: Vec<BarLog>,
    /// Entry orders by tag.
    pub orders: Vec<OrderRec>,
    /// Refused actions.
    pub refused: usize,
    /// The strategy's immediate read-back failures.
    pub violations: Vec<String>,
}

impl Outcome {
    /// Closed trades, then trades still open.
    pub fn all_trades(&self) -> impl Iterator<Item = &Trade> {
        self.result.trades.iter().chain(&self.result.open_trades)
    }
    /// The order that produced `trade` (every trade carries its entry order's tag).
    pub fn order_of(&self, trade: &Trade) -> &OrderRec {
        let tag = trade.tag.expect("every scripted entry is tagged");
        &self.orders[tag as usize]
    }
    /// Bar of the first entry order the engine accepted.
    pub fn first_order_bar(&self) -> Option<usize> {
        self.orders.iter().find(|o| o.accepted).map(|o| o.bar)
    }
}

/// Runs `case` on `bars` with `config` (which may differ from `case.config`) and `cache`.
pub fn run_with(
    case: &Case,
    bars: &Bars,
    config: &BacktestConfig,
    cache: &IndicatorCache,
) -> Outcome {
    let mut strategy = Scripted::new(&case.script, case.warmup);
    let mut observer = (EquityCurve::default(), BarIndices::default());
    let result = bt_engine::run(bars, &mut strategy, config, cache, &mut observer)
        .expect("a valid config and a strategy that never fails");
    Outcome {
        result,
        curve: observer.0.0,
        bar_indices: observer.1.0,
        log: strategy.log,
        orders: strategy.orders,
        refused: strategy.refused,
        violations: strategy.violations,
    }
}

/// Runs `case` as generated, with a fresh cache.
pub fn run_case(case: &Case) -> (Bars, Outcome) {
    let bars = case.bars.build();
    let out = run_with(case, &bars, &case.config, &IndicatorCache::new());
    (bars, out)
}
