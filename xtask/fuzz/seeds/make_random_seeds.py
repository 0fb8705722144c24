"""Writes deterministic pseudo-random seed inputs for the structured fuzz targets (`backtest`,
and the table mode of `parquet`), plus hand-made CSV layouts. Run from xtask/fuzz with any
python3: `python3 seeds/make_random_seeds.py`. The outputs are committed."""

import random

rng = random.Random(20261127)
for i, size in enumerate([64, 128, 256, 512, 1024, 2048, 4096, 8192]):
    with open(f"corpus/backtest/random_{i}_{size}.bin", "wb") as f:
        f.write(bytes(rng.getrandbits(8) for _ in range(size)))
for i, size in enumerate([256, 1024, 4096]):
    with open(f"corpus/parquet/table_{i}_{size}.bin", "wb") as f:
        f.write(b"\x01" + bytes(rng.getrandbits(8) for _ in range(size)))

rows = [(1704067200 + 86400 * i, 100 + i, 101 + i, 99 + i, 100.5 + i, 1000 * i) for i in range(10)]
layouts = {
    "epoch_seconds.csv": "time,open,high,low,close,volume\n" + "".join(f"{t},{o},{h},{l},{c},{v}\n" for t, o, h, l, c, v in rows),
    "epoch_ms_semicolon.csv": "timestamp;Open;High;Low;Close\n" + "".join(f"{t * 1000};{o};{h};{l};{c}\n" for t, o, h, l, c, v in rows),
    "offset_datetimes.csv": "Datetime,Open,High,Low,Close,Volume\n" + "".join(f"2024-03-{10 + i:02}T09:30:00+05:30,{o},{h},{l},{c},{v}\n" for i, (t, o, h, l, c, v) in enumerate(rows)),
    "unnamed_index_tabs.csv": "\tOpen\tHigh\tLow\tClose\tVolume\n" + "".join(f"2024-01-{1 + i:02} 10:00:00\t{o}\t{h}\t{l}\t{c}\t{v}\n" for i, (t, o, h, l, c, v) in enumerate(rows)),
    "quoted_crlf_exponents.csv": "\"Date\",\"Open\",\"High\",\"Low\",\"Close\",\"Volume\"\r\n" + "".join(f"\"2024-02-{1 + i:02}\",{o}e-3,{h}e-3,{l}e-3,{c}e-3,{v}.0\r\n" for i, (t, o, h, l, c, v) in enumerate(rows)),
}
for name, text in layouts.items():
    with open(f"corpus/csv/{name}", "w", newline="") as f:
        f.write(text)
