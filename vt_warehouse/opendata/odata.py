"""OData v3 (JSON) as StatLine serves it, for the clients that read StatLine (cbsodata, cbsodataR): the entity
sets of a table, and the query options those clients and StatLine's documentation use: `$filter` (eq, ne,
and, or, not, parentheses, substringof, startswith, endswith), `$select`, `$top`, `$skip` and paging by
`odata.nextLink`. Pure functions; the server (server.py) only routes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from vt_warehouse.opendata.tables import SOURCE, TITLE, Table, unit

MAX_FILTER = 2000  # characters of a $filter
MAX_DEPTH = 20  # nesting of parentheses and not
SETS = ("TableInfos", "UntypedDataSet", "TypedDataSet", "DataProperties", "CategoryGroups", "RegioS", "Perioden")


class BadQuery(ValueError):
    """A query option the feed cannot answer: a 400 with this message."""


# ---- entity sets -------------------------------------------------------------------------------------------------


def typed(topic, cell) -> int | float | None:
    """The number of a published cell, None where the page shows a symbol without a number (x, .)."""
    if cell is None or cell[0] in ("", None):
        return None
    value = Decimal(cell[0])
    if topic.is_count:
        return int(value)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def untyped(topic, cell) -> str:
    """The cell as the page shows it: its symbol where it has one, else the number (a point as decimal sign)."""
    if cell is None:
        return "."
    waarde, symbool = cell
    if symbool:
        return symbool
    number = typed(topic, cell)
    if number is None:  # blank on the page: the region did not exist in that half-year
        return ""
    return str(number) if topic.is_count else f"{number:.1f}"


def data_rows(table: Table, as_text: bool) -> list[dict]:
    out = []
    for i, row in enumerate(table.rows):
        record = {"ID": i, "RegioS": row["RegioS"], "Perioden": row["Perioden"]}
        for t in table.topics:
            cell = row.get(t.key)
            record[t.key] = untyped(t, cell) if as_text else typed(t, cell)
        out.append(record)
    return out


def data_properties(table: Table) -> list[dict]:
    props = [
        _prop(0, None, "GeoDimension", "RegioS", "Veilig Thuis-regio", "Veilig Thuis-regio, en Nederland (NL01)."),
        {
            **_prop(1, None, "TimeDimension", "Perioden", "Perioden", "Halfjaar; * voorlopig, ** nader voorlopig."),
            "ReleasePolicy": True,
        },
    ]
    groups = {}
    for tabel, titel in (("kerncijfers", "Kerncijfers"), ("indicatoren", "Indicatoren")):
        groups[tabel] = len(props)
        props.append(_prop(len(props), None, "TopicGroup", "", titel, None))
    for t in table.topics:
        props.append(
            {
                **_prop(len(props), groups[t.maat.tabel], "Topic", t.key, t.maat.kop, t.maat.begrip),
                "Datatype": "Long" if t.is_count else "Double",
                "Unit": unit(t),
                "Decimals": 0 if t.is_count else 1,
                "Default": "Missing",
                "PresentationType": "Absolute" if t.is_count else "Relative",
            }
        )
    return props


def _prop(i: int, parent, kind: str, key: str, title: str, description) -> dict:
    return {
        "odata.type": f"Cbs.OData.{kind}",
        "ID": i,
        "Position": i,
        "ParentID": parent,
        "Type": kind,
        "Key": key,
        "Title": title,
        "Description": description,
    }


def table_info(table: Table, base: str) -> dict:
    """The TableInfos row, also the catalog's row of the table (with its URLs)."""
    periods = table.periods
    period = f"{periods[0]['Title']} - {periods[-1]['Title']}" if periods else ""
    summary = (
        "Adviezen, meldingen, casussen, onderzoeken, Voorwaarden en Vervolg en overdrachten van de Veilig "
        "Thuis-organisaties per Veilig Thuis-regio en halfjaar, met indicatoren."
    )
    which = "de nieuwste release" if table.stable else f"release {table.release} (bevroren)"
    return {
        "ID": 0,
        "Title": TITLE,
        "ShortTitle": "Veilig Thuis; kerncijfers per regio",
        "Identifier": table.identifier,
        "Summary": f"{summary} Cijfers van {which}: {table.release}.",
        "Updated": table.modified,
        "Modified": table.modified,
        "MetaDataModified": table.modified,
        "ReasonDelivery": f"Release {table.release}",
        "ExplanatoryText": "",
        "OutputStatus": "Regulier",
        "Source": SOURCE,
        "Language": "nl",
        "Catalog": "CBS",  # the clients' name for the main catalog; cbsodataR sends others to dataderden.cbs.nl
        "Frequency": "Perhalfjaar",
        "Period": period,
        "ShortDescription": "\n".join(table.notes),
        "Description": "\n".join(table.notes),
        "DefaultPresentation": "",
        "DefaultSelection": "$filter=(RegioS eq 'NL01')",
        "GraphTypes": "Table",
        "RecordCount": len(table.rows),
        "ColumnCount": 3 + len(table.topics),
        "SearchPriority": "2",
        "ApiUrl": f"{base}/ODataApi/odata/{table.identifier}",
        "FeedUrl": f"{base}/ODataFeed/odata/{table.identifier}",
    }


def entity_set(table: Table, name: str, base: str) -> list[dict]:
    if name == "TableInfos":
        info = table_info(table, base)
        return [{k: v for k, v in info.items() if k not in ("ApiUrl", "FeedUrl", "Updated")}]
    if name == "DataProperties":
        return data_properties(table)
    if name == "CategoryGroups":
        return []
    if name == "RegioS":
        return table.regions
    if name == "Perioden":
        return table.periods
    if name in ("TypedDataSet", "UntypedDataSet"):
        return data_rows(table, as_text=name == "UntypedDataSet")
    raise KeyError(name)


# ---- $filter -----------------------------------------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(\()|(\))|(,)|'((?:[^']|'')*)'|(-?[0-9]+(?:\.[0-9]+)?)\b|([A-Za-z_][A-Za-z0-9_]*))")


def _kind(value) -> str | None:
    """What can be ordered against what: numbers with numbers, text with text (not booleans, not null)."""
    if isinstance(value, bool) or value is None:
        return None
    return "number" if isinstance(value, int | float) else "text" if isinstance(value, str) else None


def _ordered(test):
    return lambda a, b: _kind(a) is not None and _kind(a) == _kind(b) and test(a, b)


COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": _ordered(lambda a, b: a > b),
    "ge": _ordered(lambda a, b: a >= b),
    "lt": _ordered(lambda a, b: a < b),
    "le": _ordered(lambda a, b: a <= b),
}
FUNCTIONS = {
    "substringof": lambda needle, hay: isinstance(hay, str) and isinstance(needle, str) and needle in hay,
    "startswith": lambda hay, prefix: isinstance(hay, str) and isinstance(prefix, str) and hay.startswith(prefix),
    "endswith": lambda hay, suffix: isinstance(hay, str) and isinstance(suffix, str) and hay.endswith(suffix),
}


def tokens(text: str) -> list[tuple[str, object]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise BadQuery(f"$filter: cannot read {text[pos : pos + 20]!r} (at character {pos + 1})")
        pos = m.end()
        if m.group(1) or m.group(2) or m.group(3):
            out.append(("punct", m.group(1) or m.group(2) or m.group(3)))
        elif m.group(4) is not None:
            out.append(("string", m.group(4).replace("''", "'")))
        elif m.group(5) is not None:
            number = m.group(5)
            out.append(("number", float(number) if "." in number else int(number)))
        else:
            out.append(("name", m.group(6)))
    return out


def parse_filter(text: str, fields: set[str]) -> Callable[[dict], bool]:
    """A predicate over a row from `$filter`; BadQuery names what it cannot read or which property is unknown."""
    if len(text) > MAX_FILTER:
        raise BadQuery(f"$filter is longer than {MAX_FILTER} characters")
    toks = tokens(text)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else (None, None)

    def take(kind=None, value=None):
        nonlocal pos
        tok = peek()
        if tok[0] is None or (kind and tok[0] != kind) or (value and tok[1] != value):
            wanted = value or kind or "more"
            raise BadQuery(f"$filter: expected {wanted} at token {pos + 1}, found {tok[1]!r}")
        pos += 1
        return tok

    def operand(depth):
        kind, value = peek()
        if kind == "name" and value in FUNCTIONS:
            return call(depth)
        if kind == "string" or kind == "number":
            take()
            return lambda row, v=value: v
        if kind == "name" and value in ("true", "false", "null"):
            take()
            return lambda row, v={"true": True, "false": False, "null": None}[value]: v
        if kind == "name":
            take()
            if value not in fields:
                raise BadQuery(f"$filter: no property {value!r} (known: {', '.join(sorted(fields))})")
            return lambda row, k=value: row.get(k)
        raise BadQuery(f"$filter: expected a property, a literal or a function, found {value!r}")

    def call(depth):
        _, name = take("name")
        take("punct", "(")
        args = [operand(depth + 1)]
        while peek() == ("punct", ","):
            take()
            args.append(operand(depth + 1))
        take("punct", ")")
        if len(args) != 2:
            raise BadQuery(f"$filter: {name} takes two arguments")
        f = FUNCTIONS[name]
        return lambda row: f(args[0](row), args[1](row))

    def primary(depth):
        if depth > MAX_DEPTH:
            raise BadQuery(f"$filter nests deeper than {MAX_DEPTH}")
        if peek() == ("name", "not"):
            take()
            inner = primary(depth + 1)
            return lambda row: not inner(row)
        if peek() == ("punct", "("):
            take()
            inner = expression(depth + 1)
            take("punct", ")")
            return inner
        left = operand(depth)
        kind, op = peek()
        if kind == "name" and op in COMPARE:
            take()
            right = operand(depth)
            compare = COMPARE[op]
            return lambda row: bool(compare(left(row), right(row)))
        return lambda row: left(row) is True

    def chain(word, inner, combine):
        """`inner (word inner)*`: and binds closer than or."""

        def parse(depth):
            parts = [inner(depth)]
            while peek() == ("name", word):
                take()
                parts.append(inner(depth))
            return parts[0] if len(parts) == 1 else (lambda row: combine(p(row) for p in parts))

        return parse

    expression = chain("or", chain("and", primary, all), any)

    if not toks:
        raise BadQuery("$filter is empty")
    predicate = expression(0)
    if pos != len(toks):
        raise BadQuery(f"$filter: unexpected {toks[pos][1]!r} at token {pos + 1}")
    return predicate


# ---- query options -----------------------------------------------------------------------------------------------


def _count(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise BadQuery(f"{name} must be a whole number from 0, not {text[:20]!r}")
    return int(text)


def query(rows: list[dict], params: dict[str, str], page_size: int) -> tuple[list[dict], int | None]:
    """The rows the query options give, and the $skip of the next page (None: this is the last)."""
    known = set(rows[0]) if rows else set()
    fmt = params.get("$format")
    if fmt is not None and fmt.lower() != "json":
        raise BadQuery(f"$format={fmt[:20]!r}: this feed serves json only ($format=json)")
    if params.get("$filter"):
        keep = parse_filter(params["$filter"], known)
        rows = [r for r in rows if keep(r)]
    skip = _count("$skip", params.get("$skip")) or 0
    top = _count("$top", params.get("$top"))
    end = len(rows) if top is None else min(len(rows), skip + top)
    page_end = min(end, skip + page_size)
    chosen = rows[skip:page_end]
    if params.get("$select"):
        names = [n.strip() for n in params["$select"].split(",") if n.strip()]
        unknown = [n for n in names if n not in known and known]
        if unknown:
            raise BadQuery(f"$select: no property {unknown[0][:40]!r} (known: {', '.join(sorted(known))})")
        chosen = [{n: r[n] for n in names} for r in chosen]
    return chosen, (page_end if page_end < end else None)


# ---- $metadata ---------------------------------------------------------------------------------------------------

EDMX = "http://schemas.microsoft.com/ado/2007/06/edmx"
METADATA = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
EDM = "http://schemas.microsoft.com/ado/2009/11/edm"
KEYS = {"RegioS": "Key", "Perioden": "Key"}  # the dimension sets are keyed by Key, the others by ID


def _edm_type(values: list) -> str:
    kinds = {type(v) for v in values if v is not None}
    if kinds == {bool}:
        return "Edm.Boolean"
    if kinds and kinds <= {int}:
        return "Edm.Int64"
    if kinds and kinds <= {int, float}:
        return "Edm.Double"
    return "Edm.String"


def metadata_document(table: Table, base: str) -> str:
    """The service's CSDL (EDMX 1.0, OData v3): every entity set with its properties and their types, for
    clients that read the model first (Excel, Power BI)."""
    from xml.etree import ElementTree as ET

    ET.register_namespace("edmx", EDMX)
    ET.register_namespace("m", METADATA)
    root = ET.Element(f"{{{EDMX}}}Edmx", {"Version": "1.0"})
    services = ET.SubElement(
        root,
        f"{{{EDMX}}}DataServices",
        {f"{{{METADATA}}}DataServiceVersion": "3.0", f"{{{METADATA}}}MaxDataServiceVersion": "3.0"},
    )
    schema = ET.SubElement(services, f"{{{EDM}}}Schema", {"Namespace": "Cbs.OData.WebAPI"})
    container = ET.Element(
        f"{{{EDM}}}EntityContainer", {"Name": "CbsODataContainer", f"{{{METADATA}}}IsDefaultEntityContainer": "true"}
    )
    topic_types = {t.key: "Edm.Int64" if t.is_count else "Edm.Double" for t in table.topics}
    for name in SETS:
        rows = entity_set(table, name, base)
        columns = list(rows[0]) if rows else ["ID"]
        columns = [c for c in columns if not c.startswith("odata.")]
        if name == "CategoryGroups":
            columns = ["ID", "DimensionKey", "Title", "Description", "ParentID"]
        key = KEYS.get(name, "ID")
        entity = ET.SubElement(schema, f"{{{EDM}}}EntityType", {"Name": name})
        ET.SubElement(ET.SubElement(entity, f"{{{EDM}}}Key"), f"{{{EDM}}}PropertyRef", {"Name": key})
        for column in columns:
            kind = (
                "Edm.String"
                if name == "UntypedDataSet" and column not in ("ID",)
                else _edm_type([r.get(column) for r in rows])
            )
            if name == "CategoryGroups":
                kind = "Edm.Int64" if column in ("ID", "ParentID") else "Edm.String"
            if name == "TypedDataSet" and column in topic_types:
                kind = topic_types[column]
            attrs = {"Name": column, "Type": kind, "Nullable": "false" if column == key else "true"}
            ET.SubElement(entity, f"{{{EDM}}}Property", attrs)
        ET.SubElement(container, f"{{{EDM}}}EntitySet", {"Name": name, "EntityType": f"Cbs.OData.WebAPI.{name}"})
    schema.append(container)
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")
