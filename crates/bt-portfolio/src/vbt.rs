//! vectorbt 1.2's order execution for target-percent rebalancing (`buy_nb`, `sell_nb`,
//! `execute_order_nb` with `size_type=TargetPercent`), operation for operation.
//!
//! The specification is `tests/fixtures/vectorbt/replay.py` (a numpy replay that matches
//! vectorbt bit for bit) and `VECTORBT_SEMANTICS.md` next to it; comments name the function
//! they mirror.

use bt_engine::py_floordiv;

/// `vectorbt.utils.math_.rel_tol`.
const REL_TOL: f64 = 1e-9;
/// `vectorbt.utils.math_.abs_tol`.
const ABS_TOL: f64 = 1e-12;
/// vectorbt's default `min_size`.
pub(crate) const MIN_SIZE: f64 = 1e-8;

/// `is_close_nb`.
pub(crate) fn is_close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        return false;
    }
    if a == b {
        return true;
    }
    (a - b).abs() <= (REL_TOL * a.abs().max(b.abs())).max(ABS_TOL)
}

/// `is_close_or_less_nb`.
fn is_close_or_less(a: f64, b: f64) -> bool {
    is_close(a, b) || a < b
}

/// `is_less_nb`.
fn is_less(a: f64, b: f64) -> bool {
    !is_close(a, b) && a < b
}

/// numpy's `sign` (0 for 0, unlike `f64::signum`).
fn np_sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// `add_nb`: `a + b`, snapped to exactly 0 when the operands (nearly) cancel.
pub(crate) fn add(a: f64, b: f64) -> f64 {
    let zero =
        if np_sign(a) != np_sign(b) { is_close(a.abs(), b.abs()) } else { is_close(a + b, 0.0) };
    if zero { 0.0 } else { a + b }
}

/// Python's `a // g * g` for a size granularity (`None`: continuous sizes).
fn floor_g(x: f64, granularity: Option<f64>) -> f64 {
    match granularity {
        Some(g) => py_floordiv(x, g) * g,
        None => x,
    }
}

/// Costs of one instrument as vectorbt sees them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fees {
    /// Proportional fee (`fees`).
    pub rate: f64,
    /// Fixed fee per filled order (`fixed_fees`).
    pub fixed: f64,
    /// `size_granularity` (`None`: continuous).
    pub granularity: Option<f64>,
}

/// A filled target-percent order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct VbtFill {
    /// Units, > 0.
    pub size: f64,
    /// Fill price.
    pub price: f64,
    /// Fees paid.
    pub fees: f64,
    /// A buy (else a sell).
    pub buy: bool,
    /// Cash after the fill.
    pub cash: f64,
    /// Position after the fill.
    pub position: f64,
}

/// `buy_nb` (direction both, no lock_cash, no max_size, allow_partial). `None`: ignored or
/// rejected (no record).
fn buy(cash: f64, position: f64, size: f64, price: f64, fees: Fees) -> Option<VbtFill> {
    let cash_limit = cash;
    if cash_limit == 0.0 || size == 0.0 {
        return None;
    }
    let adj_size = floor_g(size, fees.granularity);
    let req_cash = adj_size * price;
    let req_fees = req_cash * fees.rate + fees.fixed;
    let total_req_cash = req_cash + req_fees;
    let (final_size, fees_paid, final_req_cash) = if is_close_or_less(total_req_cash, cash_limit) {
        (adj_size, req_fees, total_req_cash)
    } else {
        // Shrink to the cash left, fees included.
        let max_req_cash = add(cash_limit, -fees.fixed) / (1.0 + fees.rate);
        if max_req_cash <= 0.0 {
            return None;
        }
        let max_acq_size = max_req_cash / price;
        match fees.granularity {
            Some(_) => {
                let final_size = floor_g(max_acq_size, fees.granularity);
                let new_req_cash = final_size * price;
                let fees_paid = new_req_cash * fees.rate + fees.fixed;
                (final_size, fees_paid, new_req_cash + fees_paid)
            }
            None => (max_acq_size, cash_limit - max_req_cash, cash_limit),
        }
    };
    // vectorbt tests the floored request here, not the final size.
    if is_close(adj_size, 0.0) || is_less(final_size, MIN_SIZE) {
        return None;
    }
    Some(VbtFill {
        size: final_size,
        price,
        fees: fees_paid,
        buy: true,
        cash: add(cash, -final_req_cash),
        position: add(position, final_size),
    })
}

/// `sell_nb` (direction both, no lock_cash, no max_size, allow_partial).
fn sell(cash: f64, position: f64, size: f64, price: f64, fees: Fees) -> Option<VbtFill> {
    let size_limit = floor_g(size, fees.granularity);
    if is_close(size_limit, 0.0) || is_less(size_limit, MIN_SIZE) {
        return None;
    }
    let acq_cash = size_limit * price;
    let fees_paid = acq_cash * fees.rate + fees.fixed;
    let final_acq_cash = add(acq_cash, -fees_paid);
    if final_acq_cash < 0.0 {
        return None;
    }
    Some(VbtFill {
        size: size_limit,
        price,
        fees: fees_paid,
        buy: false,
        cash: cash + final_acq_cash,
        position: add(position, -size_limit),
    })
}

/// `execute_order_nb` for `SizeType.TargetPercent` after the state snapping: the order that
/// brings `position` to `w` of the group value `value` at valuation price `val_price`, filled
/// at `price`. Non-finite or non-positive inputs are ignored (the broker never passes them).
pub(crate) fn target_percent(
    cash: f64,
    position: f64,
    val_price: f64,
    value: f64,
    w: f64,
    price: f64,
    fees: Fees,
) -> Option<VbtFill> {
    if w.is_nan() || !(price.is_finite() && price > 0.0) || value.is_nan() || value <= 0.0 {
        return None;
    }
    if !(val_price.is_finite() && val_price > 0.0) {
        return None;
    }
    let mut order_size = w;
    order_size *= value;
    order_size /= val_price;
    order_size -= position;
    if order_size > 0.0 {
        buy(cash, position, order_size, price, fees)
    } else {
        sell(cash, position, -order_size, price, fees)
    }
}

/// The state snapping of `execute_order_nb`: `x` set to 0 when it is close to 0.
pub(crate) fn snap(x: f64) -> f64 {
    if is_close(x, 0.0) { 0.0 } else { x }
}

/// `insert_argsort_nb`: stable ascending insertion sort of `values` carrying `idx`, NaN last.
pub(crate) fn insert_argsort(values: &mut [f64], idx: &mut [usize]) {
    for j in 1..values.len() {
        let (a_j, i_j) = (values[j], idx[j]);
        let mut i = j;
        while i > 0 && (values[i - 1] > a_j || values[i - 1].is_nan()) {
            values[i] = values[i - 1];
            idx[i] = idx[i - 1];
            i -= 1;
        }
        values[i] = a_j;
        idx[i] = i_j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_snaps_cancelling_operands_to_zero() {
        assert_eq!(add(1.0, -1.0 + 1e-12), 0.0);
        assert_eq!(add(1.0, -0.5), 0.5);
        assert_eq!(add(0.0, 0.0), 0.0);
    }

    #[test]
    fn argsort_is_stable_with_nan_last() {
        let mut v = [3.0, f64::NAN, -1.0, 3.0, -5.0];
        let mut i = [0, 1, 2, 3, 4];
        insert_argsort(&mut v, &mut i);
        assert_eq!(i, [4, 2, 0, 3, 1]);
    }

    #[test]
    fn last_buy_shrinks_to_the_cash_left_with_fees() {
        let fees = Fees { rate: 0.001, fixed: 0.0, granularity: Some(1.0) };
        // 100 units at 10 cost 1001 with fees: only 999 in cash, so 99 units.
        let f = buy(999.0, 0.0, 100.0, 10.0, fees).unwrap();
        assert_eq!(f.size, 99.0);
        assert!(f.cash >= 0.0);
        let fees = Fees { granularity: None, ..fees };
        let f = buy(999.0, 0.0, 100.0, 10.0, fees).unwrap();
        assert_eq!(f.cash, 0.0);
    }
}
