"""Publication: the kerncijfers and indicators of a release as CSV, one Excel workbook and one offline HTML
page, with CBS rounding, optional small-cell suppression and CBS symbols (publicatie.md).

The arithmetic (rounding, suppression, percentages, period labels) is pure and tested on its own; the
writers take plain rows. Only `release_tables` reads the database or a frozen release's files.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import zipfile
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb

from loaders.exposures import publicatie
from loaders.warehouse import Warehouse

KERNCIJFERS = [
    "gestarte_adviezen", "ontvangen_meldingen", "actieve_casussen", "gestarte_casussen", "gesloten_casussen",
    "actieve_onderzoeken", "gestarte_onderzoeken", "gesloten_onderzoeken", "actieve_vv", "gestarte_vv",
    "gesloten_vv", "overdrachten",
]
INDICATOREN = [
    "adviezen_beroepsmatig_pct", "adviezen_kindermishandeling_pct", "adviezen_conflictscheiding_pct",
    "meldingen_politie_justitie_pct", "meldingen_partnergeweld_pct", "meldingen_eergerelateerd_pct",
    "meldingen_overdracht_pct", "meldingen_acute_onveiligheid_pct", "onderzoeken_km_bevestigd_pct",
    "overdrachten_jeugd_pct",
]
SUPPRESSED = "."  # a suppressed cell, or one without data
SYMBOLS = [
    (".", "gegevens ontbreken of geheim (onderdrukt: minder dan de drempel)"),
    ("*", "voorlopige cijfers"),
    ("**", "nader voorlopige cijfers"),
    ("(leeg)", "een cijfer kan op logische gronden niet voorkomen"),
]
ROUNDING_NOTE = ("Aantallen zijn afgerond op vijftallen; totalen zijn zelfstandig afgerond en kunnen afwijken van "
                 "de som van de regio's. Percentages zijn berekend uit onafgeronde aantallen.")


def round5(value: int | float | Decimal) -> int:
    """To the nearest multiple of 5, halves upward (2.5 -> 5, 7.5 -> 10)."""
    return int((Decimal(value) / 5).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 5)


def count_cell(value: int, suppress: int = 0) -> str:
    """A published count: rounded, or '.' when below the suppression threshold (before rounding)."""
    return SUPPRESSED if suppress and value < suppress else str(round5(value))


def pct_cell(teller: int, noemer: int, suppress: int = 0) -> str:
    """A published percentage with one decimal, from unrounded counts; '.' without data or when suppressed."""
    if noemer == 0 or (suppress and noemer < suppress):
        return SUPPRESSED
    pct = (Decimal(100) * teller / noemer).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{pct:.1f}"


def periode_label(periode: str, mark: str) -> str:
    """'2019H1' -> '1e halfjaar van 2019' plus the release's mark (* voorlopig, ** nader voorlopig)."""
    return f"{periode[5]}e halfjaar van {periode[:4]}{mark}"


@dataclass
class Tables:
    release: str
    mark: str
    # periode -> rows (dicts) in publication order: regions by code, NL last
    kerncijfers: dict[str, list[dict]]
    indicatoren: dict[str, list[dict]]  # periode -> rows: vt_code, vt_naam, and per indicator (teller, noemer)


class PublishError(Exception):
    """A release cannot be published; the message says why."""


def release_tables(warehouse: Warehouse, release: str, mark: str) -> Tables:
    """What a release's publication is made from: for a frozen release its frozen kerncijfers and indicatoren
    files, after the whole release folder was verified against its manifest (a release that differs is not
    published); otherwise the warehouse's tables of its last build."""
    from loaders.release import MANIFEST, PUBLICATION_TABLES, frozen_manifest, releases_dir, verify_release

    manifest = frozen_manifest(warehouse, release)
    if manifest is None:
        with duckdb.connect(str(warehouse.database), read_only=True) as con:
            return _read_tables(con, f'"{publicatie("kerncijfers", release)}"', f'"{publicatie("indicatoren", release)}"',
                                release, mark)
    folder = releases_dir(warehouse) / release
    listed = {f["name"]: f for f in manifest["files"]}
    paths = []
    for table in PUBLICATION_TABLES:
        name = f"{table}_{release}.parquet"
        if name not in listed:
            raise PublishError(f"release {release} was frozen without {name} (by an older version of vt): its "
                               "publication cannot be made from its frozen files")
        paths.append(str(folder / name))
    problems = verify_release(folder)
    if problems:
        raise PublishError(f"release {release} differs from its {MANIFEST} ({'; '.join(problems)}): not published; "
                           f"restore {folder} from a backup (`vt verify {release}` checks it)")
    with duckdb.connect() as con:
        return _read_tables(con, "read_parquet(?)", "read_parquet(?)", release, mark, paths)


def _read_tables(con, kern: str, ind: str, release: str, mark: str, params: list | None = None) -> Tables:
    rows = con.execute(f"select * from {kern} order by verslagperiode, vt_code = 'NL', vt_code",
                       params[:1] if params else None).fetchall()
    cols = [d[0] for d in con.description]
    ind = con.execute(f"select verslagperiode, vt_code, indicator, teller, noemer from {ind}",
                      params[1:] if params else None).fetchall()
    kern: dict[str, list[dict]] = {}
    for row in rows:
        r = dict(zip(cols, row))
        kern.setdefault(r["verslagperiode"], []).append(r)
    by_key = {(p, vt, i): (t, n) for p, vt, i, t, n in ind}
    indicatoren: dict[str, list[dict]] = {}
    for periode, regions in kern.items():
        for r in regions:
            entry = {"vt_code": r["vt_code"], "vt_naam": r["vt_naam"]}
            for i in INDICATOREN:
                entry[i] = by_key.get((periode, r["vt_code"], i), (0, 0))
            indicatoren.setdefault(periode, []).append(entry)
    return Tables(release, mark, kern, indicatoren)


def kerncijfers_rows(tables: Tables, periode: str, suppress: int = 0, rounded: bool = True) -> list[list[str]]:
    label = periode + tables.mark
    out = []
    for r in tables.kerncijfers[periode]:
        values = [count_cell(r[c], suppress) if rounded else str(r[c]) for c in KERNCIJFERS]
        out.append([label, r["vt_code"], r["vt_naam"], *values])
    return out


def indicatoren_rows(tables: Tables, periode: str, suppress: int = 0) -> list[list[str]]:
    label = periode + tables.mark
    return [[label, r["vt_code"], r["vt_naam"], *(pct_cell(*r[i], suppress) for i in INDICATOREN)]
            for r in tables.indicatoren[periode]]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def publish(tables: Tables, out: Path, suppress: int = 0, unrounded: bool = False) -> list[Path]:
    """Write every publication file of the release into `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for periode in sorted(tables.kerncijfers):
        path = out / f"kerncijfers_{periode}.csv"
        write_csv(path, ["periode", "vt_code", "vt_naam", *KERNCIJFERS], kerncijfers_rows(tables, periode, suppress))
        written.append(path)
        path = out / f"indicatoren_{periode}.csv"
        write_csv(path, ["periode", "vt_code", "vt_naam", *INDICATOREN], indicatoren_rows(tables, periode, suppress))
        written.append(path)
        if unrounded:
            path = out / f"kerncijfers_{periode}_onafgerond.csv"
            write_csv(path, ["periode", "vt_code", "vt_naam", *KERNCIJFERS],
                      kerncijfers_rows(tables, periode, rounded=False))
            written.append(path)
    written.append(write_workbook(tables, out / f"tabellen_{tables.release}.xlsx", suppress))
    written.append(write_html(tables, out / f"publicatie_{tables.release}.html", suppress))
    written.append(write_manifest(out, tables.release, written))
    return written


def write_manifest(out: Path, release: str, written: list[Path]) -> Path:
    """manifest.json: every file of the publication with its sha256 (`vt verify` checks a published release)."""
    from loaders.release import MANIFEST, sha256_file

    path = out / MANIFEST
    files = [{"name": p.name, "sha256": sha256_file(p)} for p in written]
    path.write_text(json.dumps({"release": release, "files": files}, indent=2) + "\n", encoding="utf-8")
    return path


def _title(kind: str, periode: str, mark: str) -> str:
    return f"{kind} per Veilig Thuis-regio, {periode_label(periode, mark)}"


def write_workbook(tables: Tables, path: Path, suppress: int = 0) -> Path:
    """One workbook in the style of the CBS tabellenbijlage: a sheet per table and half-year."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    for periode in sorted(tables.kerncijfers):
        for kind, header, rows in (
            ("Kerncijfers", KERNCIJFERS, kerncijfers_rows(tables, periode, suppress)),
            ("Indicatoren", INDICATOREN, indicatoren_rows(tables, periode, suppress)),
        ):
            ws = wb.create_sheet(f"{kind} {periode}")
            ws.append([_title(kind, periode, tables.mark)])
            ws["A1"].font = Font(bold=True, size=12)
            ws.append([])
            ws.append(["Veilig Thuis-regio", "code", *header])
            for cell in ws[3]:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            for row in rows:
                values = [row[2], row[1], *(int(v) if v.lstrip("-").isdigit() else
                                            (float(v) if _is_number(v) else v) for v in row[3:])]
                ws.append(values)
            ws[ws.max_row][0].font = Font(bold=True)  # the NL total
            ws.append([])
            ws.append(["Verklaring van tekens"])
            for symbol, meaning in SYMBOLS:
                ws.append([symbol, meaning])
            ws.append([])
            ws.append([ROUNDING_NOTE])
            ws.append([f"Bron: Beleidsinformatie Veilig Thuis, microdata release {tables.release}."])
            ws.column_dimensions["A"].width = 28
    wb.save(path)
    _fix_workbook_times(path)
    return path


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


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


CHART_SERIES = [("ontvangen_meldingen", "#1f6fb4"), ("actieve_casussen", "#e07b14")]


def _chart_svg(rows: list[dict], suppress: int) -> str:
    """A horizontal grouped bar chart of two kerncijfers per region, as inline SVG (no scripts, no fonts)."""
    regions = [r for r in rows if r["vt_code"] != "NL"]
    top = max([round5(r[c]) for r in regions for c, _ in CHART_SERIES] + [1])
    label_w, bar_w, row_h = 190, 460, 26
    height = 40 + row_h * len(regions)
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 80}" '
             f'height="{height}" role="img" aria-label="Meldingen en actieve casussen per Veilig Thuis-regio">']
    for k, (series, color) in enumerate(CHART_SERIES):
        parts.append(f'<rect x="{label_w + k * 200}" y="6" width="12" height="12" fill="{color}"/>'
                     f'<text x="{label_w + 18 + k * 200}" y="17" font-size="12">{series.replace("_", " ")}</text>')
    for i, r in enumerate(regions):
        y = 30 + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" font-size="11" text-anchor="end">'
                     f'{html.escape(r["vt_naam"])}</text>')
        for k, (series, color) in enumerate(CHART_SERIES):
            value = r[series]
            shown = 0 if suppress and value < suppress else round5(value)
            width = bar_w * shown / top
            parts.append(f'<rect class="bar" data-series="{series}" data-region="{r["vt_code"]}" x="{label_w}" '
                         f'y="{y + k * 10}" width="{width:.1f}" height="9" fill="{color}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h.replace('_', ' '))}</th>" for h in ["Veilig Thuis-regio", *header])
    body = []
    for row in rows:
        cls = ' class="totaal"' if row[1] == "NL" else ""
        cells = "".join(f"<td>{html.escape(v)}</td>" for v in row[3:])
        body.append(f"<tr{cls}><th scope=\"row\">{html.escape(row[2])}</th>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_html(tables: Tables, path: Path, suppress: int = 0) -> Path:
    """One self-contained page: no external scripts, styles or fonts, so it reads offline."""
    sections = []
    for periode in sorted(tables.kerncijfers):
        sections.append(
            f"<section><h2>{html.escape(_title('Kerncijfers', periode, tables.mark))}</h2>"
            f"{_html_table(KERNCIJFERS, kerncijfers_rows(tables, periode, suppress))}"
            f"<h3>Meldingen en actieve casussen per regio</h3>{_chart_svg(tables.kerncijfers[periode], suppress)}"
            f"<h2>{html.escape(_title('Indicatoren', periode, tables.mark))}</h2>"
            f"{_html_table(INDICATOREN, indicatoren_rows(tables, periode, suppress))}</section>"
        )
    symbols = "".join(f"<li><b>{html.escape(s)}</b> {html.escape(m)}</li>" for s, m in SYMBOLS)
    page = f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<title>Beleidsinformatie Veilig Thuis, release {tables.release}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 13px; }}
th, td {{ border: 1px solid #bbb; padding: 3px 6px; }}
td {{ text-align: right; }}
thead th {{ background: #eef2f7; vertical-align: bottom; }}
tbody th {{ text-align: left; font-weight: normal; }}
tr.totaal th, tr.totaal td {{ font-weight: bold; background: #f6f6f6; }}
</style></head>
<body>
<h1>Beleidsinformatie Veilig Thuis, release {tables.release}</h1>
{''.join(sections)}
<h2>Verklaring van tekens</h2><ul>{symbols}</ul>
<p>{html.escape(ROUNDING_NOTE)}</p>
<p>Bron: Beleidsinformatie Veilig Thuis, microdata release {tables.release}.</p>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
