"""What describing a release costs: one national year (2020H1 + 2020H2 at `--scale`) loaded and release 2020V2
built, then each step of its export timed, against the plain export of the same run as the baseline.

    .venv/bin/python bench/bench_release_files.py [--scale 1] [--repeat 3]

Steps: the Parquet and CSV files (the baseline: what every release always had); the analysts' DuckDB file as
it was before issue 15 (tables only) and as it is now (keys, foreign keys, comments, code-list tables, label
views); the CSVW, SPSS and Stata files and the code-list CSV; the codebook (Markdown and HTML); the content
checksum of the DuckDB file. Prints a Markdown table (best of `--repeat`); BENCHMARKS.md records the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders import release_files  # noqa: E402
from loaders.layout import default_layout  # noqa: E402
from loaders.load import load_files  # noqa: E402
from loaders.periods import periode_range  # noqa: E402
from loaders.referentie import gemeenten  # noqa: E402
from loaders.warehouse import Warehouse  # noqa: E402
from vt_warehouse.generate import generate, received_groups  # noqa: E402
from vt_warehouse.kalender import get_release  # noqa: E402
from vt_warehouse.release import build_release, content_checksum, export_tables  # noqa: E402
from vt_warehouse.release.codebook import write_codebook  # noqa: E402

RELEASE = "2020V2"


def tables_only(folder: Path, release: str) -> Path:
    """The analysts' file as before: one table per Parquet file, nothing else."""
    path = folder / f"plain_{release}.duckdb"
    with duckdb.connect(str(path)) as con:
        for p in sorted(folder.glob("VT_*.parquet")):
            con.execute(f'create table "{p.stem}" as select * from read_parquet(?)', [str(p)])
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("VT_PSEUDONYM_KEY", "bench-" + "k" * 40)
    os.environ.setdefault("VT_RELEASE_KEY", "bench-release-" + "r" * 40)
    os.environ.pop("VT_DATABASE", None)
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        generate(tmp / "gen", periode_range("2020H1:2020H2"), scale=args.scale, seed=1)
        warehouse = Warehouse(tmp / "wh")
        for received, paths in received_groups(tmp / "gen").items():
            load_files(paths, warehouse, default_layout(), received)
        build_release(warehouse, RELEASE)
        release = get_release(RELEASE)
        with duckdb.connect(str(warehouse.database), read_only=True) as con:
            lists = release_files.release_code_lists(
                [(g.gemeentecode, g.gemeentenaam) for g in gemeenten(con, release.jaar)]
            )
        best: dict[str, float] = {}
        rows = 0
        for _ in range(args.repeat):
            folder = tmp / "out"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            times = {}

            def timed(step, fn):
                started = time.perf_counter()
                out = fn()
                times[step] = time.perf_counter() - started
                return out

            files = timed("Parquet and CSV (baseline)", lambda: export_tables(warehouse, RELEASE, folder))
            rows = sum(f["rows"] for f in files if f["name"].endswith(".parquet"))
            timed("DuckDB file, tables only (as before)", lambda: tables_only(folder, RELEASE))
            database, facts = timed(
                "DuckDB file, keys, comments, code lists, label views",
                lambda: release_files.analyst_database(folder, RELEASE, lists),
            )
            timed(
                "CSVW, SPSS, Stata, code-list CSV",
                lambda: (
                    release_files.write_codelijsten_csv(folder, RELEASE, lists),
                    release_files.csvw_metadata(folder, RELEASE, facts),
                    release_files.spss_syntax(folder, RELEASE, facts),
                    release_files.stata_syntax(folder, RELEASE),
                ),
            )
            timed("codebook (Markdown and HTML)", lambda: write_codebook(folder, release, facts, database))
            timed("content checksum of the DuckDB file", lambda: content_checksum(database))
            for step, seconds in times.items():
                best[step] = min(best.get(step, seconds), seconds)
        base = best["Parquet and CSV (baseline)"]
        print(f"scale {args.scale}, release {RELEASE}, {rows:,} released records, best of {args.repeat}\n")
        print("| step | seconds | vs baseline |\n|---|---:|---:|")
        for step, seconds in best.items():
            print(f"| {step} | {seconds:.2f} | {seconds / base:.2f}x |")


if __name__ == "__main__":
    main()
