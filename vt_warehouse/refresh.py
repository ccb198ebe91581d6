"""The scheduled refresh: from an inbox of delivered files to frozen, published releases, unattended.

Every step can be interrupted (a crash, SIGKILL, a reboot) and is completed by the next run, because each
decision is taken from durable state rather than from what this run did:
- a file in the inbox is new until it is loaded (its checksum is in the register) or rejected; a loaded file
  is removed from the inbox after its commit, a rejected one moved to $VT_HOME/rejected/ with its reason;
- a delivery without a quality report folder gets one;
- a release is rebuilt when its selected deliveries differ from those of its last build
  ($VT_HOME/releases/.builds/<release>.json), frozen when its peildatum has passed and it has no manifest
  yet (freezing is an atomic rename), and published when frozen without a publication folder.
A file "arrives" at its modification time: the time it landed in the inbox, so history can be back-loaded
with its real reception dates (the generator sets them), and files dated after --today are not there yet.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import stat
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from loaders import faults, referentie
from loaders.layout import layouts
from loaders.load import GEWEIGERD, MTIME, ONLEESBAAR, load_files, loaded_deliveries, modified_at
from loaders.parse import shown
from loaders.warehouse import Warehouse, WarehouseBusy, held_exclusively, share
from vt_warehouse.kalender import releases_up_to
from vt_warehouse.publish import PublishError, publication, publish
from vt_warehouse.quality import jaar_of, run_quality
from vt_warehouse.release import (
    MANIFEST,
    ReleaseError,
    anchor,
    build_releases,
    completeness_text,
    frozen_manifest,
    last_build,
    releases_dir,
    selected_deliveries,
    verify_release,
)
from vt_warehouse.release.freeze_run import FreezeRuns
from vt_warehouse.transform.exposures import SHARED_BUILD
from vt_warehouse.transform.run import run_dbt

EXIT_LOCKED = 3


class RefreshLocked(Exception):
    """Another refresh holds the lock."""


@dataclass
class Summary:
    loaded: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    reported: list[str] = field(default_factory=list)
    built: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    # what is held back until the operator acts (reference data of a year), each with what to do
    problems: list[str] = field(default_factory=list)
    # what was done but is incomplete, for the operator to follow up: a release frozen while organisations had
    # not delivered (their regions and Nederland are published as missing)
    warnings: list[str] = field(default_factory=list)
    # the half-years frozen without any delivery at all ("2020V3 2020H2"): the operator must act (is the inbox
    # fed?), so the run exits 1, like a rejected file
    leeg: list[str] = field(default_factory=list)
    later: int = 0  # inbox files dated after today: they have not arrived yet, a later run takes them
    intake: bool = False  # a run of load and quality reports only (the portal's worker)

    @property
    def nothing_done(self) -> bool:
        return not any(
            (self.loaded, self.rejected, self.reported, self.built, self.frozen, self.published, self.problems)
        )

    def text(self) -> str:
        waiting = (
            (
                f"; {self.later} inbox files are dated after today and were not taken (a file arrives at its "
                "modification time; --today sets the day)"
            )
            if self.later
            else ""
        )
        if self.nothing_done:
            return (
                "nothing new: no files to load, no reports"
                + ("" if self.intake else ", releases or publications due")
                + waiting
            )
        parts = [
            f"{len(self.loaded)} files loaded",
            f"{len(self.rejected)} rejected",
            f"{len(self.reported)} quality reports",
        ]
        parts += (
            ["releases: at the next full run"]
            if self.intake
            else [
                f"releases built: {', '.join(self.built) or '-'}",
                f"frozen: {', '.join(self.frozen) or '-'}",
                f"published: {', '.join(self.published) or '-'}",
            ]
        )
        if self.warnings:
            parts.append(f"warnings: {len(self.warnings)} (see the messages)")
        if self.problems:
            parts.append(f"held back: {len(self.problems)} (see the messages)")
        return "; ".join(parts) + waiting


@contextmanager
def refresh_lock(warehouse: Warehouse):
    warehouse.ensure()
    path = warehouse.home / "refresh.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise RefreshLocked(f"another refresh is running (pid {holder}); nothing done") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock; a killed process releases it too


class StepLog:
    """Each step with its duration, appended to $VT_HOME/logs/refresh.log; echoed to `echo` if given."""

    def __init__(self, warehouse: Warehouse, echo: Callable[[str], None] | None):
        warehouse.logs.mkdir(parents=True, exist_ok=True)
        self.path = warehouse.logs / "refresh.log"
        self.echo = echo

    def write(self, message: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {message}\n")
        if self.echo:
            self.echo(message)

    @contextmanager
    def step(self, name: str):
        started = time.monotonic()
        yield
        self.write(f"{name} ({time.monotonic() - started:.1f}s)")


def inbox_entries(inbox: Path) -> tuple[list[Path], list[Path]]:
    """(regular *.txt files, other *.txt entries: symlinks, directories, FIFOs, devices), in name order. Nothing
    is followed: a link is judged as a link."""
    files, others = [], []
    for p in sorted(inbox.iterdir()):
        if p.name.endswith(".txt"):
            try:
                (files if stat.S_ISREG(p.lstat().st_mode) else others).append(p)
            except OSError:
                continue  # gone since it was listed
    return files, others


def arrived(inbox: Path, today: date) -> tuple[list[Path], list[Path]]:
    """The inbox's regular files that had arrived by the end of `today`, and those dated later, in name order."""
    now, later = [], []
    for p in inbox_entries(inbox)[0]:
        (now if received_at(p).date() <= today else later).append(p)
    return now, later


def received_at(path: Path) -> datetime:
    return modified_at(path.lstat().st_mtime)


def refresh(
    warehouse: Warehouse, inbox: Path, today: date, echo: Callable[[str], None] | None = None, intake: bool = False
) -> Summary:
    """One refresh run; raises RefreshLocked when another one is running. `intake`: only the new files' load and
    quality reports (the portal's prompt verdict); the releases wait for the next full run, which rebuilds those
    whose deliveries changed."""
    with refresh_lock(warehouse):
        log = StepLog(warehouse, echo)
        summary = Summary(intake=intake)
        log.write(
            f"refresh started{' (intake: load and quality reports only)' if intake else ''}: inbox {inbox}, "
            f"today {today}"
        )
        try:
            with held_exclusively(warehouse.database):  # readers never break a run (loaders/warehouse.py)
                _clean_staging(warehouse, log)
                _load_inbox(warehouse, inbox, today, log, summary)
                faults.checkpoint("refresh:after-load")
                shared = SharedModels(warehouse)
                _quality_reports(warehouse, log, summary, shared)
                faults.checkpoint("refresh:after-quality")
                if intake:
                    if summary.loaded:
                        shared.ensure()  # the register of valid deliveries as of this load, for every reader
                else:
                    _releases(warehouse, today, log, summary, shared)
        except WarehouseBusy as exc:
            log.write(f"refresh stopped: {exc}")
            raise RefreshLocked(str(exc)) from None
        except Exception as exc:  # every failure ends the log with its reason (the command line says it too)
            log.write(f"refresh stopped: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            raise
        log.write(f"refresh done: {summary.text()}")
        return summary


class SharedModels:
    """The shared models and seeds (exposures.SHARED_BUILD), made at most once per refresh and after its load: the
    quality reports and every release built after them read them as they are, so each release build makes only
    its own models (about 40% of a release's dbt nodes fewer)."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        self.built = False

    def ensure(self) -> None:
        if not self.built:
            run_dbt(self.warehouse, SHARED_BUILD)
            self.built = True


def _load_inbox(warehouse: Warehouse, inbox: Path, today: date, log: StepLog, summary: Summary) -> None:
    rejected_dir = warehouse.home / "rejected"
    for other in inbox_entries(inbox)[1]:
        _hold(
            log,
            summary,
            f"{shown(other.name)} in the inbox is not a regular file (a symbolic link, directory, "
            "FIFO or device): left alone, never followed; remove it",
        )
    now, later = arrived(inbox, today)
    summary.later = len(later)
    for path in now:
        with log.step(f"load {shown(path.name)}"):
            [result] = load_files([path], warehouse, layouts(), MTIME)  # a file arrives at its modification time
        if result.outcome == ONLEESBAAR:
            _hold(log, summary, result.message)  # stays in the inbox: the next run tries again
            continue
        if result.outcome == GEWEIGERD:
            rejected_dir.mkdir(parents=True, exist_ok=True)
            rejected_dir.chmod(0o700)  # a rejected file may hold clear BSNs, like the archive
            (rejected_dir / f"{path.name}.reden.txt").write_text(result.message + "\n", encoding="utf-8")
            os.replace(path, rejected_dir / path.name)
            moved = rejected_dir / path.name
            if stat.S_ISREG(moved.lstat().st_mode):  # never chmod through a link
                moved.chmod(0o600)
            summary.rejected.append(path.name)
            log.write(f"rejected {shown(path.name)}: moved to {rejected_dir}")
        else:
            # loaded now or earlier (identical file): the archive has it, the inbox no longer needs it
            path.unlink()
            if result.outcome != "ongewijzigd":
                summary.loaded.append(result.levering_id)


def _quality_reports(warehouse: Warehouse, log: StepLog, summary: Summary, shared: SharedModels) -> None:
    out = warehouse.home / "kwaliteit"
    if not warehouse.database.exists():
        return
    with warehouse.connect() as con:
        lids = [lid for lid, _ in loaded_deliveries(con)]
        referentie.ensure(con)
        referentie.write_organisations(warehouse.home, referentie.all_regions(con))  # the portal's rule 10
        todo = [lid for lid in lids if not report_complete(out / lid)]
        gaps = referentie.missing(con, {jaar_of(lid) for lid in todo})
    if gaps:
        held = [lid for lid in todo if jaar_of(lid) in gaps]
        todo = [lid for lid in todo if jaar_of(lid) not in gaps]
        _hold(
            log,
            summary,
            referentie.missing_message(
                f"quality reports of {len(held)} deliveries ({', '.join(held[:3])}{', ...' if len(held) > 3 else ''}) "
                "wait",
                gaps,
            ),
        )
    if todo:
        with log.step(f"quality reports for {len(todo)} deliveries"):
            shared.ensure()
            made = run_quality(warehouse, todo, out, shared_built=True)
        summary.reported += todo
        for s in made:
            if s.not_run:
                _hold(
                    log,
                    summary,
                    f"quality report of {s.delivery}: rules {', '.join(s.not_run)} could not run "
                    f"(the message is in {s.folder / 'kwaliteitsrapport.json'}); the next run "
                    "makes the report again",
                )


def report_complete(folder: Path) -> bool:
    """A delivery's reports exist and every rule ran (the last file written is the spiegelrapport)."""
    try:
        report = json.loads((folder / "kwaliteitsrapport.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (folder / "spiegelrapport.html").exists() and not report.get("not_run")


def _releases(warehouse: Warehouse, today: date, log: StepLog, summary: Summary, shared: SharedModels) -> None:
    if summary.loaded:
        shared.ensure()  # the release selection reads the register of valid deliveries: as of this load
    # by peildatum: a release's time series takes every release frozen before it (vt_warehouse.publish.sources)
    plans = []
    for release in sorted(releases_up_to(today), key=lambda r: (r.peildatum, r.name)):
        try:
            action = _plan(warehouse, release, today, log, summary)
        except (ReleaseError, PublishError) as exc:
            _hold(log, summary, f"release {release.name}: {exc}")
            continue
        if action:
            plans.append((release, action))
    # every release to build (and freeze) in one dbt process: one start-up for all of them
    todo = [release.name for release, action in plans if action in (FREEZE, BUILD)]
    built = {}
    if todo:
        shared.ensure()
        with log.step(f"releases built in one dbt process: {', '.join(todo)}"):
            built = build_releases(warehouse, todo, shared_built=True)
    # the freezes run two at a time in child processes, started now; each release is published here, in the order
    # of the calendar, once it and every release before it are frozen (a publication's series reads them)
    freezing = [
        release.name
        for release, action in plans
        if action == FREEZE and not isinstance(built.get(release.name), ReleaseError)
    ]
    started = time.monotonic()
    # due releases this run could not freeze: every later release's publication waits for them, as its series
    # would otherwise lack them, and a publication never changes
    unfrozen: list[str] = []
    with FreezeRuns(warehouse, freezing) as freezes:
        for release, action in plans:
            try:
                _act(warehouse, release, action, built.get(release.name), freezes, unfrozen, log, summary)
            except (ReleaseError, PublishError) as exc:
                # one release that cannot be built, frozen or published holds back only itself (and the
                # publication of the releases after it)
                _hold(log, summary, f"release {release.name}: {exc}")
                if action == FREEZE and not (releases_dir(warehouse) / release.name / MANIFEST).exists():
                    unfrozen.append(release.name)
    if freezing:
        log.write(
            f"releases frozen and exported ({freezes.workers} at a time) and published: {', '.join(freezing)} "
            f"({time.monotonic() - started:.1f}s)"
        )
    _record_freezes(warehouse, log)


def _record_freezes(warehouse: Warehouse, log: StepLog) -> None:
    """Every frozen release recorded (vt_warehouse/release/anchor.py): the freezes' log lines copied into
    meta.bevroren, and a release frozen before freezes were recorded adopted once its folder agrees with its
    manifest."""
    known = anchor.recorded(warehouse.home)
    folder = releases_dir(warehouse)
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        manifest = p / MANIFEST
        if p.name.startswith(".") or p.name in known or not manifest.is_file() or verify_release(p):
            continue
        text = manifest.read_bytes()
        anchor.record(warehouse.home, json.loads(text), text)
        log.write(f"release {p.name}: its freeze (made before freezes were recorded) is now recorded")
    if not warehouse.database.exists():
        return
    with warehouse.connect(read_only=True) as con:
        lacking = anchor.table_lacks(con, warehouse.home)
    if lacking:
        with warehouse.connect() as con:
            anchor.sync_table(con, warehouse.home)


PUBLISH, FREEZE, BUILD = "publish", "freeze", "build"


def _plan(warehouse: Warehouse, release, today: date, log: StepLog, summary: Summary) -> str | None:
    """What a release needs now: PUBLISH (frozen, not published), FREEZE (its peildatum has passed), BUILD (not
    yet, but its deliveries changed since its last build) or nothing."""
    name = release.name
    if (releases_dir(warehouse) / name / MANIFEST).exists():
        return None if (warehouse.home / "publicatie" / name).exists() else PUBLISH
    used = selected_deliveries(warehouse, release, release.peildatum)
    if not used:
        return None
    with warehouse.connect(read_only=True) as con:
        gaps = referentie.missing(con, release.jaren)
    if gaps:
        _hold(log, summary, referentie.missing_message(f"release {name} waits", gaps))
        return None
    if release.peildatum < today:
        return FREEZE
    last = last_build(warehouse, name)
    if (
        last
        and last["volledig"]
        and last["leveringen"] == [lid for lid, _, _ in used]
        and last["peildatum"] == str(release.peildatum)
    ):
        return None  # built whole from exactly these deliveries already (a failed or partial build is built again)
    return BUILD


def _act(
    warehouse: Warehouse,
    release,
    action: str,
    built,
    freezes: FreezeRuns,
    unfrozen: list[str],
    log: StepLog,
    summary: Summary,
) -> None:
    """Do what `_plan` said, with the release's build (a BuildResult or the ReleaseError that holds it back); a
    FREEZE's freeze is in `freezes`. Nothing is published while a release before it is `unfrozen`."""
    name = release.name
    target = warehouse.home / "publicatie" / name
    if isinstance(built, ReleaseError):
        raise built
    if action == PUBLISH:
        if unfrozen:
            raise PublishError(_waits_for(unfrozen))
        _publish(warehouse, name, target, log, summary)
    elif action == FREEZE:
        result = freezes.result(name)
        log.write(
            f"release {name}: frozen and exported in {result.seconds:.1f} s (a child process, peak "
            f"{result.peak_mb:.0f} MB)"
        )
        if result.repaired:
            _hold(log, summary, f"release {name}: {result.repaired}")
        summary.frozen.append(name)
        _report_completeness(log, summary, name, frozen_manifest(warehouse, name) or {})
        faults.checkpoint("refresh:after-freeze")
        if unfrozen:
            raise PublishError(f"frozen; {_waits_for(unfrozen)}")
        if not target.exists():  # (it does when an incomplete release folder was just repaired)
            _publish(warehouse, name, target, log, summary, just_frozen=True)
    else:
        log.write(f"release {name}: built (not frozen before its peildatum {release.peildatum})")
        summary.built.append(name)


def _waits_for(unfrozen: list[str]) -> str:
    return (
        f"not published: it waits for {', '.join(unfrozen)}, before it in the calendar and not frozen in this "
        "run (see above), as a publication's series reads the releases before it; the next refresh publishes "
        "it after them"
    )


def _clean_staging(warehouse: Warehouse, log: StepLog) -> None:
    """Remove the half-made folders an interrupted freeze or publication left (.<release>.tmp): under the lock
    nobody else writes them, and the run makes them again when needed."""
    for parent in (releases_dir(warehouse), warehouse.home / "publicatie"):
        for p in sorted(parent.glob(".*.tmp")) if parent.is_dir() else []:
            if stat.S_ISDIR(p.lstat().st_mode):
                shutil.rmtree(p)
                log.write(f"removed {shown(str(p))}, left by an interrupted run")


def _report_completeness(log: StepLog, summary: Summary, name: str, manifest: dict) -> None:
    """Per half-year of a just-frozen release, how many organisations delivered (in the log), and a warning where
    not every one did: their regions (and Nederland) are published as missing (.), and only a next version can
    add them."""
    for entry in manifest.get("volledigheid", []):
        if not entry["ontbrekend"]:
            log.write(f"release {name}: {completeness_text(entry)}")
        else:
            shown = "Their figures and Nederland's are" if entry["geleverd"] else "Every figure of the half-year is"
            message = (
                f"warning: release {name} was frozen incomplete: {completeness_text(entry)}. {shown} "
                "published as missing (.); ask the missing organisations for their delivery: a later one "
                f"goes into the next version of {name[:4]}"
            )
            summary.warnings.append(message)
            if not entry["geleverd"]:
                summary.leeg.append(f"{name} {entry['periode']}")
            log.write(message)


def _hold(log: StepLog, summary: Summary, message: str) -> None:
    summary.problems.append(message)
    log.write(message)


def _publish(
    warehouse: Warehouse, name: str, target: Path, log: StepLog, summary: Summary, just_frozen: bool = False
) -> None:
    """Publish a frozen release from its tables, into a folder that appears whole or not at all. A release frozen
    in an earlier run is checked against its manifest whole first; one this run just froze (`just_frozen`: its
    manifest was made from these files seconds ago) only in the two files the publication reads."""
    staging = target.with_name(f".{name}.tmp")
    if staging.exists():
        shutil.rmtree(staging)
    with log.step(f"release {name}: published"):
        publish(publication(warehouse, name, just_frozen=just_frozen), staging)
        share(staging, read_only=True)
        faults.checkpoint("refresh:before-publish-rename")
        staging.rename(target)
        share(target.parent)
    summary.published.append(name)
