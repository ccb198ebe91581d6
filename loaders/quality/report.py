"""The two reports per delivery: kwaliteitsrapport (the rules of rules.py, run by GX) and spiegelrapport (every field
on its own, in SQL), as JSON/CSV for machines and HTML in Dutch for the organisation. Both name records by
the organisation's own numbers only."""

from __future__ import annotations

import csv
import html
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from loaders.exposures import GELDIGE_LEVERINGEN, GEMEENTECODES, LEVERINGEN
from loaders.kalender import place
from loaders.layout import Layout, code_lists
from loaders.layout_docs import format_html
from loaders.quality.findings import NIET_TE_CONTROLEREN, OVERTREDEN, bind, together_else_alone
from loaders.quality.gx_runner import RuleOutcome
from loaders.quality.rules import FOUT, RULES

MARGIN = 10.0  # percentage points
FORMAT_PAGE = "bestandsdefinitie.html"


def applies_to(con: duckdb.DuckDBPyConnection, deliveries: list[str]) -> dict[str, dict[str, int | None]]:
    """Per delivery, for every rule, the number of records it is confronted with: one query per rule for all
    deliveries. A rule whose query fails on them all is counted per delivery; where it fails still, it is None
    (that rule is reported as not run for that delivery, the others are not affected: findings.together_else_alone)."""
    out: dict[str, dict[str, int | None]] = {lid: {} for lid in deliveries}
    for rule in RULES:

        def count(batch: list[str], rule=rule) -> None:
            counts = dict(con.execute(*bind(rule.applies, batch)).fetchall())
            for lid in batch:
                out[lid][rule.id] = counts.get(lid, 0)

        for lid in together_else_alone(deliveries, count):
            out[lid][rule.id] = None
    return out


def kwaliteitsrapport(
    levering_id: str,
    outcomes: list[RuleOutcome],
    applies: dict[str, int | None],
    details: dict[str, dict] | None = None,
    levering: dict | None = None,
    correctie: dict[str, dict[str, int]] | None = None,
) -> dict:
    """The report's data. A rule that could not run has violations None and its error; the delivery then is
    neither approved nor rejected on it (`passed` is False, `not_run` names the rules). `details` are the
    findings per rule (findings.summary), `levering` the register row, `correctie` the comparison with the
    delivery this one replaces."""
    details = details or {}
    rules = []
    for o in outcomes:
        d = details.get(o.rule.id, {})
        listed = d.get(OVERTREDEN)
        if o.violations is not None and listed is not None and not d.get("error") and listed != o.violations:
            # GX and the list ran the same query: apart, neither count can be trusted with the verdict
            o = RuleOutcome(
                o.rule,
                None,
                error=f"GX counted {o.violations} violations and the list of findings "
                f"{listed}: the same query gave two answers (a processing error, not the delivery's)",
            )
        unchecked = d.get(NIET_TE_CONTROLEREN, 0)
        # "van toepassing op" is what was checked: the records confronted, less those that could not be
        checked = None if applies[o.rule.id] is None else applies[o.rule.id] - unchecked
        entry = {
            "id": o.rule.id,
            "severity": o.rule.severity,
            "description": o.rule.description,
            "violations": o.violations,
            "applies_to": checked,
            "examples": o.examples,
        }
        if o.violations is not None and checked is not None:
            entry["voldoet"] = checked - o.violations
            entry["niet_te_controleren"] = unchecked
            entry["voorbeelden"] = d.get("voorbeelden", [])
            entry["voorbeelden_niet_te_controleren"] = d.get("voorbeelden_niet_te_controleren", [])
            entry["per_veld"] = d.get("per_veld", [])
            entry["per_veld_niet_te_controleren"] = d.get("per_veld_niet_te_controleren", [])
            if d.get("error"):  # GX counted, but the list could not be made: said, never an empty list
                entry["lijst_niet_gemaakt"] = d["error"]
        if correctie is not None and o.rule.id in correctie:
            entry["correctie"] = correctie[o.rule.id]
        if o.error:
            entry["error"] = o.error
        rules.append(entry)
    not_run = [r["id"] for r in rules if r["violations"] is None]
    passed = not not_run and not any(r["violations"] for r in rules if r["severity"] == FOUT)
    report = {"delivery": levering_id, "passed": passed, "not_run": not_run, "rules": rules}
    if levering is not None:
        report["levering"] = levering
        if levering.get("ontvangen_dag") and levering.get("verslagperiode"):
            report["kalender"] = place(levering["verslagperiode"], date.fromisoformat(levering["ontvangen_dag"]))
    return report


def _decimal(v: float) -> str:
    """One decimal with a Dutch comma: 12,3."""
    return f"{v:.1f}".replace(".", ",")


def share(n: int | None, total: int | None) -> str:
    """A share for a person: one decimal with a comma, never 0,0% for a count that is not zero."""
    if n is None or not total:
        return "–"
    if n == 0:
        return "0%"
    pct = 100 * n / total
    return "<0,1%" if pct < 0.1 else f"{_decimal(pct)}%"


def _number(n: int | None) -> str:
    return "–" if n is None else f"{n:,}".replace(",", "\u202f")


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
        f'<tr><td>{_esc(_field_name(g))}</td><td class="n">{_number(g["aantal"])}</td></tr>' for g in groups
    )
    parts = [f"<table><thead><tr><th>veld</th><th>aantal</th></tr></thead><tbody>{summary}</tbody></table>"]
    for g in groups:
        shown = g.get("voorbeelden") or []
        more = g["aantal"] - len(shown)
        parts.append(
            f"<h4>{_esc(_field_name(g))}: {_number(g['aantal'])}</h4>"
            + _findings_table(shown)
            + (f'<p>... en nog {_number(more)} in <a href="{csv_name}">{csv_name}</a>.</p>' if more > 0 else "")
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
            f"<p>{_number(r['violations'])} overtreding{'en' if r['violations'] != 1 else ''}{velden}; "
            'alle in <a href="overtredingen.csv">overtredingen.csv</a>.</p>'
        )
        parts.append(_grouped(groups, "overtredingen.csv") or _findings_table(r.get("voorbeelden") or []))
    return f'<h3 id="{r["id"]}">{r["id"]} ({r["severity"]}): {_esc(r["description"])}</h3>' + "".join(parts)


def _unchecked_section(r: dict) -> str:
    groups = r.get("per_veld_niet_te_controleren") or []
    return (
        f'<h3 id="{r["id"]}-ntc">{r["id"]}: {_esc(r["description"])}</h3>'
        f"<p>{_number(r['niet_te_controleren'])} record(s) niet te controleren; alle in "
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
                f'<a href="#{r["id"]}">{r["id"]}</a> ({_number(r["violations"])} records, het eerste op regel '
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
            "".join(f'<td class="n">{_number(c[k])}</td>' for k in ("opgelost", "nog_aanwezig", "nieuw"))
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
            f'<td class="n">{_number(r["applies_to"])}</td><td class="n">{_number(r.get("voldoet"))}</td>'
            f'<td class="n">{_number(r["violations"])}</td>'
            f'<td class="n">{share(r["violations"], r["applies_to"])}</td>'
            f'<td class="n">{_number(r.get("niet_te_controleren"))}</td>{corr_cells}</tr>'
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


# -- spiegelrapport ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    recordtype: str
    veld: str
    maat: str  # aantal, gevuld, geldig, code <c>, vlag <i>
    expression: str  # an aggregate over the raw table `r` of one delivery (with its register row `l`)
    share: bool = True


def _measures(layout: Layout) -> list[Measure]:
    lists = code_lists()
    out = []
    for rt in layout.data_types:
        out.append(Measure(rt.code, "*", "aantal", "count(*)", share=False))
        for f in rt.fields:
            if f.name in ("recordtype", "vt_code"):
                continue
            if f.name == "bsn":
                out.append(Measure(rt.code, "bsn", "gevuld", "avg((r.bsn_status <> 'onbekend')::int)"))
                out.append(
                    Measure(rt.code, "bsn", "geldig", "avg((r.bsn_status in ('geldig', 'onbekend', 'ongeboren'))::int)")
                )
                continue
            col = f"r.{f.name}"
            filled = f"trim({col}) <> ''"
            out.append(Measure(rt.code, f.name, "gevuld", f"avg(({filled})::int)"))
            if f.type == "D":
                valid = (
                    f"coalesce(try_strptime(trim({col}), '%Y%m%d')::date between date '2015-01-01' "
                    "and l.periode_einde, false)"
                )
            elif f.type == "F":
                valid = f"coalesce(regexp_full_match({col}, '[01]{{{f.length}}}'), false)"
            elif f.codelijst == "GEMEENTE":
                valid = (
                    f"(trim({col}) = '9999' or exists (select 1 from {GEMEENTECODES} as g "
                    f"where g.verslagperiode = l.verslagperiode and g.gemeentecode = trim({col}) "
                    "and g.gemeente_gaaf <> '9999'))"
                )
            elif f.codelijst and f.codelijst in lists:
                codes = ", ".join(f"'{c}'" for c, _ in lists[f.codelijst])
                valid = f"trim({col}) in ({codes})"
            elif f.name == "veiligheidsscore":
                valid = (
                    f"coalesce(regexp_full_match(trim({col}), '[0-9]{{1,2}}') "
                    f"and try_cast(trim({col}) as integer) <= 10, false)"
                )
            else:
                valid = filled
            out.append(Measure(rt.code, f.name, "geldig", f"avg(case when {filled} then ({valid})::int end)"))
            if f.type == "F":
                for i in range(1, f.length + 1):
                    out.append(Measure(rt.code, f.name, f"vlag {i}", f"avg((substr({col}, {i}, 1) = '1')::int)"))
            elif f.codelijst and f.codelijst in lists and f.codelijst != "VT_ORGANISATIE":
                for c, _ in lists[f.codelijst]:
                    out.append(
                        Measure(
                            rt.code, f.name, f"code {c}", f"avg(case when {filled} then (trim({col}) = '{c}')::int end)"
                        )
                    )
    return out


def _measures_query(rt, measures: list[Measure], group: str | None) -> tuple[str, list[Measure]]:
    """The query of the measures of one record type over the records of the deliveries given as its parameter
    (a list): over them together, or one row per value of `group` (an SQL expression over the record `r` and its
    register row `l`), that value first."""
    ms = [m for m in measures if m.recordtype == rt.code]
    select = ", ".join([group] * bool(group) + [m.expression for m in ms])
    query = (
        f"select {select} from raw.{rt.entiteit} as r join {LEVERINGEN} as l "
        "on r.levering_id = l.levering_id where list_contains(?, r.levering_id)"
    )
    return query + f" group by {group}" * bool(group), ms


def _values(con, layout: Layout, lids: list[str], measures: list[Measure]) -> dict[tuple, float | None]:
    """Every measure over the records of the given deliveries together (none: no values)."""
    if not lids:
        return {}
    out = {}
    for rt in layout.data_types:
        query, ms = _measures_query(rt, measures, group=None)
        for m, v in zip(ms, con.execute(query, [lids]).fetchone()):
            out[(m.recordtype, m.veld, m.maat)] = v
    return out


def _values_each(
    con,
    layout: Layout,
    lids: list[str],
    measures: list[Measure],
    group: str = "r.levering_id",
    keys: list[str] | None = None,
) -> dict[str, dict[tuple, float | None]]:
    """_values of each group of the deliveries on its own (by default each delivery; `keys`: the groups, by default
    the deliveries), one query per record type for all of them."""
    out: dict[str, dict[tuple, float | None]] = {key: {} for key in (lids if keys is None else keys)}
    for rt in layout.data_types:
        query, ms = _measures_query(rt, measures, group)
        rows = {row[0]: row[1:] for row in con.execute(query, [lids]).fetchall()}
        # a group without records of the type has the measures of no records (counts 0, shares none)
        empty = con.execute(_measures_query(rt, measures, group=None)[0], [[]]).fetchone()
        for key, values in out.items():
            for m, v in zip(ms, rows.get(key, empty)):
                values[(m.recordtype, m.veld, m.maat)] = v
    return out


def spiegel_prefetch(con, deliveries: dict[str, Layout], cache: dict) -> None:
    """Fill a spiegelrapport cache for many deliveries at once: the figures of each, of the delivery it replaces
    and of its previous half-year, one query per record type and layout version instead of three per delivery;
    and the national figures of their half-years, one query per record type and layout version for all of them."""
    by_version: dict[str, tuple[Layout, set[str], set[str]]] = {}
    before = _previous_each(con, list(deliveries))
    for lid, layout in deliveries.items():
        earlier, previous = before[lid]
        cache[("vorige", lid)] = (earlier, previous)
        _, wanted, periods = by_version.setdefault(layout.versie, (layout, set(), set()))
        wanted.update(x for x in (lid, earlier, previous) if x)
        periods.add(_periode(lid))
    national = _national_each(con, sorted({p for _, _, periods in by_version.values() for p in periods}))
    for versie, (layout, lids, periods) in by_version.items():
        measures = _measures(layout)
        for lid, values in _values_each(con, layout, sorted(lids), measures).items():
            cache[(lid, versie)] = values
        delivered = sorted(p for p in periods if national[p])
        ids = sorted(lid for p in delivered for lid in national[p])
        figures = _values_each(con, layout, ids, measures, group="l.verslagperiode", keys=delivered) if ids else {}
        for periode in periods:
            cache[(periode, versie)] = figures.get(periode, {})  # no delivery for the half-year: no figures


def _periode(levering_id: str) -> str:
    """The half-year of a delivery id vt_code_JJJJHn_nnn."""
    return levering_id.split("_")[1]


def _national(con, verslagperiode: str) -> list[str]:
    """The latest delivery of every organisation for the half-year: together they are 'landelijk'."""
    return _national_each(con, [verslagperiode])[verslagperiode]


def _national_each(con, verslagperioden: list[str]) -> dict[str, list[str]]:
    """_national of each half-year, in one query."""
    out: dict[str, list[str]] = {p: [] for p in verslagperioden}
    for periode, lid in con.execute(
        f"select verslagperiode, levering_id from {GELDIGE_LEVERINGEN} where list_contains(?, verslagperiode) "
        "and laatste order by levering_id",
        [verslagperioden],
    ).fetchall():
        out[periode].append(lid)
    return out


def _previous_each(con, lids: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Per delivery (the previous delivery for the same half-year, the latest delivery of the previous half-year),
    in one query for all of them; the previous half-year is the register's, as in the rules (rules.PREVIOUS)."""
    rows = con.execute(
        f"""select g.levering_id, g.vervangt, p.levering_id
            from {GELDIGE_LEVERINGEN} as g join {LEVERINGEN} as l using (levering_id)
            left join {GELDIGE_LEVERINGEN} as p
                on p.vt_code = g.vt_code and p.laatste and p.verslagperiode = l.vorige_verslagperiode
            where list_contains(?, g.levering_id)""",
        [lids],
    ).fetchall()
    out: dict[str, tuple[str | None, str | None]] = {lid: (None, None) for lid in lids}
    for lid, earlier, previous in rows:
        out[lid] = (earlier, previous)
    return out


MIN_GROUP = 20  # records: a share of a smaller group is not marked (4 onderzoeken move 25 points a record)
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


def _labels(layout: Layout) -> dict[tuple[str, str, str], str]:
    """The label of every code and flag measure, from the code lists (`rol`, `code 10` -> Beroepsmatig ...)."""
    lists = code_lists()
    out = {}
    for rt in layout.data_types:
        for f in rt.fields:
            entries = dict(lists.get(f.codelijst or "", []))
            for code, label in entries.items():
                out[(rt.code, f.name, f"vlag {code}" if f.type == "F" else f"code {code}")] = label
    return out


def marking(
    this: float | None, land: float | None, last: float | None, sizes: tuple[int, int, int], margin: float = MARGIN
) -> list[str]:
    """Why a share is marked (empty: it is not): more than `margin` points from landelijk or from the previous
    half-year, each only where both groups compared (`sizes`: own, landelijk, previous half-year records)
    have at least MIN_GROUP records."""
    own_n, land_n, last_n = sizes
    reasons = []
    if this is None or own_n < MIN_GROUP:
        return reasons
    for other, n, what in ((land, land_n, "landelijk"), (last, last_n, "uw vorige halfjaar")):
        if other is not None and n >= MIN_GROUP and abs(this - other) > margin:
            side = "boven" if this > other else "onder"
            reasons.append(f"{_decimal(abs(this - other))} procentpunt {side} {what} ({_decimal(other)}%)")
    return reasons


def spiegelrapport(
    con, layout: Layout, levering_id: str, margin: float = MARGIN, national_cache: dict | None = None
) -> list[dict]:
    """The mirror report of one delivery; pass one `national_cache` dict for many deliveries, so the national
    figures of a half-year (and those spiegel_prefetch fetched for many deliveries at once) are computed once.
    A share is marked when it differs more than `margin` points from landelijk or from the previous half-year,
    and only where both groups compared have MIN_GROUP records."""
    measures = _measures(layout)
    labels = _labels(layout)
    cache = national_cache if national_cache is not None else {}
    earlier, previous = cache.get(("vorige", levering_id)) or _previous_each(con, [levering_id])[levering_id]

    def values(lid: str | None) -> dict:
        if not lid:
            return {}
        if (lid, layout.versie) not in cache:
            cache[(lid, layout.versie)] = _values(con, layout, [lid], measures)
        return cache[(lid, layout.versie)]

    own, before, prev = values(levering_id), values(earlier), values(previous)
    periode = _periode(levering_id)
    if (periode, layout.versie) not in cache:
        cache[(periode, layout.versie)] = _values(con, layout, _national(con, periode), measures)
    national = cache[(periode, layout.versie)]

    def pct(v):
        return None if v is None else round(100 * v, 1)

    rows = []
    for m in measures:
        key = (m.recordtype, m.veld, m.maat)
        value = own.get(key)
        size = (m.recordtype, "*", "aantal")
        if m.share:
            this, land, last = pct(value), pct(national.get(key)), pct(prev.get(key))
            reasons = marking(
                this, land, last, (own.get(size) or 0, national.get(size) or 0, prev.get(size) or 0), margin
            )
            rows.append(
                {
                    "recordtype": m.recordtype,
                    "veld": m.veld,
                    "maat": m.maat,
                    "label": labels.get(key, ""),
                    "deze_levering": this,
                    "vorige_levering": pct(before.get(key)) if earlier else None,
                    "landelijk": land,
                    "vorig_halfjaar": last,
                    "afwijkend": "J" if reasons else "N",
                    "reden": "; ".join(reasons),
                }
            )
        else:
            rows.append(
                {
                    "recordtype": m.recordtype,
                    "veld": m.veld,
                    "maat": m.maat,
                    "label": "",
                    "deze_levering": value,
                    "vorige_levering": before.get(key),
                    "landelijk": national.get(key),
                    "vorig_halfjaar": prev.get(key),
                    "afwijkend": "N",
                    "reden": "",
                }
            )
    return rows


SPIEGEL_COLUMNS = [
    "recordtype",
    "veld",
    "maat",
    "deze_levering",
    "vorige_levering",
    "landelijk",
    "vorig_halfjaar",
    "afwijkend",
    "label",
    "reden",
]


def write_spiegel_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, SPIEGEL_COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in SPIEGEL_COLUMNS})


def _maat(r: dict) -> str:
    """The measure for a person: 'gevuld', 'code 10: Beroepsmatig betrokken', 'vlag 1: Kindermishandeling'."""
    maat = {"aantal": "aantal records"}.get(r["maat"], r["maat"])
    return f"{maat}: {r['label']}" if r.get("label") else maat


def _cell(v, is_share: bool) -> str:
    if v is None:
        return "–"
    if is_share:
        return f"{_decimal(v)}%"
    return _number(int(v))


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


def write_reports(out: Path, report: dict, spiegel: list[dict], organisatie: str) -> Path:
    folder = out / report["delivery"]
    folder.mkdir(parents=True, exist_ok=True)
    # the delivery format the report links to, beside it (the folder is what an organisation downloads)
    (folder / FORMAT_PAGE).write_text(format_html(), encoding="utf-8")
    (folder / "kwaliteitsrapport.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "kwaliteitsrapport.html").write_text(kwaliteitsrapport_html(report, organisatie), encoding="utf-8")
    write_spiegel_csv(folder / "spiegelrapport.csv", spiegel)
    (folder / "spiegelrapport.html").write_text(
        spiegelrapport_html(report["delivery"], organisatie, spiegel, levering=report.get("levering")), encoding="utf-8"
    )
    return folder
