"""The delivery layout (Bestandsdefinitie) as data, one layout per version.

The loader is driven by `data/layout.csv` (the specification's layout with a column `versie`), so a new
version of the Bestandsdefinitie is a data change: a delivery is parsed with the layout of its VL record's
`versie_bestandsdefinitie`. The first version is written whole; each later one only as its changes to the
version before it (a field of the same record type and name replaces it, another is added at its position,
`vervalt` J removes it), so a field added to a version reaches every later one. The VL record sits at the same
positions in every version (checked here).
`data/recordtypes.csv` adds what the layout does not say: the entity name of each record type and its
record key (rule 8). The raw tables hold the fields of every version (`Layouts.raw`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

RECORD_LENGTH = 120
HEADER, TRAILER = "VL", "SL"
# the version of the specification's Bestandsdefinitie (bestandsdefinitie.md); 0300 proves the mechanism
CURRENT_VERSION = "0200"
# code lists with checks of their own (the organisation's code against the register, the gemeente against the
# year's gemeenten, G3/G4); every other code list is checked by KR13 and G5
OWN_RULES = ("VT_ORGANISATIE", "GEMEENTE")


@dataclass(frozen=True)
class Field:
    name: str
    start: int  # 1-based, as in the layout table
    length: int
    type: str  # A, N, D or F
    codelijst: str | None
    verplicht: bool
    omschrijving: str = field(default="", compare=False)  # the layout's description: the field's one description
    label: str = field(default="", compare=False)  # the Dutch name in the release's documentation (flag fields)

    @property
    def offset(self) -> int:
        return self.start - 1

    @property
    def code_check(self) -> str | None:
        """How KR13 and G5 check the field: 'vlaggen' (a flag field: 0/1 only), 'code' (its value is in its code
        list), or None."""
        if self.type == "F":
            return "vlaggen"
        return "code" if self.codelijst and self.codelijst not in OWN_RULES else None


@dataclass(frozen=True)
class RecordType:
    code: str
    fields: tuple[Field, ...]
    entiteit: str | None = None  # None for VL and SL
    sleutel: tuple[str, ...] = ()

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.code} has no field {name!r}")


@dataclass(frozen=True)
class Layout:
    record_types: dict[str, RecordType]
    versie: str = CURRENT_VERSION

    @property
    def data_types(self) -> list[RecordType]:
        """The record types between VL and SL, in layout order."""
        return [rt for rt in self.record_types.values() if rt.entiteit]

    @property
    def header(self) -> RecordType:
        return self.record_types[HEADER]

    @property
    def trailer(self) -> RecordType:
        return self.record_types[TRAILER]

    def count_field(self, code: str) -> Field:
        """The SL field that counts records of type `code` (named `aantal_<code>`)."""
        return self.trailer.field(f"aantal_{code.lower()}")


def data_path(name: str, folder: str = "data") -> Path:
    return Path(str(resources.files("loaders") / folder / name))


def read_csv(name: str, folder: str = "data") -> list[dict[str, str]]:
    """A CSV file of the package's data (`data/`: layout, codes, seeds; `referentiedata/`: reference data)."""
    with data_path(name, folder).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class Layouts:
    """Every version of the layout, by `versie_bestandsdefinitie`, oldest first."""

    versions: dict[str, Layout]

    def get(self, versie: str) -> Layout | None:
        return self.versions.get(versie)

    @property
    def newest(self) -> Layout:
        return self.versions[max(self.versions)]

    def versions_with(self, code: str, name: str) -> list[str]:
        """The versions whose record type `code` has the field `name`, oldest first."""
        return [
            v
            for v, layout in self.versions.items()
            if code in layout.record_types and any(f.name == name for f in layout.record_types[code].fields)
        ]

    @property
    def raw(self) -> Layout:
        """What the raw tables hold: per record type the fields of every version (a field only one version has
        is NULL in the rows of the others), in the order of the first version that has them."""
        types: dict[str, RecordType] = {}
        for layout in self.versions.values():
            for code, rt in layout.record_types.items():
                if code not in types:
                    types[code] = rt
                else:
                    have = {f.name for f in types[code].fields}
                    extra = tuple(f for f in rt.fields if f.name not in have)
                    types[code] = RecordType(code, types[code].fields + extra, rt.entiteit, rt.sleutel)
        return Layout(types, "raw")


def parse_layouts(layout_rows: list[dict[str, str]], type_rows: list[dict[str, str]]) -> Layouts:
    """One Layout per value of the `versie` column (a table without it is version 0200): the first version's rows
    whole, each later version's rows its changes to the one before (`apply_changes`)."""
    per_version: dict[str, list[dict[str, str]]] = {}
    for row in layout_rows:
        per_version.setdefault(row.get("versie") or CURRENT_VERSION, []).append(row)
    whole: dict[str, list[dict[str, str]]] = {}
    previous: list[dict[str, str]] | None = None
    for v, rows in sorted(per_version.items()):
        previous = rows if previous is None else apply_changes(previous, rows, v)
        whole[v] = previous
    versions = {v: parse_layout(rows, type_rows, v) for v, rows in whole.items()}
    headers = {v: layout.header.fields for v, layout in versions.items()}
    if len(set(headers.values())) > 1:
        raise ValueError(
            f"layout: the VL record differs between versions {', '.join(headers)}; it must sit at the "
            "same positions in every version"
        )
    return Layouts(versions)


def apply_changes(previous: list[dict[str, str]], changes: list[dict[str, str]], versie: str) -> list[dict[str, str]]:
    """The rows of version `versie`: those of the version before with its `changes` applied. A change names a
    field by record type and name: it replaces that field, or is added among its record type's fields by start;
    with `vervalt` J the field is removed (ValueError when it does not exist)."""
    rows = [dict(r, versie=versie) for r in previous]
    for change in changes:
        key = (change["recordtype"], change["veld"])
        at = next((i for i, r in enumerate(rows) if (r["recordtype"], r["veld"]) == key), None)
        if (change.get("vervalt") or "") == "J":
            if at is None:
                raise ValueError(f"layout {versie}: {key[0]}.{key[1]} is removed but no earlier version has it")
            del rows[at]
        elif at is not None:
            rows[at] = change
        else:
            same = [i for i, r in enumerate(rows) if r["recordtype"] == key[0]]
            before = [i for i in same if int(rows[i]["start"]) < int(change["start"])]
            rows.insert(before[-1] + 1 if before else (same[0] if same else len(rows)), change)
    return rows


def parse_layout(
    layout_rows: list[dict[str, str]], type_rows: list[dict[str, str]], versie: str = CURRENT_VERSION
) -> Layout:
    fields: dict[str, list[Field]] = {}
    for row in layout_rows:
        fields.setdefault(row["recordtype"], []).append(
            Field(
                name=row["veld"],
                start=int(row["start"]),
                length=int(row["lengte"]),
                type=row["type"],
                codelijst=row["codelijst"] or None,
                verplicht=row["verplicht"] == "J",
                omschrijving=row.get("omschrijving") or "",
                label=row.get("label") or "",
            )
        )
    meta = {row["recordtype"]: row for row in type_rows}
    record_types = {}
    for code, flds in fields.items():
        for f in flds:
            if f.start < 1 or f.offset + f.length > RECORD_LENGTH:
                raise ValueError(f"layout: {code}.{f.name} does not fit in {RECORD_LENGTH} characters")
        m = meta.get(code)
        record_types[code] = RecordType(
            code=code,
            fields=tuple(flds),
            entiteit=m["entiteit"] if m else None,
            sleutel=tuple(m["sleutel"].split()) if m else (),
        )
    for required in (HEADER, TRAILER):
        if required not in record_types:
            raise ValueError(f"layout: record type {required} is missing")
    return Layout(record_types, versie)


@cache
def layouts() -> Layouts:
    """Every layout version of the project's layout table."""
    return parse_layouts(read_csv("layout.csv"), read_csv("recordtypes.csv"))


def default_layout() -> Layout:
    """The layout of the current Bestandsdefinitie (version 0200)."""
    return layouts().versions[CURRENT_VERSION]


@cache
def code_lists() -> dict[str, list[tuple[str, str]]]:
    """codelijst -> [(code, omschrijving), ...] in list order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for row in read_csv("codes.csv"):
        out.setdefault(row["codelijst"], []).append((row["code"], row["omschrijving"]))
    return out
