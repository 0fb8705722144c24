#!/usr/bin/env python3
"""Reference statistics of backtesting.py 0.6.6 on a 1M-bar synthetic run (hourly, 1900-2014).

Run from this directory with the interpreter that has backtesting==0.6.6:

    /tmp/bpy/bin/python gen_long_curve.py

It writes long_curve_1m.stats.json. The bars, equity curve and trades are generated with
integer xorshift64* and IEEE basic operations only, so tests/it/long_curve.rs rebuilds exactly
the same floats in Rust without a 1M-row fixture.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from backtesting._stats import compute_stats

N = 1_000_000
M64 = (1 << 64) - 1


def synthetic():
    state = 0x9E3779B97F4A7C15

    def nxt():
        nonlocal state
        state ^= state >> 12
        state ^= (state << 25) & M64
        state ^= state >> 27
        return (((state * 0x2545F4914F6CDD1D) & M64) >> 11) / float(1 << 53) - 0.5

    close = []
    c = 100.0
    for _ in range(N):
        c *= 1.0 + 0.002 * nxt()
        close.append(c)
    equity = []
    trades = []
    cash, units, entry, entry_bar = 10_000.0, 0.0, 0.0, 0
    for i in range(N):
        if i % 1000 == 0:
            units = math.floor(cash / close[i])
            entry, entry_bar = close[i], i
        elif i % 1000 == 500:
            pnl = units * (close[i] - entry)
            cash += pnl
            trades.append((entry_bar, i, pnl, close[i] / entry - 1.0))
            units = 0.0
        equity.append(cash + units * (close[i] - entry))
    return close, equity, trades


def encode(v):
    if isinstance(v, pd.Timestamp):
        return {"timestamp": v.isoformat()}
    if isinstance(v, pd.Timedelta):
        return {"timedelta": str(v), "seconds": v.total_seconds(), "ns": v.value}
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    return float(v)


def main():
    close, equity, trades = synthetic()
    index = pd.date_range("1900-01-01", periods=N, freq="h")
    c = np.array(close)
    df = pd.DataFrame({"Open": c, "High": c, "Low": c, "Close": c}, index=index)
    tdf = pd.DataFrame({
        "EntryBar": [t[0] for t in trades],
        "ExitBar": [t[1] for t in trades],
        "PnL": [t[2] for t in trades],
        "ReturnPct": [t[3] for t in trades],
    })
    tdf["Duration"] = index[tdf["ExitBar"].values] - index[tdf["EntryBar"].values]
    s = compute_stats(tdf, np.array(equity), df, None, 0.0)
    out = {
        "what": "backtesting.py 0.6.6 compute_stats on the 1M-bar synthetic run of gen_long_curve.py",
        "n_bars": N,
        "n_trades": len(trades),
        "stats": {k: encode(v) for k, v in s.items() if not k.startswith("_")},
    }
    Path(__file__).with_name("long_curve_1m.stats.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
