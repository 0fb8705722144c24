//! The JSON of one backtest (`bt backtest --json`; schema in docs/json-output.md).

use bt_domain::{Trade, time};
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

/// `{"stats": {...}, "trades": [...], "open_trades": [...]}` on one line.
pub fn backtest_json(b: &Backtest) -> String {
    let stats: Value =
        serde_json::from_str(&bt_executor::stats_json(&b.stats)).expect("stats_json writes JSON");
    json!({
        "stats": stats,
        "trades": b.result.trades.iter().map(trade_json).collect::<Vec<_>>(),
        "open_trades": b.result.open_trades.iter().map(trade_json).collect::<Vec<_>>(),
    })
    .to_string()
}
