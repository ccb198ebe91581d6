"""The portal's worker: a verdict in minutes, not at the operator's next run. After each accepted upload (and
every POLL_SECONDS, for files put in the inbox otherwise) it runs `vt refresh --intake-only` in a child process:
the new files are loaded and their quality reports written, under the refresh's own lock and rules. While another
refresh runs (exit 3) it tries again at the next poll. The releases wait for the scheduled full refresh.

A child process, not a thread of the portal: a crash or a killed portal never leaves half a load, and the
portal's event loop never waits for it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from vt_warehouse.refresh import inbox_entries

POLL_SECONDS = 60.0
EXIT_LOCKED = 3


class Intake:
    def __init__(self, home: Path, inbox: Path, poll: float = POLL_SECONDS):
        self.home, self.inbox, self.poll = Path(home), Path(inbox), poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vt-intake", daemon=True)
        self.runs: list[int] = []  # each run's exit code, for the tests and the operator's overview

    def start(self) -> Intake:
        self._thread.start()
        return self

    def wake(self) -> None:
        """An upload was accepted: process it now (or right after the run under way)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=5)

    def _pending(self) -> bool:
        try:
            return bool(inbox_entries(self.inbox)[0])
        except OSError:
            return False

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stop.is_set() or not self._pending():
                continue
            self.runs.append(self.run_once())

    def run_once(self) -> int:
        """One intake run; its output goes to the refresh log (the run writes it) and logs/portal-intake.log."""
        env = {**os.environ, "VT_HOME": str(self.home)}
        log = self.home / "logs" / "portal-intake.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a", encoding="utf-8") as out:
            proc = subprocess.run(
                [sys.executable, "-m", "vt_warehouse.cli", "refresh", "--intake-only", "--inbox", str(self.inbox)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        return proc.returncode
