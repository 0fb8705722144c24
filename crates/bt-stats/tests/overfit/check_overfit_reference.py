#!/usr/bin/env python3
"""Naive independent cross-check of overfit_reference.json (pure loops, direct numpy sr).

Run: /tmp/bpy2/bin/python check_overfit_reference.py  (re-runs the backtests, ~15 s)."""
# Independent naive re-implementation (pure loops, direct numpy sr) to cross-check the fixture.
import sys, json, itertools, math
sys.path.insert(0, str(__import__('pathlib').Path(__file__).resolve().parent))
import numpy as np
import make_overfit_reference as m
d = json.load(open(m.HERE / 'overfit_reference.json'))
for g, (ds, comm, fasts, slows) in zip(d['groups'], m.GROUPS):
    df = m.read_data(m.DEFAULT_DATA / f"{ds}.csv")
    R = [m.returns(m.run_equity(df, t['fast'], t['slow'], comm)) for t in g['trials']]
    N = len(R); T = len(R[0])
    for S in (4, 8, 16):
        bl = [(b*T//S, (b+1)*T//S) for b in range(S)]
        lams, xs, ys = [], [], []
        for c in itertools.combinations(range(S), S//2):
            o = [b for b in range(S) if b not in c]
            def sr(r, bs):
                x = np.concatenate([r[bl[b][0]:bl[b][1]] for b in bs]); return np.mean(x)/np.std(x, ddof=1)
            iss = [sr(r, c) for r in R]; oos = [sr(r, o) for r in R]
            ns = max(range(N), key=lambda i: (iss[i], -i))
            rank = 1 + sum(v < oos[ns] for v in oos) + (sum(v == oos[ns] for v in oos) - 1)/2
            w = rank/(N+1); lams.append(math.log(w/(1-w))); xs.append(iss[ns]); ys.append(oos[ns])
        p = g['pbo'][str(S)]
        got = (np.mean(np.array(lams) <= 0), np.median(lams), np.polyfit(xs, ys, 1)[0], np.mean(np.array(ys) < 0))
        exp = (p['pbo'], p['median_lambda'], p['degradation'], p['prob_loss'])
        print(ds, S, [abs(a-b) for a, b in zip(got, exp)], lams[:10] == p['lambdas_first_10'])
