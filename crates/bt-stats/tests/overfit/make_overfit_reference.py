#!/usr/bin/env python3
"""Reference implementation + fixture generator for bt's overfitting statistics (PSR, DSR, PBO).

Independent of bt: the equity curves come from backtesting.py 0.6.6 itself.

Set-up (own venv; pip picked numpy 2.4.6, pandas 3.1.1, scipy 1.17.1 on 2026-05, the same
numpy/pandas as the parity fixtures' manifest.json):

    python3 -m venv /tmp/bpy2
    /tmp/bpy2/bin/pip install backtesting==0.6.6 scipy
    /tmp/bpy2/bin/python make_overfit_reference.py            # writes overfit_reference.json here

Options: ``--out PATH`` (default: overfit_reference.json next to this file); ``--data-dir DIR``
(default: /work/main/crates/bt-stats/tests/parity/data, only read).

Definitions (the contract; see README.md for the subtleties):

Per simulation, r_t = E_t / E_{t-1} - 1 for t = 1..bars-1 over the whole equity curve (warm-up
bars included, where equity is flat so r = 0), T = bars - 1.
  sr       = mean(r) / std(r, ddof=1)              (numpy np.mean / np.std, per bar, not annualised)
  skew     = scipy.stats.skew(r, bias=True)
  kurtosis = scipy.stats.kurtosis(r, fisher=False, bias=True)      (not excess)
  psr      = PSR(0), PSR(SR*) = Phi((sr - SR*) sqrt(T-1) / sqrt(1 - skew sr + (kurtosis-1)/4 sr^2))
Per group (N trials):
  best     = argmax sr (first in queue order on ties; a NaN sr is never the best)
  V        = var(sr over trials, ddof=1)
  SR0      = sqrt(V) ((1-g) Phi^-1(1-1/N) + g Phi^-1(1-1/(N e))), g = Euler-Mascheroni
  dsr      = PSR(SR0) with the best trial's sr, skew, kurtosis, T; null for N < 2
  pbo      = CSCV over S contiguous blocks, block b = [floor(b T/S), floor((b+1) T/S)); splits in
             itertools.combinations(range(S), S//2) order (the chosen blocks are in-sample).
             Per split and trial, sr from per-block (count, sum, sumsq):
                 n = sum counts, mean = sum/n, var = (sumsq - sum*mean)/(n-1), sr = mean/sqrt(var)
             n* = argmax IS sr (first on ties), rank = 1 + #(OOS sr < n*'s) + #(others ==)/2,
             w = rank/(N+1), lambda = ln(w/(1-w)); pbo = mean(lambda <= 0),
             median_lambda = np.median, degradation = OLS slope of OOS sr(n*) on IS sr(n*),
             prob_loss = mean(OOS sr(n*) < 0).

Numerical conventions chosen here (the contract leaves them open):
  * per-block sum and sumsq are math.fsum (correctly rounded); blocks are combined by plain
    left-to-right float addition in ascending block order (starting from the lowest block);
  * ranking order is NaN < -inf < finite < +inf, all NaNs equal to each other (a NaN sr is the
    lowest possible value); a NaN OOS sr is not "< 0" for prob_loss;
  * degradation is the closed form sum((x-mx)(y-my)) / sum((x-mx)^2) with mx, my = np.mean;
    np.polyfit's value is stored alongside for comparison;
  * NaN is written as null and +-inf as "inf"/"-inf".
"""

from __future__ import annotations

import os

# Keep CPU modest and results independent of thread count: one BLAS thread.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import itertools
import json
import math
import platform
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import scipy.stats
from scipy.stats import norm

import backtesting
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = Path("/work/main/crates/bt-stats/tests/parity/data")
ANCHOR_EQUITY = DEFAULT_DATA.parent / "runs" / "goog_smacross_10_20_comm002.equity.csv"

EULER_GAMMA = 0.5772156649015329
S_VALUES = (16, 8, 4)

GROUPS = [
    # dataset, commission, fast list, slow list
    ("GOOG", 0.002, [5, 10, 15, 20, 25], [30, 40, 60, 90]),
    ("EURUSD_H1", 0.0002, [5, 10, 20], [30, 50]),
]


# ---------------------------------------------------------------------------------------------
# Strategy (identical to parity/gen_fixtures.py: SMA = backtesting.test.SMA)
# ---------------------------------------------------------------------------------------------

def SMA(values, n):
    return pd.Series(values).rolling(n).mean()


class SmaCross(Strategy):
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


def read_data(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, index_col=0, parse_dates=True)


def run_equity(df: pd.DataFrame, fast: int, slow: int, commission: float) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = Backtest(df, SmaCross, cash=10000, commission=commission)
        stats = bt.run(n1=fast, n2=slow)
    eq = stats["_equity_curve"]["Equity"].to_numpy(dtype=np.float64)
    assert len(eq) == len(df)
    return eq


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------

def returns(eq: np.ndarray) -> np.ndarray:
    return eq[1:] / eq[:-1] - 1.0


def psr(sr: float, skew: float, kurt: float, T: int, sr_star: float) -> float:
    """Phi((sr - sr_star) sqrt(T-1) / sqrt(1 - skew sr + (kurt-1)/4 sr^2)); NaN if undefined."""
    d = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if not (d > 0) or T < 2:
        return math.nan
    z = (sr - sr_star) * math.sqrt(T - 1) / math.sqrt(d)
    return float(norm.cdf(z)) if z == z else math.nan


def trial_stats(r: np.ndarray) -> dict:
    T = len(r)
    with np.errstate(all="ignore"):
        sr = float(np.mean(r) / np.std(r, ddof=1))
    sk = float(scipy.stats.skew(r, bias=True))
    ku = float(scipy.stats.kurtosis(r, fisher=False, bias=True))
    return {"T": T, "sr": sr, "skew": sk, "kurtosis": ku, "psr": psr(sr, sk, ku, T, 0.0)}


def key_lower(a: np.ndarray, b):
    """a < b in the order NaN < -inf < finite < +inf (NaN == NaN)."""
    an, bn = np.isnan(a), np.isnan(b)
    return (an & ~bn) | (~an & ~bn & (a < b))


def key_equal(a: np.ndarray, b):
    an, bn = np.isnan(a), np.isnan(b)
    return (an & bn) | (a == b)


def argmax_first(x: np.ndarray) -> np.ndarray:
    """Row-wise argmax over axis 0 (trials), first index on ties, NaN the lowest value.

    x: (N, n_splits). Returns (n_splits,) int.
    """
    N = x.shape[0]
    best = np.zeros(x.shape[1], dtype=np.int64)
    bestv = x[0].copy()
    for i in range(1, N):
        better = key_lower(bestv, x[i])          # strictly greater only -> first wins ties
        best[better] = i
        bestv[better] = x[i][better]
    return best


def block_bounds(T: int, S: int):
    return [((b * T) // S, ((b + 1) * T) // S) for b in range(S)]


def sr_from_blocks(cnt, sm, sq, idx):
    """cnt/sm/sq: (N, S) per-block stats; idx: (n_splits, k) block indices, ascending.

    Combined left to right in ascending block order; returns (N, n_splits) sr (and NaN/inf as
    IEEE gives them: var <= 0 -> sqrt NaN or 0 -> x/0).
    """
    n = cnt[:, idx[:, 0]].copy()
    s = sm[:, idx[:, 0]].copy()
    q = sq[:, idx[:, 0]].copy()
    for k in range(1, idx.shape[1]):
        n += cnt[:, idx[:, k]]
        s += sm[:, idx[:, k]]
        q += sq[:, idx[:, k]]
    with np.errstate(all="ignore"):
        mean = s / n
        var = (q - s * mean) / (n - 1.0)
        sr = mean / np.sqrt(var)
    return sr, var


def sr_direct(R: np.ndarray, bounds, blocks) -> np.ndarray:
    cols = np.concatenate([np.arange(*bounds[b]) for b in blocks])
    x = R[:, cols]
    with np.errstate(all="ignore"):
        return np.mean(x, axis=1) / np.std(x, axis=1, ddof=1)


def rank_of_nstar(oos: np.ndarray, nstar: np.ndarray) -> np.ndarray:
    N, M = oos.shape
    v = oos[nstar, np.arange(M)]
    lower = key_lower(oos, v[None, :]).sum(axis=0)
    equal = key_equal(oos, v[None, :]).sum(axis=0) - 1    # others only
    return 1.0 + lower + equal / 2.0, equal


def cscv(R: np.ndarray, S: int) -> dict:
    N, T = R.shape
    bounds = block_bounds(T, S)
    cnt = np.array([[float(e - s) for (s, e) in bounds]] * N)
    sm = np.array([[math.fsum(R[i, s:e]) for (s, e) in bounds] for i in range(N)])
    sq = np.array([[math.fsum(R[i, s:e] * R[i, s:e]) for (s, e) in bounds] for i in range(N)])
    combos = list(itertools.combinations(range(S), S // 2))
    is_idx = np.array(combos, dtype=np.int64)
    oos_idx = np.array([[b for b in range(S) if b not in c] for c in combos], dtype=np.int64)
    M = len(combos)

    is_sr, is_var = sr_from_blocks(cnt, sm, sq, is_idx)
    oos_sr, oos_var = sr_from_blocks(cnt, sm, sq, oos_idx)

    # Direct numpy recomputation (concatenated returns) for the discrepancy check.
    is_d = np.empty_like(is_sr)
    oos_d = np.empty_like(oos_sr)
    for j in range(M):
        is_d[:, j] = sr_direct(R, bounds, is_idx[j])
        oos_d[:, j] = sr_direct(R, bounds, oos_idx[j])
    both = np.concatenate([is_sr.ravel(), oos_sr.ravel()])
    bothd = np.concatenate([is_d.ravel(), oos_d.ravel()])
    fin = np.isfinite(both) & np.isfinite(bothd)
    max_abs = float(np.max(np.abs(both[fin] - bothd[fin]))) if fin.any() else None
    max_rel = float(np.max(np.abs(both[fin] - bothd[fin]) / np.abs(bothd[fin]))) if fin.any() else None

    nstar = argmax_first(is_sr)
    cols = np.arange(M)
    rank, n_equal = rank_of_nstar(oos_sr, nstar)
    w = rank / (N + 1.0)
    lam = np.log(w / (1.0 - w))
    x = is_sr[nstar, cols]
    y = oos_sr[nstar, cols]

    # Same pipeline on the direct values: does anything discrete change?
    nstar_d = argmax_first(is_d)
    rank_d, _ = rank_of_nstar(oos_d, nstar_d)

    # Robustness margins: IS gap between n* and the runner-up; OOS gap between n* and the closest
    # other trial (how far the block-vs-direct difference is from flipping a decision).
    if N >= 2:
        srt = np.sort(np.where(np.isnan(is_sr), -np.inf, is_sr), axis=0)
        is_gap = float(np.min(srt[-1] - srt[-2]))
        d = np.abs(oos_sr - y[None, :])
        d[nstar, cols] = np.inf
        oos_gap = float(np.min(d))
    else:
        is_gap = oos_gap = None

    ok = np.isfinite(x) & np.isfinite(y)
    if ok.all() and M >= 2:
        xm, ym = np.mean(x), np.mean(y)
        sxx = float(np.sum((x - xm) ** 2))
        degradation = float(np.sum((x - xm) * (y - ym)) / sxx) if sxx > 0 else math.nan
        deg_polyfit = float(np.polyfit(x, y, 1)[0]) if sxx > 0 else math.nan
    else:
        degradation = deg_polyfit = math.nan

    return {
        "S": S,
        "pbo": float(np.mean(lam <= 0)),
        "median_lambda": float(np.median(lam)),
        "degradation": degradation,
        "prob_loss": float(np.mean(y < 0)),
        "n_splits": M,
        "n_lambda_le_0": int(np.sum(lam <= 0)),
        "n_oos_loss": int(np.sum(y < 0)),
        "lambda_fsum": math.fsum(lam.tolist()),
        "lambdas_first_10": lam[:10].tolist(),
        "n_star_first_10": nstar[:10].tolist(),
        "is_sr_first_10": x[:10].tolist(),
        "oos_sr_first_10": y[:10].tolist(),
        "rank_first_10": rank[:10].tolist(),
        "nstar_counts": np.bincount(nstar, minlength=N).tolist(),
        "block_bounds": [list(b) for b in bounds],
        "diagnostics": {
            "degradation_polyfit": deg_polyfit,
            "block_vs_direct_sr_max_abs_diff": max_abs,
            "block_vs_direct_sr_max_rel_diff": max_rel,
            "nonfinite_sr_block": int(np.sum(~np.isfinite(is_sr)) + np.sum(~np.isfinite(oos_sr))),
            "nonfinite_sr_direct": int(np.sum(~np.isfinite(is_d)) + np.sum(~np.isfinite(oos_d))),
            "nonpositive_var_block": int(np.sum(is_var <= 0) + np.sum(oos_var <= 0)),
            "splits_with_oos_ties_to_nstar": int(np.sum(n_equal > 0)),
            "splits_nstar_differs_block_vs_direct": int(np.sum(nstar != nstar_d)),
            "splits_rank_differs_block_vs_direct": int(np.sum(rank != rank_d)),
            "min_is_gap_best_vs_runner_up": is_gap,
            "min_oos_gap_nstar_vs_other": oos_gap,
        },
    }


def group_stats(trials: list, R: np.ndarray) -> dict:
    N = len(trials)
    srs = np.array([t["sr"] for t in trials])
    best = int(argmax_first(srs[:, None])[0])
    bt_ = trials[best]
    if N >= 2:
        V = float(np.var(srs, ddof=1))
        sr0 = math.sqrt(V) * ((1 - EULER_GAMMA) * float(norm.ppf(1 - 1 / N))
                              + EULER_GAMMA * float(norm.ppf(1 - 1 / (N * math.e))))
        dsr = psr(bt_["sr"], bt_["skew"], bt_["kurtosis"], bt_["T"], sr0)
    else:
        V = sr0 = dsr = None
    return {"n": N, "best_id": bt_["id"], "best_sr": bt_["sr"], "sr_variance": V, "sr0": sr0,
            "dsr": dsr, "pbo": {str(S): cscv(R, S) for S in S_VALUES}}


# ---------------------------------------------------------------------------------------------

def clean(o):
    if isinstance(o, float):
        if math.isnan(o):
            return None
        if math.isinf(o):
            return "inf" if o > 0 else "-inf"
        return o
    if isinstance(o, dict):
        return {k: clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [clean(v) for v in o]
    if isinstance(o, (np.floating,)):
        return clean(float(o))
    if isinstance(o, (np.integer,)):
        return int(o)
    return o


DEFINITIONS = (
    "r_t = E_t/E_{t-1} - 1 over the whole equity curve (T = bars-1, warm-up zeros included). "
    "sr = mean/std(ddof=1) per bar (np.mean/np.std); skew, kurtosis (not excess) with ddof=0 "
    "(scipy bias=True); psr = Phi(sr*sqrt(T-1)/sqrt(1 - skew*sr + (kurtosis-1)/4*sr^2)). "
    "Group: best = first max sr in queue order; V = var(sr, ddof=1); "
    "SR0 = sqrt(V)*((1-g)*Phi^-1(1-1/N) + g*Phi^-1(1-1/(N e))), g = 0.5772156649015329; "
    "dsr = PSR(SR0) of the best trial (null if N<2). "
    "pbo: CSCV, S contiguous blocks [floor(bT/S), floor((b+1)T/S)), splits in "
    "itertools.combinations(range(S), S//2) order (chosen blocks = in-sample); split sr from "
    "per-block (count, fsum, fsum of squares) combined in ascending block order: "
    "mean = sum/n, var = (sumsq - sum*mean)/(n-1), sr = mean/sqrt(var) (stored values are these "
    "block-formula values); n* = first argmax IS sr; rank = 1 + #lower OOS + #other equal/2; "
    "lambda = ln(w/(1-w)), w = rank/(N+1); pbo = frac(lambda <= 0); median_lambda = np.median; "
    "degradation = OLS slope of OOS sr(n*) on IS sr(n*) (closed form cov/var); prob_loss = "
    "frac(OOS sr(n*) < 0). Ranking order NaN < -inf < finite < inf (NaN lowest, NaN == NaN). "
    "NaN -> null, inf -> \"inf\". n_star/nstar_counts index trials in queue order (0-based)."
)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=HERE / "overfit_reference.json")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()

    # Sanity anchor: our Backtest set-up reproduces the parity fixture for SmaCross(10, 20).
    goog = read_data(args.data_dir / "GOOG.csv")
    if ANCHOR_EQUITY.exists():
        ref = pd.read_csv(ANCHOR_EQUITY)["Equity"].to_numpy(dtype=np.float64)
        eq = run_equity(goog, 10, 20, 0.002)
        assert np.array_equal(ref, eq), "anchor equity mismatch"
        print(f"anchor check ok: SmaCross(10, 20) equity == {ANCHOR_EQUITY.name} bit for bit")

    groups = []
    for dataset, comm, fasts, slows in GROUPS:
        df = read_data(args.data_dir / f"{dataset}.csv")
        trials, rets = [], []
        for fast in fasts:
            for slow in slows:
                if not fast < slow:
                    continue
                eq = run_equity(df, fast, slow, comm)
                r = returns(eq)
                t = {"id": f"sma/{dataset}/fast={fast},slow={slow}", "fast": fast, "slow": slow}
                t.update(trial_stats(r))
                t["equity_final"] = float(eq[-1])
                t["bars"] = len(eq)
                t["leading_zero_returns"] = int(np.argmax(r != 0)) if (r != 0).any() else len(r)
                t["zero_returns"] = int(np.sum(r == 0))
                trials.append(t)
                rets.append(r)
        R = np.vstack(rets)
        g = {"dataset": dataset, "strategy": "sma_cross", "commission": comm, "trials": trials}
        g.update(group_stats(trials, R))
        groups.append(g)

    doc = {
        "versions": {
            "backtesting": backtesting.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
            "python": platform.python_version(),
        },
        "definitions": DEFINITIONS,
        "groups": groups,
    }
    text = json.dumps(clean(doc), indent=1, allow_nan=False) + "\n"
    args.out.write_text(text)
    print(f"wrote {args.out} ({len(text)} bytes)")


if __name__ == "__main__":
    main()
