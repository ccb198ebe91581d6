"""The publication as one offline HTML page for a policy reader: per half-year the tables and bar charts,
the time series (a table and a line chart per kerncijfer, for Nederland and one region), and the Toelichting
(symbols, Begrippen, rounding, sources). No scripts, styles, fonts or images from outside."""

from __future__ import annotations

import html
from pathlib import Path

from vt_warehouse.publish.cells import ROUNDING_NOTE, SYMBOLS, TOTAAL, Cel, periode_label
from vt_warehouse.publish.charts import BLUE, ORANGE, bar_chart, line_chart
from vt_warehouse.publish.measures import Maat, indicatoren, kerncijfers, maten
from vt_warehouse.publish.sources import CBS, Halfjaar, Publicatie, region_notes
from vt_warehouse.publish.text import (
    OVERDRACHTEN_NOOT,
    bron_reeks,
    bronnen,
    geheimhouding,
    inlezen,
    ondertitel,
    titel,
    trendbreuk_noten,
    volledigheden,
    volledigheid,
)

BARS = ("ontvangen_meldingen", "actieve_casussen")
STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1250px; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2em; } p.sub { margin-top: 0; color: #555; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; }
td { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
thead th { background: #eef2f7; vertical-align: bottom; font-weight: normal; max-width: 9em; }
tbody th { text-align: left; font-weight: normal; white-space: nowrap; }
tr.totaal th, tr.totaal td { font-weight: bold; background: #f6f6f6; }
tr.ontbreekt th, tr.ontbreekt td { background: #ececec; color: #555; }
p.onder { font-size: 12px; color: #444; margin-top: 0; }
figure { margin: 1em 0; } figcaption { font-size: 13px; color: #333; margin-top: 0.3em; }
.paar { display: flex; flex-wrap: wrap; gap: 12px; }
dl.tekens dt { float: left; width: 4em; font-weight: bold; } dl.tekens dd { margin-left: 4.5em; }
dl.begrippen dt { font-weight: bold; margin-top: 0.4em; }
nav ul { columns: 2; }
th.breuk, td.breuk { border-left: 3px double #222; }
p.ontbreekt { font-weight: bold; }
pre { background: #f4f4f4; padding: 0.5em; font-size: 12px; overflow-x: auto; }
"""


def _e(text: str) -> str:
    return html.escape(text)


def _cell(cel: Cel | None) -> str:
    """A table cell: the number with a space between thousands and a decimal comma, or its symbol; None is a
    cell that cannot occur (blank)."""
    return "<td></td>" if cel is None else f"<td>{_e(cel.text(' ', ','))}</td>"


def _gezegd(cel: Cel) -> str:
    """A cell in a sentence: the number, or its symbol with what it means."""
    return dict(SYMBOLS).get(cel.symbool, "") + f" ({cel.symbool})" if cel.waarde is None else cel.text(" ", ",")


def _head(m: Maat) -> str:
    return _e(m.kop) + ("<sup>1</sup>" if m.naam == "overdrachten" else "")


def _region_table(h: Halfjaar, cells: dict, which: list[Maat]) -> str:
    head = "".join(f'<th scope="col">{_head(m)}</th>' for m in which)
    body = []
    missing = {vt for vt, _ in h.ontbrekend} | ({TOTAAL} if h.ontbrekend else set())
    for vt, naam in h.regios:
        cls = " ".join(c for c, on in (("totaal", vt == TOTAAL), ("ontbreekt", vt in missing)) if on)
        cls = f' class="{cls}"' if cls else ""
        label = "Nederland" if vt == TOTAAL else naam
        body.append(
            f'<tr{cls} data-region="{vt}"><th scope="row">{_e(label)}</th>'
            + "".join(_cell(cells[(vt, m.naam)]) for m in which)
            + "</tr>"
        )
    return (
        f'<table class="regio"><thead><tr><th scope="col">Veilig Thuis-regio</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _onder(pub: Publicatie, h: Halfjaar, noot: bool) -> str:
    zin = volledigheid(h)
    missing = f'<p class="onder ontbreekt" data-ontbrekend="{len(h.ontbrekend)}">{_e(zin)}</p>' if zin else ""
    return missing + _bron_onder(pub, h, noot)


def _bron_onder(pub: Publicatie, h: Halfjaar, noot: bool) -> str:
    bits = [pub.bron if h.bron != CBS else "Bron: CBS, Beleidsinformatie Veilig Thuis."]
    if noot:
        bits.append(f"<sup>1</sup> {OVERDRACHTEN_NOOT}")
    bits.append("Verklaring van tekens: zie Toelichting.")
    return '<p class="onder">' + " ".join(b if b.startswith("<sup>") else _e(b) for b in bits) + "</p>"


def _halfjaar_section(pub: Publicatie, h: Halfjaar, figure: list[int]) -> str:
    cells = h.cellen(pub.suppress)
    label = periode_label(h.periode, h.mark)
    parts = [
        f'<section id="h-{h.periode}"><h2>Kerncijfers per Veilig Thuis-regio, {_e(label)}</h2>',
        _region_table(h, cells, kerncijfers()),
        _onder(pub, h, True),
    ]
    by_code = {m.naam: m for m in maten()}
    for naam, color in zip(BARS, (BLUE, ORANGE)):
        figure[0] += 1
        title = f"{by_code[naam].kop} per Veilig Thuis-regio, {label}"
        rows = [(vt, n, cells[(vt, naam)]) for vt, n in h.regios if vt != TOTAAL]
        parts.append(
            f"<figure>{bar_chart(title, rows, color)}<figcaption>Figuur {figure[0]}. {_e(title)} "
            f"(afgerond op vijftallen; Nederland: {_e(_gezegd(cells[(TOTAAL, naam)]))})."
            "</figcaption></figure>"
        )
    parts += [
        f"<h2>Indicatoren per Veilig Thuis-regio, {_e(label)}</h2>",
        _region_table(h, cells, indicatoren()),
        _onder(pub, h, False),
        "</section>",
    ]
    return "".join(parts)


def _breuk(pub: Publicatie, h: Halfjaar | str) -> str:
    """The class of a series column after a trendbreuk: a double line before it."""
    return ' class="breuk"' if pub.na_breuk(h) else ""


def _series_table(pub: Publicatie, vt: str) -> str:
    head = "".join(f'<th scope="col"{_breuk(pub, h)}>{_e(pub.kolom(h))}</th>' for h in pub.reeks)
    body = [
        f'<tr data-maat="{m.naam}"><th scope="row">{_head(m)}</th>'
        + "".join(_cell(pub.reeks_cel(h, vt, m.naam)).replace("<td", f"<td{_breuk(pub, h)}", 1) for h in pub.reeks)
        + "</tr>"
        for m in maten()
    ]
    return (
        f'<table class="reeks" data-region="{vt}"><thead><tr><th scope="col">Onderwerp</th>{head}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table>"
    )


def _points(pub: Publicatie, vt: str, maat: str) -> list[tuple[str, Cel | None]]:
    return [(pub.kolom(h), pub.reeks_cel(h, vt, maat)) for h in pub.reeks]


def _series_section(pub: Publicatie, figure: list[int]) -> str:
    regio = f"{pub.regio} {pub.regio_naam(pub.regio)}"
    notes = region_notes(pub.reeks)
    parts = [
        '<section id="tijdreeks"><h2>Tijdreeks</h2>',
        "<p>Elk halfjaar uit de laatste vastgestelde release die op het moment van deze publicatie bestond; "
        "het teken achter het halfjaar geeft de status (* voorlopig, ** nader voorlopig, geen teken: "
        "definitief). Bronnen per halfjaar staan in de Toelichting.</p>",
    ]
    if notes:
        parts.append(
            '<p>Gewijzigde regio\'s:</p><ul class="regiowijzigingen">'
            + "".join(f"<li>{_e(n)}</li>" for n in notes.values())
            + "</ul>"
        )
    parts += ["<h3>Nederland</h3>", _series_table(pub, TOTAAL), _onder_reeks(pub), f"<h3>{_e(regio)}</h3>"]
    if pub.regio in notes:
        parts.append(f"<p>{_e(notes[pub.regio])}</p>")
    parts += [_series_table(pub, pub.regio), _onder_reeks(pub)]
    for m in kerncijfers():
        figure[0] += 1
        breuken = [i for i, h in enumerate(pub.reeks) if pub.na_breuk(h)]
        nl = line_chart("Nederland", _points(pub, TOTAAL, m.naam), BLUE, breuken)
        rg = line_chart(regio, _points(pub, pub.regio, m.naam), ORANGE, breuken)
        parts.append(
            f'<figure data-maat="{m.naam}"><div class="paar">{nl}{rg}</div><figcaption>Figuur {figure[0]}. '
            f"{_e(m.kop)} per halfjaar, Nederland (links) en {_e(regio)} (rechts); elk met een eigen "
            "schaal.</figcaption></figure>"
        )
    parts.append("</section>")
    return "".join(parts)


def _onder_reeks(pub: Publicatie) -> str:
    breuk = "".join(f" {_e(n)}" for n in trendbreuk_noten(pub))
    return (
        f'<p class="onder">{_e(bron_reeks(pub))} <sup>1</sup> {_e(OVERDRACHTEN_NOOT)}{breuk} Een lege cel: de '
        "regio bestond in dat halfjaar niet; een punt (.): gegevens ontbreken (zie Toelichting, Volledigheid en "
        "Bronnen).</p>"
    )


def _toelichting(pub: Publicatie) -> str:
    tekens = "".join(f"<dt>{_e(s)}</dt><dd>{_e(m)}</dd>" for s, m in SYMBOLS)
    begrippen = "".join(f"<dt>{_e(m.kop)}</dt><dd>{_e(m.begrip)}</dd>" for m in maten())
    sources = "".join(f"<li>{_e(b)}</li>" for b in bronnen(pub))
    missing = volledigheden(pub)
    compleet = (
        '<ul class="volledigheid">' + "".join(f"<li>{_e(z)}</li>" for z in missing) + "</ul>"
        if missing
        else '<p class="volledigheid">Voor elk halfjaar in deze publicatie hebben alle Veilig '
        "Thuis-organisaties gegevens geleverd.</p>"
    )
    noten = "".join(f"<p>{_e(n)}</p>" for n in trendbreuk_noten(pub))
    lezen = "".join(f"<p>{_e(tool)}:</p><pre>{_e(code)}</pre>" for tool, code in inlezen(pub.release.name))
    return (
        f'<section id="toelichting"><h2>Toelichting</h2><h3>Verklaring van tekens</h3>'
        f'<dl class="tekens">{tekens}</dl><h3>Begrippen</h3><dl class="begrippen">{begrippen}</dl>'
        f"<h3>Volledigheid</h3>{compleet}"
        f"<h3>Afronding en geheimhouding</h3><p>{_e(ROUNDING_NOTE)} {_e(geheimhouding(pub.suppress))}</p>"
        f"<h3>Voetnoten</h3><p><sup>1</sup> {_e(OVERDRACHTEN_NOOT)}</p>{noten}"
        f'<h3>Bronnen</h3><ul>{sources}</ul><p class="bron">{_e(pub.bron)}</p>'
        f'<p class="inlezen">De CSV-bestanden (cijfers_{_e(pub.release.name)}.csv, '
        f"tijdreeks_{_e(pub.release.name)}.csv) "
        "zijn beschreven in CSVW, het bestand -metadata.json ernaast: periode en vt_code zijn codes (vt_naam is het "
        "label van de regio), waarde is een getal, symbool is tekst, trendbreuk waar of onwaar. Zo leest u "
        f"ze in met die typen (voor de tijdreeks alleen de bestandsnaam anders):</p>{lezen}</section>"
    )


def write(pub: Publicatie, path: Path) -> Path:
    figure = [0]
    halfjaren = "".join(_halfjaar_section(pub, h, figure) for h in pub.eigen)
    reeks = _series_section(pub, figure)
    nav = "".join(
        f'<li><a href="#h-{h.periode}">Kerncijfers en indicatoren, {_e(periode_label(h.periode, h.mark))}</a></li>'
        for h in pub.eigen
    )
    page = f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8">
<title>{_e(titel(pub.release))}</title>
<style>{STYLE}</style></head>
<body>
<h1>{_e(titel(pub.release))}</h1>
<p class="sub">{_e(ondertitel(pub.release))}</p>
<nav><ul>{nav}<li><a href="#tijdreeks">Tijdreeks</a></li><li><a href="#toelichting">Toelichting</a></li></ul></nav>
{halfjaren}
{reeks}
{_toelichting(pub)}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
