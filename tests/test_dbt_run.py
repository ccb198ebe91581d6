"""Running dbt for the warehouse (vt_warehouse/transform/run.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from loaders.warehouse import Warehouse
from tests.conftest import PROJECT
from vt_warehouse.transform import run as dbt_run
from vt_warehouse.transform.run import PARSED_FROM, run_dbt, target_dir

SEEDS_ONLY = ["seed", "--select", "codes"]  # a dbt command that reads a file by its path from the saved parse


def _copy_project(to):
    """What a clone elsewhere has of the project, for dbt and the loader (not the venv, git or pytest's tests)."""
    skip = shutil.ignore_patterns(
        ".venv",
        ".git",
        "build",
        "docs",
        "target",
        "logs",
        "bench",
        "soak",
        "*.egg-info",
        ".pytest_cache",
        "__pycache__",
        "test_*.py",
    )
    shutil.copytree(PROJECT, to, ignore=skip)
    return to


def test_a_warehouse_last_built_from_a_clone_that_is_gone_builds_from_this_one(tmp_path, warehouse_env):
    """dbt's saved parse names every file by its absolute path; reused by another clone it read seeds from the
    clone that built the warehouse last (a worktree since removed: 'No files found that match the pattern')."""
    clone = _copy_project(tmp_path / "elders")
    code = (
        "from vt_warehouse.transform.run import run_dbt; from loaders.warehouse import Warehouse; "
        f"run_dbt(Warehouse.from_env(), {SEEDS_ONLY!r})"
    )
    env = {**os.environ, "PYTHONPATH": str(clone)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=clone, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    target = target_dir(Warehouse.from_env())
    assert (target / PARSED_FROM).read_text(encoding="utf-8") == str(clone)
    assert str(clone).encode() in (target / "partial_parse.msgpack").read_bytes()
    shutil.rmtree(clone)

    run_dbt(Warehouse.from_env(), SEEDS_ONLY)  # raised BuildError ('No files found') before

    assert (target / PARSED_FROM).read_text(encoding="utf-8") == str(PROJECT)
    assert str(clone).encode() not in (target / "partial_parse.msgpack").read_bytes()


def test_the_same_project_keeps_its_saved_parse(warehouse_env):
    """Parsing afresh costs seconds a run: only another project's parse is dropped."""
    run_dbt(Warehouse.from_env(), SEEDS_ONLY)
    saved = target_dir(Warehouse.from_env()) / "partial_parse.msgpack"
    dbt_run.forget_other_project(saved.parent)
    assert saved.exists()
    (saved.parent / PARSED_FROM).write_text("/elsewhere", encoding="utf-8")
    dbt_run.forget_other_project(saved.parent)
    assert not saved.exists()
    assert (saved.parent / PARSED_FROM).read_text(encoding="utf-8") == str(PROJECT)


def parse_kind(home) -> str:
    """How dbt's last run in this warehouse parsed the project: from a saved parse, or in full (its log)."""
    log = (home / "logs" / "dbt.log").read_text(encoding="utf-8")
    last = log[log.rindex("Running with dbt=") :]
    return "partial" if "Partial parsing enabled" in last else "full" if "full parse" in last else "?"


def test_a_new_or_copied_warehouse_starts_from_the_projects_last_parse(tmp_path, monkeypatch):
    """A warehouse's first dbt run reuses the project's last saved parse (2 s less than dbt's full parse), also in
    a copy of a warehouse (dbt's profile names the database relative to the folder dbt runs in); where the project
    folder cannot be written, dbt parses in full and the run succeeds all the same."""
    monkeypatch.setattr(dbt_run, "PARSE_CACHE", tmp_path / "project" / "target" / "vt-parse" / "partial_parse.msgpack")
    first, second = Warehouse(tmp_path / "a"), Warehouse(tmp_path / "b")
    run_dbt(first, SEEDS_ONLY)
    assert parse_kind(first.home) == "full" and dbt_run.PARSE_CACHE.is_file()
    run_dbt(second, SEEDS_ONLY)
    assert parse_kind(second.home) == "partial"
    copy = tmp_path / "copy"
    shutil.copytree(first.home, copy, symlinks=True)
    run_dbt(Warehouse(copy), SEEDS_ONLY)
    assert parse_kind(copy) == "partial"

    (tmp_path / "read-only").write_text("a file where the cache's folder would be")
    monkeypatch.setattr(dbt_run, "PARSE_CACHE", tmp_path / "read-only" / "vt-parse" / "partial_parse.msgpack")
    third = Warehouse(tmp_path / "c")
    run_dbt(third, SEEDS_ONLY)
    assert parse_kind(third.home) == "full" and not dbt_run.PARSE_CACHE.exists()
