"""The kwaliteitsrapport's data: per rule of rules.py what GX counted, what it applies to, and the findings,
into one verdict per delivery."""

from __future__ import annotations

from datetime import date

import duckdb

from vt_warehouse.kalender import place
from vt_warehouse.quality.findings import NIET_TE_CONTROLEREN, OVERTREDEN, bind, together_else_alone
from vt_warehouse.quality.gx_runner import RuleOutcome
from vt_warehouse.quality.rules import FOUT, RULES


def applies_to(con: duckdb.DuckDBPyConnection, deliveries: list[str]) -> dict[str, dict[str, int | None]]:
    """Per delivery, for every rule, the number of records it is confronted with: one query per rule for all
    deliveries. A rule whose query fails on them all is counted per delivery; where it fails still, it is None
    (that rule is reported as not run for that delivery, the others are not affected: findings.together_else_alone)."""
    out: dict[str, dict[str, int | None]] = {lid: {} for lid in deliveries}
    for rule in RULES:

        def count(batch: list[str], rule=rule) -> None:
            counts = dict(con.execute(*bind(rule.applies, batch)).fetchall())
            for lid in batch:
                out[lid][rule.id] = counts.get(lid, 0)

        for lid in together_else_alone(deliveries, count):
            out[lid][rule.id] = None
    return out


def kwaliteitsrapport(
    levering_id: str,
    outcomes: list[RuleOutcome],
    applies: dict[str, int | None],
    details: dict[str, dict] | None = None,
    levering: dict | None = None,
    correctie: dict[str, dict[str, int]] | None = None,
) -> dict:
    """The report's data. A rule that could not run has violations None and its error; the delivery then is
    neither approved nor rejected on it (`passed` is False, `not_run` names the rules). `details` are the
    findings per rule (findings.summary), `levering` the register row, `correctie` the comparison with the
    delivery this one replaces."""
    details = details or {}
    rules = []
    for o in outcomes:
        d = details.get(o.rule.id, {})
        listed = d.get(OVERTREDEN)
        if o.violations is not None and listed is not None and not d.get("error") and listed != o.violations:
            # GX and the list ran the same query: apart, neither count can be trusted with the verdict
            o = RuleOutcome(
                o.rule,
                None,
                error=f"GX counted {o.violations} violations and the list of findings "
                f"{listed}: the same query gave two answers (a processing error, not the delivery's)",
            )
        unchecked = d.get(NIET_TE_CONTROLEREN, 0)
        # "van toepassing op" is what was checked: the records confronted, less those that could not be
        checked = None if applies[o.rule.id] is None else applies[o.rule.id] - unchecked
        entry = {
            "id": o.rule.id,
            "severity": o.rule.severity,
            "description": o.rule.description,
            "violations": o.violations,
            "applies_to": checked,
            "examples": o.examples,
        }
        if o.violations is not None and checked is not None:
            entry["voldoet"] = checked - o.violations
            entry["niet_te_controleren"] = unchecked
            entry["voorbeelden"] = d.get("voorbeelden", [])
            entry["voorbeelden_niet_te_controleren"] = d.get("voorbeelden_niet_te_controleren", [])
            entry["per_veld"] = d.get("per_veld", [])
            entry["per_veld_niet_te_controleren"] = d.get("per_veld_niet_te_controleren", [])
            if d.get("error"):  # GX counted, but the list could not be made: said, never an empty list
                entry["lijst_niet_gemaakt"] = d["error"]
        if correctie is not None and o.rule.id in correctie:
            entry["correctie"] = correctie[o.rule.id]
        if o.error:
            entry["error"] = o.error
        rules.append(entry)
    not_run = [r["id"] for r in rules if r["violations"] is None]
    passed = not not_run and not any(r["violations"] for r in rules if r["severity"] == FOUT)
    report = {"delivery": levering_id, "passed": passed, "not_run": not_run, "rules": rules}
    if levering is not None:
        report["levering"] = levering
        if levering.get("ontvangen_dag") and levering.get("verslagperiode"):
            report["kalender"] = place(levering["verslagperiode"], date.fromisoformat(levering["ontvangen_dag"]))
    return report
