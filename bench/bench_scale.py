"""Scale benchmark: one national year at several volumes, loaded and built into a release.

    .venv/bin/python bench/bench_scale.py [--scales 1,3,10]

For each scale: generate 2020H1 + 2020H2, load (vt load with the reception dates), `vt release 2020V2`
(dbt build and export), `vt quality --periode 2020H2`; wall time and peak memory (max RSS) per step, dbt's
time per layer from its run_results.json, and the time per million records against scale 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders.periods import periode_range  # noqa: E402
from loaders.warehouse import Warehouse  # noqa: E402
from vt_warehouse.generate import generate, received_groups  # noqa: E402
from vt_warehouse.transform.run import target_dir  # noqa: E402


def timed(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """(seconds, peak MB, stdout) of one command, measured by GNU time (peak: its largest process)."""
    out = Path(tempfile.mktemp())
    started = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(out), *cmd], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return seconds, int(out.read_text().split()[-1]) / 1024, proc.stdout


def layers(target: Path) -> dict[str, float]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    out: dict[str, float] = {}
    for r in results:
        uid = r["unique_id"]
        kind = (
            "tests"
            if uid.startswith("test.")
            else "seeds"
            if uid.startswith("seed.")
            else "staging"
            if ".stg_" in uid
            else "intermediate"
            if ".int_" in uid
            else "marts"
        )
        out[kind] = out.get(kind, 0.0) + r["execution_time"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1,3,10")
    args = ap.parse_args()
    vt = [sys.executable, "-m", "vt_warehouse.cli"]
    rows = []
    for scale in [float(s) for s in args.scales.split(",")]:
        with tempfile.TemporaryDirectory(prefix=f"bench-scale-{scale:g}-") as tmp:
            inbox, home = Path(tmp) / "inbox", Path(tmp) / "wh"
            env = {
                **os.environ,
                "VT_HOME": str(home),
                "GX_ANALYTICS_ENABLED": "false",
                "VT_PSEUDONYM_KEY": os.environ.get("VT_PSEUDONYM_KEY", "bench-" + "k" * 40),
                "VT_RELEASE_KEY": os.environ.get("VT_RELEASE_KEY", "bench-release-" + "r" * 40),
            }
            env.pop("VT_DATABASE", None)
            t = time.perf_counter()
            files = generate(inbox, periode_range("2020H1:2020H2"), scale=scale, seed=1)
            gen = time.perf_counter() - t
            records = sum(f.records for f in files)
            load_s, load_mb = 0.0, 0.0
            for received, paths in received_groups(inbox).items():
                s, mb, _ = timed([*vt, "load", "--received-at", received.isoformat(), *map(str, paths)], env)
                load_s, load_mb = load_s + s, max(load_mb, mb)
            release_s, release_mb, said = timed([*vt, "release", "2020V2"], env)
            export_s = float(re.search(r"export ([\d.]+) s", said)[1])
            per_layer = layers(target_dir(Warehouse(home)))  # the last run there: the release's
            quality_s, quality_mb, _ = timed(
                [*vt, "quality", "--periode", "2020H2", "--out", str(Path(tmp) / "q")], env
            )
            rows.append(
                (
                    scale,
                    records,
                    gen,
                    load_s,
                    load_mb,
                    release_s,
                    release_mb,
                    per_layer,
                    export_s,
                    quality_s,
                    quality_mb,
                )
            )
            print(f"scale {scale:g}: {records:,} records done", file=sys.stderr)
    base = rows[0]
    print(
        "| scale | records | load s (peak MB) | release s (peak MB) | of which export s | quality s (peak MB) | "
        "dbt node time: staging / intermediate / marts / tests s | s per million records (load+release+quality) | "
        "vs scale 1 |"
    )
    print("|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for scale, records, _gen, load_s, load_mb, rel_s, rel_mb, per_layer, export_s, q_s, q_mb in rows:
        per_m = (load_s + rel_s + q_s) / (records / 1e6)
        base_per_m = (base[3] + base[5] + base[9]) / (base[1] / 1e6)
        layer_text = " / ".join(f"{per_layer.get(k, 0):.0f}" for k in ("staging", "intermediate", "marts", "tests"))
        print(
            f"| {scale:g} | {records:,} | {load_s:.0f} ({load_mb:.0f}) | {rel_s:.0f} ({rel_mb:.0f}) | {export_s:.0f} | "
            f"{q_s:.0f} ({q_mb:.0f}) | {layer_text} | {per_m:.1f} | {per_m / base_per_m:.2f}x |"
        )


if __name__ == "__main__":
    main()
