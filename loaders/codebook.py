"""The codebook of a release, in the style of CBS's documentation of VT_casus: per table the variables with
VolgNr, Naam, Formaat and Omschrijving, the code lists they use, and the version history of the year."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import yaml

from loaders.layout import code_lists

from loaders.kalender import Release, releases

if TYPE_CHECKING:
    from loaders.warehouse import Warehouse

MODELS_YAML = Path(__file__).resolve().parent.parent / "models" / "marts" / "microdata" / "_microdata__models.yml"
# variables whose values come from a code list of codes.csv
CODE_LISTS = {
    "duur_gaaf": "DUUR", "rol_gaaf": "ROL", "organisatie_gaaf": "ORGANISATIE", "anoniem_gaaf": "JANEE",
    "inhoud_gaaf": "VB_INHOUD", "veiligheidstaxatie_gaaf": "TAXATIE", "bron_gaaf": "BRON", "partij_gaaf": "PARTIJ",
    "hulp_gaaf": "HULP", "geslacht_gaaf": "GESLACHT", "vtcode_gaaf": "VT_ORGANISATIE",
    "aanleiding_gaaf": "AANLEIDING",
}


def variables() -> dict[str, list[dict]]:
    """Model name (vt_casus, ...) -> its documented columns, from the marts' YAML."""
    spec = yaml.safe_load(MODELS_YAML.read_text(encoding="utf-8"))
    return {m["name"]: m["columns"] for m in spec["models"]}


def _format(con: duckdb.DuckDBPyConnection, table: str, column: str, data_type: str) -> str:
    if data_type == "boolean":
        return "B (true/false)"
    if data_type in ("integer", "bigint"):
        width = con.execute(f'select max(length(cast("{column}" as varchar))) from "{table}"').fetchone()[0]
        return f"N{width or 1}"
    width = con.execute(f'select max(length("{column}")) from "{table}"').fetchone()[0]
    return f"A{width or 0}"


def write_codebook(path: Path, release: Release, files: list[dict], warehouse: Warehouse) -> None:
    from loaders.release import TABLES, table_name

    lists = code_lists()
    used: set[str] = set()
    lines = [
        f"# Codebook VT microdata, release {release.name}{release.mark}",
        "",
        f"Status: {release.status}. Verslagperioden: {', '.join(release.perioden)}. Peildatum: "
        f"{release.peildatum.isoformat()} (deliveries received after it do not count).",
        "",
        "Identificatienummers are coded: HMAC-SHA256 over vt_code, record type and the organisation's own number, "
        "64 hexadecimal characters (A64). The organisations' own numbers and the BSN are not released.",
        "",
    ]
    cols = variables()
    rows = {f["name"].removesuffix(".parquet"): f["rows"] for f in files if f["name"].endswith(".parquet")}
    with duckdb.connect(str(warehouse.database), read_only=True) as con:
        for entity in TABLES:
            table = table_name(entity, release.name)
            lines += [f"## {table}", "", f"Records: {rows[table]}.", "", "| VolgNr | Naam | Formaat | Omschrijving |",
                      "| ---: | --- | --- | --- |"]
            for i, c in enumerate(cols[f"vt_{entity}"], start=1):
                fmt = _format(con, table, c["name"], c["data_type"])
                lines.append(f"| {i} | {c['name']} | {fmt} | {c['description']} |")
                if c["name"] in CODE_LISTS:
                    used.add(CODE_LISTS[c["name"]])
            lines.append("")
    lines += ["## Code lists", ""]
    for name in sorted(used):
        lines += [f"### {name}", "", "| code | omschrijving |", "| --- | --- |"]
        lines += [f"| {code} | {text} |" for code, text in lists[name]]
        lines.append("")
    # the calendar only, never which releases are frozen now: a frozen file must not depend on when it was made
    lines += ["## Versions of this year", "", "| release | status | verslagperioden | peildatum |",
              "| --- | --- | --- | --- |"]
    for other in releases(release.jaar, release.jaar):
        this = " (this release)" if other.name == release.name else ""
        lines.append(f"| {other.name}{this} | {other.status} | {', '.join(other.perioden)} | {other.peildatum} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
