"""Progress on a terminal, silence otherwise (cron, pipes, tests)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Callable as progress(done, total, label); draws a one-line bar on stderr only when it is a TTY."""

    def __init__(self, title: str, stream: TextIO | None = None, enabled: bool | None = None):
        self.title = title
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()

    def __call__(self, done: int, total: int, label: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / total) if total else width
        elapsed = time.monotonic() - self.started
        line = f"\r{self.title} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {elapsed:5.1f}s {label}"
        self.stream.write(line.ljust(100)[:100])
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
