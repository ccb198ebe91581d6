"""Soak: a refresh over a five-year history, interrupted at random points, ends in the state of an uninterrupted run.

    .venv/bin/python soak/soak_refresh.py [--faults 8] [--seed 1] [--scale 0.005]

Generates 2019H1-2023H2 for two organisations (VT01, and VT27, which exists until 2022), then:
1. an uninterrupted `vt refresh --today 2024-06-01` into one warehouse (the reference);
2. into a second warehouse, `--faults` refreshes each with one fault at a random checkpoint (`loaders/faults.py`),
   drawn at random and taken in the pipeline's order (so each finds work left): SIGKILL (a power cut, an OOM
   kill) or a full disk (ENOSPC), then one refresh without faults;
3. compares the two: the delivery register, every frozen release's manifest, every publication file byte for
   byte, every quality report (a manifest as `vt_warehouse.release.anchor.reproducible` gives it: without what names its
   own dbt run or the DuckDB file's own bytes). Exit 0 when
   equal; 1 with the differences otherwise.
`make soak` runs it; the figures of the last run are in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loaders.periods import periode_range  # noqa: E402
from vt_warehouse.generate import generate  # noqa: E402
from vt_warehouse.release.anchor import reproducible  # noqa: E402

KEY = "soak-key-" + "0123456789abcdef" * 3
RELEASE_KEY = "soak-release-key-" + "fedcba9876543210" * 3
TODAY = "2024-06-01"
CHECKPOINTS = [
    "load:casus",
    "load:melding",
    "load:betrokkene",
    "load:before-commit",
    "refresh:after-load",
    "quality:gx-running",
    "refresh:after-quality",
    "refresh:before-freeze",
    "release:before-rename",
    "refresh:after-freeze",
    "refresh:before-publish-rename",
]


def refresh(home: Path, inbox: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full = {
        **os.environ,
        "VT_HOME": str(home),
        "VT_PSEUDONYM_KEY": KEY,
        "VT_RELEASE_KEY": RELEASE_KEY,
        "GX_ANALYTICS_ENABLED": "false",
        **(env or {}),
    }
    full.pop("VT_DATABASE", None)
    return subprocess.run(
        [sys.executable, "-m", "vt_warehouse.cli", "refresh", "--inbox", str(inbox), "--today", TODAY],
        capture_output=True,
        text=True,
        env=full,
    )


def state(home: Path) -> dict:
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        register = con.execute(
            "select levering_id, checksum_sha256, ontvangen_op, aantal_records from raw.leveringen order by 1"
        ).fetchall()
    # a manifest's build block names the dbt run that made it, and DuckDB writes other bytes each time
    releases = {
        p.name: reproducible(json.loads((p / "manifest.json").read_text()))
        for p in sorted((home / "releases").iterdir())
        if (p / "manifest.json").exists()
    }
    publications = {
        str(p.relative_to(home)): p.read_bytes().hex() for p in sorted((home / "publicatie").rglob("*")) if p.is_file()
    }
    reports = {str(p.relative_to(home)): p.read_text() for p in sorted((home / "kwaliteit").rglob("*.json"))}
    return {
        "register": [list(map(str, r)) for r in register],
        "releases": releases,
        "publications": publications,
        "reports": reports,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.005)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="vt-soak-"))
    try:
        generate(work / "gen", periode_range("2019H1:2023H2"), scale=args.scale, seed=args.seed)
        source = work / "source"
        source.mkdir()
        for p in (work / "gen").glob("*.txt"):
            if p.name[:4] in ("VT01", "VT27"):
                shutil.copy2(p, source / p.name)
        files = len(list(source.iterdir()))
        started = time.monotonic()
        shutil.copytree(source, work / "inbox-a", copy_function=shutil.copy2)
        proc = refresh(work / "a", work / "inbox-a")
        if proc.returncode != 0:
            print(f"the uninterrupted refresh failed (exit {proc.returncode}):\n{proc.stderr}")
            return 1
        print(f"uninterrupted: {files} files, {time.monotonic() - started:.0f} s: {proc.stdout.strip()}")
        shutil.copytree(source, work / "inbox-b", copy_function=shutil.copy2)
        started = time.monotonic()
        # in the order of the pipeline, so that each fault finds work left at its step: a run with a fault gets
        # as far as it, and a later step still has work to do; the 1st or 2nd file, the 1st to 3rd release there
        drawn = sorted((CHECKPOINTS.index(p), p) for p in (rng.choice(CHECKPOINTS) for _ in range(args.faults)))
        for i, (_, step) in enumerate(drawn):
            nth = (
                rng.randint(1, 2)
                if step.startswith("load:")
                else 1
                if "quality" in step or step.endswith("after-load")
                else rng.randint(1, 3)
            )
            point = f"{step}@{nth}"
            kind = rng.choice(["kill", "ENOSPC"])
            env = {"VT_KILL_AT": point} if kind == "kill" else {"VT_FAIL_AT": f"{point}=ENOSPC"}
            proc = refresh(work / "b", work / "inbox-b", env)
            expected = {"kill": -9, "ENOSPC": 2}[kind]
            if kind == "kill" and step == "release:before-rename":
                # a freeze runs in a child process (vt_warehouse/release/freeze_run.py): killed, it holds back
                # its release and the refresh ends with exit 2, saying so
                expected = 2 if "freeze was killed (signal 9)" in proc.stderr else -9
            reached = proc.returncode == expected
            if not reached and proc.returncode not in (0, 1):
                print(f"fault {i + 1}: {kind} at {point}: unexpected exit {proc.returncode}:\n{proc.stderr}")
                return 1
            if "Traceback" in proc.stderr:
                print(f"fault {i + 1}: {kind} at {point}: a traceback:\n{proc.stderr}")
                return 1
            print(
                f"fault {i + 1}: {kind} at {point}: {'hit' if reached else 'not reached (nothing left there)'}"
                f", exit {proc.returncode}"
            )
        proc = refresh(work / "b", work / "inbox-b")
        if proc.returncode != 0:
            print(f"the final refresh failed (exit {proc.returncode}):\n{proc.stderr}")
            return 1
        print(f"interrupted {args.faults} times, then completed: {time.monotonic() - started:.0f} s")
        a, b = state(work / "a"), state(work / "b")
        if a != b:
            for key in a:
                if a[key] != b[key]:
                    print(f"DIFFERENT: {key}")
            return 1
        print(
            f"same state: {len(a['register'])} deliveries, {len(a['releases'])} frozen releases, "
            f"{len(a['publications'])} publication files, {len(a['reports'])} quality reports"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
