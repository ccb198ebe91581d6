"""Quality reports per delivery: the kwaliteitsrapport (GX suite over the warehouse) and the spiegelrapport."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loaders import faults
from loaders.layout import code_lists, layouts
from loaders.sql import relation_exists
from loaders.warehouse import QUALITY_MEMORY_ENV, Warehouse, memory_setting
from vt_warehouse.quality import findings
from vt_warehouse.quality.gx_runner import SuiteRun
from vt_warehouse.quality.kwaliteit import applies_to, kwaliteitsrapport
from vt_warehouse.quality.report import write_reports
from vt_warehouse.quality.spiegel import spiegel_prefetch, spiegelrapport
from vt_warehouse.transform.exposures import LEVERINGEN, SHARED_BUILD
from vt_warehouse.transform.run import BuildError, require_reference, run_dbt

# GX's child and the queries here each use both cores and up to $VT_QUALITY_MEMORY. Side by side they save a
# correction's report the child's start (27 s against 37 s, 0.9 GB together); for a back-fill of several
# half-years they would hold 2.4-3.0 GB at once (274 deliveries), so beyond a half-year's deliveries with their
# corrections the queries wait for GX: 1.6 GB, in the same time (docs/benchmarks-history.md, eighth session).
BESIDE_GX_AT_MOST = 40


class QualityError(Exception):
    pass


@dataclass
class Summary:
    delivery: str
    passed: bool
    failed_rules: list[str]
    folder: Path
    not_run: list[str] = field(default_factory=list)  # rules that could not run (a defect, not the delivery's)


def select_deliveries(warehouse: Warehouse, delivery: str | None, periode: str | None, all_: bool) -> list[str]:
    if not warehouse.database.exists():
        raise QualityError(f"no warehouse at {warehouse.database}: load deliveries first")
    with warehouse.connect(read_only=True) as con:
        ready = relation_exists(con, LEVERINGEN)
    if not ready:  # loaded, never built: the register the reports read is a dbt model
        run_dbt(warehouse, SHARED_BUILD)
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            f"select levering_id from {LEVERINGEN} where (? or levering_id = ? or verslagperiode = ?) "
            "order by levering_id",
            [all_, delivery, periode],
        ).fetchall()
    found = [r[0] for r in rows]
    if not found:
        wanted = delivery or periode or "any"
        raise QualityError(f"no loaded delivery matches {wanted}")
    return found


def jaar_of(levering_id: str) -> int:
    """The year of a delivery id vt_code_JJJJHn_nnn."""
    return int(levering_id.split("_")[1][:4])


def _register(con, deliveries: list[str]) -> dict[str, dict]:
    """Per delivery what the report says about the file: name, reception, checksum, layout, what it replaces."""
    cur = con.execute(
        f"""select r.levering_id, r.bestandsnaam, r.verslagperiode,
                   lpad(cast(r.leveringsnummer as varchar), 3, '0') as leveringsnummer,
                   strftime(r.ontvangen_op, '%Y-%m-%d') as ontvangen_dag,
                   strftime(r.ontvangen_op, '%d-%m-%Y %H:%M') || ' UTC' as ontvangen_op,
                   coalesce(strftime(try_strptime(r.aanmaakdatum, '%Y%m%d'), '%d-%m-%Y'), r.aanmaakdatum)
                       as aanmaakdatum, r.versie_bestandsdefinitie,
                   r.checksum_sha256, r.vervangt
            from {LEVERINGEN} as r
            where list_contains(?, r.levering_id)""",
        [deliveries],
    )
    names = [d[0] for d in cur.description]
    return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def run_quality(warehouse: Warehouse, deliveries: list[str], out: Path, shared_built: bool = False) -> list[Summary]:
    """Both reports of every delivery, checked together. `shared_built`: the caller ran SHARED_BUILD since the
    last load."""
    # KR17 and the spiegelrapport judge gemeentecodes by the year's list: never without one
    try:
        require_reference(
            warehouse,
            {jaar_of(lid) for lid in deliveries},
            f"quality reports of {', '.join(deliveries[:3])}{', ...' if len(deliveries) > 3 else ''} cannot be made",
        )
    except BuildError as exc:
        raise QualityError(str(exc)) from None
    if not shared_built:
        run_dbt(warehouse, SHARED_BUILD)
    # the rules over many deliveries at once took 3 GB unbounded (the five-year history), 1.4 GB at 1GB
    memory = memory_setting(QUALITY_MEMORY_ENV)
    # GX opens the database itself (read-only), in a child process
    suite = SuiteRun(warehouse.database, warehouse.home / "quality-work", deliveries, memory)
    faults.checkpoint("quality:gx-running")
    try:
        outcomes = suite.wait() if len(deliveries) > BESIDE_GX_AT_MOST else None
        with warehouse.connect(read_only=True) as con:
            con.execute("set memory_limit = ?", [memory])
            levering = _register(con, deliveries)
            # a correction's report compares its violations with those of the delivery it replaces: the rules run
            # once over both (one query per rule costs about as much for two deliveries as for one)
            earlier = {lid: levering[lid]["vervangt"] for lid in deliveries if levering[lid]["vervangt"]}
            if replaced := [e for e in earlier.values() if e not in levering]:
                levering |= _register(con, replaced)
            checked = list(dict.fromkeys([*deliveries, *earlier.values()]))
            version = {lid: layouts().get(levering[lid]["versie_bestandsdefinitie"]) for lid in checked}
            # every rule is one query over all the deliveries, split per delivery afterwards
            applies = applies_to(con, deliveries)
            national: dict = {}
            spiegel_prefetch(con, {lid: version[lid] for lid in deliveries}, national)
            # every field of the delivery's own layout version
            spiegels = {lid: spiegelrapport(con, version[lid], lid, national_cache=national) for lid in deliveries}
            failed = findings.collect(con, version, "bevindingen")
            details = findings.summary(con, "bevindingen", deliveries)
            for lid in deliveries:
                folder = out / lid
                folder.mkdir(parents=True, exist_ok=True)
                findings.write_lists(con, "bevindingen", lid, folder)
                for rule_id, error in failed[lid].items():
                    details[lid][rule_id]["error"] = error
            corrections = {lid: findings.compare(con, "bevindingen", lid, e) for lid, e in earlier.items()}
        outcomes = suite.wait() if outcomes is None else outcomes
    finally:
        suite.kill()
    names = dict(code_lists()["VT_ORGANISATIE"])
    summaries = []
    for lid in deliveries:
        report = kwaliteitsrapport(lid, outcomes[lid], applies[lid], details[lid], levering[lid], corrections.get(lid))
        folder = write_reports(out, report, spiegels[lid], names.get(lid[:4], lid[:4]))
        failed = [r["id"] for r in report["rules"] if r["severity"] == "fout" and r["violations"]]
        summaries.append(Summary(lid, report["passed"], failed, folder, report["not_run"]))
    return summaries
