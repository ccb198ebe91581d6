"""The reports' numbers in Dutch: one decimal with a comma, shares for a person, counts with thin spaces."""

from __future__ import annotations


def decimal(v: float) -> str:
    """One decimal with a Dutch comma: 12,3."""
    return f"{v:.1f}".replace(".", ",")


def share(n: int | None, total: int | None) -> str:
    """A share for a person: one decimal with a comma, never 0,0% for a count that is not zero."""
    if n is None or not total:
        return "–"
    if n == 0:
        return "0%"
    pct = 100 * n / total
    return "<0,1%" if pct < 0.1 else f"{decimal(pct)}%"


def number(n: int | None) -> str:
    return "–" if n is None else f"{n:,}".replace(",", "\u202f")
