"""Release build benchmark: one full national year (2020H1 + 2020H2 at real volume, 52 deliveries plus their
corrections) loaded, then release 2020V2 built by dbt, against the same compiled SQL run directly in DuckDB.

A release's own models (the refresh builds the shared ones once and then every due release without them) are
timed three ways: dbt with one process per release (`vt build`), dbt with 2020V2 and 2020V3 in one process (the
refresh: `run_dbt_each`), and their compiled SQL on one DuckDB connection (the floor).

    .venv/bin/python bench/bench_build.py [--scale 1] [--repeat 2]

Prints a Markdown table; BENCHMARKS.md records the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders.layout import default_layout  # noqa: E402
from loaders.load import load_files  # noqa: E402
from loaders.periods import periode_range  # noqa: E402
from loaders.pseudonym import hmac_pads, release_key, resolve_key  # noqa: E402
from loaders.warehouse import Warehouse  # noqa: E402
from vt_warehouse.generate import generate, received_groups  # noqa: E402
from vt_warehouse.transform.exposures import SHARED_BUILD, SHARED_NODES  # noqa: E402
from vt_warehouse.transform.run import Run, run_dbt, run_dbt_each, target_dir  # noqa: E402

RELEASE = "2020V2"
RELEASES = ("2020V2", "2020V3")  # built together, as the refresh builds every due release


def direct_sql(warehouse: Warehouse) -> float:
    """The compiled SQL of the release's own models (tag `release`; the last dbt run compiled them), in dependency
    order, on one DuckDB connection: the floor without dbt."""
    manifest = json.loads((target_dir(warehouse) / "manifest.json").read_text())
    models = {k: n for k, n in manifest["nodes"].items() if n["resource_type"] == "model" and "release" in n["tags"]}
    order, done = [], set()

    def visit(key: str) -> None:
        if key in done or key not in models:
            return
        for dep in models[key]["depends_on"]["nodes"]:
            visit(dep)
        done.add(key)
        order.append(key)

    for key in sorted(models):
        visit(key)
    compiled = {}
    for key in order:
        node = models[key]
        path = target_dir(warehouse) / "compiled" / node["package_name"] / node["original_file_path"]
        compiled[key] = path.read_text()
    with duckdb.connect(str(warehouse.database)) as con:
        for name, key in (("hmac", resolve_key(warehouse.home)), ("release", release_key(warehouse.home))):
            ipad, opad = hmac_pads(key)
            con.execute(f"set variable vt_{name}_ipad = ?", [ipad])
            con.execute(f"set variable vt_{name}_opad = ?", [opad])
        started = time.perf_counter()
        for key in order:
            node = models[key]
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            name = f'"{node["schema"]}"."{node["alias"]}"'
            con.execute(f"create or replace {kind} {name} as {compiled[key]}")
        return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("VT_PSEUDONYM_KEY", "bench-" + "k" * 40)
    os.environ.setdefault("VT_RELEASE_KEY", "bench-release-" + "r" * 40)
    os.environ.pop("VT_DATABASE", None)
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        inbox = Path(tmp) / "inbox"
        files = generate(inbox, periode_range("2020H1:2020H2"), scale=args.scale, seed=1)
        warehouse = Warehouse(Path(tmp) / "wh")
        started = time.perf_counter()
        for received, paths in received_groups(inbox).items():
            load_files(paths, warehouse, default_layout(), received)
        load_seconds = time.perf_counter() - started
        run_dbt(warehouse, SHARED_BUILD)  # once, as the refresh does; every timed run below leaves it out
        own = ["--exclude", *SHARED_NODES]
        best: dict[str, float] = {}

        def timed(label: str, fn) -> None:
            t = time.perf_counter()
            inner = fn()
            seconds = inner if isinstance(inner, float) else time.perf_counter() - t
            best[label] = min(best.get(label, seconds), seconds)

        def both_in_one_process() -> float:
            t = time.perf_counter()
            outcomes = run_dbt_each(warehouse, ["run", *own], [Run(r) for r in RELEASES])
            if not all(isinstance(o, str) for o in outcomes):
                raise SystemExit(f"dbt failed: {outcomes}")
            return (time.perf_counter() - t) / len(RELEASES)

        for _ in range(args.repeat):  # interleaved, so a busy moment of the machine hits every line alike
            for release in RELEASES:  # (the compiled SQL of the last dbt run is the release's own)
                timed(
                    f"dbt run, one process per release ({release})",
                    lambda: run_dbt(warehouse, ["run", *own], release=release),
                )
                timed(f"same SQL directly in DuckDB ({release})", lambda: direct_sql(warehouse))
            timed(f"dbt run, {' and '.join(RELEASES)} in one process (per release)", both_in_one_process)
            timed(
                f"dbt build (models and data tests), one process ({RELEASE})",
                lambda: run_dbt(warehouse, ["build", "--exclude-resource-type", "unit_test", *own], release=RELEASE),
            )
        with duckdb.connect(str(warehouse.database), read_only=True) as con:
            casussen = con.execute(f'select count(*) from "VT_casus_{RELEASE}"').fetchone()[0]
        records = sum(f.records for f in files)
        print(
            f"{len(files)} deliveries, {records:,} records (scale {args.scale}); loaded in {load_seconds:.1f} s; "
            f"VT_casus_{RELEASE}: {casussen:,} rows; best of {args.repeat}"
        )
        print()
        print("| step | seconds | vs direct SQL |")
        print("|---|---:|---:|")
        floors = {r: best[f"same SQL directly in DuckDB ({r})"] for r in RELEASES}
        mean_floor = sum(floors.values()) / len(floors)
        for label, seconds in best.items():
            floor = next((f for r, f in floors.items() if f"({r})" in label), mean_floor)
            print(f"| {label} | {seconds:.1f} | {seconds / floor:.2f}x |")


if __name__ == "__main__":
    main()
