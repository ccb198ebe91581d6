"""Freezes of several releases, two at a time, each in a child process: the refresh's last long step.

    python -m vt_warehouse.release.freeze_run RELEASE ORDINAL MARKER  (the child; started by FreezeRuns, never by hand)

A freeze is mostly one thread's work (the exports with one DuckDB writer thread, the analysts' DuckDB file, the
checksums), so two at a time keep both cores of a small machine busy. A child does exactly what
`vt_warehouse.release.freeze_release` does in one process: it writes only its release's staging folder
(releases/.<R>.tmp), renamed into place when complete, and it reads the warehouse read-only. It dies with the
refresh (vt_warehouse.children): a killed refresh leaves no freeze running, and the next run removes the staging
folder and freezes the release again. Its last line (after MARKER) says how it ended, in JSON.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass

from loaders import faults
from loaders.warehouse import Warehouse
from vt_warehouse import PROJECT_DIR
from vt_warehouse.children import die_with_parent
from vt_warehouse.release import ReleaseError

MARKER = "##vt-freeze-end##"
WORKERS = 2  # two freezes at a time: both cores of the 2-core machine, twice a freeze's memory (up to 0.75 GB)


@dataclass
class Frozen:
    """What the refresh learns of a freeze made in a child: the release's files and manifest are on disk."""

    name: str
    repaired: str | None  # as FreezeResult.repaired
    seconds: float  # the child's own wall time, start-up included
    peak_mb: float  # the child's peak memory


class FreezeRuns:
    """Freeze `names` (each with a complete build of the current state) at most `workers` at a time, in the given
    order; `result(name)` waits for one. Use as a context manager: leaving it kills the freezes still running
    (their staging folders are removed by the next refresh)."""

    def __init__(self, warehouse: Warehouse, names: list[str], workers: int | None = None):
        self.warehouse = warehouse
        self.waiting = list(names)
        self.workers = max(1, workers or min(os.cpu_count() or 1, WORKERS))
        self.running: dict[str, _Child] = {}
        self.ended: dict[str, Frozen | Exception] = {}
        self.started = 0
        self.marker = f"{MARKER} {secrets.token_hex(8)}"  # no output of the child can pass for its last line
        self.selector = selectors.DefaultSelector()

    def __enter__(self) -> FreezeRuns:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def result(self, name: str) -> Frozen:
        """The freeze of `name`, when it has ended: Frozen, or its ReleaseError (that release only) or OSError (a
        full disk: the refresh stops, as it would in one process)."""
        if name not in self.ended and name not in self.running and name not in self.waiting:
            raise KeyError(name)
        while name not in self.ended:
            self._start_waiting()
            self._read()
        outcome = self.ended.pop(name)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def close(self) -> None:
        for child in self.running.values():
            child.proc.kill()
            child.proc.wait()
            child.proc.stdout.close()
        self.running.clear()
        self.selector.close()

    def _start_waiting(self) -> None:
        while self.waiting and len(self.running) < self.workers:
            name = self.waiting.pop(0)
            faults.checkpoint("refresh:before-freeze")
            self.started += 1
            env = {
                **os.environ,
                "VT_HOME": str(self.warehouse.home.resolve()),
                "VT_DATABASE": str(self.warehouse.database.resolve()),
            }
            proc = subprocess.Popen(
                [sys.executable, "-m", "vt_warehouse.release.freeze_run", name, str(self.started), self.marker],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=PROJECT_DIR,
                preexec_fn=die_with_parent,
            )
            self.running[name] = _Child(proc)
            self.selector.register(proc.stdout, selectors.EVENT_READ, name)

    def _read(self) -> None:
        """Read what the running children wrote; a child whose output ended has ended: collect it."""
        for key, _ in self.selector.select():
            name = key.data
            child = self.running[name]
            chunk = os.read(key.fd, 65536)
            if chunk:
                child.output = (child.output + chunk)[-65536:]  # its last words are enough
                continue
            self.selector.unregister(key.fileobj)
            child.proc.stdout.close()
            code = child.proc.wait()
            del self.running[name]
            self.ended[name] = _outcome(name, code, child.output.decode(errors="replace"), self.marker)


@dataclass
class _Child:
    proc: subprocess.Popen
    output: bytes = b""


def _outcome(name: str, code: int, output: str, marker: str) -> Frozen | Exception:
    lines = output.splitlines()
    answer = next(
        (json.loads(line[len(marker) + 1 :]) for line in reversed(lines) if line.startswith(marker + " ")), None
    )
    if answer is None:
        said = [line for line in lines if line.strip()]
        how = f"was killed (signal {-code})" if code < 0 else f"stopped (exit code {code})"
        return ReleaseError(
            f"its freeze {how} before it ended: {said[-1] if said else 'no message'}; the release "
            "is not frozen (the next run removes its staging folder), the next refresh freezes it "
            "again"
        )
    if "errno" in answer:
        return OSError(answer["errno"], answer["strerror"], *([answer["filename"]] if answer["filename"] else []))
    if "error" in answer:
        return ReleaseError(answer["error"])
    return Frozen(name, answer["repaired"], answer["seconds"], answer["peak_mb"])


def main(argv: list[str]) -> int:
    name, ordinal, marker = argv[1], int(argv[2]), argv[3]
    started = time.perf_counter()
    from vt_warehouse.kalender import get_release
    from vt_warehouse.release import freeze_release, recorded_build

    faults.carry("release:before-rename", ordinal - 1)
    warehouse = Warehouse.from_env()
    try:
        built = recorded_build(warehouse, get_release(name))
        if isinstance(built, ReleaseError):
            raise built
        result = freeze_release(warehouse, name, shared_built=True, built=built)
        answer: dict = {"repaired": result.repaired}
    except ReleaseError as exc:
        answer = {"error": str(exc)}
    except OSError as exc:  # a full disk, a read-only folder: the caller raises it as the refresh would
        if exc.errno is None:
            raise
        answer = {
            "errno": exc.errno,
            "strerror": exc.strerror,
            "filename": None if exc.filename is None else str(exc.filename),
        }
    answer |= {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    sys.stdout.flush()
    print(f"{marker} {json.dumps(answer)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
