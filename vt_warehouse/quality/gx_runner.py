"""Run the kwaliteitsrapport suite with Great Expectations against the DuckDB warehouse: one query asset whose
batch is the deliveries of the run, so each rule is one query over all of them; its unexpected rows are the
deliveries that break the rule, each with its number of violations and the first of them. GX returns at most
200 of those rows (`MAX_RESULT_RECORDS`, whatever the result format asks), so a run of more deliveries is
validated in batches of at most that many, and a rule whose rows were cut all the same is counted again per
missing delivery: never a delivery's violations read as none.

GX 1.24 on DuckDB needs one workaround (stack-facts): GX only keeps a connection open for the dialects in
`_PERSISTED_CONNECTION_DIALECTS`; for any other it reads results from a connection it already closed, and
every expectation fails with "list index out of range" (upstream #10738, #11579). `enable_duckdb` adds
DuckDB to that private tuple; GX is pinned exactly and tests/quality/test_gx_duckdb.py fails if this stops
working.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loaders.warehouse import spill_folder
from vt_warehouse import PROJECT_DIR
from vt_warehouse.children import die_with_parent
from vt_warehouse.quality.findings import delivery_filter
from vt_warehouse.quality.rules import RULES, Rule, rule_range
from vt_warehouse.transform.exposures import LEVERINGEN

PROJECT_GX = PROJECT_DIR / "gx"
SUITE_NAME = "kwaliteitsrapport"
SUITE_FILE = PROJECT_GX / "expectations" / f"{SUITE_NAME}.json"
LEVERING_ID = re.compile(r"^VT\d{2}_\d{4}H[12]_\d{3}\Z")
MAX_EXAMPLES = 20


class _DuckDBDialect(str):
    """Quacks like a GXSqlDialect member (GX reads `.value` and compares with the engine's dialect name)."""

    @property
    def value(self) -> str:
        return str(self)


def enable_duckdb() -> None:
    import great_expectations.execution_engine.sqlalchemy_execution_engine as engine

    if "duckdb" not in [str(getattr(d, "value", d)) for d in engine._PERSISTED_CONNECTION_DIALECTS]:
        engine._PERSISTED_CONNECTION_DIALECTS = (*engine._PERSISTED_CONNECTION_DIALECTS, _DuckDBDialect("duckdb"))


def per_delivery(violations: str) -> str:
    """A rule's violations counted per delivery of the batch, with the first MAX_EXAMPLES in the file's order."""
    return (
        "select levering_id, count(*) as overtredingen, list(recordtype || ' ' || coalesce(nummer, '') "
        f"order by regelnummer, recordtype, nummer)[1:{MAX_EXAMPLES}] as voorbeelden from (\n{violations}\n) "
        "as v group by levering_id"
    )


def stable_id(name: str) -> str:
    """An expectation's or the suite's id, the same every time it is generated (GX would draw a new one)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"vt-warehouse:gx:{SUITE_NAME}:{name}"))


def suite_dict() -> dict:
    """The suite as GX stores it: one UnexpectedRowsExpectation per rule, rule id and severity in meta."""
    return {
        "name": SUITE_NAME,
        "expectations": [
            {
                "type": "unexpected_rows_expectation",
                "id": stable_id(rule.id),
                "kwargs": {"unexpected_rows_query": per_delivery(rule.violations)},
                "meta": {"rule": rule.id, "severity": rule.severity, "description": rule.description},
                "description": f"{rule.id} ({rule.severity}): {rule.description}",
            }
            for rule in RULES
        ],
        "meta": {"source": f"vt_warehouse/quality/rules.py (docs/kwaliteit.md, {rule_range()})"},
    }


def suite_text() -> str:
    """The committed suite file, exactly as GX writes it (keys sorted, two spaces, no final newline)."""
    import great_expectations as gx

    suite = suite_dict()
    for e in suite["expectations"]:
        e["severity"] = "critical"
    suite["id"] = stable_id("suite")
    suite["meta"] = {"great_expectations_version": gx.__version__, **suite["meta"]}
    suite["notes"] = None
    return json.dumps(suite, indent=2, sort_keys=True)


@dataclass
class RuleOutcome:
    rule: Rule
    violations: int | None  # None: the rule could not run (see error)
    examples: list[str] = field(default_factory=list)
    error: str | None = None  # the database's message when the rule could not run


def run_suite(
    database: Path, work_dir: Path, deliveries: list[str], memory_limit: str | None = None
) -> dict[str, list[RuleOutcome]]:
    """Validate every delivery with the committed suite; returns per delivery the outcome of every rule. DuckDB
    holds at most `memory_limit` (a DuckDB size) and spills beyond it into a folder of this process's own."""
    import great_expectations as gx

    enable_duckdb()
    # ids go into GX's query text: anything but the register's own form is never run, only reported
    odd = [lid for lid in deliveries if not LEVERING_ID.match(lid)]
    deliveries = [lid for lid in deliveries if LEVERING_ID.match(lid)]
    outcomes: dict[str, list[RuleOutcome]] = {
        lid: [
            RuleOutcome(rule, None, error="not a delivery id of the form VT00_2020H1_001; not checked")
            for rule in RULES
        ]
        for lid in odd
    }
    if not deliveries:
        return outcomes
    # the committed context is copied: runs never write into the repository
    root = work_dir / "gx-run"
    if root.exists():
        shutil.rmtree(root)
    # copied without the repository's modes: the run's files (results with organisation numbers) stay owner-only
    shutil.copytree(
        PROJECT_GX, root / "gx", ignore=shutil.ignore_patterns("uncommitted"), copy_function=shutil.copyfile
    )
    context = gx.get_context(mode="file", project_root_dir=str(root))
    suite = context.suites.get(SUITE_NAME)
    if [(e.meta["rule"], e.unexpected_rows_query) for e in suite.expectations] != [
        (e["meta"]["rule"], e["kwargs"]["unexpected_rows_query"]) for e in suite_dict()["expectations"]
    ]:
        # the layout changed since the suite was committed (a data change: KR13 checks a new field): the run's
        # copy follows the rules, so that GX and the lists of findings check the same
        suite = _add_suite(context)
    config = {"memory_limit": memory_limit} if memory_limit else {}
    if spill := spill_folder(database.resolve()):
        config["temp_directory"] = str(spill)
    source = context.data_sources.add_sql(
        name="warehouse",
        connection_string=f"duckdb:///{database.resolve()}",
        kwargs={"connect_args": {"read_only": True, "config": config}},
    )
    query = _fresh_query(source)
    size = gx_rows_at_most()
    try:
        for n, start in enumerate(range(0, len(deliveries), size)):
            batch = deliveries[start : start + size]
            # the ids matched LEVERING_ID: safe as literals in the asset's query
            where, _ = delivery_filter(batch, literal=True)
            asset = source.add_query_asset(
                name=f"leveringen_{n}", query=f"select * from {LEVERINGEN} where levering_id {where}"
            )
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=f"kwaliteit_{n}", data=asset.add_batch_definition_whole_table("leveringen"), suite=suite
                )
            )
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(
                    name=f"kwaliteitsrapporten_{n}",
                    validation_definitions=[definition],
                    result_format={"result_format": "COMPLETE"},
                )
            )
            outcomes.update(_outcomes(checkpoint.run(), query, batch))
    finally:
        _release(source)
    return outcomes


def gx_rows_at_most() -> int:
    """How many rows of an unexpected_rows_query GX returns: the module that fetches them reads this constant."""
    from great_expectations.expectations.metrics import query_metric_provider

    return query_metric_provider.MAX_RESULT_RECORDS


def _outcomes(result, query: Callable[[str], list[tuple]], deliveries: list[str]) -> dict[str, list[RuleOutcome]]:
    outcomes: dict[str, list[RuleOutcome]] = {lid: [] for lid in deliveries}
    by_rule = {r.id: r for r in RULES}
    for run in result.run_results.values():
        for er in run.results:
            rule = by_rule[er.expectation_config.meta["rule"]]
            sql = er.expectation_config.kwargs["unexpected_rows_query"]
            if "observed_value" not in er.result:
                # The query failed. GX runs every rule on one connection, so one failure aborts the rules after
                # it ("Current transaction is aborted"): run the rule again per delivery to get each one's own
                # answer, or its own message.
                for lid in deliveries:
                    outcomes[lid].append(run_rule_alone(query, rule, sql, lid))
                continue
            rows = {row["levering_id"]: row for row in er.result.get("details", {}).get("unexpected_rows") or []}
            # observed_value counts every row of the query, the details hold the first rows only: fewer means cut
            cut = len(rows) < int(er.result["observed_value"])
            for lid in deliveries:
                row = rows.get(lid)
                outcomes[lid].append(
                    RuleOutcome(rule, int(row["overtredingen"]), list(row["voorbeelden"]))
                    if row
                    else run_rule_alone(query, rule, sql, lid)
                    if cut
                    else RuleOutcome(rule, 0)
                )
    return {lid: sorted(rules, key=lambda o: o.rule.id) for lid, rules in outcomes.items()}


def run_rule_alone(query: Callable[[str], list[tuple]], rule: Rule, violations: str, levering_id: str) -> RuleOutcome:
    """One rule (its suite query `violations`, per_delivery's form) on one delivery in a fresh transaction, as GX's
    UnexpectedRowsExpectation would count it. A rule that still fails is an outcome with the database's message,
    never an exception: the other rules and deliveries are not affected."""
    # levering_id matched LEVERING_ID: safe as a literal, as in the query asset
    sql = violations.format(batch=f"(select * from {LEVERINGEN} where levering_id = '{levering_id}')")
    try:
        rows = query(f"select overtredingen, voorbeelden from ({sql}) where levering_id = '{levering_id}'")
    except Exception as exc:  # any database error: the rule's finding is that it could not run
        message = str(getattr(exc, "orig", exc)).strip().splitlines()
        return RuleOutcome(rule, None, error=(message[0] if message else type(exc).__name__)[:500])
    return RuleOutcome(rule, int(rows[0][0]), list(rows[0][1])) if rows else RuleOutcome(rule, 0)


def _fresh_query(source) -> Callable[[str], list[tuple]]:
    """Queries on GX's own connection (a second DuckDB connection in this process would conflict with it), each
    after a rollback of the transaction a failed rule aborted."""
    import sqlalchemy as sa

    engine = source.get_execution_engine()

    def query(sql: str) -> list[tuple]:
        connection = engine._connection or engine.engine.connect()
        connection.rollback()
        try:
            return [tuple(r) for r in connection.execute(sa.text(sql)).fetchall()]
        finally:
            connection.rollback()

    return query


class SuiteRun:
    """run_suite in a child process, started at once so the caller can work meanwhile; `wait` collects.

    A child because GX keeps DuckDB handles alive in the process that used it, which would stop this process
    from opening the database again (read-write) afterwards. One child for every delivery: each rule is one
    query over all of them, which DuckDB runs on every core (274 deliveries: 48 s in one child, 70 s split over
    two, each of which scanned the history again)."""

    def __init__(self, database: Path, work_dir: Path, deliveries: list[str], memory_limit: str | None = None):
        work_dir.mkdir(parents=True, exist_ok=True)
        self._dir, self._deliveries = work_dir, deliveries
        (work_dir / "outcomes.json").unlink(missing_ok=True)  # never read a former run's answer
        request = work_dir / "request.json"
        request.write_text(
            json.dumps(
                {
                    "database": str(database),
                    "work_dir": str(work_dir),
                    "deliveries": deliveries,
                    "memory_limit": memory_limit,
                }
            )
        )
        with open(work_dir / "stderr.txt", "w") as stderr:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "vt_warehouse.quality.gx_runner", str(request)],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
                preexec_fn=die_with_parent,
            )

    def wait(self) -> dict[str, list[RuleOutcome]]:
        code = self._proc.wait()
        try:
            answer = json.loads((self._dir / "outcomes.json").read_text()) if code == 0 else None
        except (OSError, ValueError):
            answer = None
        if answer is None:
            # the whole run failed: every rule of every delivery is reported as not run, with the child's last words
            lines = (self._dir / "stderr.txt").read_text(errors="replace").strip().splitlines()
            error = f"the quality run stopped (exit {code}): {lines[-1] if lines else 'no message'}"[:500]
            return {lid: [RuleOutcome(rule, None, error=error) for rule in RULES] for lid in self._deliveries}
        by_rule = {r.id: r for r in RULES}
        return {
            lid: [RuleOutcome(by_rule[o["rule"]], o["violations"], o["examples"], o.get("error")) for o in rules]
            for lid, rules in answer.items()
        }

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


def run_suite_isolated(
    database: Path, work_dir: Path, deliveries: list[str], memory_limit: str | None = None
) -> dict[str, list[RuleOutcome]]:
    """run_suite for the deliveries, in a child process (see SuiteRun)."""
    return SuiteRun(database, work_dir, deliveries, memory_limit).wait()


def _child(request_path: str) -> None:
    request = json.loads(Path(request_path).read_text())
    outcomes = run_suite(
        Path(request["database"]), Path(request["work_dir"]), request["deliveries"], request.get("memory_limit")
    )
    answer = {
        lid: [{"rule": o.rule.id, "violations": o.violations, "examples": o.examples, "error": o.error} for o in rules]
        for lid, rules in outcomes.items()
    }
    (Path(request["work_dir"]) / "outcomes.json").write_text(json.dumps(answer))


def _release(source) -> None:
    """Close the connection GX keeps (see enable_duckdb), so the database file is free again."""
    engine = source.get_execution_engine()
    connection = getattr(engine, "_connection", None)
    if connection is not None:
        connection.close()
        engine._connection = None
    engine.engine.dispose()


def _add_suite(context):
    """The suite of rules.py (suite_dict) into a GX context, through GX itself, in place of any former one."""
    import great_expectations as gx
    from great_expectations.expectations import UnexpectedRowsExpectation

    if any(s.name == SUITE_NAME for s in context.suites.all()):
        context.suites.delete(SUITE_NAME)
    suite = context.suites.add(gx.ExpectationSuite(name=SUITE_NAME, meta=suite_dict()["meta"]))
    for e in suite_dict()["expectations"]:
        suite.add_expectation(
            UnexpectedRowsExpectation(
                unexpected_rows_query=e["kwargs"]["unexpected_rows_query"],
                meta=e["meta"],
                description=e["description"],
            )
        )
    suite.save()
    return suite


if __name__ == "__main__":
    _child(sys.argv[1])
