"""The kwaliteitsrapport rules KR01-KR22 (kwaliteit.md) as SQL over one delivery.

Each rule has a query for its violating records and one for the records it applies to. `{batch}` is the
delivery's row of the register (stg_loader__leveringen), filled in with str.format (so literal braces in
the SQL are doubled); GX substitutes it when the rule runs as an
UnexpectedRowsExpectation, so one query asset per delivery carries every rule. Violations return
(recordtype, nummer, regelnummer): the organisation's own numbers, never a BSN or pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass

from loaders.exposures import (
    ADVIEZEN, BETROKKENEN, CASUSSEN, CODES, GELDIGE_LEVERINGEN, GEMEENTECODES, LEVERINGEN, MELDINGEN,
    MONITORINGSMOMENTEN, ONDERZOEKEN, OVERDRACHTEN, VEILIGHEIDSBEOORDELINGEN, VOORWAARDENVERVOLG, WERKDAGEN,
)

FOUT, WAARSCHUWING = "fout", "waarschuwing"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    description: str
    violations: str  # SQL: the violating records, columns recordtype, nummer, regelnummer
    applies: str  # SQL: one row with the number of records the rule applies to


def _records(table: str, code: str, nummer: str, where: str = "true", extra_join: str = "") -> str:
    return (f"select '{code}' as recordtype, r.{nummer} as nummer, r.regelnummer "
            f"from {{batch}} as l join {table} as r on r.levering_id = l.levering_id {extra_join} where {where}")


def _count(table: str, where: str = "true") -> str:
    return f"select count(*) from {{batch}} as l join {table} as r on r.levering_id = l.levering_id where {where}"


def _union(*parts: str) -> str:
    return "\nunion all\n".join(parts)


def _sum(*parts: str) -> str:
    return "select " + " + ".join(f"({p})" for p in parts)


CA, AD, ME, VB = CASUSSEN, ADVIEZEN, MELDINGEN, VEILIGHEIDSBEOORDELINGEN
VV, ON, OV = VOORWAARDENVERVOLG, ONDERZOEKEN, OVERDRACHTEN
MO, BT = MONITORINGSMOMENTEN, BETROKKENEN


def _previous_periode(alias: str) -> str:
    """The half-year before `alias`.verslagperiode, as text JJJJHn."""
    return (f"case when right({alias}.verslagperiode, 1) = '2' then left({alias}.verslagperiode, 4) || 'H1' "
            f"else cast(cast(left({alias}.verslagperiode, 4) as integer) - 1 as varchar) || 'H2' end")


# The valid delivery of the same organisation for the previous half-year (the latest one loaded).
PREVIOUS = (
    f"(select p.levering_id from {GELDIGE_LEVERINGEN} as p where p.vt_code = l.vt_code and p.laatste "
    f"and p.verslagperiode = {_previous_periode('l')})"
)
SAME_OR_PREVIOUS = f"(x.levering_id = l.levering_id or x.levering_id = {PREVIOUS})"

# Subqueries read a table through one of these scopes: the records of the batch's delivery, of it and the
# previous half-year's, or of every delivery of the organisation. The correlation on `l` alone would make
# DuckDB join the whole history; the scope's join on the batch lets it skip all other deliveries' row groups,
# so the cost of a rule follows the size of the delivery, not of the warehouse.
_SCOPES = {
    "delivery": "select levering_id from {batch}",
    "previous": (
        "select levering_id from {batch} union all "
        "select p.levering_id from {batch} as pl join " + GELDIGE_LEVERINGEN + " as p on p.vt_code = pl.vt_code "
        "and p.laatste and p.verslagperiode = " + _previous_periode("pl")
    ),
    "organisation": ("select p.levering_id from {batch} as pl join " + LEVERINGEN + " as p "
                     "on p.vt_code = pl.vt_code"),
}


def _scoped(table: str, scope: str = "delivery") -> str:
    return (f"(select t.* from ({_SCOPES[scope]}) as scope join {table} as t "
            "on t.levering_id = scope.levering_id)")


def _casus_exists() -> str:
    return (f"exists (select 1 from {_scoped(CA)} as c where c.levering_id = l.levering_id "
            "and c.casusnummer = r.casusnummer)")


def _date_bad(column: str) -> str:
    return (f"(r.{column}_ingevuld and (r.{column} is null or r.{column} > l.periode_einde "
            f"or r.{column} < date '2015-01-01'))")


def _code_bad(column: str, codelijst: str) -> str:
    return (f"(r.{column} is not null and r.{column} not in "
            f"(select code from {CODES} where codelijst = '{codelijst}'))")


def _flags_bad(prefix: str) -> str:
    return f"(r.{prefix}_ingevuld and not r.{prefix}_nul_een)"


def _any_flag(prefix: str, n: int) -> str:
    return "(" + " or ".join(f"coalesce(r.{prefix}_{i}, false)" for i in range(1, n + 1)) + ")"


DATES = {
    (CA, "CA", "casusnummer"): ["startdatum", "einddatum"],
    (AD, "AD", "adviesnummer"): ["startdatum", "einddatum"],
    (ME, "ME", "meldingnummer"): ["datum_melding"],
    (VB, "VB", "meldingnummer"): ["datum_beoordeling"],
    (VV, "VV", "dienstnummer"): ["startdatum", "einddatum"],
    (ON, "ON", "dienstnummer"): ["startdatum", "einddatum"],
    (OV, "OV", "overdrachtnummer"): ["datum_overdracht"],
    (MO, "MO", "monitoringnummer"): ["datum_monitoring"],
}
CODE_FIELDS = {
    (AD, "AD", "adviesnummer"): [("duur", "DUUR"), ("rol", "ROL"), ("organisatie", "ORGANISATIE")],
    (ME, "ME", "meldingnummer"): [("duur", "DUUR"), ("rol", "ROL"), ("organisatie", "ORGANISATIE"),
                                  ("anoniem", "JANEE"), ("aanleiding", "AANLEIDING")],
    (VB, "VB", "meldingnummer"): [("inhoud", "VB_INHOUD"), ("veiligheidstaxatie", "TAXATIE")],
    (VV, "VV", "dienstnummer"): [("duur", "DUUR")],
    (ON, "ON", "dienstnummer"): [("duur", "DUUR")],
    (OV, "OV", "overdrachtnummer"): [("bron", "BRON"), ("partij", "PARTIJ"), ("hulp", "HULP")],
    (BT, "BT", "persoonsnummer"): [("geslacht", "GESLACHT")],
}
FLAG_FIELDS = {
    (AD, "AD", "adviesnummer"): [("aard", 7), ("aanvullende_informatie", 8)],
    (ME, "ME", "meldingnummer"): [("aard", 7), ("aanvullende_informatie", 8)],
    (VV, "VV", "dienstnummer"): [("aard", 7), ("aanvullende_informatie", 8)],
    (ON, "ON", "dienstnummer"): [("aard", 7), ("aanvullende_informatie", 8), ("uitkomst", 9)],
}
CASUS_CHILDREN = [(ME, "ME", "meldingnummer"), (VB, "VB", "meldingnummer"), (VV, "VV", "dienstnummer"),
                  (ON, "ON", "dienstnummer"), (MO, "MO", "monitoringnummer"), (BT, "BT", "persoonsnummer"),
                  (OV, "OV", "overdrachtnummer")]
PERIODS = [(CA, "CA", "casusnummer"), (AD, "AD", "adviesnummer"), (VV, "VV", "dienstnummer"),
           (ON, "ON", "dienstnummer")]


def _kr13() -> tuple[str, str]:
    parts, counts = [], []
    for key in sorted(set(CODE_FIELDS) | set(FLAG_FIELDS)):
        table, code, nummer = key
        bad = [_code_bad(c, lst) for c, lst in CODE_FIELDS.get(key, [])]
        bad += [_flags_bad(p) for p, _ in FLAG_FIELDS.get(key, [])]
        parts.append(_records(table, code, nummer, " or ".join(bad)))
        counts.append(_count(table))
    return _union(*parts), _sum(*counts)


NO_VIOLENCE = ("coalesce(r.uitkomst_1 or r.uitkomst_2 or r.uitkomst_4 or r.uitkomst_5, false) and not "
               "coalesce(r.uitkomst_3 or r.uitkomst_6 or r.uitkomst_7 or r.uitkomst_8 or r.uitkomst_9, false)")


def _werkdag(column: str) -> str:
    return f"(select w.werkdagnummer from {WERKDAGEN} as w where w.datum = {column})"


RULES: list[Rule] = [
    Rule("KR01", FOUT, "De einddatum ligt niet voor de startdatum (advies, casus, Voorwaarden en Vervolg, Onderzoek).",
         _union(*(_records(t, c, n, "r.einddatum < r.startdatum") for t, c, n in PERIODS)),
         _sum(*(_count(t, "r.einddatum is not null and r.startdatum is not null") for t, _, _ in PERIODS))),
    Rule("KR02", FOUT, "Elke datum bestaat, ligt niet na het einde van de verslagperiode en niet voor 1 januari 2015.",
         _union(*(_records(t, c, n, " or ".join(_date_bad(d) for d in ds)) for (t, c, n), ds in DATES.items())),
         _sum(*(_count(t) for t, _, _ in DATES))),
    Rule("KR03", FOUT, "Elke melding, veiligheidsbeoordeling, dienst, monitoringsmoment, directbetrokkene en "
         "overdracht verwijst naar een casus in dezelfde levering.",
         _union(*(_records(t, c, n, f"not {_casus_exists()}") for t, c, n in CASUS_CHILDREN)),
         _sum(*(_count(t) for t, _, _ in CASUS_CHILDREN))),
    Rule("KR04", FOUT, "Elke veiligheidsbeoordeling verwijst naar een melding van de organisatie (in deze levering "
         "of de geldige levering van het vorige halfjaar), met ten hoogste een veiligheidsbeoordeling per melding.",
         _records(VB, "VB", "meldingnummer",
                  f"not exists (select 1 from {_scoped(ME, 'previous')} as x where {SAME_OR_PREVIOUS} and x.meldingnummer = r.meldingnummer) "
                  f"or exists (select 1 from {_scoped(VB, 'previous')} as x where x.levering_id = {PREVIOUS} "
                  "and x.meldingnummer = r.meldingnummer)"),
         _count(VB)),
    Rule("KR05", FOUT, "Elke overdracht verwijst naar haar bron (de melding van de veiligheidsbeoordeling, of de "
         "dienst; in deze levering of die van het vorige halfjaar) en naar een directbetrokkene van dezelfde casus.",
         _records(OV, "OV", "overdrachtnummer",
                  f"not (case r.bron when 'VB' then exists (select 1 from {_scoped(VB, 'previous')} as x where {SAME_OR_PREVIOUS} "
                  "and x.meldingnummer = r.bronnummer) "
                  f"when 'VV' then exists (select 1 from {_scoped(VV, 'previous')} as x where {SAME_OR_PREVIOUS} "
                  "and x.dienstnummer = r.bronnummer) "
                  f"when 'ON' then exists (select 1 from {_scoped(ON, 'previous')} as x where {SAME_OR_PREVIOUS} "
                  "and x.dienstnummer = r.bronnummer) else false end) "
                  f"or not exists (select 1 from {_scoped(BT)} as b where b.levering_id = l.levering_id "
                  "and b.casusnummer = r.casusnummer and b.persoonsnummer = r.persoonsnummer)"),
         _count(OV)),
    Rule("KR06", WAARSCHUWING, "De meldingsdatum ligt binnen de casus (startdatum tot en met einddatum).",
         _records(ME, "ME", "meldingnummer",
                  "r.datum_melding < c.startdatum or r.datum_melding > c.einddatum",
                  f"join {CA} as c on c.levering_id = l.levering_id and c.casusnummer = r.casusnummer"),
         _count(ME, f"{_casus_exists()} and r.datum_melding is not null")),
    Rule("KR07", WAARSCHUWING, "De veiligheidsbeoordeling valt op of na de meldingsdatum en binnen 5 werkdagen "
         "(weekenden en feestdagen tellen niet).",
         _records(VB, "VB", "meldingnummer",
                  f"r.datum_beoordeling < m.datum_melding or {_werkdag('r.datum_beoordeling')} "
                  f"- {_werkdag('m.datum_melding')} > 5",
                  f"join {ME} as m on m.levering_id = l.levering_id and m.meldingnummer = r.meldingnummer"),
         _count(VB, f"exists (select 1 from {_scoped(ME)} as m where m.levering_id = l.levering_id "
                    "and m.meldingnummer = r.meldingnummer)")),
    Rule("KR08", WAARSCHUWING, "Een dienst volgt op een veiligheidsbeoordeling met inhoud 1 (vervolgstappen door "
         "Veilig Thuis) in dezelfde casus.",
         _union(*(_records(t, c, "dienstnummer",
                           f"not exists (select 1 from {_scoped(VB, 'previous')} as x where {SAME_OR_PREVIOUS} "
                           "and x.casusnummer = r.casusnummer and x.inhoud = '1' "
                           "and x.datum_beoordeling <= r.startdatum)") for t, c in ((VV, "VV"), (ON, "ON")))),
         _sum(_count(VV), _count(ON))),
    Rule("KR09", WAARSCHUWING, "Een afgerond onderzoek duurde ten hoogste 10 weken.",
         _records(ON, "ON", "dienstnummer", "r.einddatum - r.startdatum > 70"),
         _count(ON, "r.einddatum is not null and r.startdatum is not null")),
    Rule("KR10", FOUT, "Een afgerond onderzoek heeft ten minste een uitkomst, een lopend onderzoek nog geen.",
         _records(ON, "ON", "dienstnummer",
                  f"(r.einddatum_ingevuld and not {_any_flag('uitkomst', 9)}) "
                  "or (not r.einddatum_ingevuld and r.uitkomst_ingevuld)"),
         _count(ON)),
    Rule("KR11", WAARSCHUWING, "Een onderzoek met als uitkomst geen of niet bevestigd geweld (alleen 1, 2, 4 of 5) "
         "heeft geen aard.",
         _records(ON, "ON", "dienstnummer", f"{NO_VIOLENCE} and {_any_flag('aard', 7)}"),
         _count(ON, NO_VIOLENCE)),
    Rule("KR12", FOUT, "Organisatie is ingevuld precies wanneer de rol 10 (beroepsmatig) is.",
         _union(*(_records(t, c, n, "(r.organisatie is not null) <> coalesce(r.rol = '10', false)")
                  for t, c, n in ((AD, "AD", "adviesnummer"), (ME, "ME", "meldingnummer")))),
         _sum(_count(AD), _count(ME))),
    Rule("KR13", FOUT, "Elke code staat in haar codelijst; elk vlaggenveld bevat alleen 0 en 1.", *_kr13()),
    Rule("KR14", WAARSCHUWING, "Een gesloten casus heeft geen dienst die nog loopt of na de casus eindigt.",
         _records(CA, "CA", "casusnummer",
                  "r.einddatum is not null and exists (select 1 from (select * from " + _scoped(VV) + " union all by name "
                  "select * exclude (uitkomst_1, uitkomst_2, uitkomst_3, uitkomst_4, uitkomst_5, uitkomst_6, "
                  "uitkomst_7, uitkomst_8, uitkomst_9, uitkomst_ingevuld, uitkomst_nul_een) from " + _scoped(ON) + ") as d "
                  "where d.levering_id = l.levering_id and d.casusnummer = r.casusnummer "
                  "and (d.einddatum is null or d.einddatum > r.einddatum))"),
         _count(CA, "r.einddatum is not null")),
    Rule("KR15", WAARSCHUWING, "Een monitoringsmoment ligt binnen de casus.",
         _records(MO, "MO", "monitoringnummer",
                  "r.datum_monitoring < c.startdatum or r.datum_monitoring > c.einddatum",
                  f"join {CA} as c on c.levering_id = l.levering_id and c.casusnummer = r.casusnummer"),
         _count(MO, _casus_exists())),
    Rule("KR16", FOUT, "De veiligheidsscore ligt tussen 0 en 10 wanneer ingevuld.",
         _records(MO, "MO", "monitoringnummer",
                  "r.veiligheidsscore is not null and not coalesce(regexp_full_match(r.veiligheidsscore, "
                  "'[0-9]{{1,2}}') and try_cast(r.veiligheidsscore as integer) <= 10, false)"),
         _count(MO, "r.veiligheidsscore is not null")),
    Rule("KR17", FOUT, "De gemeentecode is geldig in het jaar van de verslagperiode (na herindelingen), of 9999.",
         _union(*(_records(t, c, n,
                           "r.gemeentecode is distinct from '9999' and not exists (select 1 from "
                           f"{GEMEENTECODES} as g where g.verslagperiode = l.verslagperiode "
                           "and g.gemeentecode = r.gemeentecode and g.gemeente_gaaf <> '9999')")
                  for t, c, n in ((CA, "CA", "casusnummer"), (AD, "AD", "adviesnummer")))),
         _sum(_count(CA), _count(AD))),
    Rule("KR18", FOUT, "Het BSN voldoet aan de elfproef, of is 000000000 (onbekend) of 999999999 (ongeboren).",
         _records(BT, "BT", "persoonsnummer", "r.bsn_status = 'ongeldig'"),
         _count(BT)),
    Rule("KR19", FOUT, "De geboortedatum is een geldige volledige of gedeeltelijke datum, niet na het einde van de "
         "verslagperiode, of 00000000, of 99999999 precies wanneer het BSN 999999999 is.",
         _records(BT, "BT", "persoonsnummer",
                  "(coalesce(r.geboortedatum = '99999999', false) <> (r.bsn_status = 'ongeboren')) or ("
                  "coalesce(r.geboortedatum not in ('99999999', '00000000'), true) and not coalesce("
                  "regexp_full_match(r.geboortedatum, '[0-9]{{8}}') and try_cast(left(r.geboortedatum, 4) as integer) "
                  "between 1900 and year(l.periode_einde) and (substr(r.geboortedatum, 5, 4) = '0000' or ("
                  "substr(r.geboortedatum, 5, 2) between '01' and '12' and (right(r.geboortedatum, 2) = '00' or "
                  "try_strptime(r.geboortedatum, '%Y%m%d')::date <= l.periode_einde))), false))"),
         _count(BT)),
    Rule("KR20", WAARSCHUWING, "Een advies of melding heeft ten minste een aard.",
         _union(*(_records(t, c, n, f"not {_any_flag('aard', 7)}")
                  for t, c, n in ((AD, "AD", "adviesnummer"), (ME, "ME", "meldingnummer")))),
         _sum(_count(AD), _count(ME))),
    Rule("KR21", WAARSCHUWING, "Een overdracht na een veiligheidsbeoordeling volgt op een beoordeling met inhoud 2 "
         "(overdracht).",
         _records(OV, "OV", "overdrachtnummer",
                  f"exists (select 1 from {_scoped(VB, 'previous')} as x where {SAME_OR_PREVIOUS} and x.meldingnummer = r.bronnummer "
                  "and x.inhoud is distinct from '2')"),
         _count(OV, "r.bron = 'VB'")),
    Rule("KR22", WAARSCHUWING, "Elke casus heeft ten minste een melding en ten minste een directbetrokkene.",
         _records(CA, "CA", "casusnummer",
                  f"not exists (select 1 from {_scoped(ME, 'organisation')} as x join {LEVERINGEN} as xl "
                  "on x.levering_id = xl.levering_id where xl.vt_code = l.vt_code and x.casusnummer = r.casusnummer) "
                  f"or not exists (select 1 from {_scoped(BT)} as b where b.levering_id = l.levering_id "
                  "and b.casusnummer = r.casusnummer)"),
         _count(CA)),
]

# The examples in a report follow the file's line order: the same delivery always gives the same report.
RULES = [Rule(r.id, r.severity, r.description,
              f"select * from (\n{r.violations}\n) as v order by v.regelnummer, v.recordtype", r.applies)
         for r in RULES]
