"""The benchmark grid with vectorbt: the same 300 SMA crossovers on GOOG, vectorised.

All 300 (fast, slow) pairs are columns of one `Portfolio.from_signals` call. The semantics are
approximate, not backtesting.py's: signals are shifted one bar and filled at the next open (as
backtesting.py does), long on a fast-over-slow cross and short on the reverse (`direction="both"`),
fees 0.2 % per fill, but vectorbt buys fractional shares with all the cash while backtesting.py
buys whole shares, so returns differ slightly. The first call includes numba's JIT compilation,
so the script times a cold and a warm run.

    python docs/bench/bench_vectorbt.py data/GOOG.csv --out /tmp/vbt_grid.csv
"""

import argparse
import time

T0 = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import vectorbt as vbt  # noqa: E402

T_IMPORT = time.perf_counter() - T0


def grid():
    return [(f, s) for f in range(5, 35) for s in range(40, 131, 10) if f < s]


def run(data):
    pairs = grid()
    close, open_ = data["Close"], data["Open"]
    fast = vbt.MA.run(close, window=[f for f, _ in pairs], short_name="fast")
    slow = vbt.MA.run(close, window=[s for _, s in pairs], short_name="slow")
    f, s = fast.ma.to_numpy(), slow.ma.to_numpy()
    prev_f, prev_s = np.roll(f, 1, axis=0), np.roll(s, 1, axis=0)
    # backtesting.py's crossover: below (or equal) on the previous bar, strictly above now.
    up = (prev_f <= prev_s) & (f > s)
    down = (prev_f >= prev_s) & (f < s)
    up[0], down[0] = False, False
    columns = pd.MultiIndex.from_tuples(pairs, names=["fast", "slow"])
    # Signal on bar i, fill at the open of bar i + 1.
    entries = pd.DataFrame(up, index=close.index, columns=columns).shift(1, fill_value=False)
    exits = pd.DataFrame(down, index=close.index, columns=columns).shift(1, fill_value=False)
    pf = vbt.Portfolio.from_signals(
        close,
        entries,
        exits,
        price=open_,
        direction="both",
        fees=0.002,
        init_cash=10_000,
        freq="1D",
    )
    return pf.total_return() * 100, pf.trades.count(), pf.final_value()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", help="GOOG.csv (first column: the date index)")
    ap.add_argument("--out", help="write fast,slow,return_pct,n_trades,final_equity per pair")
    args = ap.parse_args()
    data = pd.read_csv(args.data, index_col=0, parse_dates=True)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        ret, trades, final = run(data)
        times.append(time.perf_counter() - t)
    if args.out:
        pd.DataFrame(
            {"return_pct": ret, "n_trades": trades, "final_equity": final}
        ).to_csv(args.out)
    n = len(ret)
    print(
        f"vectorbt {vbt.__version__}: {n} backtests, cold (JIT) {times[0]:.3f} s, "
        f"warm {min(times[1:]):.3f} s ({1e3 * min(times[1:]) / n:.3f} ms each); "
        f"imports {T_IMPORT:.3f} s"
    )


if __name__ == "__main__":
    main()
