"""The publication as a workbook like a CBS tabellenbijlage: Inhoud, Toelichting, per half-year the
kerncijfers and indicatoren per region, and the Tijdreeks; Dutch headers, widths, number formats, frozen
headers and print set-up; every table's source and symbols under it. Saved with fixed times, so the same
publication gives the same bytes."""

from __future__ import annotations

import math
import os
import re
import zipfile
from decimal import Decimal
from pathlib import Path

from vt_warehouse.publish.cells import ROUNDING_NOTE, SYMBOLS, TOTAAL, Cel, periode_label
from vt_warehouse.publish.measures import Maat, indicatoren, kerncijfers, maten
from vt_warehouse.publish.sources import Halfjaar, Publicatie, region_notes
from vt_warehouse.publish.text import (
    OVERDRACHTEN_NOOT,
    bron_reeks,
    bronnen,
    geheimhouding,
    ondertitel,
    titel,
    trendbreuk_noten,
    volledigheden,
    volledigheid,
)

COUNT_FORMAT, PCT_FORMAT = "#,##0", "0.0"
TEKENS = "Verklaring van tekens: " + "; ".join(f"{s} {m}" for s, m in SYMBOLS)


def _value(cel: Cel | None):
    """What a cell holds: a number, the symbol as text, or nothing (cannot occur)."""
    if cel is None:
        return None
    if cel.waarde is None:
        return cel.symbool
    if cel.symbool:  # nihil
        return cel.symbool
    return float(cel.waarde) if isinstance(cel.waarde, Decimal) else cel.waarde


def _styles():
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    thin = Side(style="thin", color="999999")
    return {
        "title": Font(bold=True, size=12),
        "bold": Font(bold=True),
        "note": Font(size=9, color="444444"),
        "head": Alignment(wrap_text=True, vertical="bottom", horizontal="center"),
        "right": Alignment(horizontal="right"),
        "wrap": Alignment(wrap_text=True, vertical="top"),
        "fill": PatternFill("solid", fgColor="EEF2F7"),
        "border": Border(bottom=thin),
    }


def _print_setup(ws, title_rows: str) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = title_rows


def _notes(ws, lines: list[str], st) -> None:
    ws.append([])
    for line in lines:
        ws.append([line])
        ws.cell(ws.max_row, 1).font = st["note"]


def _table_sheet(wb, name: str, title: str, h: Halfjaar, cells: dict, which: list[Maat], notes: list[str], st):
    ws = wb.create_sheet(name)
    ws.append([title])
    ws["A1"].font = st["title"]
    ws.append([])
    ws.append(["Veilig Thuis-regio", "Code", *(m.kop + (" ¹" if m.naam == "overdrachten" else "") for m in which)])
    for cell in ws[3]:
        cell.font, cell.alignment, cell.fill, cell.border = st["bold"], st["head"], st["fill"], st["border"]
    width = 15 if which[0].is_count else 18
    # the header row as high as its longest wrapped header needs (a spreadsheet keeps the stored height)
    ws.row_dimensions[3].height = 13 * max(math.ceil(len(m.kop) / (width - 3)) for m in which) + 4
    for vt, naam in h.regios:
        ws.append(["Nederland" if vt == TOTAAL else naam, vt, *(_value(cells[(vt, m.naam)]) for m in which)])
        row = ws.max_row
        for k, m in enumerate(which, start=3):
            cell = ws.cell(row, k)
            cell.number_format = COUNT_FORMAT if m.is_count else PCT_FORMAT
            cell.alignment = st["right"]
            if vt == TOTAAL:
                cell.font = st["bold"]
        if vt == TOTAAL:
            ws.cell(row, 1).font = st["bold"]
    _notes(ws, notes, st)
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 7
    from openpyxl.utils import get_column_letter

    for k in range(3, 3 + len(which)):
        ws.column_dimensions[get_column_letter(k)].width = width
    ws.freeze_panes = "C4"
    _print_setup(ws, "3:3")
    return ws


def _series_sheet(wb, pub: Publicatie, notes: list[str], st):
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet("Tijdreeks")
    first = pub.reeks[0] if isinstance(pub.reeks[0], str) else pub.reeks[0].periode
    ws.append(
        [
            f"Tijdreeks per Veilig Thuis-regio, {periode_label(first, '')} "
            f"tot en met {periode_label(pub.release.perioden[-1], pub.release.mark)}"
        ]
    )
    ws["A1"].font = st["title"]
    ws.append([])
    labels = [pub.kolom(h) for h in pub.reeks]
    ws.append(["Veilig Thuis-regio", "Code", "Onderwerp", *labels])
    for cell in ws[3]:
        cell.font, cell.alignment, cell.fill, cell.border = st["bold"], st["head"], st["fill"], st["border"]
    codes: list[str] = []
    for h in pub.reeks:
        if not isinstance(h, str):
            codes += [vt for vt, _ in h.regios if vt not in codes and vt != TOTAAL]
    codes = [TOTAAL, *sorted(codes)]
    for vt in codes:
        naam = "Nederland" if vt == TOTAAL else pub.regio_naam(vt)
        for m in maten():
            ws.append([naam, vt, m.kop, *(_value(pub.reeks_cel(h, vt, m.naam)) for h in pub.reeks)])
            row = ws.max_row
            for k in range(4, 4 + len(labels)):
                ws.cell(row, k).number_format = COUNT_FORMAT if m.is_count else PCT_FORMAT
                ws.cell(row, k).alignment = st["right"]
    ws.auto_filter.ref = f"A3:{get_column_letter(3 + len(labels))}{ws.max_row}"
    _notes(ws, notes, st)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 7
    ws.column_dimensions["C"].width = 48
    for k in range(4, 4 + len(labels)):
        ws.column_dimensions[get_column_letter(k)].width = 12
    ws.freeze_panes = "D4"
    _print_setup(ws, "3:3")


def _text_sheet(wb, name: str, blocks: list[tuple[str, list[str]]], st, width: int = 110):
    ws = wb.create_sheet(name)
    for heading, lines in blocks:
        ws.append([heading])
        ws.cell(ws.max_row, 1).font = st["title"] if ws.max_row == 1 else st["bold"]
        for line in lines:
            ws.append([line])
            ws.cell(ws.max_row, 1).alignment = st["wrap"]
            # spreadsheet programs keep a row's stored height: give a wrapped line the height of its lines
            ws.row_dimensions[ws.max_row].height = 15 * max(1, math.ceil(len(line) / (width * 0.95)))
        ws.append([])
    ws.column_dimensions["A"].width = width
    _print_setup(ws, "")
    return ws


def write(pub: Publicatie, path: Path) -> Path:
    from openpyxl import Workbook

    st = _styles()
    wb = Workbook()
    wb.remove(wb.active)
    sheets: list[tuple[str, str]] = []
    contents = wb.create_sheet("Inhoud")
    _text_sheet(
        wb,
        "Toelichting",
        [
            ("Toelichting", [ondertitel(pub.release)]),
            ("Verklaring van tekens", [f"{s}   {m}" for s, m in SYMBOLS]),
            ("Begrippen", [f"{m.kop}: {m.begrip}" for m in maten()]),
            ("Afronding en geheimhouding", [ROUNDING_NOTE, geheimhouding(pub.suppress)]),
            (
                "Volledigheid",
                volledigheden(pub)
                or ["Voor elk halfjaar in deze publicatie hebben alle Veilig Thuis-organisaties gegevens geleverd."],
            ),
            ("Voetnoten", [f"¹ {OVERDRACHTEN_NOOT}", *trendbreuk_noten(pub)]),
            ("Bronnen", [*bronnen(pub), pub.bron]),
        ],
        st,
    )
    sheets.append(("Toelichting", "Verklaring van tekens, begrippen, afronding en bronnen"))
    under = [pub.bron, TEKENS, ROUNDING_NOTE]
    for h in pub.eigen:
        cells = h.cellen(pub.suppress)
        label = periode_label(h.periode, h.mark)
        for kind, which, noot in (
            ("Kerncijfers", kerncijfers(), [f"¹ {OVERDRACHTEN_NOOT}"]),
            ("Indicatoren", indicatoren(), []),
        ):
            name, title = f"{kind} {h.periode}", f"{kind} per Veilig Thuis-regio, {label}"
            missing = [zin] if (zin := volledigheid(h)) else []
            _table_sheet(wb, name, title, h, cells, which, [*missing, *under, *noot], st)
            sheets.append((name, title))
    notes = [
        bron_reeks(pub),
        *under[1:],
        f"¹ {OVERDRACHTEN_NOOT}",
        *trendbreuk_noten(pub),
        "Een lege cel: de regio bestond in dat halfjaar niet.",
        *region_notes(pub.reeks).values(),
        *volledigheden(pub),
        *bronnen(pub),
    ]
    _series_sheet(wb, pub, notes, st)
    sheets.append(("Tijdreeks", "Tijdreeks per Veilig Thuis-regio en onderwerp, alle gepubliceerde halfjaren"))
    contents.append([titel(pub.release)])
    contents["A1"].font = st["title"]
    contents.append([ondertitel(pub.release)])
    contents.append([])
    contents.append(["Tabel", "Inhoud"])
    contents["A4"].font = contents["B4"].font = st["bold"]
    for name, title in sheets:
        contents.append([name, title])
        cell = contents.cell(contents.max_row, 1)
        cell.hyperlink = f"#'{name}'!A1"
        cell.style = "Hyperlink"
    _notes(contents, [pub.bron], st)
    contents.column_dimensions["A"].width = 24
    contents.column_dimensions["B"].width = 90
    _print_setup(contents, "")
    _text_not_formulas(wb)
    wb.save(path)
    _fix_workbook_times(path)
    return path


def _text_not_formulas(wb) -> None:
    """Every cell openpyxl took for a formula (a text starting with =) is text: the workbook computes nothing, and
    a name from reference data never becomes a live formula."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


# what a workbook says about when it was made: nothing, so two runs give the same bytes (the release's
# manifest and the publication's checksums say what it holds)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_W3CDTF = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _fix_workbook_times(path: Path) -> None:
    """openpyxl stamps docProps/core.xml and every zip entry with the time of saving: rewrite both to a fixed
    time, entries in the same order and compression."""
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = _W3CDTF.sub(rb"\g<1>1980-01-01T00:00:00Z\g<3>", data)
            entry = zipfile.ZipInfo(info.filename, FIXED_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, data)
    os.replace(tmp, path)
