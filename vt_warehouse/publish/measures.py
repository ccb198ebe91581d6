"""The published measures, from their one home `data/publicatie_maten.csv` (also a dbt seed): per measure
its table, Dutch column header as in the CBS tables, unit and definition (the Begrippen of the publication)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from loaders.layout import read_csv

MATEN = "publicatie_maten.csv"


@dataclass(frozen=True)
class Maat:
    naam: str  # the column of the kerncijfers mart, or the indicator of the indicatoren mart
    tabel: str  # kerncijfers | indicatoren
    kop: str  # the Dutch header, as in the CBS tables
    eenheid: str  # aantal | procent
    begrip: str  # the definition, in Dutch (publicatie.md)
    teller: str = ""  # the count of int_regiotellingen_berekend it is (a kerncijfer) or its numerator (an indicator)
    noemer: str = ""  # an indicator's denominator (a count of int_regiotellingen_berekend)

    @property
    def is_count(self) -> bool:
        return self.eenheid == "aantal"


@cache
def maten() -> tuple[Maat, ...]:
    return tuple(
        Maat(r["maat"], r["tabel"], r["kop"], r["eenheid"], r["begrip"], r["teller"], r["noemer"])
        for r in read_csv(MATEN)
    )


def kerncijfers() -> list[Maat]:
    return [m for m in maten() if m.tabel == "kerncijfers"]


def indicatoren() -> list[Maat]:
    return [m for m in maten() if m.tabel == "indicatoren"]


KERNCIJFERS = [m.naam for m in kerncijfers()]
INDICATOREN = [m.naam for m in indicatoren()]
