"""Running dbt for the warehouse (loaders/dbt_run.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from loaders import dbt_run
from loaders.dbt_run import PARSED_FROM, run_dbt, target_dir
from loaders.warehouse import Warehouse
from tests.conftest import PROJECT

SEEDS_ONLY = ["seed", "--select", "codes"]  # a dbt command that reads a file by its path from the saved parse


def _copy_project(to):
    """What a clone elsewhere has of the project, for dbt and the loader (not the venv, git or pytest's tests)."""
    skip = shutil.ignore_patterns(".venv", ".git", "build", "docs", "target", "logs", "bench", "soak",
                                  "*.egg-info", ".pytest_cache", "__pycache__", "test_*.py")
    shutil.copytree(PROJECT, to, ignore=skip)
    return to


def test_a_warehouse_last_built_from_a_clone_that_is_gone_builds_from_this_one(tmp_path, warehouse_env):
    """dbt's saved parse names every file by its absolute path; reused by another clone it read seeds from the
    clone that built the warehouse last (a worktree since removed: 'No files found that match the pattern')."""
    clone = _copy_project(tmp_path / "elders")
    code = "from loaders.dbt_run import run_dbt; from loaders.warehouse import Warehouse; " \
           f"run_dbt(Warehouse.from_env(), {SEEDS_ONLY!r})"
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
