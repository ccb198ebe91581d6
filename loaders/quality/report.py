"""The two reports per delivery: kwaliteitsrapport (rules KR01-KR22, run by GX) and spiegelrapport (every field
on its own, in SQL), as JSON/CSV for machines and HTML in Dutch for the organisation. Both name records by
the organisation's own numbers only."""

from __future__ import annotations

import csv
import html
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loaders.exposures import GELDIGE_LEVERINGEN, GEMEENTECODES, LEVERINGEN
from loaders.layout import Layout, code_lists
from loaders.periods import Periode
from loaders.quality.gx_runner import RuleOutcome
from loaders.quality.rules import FOUT, RULES

BATCH = f"(select * from {LEVERINGEN} where levering_id = ?)"
MARGIN = 10.0  # percentage points


def applies_to(con: duckdb.DuckDBPyConnection, levering_id: str) -> dict[str, int | None]:
    """For every rule, the number of records of the delivery it applies to (None when its query fails: that
    rule is reported as not run, the others are not affected)."""
    out = {}
    for rule in RULES:
        sql = rule.applies.format(batch=BATCH)
        try:
            out[rule.id] = con.execute(sql, [levering_id] * sql.count(BATCH)).fetchone()[0]
        except duckdb.Error:
            out[rule.id] = None
    return out


def kwaliteitsrapport(levering_id: str, outcomes: list[RuleOutcome], applies: dict[str, int | None]) -> dict:
    """The report's data. A rule that could not run has violations None and its error; the delivery then is
    neither approved nor rejected on it (`passed` is False, `not_run` names the rules)."""
    rules = [{"id": o.rule.id, "severity": o.rule.severity, "description": o.rule.description,
              "violations": o.violations, "applies_to": applies[o.rule.id], "examples": o.examples,
              **({"error": o.error} if o.error else {})}
             for o in outcomes]
    not_run = [r["id"] for r in rules if r["violations"] is None]
    passed = not not_run and not any(r["violations"] for r in rules if r["severity"] == FOUT)
    return {"delivery": levering_id, "passed": passed, "not_run": not_run, "rules": rules}


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
.ok {{ color: #1d6b1d; font-weight: bold; }}
tr.afwijkend td {{ background: #fff1d6; }}
</style></head><body>{body}</body></html>
"""


def kwaliteitsrapport_html(report: dict, organisatie: str) -> str:
    failed = [r["id"] for r in report["rules"] if r["severity"] == FOUT and r["violations"]]
    not_run = report.get("not_run") or []
    if failed:
        verdict = (f'<p class="fout">De levering is afgekeurd: de foutregels {", ".join(failed)} zijn overtreden. '
                   "Wij vragen u een correctielevering te sturen.</p>")
    elif not_run:
        verdict = ""
    else:
        verdict = '<p class="ok">De levering is goedgekeurd: geen enkele foutregel is overtreden.</p>'
    if not_run:
        verdict += (f'<p class="fout">De regels {", ".join(not_run)} konden niet worden uitgevoerd door een fout in '
                    "de verwerking, niet in uw levering; de levering is daarop nog niet beoordeeld. Wij sturen een "
                    "nieuw rapport zodra dat is hersteld.</p>")
    rows = []
    for r in report["rules"]:
        if r["violations"] is None:
            rows.append(f"<tr><td class=\"fout\">{r['id']}</td><td>{r['severity']}</td>"
                        f"<td>{html.escape(r['description'])}</td><td colspan=\"4\">niet uitgevoerd: "
                        f"{html.escape(r.get('error') or '')}</td></tr>")
            continue
        share = f"{100 * r['violations'] / r['applies_to']:.1f}%" if r["applies_to"] else "-"
        cls = ' class="fout"' if r["severity"] == FOUT and r["violations"] else ""
        rows.append(f"<tr><td{cls}>{r['id']}</td><td>{r['severity']}</td><td>{html.escape(r['description'])}</td>"
                    f"<td class=\"n\">{r['violations']}</td><td class=\"n\">{r['applies_to']}</td>"
                    f"<td class=\"n\">{share}</td><td>{html.escape(', '.join(r['examples']))}</td></tr>")
    body = (f"<h1>Kwaliteitsrapport levering {report['delivery']}</h1>"
            f"<p>Aan: Veilig Thuis {html.escape(organisatie)}</p>{verdict}"
            "<p>Per regel: het aantal records dat de regel overtreedt, het aantal records waarop de regel van "
            "toepassing is, en ten hoogste 20 voorbeelden met uw eigen recordnummers.</p>"
            "<table><thead><tr><th>regel</th><th>ernst</th><th>omschrijving</th><th>overtredingen</th>"
            "<th>van toepassing op</th><th>aandeel</th><th>voorbeelden</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")
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
                out.append(Measure(rt.code, "bsn", "geldig", "avg((r.bsn_status in ('geldig', 'onbekend', "
                                   "'ongeboren'))::int)"))
                continue
            col = f"r.{f.name}"
            filled = f"trim({col}) <> ''"
            out.append(Measure(rt.code, f.name, "gevuld", f"avg(({filled})::int)"))
            if f.type == "D":
                valid = (f"coalesce(try_strptime(trim({col}), '%Y%m%d')::date between date '2015-01-01' "
                         "and l.periode_einde, false)")
            elif f.type == "F":
                valid = f"coalesce(regexp_full_match({col}, '[01]{{{f.length}}}'), false)"
            elif f.codelijst == "GEMEENTE":
                valid = (f"(trim({col}) = '9999' or exists (select 1 from {GEMEENTECODES} as g "
                         f"where g.verslagperiode = l.verslagperiode and g.gemeentecode = trim({col}) "
                         "and g.gemeente_gaaf <> '9999'))")
            elif f.codelijst and f.codelijst in lists:
                codes = ", ".join(f"'{c}'" for c, _ in lists[f.codelijst])
                valid = f"trim({col}) in ({codes})"
            elif f.name == "veiligheidsscore":
                valid = f"coalesce(regexp_full_match(trim({col}), '[0-9]{{1,2}}') and try_cast(trim({col}) as integer) <= 10, false)"
            else:
                valid = filled
            out.append(Measure(rt.code, f.name, "geldig", f"avg(case when {filled} then ({valid})::int end)"))
            if f.type == "F":
                for i in range(1, f.length + 1):
                    out.append(Measure(rt.code, f.name, f"vlag {i}", f"avg((substr({col}, {i}, 1) = '1')::int)"))
            elif f.codelijst and f.codelijst in lists and f.codelijst != "VT_ORGANISATIE":
                for c, _ in lists[f.codelijst]:
                    out.append(Measure(rt.code, f.name, f"code {c}",
                                       f"avg(case when {filled} then (trim({col}) = '{c}')::int end)"))
    return out


def _values(con, layout: Layout, lids: list[str], measures: list[Measure]) -> dict[tuple, float | None]:
    """Every measure over the records of the given deliveries together (none: no values)."""
    if not lids:
        return {}
    out = {}
    for rt in layout.data_types:
        ms = [m for m in measures if m.recordtype == rt.code]
        select = ", ".join(m.expression for m in ms)
        row = con.execute(
            f"select {select} from raw.{rt.entiteit} as r join {LEVERINGEN} as l "
            "on r.levering_id = l.levering_id where list_contains(?, r.levering_id)", [lids]).fetchone()
        for m, v in zip(ms, row):
            out[(m.recordtype, m.veld, m.maat)] = v
    return out


def _national(con, verslagperiode: str) -> list[str]:
    """The latest delivery of every organisation for the half-year: together they are 'landelijk'."""
    return [r[0] for r in con.execute(
        f"select levering_id from {GELDIGE_LEVERINGEN} where verslagperiode = ? and laatste", [verslagperiode]).fetchall()]


def _previous(con, levering_id: str) -> tuple[str | None, str | None]:
    """(the previous delivery for the same half-year, the latest delivery of the previous half-year)."""
    row = con.execute(f"select vervangt, vt_code, verslagperiode from {GELDIGE_LEVERINGEN} where levering_id = ?",
                      [levering_id]).fetchone()
    if row is None:
        return None, None
    earlier, vt_code, periode = row
    prev = con.execute(f"select levering_id from {GELDIGE_LEVERINGEN} where vt_code = ? and verslagperiode = ? "
                       "and laatste", [vt_code, str(Periode.parse(periode).previous())]).fetchone()
    return earlier, (prev[0] if prev else None)


def spiegelrapport(con, layout: Layout, levering_id: str, margin: float = MARGIN,
                   national_cache: dict | None = None) -> list[dict]:
    """The mirror report of one delivery; pass one `national_cache` dict for many deliveries, so the national
    figures of a half-year are computed once."""
    measures = _measures(layout)
    earlier, previous = _previous(con, levering_id)
    own = _values(con, layout, [levering_id], measures)
    before = _values(con, layout, [earlier] if earlier else [], measures)
    prev = _values(con, layout, [previous] if previous else [], measures)
    periode = levering_id.split("_")[1]
    cache = national_cache if national_cache is not None else {}
    if (periode, layout.versie) not in cache:
        cache[(periode, layout.versie)] = _values(con, layout, _national(con, periode), measures)
    national = cache[(periode, layout.versie)]
    rows = []
    for m in measures:
        key = (m.recordtype, m.veld, m.maat)
        value = own.get(key)
        if m.share:
            pct = lambda v: None if v is None else round(100 * v, 1)  # noqa: E731
            this, land, last = pct(value), pct(national.get(key)), pct(prev.get(key))
            marked = any(other is not None and this is not None and abs(this - other) > margin
                         for other in (land, last))
            rows.append({"recordtype": m.recordtype, "veld": m.veld, "maat": m.maat, "deze_levering": this,
                         "vorige_levering": pct(before.get(key)) if earlier else None, "landelijk": land,
                         "vorig_halfjaar": last, "afwijkend": "J" if marked else "N"})
        else:
            rows.append({"recordtype": m.recordtype, "veld": m.veld, "maat": m.maat, "deze_levering": value,
                         "vorige_levering": before.get(key), "landelijk": national.get(key),
                         "vorig_halfjaar": prev.get(key), "afwijkend": "N"})
    return rows


SPIEGEL_COLUMNS = ["recordtype", "veld", "maat", "deze_levering", "vorige_levering", "landelijk", "vorig_halfjaar",
                   "afwijkend"]


def write_spiegel_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, SPIEGEL_COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in SPIEGEL_COLUMNS})


def spiegelrapport_html(levering_id: str, organisatie: str, rows: list[dict], margin: float = MARGIN) -> str:
    def cell(v):
        return "" if v is None else html.escape(str(v))

    text_columns = ("recordtype", "veld", "maat", "afwijkend")
    body_rows = []
    for r in rows:
        cls = ' class="afwijkend"' if r["afwijkend"] == "J" else ""
        cells = "".join(f"<td>{cell(r[k])}</td>" if k in text_columns else f'<td class="n">{cell(r[k])}</td>'
                        for k in SPIEGEL_COLUMNS)
        body_rows.append(f"<tr{cls}>{cells}</tr>")
    marked = sum(r["afwijkend"] == "J" for r in rows)
    body = (f"<h1>Spiegelrapport levering {levering_id}</h1><p>Aan: Veilig Thuis {html.escape(organisatie)}</p>"
            "<p>Per recordtype het aantal records, en per veld het aandeel gevuld, het aandeel geldig en de "
            "verdeling over de codes (percentages), naast dezelfde cijfers van uw vorige levering voor dit "
            "halfjaar, van alle organisaties samen (landelijk) en van uw vorige halfjaar. "
            f"Gemarkeerd: een aandeel dat meer dan {margin:g} procentpunt afwijkt van landelijk of van uw vorige "
            f"halfjaar ({marked} regels).</p>"
            "<table><thead><tr>" + "".join(f"<th>{k.replace('_', ' ')}</th>" for k in SPIEGEL_COLUMNS) +
            f"</tr></thead><tbody>{''.join(body_rows)}</tbody></table>")
    return _page(f"Spiegelrapport {levering_id}", body)


def write_reports(out: Path, report: dict, spiegel: list[dict], organisatie: str) -> Path:
    folder = out / report["delivery"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kwaliteitsrapport.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                                   encoding="utf-8")
    (folder / "kwaliteitsrapport.html").write_text(kwaliteitsrapport_html(report, organisatie), encoding="utf-8")
    write_spiegel_csv(folder / "spiegelrapport.csv", spiegel)
    (folder / "spiegelrapport.html").write_text(spiegelrapport_html(report["delivery"], organisatie, spiegel),
                                                encoding="utf-8")
    return folder
