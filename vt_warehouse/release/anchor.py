"""Frozen releases anchored outside their folder: what was frozen, recorded where the folder cannot change it.

A manifest lists the sha256 of every file of a frozen release, but a manifest is its own witness: whoever can
change a file can write its new checksum into the manifest too. So each freeze, just before its folder is
renamed into place, appends one JSON line to `$VT_HOME/logs/bevroren.log` (append-only, owner-only): the
release, the sha256 of its manifest, the checksum of what any freeze from the same deliveries reproduces, and
the deliveries. The parent process (`vt release`, the refresh) then copies the line into the database table
`meta.bevroren`, for SQL readers. `vt verify` compares the folder with its manifest, and the manifest with this
record; publishing a frozen release checks it too; a release whose manifest went missing is frozen again only
if what it would hold is exactly what was recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

LOG = "bevroren.log"
TABLE = "meta.bevroren"


def log_path(home: Path) -> Path:
    return home / "logs" / LOG


def reproducible(manifest: dict) -> dict:
    """What two freezes of the same release from the same deliveries share: the manifest without its build block
    (which names its own dbt run) and without the DuckDB file's byte checksum (DuckDB writes other bytes each
    time; its content checksum is the same)."""
    files = [
        {k: v for k, v in f.items() if not ("content_sha256" in f and k == "sha256")} for f in manifest.get("files", [])
    ]
    return {**{k: v for k, v in manifest.items() if k != "build"}, "files": files}


def reproducible_sha(manifest: dict) -> str:
    """The checksum of what every freeze of the release from the same deliveries and keys gives."""
    return hashlib.sha256(json.dumps(reproducible(manifest), sort_keys=True).encode()).hexdigest()


def record(home: Path, manifest: dict, manifest_bytes: bytes) -> dict:
    """Append the freeze of `manifest` to the log (fsynced: it is there before the folder is)."""
    entry = {
        "release": manifest["release"],
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "reproduceerbaar_sha256": reproducible_sha(manifest),
        "leveringen": [d["levering_id"] for d in manifest.get("leveringen", [])],
        "bevroren_op": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    path = log_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return entry


def selection_change(then: list[str], now: list[str]) -> str:
    """What differs between the deliveries recorded at a freeze and those a release would hold now, in words."""
    added, gone = sorted(set(now) - set(then)), sorted(set(then) - set(now))
    if not added and not gone:
        return (
            f"the same {len(now)} deliveries, other content: a changed key, reference data or delivery reception time"
        )
    parts = ([f"now also {', '.join(added)}"] if added else []) + ([f"no longer {', '.join(gone)}"] if gone else [])
    return "; ".join(parts)


def recorded(home: Path) -> dict[str, dict]:
    """Per release its last recorded freeze (a refreeze of a repaired folder appends the same content again).
    A line that cannot be read is skipped here and named by `problems`."""
    out: dict[str, dict] = {}
    try:
        lines = log_path(home).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        try:
            entry = json.loads(line)
            out[entry["release"]] = entry
        except (ValueError, KeyError, TypeError):
            continue
    return out


def problems(home: Path, name: str, folder: Path) -> list[str]:
    """How a frozen release folder's manifest differs from what was recorded at its freeze (empty: it agrees)."""
    entry = recorded(home).get(name)
    manifest = folder / "manifest.json"
    if entry is None:
        return [
            f"no freeze of {name} is recorded in {log_path(home)}: the folder was not frozen by this warehouse, "
            "or the record was removed"
        ]
    try:
        sha = hashlib.sha256(manifest.read_bytes()).hexdigest()
    except OSError:
        return []  # (the manifest itself is reported missing)
    if sha != entry["manifest_sha256"]:
        return [
            f"manifest.json differs from the one recorded when {name} was frozen on {entry['bevroren_op']} "
            f"({log_path(home)}): a file and its checksum were changed together"
        ]
    return []


def table_lacks(con, home: Path) -> bool:
    """Whether a recorded freeze is missing from the database table (read-only: a run with nothing new writes
    nothing)."""
    entries = {(e["release"], e["manifest_sha256"]) for e in recorded(home).values()}
    if not entries:
        return False
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'meta' and table_name = 'bevroren'"
    ).fetchone()[0]
    have = set(con.execute(f"select release, manifest_sha256 from {TABLE}").fetchall()) if exists else set()
    return bool(entries - have)


def sync_table(con, home: Path) -> int:
    """Copy every recorded freeze the database table lacks into it (the parent does this after each freeze, and
    the refresh catches up after an interrupted one). Returns how many rows were added."""
    con.execute("create schema if not exists meta")
    con.execute(
        f"create table if not exists {TABLE} (release varchar, manifest_sha256 varchar, "
        "reproduceerbaar_sha256 varchar, leveringen varchar[], bevroren_op varchar, "
        "primary key (release, manifest_sha256))"
    )
    added = 0
    for entry in recorded(home).values():
        added += con.execute(
            f"insert into {TABLE} values (?, ?, ?, ?, ?) on conflict do nothing",
            [
                entry["release"],
                entry["manifest_sha256"],
                entry["reproduceerbaar_sha256"],
                entry["leveringen"],
                entry["bevroren_op"],
            ],
        ).fetchone()[0]
    return added
