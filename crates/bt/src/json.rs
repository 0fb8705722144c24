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
/// statistics, then `sr`, `skew`, `kurtosis` and `psr` (docs/validation.md). A portfolio run
/// adds `instruments` (per instrument: `name`, `final_position`, `exposure_pct`, `turnover`,
/// `fees`, `fills`, `contribution_pct`) and each trade's `instrument`.
pub fn backtest_json(b: &Backtest) -> String {
    let mut stats: Value =
        serde_json::from_str(&bt_executor::stats_json(&b.stats)).expect("stats_json writes JSON");
    if let Value::Object(m) = &mut stats {
        for (key, v) in RETURN_KEYS.iter().zip(b.returns.values()) {
            let v = serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
            m.insert((*key).to_owned(), v);
        }
    }
    let mut out = json!({
        "stats": stats,
        "trades": b.result.trades.iter().map(trade_json).collect::<Vec<_>>(),
        "open_trades": b.result.open_trades.iter().map(trade_json).collect::<Vec<_>>(),
    });
    if let (Some(instruments), Value::Object(m)) = (&b.instruments, &mut out) {
        // A portfolio run: per instrument, in portfolio order (trades carry `instrument`).
        let rows = instruments
            .iter()
            .map(|i| {
                json!({
                    "name": i.name,
                    "final_position": i.final_position,
                    "exposure_pct": i.exposure * 100.0,
                    "turnover": i.turnover,
                    "fees": i.fees,
                    "fills": i.fills,
                    "contribution_pct": i.contribution * 100.0,
                })
            })
            .collect::<Vec<_>>();
        m.insert("instruments".into(), Value::Array(rows));
        for key in ["trades", "open_trades"] {
            let list = [&b.result.trades, &b.result.open_trades][usize::from(key == "open_trades")];
            if let Some(Value::Array(items)) = m.get_mut(key) {
                for (item, t) in items.iter_mut().zip(list.iter()) {
                    let name = t.tag.and_then(|k| instruments.get(k as usize)).map(|i| &i.name);
                    if let (Value::Object(o), Some(name)) = (item, name) {
                        o.insert("instrument".into(), json!(name));
                    }
                }
            }
        }
    }
    out.to_string()
}
