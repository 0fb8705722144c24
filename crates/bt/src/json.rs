//! The JSON of one backtest (`bt backtest --json`; schema in docs/json-output.md).

use bt_domain::{RETURN_KEYS, Trade, time};
use serde_json::{Value, json};

use crate::simulate::Backtest;

/// One trade as JSON.
fn trade_json(t: &Trade) -> Value {
    json!({
        "size": t.size,
        "entry_bar": t.entry_bar,
        "exit_bar": t.exit_bar,
        "entry_price": t.entry_price,
        "exit_price": t.exit_price,
        "pnl": t.pnl,
        "commission": t.commission,
        "return_pct": t.return_frac * 100.0,
        "entry_time": time::format_iso(t.entry_time),
        "exit_time": t.exit_time.map(time::format_iso),
    })
}

/// `{"stats": {...}, "trades": [...], "open_trades": [...]}` on one line; `stats` holds the 32
/// statistics, then `sr`, `skew`, `kurtosis` and `psr` (docs/validation.md).
pub fn backtest_json(b: &Backtest) -> String {
    let mut stats: Value =
        serde_json::from_str(&bt_executor::stats_json(&b.stats)).expect("stats_json writes JSON");
    if let Value::Object(m) = &mut stats {
        for (key, v) in RETURN_KEYS.iter().zip(b.returns.values()) {
            let v = serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
            m.insert((*key).to_owned(), v);
        }
    }
    json!({
        "stats": stats,
        "trades": b.result.trades.iter().map(trade_json).collect::<Vec<_>>(),
        "open_trades": b.result.open_trades.iter().map(trade_json).collect::<Vec<_>>(),
    })
    .to_string()
}
