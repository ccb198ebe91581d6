"""Freezes two at a time in child processes: each as a freeze in one process, and one that fails or is killed
holds back only its own release; none outlives the refresh."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loaders.warehouse import Warehouse
from tests.conftest import KEY, PROJECT, run_vt, small_delivery, write_delivery
from tests.states import shared_state
from vt_warehouse.release import MANIFEST, ReleaseError, last_build
from vt_warehouse.release.freeze_run import FreezeRuns, Frozen

RELEASES = ["2020V1", "2020V2"]


@pytest.fixture(scope="session")
def built(request):
    """A warehouse with 2020H1 and 2020H2 of one organisation, 2020V1 and 2020V2 built, nothing frozen."""

    def build(folder: Path) -> Path:
        home, files = folder / "wh", folder / "files"
        files.mkdir()
        for periode, received in (("2020H1", "2020-07-15"), ("2020H2", "2021-01-15")):
            path = write_delivery(files, small_delivery(periode=periode))
            run_vt("load", "--received-at", received, str(path), home=home)
        for name in RELEASES:
            run_vt("build", "--release", name, home=home)
        return home

    return shared_state(request, "built-2020", build)


@pytest.fixture
def warehouse(built, tmp_path, monkeypatch):
    home = tmp_path / "wh"
    shutil.copytree(built, home, symlinks=True)
    monkeypatch.setenv("VT_HOME", str(home))
    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    for name in ("VT_DATABASE", "VT_KILL_AT", "VT_FAIL_AT", "VT_PAUSE_AT"):
        monkeypatch.delenv(name, raising=False)
    return Warehouse(home)


@pytest.mark.slow(seconds=18)
def test_releases_are_frozen_in_child_processes_two_at_a_time(warehouse):
    with FreezeRuns(warehouse, RELEASES) as freezes:
        assert freezes.workers == min(os.cpu_count() or 1, 2)
        results = [freezes.result(name) for name in RELEASES]
    assert [type(r) for r in results] == [Frozen, Frozen]
    assert [r.name for r in results] == RELEASES and all(r.repaired is None and r.peak_mb > 0 for r in results)
    for name in RELEASES:
        manifest = json.loads((warehouse.home / "releases" / name / MANIFEST).read_text())
        # the build the refresh made is the one frozen
        assert manifest["build"]["invocation_id"] == last_build(warehouse, name)["invocation_id"]
        assert {f["name"] for f in manifest["files"]} >= {f"VT_casus_{name}.parquet", f"vt_{name}.duckdb"}
    assert sorted(p.name for p in (warehouse.home / "releases").iterdir()) == RELEASES  # no staging left


def test_a_killed_freeze_holds_back_its_release_only_and_the_nth_release_is_the_nth_freeze(warehouse, monkeypatch):
    # @2: the second freeze of the run, although each runs in a process of its own
    monkeypatch.setenv("VT_KILL_AT", "release:before-rename@2")
    with FreezeRuns(warehouse, RELEASES) as freezes:
        assert isinstance(freezes.result("2020V1"), Frozen)
        with pytest.raises(
            ReleaseError,
            match=r"^its freeze was killed \(signal 9\) before it ended: .*the next "
            r"refresh freezes it again$",
        ):
            freezes.result("2020V2")
    assert (warehouse.home / "releases" / "2020V1" / MANIFEST).exists()
    assert not (warehouse.home / "releases" / "2020V2").exists()
    assert (warehouse.home / "releases" / ".2020V2.tmp").is_dir()  # the next refresh removes it (_clean_staging)


def test_a_full_disk_in_a_freeze_is_the_refresh_s_oserror(warehouse, monkeypatch):
    monkeypatch.setenv("VT_FAIL_AT", "release:before-rename=ENOSPC")
    with FreezeRuns(warehouse, RELEASES[:1]) as freezes:
        with pytest.raises(OSError) as caught:
            freezes.result("2020V1")
    assert caught.value.errno == errno.ENOSPC
    assert not (warehouse.home / "releases" / "2020V1").exists()


def test_leaving_early_kills_the_freezes_still_running(warehouse, monkeypatch):
    monkeypatch.setenv("VT_PAUSE_AT", "release:before-rename=120")
    with FreezeRuns(warehouse, RELEASES) as freezes:
        freezes._start_waiting()
        children = [c.proc for c in freezes.running.values()]
        assert len(children) == freezes.workers
    assert all(p.returncode == -signal.SIGKILL for p in children)
    assert not any((warehouse.home / "releases" / name).exists() for name in RELEASES)


def test_a_freeze_dies_with_a_killed_refresh(warehouse, monkeypatch, tmp_path):
    """SIGKILL runs no clean-up: the child must die by itself, or it would go on writing a staging folder the
    next refresh removes, and hold the database open."""
    monkeypatch.setenv("VT_PAUSE_AT", "release:before-rename=120")
    code = (
        "import os, signal; from vt_warehouse.release.freeze_run import FreezeRuns; "
        "from loaders.warehouse import Warehouse; "
        "f = FreezeRuns(Warehouse.from_env(), ['2020V1']); f._start_waiting(); "
        "[c] = f.running.values(); print(c.proc.pid, flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    child = int(proc.stdout)
    for _ in range(100):
        if not _alive(child):
            break
        time.sleep(0.1)
    assert not _alive(child)
    assert not (warehouse.home / "releases" / "2020V1").exists()


def _alive(pid: int) -> bool:
    """A process that is running (a zombie waiting for its reaper is not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_asking_for_a_release_not_given_is_a_mistake(warehouse):
    with FreezeRuns(warehouse, RELEASES[:1]) as freezes:
        with pytest.raises(KeyError):
            freezes.result("2020V2")
