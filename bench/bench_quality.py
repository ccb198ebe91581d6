"""Quality benchmark: kwaliteitsrapport and spiegelrapport for the 26 deliveries of a national half-year.

    .venv/bin/python bench/bench_quality.py

Prints the time of each part on its own (GX with one child process and with one per core, side by side),
then of `run_quality` as `vt quality` and the refresh run it (GX children beside the SQL reports, files
written); BENCHMARKS.md records the figures.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders.generate import generate, received_groups  # noqa: E402
from loaders.layout import default_layout  # noqa: E402
from loaders.load import load_files  # noqa: E402
from loaders.periods import periode_range  # noqa: E402
from loaders.exposures import SHARED_BUILD  # noqa: E402
from loaders.quality import findings, run_quality, select_deliveries  # noqa: E402
from loaders.quality.gx_runner import run_suite_isolated  # noqa: E402
from loaders.quality.report import applies_to, spiegelrapport  # noqa: E402
from loaders.quality.rules import RULES  # noqa: E402
from loaders.dbt_run import run_dbt  # noqa: E402
from loaders.warehouse import Warehouse  # noqa: E402


def main() -> None:
    os.environ.setdefault("VT_PSEUDONYM_KEY", "bench-" + "k" * 40)
    os.environ.setdefault("VT_RELEASE_KEY", "bench-release-" + "r" * 40)
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import duckdb

    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        inbox = Path(tmp) / "inbox"
        generate(inbox, periode_range("2020H1"), scale=1.0, seed=1, defects=0.002)  # every delivery has defects
        warehouse = Warehouse(Path(tmp) / "wh")
        for received, paths in received_groups(inbox).items():
            load_files(paths, warehouse, default_layout(), received)
        lids = select_deliveries(warehouse, None, "2020H1", False)
        timings = {}
        t = time.perf_counter()
        run_dbt(warehouse, SHARED_BUILD)
        timings["dbt: staging views, lookups, seeds"] = time.perf_counter() - t
        t = time.perf_counter()
        with duckdb.connect(str(warehouse.database), read_only=True) as con:
            for lid in lids:
                applies_to(con, lid)
        timings["applies_to counts (SQL)"] = time.perf_counter() - t
        t = time.perf_counter()
        with duckdb.connect(str(warehouse.database), read_only=True) as con:
            national: dict = {}
            for lid in lids:
                spiegelrapport(con, default_layout(), lid, national_cache=national)
        timings["spiegelrapport (SQL)"] = time.perf_counter() - t
        t = time.perf_counter()
        with duckdb.connect(str(warehouse.database), read_only=True) as con:
            for lid in lids:
                findings.collect(con, lid, default_layout(), "bevindingen")
                findings.write_lists(con, "bevindingen", Path(tmp))
        timings["findings with delivered values, both lists written (SQL)"] = time.perf_counter() - t
        for workers in (1, os.cpu_count() or 1):
            t = time.perf_counter()
            run_suite_isolated(warehouse.database, Path(tmp) / "work", lids, workers=workers)
            timings[f"GX checkpoint, {len(RULES)} rules x {len(lids)} deliveries, {workers} child process(es)"] = \
                time.perf_counter() - t
        t = time.perf_counter()
        run_quality(warehouse, lids, Path(tmp) / "out")
        whole = time.perf_counter() - t
        print(f"{len(lids)} deliveries of 2020H1 at scale 1")
        print()
        print("| step | seconds |")
        print("|---|---:|")
        for step, seconds in timings.items():
            print(f"| {step} | {seconds:.1f} |")
        print()
        print(f"run_quality (dbt, then GX children beside the SQL reports, files written): {whole:.1f} s")


if __name__ == "__main__":
    main()
