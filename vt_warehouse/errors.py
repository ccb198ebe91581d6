"""Operating conditions as messages: what the user of `vt` reads instead of a traceback.

`explain` turns an exception that no command handled into one sentence and an exit code. Conditions of the
machine (the database in use, a full disk, a read-only or unwritable $VT_HOME) are configuration errors, exit 2,
with what to do; anything else is a defect of the warehouse, exit 4, with its traceback kept in
$VT_HOME/logs/errors.log for the maintainers.
"""

from __future__ import annotations

import errno
import re
import traceback
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from loaders.pseudonym import PseudonymKeyError
from loaders.warehouse import SettingError, ShareGroupError, WarehouseBusy

EXIT_CONFIG, EXIT_INTERNAL = 2, 4
_LOCK = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def holder(pid: int) -> str:
    """A process as a person would name it: its command line when /proc shows it, else its pid."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"process {pid}"
    words = [w.decode(errors="replace") for w in words if w]
    # `python -m vt_warehouse.cli load ...` and `.venv/bin/vt load ...` both read as `vt load ...`
    for i, w in enumerate(words):
        if w.endswith("/vt") or w == "vt" or w == "vt_warehouse.cli":
            words = ["vt", *words[i + 1 :]]
            break
        if w == "vt_warehouse.transform.child":  # vt's dbt process: its argument is dbt's command line as JSON
            words = ["dbt (run by vt)"]
            break
        if w.endswith("/dbt"):
            words = ["dbt", *words[i + 1 :]]
            break
    return f"process {pid} ({' '.join(' '.join(words).split())[:120]})"


def explain(exc: BaseException, database: Path) -> tuple[str, int]:
    """(message, exit code) for an exception that reached the command line."""
    text = str(exc)
    if isinstance(exc, (ShareGroupError, PseudonymKeyError, SettingError, WarehouseBusy)):
        return text, EXIT_CONFIG
    if isinstance(exc, duckdb.Error) and ("Could not set lock" in text or "Conflicting lock" in text):
        found = _LOCK.search(text)
        who = holder(int(found["pid"])) if found else "another process"
        return (
            f"the warehouse is in use by {who}: {database} is locked; nothing done, run again when it has finished",
            EXIT_CONFIG,
        )
    number = getattr(exc, "errno", None)
    if number == errno.ENOSPC or "No space left on device" in text:
        return (
            f"the disk is full ({_where(exc, database)}); nothing was half-written: free space and run again",
            EXIT_CONFIG,
        )
    if number == errno.EROFS or "Read-only file system" in text:
        return (f"{_where(exc, database)} is on a read-only file system: $VT_HOME must be writable", EXIT_CONFIG)
    if number in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return (
            f"no permission to write {_where(exc, database)}: $VT_HOME must be writable by the user that runs vt",
            EXIT_CONFIG,
        )
    if isinstance(exc, OSError):
        return f"{_where(exc, database)}: {exc.strerror or text}", EXIT_CONFIG
    if isinstance(exc, duckdb.Error):
        return f"the warehouse database {database} cannot be used: {text.splitlines()[0] if text else exc}", EXIT_CONFIG
    return f"internal error ({type(exc).__name__}: {text.splitlines()[0] if text else ''})", EXIT_INTERNAL


def _where(exc: BaseException, database: Path) -> str:
    name = getattr(exc, "filename", None)
    return str(name) if name else str(database)


def keep_traceback(exc: BaseException, logs: Path) -> Path | None:
    """Append the traceback to logs/errors.log; None when even that cannot be written."""
    try:
        logs.mkdir(parents=True, exist_ok=True)
        path = logs / "errors.log"
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {stamp}\n{''.join(traceback.format_exception(exc))}")
        return path
    except OSError:
        return None
