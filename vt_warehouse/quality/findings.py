"""Every finding of a delivery in full, with the value the organisation delivered: the lists
overtredingen.csv and niet_te_controleren.csv, the examples in the kwaliteitsrapport, and a correction's
comparison with the delivery it replaces.

The rules' own queries (rules.py, the same text GX runs) give the records; the delivered text of the fields
they name is read from the delivered records (`<veld>_geleverd`) by line number, so an impossible date shows
as delivered ("20200231").
A BSN is never shown, and no pseudonym is ever selected.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from loaders.layout import Layout
from loaders.sql import sql_text
from vt_warehouse.quality.rules import FINDING, RULES
from vt_warehouse.transform.exposures import LEVERINGEN, geleverd

# The rules run over many deliveries at once (one query per rule, split per delivery afterwards): the batch is
# the register's rows of a list of deliveries, bound as a parameter (one delivery by equality).
OVERTREDEN, NIET_TE_CONTROLEREN = "overtreden", "niet te controleren"
# the columns of overtredingen.csv and niet_te_controleren.csv
COLUMNS = ("regel", "ernst", "recordtype", "nummer", "regelnummer", "veld", "waarde", "verwacht", "toelichting")
EXAMPLES = 10  # per rule and outcome in the report; the CSV has them all
EXAMPLES_PER_FIELD = 5  # per rule, outcome and field, beside its count (the report groups findings by field)
HIDDEN = {"bsn"}  # fields whose delivered value never leaves the warehouse


def delivery_filter(deliveries: list[str], literal: bool = False) -> tuple[str, list]:
    """What follows `levering_id` to select the deliveries, with its parameters: equality for one, a list for many.
    (With the DuckDB tables of the raw layer before issue 19, equality let DuckDB skip other deliveries' row groups;
    over the Parquet views neither form skips files, nor does a literal list here: measured, 8.1 s against 7.3 s
    for all rules on one delivery of the five-year history.) With `literal` the ids are in the text, for GX's query
    asset, which takes no parameters (its caller passes only ids of the register's form, LEVERING_ID)."""
    if literal:
        ids = [f"'{lid}'" for lid in deliveries]
        return (f"= {ids[0]}" if len(ids) == 1 else f"in ({', '.join(ids)})"), []
    if len(deliveries) == 1:
        return "= ?", [deliveries[0]]
    return "in (select unnest(?::varchar[]))", [list(deliveries)]


def bind(sql: str, deliveries: list[str]) -> tuple[str, list]:
    """A rule query for a list of deliveries: its `{batch}` filled in, with the parameters it then needs."""
    where, params = delivery_filter(deliveries)
    batch = f"(select * from {LEVERINGEN} where levering_id {where})"
    sql = sql.format(batch=batch)
    return sql, params * sql.count(batch)


def together_else_alone(deliveries: list[str], run: Callable[[list[str]], None]) -> dict[str, str]:
    """`run` on all deliveries at once; where the database refuses, on each delivery alone, so that one delivery's
    failure is not another's. Returns the database's message for each delivery on which it failed alone."""
    try:
        run(list(deliveries))
        return {}
    except duckdb.Error as exc:
        if len(deliveries) == 1:
            return {deliveries[0]: _error(exc)}
    failed = {}
    for lid in deliveries:
        try:
            run([lid])
        except duckdb.Error as exc:
            failed[lid] = _error(exc)
    return failed


def _with_values(layout: Layout, bare: str) -> str:
    """SQL over the findings in `bare` that adds `waarde`: the delivered text of the fields each names, one join
    per record type on its delivered records by delivery and line."""
    parts = []
    for rt in layout.data_types:
        cases = []
        for field in rt.fields:
            if field.name in ("recordtype", "vt_code"):
                continue
            text = f"r.{field.name}_geleverd"  # the text as delivered
            shown = "'niet getoond'" if field.name in HIDDEN else f"coalesce(nullif(trim({text}), ''), 'leeg')"
            cases.append(f"case when list_contains(f.velden, '{field.name}') then '{field.name}: ' || {shown} end")
        parts.append(
            f"select f.*, case when r.regelnummer is not null then concat_ws('; ', {', '.join(cases)}) end "
            f"as waarde from f left join {geleverd(rt.entiteit)} as r on r.levering_id = f.levering_id "
            f"and r.regelnummer = f.regelnummer where f.recordtype = '{rt.code}'"
        )
    codes = ", ".join(f"'{rt.code}'" for rt in layout.data_types)
    parts.append(f"select f.*, null as waarde from f where f.recordtype is null or f.recordtype not in ({codes})")
    return (
        f"with f as (select *, string_split(veld, ', ') as velden from {bare} where list_contains(?, levering_id)) "
        f"select levering_id, regel, ernst, uitkomst, recordtype, nummer, regelnummer, veld, waarde, verwacht, "
        f"toelichting from ({' union all '.join(parts)})"
    )


def _error(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]


def collect(con: duckdb.DuckDBPyConnection, deliveries: dict[str, Layout], table: str) -> dict[str, dict[str, str]]:
    """Every finding of every rule on the deliveries (id -> its layout version) into temp table `table` (levering_id,
    uitkomst and COLUMNS), one query per rule for all of them. Returns per delivery the rules whose query failed,
    with the database's message: their outcome is GX's "not run", never a crash. A rule that fails on the batch is
    run again per delivery, so one delivery's failure is not another's."""
    con.execute(
        f"create or replace temp table {table}_bare (regel varchar, ernst varchar, uitkomst varchar, "
        + ", ".join(f"{c} {'bigint' if c == 'regelnummer' else 'varchar'}" for c in FINDING)
        + ")"
    )
    failed: dict[str, dict[str, str]] = {lid: {} for lid in deliveries}
    for rule in RULES:
        insert = lambda batch, rule=rule: _insert(con, rule, batch, table)  # noqa: E731
        for lid, error in together_else_alone(list(deliveries), insert).items():
            failed[lid][rule.id] = error
    con.execute(f"create or replace temp table {table} as select * from {table}_bare where false")
    con.execute(f"alter table {table} add column waarde varchar")
    by_version: dict[int, tuple[Layout, list[str]]] = {}
    for lid, layout in deliveries.items():
        by_version.setdefault(id(layout), (layout, []))[1].append(lid)
    for layout, lids in by_version.values():
        con.execute(f"insert into {table} by name {_with_values(layout, f'{table}_bare')}", [lids])
    con.execute(f"drop table {table}_bare")
    return failed


def _insert(con: duckdb.DuckDBPyConnection, rule, deliveries: list[str], table: str) -> None:
    violations, v_params = bind(rule.violations, deliveries)
    unchecked, u_params = bind(rule.unchecked, deliveries)
    con.execute(
        f"insert into {table}_bare select ?, ?, '{OVERTREDEN}', * from ({violations}) as v "
        f"union all select ?, ?, '{NIET_TE_CONTROLEREN}', * from ({unchecked}) as u",
        [rule.id, rule.severity, *v_params, rule.id, rule.severity, *u_params],
    )


LINE_ORDER = "regelnummer nulls last, recordtype, nummer"  # the file's order (the rules give their findings unordered)
ORDER = f"regel, {LINE_ORDER}"


def write_lists(con: duckdb.DuckDBPyConnection, table: str, levering_id: str, folder: Path) -> None:
    """overtredingen.csv and niet_te_controleren.csv of one delivery: every finding, in rule and line order."""
    for name, uitkomst in (("overtredingen.csv", OVERTREDEN), ("niet_te_controleren.csv", NIET_TE_CONTROLEREN)):
        target = folder / name
        temporary = folder / f".{name}.tmp"
        # COPY takes no parameters: the id is a literal (the register's own ids, quoted all the same)
        con.execute(
            f"copy (select {', '.join(COLUMNS)} from {table} where levering_id = {sql_text(levering_id)} "
            f"and uitkomst = '{uitkomst}' order by {ORDER}) "
            f"to {sql_text(str(temporary))} (header, delimiter ',')"
        )
        temporary.replace(target)


def summary(con: duckdb.DuckDBPyConnection, table: str, deliveries: list[str]) -> dict[str, dict[str, dict]]:
    """Per delivery and rule: the number of records per outcome and the first EXAMPLES findings of each, as dicts;
    and per outcome the findings grouped by field (`per_veld`, `per_veld_niet_te_controleren`): record type,
    field, how many, and the first EXAMPLES_PER_FIELD, the fields with most findings first."""
    out: dict[str, dict[str, dict]] = {
        lid: {
            r.id: {
                OVERTREDEN: 0,
                NIET_TE_CONTROLEREN: 0,
                "voorbeelden": [],
                "voorbeelden_niet_te_controleren": [],
                "per_veld": [],
                "per_veld_niet_te_controleren": [],
            }
            for r in RULES
        }
        for lid in deliveries
    }
    for lid, regel, uitkomst, n in con.execute(
        f"select levering_id, regel, uitkomst, count(*) from {table} group by all"
    ).fetchall():
        if lid in out:
            out[lid][regel][uitkomst] = n
    groups: dict[tuple, dict] = {}
    for lid, regel, uitkomst, recordtype, veld, n in con.execute(
        f"select levering_id, regel, uitkomst, recordtype, veld, count(*) as n from {table} group by all "
        "order by levering_id, regel, uitkomst, n desc, recordtype nulls last, veld nulls last"
    ).fetchall():
        if lid in out:
            key = "per_veld" if uitkomst == OVERTREDEN else "per_veld_niet_te_controleren"
            group = {"recordtype": recordtype, "veld": veld, "aantal": n, "voorbeelden": []}
            out[lid][regel][key].append(group)
            groups[(lid, regel, uitkomst, recordtype, veld)] = group
    # the first examples of each rule and of each field of a rule, in the file's line order: one pass
    rows = con.execute(
        f"select levering_id, uitkomst, {', '.join(COLUMNS)}, "
        f"row_number() over (partition by levering_id, regel, uitkomst order by {LINE_ORDER}) as per_regel, "
        f"row_number() over (partition by levering_id, regel, uitkomst, recordtype, veld order by {LINE_ORDER}) "
        f"as per_veld from {table} qualify per_regel <= {EXAMPLES} or per_veld <= {EXAMPLES_PER_FIELD} "
        f"order by levering_id, uitkomst, {ORDER}"
    ).fetchall()
    for lid, uitkomst, *values, per_regel, per_veld in rows:
        if lid not in out:
            continue
        finding = dict(zip(COLUMNS, values))
        shown = {k: v for k, v in finding.items() if k not in ("regel", "ernst")}
        if per_regel <= EXAMPLES:
            key = "voorbeelden" if uitkomst == OVERTREDEN else "voorbeelden_niet_te_controleren"
            out[lid][finding["regel"]][key].append(shown)
        group = groups.get((lid, finding["regel"], uitkomst, finding["recordtype"], finding["veld"]))
        if per_veld <= EXAMPLES_PER_FIELD and group is not None:
            group["voorbeelden"].append(dict(shown))
    return out


def compare(con: duckdb.DuckDBPyConnection, table: str, levering_id: str, earlier: str) -> dict[str, dict[str, int]]:
    """Per rule, the violations of delivery `levering_id` against those of the delivery it replaces (`earlier`),
    both in `table`, by record type and the organisation's number: opgelost (only in the earlier), nog_aanwezig
    (in both), nieuw (only here)."""
    rows = con.execute(
        f"""with nu as (select distinct regel, recordtype, nummer from {table}
                        where uitkomst = '{OVERTREDEN}' and levering_id = ?),
                 toen as (select distinct regel, recordtype, nummer from {table}
                          where uitkomst = '{OVERTREDEN}' and levering_id = ?)
            select coalesce(nu.regel, toen.regel) as regel,
                   count(*) filter (where nu.regel is null) as opgelost,
                   count(*) filter (where nu.regel is not null and toen.regel is not null) as nog_aanwezig,
                   count(*) filter (where toen.regel is null) as nieuw
            from nu full join toen on nu.regel = toen.regel and nu.recordtype = toen.recordtype
                 and nu.nummer is not distinct from toen.nummer group by all""",
        [levering_id, earlier],
    ).fetchall()
    out = {r.id: {"opgelost": 0, "nog_aanwezig": 0, "nieuw": 0} for r in RULES}
    for regel, opgelost, nog, nieuw in rows:
        out[regel] = {"opgelost": opgelost, "nog_aanwezig": nog, "nieuw": nieuw}
    return out
