"""Building and freezing releases: dbt as of the peildatum, then exports that never change once published.

`build_release` runs the dbt project for one release of the calendar (`vt_warehouse/kalender.py`).
`freeze_release` builds it and exports its nine microdata tables to `$VT_HOME/releases/<release>/`: Parquet
and CSV per table with a CSVW schema and SPSS and Stata syntax, the code lists, a DuckDB file with only the
released tables (keys, comments, code-list tables and label views; `vt_warehouse/release/files.py`), the codebook in
Markdown and HTML, and a manifest with the checksum of every file, row counts and the deliveries used. A frozen
release is never rewritten: an identical export is a no-op, a different one is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from loaders import faults, referentie
from loaders.pseudonym import (
    PSEUDONYM,
    RELEASE,
    PseudonymKeyError,
    check_fingerprints,
    fingerprint,
    release_key,
    resolve_key,
)
from loaders.sql import relation_exists, sql_text
from loaders.warehouse import RAW_SCHEMA, Warehouse, share
from vt_warehouse import kalender
from vt_warehouse.kalender import Release
from vt_warehouse.release import anchor, schema
from vt_warehouse.release import files as release_files
from vt_warehouse.release.codebook import write_codebook
from vt_warehouse.transform import exposures
from vt_warehouse.transform.run import BuildError, Run, run_dbt, run_dbt_each

# A release that cannot be built or frozen is the one error of building (dbt_run.BuildError): the calendar, the
# guard and dbt itself all say it the same way.
ReleaseError = BuildError


def get_release(name: str) -> Release:
    try:
        return kalender.get_release(name)
    except kalender.CalendarError as exc:
        raise ReleaseError(str(exc)) from None


def table_name(entity: str, release: str) -> str:
    return exposures.microdata(entity, release)


@dataclass
class BuildResult:
    release: Release
    peildatum: date
    leveringen: list[tuple] = field(default_factory=list)  # (levering_id, checksum, ontvangen_op)
    build: dict = field(default_factory=dict)  # the build's row of meta.builds (invocation id, versions, times)


def selected_deliveries(warehouse: Warehouse, release: Release, peildatum: date) -> list[tuple]:
    """The deliveries that count: per organisation and half-year the one valid on the peildatum, as the model
    int_leveringen_vervangen (latest delivery wins) says, as (levering_id, checksum, ontvangen_op). A warehouse
    whose dbt models were never built gets them built first."""
    return [row[:3] for row in _selection(warehouse, release, peildatum)]


def _selection(warehouse: Warehouse, release: Release, peildatum: date) -> list[tuple]:
    """`selected_deliveries` with each one's half-year and organisation: (levering_id, checksum, ontvangen_op,
    verslagperiode, vt_code), by levering_id."""
    if not warehouse.database.exists():
        return []
    with warehouse.connect(read_only=True) as con:
        if not relation_exists(con, f"{RAW_SCHEMA}.leveringen"):
            return []
        ready = relation_exists(con, exposures.LEVERINGEN)
    if not ready:
        run_dbt(warehouse, exposures.SHARED_BUILD)
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            f"""select levering_id, checksum_sha256, ontvangen_op, verslagperiode, vt_code
                from {exposures.LEVERINGEN} as l
                where list_contains(?, verslagperiode) and {exposures.valid_on("l", "?::date")}
                order by levering_id""",
            [list(release.perioden), peildatum, peildatum],
        ).fetchall()


def completeness(
    warehouse: Warehouse, release: Release, peildatum: date, selection: list[tuple] | None = None
) -> list[dict]:
    """Per half-year of the release, the organisations of its year's VT-regio list and those without a delivery
    valid on `peildatum` (what a build would select today): [{periode, organisaties, geleverd, ontbrekend:
    [{vt_code, vt_naam}]}]. `organisaties` is None for a year without a VT-regio list. `selection`: the rows of
    `_selection` when the caller has them. A built release reads the same from its kerncijfers
    (`built_completeness`, the model int_regios_geleverd's rule)."""
    if selection is None:
        selection = _selection(warehouse, release, peildatum)
    used = {(periode, vt) for _, _, _, periode, vt in selection}
    regios = {}
    if warehouse.database.exists():
        with warehouse.connect(read_only=True) as con:
            if relation_exists(con, f"{referentie.SCHEMA}.{referentie.REGIOS}"):
                regios = {jaar: referentie.regios(con, jaar) for jaar in release.jaren}
    out = []
    for periode in release.perioden:
        lijst = regios.get(int(periode[:4])) or {}
        out.append(
            {
                "periode": periode,
                "organisaties": len(lijst) or None,
                "geleverd": len({vt for p, vt in used if p == periode}),
                "ontbrekend": [
                    {"vt_code": vt, "vt_naam": naam} for vt, naam in lijst.items() if (periode, vt) not in used
                ],
            }
        )
    return out


def built_completeness(warehouse: Warehouse, name: str) -> list[dict]:
    """`completeness` as the release's last build has it: from its kerncijfers table's `volledig` column."""
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            f"""select verslagperiode, count(*), count(*) filter (where volledig),
                       list({{'vt_code': vt_code, 'vt_naam': vt_naam}} order by vt_code) filter (where not volledig)
                from "{exposures.publicatie("kerncijfers", name)}" where vt_code <> 'NL'
                group by verslagperiode order by verslagperiode"""
        ).fetchall()
    return [{"periode": p, "organisaties": n, "geleverd": k, "ontbrekend": missing or []} for p, n, k, missing in rows]


def completeness_text(entry: dict) -> str:
    """One half-year of `completeness` in a line: '2020H2: 25 of 26 organisations delivered (missing: VT18 ...)'."""
    if entry["organisaties"] is None:
        return f"{entry['periode']}: {entry['geleverd']} organisations delivered (the year has no VT-regio list yet)"
    missing = entry["ontbrekend"]
    if missing and len(missing) == entry["organisaties"]:
        return f"{entry['periode']}: none of the {entry['organisaties']} organisations delivered"
    names = ", ".join(f"{m['vt_code']} {m['vt_naam']}" for m in missing[:6]) + (", ..." if len(missing) > 6 else "")
    return (
        f"{entry['periode']}: {entry['organisaties'] - len(missing)} of {entry['organisaties']} organisations "
        f"delivered" + (f" (missing: {names})" if missing else "")
    )


def build_release(
    warehouse: Warehouse, name: str, peildatum: date | None = None, echo: bool = False, shared_built: bool = False
) -> BuildResult:
    """Run dbt (seeds, models, tests) for one release as of its peildatum. dbt's own guard (macros/guard_release.sql)
    stops a release without deliveries or reference data before any model is built; its message is the error.
    `shared_built`: the caller ran SHARED_BUILD since the last load (the refresh does), so the shared models and
    seeds are not made again; the release's own models and every test that reads them are."""
    outcome = build_releases(warehouse, [name], peildatum, echo, shared_built)[name]
    if isinstance(outcome, ReleaseError):
        raise outcome
    return outcome


def build_releases(
    warehouse: Warehouse,
    names: list[str],
    peildatum: date | None = None,
    echo: bool = False,
    shared_built: bool = False,
) -> dict[str, BuildResult | ReleaseError]:
    """Build several releases, each as `build_release` does, in one dbt process (one start-up for all of them;
    each release still in its own schema and its own dbt run, recorded in meta.builds). Per release its
    BuildResult, or the ReleaseError that holds back that release only. A missing key raises: it holds back
    every release."""
    releases = {name: get_release(name) for name in names}
    if resolve_key(warehouse.home) is None:  # an operating condition (exit 2), before dbt starts
        raise PseudonymKeyError(
            "no pseudonymisation key (VT_PSEUDONYM_KEY or $VT_HOME/pseudonym.key): the coded "
            "identificatienummers need it"
        )
    keys = {PSEUDONYM: resolve_key(warehouse.home), RELEASE: release_key(warehouse.home)}  # (its absence too)
    with warehouse.connect() as con:  # a key other than the warehouse's own is refused before dbt starts
        check_fingerprints(con, keys, warehouse.home)
    out: dict[str, BuildResult | ReleaseError] = {}
    for name in names:
        if (message := frozen_message(warehouse.home, name)) is not None:
            out[name] = ReleaseError(message)
    todo = [name for name in names if name not in out]
    # what only the quality reports read is never a release's business; the shared models, once built, neither
    exclude = ["--exclude", *(exposures.SHARED_NODES if shared_built else exposures.QUALITY_ONLY)]
    outcomes = (
        run_dbt_each(
            warehouse,
            ["build", "--exclude-resource-type", "unit_test", *exclude],
            [Run(name, peildatum.isoformat() if peildatum else None) for name in todo],
            echo,
        )
        if todo
        else []
    )
    for name, outcome in zip(todo, outcomes):
        out[name] = outcome if isinstance(outcome, ReleaseError) else recorded_build(warehouse, releases[name])
    return {name: out[name] for name in names}


def recorded_build(warehouse: Warehouse, release: Release) -> BuildResult | ReleaseError:
    """The release's last build as a BuildResult (from meta.builds), or a ReleaseError: none is complete."""
    last = last_build(warehouse, release.name)
    if last is None or not last["volledig"]:
        return ReleaseError(
            f"release {release.name}: dbt finished, but recorded no complete build in {exposures.BUILDS}"
        )
    used = [(d["levering_id"], d["checksum_sha256"], d["ontvangen_op"]) for d in last["deliveries"]]
    return BuildResult(release, date.fromisoformat(last["peildatum"]), used, last)


def last_build(warehouse: Warehouse, name: str) -> dict | None:
    """The release's last build as recorded by dbt (meta.builds, written by macros/record_build.sql), or None:
    peildatum (ISO), leveringen (ids), deliveries (id, checksum, received), volledig, gebouwd_op and the run's
    invocation id, command, versions and times."""
    if not warehouse.database.exists():
        return None
    with warehouse.connect(read_only=True) as con:
        if not relation_exists(con, exposures.BUILDS):
            return None
        row = con.execute(
            f"""select invocation_id, opdracht, cast(peildatum as varchar), leveringen, volledig, versies,
                       strftime(gestart_op, '%Y-%m-%dT%H:%M:%SZ'), strftime(beeindigd_op, '%Y-%m-%dT%H:%M:%SZ')
                from {exposures.BUILDS} where release = ? order by beeindigd_op desc limit 1""",
            [name],
        ).fetchone()
    if row is None:
        return None
    deliveries = row[3] or []
    return {
        "invocation_id": row[0],
        "opdracht": row[1],
        "peildatum": row[2],
        "leveringen": [d["levering_id"] for d in deliveries],
        "deliveries": deliveries,
        "volledig": row[4],
        "versies": json.loads(row[5]) if row[5] else {},
        "gestart_op": row[6],
        "gebouwd_op": row[7],
    }


def require_current_build(warehouse: Warehouse, release: Release) -> dict:
    """The release's last build, when it is complete and of the current state: the calendar's peildatum and
    exactly the deliveries (and file checksums) the warehouse selects now. ReleaseError otherwise."""
    last = last_build(warehouse, release.name)
    if last is None:
        raise ReleaseError(f"release {release.name} was never built: `vt build {release.name}` first")
    now = [(lid, checksum) for lid, checksum, _ in selected_deliveries(warehouse, release, release.peildatum)]
    built = [(d["levering_id"], d["checksum_sha256"]) for d in last["deliveries"]]
    problems = []
    if not last["volledig"]:
        problems.append("it was a partial build (a --select, or a model or test failed)")
    if last["peildatum"] != release.peildatum.isoformat():
        problems.append(f"it was built as of {last['peildatum']}, the calendar's peildatum is {release.peildatum}")
    if built != now:
        problems.append(
            f"it read {len(built)} deliveries, the warehouse selects {len(now)} now "
            f"({len(set(now) - set(built))} new or changed)"
        )
    if problems:
        raise ReleaseError(
            f"release {release.name} is not frozen: its last build (dbt invocation "
            f"{last['invocation_id']}, {last['gebouwd_op']}) is not of the current state: "
            f"{'; '.join(problems)}. Build it again (`vt build {release.name}`)"
        )
    return last


def release_status(warehouse: Warehouse, releases: list[Release]) -> list[dict]:
    """Per release: the calendar's facts, whether it was built, frozen and published, and the deliveries it
    would select today (per organisation and half-year the latest received by the peildatum)."""
    out = []
    for r in releases:
        selection = _selection(warehouse, r, r.peildatum)  # one query for the deliveries and their completeness
        used = [row[:3] for row in selection]
        last = last_build(warehouse, r.name)
        note, damaged = r.toelichting, False
        try:
            frozen = frozen_manifest(warehouse, r.name)
        except ReleaseError:  # frozen, but its manifest is damaged
            frozen, damaged = None, True
            note = "; ".join(filter(None, [note, "frozen, but its manifest cannot be read: run vt verify"]))
        out.append(
            {
                "release": r.name,
                "perioden": list(r.perioden),
                "status": r.status,
                "peildatum": r.peildatum.isoformat(),
                "toelichting": note,
                "gebouwd_op": last["gebouwd_op"] if last else None,
                "bevroren": frozen is not None or damaged,
                "gepubliceerd": (warehouse.home / "publicatie" / r.name).is_dir(),
                "leveringen": [lid for lid, _, _ in used],
                # per half-year the organisations that delivered: as frozen, or as a build would select today
                "volledigheid": (frozen or {}).get("volledigheid")
                or completeness(warehouse, r, r.peildatum, selection),
                # deliveries a build today would take that the frozen release lacks (they go to the next version)
                "niet_in_bevroren": sorted(
                    {lid for lid, _, _ in used} - {d["levering_id"] for d in frozen["leveringen"]}
                )
                if frozen
                else [],
            }
        )
    return out


def releases_dir(warehouse: Warehouse) -> Path:
    return warehouse.home / "releases"


def frozen_message(home: Path, name: str) -> str | None:
    """Why release `name` of the warehouse in `home` is not built again, or None: it is not frozen. `vt build`
    and plain dbt's guard (vt_warehouse/transform/plugin.py) both say this."""
    folder = releases_dir(Warehouse(home)) / name
    if not (folder / MANIFEST).exists():
        return None
    return (
        f"release {name} is frozen ({folder}): a frozen release is never rebuilt, its files are the release "
        f"(`vt verify {name}` checks them); a correction goes into the next version"
    )


@dataclass
class FreezeResult:
    release: str
    folder: Path
    outcome: str  # "bevroren" (new) or "ongewijzigd"
    manifest: dict
    seconds: dict[str, float] = field(default_factory=dict)  # wall time of "build" and "export"
    repaired: str | None = None  # what was found and done when an incomplete folder was replaced


MANIFEST = "manifest.json"
# the kerncijfers and indicators of the release, unrounded: what its publication is made from, frozen with it
PUBLICATION_TABLES = ("kerncijfers", "indicatoren")


def frozen_manifest(warehouse: Warehouse, name: str) -> dict | None:
    """The manifest of a frozen release; None when it is not frozen (no manifest). A manifest that cannot be
    read is an error: the release is frozen but damaged."""
    path = releases_dir(warehouse) / name / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
            raise ValueError("not a manifest")
        return manifest
    except (OSError, ValueError) as exc:
        raise ReleaseError(
            f"release {name} is frozen but its manifest {path} cannot be read ({exc}); restore the folder from a backup"
        ) from None


def verify_release(folder: Path) -> list[str]:
    """Every difference between a frozen release folder (or a publication folder) and its manifest: a file
    missing, changed (its checksum, or for a DuckDB file its content) or not part of it. Empty: intact."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = {f["name"]: f for f in manifest["files"]}
    except FileNotFoundError:
        return [f"{MANIFEST} is missing: the folder is incomplete"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"{MANIFEST} cannot be read ({exc})"]
    problems = []
    for name, f in files.items():
        path = folder / name
        if not path.is_file() or path.is_symlink():
            problems.append(f"{name} is missing")
            continue
        try:
            how = difference(path, f)
        except duckdb.Error as exc:
            problems.append(f"{name} cannot be read ({str(exc).splitlines()[0]})")
            continue
        if how:
            problems.append(f"{name} differs from the manifest ({how})")
    # every other file is reported, a DuckDB write-ahead log first of all: opened, it changes what the file shows
    problems += [
        f"{p.name} is not part of it"
        + (
            " (a DuckDB write-ahead log: opened, it changes what the database shows; remove it)"
            if p.name.endswith(".wal")
            else ""
        )
        for p in sorted(folder.iterdir())
        if p.name != MANIFEST and p.name not in files
    ]
    return problems


def difference(path: Path, entry: dict, same_bytes: bool = True) -> str | None:
    """How a file differs from its manifest entry, or None when it does not. A DuckDB file has a `content_sha256`
    (computed the way its `content_versie` says: releases frozen before version 2 are verified as they were
    made), and from version 2 also the `sha256` of the frozen bytes: a changed byte where no table reads it is a
    difference too. `same_bytes=False` compares the content only (a re-export is never the same bytes)."""
    if "content_sha256" in entry:
        # the same bytes are the same content: the content (seconds a release) is read only to say what differs
        if not same_bytes or "sha256" not in entry:
            return (
                None
                if content_checksum(path, entry.get("content_versie", 1)) == entry["content_sha256"]
                else "its tables' content changed"
            )
        if sha256_file(path) == entry["sha256"]:
            return None
        if content_checksum(path, entry.get("content_versie", 1)) != entry["content_sha256"]:
            return "its tables' content changed"
        return "sha256"  # (the bytes were read once above)
    return None if sha256_file(path) == entry.get("sha256") else "sha256"


def freeze_release(
    warehouse: Warehouse, name: str, echo: bool = False, shared_built: bool = False, built: BuildResult | None = None
) -> FreezeResult:
    """Build the release, export it, and freeze it. A frozen release is never rebuilt: freezing it again checks
    its files against the manifest and that no delivery of its half-years has since been received by its
    peildatum (then nothing is done), and refuses otherwise. A release folder without a manifest (incomplete:
    a freeze only ever renames a complete folder into place) is moved aside and frozen anew. `built`: the build
    to export, just made by `build_releases` (the refresh builds every due release in one dbt process first);
    it must still be of the current state."""
    release = get_release(name)
    target = releases_dir(warehouse) / name
    manifest = frozen_manifest(warehouse, name)
    if manifest is not None:
        return _frozen_again(warehouse, release, target, manifest)
    repaired = None
    if target.exists():
        aside = releases_dir(warehouse) / ".onvolledig" / f"{name}.{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, aside)
        repaired = aside
    started = time.perf_counter()
    if built is None:
        built = build_release(warehouse, name, echo=echo, shared_built=shared_built)
    elif built.release.name != name:
        raise ValueError(f"the build of {built.release.name} given to freeze {name}")
    require_current_build(warehouse, built.release)  # (a load between the build and here is not frozen)
    seconds = {"build": time.perf_counter() - started}
    started = time.perf_counter()
    staging = releases_dir(warehouse) / f".{name}.tmp"
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted run
    staging.mkdir(parents=True)
    files = export_tables(warehouse, name, staging)
    volledigheid = built_completeness(warehouse, name)
    with warehouse.connect(read_only=True) as con:
        gemeenten = [(g.gemeentecode, g.gemeentenaam) for g in referentie.gemeenten(con, built.release.jaar)]
    lists = release_files.release_code_lists(gemeenten)
    try:
        database, facts = release_files.analyst_database(staging, name, lists)
    except release_files.WidthError as exc:
        raise ReleaseError(f"release {name} is not frozen: {exc}") from None
    described = [
        release_files.write_codelijsten_csv(staging, name, lists),
        *release_files.csvw_metadata(staging, name, facts),
        *release_files.spss_syntax(staging, name, facts),
        *release_files.stata_syntax(staging, name),
        *write_codebook(staging, built.release, facts, database, volledigheid),
    ]
    files += export_publication_tables(warehouse, name, staging)
    files += [{"name": p.name, "sha256": sha256_file(p)} for p in described]
    # a DuckDB file is not the same bytes twice: its content (tables, rows, keys, comments, views) is what two
    # exports share; the frozen file's own bytes are checked too
    files.append(
        {
            "name": database.name,
            "content_sha256": content_checksum(database, CONTENT_VERSION),
            "content_versie": CONTENT_VERSION,
            "sha256": sha256_file(database),
        }
    )
    manifest = {
        "release": name,
        "status": built.release.status,
        "perioden": list(built.release.perioden),
        "peildatum": built.peildatum.isoformat(),
        "files": files,
        # per half-year: the organisations of the year's VT-regio list, and those without a delivery
        "volledigheid": volledigheid,
        # the fingerprints of the keys that coded it (never the keys): a release made with another key is told apart
        "sleutels": {
            PSEUDONYM: fingerprint(resolve_key(warehouse.home)),
            RELEASE: fingerprint(release_key(warehouse.home)),
        },
        "leveringen": [
            {"levering_id": lid, "checksum_sha256": checksum, "ontvangen_op": received.isoformat(sep=" ")}
            for lid, checksum, received in built.leveringen
        ],
        # the dbt run that built the tables: reproducible from these versions and deliveries
        "build": {k: built.build[k] for k in ("invocation_id", "opdracht", "versies", "gestart_op", "gebouwd_op")},
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    earlier = anchor.recorded(warehouse.home).get(name)
    if earlier is not None and earlier["reproduceerbaar_sha256"] != anchor.reproducible_sha(manifest):
        # frozen before (its folder or manifest went missing): only exactly what was recorded may be frozen again
        shutil.rmtree(staging)
        raise ReleaseError(
            f"release {name} was frozen on {earlier['bevroren_op']} ({anchor.log_path(warehouse.home)}), and what "
            f"it would hold now differs from what was frozen then ("
            f"{anchor.selection_change(earlier['leveringen'], [d[0] for d in built.leveringen])}): it is not "
            "frozen again. Restore "
            f"{target} from a backup" + (f" (the folder found was moved to {repaired})" if repaired else "")
        )
    (staging / MANIFEST).write_bytes(text.encode("utf-8"))
    anchor.record(warehouse.home, manifest, text.encode("utf-8"))  # before the folder exists: never a folder unrecorded
    share(staging, read_only=True)  # frozen files are read-only, readable by the share group
    faults.checkpoint("release:before-rename")
    staging.rename(target)
    # the folder of releases only: its other entries may be another freeze's staging folder, renamed meanwhile
    share(releases_dir(warehouse), recursive=False)
    result = FreezeResult(name, target, "bevroren", manifest, {**seconds, "export": time.perf_counter() - started})
    if repaired:
        result.repaired = _compare_repaired(repaired, target, files)
    return result


def _frozen_again(warehouse: Warehouse, release: Release, target: Path, manifest: dict) -> FreezeResult:
    problems = verify_release(target) + anchor.problems(warehouse.home, release.name, target)
    if problems:
        raise ReleaseError(
            f"release {release.name} is frozen but its files differ from its manifest: "
            f"{'; '.join(problems)}. A frozen release is never rebuilt: restore {target} from a "
            "backup (`vt verify` checks it)"
        )
    now = selected_deliveries(warehouse, release, date.fromisoformat(manifest["peildatum"]))
    newer = sorted({lid for lid, _, _ in now} - {d["levering_id"] for d in manifest["leveringen"]})
    if newer:
        raise ReleaseError(
            f"release {release.name} is frozen and its output would change: {len(newer)} deliveries received by "
            f"its peildatum were loaded after it was frozen ({', '.join(newer[:5])}{', ...' if len(newer) > 5 else ''}"
            "); a frozen release never changes: a correction goes into the next version of this year"
        )
    return FreezeResult(release.name, target, "ongewijzigd", manifest, {"build": 0.0, "export": 0.0})


def _compare_repaired(aside: Path, target: Path, files: list[dict]) -> str:
    same, differ = [], []
    for f in files:
        old = aside / f["name"]
        if old.is_file():
            (differ if difference(old, f, same_bytes=False) else same).append(f["name"])
    text = (
        f"the folder {target} had no manifest (incomplete): moved to {aside} and frozen anew; "
        f"{len(same)} of the files found were identical to the new ones"
    )
    return text + (f", these differ: {', '.join(differ)}" if differ else "")


def export_tables(warehouse: Warehouse, name: str, folder: Path) -> list[dict]:
    """One Parquet and one CSV per microdata table, rows in a fixed order, so equal data gives equal bytes."""
    files = []
    with warehouse.connect(read_only=True) as con:
        con.execute("set threads = 1")  # one writer thread: row groups and bytes do not depend on scheduling
        for entity in schema.entities():
            files += _export(con, table_name(entity, name), folder, ("parquet", "csv"))
    return files


def export_publication_tables(warehouse: Warehouse, name: str, folder: Path) -> list[dict]:
    """kerncijfers_<R>.parquet and indicatoren_<R>.parquet: the publication of a frozen release is made from
    these, never from live tables that a later build may have changed."""
    files = []
    with warehouse.connect(read_only=True) as con:
        con.execute("set threads = 1")
        for table in PUBLICATION_TABLES:
            files += _export(con, exposures.publicatie(table, name), folder, ("parquet",))
    return files


def _export(con, table: str, folder: Path, formats: tuple[str, ...]) -> list[dict]:
    columns = [
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    ]
    if not columns:
        raise ReleaseError(f"table {table} was not built")
    order = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f'select count(*) from "{table}"').fetchone()[0]
    files = []
    for fmt in formats:
        options = {"parquet": "format parquet, compression zstd", "csv": "format csv, header true"}[fmt]
        path = folder / f"{table}.{fmt}"
        con.execute(f'copy (select * from "{table}" order by {order}) to {sql_text(str(path))} ({options})')
        files.append({"name": path.name, "rows": rows, "sha256": sha256_file(path)})
    return files


# version 1: tables, columns, types and rows; version 2 adds the table, column and view comments, the constraints
# (keys) and the views' SQL, so a changed comment, dropped key or altered view is a difference too
CONTENT_VERSION = 2


def content_checksum(path: Path, version: int = CONTENT_VERSION) -> str:
    """SHA-256 over the content of a DuckDB file: per table in name order its name, columns and types, then its
    rows in a fixed order (and from version 2 the comments, constraints and views). Equal content gives the same
    checksum, whatever bytes DuckDB wrote."""
    h = hashlib.sha256()
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables() order by 1").fetchall()]
        for table in tables:
            cols = con.execute(
                "select column_name, data_type from duckdb_columns() where table_name = ? order by column_index",
                [table],
            ).fetchall()
            h.update(repr((table, cols)).encode())
            if version >= 2:
                h.update(
                    repr(
                        con.execute(
                            """select (select comment from duckdb_tables() where table_name = $1),
                              (select list(comment order by column_index) from duckdb_columns() where table_name = $1),
                              (select list(constraint_text order by constraint_text) from duckdb_constraints()
                               where table_name = $1)""",
                            [table],
                        ).fetchone()
                    ).encode()
                )
            cursor = con.execute(f'select * from "{table}" order by all')
            while batch := cursor.fetchmany(50_000):
                h.update("".join(map(repr, batch)).encode())  # the same bytes as one update per row, fewer calls
        if version >= 2:
            h.update(
                repr(
                    con.execute(
                        "select view_name, sql, comment from duckdb_views() where not internal order by view_name"
                    ).fetchall()
                ).encode()
            )
    return h.hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
