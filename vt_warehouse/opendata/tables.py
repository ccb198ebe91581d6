"""The published tables as StatLine shapes them: one table per frozen, published release (its whole series, from
its tidy `tijdreeks_<release>.csv`) and one stable table that is always the newest. Read from the publication
folder only, never the live database; a folder whose manifest does not match its files is not served.

Pure functions over files: `catalog(home)` gives every table, `Table` holds what the OData entity sets show.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from vt_warehouse.kalender import CalendarError, get_release
from vt_warehouse.publish.cells import ROUNDING_NOTE, SYMBOLS, TOTAAL, periode_label
from vt_warehouse.publish.measures import Maat, eenheden, maten

STABLE_ID = "VT_kerncijfers"  # the newest release, whichever it is
RELEASE_ID = "VT_kerncijfers_{release}"  # one release, frozen
NEDERLAND = "NL01"  # StatLine's key of Nederland
RELEASE = re.compile(r"[0-9]{4}V[0-9]{1,2}\Z")
STATUS = {
    "voorlopig": ("Voorlopig", "*"),
    "nader voorlopig": ("Nader voorlopig", "**"),
    "definitief": ("Definitief", ""),
}
TITLE = "Veilig Thuis; kerncijfers en indicatoren per Veilig Thuis-regio, per halfjaar"
SOURCE = "Veilig Thuis-organisaties: Beleidsinformatie Veilig Thuis (tot en met 2019 de tabellen van het CBS)"


class NotPublished(Exception):
    """A publication folder that cannot be served (named, with why)."""


@dataclass(frozen=True)
class Topic:
    key: str  # StatLine style: CamelCase plus the position, GestarteAdviezen_1
    maat: Maat
    position: int

    @property
    def is_count(self) -> bool:
        return self.maat.is_count


@dataclass
class Table:
    identifier: str
    release: str
    modified: str  # ISO time of the release's build (the frozen figures)
    periods: list[dict]  # Key, Title, Description, Status
    regions: list[dict]  # Key, Title, Description
    topics: list[Topic]
    rows: list[dict]  # one per region and half-year: RegioS, Perioden, then every topic's cell (waarde, symbool)
    notes: list[str] = field(default_factory=list)  # the Toelichting: symbols, breaks, completeness

    @property
    def stable(self) -> bool:
        return self.identifier == STABLE_ID


def topic_key(naam: str, position: int) -> str:
    return "".join(part.capitalize() for part in naam.split("_")) + f"_{position}"


def period_key(periode: str) -> str:
    """'2020H1' -> '2020HJ01': StatLine's yyyyXXnn period code, HJ for a half-year."""
    return f"{periode[:4]}HJ0{periode[5]}"


def topics() -> list[Topic]:
    return [Topic(topic_key(m.naam, i), m, i) for i, m in enumerate(maten(), start=1)]


def verify_files(folder: Path, manifest: dict, names: list[str]) -> None:
    """Each of `names` is in the manifest with the checksum of its bytes: else NotPublished."""
    from vt_warehouse.release import difference  # (what `vt verify` compares a file with its entry by)

    listed = {f["name"]: f for f in manifest.get("files", []) if isinstance(f, dict)}
    for name in names:
        path = folder / name
        if name not in listed:
            raise NotPublished(f"{folder}: {name} is not in its manifest")
        try:
            differs = difference(path, listed[name])
        except OSError as e:
            raise NotPublished(f"{path} cannot be read ({e.strerror})") from None
        if differs:
            raise NotPublished(f"{path} is not the file its manifest names (checksum differs): run vt verify")


def _json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise NotPublished(f"{path} cannot be read ({e})") from None
    if not isinstance(data, dict):
        raise NotPublished(f"{path} is not a manifest")
    return data


def load_table(home: Path, release: str, identifier: str | None = None) -> Table:
    """The published table of a frozen release; NotPublished (with the reason) otherwise."""
    if not RELEASE.match(release):
        raise NotPublished(f"{release!r} is not a release name")
    frozen = home / "releases" / release / "manifest.json"
    if not frozen.is_file():
        raise NotPublished(f"release {release} is not frozen")
    folder = home / "publicatie" / release
    manifest = _json(folder / "manifest.json")
    name = f"tijdreeks_{release}.csv"
    verify_files(folder, manifest, [name])
    build = _json(frozen).get("build")
    modified = str(build.get("gebouwd_op") or "") if isinstance(build, dict) else ""
    try:
        modified = datetime.strptime(modified, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise NotPublished(f"{frozen}: no build time (build.gebouwd_op) to say when it was frozen") from None
    tidy = read_tidy(folder / name)
    return shape(identifier or RELEASE_ID.format(release=release), release, modified, tidy, manifest)


COLUMNS = ("periode", "status", "bron", "vt_code", "vt_naam", "maat", "waarde", "symbool")
PERIODE = re.compile(r"[0-9]{4}H[12]\Z")
VT_CODE = re.compile(r"(VT[0-9]{2}|NL)\Z")


def read_tidy(path: Path) -> list[dict]:
    """The tidy rows, each checked: a row the feed could not show is NotPublished with its line, never a crash."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise NotPublished(f"{path}: no column {missing[0]}")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise NotPublished(f"{path} cannot be read ({e})") from None
    for line, r in enumerate(rows, start=2):
        if not (PERIODE.match(r["periode"] or "") and VT_CODE.match(r["vt_code"] or "")):
            raise NotPublished(f"{path}, line {line}: periode or vt_code is not JJJJHn / VTnn")
        try:
            if r["waarde"] != "" and not Decimal(r["waarde"]).is_finite():
                raise InvalidOperation
        except (InvalidOperation, TypeError):
            raise NotPublished(f"{path}, line {line}: waarde {r['waarde']!r} is not a number") from None
    return rows


def shape(identifier: str, release: str, modified: str, tidy: list[dict], manifest: dict) -> Table:
    """The wide StatLine table from the tidy rows: a row per region and half-year, a column per measure."""
    tops = topics()
    by_naam = {t.maat.naam: t for t in tops}
    periods: dict[str, dict] = {}
    names: dict[str, str] = {}
    cells: dict[tuple[str, str], dict] = {}
    for r in tidy:
        periode, vt = r["periode"], r["vt_code"]
        status, mark = STATUS.get(r["status"], ("", ""))
        periods.setdefault(
            periode,
            {
                "Key": period_key(periode),
                "Title": f"{periode[:4]} {periode[5]}e halfjaar{mark}",
                "Description": periode_label(periode, mark)
                + (f" (bron: {r['bron']})" if r["bron"] else "")
                + ("; trendbreuk met het halfjaar ervoor, zie de Toelichting" if r.get("trendbreuk") == "true" else ""),
                "Status": status,
            },
        )
        # the newest half-year's name wins (the rows are in period order); the tidy CSV's "Totaal" is Nederland on
        # the page and in StatLine
        names[vt] = "Nederland" if vt == TOTAAL else r["vt_naam"]
        row = cells.setdefault((periode, vt), {"RegioS": NEDERLAND if vt == TOTAAL else vt, "Perioden": periode})
        topic = by_naam.get(r["maat"])
        if topic is not None:
            row[topic.key] = (r["waarde"], r["symbool"])
    order = sorted(names, key=lambda vt: (vt == TOTAAL, vt))
    regions = [
        {"Key": NEDERLAND if vt == TOTAAL else vt, "Title": names[vt], "Description": None, "CategoryGroupID": None}
        for vt in order
    ]
    rows = [{**cells[(p, vt)], "Perioden": period_key(p)} for p in sorted(periods) for vt in order if (p, vt) in cells]
    return Table(
        identifier, release, modified, [periods[p] for p in sorted(periods)], regions, tops, rows, notes(manifest)
    )


def notes(manifest: dict) -> list[str]:
    """The Toelichting: the symbols, the rounding, each break in the series and each half-year with missing data."""
    out = ["Verklaring van tekens: " + "; ".join(f"{s} = {uitleg}" for s, uitleg in SYMBOLS) + ".", ROUNDING_NOTE]
    for breuk in manifest.get("trendbreuken") or []:
        if isinstance(breuk, dict):
            redenen = "; ".join(str(r) for r in breuk.get("redenen") or [])
            out.append(f"Trendbreuk tussen {breuk.get('voor')} en {breuk.get('periode')}: {redenen}.")
    for v in manifest.get("volledigheid") or []:
        if isinstance(v, dict) and v.get("ontbrekend"):
            missing = ", ".join(str(x) for x in v["ontbrekend"])
            out.append(f"{v.get('periode')}: geen levering van {missing}; hun cellen en Nederland zijn '.'.")
    return out


def published_releases(home: Path) -> list[str]:
    """The releases of the calendar with a publication folder, oldest first: by peildatum (the order in which a
    refresh freezes them, so the last has the newest series), then year and version."""
    folder = home / "publicatie"
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        if p.is_dir() and RELEASE.match(p.name):
            try:
                found.append((get_release(p.name).peildatum, int(p.name[:4]), int(p.name[5:]), p.name))
            except CalendarError:
                continue  # not a release of the calendar: nothing a refresh publishes
    return [name for *_, name in sorted(found)]


def catalog(home: Path) -> tuple[dict[str, Table], list[str]]:
    """Every table that can be served, by identifier, and what could not be (each with why). The stable table
    is the newest release that can be served."""
    tables: dict[str, Table] = {}
    problems: list[str] = []
    for release in published_releases(home):
        try:
            table = load_table(home, release)
        except NotPublished as e:
            problems.append(str(e))
            continue
        tables[table.identifier] = table
    folder = home / "publicatie"
    others = (
        sorted(set(p.name for p in folder.iterdir() if p.is_dir()) - set(published_releases(home)))
        if folder.is_dir()
        else []
    )
    problems += [f"{folder / name}: not a release of the calendar" for name in others]
    if tables:
        tables = {STABLE_ID: replace(list(tables.values())[-1], identifier=STABLE_ID), **tables}
    return tables, problems


def unit(topic: Topic) -> str:
    e = eenheden()[topic.maat.eenheid]
    return "%" if e.factor == 100 else e.naam
