"""The benchmark grid with backtesting.py: 300 SmaCross backtests on GOOG, one after the other.

fast in 5..=34, slow in 40, 50, ..., 130, fast < slow; cash 10000, commission 0.002: the same
grid as docs/bench/sma_grid_goog.ron for `bt run`. Each pair is one `Backtest(...).run()`,
sequentially (backtesting.py's `optimize` would spread the grid over processes).

    python docs/bench/bench_backtesting_py.py data/GOOG.csv --out /tmp/bpy_grid.csv
"""

import argparse
import csv
import time
import warnings

T0 = time.perf_counter()

import pandas as pd  # noqa: E402
from backtesting import Backtest, Strategy  # noqa: E402
from backtesting.lib import crossover  # noqa: E402
from backtesting.test import SMA  # noqa: E402

T_IMPORT = time.perf_counter() - T0


class SmaCross(Strategy):
    fast = 10
    slow = 20

    def init(self):
        self.sma1 = self.I(SMA, self.data.Close, self.fast)
        self.sma2 = self.I(SMA, self.data.Close, self.slow)

    def next(self):
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


def grid():
    return [(f, s) for f in range(5, 35) for s in range(40, 131, 10) if f < s]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data", help="GOOG.csv (first column: the date index)")
    ap.add_argument("--out", help="write fast,slow,return_pct,n_trades,final_equity per backtest")
    args = ap.parse_args()
    # Open trades at the end are expected (finalize_trades=False, as bt's default).
    warnings.filterwarnings("ignore", message="Some trades remain open")
    t = time.perf_counter()
    data = pd.read_csv(args.data, index_col=0, parse_dates=True)
    t_load = time.perf_counter() - t
    rows = []
    t = time.perf_counter()
    for fast, slow in grid():
        bt = Backtest(data, SmaCross, cash=10_000, commission=0.002)
        s = bt.run(fast=fast, slow=slow)
        rows.append((fast, slow, s["Return [%]"], s["# Trades"], s["Equity Final [$]"]))
    t_loop = time.perf_counter() - t
    if args.out:
        with open(args.out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["fast", "slow", "return_pct", "n_trades", "final_equity"])
            w.writerows(rows)
    n = len(rows)
    print(
        f"backtesting.py: {n} backtests in {t_loop:.3f} s ({n / t_loop:.1f}/s, "
        f"{1e3 * t_loop / n:.2f} ms each); imports {T_IMPORT:.3f} s, data {t_load:.3f} s"
    )


if __name__ == "__main__":
    main()
