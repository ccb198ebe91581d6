"""The dbt models (and the one dbt-written source) that Python reads, each named once here.

Every name belongs to an exposure of `models/exposures/_exposures.yml`, which declares the consumer and the
models it depends on; `tests/test_exposures.py` checks against dbt's manifest that each name here is a model
of its exposure with this relation name, and that no other Python module names a dbt model. Renaming a model
then fails `dbt parse` (the exposure's ref) or that test, not a quality run in production.
"""

from __future__ import annotations


# exposure `kwaliteitsrapport` (GX suite, vt_warehouse/quality/rules.py and gx_runner.py, findings.py) and
# `spiegelrapport` (vt_warehouse/quality/spiegel.py): the delivered records of every loaded delivery, typed and as
# delivered (models/marts/geleverd/), the gemeente lookup, the working-day calendar and the code lists
def geleverd(entiteit: str) -> str:
    """The delivered records of a record type (its raw table's name, the layout's `entiteit`)."""
    return f"geleverd_{entiteit}"


CASUSSEN, ADVIEZEN, MELDINGEN = geleverd("casus"), geleverd("advies"), geleverd("melding")
VEILIGHEIDSBEOORDELINGEN = geleverd("veiligheidsbeoordeling")
VOORWAARDENVERVOLG, ONDERZOEKEN = geleverd("voorwaardenvervolg"), geleverd("onderzoek")
OVERDRACHTEN, MONITORINGSMOMENTEN = geleverd("overdracht"), geleverd("monitoring")
BETROKKENEN = geleverd("betrokkene")
GEMEENTECODES = "gemeentecodes"
WERKDAGEN = "werkdagen"
CODES = "main_reference.codes"

# every loaded delivery and when it is valid (latest delivery wins): the quality reports, the release selection
# and `vt releases` read it (a view: they see the register as loaded a moment ago)
LEVERINGEN = "leveringen"


def valid_on(alias: str, peildatum: str) -> str:
    """SQL: the row `alias` of LEVERINGEN is the valid delivery on `peildatum` (an SQL date expression);
    the same test as the dbt macro geldig_op, which int_leveringen_geselecteerd uses."""
    return f"({alias}.geldig_van <= {peildatum} and ({alias}.geldig_tot is null or {peildatum} < {alias}.geldig_tot))"


# exposures `microdata_export` and `publicatie` (vt_warehouse/release/__init__.py, codebook.py,
# publish/sources.py): the released tables, named per release
def microdata(entity: str, release: str) -> str:
    return f"VT_{entity}_{release}"


def publicatie(table: str, release: str) -> str:
    return f"{table}_{release}"


# exposure `releasebeheer` (vt release, vt releases, vt refresh): what each build of a release was made from
BUILDS = "meta.builds"

# the shared models above (the quality reports and the release selection read them), what they are made from,
# and the seeds
SHARED_NODES = [
    "path:models/staging",
    "path:models/intermediate/gedeeld",
    "path:models/marts/geleverd",
    "path:models/marts/kwaliteit",
    "resource_type:seed",
]
# what only the quality reports read: a release's build leaves these tables alone
QUALITY_ONLY = ["path:models/marts/geleverd"]
SHARED_BUILD = [
    "build",
    "--select",
    *SHARED_NODES,
    "--indirect-selection",
    "cautious",
    "--exclude-resource-type",
    "unit_test",
]
