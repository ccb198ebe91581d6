"""Plain dbt, as a data engineer runs it (docs/data-engineer.md, "Plain dbt"): the four ways it used to exit 0 with a
wrong or empty release now stop before any model is built, with a message that names the cause; releases do
not read each other's tables; every build is recorded; a partial build never reuses another state."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pytest

from loaders.layout import default_layout
from loaders.load import load_files
from loaders.periods import periode_range
from loaders.warehouse import Warehouse
from tests.conftest import KEY, small_delivery, write_delivery
from tests.conftest import run_dbt_cli as dbt
from tests.states import private_copy, shared_state
from vt_warehouse.generate import generate
from vt_warehouse.kalender import get_release
from vt_warehouse.release import ReleaseError, last_build, require_current_build

# Every file is received at one fixed time of today's date and the releases are built as of that date, so a run
# that passes midnight (CI starts late) still builds "as of the day the files arrived".
RECEIVED = datetime.combine(date.today(), time(0, 0, 1))
TODAY = RECEIVED.date().isoformat()


def tables(home: Path) -> set[str]:
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        return {
            f"{s}.{t}"
            for s, t in con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        }


def schemas(home: Path) -> set[str]:
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        return {s for (s,) in con.execute("select schema_name from information_schema.schemata").fetchall()}


def query(home: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="session")
def files(request):
    def build(folder: Path) -> Path:
        generate(folder, periode_range("2020H1:2020H2"), scale=0.01, seed=7)
        return folder

    return shared_state(request, "plain-dbt-files", build)


@pytest.fixture(scope="session")
def loaded(files, request):
    """The year loaded as a new user does: `vt load DIR`, every file received now."""

    def build(home: Path) -> Path:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("VT_PSEUDONYM_KEY", KEY)
            load_files([files], Warehouse(home), default_layout(), RECEIVED)
        return home

    return shared_state(request, "loaded-now", build)


@pytest.fixture
def loaded_now(loaded, tmp_path):
    """This test's own copy of `loaded` (every dbt command writes into the warehouse)."""
    return private_copy(loaded, tmp_path)


@pytest.fixture(scope="session")
def case2(loaded, request):
    """A copy of `loaded` after case 2's dbt commands, as a data engineer would type them: (home, outputs, the tables
    after the refused selective build)."""

    def build(folder: Path):
        home = private_copy(loaded, folder)
        as_of = f"peildatum: {TODAY}"
        outs = [
            dbt(home, "run", "--vars", f"{{release: 2020V2, {as_of}}}"),
            dbt(home, "seed"),
            dbt(home, "run", "--vars", f"{{release: 2020V2, {as_of}}}"),
            # 2020V1's intermediate tables were never built: the selective build stops
            dbt(home, "build", "--select", "vt_casus", "vt_melding", "--vars", f"{{release: 2020V1, {as_of}}}"),
        ]
        refused = tables(home)
        # as the message says: then 2020V1 has H1 only, from its own schema
        outs.append(
            dbt(home, "build", "--select", "+vt_casus", "+vt_melding", "--vars", f"{{release: 2020V1, {as_of}}}")
        )
        return home, outs, refused

    return shared_state(request, "plain-dbt-case2", build)


def test_case1_a_release_whose_deliveries_arrived_after_its_peildatum_stops_and_says_why(files, loaded_now):
    h1 = len(list(files.glob("*_2020H1_*.txt")))
    out = dbt(loaded_now, "build", "--vars", "{release: 2020V1}")
    assert out.returncode != 0
    assert (
        f"release 2020V1 has no deliveries received on or before its peildatum 2020-09-30: the warehouse has "
        f"{h1} for 2020H1, received {TODAY}"
    ) in out.stdout
    assert "`vt load --received-at mtime DIR`" in out.stdout and "Nothing was built." in out.stdout
    assert "main.VT_casus_2020V1" not in tables(loaded_now)
    assert "main_release_2020v1" not in schemas(loaded_now)  # the schema dbt made before the guard is gone


@pytest.mark.slow(seconds=17)
def test_case3_an_unknown_release_stops_before_any_model(loaded_now):
    out = dbt(loaded_now, "run", "--vars", "{release: 2020V9}")
    assert out.returncode != 0
    assert "release 2020V9 does not exist; 2020 has 2020V1, 2020V2, 2020V3; nothing was built" in out.stdout
    assert not any("2020V9" in t for t in tables(loaded_now))
    assert "main_release_2020v9" not in schemas(loaded_now)
    out = dbt(loaded_now, "run")
    assert out.returncode != 0 and "no release given: name the release to build" in out.stdout
    # (quoted: YAML itself refuses an unquoted impossible date, before dbt starts)
    out = dbt(loaded_now, "run", "--vars", "{release: 2020V2, peildatum: '2021-02-30'}")
    assert out.returncode != 0 and "release 2020V2: peildatum 2021-02-30 is not a date YYYY-MM-DD" in out.stdout
    # vars are checked exactly, before they reach a name or SQL: a trailing newline, text after a date
    out = dbt(loaded_now, "run", "--vars", '{release: "2020V2\\n"}')
    assert out.returncode != 0 and 'release "2020V2\\n" is not a release name JJJJVn' in out.stdout, out.stdout
    out = dbt(
        loaded_now, "run", "--vars", '{release: 2020V2, peildatum: "2021-01-01\'; drop table raw.leveringen; --"}'
    )
    assert (
        out.returncode != 0
        and ('peildatum "2021-01-01\'; drop table raw.leveringen; --" is not a date YYYY-MM-DD; nothing was built')
        in out.stdout
    ), out.stdout
    assert "raw.leveringen" in tables(loaded_now) and not any("2020V2" in t for t in tables(loaded_now))


def test_plain_dbt_refuses_a_frozen_release_as_vt_build_does(loaded_now):
    folder = loaded_now / "releases" / "2020V1"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    out = dbt(loaded_now, "build", "--vars", "{release: 2020V1}")
    assert out.returncode != 0
    assert (
        f"release 2020V1 is frozen ({folder}): a frozen release is never rebuilt, its files are the release "
        "(`vt verify 2020V1` checks them); a correction goes into the next version; nothing was built"
    ) in out.stdout
    assert not any("2020V1" in t for t in tables(loaded_now)) and "main_release_2020v1" not in schemas(loaded_now)


def test_case4_a_missing_or_short_key_stops_before_any_model(loaded_now):
    out = dbt(loaded_now, "run", "--select", "vt_casus", "--vars", f"{{release: 2020V2, peildatum: {TODAY}}}", key=None)
    assert out.returncode != 0
    assert (
        "release 2020V2 cannot be built: no pseudonymisation key: set VT_PSEUDONYM_KEY (at least 32 characters)"
    ) in out.stdout
    out = dbt(
        loaded_now, "run", "--select", "vt_casus", "--vars", f"{{release: 2020V2, peildatum: {TODAY}}}", key="short"
    )
    assert out.returncode != 0
    assert "VT_PSEUDONYM_KEY must be at least 32 characters" in out.stdout
    assert "main.VT_casus_2020V2" not in tables(loaded_now)


@pytest.mark.slow(seconds=24)
def test_case2_releases_never_read_each_others_tables(case2):
    home, (run, seed, run_again, selective, full), refused = case2
    assert run.returncode != 0  # a warehouse that never had dbt's seeds
    assert (
        "the seeds codes, feestdagen, releasekalender_afwijkingen were never loaded into this warehouse: `dbt build "
        "--vars '{release: 2020V2}'` loads them with the models (or run `dbt seed` first)"
    ) in run.stdout
    assert seed.returncode == 0
    assert run_again.returncode == 0
    # 2020V1's intermediate tables were never built: the selective build stops instead of reading 2020V2's
    assert selective.returncode != 0
    assert (
        "release 2020V1: int_casussen_gaafgemaakt, int_meldingen_gaafgemaakt of this release were never "
        "built, and vt_casus, vt_melding would read them; build them too: dbt build --select +vt_casus "
        "+vt_melding --vars '{release: 2020V1}'. Nothing was built."
    ) in selective.stdout
    assert "main.VT_casus_2020V1" not in refused
    # as the message says: then 2020V1 has H1 only, from its own schema
    assert full.returncode == 0, full.stdout[-3000:]
    assert query(home, "select distinct verslagperiode from main_release_2020v1.int_leveringen_geselecteerd") == [
        ("2020H1",)
    ]
    assert query(home, 'select max(startdatum_gaaf) from "VT_casus_2020V1"') == [("20200630",)]
    assert query(home, 'select max(startdatum_gaaf) from "VT_casus_2020V2"')[0][0] > "20200630"
    # each release's selection in its own schema: 2020V2 still has both half-years
    assert query(
        home, "select distinct verslagperiode from main_release_2020v2.int_leveringen_geselecteerd order by 1"
    ) == [("2020H1",), ("2020H2",)]


def test_every_build_is_recorded_and_a_partial_build_reuses_only_the_current_state(case2, files, monkeypatch, tmp_path):
    # after case 2: 2020V1 built as of today with --select +vt_casus +vt_melding
    loaded_now = private_copy(case2[0], tmp_path)
    warehouse = Warehouse(loaded_now)
    last = last_build(warehouse, "2020V1")
    h1 = sorted(p.stem for p in files.glob("*_2020H1_*.txt"))
    selected = [
        r[0]
        for r in query(
            loaded_now,
            "select levering_id from main.int_leveringen_vervangen where "
            "verslagperiode = '2020H1' and laatste order by 1",
        )
    ]
    assert last["peildatum"] == TODAY and last["leveringen"] == selected and set(selected) <= set(h1)
    assert last["volledig"] is False and last["opdracht"] == "build"
    assert last["versies"]["dbt-core"].startswith("1.11.") and len(last["invocation_id"]) == 36
    with pytest.raises(
        ReleaseError,
        match=r"release 2020V1 is not frozen: its last build .* is not of the current "
        r"state: it was a partial build .*; it was built as of ",
    ):
        require_current_build(warehouse, get_release("2020V1"))
    # a correction delivery arrives: reusing the tables built before it is refused
    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    (loaded_now.parent / "corr").mkdir()
    correction = write_delivery(loaded_now.parent / "corr", small_delivery("VT05", "2020H1", "009"))
    load_files([correction], warehouse, default_layout(), RECEIVED.replace(second=2))
    out = dbt(loaded_now, "build", "--select", "vt_casus", "--vars", f"{{release: 2020V1, peildatum: {TODAY}}}")
    assert out.returncode != 0
    assert (
        f"release 2020V1: the release's tables that vt_casus would reuse were built as of peildatum {TODAY}; "
        f"this run is as of {TODAY} (the selection of deliveries differs (1 new or changed, 1 no longer "
        f"selected)); build them too: dbt build --select +vt_casus --vars '{{release: 2020V1, peildatum: "
        f"{TODAY}}}'. Nothing was built."
    ) in out.stdout
    # another peildatum with the same deliveries says just that, and keeps the peildatum in what to run
    out = dbt(loaded_now, "build", "--select", "vt_casus", "--vars", "{release: 2020V1, peildatum: 2030-01-01}")
    assert out.returncode != 0
    assert (
        f"were built as of peildatum {TODAY}; this run is as of 2030-01-01 (the selection of deliveries "
        "differs (1 new or changed, 1 no longer selected)); build them too: dbt build --select +vt_casus "
        "--vars '{release: 2020V1, peildatum: 2030-01-01}'"
    ) in out.stdout
    assert last_build(warehouse, "2020V1")["invocation_id"] == last["invocation_id"]  # nothing built, nothing recorded


def test_docs_generate_works_without_a_release(case2, tmp_path):
    """dbt compiles the hooks for the docs: the guard only acts in a run that builds. (With a release, as the
    developer docs show it, `make docs` runs it.)"""
    loaded_now = private_copy(case2[0], tmp_path)
    out = dbt(loaded_now, "docs", "generate")
    assert out.returncode == 0, out.stdout[-2000:]
    assert (loaded_now / "dbt-target" / "catalog.json").exists()
    manifest = json.loads((loaded_now / "dbt-target" / "manifest.json").read_text())
    assert sorted(x["name"] for x in manifest["exposures"].values()) == [
        "kwaliteitsrapport",
        "microdata_export",
        "publicatie",
        "releasebeheer",
        "spiegelrapport",
    ]
