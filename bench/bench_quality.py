"""Quality benchmark: kwaliteitsrapport and spiegelrapport for many deliveries, one delivery at a time and in bulk.

    .venv/bin/python bench/bench_quality.py [--periods 2019H1:2023H2] [--scale 1]

Generates the national deliveries of PERIODS (default the five-year history, 274 deliveries at scale 1) and
loads them. Then times each SQL part twice in the same run: per delivery (each part called with one delivery,
as the quality step did before issue 19) and in bulk (one query per rule or record type for every delivery,
as it does now); checks that both give the same numbers; then GX over all deliveries in its child processes,
and `run_quality` as `vt quality` and the refresh run it (GX children beside the SQL reports, files written).
BENCHMARKS.md records the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders.layout import default_layout, layouts  # noqa: E402
from loaders.load import load_files  # noqa: E402
from loaders.periods import periode_range  # noqa: E402
from loaders.warehouse import QUALITY_MEMORY_ENV, Warehouse, memory_setting  # noqa: E402
from vt_warehouse.generate import generate, received_groups  # noqa: E402
from vt_warehouse.quality import _register, findings, run_quality, select_deliveries  # noqa: E402
from vt_warehouse.quality.gx_runner import run_suite_isolated  # noqa: E402
from vt_warehouse.quality.kwaliteit import applies_to  # noqa: E402
from vt_warehouse.quality.rules import RULES  # noqa: E402
from vt_warehouse.quality.spiegel import spiegel_prefetch, spiegelrapport  # noqa: E402
from vt_warehouse.transform.exposures import SHARED_BUILD  # noqa: E402
from vt_warehouse.transform.run import run_dbt  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--periods", default="2019H1:2023H2")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    os.environ.setdefault("VT_PSEUDONYM_KEY", "bench-" + "k" * 40)
    os.environ.setdefault("VT_RELEASE_KEY", "bench-release-" + "r" * 40)
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import duckdb

    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        inbox = Path(tmp) / "inbox"
        # defects in every delivery, so every rule has findings to list
        generate(inbox, periode_range(args.periods), scale=args.scale, seed=1, defects=0.002)
        warehouse = Warehouse(Path(tmp) / "wh")
        for received, paths in received_groups(inbox).items():
            load_files(paths, warehouse, default_layout(), received)
        lids = select_deliveries(warehouse, None, None, True)
        rows = []

        def timed(step: str, fn):
            t = time.perf_counter()
            value = fn()
            rows.append((step, time.perf_counter() - t))
            return value

        timed("dbt: staging views, lookups, seeds", lambda: run_dbt(warehouse, SHARED_BUILD))
        with duckdb.connect(str(warehouse.database), read_only=True) as con:
            register = _register(con, lids)
            version = {lid: layouts().get(register[lid]["versie_bestandsdefinitie"]) for lid in lids}
            one = timed("applies_to counts, per delivery", lambda: {lid: applies_to(con, [lid])[lid] for lid in lids})
            bulk = timed("applies_to counts, in bulk", lambda: applies_to(con, lids))
            assert one == bulk

            def spiegels(prefetch: bool):
                cache: dict = {}
                if prefetch:
                    spiegel_prefetch(con, version, cache)
                return {lid: spiegelrapport(con, version[lid], lid, national_cache=cache) for lid in lids}

            one = timed("spiegelrapport, per delivery (national figures once per half-year)", lambda: spiegels(False))
            bulk = timed("spiegelrapport, in bulk", lambda: spiegels(True))
            assert one == bulk

            def each():
                out = {}
                for lid in lids:
                    findings.collect(con, {lid: version[lid]}, "bevindingen")
                    out.update(findings.summary(con, "bevindingen", [lid]))
                return out

            def together():
                findings.collect(con, version, "bevindingen")
                return findings.summary(con, "bevindingen", lids)

            one = timed("findings with delivered values, per delivery", each)
            bulk = timed("findings with delivered values, in bulk", together)
            assert one == bulk
        timed(
            f"GX, {len(RULES)} rules over {len(lids)} deliveries, one child process",
            lambda: run_suite_isolated(
                warehouse.database, Path(tmp) / "work", lids, memory_setting(QUALITY_MEMORY_ENV)
            ),
        )
        timed("run_quality, all of it", lambda: run_quality(warehouse, lids, Path(tmp) / "out"))
        print(f"{len(lids)} deliveries of {args.periods} at scale {args.scale:g}")
        print()
        print("| step | seconds |")
        print("|---|---:|")
        for step, seconds in rows:
            print(f"| {step} | {seconds:.1f} |")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"\npeak memory: this process {peak:.0f} MB, largest child {children:.0f} MB")


if __name__ == "__main__":
    main()
