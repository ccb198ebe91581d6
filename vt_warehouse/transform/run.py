"""Running the dbt project: in a child process, on the warehouse's database, with its messages kept.

Everything that builds models (a release, the shared models the quality reports read, the benchmarks) runs dbt
through `run_dbt` (one command) or `run_dbt_each` (one command for several releases, in one process); a stop of
the project's guard (macros/guard_release.sql) or any dbt error becomes a BuildError with what dbt said.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from loaders import referentie
from loaders.warehouse import Warehouse, prepare
from vt_warehouse import PROJECT_DIR
from vt_warehouse.transform.child import MARKER

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


PARSED_FROM = "project_dir.txt"  # in the target folder: the project whose files dbt's saved parse names
SAVED_PARSE = "partial_parse.msgpack"  # dbt's own name
# The project's last parse, for a warehouse that has none yet (its first build): dbt's full parse of the project
# costs about 2 s more than reusing one. dbt itself decides whether a saved parse fits (the project's files, the
# vars, the environment variables the models read, the profile); the profile names the database relative to the
# folder the dbt child runs in (run_dbt_each), so a parse made in one warehouse fits every other.
PARSE_CACHE = PROJECT_DIR / "target" / "vt-parse" / SAVED_PARSE


def forget_other_project(target: Path) -> None:
    """dbt's saved parse (partial_parse.msgpack) holds every file's absolute path and is reused whatever project
    runs next: a warehouse last built from a clone elsewhere (a worktree, the previous install) would make dbt read
    seeds that are gone ("No files found"). A parse from another project is dropped, so dbt parses this one."""
    stamp = target / PARSED_FROM
    try:
        if stamp.read_text(encoding="utf-8") == str(PROJECT_DIR):
            return
    except OSError:
        pass  # never stamped, or unreadable: parse afresh
    try:
        (target / SAVED_PARSE).unlink(missing_ok=True)
        target.mkdir(parents=True, exist_ok=True)
        stamp.write_text(str(PROJECT_DIR), encoding="utf-8")
    except OSError:
        pass  # a target folder that cannot be written: dbt fails on it with its own message


def reuse_project_parse(target: Path) -> None:
    """A target folder without a saved parse starts from the project's last one (PARSE_CACHE), if there is one."""
    try:
        if not (target / SAVED_PARSE).exists() and PARSE_CACHE.is_file():
            shutil.copyfile(PARSE_CACHE, target / SAVED_PARSE)
    except OSError:
        pass  # dbt parses the project itself


def keep_project_parse(target: Path) -> None:
    """The target folder's saved parse becomes the project's (PARSE_CACHE) when it is newer. Replaced whole (a
    reader never sees half a file); a project folder that cannot be written keeps none."""
    saved = target / SAVED_PARSE
    tmp = PARSE_CACHE.with_name(f".{SAVED_PARSE}.{os.getpid()}.tmp")
    try:
        if PARSE_CACHE.is_file() and PARSE_CACHE.stat().st_mtime_ns >= saved.stat().st_mtime_ns:
            return
        PARSE_CACHE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(saved, tmp)
        os.replace(tmp, PARSE_CACHE)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Run:
    """One dbt command of a child process: for this release and peildatum (both optional)."""

    release: str | None = None
    peildatum: str | None = None


def run_dbt(
    warehouse: Warehouse, args: list[str], echo: bool = False, release: str | None = None, peildatum: str | None = None
) -> str:
    """One dbt command; its output, or BuildError with what dbt said."""
    [outcome] = run_dbt_each(warehouse, args, [Run(release, peildatum)], echo)
    if isinstance(outcome, BuildError):
        raise outcome
    return outcome


def run_dbt_each(warehouse: Warehouse, args: list[str], runs: list[Run], echo: bool = False) -> list[str | BuildError]:
    """The same dbt command once per run (e.g. `build` for several releases), in one child process
    (vt_warehouse/transform/child.py; it holds the DuckDB file only while it runs). Per run its output, or a
    BuildError with what dbt said: one release that fails does not stop the others. The release and peildatum go in the
    environment (macros/release_var.sql), not as vars: dbt then keeps its parse from one run to the next and parses
    again only the files that read them, so every release shares one target folder and one parse."""
    # The child runs in the database's folder and dbt's profile names the file alone: the profile, and with it
    # dbt's saved parse, are then the same for every warehouse (see PARSE_CACHE). -P: nothing is imported from
    # that folder.
    database = warehouse.database.resolve()
    env = {**os.environ, "VT_DATABASE": database.name, "DO_NOT_TRACK": "1", "VT_HOME": str(warehouse.home.resolve())}
    with warehouse.connect() as con:
        prepare(con)  # dbt reads every raw column of every layout version and the reference schema
    target = target_dir(warehouse)
    forget_other_project(target)
    reuse_project_parse(target)
    dbt_args = [
        "--no-use-colors",
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(warehouse.logs.resolve()),
    ]
    # the end-of-run line carries a token of this call: no output of dbt (which may quote delivered text) can
    # pass for it
    marker = f"{MARKER} {secrets.token_hex(8)}"
    spec = {
        "args": dbt_args,
        "marker": marker,
        "runs": [{"release": r.release, "peildatum": r.peildatum} for r in runs],
    }
    cmd = [sys.executable, "-P", "-m", "vt_warehouse.transform.child", json.dumps(spec)]
    outcomes: list[str | BuildError] = []
    lines: list[str] = []
    with subprocess.Popen(
        cmd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=database.parent
    ) as proc:
        for line in proc.stdout:
            line = line.rstrip("\n")
            if line.startswith(marker + " "):
                outcomes.append("\n".join(lines) + "\n" if line.endswith(" ok") else _failure(lines))
                lines = []
                continue
            lines.append(line)
            if echo:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
    keep_project_parse(target)
    if len(outcomes) < len(runs):  # the child ended before every run ended: killed, or dbt could not start
        why = f"dbt stopped (exit code {proc.returncode}) before this run ended"
        outcomes.append(BuildError(why + "".join(f"\n{line}" for line in lines[-30:])))
        outcomes += [BuildError(why)] * (len(runs) - len(outcomes))
    return outcomes


def _failure(lines: list[str]) -> BuildError:
    stopped = guard_message(lines)
    if stopped:
        return BuildError(stopped)
    errors = [line for line in lines if "ERROR" in line or "Error" in line or "FAIL" in line]
    return BuildError("dbt failed:\n" + "\n".join(errors[-30:] or lines[-30:]))


def guard_message(lines: list[str]) -> str | None:
    """The message with which dbt's guard (on-run-start, macros/guard_release.sql) stopped a run, if it did."""
    for i, line in enumerate(lines):
        if "in operation vt_warehouse-on-run-start" in line:
            message = []
            for follow in lines[i + 1 :]:
                if not follow.strip() or follow.lstrip().startswith(">"):
                    break
                message.append(follow.strip())
            return " ".join(message) or None
    return None
