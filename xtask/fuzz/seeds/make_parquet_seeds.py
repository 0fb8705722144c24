"""Writes the Parquet seed files of the `parquet` fuzz target with pyarrow, an independent writer,
so the seeds cover layouts bt's own writer never produces. Run from xtask/fuzz:

    python3 -m venv /tmp/pa && /tmp/pa/bin/pip install pyarrow
    /tmp/pa/bin/python seeds/make_parquet_seeds.py

The outputs are committed; the script is kept to show where they came from. Each file starts
with the mode byte 0 ("raw bytes") that the target reads first.
"""

import datetime as dt
import io

import pyarrow as pa
import pyarrow.parquet as pq

N = 12
base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
close = [100 + i * 0.5 - (i % 3) for i in range(N)]
open_ = [c - 0.25 for c in close]
high = [max(o, c) + 1 for o, c in zip(open_, close)]
low = [min(o, c) - 1 for o, c in zip(open_, close)]
vol = [1000 + i for i in range(N)]
ts = [base + dt.timedelta(days=i) for i in range(N)]


def ohlc(**overrides):
    cols = {"Open": open_, "High": high, "Low": low, "Close": close, "Volume": vol}
    cols.update(overrides)
    return cols


tables = {
    "ts_ns_utc": pa.table({"Date": pa.array(ts, pa.timestamp("ns", tz="UTC")), **ohlc()}),
    "ts_ms_naive": pa.table({"timestamp": pa.array([t.replace(tzinfo=None) for t in ts], pa.timestamp("ms")), **ohlc()}),
    "ts_us_offset": pa.table({"datetime": pa.array(ts, pa.timestamp("us", tz="Europe/Berlin")), **ohlc()}),
    "date32": pa.table({"date": pa.array([t.date() for t in ts], pa.date32()), **ohlc()}),
    "epoch_seconds": pa.table({"time": pa.array([int(t.timestamp()) for t in ts], pa.int64()), **ohlc()}),
    "iso_strings": pa.table({"Date": pa.array([t.isoformat() for t in ts]), **ohlc()}),
    "float32_int_prices": pa.table({
        "Date": pa.array(ts, pa.timestamp("ns", tz="UTC")),
        "Open": pa.array(open_, pa.float32()), "High": pa.array([int(h) + 1 for h in high], pa.int64()),
        "Low": pa.array([int(l) - 1 for l in low], pa.int32()), "Close": pa.array(close, pa.float32()),
    }),
    "nulls": pa.table({"Date": pa.array(ts, pa.timestamp("ns")), **ohlc(Close=[None if i == 5 else c for i, c in enumerate(close)])}),
    "dictionary_dates": pa.table({"Date": pa.array([t.date().isoformat() for t in ts]).dictionary_encode(), **ohlc()}),
    "lowercase_no_volume": pa.table({"date": pa.array(ts, pa.timestamp("s")), "open": open_, "high": high, "low": low, "close": close}),
    "decreasing": pa.table({"Date": pa.array(list(reversed(ts)), pa.timestamp("ns")), **ohlc()}),
    "two_rows": pa.table({"Date": pa.array(ts[:2], pa.timestamp("ns")), **{k: v[:2] for k, v in ohlc().items()}}),
}

for name, table in tables.items():
    for suffix, kwargs in [("", {}), ("_gzip_rg3", {"compression": "gzip", "row_group_size": 3})]:
        buf = io.BytesIO()
        pq.write_table(table, buf, **kwargs)
        with open(f"corpus/parquet/{name}{suffix}.parquet", "wb") as f:
            f.write(b"\x00" + buf.getvalue())
