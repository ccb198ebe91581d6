"""Reference data per year: VT-regio's, gemeenten with their VT-regio, and municipal mergers (herindelingen).

The warehouse holds them in the schema `referentie`, written only here, and dbt reads them from there
(`models/staging/referentie/`). The project ships 2019-2024 (`referentiedata/`); `ensure` copies every
year of it that the warehouse does not have yet. Later years are the operator's: an import of a year's
gemeenten (a CSV shaped like CBS's "Gebieden in Nederland"), of VT-regio's, of mergers, or an explicit
carry-forward of a year's lists when nothing changed. Every import is validated whole before anything is
written, written in one transaction, and logged with its source in `referentie.importlog`. A year without
lists is never defaulted: `missing` names it, and releases and quality reports of that year are refused.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from loaders.layout import code_lists, read_csv
from loaders.periods import FIRST_YEAR, LAST_YEAR
from loaders.sql import relation_exists

SCHEMA = "referentie"
PROJECT_FOLDER = "referentiedata"
GEMEENTEN, REGIOS, HERINDELINGEN = "gemeente_vt", "vt_regio", "herindelingen"
MAX_SHOWN = 10
GEMEENTECODE = re.compile(r"^\d{4}\Z")
VT_CODE = re.compile(r"^VT\d{2}\Z")
HOW_TO_ADD = (
    "add them with `vt reference add-gemeenten --year {jaar} FILE.csv` (a CSV like CBS's \"Gebieden in "
    'Nederland": gemeentecode, gemeentenaam, VT-regio code and name), or, when nothing changed since '
    '{vorig}, `vt reference carry-forward --year {jaar}` (docs/operator.md, "Reference data")'
)


class ReferenceError(Exception):
    """An import that was refused (nothing written), or reference data that is missing."""


@dataclass(frozen=True)
class Gemeente:
    gemeentecode: str
    gemeentenaam: str
    vt_code: str


@dataclass(frozen=True)
class Herindeling:
    ingangsdatum: date
    oude_code: str
    oude_naam: str
    nieuwe_code: str
    nieuwe_naam: str
    splitsing: str


DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {SCHEMA}.{REGIOS} (
        jaar integer not null, vt_code varchar not null, vt_naam varchar not null)""",
    f"""create table if not exists {SCHEMA}.{GEMEENTEN} (
        jaar integer not null, gemeentecode varchar not null, gemeentenaam varchar not null,
        vt_code varchar not null)""",
    f"""create table if not exists {SCHEMA}.{HERINDELINGEN} (
        ingangsdatum date not null, oude_code varchar not null, oude_naam varchar not null,
        nieuwe_code varchar not null, nieuwe_naam varchar not null, splitsing varchar not null)""",
    f"""create table if not exists {SCHEMA}.importlog (
        tijdstip timestamp not null, soort varchar not null, jaar integer, rijen integer not null,
        bron varchar not null, checksum_sha256 varchar, door varchar not null, toelichting varchar not null)""",
)


# ---- reading what the warehouse has -------------------------------------------------------------------------


def _exists(con: duckdb.DuckDBPyConnection) -> bool:
    return relation_exists(con, f"{SCHEMA}.{GEMEENTEN}")


def years(con: duckdb.DuckDBPyConnection, table: str) -> set[int]:
    if not _exists(con):
        return set()
    if table == HERINDELINGEN:
        return {r[0] for r in con.execute(f"select distinct year(ingangsdatum) from {SCHEMA}.{table}").fetchall()}
    return {r[0] for r in con.execute(f"select distinct jaar from {SCHEMA}.{table}").fetchall()}


def missing(con: duckdb.DuckDBPyConnection, jaren: Iterable[int]) -> dict[int, list[str]]:
    """Year -> the lists it lacks ("gemeente list", "VT-regio list"); years that have both are left out."""
    have_g, have_r = years(con, GEMEENTEN), years(con, REGIOS)
    out = {}
    for jaar in sorted(set(jaren)):
        lacks = [name for name, have in (("gemeente list", have_g), ("VT-regio list", have_r)) if jaar not in have]
        if lacks:
            out[jaar] = lacks
    return out


def missing_message(what: str, gaps: dict[int, list[str]]) -> str:
    """`what` cannot be made: which years lack which lists, and how to add them."""
    jaren = sorted(gaps)
    lacks = "; ".join(f"{jaar}: no {' and no '.join(lists)}" for jaar, lists in gaps.items())
    return (
        f"{what}: the warehouse has no reference data for {', '.join(map(str, jaren))} ({lacks}). Nothing is "
        f"mapped to 9999 for a missing year: " + HOW_TO_ADD.format(jaar=jaren[0], vorig=jaren[0] - 1)
    )


def organisations(con: duckdb.DuckDBPyConnection, jaar: int) -> set[str]:
    """The Veilig Thuis-organisaties that can deliver for a year (rule 10, `senders`)."""
    return senders({jaar: set(regios(con, jaar))}, jaar)


def senders(lists: dict[int, set[str]], jaar: int) -> set[str]:
    """Rule 10's one rule, for the loader and the portal alike: the regions of the year's VT-regio list, or, for
    a year without one yet, every code of VT_ORGANISATIE (a file may arrive before the operator adds the year)."""
    return set(lists.get(jaar) or ()) or _known_organisations()


def current_organisations(lists: dict[int, set[str]], today: date) -> tuple[int, set[str]]:
    """The organisations of the newest VT-regio list up to today's year, and that year: who may have a portal
    account."""
    jaar = max((j for j in lists if j <= today.year and lists[j]), default=None)
    if jaar is None:
        raise ReferenceError(f"no VT-regio list up to {today.year}: add one (vt reference add-regions)")
    return jaar, set(lists[jaar])


# The VT-regio lists as a file beside the portal's accounts: the portal never opens the database (a refresh holds
# it for minutes), yet applies rule 10 at its door. Written after every change of the lists and when the
# portal starts; the database stays their one home.
ORGANISATIONS_FILE = Path("portal") / "organisaties.json"


def all_regions(con: duckdb.DuckDBPyConnection) -> dict[int, set[str]]:
    if not _exists(con):
        return {}
    lists: dict[int, set[str]] = {}
    for jaar, code in con.execute(f"select jaar, vt_code from {SCHEMA}.{REGIOS}").fetchall():
        lists.setdefault(int(jaar), set()).add(code)
    return lists


def project_regions() -> dict[int, set[str]]:
    """The lists the project ships (for a warehouse that has never been opened)."""
    lists: dict[int, set[str]] = {}
    for row in project_rows(REGIOS):
        lists.setdefault(int(row["jaar"]), set()).add(row["vt_code"])
    return lists


def write_organisations(home: Path, lists: dict[int, set[str]]) -> Path:
    """Replace the portal's copy of the lists atomically."""
    path = Path(home) / ORGANISATIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({str(j): sorted(c) for j, c in sorted(lists.items())}, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_organisations(home: Path) -> dict[int, set[str]] | None:
    """The portal's copy of the lists; None when there is none or it cannot be read (then: the project's)."""
    try:
        data = json.loads((Path(home) / ORGANISATIONS_FILE).read_text(encoding="utf-8"))
        lists = {int(j): {str(c) for c in codes} for j, codes in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    if not all(FIRST_YEAR <= j <= LAST_YEAR and all(VT_CODE.match(c) for c in codes) for j, codes in lists.items()):
        return None
    return lists


def gemeenten(con: duckdb.DuckDBPyConnection, jaar: int) -> list[Gemeente]:
    rows = con.execute(
        f"select gemeentecode, gemeentenaam, vt_code from {SCHEMA}.{GEMEENTEN} where jaar = ? order by gemeentecode",
        [jaar],
    ).fetchall()
    return [Gemeente(*r) for r in rows]


def regios(con: duckdb.DuckDBPyConnection, jaar: int) -> dict[str, str]:
    return dict(
        con.execute(
            f"select vt_code, vt_naam from {SCHEMA}.{REGIOS} where jaar = ? order by vt_code", [jaar]
        ).fetchall()
    )


def overview(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per year: how many gemeenten, VT-regio's and mergers, and where the year's lists came from."""
    if not _exists(con):
        return []
    rows = con.execute(f"""
        with jaren as (
            select jaar from {SCHEMA}.{GEMEENTEN} union select jaar from {SCHEMA}.{REGIOS}
            union select year(ingangsdatum) from {SCHEMA}.{HERINDELINGEN}
        )
        select
            jaren.jaar,
            (select count(*) from {SCHEMA}.{GEMEENTEN} as g where g.jaar = jaren.jaar),
            (select count(*) from {SCHEMA}.{REGIOS} as r where r.jaar = jaren.jaar),
            (select count(*) from {SCHEMA}.{HERINDELINGEN} as h where year(h.ingangsdatum) = jaren.jaar),
            (select string_agg(l.soort || ': ' || l.bron, '; ' order by l.tijdstip) from {SCHEMA}.importlog as l
             where l.jaar = jaren.jaar)
        from jaren order by 1""").fetchall()
    return [{"jaar": j, "gemeenten": g, "vt_regios": r, "herindelingen": h, "bron": b or ""} for j, g, r, h, b in rows]


# ---- the project's own data ---------------------------------------------------------------------------------


def project_rows(table: str) -> list[dict[str, str]]:
    return read_csv(f"{table}.csv", PROJECT_FOLDER)


def ensure(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Create the schema when missing and copy in every year of the project's data that the warehouse lacks.

    Returns the years copied. A year the warehouse has (from the project or from an import) is never touched.
    """
    for ddl in DDL:
        con.execute(ddl)
    copied = set()
    con.execute("begin transaction")
    try:
        for table, jaar_of in (
            (REGIOS, lambda r: int(r["jaar"])),
            (GEMEENTEN, lambda r: int(r["jaar"])),
            (HERINDELINGEN, lambda r: int(r["ingangsdatum"][:4])),
        ):
            have = years(con, table)
            new: dict[int, list[dict[str, str]]] = {}
            for row in project_rows(table):
                if jaar_of(row) not in have:
                    new.setdefault(jaar_of(row), []).append(row)
            for jaar, rows in sorted(new.items()):
                _insert(con, table, rows)
                _log(
                    con,
                    f"projectdata {table}",
                    jaar,
                    len(rows),
                    f"project data {PROJECT_FOLDER}/{table}.csv",
                    None,
                    "shipped with the project",
                )
                copied.add(jaar)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return sorted(copied)


COLUMNS = {
    REGIOS: ("jaar", "vt_code", "vt_naam"),
    GEMEENTEN: ("jaar", "gemeentecode", "gemeentenaam", "vt_code"),
    HERINDELINGEN: ("ingangsdatum", "oude_code", "oude_naam", "nieuwe_code", "nieuwe_naam", "splitsing"),
}


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    cols = COLUMNS[table]
    # one statement with a list per column (executemany is one statement per row: 1.9 s for a new warehouse)
    con.execute(
        f"insert into {SCHEMA}.{table} ({', '.join(cols)}) select {', '.join('unnest(?)' for _ in cols)}",
        [[r[c] for r in rows] for c in cols],
    )


def _log(con, soort: str, jaar: int | None, rijen: int, bron: str, checksum: str | None, toelichting: str) -> None:
    con.execute(
        f"insert into {SCHEMA}.importlog values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            soort,
            jaar,
            rijen,
            bron,
            checksum,
            _user(),
            toelichting,
        ],
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


# ---- reading an operator's file ---------------------------------------------------------------------------

# Header names after lower-casing and dropping everything but letters and digits, per column we need.
HEADERS = {
    "gemeentecode": ("gemeentecode", "gemeentecodegm", "gemeentencode", "code", "gmcode"),
    "gemeentenaam": ("gemeentenaam", "gemeentennaam", "naam", "gmnaam"),
    "vt_code": ("vtcode", "vtregiocode", "veiligthuisregiocode", "veiligthuiscode", "veiligthuisregioscode"),
    "vt_naam": ("vtnaam", "vtregionaam", "veiligthuisregionaam", "veiligthuisnaam", "veiligthuisregiosnaam"),
    "ingangsdatum": ("ingangsdatum", "datum"),
    "oude_code": ("oudecode",),
    "oude_naam": ("oudenaam",),
    "nieuwe_code": ("nieuwecode",),
    "nieuwe_naam": ("nieuwenaam",),
    "splitsing": ("splitsing",),
}


@dataclass
class SourceFile:
    path: Path
    checksum: str
    rows: list[tuple[int, dict[str, str]]]  # (line number in the file, values by our column name)

    @property
    def label(self) -> str:
        return f"{self.path.resolve()} (sha256 {self.checksum[:12]})"


MAX_REFERENCE_BYTES = 16 << 20  # CBS's national gemeente list is about 20 kB
MAX_VALUE = 100  # characters of a code or name ("Súdwest-Fryslân" has 15)
FORMULA_START = ("=", "+", "-", "@")  # a spreadsheet reads a cell starting so as a formula (OWASP)


def _read_bounded(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_REFERENCE_BYTES. Opened without blocking and judged by what
    was opened, so a FIFO never hangs and /dev/zero is never read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ReferenceError(f"{path}: cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ReferenceError(f"{path}: not a regular file (a directory, FIFO, socket or device): refused")
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(MAX_REFERENCE_BYTES + 1)
    if len(data) > MAX_REFERENCE_BYTES:
        raise ReferenceError(
            f"{path}: larger than {MAX_REFERENCE_BYTES >> 20} MiB, far more than any reference list: refused"
        )
    return data


def read_source(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> SourceFile:
    """A CSV (`,` or `;`, UTF-8 with or without BOM) whose header names the columns we need: a regular file of at
    most 16 MiB, every value of those columns printable text (no newline, tab or NUL), at most 100 characters,
    and not starting as a spreadsheet formula would. Anything else is refused with its lines."""
    data = _read_bounded(Path(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReferenceError(f"{path}: not UTF-8 text") from None
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=";" if first.count(";") > first.count(",") else ",")
    header = next(reader, None)
    if not header:
        raise ReferenceError(f"{path}: empty file")
    normal = [re.sub(r"[^a-z0-9]", "", h.lower()) for h in header]
    index = {}
    for col in required + optional:
        found = [i for i, h in enumerate(normal) if h in HEADERS[col]]
        if found:
            index[col] = found[0]
    absent = [c for c in required if c not in index]
    if absent:
        raise ReferenceError(
            f"{path}: no column for {', '.join(absent)} in the header ({', '.join(header)}); "
            f"expected names: {'; '.join(c + ' (' + ', '.join(HEADERS[c]) + ')' for c in absent)}"
        )
    rows = []
    end = reader.line_num
    try:
        for values in reader:
            start, end = end + 1, reader.line_num  # a record's first line: a quoted field may span lines
            if not any(v.strip() for v in values):
                continue
            rows.append((start, {c: (values[i].strip() if i < len(values) else "") for c, i in index.items()}))
    except csv.Error as exc:
        raise ReferenceError(f"{path}: line {reader.line_num}: not a valid CSV line ({exc})") from None
    source = SourceFile(Path(path), hashlib.sha256(data).hexdigest(), rows)
    found = Findings(source)
    for n, values in rows:
        for column, value in values.items():
            if not value.isprintable():
                found.add(f"{column} has a control character (a newline, tab, NUL or the like)", n)
            elif len(value) > MAX_VALUE:
                found.add(f"{column} is longer than {MAX_VALUE} characters", n)
            elif value.startswith(FORMULA_START):
                found.add(f"{column} starts with one of {' '.join(FORMULA_START)}, as a spreadsheet formula does", n)
    found.raise_any("the file")
    return source


class Findings:
    """Everything wrong with a file, collected before anything is written: one error lists them all."""

    def __init__(self, source: SourceFile):
        self.source = source
        self.problems: dict[str, list[int]] = {}

    def add(self, problem: str, line: int | None = None) -> None:
        self.problems.setdefault(problem, [])
        if line is not None:
            self.problems[problem].append(line)

    def raise_any(self, what: str) -> None:
        if not self.problems:
            return
        out = [f"{self.source.path}: {what} refused, nothing changed"]
        for problem, lines in self.problems.items():
            shown = ", ".join(map(str, lines[:MAX_SHOWN])) + (", ..." if len(lines) > MAX_SHOWN else "")
            where = f"; line {shown}" if len(lines) == 1 else f"; lines {shown} ({len(lines)} lines)" if lines else ""
            out.append(f"  {problem}{where}")
        raise ReferenceError("\n".join(out))


def _code(value: str, prefix: str) -> str:
    value = value.strip().upper()
    return value[len(prefix) :].strip() if value.startswith(prefix) else value


# ---- imports --------------------------------------------------------------------------------------------------


def _known_organisations() -> set[str]:
    """A VT-regio is the area of one Veilig Thuis-organisatie: its code must be in that code list (codes.csv)."""
    return {code for code, _ in code_lists()["VT_ORGANISATIE"]}


def _check_year(jaar: int) -> None:
    if not FIRST_YEAR <= jaar <= LAST_YEAR:
        raise ReferenceError(f"{jaar}: reference data is for the years {FIRST_YEAR} to {LAST_YEAR}")


def import_gemeenten(con: duckdb.DuckDBPyConnection, jaar: int, path: Path, replace: bool = False) -> str:
    """The gemeenten of a year with their VT-regio; with VT-regio names in the file, also the year's regions."""
    _check_year(jaar)
    ensure(con)
    src = read_source(path, ("gemeentecode", "gemeentenaam", "vt_code"), ("vt_naam",))
    found = Findings(src)
    seen: Counter[str] = Counter(_code(r["gemeentecode"], "GM") for _, r in src.rows)
    names: dict[str, set[str]] = {}
    rows = []
    for n, r in src.rows:
        code, vt = _code(r["gemeentecode"], "GM"), r["vt_code"].strip().upper()
        if vt.isdigit():
            vt = f"VT{int(vt):02d}"
        if not GEMEENTECODE.match(code) or code == "9999":
            found.add("gemeentecode is not 4 digits (with or without GM), or is 9999", n)
        elif seen[code] > 1:
            found.add(f"gemeentecode {code} occurs more than once", n)
        if not r["gemeentenaam"]:
            found.add("gemeentenaam is empty", n)
        if not VT_CODE.match(vt):
            found.add("VT-regio code is not VTnn", n)
        elif vt not in _known_organisations():
            found.add(f"VT-regio {vt} is not a Veilig Thuis-organisatie of the code list VT_ORGANISATIE", n)
        if r.get("vt_naam"):
            names.setdefault(vt, set()).add(r["vt_naam"])
        rows.append({"jaar": jaar, "gemeentecode": code, "gemeentenaam": r["gemeentenaam"], "vt_code": vt, "n": n})
    if not rows:
        found.add("the file has no gemeenten")
    for vt, ns in names.items():
        if len(ns) > 1:
            found.add(f"VT-regio {vt} has more than one name ({', '.join(sorted(ns))})")
    new_regios = {vt: min(ns) for vt, ns in names.items()}
    existing_regios = regios(con, jaar)
    if new_regios and existing_regios and not replace and new_regios != existing_regios:
        found.add(
            f"the file's VT-regio's differ from the {jaar} VT-regio list in the warehouse (use --replace to "
            "replace both)"
        )
    known = new_regios or existing_regios
    if not known:
        found.add(
            f"{jaar} has no VT-regio list and the file has no VT-regio names: add a column vt_naam "
            f"(Veilig Thuis-regio naam) or first `vt reference add-regions --year {jaar} FILE.csv`"
        )
    else:
        for row in rows:
            if VT_CODE.match(row["vt_code"]) and row["vt_code"] not in known:
                found.add(f"VT-regio {row['vt_code']} is not in the VT-regio list of {jaar}", row["n"])
        empty = sorted(set(known) - {row["vt_code"] for row in rows})
        if empty:
            found.add(f"VT-regio's of {jaar} without any gemeente: {', '.join(empty)}")
    if jaar in years(con, GEMEENTEN) and not replace:
        found.add(f"the warehouse already has a gemeente list for {jaar} (use --replace to replace it)")
    codes = {row["gemeentecode"] for row in rows}
    for h in _mergers(con, jaar):
        if h.nieuwe_code not in codes:
            found.add(
                f"the merger of {h.oude_code} into {h.nieuwe_code} on {h.ingangsdatum} names a gemeente "
                f"that is not in this list"
            )
    found.raise_any(f"the gemeenten of {jaar}")
    with _transaction(con):
        con.execute(f"delete from {SCHEMA}.{GEMEENTEN} where jaar = ?", [jaar])
        _insert(con, GEMEENTEN, rows)
        if new_regios:
            con.execute(f"delete from {SCHEMA}.{REGIOS} where jaar = ?", [jaar])
            _insert(con, REGIOS, [{"jaar": jaar, "vt_code": k, "vt_naam": v} for k, v in sorted(new_regios.items())])
            _log(con, "vt_regio", jaar, len(new_regios), src.label, src.checksum, "from the gemeenten file")
        _log(con, "gemeente_vt", jaar, len(rows), src.label, src.checksum, "replaced" if replace else "added")
    regions = f" and {len(new_regios)} VT-regio's" if new_regios else ""
    return f"{jaar}: {len(rows)} gemeenten{regions} imported from {path}"


def import_regios(con: duckdb.DuckDBPyConnection, jaar: int, path: Path, replace: bool = False) -> str:
    """The VT-regio's of a year (code and name)."""
    _check_year(jaar)
    ensure(con)
    src = read_source(path, ("vt_code", "vt_naam"))
    found = Findings(src)
    seen = Counter(r["vt_code"].strip().upper() for _, r in src.rows)
    rows = []
    for n, r in src.rows:
        vt = r["vt_code"].strip().upper()
        if not VT_CODE.match(vt):
            found.add("VT-regio code is not VTnn", n)
        elif vt not in _known_organisations():
            found.add(f"VT-regio {vt} is not a Veilig Thuis-organisatie of the code list VT_ORGANISATIE", n)
        elif seen[vt] > 1:
            found.add(f"VT-regio {vt} occurs more than once", n)
        if not r["vt_naam"]:
            found.add("vt_naam is empty", n)
        rows.append({"jaar": jaar, "vt_code": vt, "vt_naam": r["vt_naam"]})
    if not rows:
        found.add("the file has no VT-regio's")
    if jaar in years(con, REGIOS) and not replace:
        found.add(f"the warehouse already has a VT-regio list for {jaar} (use --replace to replace it)")
    listed = {g.vt_code for g in gemeenten(con, jaar)}
    codes = {row["vt_code"] for row in rows}
    if listed:
        if listed - codes:
            found.add(f"the {jaar} gemeente list uses VT-regio's this file lacks: {', '.join(sorted(listed - codes))}")
        if codes - listed:
            found.add(
                f"VT-regio's without any gemeente in the {jaar} gemeente list: {', '.join(sorted(codes - listed))}"
            )
    found.raise_any(f"the VT-regio's of {jaar}")
    with _transaction(con):
        con.execute(f"delete from {SCHEMA}.{REGIOS} where jaar = ?", [jaar])
        _insert(con, REGIOS, rows)
        _log(con, "vt_regio", jaar, len(rows), src.label, src.checksum, "replaced" if replace else "added")
    return f"{jaar}: {len(rows)} VT-regio's imported from {path}"


def import_herindelingen(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Mergers in the shape of herindelingen.csv, added to those the warehouse has."""
    ensure(con)
    src = read_source(path, ("ingangsdatum", "oude_code", "oude_naam", "nieuwe_code", "nieuwe_naam", "splitsing"))
    found = Findings(src)
    have = {(h.oude_code, h.nieuwe_code) for h in _mergers(con)}
    rows, per_old = [], Counter()
    lists: dict[int, set[str] | None] = {}
    for n, r in src.rows:
        try:
            when = date.fromisoformat(r["ingangsdatum"])
        except ValueError:
            found.add("ingangsdatum is not a date YYYY-MM-DD", n)
            continue
        old, new = _code(r["oude_code"], "GM"), _code(r["nieuwe_code"], "GM")
        split = r["splitsing"].strip().upper()
        if not GEMEENTECODE.match(old) or not GEMEENTECODE.match(new) or old == new:
            found.add("oude_code and nieuwe_code must be two different 4-digit gemeentecodes", n)
        if split not in ("J", "N"):
            found.add("splitsing is not J or N", n)
        if not r["oude_naam"] or not r["nieuwe_naam"]:
            found.add("oude_naam or nieuwe_naam is empty", n)
        if (old, new) in have:
            found.add(f"the merger of {old} into {new} is already in the warehouse or twice in the file", n)
        have.add((old, new))
        if not FIRST_YEAR <= when.year <= LAST_YEAR:
            found.add(f"ingangsdatum outside {FIRST_YEAR}-{LAST_YEAR}", n)
        else:
            if when.year not in lists:
                lists[when.year] = {g.gemeentecode for g in gemeenten(con, when.year)} or None
            codes = lists[when.year]
            if codes is None:
                found.add(
                    f"{when.year} has no gemeente list yet: add it first (`vt reference add-gemeenten --year "
                    f"{when.year}`), so the successor can be checked",
                    n,
                )
            elif new not in codes:
                found.add(f"nieuwe_code {new} is not a gemeente in {when.year}", n)
        per_old[old] += 1
        rows.append(
            {
                "ingangsdatum": when,
                "oude_code": old,
                "oude_naam": r["oude_naam"],
                "nieuwe_code": new,
                "nieuwe_naam": r["nieuwe_naam"],
                "splitsing": split,
                "n": n,
            }
        )
    for row in rows:
        if row["splitsing"] == "J" and per_old[row["oude_code"]] < 2:
            found.add(f"{row['oude_code']} is marked as split (J) but has one successor", row["n"])
        if row["splitsing"] == "N" and per_old[row["oude_code"]] > 1:
            found.add(f"{row['oude_code']} has several successors but is not marked as split (J)", row["n"])
    # on one date a gemeente is either merged away or a successor, never both: a chain (A -> B -> C) or a cycle
    # (A -> B, B -> A) in one date has no order to apply it in (a cycle swapped two codes)
    on_date: dict[date, list[tuple[str, str, int | None]]] = {}
    for h in _mergers(con):
        on_date.setdefault(h.ingangsdatum, []).append((h.oude_code, h.nieuwe_code, None))
    for row in rows:
        on_date.setdefault(row["ingangsdatum"], []).append((row["oude_code"], row["nieuwe_code"], row["n"]))
    for when, pairs in sorted(on_date.items()):
        both = {old for old, _, _ in pairs} & {new for _, new, _ in pairs}
        for old, new, n in pairs:
            if n is not None and (old in both or new in both):
                found.add(
                    f"on {when} a gemeente is both merged away and a successor ({', '.join(sorted(both))}): a "
                    "chain or cycle of mergers on one date is refused; give each step its own date",
                    n,
                )
    if not src.rows:
        found.add("the file has no mergers")
    found.raise_any("the mergers")
    with _transaction(con):
        _insert(con, HERINDELINGEN, rows)
        for jaar, n in sorted(Counter(r["ingangsdatum"].year for r in rows).items()):
            _log(con, "herindelingen", jaar, n, src.label, src.checksum, "added")
    return f"{len(rows)} mergers imported from {path}"


def carry_forward(con: duckdb.DuckDBPyConnection, jaar: int, van: int | None = None) -> str:
    """Copy the gemeente and VT-regio lists of `van` (default the year before) to `jaar`, because the operator
    states that nothing changed."""
    _check_year(jaar)
    ensure(con)
    van = jaar - 1 if van is None else van
    problems = []
    if jaar in years(con, GEMEENTEN) or jaar in years(con, REGIOS):
        problems.append(f"{jaar} already has a gemeente or VT-regio list")
    source_gemeenten, source_regios = gemeenten(con, van), regios(con, van)
    if not source_gemeenten or not source_regios:
        problems.append(f"{van} has no gemeente list or no VT-regio list to carry forward")
    codes = {g.gemeentecode for g in source_gemeenten}
    merged = sorted({h.oude_code for h in _mergers(con) if van < h.ingangsdatum.year <= jaar and h.oude_code in codes})
    if merged:
        problems.append(
            f"mergers after {van} up to {jaar} removed gemeenten of the {van} list ({', '.join(merged)}): "
            f"the list changed, import the {jaar} list instead"
        )
    if problems:
        raise ReferenceError(f"carrying {van} forward to {jaar} refused, nothing changed: " + "; ".join(problems))
    with _transaction(con):
        _insert(con, GEMEENTEN, [{"jaar": jaar, **g.__dict__} for g in source_gemeenten])
        _insert(con, REGIOS, [{"jaar": jaar, "vt_code": k, "vt_naam": v} for k, v in source_regios.items()])
        why = f"carried forward from {van}: the operator stated that nothing changed"
        _log(con, "gemeente_vt", jaar, len(source_gemeenten), f"carry-forward of {van}", None, why)
        _log(con, "vt_regio", jaar, len(source_regios), f"carry-forward of {van}", None, why)
    return f"{jaar}: {len(source_gemeenten)} gemeenten and {len(source_regios)} VT-regio's carried forward from {van}"


def _mergers(con: duckdb.DuckDBPyConnection, jaar: int | None = None) -> list[Herindeling]:
    rows = con.execute(
        f"select * from {SCHEMA}.{HERINDELINGEN} where ? is null or year(ingangsdatum) = ? "
        "order by ingangsdatum, oude_code, nieuwe_code",
        [jaar, jaar],
    ).fetchall()
    return [Herindeling(*r) for r in rows]


class _transaction:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con

    def __enter__(self):
        self.con.execute("begin transaction")

    def __exit__(self, kind, *_):
        self.con.execute("rollback" if kind else "commit")
        return False
