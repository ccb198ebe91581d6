"""`vt`: the command line. Thin: every command parses its options and calls the package's functions.

Exit codes: 0 success; 1 bad input (a rejected file, a refused release, a frozen file that differs); 2 usage,
configuration or operating error (click's own, a missing key, the database in use, a full disk, a read-only
$VT_HOME); 3 another refresh is running; 4 a defect (traceback in $VT_HOME/logs/errors.log).
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from datetime import date, datetime
from pathlib import Path

import click
import duckdb

from loaders import referentie
from loaders.layout import CURRENT_VERSION, layouts
from loaders.load import MTIME, load_files, loaded_per_half_year
from loaders.periods import FIRST_YEAR, LAST_YEAR, Periode, periode_range
from loaders.pseudonym import PseudonymKeyError, create_key, key_path, resolve_key
from loaders.warehouse import Warehouse, WarehouseBusy, hold_for_reading
from vt_warehouse import __doc__ as package_doc
from vt_warehouse.errors import EXIT_INTERNAL, explain, keep_traceback
from vt_warehouse.generate import NEW_LAYOUT_FROM, years_without_reference
from vt_warehouse.generate import generate as generate_files
from vt_warehouse.generate.calibrate import CalibrationError
from vt_warehouse.generate.calibrate import calibrate as calibrate_files
from vt_warehouse.kalender import releases as calendar_releases
from vt_warehouse.progress import Progress
from vt_warehouse.publish import DREMPEL_ENV, REGIO_ENV, PublishError, publication
from vt_warehouse.publish import publish as publish_files
from vt_warehouse.publish.text import BRON_ENV
from vt_warehouse.quality import QualityError, run_quality, select_deliveries
from vt_warehouse.refresh import EXIT_LOCKED, RefreshLocked
from vt_warehouse.refresh import refresh as run_refresh
from vt_warehouse.release import (
    MANIFEST,
    ReleaseError,
    anchor,
    build_release,
    completeness_text,
    freeze_release,
    frozen_manifest,
    get_release,
    release_status,
    releases_dir,
    verify_release,
)

EXIT_REJECTED, EXIT_CONFIG = 1, 2
EXIT_PIPE = 128 + 13  # (SIGPIPE) as the shell reports a Unix tool whose reader stopped: `vt releases | head`
DEMO_PERIODS, DEMO_RELEASE, DEMO_DEFECTS, DEMO_TODAY = "2020H1", "2020V1", 0.002, date(2020, 10, 1)
DEMO_ACCOUNT = "demo-vt05"
DEMO_DEFECTIVE = 0.2  # the share of organisations whose demo delivery has defects


class ConfigError(click.ClickException):
    exit_code = EXIT_CONFIG


def require_port(host: str, port: int) -> None:
    """The address can be bound, or ConfigError (exit 2) saying why: uvicorn itself would exit 3, which `vt`
    reserves for "another refresh is running"."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as e:
        raise ConfigError(
            f"cannot serve at {host}:{port}: {e.strerror or e} (choose another --port or --host)"
        ) from None


class FiniteFloat(click.FloatRange):
    """A FloatRange that also refuses nan and inf (which compare false with every bound)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def _periods(_ctx, _param, value: str | None):
    if value is None:  # 2019H1 up to the current half-year
        today = date.today()
        value = f"{FIRST_YEAR}H1:{today.year}H{1 if today.month <= 6 else 2}"
    try:
        return periode_range(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _received_at(_ctx, _param, value: str | None):
    if value is None:
        return None
    if value.strip().lower() == MTIME:
        return MTIME
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date or date-time (2020-07-15T09:30)") from None
    return parsed.replace(tzinfo=None)


class Vt(click.Group):
    """Every command runs owner-only (umask 077) and ends in a message and a documented exit code, never a
    traceback: conditions of the machine are explained by `vt_warehouse.errors`."""

    def invoke(self, ctx: click.Context):
        # the database, logs, reports and dbt's files hold organisation numbers and pseudonyms
        previous = os.umask(0o077)
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # the reader of stdout stopped (`vt releases | head`): quiet, with the code of a Unix tool it stopped
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_PIPE)
        except Exception as exc:  # the last line of defence: one sentence, the documented exit code
            warehouse = Warehouse.from_env()
            message, code = explain(exc, warehouse.database)
            if code == EXIT_INTERNAL:
                kept = keep_traceback(exc, warehouse.logs)
                message += f"; details in {kept}" if kept else ""
            click.echo(f"Error: {message}", err=True)
            sys.exit(code)
        finally:
            os.umask(previous)  # (for callers in the same process, such as tests)


def uses_warehouse(command):
    """A command that reads or writes the warehouse holds it shared while it runs: a refresh that starts meanwhile
    waits for it ($VT_LOCK_WAIT), and while a refresh runs the command stops at once, saying so (exit 2). The
    refresh itself (and the demo, which runs one) holds it exclusively."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        fd = hold_for_reading(Warehouse.from_env().database)
        try:
            return command(*args, **kwargs)
        finally:
            if fd is not None:
                os.close(fd)

    return run


@click.group(cls=Vt, help=package_doc)
def main() -> None:
    pass


@main.command(
    help="Load delivery files into the warehouse ($VT_HOME, default ./warehouse). "
    "A directory loads every *.txt in it, in name order."
)
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--received-at",
    callback=_received_at,
    metavar="ISO-DATETIME|mtime",
    help="When the files were received (ontvangen_op), which decides the releases they count for; "
    "'mtime': each file's modification time (back-filling a folder of historic files); "
    "default: now.",
)
@click.option(
    "--redate",
    is_flag=True,
    help="For a file identical to a loaded delivery: set its reception time to --received-at (it is "
    "otherwise never changed).",
)
@uses_warehouse
def load(files: tuple[Path, ...], received_at: datetime | str | None, redate: bool) -> None:
    if redate and received_at is None:
        raise click.UsageError("--redate needs --received-at (a date-time or mtime)")
    results = _load(Warehouse.from_env(), files, received_at, redate)
    if not all(r.ok for r in results):
        sys.exit(EXIT_REJECTED)


def _load(warehouse: Warehouse, files, received_at, redate: bool = False):
    try:
        results = load_files(files, warehouse, layouts(), received_at, Progress("loading"), redate=redate)
    except PseudonymKeyError as exc:
        raise ConfigError(str(exc)) from None
    for r in results:
        click.echo(r.message, err=not r.ok)
    return results


@main.command(help="Generate synthetic deliveries of every Veilig Thuis-organisatie (deterministic for a seed).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
@click.option(
    "--periods",
    default=None,
    callback=_periods,
    help="A half-year or a range FIRST:LAST (default: 2019H1 up to the current half-year).",
)
@click.option(
    "--scale",
    default=1.0,
    show_default=True,
    type=FiniteFloat(min=0.001, max=100),
    help="Volume relative to the real national volume.",
)
@click.option("--seed", default=1, show_default=True, type=int)
@click.option(
    "--defects",
    default=0.0,
    show_default=True,
    type=FiniteFloat(0, 0.5),
    help="Chance per record and kind of defect (impossible dates, unknown codes, orphans, ...).",
)
@click.option(
    "--defective",
    default=None,
    type=FiniteFloat(0, 1),
    metavar="SHARE",
    help="Only this share of the deliveries has defects, each one or two kinds (5x --defects), as a "
    "real half-year looks (default: every delivery, every kind).",
)
@click.option(
    "--new-layout-from",
    "new_layout_from",
    default=str(NEW_LAYOUT_FROM),
    show_default=True,
    metavar="HALF-YEAR",
    help=f"Write the newest layout version ({layouts().newest.versie}) from this half-year on, "
    f"{CURRENT_VERSION} before it; 'never' for {CURRENT_VERSION} throughout.",
)
@click.option(
    "--calibrate",
    metavar="2019H1,2019H2",
    default=None,
    help="Instead: a national population whose publication equals the CBS kerncijfers of these "
    "half-years (--periods, --scale and --defects do not apply).",
)
def generate(
    out: Path,
    periods,
    scale: float,
    seed: int,
    defects: float,
    defective: float | None,
    new_layout_from: str,
    calibrate: str | None,
) -> None:
    if calibrate:
        try:
            written = calibrate_files(out, [p.strip() for p in calibrate.split(",")], seed)
        except CalibrationError as exc:
            raise click.BadParameter(str(exc), param_hint="--calibrate") from None
        click.echo(
            f"{len(written)} files, {sum(f['records'] for f in written)} records written to {out} "
            f"(calibrated to the CBS kerncijfers of {calibrate})"
        )
        return
    try:
        switch = None if new_layout_from == "never" else Periode.parse(new_layout_from)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--new-layout-from") from None
    for jaar, used in years_without_reference(periods).items():
        click.echo(
            f"note: the project has no reference data for {jaar}; the synthetic {jaar} deliveries use the "
            f"regions and gemeenten of {used}",
            err=True,
        )
    files = generate_files(
        out, periods, scale, seed, defects, defective=defective, progress=Progress("generating"), new_layout_from=switch
    )
    click.echo(f"{len(files)} files, {sum(f.records for f in files)} records written to {out}")


def _release_name(_ctx, _param, value: str) -> str:
    try:
        return get_release(value).name
    except ReleaseError as exc:
        raise click.BadParameter(str(exc)) from None


def _date(_ctx, _param, value: str | None):
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


@main.command(
    help="Build a release of the calendar (e.g. 2020V2) as of its peildatum: dbt seeds, models and "
    "tests. Exit 0 when built."
)
@click.option("--release", "name", required=True, callback=_release_name, help="Release name JJJJVn.")
@click.option(
    "--peildatum",
    callback=_date,
    metavar="YYYY-MM-DD",
    help="Another cut-off than the calendar's, to rebuild an as-of state (not for publishing).",
)
@uses_warehouse
def build(name: str, peildatum) -> None:
    warehouse = Warehouse.from_env()
    try:
        result = build_release(warehouse, name, peildatum, echo=sys.stderr.isatty())
    except ReleaseError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"built {name} as of {result.peildatum} from {len(result.leveringen)} deliveries")


@main.command(
    help="Build a release and freeze it: Parquet and CSV per table, codebook, manifest and an analysts' "
    "DuckDB file in $VT_HOME/releases/<release>/. Releasing an unchanged release again does nothing; "
    "a frozen release that would change is refused."
)
@click.argument("name", callback=_release_name)
@uses_warehouse
def release(name: str) -> None:
    warehouse = Warehouse.from_env()
    try:
        result = freeze_release(warehouse, name, echo=sys.stderr.isatty())
    except ReleaseError as exc:
        raise click.ClickException(str(exc)) from None
    with warehouse.connect() as con:  # the freeze's record, in the database too
        anchor.sync_table(con, warehouse.home)
    took = f"build {result.seconds['build']:.1f} s, export {result.seconds['export']:.1f} s"
    if result.repaired:
        click.echo(result.repaired, err=True)
    if result.outcome == "ongewijzigd":
        click.echo(f"release {name} is frozen and unchanged: nothing to do ({result.folder}; {took})")
    else:
        click.echo(f"release {name} frozen in {result.folder} ({took})")


@main.command(
    help="Check frozen releases and their publications against their manifests: every file present and "
    "unchanged (a DuckDB file by its tables' content), nothing added. Exit 0 when all are intact, 1 naming "
    "every file that differs."
)
@click.argument("names", nargs=-1, metavar="[RELEASE]...")
@uses_warehouse
def verify(names: tuple[str, ...]) -> None:
    warehouse = Warehouse.from_env()
    for name in names:
        try:
            get_release(name)
        except ReleaseError as exc:  # an unknown name says what exists
            raise click.BadParameter(str(exc), param_hint="RELEASE") from None
    root = releases_dir(warehouse)
    if not names:
        names = (
            tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")))
            if root.is_dir()
            else ()
        )
        if not names:
            raise ConfigError(f"no frozen releases in {root}")
    broken = 0
    for name in names:
        folders = [("release", root / name)]
        if (warehouse.home / "publicatie" / name).is_dir():
            folders.append(("publication", warehouse.home / "publicatie" / name))
        if not folders[0][1].is_dir():
            click.echo(f"{name}: not frozen (no folder {folders[0][1]})", err=True)
            broken += 1
            continue
        for kind, folder in folders:
            problems = verify_release(folder)
            if kind == "release":  # the manifest against the record of its freeze, outside the folder
                problems += anchor.problems(warehouse.home, name, folder)
            broken += bool(problems)
            if problems:
                for problem in problems:
                    click.echo(f"{name} {kind}: {problem} ({folder})", err=True)
            else:
                files = len(json.loads((folder / MANIFEST).read_text())["files"])
                click.echo(f"{name} {kind}: intact ({files} files)")
    if broken:
        sys.exit(EXIT_REJECTED)


@main.command(
    help="Publish a release: cijfers_R.csv (its half-years) and tijdreeks_R.csv (every half-year "
    "published so far) in long form, one Excel workbook and one offline HTML page, rounded to multiples "
    "of 5 with the CBS symbols."
)
@click.option("--release", "name", required=True, callback=_release_name, help="Release name JJJJVn.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
@click.option(
    "--unrounded",
    is_flag=True,
    help="Also cijfers_R_onafgerond.csv with exact counts, for checking only; never part of a publication.",
)
@click.option(
    "--suppress",
    type=click.IntRange(min=0),
    metavar="T",
    help="Show 'x' for counts below T and percentages whose denominator is below T, and for the "
    f"cells that would give them away (default: ${DREMPEL_ENV}, else 0: no suppression).",
)
@click.option(
    "--regio",
    metavar="VTnn",
    help=f"The region whose series is drawn beside Nederland (default: ${REGIO_ENV}, else the first region).",
)
@click.option(
    "--bron",
    metavar="TEXT",
    help=f"The source line under every table; {{release}} is replaced by the "
    f"release (default: ${BRON_ENV}, else 'Bron: Beleidsinformatie Veilig Thuis, microdata release "
    "{release}.').",
)
@uses_warehouse
def publish(name: str, out: Path, unrounded: bool, suppress: int | None, regio: str | None, bron: str | None) -> None:
    written = _publish(Warehouse.from_env(), name, out, unrounded, suppress, regio, bron)
    click.echo(f"published {name}: {len(written)} files in {out}")


def _publish(
    warehouse: Warehouse,
    name: str,
    out: Path,
    unrounded: bool = False,
    suppress: int | None = None,
    regio: str | None = None,
    bron: str | None = None,
):
    """A frozen release is published from its frozen files (checked against its manifest); another is built
    first."""
    try:
        if frozen_manifest(warehouse, name) is None:
            build_release(warehouse, name, echo=sys.stderr.isatty())
        pub = publication(warehouse, name, suppress, bron, regio)
    except (ReleaseError, PublishError) as exc:
        raise click.ClickException(str(exc)) from None
    return publish_files(pub, out, unrounded)


@main.command(
    help="Quality reports per delivery: kwaliteitsrapport (the rules of docs/kwaliteit.md, by GX), every "
    "violation with its line, field and delivered value (overtredingen.csv, niet_te_controleren.csv) and "
    "the spiegelrapport, as HTML for the organisation and JSON/CSV, in DIR/<delivery>/."
)
@click.option("--delivery", metavar="VT05_2020H1_002", help="One delivery.")
@click.option("--periode", metavar="2020H1", help="Every loaded delivery of a half-year.")
@click.option("--all", "all_", is_flag=True, help="Every loaded delivery.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder to write to.")
@click.option("--strict", is_flag=True, help="Exit 1 when any delivery breaks a 'fout' rule.")
@uses_warehouse
def quality(delivery, periode, all_, out: Path, strict: bool) -> None:
    if sum(bool(x) for x in (delivery, periode, all_)) != 1:
        raise click.UsageError("give exactly one of --delivery, --periode and --all")
    summaries = _quality(Warehouse.from_env(), delivery, periode, all_, out)
    for s in summaries:
        verdict = "goedgekeurd" if s.passed else f"afgekeurd ({', '.join(s.failed_rules)})" if s.failed_rules else ""
        if s.not_run:
            verdict = f"{verdict + '; ' if verdict else ''}not fully checked: {', '.join(s.not_run)} could not run"
        click.echo(f"{s.delivery}: {verdict}: {s.folder}")
    if any(s.not_run for s in summaries):
        sys.exit(EXIT_CONFIG)  # a defect of the warehouse, not of a delivery: the operator must look
    if strict and not all(s.passed for s in summaries):
        sys.exit(EXIT_REJECTED)


def _quality(warehouse: Warehouse, delivery, periode, all_, out: Path):
    try:
        deliveries = select_deliveries(warehouse, delivery, periode, all_)
        return run_quality(warehouse, deliveries, out)
    except (QualityError, ReleaseError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command(
    help="The scheduled job: load new files from the inbox, write their quality reports, rebuild the "
    "releases they affect, freeze and publish every release whose peildatum has passed. Safe to run "
    "every hour; exit 1 when a file was rejected or a release was frozen with a half-year that nobody "
    "delivered for, 2 when something is held back, 3 when another refresh is running."
)
@click.option(
    "--inbox",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder the deliveries arrive in; a file arrives at its modification time.",
)
@click.option("--today", callback=_date, metavar="YYYY-MM-DD", help="Run as on this day (default: today).")
@click.option(
    "--intake-only",
    is_flag=True,
    help="Only load the new files and write their quality reports (what "
    "the portal runs on each upload, for a verdict in minutes); releases wait for the next full run.",
)
def refresh(inbox: Path, today, intake_only: bool) -> None:
    summary = _refresh(Warehouse.from_env(), inbox, today or date.today(), intake_only)
    click.echo(summary.text())
    for problem in [*summary.warnings, *summary.problems]:
        click.echo(problem, err=True)
    if summary.problems:
        sys.exit(EXIT_CONFIG)
    if summary.rejected or summary.leeg:
        sys.exit(EXIT_REJECTED)


def _refresh(warehouse: Warehouse, inbox: Path, today: date, intake: bool = False):
    echo = (lambda m: click.echo(m, err=True)) if sys.stderr.isatty() else None
    try:
        return run_refresh(warehouse, inbox, today, echo, intake=intake)
    except RefreshLocked as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_LOCKED)
    except (ReleaseError, QualityError) as exc:
        raise click.ClickException(str(exc)) from None


def _years(_ctx, _param, value: str | None):
    if value is None:
        return FIRST_YEAR, date.today().year
    first, _, last = value.partition(":")
    try:
        lo, hi = int(first), int(last or first)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a year or a range FIRST:LAST (2019:2026)") from None
    if lo < FIRST_YEAR or hi < lo or hi > LAST_YEAR:
        raise click.BadParameter(f"{value!r}: years from {FIRST_YEAR} to {LAST_YEAR}, the first not after the last")
    return lo, hi


@main.command(
    help="Every release of a range of years, by the calendar's rule and its exceptions: its half-years, "
    "status and peildatum, when it was last built, whether it is frozen and published, and how many "
    "deliveries it would select today."
)
@click.option(
    "--years",
    "years",
    callback=_years,
    metavar="2019:2026",
    help=f"A year or a range FIRST:LAST (default: {FIRST_YEAR} to this year).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per release, with the delivery ids.")
@uses_warehouse
def releases(years, as_json: bool) -> None:
    warehouse = Warehouse.from_env()
    rows = release_status(warehouse, calendar_releases(*years))
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    click.echo(
        f"{'release':<8} {'perioden':<15} {'status':<15} {'peildatum':<10}  {'gebouwd':<20} "
        f"{'bevroren':<8} {'gepubl.':<7} leveringen"
    )
    for r in rows:
        extra = f" ({len(r['niet_in_bevroren'])} newer than the frozen release)" if r["niet_in_bevroren"] else ""
        note = f"  [{r['toelichting']}]" if r["toelichting"] else ""
        click.echo(
            f"{r['release']:<8} {' + '.join(r['perioden']):<15} {r['status']:<15} {r['peildatum']:<10}  "
            f"{r['gebouwd_op'] or '-':<20} {'ja' if r['bevroren'] else 'nee':<8} "
            f"{'ja' if r['gepubliceerd'] else 'nee':<7} {len(r['leveringen'])}{extra}{note}"
        )
        if r["leveringen"] or r["bevroren"]:  # (a release nobody delivered for yet is not news)
            for entry in r["volledigheid"]:
                click.echo(f"         {completeness_text(entry)}")


@main.group(
    help="Reference data per year (gemeenten with their VT-regio, VT-regio's, mergers) in the warehouse. "
    "The project ships 2019-2024; later years are added here. A release or quality report of a year "
    "without a gemeente list and a VT-regio list is refused, never defaulted."
)
def reference() -> None:
    pass


@uses_warehouse
def _reference(action):
    """Run an import on the warehouse: exit 1 with every finding when refused (nothing is written then)."""
    warehouse = Warehouse.from_env()
    try:
        with warehouse.connect() as con:
            message = action(con)
            referentie.write_organisations(warehouse.home, referentie.all_regions(con))  # the portal's rule 10
    except referentie.ReferenceError as exc:
        _reference_log(warehouse, f"refused: {exc}")
        click.echo(str(exc), err=True)
        sys.exit(EXIT_REJECTED)
    _reference_log(warehouse, message)
    click.echo(message)


def _reference_log(warehouse: Warehouse, message: str) -> None:
    """Imports, refused ones too, in $VT_HOME/logs/reference.log (the database logs the ones that were written)."""
    stamp = datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
    warehouse.logs.mkdir(parents=True, exist_ok=True)
    with open(warehouse.logs / "reference.log", "a", encoding="utf-8") as fh:
        fh.write(f"{stamp} {' / '.join(line.strip() for line in message.splitlines())}\n")  # one line per event


_year_option = click.option(
    "--year", "jaar", required=True, type=click.IntRange(min=FIRST_YEAR, max=LAST_YEAR), help="The year."
)
_file_argument = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
_replace_option = click.option("--replace", is_flag=True, help="Replace the year's list that the warehouse has.")


@reference.command("list", help="Per year: gemeenten, VT-regio's and mergers in the warehouse, and their sources.")
@uses_warehouse
def reference_list() -> None:
    warehouse = Warehouse.from_env()
    with warehouse.connect() as con:
        referentie.ensure(con)
        rows = referentie.overview(con)
    click.echo(f"{'jaar':<5} {'gemeenten':>9} {'VT-regio':>8} {'herindelingen':>13}  bron")
    for r in rows:
        click.echo(f"{r['jaar']:<5} {r['gemeenten']:>9} {r['vt_regios']:>8} {r['herindelingen']:>13}  {r['bron']}")


@reference.command(
    "add-gemeenten",
    help="Import a year's gemeenten with their VT-regio from a CSV shaped like CBS's "
    "'Gebieden in Nederland' (columns gemeentecode, gemeentenaam, VT-regio code and, optionally, "
    "VT-regio naam; ',' or ';'; GM and VT prefixes allowed). With names, the year's VT-regio list "
    "comes from the file too. Validated whole; refused files change nothing (exit 1).",
)
@_year_option
@_file_argument
@_replace_option
def reference_add_gemeenten(jaar: int, file: Path, replace: bool) -> None:
    _reference(lambda con: referentie.import_gemeenten(con, jaar, file, replace))


@reference.command("add-regions", help="Import a year's VT-regio's (columns vt_code, vt_naam).")
@_year_option
@_file_argument
@_replace_option
def reference_add_regions(jaar: int, file: Path, replace: bool) -> None:
    _reference(lambda con: referentie.import_regios(con, jaar, file, replace))


@reference.command(
    "add-mergers",
    help="Import municipal mergers from a CSV shaped like herindelingen.csv "
    "(ingangsdatum, oude_code, oude_naam, nieuwe_code, nieuwe_naam, splitsing J/N). The successor "
    "must be a gemeente of the year the merger takes effect.",
)
@_file_argument
def reference_add_mergers(file: Path) -> None:
    _reference(lambda con: referentie.import_herindelingen(con, file))


@reference.command(
    "carry-forward",
    help="Copy the gemeente and VT-regio lists of the year before (or --from) to "
    "--year, stating that nothing changed. Refused when the year has lists or mergers removed a "
    "gemeente of the copied list.",
)
@_year_option
@click.option(
    "--from",
    "van",
    type=click.IntRange(min=FIRST_YEAR, max=LAST_YEAR),
    help="The year to copy (default: the year before).",
)
def reference_carry_forward(jaar: int, van: int | None) -> None:
    _reference(lambda con: referentie.carry_forward(con, jaar, van))


@main.group(help="For the project's developers: files made from the registries.")
def dev() -> None:
    pass


@dev.command(
    "generate",
    help="Write every file made from a registry (the layout, the rules, the models): doc blocks, the staging and "
    "delivered-records YAML, the GX suite, docs/kwaliteit.md's rule table, docs/bestandsdefinitie.html, "
    "docs/dbt/index.html. PATH...: only those files. --check: only name the stale ones (exit 1), as the tests do.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a file is stale.")
@click.argument("paths", nargs=-1)
def dev_generate(check: bool, paths: tuple[str, ...]) -> None:
    from vt_warehouse import derived

    known = {d.path for d in derived.FILES}
    if unknown := [p for p in paths if p not in known]:
        raise click.UsageError(f"not a generated file: {', '.join(unknown)} (they are: {', '.join(sorted(known))})")
    if check:
        old = derived.stale(only=paths)
        for d in old:
            click.echo(f"{d.path} is stale: it is made from {d.source} (run vt dev generate)", err=True)
        sys.exit(EXIT_REJECTED if old else 0)
    for d in derived.generate(only=paths):
        click.echo(f"wrote {d.path} (from {d.source})")


@main.group(
    help='The publication as open data for StatLine\'s clients (cbsodata, cbsodataR). docs/analyst.md, "Open data".'
)
def opendata() -> None:
    pass


@opendata.command(
    "serve",
    help="Serve the published tables of the frozen releases as a StatLine OData feed (read-only, no login; "
    "bound to 127.0.0.1 unless --host says otherwise).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8081, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option(
    "--page-size", default=10000, show_default=True, type=click.IntRange(1, 100000), help="Rows per response."
)
@click.option(
    "--public-url",
    metavar="URL",
    default=None,
    help="The address analysts reach the feed at (behind a proxy, e.g. https://data.example.nl/vt): the links in "
    "its answers use it. Default: the address of each request.",
)
def opendata_serve(host: str, port: int, page_size: int, public_url: str | None) -> None:
    import uvicorn

    from vt_warehouse.opendata import server
    from vt_warehouse.opendata.tables import catalog

    try:
        base = server.public_url(public_url) if public_url is not None else None
    except ValueError as e:
        raise click.UsageError(f"--public-url: {e}") from None

    warehouse = Warehouse.from_env()
    tables, problems = catalog(warehouse.home)
    for problem in problems:
        click.echo(f"not served: {problem}", err=True)
    if not tables:
        raise click.ClickException(
            f"no frozen, published release in {warehouse.home}: run `vt refresh` (or `make demo`) first"
        )
    require_port(host, port)
    click.echo(f"serving {', '.join(tables)} at http://{host}:{port}/ODataCatalog/Tables", err=True)
    app = server.create_app(warehouse.home, page_size, base)
    uvicorn.run(app, host=host, port=port, proxy_headers=True, server_header=False, log_level="warning")


@main.group(
    help="The organisations' portal: upload a delivery, see its verdict, fetch the own quality reports "
    '(password and TOTP). docs/operator.md, "The portal".'
)
def portal() -> None:
    pass


@portal.command("serve", help="Serve the portal (bound to 127.0.0.1; put a TLS-terminating reverse proxy in front).")
@click.option(
    "--inbox",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The refresh's inbox: accepted uploads are put there.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@click.option("--max-mb", default=200, show_default=True, type=click.IntRange(1, 4096), help="Largest upload.")
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Cookies without the Secure flag (plain http on another host than localhost; never in production).",
)
@click.option(
    "--no-intake",
    is_flag=True,
    help="Do not load and report uploads at once (`vt refresh --intake-only` "
    "after each upload and every minute); the scheduled refresh takes them.",
)
def portal_serve(inbox: Path, host: str, port: int, max_mb: int, insecure_cookies: bool, no_intake: bool) -> None:
    import uvicorn

    from vt_warehouse.portal.app import create_app, preflight

    warehouse = Warehouse.from_env()
    warehouse.ensure()
    preflight(warehouse.home, inbox)  # a read-only $VT_HOME stops it here, with the operator's message
    require_port(host, port)
    referentie.write_organisations(warehouse.home, _region_lists(warehouse))  # rule 10 at the portal's door
    from vt_warehouse.portal.worker import Intake

    intake = None if no_intake else Intake(warehouse.home, inbox).start()
    app = create_app(
        warehouse.home, inbox, max_mb << 20, secure=not insecure_cookies, on_upload=intake.wake if intake else None
    )
    try:
        uvicorn.run(app, host=host, port=port, proxy_headers=True, server_header=False, log_level="warning")
    finally:
        if intake:
            intake.stop()


def _region_lists(warehouse: Warehouse) -> dict[int, set[str]]:
    """The VT-regio lists of the warehouse (read-only), or the portal's copy while a refresh holds it, or the
    project's for a warehouse without a database yet."""
    if warehouse.database.exists():
        try:
            with warehouse.connect(read_only=True) as con:
                lists = referentie.all_regions(con)
            if lists:
                return lists
        except (WarehouseBusy, duckdb.Error):
            pass
    return referentie.read_organisations(warehouse.home) or referentie.project_regions()


@portal.group("user", help="Portal accounts: add, disable, reset the second factor, list.")
def portal_user() -> None:
    pass


@portal_user.command(
    "add",
    help="Add an account; its first password is printed once. The account sets up its "
    "TOTP second factor at the first login.",
)
@click.argument("naam")
@click.option("--rol", type=click.Choice(["organisatie", "beheer"]), default="organisatie", show_default=True)
@click.option("--vt-code", metavar="VTnn", help="The organisation of an organisatie account.")
def portal_user_add(naam: str, rol: str, vt_code: str | None) -> None:
    from vt_warehouse.portal.accounts import AccountError, Accounts

    warehouse = Warehouse.from_env()
    try:
        current = referentie.current_organisations(_region_lists(warehouse), date.today())
        password = Accounts(warehouse.home).add(naam, rol, vt_code.upper() if vt_code else None, current)
    except (AccountError, referentie.ReferenceError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"account {naam} ({rol}{', ' + vt_code.upper() if vt_code else ''}) added; first password: {password}")


def _account_change(change: str, naam: str) -> None:
    """Accounts.<change>(naam), an unknown account as a message."""
    from vt_warehouse.portal.accounts import AccountError, Accounts

    try:
        getattr(Accounts(Warehouse.from_env().home), change)(naam)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None


@portal_user.command("disable", help="Disable an account and end its sessions.")
@click.argument("naam")
def portal_user_disable(naam: str) -> None:
    _account_change("disable", naam)
    click.echo(f"account {naam} disabled")


@portal_user.command(
    "reset-2fa", help="The account sets up a new second factor at its next login; its sessions end now."
)
@click.argument("naam")
def portal_user_reset_2fa(naam: str) -> None:
    _account_change("reset_2fa", naam)
    click.echo(f"account {naam}: second factor reset")


@portal_user.command("list", help="Every account: role, organisation, second factor set up, active.")
def portal_user_list() -> None:
    from vt_warehouse.portal.accounts import Accounts

    for a in Accounts(Warehouse.from_env().home).list():
        click.echo(
            f"{a.naam}\t{a.rol}\t{a.vt_code or '-'}\t{'2fa' if a.totp_ingesteld else 'no 2fa yet'}\t"
            f"{'active' if a.actief else 'disabled'}"
        )


@main.command(
    help="The main job on embedded defaults: generate a national half-year, load it, build, "
    "release and publish it, report."
)
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to generate the deliveries (default: $VT_HOME/demo-inbox).",
)
def demo(out: Path | None) -> None:
    warehouse = Warehouse.from_env()
    warehouse.ensure()
    try:
        if resolve_key(warehouse.home) is None:
            click.echo(f"created a demo pseudonymisation key in {create_key(warehouse.home)}")
        if resolve_key(warehouse.home, release=True) is None:
            click.echo(f"created a demo release key in {create_key(warehouse.home, release=True)}")
    except PseudonymKeyError as exc:
        raise ConfigError(str(exc)) from None
    out = out or warehouse.home / "inbox"
    # with defects, so the quality reports have something to show
    files = generate_files(
        out,
        periode_range(DEMO_PERIODS),
        defects=DEMO_DEFECTS,
        defective=DEMO_DEFECTIVE,
        progress=Progress("generating"),
    )
    click.echo(f"generated {len(files)} deliveries for {DEMO_PERIODS} in {out}")
    # the scheduled path, run as on a day after the first release's peildatum
    summary = _refresh(warehouse, out, DEMO_TODAY)
    click.echo(f"refresh as on {DEMO_TODAY}: {summary.text()}")
    with warehouse.connect(read_only=True) as con:
        overview = loaded_per_half_year(con)
    click.echo(f"warehouse {warehouse.database} (key: {key_path(warehouse.home)}):")
    for periode, n, records, ca, me, bt in overview:
        click.echo(f"  {periode}: {n} deliveries, {records} records ({ca} casussen, {me} meldingen, {bt} betrokkenen)")
    home = warehouse.home
    click.echo(
        f"release {DEMO_RELEASE}: {home / 'releases' / DEMO_RELEASE} (VT_casus_{DEMO_RELEASE}.parquet, "
        f"codebook_{DEMO_RELEASE}.html, vt_{DEMO_RELEASE}.duckdb)"
    )
    click.echo(
        f"publication {DEMO_RELEASE}: {home / 'publicatie' / DEMO_RELEASE} (publicatie_{DEMO_RELEASE}.html, "
        f"tabellen_{DEMO_RELEASE}.xlsx, cijfers_{DEMO_RELEASE}.csv, tijdreeks_{DEMO_RELEASE}.csv)"
    )
    click.echo(
        f"quality reports: {home / 'kwaliteit'}/<delivery>/ (kwaliteitsrapport.html, overtredingen.csv, "
        "spiegelrapport.html)"
    )
    click.echo(
        f"open data: VT_HOME={home} .venv/bin/vt opendata serve, then in Python cbsodata.options.use_https = False; "
        f"cbsodata.get_data('VT_kerncijfers_{DEMO_RELEASE}', catalog_url='127.0.0.1:8081')"
    )
    _demo_portal(home, out)
    verdicts = {
        lid: json.loads((home / "kwaliteit" / lid / "kwaliteitsrapport.json").read_text(encoding="utf-8"))
        for lid in sorted(summary.reported)
    }
    afgekeurd = {
        lid: [r["id"] for r in v["rules"] if r["severity"] == "fout" and r["violations"]]
        for lid, v in verdicts.items()
        if not v["passed"]
    }
    if verdicts:
        click.echo(
            f"  {len(verdicts) - len(afgekeurd)} goedgekeurd, {len(afgekeurd)} afgekeurd"
            + "".join(f"\n  {lid}: afgekeurd ({', '.join(rules) or 'not judged'})" for lid, rules in afgekeurd.items())
        )
    if summary.rejected:
        # the usual cause: a demo of an earlier version left deliveries with the same numbers in this warehouse
        click.echo(
            f"{len(summary.rejected)} demo deliveries were rejected; the reasons are in "
            f"{home / 'rejected'}/*.reden.txt. If this warehouse holds an earlier demo's deliveries (rule 7: "
            f"the same leveringsnummer), run the demo in a new VT_HOME or remove {home}.",
            err=True,
        )
        sys.exit(EXIT_REJECTED)


def _demo_portal(home: Path, inbox: Path) -> None:
    """A demo account for VT05, with its password and TOTP secret printed once (the first demo in this home)."""
    from vt_warehouse.portal import totp
    from vt_warehouse.portal.accounts import Accounts

    accounts = Accounts(home)
    command = f"VT_HOME={home} .venv/bin/vt portal serve --inbox {inbox}"
    if accounts.get(DEMO_ACCOUNT) is not None:
        click.echo(
            f"portal: {command}, then http://127.0.0.1:8080/ (demo account {DEMO_ACCOUNT}; its password was "
            f"printed by the first demo: `vt portal user ...` manages it)"
        )
        return
    password = accounts.add(DEMO_ACCOUNT, "organisatie", "VT05")
    secret = accounts.enroll_totp(DEMO_ACCOUNT)
    click.echo(
        f"portal: {command}, then http://127.0.0.1:8080/ as {DEMO_ACCOUNT} (VT05), password {password}, TOTP "
        f"secret {secret} (add it to an authenticator app: {totp.provisioning_uri(secret, DEMO_ACCOUNT)}); "
        "printed only now"
    )


if __name__ == "__main__":
    main()
