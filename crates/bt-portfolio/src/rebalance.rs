//! The target-percent rebalance of one bar: vectorbt 1.2's rule (`crate::vbt`) over the
//! instruments with a pending target and a bar, booked into the lots of [`Broker`].

use crate::{
    broker::{Broker, Lot},
    vbt::{self, Fees},
};

impl Broker<'_> {
    /// vectorbt's target-percent rebalance over the instruments with a target and a bar.
    pub(crate) fn rebalance(&mut self) {
        let n = self.books.len();
        // The group value, once, at the valuation prices (instruments without a bar: their
        // last one).
        let mut value = self.free_cash;
        for b in &self.books {
            if b.position != 0.0 {
                value += b.position * b.val_price;
            }
        }
        let mut values = std::mem::take(&mut self.seq_values);
        let mut seq = std::mem::take(&mut self.seq);
        values.clear();
        seq.clear();
        for (k, b) in self.books.iter().enumerate() {
            let w = if b.has_bar { b.target.unwrap_or(f64::NAN) } else { f64::NAN };
            values.push(w * value - b.position * b.val_price);
            seq.push(k);
        }
        vbt::insert_argsort(&mut values, &mut seq);
        for &k in seq.iter().take(n) {
            self.free_cash = vbt::snap(self.free_cash);
            let b = &self.books[k];
            let Some(w) = b.target.filter(|_| b.has_bar) else { continue };
            let Some(basis) = self.market_price(k) else { continue };
            let b = &self.books[k];
            let (position, val_price, costs) = (vbt::snap(b.position), b.val_price, b.costs);
            let delta = w * value - position * val_price;
            let price = {
                let p = costs.slipped(basis, delta >= 0.0);
                p * (1.0 + costs.spread.copysign(delta))
            };
            let fees = Fees {
                rate: costs.commission,
                fixed: costs.commission_fixed,
                granularity: costs.granularity,
            };
            self.books[k].target = None;
            let Some(fill) = vbt::target_percent(
                self.free_cash,
                position,
                vbt::snap(val_price),
                vbt::snap(value),
                w,
                price,
                fees,
            ) else {
                continue;
            };
            self.free_cash = fill.cash;
            let signed = if fill.buy { fill.size } else { -fill.size };
            self.apply_fill(k, signed, fill.price, fill.fees, fill.position);
        }
        self.seq_values = values;
        self.seq = seq;
    }

    /// Books a vectorbt fill: nets FIFO against opposite lots, opens a lot with the rest.
    /// `position` is vectorbt's position after the fill (0 exactly when it snapped to 0).
    fn apply_fill(&mut self, k: usize, size: f64, price: f64, fees: f64, position: f64) {
        let long = size > 0.0;
        let mut need = size;
        let mut gross = 0.0;
        let mut closed = std::mem::take(&mut self.scratch_lots);
        closed.clear();
        if position == 0.0 {
            closed.append(&mut self.books[k].lots);
            need = 0.0;
        }
        while need != 0.0 {
            let Some(&lot) = self.books[k].lots.first() else { break };
            if (lot.size > 0.0) == long {
                break;
            }
            if need.abs() >= lot.size.abs() {
                self.books[k].lots.remove(0);
                closed.push(lot);
                need += lot.size;
            } else {
                self.books[k].lots[0].size = lot.size + need;
                closed.push(Lot { size: -need, ..lot });
                need = 0.0;
            }
        }
        for lot in &closed {
            let g = lot.size * (price - lot.entry);
            gross += g;
            // The order's fees shared by the lots it closes, by size.
            let share = fees * (lot.size / size).abs();
            self.trade(k, *lot, price, g, share);
        }
        self.scratch_lots = closed;
        if need != 0.0 {
            self.books[k].lots.push(Lot { size: need, entry: price, bar: self.fill_bar });
        }
        self.refresh(k);
        self.books[k].position = position;
        self.realised_cash += gross - fees;
        self.record(k, size, price, fees);
    }
}
