"""The released microdata tables as the dbt project describes them, once: models/marts/microdata/.

`_microdata__models.yml` gives each table's columns and types, its primary key (`meta.sleutel`), its links to
other tables (`meta.verwijzingen`) and date formats (`meta.formaat`). A column made from a delivered field
(`<veld>_gaaf`) has that field's code list, from the layout; `meta.codelijst` names it only for a column the
layout does not give one (gemeente_gaaf: the year's gemeenten; vtcode_gaaf: the VT-regio's code);
`_microdata__docs.md` holds the Dutch descriptions as dbt doc blocks (those of the flag columns are made from the
layout into `_microdata__vlaggen.md`). The codebook, the DuckDB file's comments,
keys and label views and the CSV schema and syntax files of a release are all made from this, so what an analyst
reads is what `dbt docs` shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import yaml

from loaders.layout import code_lists, layouts
from vt_warehouse import PROJECT_DIR
from vt_warehouse.transform.exposures import microdata

MICRODATA = PROJECT_DIR / "models" / "marts" / "microdata"
MODELS_YAML = MICRODATA / "_microdata__models.yml"
DOCS = MICRODATA / "_microdata__docs.md"
FLAG_DOCS = MICRODATA / "_microdata__vlaggen.md"  # the flag columns' blocks, made from the layout (layout_docs.py)
DOC_BLOCK = re.compile(r"\{%-?\s*docs\s+(\w+)\s*-?%\}(.*?)\{%-?\s*enddocs\s*-?%\}", re.S)
DOC_REF = re.compile(r"""\{\{\s*doc\(\s*["'](\w+)["']\s*\)\s*\}\}""")
DATE_FORMAT = "JJJJMMDD"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # varchar, boolean or integer (the contract's types)
    description: str
    codelijst: str | None = None  # the code list of codes.csv (or GEMEENTE: the year's gemeenten)
    formaat: str | None = None  # JJJJMMDD: a date kept as text, as CBS does
    breedte: int | None = None  # a text column's declared width (SPSS A, Stata str, CSVW maxLength)

    @property
    def is_date(self) -> bool:
        return self.formaat == DATE_FORMAT


@dataclass(frozen=True)
class Link:
    columns: tuple[str, ...]
    to: str  # model name
    to_columns: tuple[str, ...]  # the key of `to`


@dataclass(frozen=True)
class Table:
    model: str  # vt_casus
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    links: tuple[Link, ...]

    @property
    def entity(self) -> str:
        return self.model.removeprefix("vt_")

    def name(self, release: str) -> str:
        return microdata(self.entity, release)


@cache
def doc_blocks() -> dict[str, str]:
    return {
        name: " ".join(text.split())
        for path in (DOCS, FLAG_DOCS)
        for name, text in DOC_BLOCK.findall(path.read_text(encoding="utf-8"))
    }


def resolve(text: str) -> str:
    """A description with its {{ doc("...") }} references replaced by the blocks' text, as dbt renders it."""
    blocks = doc_blocks()
    return " ".join(DOC_REF.sub(lambda m: blocks[m.group(1)], text or "").split())


def field_codelijst(entity: str, column: str) -> str | None:
    """The code list of the delivered field a released column is made from (duur_gaaf of advies: AD.duur)."""
    for rt in layouts().raw.data_types:
        if rt.entiteit == entity:
            return next(
                (f.codelijst for f in rt.fields if f.name == column.removesuffix("_gaaf") and column.endswith("_gaaf")),
                None,
            )
    return None


# the width of the text columns that no code list gives: a coded identifier is HMAC-SHA256 in hex
# (loaders/pseudonym.py), a half-year JJJJHn, a date JJJJMMDD; others say it as meta.breedte
CODED_ID_PREFIX, CODED_ID_WIDTH = "identificatienummer_", 64
NAMED_WIDTHS = {"verslagperiode": 6}
DATE_WIDTH = 8


def declared_width(name: str, data_type: str, codelijst: str | None, formaat: str | None, meta: dict) -> int | None:
    """A text column's width, from one home each: its code list (the longest code), its date format, the
    coded identifiers' and half-year's fixed widths, or the YAML's meta.breedte. None: not text, or nothing
    declares it (a test fails then)."""
    if data_type != "varchar":
        return None
    if meta.get("breedte"):
        return int(meta["breedte"])
    if formaat == DATE_FORMAT:
        return DATE_WIDTH
    if codelijst and codelijst in code_lists():
        return max(len(code) for code, _ in code_lists()[codelijst])
    if name.startswith(CODED_ID_PREFIX):
        return CODED_ID_WIDTH
    return NAMED_WIDTHS.get(name)


@cache
def tables() -> dict[str, Table]:
    """Model name -> Table, in the YAML's order."""
    spec = yaml.safe_load(MODELS_YAML.read_text(encoding="utf-8"))
    models = {m["name"]: m for m in spec["models"]}
    out = {}
    for name, m in models.items():
        meta = (m.get("config") or {}).get("meta") or {}
        links = []
        for v in meta.get("verwijzingen", []):
            target = (models[v["naar"]].get("config") or {}).get("meta", {}).get("sleutel", [])
            links.append(Link(tuple(v["kolommen"]), v["naar"], tuple(target)))
        entity = name.removeprefix("vt_")
        columns = []
        for c in m["columns"]:
            cmeta = c.get("meta") or {}
            codelijst = cmeta.get("codelijst") or field_codelijst(entity, c["name"])
            columns.append(
                Column(
                    c["name"],
                    c["data_type"],
                    resolve(c.get("description", "")),
                    codelijst,
                    cmeta.get("formaat"),
                    declared_width(c["name"], c["data_type"], codelijst, cmeta.get("formaat"), cmeta),
                )
            )
        columns = tuple(columns)
        out[name] = Table(
            name, resolve(m.get("description", "")), columns, tuple(meta.get("sleutel", [])), tuple(links)
        )
    return out


def entities() -> tuple[str, ...]:
    """The nine microdata tables' entities (casus, advies, ...), in the YAML's order: read when first asked for,
    not when a command starts."""
    return tuple(t.entity for t in tables().values())


def creation_order() -> list[Table]:
    """The tables with every table after the tables it links to (a foreign key needs its target first)."""
    done: list[Table] = []
    pending = list(tables().values())
    while pending:
        for t in pending:
            if all(link.to in {d.model for d in done} or link.to == t.model for link in t.links):
                done.append(t)
                pending.remove(t)
                break
        else:
            raise ValueError("the links of the microdata tables form a cycle")
    return done
