"""Running the dbt project: in a child process, on the warehouse's database, with its messages kept.

Everything that builds models (a release, the shared models the quality reports read, the benchmarks) runs dbt
through `run_dbt`; a stop of the project's guard (macros/guard_release.sql) or any dbt error becomes a
BuildError with what dbt said.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from loaders import referentie
from loaders.warehouse import Warehouse, prepare

PROJECT_DIR = Path(__file__).resolve().parent.parent
TARGET = "gedeeld"  # the target folder of every run: one parse serves them all (see run_dbt)


class BuildError(Exception):
    """A release or the shared models cannot be built; the message says why."""


def require_reference(warehouse: Warehouse, jaren: set[int], what: str) -> None:
    """BuildError naming every year that lacks a gemeente or VT-regio list, and how to add it."""
    with warehouse.connect() as con:
        prepare(con)
        gaps = referentie.missing(con, jaren)
    if gaps:
        raise BuildError(referentie.missing_message(what, gaps))


def target_dir(warehouse: Warehouse) -> Path:
    return warehouse.home.resolve() / "dbt-target" / TARGET


def run_dbt(warehouse: Warehouse, args: list[str], echo: bool = False, release: str | None = None,
            peildatum: str | None = None) -> str:
    """dbt in a child process (it then holds the DuckDB file only while it runs). The release and peildatum go in
    the environment (macros/release_var.sql), not as vars: dbt then keeps its parse from one run to the next and
    parses again only the files that read them, so every release shares one target folder and one parse."""
    env = {**os.environ, "VT_DATABASE": str(warehouse.database.resolve()), "DO_NOT_TRACK": "1",
           "VT_HOME": str(warehouse.home.resolve()), "VT_RELEASE": release or "", "VT_PEILDATUM": peildatum or ""}
    with warehouse.connect() as con:
        prepare(con)  # dbt reads every raw column of every layout version and the reference schema
    cmd = [sys.executable, "-m", "dbt.cli.main", "--no-use-colors", *args, "--project-dir", str(PROJECT_DIR),
           "--profiles-dir", str(PROJECT_DIR), "--target-path", str(target_dir(warehouse)),
           "--log-path", str(warehouse.logs.resolve())]
    lines = []
    with subprocess.Popen(cmd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          cwd=PROJECT_DIR) as proc:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()
    if proc.returncode != 0:
        stopped = guard_message(lines)
        if stopped:
            raise BuildError(stopped)
        errors = [line for line in lines if "ERROR" in line or "Error" in line or "FAIL" in line]
        raise BuildError("dbt failed:\n" + "\n".join(errors[-30:] or lines[-30:]))
    return "\n".join(lines) + "\n"


def guard_message(lines: list[str]) -> str | None:
    """The message with which dbt's guard (on-run-start, macros/guard_release.sql) stopped a run, if it did."""
    for i, line in enumerate(lines):
        if "in operation vt_warehouse-on-run-start" in line:
            message = []
            for follow in lines[i + 1:]:
                if not follow.strip() or follow.lstrip().startswith(">"):
                    break
                message.append(follow.strip())
            return " ".join(message) or None
    return None
