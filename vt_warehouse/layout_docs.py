"""The staging columns' descriptions as dbt doc blocks, made from the layout, so each field is described once.

The layout (`data/layout.csv`: a field's description; `data/codes.csv`: what each flag of a flag field means) is
the one home of what a delivered field is. dbt cannot read a CSV file in a description, so this writes the doc
blocks that the YAML of the staging and intermediate models refer to (`{{ doc("ad_startdatum") }}`):
`vt dev generate` rewrites models/staging/loader/_loader__docs.md (vt_warehouse/derived.py), and a test fails while
it is not what the layout gives. The same for the released flag columns' Dutch descriptions (aard_1: "(Vermoedelijke)
aard, code 1 (Kindermishandeling): ..."), made from a flag field's `label` and its code list, in
models/marts/microdata/_microdata__vlaggen.md.
"""

from __future__ import annotations

import re
import textwrap
from functools import cache

from loaders.layout import RECORD_LENGTH, Layouts, code_lists, layouts
from vt_warehouse import PROJECT_DIR

MODELS = PROJECT_DIR / "models"
DOCS_FILE = MODELS / "staging" / "loader" / "_loader__docs.md"
FLAG_DOCS_FILE = MODELS / "marts" / "microdata" / "_microdata__vlaggen.md"
HEADER = (
    "<!-- Made by `vt dev generate` from loaders/data/layout.csv and codes.csv; do not edit: change the layout. -->\n"
)
SKIPPED = ("recordtype", "vt_code", "bsn")
GELEVERD_DIR = MODELS / "marts" / "geleverd"
STAGING_DIR = MODELS / "staging" / "loader"  # described once in models/_vt__docs.md (bsn: only its pseudonym is kept)


def blocks(all_layouts: Layouts | None = None) -> dict[str, str]:
    """Doc block name -> text: per field of every record type `<rt>_<veld>`, and for a date or flag field
    `<rt>_<veld>_ingevuld`, for a flag field `<rt>_<veld>_<i>` per code and `<rt>_<veld>_nul_een`, for a field
    that not every version has `<rt>_<veld>_in_layout`."""
    all_layouts = all_layouts or layouts()
    lists = code_lists()
    out = {}
    for rt in all_layouts.raw.data_types:
        for f in rt.fields:
            if f.name in SKIPPED:
                continue
            name = f"{rt.code.lower()}_{f.name}"
            out[name] = f.omschrijving.rstrip(".") + "."
            if f.type in ("D", "F"):
                out[f"{name}_ingevuld"] = f"The delivered field {f.name} was not blank."
            if f.type == "F":
                codes = lists.get(f.codelijst or "", [])
                for i in range(1, f.length + 1):
                    meaning = f" ({codes[i - 1][1]})" if i <= len(codes) else ""
                    out[f"{name}_{i}"] = (
                        f"Flag {i} of {f.name}{meaning}: true/false; null when the field is onbekend "
                        "(blank, not 0/1, or all zeros)."
                    )
                out[f"{name}_nul_een"] = f"The delivered field {f.name} holds only the characters 0 and 1 (KR13)."
            have = all_layouts.versions_with(rt.code, f.name)
            if len(have) < len(all_layouts.versions):
                out[f"{name}_in_layout"] = (
                    f"True when the record's layout version has the field {f.name} "
                    f"({', '.join(have)}), even if left blank; false: {f.name} is null "
                    "because it was not asked."
                )
    for rt in all_layouts.raw.data_types:
        for f in rt.fields:
            if f.name not in ("recordtype", "bsn"):
                out[f"{rt.code.lower()}_{f.name}_geleverd"] = (
                    f"The field {f.name} as delivered: its text, untrimmed (what the spiegelrapport mirrors and a "
                    "finding shows); null where the record's layout version has no such field."
                )
    return out


def flag_blocks(all_layouts: Layouts | None = None) -> dict[str, str]:
    """The released flag columns (<veld>_<i>, one per code of a flag field, the same in every table that has the
    field) in Dutch, as the codebook, the DuckDB file's comments and the SPSS labels show them."""
    lists = code_lists()
    out = {}
    for rt in (all_layouts or layouts()).raw.data_types:
        for f in rt.fields:
            if f.type == "F":
                for i, (code, label) in enumerate(lists[f.codelijst], 1):
                    out[f"{f.name}_{i}"] = (
                        f"{f.label}, code {code} ({label}): true/false; NULL (leeg) als het veld "
                        "onbekend of ongeldig is (G5)."
                    )
    return out


def _file(texts: dict[str, str]) -> str:
    return HEADER + "".join(f"{{% docs {name} %}}{text}{{% enddocs %}}\n" for name, text in texts.items())


def render(all_layouts: Layouts | None = None) -> str:
    return _file(blocks(all_layouts))


def render_flags(all_layouts: Layouts | None = None) -> str:
    return _file(flag_blocks(all_layouts))


FORMAT_STYLE = """body { font-family: sans-serif; margin: 1.5em; color: #222; } h2 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; } th, td { border: 1px solid #bbb;
padding: 3px 6px; vertical-align: top; } th { background: #eef2f7; text-align: left; } td.n { text-align: right; }
@media print { body { margin: 0; } a { color: inherit; text-decoration: none; } tr { break-inside: avoid; } }"""
TYPES = {"A": "tekst", "N": "getal", "D": "datum JJJJMMDD", "F": "vlaggen (0/1 per code)"}


@cache
def format_html() -> str:
    """The delivery format as an organisation prints it: per layout version and record type every field with its
    positions, length, kind, whether it is required and its code list, then every code list with its codes. Made
    from the layout, the one home of the format, once per process (every report of a run carries a copy)."""
    from html import escape

    all_layouts = layouts()
    lists = code_lists()
    used: set[str] = set()
    head = (
        f"<!doctype html><html lang='nl'><head><meta charset='utf-8'><title>Bestandsdefinitie Veilig Thuis"
        f"</title><style>{FORMAT_STYLE}</style></head><body><h1>Bestandsdefinitie van de levering</h1>"
    )
    parts = [
        head,
        f"<p>Een levering is een ASCII-bestand met records van precies {RECORD_LENGTH} tekens, elk op een eigen "
        "regel: eerst één VL-record, dan de records van de levering, als laatste één SL-record. Posities "
        "tellen vanaf 1. "
        "Het bestand heet &lt;vt_code&gt;_&lt;verslagperiode&gt;_&lt;leveringsnummer&gt;.txt, bijvoorbeeld "
        "VT05_2020H1_001.txt.</p>",
    ]
    for versie, layout in all_layouts.versions.items():
        parts.append(f"<h2>Versie {escape(versie)}</h2>")
        for rt in layout.record_types.values():
            parts.append(
                f"<h3>Record {escape(rt.code)}{' (' + escape(rt.entiteit) + ')' if rt.entiteit else ''}</h3>"
                "<table><tr><th>Veld</th><th>Van</th><th>Tot en met</th><th>Lengte</th><th>Soort</th>"
                "<th>Verplicht</th><th>Codelijst</th><th>Omschrijving</th></tr>"
            )
            for f in rt.fields:
                code = (
                    f"<a href='#{escape(f.codelijst)}'>{escape(f.codelijst)}</a>"
                    if f.codelijst in lists
                    else escape(f.codelijst or "")
                )
                if f.codelijst in lists:
                    used.add(f.codelijst)
                parts.append(
                    f"<tr><td>{escape(f.name)}</td><td class='n'>{f.start}</td>"
                    f"<td class='n'>{f.start + f.length - 1}</td><td class='n'>{f.length}</td>"
                    f"<td>{TYPES.get(f.type, escape(f.type))}</td><td>{'ja' if f.verplicht else 'nee'}</td>"
                    f"<td>{code}</td><td>{escape(f.omschrijving)}</td></tr>"
                )
            parts.append("</table>")
    parts.append("<h2>Codelijsten</h2>")
    for name in sorted(used):
        parts.append(
            f"<h3 id='{escape(name)}'>{escape(name)}</h3><table><tr><th>Code</th><th>Betekenis</th></tr>"
            + "".join(f"<tr><td>{escape(c)}</td><td>{escape(o)}</td></tr>" for c, o in lists[name])
            + "</table>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


# -- the staging models' and the delivered-records marts' columns, from the layout ------------------------------


def staged_columns(code: str, all_layouts: Layouts | None = None) -> list[tuple[str, str, str]]:
    """(column, data type, doc block) of a record type's staging model, in the order macros/staged_fields.sql
    makes them: the one list the YAML of the staging models and the contracts of the delivered-records marts are
    made from (dbt's contract fails the build of a mart whose columns differ from it)."""
    all_layouts = all_layouts or layouts()
    cols = [("levering_id", "varchar", "kolom_levering_id"), ("regelnummer", "integer", "kolom_regelnummer")]
    for f in all_layouts.raw.record_types[code].fields:
        name = f"{code.lower()}_{f.name}"
        if f.name == "recordtype":
            continue
        if f.name == "vt_code":
            cols.append(("vt_code", "varchar", "kolom_vt_code"))
        elif f.name == "bsn":
            cols += [
                ("bsn_pseudoniem", "varchar", "kolom_bsn_pseudoniem"),
                ("bsn_status", "varchar", "kolom_bsn_status"),
            ]
        elif f.type == "D":
            cols += [(f.name, "date", name), (f"{f.name}_ingevuld", "boolean", f"{name}_ingevuld")]
        elif f.type == "F":
            cols += [(f"{f.name}_{i}", "boolean", f"{name}_{i}") for i in range(1, f.length + 1)]
            cols += [(f"{f.name}_nul_een", "boolean", f"{name}_nul_een")]
            cols += [(f"{f.name}_ingevuld", "boolean", f"{name}_ingevuld")]
        else:
            cols.append((f.name, "varchar", name))
        if len(all_layouts.versions_with(code, f.name)) < len(all_layouts.versions):
            cols.append((f"{f.name}_in_layout", "boolean", f"{name}_in_layout"))
        if f.name != "bsn":
            cols.append((f"{f.name}_geleverd", "varchar", f"{name}_geleverd"))
    return cols


def staging_models() -> dict[str, str]:
    """Record type -> its staging model, as models/staging/loader/ has them (each model selects its raw table)."""
    entity = {rt.entiteit: code for code, rt in layouts().raw.record_types.items() if rt.entiteit}
    out = {}
    for path in sorted(STAGING_DIR.glob("stg_loader__*.sql")):
        found = re.search(r"source\('loader', '(\w+)'\)", path.read_text(encoding="utf-8"))
        if found and found.group(1) in entity:
            out[entity[found.group(1)]] = path.stem
    return dict(sorted(out.items(), key=lambda item: list(entity.values()).index(item[0])))


def geleverd_model(code: str) -> str:
    """The delivered-records mart of a record type (exposures.geleverd: named after its raw table)."""
    from vt_warehouse.transform.exposures import geleverd

    return geleverd(layouts().raw.record_types[code].entiteit)


def _columns_yaml(code: str, contract: bool) -> str:
    lines = []
    for name, data_type, doc in staged_columns(code):
        lines.append(f"      - name: {name}")
        if contract:
            lines.append(f"        data_type: {data_type}")
        lines.append(f"        description: '{{{{ doc(\"{doc}\") }}}}'")
    return "\n".join(lines) + "\n"


KEY_TEST = """    data_tests:
      - unique_combination:
          arguments:
            columns:
              - levering_id
              - regelnummer
"""


def _description(text: str) -> str:
    """A model's description as YAML, quoted, wrapped at 120 characters as the hand-written YAML is."""
    quoted = "'" + text.replace("'", "''") + "'"
    wrapped = textwrap.fill(
        quoted, 120, initial_indent="    description: ", subsequent_indent="      ", break_on_hyphens=False
    )
    return wrapped + "\n"


def staging_yaml() -> str:
    """The staging models of the record types (the generated part of models/staging/loader/_loader__models.yml)."""
    out = []
    for code, model in staging_models().items():
        what = model.removeprefix("stg_loader__")
        text = (
            f"The delivered {what} ({code} records), one row per record: trimmed, typed (dates as dates, flag fields "
            "as one boolean per code), organisations' numbers kept, and every field's text as delivered."
        )
        out.append(
            f"  - name: {model}\n" + _description(text) + "    columns:\n" + _columns_yaml(code, False) + KEY_TEST
        )
    return "".join(out)


def geleverd_yaml() -> str:
    """models/marts/geleverd/_geleverd__models.yml: the delivered-records marts with their contracts."""
    head = (
        "# Made by `vt dev generate` from loaders/data/layout.csv and codes.csv; do not edit: change the layout.\n"
        "# The records of every loaded delivery, typed and as delivered: what the quality reports read (public,\n"
        "# contracted tables; dbt_project.yml). Their columns are the staging models' (layout_docs.staged_columns).\n"
        "version: 2\nmodels:\n"
    )
    out = [head]
    for code, model in staging_models().items():
        what = model.removeprefix("stg_loader__")
        text = (
            f"The delivered {what} ({code} records) of every loaded delivery, one row per record: typed as in "
            f"{model}, and every field's text as delivered. Read by the kwaliteitsrapport and the spiegelrapport."
        )
        out.append(
            f"  - name: {geleverd_model(code)}\n"
            + _description(text)
            + "    columns:\n"
            + _columns_yaml(code, True)
            + KEY_TEST
        )
    return "".join(out)
