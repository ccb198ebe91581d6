"""Verslagperioden: half-years written JJJJH1 (1 January - 30 June) and JJJJH2 (1 July - 31 December)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PATTERN = re.compile(r"^(\d{4})H([12])\Z")
FIRST_YEAR = 2019
LAST_YEAR = 2100  # the bound of every year a user or a file gives: beyond it a year is a typing error


@dataclass(frozen=True, order=True)
class Periode:
    jaar: int
    helft: int

    @classmethod
    def parse(cls, text: str) -> Periode:
        m = PATTERN.match(text.strip())
        if not m or not FIRST_YEAR <= int(m[1]) <= LAST_YEAR:
            raise ValueError(f"{text!r} is not a verslagperiode JJJJH1 or JJJJH2 from {FIRST_YEAR} to {LAST_YEAR}")
        return cls(int(m[1]), int(m[2]))

    def __str__(self) -> str:
        return f"{self.jaar}H{self.helft}"

    @property
    def start(self) -> date:
        return date(self.jaar, 1 if self.helft == 1 else 7, 1)

    @property
    def end(self) -> date:
        return date(self.jaar, 6, 30) if self.helft == 1 else date(self.jaar, 12, 31)

    def next(self) -> Periode:
        return Periode(self.jaar, 2) if self.helft == 1 else Periode(self.jaar + 1, 1)

    def previous(self) -> Periode:
        return Periode(self.jaar, 1) if self.helft == 2 else Periode(self.jaar - 1, 2)


def periode_range(text: str) -> list[Periode]:
    """'2019H1:2020H2' -> every half-year from the first to the last; '2020H1' -> that one."""
    first, _, last = text.partition(":")
    lo, hi = Periode.parse(first), Periode.parse(last or first)
    if hi < lo:
        raise ValueError(f"{text!r}: the last period comes before the first")
    out = [lo]
    while out[-1] < hi:
        out.append(out[-1].next())
    return out
