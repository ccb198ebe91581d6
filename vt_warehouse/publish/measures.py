"""The published measures, from their one home `data/publicatie_maten.csv` (also a dbt seed): per measure
its table, Dutch column header as in the CBS tables, unit and definition (the Begrippen of the publication)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from loaders.layout import read_csv

MATEN = "publicatie_maten.csv"
EENHEDEN = "publicatie_eenheden.csv"


@dataclass(frozen=True)
class Eenheid:
    naam: str  # aantal | procent | ...
    factor: int | None  # an indicator's teller / noemer times this (100: a percentage); None: a count
    aandeel: bool  # the teller counts a subset of the noemer's records: the value is at most the factor
    waarde: str  # what a published value of this unit is, in Dutch (the tidy CSV's description of `waarde`)


@cache
def eenheden() -> dict[str, Eenheid]:
    """The units of the published measures, from their one home `data/publicatie_eenheden.csv` (also a seed, which
    the measures' units are tested against): a count, or a ratio of two counts times a factor, one decimal."""
    return {
        r["eenheid"]: Eenheid(r["eenheid"], int(r["factor"]) if r["factor"] else None, r["aandeel"] == "J", r["waarde"])
        for r in read_csv(EENHEDEN)
    }


@dataclass(frozen=True)
class Maat:
    naam: str  # the column of the kerncijfers mart, or the indicator of the indicatoren mart
    tabel: str  # kerncijfers | indicatoren
    kop: str  # the Dutch header, as in the CBS tables
    eenheid: str  # one of eenheden(): aantal, procent, ...
    begrip: str  # the definition, in Dutch (publicatie.md)
    teller: str = ""  # the count of int_regiotellingen_berekend it is (a kerncijfer) or its numerator (an indicator)
    noemer: str = ""  # an indicator's denominator (a count of int_regiotellingen_berekend)

    @property
    def is_count(self) -> bool:
        return eenheden()[self.eenheid].factor is None

    @property
    def is_aandeel(self) -> bool:
        """Its teller counts a subset of its noemer's records (a percentage), so teller <= noemer."""
        return eenheden()[self.eenheid].aandeel

    @property
    def factor(self) -> int:
        """An indicator's teller / noemer times this is its value (100: a percentage)."""
        return eenheden()[self.eenheid].factor or 1


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
