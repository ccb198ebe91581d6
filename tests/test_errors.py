"""vt_warehouse.errors: what a user reads instead of a traceback, and the exit code that goes with it."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from click.testing import CliRunner

from loaders.pseudonym import PseudonymKeyError
from vt_warehouse import cli
from vt_warehouse.errors import EXIT_CONFIG, EXIT_INTERNAL, explain, holder

DB = Path("/srv/vt/warehouse/vt.duckdb")


def test_a_lock_names_the_process_that_holds_it():
    pid = os.getpid()
    exc = duckdb.IOException(
        f'IO Error: Could not set lock on file "{DB}": Conflicting lock is held in '
        f"/usr/bin/python3.11 (PID {pid}) by user vt. See also https://duckdb.org/docs"
    )
    message, code = explain(exc, DB)
    assert code == EXIT_CONFIG
    assert message == (
        f"the warehouse is in use by {holder(pid)}: {DB} is locked; nothing done, run again when it has finished"
    )
    assert holder(pid).startswith(f"process {pid} (") and "\n" not in holder(pid)
    assert holder(2**22 + 1) == f"process {2**22 + 1}"  # no such process: its number only


def test_vts_dbt_process_is_named_without_its_json_arguments():
    sleeper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; time.sleep(60)",
            "-m",
            "vt_warehouse.transform.child",
            '{"args": ["build"], "runs": []}',
        ]
    )
    try:
        for _ in range(100):  # until /proc shows its command line
            if Path(f"/proc/{sleeper.pid}/cmdline").read_bytes().count(b"\0") >= 5:
                break
            time.sleep(0.05)
        assert holder(sleeper.pid) == f"process {sleeper.pid} (dbt (run by vt))"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_conditions_of_the_machine_are_configuration_errors():
    full = OSError(errno.ENOSPC, "No space left on device", "/srv/vt/warehouse/archive/x.tmp")
    assert explain(full, DB) == (
        "the disk is full (/srv/vt/warehouse/archive/x.tmp); nothing was half-written: free space and run again",
        EXIT_CONFIG,
    )
    duck_full = duckdb.IOException('IO Error: Could not write file "x.wal": No space left on device')
    assert explain(duck_full, DB)[0].startswith(f"the disk is full ({DB})")
    assert explain(OSError(errno.EROFS, "Read-only file system", "/srv/vt/warehouse"), DB) == (
        "/srv/vt/warehouse is on a read-only file system: $VT_HOME must be writable",
        EXIT_CONFIG,
    )
    assert explain(PermissionError(errno.EACCES, "Permission denied", "/srv/vt/warehouse/logs"), DB) == (
        "no permission to write /srv/vt/warehouse/logs: $VT_HOME must be writable by the user that runs vt",
        EXIT_CONFIG,
    )
    assert explain(PseudonymKeyError("the key file k must be a regular file"), DB) == (
        "the key file k must be a regular file",
        EXIT_CONFIG,
    )
    assert explain(duckdb.CatalogException("Catalog Error: Table x does not exist\nLINE 1"), DB) == (
        f"the warehouse database {DB} cannot be used: Catalog Error: Table x does not exist",
        EXIT_CONFIG,
    )


def test_a_defect_is_exit_4_with_its_traceback_in_the_log(tmp_path, monkeypatch):
    monkeypatch.setenv("VT_HOME", str(tmp_path / "wh"))

    def broken(*_args, **_kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(cli, "release_status", broken)
    result = CliRunner().invoke(cli.main, ["releases"])
    assert result.exit_code == EXIT_INTERNAL
    log = tmp_path / "wh" / "logs" / "errors.log"
    assert result.output == f"Error: internal error (KeyError: 'oops'); details in {log}\n"
    assert "Traceback (most recent call last)" in log.read_text() and "raise KeyError" in log.read_text()
