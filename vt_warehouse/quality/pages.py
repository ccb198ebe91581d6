"""The two reports as HTML in Dutch for the organisation; records are named by its own numbers only."""

from __future__ import annotations

import html

from vt_warehouse.quality.rules import FOUT
from vt_warehouse.quality.spiegel import MARGIN, MIN_GROUP
from vt_warehouse.quality.text import decimal, number, share


def _esc(v) -> str:
    return "" if v is None else html.escape(str(v))


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; max-width: 70em; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 1em 0; }}
th, td {{ border: 1px solid #bbb; padding: 3px 6px; vertical-align: top; }}
th {{ background: #eef2f7; text-align: left; }}
td.n {{ text-align: right; }}
.fout {{ color: #a40000; font-weight: bold; }}
.oordeel {{ font-size: 1.3em; }}
table.feiten th {{ width: 16em; }}
table.bevindingen td {{ font-size: 12px; }}
h3 {{ margin-top: 1.5em; }}
dt {{ font-weight: bold; margin-top: .4em; }}
.ok {{ color: #1d6b1d; font-weight: bold; }}
tr.afwijkend td {{ background: #fff1d6; }}
</style></head><body>{body}</body></html>
"""


FINDING_HEADERS = (
    ("regelnummer", "regel in het bestand"),
    ("recordtype", "recordtype"),
    ("nummer", "uw nummer"),
    ("veld", "veld(en)"),
    ("waarde", "geleverde waarde"),
    ("verwacht", "verwacht"),
    ("toelichting", "toelichting"),
)


def _findings_table(rows: list[dict]) -> str:
    head = "".join(f"<th>{label}</th>" for _, label in FINDING_HEADERS)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{_esc(r.get(k) if r.get(k) is not None else '–')}</td>" for k, _ in FINDING_HEADERS)
        + "</tr>"
        for r in rows
    )
    return f'<table class="bevindingen"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _field_name(group: dict) -> str:
    return ".".join(x for x in (group.get("recordtype"), group.get("veld")) if x) or "(het bestand)"


def _grouped(groups: list[dict], csv_name: str) -> str:
    """Findings grouped by field: a count per field, then per field its first examples."""
    if not groups:
        return ""
    summary = "".join(
        f'<tr><td>{_esc(_field_name(g))}</td><td class="n">{number(g["aantal"])}</td></tr>' for g in groups
    )
    parts = [f"<table><thead><tr><th>veld</th><th>aantal</th></tr></thead><tbody>{summary}</tbody></table>"]
    for g in groups:
        shown = g.get("voorbeelden") or []
        more = g["aantal"] - len(shown)
        parts.append(
            f"<h4>{_esc(_field_name(g))}: {number(g['aantal'])}</h4>"
            + _findings_table(shown)
            + (f'<p>... en nog {number(more)} in <a href="{csv_name}">{csv_name}</a>.</p>' if more > 0 else "")
        )
    return "".join(parts)


def _violations_section(r: dict) -> str:
    parts = []
    if r.get("lijst_niet_gemaakt"):
        parts.append(
            f'<p class="fout">De lijst van deze regel kon niet worden gemaakt (een fout in de verwerking, '
            f"niet in uw levering): {_esc(r['lijst_niet_gemaakt'])}</p>"
        )
    if r["violations"]:
        groups = r.get("per_veld") or []
        velden = f" in {len(groups)} veld{'en' if len(groups) != 1 else ''}" if groups else ""
        parts.append(
            f"<p>{number(r['violations'])} overtreding{'en' if r['violations'] != 1 else ''}{velden}; "
            'alle in <a href="overtredingen.csv">overtredingen.csv</a>.</p>'
        )
        parts.append(_grouped(groups, "overtredingen.csv") or _findings_table(r.get("voorbeelden") or []))
    return f'<h3 id="{r["id"]}">{r["id"]} ({r["severity"]}): {_esc(r["description"])}</h3>' + "".join(parts)


def _unchecked_section(r: dict) -> str:
    groups = r.get("per_veld_niet_te_controleren") or []
    return (
        f'<h3 id="{r["id"]}-ntc">{r["id"]}: {_esc(r["description"])}</h3>'
        f"<p>{number(r['niet_te_controleren'])} record(s) niet te controleren; alle in "
        '<a href="niet_te_controleren.csv">niet_te_controleren.csv</a>.</p>'
        + (
            _grouped(groups, "niet_te_controleren.csv")
            or _findings_table(r.get("voorbeelden_niet_te_controleren") or [])
        )
    )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def _calendar_html(report: dict) -> str:
    """The delivery's place in the release calendar, in one sentence."""
    place = report.get("kalender")
    if not place:
        return ""
    late = [f"{x['release']} (peildatum {_dutch_date(x['peildatum'])})" for x in place["te_laat"]]
    if place["telt_mee"]:
        text = (
            f"Deze levering telt mee in {_and(place['telt_mee'])} (tenzij een latere correctie vóór de peildatum "
            "binnenkomt)" + (f"; te laat voor {_and(late)}" if late else "") + "."
        )
    else:
        text = (
            f"Deze levering telt in geen enkele release mee: zij kwam na de peildatum van {_and(late)}. Zij is wel "
            "beoordeeld, zodat u een volgende levering kunt verbeteren."
        )
    return f'<p class="kalender">{_esc(text)}</p>'


def _dutch_date(iso: str) -> str:
    return f"{iso[8:10]}-{iso[5:7]}-{iso[:4]}"


def kwaliteitsrapport_html(report: dict, organisatie: str) -> str:
    rules = report["rules"]
    broken = [r for r in rules if r["violations"]]
    fout = [r for r in broken if r["severity"] == FOUT]
    warn = [r for r in broken if r["severity"] != FOUT]
    not_run = report.get("not_run") or []
    if fout:
        verdict = (
            f'<p class="oordeel fout">Oordeel: afgekeurd. {len(fout)} foutregel{"s" if len(fout) != 1 else ""} '
            f"overtreden: {', '.join(r['id'] for r in fout)}. Wij vragen u een correctielevering te sturen.</p>"
        )
    elif not_run:
        verdict = '<p class="oordeel">Oordeel: nog niet beoordeeld.</p>'
    else:
        verdict = '<p class="oordeel ok">Oordeel: goedgekeurd. Geen enkele foutregel is overtreden.</p>'
    verdict += (
        f"<p>{len(fout)} foutregels en {len(warn)} waarschuwingen overtreden"
        + (f" (waarschuwingen: {', '.join(r['id'] for r in warn)})" if warn else "")
        + ".</p>"
    )
    if fout:
        verdict += (
            "<p>Begin bij: "
            + "; ".join(
                f'<a href="#{r["id"]}">{r["id"]}</a> ({number(r["violations"])} records, het eerste op regel '
                f"{_esc((r.get('voorbeelden') or [{}])[0].get('regelnummer', '–'))})"
                for r in fout
            )
            + ".</p>"
        )
    if not_run:
        verdict += (
            f'<p class="fout">De regels {", ".join(not_run)} konden niet worden uitgevoerd door een fout in '
            "de verwerking, niet in uw levering; de levering is daarop nog niet beoordeeld. Wij sturen een "
            "nieuw rapport zodra dat is hersteld.</p>"
        )
    lev = report.get("levering") or {}
    facts = [
        ("Bestand", lev.get("bestandsnaam")),
        ("Verslagperiode", lev.get("verslagperiode")),
        ("Leveringsnummer", lev.get("leveringsnummer")),
        ("Ontvangen op", lev.get("ontvangen_op")),
        ("Aangemaakt op (VL-record)", lev.get("aanmaakdatum")),
        ("Versie bestandsdefinitie", lev.get("versie_bestandsdefinitie")),
        ("Controlegetal (SHA-256)", lev.get("checksum_sha256")),
        ("Vervangt levering", lev.get("vervangt") or "geen (eerste levering voor dit halfjaar)"),
    ]
    facts_html = (
        '<table class="feiten">'
        + "".join(f"<tr><th>{k}</th><td>{_esc(v if v is not None else '–')}</td></tr>" for k, v in facts)
        + "</table>"
    )
    uitleg = (
        "<h2>Hoe leest u dit rapport</h2><ul>"
        "<li><b>fout</b>: een foutregel. Eén overtreding is genoeg om de levering af te keuren.</li>"
        "<li><b>waarschuwing</b>: iets dat zelden klopt; kijk of het juist is. Een levering wordt er niet op "
        "afgekeurd.</li>"
        "<li><b>voldoet / overtreden / niet te controleren</b>: elke regel wordt op elk record toegepast. Niet te "
        "controleren is een record waarvoor een record nodig is uit een halfjaar dat wij niet van u hebben "
        "(bijvoorbeeld een casus die voor uw eerste ontvangen halfjaar begon). Dat telt niet als overtreding.</li>"
        "<li><b>regel in het bestand</b>: het regelnummer in het bestand dat u leverde (het VL-record is regel 1).</li>"
        "</ul><h2>Een correctie sturen</h2><p>Stuur het hele bestand opnieuw, met alle records van het halfjaar, "
        "en een hoger leveringsnummer in het VL-record (002, 003, ...). De laatst ontvangen levering vervangt de "
        'eerdere volledig. Alle overtredingen staan in <a href="overtredingen.csv">overtredingen.csv</a>, de niet '
        'te controleren records in <a href="niet_te_controleren.csv">niet_te_controleren.csv</a>. Elk veld, met zijn '
        'posities en codes, staat in de <a href="bestandsdefinitie.html">bestandsdefinitie</a>.</p>'
    )
    corr = any("correctie" in r for r in rules)
    head = (
        "<th>regel</th><th>ernst</th><th>omschrijving</th><th>van toepassing op</th><th>voldoet</th>"
        "<th>overtreden</th><th>aandeel overtreden</th><th>niet te controleren</th>"
        + ("<th>opgelost t.o.v. vorige levering</th><th>nog aanwezig</th><th>nieuw</th>" if corr else "")
    )
    rows = []
    for r in rules:
        if r["violations"] is None:
            rows.append(
                f'<tr><td class="fout">{r["id"]}</td><td>{r["severity"]}</td>'
                f'<td>{_esc(r["description"])}</td><td colspan="{8 if corr else 5}">niet uitgevoerd: '
                f"{_esc(r.get('error') or '')}</td></tr>"
            )
            continue
        cls = ' class="fout"' if r["severity"] == FOUT and r["violations"] else ""
        c = r.get("correctie")
        corr_cells = (
            "".join(f'<td class="n">{number(c[k])}</td>' for k in ("opgelost", "nog_aanwezig", "nieuw"))
            if c
            else ("<td></td><td></td><td></td>" if corr else "")
        )
        anchor = (
            r["id"]
            if r["violations"] or r.get("lijst_niet_gemaakt")
            else f"{r['id']}-ntc"
            if r.get("niet_te_controleren")
            else None
        )
        link = f'<a href="#{anchor}">{r["id"]}</a>' if anchor else r["id"]
        rows.append(
            f"<tr><td{cls}>{link}</td><td>{r['severity']}</td><td>{_esc(r['description'])}</td>"
            f'<td class="n">{number(r["applies_to"])}</td><td class="n">{number(r.get("voldoet"))}</td>'
            f'<td class="n">{number(r["violations"])}</td>'
            f'<td class="n">{share(r["violations"], r["applies_to"])}</td>'
            f'<td class="n">{number(r.get("niet_te_controleren"))}</td>{corr_cells}</tr>'
        )
    # what to fix first: the fout rules, then the warnings, then what could not be checked
    fout_html = "".join(
        _violations_section(r)
        for r in rules
        if r["severity"] == FOUT and (r["violations"] or r.get("lijst_niet_gemaakt"))
    )
    warn_html = "".join(
        _violations_section(r)
        for r in rules
        if r["severity"] != FOUT and (r["violations"] or r.get("lijst_niet_gemaakt"))
    )
    ntc_html = "".join(_unchecked_section(r) for r in rules if r.get("niet_te_controleren"))
    body = (
        f"<h1>Kwaliteitsrapport levering {report['delivery']}</h1>"
        f"<p>Aan: Veilig Thuis {html.escape(organisatie)}</p>{verdict}{_calendar_html(report)}{facts_html}"
        f"<h2>Fouten</h2>{fout_html or '<p>Geen: geen enkele foutregel is overtreden.</p>'}"
        f"<h2>Waarschuwingen</h2>{warn_html or '<p>Geen.</p>'}"
        f"<h2>Niet te controleren</h2>{ntc_html or '<p>Geen: elk record kon worden gecontroleerd.</p>'}"
        "<h2>Alle regels</h2>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{uitleg}"
    )
    return _page(f"Kwaliteitsrapport {report['delivery']}", body)


RECORDTYPES = {
    "CA": "Casussen",
    "AD": "Adviezen",
    "ME": "Meldingen",
    "VB": "Veiligheidsbeoordelingen",
    "VV": "Voorwaarden en Vervolg",
    "ON": "Onderzoeken",
    "OV": "Overdrachten",
    "MO": "Monitoringsmomenten",
    "BT": "Directbetrokkenen",
}


def _maat(r: dict) -> str:
    """The measure for a person: 'gevuld', 'code 10: Beroepsmatig betrokken', 'vlag 1: Kindermishandeling'."""
    maat = {"aantal": "aantal records"}.get(r["maat"], r["maat"])
    return f"{maat}: {r['label']}" if r.get("label") else maat


def _cell(v, is_share: bool) -> str:
    if v is None:
        return "–"
    if is_share:
        return f"{decimal(v)}%"
    return number(int(v))


def spiegelrapport_html(
    levering_id: str, organisatie: str, rows: list[dict], margin: float = MARGIN, levering: dict | None = None
) -> str:
    marked = [r for r in rows if r["afwijkend"] == "J"]
    has_before = any(r["vorige_levering"] is not None for r in rows)
    has_last = any(r["vorig_halfjaar"] is not None for r in rows)
    lev = levering or {}
    intro = (
        f"<h1>Spiegelrapport levering {levering_id}</h1><p>Aan: Veilig Thuis {html.escape(organisatie)}</p>"
        f"<p>Bestand {_esc(lev.get('bestandsnaam') or levering_id)}, ontvangen op "
        f"{_esc(lev.get('ontvangen_op') or '–')}, controlegetal (SHA-256) {_esc(lev.get('checksum_sha256') or '–')}."
        "</p><p>Dit rapport spiegelt elk veld van uw levering: per recordtype het aantal records en per veld "
        "het aandeel gevuld, het aandeel geldig en de verdeling over de codes, naast dezelfde cijfers van "
        "alle organisaties samen en van uw vorige halfjaar. Zo ziet u wat in uw levering anders is dan "
        "verwacht.</p>"
    )
    legend = (
        "<h2>Legenda</h2><dl>"
        "<dt>maat</dt><dd><i>aantal records</i>; <i>gevuld</i>: aandeel records waarin het veld niet leeg is; "
        "<i>geldig</i>: aandeel van de gevulde waarden dat aan de regels van de bestandsdefinitie voldoet; "
        "<i>code c</i>: aandeel van de gevulde waarden met code c; <i>vlag i</i>: aandeel records met een 1 op "
        "positie i.</dd>"
        "<dt>deze levering</dt><dd>uw cijfer in dit bestand.</dd>"
        "<dt>vorige levering</dt><dd>uw vorige levering voor hetzelfde halfjaar, die deze vervangt"
        + ("" if has_before else " (leeg: dit is uw eerste levering voor dit halfjaar)")
        + ".</dd>"
        "<dt>landelijk</dt><dd>de geldige leveringen van alle organisaties voor dit halfjaar samen.</dd>"
        "<dt>vorig halfjaar</dt><dd>uw geldige levering van het vorige halfjaar"
        + ("" if has_last else " (leeg: wij hebben die levering niet)")
        + ".</dd>"
        f"<dt>afwijkend</dt><dd>een aandeel dat meer dan {margin:g} procentpunt verschilt van landelijk of van uw "
        f"vorige halfjaar; niet gemarkeerd waar een van beide groepen minder dan {MIN_GROUP} records heeft.</dd>"
        "<dt>–</dt><dd>geen cijfer (geen records of geen vergelijking).</dd></dl>"
    )
    head = (
        "<tr><th>veld</th><th>maat</th><th>deze levering</th><th>vorige levering</th><th>landelijk</th>"
        "<th>vorig halfjaar</th></tr>"
    )

    def row(r: dict, with_reason: bool = False, previous: dict | None = None) -> str:
        is_share = r["maat"] != "aantal"
        cls = ' class="afwijkend"' if r["afwijkend"] == "J" else ""
        cells = "".join(
            f'<td class="n">{_cell(r[k], is_share)}</td>'
            for k in ("deze_levering", "vorige_levering", "landelijk", "vorig_halfjaar")
        )
        # a field is named once, on its first row
        same = previous is not None and previous["veld"] == r["veld"] and not with_reason
        veld = "" if r["veld"] == "*" or same else r["veld"]
        first = f"<td>{_esc(RECORDTYPES.get(r['recordtype'], r['recordtype']))}</td>" if with_reason else ""
        reason = f"<td>{_esc(r['reden'])}</td>" if with_reason else ""
        return f"<tr{cls}>{first}<td>{_esc(veld)}</td><td>{_esc(_maat(r))}</td>{cells}{reason}</tr>"

    if marked:
        top = (
            f"<h2>Afwijkingen ({len(marked)})</h2><p>Deze aandelen verschillen meer dan {margin:g} procentpunt van "
            "landelijk of van uw vorige halfjaar. Kijk of uw registratie of uw levering hier klopt.</p>"
            "<table><thead><tr><th>recordtype</th><th>veld</th><th>maat</th><th>deze levering</th>"
            "<th>vorige levering</th><th>landelijk</th><th>vorig halfjaar</th><th>reden</th></tr></thead><tbody>"
            + "".join(row(r, True) for r in marked)
            + "</tbody></table>"
        )
    else:
        top = f"<h2>Afwijkingen</h2><p>Geen aandeel verschilt meer dan {margin:g} procentpunt.</p>"
    groups = []
    for code in dict.fromkeys(r["recordtype"] for r in rows):
        part = [r for r in rows if r["recordtype"] == code]
        groups.append(
            f'<h2 id="{code}">{_esc(RECORDTYPES.get(code, code))} ({code})</h2>'
            f"<table><thead>{head}</thead><tbody>"
            + "".join(row(r, previous=p) for r, p in zip(part, [None, *part]))
            + "</tbody></table>"
        )
    toc = (
        "<p>Per recordtype: "
        + ", ".join(
            f'<a href="#{c}">{_esc(RECORDTYPES.get(c, c))}</a>' for c in dict.fromkeys(r["recordtype"] for r in rows)
        )
        + ".</p>"
    )
    return _page(f"Spiegelrapport {levering_id}", intro + top + legend + toc + "".join(groups))
