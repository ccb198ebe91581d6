"""End-to-end and incremental refresh benchmark.

    .venv/bin/python bench/bench_refresh.py [--first 2019H1] [--last 2023H2] [--scale 1]

1. Generates the national history FIRST..LAST at SCALE into an inbox, then runs `vt refresh --today
   2025-01-01` on an empty warehouse: every release frozen and published, with quality reports. Wall time
   per step (from the refresh log) and in total; peak memory of the largest process, and of the refresh and
   its children together (per set of children running: which step needs it).
2. Incremental: one correction delivery for one organisation's last half-year arrives; the next refresh
   (quality report, rebuild of the affected non-frozen release) is timed. Run with --first 2023H1 for the
   one-year history to see how that time depends on the size of the history.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loaders.periods import periode_range  # noqa: E402
from vt_warehouse.generate import generate, stamp_received  # noqa: E402

PHASES: dict[str, float] = {}  # the peak of a refresh and its children per set of children running (TreeMemory)


def refresh(home: Path, inbox: Path, today: str) -> tuple[float, float, float, str]:
    """One refresh: its wall time, the peak of its largest process, the peak of all its processes together (MB)
    and its summary line."""
    env = {**os.environ, "VT_HOME": str(home), "GX_ANALYTICS_ENABLED": "false"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-m", "vt_warehouse.cli", "refresh", "--inbox", str(inbox), "--today", today],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        together = TreeMemory(proc.pid)
        together.start()
        stdout, stderr = proc.communicate()
        together.stop.set()
        together.join()
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(stderr)
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    for phase, mb in together.by_phase.items():
        PHASES[phase] = max(PHASES.get(phase, 0.0), mb)
    return seconds, peak, together.peak_mb, stdout.strip()


class TreeMemory(threading.Thread):
    """The largest sum of resident memory of a process and its descendants (the refresh, its dbt, GX and freeze
    children), sampled every 0.2 s from /proc: what the machine must hold at once. `by_phase`: that peak per set
    of children running (e.g. the refresh with two GX children), to say which step needs it."""

    CHILDREN = {
        "vt_warehouse.transform.child": "dbt",
        "vt_warehouse.quality.gx_runner": "GX",
        "vt_warehouse.release.freeze_run": "freeze",
    }

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peak_mb, self.stop = root, 0.0, threading.Event()
        self.by_phase: dict[str, float] = {}

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.stop.wait(0.2):
            parent, rss, kind = {}, {}, {}
            for entry in os.scandir("/proc"):
                if entry.name.isdigit():
                    try:
                        fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
                        pages = int(Path(entry.path, "statm").read_text().split()[1])
                        command = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    except (OSError, IndexError, ValueError):
                        continue  # ended meanwhile
                    pid = int(entry.name)
                    parent[pid], rss[pid] = int(fields[1]), pages * page
                    kind[pid] = next((k for module, k in self.CHILDREN.items() if module in command), None)
            tree, total, running = {self.root}, 0, []
            for pid in sorted(parent):  # (a child's pid can be lower than its parent's: walk up instead)
                up = pid
                while up in parent and up not in tree and up > 1:
                    up = parent[up]
                if up in tree:
                    tree.add(pid)
                    total += rss[pid]
                    running += [kind[pid]] if kind[pid] else []
            mb = total / 2**20
            self.peak_mb = max(self.peak_mb, mb)
            phase = " + ".join(["refresh", *(f"{running.count(k)} {k}" for k in sorted(set(running)))])
            self.by_phase[phase] = max(self.by_phase.get(phase, 0.0), mb)


def steps(log: Path, since: int) -> dict[str, float]:
    """Seconds per kind of step, from the refresh log lines written after byte `since`."""
    out: dict[str, float] = {}
    published = 0.0  # the publications since the last line of freezes (from session 16, made inside its wall)
    text = log.read_text()[since:]
    for line in text.splitlines():
        m = re.match(r"\S+ (.*) \(([\d.]+)s\)$", line)
        if not m:
            published = 0.0 if " refresh started: " in line else published
            continue
        seconds = float(m[2])
        kind = (
            "load"
            if m[1].startswith("load ")
            else "quality reports"
            if m[1].startswith("quality")
            else "release builds (one dbt process)"
            if m[1].startswith("releases built")
            # two at a time (session 16): the freezes' wall time less the publications made meanwhile
            else "release freeze+export"
            if "frozen and exported" in m[1]
            else "release build+freeze+export"
            if "built and frozen" in m[1]  # (before one dbt process)
            else "release publish"
            if "published" in m[1]
            else "release build (not frozen)"
            if "built" in m[1]
            else m[1]
        )
        if kind == "release publish":
            published += seconds
        elif m[1].startswith("releases frozen and exported"):
            seconds, published = seconds - published, 0.0
        out[kind] = out.get(kind, 0.0) + seconds
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first", default="2019H1")
    ap.add_argument("--last", default="2023H2")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    os.environ.setdefault("VT_PSEUDONYM_KEY", "bench-" + "k" * 40)
    os.environ.setdefault("VT_RELEASE_KEY", "bench-release-" + "r" * 40)
    os.environ.pop("VT_DATABASE", None)
    with tempfile.TemporaryDirectory(prefix="bench-refresh-") as tmp:
        inbox, home = Path(tmp) / "inbox", Path(tmp) / "wh"
        t = time.perf_counter()
        files = generate(inbox, periode_range(f"{args.first}:{args.last}"), scale=args.scale, seed=1)
        gen_seconds = time.perf_counter() - t
        records = sum(f.records for f in files)
        # the history up to mid-2024: every release frozen but the last V3, which is built
        first_s, peak1, tree1, summary1 = refresh(home, inbox, "2024-06-01")
        size1 = (home / "logs" / "refresh.log").stat().st_size

        # incremental: a correction for the last half-year of one organisation, for the non-frozen last V3
        last = max((f for f in files if f.vt_code == "VT05"), key=lambda f: (f.periode, f.leveringsnummer))
        lines = (home / "archive" / last.periode / last.path.name).read_text().splitlines()
        nummer = last.leveringsnummer + 1
        lines[0] = lines[0][:24] + f"{nummer:03d}" + lines[0][27:]
        target = inbox / f"VT05_{last.periode}_{nummer:03d}.txt"
        target.write_text("\n".join(lines) + "\n")
        stamp_received(target, "2024-06-02T09:00:00")
        inc_s, _, _, inc_summary = refresh(home, inbox, "2024-06-03")
        size2 = (home / "logs" / "refresh.log").stat().st_size

        # the rest of the way: the last V3 frozen and published
        final_s, peak2, tree2, summary2 = refresh(home, inbox, "2025-01-01")
        log = home / "logs" / "refresh.log"
        per_step = steps(log, 0)
        inc_steps = steps(log, size1)
        for kind, sec in steps(log, size2).items():
            inc_steps[kind] -= sec
        for kind, sec in inc_steps.items():
            per_step[kind] -= sec  # the end-to-end figures leave the incremental run out
        print(
            f"history {args.first}..{args.last} at scale {args.scale}: {len(files)} files, {records:,} records "
            f"(generated in {gen_seconds:.0f} s)"
        )
        print(f"refresh --today 2024-06-01: {summary1}")
        print(f"refresh --today 2025-01-01: {summary2}")
        print()
        print("| step (end to end, empty warehouse to every release frozen and published) | seconds |")
        print("|---|---:|")
        for kind, sec in sorted(per_step.items(), key=lambda kv: -kv[1]):
            print(f"| {kind} | {sec:.1f} |")
        print(f"| total (wall, two refresh runs incl. start-up) | {first_s + final_s:.1f} |")
        print(
            f"\npeak memory of a refresh process: {max(peak1, peak2):.0f} MB; of a refresh and its children "
            f"together: {max(tree1, tree2):.0f} MB (sampled every 0.2 s), by the children running:"
        )
        for phase, mb in sorted(PHASES.items(), key=lambda kv: -kv[1]):
            print(f"  {phase}: {mb:.0f} MB")
        # (the largest single process; the freezes run two at a time, each in a child that logs its own peak)
        child = r"frozen and exported in [\d.]+ s \(a child process, peak (\d+) MB\)"
        freezes = [int(mb) for mb in re.findall(child, log.read_text())]
        if freezes:
            print(
                f"freeze children: {len(freezes)}, peak {max(freezes)} MB the largest; two at a time at most "
                f"{sum(sorted(freezes)[-2:])} MB together"
            )
        print(
            f"\nincremental (one correction, VT05 {last.periode}, release not frozen): {inc_s:.1f} s wall: "
            f"{inc_summary}"
        )
        for kind, sec in inc_steps.items():
            print(f"  {kind}: {sec:.1f} s")
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
