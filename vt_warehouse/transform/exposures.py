"""The dbt models (and the one dbt-written source) that Python reads, each named once here.

Every name belongs to an exposure of `models/exposures/_exposures.yml`, which declares the consumer and the
models it depends on; `tests/test_exposures.py` checks against dbt's manifest that each name here is a model
of its exposure with this relation name, and that no other Python module names a dbt model. Renaming a model
then fails `dbt parse` (the exposure's ref) or that test, not a quality run in production.
"""

from __future__ import annotations

# exposure `kwaliteitsrapport` (GX suite, vt_warehouse/quality/rules.py and gx_runner.py) and `spiegelrapport`
# (vt_warehouse/quality/spiegel.py)
LEVERINGEN = "stg_loader__leveringen"
CASUSSEN, ADVIEZEN, MELDINGEN = "stg_loader__casussen", "stg_loader__adviezen", "stg_loader__meldingen"
VEILIGHEIDSBEOORDELINGEN = "stg_loader__veiligheidsbeoordelingen"
VOORWAARDENVERVOLG, ONDERZOEKEN = "stg_loader__voorwaardenvervolg", "stg_loader__onderzoeken"
OVERDRACHTEN, MONITORINGSMOMENTEN = "stg_loader__overdrachten", "stg_loader__monitoringsmomenten"
BETROKKENEN = "stg_loader__betrokkenen"
GEMEENTECODES = "int_gemeentecodes_vertaald"
WERKDAGEN = "int_werkdagen_genummerd"
CODES = "main_reference.codes"

# every consumer of "latest delivery wins" (release selection, spiegelrapport, the rules' previous half-year)
GELDIGE_LEVERINGEN = "int_leveringen_vervangen"


def valid_on(alias: str, peildatum: str) -> str:
    """SQL: the row `alias` of GELDIGE_LEVERINGEN is the valid delivery on `peildatum` (an SQL date expression);
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

# the shared models above (the quality reports and release selection read them) and the seeds
SHARED_NODES = ["path:models/staging", "path:models/intermediate/gedeeld", "resource_type:seed"]
# the dbt command that makes them, with their tests but not the tests that also read a release's models
SHARED_BUILD = [
    "build",
    "--select",
    *SHARED_NODES,
    "--indirect-selection",
    "cautious",
    "--exclude-resource-type",
    "unit_test",
]
