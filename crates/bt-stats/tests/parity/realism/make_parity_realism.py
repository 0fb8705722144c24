#!/usr/bin/env python3
"""Reference runs for trailing stop-loss and fractional units, made with backtesting.py 0.6.6.

Run with the venv that has backtesting==0.6.6 installed:

    $VENV/bin/python make_parity_realism.py   # python -m venv $VENV; $VENV/bin/pip install backtesting==0.6.6
    $VENV/bin/python make_parity_realism.py --data /path/to/parity/data   # from anywhere else
    $VENV/bin/python make_parity_realism.py --only RUN [--only RUN ...]   # a subset (no manifest)

Same output format as the other runs in ../runs (stats JSON, trades CSV, equity CSV). Data is read
from <DATA>/<NAME>.csv, where <DATA> is, first match wins:

    --data DIR                  command-line flag
    $BT_PARITY_DATA             environment variable
    ../data                     relative to this script, i.e. the parity data dir when the script
                                lives in crates/bt-stats/tests/parity/realism/

For every run it writes, under this script's directory (or --out DIR):

    <run>.stats.json    every stats key (floats as shortest round-trip repr, i.e. exact), run
                        metadata (strategy, params = the exact bt.run() kwargs,
                        backtest_class, backtest_kwargs, features) and a few derived internals
    <run>.stats.txt     repr() of every stats line (full precision) + pandas' own printout
    <run>.trades.csv    the full closed-trades table (floats '%.17g', round-trip exact)
    <run>.equity.csv    the equity curve (Equity, DrawdownPct, DrawdownDuration)

and, for runs with a trailing stop-loss only (an addition, not in ../parity):

    <run>.atr.csv       the per-bar ATR array TrailingStrategy trails with (internal price
                        units, i.e. scaled by fractional_unit for a FractionalBacktest run)

A run that raises writes <run>.error.json instead (traceback paths made location-independent:
<site-packages>/backtesting/..., <generator>/make_parity_realism.py).

After all runs it writes manifest.json: one object per run (see README.md), from which the Rust
test is data-driven.
"""
from __future__ import annotations

import json
import math
import os
import sys
import traceback
import warnings

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
# Resolved in main() from --data / $BT_PARITY_DATA / ../data (see the docstring).
DATA = os.environ.get('BT_PARITY_DATA') or os.path.join(HERE, '..', 'data')
OUT = HERE

import backtesting  # noqa: E402
from backtesting import Backtest, Strategy  # noqa: E402
from backtesting.lib import FractionalBacktest, TrailingStrategy, crossover  # noqa: E402
from backtesting._util import _data_period, _indicator_warmup_nbars  # noqa: E402

def load(name: str) -> pd.DataFrame:
    return pd.read_csv(os.path.join(DATA, f'{name}.csv'), index_col=0, parse_dates=True)


def SMA(arr, n):
    """Identical to backtesting.test.SMA."""
    return pd.Series(arr).rolling(n).mean()


class SmaCross(Strategy):
    """Canonical backtesting.py README example (long/short, always in the market)."""
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
    """Long-only variant: close+buy on golden cross, close on death cross."""
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


def jsonable(v):
    """Exact, type-tagged JSON encoding of a stats value."""
    if v is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isnan(f):
            return 'NaN'
        if math.isinf(f):
            return 'Infinity' if f > 0 else '-Infinity'
        return f  # json uses repr(): shortest round-trip representation, exact
    if isinstance(v, pd.Timestamp):
        return {'timestamp': v.isoformat()}
    if isinstance(v, pd.Timedelta):
        return {'timedelta': str(v), 'seconds': v.total_seconds(), 'ns': int(v.value)}
    if v is pd.NaT:
        return 'NaT'
    return repr(v)




class _TrailMixin:
    """Strategy parameters for the trailing stop (passed through bt.run(**params))."""
    n1 = 10
    n2 = 20
    atr_periods = None  # None: keep TrailingStrategy's default set_atr_periods() (100)
    trail_sl = None     # -> self.set_trailing_sl(trail_sl)
    trail_pct = None    # -> self.set_trailing_pct(trail_pct)

    def _init_trailing(self):
        if self.atr_periods is not None:
            self.set_atr_periods(self.atr_periods)
        if self.trail_pct is not None:
            assert self.trail_sl is None
            self.set_trailing_pct(self.trail_pct)
        elif self.trail_sl is not None:
            self.set_trailing_sl(self.trail_sl)


class SmaCrossTrail(_TrailMixin, TrailingStrategy):
    """SmaCross (long/short, always in the market) + TrailingStrategy's ATR trailing stop."""

    def init(self):
        super().init()  # TrailingStrategy.init -> self.set_atr_periods() (100)
        self._init_trailing()
        close = self.data.Close
        self.sma1 = self.I(SMA, close, self.n1)
        self.sma2 = self.I(SMA, close, self.n2)

    def next(self):
        super().next()  # FIRST: TrailingStrategy moves the SL of every open trade
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


class SmaCrossLongOnlyTrail(_TrailMixin, TrailingStrategy):
    """Long-only SmaCross (close+buy on golden cross, close on death cross) + trailing stop."""

    def init(self):
        super().init()
        self._init_trailing()
        close = self.data.Close
        self.sma1 = self.I(SMA, close, self.n1)
        self.sma2 = self.I(SMA, close, self.n2)

    def next(self):
        super().next()
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()


STRATS = {'SmaCross': SmaCross, 'SmaCrossLongOnly': SmaCrossLongOnly,
          'SmaCrossTrail': SmaCrossTrail, 'SmaCrossLongOnlyTrail': SmaCrossLongOnlyTrail}

C002 = dict(cash=10_000, commission=.002)
BTC = dict(cash=1_000_000, commission=.001)  # BTC_M1 closes reach 75 891: whole units need cash

# name, data, strategy, params (= bt.run(**params)), Backtest kwargs, fractional_unit or None.
# `commission` as a tuple is backtesting.py's (fixed, relative) form (it must be a tuple, a list
# raises TypeError); JSON files write it as [fixed, relative].
RUNS = [
    # --- the three original runs (../shared/parity/realism), reproduced byte for byte ---
    # trailing stop-loss (backtesting.lib.TrailingStrategy): ATR multiple, long/short
    ('goog_smacross_trail_atr3_10_20_comm002', 'GOOG', 'SmaCrossTrail',
     dict(n1=10, n2=20, trail_sl=3), C002, None),
    # trailing stop-loss as a percentage (set_trailing_pct), long only
    ('goog_longonly_trail_pct5_20_50_comm0', 'GOOG', 'SmaCrossLongOnlyTrail',
     dict(n1=20, n2=50, trail_pct=0.05), dict(cash=10_000), None),
    # fractional units (backtesting.lib.FractionalBacktest)
    ('goog_smacross_frac_0.01_10_20_comm002', 'GOOG', 'SmaCross',
     dict(n1=10, n2=20), dict(cash=1_000, commission=.002), 0.01),

    # --- trailing stop, GOOG daily ---
    # ATR multiple, long only
    ('goog_longonly_trail_atr3_10_20_comm002', 'GOOG', 'SmaCrossLongOnlyTrail',
     dict(n1=10, n2=20, trail_sl=3), C002, None),
    # percentage, long/short
    ('goog_smacross_trail_pct5_20_50_comm0', 'GOOG', 'SmaCrossTrail',
     dict(n1=20, n2=50, trail_pct=0.05), dict(cash=10_000), None),
    # custom ATR period (14), tight stop: many SL exits
    ('goog_smacross_trail_atr2_10_20_atr14_comm002', 'GOOG', 'SmaCrossTrail',
     dict(n1=10, n2=20, atr_periods=14, trail_sl=2), C002, None),
    # custom ATR period (50) + percentage: set_trailing_pct reads the ATR(50)
    ('goog_longonly_trail_pct8_20_50_atr50_comm001', 'GOOG', 'SmaCrossLongOnlyTrail',
     dict(n1=20, n2=50, atr_periods=50, trail_pct=0.08), dict(cash=10_000, commission=.001), None),
    # 4-ATR stop (leaves a trade open at the end), plain / finalize / trade_on_close / both
    ('goog_smacross_trail_atr4_10_20_comm002', 'GOOG', 'SmaCrossTrail',
     dict(n1=10, n2=20, trail_sl=4), C002, None),
    ('goog_smacross_trail_atr4_10_20_comm002_finalize', 'GOOG', 'SmaCrossTrail',
     dict(n1=10, n2=20, trail_sl=4), dict(C002, finalize_trades=True), None),
    ('goog_smacross_trail_atr4_10_20_comm002_trade_on_close', 'GOOG', 'SmaCrossTrail',
     dict(n1=10, n2=20, trail_sl=4), dict(C002, trade_on_close=True), None),
    # (the finalize close fills at C[N-2], exit bar N-2)
    ('goog_smacross_trail_atr4_10_20_comm002_trade_on_close_finalize', 'GOOG', 'SmaCrossTrail',
     dict(n1=10, n2=20, trail_sl=4), dict(C002, trade_on_close=True, finalize_trades=True), None),
    # trade_on_close + finalize_trades, long only with a percentage stop
    ('goog_longonly_trail_pct5_5_15_comm001_trade_on_close_finalize', 'GOOG', 'SmaCrossLongOnlyTrail',
     dict(n1=5, n2=15, trail_pct=0.05), dict(cash=10_000, commission=.001, trade_on_close=True,
                                             finalize_trades=True), None),
    # a 15-ATR stop on a long: Close - 15*ATR(100) <= 0 in the 2008 crash -> AssertionError
    # (finite negative price; writes .error.json)
    ('goog_longonly_trail_atr15_10_20_comm002_error', 'GOOG', 'SmaCrossLongOnlyTrail',
     dict(n1=10, n2=20, trail_sl=15), C002, None),
    # spread + relative commission
    ('goog_smacross_trail_atr3_10_20_spread0005_comm001', 'GOOG', 'SmaCrossTrail',
     dict(n1=10, n2=20, trail_sl=3), dict(cash=10_000, spread=.0005, commission=.001), None),
    # spread + commission tuple (fixed, relative)
    ('goog_longonly_trail_atr2_10_20_spread0005_commtuple', 'GOOG', 'SmaCrossLongOnlyTrail',
     dict(n1=10, n2=20, trail_sl=2), dict(cash=10_000, spread=.0005, commission=(2.0, .0005)), None),

    # --- trailing stop, EURUSD_H1 hourly FX ---
    ('eurusd_h1_smacross_trail_atr3_10_30_comm0002_spread0001', 'EURUSD_H1', 'SmaCrossTrail',
     dict(n1=10, n2=30, trail_sl=3), dict(cash=10_000, spread=.0001, commission=.0002), None),
    ('eurusd_h1_longonly_trail_pct02_20_50_margin01', 'EURUSD_H1', 'SmaCrossLongOnlyTrail',
     dict(n1=20, n2=50, trail_pct=0.002), dict(cash=10_000, commission=.0001, margin=.1), None),

    # --- trailing stop, BTC_M1 monthly crypto (60 bars) ---
    # default ATR(100) on 60 bars: ATR all NaN -> SL +inf -> AssertionError (writes .error.json)
    ('btc_m1_smacross_trail_atr3_3_6_comm001_atr100_error', 'BTC_M1', 'SmaCrossTrail',
     dict(n1=3, n2=6, trail_sl=3), BTC, None),
    ('btc_m1_smacross_trail_atr1.5_3_6_atr5_comm001', 'BTC_M1', 'SmaCrossTrail',
     dict(n1=3, n2=6, atr_periods=5, trail_sl=1.5), BTC, None),
    ('btc_m1_longonly_trail_pct10_3_6_atr10_comm001', 'BTC_M1', 'SmaCrossLongOnlyTrail',
     dict(n1=3, n2=6, atr_periods=10, trail_pct=0.1), BTC, None),

    # --- fractional units (FractionalBacktest) ---
    # the default unit 1e-8 (one satoshi; 1 / 100e6 == 1e-8 exactly) on BTC, cash 10 000
    ('btc_m1_smacross_frac_1e-8_3_6_comm001', 'BTC_M1', 'SmaCross',
     dict(n1=3, n2=6), dict(cash=10_000, commission=.001), 1e-8),
    # unit 0.1 on GOOG
    ('goog_smacross_frac_0.1_10_20_comm002', 'GOOG', 'SmaCross',
     dict(n1=10, n2=20), dict(cash=1_000, commission=.002), 0.1),
    # commission tuple: the fixed fee is divided by the relative order size and added to the
    # (scaled) unit price in the sizing -> far smaller positions than the rate alone
    ('goog_longonly_frac_0.01_10_20_commtuple', 'GOOG', 'SmaCrossLongOnly',
     dict(n1=10, n2=20), dict(cash=10_000, commission=(1.0, .001)), 0.01),
    ('btc_m1_smacross_frac_1e-8_3_6_commtuple', 'BTC_M1', 'SmaCross',
     dict(n1=3, n2=6), dict(cash=10_000, commission=(1.0, .001)), 1e-8),
    # margin < 1
    ('goog_smacross_frac_0.01_10_20_margin05_comm002', 'GOOG', 'SmaCross',
     dict(n1=10, n2=20), dict(cash=1_000, commission=.002, margin=.5), 0.01),
    ('btc_m1_longonly_frac_1e-6_3_6_margin05_comm001', 'BTC_M1', 'SmaCrossLongOnly',
     dict(n1=3, n2=6), dict(cash=10_000, commission=.001, margin=.5), 1e-6),
    # fractional + finalize
    ('goog_smacross_frac_0.01_10_20_comm002_finalize', 'GOOG', 'SmaCross',
     dict(n1=10, n2=20), dict(cash=1_000, commission=.002, finalize_trades=True), 0.01),
    # fractional + trailing stop (ATR and the stop on scaled prices)
    ('goog_smacross_frac_0.01_trail_atr3_10_20_comm002', 'GOOG', 'SmaCrossTrail',
     dict(n1=10, n2=20, trail_sl=3), dict(cash=1_000, commission=.002), 0.01),
    ('btc_m1_smacross_frac_1e-8_trail_atr1.5_3_6_atr5_comm001', 'BTC_M1', 'SmaCrossTrail',
     dict(n1=3, n2=6, atr_periods=5, trail_sl=1.5), dict(cash=10_000, commission=.001), 1e-8),
    # fractional + percentage trailing stop + finalize
    ('goog_longonly_frac_0.01_trail_pct10_10_20_comm001_finalize', 'GOOG', 'SmaCrossLongOnlyTrail',
     dict(n1=10, n2=20, trail_pct=0.1), dict(cash=1_000, commission=.001, finalize_trades=True), 0.01),
]

BT_DEFAULTS = {'cash': 10_000, 'spread': 0.0, 'commission': 0.0, 'margin': 1.0,
               'trade_on_close': False, 'hedging': False,
               'exclusive_orders': False, 'finalize_trades': False}


def features_of(strat_name, params, frac_unit, strategy=None):
    trailing = None
    if issubclass(STRATS[strat_name], TrailingStrategy):
        calls = ['super().init()  # TrailingStrategy.init: self.set_atr_periods() i.e. periods=100']
        if params.get('atr_periods') is not None:
            calls.append(f"self.set_atr_periods({params['atr_periods']!r})")
        if params.get('trail_pct') is not None:
            calls.append(f"self.set_trailing_pct({params['trail_pct']!r})")
        elif params.get('trail_sl') is not None:
            calls.append(f"self.set_trailing_sl({params['trail_sl']!r})")
        calls.append('self.I(SMA, Close, n1); self.I(SMA, Close, n2)')
        trailing = {
            'class': 'backtesting.lib.TrailingStrategy',
            'init_calls_in_order': calls,
            'next_order': 'super().next() (moves every open trade\'s SL) BEFORE the SmaCross logic',
            'atr_periods': params.get('atr_periods') if params.get('atr_periods') is not None else 100,
            'set_trailing_sl': params.get('trail_sl'),
            'set_trailing_pct': params.get('trail_pct'),
        }
        if strategy is not None:
            atr = strategy._TrailingStrategy__atr
            # set_trailing_pct stores np.mean(...) (a 0-d _Array): cast to float for JSON
            trailing['n_atr_effective'] = jsonable(float(strategy._TrailingStrategy__n_atr))
            trailing['atr_units'] = ('internal, scaled by fractional_unit' if frac_unit
                                     else 'price units')
            trailing['atr_first'] = jsonable(atr[0])
            trailing['atr_last'] = jsonable(atr[-1])
            trailing['atr_file'] = 'ATR per bar in <run>.atr.csv'
    fractional = None
    if frac_unit is not None:
        fractional = {
            'class': 'backtesting.lib.FractionalBacktest',
            'fractional_unit': frac_unit,
            'internal_data': 'Open/High/Low/Close * fractional_unit, Volume / fractional_unit',
            'trades_rescaled_by_run': 'Size *= fractional_unit; EntryPrice, ExitPrice, TP, SL /= fractional_unit',
            'trades_not_rescaled': 'PnL, Commission, ReturnPct (unit-free/cash) and the Entry_*/Exit_* '
                                   'indicator columns (left in INTERNAL scaled price units)',
            'stats_and_equity': 'as computed on the scaled data; cash-denominated, not rescaled',
        }
    return {'trailing': trailing, 'fractional': fractional}


def error_context(exc):
    """Where TrailingStrategy.next() raised: bar, trade and the SL value it tried to set."""
    tb = exc.__traceback__
    ctx = None
    while tb is not None:
        fl = tb.tb_frame.f_locals
        if (tb.tb_frame.f_code.co_name == 'next' and isinstance(fl.get('self'), TrailingStrategy)
                and 'index' in fl and 'trade' in fl):
            st, i, t = fl['self'], int(fl['index']), fl['trade']
            atr, n_atr = st._TrailingStrategy__atr, float(st._TrailingStrategy__n_atr)
            close = float(st.data.Close[i])
            # the value TrailingStrategy.next() passed to trade.sl (max/min with the old SL,
            # Python's max/min: a NaN candidate loses against +-inf)
            cand = close - float(atr[i]) * n_atr if t.is_long else close + float(atr[i]) * n_atr
            passed = (max(t.sl or -np.inf, cand) if t.is_long else min(t.sl or np.inf, cand))
            # jsonable(): NaN/inf become strings (plain json.dump would write invalid JSON)
            ctx = {'bar': i, 'time': jsonable(st.data.index[i]),
                   'close_internal': jsonable(close), 'atr_internal': jsonable(float(atr[i])),
                   'n_atr': jsonable(n_atr),
                   'attempted_sl_internal': jsonable(cand),
                   'sl_passed_to_setter': jsonable(float(passed)),
                   'trade': {'size': int(t.size), 'is_long': bool(t.is_long),
                             'entry_bar': int(t.entry_bar), 'entry_price_internal': float(t.entry_price),
                             'sl_before': jsonable(t.sl)},
                   'n_closed_trades_before': len(st.closed_trades),
                   'n_open_trades': len(st.trades)}
        tb = tb.tb_next
    return ctx


def portable_traceback(exc):
    """traceback.format_exception with the machine-specific path prefixes replaced."""
    site = os.path.dirname(os.path.dirname(os.path.abspath(backtesting.__file__)))
    me = os.path.abspath(__file__)
    return [s.replace(me, '<generator>/' + os.path.basename(me)).replace(site, '<site-packages>')
            for s in traceback.format_exception(exc)]


def write_error(name, data_name, strat_name, params, kw, frac_unit, exc, warns):
    out = {
        'run': name, 'data': f'data/{data_name}.csv', 'strategy': strat_name, 'params': params,
        'backtest_class': 'FractionalBacktest' if frac_unit is not None else 'Backtest',
        'backtest_kwargs': {**BT_DEFAULTS, **kw,
                            **({'fractional_unit': frac_unit} if frac_unit is not None else {})},
        'features': features_of(strat_name, params, frac_unit),
        'versions': versions(),
        'warnings': warns,
        'error': {'type': type(exc).__name__, 'message': str(exc),
                  'raised_in': error_context(exc),
                  'traceback': portable_traceback(exc)},
    }
    with open(os.path.join(OUT, name + '.error.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    return out


def versions():
    return {'backtesting': backtesting.__version__, 'pandas': pd.__version__,
            'numpy': np.__version__, 'python': sys.version.split()[0]}


SUFFIXES = ('.stats.json', '.stats.txt', '.trades.csv', '.equity.csv', '.atr.csv', '.error.json')


def run_one(name, data_name, strat_name, params, kw, frac_unit):
    for suffix in SUFFIXES:  # no stale files from an earlier outcome of this run
        if os.path.exists(os.path.join(OUT, name + suffix)):
            os.remove(os.path.join(OUT, name + suffix))
    df = load(data_name)
    strat = STRATS[strat_name]
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter('always')
        try:
            if frac_unit is None:
                bt = Backtest(df, strat, **kw)
            else:
                bt = FractionalBacktest(df, strat, fractional_unit=frac_unit, **kw)
            stats = bt.run(**params)
        except Exception as exc:  # recorded, not fatal
            warns = sorted({str(w.message) for w in wlist
                            if not issubclass(w.category, (DeprecationWarning, FutureWarning))
                            and 'deprecated' not in str(w.message)})
            return write_error(name, data_name, strat_name, params, kw, frac_unit, exc, warns)
    warns = sorted({str(w.message) for w in wlist
                    if not issubclass(w.category, (DeprecationWarning, FutureWarning))
                    and 'deprecated' not in str(w.message)})

    trades = stats['_trades']
    equity = stats['_equity_curve']
    strategy = stats['_strategy']

    scalar_keys = [k for k in stats.index if not k.startswith('_')]
    index = df.index
    period = _data_period(index)
    unit = frac_unit if frac_unit is not None else 1
    is_trail = isinstance(strategy, TrailingStrategy)
    derived = {
        'n_bars': len(df),
        'first_trading_bar_for_buy_and_hold (=indicator warmup)': int(_indicator_warmup_nbars(strategy)),
        'first_next_call_bar (=1+warmup)': 1 + int(_indicator_warmup_nbars(strategy)),
        'data_period_median_last_100': jsonable(period),
        'n_open_trades_at_end_not_in_stats': int(len(strategy.trades)),
        # internal units (for FractionalBacktest: size in fractional units, prices scaled);
        # size_user/entry_price_user/sl_user are what FractionalBacktest.run maps trades to
        'open_trades_at_end': [
            {'size': int(t.size), 'entry_bar': int(t.entry_bar), 'entry_price': float(t.entry_price),
             **({'sl': jsonable(t.sl)} if is_trail else {}),
             **({'size_user': float(t.size * unit), 'entry_price_user': float(t.entry_price / unit),
                 **({'sl_user': jsonable(t.sl / unit if t.sl else None)} if is_trail else {})}
                if frac_unit is not None else {})}
            for t in strategy.trades],
        'final_cash': float(strategy._broker._cash),
    }
    out = {
        'run': name,
        'data': f'data/{data_name}.csv',
        'strategy': strat_name,
        'params': params,
        'backtest_class': 'FractionalBacktest' if frac_unit is not None else 'Backtest',
        'backtest_kwargs': {**BT_DEFAULTS, **kw,
                            **({'fractional_unit': frac_unit} if frac_unit is not None else {})},
        'features': features_of(strat_name, params, frac_unit, strategy),
        'versions': versions(),
        'warnings': warns,
        'stats_keys_in_order': scalar_keys,
        'stats': {k: jsonable(stats[k]) for k in scalar_keys},
        'derived': derived,
    }
    base = os.path.join(OUT, name)
    with open(base + '.stats.json', 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    cls = out['backtest_class']
    with open(base + '.stats.txt', 'w') as f:
        cls_kw = {**kw, **({'fractional_unit': frac_unit} if frac_unit is not None else {})}
        f.write(f'# {name}: {strat_name}({", ".join(f"{k}={v!r}" for k, v in params.items())}) '
                f'on {data_name}, {cls} kwargs={cls_kw}\n')
        f.write('# --- repr() of every value (exact) ---\n')
        for k in scalar_keys:
            f.write(f'{k:28s} {stats[k]!r}\n')
        f.write('# --- backtesting.py printout (display precision 5) ---\n')
        f.write(str(stats) + '\n')
    trades.to_csv(base + '.trades.csv', float_format='%.17g', index_label='i')
    equity.to_csv(base + '.equity.csv', float_format='%.17g', index_label='Time')
    if is_trail:
        pd.DataFrame({'ATR': strategy._TrailingStrategy__atr}, index=index).to_csv(
            base + '.atr.csv', float_format='%.17g', index_label='Time')
    return out


def manifest_entry(spec, out):
    """One manifest.json object: the run's inputs and its outcome (what the Rust test reads)."""
    name, data_name, strat_name, params, kw, frac_unit = spec
    bkw = {**BT_DEFAULTS, **kw}
    if isinstance(bkw['commission'], tuple):
        bkw['commission'] = list(bkw['commission'])
    trailing = None
    if issubclass(STRATS[strat_name], TrailingStrategy):
        tr = out['features']['trailing']
        if params.get('trail_pct') is not None:
            kind, value = 'pct', params['trail_pct']
        else:  # set_trailing_sl(n); TrailingStrategy's own default n_atr is 6
            kind, value = 'atr', params.get('trail_sl', 6.0)
        n_eff = tr.get('n_atr_effective')
        if n_eff is None and 'error' in out and out['error']['raised_in']:
            n_eff = out['error']['raised_in']['n_atr']
        trailing = {'kind': kind, 'value': value, 'atr_periods': tr['atr_periods'],
                    'n_atr_effective': n_eff}
    entry = {
        'run': name,
        'data': f'{data_name}.csv',
        'strategy': strat_name,
        'n1': params['n1'],
        'n2': params['n2'],
        'params': params,
        'backtest_class': out['backtest_class'],
        'backtest_kwargs': bkw,
        'trailing': trailing,
        'fractional_unit': frac_unit,
        'description': NOTES.get(name, ''),
    }
    if 'error' in out:
        rin = out['error']['raised_in'] or {}
        entry.update({
            'outcome': 'error', 'n_closed_trades': None, 'n_open_trades': None, 'equity_final': None,
            'error': {'type': out['error']['type'], 'message': out['error']['message'],
                      'bar': rin.get('bar'), 'time': rin.get('time'),
                      'n_closed_trades_before': rin.get('n_closed_trades_before')},
            'files': [name + '.error.json'],
        })
    else:
        files = [name + s for s in ('.stats.json', '.stats.txt', '.trades.csv', '.equity.csv')]
        if trailing is not None:
            files.append(name + '.atr.csv')
        entry.update({
            'outcome': 'ok',
            'n_closed_trades': out['stats']['# Trades'],
            'n_open_trades': out['derived']['n_open_trades_at_end_not_in_stats'],
            'equity_final': out['stats']['Equity Final [$]'],
            'files': files,
        })
    return entry


def main(argv=None):
    global DATA, OUT
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--data', help='parity data dir (default: $BT_PARITY_DATA, else ../data '
                                   'relative to this script)')
    ap.add_argument('--out', help='output dir (default: this script\'s directory)')
    ap.add_argument('--only', action='append', metavar='RUN',
                    help='generate only this run (repeatable); manifest.json is not rewritten')
    args = ap.parse_args(argv)
    if args.data:
        DATA = args.data
    if args.out:
        OUT = args.out
    DATA = os.path.abspath(DATA)
    if not os.path.isfile(os.path.join(DATA, 'GOOG.csv')):
        sys.exit(f'error: no GOOG.csv in data dir {DATA!r}; pass --data DIR or set BT_PARITY_DATA')
    os.makedirs(OUT, exist_ok=True)
    names = [spec[0] for spec in RUNS]
    assert len(set(names)) == len(names), 'duplicate run names'
    if args.only:
        unknown = set(args.only) - set(names)
        if unknown:
            sys.exit(f'error: unknown run(s) {sorted(unknown)}')
    entries = []
    for spec in RUNS:
        if args.only and spec[0] not in args.only:
            continue
        out = run_one(*spec)
        entries.append(manifest_entry(spec, out))
        if 'error' in out:
            print(f"{out['run']:62s} ERROR {out['error']['type']}: {out['error']['message']}", flush=True)
            continue
        s = out['stats']
        print(f"{out['run']:62s} final={s['Equity Final [$]']!r:22} trades={s['# Trades']:4} "
              f"open={out['derived']['n_open_trades_at_end_not_in_stats']} "
              f"warnings={len(out['warnings'])}", flush=True)
    if not args.only:
        manifest = {
            'generator': os.path.basename(__file__),
            'versions': versions(),
            'data_dir': '../data (crates/bt-stats/tests/parity/data)',
            'notes': 'commission [fixed, relative] is the tuple form; backtest_kwargs include every '
                     'default; trailing.value is set_trailing_sl(n_atr) for kind atr and '
                     'set_trailing_pct(pct) for kind pct, trailing.n_atr_effective the multiple '
                     'TrailingStrategy used (pct: np.mean(Close*pct/ATR) over the full data); '
                     'error runs have n_closed_trades/n_open_trades/equity_final null.',
            'runs': entries,
        }
        with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
            json.dump(manifest, f, indent=1, ensure_ascii=False)
            f.write('\n')
    # summary table
    print()
    print(f"{'run':62s} {'outcome':7s} {'closed':>6s} {'open':>4s}  equity_final")
    for e in entries:
        print(f"{e['run']:62s} {e['outcome']:7s} {str(e['n_closed_trades']):>6s} "
              f"{str(e['n_open_trades']):>4s}  {e['equity_final']!r}")


NOTES = {
    'goog_smacross_trail_atr3_10_20_comm002':
        'SmaCross + set_trailing_sl(3), ATR(100), long and short',
    'goog_longonly_trail_pct5_20_50_comm0':
        'long-only + set_trailing_pct(0.05) (converted to an ATR multiple over the full data)',
    'goog_smacross_frac_0.01_10_20_comm002':
        'SmaCross under FractionalBacktest(fractional_unit=0.01), cash 1000',
    'goog_longonly_trail_atr3_10_20_comm002': 'long-only + set_trailing_sl(3), ATR(100)',
    'goog_smacross_trail_pct5_20_50_comm0': 'long/short + set_trailing_pct(0.05)',
    'goog_smacross_trail_atr2_10_20_atr14_comm002': 'custom set_atr_periods(14), tight 2-ATR stop',
    'goog_longonly_trail_pct8_20_50_atr50_comm001':
        'set_atr_periods(50) then set_trailing_pct(0.08) (pct reads the ATR(50))',
    'goog_smacross_trail_atr4_10_20_comm002': '4-ATR stop, one trade open at the end (base of the next 3)',
    'goog_smacross_trail_atr4_10_20_comm002_finalize': 'trailing + finalize_trades (closes at O[N-1])',
    'goog_smacross_trail_atr4_10_20_comm002_trade_on_close': 'trailing + trade_on_close',
    'goog_smacross_trail_atr4_10_20_comm002_trade_on_close_finalize':
        'trailing + trade_on_close + finalize (finalize close at C[N-2])',
    'goog_longonly_trail_pct5_5_15_comm001_trade_on_close_finalize':
        'long-only pct trailing + trade_on_close + finalize',
    'goog_smacross_trail_atr3_10_20_spread0005_comm001': 'trailing + spread 0.0005 + commission 0.001',
    'goog_longonly_trail_atr2_10_20_spread0005_commtuple':
        'trailing + spread 0.0005 + commission (2.0, 0.0005)',
    'eurusd_h1_smacross_trail_atr3_10_30_comm0002_spread0001':
        'hourly FX, long/short ATR trailing, spread + commission',
    'eurusd_h1_longonly_trail_pct02_20_50_margin01': 'hourly FX, long-only pct(0.002) trailing, margin 0.1',
    'btc_m1_smacross_trail_atr3_3_6_comm001_atr100_error':
        'ERROR: default ATR(100) on 60 bars is all NaN, short SL becomes +inf',
    'goog_longonly_trail_atr15_10_20_comm002_error':
        'ERROR: 15-ATR long stop, Close - 15*ATR(100) < 0 (finite negative SL)',
    'btc_m1_smacross_trail_atr1.5_3_6_atr5_comm001': 'monthly crypto, ATR(5), 1.5-ATR stop, long/short',
    'btc_m1_longonly_trail_pct10_3_6_atr10_comm001': 'monthly crypto, ATR(10), pct(0.1), long-only',
    'btc_m1_smacross_frac_1e-8_3_6_comm001': 'FractionalBacktest default unit (satoshi 1e-8), cash 10000',
    'goog_smacross_frac_0.1_10_20_comm002': 'FractionalBacktest unit 0.1',
    'goog_longonly_frac_0.01_10_20_commtuple':
        'fractional + commission (1.0, 0.001): fixed fee inflates the per-unit sizing price',
    'btc_m1_smacross_frac_1e-8_3_6_commtuple':
        'fractional satoshi + commission (1.0, 0.001): positions of ~1e4 satoshi only',
    'goog_smacross_frac_0.01_10_20_margin05_comm002': 'fractional + margin 0.5',
    'btc_m1_longonly_frac_1e-6_3_6_margin05_comm001': 'fractional unit 1e-6 (uBTC) + margin 0.5',
    'goog_smacross_frac_0.01_10_20_comm002_finalize': 'fractional + finalize',
    'goog_smacross_frac_0.01_trail_atr3_10_20_comm002':
        'fractional + ATR trailing (ATR and stops on scaled prices)',
    'btc_m1_smacross_frac_1e-8_trail_atr1.5_3_6_atr5_comm001': 'fractional satoshi + ATR(5) trailing',
    'goog_longonly_frac_0.01_trail_pct10_10_20_comm001_finalize':
        'fractional + pct trailing + finalize',
}


if __name__ == '__main__':
    main()
