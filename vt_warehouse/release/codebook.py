"""The codebook of a release, in Dutch, in the style of CBS's documentation of VT_casus: per table its grain, keys,
links and orphans, the variables (VolgNr, Naam, Formaat, Omschrijving) and how to read it with DuckDB, pandas,
Polars and R; the code lists; the missing-value convention; the person identifier; worked examples; the
versions of the year. Written as Markdown (with a Mermaid ER diagram) and as HTML (with the diagram as inline
SVG, readable offline).

Everything comes from the table descriptions (`vt_warehouse/release/schema.py`) and the release's own files, so a
codebook depends on nothing but the release.
"""

from __future__ import annotations

import html
from pathlib import Path

import duckdb
import mistune

from vt_warehouse.escape import markdown_text
from vt_warehouse.kalender import Release, releases
from vt_warehouse.release.files import CODELIJSTEN, ReleaseFacts, codelijst_table, labels_view
from vt_warehouse.release.schema import Column, Table, tables

PANDAS_TYPES = {"varchar": "string", "boolean": "boolean", "integer": "Int64"}
POLARS_TYPES = {"varchar": "pl.String", "boolean": "pl.Boolean", "integer": "pl.Int32"}
R_TYPES = {"boolean": "readr::col_logical()", "integer": "readr::col_integer()"}


def formaat(t: Table, c: Column, facts: ReleaseFacts) -> str:
    if c.is_date:
        return "A8 (JJJJMMDD)"
    if c.data_type == "boolean":
        return "B (true/false)"
    if c.data_type == "integer":
        return "N"
    return f"A{facts.width(t, c.name)}"


def snippets(t: Table, release: str) -> dict[str, str]:
    """One line per tool that reads the table with its types: codes as strings with their leading zeros, dates
    as dates, flags as booleans, and only an empty field as missing."""
    name = t.name(release)
    dates = [c.name for c in t.columns if c.is_date]
    quoted = ", ".join(f'"{d}"' for d in dates)
    dtype = ", ".join(f'"{c.name}": "{PANDAS_TYPES[c.data_type]}"' for c in t.columns if not c.is_date)
    pandas = (
        f'pd.read_csv("{name}.csv", dtype={{{dtype}}}, keep_default_na=False, na_values=[""]'
        + (f', parse_dates=[{quoted}], date_format="%Y%m%d"' if dates else "")
        + ")"
    )
    schema = ", ".join(f'"{c.name}": {POLARS_TYPES[c.data_type]}' for c in t.columns)
    polars = f'pl.read_csv("{name}.csv", schema={{{schema}}})'
    if dates:
        polars += f'.with_columns(pl.col({quoted}).str.to_date("%Y%m%d"))'
    r_cols = [
        f'{c.name} = readr::col_date("%Y%m%d")' if c.is_date else f"{c.name} = {R_TYPES[c.data_type]}"
        for c in t.columns
        if c.is_date or c.data_type in R_TYPES
    ]
    r = (
        f'readr::read_csv("{name}.csv", na = "", col_types = readr::cols('
        + ", ".join([*r_cols, ".default = readr::col_character()"])
        + "))"
    )
    return {"duckdb": f"select * from '{name}.parquet';", "pandas": pandas, "polars": polars, "r": r}


def examples(release: str) -> list[tuple[str, str]]:
    """Worked questions with their SQL on vt_<release>.duckdb (DuckDB CLI, or duckdb.sql(...).df() in Python)."""
    r = release
    return [
        (
            "Meldingen per gemeente (de gemeente van de casus; meldingen zonder casus tellen mee onder NULL, een "
            "inner join zou ze weglaten)",
            f"""select c.gemeente_gaaf, g.omschrijving as gemeente, count(*) as meldingen
from VT_melding_{r} as m
left join VT_casus_{r} as c using (identificatienummer_casus)
left join codelijst_gemeente as g on g.code = c.gemeente_gaaf
group by all
order by meldingen desc, c.gemeente_gaaf;""",
        ),
        (
            "Overdrachten per casus (VT_overdracht heeft één record per overdracht en persoon: tel de overdrachten "
            "distinct)",
            f"""select identificatienummer_casus, count(distinct identificatienummer_overdracht) as overdrachten
from VT_overdracht_{r}
group by all
order by overdrachten desc, identificatienummer_casus;""",
        ),
        (
            "Personen met een nieuwe casus binnen 12 maanden na het einde van een eerdere casus (met "
            "identificatienummer_persoon; personen zonder geldig BSN doen niet mee). Over jaren heen: ATTACH de "
            "DuckDB-bestanden van twee releases en neem de UNION van hun VT_betrokkene en VT_casus; het nummer is in "
            "alle releases gelijk.",
            f"""with casussen as (
    select distinct
        b.identificatienummer_persoon,
        c.identificatienummer_casus,
        strptime(c.startdatum_gaaf, '%Y%m%d') as startdatum,
        strptime(c.einddatum_gaaf, '%Y%m%d') as einddatum
    from VT_betrokkene_{r} as b
    inner join VT_casus_{r} as c using (identificatienummer_casus)
    where b.identificatienummer_persoon is not null
)
select count(distinct eerder.identificatienummer_persoon) as personen
from casussen as eerder
inner join casussen as later
    on later.identificatienummer_persoon = eerder.identificatienummer_persoon
    and later.identificatienummer_casus <> eerder.identificatienummer_casus
    and later.startdatum > eerder.einddatum
    and later.startdatum <= eerder.einddatum + interval 12 month;""",
        ),
    ]


def _links_text(t: Table, facts: ReleaseFacts, release: str) -> list[str]:
    out = []
    for lf in facts.links.get(t.model, []):
        target = tables()[lf.link.to].name(release)
        cols = ", ".join(lf.link.columns)
        if lf.declared:
            how = "als foreign key gedeclareerd in het DuckDB-bestand; elk record vindt zijn doel"
        else:
            how = (
                f"niet als foreign key gedeclareerd: {lf.wezen} records (wezen) vinden hun doel niet; hun {cols} "
                f"is gevuld, maar komt in {target} niet voor: het record waarnaar het verwijst zit niet in de "
                "leveringen van deze release (het is in een eerder halfjaar of niet geleverd). Gebruik een left "
                "join, anders vallen ze weg"
            )
        empty = f"; {lf.leeg} records hebben {cols} leeg" if lf.leeg else ""
        out.append(f"- {cols} → {target} ({', '.join(lf.link.to_columns)}): {how}{empty}.")
    if t.model == "vt_overdracht":
        out.append(
            f"- identificatienummer_bron → afhankelijk van bron_gaaf: VB → VT_melding_{release} en "
            f"VT_veiligheidsbeoordeling_{release} (identificatienummer_melding), VV → VT_voorwaardenvervolg_"
            f"{release}, ON → VT_onderzoek_{release} (identificatienummer_dienst). Een verwijzing naar drie "
            "tabellen kan geen foreign key zijn."
        )
    if not out:
        out.append("- geen: de tabel verwijst naar geen andere tabel.")
    return out


def _persons(con: duckdb.DuckDBPyConnection, release: str) -> list[str]:
    b = f"VT_betrokkene_{release}"
    total, with_id, persons = con.execute(
        f"select count(*), count(identificatienummer_persoon), count(distinct identificatienummer_persoon) from {b}"
    ).fetchone()
    lines = [
        f"In {b}: {total} records, {with_id} met een identificatienummer_persoon, van {persons} verschillende "
        "personen. Zonder identificatienummer_persoon (NULL), naar bsn_status:",
        "",
        "| bsn_status | records |",
        "| --- | ---: |",
    ]
    for status, n in con.execute(
        f"select bsn_status, count(*) from {b} where identificatienummer_persoon is null group by all order by all"
    ).fetchall():
        lines.append(f"| {status} | {n} |")
    o_total, o_null = con.execute(
        f"select count(*), count(*) - count(identificatienummer_persoon) from VT_overdracht_{release}"
    ).fetchone()
    lines += [
        "",
        f"In VT_overdracht_{release}: {o_null} van de {o_total} records zonder identificatienummer_persoon "
        "(BSN onbekend, ongeboren of ongeldig, of de persoon is niet als directbetrokkene van de casus geleverd).",
    ]
    return lines


def mermaid(release: str, facts: ReleaseFacts) -> list[str]:
    lines = ["```mermaid", "erDiagram"]
    for t in tables().values():
        for lf in facts.links.get(t.model, []):
            target = tables()[lf.link.to].name(release)
            lines.append(f'    {target} ||--o{{ {t.name(release)} : "{", ".join(lf.link.columns)}"')
    lines.append(f'    VT_overdracht_{release} }}o--o| VT_melding_{release} : "identificatienummer_bron (VB)"')
    lines += ["```"]
    return lines


def volledigheid_lines(volledigheid: list[dict]) -> list[str]:
    """The section on completeness: per half-year how many organisations delivered, and which did not."""
    lines = [
        "## Volledigheid",
        "",
        "Per halfjaar: de Veilig Thuis-organisaties van de VT-regio-indeling van dat jaar die op de peildatum een "
        "geldige levering hadden. Een organisatie zonder levering heeft in dit halfjaar geen records in de "
        "tabellen; tellingen over dat halfjaar zijn voor haar regio en voor Nederland niet volledig.",
        "",
    ]
    for v in volledigheid:
        missing = v["ontbrekend"]
        text = f"- {v['periode']}: {v['organisaties'] - len(missing)} van de {v['organisaties']} organisaties leverden"
        lines.append(
            text
            + (
                ": ontbrekend " + ", ".join(f"{m['vt_code']} {markdown_text(m['vt_naam'])}" for m in missing) + "."
                if missing
                else " (volledig)."
            )
        )
    return [*lines, ""]


def markdown(release: Release, facts: ReleaseFacts, database: Path, volledigheid: list[dict] | None = None) -> str:
    r = release.name
    escaped_mark = release.mark.replace("*", "\\*")  # CBS's * and ** of a provisional release, not emphasis
    lines = [
        f"# Codeboek VT-microdata, release {r}{escaped_mark}",
        "",
        f"Status: {release.status}. Verslagperioden: {', '.join(release.perioden)}. Peildatum: "
        f"{release.peildatum.isoformat()} (leveringen die later zijn ontvangen tellen niet mee)."
        + (
            f" Het teken {escaped_mark} achter de naam betekent: {release.status}, zoals bij CBS."
            if release.mark
            else ""
        ),
        "",
        "## Bestanden",
        "",
        f"- `vt_{r}.duckdb`: alle tabellen met sleutels, beschrijvingen (COMMENT ON), een tabel per codelijst "
        f"(`codelijst_<naam>`) en per tabel een view met de omschrijvingen naast de codes (`<tabel>_labels`).",
        "- per tabel `<tabel>.parquet` en `<tabel>.csv`; bij elke CSV `<tabel>.csv-metadata.json` (het schema als "
        "W3C CSV on the Web: namen, beschrijvingen, typen, sleutels), `<tabel>.sps` (SPSS-syntax) en `<tabel>.do` "
        "(Stata).",
        f"- `{CODELIJSTEN}_{r}.csv`: alle codelijsten (codelijst, code, omschrijving).",
        f"- `codebook_{r}.md` en `codebook_{r}.html`: dit codeboek; `manifest.json`: de controlegetallen (SHA-256) "
        "van elk bestand en de gebruikte leveringen.",
        "",
        "## Ontbrekende waarden",
        "",
        "Eén afspraak in elk formaat: een ontbrekende waarde is NULL in DuckDB en Parquet, een leeg veld in CSV, "
        "system-missing in SPSS en missing in Stata. Een lege string komt als waarde nergens voor. Wat ontbreken "
        "betekent staat bij de variabele (einddatum_gaaf leeg: nog open aan het eind van de verslagperiode).",
        "",
        "## Codes en datums",
        "",
        "Codes zijn tekst, met hun voorloopnullen (gemeente `0606`, organisatie `05`): lees ze als tekst, niet als "
        "getal. Datums zijn tekst in het formaat JJJJMMDD (A8), zoals in de CBS-bestanden; de leesregels hieronder "
        "maken er datums van. Vlaggen (aard_1 enz.) zijn true/false.",
        "",
        "## Identificatienummers en personen",
        "",
        "De nummers van de organisaties en het BSN staan niet in de release. Records zijn gecodeerd "
        "(identificatienummer_<record>: HMAC-SHA256, 64 tekens). identificatienummer_persoon is per persoon gelijk "
        "in alle casussen, organisaties, halfjaren en releases: daarmee zijn personen in de tijd te volgen. Het is "
        "gemaakt met een aparte releasesleutel uit het BSN-pseudoniem van het warehouse; het BSN of dat pseudoniem is "
        "er niet uit terug te halen. Een persoon zonder geldig BSN (onbekend, ongeboren, ongeldig) heeft geen "
        "identificatienummer_persoon.",
        "",
    ]
    lines += volledigheid_lines(volledigheid or [])
    with duckdb.connect(str(database), read_only=True) as con:
        lines += _persons(con, r)
    lines += [
        "",
        "## Inlezen",
        "",
        f"DuckDB: open `vt_{r}.duckdb` (`duckdb vt_{r}.duckdb`), of lees de Parquet-bestanden. Python: "
        "`import pandas as pd`, `import polars as pl`. R: het pakket readr. SPSS en Stata: de syntaxbestanden "
        "per tabel. Per tabel staat hieronder één regel per programma.",
        "",
        "## Tabellen en koppelingen",
        "",
    ]
    lines += mermaid(r, facts)
    lines.append("")
    for t in tables().values():
        name = t.name(r)
        lines += [
            f"## {name}",
            "",
            t.description,
            "",
            f"Records: {facts.rows[t.model]}. Sleutel: {', '.join(t.key)}. Met labels: view `{labels_view(name)}`.",
            "",
            "Koppelingen:",
            "",
            *_links_text(t, facts, r),
            "",
            "| VolgNr | Naam | Formaat | Omschrijving |",
            "| ---: | --- | --- | --- |",
        ]
        for i, c in enumerate(t.columns, start=1):
            lines.append(f"| {i} | {c.name} | {formaat(t, c, facts)} | {c.description} |")
        lines += ["", "Inlezen:", "", "```"]
        lines += [f"{tool:7} {code}" for tool, code in snippets(t, r).items()]
        lines += ["```", ""]
    lines += ["## Codelijsten", ""]
    for name, rows in facts.lists.items():
        lines += [f"### {name} (`{codelijst_table(name)}`)", "", "| code | omschrijving |", "| --- | --- |"]
        lines += [f"| {markdown_text(code)} | {markdown_text(text)} |" for code, text in rows]
        lines.append("")
    lines += ["## Voorbeelden", ""]
    for question, sql in examples(r):
        lines += [f"{question}:", "", "```sql", sql, "```", ""]
    # the calendar only, never which releases are frozen now: a frozen file must not depend on when it was made
    lines += [
        "## Versies van dit jaar",
        "",
        "| release | status | verslagperioden | peildatum |",
        "| --- | --- | --- | --- |",
    ]
    for other in releases(release.jaar, release.jaar):
        this = " (deze release)" if other.name == r else ""
        lines.append(f"| {other.name}{this} | {other.status} | {', '.join(other.perioden)} | {other.peildatum} |")
    return "\n".join(lines) + "\n"


# where each table sits in the HTML diagram (column, row)
DIAGRAM = {
    "vt_veiligheidsbeoordeling": (0, 0),
    "vt_voorwaardenvervolg": (1, 0),
    "vt_onderzoek": (2, 0),
    "vt_melding": (0, 1),
    "vt_casus": (1, 1),
    "vt_monitoring": (2, 1),
    "vt_advies": (0, 2),
    "vt_betrokkene": (1, 2),
    "vt_overdracht": (2, 2),
}
BOX_W, BOX_H, CELL_W, CELL_H = 270, 84, 330, 150


def svg_diagram(release: str, facts: ReleaseFacts) -> str:
    """The tables and their links as inline SVG: a solid line is a declared foreign key, a dashed line a link
    with orphans (their number beside it)."""

    def centre(model):
        col, row = DIAGRAM[model]
        return 20 + col * CELL_W + BOX_W / 2, 20 + row * CELL_H + BOX_H / 2

    parts = []
    for t in tables().values():
        for lf in facts.links.get(t.model, []):
            (x1, y1), (x2, y2) = centre(t.model), centre(lf.link.to)
            dash = "" if lf.declared else ' stroke-dasharray="6 4"'
            parts.append(
                f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="#555" stroke-width="2"{dash}/>'
            )
            if not lf.declared:  # the count beside its line, in the gap between the boxes
                anchor, dx = ("middle", 0) if y1 == y2 else ("start", 6)
                parts.append(
                    f'<text x="{(x1 + x2) / 2 + dx:.0f}" y="{(y1 + y2) / 2 - 6:.0f}" font-size="12" '
                    f'text-anchor="{anchor}" fill="#a00">{lf.wezen} wezen</text>'
                )
    for t in tables().values():
        col, row = DIAGRAM[t.model]
        x, y = 20 + col * CELL_W, 20 + row * CELL_H
        parts.append(
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="#fff" stroke="#1f4e79" '
            'stroke-width="2"/>'
        )
        parts.append(
            f'<text x="{x + 10}" y="{y + 22}" font-size="14" font-weight="bold">{html.escape(t.name(release))}</text>'
        )
        parts.append(f'<text x="{x + 10}" y="{y + 42}" font-size="12">{facts.rows[t.model]} records</text>')
        for i, k in enumerate(t.key):  # a key of two columns is one key: the second line continues it
            label = "sleutel:" if i == 0 else "+"
            parts.append(f'<text x="{x + 10}" y="{y + 60 + 16 * i}" font-size="12">{label} {html.escape(k)}</text>')
    width, height = 40 + 3 * CELL_W - (CELL_W - BOX_W), 40 + 3 * CELL_H - (CELL_H - BOX_H)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Tabellen en koppelingen" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif">'
        + "".join(parts)
        + "</svg>"
    )


STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;vertical-align:top}
th{background:#eef3f8;text-align:left}pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}
code{font-size:90%}h2{border-bottom:2px solid #1f4e79;padding-bottom:2px;margin-top:1.6em}"""


def html_page(text: str, release: Release, facts: ReleaseFacts) -> str:
    """The Markdown codebook as one offline HTML page; the Mermaid block becomes the inline SVG diagram."""
    body = mistune.create_markdown(plugins=["table"])(text)
    start = body.index('<pre><code class="language-mermaid">')
    end = body.index("</code></pre>", start) + len("</code></pre>")
    legend = (
        "<p>Doorgetrokken lijn: foreign key, elk record vindt zijn doel. Gestippeld: koppeling met wezen. "
        "identificatienummer_bron van VT_overdracht wijst, naar bron_gaaf, naar VT_melding, "
        "VT_voorwaardenvervolg of VT_onderzoek.</p>"
    )
    body = body[:start] + svg_diagram(release.name, facts) + legend + body[end:]
    return (
        f'<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8"><title>Codeboek VT-microdata '
        f"{release.name}</title><style>{STYLE}</style></head><body>\n{body}</body></html>\n"
    )


def write_codebook(
    folder: Path, release: Release, facts: ReleaseFacts, database: Path, volledigheid: list[dict] | None = None
) -> list[Path]:
    """codebook_<release>.md and codebook_<release>.html in `folder`; `volledigheid`: per half-year the
    organisations that delivered (release.completeness)."""
    text = markdown(release, facts, database, volledigheid or [])
    md = folder / f"codebook_{release.name}.md"
    md.write_text(text, encoding="utf-8")
    page = folder / f"codebook_{release.name}.html"
    page.write_text(html_page(text, release, facts), encoding="utf-8")
    return [md, page]
