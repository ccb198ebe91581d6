"""The released microdata tables as the dbt project describes them, once: models/marts/microdata/.

`_microdata__models.yml` gives each table's columns and types, its primary key (`meta.sleutel`), its links to
other tables (`meta.verwijzingen`), each column's code list (`meta.codelijst`) and date format (`meta.formaat`);
`_microdata__docs.md` holds the Dutch descriptions as dbt doc blocks. The codebook, the DuckDB file's comments,
keys and label views and the CSV schema and syntax files of a release are all made from this, so what an analyst
reads is what `dbt docs` shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from loaders.exposures import microdata

MICRODATA = Path(__file__).resolve().parent.parent / "models" / "marts" / "microdata"
MODELS_YAML = MICRODATA / "_microdata__models.yml"
DOCS = MICRODATA / "_microdata__docs.md"
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
    return {name: " ".join(text.split()) for name, text in DOC_BLOCK.findall(DOCS.read_text(encoding="utf-8"))}


def resolve(text: str) -> str:
    """A description with its {{ doc("...") }} references replaced by the blocks' text, as dbt renders it."""
    blocks = doc_blocks()
    return " ".join(DOC_REF.sub(lambda m: blocks[m.group(1)], text or "").split())


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
        columns = tuple(
            Column(c["name"], c["data_type"], resolve(c.get("description", "")), (c.get("meta") or {}).get("codelijst"),
                   (c.get("meta") or {}).get("formaat"))
            for c in m["columns"])
        out[name] = Table(name, resolve(m.get("description", "")), columns, tuple(meta.get("sleutel", [])),
                          tuple(links))
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
