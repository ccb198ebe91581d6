"""The scheduled refresh: idempotent, locked, crash-safe, and a whole history back-loaded to frozen releases."""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from loaders.layout import layouts
from loaders.periods import periode_range
from loaders.warehouse import Warehouse
from tests.conftest import KEY, THREE_ORGS, cells_per_period, run_dbt_cli, run_vt, small_delivery, write_delivery
from tests.states import private_copy, shared_state
from vt_warehouse import refresh as refresh_module
from vt_warehouse.generate import generate, stamp_received
from vt_warehouse.publish import PublishError
from vt_warehouse.release.anchor import reproducible

ORGS = THREE_ORGS


def inbox_copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, copy_function=shutil.copy2)  # keeps the file times
    return target


def state(home: Path) -> dict:
    """What a finished refresh leaves: the register, release checksums, publications and reports."""
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        register = con.execute(
            "select levering_id, checksum_sha256, ontvangen_op, aantal_records from raw.leveringen order by 1"
        ).fetchall()
    releases = {
        p.name: reproducible(json.loads((p / "manifest.json").read_text()))["files"]
        for p in sorted((home / "releases").iterdir())
        if (p / "manifest.json").exists()
    }
    publications = {str(p.relative_to(home)): p.read_text() for p in sorted((home / "publicatie").rglob("*.csv"))}
    reports = {str(p.relative_to(home)): p.read_text() for p in sorted((home / "kwaliteit").rglob("*.json"))}
    return {"register": register, "releases": releases, "publications": publications, "reports": reports}


@pytest.fixture(scope="session")
def reference(refreshed_half_year):
    return refreshed_half_year


@pytest.mark.slow(seconds=22)
def test_refresh_loads_reports_builds_freezes_publishes(reference):
    home, first, _ = reference
    assert first.stdout.strip() == (
        "3 files loaded; 0 rejected; 3 quality reports; releases built: 2020V2, 2020V3; "
        "frozen: 2020V1; published: 2020V1; warnings: 1 (see the messages)"
    )
    # three of the 26 organisations delivered: said, but the run succeeds (a half-year with none exits 1)
    assert first.returncode == 0 and first.stderr.startswith(
        "warning: release 2020V1 was frozen incomplete: 2020H1: 3 of 26 organisations delivered (missing: VT03 "
    )
    assert list((home / "inbox").iterdir()) == []
    assert sorted(p.name for p in (home / "kwaliteit").iterdir()) == [f"{o}_2020H1_001" for o in ORGS]
    assert (home / "publicatie" / "2020V1" / "cijfers_2020V1.csv").exists()
    assert (home / "releases" / "2020V1" / "manifest.json").exists()
    assert not (home / "releases" / "2020V2").exists()  # built, but its peildatum has not passed
    log = (home / "logs" / "refresh.log").read_text()
    assert "load VT01_2020H1_001.txt (" in log and "release 2020V1: frozen and exported in " in log
    assert f"releases frozen and exported ({min(os.cpu_count() or 1, 2)} at a time) and published: 2020V1 (" in log
    # every due release built in one dbt process (one start-up), each in its own run
    assert "releases built in one dbt process: 2020V1, 2020V2, 2020V3 (" in log


def test_a_release_frozen_earlier_is_checked_whole_before_it_is_published(reference, tmp_path, monkeypatch):
    """Publishing what this run froze a moment ago checks only the two files the publication reads (the manifest
    was made from these files); a release frozen in an earlier run is checked whole, and one that differs is
    never published."""
    home = tmp_path / "wh"
    shutil.copytree(reference[0], home, symlinks=True)
    shutil.rmtree(home / "publicatie" / "2020V1")
    frozen = home / "releases" / "2020V1"
    csv = frozen / "VT_casus_2020V1.csv"
    csv.chmod(0o600)
    csv.write_text(csv.read_text().replace("VT01", "VT02", 1))  # a file the publication does not read
    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    monkeypatch.delenv("VT_DATABASE", raising=False)
    warehouse = Warehouse(home)
    log, summary = refresh_module.StepLog(warehouse, None), refresh_module.Summary()
    target = home / "publicatie" / "2020V1"
    with pytest.raises(
        PublishError,
        match=r"release 2020V1 differs from its manifest.json "
        r"\(VT_casus_2020V1.csv differs from the manifest \(sha256\)\): not published",
    ):
        refresh_module._publish(warehouse, "2020V1", target, log, summary)
    assert sorted(p.name for p in (home / "publicatie").iterdir()) == []  # nothing, not even a half-made folder
    refresh_module._publish(warehouse, "2020V1", target, log, summary, just_frozen=True)
    assert summary.published == ["2020V1"] and (target / "cijfers_2020V1.csv").exists()


@pytest.mark.slow(seconds=45)
def test_a_half_year_nobody_delivered_is_missing_never_nihil_and_the_refresh_says_so(reference, tmp_path):
    """The demo's case: 2020H1 delivered (by three organisations), 2020H2 by nobody, and a refresh long after
    2020V3's peildatum. Both releases are frozen and published, every 2020H2 cell is `.` (never `–`, which is a
    counted zero), the 23 regions that did not deliver for 2020H1 and Nederland too; the run warns per half-year,
    names the organisations, and exits 1 because a whole half-year is empty."""
    home = private_copy(reference[0], tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    proc = run_vt("refresh", "--inbox", str(inbox), "--today", "2022-01-10", home=home, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.strip() == (
        "0 files loaded; 0 rejected; 0 quality reports; releases built: -; frozen: "
        "2020V2, 2020V3; published: 2020V2, 2020V3; warnings: 4 (see the messages)"
    )
    missing = "VT03 Flevoland, VT04 Fryslân, VT06 Gelderland-Zuid, VT07 Gooi en Vechtstreek, VT08 Groningen"
    for name in ("2020V2", "2020V3"):
        assert (
            f"warning: release {name} was frozen incomplete: 2020H1: 3 of 26 organisations delivered (missing: "
            f"{missing}, VT09 Haaglanden, ...). Their figures and Nederland's are published as missing (.)"
        ) in proc.stderr
        assert (
            f"warning: release {name} was frozen incomplete: 2020H2: none of the 26 organisations delivered. "
            "Every figure of the half-year is published as missing (.); ask the missing organisations for their "
            "delivery: a later one goes into the next version of 2020\n"
        ) in proc.stderr
    assert proc.stderr.count("warning: ") == 4
    assert (home / "logs" / "refresh.log").read_text().count("warning: release 2020V3 was frozen incomplete") == 2
    frame = pd.read_csv(home / "publicatie" / "2020V3" / "cijfers_2020V3.csv", keep_default_na=False)
    h2 = frame[frame.periode == "2020H2"]
    assert len(h2) == cells_per_period(2020) and set(h2.symbool) == {"."} and set(h2.waarde) == {""}
    h1 = frame[frame.periode == "2020H1"]
    assert set(h1[~h1.vt_code.isin(ORGS)].symbool) == {"."}
    assert "." not in set(h1[h1.vt_code.isin(ORGS) & (h1.eenheid == "aantal")].symbool)
    series = pd.read_csv(home / "publicatie" / "2020V3" / "tijdreeks_2020V3.csv", keep_default_na=False)
    assert set(series[series.periode == "2020H2"].symbool) == {"."}
    page = (home / "publicatie" / "2020V3" / "publicatie_2020V3.html").read_text()
    section = page[page.index('<section id="h-2020H2">') : page.index('<section id="tijdreeks">')]
    assert '<rect class="bar"' not in section and "–" not in section and 'data-value="."' in section
    assert (
        "2e halfjaar van 2020: geen van de 26 Veilig Thuis-organisaties heeft op de peildatum gegevens over dit "
        "halfjaar geleverd; alle cijfers van dit halfjaar ontbreken (.)."
    ) in section
    codebook = (home / "releases" / "2020V3" / "codebook_2020V3.md").read_text()
    assert "- 2020H2: 0 van de 26 organisaties leverden: ontbrekend VT01 " in codebook
    listed = run_vt("releases", "--years", "2020", home=home).stdout
    assert "         2020H2: none of the 26 organisations delivered\n" in listed
    # a later run has nothing new to say, and exits 0
    again = run_vt("refresh", "--inbox", str(inbox), "--today", "2022-01-10", home=home)
    assert "warning" not in again.stderr


def test_second_refresh_does_nothing_and_says_so(reference):
    _, _, second = reference
    assert second.returncode == 0
    assert second.stdout.strip() == "nothing new: no files to load, no reports, releases or publications due"


@pytest.mark.slow(seconds=20)
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
    assert proc.stdout == (
        "nothing new: no files to load, no reports, releases or publications due; 3 inbox files "
        "are dated after today and were not taken (a file arrives at its modification time; "
        "--today sets the day)\n"
    )
    assert len(list(inbox.iterdir())) == 3


@pytest.mark.slow(seconds=30)
def test_a_second_refresh_while_one_runs_refuses(half_year, tmp_path):
    home = tmp_path / "wh"
    inbox = inbox_copy(half_year, tmp_path / "inbox")
    env = {**os.environ, "VT_HOME": str(home), "VT_PSEUDONYM_KEY": KEY, "VT_PAUSE_AT": "refresh:after-load=8"}
    first = subprocess.Popen(
        [sys.executable, "-m", "vt_warehouse.cli", "refresh", "--inbox", str(inbox), "--today", "2020-08-01"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
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


@pytest.mark.slow(seconds=90)
def test_killed_refresh_resumes_to_the_same_state(reference, half_year, tmp_path):
    home = tmp_path / "wh"
    inbox = inbox_copy(half_year, tmp_path / "inbox")
    proc = run_vt(
        "refresh",
        "--inbox",
        str(inbox),
        "--today",
        "2020-10-01",
        home=home,
        env={"VT_FAIL_AT": "load:betrokkene=ENOSPC"},
        check=False,
    )
    assert (proc.returncode, proc.stderr.splitlines()[0][:28]) == (2, "Error: the disk is full (/tm"), proc.stderr
    assert len(list(inbox.iterdir())) == 3  # nothing loaded, nothing lost
    # quality:gx-running: the GX children must die with the refresh, or their read-only handles would block
    # the next refresh's writes
    for point in (
        "load:melding",
        "refresh:after-load",
        "quality:gx-running",
        "refresh:after-quality",
        "refresh:before-freeze",
    ):
        proc = run_vt(
            "refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home, env={"VT_KILL_AT": point}, check=False
        )
        assert proc.returncode == -9, (point, proc.stderr)
    # a freeze runs in a child process: killed (an OOM kill), it holds back its release, and the refresh says so
    proc = run_vt(
        "refresh",
        "--inbox",
        str(inbox),
        "--today",
        "2020-10-01",
        home=home,
        env={"VT_KILL_AT": "release:before-rename"},
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(
        "release 2020V1: its freeze was killed (signal 9) before it ended: "
    ) and proc.stderr.rstrip().endswith("the next refresh freezes it again"), proc.stderr
    assert (home / "releases" / ".2020V1.tmp").is_dir() and not (home / "releases" / "2020V1").exists()
    for point in ("refresh:after-freeze", "refresh:before-publish-rename"):
        proc = run_vt(
            "refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home, env={"VT_KILL_AT": point}, check=False
        )
        assert proc.returncode == -9, (point, proc.stderr)
    # a full disk at any of these points: a message, exit 2, nothing half-written
    for point in ("release:before-rename", "refresh:before-publish-rename"):
        shutil.rmtree(home / "publicatie", ignore_errors=True)
        shutil.rmtree(home / "releases" / "2020V1", ignore_errors=True)
        proc = run_vt(
            "refresh",
            "--inbox",
            str(inbox),
            "--today",
            "2020-10-01",
            home=home,
            env={"VT_FAIL_AT": f"{point}=ENOSPC"},
            check=False,
        )
        assert proc.returncode == 2, (point, proc.stderr)
        assert proc.stderr.startswith("Error: the disk is full") and "Traceback" not in proc.stderr, proc.stderr
    run_vt("refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home)
    assert state(home) == state(reference[0])
    assert not list((home / "releases").glob(".*.tmp")) and not list((home / "publicatie").glob(".*.tmp"))


@pytest.mark.slow(seconds=90)
def test_a_release_that_could_not_be_frozen_holds_back_the_publications_after_it(tmp_path):
    """2021V1's series takes 2020H1 and 2020H2 from 2020V2: published while 2020V2's freeze had failed, it would
    lack them, and a publication never changes. It is frozen, not published, until 2020V2 is frozen."""
    source = tmp_path / "gen"
    generate(source, periode_range("2020H1:2021H1"), scale=0.01, seed=3)
    inboxes = {}
    for name in ("ref", "b"):
        inboxes[name] = tmp_path / f"inbox-{name}"
        inboxes[name].mkdir()
        for p in source.glob("VT01_*.txt"):
            shutil.copy2(p, inboxes[name] / p.name)
    run_vt("refresh", "--inbox", str(inboxes["ref"]), "--today", "2021-10-15", home=tmp_path / "ref")
    home = tmp_path / "b"
    # the second freeze of the run (2020V2, in calendar order) is killed in its child process
    proc = run_vt(
        "refresh",
        "--inbox",
        str(inboxes["b"]),
        "--today",
        "2021-10-15",
        home=home,
        env={"VT_KILL_AT": "release:before-rename@2"},
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == (
        "3 files loaded; 0 rejected; 3 quality reports; releases built: 2020V3, 2021V2, 2021V3; "
        "frozen: 2020V1, 2021V1; published: 2020V1; warnings: 2 (see the messages); held back: 2 (see the "
        "messages)\n"
    ), proc.stdout
    held = [line for line in proc.stderr.splitlines() if not line.startswith("warning: ")]  # (one organisation)
    assert held[1] == (
        "release 2021V1: frozen; not published: it waits for 2020V2, before it in the calendar and not frozen in "
        "this run (see above), as a publication's series reads the releases before it; the next refresh "
        "publishes it after them"
    ), proc.stderr
    assert held[0].startswith("release 2020V2: its freeze was killed (signal 9) before it ended: ")
    assert sorted(p.name for p in (home / "publicatie").iterdir()) == ["2020V1"]
    second = run_vt("refresh", "--inbox", str(inboxes["b"]), "--today", "2021-10-15", home=home)
    assert second.stdout.startswith(
        "0 files loaded; 0 rejected; 0 quality reports; releases built: -; frozen: 2020V2; published: 2020V2, 2021V1"
    ), second.stdout
    assert state(home) == state(tmp_path / "ref")


@pytest.mark.slow(seconds=110)
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
    assert frozen == [
        "2019V1",
        "2020V1",
        "2020V2",
        "2020V3",
        "2021V1",
        "2021V2",
        "2021V3",
        "2022V1",
        "2022V2",
        "2022V3",
        "2023V1",
        "2023V2",
    ]
    before = {name: (home / "releases" / name / "manifest.json").read_text() for name in frozen}
    published = {p.relative_to(home): p.read_bytes() for p in sorted((home / "publicatie").rglob("*")) if p.is_file()}
    assert_series_of_every_publication(home, frozen)
    assert_every_publication_is_served(home, frozen)
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
    # a frozen release's publication, its series included, never changes; 2023V3's series takes the correction
    assert {
        p.relative_to(home): p.read_bytes()
        for p in sorted((home / "publicatie").rglob("*"))
        if p.is_file() and p.parts[-2] != "2023V3"
    } == published
    series = json.loads((home / "publicatie" / "2023V3" / "manifest.json").read_text())["tijdreeks"]
    assert [(h["periode"], h["bron"]) for h in series][-4:] == [
        ("2022H1", "2022V3"),
        ("2022H2", "2022V3"),
        ("2023H1", "2023V3"),
        ("2023H2", "2023V3"),
    ]


def assert_every_publication_is_served(home: Path, frozen: list[str]) -> None:
    """The open-data feed has a table per frozen release (a row per region and half-year of its series, the
    regions of each half-year as it had them), and the stable table is the release with the newest peildatum."""
    from vt_warehouse.opendata.tables import RELEASE_ID, STABLE_ID, catalog, period_key

    tables, problems = catalog(home)
    assert problems == []
    assert sorted(tables) == sorted([STABLE_ID, *(RELEASE_ID.format(release=r) for r in frozen)])
    assert tables[STABLE_ID].release == "2023V2"
    for release in frozen:
        table = tables[RELEASE_ID.format(release=release)]
        series = pd.read_csv(home / "publicatie" / release / f"tijdreeks_{release}.csv", keep_default_na=False)
        pairs = sorted({(period_key(p), "NL01" if v == "NL" else v) for p, v in zip(series.periode, series.vt_code)})
        assert sorted((r["Perioden"], r["RegioS"]) for r in table.rows) == pairs, release
    regions = {r["Perioden"]: set() for r in tables[STABLE_ID].rows}
    for r in tables[STABLE_ID].rows:
        regions[r["Perioden"]].add(r["RegioS"])
    assert "VT27" in regions["2023HJ01"] and "VT27" not in regions["2022HJ02"] and "VT16" not in regions["2023HJ01"]


CSVW_PANDAS = {"string": "string", "decimal": "Float64", "boolean": "boolean"}


def read_as_the_page_says(path: Path) -> pd.DataFrame:
    """A published CSV read by the pandas lines of its publication's page (Bronnen), run as printed; every column
    then has the type its CSVW metadata declares."""
    release = path.parent.name
    page = (path.parent / f"publicatie_{release}.html").read_text(encoding="utf-8")
    code = html.unescape(re.search(r"<pre>(import pandas as pd\n.*?)</pre>", page, re.DOTALL).group(1))
    namespace: dict = {}
    exec(code.replace(f'"cijfers_{release}.csv"', repr(str(path))), namespace)  # noqa: S102 (the page's own lines)
    frame = namespace["df"]
    meta = json.loads(path.with_name(path.name + "-metadata.json").read_text(encoding="utf-8"))
    declared = {
        c["name"]: c["datatype"] if isinstance(c["datatype"], str) else c["datatype"]["base"]
        for c in meta["tableSchema"]["columns"]
    }
    assert list(declared) == list(frame.columns), path
    assert {c: str(frame[c].dtype) for c in frame.columns} == {c: CSVW_PANDAS[d] for c, d in declared.items()}, path
    return frame


def assert_series_of_every_publication(home: Path, frozen: list[str]) -> None:
    """Every published CSV reads into pandas as is; each release's series takes each half-year from the latest
    release frozen by its own peildatum; the 2023 region change is said, not joined."""
    for path in sorted((home / "publicatie").rglob("*.csv")):
        frame = pd.read_csv(path)
        assert list(frame.columns) == [
            "periode",
            "status",
            "bron",
            "vt_code",
            "vt_naam",
            "maat",
            "omschrijving",
            "eenheid",
            "waarde",
            "symbool",
            "trendbreuk",
        ], path
        assert str(frame.waarde.dtype) == "float64" and frame.periode.str.fullmatch(r"\d{4}H[12]").all(), path
        assert set(frame.symbool.dropna()) <= {"x", ".", "–"}, path
        typed = read_as_the_page_says(path)
        assert typed.symbool.str.contains("x").dtype == "boolean" and len(typed) == len(frame), path
    assert sorted(p.name for p in (home / "publicatie").iterdir()) == frozen
    series = pd.read_csv(home / "publicatie" / "2023V2" / "tijdreeks_2023V2.csv")
    sources = series.groupby("periode").bron.unique().map(list).to_dict()
    assert sources == {
        "2019H1": ["2019V1"],
        "2019H2": ["2019V1"],
        "2020H1": ["2020V3"],
        "2020H2": ["2020V3"],
        "2021H1": ["2021V3"],
        "2021H2": ["2021V3"],
        "2022H1": ["2022V3"],
        "2022H2": ["2022V3"],
        "2023H1": ["2023V2"],
        "2023H2": ["2023V2"],
    }
    # 2021V1 was published when 2020V2 was the latest for 2020 (2020V3's peildatum came after)
    early = pd.read_csv(home / "publicatie" / "2021V1" / "tijdreeks_2021V1.csv")
    assert early.groupby("periode").bron.first().to_dict() == {
        "2019H1": "2019V1",
        "2019H2": "2019V1",
        "2020H1": "2020V2",
        "2020H2": "2020V2",
        "2021H1": "2021V1",
    }
    regions = series.groupby("vt_code").periode.agg(["min", "max"]).to_dict("index")
    assert regions["VT27"] == {"min": "2023H1", "max": "2023H2"} and regions["VT16"]["max"] == "2022H2"
    # the statuses: definitief for what came from a V3 (and 2019V1), nader voorlopig for 2023V2
    assert series.groupby("periode").status.first().to_dict()["2023H2"] == "nader voorlopig"
    assert series.groupby("periode").status.first().to_dict()["2022H2"] == "definitief"
    page = (home / "publicatie" / "2023V2" / "publicatie_2023V2.html").read_text()
    assert (
        "VT27 Oost-Brabant: bestaat vanaf het 1e halfjaar van 2023, toen VT16 Brabant Noordoost en VT26 "
        "Zuidoost-Brabant verdwenen; eerdere halfjaren zijn niet vergelijkbaar en blijven leeg."
    ) in page
    assert page.count('<circle class="punt"') >= 12 * 10  # Nederland's line has a point in every half-year


@pytest.mark.slow(seconds=25)
def test_the_documented_cron_line_works_as_written(half_year, tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "docs" / "operator.md").read_text()
    line = readme.split("```cron\n", 1)[1].split("\n", 1)[0]
    command = line.split(" ", 5)[5]  # after the five time fields
    root = tmp_path / "srv"
    (root / "warehouse" / "logs").mkdir(parents=True)
    (root / ".venv").symlink_to(Path(__file__).resolve().parents[1] / ".venv")
    for name, text in (("pseudonym.key", "k" * 64), ("release.key", "r" * 64)):
        key = root / "warehouse" / name
        key.write_text(text)
        key.chmod(0o600)
    inbox_copy(half_year, root / "inbox")
    env = {
        k: v for k, v in os.environ.items() if k not in ("VT_HOME", "VT_PSEUDONYM_KEY", "VT_RELEASE_KEY", "VT_DATABASE")
    }
    proc = subprocess.run(["sh", "-c", command.replace("/srv/vt", str(root))], env=env)
    # today, 2020V2 and 2020V3 are frozen with a 2020H2 that nobody delivered: exit 1, said in the log
    assert proc.returncode == 1
    log = (root / "warehouse" / "logs" / "cron.log").read_text()
    assert log.startswith("3 files loaded; 0 rejected; 3 quality reports;")
    assert "warning: release 2020V3 was frozen incomplete: 2020H2: none of the 26 organisations delivered." in log
    assert list((root / "inbox").iterdir()) == []


@pytest.fixture(scope="session")
def new_years(request):
    """2025H1-2026H1 of two organisations, layout 0300 from 2025H2 on, refreshed as on 2026-11-23 before the
    operator added reference data for 2025 and 2026 (first) and after (second)."""

    def build(folder: Path):
        source = folder / "gen-new"
        generate(
            source,
            periode_range("2025H1:2026H1"),
            scale=0.02,
            seed=5,
            defects=0.002,
            new_layout_from=periode_range("2025H2")[0],
        )
        home = folder / "wh-new"
        inbox = home / "inbox"
        inbox.mkdir(parents=True)
        for p in source.glob("*.txt"):
            if p.name[:4] in ("VT01", "VT05"):
                shutil.copy2(p, inbox / p.name)
        first = run_vt("refresh", "--inbox", str(inbox), "--today", "2026-11-23", home=home, check=False)
        # plain dbt refuses a release of a year without reference data, before anything maps to 9999
        plain = run_dbt_cli(home, "build", "--vars", "{release: 2025V1}")
        by_hand = [
            run_vt("build", "--release", "2025V1", home=home, check=False),
            run_vt("quality", "--periode", "2026H1", "--out", str(home / "q"), home=home, check=False),
        ]
        added = [
            run_vt("reference", "carry-forward", "--year", "2025", home=home),
            run_vt("reference", "carry-forward", "--year", "2026", home=home),
        ]
        second = run_vt("refresh", "--inbox", str(inbox), "--today", "2026-11-23", home=home, check=False)
        return home, first, plain, added, second, by_hand

    return shared_state(request, "new-years", build)


@pytest.mark.slow(seconds=55)
def test_a_year_without_reference_data_is_held_back_with_what_to_do(new_years):
    _, first, plain, _, _, by_hand = new_years
    assert first.returncode == 2
    assert first.stdout.strip() == (
        "6 files loaded; 0 rejected; 0 quality reports; releases built: -; frozen: -; "
        "published: -; held back: 7 (see the messages)"
    )
    held = first.stderr.splitlines()
    assert [line.split(":")[0] for line in held] == [
        "quality reports of 6 deliveries (VT01_2025H1_001, VT01_2025H2_001, VT01_2026H1_001, ...) wait",
        # (in peildatum order: 2026V1's is 2026-09-30, 2025V3's 2026-12-31)
        "release 2025V1 waits",
        "release 2025V2 waits",
        "release 2026V1 waits",
        "release 2025V3 waits",
        "release 2026V2 waits",
        "release 2026V3 waits",
    ]
    assert "no reference data for 2025, 2026 (2025: no gemeente list and no VT-regio list; 2026: " in held[0]
    for line, year in zip(held, ["2025"] * 3 + ["2026", "2025", "2026", "2026"]):
        assert f"`vt reference add-gemeenten --year {year} FILE.csv`" in line
        assert f"`vt reference carry-forward --year {year}`" in line
    assert plain.returncode != 0
    build, quality = by_hand
    assert build.returncode == 1 and build.stderr.startswith(
        "Error: release 2025V1 cannot be built: the warehouse has no reference data for 2025 (2025: no gemeente list"
    )
    assert quality.returncode == 1 and quality.stderr.startswith(
        "Error: quality reports of VT01_2026H1_001, VT05_2026H1_001 cannot be made: the warehouse has no reference "
        "data for 2026"
    )
    assert (
        "release 2025V1 cannot be built: the warehouse has no reference data for 2025 (2025: no gemeente list "
        "and no VT-regio list). Nothing is mapped to 9999 for a missing year: add them with `vt reference "
        "add-gemeenten --year 2025 FILE.csv`"
    ) in plain.stdout
    assert "main.VT_casus_2025V1" not in plain.stdout and "START" not in plain.stdout  # stopped before any model


def test_after_the_operator_adds_the_years_every_due_release_is_frozen_and_published(new_years):
    home, _, _, added, second, _ = new_years
    assert [a.stdout.strip() for a in added] == [
        "2025: 342 gemeenten and 25 VT-regio's carried forward from 2024",
        "2026: 342 gemeenten and 25 VT-regio's carried forward from 2025",
    ]
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == (
        "0 files loaded; 0 rejected; 6 quality reports; releases built: 2025V3, 2026V2, "
        "2026V3; frozen: 2025V1, 2025V2, 2026V1; published: 2025V1, 2025V2, 2026V1; "
        "warnings: 4 (see the messages)"
    )
    cijfers = pd.read_csv(home / "publicatie" / "2026V1" / "cijfers_2026V1.csv")
    assert len(cijfers) == (25 + 1) * 22 and list(cijfers.iloc[0, :6]) == [
        "2026H1",
        "voorlopig",
        "2026V1",
        "VT01",
        "Amsterdam-Amstelland",
        "gestarte_adviezen",
    ]
    with duckdb.connect(str(home / "releases" / "2026V1" / "vt_2026V1.duckdb"), read_only=True) as con:
        # gemeenten are judged by the 2026 list: 9999 only where the generator wrote it (2 %), never the lot
        share = con.execute("select avg((gemeente_gaaf = '9999')::int) from VT_casus_2026V1").fetchone()[0]
    assert share < 0.1


def test_one_release_from_deliveries_of_both_layout_versions(new_years):
    home = new_years[0]
    manifest = json.loads((home / "releases" / "2025V2" / "manifest.json").read_text())
    used = [d["levering_id"] for d in manifest["leveringen"]]
    assert used == ["VT01_2025H1_001", "VT01_2025H2_001", "VT05_2025H1_001", "VT05_2025H2_001"]
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        versions = dict(con.execute("select levering_id, versie_bestandsdefinitie from raw.leveringen").fetchall())
    newest = layouts().newest.versie
    assert [versions[lid] for lid in used] == ["0200", newest, "0200", newest]
    with duckdb.connect(str(home / "releases" / "2025V2" / "vt_2025V2.duckdb"), read_only=True) as con:
        per_half_year = con.execute(
            "select verslagperiode, count(*), count(aanleiding_gaaf), count(distinct aanleiding_gaaf) "
            "from VT_melding_2025V2 group by 1 order by 1"
        ).fetchall()
    assert [(p, filled, kinds) for p, _, filled, kinds in per_half_year] == [
        ("2025H1", 0, 0),
        ("2025H2", per_half_year[1][1], 6),
    ]


def test_vt_releases_lists_every_release_with_its_state(new_years):
    home = new_years[0]
    proc = run_vt("releases", "--years", "2025:2026", "--json", home=home)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [
        (
            r["release"],
            r["peildatum"],
            r["bevroren"],
            r["gepubliceerd"],
            r["gebouwd_op"] is not None,
            len(r["leveringen"]),
        )
        for r in rows
    ] == [
        ("2025V1", "2025-09-30", True, True, True, 2),
        ("2025V2", "2026-03-31", True, True, True, 4),
        ("2025V3", "2026-12-31", False, False, True, 4),
        ("2026V1", "2026-09-30", True, True, True, 2),
        ("2026V2", "2027-03-31", False, False, True, 2),
        ("2026V3", "2027-12-31", False, False, True, 2),
    ]
    assert rows[0]["leveringen"] == ["VT01_2025H1_001", "VT05_2025H1_001"]
    table = run_vt("releases", "--years", "2019", home=home).stdout.splitlines()
    assert table[1].split() == [
        "2019V1",
        "2019H1",
        "+",
        "2019H2",
        "definitief",
        "2020-06-30",
        "-",
        "nee",
        "nee",
        "0",
        "[2019",
        "has",
        "only",
        "V1:",
        "both",
        "half-years",
        "and",
        "definitief",
        "(verwerking.md",
        "section",
        "5)]",
    ]


@pytest.mark.slow(seconds=22)
def test_a_hostile_inbox_is_harmless(half_year, tmp_path):
    """Symlinks (to a file elsewhere, to /dev/zero), a directory and a FIFO named *.txt are left alone, never
    followed, read or chmod-ed; a file over the size limit is rejected before it is read; a name with a newline
    is shown escaped; the valid files beside them load."""
    home = tmp_path / "wh"
    inbox = inbox_copy(half_year, tmp_path / "inbox")
    victim = tmp_path / "victim.txt"
    victim.write_text("not a delivery\n")
    victim.chmod(0o644)
    (inbox / "VT09_2020H1_001.txt").symlink_to(victim)
    (inbox / "VT10_2020H1_001.txt").symlink_to("/dev/zero")
    (inbox / "VT11_2020H1_001.txt").mkdir()
    os.mkfifo(inbox / "VT12_2020H1_001.txt")
    limit = max(p.stat().st_size for p in half_year.iterdir()) + 1  # the real files fit
    big = inbox / "VT13_2020H1_001.txt"
    big.write_bytes(b"x" * (limit + 1))
    forged = inbox / "VT14_2020H1_001.txt\n2026-01-01T00:00:00Z refresh done.txt"
    forged.write_text("garbage\n")
    for p in (big, forged):
        stamp_received(p, "2020-07-20T09:00:00")
    proc = subprocess.run(
        [sys.executable, "-m", "vt_warehouse.cli", "refresh", "--inbox", str(inbox), "--today", "2020-08-01"],
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "VT_HOME": str(home),
            "VT_PSEUDONYM_KEY": KEY,
            "VT_MAX_FILE_BYTES": str(limit),
            "GX_ANALYTICS_ENABLED": "false",
        },
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.startswith("3 files loaded; 2 rejected;")
    held = proc.stderr.splitlines()
    assert held == [
        f"VT{n:02d}_2020H1_001.txt in the inbox is not a regular file (a symbolic link, directory, FIFO or "
        "device): left alone, never followed; remove it"
        for n in (9, 10, 11, 12)
    ]
    assert (victim.read_text(), stat_mode(victim)) == ("not a delivery\n", 0o644)
    for n in (9, 10, 11, 12):
        assert os.path.lexists(inbox / f"VT{n:02d}_2020H1_001.txt")
    reason = (home / "rejected" / "VT13_2020H1_001.txt.reden.txt").read_text()
    assert f"the file has {limit + 1} bytes, more than the limit of {limit} (VT_MAX_FILE_BYTES)" in reason
    log = (home / "logs" / "refresh.log").read_text()
    assert "VT14_2020H1_001.txt\\n2026-01-01T00:00:00Z refresh done.txt" in log
    assert not any(line.startswith("2026-01-01T00:00:00Z refresh done") for line in log.splitlines())


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.slow(seconds=45)
def test_a_file_that_cannot_be_read_now_stays_in_the_inbox_and_is_retried(half_year, tmp_path, monkeypatch):
    from datetime import date

    from loaders import load as load_module
    from vt_warehouse.refresh import refresh

    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    inbox = inbox_copy(half_year, tmp_path / "inbox")
    stuck = sorted(inbox.iterdir())[0]
    real = load_module.open_delivery

    def flaky(path, limit):
        if path == stuck:
            raise PermissionError(13, "Permission denied")
        return real(path, limit)

    monkeypatch.setattr(load_module, "open_delivery", flaky)
    warehouse = Warehouse(tmp_path / "wh")
    first = refresh(warehouse, inbox, date(2020, 8, 1))
    assert len(first.loaded) == 2 and first.rejected == [] and stuck.exists()
    assert first.problems == [f"{stuck}: cannot be read now (Permission denied); nothing decided, try again"]
    monkeypatch.setattr(load_module, "open_delivery", real)
    second = refresh(warehouse, inbox, date(2020, 8, 1))
    assert second.loaded == [stuck.name[:-4]] and not stuck.exists()


def test_spss_reads_a_layout_0300_code_whole(new_years, tmp_path):
    """aanleiding_gaaf (two-digit codes, only in layout 0300) was declared A1, and PSPP read 04 as 0. 2025V2 holds
    meldingen of both layouts: PSPP, running the release's syntax, keeps every code and its label."""
    from tests.test_release_files import pspp

    folder = new_years[0] / "releases" / "2025V2"
    syntax = tmp_path / "melding.sps"
    out = tmp_path / "melding.csv"
    syntax.write_text(
        f"CD '{folder}'.\n"
        + (folder / "VT_melding_2025V2.sps").read_text(encoding="utf-8")
        + f"\nSAVE TRANSLATE /OUTFILE='{out}' /TYPE=CSV /FIELDNAMES /REPLACE.\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [pspp(), "-O", "format=txt", "-o", str(tmp_path / "listing.txt"), str(syntax)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = pd.read_csv(out, dtype=str, keep_default_na=False).aanleiding_gaaf
    want = pd.read_csv(folder / "VT_melding_2025V2.csv", dtype=str, keep_default_na=False).aanleiding_gaaf
    assert got.tolist() == want.tolist() and want.str.len().max() == 2 and (want == "").any()


def test_a_release_whose_last_build_failed_is_built_again_by_the_next_run(reference, tmp_path):
    """A build stopped half-way (a full disk, a killed dbt) is recorded incomplete; the next refresh builds that
    release again instead of leaving it half-built until its freeze."""
    home = private_copy(reference[0], tmp_path)
    with duckdb.connect(str(home / "vt.duckdb")) as con:
        con.execute("update meta.builds set volledig = false where release = '2020V2'")
    (tmp_path / "inbox").mkdir()
    proc = run_vt("refresh", "--inbox", str(tmp_path / "inbox"), "--today", "2020-10-01", home=home)
    assert "releases built: 2020V2;" in proc.stdout, proc.stdout
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute(
            "select volledig from meta.builds where release = '2020V2' order by beeindigd_op desc limit 1"
        ).fetchone() == (True,)


@pytest.mark.slow(seconds=60)
def test_vt_releases_every_half_second_during_a_real_refresh_never_breaks_it(reference, tmp_path, monkeypatch):
    """The reproduction as reported: `vt releases` in a loop while a refresh loads, reports, builds and
    publishes. The refresh ends as if alone (exit 0, no lock error anywhere, its log ends with its summary);
    each `vt releases` either answers or is told at once that a refresh runs (exit 2)."""
    import threading

    from tests.conftest import empty_delivery

    monkeypatch.delenv("VT_DATABASE", raising=False)
    home = private_copy(reference[0], tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    received = write_delivery(inbox, empty_delivery("VT03"))
    stamp = time.mktime((2020, 9, 1, 12, 0, 0, 0, 0, -1))  # a file arrives at its modification time
    os.utime(received, (stamp, stamp))
    done: list = []
    refresh = threading.Thread(
        target=lambda: done.append(
            run_vt("refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home, check=False)
        )
    )
    refresh.start()
    readers = []
    while refresh.is_alive():
        readers.append(run_vt("releases", "--years", "2020", home=home, check=False))
        time.sleep(0.5)
    refresh.join()
    proc = done[0]
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1 files loaded; 0 rejected; 1 quality reports; releases built: 2020V2, 2020V3;")
    log = (home / "logs" / "refresh.log").read_text()
    for text in (proc.stderr, log):
        assert "Conflicting lock" not in text and "IOException" not in text and "Traceback" not in text
    assert log.splitlines()[-1].endswith(proc.stdout.strip())
    busy = [r for r in readers if r.returncode == 2]
    assert busy and all(r.returncode in (0, 2) for r in readers), [(r.returncode, r.stderr) for r in readers]
    for r in busy:
        assert r.stderr.startswith(f"Error: the warehouse {home}/vt.duckdb is being refreshed (vt refresh, pid "), (
            r.stderr
        )
        assert r.stdout == ""
    for r in readers:
        if r.returncode == 0:
            assert r.stdout.startswith("release") and "2020V1" in r.stdout, r.stdout
    assert run_vt("releases", "--years", "2020", home=home).stdout.count("2020H1: 4 of 26 organisations") >= 1


def test_a_reader_never_breaks_a_refresh_and_is_told_when_one_runs(reference, tmp_path, monkeypatch):
    """`vt releases` or `vt quality` open while the refresh starts: the refresh waits for them ($VT_LOCK_WAIT),
    then stops before doing anything with its "in use" code 3, and its log ends with the reason. A command while
    a refresh runs (`vt releases`, `vt quality --all`, `vt verify`) is told at once (exit 2) and the refresh is
    not disturbed."""
    from loaders.warehouse import HELD_ENV, Warehouse, held_exclusively

    monkeypatch.delenv("VT_DATABASE", raising=False)
    home = private_copy(reference[0], tmp_path)
    (tmp_path / "inbox").mkdir()
    with Warehouse(home).connect(read_only=True):
        proc = run_vt(
            "refresh",
            "--inbox",
            str(tmp_path / "inbox"),
            "--today",
            "2020-10-01",
            home=home,
            env={"VT_LOCK_WAIT": "1"},
            check=False,
        )
    assert proc.returncode == 3, proc.stderr
    assert (
        f"the warehouse {home}/vt.duckdb is being read (vt releases, vt quality, ...) for more than 1 s "
        "($VT_LOCK_WAIT): the refresh did nothing; the next run tries again"
    ) in proc.stderr
    assert (
        (home / "logs" / "refresh.log")
        .read_text()
        .splitlines()[-1]
        .endswith(
            "refresh stopped: the warehouse "
            f"{home}/vt.duckdb is being read (vt releases, vt quality, ...) for more "
            "than 1 s ($VT_LOCK_WAIT): the refresh did nothing; the next run tries again"
        )
    )
    with held_exclusively(home / "vt.duckdb"):  # as a running refresh holds it
        procs = [
            run_vt(*args, home=home, env={HELD_ENV: ""}, check=False)
            for args in (
                ("releases", "--years", "2020"),
                ("quality", "--all", "--out", str(tmp_path / "q")),
                ("verify",),
            )
        ]
    for proc in procs:  # readers and writers alike stop at once, and say why
        assert (
            proc.returncode == 2
            and (
                f"the warehouse {home}/vt.duckdb is being refreshed (vt refresh, pid "
                f"{os.getpid()}): nothing done; run again when the refresh is done"
            )
            in proc.stderr
        ), proc.stderr
    assert not (tmp_path / "q").exists()
    assert run_vt("refresh", "--inbox", str(tmp_path / "inbox"), "--today", "2020-10-01", home=home).stdout.startswith(
        "nothing new"
    )
