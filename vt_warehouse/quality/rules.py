"""The kwaliteitsrapport rules (their one home; docs/kwaliteit.md shows them) as SQL over a batch of deliveries.

Every rule confronts records with a check that gives one of three outcomes (the CBS `validate` approach):
voldoet, overtreden, or niet te controleren (the check needs a record from a half-year the warehouse never
received). Per rule there is a query for its violations, one for the records it could not check, and one
for the number of records it applies to per delivery. `{batch}` is the register's rows (the mart leveringen)
of the deliveries checked together, filled in with str.format (so literal braces in the SQL are doubled); GX
substitutes it when the rule runs as an UnexpectedRowsExpectation, so one query asset carries every rule for
every delivery of a run. Findings return the columns of FINDING: the delivery, the organisation's own numbers
and the line in the file, the field(s) involved and what the rule expected, in Dutch; never a BSN or pseudonym.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from loaders.layout import Field, layouts
from loaders.sql import sql_text as text  # rule texts are ours, but quotes in Dutch are common
from vt_warehouse.transform.exposures import (
    ADVIEZEN,
    BETROKKENEN,
    CASUSSEN,
    CODES,
    GEMEENTECODES,
    LEVERINGEN,
    MELDINGEN,
    MONITORINGSMOMENTEN,
    ONDERZOEKEN,
    OVERDRACHTEN,
    VEILIGHEIDSBEOORDELINGEN,
    VOORWAARDENVERVOLG,
    WERKDAGEN,
)

FOUT, WAARSCHUWING = "fout", "waarschuwing"
# the columns of every finding, in this order (levering_id: the batch holds many deliveries, split afterwards)
FINDING = ("levering_id", "recordtype", "nummer", "regelnummer", "veld", "verwacht", "toelichting")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    description: str
    violations: str  # SQL: the violating records (FINDING columns); the GX suite's query counts them per delivery
    # SQL: per delivery (levering_id, n) the records the rule is confronted with (voldoet + overtreden + niet te
    # controleren); a delivery with none has no row
    applies: str
    unchecked: str  # SQL: the records it could not check (FINDING columns, toelichting says why)


@dataclass(frozen=True)
class Check:
    """One part of a rule: the records of `table` for which `bad` holds break it, unless `unknown` holds: then
    the record could not be checked. `veld`, `verwacht` and `toelichting` are SQL expressions (text)."""

    table: str
    code: str
    nummer: str
    bad: str
    veld: str
    verwacht: str
    toelichting: str = "null"
    join: str = ""
    unknown: str | None = None
    reden: str = "null"  # SQL: why a record could not be checked (its toelichting then)
    on: str = "r.levering_id = l.levering_id"  # which delivery's records are confronted (KR23: the previous one)
    regelnummer: str = "r.regelnummer"  # the line in this delivery's file (null: the record is not in it)


def _findings(check: Check, where: str, toelichting: str | None = None) -> str:
    return (
        f"select l.levering_id, '{check.code}' as recordtype, r.{check.nummer} as nummer, "
        f"cast({check.regelnummer} as bigint) as regelnummer, {check.veld} as veld, {check.verwacht} as verwacht, "
        f"cast({toelichting or check.toelichting} as varchar) as toelichting "
        f"from {{batch}} as l join {check.table} as r on {check.on} {check.join} where {where}"
    )


NO_FINDINGS = (
    "select null::varchar as levering_id, null::varchar as recordtype, null::varchar as nummer, "
    "null::bigint as regelnummer, "
    "null::varchar as veld, null::varchar as verwacht, null::varchar as toelichting where false"
)


def _union(*parts: str) -> str:
    return "\nunion all\n".join(parts)


def _sum(*parts: str) -> str:
    return (
        "select levering_id, sum(n)::bigint as n from ("
        + " union all ".join(f"(select * from ({p}))" for p in parts)
        + ") group by levering_id"
    )


def _count(table: str, where: str = "true", on: str = "r.levering_id = l.levering_id") -> str:
    return (
        f"select l.levering_id, count(*) as n from {{batch}} as l join {table} as r on {on} where {where} "
        "group by l.levering_id"
    )


def rule(id_: str, severity: str, description: str, checks: list[Check], applies: str) -> Rule:
    """A rule from its checks. Its `applies` counts every record it is confronted with (voldoet, overtreden and
    niet te controleren); the report takes the unchecked ones off."""
    violations = _union(
        *(_findings(c, f"({c.bad}) and not coalesce({c.unknown}, false)" if c.unknown else c.bad) for c in checks)
    )
    unchecked = [_findings(c, f"({c.bad}) and coalesce({c.unknown}, false)", c.reden) for c in checks if c.unknown]
    return Rule(id_, severity, description, violations, applies, _union(*unchecked) if unchecked else NO_FINDINGS)


CA, AD, ME, VB = CASUSSEN, ADVIEZEN, MELDINGEN, VEILIGHEIDSBEOORDELINGEN
VV, ON, OV = VOORWAARDENVERVOLG, ONDERZOEKEN, OVERDRACHTEN
MO, BT = MONITORINGSMOMENTEN, BETROKKENEN


# The valid delivery of the same organisation for the previous half-year (the latest one loaded).
PREVIOUS = (
    f"(select p.levering_id from {LEVERINGEN} as p where p.vt_code = l.vt_code and p.laatste "
    "and p.verslagperiode = l.vorige_verslagperiode)"
)

SAME_OR_PREVIOUS = f"(x.levering_id = l.levering_id or x.levering_id = {PREVIOUS})"

# Subqueries read a table through one of these scopes: the records of the batch's deliveries, of them and their
# previous half-year's, of the previous half-year's alone, or of every delivery of the batch's organisations.
# The correlation on `l` alone would make DuckDB join the whole history; the scope's join on the batch lets it
# skip all other deliveries' row groups, so the cost of a rule follows the size of the batch, not of the
# warehouse. (The scopes select only the table's columns: a scope column in the result stops that skipping.)
_PREVIOUS_PAIRS = (
    "select pl.levering_id as voor, p.levering_id from {batch} as pl join "
    + LEVERINGEN
    + " as p on p.vt_code = pl.vt_code and p.laatste and p.verslagperiode = pl.vorige_verslagperiode"
)
_SCOPES = {
    "delivery": "select levering_id from {batch}",
    "previous": "select levering_id from {batch} union select levering_id from (" + _PREVIOUS_PAIRS + ")",
    "organisation": (
        "select distinct p.levering_id from {batch} as pl join " + LEVERINGEN + " as p on p.vt_code = pl.vt_code"
    ),
}


def _scoped(table: str, scope: str = "delivery") -> str:
    return f"(select t.* from ({_SCOPES[scope]}) as scope join {table} as t on t.levering_id = scope.levering_id)"


def _previous_of(table: str) -> str:
    """The records of the previous half-year's valid delivery of each delivery of the batch, with `voor`: the
    batch's delivery it precedes (a batch may hold both a half-year and the one before it)."""
    return (
        f"(select scope.voor, t.* from ({_PREVIOUS_PAIRS}) as scope join {table} as t "
        "on t.levering_id = scope.levering_id)"
    )


def _casus_exists() -> str:
    return (
        f"exists (select 1 from {_scoped(CA)} as c where c.levering_id = l.levering_id "
        "and c.casusnummer = r.casusnummer)"
    )


# What makes a check impossible: the record's casus began before this half-year (or its startdatum cannot be
# read) and the organisation's previous half-year was never received, so what the record refers to may lie in
# that missing delivery.
CARRIED_OVER = (
    f"({PREVIOUS} is null and exists (select 1 from {_scoped(CA)} as c where c.levering_id = l.levering_id "
    "and c.casusnummer = r.casusnummer and coalesce(c.startdatum < l.periode_start, true)))"
)
REDEN_CARRIED_OVER = text(
    "de casus begon voor dit halfjaar en uw levering van het vorige halfjaar is niet "
    "ontvangen: wat dit record noemt kan daarin staan"
)
# the first day of the organisation's loaded history
FIRST_LOADED = f"(select min(p.periode_start) from {LEVERINGEN} as p where p.vt_code = l.vt_code)"


def _date(column: str) -> str:
    """A date for a person: 31-01-2020, or 'leeg'."""
    return f"coalesce(strftime({column}, '%d-%m-%Y'), 'leeg')"


# the fields the layout marks verplicht (J), by record type: blank, they break the field's type (an N or D field
# may be all spaces only where verplicht = N, bestandsdefinitie.md), so KR02 (dates) and KR13 (codes) report them
REQUIRED = {(rt.code, f.name) for rt in layouts().raw.data_types for f in rt.fields if f.verplicht}


def _blank_required(code: str | None, column: str, blank: str) -> str:
    """SQL: the record's `column` is required and `blank`; a field only some layout versions have is required only
    in the records of those versions."""
    if code is None or (code, column) not in REQUIRED:
        return "false"
    every = len(layouts().versions_with(code, column)) == len(layouts().versions)
    return f"({blank})" if every else f"(r.{column}_in_layout and {blank})"


def _date_bad(column: str, code: str | None = None) -> str:
    return (
        f"((r.{column}_ingevuld and (r.{column} is null or r.{column} > l.periode_einde "
        f"or r.{column} < date '2015-01-01')) or {_blank_required(code, column, f'not r.{column}_ingevuld')})"
    )


def _code_bad(column: str, codelijst: str, code: str | None = None) -> str:
    return (
        f"((r.{column} is not null and r.{column} not in "
        f"(select code from {CODES} where codelijst = '{codelijst}')) "
        f"or {_blank_required(code, column, f'r.{column} is null')})"
    )


def _flags_bad(prefix: str) -> str:
    return f"(r.{prefix}_ingevuld and not r.{prefix}_nul_een)"


def _any_flag(prefix: str, n: int) -> str:
    return "(" + " or ".join(f"coalesce(r.{prefix}_{i}, false)" for i in range(1, n + 1)) + ")"


def _which(parts: list[tuple[str, str]]) -> str:
    """SQL text naming, comma-separated, the items whose condition holds."""
    return "concat_ws(', ', " + ", ".join(f"case when {cond} then {text(name)} end" for cond, name in parts) + ")"


TABLES = {"CA": CA, "AD": AD, "ME": ME, "VB": VB, "VV": VV, "ON": ON, "OV": OV, "MO": MO, "BT": BT}


def _fields(wanted: Callable[[Field], bool], value: Callable[[Field], object]) -> dict[tuple[str, str, str], list]:
    """(table, recordtype, nummer) -> value(field) of each field of the layout that is `wanted`, in file order."""
    out: dict[tuple[str, str, str], list] = {}
    for rt in layouts().raw.data_types:
        for f in rt.fields:
            if wanted(f):
                out.setdefault((TABLES[rt.code], rt.code, rt.sleutel[0]), []).append(value(f))
    return out


# from the layout: the dates (KR02), the fields whose value must be in its code list, as (veld, codelijst), and the
# flag fields, as (veld, width) (KR13: the same fields as G5 in the models, macros/codes_g5.sql)
DATES = _fields(lambda f: f.type == "D", lambda f: f.name)
CODE_FIELDS = _fields(lambda f: f.code_check == "code", lambda f: (f.name, f.codelijst))
FLAG_FIELDS = _fields(lambda f: f.code_check == "vlaggen", lambda f: (f.name, f.length))
CASUS_CHILDREN = [
    (ME, "ME", "meldingnummer"),
    (VB, "VB", "meldingnummer"),
    (VV, "VV", "dienstnummer"),
    (ON, "ON", "dienstnummer"),
    (MO, "MO", "monitoringnummer"),
    (BT, "BT", "persoonsnummer"),
    (OV, "OV", "overdrachtnummer"),
]
PERIODS = [
    (CA, "CA", "casusnummer"),
    (AD, "AD", "adviesnummer"),
    (VV, "VV", "dienstnummer"),
    (ON, "ON", "dienstnummer"),
]
# the diensten of every kind, for rules about a casus's diensten (by name: a field only one kind has is null for
# the other)
DIENSTEN = f"(select 'VV' as soort, * from {_scoped(VV)} union all by name select 'ON' as soort, * from {_scoped(ON)})"


def _kr13() -> list[Check]:
    checks = []
    for key in sorted(set(CODE_FIELDS) | set(FLAG_FIELDS)):
        table, code, nummer = key
        parts = [
            (
                _code_bad(c, lst, code),
                c,
                f"{c}: een code uit codelijst {lst}" + (" (verplicht)" if (code, c) in REQUIRED else ""),
            )
            for c, lst in CODE_FIELDS.get(key, [])
        ]
        parts += [(_flags_bad(p), p, f"{p}: {n} tekens, elk 0 of 1") for p, n in FLAG_FIELDS.get(key, [])]
        checks.append(
            Check(
                table,
                code,
                nummer,
                " or ".join(p[0] for p in parts),
                _which([(cond, name) for cond, name, _ in parts]),
                "concat_ws('; ', "
                + ", ".join(f"case when {cond} then {text(exp)} end" for cond, _, exp in parts)
                + ")",
            )
        )
    return checks


NO_VIOLENCE = (
    "coalesce(r.uitkomst_1 or r.uitkomst_2 or r.uitkomst_4 or r.uitkomst_5, false) and not "
    "coalesce(r.uitkomst_3 or r.uitkomst_6 or r.uitkomst_7 or r.uitkomst_8 or r.uitkomst_9, false)"
)


def _werkdag(column: str) -> str:
    return f"(select w.werkdagnummer from {WERKDAGEN} as w where w.datum = {column})"


def _casus_dates(alias: str = "c") -> str:
    return (
        f"'casus ' || {alias}.casusnummer || ': startdatum ' || {_date(alias + '.startdatum')} "
        f"|| ', einddatum ' || {_date(alias + '.einddatum')}"
    )


_ME_FOUND = (
    f"exists (select 1 from {_scoped(ME, 'previous')} as x where {SAME_OR_PREVIOUS} "
    "and x.meldingnummer = r.meldingnummer)"
)
_VB_TWICE = (
    f"exists (select 1 from {_scoped(VB, 'previous')} as x where x.levering_id = {PREVIOUS} "
    "and x.meldingnummer = r.meldingnummer)"
)
_BRON_FOUND = (
    f"(case r.bron when 'VB' then exists (select 1 from {_scoped(VB, 'previous')} as x where {SAME_OR_PREVIOUS} "
    "and x.meldingnummer = r.bronnummer) "
    f"when 'VV' then exists (select 1 from {_scoped(VV, 'previous')} as x where {SAME_OR_PREVIOUS} "
    "and x.dienstnummer = r.bronnummer) "
    f"when 'ON' then exists (select 1 from {_scoped(ON, 'previous')} as x where {SAME_OR_PREVIOUS} "
    "and x.dienstnummer = r.bronnummer) else false end)"
)
_OV_BT_FOUND = (
    f"exists (select 1 from {_scoped(BT)} as b where b.levering_id = l.levering_id "
    "and b.casusnummer = r.casusnummer and b.persoonsnummer = r.persoonsnummer)"
)
_VB_INHOUD_1 = (
    f"exists (select 1 from {_scoped(VB, 'previous')} as x where {SAME_OR_PREVIOUS} "
    "and x.casusnummer = r.casusnummer and x.inhoud = '1' and x.datum_beoordeling <= r.startdatum)"
)
_VB_OF_OV = (
    f"(select x.inhoud from {_scoped(VB, 'previous')} as x where {SAME_OR_PREVIOUS} "
    "and x.meldingnummer = r.bronnummer limit 1)"
)
_KR22_ME = (
    f"exists (select 1 from {_scoped(ME, 'organisation')} as x join {LEVERINGEN} as xl "
    "on x.levering_id = xl.levering_id where xl.vt_code = l.vt_code and x.casusnummer = r.casusnummer)"
)
_KR22_BT = (
    f"exists (select 1 from {_scoped(BT)} as b where b.levering_id = l.levering_id and b.casusnummer = r.casusnummer)"
)
_CASUS_JOIN = "join {table} as c on c.levering_id = l.levering_id and c.casusnummer = r.casusnummer"


def _kr23() -> tuple[list[Check], str]:
    """Continuity: what was open at the end of the previous half-year is in this delivery (ended or not). The
    confronted records are the previous delivery's; without one, this delivery's carried-over records cannot
    be checked."""
    checks, counts = [], []
    for table, code, nummer, wat in (
        (CA, "CA", "casusnummer", "casus"),
        (VV, "VV", "dienstnummer", "dienst"),
        (ON, "ON", "dienstnummer", "dienst"),
    ):
        previous = _previous_of(table)
        missing = (
            f"not exists (select 1 from {_scoped(table)} as x where x.levering_id = l.levering_id "
            f"and x.{nummer} = r.{nummer})"
        )
        checks.append(
            Check(
                previous,
                code,
                nummer,
                f"not r.einddatum_ingevuld and {missing}",
                text(nummer),
                text(
                    f"deze {wat} in deze levering: open aan het eind van het vorige halfjaar, dus in dit halfjaar "
                    "nog actief (met einddatum als zij is beëindigd)"
                ),
                "'open in uw levering ' || r.levering_id || ' (regel ' || r.regelnummer || '), startdatum ' || "
                + _date("r.startdatum")
                + " || '; ontbreekt in deze levering'",
                on="r.voor = l.levering_id",
                regelnummer="null",
            )
        )
        counts.append(_count(previous, "not r.einddatum_ingevuld", on="r.voor = l.levering_id"))
        carried = f"r.startdatum < l.periode_start and {PREVIOUS} is null"
        checks.append(
            Check(
                table,
                code,
                nummer,
                carried,
                text(nummer),
                text(f"deze {wat} in uw levering van het vorige halfjaar, open aan het eind daarvan"),
                unknown="true",
                reden=text(
                    "uw levering van het vorige halfjaar is niet ontvangen: of deze "
                    f"{wat} daar open was en of er andere ontbreken, is niet na te gaan"
                ),
            )
        )
        counts.append(_count(table, carried))
    return checks, _sum(*counts)


_KR23_CHECKS, _KR23_APPLIES = _kr23()

RULES: list[Rule] = [
    rule(
        "KR01",
        FOUT,
        "De einddatum ligt niet voor de startdatum (advies, casus, Voorwaarden en Vervolg, Onderzoek).",
        [
            Check(
                t,
                c,
                n,
                "r.einddatum < r.startdatum",
                text("startdatum, einddatum"),
                text("een einddatum op of na de startdatum"),
            )
            for t, c, n in PERIODS
        ],
        _sum(*(_count(t, "r.einddatum is not null and r.startdatum is not null") for t, _, _ in PERIODS)),
    ),
    rule(
        "KR02",
        FOUT,
        "Elke datum bestaat, ligt niet na het einde van de verslagperiode en niet voor 1 januari 2015.",
        [
            Check(
                t,
                c,
                n,
                " or ".join(_date_bad(d, c) for d in ds),
                _which([(_date_bad(d, c), d) for d in ds]),
                "'een bestaande datum (JJJJMMDD) van 01-01-2015 tot en met ' || " + _date("l.periode_einde"),
            )
            for (t, c, n), ds in DATES.items()
        ],
        _sum(*(_count(t) for t, _, _ in DATES)),
    ),
    rule(
        "KR03",
        FOUT,
        "Elke melding, veiligheidsbeoordeling, dienst, monitoringsmoment, directbetrokkene en "
        "overdracht verwijst naar een casus in dezelfde levering.",
        [
            Check(
                t,
                c,
                n,
                f"not {_casus_exists()}",
                text("casusnummer"),
                text("een casus met dit casusnummer in deze levering"),
            )
            for t, c, n in CASUS_CHILDREN
        ],
        _sum(*(_count(t) for t, _, _ in CASUS_CHILDREN)),
    ),
    rule(
        "KR04",
        FOUT,
        "Elke veiligheidsbeoordeling verwijst naar een melding van de organisatie (in deze levering "
        "of de geldige levering van het vorige halfjaar), met ten hoogste een veiligheidsbeoordeling per melding.",
        [
            Check(
                VB,
                "VB",
                "meldingnummer",
                f"not {_ME_FOUND} or {_VB_TWICE}",
                text("meldingnummer"),
                f"case when not {_ME_FOUND} then "
                + text("een melding met dit meldingnummer in deze levering of in uw levering van het vorige halfjaar")
                + " else "
                + text("ten hoogste een veiligheidsbeoordeling per melding")
                + " end",
                f"case when {_VB_TWICE} then "
                + text("uw levering van het vorige halfjaar heeft al een veiligheidsbeoordeling van deze melding")
                + " end",
                unknown=f"not {_ME_FOUND} and {CARRIED_OVER}",
                reden=REDEN_CARRIED_OVER,
            )
        ],
        _count(VB),
    ),
    rule(
        "KR05",
        FOUT,
        "Elke overdracht verwijst naar haar bron (de melding van de veiligheidsbeoordeling, of de "
        "dienst; in deze levering of die van het vorige halfjaar) en naar een directbetrokkene van dezelfde casus.",
        [
            Check(
                OV,
                "OV",
                "overdrachtnummer",
                f"not {_BRON_FOUND} or not {_OV_BT_FOUND}",
                _which([(f"not {_BRON_FOUND}", "bron, bronnummer"), (f"not {_OV_BT_FOUND}", "persoonsnummer")]),
                "concat_ws('; ', "
                + f"case when not {_BRON_FOUND} then "
                + text(
                    "een bron (VB: meldingnummer, VV of ON: dienstnummer) in deze levering of in uw levering van het "
                    "vorige halfjaar"
                )
                + f" end, case when not {_OV_BT_FOUND} then "
                + text("een directbetrokkene met dit persoonsnummer in dezelfde casus")
                + " end)",
                unknown=f"not {_BRON_FOUND} and {_OV_BT_FOUND} and {CARRIED_OVER}",
                reden=REDEN_CARRIED_OVER,
            )
        ],
        _count(OV),
    ),
    rule(
        "KR06",
        WAARSCHUWING,
        "De meldingsdatum ligt binnen de casus (startdatum tot en met einddatum).",
        [
            Check(
                ME,
                "ME",
                "meldingnummer",
                "r.datum_melding < c.startdatum or r.datum_melding > c.einddatum",
                text("datum_melding"),
                text("een datum van de startdatum tot en met de einddatum van de casus"),
                _casus_dates(),
                join=_CASUS_JOIN.format(table=CA),
            )
        ],
        _count(ME, f"{_casus_exists()} and r.datum_melding is not null"),
    ),
    rule(
        "KR07",
        WAARSCHUWING,
        "De veiligheidsbeoordeling valt op of na de meldingsdatum en binnen 5 werkdagen "
        "(weekenden en feestdagen tellen niet).",
        [
            Check(
                VB,
                "VB",
                "meldingnummer",
                f"r.datum_beoordeling < m.datum_melding or {_werkdag('r.datum_beoordeling')} "
                f"- {_werkdag('m.datum_melding')} > 5",
                text("datum_beoordeling"),
                text("op of na de meldingsdatum en ten hoogste 5 werkdagen erna"),
                "'melding ' || m.meldingnummer || ': datum_melding ' || " + _date("m.datum_melding"),
                join=f"join {ME} as m on m.levering_id = l.levering_id and m.meldingnummer = r.meldingnummer",
            )
        ],
        _count(
            VB,
            f"exists (select 1 from {_scoped(ME)} as m where m.levering_id = l.levering_id "
            "and m.meldingnummer = r.meldingnummer)",
        ),
    ),
    rule(
        "KR08",
        WAARSCHUWING,
        "Een dienst volgt op een veiligheidsbeoordeling met inhoud 1 (vervolgstappen door "
        "Veilig Thuis) in dezelfde casus.",
        [
            Check(
                t,
                c,
                "dienstnummer",
                f"not {_VB_INHOUD_1}",
                text("casusnummer, startdatum"),
                text(
                    "een veiligheidsbeoordeling met inhoud 1 in dezelfde casus, op of voor de startdatum van de "
                    "dienst (in deze levering of uw levering van het vorige halfjaar)"
                ),
                unknown=CARRIED_OVER,
                reden=REDEN_CARRIED_OVER,
            )
            for t, c in ((VV, "VV"), (ON, "ON"))
        ],
        _sum(_count(VV), _count(ON)),
    ),
    rule(
        "KR09",
        WAARSCHUWING,
        "Een afgerond onderzoek duurde ten hoogste 10 weken.",
        [
            Check(
                ON,
                "ON",
                "dienstnummer",
                "r.einddatum - r.startdatum > 70",
                text("startdatum, einddatum"),
                text("ten hoogste 70 dagen (10 weken) van startdatum tot einddatum"),
                "'duur ' || (r.einddatum - r.startdatum) || ' dagen'",
            )
        ],
        _count(ON, "r.einddatum is not null and r.startdatum is not null"),
    ),
    rule(
        "KR10",
        FOUT,
        "Een afgerond onderzoek heeft ten minste een uitkomst, een lopend onderzoek nog geen.",
        [
            Check(
                ON,
                "ON",
                "dienstnummer",
                f"(r.einddatum_ingevuld and not {_any_flag('uitkomst', 9)}) "
                "or (not r.einddatum_ingevuld and r.uitkomst_ingevuld)",
                text("einddatum, uitkomst"),
                "case when r.einddatum_ingevuld then "
                + text("ten minste een uitkomst (het onderzoek heeft een einddatum)")
                + " else "
                + text("geen uitkomst zolang het onderzoek loopt (einddatum leeg)")
                + " end",
            )
        ],
        _count(ON),
    ),
    rule(
        "KR11",
        WAARSCHUWING,
        "Een onderzoek met als uitkomst geen of niet bevestigd geweld (alleen 1, 2, 4 of 5) heeft geen aard.",
        [
            Check(
                ON,
                "ON",
                "dienstnummer",
                f"{NO_VIOLENCE} and {_any_flag('aard', 7)}",
                text("uitkomst, aard"),
                text("geen aard bij een uitkomst zonder (bevestigd) geweld"),
            )
        ],
        _count(ON, NO_VIOLENCE),
    ),
    rule(
        "KR12",
        FOUT,
        "Organisatie is ingevuld precies wanneer de rol 10 (beroepsmatig) is.",
        [
            Check(
                t,
                c,
                n,
                "(r.organisatie is not null) <> coalesce(r.rol = '10', false)",
                text("rol, organisatie"),
                "case when r.organisatie is null then "
                + text("een organisatie, want de rol is 10 (beroepsmatig)")
                + " else "
                + text("geen organisatie, want de rol is niet 10 (beroepsmatig)")
                + " end",
            )
            for t, c, n in ((AD, "AD", "adviesnummer"), (ME, "ME", "meldingnummer"))
        ],
        _sum(_count(AD), _count(ME)),
    ),
    rule(
        "KR13",
        FOUT,
        "Elke code staat in haar codelijst; elk vlaggenveld bevat alleen 0 en 1.",
        _kr13(),
        _sum(*(_count(t) for t, _, _ in sorted(set(CODE_FIELDS) | set(FLAG_FIELDS)))),
    ),
    rule(
        "KR14",
        WAARSCHUWING,
        "Een gesloten casus heeft geen dienst die nog loopt of na de casus eindigt.",
        [
            Check(
                CA,
                "CA",
                "casusnummer",
                f"r.einddatum is not null and exists (select 1 from {DIENSTEN} as d "
                "where d.levering_id = l.levering_id and d.casusnummer = r.casusnummer "
                "and (d.einddatum is null or d.einddatum > r.einddatum))",
                text("einddatum"),
                text("geen dienst van de casus die na deze einddatum nog loopt of eindigt"),
                "(select string_agg(d.soort || ' ' || d.dienstnummer || ' (einddatum ' || "
                f"{_date('d.einddatum')} || ')', "
                f"', ' order by d.dienstnummer) from {DIENSTEN} as d where d.levering_id = l.levering_id "
                "and d.casusnummer = r.casusnummer and (d.einddatum is null or d.einddatum > r.einddatum))",
            )
        ],
        _count(CA, "r.einddatum is not null"),
    ),
    rule(
        "KR15",
        WAARSCHUWING,
        "Een monitoringsmoment ligt binnen de casus.",
        [
            Check(
                MO,
                "MO",
                "monitoringnummer",
                "r.datum_monitoring < c.startdatum or r.datum_monitoring > c.einddatum",
                text("datum_monitoring"),
                text("een datum van de startdatum tot en met de einddatum van de casus"),
                _casus_dates(),
                join=_CASUS_JOIN.format(table=CA),
            )
        ],
        _count(MO, _casus_exists()),
    ),
    rule(
        "KR16",
        FOUT,
        "De veiligheidsscore ligt tussen 0 en 10 wanneer ingevuld.",
        [
            Check(
                MO,
                "MO",
                "monitoringnummer",
                "r.veiligheidsscore is not null and not coalesce(regexp_full_match(r.veiligheidsscore, "
                "'[0-9]{{1,2}}') and try_cast(r.veiligheidsscore as integer) <= 10, false)",
                text("veiligheidsscore"),
                text("een geheel getal van 0 tot en met 10, of leeg"),
            )
        ],
        _count(MO, "r.veiligheidsscore is not null"),
    ),
    rule(
        "KR17",
        FOUT,
        "De gemeentecode is geldig in het jaar van de verslagperiode (na herindelingen), of 9999.",
        [
            Check(
                t,
                c,
                n,
                "r.gemeentecode is distinct from '9999' and not exists (select 1 from "
                f"{GEMEENTECODES} as g where g.verslagperiode = l.verslagperiode "
                "and g.gemeentecode = r.gemeentecode and g.gemeente_gaaf <> '9999')",
                text("gemeentecode"),
                "'een gemeentecode die in ' || l.jaar || ' geldig is (na herindelingen), of 9999 (onbekend)'",
            )
            for t, c, n in ((CA, "CA", "casusnummer"), (AD, "AD", "adviesnummer"))
        ],
        _sum(_count(CA), _count(AD)),
    ),
    rule(
        "KR18",
        FOUT,
        "Het BSN voldoet aan de elfproef, of is 000000000 (onbekend) of 999999999 (ongeboren).",
        [
            Check(
                BT,
                "BT",
                "persoonsnummer",
                "r.bsn_status = 'ongeldig'",
                text("bsn"),
                text("een BSN dat aan de elfproef voldoet, of 000000000 (onbekend) of 999999999 (ongeboren)"),
            )
        ],
        _count(BT),
    ),
    rule(
        "KR19",
        FOUT,
        "De geboortedatum is een geldige volledige of gedeeltelijke datum, niet na het einde van de "
        "verslagperiode, of 00000000, of 99999999 precies wanneer het BSN 999999999 is.",
        [
            Check(
                BT,
                "BT",
                "persoonsnummer",
                "(coalesce(r.geboortedatum = '99999999', false) <> (r.bsn_status = 'ongeboren')) or ("
                "coalesce(r.geboortedatum not in ('99999999', '00000000'), true) and not coalesce("
                "regexp_full_match(r.geboortedatum, '[0-9]{{8}}') and try_cast(left(r.geboortedatum, 4) as integer) "
                "between 1900 and year(l.periode_einde) and (substr(r.geboortedatum, 5, 4) = '0000' or ("
                "substr(r.geboortedatum, 5, 2) between '01' and '12' and (right(r.geboortedatum, 2) = '00' or "
                "try_strptime(r.geboortedatum, '%Y%m%d')::date <= l.periode_einde))), false))",
                text("geboortedatum"),
                "case when coalesce(r.geboortedatum = '99999999', false) <> (r.bsn_status = 'ongeboren') then "
                + text("99999999 precies wanneer het BSN 999999999 (ongeboren) is")
                + " else "
                + "'een datum JJJJMMDD (maand of dag 00 als onbekend) van 1900 tot en met ' || "
                + _date("l.periode_einde")
                + " || ', of 00000000 (onbekend)' end",
            )
        ],
        _count(BT),
    ),
    rule(
        "KR20",
        WAARSCHUWING,
        "Een advies of melding heeft ten minste een aard.",
        [
            Check(t, c, n, f"not {_any_flag('aard', 7)}", text("aard"), text("ten minste een aard-vlag 1"))
            for t, c, n in ((AD, "AD", "adviesnummer"), (ME, "ME", "meldingnummer"))
        ],
        _sum(_count(AD), _count(ME)),
    ),
    rule(
        "KR21",
        WAARSCHUWING,
        "Een overdracht na een veiligheidsbeoordeling volgt op een beoordeling met inhoud 2 (overdracht).",
        [
            Check(
                OV,
                "OV",
                "overdrachtnummer",
                f"exists (select 1 from {_scoped(VB, 'previous')} as x where {SAME_OR_PREVIOUS} "
                "and x.meldingnummer = r.bronnummer and x.inhoud is distinct from '2')",
                text("bron, bronnummer"),
                text("een veiligheidsbeoordeling met inhoud 2 (overdracht) als bron"),
                f"'veiligheidsbeoordeling ' || r.bronnummer || ': inhoud ' || coalesce({_VB_OF_OV}, 'leeg')",
            ),
            Check(
                OV,
                "OV",
                "overdrachtnummer",
                f"r.bron = 'VB' and not {_BRON_FOUND} and {CARRIED_OVER}",
                text("bron, bronnummer"),
                text("een veiligheidsbeoordeling met inhoud 2 (overdracht) als bron"),
                unknown="true",
                reden=REDEN_CARRIED_OVER,
            ),
        ],
        _count(OV, "r.bron = 'VB'"),
    ),
    rule(
        "KR22",
        WAARSCHUWING,
        "Elke casus heeft ten minste een melding en ten minste een directbetrokkene.",
        [
            Check(
                CA,
                "CA",
                "casusnummer",
                f"not {_KR22_ME} or not {_KR22_BT}",
                text("casusnummer"),
                "concat_ws('; ', "
                + f"case when not {_KR22_ME} then "
                + text("een melding van deze casus (in een levering van uw organisatie)")
                + f" end, case when not {_KR22_BT} then "
                + text("een directbetrokkene van deze casus in deze levering")
                + " end)",
                unknown=f"not {_KR22_ME} and {_KR22_BT} and r.startdatum < {FIRST_LOADED}",
                reden="'de casus begon op ' || " + _date("r.startdatum") + " || ', voor uw eerste ontvangen "
                "halfjaar: haar melding kan in een eerdere levering staan'",
            )
        ],
        _count(CA),
    ),
    rule(
        "KR23",
        WAARSCHUWING,
        "Elke casus, Voorwaarden en Vervolg en onderzoek die aan het eind van het vorige halfjaar "
        "open was (in uw geldige levering daarvan), staat in deze levering, beëindigd of nog open.",
        _KR23_CHECKS,
        _KR23_APPLIES,
    ),
]


def rule_range() -> str:
    """The rules as a range for a sentence (KR01 to the last one): derived, never written by hand."""
    return f"{RULES[0].id}-{RULES[-1].id}"
