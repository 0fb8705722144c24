//! Loading the backtesting.py reference runs of `tests/parity/` and comparing statistics.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use bt_domain::{BacktestConfig, Bars, STAT_LABELS, StatValue, Stats, Trade, time::parse_iso};
use serde_json::Value;

/// Relative tolerance for floating-point statistics (counts, times and durations are exact).
pub const REL_TOL: f64 = 1e-9;

pub fn parity_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity")
}

/// One reference run.
pub struct Case {
    pub name: String,
    pub json: Value,
    pub bars: Bars,
    /// Closed trades from `NAME.trades.csv`.
    pub trades: Vec<Trade>,
    /// `Equity` column of `NAME.equity.csv`.
    pub equity: Vec<f64>,
}

impl Case {
    pub fn warmup(&self) -> usize {
        let w = &self.json["derived"]["first_trading_bar_for_buy_and_hold (=indicator warmup)"];
        w.as_u64().expect("derived warm-up bar") as usize
    }

    pub fn strategy(&self) -> &str {
        self.json["strategy"].as_str().expect("strategy name")
    }

    pub fn param(&self, key: &str) -> usize {
        self.json["params"][key].as_u64().expect("integer param") as usize
    }

    pub fn config(&self) -> BacktestConfig {
        let k = &self.json["backtest_kwargs"];
        let f = |key: &str| k[key].as_f64().unwrap_or_else(|| panic!("{}: kwarg {key}", self.name));
        let b =
            |key: &str| k[key].as_bool().unwrap_or_else(|| panic!("{}: kwarg {key}", self.name));
        let (commission_fixed, commission) = match &k["commission"] {
            Value::Array(pair) => (pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap()),
            v => (0.0, v.as_f64().unwrap()),
        };
        BacktestConfig {
            cash: f("cash"),
            commission,
            commission_fixed,
            spread: f("spread"),
            margin: f("margin"),
            trade_on_close: b("trade_on_close"),
            hedging: b("hedging"),
            exclusive_orders: b("exclusive_orders"),
            finalize_trades: b("finalize_trades"),
            ..BacktestConfig::default()
        }
    }
}

/// Every run with a `NAME.stats.json`, sorted by name.
pub fn all_cases() -> Vec<Case> {
    let runs = parity_dir().join("runs");
    let mut names: Vec<String> = fs::read_dir(&runs)
        .expect("tests/parity/runs exists")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".stats.json").map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut data_cache: BTreeMap<String, Bars> = BTreeMap::new();
    names.into_iter().map(|name| load_case(&name, &mut data_cache)).collect()
}

/// The named runs, in the given order (one data load per data set).
pub fn cases_named<S: AsRef<str>>(names: &[S]) -> Vec<Case> {
    let mut data_cache: BTreeMap<String, Bars> = BTreeMap::new();
    names.iter().map(|name| load_case(name.as_ref(), &mut data_cache)).collect()
}

/// One named run.
pub fn case_named(name: &str) -> Case {
    cases_named(&[name]).pop().expect("one case")
}

fn load_case(name: &str, data_cache: &mut BTreeMap<String, Bars>) -> Case {
    load_case_in(&parity_dir().join("runs"), name, data_cache)
}

/// One run of `dir` (`runs/` or `realism/`); its data path is relative to the parity directory.
pub fn load_case_in(runs: &Path, name: &str, data_cache: &mut BTreeMap<String, Bars>) -> Case {
    let json: Value =
        serde_json::from_str(&fs::read_to_string(runs.join(format!("{name}.stats.json"))).unwrap())
            .unwrap();
    let data = json["data"].as_str().expect("data path").to_owned();
    // Runs of realism/ name the data file relative to the generator's data directory.
    let data = if data.starts_with("data/") { data } else { format!("data/{data}") };
    let bars = data_cache
        .entry(data.clone())
        .or_insert_with(|| read_bars(&parity_dir().join(&data)))
        .clone();
    let trades = read_trades(&runs.join(format!("{name}.trades.csv")), &bars);
    let equity = read_equity(&runs.join(format!("{name}.equity.csv")));
    Case { name: name.to_owned(), json, bars, trades, equity }
}

/// Splits one CSV line, honouring double quotes (the trades header has `"Entry_SMA(C,10)"`).
fn split_csv(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for ch in line.chars() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

/// The data CSV: header `,Open,High,Low,Close,Volume`, ISO date(-time) index.
pub fn read_bars(path: &Path) -> Bars {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(",Open,High,Low,Close,Volume"), "{}", path.display());
    let mut cols: [Vec<f64>; 5] = Default::default();
    let mut ts = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let f = split_csv(line);
        ts.push(parse_iso(&f[0]).unwrap_or_else(|| panic!("bad time {}", f[0])));
        for (c, v) in cols.iter_mut().zip(&f[1..6]) {
            c.push(v.parse().unwrap());
        }
    }
    let [o, h, l, c, v] = cols;
    Bars::new(ts, o, h, l, c, v).unwrap()
}

/// `NAME.trades.csv` as closed [`Trade`]s (times from the data index).
pub fn read_trades(path: &Path, bars: &Bars) -> Vec<Trade> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = split_csv(lines.next().unwrap());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (size, eb, xb, ep, xp, sl, tp, pnl, comm, ret, tag) = (
        col("Size"),
        col("EntryBar"),
        col("ExitBar"),
        col("EntryPrice"),
        col("ExitPrice"),
        col("SL"),
        col("TP"),
        col("PnL"),
        col("Commission"),
        col("ReturnPct"),
        col("Tag"),
    );
    let ts = bars.timestamps();
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f = split_csv(line);
            let num = |k: usize| f[k].parse::<f64>().unwrap();
            let opt = |k: usize| if f[k].is_empty() { None } else { Some(num(k)) };
            let entry_bar: usize = f[eb].parse().unwrap();
            let exit_bar: usize = f[xb].parse().unwrap();
            Trade {
                size: num(size),
                entry_bar,
                exit_bar: Some(exit_bar),
                entry_price: num(ep),
                exit_price: num(xp),
                sl: opt(sl),
                tp: opt(tp),
                pnl: num(pnl),
                commission: num(comm),
                return_frac: num(ret),
                entry_time: ts[entry_bar],
                exit_time: Some(ts[exit_bar]),
                tag: if f[tag].is_empty() { None } else { Some(f[tag].parse().unwrap()) },
            }
        })
        .collect()
}

pub fn read_equity(path: &Path) -> Vec<f64> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = split_csv(lines.next().unwrap());
    let k = header.iter().position(|h| h == "Equity").unwrap();
    lines.filter(|l| !l.is_empty()).map(|l| split_csv(l)[k].parse().unwrap()).collect()
}

/// Worst relative error per statistic label, over the cases compared so far.
pub type Worst = BTreeMap<&'static str, f64>;

/// Compares every statistic with the reference JSON; returns one line per mismatch.
pub fn compare_stats(ours: &Stats, reference: &Value, worst: &mut Worst) -> Vec<String> {
    let stats = &reference["stats"];
    let mut diffs = Vec::new();
    for ((key, value), label) in ours.values().into_iter().zip(STAT_LABELS) {
        let r = &stats[label];
        if key == "commissions" && r.is_null() {
            // backtesting.py omits the key when the sum is 0.
            if ours.commissions_reported() {
                diffs.push(format!("{label}: ours {}, reference absent (0)", ours.commissions));
            }
            continue;
        }
        let mismatch = match value {
            StatValue::Time(t) => {
                let expected = r["timestamp"].as_str().and_then(parse_iso);
                (expected != Some(t)).then(|| format!("ours {t} ns, reference {r}"))
            }
            StatValue::Duration(d) => {
                let expected = r.get("ns").and_then(Value::as_i64);
                (expected != d).then(|| format!("ours {d:?} ns, reference {r}"))
            }
            StatValue::Count(n) => {
                (r.as_u64() != Some(n)).then(|| format!("ours {n}, reference {r}"))
            }
            StatValue::Float(x) => {
                let expected = reference_float(r);
                let rel = rel_err(x, expected);
                let w = worst.entry(label).or_insert(0.0);
                if rel > *w || rel.is_nan() {
                    *w = rel;
                }
                (rel.is_nan() || rel > REL_TOL)
                    .then(|| format!("ours {x:?}, reference {expected:?} (rel {rel:.3e})"))
            }
        };
        if let Some(m) = mismatch {
            diffs.push(format!("{label}: {m}"));
        }
    }
    diffs
}

/// A float statistic of a stats JSON: a number, `null` (NaN), or `"inf"` / `"-inf"` (JSON has
/// no infinity; backtesting.py's Sortino is `inf` when no period return is negative).
pub fn reference_float(r: &Value) -> f64 {
    match r {
        Value::String(s) if s == "inf" || s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-inf" || s == "-Infinity" => f64::NEG_INFINITY,
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::Null => f64::NAN,
        v => v.as_f64().unwrap_or_else(|| panic!("not a float statistic: {v}")),
    }
}

/// Relative error; 0 when both are NaN or equal (incl. both infinite), NaN when only one is NaN.
pub fn rel_err(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        0.0
    } else if a.is_nan() || b.is_nan() || a.is_infinite() || b.is_infinite() {
        f64::NAN
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

/// Runs `check` on every case, prints the worst relative error per statistic, and fails with
/// every differing case listed (one data-driven helper for all parity tests).
pub fn check_all(
    cases: &[Case],
    what: &str,
    check: impl Fn(&Case, &mut Worst) -> Result<(), String>,
) {
    let mut worst = Worst::new();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check(c, &mut worst).err().map(|e| format!("{}:\n    {e}", c.name)))
        .collect();
    println!("worst relative error per statistic over {} {what}:", cases.len());
    for (label, rel) in &worst {
        println!("  {label:<24} {rel:.3e}");
    }
    assert!(
        failures.is_empty(),
        "{} of {} runs differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
