"""The files that make a frozen release readable without the project: the analysts' DuckDB file (keys, Dutch
comments, code-list tables, label views), a CSVW schema per CSV, and SPSS and Stata syntax per table.

Everything here is made from the exported Parquet files and the table descriptions of
`vt_warehouse/release/schema.py`, so equal data gives equal files (the manifest checksums them).

Missing values have one convention: NULL in DuckDB and Parquet, an empty field in CSV (never an empty string
as a value), system-missing in SPSS and missing in Stata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from loaders.layout import code_lists
from loaders.sql import sql_text
from vt_warehouse.escape import one_line, spreadsheet_cell, spss_literal, stata_text
from vt_warehouse.release.schema import Link, Table, creation_order, tables

DUCKDB_TYPES = {"varchar": "VARCHAR", "boolean": "BOOLEAN", "integer": "INTEGER"}
GEMEENTE_ONBEKEND = ("9999", "Onbekend")
CODELIJSTEN = "codelijsten"  # the code lists of a release as one CSV: codelijst, code, omschrijving
SPSS_LABEL_MAX = 250  # SPSS variable labels hold 256 bytes; Stata's 80 characters
STATA_LABEL_MAX = 80


def labels_view(table: str) -> str:
    return f"{table}_labels"


def codelijst_table(name: str) -> str:
    return f"codelijst_{name.lower()}"


@dataclass
class LinkFacts:
    """One link of one released table: how many records have no target (orphans), how many have empty link
    columns, and whether the DuckDB file declares it as a foreign key (only when every filled link is found)."""

    link: Link
    wezen: int
    leeg: int
    declared: bool = False


class WidthError(Exception):
    """A released value is wider than its column's declared width."""


@dataclass
class ReleaseFacts:
    """What the release's files say about its tables, for the codebook."""

    rows: dict[str, int] = field(default_factory=dict)  # model -> records
    links: dict[str, list[LinkFacts]] = field(default_factory=dict)  # model -> its links
    widths: dict[tuple[str, str], int] = field(default_factory=dict)  # (model, column) -> longest value
    lists: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # code list -> [(code, omschrijving)]

    def width(self, t: Table, column: str) -> int:
        """A text column's declared width (schema.declared_width: its code list, format or meta), whatever this
        release holds: a code read into a narrower field would be cut (A1 makes 04 a 0)."""
        declared = next(c.breedte for c in t.columns if c.name == column)
        return declared or max(self.widths.get((t.model, column), 0), 1)


def release_code_lists(gemeenten: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """The code lists the released columns use: codes.csv's, and GEMEENTE, the gemeenten of the release's year
    (with 9999 onbekend)."""
    wanted = {c.codelijst for t in tables().values() for c in t.columns if c.codelijst}
    lists = {name: rows for name, rows in code_lists().items() if name in wanted}
    if "GEMEENTE" in wanted:
        lists["GEMEENTE"] = sorted(set(gemeenten) | {GEMEENTE_ONBEKEND})
    return dict(sorted(lists.items()))


def analyst_database(folder: Path, release: str, lists: dict[str, list[tuple[str, str]]]) -> tuple[Path, ReleaseFacts]:
    """vt_<release>.duckdb: the released tables read from the exported Parquet files, with primary keys, foreign
    keys where every link is found, COMMENT ON every table and column, one table per code list and a view per
    table with labels beside the codes."""
    path = folder / f"vt_{release}.duckdb"
    facts = ReleaseFacts(lists=lists)
    with duckdb.connect(str(path)) as con:
        con.execute("set threads = 1")
        con.execute("begin")  # one transaction: not a commit (and a sync) per comment and code
        for name, rows in lists.items():
            table = codelijst_table(name)
            con.execute(f'create table "{table}" (code varchar primary key, omschrijving varchar not null)')
            con.execute(
                f'insert into "{table}" select unnest(?), unnest(?)',
                [[code for code, _ in rows], [text for _, text in rows]],
            )
            con.execute(
                f'comment on table "{table}" is ' + sql_text(f"Codelijst {name}: de codes met hun omschrijving.")
            )
            con.execute(f'comment on column "{table}".code is ' + sql_text("De code, zoals in de microdata."))
            con.execute(f'comment on column "{table}".omschrijving is ' + sql_text("De omschrijving van de code."))
        for t in creation_order():
            name = t.name(release)
            parquet = str(folder / f"{name}.parquet")
            facts.links[t.model] = [_link_facts(con, t, link, folder, release) for link in t.links]
            columns = [f'"{c.name}" {DUCKDB_TYPES[c.data_type]}' for c in t.columns]
            constraints = [f"primary key ({_names(t.key)})"] if t.key else []
            for lf in facts.links[t.model]:
                if lf.wezen == 0:
                    lf.declared = True
                    target = tables()[lf.link.to].name(release)
                    constraints.append(
                        f'foreign key ({_names(lf.link.columns)}) references "{target}" ({_names(lf.link.to_columns)})'
                    )
            con.execute(f'create table "{name}" ({", ".join(columns + constraints)})')
            # (the Parquet file is already in its fixed row order, and one thread keeps it)
            con.execute(
                f'insert into "{name}" select {_names(c.name for c in t.columns)} from read_parquet(?)', [parquet]
            )
            text = [c.name for c in t.columns if c.data_type == "varchar"]
            counted = con.execute(
                f'select count(*), {", ".join(f"coalesce(max(length({q})), 0)" for q in _quoted(text))} from "{name}"'
            ).fetchone()
            facts.rows[t.model] = counted[0]
            facts.widths.update({(t.model, c): w for c, w in zip(text, counted[1:])})
            wider = [
                f"{c.name} ({facts.widths[(t.model, c.name)]} > {c.breedte})"
                for c in t.columns
                if c.breedte and facts.widths.get((t.model, c.name), 0) > c.breedte
            ]
            if wider:  # (a defect of the models: the staging casts keep every code within its list)
                raise WidthError(
                    f"{name}: values wider than their declared width, which the SPSS, Stata and CSVW "
                    f"files would cut: {', '.join(wider)}"
                )
            con.execute(f'comment on table "{name}" is ' + sql_text(t.description))
            for c in t.columns:
                con.execute(f'comment on column "{name}"."{c.name}" is ' + sql_text(c.description))
            _create_labels_view(con, t, name, lists)
        con.execute("commit")
    return path, facts


def _quoted(columns) -> list[str]:
    return [f'"{c}"' for c in columns]


def _names(columns) -> str:
    return ", ".join(_quoted(columns))


def _link_facts(con, t: Table, link: Link, folder: Path, release: str) -> LinkFacts:
    source = str(folder / f"{t.name(release)}.parquet")
    target = str(folder / f"{tables()[link.to].name(release)}.parquet")
    filled = " and ".join(f's."{c}" is not null' for c in link.columns)
    on = " and ".join(f's."{c}" = d."{d}"' for c, d in zip(link.columns, link.to_columns))
    wezen, leeg = con.execute(
        f"""select count(*) filter (where {filled} and not exists (
                     select 1 from read_parquet(?) as d where {on})),
                   count(*) filter (where not ({filled}))
            from read_parquet(?) as s""",
        [target, source],
    ).fetchone()
    return LinkFacts(link, wezen, leeg)


def _create_labels_view(con, t: Table, name: str, lists: dict) -> None:
    select, joins = [], []
    for i, c in enumerate(t.columns):
        select.append(f't."{c.name}"')
        if c.codelijst in lists:
            alias = f"l{i}"
            select.append(f'{alias}.omschrijving as "{c.name}_label"')
            joins.append(f'left join "{codelijst_table(c.codelijst)}" as {alias} on {alias}.code = t."{c.name}"')
    view = labels_view(name)
    con.execute(f'create view "{view}" as select {", ".join(select)} from "{name}" as t {" ".join(joins)}')
    con.execute(
        f'comment on view "{view}" is '
        + sql_text(f"{name} met naast elke gecodeerde variabele de omschrijving uit de codelijst (<variabele>_label).")
    )


def write_codelijsten_csv(folder: Path, release: str, lists: dict[str, list[tuple[str, str]]]) -> Path:
    """codelijsten_<release>.csv: every code list of the release, for readers of the CSV files."""
    path = folder / f"{CODELIJSTEN}_{release}.csv"
    with duckdb.connect() as con:
        con.execute("create table c (codelijst varchar, code varchar, omschrijving varchar)")
        con.executemany(
            "insert into c values (?, ?, ?)",  # a name never reaches a spreadsheet as a formula
            [
                (name, spreadsheet_cell(code), spreadsheet_cell(text))
                for name, rows in lists.items()
                for code, text in rows
            ],
        )
        con.execute(f"copy (select * from c order by all) to {sql_text(str(path))} (format csv, header true)")
    return path


def csvw_metadata(folder: Path, release: str, facts: ReleaseFacts) -> list[Path]:
    """<file>.csv-metadata.json per CSV (W3C CSV on the Web): each column's name, description and datatype
    (codes as strings, dates as yyyyMMdd), the empty field as null, the key and the links that every record
    satisfies (the foreign keys of the DuckDB file)."""
    out = []
    for t in tables().values():
        name = t.name(release)
        columns = []
        for c in t.columns:
            datatype = (
                {"base": "date", "format": "yyyyMMdd"}
                if c.is_date
                else {"varchar": "string", "boolean": "boolean", "integer": "integer"}[c.data_type]
            )
            if c.breedte and not c.is_date:
                datatype = {"base": "string", "maxLength": c.breedte}
            columns.append(
                {
                    "name": c.name,
                    "titles": c.name,
                    "dc:description": c.description,
                    "datatype": datatype,
                    "required": c.name in t.key,
                }
            )
        schema = {"columns": columns, "primaryKey": list(t.key)}
        foreign = [
            {
                "columnReference": list(lf.link.columns),
                "reference": {
                    "resource": f"{tables()[lf.link.to].name(release)}.csv",
                    "columnReference": list(lf.link.to_columns),
                },
            }
            for lf in facts.links[t.model]
            if lf.declared
        ]
        if foreign:
            schema["foreignKeys"] = foreign
        doc = {
            "@context": "http://www.w3.org/ns/csvw",
            "url": f"{name}.csv",
            "dc:title": name,
            "dc:description": t.description,
            "dialect": {"header": True, "delimiter": ",", "encoding": "utf-8"},
            "null": "",
            "tableSchema": schema,
        }
        out.append(_write_json(folder / f"{name}.csv-metadata.json", doc))
    codes = {
        "@context": "http://www.w3.org/ns/csvw",
        "url": f"{CODELIJSTEN}_{release}.csv",
        "dc:title": f"{CODELIJSTEN}_{release}",
        "dc:description": "De codelijsten van de release.",
        "dialect": {"header": True, "delimiter": ",", "encoding": "utf-8"},
        "null": "",
        "tableSchema": {
            "columns": [
                {"name": n, "titles": n, "datatype": "string", "required": True}
                for n in ("codelijst", "code", "omschrijving")
            ],
            "primaryKey": ["codelijst", "code"],
        },
    }
    out.append(_write_json(folder / f"{CODELIJSTEN}_{release}.csv-metadata.json", codes))
    return out


def _write_json(path: Path, doc: dict) -> Path:
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _spss_text(value: str, limit: int = SPSS_LABEL_MAX) -> str:
    return spss_literal(value, limit)


def spss_syntax(folder: Path, release: str, facts: ReleaseFacts) -> list[Path]:
    """<table>.sps per table: reads the CSV with every code as a string (leading zeros kept), flags as 0/1 with
    value labels, the code lists as value labels and the descriptions as variable labels. A date stays A8
    (JJJJMMDD), as in CBS's own files, with an SPSS date beside it (<naam>_d)."""
    out = []
    for t in tables().values():
        name = t.name(release)
        variables, flags = [], []
        for c in t.columns:
            if c.data_type == "boolean":
                variables.append(f"  {c.name}_t A5")
                flags.append(c.name)
            elif c.data_type == "integer":
                variables.append(f"  {c.name} F8.0")
            else:
                variables.append(f"  {c.name} A{facts.width(t, c.name)}")
        lines = [
            f"* {name}: {one_line(t.description)}",
            "* Leest de CSV-versie van de tabel; zet de map van de release als werkmap (CD) of pas het pad aan.",
            "* Ontbrekende waarden (leeg in de CSV) worden system-missing of een lege string.",
            "",
            "GET DATA /TYPE=TXT",
            f"  /FILE='{name}.csv'",
            "  /ENCODING='UTF8'",
            "  /DELIMITERS=','",
            "  /QUALIFIER='\"'",
            "  /ARRANGEMENT=DELIMITED",
            "  /FIRSTCASE=2",
            "  /VARIABLES=",
            *variables,
            ".",
        ]
        for flag in flags:
            lines.append(f"RECODE {flag}_t ('true'=1) ('false'=0) (ELSE=SYSMIS) INTO {flag}.")
        if flags:
            lines += [f"FORMATS {_wrapped(flags)} (F1.0).", f"VALUE LABELS {_wrapped(flags)} 0 'nee' 1 'ja'."]
        dates = [c.name for c in t.columns if c.is_date]
        for d in dates:  # beside the A8 text (as CBS), an SPSS date: <naam>_d
            lines.append(
                f"COMPUTE {d}_d = DATE.DMY(NUMBER(SUBSTR({d}, 7, 2), F2.0), NUMBER(SUBSTR({d}, 5, 2), F2.0), "
                f"NUMBER(SUBSTR({d}, 1, 4), F4.0))."
            )
        if dates:
            lines.append(f"FORMATS {_wrapped([f'{d}_d' for d in dates])} (EDATE10).")
        if flags or dates:  # the variables in the table's order, each date beside its text
            order = [n for c in t.columns for n in ([c.name, f"{c.name}_d"] if c.is_date else [c.name])]
            lines.append("ADD FILES /FILE=* /KEEP=" + _wrapped(order) + ".")
        lines.append("VARIABLE LABELS")
        for c in t.columns:
            lines.append(f"  {c.name} {_spss_text(c.description)}")
            if c.is_date:
                lines.append(f"  {c.name}_d {_spss_text(f'{c.name} als datum.')}")
        lines[-1] += "."
        for c in t.columns:
            if c.codelijst in facts.lists:
                pairs = [
                    f"  {_spss_text(code, 120)} {_spss_text(text, 120)}" for code, text in facts.lists[c.codelijst]
                ]
                lines += [f"VALUE LABELS {c.name}", *pairs]  # one pair per line: syntax lines stay short
                lines[-1] += "."
        lines += ["EXECUTE.", f"* SAVE OUTFILE='{name}.sav'.", ""]
        path = folder / f"{name}.sps"
        path.write_text("\n".join(lines), encoding="utf-8")
        out.append(path)
    return out


def _wrapped(names: list[str], per_line: int = 5) -> str:
    return "\n  ".join(" ".join(names[i : i + per_line]) for i in range(0, len(names), per_line))


def stata_syntax(folder: Path, release: str) -> list[Path]:
    """<table>.do per table: imports the CSV with every column as a string (codes keep their leading zeros),
    then makes flags 0/1 and whole numbers numeric and labels the variables. A date stays JJJJMMDD text, with a
    Stata date beside it (<naam>_d)."""
    out = []
    for t in tables().values():
        name = t.name(release)
        lines = [
            f"* {name}: {one_line(t.description[:200])}",
            "* Ontbrekende waarden (leeg in de CSV) worden missing.",
            f'import delimited using "{name}.csv", varnames(1) stringcols(_all) encoding("utf-8") clear',
        ]
        for c in t.columns:
            if c.breedte:  # the declared width, whatever this release's longest value (a code keeps its digits)
                lines.append(f"recast str{c.breedte} {c.name}")
            if c.data_type == "boolean":
                lines += [
                    f'replace {c.name} = cond({c.name} == "true", "1", cond({c.name} == "false", "0", ""))',
                    f"destring {c.name}, replace",
                ]
            elif c.data_type == "integer":
                lines.append(f"destring {c.name}, replace")
        for c in t.columns:
            lines.append(f'label variable {c.name} "{stata_text(c.description, STATA_LABEL_MAX)}"')
        for c in t.columns:  # beside the JJJJMMDD text (as CBS), a Stata date: <naam>_d
            if c.is_date:
                lines += [
                    f'generate {c.name}_d = date({c.name}, "YMD")',
                    f"format {c.name}_d %td",
                    f"order {c.name}_d, after({c.name})",
                    f'label variable {c.name}_d "{c.name} als datum"',
                ]
        lines.append("")
        path = folder / f"{name}.do"
        path.write_text("\n".join(lines), encoding="utf-8")
        out.append(path)
    return out
