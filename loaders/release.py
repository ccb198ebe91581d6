"""Building and freezing releases: dbt as of the peildatum, then exports that never change once published.

`build_release` runs the dbt project for one release of the calendar (`loaders/kalender.py`).
`freeze_release` builds it and exports its nine microdata tables to `$VT_HOME/releases/<release>/`: Parquet
and CSV per table, a codebook, a manifest with checksums, row counts and the deliveries used, and a DuckDB
file with only the released tables. A frozen release is never rewritten: an identical export is a no-op,
a different one is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from loaders import kalender, referentie
from loaders.codebook import write_codebook
from loaders.kalender import Release
from loaders.pseudonym import resolve_key
from loaders.warehouse import RAW_SCHEMA, Warehouse, prepare

PROJECT_DIR = Path(__file__).resolve().parent.parent
TABLES = (
    "casus", "advies", "melding", "veiligheidsbeoordeling", "voorwaardenvervolg", "onderzoek", "overdracht",
    "monitoring", "betrokkene",
)


class ReleaseError(Exception):
    """A release cannot be built or frozen; the message says why."""


def get_release(name: str) -> Release:
    try:
        return kalender.get_release(name)
    except kalender.CalendarError as exc:
        raise ReleaseError(str(exc)) from None


def table_name(entity: str, release: str) -> str:
    return f"VT_{entity}_{release}"


@dataclass
class BuildResult:
    release: Release
    peildatum: date
    leveringen: list[tuple] = field(default_factory=list)  # (levering_id, checksum, ontvangen_op)


def selected_deliveries(warehouse: Warehouse, release: Release, peildatum: date) -> list[tuple]:
    """The deliveries that count: per organisation and half-year the latest received by the peildatum."""
    if not warehouse.database.exists():
        return []
    with duckdb.connect(str(warehouse.database), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = 'leveringen'",
            [RAW_SCHEMA],
        ).fetchone()[0]
        if not exists:
            return []
        return con.execute(
            f"""select levering_id, checksum_sha256, ontvangen_op from {RAW_SCHEMA}.leveringen
                where list_contains(?, verslagperiode) and ontvangen_op < ?::date + interval 1 day
                qualify leveringsnummer = max(leveringsnummer) over (partition by vt_code, verslagperiode)
                order by levering_id""",
            [list(release.perioden), peildatum],
        ).fetchall()


def build_release(warehouse: Warehouse, name: str, peildatum: date | None = None, echo: bool = False) -> BuildResult:
    """Run dbt (seeds, models, tests) for one release as of its peildatum."""
    release = get_release(name)
    as_of = peildatum or release.peildatum
    used = selected_deliveries(warehouse, release, as_of)
    if not used:
        raise ReleaseError(
            f"release {name} has no deliveries: none for {', '.join(release.perioden)} received on or before {as_of}"
        )
    require_reference(warehouse, release.jaren, f"release {name} cannot be built")
    if resolve_key(warehouse.home) is None:
        raise ReleaseError("no pseudonymisation key (VT_PSEUDONYM_KEY or $VT_HOME/pseudonym.key): the coded "
                           "identificatienummers need it")
    dbt_vars = {"release": name, "peildatum": as_of.isoformat() if peildatum else None}
    run_dbt(warehouse, ["build", "--exclude-resource-type", "unit_test", "--vars", json.dumps(dbt_vars)], echo)
    _write_build_record(warehouse, name, as_of, used)
    return BuildResult(release, as_of, used)


def _build_record(warehouse: Warehouse, name: str) -> Path:
    return releases_dir(warehouse) / ".builds" / f"{name}.json"


def _write_build_record(warehouse: Warehouse, name: str, as_of: date, used: list[tuple]) -> None:
    """What the warehouse's tables of a release were last built from (the refresh skips a rebuild that would
    read the same deliveries; `vt releases` shows it). Written whole or not at all."""
    path = _build_record(warehouse, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"release": name, "peildatum": as_of.isoformat(),
                               "gebouwd_op": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "leveringen": [lid for lid, _, _ in used]}) + "\n")
    os.replace(tmp, path)


def last_build(warehouse: Warehouse, name: str) -> dict | None:
    """The record of the release's last build, or None (never built, or built before records had this form)."""
    try:
        record = json.loads(_build_record(warehouse, name).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and {"peildatum", "leveringen"} <= set(record) else None


def release_status(warehouse: Warehouse, releases: list[Release]) -> list[dict]:
    """Per release: the calendar's facts, whether it was built, frozen and published, and the deliveries it
    would select today (per organisation and half-year the latest received by the peildatum)."""
    out = []
    for r in releases:
        used = selected_deliveries(warehouse, r, r.peildatum)
        manifest = releases_dir(warehouse) / r.name / "manifest.json"
        last = last_build(warehouse, r.name)
        frozen = json.loads(manifest.read_text()) if manifest.exists() else None
        out.append({
            "release": r.name, "perioden": list(r.perioden), "status": r.status,
            "peildatum": r.peildatum.isoformat(), "toelichting": r.toelichting,
            "gebouwd_op": last["gebouwd_op"] if last else None,
            "bevroren": frozen is not None,
            "gepubliceerd": (warehouse.home / "publicatie" / r.name).is_dir(),
            "leveringen": [lid for lid, _, _ in used],
            # deliveries a build today would take that the frozen release does not have (they go to the next version)
            "niet_in_bevroren": sorted({lid for lid, _, _ in used}
                                       - {d["levering_id"] for d in frozen["leveringen"]}) if frozen else [],
        })
    return out


def require_reference(warehouse: Warehouse, jaren: set[int], what: str) -> None:
    """ReleaseError naming every year that lacks a gemeente or VT-regio list, and how to add it."""
    with warehouse.connect() as con:
        prepare(con)
        gaps = referentie.missing(con, jaren)
    if gaps:
        raise ReleaseError(referentie.missing_message(what, gaps))


def run_dbt(warehouse: Warehouse, args: list[str], echo: bool = False) -> str:
    """dbt in a child process (it then holds the DuckDB file only while it runs)."""
    env = {**os.environ, "VT_DATABASE": str(warehouse.database.resolve()), "DO_NOT_TRACK": "1",
           "VT_HOME": str(warehouse.home.resolve())}
    with warehouse.connect() as con:
        prepare(con)  # dbt reads every raw column of every layout version and the reference schema
    cmd = [sys.executable, "-m", "dbt.cli.main", *args, "--project-dir", str(PROJECT_DIR),
           "--profiles-dir", str(PROJECT_DIR), "--target-path", str(warehouse.home.resolve() / "dbt-target"),
           "--log-path", str(warehouse.logs.resolve())]
    proc = subprocess.run(cmd, env=env, text=True, stdout=None if echo else subprocess.PIPE,
                          stderr=subprocess.STDOUT, cwd=PROJECT_DIR)
    if proc.returncode != 0:
        output = proc.stdout or ""
        errors = [line for line in output.splitlines() if "ERROR" in line or "Error" in line or "FAIL" in line]
        raise ReleaseError("dbt failed:\n" + "\n".join(errors[-30:] or output.splitlines()[-30:]))
    return proc.stdout or ""


def releases_dir(warehouse: Warehouse) -> Path:
    return warehouse.home / "releases"


@dataclass
class FreezeResult:
    release: str
    folder: Path
    outcome: str  # "bevroren" (new) or "ongewijzigd"
    manifest: dict
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of "build" and "export"


def freeze_release(warehouse: Warehouse, name: str, echo: bool = False) -> FreezeResult:
    """Build the release, export it, and freeze it; refuse when a frozen release would change."""
    started = time.perf_counter()
    built = build_release(warehouse, name, echo=echo)
    seconds = {"build": time.perf_counter() - started}
    started = time.perf_counter()
    target = releases_dir(warehouse) / name
    staging = releases_dir(warehouse) / f".{name}.tmp"
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted run
    staging.mkdir(parents=True)
    files = export_tables(warehouse, name, staging)
    manifest = {
        "release": name,
        "status": built.release.status,
        "perioden": list(built.release.perioden),
        "peildatum": built.peildatum.isoformat(),
        "files": files,
        "leveringen": [
            {"levering_id": lid, "checksum_sha256": checksum, "ontvangen_op": received.isoformat(sep=" ")}
            for lid, checksum, received in built.leveringen
        ],
    }
    frozen = target / "manifest.json"
    if frozen.exists():
        old = json.loads(frozen.read_text())
        shutil.rmtree(staging)
        if old["files"] == files:
            return FreezeResult(name, target, "ongewijzigd", old, {**seconds, "export": time.perf_counter() - started})
        changed = sorted({f["name"] for f in files} ^ {f["name"] for f in old["files"]}
                         | {f["name"] for f in files if f not in old["files"]})
        raise ReleaseError(
            f"release {name} is frozen and its output would change ({', '.join(changed)}); a frozen release "
            "never changes: a correction goes into the next version of this year"
        )
    write_codebook(staging / f"codebook_{name}.md", built.release, files, warehouse)
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    analyst_database(staging, name, files)
    for p in staging.iterdir():
        p.chmod(0o444)  # published files are read-only
    staging.rename(target)
    return FreezeResult(name, target, "bevroren", manifest, {**seconds, "export": time.perf_counter() - started})


def export_tables(warehouse: Warehouse, name: str, folder: Path) -> list[dict]:
    """One Parquet and one CSV per microdata table, rows in a fixed order, so equal data gives equal bytes."""
    files = []
    with duckdb.connect(str(warehouse.database), read_only=True) as con:
        con.execute("set threads = 1")  # one writer thread: row groups and bytes do not depend on scheduling
        for entity in TABLES:
            table = table_name(entity, name)
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
                [table],
            ).fetchall()]
            if not columns:
                raise ReleaseError(f"table {table} was not built")
            order = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select count(*) from "{table}"').fetchone()[0]
            for fmt, options in (("parquet", "format parquet, compression zstd"), ("csv", "format csv, header true")):
                path = folder / f"{table}.{fmt}"
                con.execute(f"copy (select * from \"{table}\" order by {order}) to {sql_string(path)} ({options})")
                files.append({"name": path.name, "rows": rows, "sha256": sha256_file(path)})
    return files


def analyst_database(folder: Path, name: str, files: list[dict]) -> None:
    """vt_<release>.duckdb with only the released tables, read from the exported Parquet files."""
    path = folder / f"vt_{name}.duckdb"
    with duckdb.connect(str(path)) as con:
        for f in files:
            if f["name"].endswith(".parquet"):
                table = f["name"].removesuffix(".parquet")
                con.execute(f'create table "{table}" as select * from read_parquet(?)', [str(folder / f["name"])])


def sql_string(path: Path) -> str:
    """A path as an SQL string literal (COPY takes no parameter for its target)."""
    return "'" + str(path).replace("'", "''") + "'"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
