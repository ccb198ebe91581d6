"""Builds and releases from a small generated year: identical output, frozen releases, the analysts' file,
and dbt's own unit tests (gaafmaak rules, selection, mergers) run against the built project."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from functools import partial
from pathlib import Path

import duckdb
import pytest

from loaders.layout import default_layout
from loaders.load import load_files
from loaders.warehouse import Warehouse
from tests.conftest import KEY, run_vt, small_delivery, write_delivery
from tests.states import private_copy, shared_state
from vt_warehouse.generate import received_groups
from vt_warehouse.kalender import releases
from vt_warehouse.release import (
    ReleaseError,
    build_release,
    build_releases,
    content_checksum,
    freeze_release,
    last_build,
    run_dbt,
    selected_deliveries,
    verify_release,
)
from vt_warehouse.release.anchor import reproducible
from vt_warehouse.release.schema import entities, tables
from vt_warehouse.transform import run as dbt_run

RELEASE = "2020V2"
TABLES = entities()  # the nine microdata tables
CBS_CASUS = ["identificatienummer_casus", "startdatum_gaaf", "einddatum_gaaf", "gemeente_gaaf", "vtcode_gaaf"]


vt = partial(run_vt, check=False)  # these tests check exit codes themselves


def load_generated(folder, home):
    warehouse = Warehouse(home)
    for received, paths in received_groups(folder).items():
        load_files(paths, warehouse, default_layout(), received)
    return warehouse


@pytest.fixture(scope="session")
def released(year, request):
    """The year loaded and released twice, each time into a new warehouse."""

    def build(folder: Path) -> list[Path]:
        homes = []
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("VT_PSEUDONYM_KEY", KEY)
            mp.delenv("VT_DATABASE", raising=False)
            for i in range(2):
                home = folder / f"wh{i}"
                load_generated(year, home)
                freeze_release(Warehouse(home), RELEASE)
                homes.append(home)
        return homes

    return shared_state(request, "released-twice", build)


@pytest.mark.slow(seconds=21)
def test_release_twice_gives_identical_files(released):
    a, b = (home / "releases" / RELEASE for home in released)
    manifest = json.loads((a / "manifest.json").read_text())
    names = sorted(f["name"] for f in manifest["files"])
    assert names == sorted(
        [f"VT_{t}_{RELEASE}.{ext}" for t in TABLES for ext in ("parquet", "csv", "csv-metadata.json", "sps", "do")]
        + [
            f"kerncijfers_{RELEASE}.parquet",
            f"indicatoren_{RELEASE}.parquet",
            f"codelijsten_{RELEASE}.csv",
            f"codelijsten_{RELEASE}.csv-metadata.json",
            f"codebook_{RELEASE}.md",
            f"codebook_{RELEASE}.html",
            f"vt_{RELEASE}.duckdb",
        ]
    )
    # every file the same bytes, but the DuckDB file (DuckDB writes other bytes each time): its content is
    for name in names:
        if name.endswith(".duckdb"):
            assert (a / name).read_bytes() != (b / name).read_bytes()  # else the content checksum is not needed
            assert content_checksum(a / name) == content_checksum(b / name)
            assert content_checksum(a / name, 1) != content_checksum(a / name)  # version 2 covers more
        else:
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    # the manifests agree but for the build that made each (its own dbt invocation and times)
    other = json.loads((b / "manifest.json").read_text())
    assert reproducible(manifest) == reproducible(other) and manifest["files"] != other["files"]
    assert manifest["build"]["invocation_id"] != other["build"]["invocation_id"]
    last = last_build(Warehouse(released[0]), RELEASE)
    assert manifest["build"] == {
        k: last[k] for k in ("invocation_id", "opdracht", "versies", "gestart_op", "gebouwd_op")
    }
    assert last["volledig"] and last["opdracht"] == "build" and last["versies"]["duckdb"] == duckdb.__version__
    assert [(d["levering_id"], d["checksum_sha256"]) for d in last["deliveries"]] == [
        (d["levering_id"], d["checksum_sha256"]) for d in manifest["leveringen"]
    ]
    assert all(f["rows"] > 0 for f in manifest["files"] if "rows" in f)
    assert verify_release(a) == [] and verify_release(b) == []
    assert manifest["perioden"] == ["2020H1", "2020H2"] and manifest["peildatum"] == "2021-03-31"
    # the correction deliveries replaced their first versions
    used = {d["levering_id"] for d in manifest["leveringen"]}
    assert len(used) == 52
    assert any(lid.endswith("_002") for lid in used)


def test_vt_casus_has_exactly_the_cbs_variables(released):
    folder = released[0] / "releases" / RELEASE
    with duckdb.connect() as con:
        rel = con.execute("select * from read_parquet(?) limit 1", [str(folder / f"VT_casus_{RELEASE}.parquet")])
        assert [d[0] for d in rel.description] == CBS_CASUS
        lengths = con.execute(
            "select min(length(identificatienummer_casus)), max(length(identificatienummer_casus)), "
            "max(length(startdatum_gaaf)), max(length(gemeente_gaaf)), count(*) filter (where vtcode_gaaf is null) "
            "from read_parquet(?)",
            [str(folder / f"VT_casus_{RELEASE}.parquet")],
        ).fetchone()
    assert lengths == (64, 64, 8, 4, 0)
    header = (folder / f"VT_casus_{RELEASE}.csv").read_text().splitlines()[0]
    assert header == ",".join(CBS_CASUS)


def test_never_empty_columns_are_constraints_duckdb_checks_while_dbt_builds(released, tmp_path):
    """The released tables' key columns and vtcode_gaaf are not_null constraints of their contracts, not a data test
    each: the built tables carry them, and DuckDB refuses an empty one as the rows are written."""
    home = private_copy(released[0], tmp_path)
    with duckdb.connect(str(home / "vt.duckdb")) as con:
        for t in tables().values():
            name = t.name(RELEASE)
            not_null = {
                column
                for (column,) in con.execute(
                    "select unnest(constraint_column_names) from duckdb_constraints() where table_name = ? and "
                    "constraint_type = 'NOT NULL'",
                    [name],
                ).fetchall()
            }
            assert not_null == {*t.key, "vtcode_gaaf", *(c for link in t.links for c in link.columns)}, name
            for column in sorted(not_null):
                with pytest.raises(duckdb.ConstraintException, match="NOT NULL constraint failed"):
                    con.execute(f'update "{name}" set "{column}" = null where true')


def test_analyst_database_holds_only_released_tables(released):
    path = released[0] / "releases" / RELEASE / f"vt_{RELEASE}.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        tables = sorted(t for (t,) in con.execute("select table_name from information_schema.tables").fetchall())
        columns = {c for (c,) in con.execute("select column_name from information_schema.columns").fetchall()}
    released = sorted(f"VT_{t}_{RELEASE}" for t in TABLES)
    assert [t for t in tables if not t.startswith("codelijst_")] == sorted(released + [f"{t}_labels" for t in released])
    # coded numbers only: no organisation's own number, no BSN pseudonym
    assert not {c for c in columns if "nummer" in c and not c.startswith("identificatienummer")}
    assert "bsn_pseudoniem" not in columns


def test_releasing_again_is_a_noop_and_a_changed_frozen_release_is_refused(released, tmp_path):
    home = private_copy(released[0], tmp_path)
    proc = vt("release", RELEASE, home=home)
    assert proc.returncode == 0, proc.stderr
    assert "frozen and unchanged" in proc.stdout
    assert re.search(r"; build \d+\.\d s, export \d+\.\d s\)$", proc.stdout.strip()), proc.stdout
    # a correction received after the peildatum does not touch the frozen release
    late = small_delivery(vt_code="VT05", periode="2020H2", nummer="009")
    write_delivery(tmp_path, late)
    assert vt("load", "--received-at", "2021-06-01", str(tmp_path), home=home).returncode == 0
    assert vt("release", RELEASE, home=home).returncode == 0
    # back-loading one dated before the peildatum would change it: refused before anything is rebuilt, and the
    # files and the publication (made from the frozen files) stay as they were
    before = {p.name: p.read_bytes() for p in (home / "releases" / RELEASE).iterdir()}
    assert vt("publish", "--release", RELEASE, "--out", str(tmp_path / "pub1"), home=home).returncode == 0
    build_record = last_build(Warehouse(home), RELEASE)
    early = tmp_path / "early"
    early.mkdir()
    write_delivery(early, small_delivery(vt_code="VT06", periode="2020H2", nummer="009"))
    assert vt("load", "--received-at", "2021-02-01", str(early), home=home).returncode == 0
    proc = vt("release", RELEASE, home=home)
    assert proc.returncode == 1
    assert f"release {RELEASE} is frozen and its output would change: 1 deliveries" in proc.stderr
    assert "VT06_2020H2_009" in proc.stderr and "a correction goes into the next version" in proc.stderr
    proc = vt("build", "--release", RELEASE, home=home)
    assert proc.returncode == 1 and "a frozen release is never rebuilt" in proc.stderr
    assert last_build(Warehouse(home), RELEASE) == build_record  # nothing was rebuilt
    assert {p.name: p.read_bytes() for p in (home / "releases" / RELEASE).iterdir()} == before
    assert vt("publish", "--release", RELEASE, "--out", str(tmp_path / "pub2"), home=home).returncode == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "pub1").iterdir()} == {
        p.name: p.read_bytes() for p in (tmp_path / "pub2").iterdir()
    }
    assert vt("verify", RELEASE, home=home).returncode == 0


def test_a_changed_frozen_file_is_named_and_never_published(released, tmp_path):
    home = tmp_path / "copy"
    shutil.copytree(released[1], home)
    folder = home / "releases" / RELEASE
    proc = vt("verify", home=home)
    assert proc.returncode == 0 and proc.stdout == f"{RELEASE} release: intact (52 files)\n", proc.stderr
    csv_file = folder / f"VT_casus_{RELEASE}.csv"
    csv_file.chmod(0o640)
    with open(csv_file, "a") as fh:
        fh.write("x\n")
    with duckdb.connect(str(folder / f"vt_{RELEASE}.duckdb")) as con:
        con.execute(f"delete from VT_melding_{RELEASE} where true")
    (folder / "extra.txt").write_text("?")
    proc = vt("verify", RELEASE, home=home)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"{RELEASE} release: VT_casus_{RELEASE}.csv differs from the manifest (sha256) ({folder})",
        f"{RELEASE} release: vt_{RELEASE}.duckdb differs from the manifest (its tables' content changed) ({folder})",
        f"{RELEASE} release: extra.txt is not part of it ({folder})",
    ]
    proc = vt("release", RELEASE, home=home)
    assert proc.returncode == 1 and "is frozen but its files differ from its manifest" in proc.stderr
    kern = folder / f"kerncijfers_{RELEASE}.parquet"
    kern.chmod(0o640)
    kern.write_bytes(kern.read_bytes() + b"\0")
    proc = vt("publish", "--release", RELEASE, "--out", str(tmp_path / "pub"), home=home)
    assert proc.returncode == 1 and (
        f"release {RELEASE} differs from its manifest.json (" in proc.stderr
        and f"kerncijfers_{RELEASE}.parquet differs from the manifest (sha256)" in proc.stderr
        and "not published" in proc.stderr
    )
    assert not (tmp_path / "pub").exists()
    proc = vt("verify", "2020V9", home=home)
    assert proc.returncode == 2 and "release 2020V9 does not exist" in proc.stderr


def test_build_errors_are_clear(released, tmp_path):
    home = private_copy(released[0], tmp_path)
    proc = vt("build", "--release", "2020V7", home=home)
    assert proc.returncode == 2
    assert "release 2020V7 does not exist; 2020 has 2020V1, 2020V2, 2020V3" in proc.stderr
    proc = vt("build", "--release", "2019V3", home=home)
    assert proc.returncode == 2 and "release 2019V3 does not exist (2019 has only V1" in proc.stderr
    proc = vt("build", "--release", "2021V1", home=home)
    assert proc.returncode == 1
    assert (
        "release 2021V1 has no deliveries received on or before its peildatum 2021-09-30: the warehouse has no "
        "delivery for 2021H1: load them first"
    ) in proc.stderr
    proc = vt("build", "--release", "2020V1", home=tmp_path / "empty")
    assert proc.returncode == 1 and "has no deliveries" in proc.stderr


def test_peildatum_cut_off_in_a_real_build(released, monkeypatch, tmp_path):
    """2020V1 as of 2020-07-01 sees no 2020H1 delivery (they arrive late July); as of its calendar date all."""
    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    warehouse = Warehouse(private_copy(released[1], tmp_path))
    with pytest.raises(ReleaseError, match="has no deliveries"):
        build_release(warehouse, "2020V1", datetime(2020, 7, 1).date())
    result = build_release(warehouse, "2020V1")
    assert len(result.leveringen) == 26
    with duckdb.connect(str(warehouse.database), read_only=True) as con:
        selection = "main_release_2020v1.int_leveringen_geselecteerd"  # the release's own schema
        periods = con.execute(f"select distinct verslagperiode from {selection}").fetchall()
        in_dbt = con.execute(f"select levering_id from {selection} order by 1").fetchall()
    assert periods == [("2020H1",)]
    # what the build record says it read is what the release's own selection holds
    assert [lid for (lid,) in in_dbt] == [lid for lid, _, _ in result.leveringen]
    # and what Python selects (from int_leveringen_vervangen, the one home of the rule) agrees
    assert [lid for lid, _, _ in selected_deliveries(warehouse, result.release, result.peildatum)] == [
        lid for (lid,) in in_dbt
    ]


def test_several_releases_build_in_one_dbt_process_each_on_its_own(released, monkeypatch, tmp_path):
    """build_releases (the refresh's): one child process for every release, each its own dbt run in its own schema
    and build record; a release that cannot be built (no deliveries, frozen) holds back only itself."""
    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    warehouse = Warehouse(private_copy(released[1], tmp_path))  # 2020V2 is frozen there
    started = []
    popen = dbt_run.subprocess.Popen
    monkeypatch.setattr(dbt_run.subprocess, "Popen", lambda cmd, **kw: started.append(cmd) or popen(cmd, **kw))
    out = build_releases(warehouse, ["2020V1", "2021V1", "2020V3", "2020V2"])
    assert len(started) == 1 and started[0][1:4] == ["-P", "-m", "vt_warehouse.transform.child"]
    assert list(out) == ["2020V1", "2021V1", "2020V3", "2020V2"]
    assert isinstance(out["2021V1"], ReleaseError) and "release 2021V1 has no deliveries" in str(out["2021V1"])
    assert isinstance(out["2020V2"], ReleaseError) and "release 2020V2 is frozen" in str(out["2020V2"])
    for name in ("2020V1", "2020V3"):
        result = out[name]
        assert [lid for lid, _, _ in result.leveringen] == [
            lid for lid, _, _ in selected_deliveries(warehouse, result.release, result.release.peildatum)
        ]
    assert len(out["2020V1"].leveringen) == 26 and len(out["2020V3"].leveringen) > 26
    assert out["2020V1"].build["invocation_id"] != out["2020V3"].build["invocation_id"]
    with duckdb.connect(str(warehouse.database), read_only=True) as con:
        schemas = {
            s
            for (s,) in con.execute(
                "select distinct schema_name from duckdb_tables() where table_name = 'int_leveringen_geselecteerd'"
            ).fetchall()
        }
    assert {"main_release_2020v1", "main_release_2020v3"} <= schemas and "main_release_2021v1" not in schemas


def test_a_dbt_process_that_dies_fails_every_run_it_did_not_end(tmp_path, monkeypatch):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'Running with dbt=1.11'\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(dbt_run.sys, "executable", str(fake))
    outcomes = dbt_run.run_dbt_each(
        Warehouse(tmp_path / "wh"), ["build"], [dbt_run.Run("2020V1"), dbt_run.Run("2020V2")]
    )
    assert [str(o) for o in outcomes] == [
        "dbt stopped (exit code 3) before this run ended\nRunning with dbt=1.11",
        "dbt stopped (exit code 3) before this run ended",
    ]


def test_dbt_unit_tests_pass(released, monkeypatch, tmp_path):
    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    # (dbt reads the columns of a unit test's inputs from the release's built tables)
    out = run_dbt(
        Warehouse(private_copy(released[1], tmp_path)),
        ["test", "--select", "test_type:unit", "--vars", json.dumps({"release": RELEASE})],
    )
    assert "PASS=11" in out and "ERROR=0" in out


def test_dbt_reads_the_calendar_from_the_same_rule_as_python(released):
    """int_releases_gepland runs vt_warehouse.kalender.plan with the seed's exceptions: the same releases, 2019 through
    next year."""
    with duckdb.connect(str(released[0] / "vt.duckdb"), read_only=True) as con:
        dbt_rows = con.execute(
            "select release, verslagperiode, jaar, versie, status, peildatum "
            "from int_releases_gepland order by release, verslagperiode"
        ).fetchall()
    python_rows = [
        (r.name, p, r.jaar, r.versie, r.status, r.peildatum)
        for r in releases(2019, date.today().year + 1)
        for p in r.perioden
    ]
    assert dbt_rows == python_rows
    assert dbt_rows[:3] == [
        ("2019V1", "2019H1", 2019, 1, "definitief", date(2020, 6, 30)),
        ("2019V1", "2019H2", 2019, 1, "definitief", date(2020, 6, 30)),
        ("2020V1", "2020H1", 2020, 1, "voorlopig", date(2020, 9, 30)),
    ]


def test_every_release_shares_one_parse_and_keeps_its_own_names(tmp_path, monkeypatch):
    """`vt` gives dbt the release in its environment (macros/release_var.sql): a second release re-parses only the
    files that read it, not the project, and its tables get its own names and schema."""
    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    monkeypatch.setattr(dbt_run, "PARSE_CACHE", tmp_path / "project" / dbt_run.SAVED_PARSE)  # none yet
    warehouse = Warehouse(tmp_path / "wh")
    target = warehouse.home / "dbt-target" / "gedeeld"
    run_dbt(warehouse, ["parse"], release="2020V1")
    first = json.loads((target / "perf_info.json").read_text())
    run_dbt(warehouse, ["parse"], release="2021V2")
    second = json.loads((target / "perf_info.json").read_text())
    assert first["parsed_path_count"] == first["path_count"]  # a new target: the whole project
    assert 0 < second["parsed_path_count"] < first["path_count"] / 4
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    casus = nodes["model.vt_warehouse.vt_casus"]
    gaaf = nodes["model.vt_warehouse.int_casussen_gaafgemaakt"]
    assert (casus["alias"], casus["schema"]) == ("VT_casus_2021V2", "main")
    assert gaaf["schema"] == "main_release_2021v2"
