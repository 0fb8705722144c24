//! The `results.jsonl` line format: one JSON object per finished simulation.
//!
//! ```text
//! {"index":0,"id":"sma-10-20","dataset":"goog","strategy":"sma_cross",
//!  "params":{"fast":10,"long_only":false,"slow":20},"status":"ok",
//!  "stats":{"start":"2004-08-19T00:00:00",...,"kelly_criterion":0.05},
//!  "n_bars":2148,"bar_steps":2128,"open_trades":1,"cancelled_orders":0,"bust_bar":null}
//! {"index":1,"id":"bad","dataset":"goog","strategy":"sma_cross","params":{...},
//!  "status":"failed","error":"fast must be < slow"}
//! ```
//! Stats keys follow `bt_domain::STAT_KEYS`; timestamps are ISO 8601, durations seconds, NaN
//! `null`, infinities the strings `"inf"`/`"-inf"`. Floats are written in shortest round-trip
//! form, so decoding gives back the same bits.

use bt_domain::{
    ParamValue, Params, STAT_KEYS, SimOutcome, SimRecord, SimSummary, StatValue, Stats, time,
};
use serde_json::{Map, Value, json};

fn num(x: f64) -> Value {
    if x.is_nan() {
        Value::Null
    } else if x.is_infinite() {
        Value::String(if x > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        Value::from(x)
    }
}

/// The statistics as a JSON object, keys in [`STAT_KEYS`] order (the `bt backtest --json`
/// schema): timestamps ISO 8601, durations in seconds, NaN as null.
pub fn stats_json(stats: &Stats) -> Map<String, Value> {
    let mut m = Map::new();
    for (key, v) in stats.values() {
        let v = match v {
            StatValue::Time(t) => Value::String(time::format_iso(t)),
            StatValue::Duration(Some(d)) => num(d as f64 / 1e9),
            StatValue::Duration(None) => Value::Null,
            StatValue::Float(x) => num(x),
            StatValue::Count(n) => Value::from(n),
        };
        m.insert(key.to_owned(), v);
    }
    m
}

fn params_json(params: &Params) -> Value {
    let mut m = Map::new();
    for (k, v) in params {
        m.insert(
            k.clone(),
            match v {
                ParamValue::Int(i) => Value::from(*i),
                ParamValue::Float(x) => num(*x),
                ParamValue::Bool(b) => Value::from(*b),
                ParamValue::Str(s) => Value::from(s.clone()),
            },
        );
    }
    Value::Object(m)
}

/// One record as a JSON line (without the trailing newline).
pub fn encode_record(r: &SimRecord) -> String {
    let mut v = json!({
        "index": r.index,
        "id": r.id,
        "dataset": r.dataset,
        "strategy": r.strategy,
        "params": params_json(&r.params),
    });
    let m = v.as_object_mut().expect("a json object literal");
    match &r.outcome {
        SimOutcome::Ok(s) => {
            m.insert("status".into(), "ok".into());
            m.insert("stats".into(), Value::Object(stats_json(&s.stats)));
            m.insert("n_bars".into(), s.n_bars.into());
            m.insert("bar_steps".into(), s.bar_steps.into());
            m.insert("open_trades".into(), s.open_trades.into());
            m.insert("cancelled_orders".into(), s.cancelled_orders.into());
            m.insert("bust_bar".into(), s.bust_bar.map_or(Value::Null, Value::from));
        }
        SimOutcome::Failed(e) => {
            m.insert("status".into(), "failed".into());
            m.insert("error".into(), e.clone().into());
        }
    }
    v.to_string()
}

fn get_f64(v: &Value) -> Result<f64, String> {
    match v {
        Value::Null => Ok(f64::NAN),
        Value::String(s) if s == "inf" => Ok(f64::INFINITY),
        Value::String(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
        Value::Number(n) => n.as_f64().ok_or_else(|| format!("{n} is not a number")),
        other => Err(format!("expected a number, found {other}")),
    }
}

fn get_u64(m: &Map<String, Value>, key: &str) -> Result<u64, String> {
    m.get(key).and_then(Value::as_u64).ok_or_else(|| format!("missing or invalid {key:?}"))
}

fn get_str<'v>(m: &'v Map<String, Value>, key: &str) -> Result<&'v str, String> {
    m.get(key).and_then(Value::as_str).ok_or_else(|| format!("missing or invalid {key:?}"))
}

fn decode_stats(m: &Map<String, Value>) -> Result<Stats, String> {
    let field = |k: &str| m.get(k).ok_or_else(|| format!("stats lack {k:?}"));
    let f = |k: &str| field(k).and_then(|v| get_f64(v).map_err(|e| format!("{k}: {e}")));
    let t = |k: &str| {
        field(k)?
            .as_str()
            .and_then(time::parse_iso)
            .ok_or_else(|| format!("{k}: expected an ISO timestamp"))
    };
    let d = |k: &str| -> Result<Option<i64>, String> {
        let x = f(k)?;
        Ok(if x.is_nan() { None } else { Some((x * 1e9).round() as i64) })
    };
    let n_trades = field("n_trades")?.as_u64().ok_or("n_trades: expected a count")?;
    debug_assert_eq!(STAT_KEYS.len(), 32);
    Ok(Stats {
        start: t("start")?,
        end: t("end")?,
        duration: d("duration")?.ok_or("duration: expected seconds")?,
        exposure_time_pct: f("exposure_time_pct")?,
        equity_final: f("equity_final")?,
        equity_peak: f("equity_peak")?,
        commissions: f("commissions")?,
        return_pct: f("return_pct")?,
        buy_hold_return_pct: f("buy_hold_return_pct")?,
        return_ann_pct: f("return_ann_pct")?,
        volatility_ann_pct: f("volatility_ann_pct")?,
        cagr_pct: f("cagr_pct")?,
        sharpe_ratio: f("sharpe_ratio")?,
        sortino_ratio: f("sortino_ratio")?,
        calmar_ratio: f("calmar_ratio")?,
        alpha_pct: f("alpha_pct")?,
        beta: f("beta")?,
        max_drawdown_pct: f("max_drawdown_pct")?,
        avg_drawdown_pct: f("avg_drawdown_pct")?,
        max_drawdown_duration: d("max_drawdown_duration")?,
        avg_drawdown_duration: d("avg_drawdown_duration")?,
        n_trades,
        win_rate_pct: f("win_rate_pct")?,
        best_trade_pct: f("best_trade_pct")?,
        worst_trade_pct: f("worst_trade_pct")?,
        avg_trade_pct: f("avg_trade_pct")?,
        max_trade_duration: d("max_trade_duration")?,
        avg_trade_duration: d("avg_trade_duration")?,
        profit_factor: f("profit_factor")?,
        expectancy_pct: f("expectancy_pct")?,
        sqn: f("sqn")?,
        kelly_criterion: f("kelly_criterion")?,
    })
}

/// Parses one `results.jsonl` line.
pub fn decode_record(line: &str) -> Result<SimRecord, String> {
    let v: Value = serde_json::from_str(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let m = v.as_object().ok_or("not a JSON object")?;
    let mut params = Params::new();
    if let Some(p) = m.get("params").and_then(Value::as_object) {
        for (k, v) in p {
            let pv = match v {
                Value::Bool(b) => ParamValue::Bool(*b),
                Value::String(s) => ParamValue::Str(s.clone()),
                Value::Number(n) if n.is_i64() => ParamValue::Int(n.as_i64().unwrap_or_default()),
                Value::Number(n) => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
                Value::Null => ParamValue::Float(f64::NAN),
                other => return Err(format!("param {k}: unsupported value {other}")),
            };
            params.insert(k.clone(), pv);
        }
    }
    let outcome = match get_str(m, "status")? {
        "ok" => {
            let stats = decode_stats(m.get("stats").and_then(Value::as_object).ok_or("no stats")?)?;
            SimOutcome::Ok(Box::new(SimSummary {
                stats,
                n_bars: get_u64(m, "n_bars")?,
                bar_steps: get_u64(m, "bar_steps")?,
                open_trades: get_u64(m, "open_trades")?,
                cancelled_orders: get_u64(m, "cancelled_orders")?,
                bust_bar: m.get("bust_bar").and_then(Value::as_u64),
            }))
        }
        "failed" => SimOutcome::Failed(get_str(m, "error")?.to_owned()),
        other => return Err(format!("unknown status {other:?}")),
    };
    Ok(SimRecord {
        index: get_u64(m, "index")?,
        id: get_str(m, "id")?.to_owned(),
        dataset: get_str(m, "dataset")?.to_owned(),
        strategy: get_str(m, "strategy")?.to_owned(),
        params,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_stats(seed: f64) -> Stats {
        Stats {
            start: 1_092_873_600_000_000_000,
            end: 1_362_096_000_000_000_000,
            duration: 269_222_400_000_000_000,
            exposure_time_pct: 94.27374301675978 + seed,
            equity_final: 56263.51934000004,
            equity_peak: 56309.05934000004,
            commissions: 10563.951540000002,
            return_pct: 462.6351934000004,
            buy_hold_return_pct: 607.3703606212162,
            return_ann_pct: 22.477535903687684,
            volatility_ann_pct: 37.41,
            cagr_pct: 0.1 / 3.0,
            sharpe_ratio: 0.6007399729861899,
            sortino_ratio: f64::INFINITY,
            calmar_ratio: f64::NAN,
            alpha_pct: -1e-300,
            beta: 5e-324,
            max_drawdown_pct: -33.93159182905461,
            avg_drawdown_pct: -5.5,
            max_drawdown_duration: Some(86_400_000_000_000 * 584),
            avg_drawdown_duration: None,
            n_trades: 93,
            win_rate_pct: 40.0,
            best_trade_pct: 1.0,
            worst_trade_pct: -1.0,
            avg_trade_pct: 0.0,
            max_trade_duration: Some(1_500_000_000),
            avg_trade_duration: Some(86_400_000_000_000 * 32),
            profit_factor: 1.5,
            expectancy_pct: 0.3,
            sqn: 0.9,
            kelly_criterion: 0.05,
        }
    }

    #[test]
    fn records_round_trip_bit_for_bit() {
        let mut params = Params::new();
        params.insert("fast".into(), ParamValue::Int(10));
        params.insert("k".into(), ParamValue::Float(2.0));
        params.insert("long_only".into(), ParamValue::Bool(true));
        let ok = SimRecord {
            index: 7,
            id: "grid/goog/fast=10,k=2".into(),
            dataset: "goog".into(),
            strategy: "sma_cross".into(),
            params: params.clone(),
            outcome: SimOutcome::Ok(Box::new(SimSummary {
                stats: sample_stats(0.0),
                n_bars: 2148,
                bar_steps: 2128,
                open_trades: 1,
                cancelled_orders: 0,
                bust_bar: Some(5),
            })),
        };
        let line = encode_record(&ok);
        assert!(!line.contains('\n'));
        let back = decode_record(&line).unwrap();
        // NaN != NaN: compare through the encoding, which is exact.
        assert_eq!(encode_record(&back), line);
        let (SimOutcome::Ok(a), SimOutcome::Ok(b)) = (&ok.outcome, &back.outcome) else {
            panic!("outcome changed")
        };
        assert_eq!(a.stats.alpha_pct.to_bits(), b.stats.alpha_pct.to_bits());
        assert_eq!(a.stats.beta.to_bits(), b.stats.beta.to_bits());
        assert_eq!(a.stats.cagr_pct.to_bits(), b.stats.cagr_pct.to_bits());
        assert_eq!(b.stats.max_trade_duration, Some(1_500_000_000));
        assert_eq!(back.params, params);

        let failed =
            SimRecord { outcome: SimOutcome::Failed("boom \"quoted\"\nline".into()), ..ok };
        assert_eq!(decode_record(&encode_record(&failed)).unwrap(), failed);
        assert!(decode_record("{\"index\":1").is_err());
    }
}
