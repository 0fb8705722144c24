#!/usr/bin/env python3
"""Generate backtesting.py 0.6.6 reference fixtures for the bt parity tests.

Run from this directory with the interpreter that has backtesting.py 0.6.6 and pandas installed:

    /tmp/bpy/bin/python gen_fixtures.py

It writes only below this directory:

* ``data/EURUSD_H1.csv``, ``data/BTC_M1.csv``, ``data/DAILY_WKND.csv``: synthetic OHLCV data sets
  (``data/GOOG.csv`` is the sample data that ships with backtesting.py and is only read);
* ``runs/NAME.stats.json``, ``runs/NAME.trades.csv``, ``runs/NAME.equity.csv``: one reference run
  each, in the layout of the four hand-made anchor runs (``goog_*``) copied from ../shared/parity;
* ``runs/NAME.script.json``: the action list of each scripted run (schema in README.md);
* ``indicators/goog_indicators.csv``: pandas indicator references on GOOG;
* numeric extremes: ``data/GOOG_MICRO.csv`` .. ``data/INTRADAY_1DAY.csv`` (prices near 0 and
  1e12, flat prices, volume 0, one day of minute bars), their runs (also ``runs/NAME.repr.txt``,
  backtesting.py's printed table) and ``indicators/<data>_indicators.csv``;
* ``manifest.json``: every run (anchors included), its data, strategy, settings and files, and the
  event coverage of the scripted runs.

Everything is deterministic: the data and the scripts come from ``numpy.random.default_rng`` with
fixed seeds, and every run reads its data back from the CSV it was written to, so the Rust side sees
exactly the same floats. Before writing anything new the script re-runs the four anchor runs and
checks that its serializer reproduces their files byte for byte (stats JSON minus the fields added
here), so all fixtures share one format.

The event coverage of the scripted runs is measured with a read-only probe that wraps four private
methods of ``backtesting.backtesting._Broker`` (each wrapper calls the original with the same
arguments and returns its result; it only inspects the caller's frame to classify the fill).
"""

from __future__ import annotations

import json
import math
import platform
import sys
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

import backtesting
from backtesting import Backtest, Strategy
from backtesting import backtesting as bt_core
from backtesting._util import _data_period
from backtesting.lib import crossover
from backtesting.test import SMA

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "data"
RUNS_DIR = HERE / "runs"
IND_DIR = HERE / "indicators"

VERSIONS = {
    "backtesting": backtesting.__version__,
    "pandas": pd.__version__,
    "numpy": np.__version__,
    "python": platform.python_version(),
}

# Keys of the anchor layout; everything else in a stats JSON was added by this generator.
ANCHOR_TOP_KEYS = ["run", "data", "strategy", "params", "backtest_kwargs", "versions", "warnings",
                   "stats_keys_in_order", "stats", "derived"]
ANCHOR_DERIVED_KEYS = ["n_bars", "first_trading_bar_for_buy_and_hold (=indicator warmup)",
                       "first_next_call_bar (=1+warmup)", "data_period_median_last_100",
                       "n_open_trades_at_end_not_in_stats", "open_trades_at_end", "final_cash"]

ANCHORS = [
    # name, strategy class name, params, backtest kwargs (as in ../shared/parity)
    ("goog_smacross_10_20_comm002", "SmaCross", {"n1": 10, "n2": 20}, {"commission": 0.002}),
    ("goog_smacross_10_20_comm002_finalize", "SmaCross", {"n1": 10, "n2": 20},
     {"commission": 0.002, "finalize_trades": True}),
    ("goog_smacross_20_50_comm0", "SmaCross", {"n1": 20, "n2": 50}, {"commission": 0.0}),
    ("goog_longonly_10_20_comm002", "SmaCrossLongOnly", {"n1": 10, "n2": 20},
     {"commission": 0.002}),
]


# ---------------------------------------------------------------------------------------------
# Data sets
# ---------------------------------------------------------------------------------------------

def fmt_num(x: float) -> str:
    """Shortest round-trip repr of a float, without a trailing '.0' (the GOOG.csv style).

    Where repr would use an exponent (below 1e-4: the micro-price data sets) the same shortest
    digits are written positionally (``0.0000012345``), which every CSV reader parses.
    """
    s = repr(float(x))
    assert "inf" not in s and "nan" not in s, s
    if "e" in s:
        s = np.format_float_positional(float(x), unique=True, trim="-")
        assert float(s) == float(x) and "e" not in s, (x, s)
    return s[:-2] if s.endswith(".0") else s


def write_ohlcv(path: Path, index: pd.DatetimeIndex, ticks: dict, tick: int, intraday: bool):
    """Write integer-tick OHLC (price = ticks / tick) and integer volume as a GOOG-style CSV."""
    o, h, l, c, v = (np.asarray(ticks[k], dtype=np.int64) for k in ("O", "H", "L", "C", "V"))
    assert (o > 0).all() and (l > 0).all(), "prices must be > 0"
    assert (h >= np.maximum(o, c)).all() and (l <= np.minimum(o, c)).all(), "bad high/low"
    fmt = "%Y-%m-%d %H:%M:%S" if intraday else "%Y-%m-%d"
    lines = [",Open,High,Low,Close,Volume"]
    for t, *row in zip(index.strftime(fmt), o, h, l, c, v):
        lines.append(",".join([t] + [fmt_num(x / tick) for x in row[:4]] + [str(int(row[4]))]))
    path.write_text("\n".join(lines) + "\n")
    # Round-trip check: the CSV must give back exactly these floats.
    df = read_data(path)
    for k, col in zip(("O", "H", "L", "C"), ("Open", "High", "Low", "Close")):
        assert np.array_equal(df[col].values, np.asarray(ticks[k]) / tick), (path, col)
    assert (df.index == index).all()
    assert (df.High >= np.maximum(df.Open, df.Close)).all()
    assert (df.Low <= np.minimum(df.Open, df.Close)).all()
    return df


def read_data(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, index_col=0, parse_dates=True)


def make_eurusd_h1() -> Path:
    """~3000 hourly bars, FX week Sunday 22:00 .. Friday 21:00 (UTC-like), random walk near 1.10.

    Prices are in ticks of 1e-5. Open = previous close plus a 0..2 tick jitter on most bars and a
    N(0, 150 ticks) gap on the Sunday re-open. Volatility is higher 07:00-17:00. A weak pull to
    1.10 keeps the series in range, and a slow sine drift gives trends for the SMA crossovers.
    """
    rng = np.random.default_rng(20240101)
    hours = pd.date_range("2023-01-01 22:00", periods=30 * 7 * 24, freq="h")  # 2023-01-01 = Sun
    dow, hr = hours.day_of_week, hours.hour  # Mon=0 .. Sun=6
    keep = ((dow == 6) & (hr >= 22)) | (dow <= 3) | ((dow == 4) & (hr <= 21))
    index = pd.DatetimeIndex(hours[keep][:3000])
    n = len(index)
    o, h, l, c = (np.zeros(n, dtype=np.int64) for _ in range(4))
    prev_close = 110000
    for i in range(n):
        t = index[i]
        if i == 0:
            op = prev_close
        elif t.day_of_week == 6 and t.hour == 22:
            op = prev_close + int(round(rng.normal(0, 150)))
        else:
            op = prev_close + int(rng.choice([0, 0, 0, 1, -1, 2, -2]))
        sigma = 110.0 if 7 <= t.hour <= 17 else 55.0
        drift = -0.004 * (op - 110000) + 12.0 * math.sin(i / 180.0)
        cl = op + int(round(drift + rng.normal(0, sigma)))
        hi = max(op, cl) + int(abs(round(rng.normal(0, 0.7 * sigma))))
        lo = min(op, cl) - int(abs(round(rng.normal(0, 0.7 * sigma))))
        o[i], h[i], l[i], c[i] = op, hi, lo, cl
        prev_close = cl
    v = rng.integers(400, 6000, size=n)
    path = DATA_DIR / "EURUSD_H1.csv"
    write_ohlcv(path, index, {"O": o, "H": h, "L": l, "C": c, "V": v}, 100000, intraday=True)
    return path


def make_btc_m1() -> Path:
    """60 monthly bars (month starts 2019-01 .. 2023-12), a crypto-like boom and a -90 % bust.

    Prices in cents. Bull market (about +7 %/month, 10 % monthly noise) for 36 months, a
    correction (months 36-39, about -7 %/month), a last rally (months 40-44, about +6 %/month)
    to the peak, a 45 % crash in month 45, then a bleed to about -90 % from the peak. Open =
    previous close (a 24/7 market). A long entered on the last golden cross goes bust at 5x.
    """
    rng = np.random.default_rng(20190101)
    index = pd.date_range("2019-01-01", periods=60, freq="MS")
    n = len(index)
    logret = np.empty(n)
    for i in range(n):
        if i < 36:
            logret[i] = 0.07 + rng.normal(0, 0.10)
        elif i < 40:
            logret[i] = -0.07 + rng.normal(0, 0.03)
        elif i < 45:
            logret[i] = 0.06 + rng.normal(0, 0.03)
        elif i == 45:
            logret[i] = math.log(0.55)
        else:
            logret[i] = -0.11 + rng.normal(0, 0.08)
    close = 3800.0 * np.exp(np.cumsum(logret))
    c = np.round(close * 100).astype(np.int64)
    o = np.empty(n, dtype=np.int64)
    o[0] = 380000  # 3800.00
    o[1:] = c[:-1]
    span = np.abs(rng.normal(0, 0.06, size=(2, n)))
    h = np.maximum(o, c) + np.round(np.maximum(o, c) * span[0]).astype(np.int64)
    l = np.minimum(o, c) - np.round(np.minimum(o, c) * np.minimum(span[1], 0.5)).astype(np.int64)
    v = rng.integers(10_000, 500_000, size=n)
    path = DATA_DIR / "BTC_M1.csv"
    write_ohlcv(path, index, {"O": o, "H": h, "L": l, "C": c, "V": v}, 100, intraday=False)
    return path


def make_daily_wknd() -> Path:
    """800 daily bars, every calendar day (crypto-style 7-day week), prices in cents near 100.

    Regime-switching drift (trends for the crossovers), 3 % daily noise; the open is the previous
    close on half of the bars and gaps by N(0, 1 %) on the others (so SL/TP can be gapped).
    """
    rng = np.random.default_rng(20210101)
    index = pd.date_range("2021-01-01", periods=800, freq="D")
    n = len(index)
    o, h, l, c = (np.zeros(n, dtype=np.int64) for _ in range(4))
    prev = 10000
    drift = 0.0
    for i in range(n):
        if i % 60 == 0:
            drift = rng.normal(0, 0.004)
        op = prev if rng.random() < 0.5 else int(round(prev * (1 + rng.normal(0, 0.01))))
        cl = int(round(op * math.exp(drift + rng.normal(0, 0.03))))
        cl = max(cl, 100)
        hi = max(op, cl) + int(round(max(op, cl) * abs(rng.normal(0, 0.012))))
        lo = min(op, cl) - int(round(min(op, cl) * min(abs(rng.normal(0, 0.012)), 0.5)))
        o[i], h[i], l[i], c[i] = op, hi, lo, cl
        prev = cl
    v = rng.integers(1_000, 90_000, size=n)
    path = DATA_DIR / "DAILY_WKND.csv"
    write_ohlcv(path, index, {"O": o, "H": h, "L": l, "C": c, "V": v}, 100, intraday=False)
    return path


# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------

class SmaCross(Strategy):
    """backtesting.py's canonical example: always in the market, flips on each crossover."""
    n1 = 10
    n2 = 20

    def init(self):
        close = self.data.Close
        self.sma1 = self.I(SMA, close, self.n1)
        self.sma2 = self.I(SMA, close, self.n2)

    def next(self):
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


class SmaCrossLongOnly(Strategy):
    """Golden cross: close, then buy. Death cross: close. Never short."""
    n1 = 10
    n2 = 20

    def init(self):
        close = self.data.Close
        self.sma1 = self.I(SMA, close, self.n1)
        self.sma2 = self.I(SMA, close, self.n2)

    def next(self):
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()


class Script(Strategy):
    """Replays a JSON action list (schema in README.md). No indicators, so next() starts at bar 1.

    ``results`` (one entry per action, in action order) records what happened: "done",
    "skipped_error" (ValueError/AssertionError raised by the call, state unchanged),
    "no_target" (trade/order index out of range) or "not_reached" (bar never got a next() call).
    """
    actions: list = []
    results: list = []

    def init(self):
        self._by_bar = {}
        for k, a in enumerate(self.actions):
            self._by_bar.setdefault(a["bar"], []).append(k)
        self.results[:] = ["not_reached"] * len(self.actions)

    def next(self):
        i = len(self.data) - 1
        for k in self._by_bar.get(i, ()):
            self.results[k] = self._do(self.actions[k])

    def _do(self, a) -> str:
        close = float(self.data.Close[-1])

        def px(rel):
            return None if rel is None else close * rel

        op = a["op"]
        try:
            if op in ("buy", "sell"):
                kw = dict(limit=px(a["limit"]), stop=px(a["stop"]), sl=px(a["sl"]), tp=px(a["tp"]),
                          tag=a["tag"])
                if a["size"] is not None:
                    kw["size"] = float(a["size"])
                (self.buy if op == "buy" else self.sell)(**kw)
            elif op == "close":
                self.position.close(a["portion"])
            elif op == "trade_close":
                if a["trade"] >= len(self.trades):
                    return "no_target"
                self.trades[a["trade"]].close(a["portion"])
            elif op in ("trade_sl", "trade_tp"):
                if a["trade"] >= len(self.trades):
                    return "no_target"
                trade = self.trades[a["trade"]]
                if op == "trade_sl":
                    trade.sl = px(a["rel"])
                else:
                    trade.tp = px(a["rel"])
            elif op == "cancel":
                if a["order"] >= len(self.orders):
                    return "no_target"
                self.orders[a["order"]].cancel()
            else:
                raise KeyError(op)
        except (ValueError, AssertionError):
            return "skipped_error"
        return "done"


STRATEGIES = {"SmaCross": SmaCross, "SmaCrossLongOnly": SmaCrossLongOnly, "Script": Script}


# ---------------------------------------------------------------------------------------------
# Coverage probe (observation only)
# ---------------------------------------------------------------------------------------------

def _frame_named(start, *names):
    f = start
    while f is not None and f.f_code.co_name not in names:
        f = f.f_back
    return f


class Probe:
    """Counts fill events by wrapping private _Broker methods; never changes arguments or results."""

    def __init__(self):
        self.events = Counter()
        self._orig = {}
        self._excl_orders = {}  # id -> order (kept alive so ids are not reused)

    def __enter__(self):
        B = bt_core._Broker
        self._orig = {k: getattr(B, k) for k in ("_open_trade", "_close_trade", "new_order")}
        probe = self
        orig_open, orig_close, orig_new = (self._orig[k] for k in
                                           ("_open_trade", "_close_trade", "new_order"))

        def _open_trade(broker, price, size, sl, tp, time_index, tag):
            f = _frame_named(sys._getframe(1), "_process_orders")
            order, stop_price = f.f_locals["order"], f.f_locals["stop_price"]
            kind = ("stop_limit" if stop_price and order.limit else "stop" if stop_price else
                    "limit" if order.limit else "market")
            probe.events[f"entry_fill_{kind}"] += 1
            if kind == "market" and broker._trade_on_close and time_index == broker._i - 1:
                probe.events["trade_on_close_fill"] += 1
            if probe._in_finalize():
                probe.events["finalize_entry_fill"] += 1
            res = orig_open(broker, price, size, sl, tp, time_index, tag)
            if any(t.is_long != (size > 0) for t in broker.trades):
                probe.events["hedged_opposite_trades_open"] += 1
            return res

        def _close_trade(broker, trade, price, time_index):
            caller = sys._getframe(1)
            if caller.f_code.co_name == "next":
                probe.events["out_of_money_close"] += 1
                return orig_close(broker, trade, price, time_index)
            partial = (caller.f_code.co_name == "_reduce_trade"
                       and caller.f_locals["close_trade"] is not caller.f_locals["trade"])
            f = _frame_named(caller, "_process_orders")
            order, stop_price = f.f_locals["order"], f.f_locals["stop_price"]
            parent = order.parent_trade
            if parent is None:
                probe.events["netting_close_partial" if partial else "netting_close"] += 1
            elif order is parent._sl_order:
                probe.events["sl_hit"] += 1
                if price != stop_price:
                    probe.events["sl_gapped_at_open"] += 1
                if parent.entry_bar == time_index:
                    probe.events["sl_tp_hit_on_entry_bar"] += 1
            elif order is parent._tp_order:
                probe.events["tp_hit"] += 1
                if price != order.limit:
                    probe.events["tp_gapped_at_open"] += 1
                if parent.entry_bar == time_index:
                    probe.events["sl_tp_hit_on_entry_bar"] += 1
            else:
                probe.events["close_order_partial" if partial else "close_order_full"] += 1
                if id(order) in probe._excl_orders:
                    probe.events["exclusive_orders_close"] += 1
                if probe._in_finalize():
                    probe.events["finalize_close"] += 1
                if broker._trade_on_close and time_index == broker._i - 1:
                    probe.events["trade_on_close_fill"] += 1
            return orig_close(broker, trade, price, time_index)

        def new_order(broker, size, limit=None, stop=None, sl=None, tp=None, tag=None, *,
                      trade=None):
            before = list(broker.orders)
            res = orig_new(broker, size, limit, stop, sl, tp, tag, trade=trade)
            if trade is None and broker._exclusive_orders:
                cancelled = [o for o in before if o not in broker.orders]
                probe.events["exclusive_orders_cancelled_pending"] += len(cancelled)
                for o in broker.orders:
                    if o not in before and o is not res and o.parent_trade is not None:
                        probe._excl_orders[id(o)] = o
            return res

        B._open_trade, B._close_trade, B.new_order = _open_trade, _close_trade, new_order
        return self

    @staticmethod
    def _in_finalize() -> bool:
        f = _frame_named(sys._getframe(1), "next")
        while f is not None and f.f_code.co_name == "next":
            f = f.f_back
        return f is not None and f.f_code.co_name == "try_"

    def __exit__(self, *exc):
        for k, v in self._orig.items():
            setattr(bt_core._Broker, k, v)
        return False


# ---------------------------------------------------------------------------------------------
# Running and serializing
# ---------------------------------------------------------------------------------------------

def full_kwargs(kwargs: dict) -> dict:
    out = {"cash": 10000, "spread": 0.0, "commission": 0.0, "margin": 1.0,
           "trade_on_close": False, "hedging": False, "exclusive_orders": False,
           "finalize_trades": False}
    out.update(kwargs)
    return out


def json_kwargs(kwargs: dict) -> dict:
    out = dict(kwargs)
    if isinstance(out["commission"], tuple):
        out["commission"] = list(out["commission"])
    return out


def td_json(td):
    if td is None or td is pd.NaT or (isinstance(td, float) and math.isnan(td)):
        return None
    return {"timedelta": str(td), "seconds": td.total_seconds(), "ns": int(td.as_unit("ns").value)}


def stat_json(v):
    if isinstance(v, pd.Timestamp):
        return {"timestamp": v.isoformat()}
    if isinstance(v, pd.Timedelta):
        return td_json(v)
    if v is pd.NaT or v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        if math.isinf(v):  # JSON has no infinity: "inf" / "-inf" (Sortino with no downside)
            return "inf" if v > 0 else "-inf"
        return None if math.isnan(v) else float(v)
    raise TypeError(f"unexpected stat type {type(v)}")


def num_or_none(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def run_one(name, data_rel, strategy, params, kwargs, script_rel=None, actions=None,
            probe=None):
    """Run one backtest and return (stats_json_dict, trades_csv_text, equity_csv_text)."""
    df = read_data(HERE / data_rel)
    cls = STRATEGIES[strategy]
    kw = full_kwargs(kwargs)
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bt = Backtest(df, cls, **kw)
        run_params = dict(params)
        if strategy == "Script":
            run_params = {"actions": actions, "results": results}
        if probe is not None:
            with probe:
                stats = bt.run(**run_params)
        else:
            stats = bt.run(**run_params)
    warn_msgs = [str(w.message) for w in caught if w.category is UserWarning]

    strat = stats["_strategy"]
    broker = strat._broker
    keys = [k for k in stats.index if not k.startswith("_")]
    equity = stats["_equity_curve"]["Equity"].values
    idx = df.index
    warmup = int(bt_core._indicator_warmup_nbars(strat))
    period = _data_period(idx)
    freq_days = period.days
    weekend_frac = float(idx.day_of_week.to_series().between(5, 6).mean())
    have_weekends = weekend_frac > 2 / 7 * .6
    ann = (52 if freq_days == 7 else 12 if freq_days == 31 else 1 if freq_days == 365 else
           (365 if have_weekends else 252))
    rule = {7: "W", 31: "ME", 365: "YE"}.get(freq_days, "D")
    nonpos = np.nonzero(equity <= 0)[0]

    derived = {
        "n_bars": len(df),
        "first_trading_bar_for_buy_and_hold (=indicator warmup)": warmup,
        "first_next_call_bar (=1+warmup)": warmup + 1,
        "data_period_median_last_100": td_json(period),
        "n_open_trades_at_end_not_in_stats": len(broker.trades),
        "open_trades_at_end": [{"size": int(t.size), "entry_bar": int(t.entry_bar),
                                "entry_price": float(t.entry_price)} for t in broker.trades],
        "final_cash": float(broker._cash),
        # Added by gen_fixtures.py (not in the anchor files):
        "annual_trading_days": ann,
        "have_weekends": bool(have_weekends),
        "weekend_bar_fraction": weekend_frac,
        "resample_rule": rule,
        "out_of_money_bar": int(nonpos[0]) if len(nonpos) else None,
        "n_closed_trades": len(broker.closed_trades),
        "open_trades_at_end_detail": [
            {"size": int(t.size), "entry_bar": int(t.entry_bar), "entry_price": float(t.entry_price),
             "sl": num_or_none(t.sl), "tp": num_or_none(t.tp), "tag": t.tag}
            for t in broker.trades],
        "open_orders_at_end": [
            {"size": float(o.size), "limit": num_or_none(o.limit), "stop": num_or_none(o.stop),
             "sl": num_or_none(o.sl), "tp": num_or_none(o.tp), "tag": o.tag,
             "kind": ("sl" if o.parent_trade is not None and o is o.parent_trade._sl_order else
                      "tp" if o.parent_trade is not None and o is o.parent_trade._tp_order else
                      "close" if o.parent_trade is not None else "entry")}
            for o in broker.orders],
    }
    if strategy == "Script":
        derived["action_results"] = list(results)

    doc = {
        "run": name,
        "data": data_rel,
        "strategy": strategy,
        "params": params,
        "backtest_kwargs": json_kwargs(kw),
        "versions": VERSIONS,
        "warnings": warn_msgs,
        "stats_keys_in_order": keys,
        "stats": {k: stat_json(stats[k]) for k in keys},
        "stats_types": {k: type(stats[k]).__name__ for k in keys},
        "derived": derived,
    }
    if script_rel is not None:
        doc["script"] = script_rel

    trades_csv = stats["_trades"].to_csv(index_label="i", float_format="%.17g")
    equity_csv = stats["_equity_curve"].to_csv(index_label="Time", float_format="%.17g")
    return doc, trades_csv, equity_csv, stats


def dump_json(doc) -> str:
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def anchor_view(doc) -> dict:
    d = {k: doc[k] for k in ANCHOR_TOP_KEYS}
    d["derived"] = {k: doc["derived"][k] for k in ANCHOR_DERIVED_KEYS}
    return d


def write_run(name, doc, trades_csv, equity_csv):
    (RUNS_DIR / f"{name}.stats.json").write_text(dump_json(doc))
    (RUNS_DIR / f"{name}.trades.csv").write_text(trades_csv)
    (RUNS_DIR / f"{name}.equity.csv").write_text(equity_csv)


def check_anchors():
    """Re-run the anchors: our serializer must reproduce the copied files byte for byte."""
    for name, strategy, params, kwargs in ANCHORS:
        doc, tcsv, ecsv, _ = run_one(name, "data/GOOG.csv", strategy, params, kwargs)
        files = {ext: RUNS_DIR / f"{name}.{ext}" for ext in ("stats.json", "trades.csv",
                                                                  "equity.csv")}
        if not all(p.exists() for p in files.values()):
            print(f"anchor {name}: files missing, skipped the format check")
            continue
        assert files["stats.json"].read_text() == dump_json(anchor_view(doc)), name
        assert files["trades.csv"].read_text() == tcsv, name
        assert files["equity.csv"].read_text() == ecsv, name
        print(f"anchor {name}: reproduced byte for byte")


# ---------------------------------------------------------------------------------------------
# SmaCross runs
# ---------------------------------------------------------------------------------------------

SMACROSS_RUNS = [
    # name, data, strategy, params, backtest kwargs
    ("eurusd_h1_smacross_10_30_comm0002_spread0001", "data/EURUSD_H1.csv", "SmaCross",
     {"n1": 10, "n2": 30}, {"commission": 0.0002, "spread": 0.0001}),
    ("eurusd_h1_longonly_20_50_margin01", "data/EURUSD_H1.csv", "SmaCrossLongOnly",
     {"n1": 20, "n2": 50}, {"commission": 0.0001, "margin": 0.1}),
    ("btc_m1_longonly_3_6_margin02_bust", "data/BTC_M1.csv", "SmaCrossLongOnly",
     {"n1": 3, "n2": 6}, {"cash": 1_000_000, "commission": 0.001, "margin": 0.2}),
    ("btc_m1_smacross_3_6_margin02_bust_short", "data/BTC_M1.csv", "SmaCross",
     {"n1": 3, "n2": 6}, {"cash": 1_000_000, "commission": 0.001, "margin": 0.2}),
    ("btc_m1_smacross_3_6_comm001", "data/BTC_M1.csv", "SmaCross",
     {"n1": 3, "n2": 6}, {"cash": 1_000_000, "commission": 0.001}),
    ("daily_wknd_smacross_10_30_commtuple_finalize", "data/DAILY_WKND.csv", "SmaCross",
     {"n1": 10, "n2": 30}, {"commission": (1.0, 0.001), "finalize_trades": True}),
    ("daily_wknd_longonly_5_15_commtuple", "data/DAILY_WKND.csv", "SmaCrossLongOnly",
     {"n1": 5, "n2": 15}, {"commission": (1.0, 0.001)}),
    ("goog_smacross_10_20_comm002_trade_on_close", "data/GOOG.csv", "SmaCross",
     {"n1": 10, "n2": 20}, {"commission": 0.002, "trade_on_close": True}),
    ("goog_smacross_10_20_comm002_hedging_exclusive", "data/GOOG.csv", "SmaCross",
     {"n1": 10, "n2": 20}, {"commission": 0.002, "hedging": True, "exclusive_orders": True}),
    ("goog_smacross_5_15_comm001", "data/GOOG.csv", "SmaCross",
     {"n1": 5, "n2": 15}, {"commission": 0.001}),
    ("goog_smacross_30_100_spread0005", "data/GOOG.csv", "SmaCross",
     {"n1": 30, "n2": 100}, {"spread": 0.0005}),
    ("goog_smacross_10_20_margin05_comm002", "data/GOOG.csv", "SmaCross",
     {"n1": 10, "n2": 20}, {"commission": 0.002, "margin": 0.5}),
    ("goog_longonly_5_15_trade_on_close_finalize", "data/GOOG.csv", "SmaCrossLongOnly",
     {"n1": 5, "n2": 15}, {"commission": 0.001, "trade_on_close": True, "finalize_trades": True}),
]


# ---------------------------------------------------------------------------------------------
# Scripted runs
# ---------------------------------------------------------------------------------------------

# Per data set: relative price scale (EURUSD moves ~0.1 %/h, the daily series ~2-3 %/day),
# whole-unit size range, initial cash.
SCRIPT_DATA = {
    "GOOG": {"file": "data/GOOG.csv", "scale": 1.0, "units": (1, 16), "cash": 10000},
    "EURUSD_H1": {"file": "data/EURUSD_H1.csv", "scale": 0.15, "units": (500, 15000),
                  "cash": 10000},
    "DAILY_WKND": {"file": "data/DAILY_WKND.csv", "scale": 1.0, "units": (1, 60), "cash": 10000},
}
N_SCRIPTS = 30
SCRIPT_SEED = 7_000


def r6(x: float) -> float:
    """Round to 6 decimals so every JSON parser reads back the same double."""
    return round(float(x), 6)


def gen_entry(rng, bar, is_long, scale, units):
    kind = rng.choice(["market", "limit", "stop", "stop_limit"], p=[0.35, 0.25, 0.2, 0.2])
    sgn = 1.0 if is_long else -1.0
    limit = stop = None
    if kind == "limit":
        if rng.random() < 0.12:  # marketable limit (above close for a buy)
            limit = 1 + sgn * rng.uniform(0.0, 0.01) * scale
        else:
            limit = 1 - sgn * rng.uniform(0.0, 0.03) * scale
    elif kind == "stop":
        stop = 1 + sgn * rng.uniform(0.0, 0.03) * scale
    elif kind == "stop_limit":
        stop = 1 + sgn * rng.uniform(0.0, 0.02) * scale
        limit = stop + sgn * rng.uniform(-0.01, 0.01) * scale
    sl = 1 - sgn * rng.uniform(0.02, 0.10) * scale if rng.random() < 0.5 else None
    tp = 1 + sgn * rng.uniform(0.02, 0.10) * scale if rng.random() < 0.5 else None
    if rng.random() < 0.07 and (sl is not None or tp is not None):  # wrong side: must be skipped
        sl, tp = tp, sl
    r = rng.random()
    size = (None if r < 0.3 else r6(rng.uniform(0.05, 0.6)) if r < 0.7 else
            int(rng.integers(units[0], units[1])))
    tag = int(rng.integers(0, 1000)) if rng.random() < 0.4 else None
    f = (lambda v: None if v is None else r6(v))
    return {"bar": bar, "op": "buy" if is_long else "sell", "size": size, "limit": f(limit),
            "stop": f(stop), "sl": f(sl), "tp": f(tp), "tag": tag}


PORTIONS = [1.0, 1.0, 0.5, 0.5, 0.25, 0.75, 0.3]


def pick_index(rng) -> int:
    """Trade/order index: mostly 0 or 1, sometimes 2 or 3 (which often does not exist)."""
    return int(rng.choice(4, p=[0.55, 0.3, 0.1, 0.05]))


def gen_followup(rng, bar, is_long, scale, units):
    op = rng.choice(["close", "trade_close", "trade_sl", "trade_tp", "cancel", "entry"],
                    p=[0.17, 0.23, 0.16, 0.14, 0.15, 0.15])
    sgn = 1.0 if is_long else -1.0
    if op == "entry":  # opposite or same-side entry: netting, hedging, exclusive_orders
        return gen_entry(rng, bar, bool(rng.random() < 0.4) == is_long, scale, units)
    if op == "close":
        return {"bar": bar, "op": "close", "portion": float(rng.choice(PORTIONS))}
    if op == "trade_close":
        return {"bar": bar, "op": "trade_close", "trade": pick_index(rng),
                "portion": float(rng.choice(PORTIONS))}
    if op in ("trade_sl", "trade_tp"):
        if rng.random() < 0.15:
            rel = None
        elif rng.random() < 0.15:  # on the wrong side of the close: triggers at the next open
            rel = r6(1 + (sgn if op == "trade_sl" else -sgn) * rng.uniform(0.0, 0.02) * scale)
        else:
            d = rng.uniform(0.01, 0.06) * scale
            rel = r6(1 - sgn * d if op == "trade_sl" else 1 + sgn * d)
        return {"bar": bar, "op": op, "trade": pick_index(rng), "rel": rel}
    return {"bar": bar, "op": "cancel", "order": pick_index(rng)}


def gen_actions(rng, n_bars, n_actions, scale, units):
    acts = []
    while len(acts) < n_actions:
        b = int(rng.integers(1, n_bars))
        if rng.random() < 0.08:  # near the end: finalize / never-filled orders
            b = int(n_bars - 1 - rng.integers(0, 3))
        is_long = bool(rng.random() < 0.55)
        acts.append(gen_entry(rng, b, is_long, scale, units))
        for _ in range(int(rng.integers(0, 5))):
            fb = min(n_bars - 1, b + int(rng.integers(0, 12)))
            acts.append(gen_followup(rng, fb, is_long, scale, units))
    acts = acts[:n_actions]
    acts.sort(key=lambda a: a["bar"])  # stable: same-bar actions keep their generated order
    return acts


def script_config(j: int, ds: str) -> dict:
    """Backtest kwargs of script j: flags cycle so that each one is on in several scripts."""
    comm_cycle = [0.0, 0.001, (2.0, 0.0005), 0.0002, (0.5, 0.0)]
    kw = {"cash": SCRIPT_DATA[ds]["cash"],
          "commission": comm_cycle[j % len(comm_cycle)],
          "spread": [0.0, 0.0, 0.0003][j % 3 if ds != "EURUSD_H1" else (j // 3) % 3],
          "margin": ([1.0, 0.5, 1.0, 0.25] if ds != "EURUSD_H1" else [1.0, 0.1, 0.05])[
              (j // 3) % (4 if ds != "EURUSD_H1" else 3)],
          "trade_on_close": j % 5 == 1,
          "hedging": j % 4 == 2,
          "exclusive_orders": j % 7 == 3,
          "finalize_trades": j % 3 == 0 or j % 8 == 5}
    return kw


def script_runs():
    out = []
    names = list(SCRIPT_DATA)
    for j in range(N_SCRIPTS):
        ds = names[j % 3]
        rng = np.random.default_rng(SCRIPT_SEED + j)
        n_bars = len(read_data(HERE / SCRIPT_DATA[ds]["file"]))
        kw = script_config(j, ds)
        n_actions = int(rng.integers(20, 81))
        acts = gen_actions(rng, n_bars, n_actions, SCRIPT_DATA[ds]["scale"],
                           SCRIPT_DATA[ds]["units"])
        name = f"script_{j:02d}_{ds.lower()}"
        out.append((name, SCRIPT_DATA[ds]["file"], kw, acts, SCRIPT_SEED + j))
    return out


# ---------------------------------------------------------------------------------------------
# Numeric extremes (prices near 0 and near 1e12, flat prices, volume 0)
# ---------------------------------------------------------------------------------------------

def goog_cents():
    """GOOG.csv as integer cents (checked to give back exactly the CSV floats) and its index."""
    df = read_data(DATA_DIR / "GOOG.csv")
    cents = {k: np.round(df[col].values * 100).astype(np.int64)
             for k, col in zip("OHLC", ("Open", "High", "Low", "Close"))}
    for k, col in zip("OHLC", ("Open", "High", "Low", "Close")):
        assert np.array_equal(cents[k] / 100, df[col].values), col
    cents["V"] = df["Volume"].values.astype(np.int64)
    return df.index, cents


def make_goog_micro() -> Path:
    """GOOG scaled by 1e-8: prices 1e-6 .. 9e-6 (cents / 1e10), GOOG's volume, 2148 daily bars."""
    index, cents = goog_cents()
    path = DATA_DIR / "GOOG_MICRO.csv"
    write_ohlcv(path, index, cents, 10**10, intraday=False)
    return path


def make_goog_giga() -> Path:
    """GOOG scaled by 1e10: prices 1e12 .. 9e12 (cents * 1e8, integers), 2148 daily bars."""
    index, cents = goog_cents()
    ticks = {k: (v * 10**8 if k != "V" else v) for k, v in cents.items()}
    path = DATA_DIR / "GOOG_GIGA.csv"
    write_ohlcv(path, index, ticks, 1, intraday=False)
    return path


def make_goog_vol0() -> Path:
    """The first 600 GOOG bars with volume 0 on every bar."""
    index, cents = goog_cents()
    ticks = {k: v[:600] for k, v in cents.items()}
    ticks["V"] = np.zeros(600, dtype=np.int64)
    path = DATA_DIR / "GOOG_VOL0.csv"
    write_ohlcv(path, index[:600], ticks, 100, intraday=False)
    return path


def make_goog_volgaps() -> Path:
    """The first 600 GOOG bars with volume 0 on every third bar and on bars 200-249."""
    index, cents = goog_cents()
    ticks = {k: v[:600].copy() for k, v in cents.items()}
    pos = np.arange(600)
    ticks["V"][(pos % 3 == 0) | ((pos >= 200) & (pos < 250))] = 0
    path = DATA_DIR / "GOOG_VOLGAPS.csv"
    write_ohlcv(path, index[:600], ticks, 100, intraday=False)
    return path


def make_penny_decay() -> Path:
    """500 business days of a penny stock decaying from 0.01 to about 1e-8 (ticks of 1e-12).

    Log drift -0.0276 per bar on average (ln 1e-6 over 500 bars) with regimes of -8 % .. +4 %
    per bar (trends for the crossovers), 6 % noise, opens gapping by 2 % on half of the bars.
    """
    rng = np.random.default_rng(20150101)
    index = pd.bdate_range("2015-01-01", periods=500)
    n = len(index)
    tick = 10**12
    o, h, l, c = (np.zeros(n, dtype=np.int64) for _ in range(4))
    prev = 10**10  # 0.01
    drift = 0.0
    for i in range(n):
        if i % 40 == 0:
            drift = -0.0276 + rng.normal(0, 0.03)
        op = prev if rng.random() < 0.5 else int(round(prev * math.exp(rng.normal(0, 0.02))))
        cl = max(int(round(op * math.exp(drift + rng.normal(0, 0.06)))), 100)
        hi = max(op, cl) + int(round(max(op, cl) * abs(rng.normal(0, 0.02))))
        lo = min(op, cl) - int(round(min(op, cl) * min(abs(rng.normal(0, 0.02)), 0.5)))
        o[i], h[i], l[i], c[i] = op, hi, max(lo, 1), cl
        prev = cl
    v = rng.integers(10**6, 10**9, size=n)
    path = DATA_DIR / "PENNY_DECAY.csv"
    write_ohlcv(path, index, {"O": o, "H": h, "L": l, "C": c, "V": v}, tick, intraday=False)
    return path


def make_flat() -> Path:
    """250 business days with Open = High = Low = Close = 100 on every bar (zero volatility)."""
    index = pd.bdate_range("2020-01-01", periods=250)
    n = len(index)
    p = np.full(n, 10000, dtype=np.int64)
    v = np.full(n, 1000, dtype=np.int64)
    path = DATA_DIR / "FLAT.csv"
    write_ohlcv(path, index, {"O": p, "H": p, "L": p, "C": p, "V": v}, 100, intraday=False)
    return path


def make_flat_jump() -> Path:
    """200 business days flat at 50, one jump to 55 inside bar 120 (O 50, H 55, L 50, C 55),
    flat at 55 afterwards."""
    index = pd.bdate_range("2020-01-01", periods=200)
    n = len(index)
    c = np.where(np.arange(n) >= 120, 5500, 5000).astype(np.int64)
    o = np.where(np.arange(n) > 120, 5500, 5000).astype(np.int64)
    h, l = np.maximum(o, c), np.minimum(o, c)
    v = np.full(n, 1000, dtype=np.int64)
    path = DATA_DIR / "FLAT_JUMP.csv"
    write_ohlcv(path, index, {"O": o, "H": h, "L": l, "C": c, "V": v}, 100, intraday=False)
    return path


def make_zero_stretch() -> Path:
    """300 business days, a 2 %/day random walk near 50 with bars 100-159 exactly flat
    (O = H = L = C = the close of bar 99): 60 zero returns in the middle of the series."""
    rng = np.random.default_rng(20200601)
    index = pd.bdate_range("2019-01-01", periods=300)
    n = len(index)
    o, h, l, c = (np.zeros(n, dtype=np.int64) for _ in range(4))
    prev = 5000
    for i in range(n):
        if 100 <= i < 160:
            o[i] = h[i] = l[i] = c[i] = prev
            continue
        op = prev if rng.random() < 0.6 else int(round(prev * (1 + rng.normal(0, 0.008))))
        cl = int(round(op * math.exp(0.003 * math.sin(i / 25) + rng.normal(0, 0.02))))
        hi = max(op, cl) + int(round(max(op, cl) * abs(rng.normal(0, 0.008))))
        lo = min(op, cl) - int(round(min(op, cl) * abs(rng.normal(0, 0.008))))
        o[i], h[i], l[i], c[i] = op, hi, lo, cl
        prev = cl
    v = rng.integers(1_000, 50_000, size=n)
    path = DATA_DIR / "ZERO_STRETCH.csv"
    write_ohlcv(path, index, {"O": o, "H": h, "L": l, "C": c, "V": v}, 100, intraday=False)
    return path


# Indicator references (the goog_indicators.csv columns) on the extreme data sets.
EXTREME_INDICATOR_DATA = ("GOOG_MICRO", "GOOG_GIGA", "PENNY_DECAY", "FLAT", "FLAT_JUMP",
                          "ZERO_STRETCH", "INTRADAY_1DAY")

def make_intraday_1day() -> Path:
    """390 one-minute bars of one trading day (2024-03-05 09:30-15:59), a random walk near 100:
    one resample bucket, so no period return (Return (Ann.) NaN), and CAGR explodes."""
    rng = np.random.default_rng(20240305)
    index = pd.date_range("2024-03-05 09:30", periods=390, freq="min")
    n = len(index)
    o, h, l, c = (np.zeros(n, dtype=np.int64) for _ in range(4))
    prev = 10000
    for i in range(n):
        op = prev
        cl = op + int(round(rng.normal(0, 8) + 3 * math.sin(i / 30)))
        o[i], c[i] = op, cl
        h[i] = max(op, cl) + int(abs(round(rng.normal(0, 3))))
        l[i] = min(op, cl) - int(abs(round(rng.normal(0, 3))))
        prev = cl
    v = rng.integers(0, 3000, size=n)
    path = DATA_DIR / "INTRADAY_1DAY.csv"
    write_ohlcv(path, index, {"O": o, "H": h, "L": l, "C": c, "V": v}, 100, intraday=True)
    return path


EXTREME_DATA_MAKERS = (make_goog_micro, make_goog_giga, make_goog_vol0, make_goog_volgaps,
                       make_penny_decay, make_flat, make_flat_jump, make_zero_stretch,
                       make_intraday_1day)

EXTREME_SMACROSS_RUNS = [
    # name, data, strategy, params, backtest kwargs
    ("goog_micro_smacross_10_20_comm002", "data/GOOG_MICRO.csv", "SmaCross",
     {"n1": 10, "n2": 20}, {"commission": 0.002}),
    ("goog_micro_longonly_5_15_spread0005_finalize", "data/GOOG_MICRO.csv", "SmaCrossLongOnly",
     {"n1": 5, "n2": 15}, {"spread": 0.0005, "finalize_trades": True}),
    ("penny_decay_smacross_5_15_comm001", "data/PENNY_DECAY.csv", "SmaCross",
     {"n1": 5, "n2": 15}, {"commission": 0.001}),
    ("penny_decay_longonly_3_10_commtuple", "data/PENNY_DECAY.csv", "SmaCrossLongOnly",
     {"n1": 3, "n2": 10}, {"commission": (0.5, 0.001)}),
    ("goog_giga_smacross_10_20_cash10k", "data/GOOG_GIGA.csv", "SmaCross",
     {"n1": 10, "n2": 20}, {"commission": 0.002}),
    ("goog_giga_smacross_10_20_cash1e15_comm002", "data/GOOG_GIGA.csv", "SmaCross",
     {"n1": 10, "n2": 20}, {"cash": 10**15, "commission": 0.002}),
    ("goog_giga_longonly_5_15_cash1e15_margin05", "data/GOOG_GIGA.csv", "SmaCrossLongOnly",
     {"n1": 5, "n2": 15}, {"cash": 10**15, "commission": 0.001, "margin": 0.5}),
    ("flat_smacross_10_20", "data/FLAT.csv", "SmaCross", {"n1": 10, "n2": 20}, {}),
    ("flat_jump_longonly_5_10", "data/FLAT_JUMP.csv", "SmaCrossLongOnly",
     {"n1": 5, "n2": 10}, {}),
    ("goog_vol0_smacross_10_20_comm002", "data/GOOG_VOL0.csv", "SmaCross",
     {"n1": 10, "n2": 20}, {"commission": 0.002}),
    ("goog_volgaps_longonly_5_15", "data/GOOG_VOLGAPS.csv", "SmaCrossLongOnly",
     {"n1": 5, "n2": 15}, {}),
    ("zero_stretch_smacross_5_20_comm001", "data/ZERO_STRETCH.csv", "SmaCross",
     {"n1": 5, "n2": 20}, {"commission": 0.001}),
    ("intraday_1day_smacross_5_20", "data/INTRADAY_1DAY.csv", "SmaCross",
     {"n1": 5, "n2": 20}, {}),
]


def act(bar, op, **kw):
    """One script action with the schema's defaults (see README.md)."""
    if op in ("buy", "sell"):
        a = {"bar": bar, "op": op, "size": None, "limit": None, "stop": None, "sl": None,
             "tp": None, "tag": None}
    else:
        a = {"bar": bar, "op": op}
    a.update(kw)
    return a


# Hand-written action lists: each isolates one numeric edge case.
FLAT_ROUNDTRIPS = [
    act(10, "buy"), act(30, "close", portion=1.0),
    act(40, "sell", size=0.5), act(60, "close", portion=1.0),
    act(70, "buy", size=0.3, limit=1.0, sl=0.99, tp=1.01, tag=1),  # limit == price: fills
    act(71, "buy", size=10, stop=1.0, tag=2),                     # stop == price: fills
    act(90, "trade_close", trade=0, portion=0.5),
    act(100, "close", portion=1.0),
    act(110, "sell", size=25, sl=1.02), act(111, "trade_tp", trade=0, rel=0.98),
    act(130, "trade_close", trade=0, portion=1.0),
    act(200, "buy", size=0.9), act(248, "sell", size=0.9),
]

EXTREME_SCRIPTS = [
    # name, data, backtest kwargs, actions (a list) or (seed, n_actions, scale, units)
    ("flat_script_hold_finalize", "data/FLAT.csv", {"finalize_trades": True},
     [act(1, "buy")]),
    ("flat_script_roundtrips_comm0", "data/FLAT.csv", {}, FLAT_ROUNDTRIPS),
    ("flat_script_roundtrips_comm001", "data/FLAT.csv", {"commission": 0.001},
     FLAT_ROUNDTRIPS),
    ("flat_jump_script_long", "data/FLAT_JUMP.csv", {},
     [act(50, "buy"), act(150, "close", portion=1.0)]),
    ("flat_jump_script_short_sl_comm001", "data/FLAT_JUMP.csv", {"commission": 0.001},
     [act(50, "sell", size=0.5, sl=1.05), act(150, "sell", size=0.5, tp=0.9)]),
    ("goog_giga_script_cash10k", "data/GOOG_GIGA.csv", {},
     [act(5, "buy"), act(6, "buy", size=1), act(7, "sell", size=0.5),
      act(8, "buy", size=0.999, limit=0.99), act(9, "trade_close", trade=0, portion=1.0),
      act(20, "sell", size=2, stop=0.98), act(21, "close", portion=1.0)]),
    ("goog_giga_script_cash1e15", "data/GOOG_GIGA.csv",
     {"cash": 10**15, "commission": 0.001, "finalize_trades": True}, (9105, 60, 1.0, (1, 200))),
    ("goog_giga_script_cash1e15_bust", "data/GOOG_GIGA.csv",
     {"cash": 10**15, "commission": 0.001, "finalize_trades": True}, (9101, 60, 1.0, (1, 200))),
    ("goog_micro_script_commtuple", "data/GOOG_MICRO.csv",
     {"commission": (2.0, 0.0005), "margin": 0.5}, (9102, 60, 1.0, (10**6, 10**9))),
    ("penny_decay_script_spread", "data/PENNY_DECAY.csv",
     {"spread": 0.0003, "hedging": True, "finalize_trades": True},
     (9103, 50, 2.0, (10**8, 10**11))),
    ("intraday_1day_script_finalize", "data/INTRADAY_1DAY.csv",
     {"commission": 0.001, "finalize_trades": True},
     [act(10, "buy", size=0.5), act(200, "sell", size=20, tp=0.99), act(300, "close", portion=0.5)]),
    ("zero_stretch_script", "data/ZERO_STRETCH.csv", {},
     [act(90, "buy", size=0.5), act(105, "buy", size=0.3, sl=0.98, tp=1.02),
      act(130, "trade_close", trade=1, portion=1.0), act(140, "sell", size=10, limit=1.0),
      act(170, "close", portion=1.0)]),
]


def extreme_script_actions(data_rel, spec):
    if isinstance(spec, list):
        return spec, None
    seed, n_actions, scale, units = spec
    rng = np.random.default_rng(seed)
    n_bars = len(read_data(HERE / data_rel))
    return gen_actions(rng, n_bars, n_actions, scale, units), seed


def check_extremes(docs):
    """What the extreme runs must show (asserted, so a change of data cannot drop a case)."""
    s = {name: doc["stats"] for name, doc in docs.items()}
    # Flat prices: no crossover, equity constant; Sharpe/Sortino/Calmar/Beta/Alpha are NaN.
    for name in ("flat_smacross_10_20", "flat_script_hold_finalize",
                 "flat_script_roundtrips_comm0"):
        st = s[name]
        assert st["Return [%]"] == 0 and st["Volatility (Ann.) [%]"] == 0, name
        for k in ("Sharpe Ratio", "Sortino Ratio", "Calmar Ratio", "Beta", "Alpha [%]",
                  "Avg. Drawdown [%]", "Max. Drawdown Duration"):
            assert st[k] is None, (name, k, st[k])
    assert s["flat_smacross_10_20"]["# Trades"] == 0
    st = s["flat_script_roundtrips_comm0"]
    assert st["# Trades"] >= 5 and st["Win Rate [%]"] == 0, st
    for k in ("SQN", "Kelly Criterion", "Profit Factor"):
        assert st[k] is None, (k, st[k])
    st = s["flat_script_roundtrips_comm001"]
    assert st["Beta"] is None and st["Return [%]"] < 0 and st["Max. Drawdown [%]"] < 0, st
    # One jump up while long: no down period, Sortino +inf (serialized "inf").
    assert s["flat_jump_script_long"]["Sortino Ratio"] == "inf", s["flat_jump_script_long"]
    # One trading day of minute bars: a single resample bucket, so no period returns (Return
    # (Ann.), Volatility, Sharpe, Sortino NaN) while CAGR over 6.5 hours explodes (1e19 %).
    for name in ("intraday_1day_smacross_5_20", "intraday_1day_script_finalize"):
        st = s[name]
        assert st["CAGR [%]"] == "inf" or st["CAGR [%]"] > 1e3, (name, st["CAGR [%]"])
        for k in ("Return (Ann.) [%]", "Volatility (Ann.) [%]", "Sharpe Ratio", "Sortino Ratio"):
            assert st[k] is None, (name, k, st[k])
    assert s["intraday_1day_smacross_5_20"]["# Trades"] > 5
    # 1e12 prices and 10 000 cash: every order is cancelled, nothing trades.
    for name in ("goog_giga_smacross_10_20_cash10k", "goog_giga_script_cash10k"):
        assert s[name]["# Trades"] == 0 and s[name]["Equity Final [$]"] == 10000, name
        w = docs[name]["warnings"]
        assert w[0].startswith("Some prices are larger than initial cash value"), name
        assert any("Broker canceled" in x for x in w), name
    assert s["goog_giga_smacross_10_20_cash1e15_comm002"]["# Trades"] > 50
    assert s["goog_giga_script_cash1e15"]["# Trades"] > 20
    # A full-size short at 1e12 prices and 1e15 cash goes bust when GOOG doubles.
    assert docs["goog_giga_script_cash1e15_bust"]["derived"]["out_of_money_bar"] == 94
    # Equal SMAs (flat before the jump) are no crossover: nothing trades.
    assert s["flat_jump_longonly_5_10"]["# Trades"] == 0
    assert docs["flat_jump_longonly_5_10"]["derived"]["n_open_trades_at_end_not_in_stats"] == 0
    assert s["goog_micro_smacross_10_20_comm002"]["# Trades"] > 50
    # Volume 0 on every bar is accepted and trades normally (volume plays no part).
    assert s["goog_vol0_smacross_10_20_comm002"]["# Trades"] > 10


def repr_text(stats) -> str:
    """``repr(stats)`` (backtesting.py's printed table) up to the ``_strategy`` line: without
    ``_strategy``, ``_equity_curve``, ``_trades`` (several lines when empty) and ``dtype``, the
    layout of ../reference/*.repr.txt."""
    lines = repr(stats).splitlines()
    return "\n".join(lines[:lines.index(next(x for x in lines if x.startswith("_strategy")))]) + "\n"


def extreme_runs(manifest_runs, datasets):
    for maker in EXTREME_DATA_MAKERS:
        p = maker()
        datasets[f"data/{p.name}"] = " ".join(
            line.strip() for line in maker.__doc__.strip().split("\n\n")[0].splitlines())
        print(f"wrote {p.relative_to(HERE)} ({len(read_data(p))} bars)")
    docs = {}
    for name, data_rel, strategy, params, kwargs in EXTREME_SMACROSS_RUNS:
        doc, tcsv, ecsv, stats = run_one(name, data_rel, strategy, params, kwargs)
        write_run(name, doc, tcsv, ecsv)
        (RUNS_DIR / f"{name}.repr.txt").write_text(repr_text(stats))
        docs[name] = doc
        manifest_runs.append({"name": name, "data": data_rel, "kind": "smacross",
                              "strategy": strategy, "params": params,
                              "backtest_kwargs": doc["backtest_kwargs"], "script": None,
                              "origin": "gen_fixtures.py (numeric extremes)"})
        print(f"{name}: trades={stats['# Trades']} final={stats['Equity Final [$]']!r} "
              f"warnings={len(doc['warnings'])}")
    for name, data_rel, kwargs, spec in EXTREME_SCRIPTS:
        acts, seed = extreme_script_actions(data_rel, spec)
        script_rel = f"runs/{name}.script.json"
        (HERE / script_rel).write_text(json.dumps(acts, indent=None, separators=(",", ":"))
                                       .replace("},{", "},\n{") + "\n")
        acts_back = json.loads((HERE / script_rel).read_text())
        assert acts_back == acts
        doc, tcsv, ecsv, stats = run_one(name, data_rel, "Script", {}, kwargs,
                                         script_rel=script_rel, actions=acts_back)
        write_run(name, doc, tcsv, ecsv)
        (RUNS_DIR / f"{name}.repr.txt").write_text(repr_text(stats))
        docs[name] = doc
        entry = {"name": name, "data": data_rel, "kind": "script", "strategy": "Script",
                 "params": {}, "backtest_kwargs": doc["backtest_kwargs"], "script": script_rel}
        if seed is not None:
            entry["seed"] = seed
        entry.update({"n_actions": len(acts), "origin": "gen_fixtures.py (numeric extremes)"})
        manifest_runs.append(entry)
        print(f"{name}: actions={len(acts)} trades={stats['# Trades']} "
              f"open={doc['derived']['n_open_trades_at_end_not_in_stats']} "
              f"final={stats['Equity Final [$]']!r} results="
              f"{dict(Counter(doc['derived']['action_results']))}")
    check_extremes(docs)


# ---------------------------------------------------------------------------------------------
# Indicators
# ---------------------------------------------------------------------------------------------

def goog_indicators() -> pd.DataFrame:
    return indicator_frame(read_data(DATA_DIR / "GOOG.csv"))


def indicator_frame(df: pd.DataFrame) -> pd.DataFrame:
    C, H, L = df.Close, df.High, df.Low
    out = pd.DataFrame(index=df.index)
    out["sma_10"] = C.rolling(10).mean()
    out["sma_20"] = C.rolling(20).mean()
    out["ema_12"] = C.ewm(span=12, adjust=False, min_periods=12).mean()
    out["ema_26"] = C.ewm(span=26, adjust=False, min_periods=26).mean()
    n = 14
    delta = C.diff()
    gain = delta.clip(lower=0)
    loss = -delta.clip(upper=0)
    avg_gain = gain.ewm(alpha=1 / n, adjust=False, min_periods=n).mean()
    avg_loss = loss.ewm(alpha=1 / n, adjust=False, min_periods=n).mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100 - 100 / (1 + avg_gain / avg_loss)
    out["rsi_14"] = rsi.where(avg_loss != 0, 100.0).where(avg_loss.notna())
    prev_c = C.shift()
    tr = pd.concat([H - L, (H - prev_c).abs(), (L - prev_c).abs()], axis=1).max(axis=1)
    assert tr.iloc[0] == H.iloc[0] - L.iloc[0]
    out["atr_14"] = tr.ewm(alpha=1 / n, adjust=False, min_periods=n).mean()
    mid = C.rolling(20).mean()
    std = C.rolling(20).std(ddof=0)
    out["bb_mid_20"] = mid
    out["bb_upper_20_2"] = mid + 2 * std
    out["bb_lower_20_2"] = mid - 2 * std
    out["donchian_high_20"] = H.rolling(20).max()
    out["donchian_low_20"] = L.rolling(20).min()
    macd_full = (C.ewm(span=12, adjust=False).mean() - C.ewm(span=26, adjust=False).mean())
    sig_full = macd_full.ewm(span=9, adjust=False).mean()
    pos = np.arange(len(C))
    out["macd_12_26"] = macd_full.where(pos >= 25)
    out["macd_signal_9"] = sig_full.where(pos >= 33)
    return out


def write_indicators(ind=None, name="goog_indicators.csv"):
    ind = goog_indicators() if ind is None else ind
    lines = ["Time," + ",".join(ind.columns)]
    daily = (ind.index == ind.index.normalize()).all()
    fmt = "%Y-%m-%d" if daily else "%Y-%m-%d %H:%M:%S"
    for t, row in zip(ind.index.strftime(fmt), ind.itertuples(index=False)):
        lines.append(",".join([t] + ["" if math.isnan(x) else repr(float(x)) for x in row]))
    path = IND_DIR / name
    path.write_text("\n".join(lines) + "\n")
    back = pd.read_csv(path, index_col=0)
    for col in ind.columns:
        assert np.array_equal(back[col].values, ind[col].values, equal_nan=True), col
    return path


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------

REQUIRED_EVENTS = [
    "entry_fill_market", "entry_fill_limit", "entry_fill_stop", "entry_fill_stop_limit",
    "sl_hit", "tp_hit", "sl_gapped_at_open", "tp_gapped_at_open", "close_order_partial",
    "margin_cancel_relative_size", "margin_cancel_whole_units", "hedged_opposite_trades_open",
    "exclusive_orders_close", "trade_on_close_fill", "finalize_close", "netting_close",
    "skipped_error", "cancel_done",
]


def main():
    for d in (DATA_DIR, RUNS_DIR, IND_DIR):
        d.mkdir(exist_ok=True)
    assert (DATA_DIR / "GOOG.csv").exists(), "copy ../shared/data/GOOG.csv to data/GOOG.csv first"

    check_anchors()

    datasets = {"data/GOOG.csv": "backtesting.py sample data (daily GOOG 2004-08-19..2013-03-01)"}
    for maker in (make_eurusd_h1, make_btc_m1, make_daily_wknd):
        p = maker()
        datasets[f"data/{p.name}"] = maker.__doc__.strip().splitlines()[0]
        print(f"wrote {p.relative_to(HERE)} ({len(read_data(p))} bars)")

    manifest_runs = []
    for name, strategy, params, kwargs in ANCHORS:
        manifest_runs.append({"name": name, "data": "data/GOOG.csv", "kind": "smacross",
                              "strategy": strategy, "params": params,
                              "backtest_kwargs": json_kwargs(full_kwargs(kwargs)),
                              "script": None, "origin": "anchor (../shared/parity)"})

    for name, data_rel, strategy, params, kwargs in SMACROSS_RUNS:
        doc, tcsv, ecsv, stats = run_one(name, data_rel, strategy, params, kwargs)
        write_run(name, doc, tcsv, ecsv)
        manifest_runs.append({"name": name, "data": data_rel, "kind": "smacross",
                              "strategy": strategy, "params": params,
                              "backtest_kwargs": doc["backtest_kwargs"], "script": None,
                              "origin": "gen_fixtures.py"})
        print(f"{name}: trades={stats['# Trades']} final={stats['Equity Final [$]']:.2f} "
              f"oom_bar={doc['derived']['out_of_money_bar']} warnings={len(doc['warnings'])}")

    # The leveraged BTC runs must go bust: equity 0 from the out-of-money bar to the end, the
    # open trade closed at that bar's close, Return (Ann.) the integer 0 (gmean of a -100 % period).
    for name, side, bar in (("btc_m1_longonly_3_6_margin02_bust", 1, 45),
                            ("btc_m1_smacross_3_6_margin02_bust_short", -1, 42)):
        doc = json.loads((RUNS_DIR / f"{name}.stats.json").read_text())
        oom = doc["derived"]["out_of_money_bar"]
        eq = pd.read_csv(RUNS_DIR / f"{name}.equity.csv")["Equity"].values
        trades = pd.read_csv(RUNS_DIR / f"{name}.trades.csv")
        assert oom == bar and (eq[oom:] == 0).all() and (eq[:oom] > 0).all(), name
        assert doc["stats"]["Return (Ann.) [%]"] == 0, name
        assert doc["stats_types"]["Return (Ann.) [%]"] == "int", name
        assert doc["stats"]["Beta"] is None and doc["stats"]["Alpha [%]"] is None, name
        assert doc["derived"]["n_open_trades_at_end_not_in_stats"] == 0, name
        last = trades.iloc[-1]
        assert last.ExitBar == oom and np.sign(last.Size) == side, name
        close_at_oom = read_data(HERE / "data/BTC_M1.csv").Close.values[oom]
        assert last.ExitPrice == close_at_oom, name
        print(f"{name}: out of money at bar {oom}, closed at C[{oom}], Return (Ann.) int 0")

    coverage = Counter()
    per_run_cov = {}
    for name, data_rel, kwargs, acts, seed in script_runs():
        script_rel = f"runs/{name}.script.json"
        (HERE / script_rel).write_text(json.dumps(acts, indent=None, separators=(",", ":"))
                                       .replace("},{", "},\n{") + "\n")
        acts_back = json.loads((HERE / script_rel).read_text())
        assert acts_back == acts
        probe = Probe()
        doc, tcsv, ecsv, stats = run_one(name, data_rel, "Script", {}, kwargs,
                                         script_rel=script_rel, actions=acts_back, probe=probe)
        ev = Counter(probe.events)
        for w in doc["warnings"]:
            if "canceled the relative-sized order" in w:
                ev["margin_cancel_relative_size"] += 1
            elif "canceled the order due to insufficient margin" in w:
                ev["margin_cancel_whole_units"] += 1
            elif "would execute in the same bar" in w:
                ev["contingent_same_bar_warning"] += 1
        res = Counter(doc["derived"]["action_results"])
        ev["skipped_error"] += res["skipped_error"]
        ev["no_target"] += res["no_target"]
        ev["not_reached"] += res["not_reached"]
        ev["cancel_done"] += sum(1 for a, r in zip(acts, doc["derived"]["action_results"])
                                 if a["op"] == "cancel" and r == "done")
        if doc["derived"]["out_of_money_bar"] is not None:
            ev["out_of_money_runs"] += 1
        doc["derived"]["coverage_events"] = dict(sorted(ev.items()))
        write_run(name, doc, tcsv, ecsv)
        coverage.update(ev)
        per_run_cov[name] = ev
        manifest_runs.append({"name": name, "data": data_rel, "kind": "script",
                              "strategy": "Script", "params": {},
                              "backtest_kwargs": doc["backtest_kwargs"], "script": script_rel,
                              "seed": seed, "n_actions": len(acts),
                              "origin": "gen_fixtures.py"})
        flags = "".join(c for c, k in zip("THXF", ("trade_on_close", "hedging",
                                                   "exclusive_orders", "finalize_trades"))
                        if kwargs[k])
        print(f"{name}: actions={len(acts)} trades={stats['# Trades']} "
              f"open={doc['derived']['n_open_trades_at_end_not_in_stats']} "
              f"final={stats['Equity Final [$]']:.2f} flags={flags or '-'} "
              f"oom={doc['derived']['out_of_money_bar']}")

    print("\nCoverage over the scripted runs (events, runs with the event):")
    table = []
    for k in sorted(set(coverage) | set(REQUIRED_EVENTS)):
        nruns = sum(1 for ev in per_run_cov.values() if ev[k])
        table.append({"event": k, "count": coverage[k], "runs": nruns})
        print(f"| {k:38s} | {coverage[k]:6d} | {nruns:3d} |")
    missing = [k for k in REQUIRED_EVENTS if not coverage[k]]
    assert not missing, f"scripts do not exercise: {missing}"

    extreme_runs(manifest_runs, datasets)

    ind_path = write_indicators()
    print(f"wrote {ind_path.relative_to(HERE)}")
    extreme_indicators = {}
    for data in EXTREME_INDICATOR_DATA:
        ind = indicator_frame(read_data(DATA_DIR / f"{data}.csv"))
        ind_path = write_indicators(ind, f"{data.lower()}_indicators.csv")
        extreme_indicators[f"data/{data}.csv"] = str(ind_path.relative_to(HERE))
        print(f"wrote {ind_path.relative_to(HERE)}")

    manifest = {
        "generator": "gen_fixtures.py",
        "versions": VERSIONS,
        "data_sets": datasets,
        "indicators": "indicators/goog_indicators.csv",
        "extreme_indicators": extreme_indicators,
        "runs": manifest_runs,
        "script_coverage": table,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote manifest.json ({len(manifest_runs)} runs)")
    names = {r["name"] for r in manifest_runs}
    stale = sorted(p.name for p in RUNS_DIR.iterdir() if p.name.split(".")[0] not in names)
    if stale:
        print(f"WARNING: files in runs/ that belong to no run (delete them): {stale}")


if __name__ == "__main__":
    main()
