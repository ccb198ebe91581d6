"""The release calendar: one row per release and half-year, made by the rule in vt_warehouse/kalender.py (the
one home of the rule, which the CLI uses too) with the exceptions of the seed releasekalender_afwijkingen."""

from datetime import date

import pyarrow as pa

from loaders.periods import FIRST_YEAR
from vt_warehouse.kalender import plan


def model(dbt, session):
    dbt.config(materialized="table")
    afwijkingen = dbt.ref("releasekalender_afwijkingen").arrow().read_all().to_pylist()
    release = dbt.config.get("release") or ""
    # every year from 2019 through next year, and the year of the release being built
    last = max(date.today().year + 1, int(release[:4]) if release[:4].isdigit() else 0)
    rows = [
        {
            "release": r.name,
            "verslagperiode": p,
            "jaar": r.jaar,
            "versie": r.versie,
            "status": r.status,
            "peildatum": r.peildatum,
        }
        for r in plan(range(FIRST_YEAR, last + 1), [{k: v or "" for k, v in row.items()} for row in afwijkingen])
        for p in r.perioden
    ]
    schema = pa.schema(
        [
            ("release", pa.string()),
            ("verslagperiode", pa.string()),
            ("jaar", pa.int32()),
            ("versie", pa.int32()),
            ("status", pa.string()),
            ("peildatum", pa.date32()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
