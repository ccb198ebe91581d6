"""Loader benchmark: one generated delivery of about 2 million records, loaded by `vt load`'s code path and
parsed by two baselines in the same run: bare Polars slicing (the floor) and pandas.read_fwf.

    .venv/bin/python bench/bench_loader.py [--records 2000000] [--repeat 3]

Every method runs in its own process, so each peak memory (max RSS) is its own. Prints a Markdown table;
BENCHMARKS.md records the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders.layout import default_layout  # noqa: E402
from loaders.periods import Periode  # noqa: E402
from vt_warehouse.generate import gemeenten_per_year, volumes_per_region  # noqa: E402
from vt_warehouse.generate.deliveries import cut, render  # noqa: E402
from vt_warehouse.generate.world import simulate  # noqa: E402

VT, PERIODE = "VT18", Periode(2020, 1)


def make_file(folder: Path, records: int) -> Path:
    """One VT18 delivery for 2020H1, scaled so that it holds about `records` records."""
    layout = default_layout()

    def build(scale: float) -> dict:
        rng = np.random.default_rng([1, 18])
        world = simulate(VT, volumes_per_region()[VT], gemeenten_per_year(VT, rng), PERIODE, PERIODE, scale, rng)
        return cut(world, PERIODE)

    def count(recs: dict) -> int:
        return sum(len(next(iter(c.values()))) for c in recs.values())

    scale = records / count(build(1.0))
    recs = build(scale)
    path = folder / f"{VT}_{PERIODE}_001.txt"
    path.write_text(render(layout, VT, PERIODE, 1, "20200720", recs), encoding="ascii")
    return path


def run_loader(path: Path) -> int:
    from loaders.load import load_files
    from loaders.warehouse import Warehouse

    home = Path(tempfile.mkdtemp(prefix="bench-wh-", dir=path.parent))  # removed with the parent's folder
    os.environ["VT_PSEUDONYM_KEY"] = "b" * 40
    [result] = load_files([path], Warehouse(home), default_layout())
    assert result.outcome == "geladen", result.message
    return sum(result.counts.values())


def run_parse(path: Path) -> int:
    from loaders.parse import parse_file

    return sum(parse_file(path, default_layout()).counts.values())


def run_duckdb_write(path: Path) -> tuple[int, float]:
    """The persistence floor: the parsed tables written to a fresh DuckDB file, timed without the parse."""
    import duckdb

    from loaders.parse import parse_file

    parsed = parse_file(path, default_layout())
    target = Path(tempfile.mkdtemp(prefix="bench-db-", dir=path.parent)) / "raw.duckdb"
    started = time.perf_counter()
    with duckdb.connect(str(target)) as con:
        con.execute("begin")
        for code, table in parsed.tables.items():
            con.register("batch", table)
            con.execute(f"create table raw_{code} as select * from batch")
            con.unregister("batch")
        con.execute("commit")
    return sum(parsed.counts.values()), time.perf_counter() - started


def run_polars(path: Path) -> int:
    import polars as pl

    lines = pl.read_csv(
        path, has_header=False, separator="\x01", quote_char=None, new_columns=["line"], schema={"line": pl.String}
    )
    n = 0
    for rt in default_layout().data_types:
        part = lines.filter(pl.col("line").str.slice(0, 2) == rt.code).select(
            [pl.col("line").str.slice(f.offset, f.length).alias(f.name) for f in rt.fields]
        )
        n += part.height
    return n


def run_read_fwf(path: Path) -> int:
    import pandas as pd

    # One pass with the widest layout (ON) plus the record type; a real fwf loader would need one per type.
    rt = default_layout().record_types["ON"]
    df = pd.read_fwf(
        path,
        colspecs=[(f.offset, f.offset + f.length) for f in rt.fields],
        names=[f.name for f in rt.fields],
        dtype=str,
        header=None,
    )
    return int(df["recordtype"].isin([t.code for t in default_layout().data_types]).sum())


METHODS = {
    "loader": run_loader,
    "parse": run_parse,
    "duckdb_write": run_duckdb_write,
    "polars": run_polars,
    "read_fwf": run_read_fwf,
}


def child(method: str, path: Path) -> None:
    if method in ("loader", "parse", "duckdb_write"):
        # pyarrow imports pandas on its first table (about 0.8 s, once per process): steady state is measured
        import pyarrow as pa

        pa.table({"warm": [1]})
    started = time.perf_counter()
    n = METHODS[method](path)
    seconds = time.perf_counter() - started
    if isinstance(n, tuple):  # the method timed its own part
        n, seconds = n
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"method": method, "records": n, "seconds": seconds, "peak_mb": peak_mb}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs per method; the best time counts")
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    ap.add_argument("--make", nargs=2, metavar=("FOLDER", "RECORDS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    if args.make:
        print(make_file(Path(args.make[0]), int(args.make[1])))
        return

    with tempfile.TemporaryDirectory(prefix="bench-loader-") as tmp:
        # made in a child: max RSS survives exec, so a big parent would inflate every child's peak
        made = subprocess.run(
            [sys.executable, __file__, "--make", tmp, str(args.records)], check=True, capture_output=True, text=True
        )
        path = Path(made.stdout.strip().splitlines()[-1])
        size_mb = path.stat().st_size / 1e6
        results = {}
        for _ in range(args.repeat):
            for method in METHODS:  # interleaved, so machine noise hits every method alike
                out = subprocess.run(
                    [sys.executable, __file__, "--child", method, str(path)], check=True, capture_output=True, text=True
                ).stdout
                r = json.loads(out.strip().splitlines()[-1])
                best = results.get(method)
                if best is None or r["seconds"] < best["seconds"]:
                    results[method] = {**r, "peak_mb": max(r["peak_mb"], best["peak_mb"] if best else 0)}
        records = results["loader"]["records"]
        floor = results["polars"]["seconds"]
        print(
            f"file: {records:,} records, {size_mb:.0f} MB; {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} cores; best of {args.repeat}"
        )
        print()
        print("| method | seconds | MB/s | records/s | vs Polars slicing | peak memory (MB) |")
        print("|---|---:|---:|---:|---:|---:|")
        for method, r in results.items():
            s = r["seconds"]
            print(
                f"| {method} | {s:.2f} | {size_mb / s:.0f} | {r['records'] / s:,.0f} | {s / floor:.2f}x | "
                f"{r['peak_mb']:.0f} |"
            )
        print()
        print(f"loader vs read_fwf: {results['read_fwf']['seconds'] / results['loader']['seconds']:.1f}x faster")


if __name__ == "__main__":
    main()
