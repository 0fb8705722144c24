//! The `results.jsonl` line format: one JSON object per finished simulation.
//!
//! ```text
//! {"index":0,"id":"sma-10-20","dataset":"goog","strategy":"sma_cross",
//!  "params":{"fast":10,"long_only":false,"slow":20},"status":"ok",
//!  "stats":{"start":"2004-08-19T00:00:00",...,"kelly_criterion":0.05},
//!  "n_bars":2148,"bar_steps":2128,"open_trades":1,"cancelled_orders":0,"bust_bar":null,
//!  "returns":{"t":2147,"sr":0.04,"skew":0.6,"kurtosis":13.9,"psr":0.97,"blocks":[[s,q],...]}}
//! {"index":1,"id":"bad","dataset":"goog","strategy":"sma_cross","params":{...},
//!  "status":"failed","error":"fast must be < slow"}
//! ```
//! Stats keys follow `bt_domain::STAT_KEYS`; timestamps are ISO 8601, durations seconds, NaN
//! `null`, infinities the strings `"inf"`/`"-inf"`. Floats are written in shortest round-trip
//! form, so decoding gives back the same bits.

use bt_domain::{
    ParamValue, Params, ReturnStats, STAT_KEYS, SimOutcome, SimRecord, SimSummary, StatValue,
    Stats, time,
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

/// The statistics as the text of a JSON object, keys in [`STAT_KEYS`] order (the
/// `bt backtest --json` schema, docs/json-output.md): timestamps ISO 8601, durations in
/// seconds, NaN as null, infinities `"inf"`/`"-inf"`.
pub fn stats_json(stats: &Stats) -> String {
    Value::Object(stats_map(stats)).to_string()
}

fn stats_map(stats: &Stats) -> Map<String, Value> {
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
            m.insert("stats".into(), Value::Object(stats_map(&s.stats)));
            m.insert("n_bars".into(), s.n_bars.into());
            m.insert("bar_steps".into(), s.bar_steps.into());
            m.insert("open_trades".into(), s.open_trades.into());
            m.insert("cancelled_orders".into(), s.cancelled_orders.into());
            m.insert("bust_bar".into(), s.bust_bar.map_or(Value::Null, Value::from));
            let r = &s.returns;
            let blocks: Vec<Value> =
                r.blocks.iter().map(|[a, b]| json!([num(*a), num(*b)])).collect();
            m.insert(
                "returns".into(),
                json!({"t": r.t, "sr": num(r.sr), "skew": num(r.skew), "kurtosis": num(r.kurtosis),
                       "psr": num(r.psr), "blocks": blocks}),
            );
        }
        SimOutcome::Failed(e) => {
            m.insert("status".into(), "failed".into());
            m.insert("error".into(), e.clone().into());
        }
    }
    v.to_string()
}

/// A number as written by [`encode_record`]: a JSON number, `null` (NaN) or `"inf"`/`"-inf"`.
#[derive(Debug, Clone, Copy)]
struct Num(f64);

impl<'de> serde::Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number, null, \"inf\" or \"-inf\"")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_unit<E>(self) -> Result<Num, E> {
                Ok(Num(f64::NAN))
            }
            fn visit_none<E>(self) -> Result<Num, E> {
                Ok(Num(f64::NAN))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Num, E> {
                match v {
                    "inf" => Ok(Num(f64::INFINITY)),
                    "-inf" => Ok(Num(f64::NEG_INFINITY)),
                    _ => Err(E::custom(format!("expected a number, found {v:?}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The `stats` object, typed (decoding through `serde_json::Value` cost 50 µs a line).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsLine {
    start: String,
    end: String,
    duration: Num,
    exposure_time_pct: Num,
    equity_final: Num,
    equity_peak: Num,
    commissions: Num,
    return_pct: Num,
    buy_hold_return_pct: Num,
    return_ann_pct: Num,
    volatility_ann_pct: Num,
    cagr_pct: Num,
    sharpe_ratio: Num,
    sortino_ratio: Num,
    calmar_ratio: Num,
    alpha_pct: Num,
    beta: Num,
    max_drawdown_pct: Num,
    avg_drawdown_pct: Num,
    max_drawdown_duration: Num,
    avg_drawdown_duration: Num,
    n_trades: u64,
    win_rate_pct: Num,
    best_trade_pct: Num,
    worst_trade_pct: Num,
    avg_trade_pct: Num,
    max_trade_duration: Num,
    avg_trade_duration: Num,
    profit_factor: Num,
    expectancy_pct: Num,
    sqn: Num,
    kelly_criterion: Num,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    index: u64,
    id: String,
    dataset: String,
    strategy: String,
    #[serde(default)]
    params: Map<String, Value>,
    status: String,
    stats: Option<StatsLine>,
    n_bars: Option<u64>,
    bar_steps: Option<u64>,
    open_trades: Option<u64>,
    cancelled_orders: Option<u64>,
    bust_bar: Option<u64>,
    returns: Option<ReturnsLine>,
    error: Option<String>,
}

/// The `returns` object (absent in lines written before it existed).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnsLine {
    t: u64,
    sr: Num,
    skew: Num,
    kurtosis: Num,
    psr: Num,
    blocks: Vec<[Num; 2]>,
}

fn decode_stats(s: StatsLine) -> Result<Stats, String> {
    let t = |k: &str, v: &str| {
        time::parse_iso(v).ok_or_else(|| format!("{k}: expected an ISO timestamp, found {v:?}"))
    };
    // Durations are seconds; whole seconds convert back to nanoseconds exactly.
    let d = |x: Num| if x.0.is_nan() { None } else { Some((x.0 * 1e9).round() as i64) };
    debug_assert_eq!(STAT_KEYS.len(), 32);
    Ok(Stats {
        start: t("start", &s.start)?,
        end: t("end", &s.end)?,
        duration: d(s.duration).ok_or("duration: expected seconds")?,
        exposure_time_pct: s.exposure_time_pct.0,
        equity_final: s.equity_final.0,
        equity_peak: s.equity_peak.0,
        commissions: s.commissions.0,
        return_pct: s.return_pct.0,
        buy_hold_return_pct: s.buy_hold_return_pct.0,
        return_ann_pct: s.return_ann_pct.0,
        volatility_ann_pct: s.volatility_ann_pct.0,
        cagr_pct: s.cagr_pct.0,
        sharpe_ratio: s.sharpe_ratio.0,
        sortino_ratio: s.sortino_ratio.0,
        calmar_ratio: s.calmar_ratio.0,
        alpha_pct: s.alpha_pct.0,
        beta: s.beta.0,
        max_drawdown_pct: s.max_drawdown_pct.0,
        avg_drawdown_pct: s.avg_drawdown_pct.0,
        max_drawdown_duration: d(s.max_drawdown_duration),
        avg_drawdown_duration: d(s.avg_drawdown_duration),
        n_trades: s.n_trades,
        win_rate_pct: s.win_rate_pct.0,
        best_trade_pct: s.best_trade_pct.0,
        worst_trade_pct: s.worst_trade_pct.0,
        avg_trade_pct: s.avg_trade_pct.0,
        max_trade_duration: d(s.max_trade_duration),
        avg_trade_duration: d(s.avg_trade_duration),
        profit_factor: s.profit_factor.0,
        expectancy_pct: s.expectancy_pct.0,
        sqn: s.sqn.0,
        kelly_criterion: s.kelly_criterion.0,
    })
}

/// Parses one `results.jsonl` line.
pub fn decode_record(line: &str) -> Result<SimRecord, String> {
    let l: Line = serde_json::from_str(line).map_err(|e| format!("not a result line: {e}"))?;
    let mut params = Params::new();
    for (k, v) in l.params {
        let pv = match v {
            Value::Bool(b) => ParamValue::Bool(b),
            Value::String(s) => ParamValue::Str(s),
            Value::Number(n) if n.is_i64() => ParamValue::Int(n.as_i64().unwrap_or_default()),
            Value::Number(n) => ParamValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            Value::Null => ParamValue::Float(f64::NAN),
            other => return Err(format!("param {k}: unsupported value {other}")),
        };
        params.insert(k, pv);
    }
    let missing = |k: &str| format!("missing or invalid {k:?}");
    let outcome = match l.status.as_str() {
        "ok" => SimOutcome::Ok(Box::new(SimSummary {
            stats: decode_stats(l.stats.ok_or("no stats")?)?,
            n_bars: l.n_bars.ok_or_else(|| missing("n_bars"))?,
            bar_steps: l.bar_steps.ok_or_else(|| missing("bar_steps"))?,
            open_trades: l.open_trades.ok_or_else(|| missing("open_trades"))?,
            cancelled_orders: l.cancelled_orders.ok_or_else(|| missing("cancelled_orders"))?,
            bust_bar: l.bust_bar,
            returns: match l.returns {
                Some(r) => ReturnStats {
                    t: r.t,
                    sr: r.sr.0,
                    skew: r.skew.0,
                    kurtosis: r.kurtosis.0,
                    psr: r.psr.0,
                    blocks: r.blocks.iter().map(|[a, b]| [a.0, b.0]).collect(),
                },
                None => ReturnStats::missing(),
            },
        })),
        "failed" => SimOutcome::Failed(l.error.ok_or_else(|| missing("error"))?),
        other => return Err(format!("unknown status {other:?}")),
    };
    Ok(SimRecord {
        index: l.index,
        id: l.id,
        dataset: l.dataset,
        strategy: l.strategy,
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
                returns: ReturnStats {
                    t: 2147,
                    sr: 0.04,
                    skew: f64::NAN,
                    kurtosis: 13.5,
                    psr: 0.97,
                    blocks: vec![[1e-3, 2e-5], [-0.5, f64::INFINITY]],
                },
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
