#!/usr/bin/env python3
"""vectorbt 1.2 on bt's portfolio benchmark (docs/portfolio.md): equal-weight rebalancing of 20
instruments x 100,000 hourly bars every n bars, one cash account, commission 0.0005, whole
units, fills at the next bar's open: bt's `equal_weight` with `every = n` on
docs/bench/portfolio_sweep.ron's data.

    # the data, as the queue generates it
    for k in $(seq 0 19); do bt data generate --bars 100000 --seed $((100+k)) --interval 1h \
        --drift $(python3 -c "print(f'{0.02+0.005*$k:.3f}')") \
        --volatility $(python3 -c "print(f'{0.1+0.01*$k:.2f}')") -o /tmp/p20/s$(printf %02d $k).csv; done
    python3 -m venv /tmp/vbt && /tmp/vbt/bin/pip install vectorbt==1.2.0
    /tmp/vbt/bin/python docs/bench/bench_vectorbt_portfolio.py /tmp/p20 [bt-summary.csv]

Prints seconds per setting one call at a time, and a batch of settings as columns of one call
(vectorbt's way to sweep) with its peak RSS; with bt's summary.csv, the final equity of every
setting run next to bt's.
"""

import csv
import os
import resource
import sys
import time

import numpy as np
import pandas as pd
import vectorbt as vbt

FEES = 0.0005
CASH = 1_000_000.0


def load(folder):
    opens, closes, index = [], [], None
    for k in range(20):
        df = pd.read_csv(os.path.join(folder, f"s{k:02}.csv"))
        opens.append(df["open"].to_numpy())
        closes.append(df["close"].to_numpy())
        index = pd.to_datetime(df["timestamp"])
    return np.column_stack(opens), np.column_stack(closes), index


def sizes(n, m, every):
    """Target weights on fill rows: decisions at bars t = every, 2*every, ... (bt's `next` runs
    from bar 1), filled at t + 1."""
    size = np.full((n, m), np.nan)
    for t in range(every, n - 1, every):
        size[t + 1] = 1.0 / m
    return size


def run(opn, cls, size, group_by=True):
    pf = vbt.Portfolio.from_orders(
        close=cls, size=size, price=opn, size_type="targetpercent", fees=FEES,
        size_granularity=1.0, init_cash=CASH, group_by=group_by, cash_sharing=True,
        call_seq="auto", freq="1h",
    )
    return pf.value().to_numpy()


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    opn, cls, index = load(sys.argv[1])
    n, m = cls.shape
    opn_df, cls_df = pd.DataFrame(opn, index=index), pd.DataFrame(cls, index=index)
    bt_final = {}
    if len(sys.argv) > 2:
        with open(sys.argv[2]) as fh:
            for row in csv.DictReader(fh):
                if row["strategy"] == "equal_weight":
                    bt_final[int(row["every"])] = float(row["equity_final"])
    # JIT warm-up (numba compiles on the first call).
    run(opn_df.iloc[:200], cls_df.iloc[:200], sizes(200, m, 10))
    print(f"data {n} x {m}, RSS after load and JIT {rss_mb():.0f} MB")

    settings = [1, 2, 5, 10, 21, 50, 100, 224]
    t0 = time.perf_counter()
    for every in settings:
        v = run(opn_df, cls_df, sizes(n, m, every))
        final = v[-1] if v.ndim == 1 else v[-1, 0]
        if every in bt_final:
            b = bt_final[every]
            print(f"every={every:4}: vectorbt {final:.6f}  bt {b:.6f}  rel diff {abs(final - b) / b:.2e}")
    dt = (time.perf_counter() - t0) / len(settings)
    print(f"one setting per call: {dt:.3f} s per setting -> 1,000 settings {dt * 1000:.0f} s on 1 core, "
          f"peak RSS {rss_mb():.0f} MB")

    for batch in [10, 50]:
        size = np.concatenate([sizes(n, m, e) for e in range(1, batch + 1)], axis=1)
        o = pd.DataFrame(np.tile(opn, batch), index=index)
        c = pd.DataFrame(np.tile(cls, batch), index=index)
        groups = np.repeat(np.arange(batch), m)
        t0 = time.perf_counter()
        run(o, c, size, group_by=groups)
        dt = time.perf_counter() - t0
        print(f"{batch} settings as columns of one call: {dt:.2f} s ({dt / batch:.3f} s per setting), "
              f"peak RSS {rss_mb():.0f} MB")
        del size, o, c


if __name__ == "__main__":
    main()
