//! Filling orders: `_Broker._process_orders` and the trade bookkeeping it drives
//! (`_reduce_trade`, `_close_trade`, `_open_trade`), operation for operation.

use bt_domain::Trade;

use super::{Broker, OpenTrade, fill_units, py_max, py_min};

impl Broker<'_> {
    /// Whether every pending order is a stop (or stop-limit) order whose stop this bar does not
    /// reach: `_process_orders` would skip each of them (`if not is_stop_hit: continue`) and do
    /// nothing else. Trailing stops leave such an order pending on most bars.
    #[inline]
    pub(super) fn only_untouched_stops(&self) -> bool {
        let (high, low) = (self.high[self.i], self.low[self.i]);
        self.orders.iter().all(|o| match o.stop {
            Some(stop) => !(if o.is_long() { high >= stop } else { low <= stop }),
            None => false,
        })
    }

    /// `_Broker._process_orders()`.
    #[inline(never)]
    pub(super) fn process_orders(&mut self) {
        loop {
            if !self.process_orders_once() {
                break;
            }
        }
    }

    /// One pass over a snapshot of the queue; returns whether SL/TP orders need a second pass.
    pub(super) fn process_orders_once(&mut self) -> bool {
        let i = self.i;
        let (open, high, low) = (self.open[i], self.high[i], self.low[i]);
        let mut reprocess = false;
        let mut snapshot = std::mem::take(&mut self.order_snapshot);
        snapshot.clear();
        snapshot.extend(self.orders.iter().map(|o| o.id));
        for &oid in &snapshot {
            // Related SL/TP order was already removed.
            let Some(k) = self.order_index(oid) else { continue };
            let order = self.orders[k];
            let long = order.is_long();
            let contingent = order.is_contingent();

            let stop_price = order.stop;
            if let Some(stop) = stop_price {
                let hit = if long { high >= stop } else { low <= stop };
                if !hit {
                    continue;
                }
                // A triggered stop order becomes a market/limit order.
                self.orders[k].stop = None;
            }

            let price = if let Some(limit) = order.limit {
                let is_limit_hit = if long { low <= limit } else { high >= limit };
                // Stop and limit hit within the same bar: pessimistically, the limit was hit
                // before the stop.
                let before_stop = is_limit_hit
                    && if long {
                        limit <= stop_price.unwrap_or(f64::NEG_INFINITY)
                    } else {
                        limit >= stop_price.unwrap_or(f64::INFINITY)
                    };
                if !is_limit_hit || before_stop {
                    continue;
                }
                if long {
                    py_min(stop_price.unwrap_or(open), limit)
                } else {
                    py_max(stop_price.unwrap_or(open), limit)
                }
            } else {
                // Market-if-touched / market order; contingent orders always at the open.
                let mut p =
                    if self.trade_on_close && !contingent { self.close[i - 1] } else { open };
                if let Some(stop) = stop_price {
                    p = if long { py_max(p, stop) } else { py_min(p, stop) };
                }
                p
            };

            // Slippage moves every fill against the order (limits stay within their limit).
            let price = if self.slips { self.slipped(price, long, order.limit) } else { price };

            let is_market = order.limit.is_none() && stop_price.is_none();
            let time_index =
                if is_market && self.trade_on_close && !contingent { i - 1 } else { i };

            // SL/TP and Trade.close() orders close (part of) their parent trade.
            if let Some(parent) = order.parent() {
                if let Some(t) = self.trade_index(parent) {
                    let prev = self.trades[t].size;
                    let size = prev.abs().min(order.size.abs()).copysign(order.size);
                    self.reduce_trade(t, price, size, time_index);
                }
                // SL/TP orders were removed with their trade; a close order is now done.
                self.remove_order(oid);
                continue;
            }

            // A stand-alone order. Adjust the price for spread and commission.
            let adjusted = price * (1.0 + self.spread.copysign(order.size));
            let adjusted_plus_commission =
                adjusted + self.commission(order.size, price) / order.size.abs();

            let size = fill_units(
                order.size,
                self.margin_available(),
                self.leverage,
                adjusted_plus_commission,
            );
            if size == 0.0 {
                // Not enough margin even for one unit: the broker cancels the order.
                self.cancelled_orders += 1;
                self.remove_order(oid);
                continue;
            }
            let mut need = size.trunc();

            if !self.hedging {
                // Net FIFO against opposite trades, at the unadjusted price.
                let mut trades = std::mem::take(&mut self.trade_snapshot);
                trades.clear();
                trades.extend(self.trades.iter().map(|t| t.id));
                for &tid in &trades {
                    let Some(t) = self.trade_index(tid) else { continue };
                    let trade = self.trades[t];
                    if trade.is_long() == long {
                        continue;
                    }
                    if need.abs() >= trade.size.abs() {
                        self.close_trade(t, price, time_index);
                        need += trade.size;
                    } else {
                        self.reduce_trade(t, price, need, time_index);
                        need = 0.0;
                    }
                    if need == 0.0 {
                        break;
                    }
                }
                self.trade_snapshot = trades;
            }

            // Not enough liquidity for the order: the broker cancels it.
            if need.abs() * adjusted_plus_commission > self.margin_available() * self.leverage {
                self.cancelled_orders += 1;
                self.remove_order(oid);
                continue;
            }

            if need != 0.0 {
                self.open_trade(adjusted, need, order.sl, order.tp, time_index, order.tag);
                if order.sl.is_some() || order.tp.is_some() {
                    if is_market {
                        // SL/TP may hit within the bar the market order filled.
                        reprocess = true;
                    } else if let (Some(_), None, Some(tp)) = (stop_price, order.limit, order.tp) {
                        // Stop and TP hit within the same bar, SL not: unambiguous.
                        if (long && tp <= high && order.sl.unwrap_or(f64::NEG_INFINITY) < low)
                            || (!long && tp >= low && order.sl.unwrap_or(f64::INFINITY) > high)
                        {
                            reprocess = true;
                        }
                    }
                }
            }
            self.remove_order(oid);
        }
        self.order_snapshot = snapshot;
        reprocess
    }

    /// `_reduce_trade`: close `size` (opposite sign to the trade) units of trade `t`.
    pub(super) fn reduce_trade(&mut self, t: usize, price: f64, size: f64, time_index: usize) {
        let trade = self.trades[t];
        let size_left = trade.size + size;
        if size_left == 0.0 {
            self.close_trade(t, price, time_index);
            return;
        }
        self.trades[t].size = size_left;
        for id in [trade.sl_order, trade.tp_order].into_iter().flatten() {
            if let Some(k) = self.order_index(id) {
                self.orders[k].size = -size_left;
            }
        }
        // Close a reduced copy of the trade (without its SL/TP orders).
        let id = self.new_id();
        self.trades.push(OpenTrade {
            id,
            size: -size,
            sl_order: None,
            tp_order: None,
            sl: None,
            tp: None,
            ..trade
        });
        let last = self.trades.len() - 1;
        self.close_trade(last, price, time_index);
    }

    /// `_close_trade`.
    pub(super) fn close_trade(&mut self, t: usize, price: f64, time_index: usize) {
        let trade = self.trades.remove(t);
        self.refresh_position();
        for id in [trade.sl_order, trade.tp_order].into_iter().flatten() {
            self.remove_order(id);
        }
        let exit_commission = self.commission(trade.size, price);
        let gross = trade.size * (price - trade.entry_price);
        self.cash += gross - exit_commission;
        let commission = exit_commission + self.commission(trade.size, trade.entry_price);
        self.closed.push(Trade {
            size: trade.size,
            entry_bar: trade.entry_bar,
            exit_bar: Some(time_index),
            entry_price: trade.entry_price,
            exit_price: price,
            sl: trade.sl,
            tp: trade.tp,
            pnl: gross - commission,
            commission,
            return_frac: 1f64.copysign(trade.size) * (price / trade.entry_price - 1.0)
                - commission / (trade.size.abs() * trade.entry_price),
            entry_time: self.ts[trade.entry_bar],
            exit_time: Some(self.ts[time_index]),
            tag: trade.tag,
        });
    }

    /// `_open_trade`.
    pub(super) fn open_trade(
        &mut self,
        price: f64,
        size: f64,
        sl: Option<f64>,
        tp: Option<f64>,
        time_index: usize,
        tag: Option<u32>,
    ) {
        let id = self.new_id();
        self.trades.push(OpenTrade {
            id,
            size,
            entry_price: price,
            entry_bar: time_index,
            sl_order: None,
            tp_order: None,
            sl: None,
            tp: None,
            tag,
        });
        self.refresh_position();
        self.cash -= self.commission(size, price);
        let t = self.trades.len() - 1;
        if tp.is_some() {
            self.set_contingent(t, false, tp);
        }
        if sl.is_some() {
            self.set_contingent(t, true, sl);
        }
    }
}
