"""Times `bt run` on a queue, sequentially and on all cores, end to end (process start to exit)
and inside the run (run.json `wall_time_s`); optionally checks its results against the CSV of
bench_backtesting_py.py. Standard library only.

    python3 docs/bench/time_bt.py --bt target/release/bt docs/bench/sma_grid_goog.ron \
        --repeats 5 --compare /tmp/bpy_grid.csv
"""

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time


def run(bt, queue, out, flags):
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    subprocess.run([bt, "run", queue, "--out", out, "--no-report", "-q", *flags],
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    with open(os.path.join(out, "run.json")) as f:
        info = json.load(f)
    assert info["failed"] == 0, info
    return wall, info["wall_time_s"], info["mode"], info["threads"]


def compare(summary, reference):
    with open(summary) as f:
        ours = {(int(r["fast"]), int(r["slow"])): r for r in csv.DictReader(f)}
    worst, same_trades, n = 0.0, 0, 0
    with open(reference) as f:
        for r in csv.DictReader(f):
            o = ours[(int(r["fast"]), int(r["slow"]))]
            worst = max(worst, abs(float(o["equity_final"]) - float(r["final_equity"])))
            same_trades += int(o["n_trades"]) == int(r["n_trades"])
            n += 1
    print(f"vs {reference}: {n} backtests, {same_trades} with the same number of trades, "
          f"largest final-equity difference {worst:.3g}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("queue")
    ap.add_argument("--bt", default="target/release/bt")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--compare", help="CSV written by bench_backtesting_py.py --out")
    args = ap.parse_args()
    out = tempfile.mkdtemp(prefix="bt-bench-")
    for name, flags in [("sequential", ["--sequential"]), ("all cores", [])]:
        run(args.bt, args.queue, out, flags)  # warm-up: page cache, binary
        runs = [run(args.bt, args.queue, out, flags) for _ in range(args.repeats)]
        wall = statistics.median(r[0] for r in runs)
        inner = statistics.median(r[1] for r in runs)
        print(f"bt {name} ({runs[0][2]}, {runs[0][3]} thread(s)): median of {args.repeats}: "
              f"{wall:.4f} s end to end, {inner:.4f} s in the executor")
    if args.compare:
        run(args.bt, args.queue, out, ["--sequential"])
        compare(os.path.join(out, "summary.csv"), args.compare)
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
