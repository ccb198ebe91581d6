"""What a published cell shows: CBS rounding, small-cell suppression (primary and secondary) and the CBS
Verklaring van tekens. Pure functions; the writers format the cells they get.

Symbols (CBS, Verklaring van tekens): `x` geheim (suppressed), `.` gegevens ontbreken, `–` nihil (an exact
zero), `0` less than half of the rounding unit (a count of 1 or 2), `*` voorlopig, `**` nader voorlopig,
blank: cannot occur (a region that did not exist in that half-year).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

GEHEIM, ONTBREEKT, NIHIL = "x", ".", "–"
SYMBOLS = [
    (GEHEIM, "geheim (onderdrukt: minder dan de drempel, of nodig om zo'n cel te beschermen)"),
    (ONTBREEKT, "gegevens ontbreken"),
    (NIHIL, "nihil"),
    ("0", "het getal is kleiner dan de helft van de gekozen eenheid (aantallen: 1 of 2)"),
    ("*", "voorlopige cijfers"),
    ("**", "nader voorlopige cijfers"),
    ("(leeg)", "een cijfer kan op logische gronden niet voorkomen"),
]
ROUNDING_NOTE = (
    "Aantallen zijn afgerond op vijftallen; totalen zijn zelfstandig afgerond en kunnen afwijken van "
    "de som van de regio's. Percentages zijn berekend uit onafgeronde aantallen."
)
TOTAAL = "NL"


def round5(value: int | float | Decimal) -> int:
    """To the nearest multiple of 5, halves upward (2.5 -> 5, 7.5 -> 10)."""
    return int((Decimal(value) / 5).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 5)


def percentage(teller: int, noemer: int, factor: int = 100) -> Decimal:
    """teller / noemer times `factor` (100: a percentage), with one decimal, rounded half up."""
    return (Decimal(factor) * teller / noemer).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Cel:
    """A published cell: its value (a rounded count, a percentage with one decimal, or None) and its symbol
    ('' when the value speaks for itself)."""

    waarde: int | Decimal | None
    symbool: str = ""

    def text(self, thousands: str = "", decimal: str = ".") -> str:
        """As a reader sees it: the symbol, or the number with the given separators."""
        if self.waarde is None or self.symbool == NIHIL:
            return self.symbool
        return number(self.waarde, thousands, decimal)


def number(value: int | float | Decimal, thousands: str = "", decimal: str = ".") -> str:
    """A whole number with its thousands separated, any other with one decimal (the page: a space and a
    decimal comma)."""
    if isinstance(value, Decimal) or (isinstance(value, float) and not value.is_integer()):
        return f"{value:.1f}".replace(".", decimal)
    return f"{int(value):,}".replace(",", thousands)


MISSING = Cel(None, ONTBREEKT)
SECRET = Cel(None, GEHEIM)


def count_cel(value: int | None, hidden: bool = False, rounded: bool = True, nihil: bool = True) -> Cel:
    """A count as published: hidden (`x`), missing (`.`), an exact zero (`–`, when it is known to be one) or
    the count rounded to a multiple of 5."""
    if value is None:
        return MISSING
    if hidden:
        return SECRET
    if value == 0 and nihil:
        return Cel(0, NIHIL)
    return Cel(round5(value) if rounded else value)


def pct_cel(teller_noemer: tuple[int, int] | None, hidden: bool = False, factor: int = 100) -> Cel:
    """An indicator as published: teller / noemer times `factor` (a percentage, or an average with factor 1)."""
    if teller_noemer is None or teller_noemer[1] == 0:
        return MISSING  # no denominator: no data
    if hidden:
        return SECRET
    return Cel(percentage(*teller_noemer, factor))


def suppressed(values: Mapping[str, int | None], threshold: int) -> set[str]:
    """The cells of one column (regions and the total `NL`, which is their sum) to hide: every cell below the
    threshold (primary), and where a column then hides exactly one region, the smallest other region too
    (secondary), so that no hidden cell is the total minus the cells shown."""
    if not threshold:
        return set()
    known = {k: v for k, v in values.items() if v is not None}
    hidden = {k for k, v in known.items() if v < threshold}
    return secondary(known, [(TOTAAL, [k for k in known if k != TOTAAL])], hidden)


def secondary(values: Mapping[str, int], constraints: Iterable[tuple[str, list[str]]], hidden: set[str]) -> set[str]:
    """Hide more cells until no additive constraint (total = sum of parts) has exactly one hidden cell: the
    visible part with the smallest value (then the lowest key) is added, until nothing changes."""
    hidden = set(hidden)
    constraints = [(total, parts) for total, parts in constraints if total in values]
    changed = True
    while changed:
        changed = False
        for total, parts in constraints:
            members = [total, *parts]
            if sum(m in hidden for m in members) != 1:
                continue
            candidates = sorted((values[p], p) for p in parts if p not in hidden)
            if not candidates:
                continue
            hidden.add(candidates[0][1])
            changed = True
    return hidden


def periode_label(periode: str, mark: str) -> str:
    """'2019H1' -> '1e halfjaar van 2019' plus the release's mark (* voorlopig, ** nader voorlopig)."""
    return f"{periode[5]}e halfjaar van {periode[:4]}{mark}"


def periode_kort(periode: str, mark: str) -> str:
    """'2019H1' -> '1e hj 2019' plus the mark, as a column or axis label."""
    return f"{periode[5]}e hj {periode[:4]}{mark}"
