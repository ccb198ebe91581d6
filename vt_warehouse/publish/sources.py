"""What a publication is made from: the release's own half-years, and the time series of every half-year
published so far.

A half-year's table is read from a frozen release's kerncijfers and indicatoren files (checked against its
manifest first) or, for a release not frozen yet, from the warehouse's tables of its last build. The series
of release R holds, per half-year up to R's last, the latest release by the calendar whose peildatum is not
after R's and that is frozen (R itself always): so R's series is the same whenever R is published, and a
later correction never changes an earlier publication. Half-years of 2019 that no frozen release covers come
from the CBS tables that ship with the project (kerncijfers only; their indicators are missing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from itertools import pairwise

import duckdb

from loaders.layout import read_csv
from loaders.periods import FIRST_YEAR, periode_range
from loaders.warehouse import Warehouse
from vt_warehouse.kalender import STATUS_MARK, Release, releases
from vt_warehouse.publish.cells import MISSING, TOTAAL, Cel, count_cel, pct_cel, periode_kort, periode_label, suppressed
from vt_warehouse.publish.measures import INDICATOREN, KERNCIJFERS, maten
from vt_warehouse.release import anchor
from vt_warehouse.transform.exposures import publicatie

CBS = "CBS"
CBS_TABLES = {"2019H1": "kerncijfers_2019H1_cbs.csv", "2019H2": "kerncijfers_2019H2_cbs.csv"}
CBS_STATUS = "voorlopig"  # as CBS published them: "1e halfjaar van 2019*"


class PublishError(Exception):
    """A release cannot be published; the message says why."""


@dataclass
class Halfjaar:
    """One half-year's table as a source holds it: unrounded counts and indicator (teller, noemer) per region,
    regions in publication order (by code, NL last)."""

    periode: str
    status: str  # voorlopig | nader voorlopig | definitief
    bron: str  # the release it comes from, or CBS
    regios: list[tuple[str, str]]  # (vt_code, vt_naam)
    aantallen: dict[tuple[str, str], int | None] = field(default_factory=dict)  # (vt_code, maat) -> count
    # (vt_code, indicator) -> (teller, noemer), None when the data is missing; absent: the source has no
    # indicators (CBS)
    indicatoren: dict[tuple[str, str], tuple[int, int] | None] = field(default_factory=dict)
    afgerond: bool = False  # the counts are already rounded, as published (CBS): a 0 is not known to be nihil
    # regions whose organisation has no valid delivery for the half-year by the peildatum: their cells, and NL's,
    # are missing (kerncijfers.volledig); (vt_code, vt_naam) in publication order
    ontbrekend: list[tuple[str, str]] = field(default_factory=list)

    @property
    def volledig(self) -> bool:
        return not self.ontbrekend

    @property
    def mark(self) -> str:
        return STATUS_MARK[self.status]

    def naam(self, vt_code: str) -> str | None:
        return dict(self.regios).get(vt_code)

    def cellen(self, suppress: int = 0, rounded: bool = True) -> dict[tuple[str, str], Cel]:
        """Every published cell of the half-year, (vt_code, maat) -> Cel: counts rounded, percentages from the
        unrounded counts, with primary and secondary suppression per column at threshold `suppress`."""
        out: dict[tuple[str, str], Cel] = {}
        codes = [vt for vt, _ in self.regios]
        for m in KERNCIJFERS:
            column = {vt: self.aantallen.get((vt, m)) for vt in codes}
            hidden = suppressed(column, suppress)
            out.update(
                ((vt, m), count_cel(v, vt in hidden, rounded, nihil=not self.afgerond)) for vt, v in column.items()
            )
        for i in INDICATOREN:
            pairs = {vt: self.indicatoren.get((vt, i)) for vt in codes}
            # the denominator is the column protected: a percentage is hidden where its denominator is
            hidden = suppressed({vt: p[1] if p else None for vt, p in pairs.items()}, suppress)
            factor = next(m.factor for m in maten() if m.naam == i)
            out.update(((vt, i), pct_cel(p, vt in hidden, factor)) for vt, p in pairs.items())
        return out


def release_halfjaren(warehouse: Warehouse, release: Release, verify_all: bool = True) -> list[Halfjaar]:
    """A release's half-years. For a frozen release from its frozen files, after the whole release folder
    (`verify_all`) or the two files read were checked against its manifest: a release that differs is not
    published. Otherwise from the warehouse's tables of its last build."""
    from vt_warehouse.release import (
        MANIFEST,
        PUBLICATION_TABLES,
        difference,
        frozen_manifest,
        releases_dir,
        verify_release,
    )

    name = release.name
    manifest = frozen_manifest(warehouse, name)
    if manifest is None:
        with warehouse.connect(read_only=True) as con:
            return _read(con, release, f'"{publicatie("kerncijfers", name)}"', f'"{publicatie("indicatoren", name)}"')
    folder = releases_dir(warehouse) / name
    listed = {f["name"]: f for f in manifest["files"]}
    paths = []
    for table in PUBLICATION_TABLES:
        file = f"{table}_{name}.parquet"
        if file not in listed:
            raise PublishError(
                f"release {name} was frozen without {file} (by an older version of vt): its "
                "publication cannot be made from its frozen files"
            )
        paths.append(folder / file)
    if verify_all:
        problems = verify_release(folder)
    else:
        problems = [
            f"{p.name} is missing" if not p.is_file() else f"{p.name} differs from the manifest ({how})"
            for p in paths
            if not p.is_file() or (how := difference(p, listed[p.name]))
        ]
    problems += anchor.problems(warehouse.home, name, folder)  # the manifest against the record of its freeze
    if problems:
        raise PublishError(
            f"release {name} differs from its {MANIFEST} ({'; '.join(problems)}): not published; "
            f"restore {folder} from a backup (`vt verify {name}` checks it)"
        )
    with duckdb.connect() as con:
        return _read(con, release, "read_parquet(?)", "read_parquet(?)", [str(p) for p in paths])


def _read(con, release: Release, kern: str, ind: str, params: list[str] | None = None) -> list[Halfjaar]:
    rows = con.execute(
        f"select * from {kern} order by verslagperiode, vt_code = '{TOTAAL}', vt_code", params[:1] if params else None
    ).fetchall()
    cols = [d[0] for d in con.description]
    tellers = con.execute(
        f"select verslagperiode, vt_code, indicator, teller, noemer from {ind}", params[1:] if params else None
    ).fetchall()
    out: dict[str, Halfjaar] = {}
    for row in rows:
        r = dict(zip(cols, row))
        h = out.setdefault(r["verslagperiode"], Halfjaar(r["verslagperiode"], release.status, release.name, []))
        h.regios.append((r["vt_code"], r["vt_naam"]))
        # NULL: the region (or, for NL, some region) has no delivery: missing, never 0
        h.aantallen.update(((r["vt_code"], m), None if r[m] is None else int(r[m])) for m in KERNCIJFERS)
        if r["vt_code"] != TOTAAL and r.get("volledig") is False:
            h.ontbrekend.append((r["vt_code"], r["vt_naam"]))
    for periode, vt, indicator, teller, noemer in tellers:
        if periode in out and indicator in INDICATOREN:
            out[periode].indicatoren[(vt, indicator)] = None if noemer is None else (int(teller), int(noemer))
    for h in out.values():  # an indicator without a row had nothing to count: 0 of 0 (as frozen before issue 37)
        for vt, _ in h.regios:
            for i in INDICATOREN:
                h.indicatoren.setdefault((vt, i), (0, 0))
    return [out[p] for p in sorted(out)]


def cbs_halfjaar(periode: str) -> Halfjaar:
    """A CBS 2019 table as shipped with the project: rounded counts as published, no indicators."""
    rows = read_csv(CBS_TABLES[periode])
    rows.sort(key=lambda r: (r["vt_code"] == TOTAAL, r["vt_code"]))
    h = Halfjaar(periode, CBS_STATUS, CBS, [(r["vt_code"], r["regio_in_publicatie"]) for r in rows], afgerond=True)
    for r in rows:
        h.aantallen.update(((r["vt_code"], m), int(r[m])) for m in KERNCIJFERS)
    return h


@dataclass(frozen=True)
class Bron:
    periode: str
    release: Release | None  # None: from the CBS tables, or missing


def series_sources(release: Release, frozen: set[str]) -> list[Bron]:
    """Per half-year from 2019H1 to the release's last, the release it is published from in `release`'s series:
    the latest by the calendar (peildatum, then name) whose peildatum is not after this release's and that is
    frozen or is this release. None: no such release (the CBS tables for 2019, or a gap)."""
    last = max(release.perioden)
    plan = [
        r
        for r in releases(FIRST_YEAR, int(last[:4]) + 1)
        if r.name == release.name or (r.peildatum <= release.peildatum and r.name in frozen)
    ]
    plan.sort(key=lambda r: (r.peildatum, r.name), reverse=True)
    out = []
    for periode in map(str, periode_range(f"{FIRST_YEAR}H1:{last}")):
        chosen = next((r for r in plan if periode in r.perioden), None)
        out.append(Bron(periode, chosen))
    return out


def series(warehouse: Warehouse, release: Release, own: list[Halfjaar]) -> list[Halfjaar | str]:
    """The half-years of the release's series: a Halfjaar, or the half-year's name when nothing publishes it
    (its cells are missing)."""
    from vt_warehouse.release import MANIFEST, releases_dir

    folder = releases_dir(warehouse)
    frozen = {p.name for p in folder.iterdir() if (p / MANIFEST).exists()} if folder.is_dir() else set()
    by_release: dict[str, dict[str, Halfjaar]] = {release.name: {h.periode: h for h in own}}
    out: list[Halfjaar | str] = []
    for bron in series_sources(release, frozen):
        if bron.release is None:
            out.append(cbs_halfjaar(bron.periode) if bron.periode in CBS_TABLES else bron.periode)
            continue
        if bron.release.name not in by_release:
            by_release[bron.release.name] = {
                h.periode: h for h in release_halfjaren(warehouse, bron.release, verify_all=False)
            }
        out.append(by_release[bron.release.name].get(bron.periode, bron.periode))
    return out


@dataclass
class Publicatie:
    """Everything one publication shows: the release's own half-years, its series, and the settings."""

    release: Release
    eigen: list[Halfjaar]
    reeks: list[Halfjaar | str]
    suppress: int = 0
    bron: str = ""  # the source line under every table
    regio: str = ""  # the region whose series is drawn beside the national one

    @cached_property
    def _reeks_cellen(self) -> dict[str, dict[tuple[str, str], Cel]]:
        # per half-year of the series with a table, its published cells: made once for the page and workbook
        return {h.periode: h.cellen(self.suppress) for h in self.reeks if not isinstance(h, str)}

    @cached_property
    def breuken(self) -> dict[str, Breuk]:
        """The half-years of the series that begin after a trendbreuk, each with what breaks."""
        return trendbreuken(self.reeks)

    def na_breuk(self, h: Halfjaar | str) -> bool:
        """Whether a trendbreuk lies just before this half-year of the series."""
        return periode_of(h) in self.breuken

    def kolom(self, h: Halfjaar | str) -> str:
        """A half-year of the series as a column or axis label, with its mark, and the trendbreuk note's mark
        when a break lies before it."""
        label = periode_kort(h, "") if isinstance(h, str) else periode_kort(h.periode, h.mark)
        return label + (f" {TRENDBREUK}" if self.na_breuk(h) else "")

    def reeks_cel(self, h: Halfjaar | str, vt_code: str, maat: str) -> Cel | None:
        """A published cell of the series: missing (.) in a half-year that nothing publishes, None (cannot
        occur) for a region that half-year did not have."""
        return MISSING if isinstance(h, str) else self._reeks_cellen[h.periode].get((vt_code, maat))

    def regio_naam(self, vt_code: str) -> str:
        """The region's latest name in the series (the CBS tables spell some names otherwise)."""
        for h in reversed(self.reeks):
            if not isinstance(h, str) and h.naam(vt_code):
                return h.naam(vt_code) or vt_code
        return vt_code


def periode_of(h: Halfjaar | str) -> str:
    """The half-year of an entry of a series: a Halfjaar, or the name of one that nothing publishes."""
    return h if isinstance(h, str) else h.periode


# the mark of the trendbreuk note, beside a half-year's label (¹ is the overdrachten note)
TRENDBREUK = "²"


# changes of a published measure's definition: from which half-year on, and what changed (Dutch), one row each
DEFINITIES = "trendbreuken.csv"
PERIODE = re.compile(r"^\d{4}H[12]\Z")
MAX_OMSCHRIJVING = 500


@dataclass(frozen=True)
class Breuk:
    """A trendbreuk before a half-year of the series: the half-year with figures before it, whether the source
    changed (CBS tables <-> microdata), and the definition changes of the registry that fall between the two."""

    voor: str
    bron: bool
    definities: tuple[str, ...] = ()


@cache
def definitie_breuken() -> dict[str, str]:
    """The registry of definition changes (`data/trendbreuken.csv`): half-year -> what changed from then on.
    Every row is checked: a half-year JJJJHn, once, and a description of at most 500 printable characters."""
    out: dict[str, str] = {}
    for line, row in enumerate(read_csv(DEFINITIES), start=2):
        periode, text = (row.get("periode") or "").strip(), " ".join((row.get("omschrijving") or "").split())
        problem = (
            "the half-year is not JJJJHn"
            if not PERIODE.fullmatch(periode)
            else "the half-year is listed twice"
            if periode in out
            else "the description is empty"
            if not text
            else f"the description is longer than {MAX_OMSCHRIJVING} characters"
            if len(text) > MAX_OMSCHRIJVING
            else "the description has a control character"
            if not text.isprintable()
            else None
        )
        if problem:
            raise ValueError(f"loaders/data/{DEFINITIES} line {line}: {problem} ({periode!r})")
        out[periode] = text
    return out


def trendbreuken(reeks: list[Halfjaar | str]) -> dict[str, Breuk]:
    """Per half-year of the series that begins after a break in it, the Breuk: where the source changes between
    the CBS tables (counted by CBS, published rounded) and the microdata (counted here, each half-year from its
    own deliveries), or a definition changes (the registry; a change dated in a half-year without figures marks
    the next one that has them). Half-years without figures between two tables do not hide a break."""
    tables = [h for h in reeks if not isinstance(h, str)]
    out = {}
    for before, h in pairwise(tables):
        bron = (before.bron == CBS) != (h.bron == CBS)
        definities = tuple(t for p, t in sorted(definitie_breuken().items()) if before.periode < p <= h.periode)
        if bron or definities:
            out[h.periode] = Breuk(before.periode, bron, definities)
    return out


def region_notes(reeks: list[Halfjaar | str]) -> dict[str, str]:
    """Per region that does not run through the whole series, or whose name changed, a sentence in Dutch: the
    series leaves the half-years it did not exist blank, and never joins it to another region. A change is
    dated only where the half-years on both sides have a table; across missing half-years it says so."""
    order = [periode_of(h) for h in reeks]
    tables = [h for h in reeks if not isinstance(h, str)]
    periods = [h.periode for h in tables]
    present: dict[str, list[str]] = {}
    names: dict[str, list[tuple[str, str]]] = {}
    spelled: dict[str, str] = {}
    for h in tables:
        for vt, naam in h.regios:
            if vt == TOTAAL:
                continue
            present.setdefault(vt, []).append(h.periode)
            spelled[vt] = naam
            # (CBS spells some names otherwise: a spelling is not a change)
            if h.bron != CBS and (not names.get(vt) or names[vt][-1][1] != naam):
                names.setdefault(vt, []).append((h.periode, naam))

    def named(vt: str) -> str:
        return f"{vt} {names[vt][-1][1] if vt in names else spelled[vt]}"

    def adjacent(a: str, b: str) -> bool:
        return order.index(b) == order.index(a) + 1

    notes: dict[str, str] = {}
    for vt, ps in present.items():
        parts = []
        if ps[0] != periods[0]:
            before = periods[periods.index(ps[0]) - 1]
            if adjacent(before, ps[0]):
                gone = [named(o) for o, ops in present.items() if ops[-1] == before]
                parts.append(
                    f"bestaat vanaf het {periode_label(ps[0], '')}"
                    + (f", toen {' en '.join(gone)} verdwenen" if gone else "")
                )
            else:
                parts.append(
                    f"komt voor vanaf het {periode_label(ps[0], '')} (in het {periode_label(before, '')} "
                    "nog niet; de halfjaren daartussen ontbreken)"
                )
            parts[-1] += "; eerdere halfjaren zijn niet vergelijkbaar en blijven leeg"
        if ps[-1] != periods[-1]:
            after = periods[periods.index(ps[-1]) + 1]
            if adjacent(ps[-1], after):
                new = [named(o) for o, ops in present.items() if ops[0] == after]
                parts.append(
                    f"bestaat tot en met het {periode_label(ps[-1], '')}"
                    + (f"; in het halfjaar daarna begon {' en '.join(new)}" if new else "")
                )
            else:
                parts.append(
                    f"komt voor tot en met het {periode_label(ps[-1], '')} (in het "
                    f"{periode_label(after, '')} niet meer; de halfjaren daartussen ontbreken)"
                )
            parts[-1] += "; latere halfjaren blijven leeg"
        for (_, old), (since, new_name) in zip(names.get(vt, []), names.get(vt, [])[1:]):
            parts.append(f"heet vanaf het {periode_label(since, '')} {new_name} (eerder {old})")
        if parts:
            notes[vt] = f"{named(vt)}: " + "; ".join(parts) + "."
    return notes
