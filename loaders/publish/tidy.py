"""The machine-readable publication: CSV in long ("tidy") form, one row per half-year, region and measure,
so any tool reads it without cleaning. The value column holds only numbers (empty when there is none), every one
written with one decimal (a count 2350.0, a percentage 49.1): a tool that guesses a column's type from its first
rows (Polars reads 100) sees one numeric type in every file, whatever comes first. The CBS symbol is a column
of its own."""

from __future__ import annotations

import csv
from pathlib import Path

from loaders.publish.cells import ONTBREEKT, TOTAAL
from loaders.publish.measures import maten
from loaders.publish.sources import Halfjaar

HEADER = ["periode", "status", "bron", "vt_code", "vt_naam", "maat", "omschrijving", "eenheid", "waarde", "symbool"]


def rows(halfjaren: list[Halfjaar | str], suppress: int = 0, rounded: bool = True) -> list[list[str]]:
    """Per half-year, region (in publication order) and measure (kerncijfers, then indicatoren), one row. A
    source without indicators (the CBS tables) gives them as missing; a half-year that nothing publishes (a
    name, not a table) has its national rows, missing."""
    out = []
    for h in halfjaren:
        if isinstance(h, str):
            out += [[h, "", "", TOTAAL, "Totaal", m.naam, m.kop, m.eenheid, "", ONTBREEKT] for m in maten()]
            continue
        cells = h.cellen(suppress, rounded)
        for vt, naam in h.regios:
            for m in maten():
                cel = cells[(vt, m.naam)]
                value = "" if cel.waarde is None else f"{cel.waarde:.1f}"
                out.append([h.periode, h.status, h.bron, vt, naam, m.naam, m.kop, m.eenheid, value, cel.symbool])
    return out


def write(path: Path, halfjaren: list[Halfjaar | str], suppress: int = 0, rounded: bool = True) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows(halfjaren, suppress, rounded))
    return path
