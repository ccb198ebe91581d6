"""The delivery layout (Bestandsdefinitie) as data.

The loader is driven by `data/layout.csv` (the project's copy of the specification's layout), so a changed
Bestandsdefinitie is a data change. `data/recordtypes.csv` adds what the layout does not say: the entity
name of each record type and its record key (rule 8).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

RECORD_LENGTH = 120
HEADER, TRAILER = "VL", "SL"


@dataclass(frozen=True)
class Field:
    name: str
    start: int  # 1-based, as in the layout table
    length: int
    type: str  # A, N, D or F
    codelijst: str | None
    verplicht: bool

    @property
    def offset(self) -> int:
        return self.start - 1


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


def data_path(name: str) -> Path:
    return Path(str(resources.files("loaders") / "data" / name))


def read_csv(name: str) -> list[dict[str, str]]:
    with data_path(name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def parse_layout(layout_rows: list[dict[str, str]], type_rows: list[dict[str, str]]) -> Layout:
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
    return Layout(record_types)


@cache
def default_layout() -> Layout:
    return parse_layout(read_csv("layout.csv"), read_csv("recordtypes.csv"))


@cache
def code_lists() -> dict[str, list[tuple[str, str]]]:
    """codelijst -> [(code, omschrijving), ...] in list order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for row in read_csv("codes.csv"):
        out.setdefault(row["codelijst"], []).append((row["code"], row["omschrijving"]))
    return out
