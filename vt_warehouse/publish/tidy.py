"""The machine-readable publication: CSV in long ("tidy") form, one row per half-year, region and measure,
so any tool reads it without cleaning. The value column holds only numbers (empty when there is none), every one
written with one decimal (a count 2350.0, a percentage 49.1): a tool that guesses a column's type from its first
rows (Polars reads 100) sees one numeric type in every file, whatever comes first. The CBS symbol is a column
of its own. Beside each CSV a CSVW description (<file>-metadata.json) types every column, and the page's read
lines for pandas and Polars are made from the same registry (`COLUMNS`), so they cannot disagree."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from vt_warehouse.escape import spreadsheet_cell
from vt_warehouse.publish.cells import ONTBREEKT, TOTAAL
from vt_warehouse.publish.measures import eenheden, maten
from vt_warehouse.publish.sources import Halfjaar, periode_of, trendbreuken


@dataclass(frozen=True)
class Kolom:
    naam: str
    datatype: str  # CSVW: string, decimal or boolean
    beschrijving: str
    format: str = ""  # a CSVW regular expression a string value matches

    @property
    def pandas(self) -> str:
        return {"string": "string", "decimal": "Float64", "boolean": "boolean"}[self.datatype]

    @property
    def polars(self) -> str:
        return {"string": "pl.String", "decimal": "pl.Float64", "boolean": "pl.Boolean"}[self.datatype]


def _of(items: list[str]) -> str:
    """'a, b of c': a Dutch enumeration."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " of " + items[-1]


# every column of both tidy CSVs, in order: the one home of their names and types
COLUMNS = (
    Kolom("periode", "string", "Halfjaar, als code JJJJHn (2020H1: het 1e halfjaar van 2020).", "^[0-9]{4}H[12]$"),
    Kolom(
        "status",
        "string",
        "Status van de cijfers: voorlopig, nader voorlopig of definitief; leeg waar het halfjaar geen cijfers heeft.",
    ),
    Kolom(
        "bron",
        "string",
        "De microdata release waaruit het halfjaar komt, of CBS (de gepubliceerde CBS-tabellen "
        "van 2019); leeg waar het halfjaar geen cijfers heeft.",
    ),
    Kolom(
        "vt_code",
        "string",
        "Veilig Thuis-regio als code (VTnn), of NL voor Nederland; de naam staat in vt_naam.",
        "^(VT[0-9]{2}|NL)$",
    ),
    Kolom("vt_naam", "string", "Naam van de regio in dat jaar (het label van vt_code); Totaal voor Nederland."),
    Kolom("maat", "string", "Naam van het kerncijfer of de indicator (publicatie_maten)."),
    Kolom("omschrijving", "string", "Het onderwerp zoals de tabellen het noemen."),
    Kolom("eenheid", "string", f"{_of(list(eenheden()))}."),
    Kolom(
        "waarde",
        "decimal",
        f"Het gepubliceerde getal: {', '.join(e.waarde for e in eenheden().values())}; leeg waar het symbool de "
        "cel beschrijft.",
    ),
    Kolom(
        "symbool",
        "string",
        "CBS-teken: x geheim, . gegevens ontbreken, – nihil; leeg waar de waarde voor zich spreekt.",
    ),
    Kolom(
        "trendbreuk",
        "boolean",
        "true in het eerste halfjaar na een trendbreuk in de reeks (zie de Toelichting van de publicatie).",
    ),
)
HEADER = [c.naam for c in COLUMNS]


def rows(
    halfjaren: list[Halfjaar | str], suppress: int = 0, rounded: bool = True, breuken: dict[str, str] | None = None
) -> list[list[str]]:
    """Per half-year, region (in publication order) and measure (kerncijfers, then indicatoren), one row. A
    source without indicators (the CBS tables) gives them as missing; a half-year that nothing publishes (a
    name, not a table) has its national rows, missing. `breuken`: the half-years after a trendbreuk."""
    breuken = breuken or {}
    out = []
    for h in halfjaren:
        breuk = "true" if periode_of(h) in breuken else "false"
        if isinstance(h, str):
            out += [[h, "", "", TOTAAL, "Totaal", m.naam, m.kop, m.eenheid, "", ONTBREEKT, breuk] for m in maten()]
            continue
        cells = h.cellen(suppress, rounded)
        for vt, naam in h.regios:
            for m in maten():
                cel = cells[(vt, m.naam)]
                value = "" if cel.waarde is None else f"{cel.waarde:.1f}"
                out.append([h.periode, h.status, h.bron, vt, naam, m.naam, m.kop, m.eenheid, value, cel.symbool, breuk])
    return out


def write(
    path: Path,
    halfjaren: list[Halfjaar | str],
    suppress: int = 0,
    rounded: bool = True,
    reeks: list[Halfjaar | str] | None = None,
    titel: str = "",
) -> list[Path]:
    """The CSV and its CSVW description; `reeks` is the series the trendbreuken are read from."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        # a name never reaches a spreadsheet as a formula (the numbers are written by us: never text)
        writer.writerows(
            [spreadsheet_cell(v) if c.datatype == "string" else v for c, v in zip(COLUMNS, row)]
            for row in rows(halfjaren, suppress, rounded, trendbreuken(reeks or halfjaren))
        )
    return [path, write_csvw(path, titel)]


def write_csvw(path: Path, titel: str) -> Path:
    """<file>-metadata.json (W3C CSV on the Web): every column typed, the empty field null, the key."""
    doc = {
        "@context": "http://www.w3.org/ns/csvw",
        "url": path.name,
        "dc:title": titel or path.stem,
        "dialect": {"header": True, "delimiter": ",", "encoding": "utf-8"},
        "null": "",
        "tableSchema": {
            "columns": [
                {
                    "name": c.naam,
                    "titles": c.naam,
                    "dc:description": c.beschrijving,
                    "datatype": {"base": "string", "format": c.format} if c.format else c.datatype,
                    "required": c.naam in KEY,
                }
                for c in COLUMNS
            ],
            "primaryKey": list(KEY),
        },
    }
    out = path.with_name(path.name + "-metadata.json")
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


KEY = ("periode", "vt_code", "maat")


def read_lines(name: str) -> list[tuple[str, str]]:
    """The lines that read a tidy CSV `name` with its types, for pandas and for Polars (shown on the page)."""
    pandas = ", ".join(f'"{c.naam}": "{c.pandas}"' for c in COLUMNS)
    polars = ", ".join(f'"{c.naam}": {c.polars}' for c in COLUMNS)
    return [
        (
            "pandas",
            f'import pandas as pd\ndf = pd.read_csv("{name}", dtype={{{pandas}}},\n'
            '                 keep_default_na=False, na_values={"waarde": [""]})',
        ),
        ("Polars", f'import polars as pl\ndf = pl.read_csv("{name}", schema_overrides={{{polars}}})'),
    ]
