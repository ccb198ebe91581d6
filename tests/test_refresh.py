"""The scheduled refresh: idempotent, locked, crash-safe, and a whole history back-loaded to frozen releases."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from loaders.generate import generate, stamp_received
from loaders.periods import periode_range
from tests.conftest import KEY, run_vt, small_delivery, write_delivery

ORGS = ("VT01", "VT02", "VT05")




@pytest.fixture(scope="module")
def half_year(tmp_path_factory):
    """The 2020H1 deliveries of three organisations, with their reception dates as file times."""
    folder = tmp_path_factory.mktemp("gen")
    generate(folder, periode_range("2020H1"), scale=0.02, seed=8, defects=0.002)
    keep = folder / "keep"
    keep.mkdir()
    for p in folder.glob("*.txt"):
        if p.name[:4] in ORGS:
            shutil.copy2(p, keep / p.name)
    return keep



def inbox_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, copy_function=shutil.copy2)  # keeps the file times
    return target


def state(home: Path) -> dict:
    """What a finished refresh leaves: the register, release checksums, publications and reports."""
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        register = con.execute("select levering_id, checksum_sha256, ontvangen_op, aantal_records "
                               "from raw.leveringen order by 1").fetchall()
    releases = {p.name: json.loads((p / "manifest.json").read_text())["files"]
                for p in sorted((home / "releases").iterdir()) if (p / "manifest.json").exists()}
    publications = {str(p.relative_to(home)): p.read_text() for p in sorted((home / "publicatie").rglob("*.csv"))}
    reports = {str(p.relative_to(home)): p.read_text() for p in sorted((home / "kwaliteit").rglob("*.json"))}
    return {"register": register, "releases": releases, "publications": publications, "reports": reports}


@pytest.fixture(scope="module")
def reference(half_year, tmp_path_factory):
    home = tmp_path_factory.mktemp("reference")
    inbox = inbox_copy(half_year, home / "inbox")
    first = run_vt("refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home)
    second = run_vt("refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home)
    return home, first, second


def test_refresh_loads_reports_builds_freezes_publishes(reference):
    home, first, _ = reference
    assert first.stdout.strip() == ("3 files loaded; 0 rejected; 3 quality reports; releases built: 2020V2, 2020V3; "
                                    "frozen: 2020V1; published: 2020V1")
    assert list((home / "inbox").iterdir()) == []
    assert sorted(p.name for p in (home / "kwaliteit").iterdir()) == [f"{o}_2020H1_001" for o in ORGS]
    assert (home / "publicatie" / "2020V1" / "kerncijfers_2020H1.csv").exists()
    assert (home / "releases" / "2020V1" / "manifest.json").exists()
    assert not (home / "releases" / "2020V2").exists()  # built, but its peildatum has not passed
    log = (home / "logs" / "refresh.log").read_text()
    assert "load VT01_2020H1_001.txt (" in log and "release 2020V1: built and frozen (" in log


def test_second_refresh_does_nothing_and_says_so(reference):
    _, _, second = reference
    assert second.returncode == 0
    assert second.stdout.strip() == "nothing new: no files to load, no reports, releases or publications due"


def test_malformed_file_is_rejected_with_its_reason_and_others_load(half_year, tmp_path):
    home = tmp_path / "wh"
    inbox = inbox_copy(half_year, tmp_path / "inbox")
    lines = small_delivery(vt_code="VT09")
    lines[4] = lines[4][:80]
    bad = write_delivery(inbox, lines)
    stamp_received(bad, "2020-07-20T09:00:00")
    proc = run_vt("refresh", "--inbox", str(inbox), "--today", "2020-08-01", home=home, check=False)
    assert proc.returncode == 1
    assert proc.stdout.startswith("3 files loaded; 1 rejected;")
    assert (home / "rejected" / bad.name).exists() and not bad.exists()
    reason = (home / "rejected" / f"{bad.name}.reden.txt").read_text()
    assert "rule 2 (every record is exactly 120 printable ASCII characters); line 5 (1 line)" in reason


def test_files_dated_after_today_have_not_arrived(half_year, tmp_path):
    home = tmp_path / "wh"
    inbox = inbox_copy(half_year, tmp_path / "inbox")
    proc = run_vt("refresh", "--inbox", str(inbox), "--today", "2020-07-01", home=home)
    assert proc.stdout.startswith("nothing new")
    assert len(list(inbox.iterdir())) == 3


def test_a_second_refresh_while_one_runs_refuses(half_year, tmp_path):
    home = tmp_path / "wh"
    inbox = inbox_copy(half_year, tmp_path / "inbox")
    env = {**os.environ, "VT_HOME": str(home), "VT_PSEUDONYM_KEY": KEY, "VT_PAUSE_AT": "refresh:after-load=8"}
    first = subprocess.Popen([sys.executable, "-m", "loaders.cli", "refresh", "--inbox", str(inbox), "--today",
                              "2020-08-01"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = home / "refresh.lock"
    for _ in range(100):  # until the first one holds the lock
        if lock.exists() and lock.read_text().strip():
            break
        time.sleep(0.1)
    second = run_vt("refresh", "--inbox", str(inbox), "--today", "2020-08-01", home=home, check=False)
    assert second.returncode == 3
    assert "another refresh is running" in second.stderr
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert out.startswith("3 files loaded")
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.leveringen").fetchone() == (3,)
    # the lock is free again: a third run works and finds nothing to do
    assert run_vt("refresh", "--inbox", str(inbox), "--today", "2020-08-01", home=home).stdout.startswith("nothing new")
    with open(lock) as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_killed_refresh_resumes_to_the_same_state(reference, half_year, tmp_path):
    home = tmp_path / "wh"
    inbox = inbox_copy(half_year, tmp_path / "inbox")
    # quality:gx-running: the GX children must die with the refresh, or their read-only handles would block
    # the next refresh's writes
    for point in ("load:melding", "refresh:after-load", "quality:gx-running", "refresh:after-quality",
                  "refresh:after-freeze", "refresh:before-publish-rename"):
        proc = run_vt("refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home,
                  env={"VT_KILL_AT": point}, check=False)
        assert proc.returncode == -9, (point, proc.stderr)
    run_vt("refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home)
    assert state(home) == state(reference[0])


def test_history_backloaded_to_every_release_and_corrections_never_touch_a_frozen_one(tmp_path):
    source = tmp_path / "gen"
    generate(source, periode_range("2019H1:2023H2"), scale=0.01, seed=2)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for p in source.glob("*.txt"):
        if p.name[:4] in ("VT01", "VT27"):
            shutil.copy2(p, inbox / p.name)
    home = tmp_path / "wh"
    run_vt("refresh", "--inbox", str(inbox), "--today", "2024-06-01", home=home)
    frozen = sorted(p.name for p in (home / "releases").iterdir() if (p / "manifest.json").exists())
    assert frozen == ["2019V1", "2020V1", "2020V2", "2020V3", "2021V1", "2021V2", "2021V3", "2022V1", "2022V2",
                      "2022V3", "2023V1", "2023V2"]
    before = {name: (home / "releases" / name / "manifest.json").read_text() for name in frozen}
    # a correction for 2023H1 arrives after 2023V1 and 2023V2 were frozen
    correction = source / "VT01_2023H1_001.txt"
    text = correction.read_text().replace("VT01_2023H1_001", "").replace("2023H120230720", "2023H120240601")
    lines = text.splitlines()
    lines[0] = lines[0][:24] + "009" + lines[0][27:]
    fixed = inbox / "VT01_2023H1_009.txt"
    fixed.write_text("\n".join(lines[:3] + lines[4:-1] + [lines[-1]]) + "\n")
    # the SL counts must follow the record that was left out
    from tests.test_quality import finish

    fixed.write_text("\n".join(finish(fixed.read_text().splitlines())) + "\n")
    stamp_received(fixed, "2024-06-02T09:00:00")
    proc = run_vt("refresh", "--inbox", str(inbox), "--today", "2024-06-03", home=home)
    assert "releases built: 2023V3" in proc.stdout
    assert {name: (home / "releases" / name / "manifest.json").read_text() for name in frozen} == before
    run_vt("refresh", "--inbox", str(inbox), "--today", "2025-01-01", home=home)
    manifest = json.loads((home / "releases" / "2023V3" / "manifest.json").read_text())
    assert "VT01_2023H1_009" in [d["levering_id"] for d in manifest["leveringen"]]
    assert {name: (home / "releases" / name / "manifest.json").read_text() for name in frozen} == before


def test_the_readme_cron_line_works_as_written(half_year, tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    line = readme.split("```cron\n", 1)[1].split("\n", 1)[0]
    command = line.split(" ", 5)[5]  # after the five time fields
    root = tmp_path / "srv"
    (root / "warehouse" / "logs").mkdir(parents=True)
    (root / ".venv").symlink_to(Path(__file__).resolve().parents[1] / ".venv")
    key = root / "warehouse" / "pseudonym.key"
    key.write_text("k" * 64)
    key.chmod(0o600)
    inbox_copy(half_year, root / "inbox")
    env = {k: v for k, v in os.environ.items() if k not in ("VT_HOME", "VT_PSEUDONYM_KEY", "VT_DATABASE")}
    proc = subprocess.run(["sh", "-c", command.replace("/srv/vt", str(root))], env=env)
    assert proc.returncode == 0
    log = (root / "warehouse" / "logs" / "cron.log").read_text()
    assert log.startswith("3 files loaded; 0 rejected; 3 quality reports;")
    assert list((root / "inbox").iterdir()) == []
