"""The portal's audit log, `$VT_HOME/logs/portal-audit.log` (owner-only): one JSON line per login, failed login,
second-factor step, log-out, upload and download: when, which account, from where, what (a delivery or file
name, a verdict); never the contents of a file or report."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

FILE = "portal-audit.log"


def log(home: Path, event: str, account: str | None, client: str | None = None, **what: str) -> None:
    folder = Path(home) / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    line = {
        "tijd": datetime.now(UTC).isoformat(timespec="seconds"),
        "gebeurtenis": event,
        "account": account,
        "adres": client,
        **what,
    }
    fd = os.open(folder / FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (json.dumps(line, ensure_ascii=True) + "\n").encode())
    finally:
        os.close(fd)


def read(home: Path) -> list[dict]:
    path = Path(home) / "logs" / FILE
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
