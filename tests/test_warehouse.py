"""The raw layer's Parquet folders: views that follow the warehouse, and warehouses from before the layer."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from loaders.layout import default_layout, layouts
from loaders.load import GELADEN, load_files
from loaders.warehouse import (
    QUALITY_MEMORY_ENV,
    RAW_SCHEMA,
    SettingError,
    Warehouse,
    limit_memory,
    open_reader,
    prepare,
)
from tests.conftest import PROJECT, run_vt, small_delivery, write_delivery

ENTITIES = [rt.entiteit for rt in default_layout().data_types]


def raw_contents(database) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {e: con.execute(f"select * from {RAW_SCHEMA}.{e} order by all").fetchall() for e in ENTITIES}


def test_a_warehouse_with_raw_tables_has_them_moved_to_parquet_once(warehouse_env, tmp_path):
    """A warehouse made before the Parquet raw layer (raw tables, and a chunked load's leftovers marked in
    raw.onvoltooid) is brought to it by the next writer: each registered delivery's rows in its folder, the rows
    of the unregistered load gone, the tables replaced by views with the same rows and columns."""
    wh = Warehouse.from_env()
    [result] = load_files([write_delivery(tmp_path, small_delivery())], wh, layouts(), None)
    assert result.outcome == GELADEN, result.message
    expected = raw_contents(wh.database)
    assert sum(map(len, expected.values())) == 12

    old = Warehouse(tmp_path / "old")
    old.home.mkdir()
    with duckdb.connect(str(old.database)) as con:
        con.execute(f"attach '{wh.database}' as new (read_only)")
        con.execute(f"create schema {RAW_SCHEMA}")
        for table in ("leveringen", "laadlog"):
            con.execute(f"create table {RAW_SCHEMA}.{table} as select * from new.{RAW_SCHEMA}.{table}")
        for e in ENTITIES:  # what the loader wrote before: a table per record type
            con.execute(f"create table {RAW_SCHEMA}.{e} as select * from new.{RAW_SCHEMA}.{e}")
        # rows of a chunked load that was killed before its register row
        con.execute(f"insert into {RAW_SCHEMA}.casus (levering_id, regelnummer) values ('VT06_2020H1_001', 2)")
        con.execute(f"create table {RAW_SCHEMA}.onvoltooid as select 'VT06_2020H1_001' as levering_id")
        columns = {e: con.execute(f"select * from {RAW_SCHEMA}.{e} limit 0").description for e in ENTITIES}
        con.execute("detach new")
    with old.connect() as con:
        prepare(con)
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables where table_schema = ?", [RAW_SCHEMA]
            ).fetchall()
        )
        assert {e: kinds[e] for e in ENTITIES} == {e: "VIEW" for e in ENTITIES}
        assert "onvoltooid" not in kinds
        assert {e: con.execute(f"select * from {RAW_SCHEMA}.{e} limit 0").description for e in ENTITIES} == columns
    assert raw_contents(old.database) == expected
    assert sorted(p.name for p in old.raw.iterdir()) == ["levering_id=VT05_2020H1_001", "levering_id=_leeg"]
    assert sorted(p.name for p in (old.raw / "levering_id=VT05_2020H1_001").iterdir()) == sorted(
        f"{e}-00000.parquet" for e in ENTITIES
    )
    with old.connect() as con:  # once: a second writer finds views and leaves them
        prepare(con)
    assert raw_contents(old.database) == expected


def test_a_copied_warehouse_reads_its_own_raw_folder_after_its_first_writer(warehouse_env, tmp_path):
    """The views name their folder's absolute path: a copied warehouse's views are pointed at its own folder by the
    first writer (every `vt` command that writes, and every dbt run through `vt`)."""
    wh = Warehouse.from_env()
    [result] = load_files([write_delivery(tmp_path, small_delivery())], wh, layouts(), None)
    assert result.outcome == GELADEN, result.message
    expected = raw_contents(wh.database)
    copy = Warehouse(tmp_path / "copy")
    shutil.copytree(wh.home, copy.home)
    shutil.rmtree(wh.home)
    with copy.connect() as con:
        prepare(con)
    assert raw_contents(copy.database) == expected
    with duckdb.connect(str(copy.database), read_only=True) as con:
        definitions = [
            sql
            for (sql,) in con.execute("select sql from duckdb_views() where schema_name = ?", [RAW_SCHEMA]).fetchall()
        ]
    assert len(definitions) == len(ENTITIES) and all(str(copy.raw) in sql for sql in definitions)


def test_a_warehouse_named_by_a_relative_path_is_read_from_anywhere(warehouse_env, tmp_path, monkeypatch):
    """VT_HOME may be relative (the default is ./warehouse); dbt reads from the project folder, analysts from
    theirs: the views name the raw folder absolutely."""
    monkeypatch.chdir(tmp_path)
    wh = Warehouse(Path("relatief"))
    [result] = load_files([write_delivery(tmp_path, small_delivery())], wh, layouts(), None)
    assert result.outcome == GELADEN, result.message
    monkeypatch.chdir("/")
    assert {e: len(rows) for e, rows in raw_contents(tmp_path / "relatief" / "vt.duckdb").items()} == {
        "casus": 2,
        "advies": 1,
        "melding": 2,
        "veiligheidsbeoordeling": 1,
        "voorwaardenvervolg": 1,
        "onderzoek": 1,
        "overdracht": 1,
        "monitoring": 1,
        "betrokkene": 2,
    }


def test_memory_is_bounded_per_step_and_a_bad_bound_is_named(monkeypatch):
    con = duckdb.connect()
    monkeypatch.delenv(QUALITY_MEMORY_ENV, raising=False)
    limit_memory(con, QUALITY_MEMORY_ENV)
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "953.6 MiB"  # 1GB, the default
    monkeypatch.setenv(QUALITY_MEMORY_ENV, "300MB")
    limit_memory(con, QUALITY_MEMORY_ENV)
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "286.1 MiB"
    monkeypatch.setenv(QUALITY_MEMORY_ENV, "lots")
    with pytest.raises(SettingError, match=r"VT_QUALITY_MEMORY='lots' is not a memory size: give one such as 1GB"):
        limit_memory(con, QUALITY_MEMORY_ENV)


def test_a_bad_memory_bound_is_a_configuration_error_of_the_command(tmp_path):
    delivery = write_delivery(tmp_path, small_delivery())
    proc = run_vt("load", str(delivery), home=tmp_path / "wh", env={"VT_LOAD_MEMORY": "lots"}, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().endswith(
        "VT_LOAD_MEMORY='lots' is not a memory size: give one such as 1GB or 512MB, or unset it (default 512MB)"
    )
    assert "Traceback" not in proc.stderr


SPILLING_READER = """
import sys
from pathlib import Path
from loaders.warehouse import open_reader
with open_reader(Path(sys.argv[1])) as con:
    con.execute("set memory_limit = '60MB'")
    con.execute("set threads = 1")
    con.execute("set enable_progress_bar = false")
    for _ in range(int(sys.argv[2])):  # a sort far beyond the bound: DuckDB spills
        assert con.execute("select count(*) from (select s, i from t order by s, i)").fetchone()[0] == 4_000_000
    print(con.execute("select current_setting('temp_directory')").fetchone()[0])
"""


def test_two_readers_spilling_at_once_each_spill_into_a_folder_of_their_own(tmp_path):
    """DuckDB's default spill folder (<database>.tmp) is one for every read-only process, and the first to close
    removes it: two readers spilling at once then crash (SIGSEGV) or fail ('Could not read enough bytes from
    file .../vt.duckdb.tmp/duckdb_temp_storage_S128K-0.tmp'), every time when tried with plain connections. With
    open_reader each spills into <database>.spill/<pid>, removed when it closes."""
    database = tmp_path / "vt.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create table t as select i, md5(i::varchar) as s from range(4000000) as r(i)")
    children = [
        subprocess.Popen(
            [sys.executable, "-c", SPILLING_READER, str(database), str(times)],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for times in (3, 1)
    ]
    answers = [child.communicate() for child in children]
    assert [child.returncode for child in children] == [0, 0], answers
    assert sorted(out.strip().splitlines()[-1] for out, _ in answers) == sorted(
        str(tmp_path / "vt.duckdb.spill" / str(child.pid)) for child in children
    )
    assert list((tmp_path / "vt.duckdb.spill").iterdir()) == []  # each removed by DuckDB on close
    assert not (tmp_path / "vt.duckdb.tmp").exists()


def test_a_spill_folder_left_by_a_killed_reader_is_removed_by_the_next(tmp_path):
    database = tmp_path / "vt.duckdb"
    duckdb.connect(str(database)).close()
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    spill = tmp_path / "vt.duckdb.spill"
    for pid in (int(ended.stdout), os.getppid()):  # one ended, one running
        (spill / str(pid)).mkdir(parents=True)
        (spill / str(pid) / "duckdb_temp_storage_S32K-0.tmp").write_bytes(b"x")
    with open_reader(database) as con:
        assert con.execute("select current_setting('temp_directory')").fetchone()[0] == str(spill / str(os.getpid()))
    assert sorted(p.name for p in spill.iterdir()) == [str(os.getppid())]
    assert stat.S_IMODE(spill.stat().st_mode) == 0o700  # spilled rows are the warehouse's: owner only


def _view_definitions(database) -> dict[str, str]:
    with duckdb.connect(str(database), read_only=True) as con:
        return dict(
            con.execute("select view_name, sql from duckdb_views() where schema_name = ?", [RAW_SCHEMA]).fetchall()
        )


def test_raw_views_match_columns_by_name_only_where_a_file_differs(warehouse_env, tmp_path):
    """Matching files by column name costs every query about 30 ms a view (each file's schema is read), so a view
    does it only when some file has other columns than the current layout's: one written before a layout version
    added a field, whose missing column then reads as NULL. Without it such a file is an error, never misread."""
    wh = Warehouse.from_env()
    [result] = load_files([write_delivery(tmp_path, small_delivery())], wh, layouts(), None)
    assert result.outcome == GELADEN, result.message
    expected = raw_contents(wh.database)
    assert not any("union_by_name" in sql for sql in _view_definitions(wh.database).values())
    # the casus file as a layout without gemeentecode wrote it
    casus = wh.raw / "levering_id=VT05_2020H1_001" / "casus-00000.parquet"
    older, original = casus.with_name("older.parquet"), tmp_path / "casus.parquet"
    shutil.copyfile(casus, original)
    duckdb.sql(f"copy (select * exclude (gemeentecode) from read_parquet('{casus}')) to '{older}' (format parquet)")
    older.replace(casus)
    with pytest.raises(duckdb.Error, match='schema mismatch|gemeentecode" not found'):
        raw_contents(wh.database)
    copy = Warehouse(tmp_path / "copy")  # moved: its first writer makes the views again
    shutil.copytree(wh.home, copy.home)
    with copy.connect() as con:
        prepare(con)
        assert con.execute(f"select count(*), count(gemeentecode) from {RAW_SCHEMA}.casus").fetchone() == (2, 0)
    by_name = {view for view, sql in _view_definitions(copy.database).items() if "union_by_name" in sql}
    assert by_name == {"casus"}
    contents = raw_contents(copy.database)
    assert {e: rows for e, rows in contents.items() if e != "casus"} == {
        e: rows for e, rows in expected.items() if e != "casus"
    }
    assert len(contents["casus"]) == 2
    # once no file differs (so also a warehouse whose views all matched by name before this), the next writer
    # makes the view plain again
    shutil.copyfile(original, copy.raw / "levering_id=VT05_2020H1_001" / "casus-00000.parquet")
    with copy.connect() as con:
        prepare(con)
    assert not any("union_by_name" in sql for sql in _view_definitions(copy.database).values())
    assert raw_contents(copy.database) == expected


def test_a_delivery_loaded_by_one_layout_version_has_every_versions_columns(warehouse_env, tmp_path):
    """A load given one layout version (0200, without ME.aanleiding of 0300) writes its files with the raw views'
    columns all the same, so the views stay plain and read the field as NULL (dbt's staging selects it)."""
    wh = Warehouse.from_env()
    [result] = load_files([write_delivery(tmp_path, small_delivery())], wh, default_layout(), None)
    assert result.outcome == GELADEN, result.message
    assert not any("union_by_name" in sql for sql in _view_definitions(wh.database).values())
    with duckdb.connect(str(wh.database), read_only=True) as con:
        assert con.execute(f"select count(*), count(aanleiding) from {RAW_SCHEMA}.melding").fetchone() == (2, 0)
    files = duckdb.sql(f"select distinct name from parquet_schema('{wh.raw}/levering_id=VT05_2020H1_001/melding-*')")
    assert "aanleiding" in {name for (name,) in files.fetchall()}
