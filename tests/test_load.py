"""The load step: transactions per file, rule 7, identical reloads, the key, the archive, crash safety."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from functools import partial

import duckdb
import pytest

from loaders.layout import default_layout, layouts
from loaders.load import GELADEN, GEWEIGERD, ONGEWIJZIGD, load_files
from loaders.pseudonym import hmac_hex
from loaders.warehouse import Warehouse, create_raw_schema
from tests.conftest import KEY, KNOWN_VERSIONS, UNKNOWN_VERSION, VALID_BSNS, run_vt, small_delivery, write_delivery

vt = partial(run_vt, check=False)  # these tests check exit codes themselves


def load(*paths, received_at=None):
    return load_files(paths, Warehouse.from_env(), default_layout(), received_at)


def query(sql: str, params=None):
    with duckdb.connect(str(Warehouse.from_env().database), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_load_writes_raw_tables_register_and_log(warehouse_env, tmp_path):
    path = write_delivery(tmp_path, small_delivery())
    [result] = load(path, received_at=datetime(2020, 7, 21, 9, 30))
    assert (result.outcome, result.levering_id) == (GELADEN, "VT05_2020H1_001")
    assert query(
        "select vt_code, verslagperiode, leveringsnummer, bestandsnaam, ontvangen_op, aantal_records, "
        "aantal_ca, aantal_bt from raw.leveringen"
    ) == [("VT05", "2020H1", 1, "VT05_2020H1_001.txt", datetime(2020, 7, 21, 9, 30), 12, 2, 2)]
    assert query("select count(*) from raw.casus") == [(2,)]
    assert query("select casusnummer, einddatum from raw.casus order by regelnummer") == [
        ("C1".ljust(20), "20200501"),
        ("C2".ljust(20), " " * 8),
    ]
    assert query("select uitkomst, levering_id from raw.laadlog") == [(GELADEN, "VT05_2020H1_001")]


def test_bsn_is_pseudonymised_with_status(warehouse_env, tmp_path):
    lines = small_delivery()
    lines[11] = lines[11][:46] + "000000000" + lines[11][55:]  # P1: onbekend
    load(write_delivery(tmp_path, lines))
    rows = query("select persoonsnummer, bsn_pseudoniem, bsn_status from raw.betrokkene order by regelnummer")
    assert rows == [
        ("P1".ljust(20), None, "onbekend"),
        ("P2".ljust(20), hmac_hex(KEY.encode(), VALID_BSNS[1]), "geldig"),
    ]
    assert "bsn" not in [
        c for (c,) in query("select column_name from information_schema.columns where table_name = 'betrokkene'")
    ]


def test_clear_bsn_appears_nowhere_in_the_database_file(warehouse_env, tmp_path):
    load(write_delivery(tmp_path, small_delivery()))
    load(write_delivery(tmp_path, small_delivery(nummer="002")))
    home = Warehouse.from_env()
    files = [p for p in home.database.parent.iterdir() if p.name.startswith(home.database.name)]
    content = b"".join(p.read_bytes() for p in files)
    assert len(content) > 100_000
    for bsn in VALID_BSNS:
        assert bsn.encode() not in content
    # the archive keeps the delivered file unchanged (owner-only), so the BSN is there and only there
    archived = home.archive / "2020H1" / "VT05_2020H1_001.txt"
    assert VALID_BSNS[0].encode() in archived.read_bytes()


def test_identical_file_is_a_noop(warehouse_env, tmp_path):
    path = write_delivery(tmp_path, small_delivery())
    load(path)
    copy = tmp_path / "again"
    copy.mkdir()
    [result] = load(write_delivery(copy, small_delivery()))
    assert result.outcome == ONGEWIJZIGD
    assert "already loaded" in result.message
    assert query("select count(*) from raw.leveringen") == [(1,)]
    assert query("select count(*) from raw.casus") == [(2,)]
    proc = vt("load", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "identical to delivery VT05_2020H1_001" in proc.stdout


def test_received_at_mtime_takes_each_file_s_modification_time(warehouse_env, tmp_path):
    first = write_delivery(tmp_path, small_delivery("VT05", "2020H1", "001"))
    second = write_delivery(tmp_path, small_delivery("VT06", "2020H1", "001"))
    os.utime(first, (0, datetime(2020, 7, 25, 9, 0, 5).timestamp()))  # local time, as a file's mtime is shown
    os.utime(second, (0, datetime(2020, 8, 1, 14, 30).timestamp()))
    proc = vt("load", "--received-at", "mtime", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    stored = dict(query("select levering_id, ontvangen_op from raw.leveringen"))
    utc = {p: datetime.fromtimestamp(p.stat().st_mtime, UTC).replace(tzinfo=None) for p in (first, second)}
    assert stored == {"VT05_2020H1_001": utc[first], "VT06_2020H1_001": utc[second]}


def test_a_reload_with_another_reception_time_says_so_and_redate_corrects_it(warehouse_env, tmp_path):
    path = write_delivery(tmp_path, small_delivery())
    load(path, received_at=datetime(2026, 11, 29, 10, 0))
    proc = vt("load", "--received-at", "2020-07-31", str(path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        f"{path.name}: identical to delivery VT05_2020H1_001, already loaded with reception time 2026-11-29 "
        "10:00:00, not 2020-07-31 00:00:00: nothing changed. A release selects deliveries by reception time; to "
        "correct it, load the file again with the same --received-at and --redate\n"
    )
    assert query("select ontvangen_op from raw.leveringen") == [(datetime(2026, 11, 29, 10, 0),)]
    proc = vt("load", "--received-at", "2020-07-31", "--redate", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "its reception time changed from 2026-11-29 10:00:00 to 2020-07-31 00:00:00 (--redate)" in proc.stdout
    assert query("select ontvangen_op from raw.leveringen") == [(datetime(2020, 7, 31),)]
    assert sorted(query("select uitkomst from raw.laadlog")) == [("geladen",), ("herdateerd",), ("ongewijzigd",)]
    # the same time again is a plain no-op; --redate without a time is a usage error
    assert "already loaded; nothing changed" in vt("load", "--received-at", "2020-07-31", str(path)).stdout
    proc = vt("load", "--redate", str(path))
    assert proc.returncode == 2 and "--redate needs --received-at" in proc.stderr


def test_rule7_leveringsnummer_must_increase(warehouse_env, tmp_path):
    load(write_delivery(tmp_path, small_delivery(nummer="002")))
    lines = small_delivery(nummer="001")
    [low] = load(write_delivery(tmp_path, lines))
    assert (low.outcome, low.rules) == (GEWEIGERD, [7])
    assert "001 is not higher than 002" in low.message
    changed = small_delivery(nummer="002")
    changed[1] = changed[1].replace("20200501", "20200502")
    [same] = load(write_delivery(tmp_path / "..", changed, name="VT05_2020H1_002.txt"))
    assert same.rules == [7]
    [higher] = load(write_delivery(tmp_path, small_delivery(nummer="003")))
    assert higher.outcome == GELADEN
    # another organisation or half-year has its own numbering
    [other] = load(write_delivery(tmp_path, small_delivery(periode="2020H2", nummer="001")))
    assert other.outcome == GELADEN
    assert query("select levering_id from raw.leveringen order by 1") == [
        ("VT05_2020H1_002",),
        ("VT05_2020H1_003",),
        ("VT05_2020H2_001",),
    ]


def test_rejected_file_loads_nothing_and_others_still_load(warehouse_env, tmp_path):
    good = write_delivery(tmp_path, small_delivery())
    bad_lines = small_delivery(vt_code="VT06")
    bad_lines[3] = bad_lines[3][:100]
    bad = write_delivery(tmp_path, bad_lines)
    other = write_delivery(tmp_path, small_delivery(vt_code="VT07"))
    proc = vt("load", str(tmp_path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{bad.name}: rejected, nothing loaded" in proc.stderr
    assert "rule 2 (every record is exactly 120 printable ASCII characters); line 4 (1 line)" in proc.stderr
    assert query("select levering_id from raw.leveringen order by 1") == [("VT05_2020H1_001",), ("VT07_2020H1_001",)]
    assert query("select count(*) from raw.casus where levering_id like 'VT06%'") == [(0,)]
    assert query("select uitkomst, overtreden_regels from raw.laadlog where bestandsnaam = ?", [bad.name]) == [
        (GEWEIGERD, "2")
    ]
    assert not (Warehouse.from_env().archive / "2020H1" / bad.name).exists()
    assert good.name in proc.stdout and other.name in proc.stdout


def test_personal_records_without_key_are_refused(warehouse_env, tmp_path, monkeypatch):
    monkeypatch.delenv("VT_PSEUDONYM_KEY")
    lines = small_delivery()
    no_bt = [line for line in lines if not line.startswith("BT")]
    no_bt[-1] = no_bt[-1][:62] + "0000000" + no_bt[-1][69:]
    no_bt_file = write_delivery(tmp_path, no_bt, name="VT06_2020H1_001.txt")
    no_bt_file.write_text("\n".join(line[:2] + "VT06" + line[6:] for line in no_bt) + "\n")
    proc = vt("load", str(write_delivery(tmp_path, lines)), str(no_bt_file))
    assert proc.returncode == 1
    assert "holds personal records (BT) and no pseudonymisation key is set" in proc.stderr
    assert query("select levering_id from raw.leveringen") == [("VT06_2020H1_001",)]


def test_key_file_must_be_owner_only(warehouse_env, tmp_path, monkeypatch):
    monkeypatch.delenv("VT_PSEUDONYM_KEY")
    warehouse_env.mkdir(parents=True)
    key = warehouse_env / "pseudonym.key"
    key.write_text("x" * 64)
    key.chmod(0o644)
    proc = vt("load", str(write_delivery(tmp_path, small_delivery())))
    assert proc.returncode == 2
    assert "readable by its owner only" in proc.stderr
    key.chmod(0o600)
    assert vt("load", str(tmp_path)).returncode == 0


def test_archive_is_owner_only_and_unchanged(warehouse_env, tmp_path):
    path = write_delivery(tmp_path, small_delivery(), newline="\r\n")
    load(path)
    archived = Warehouse.from_env().archive / "2020H1" / path.name
    assert archived.read_bytes() == path.read_bytes()
    assert stat.S_IMODE(archived.stat().st_mode) == 0o600
    assert stat.S_IMODE(Warehouse.from_env().archive.stat().st_mode) == 0o700


@pytest.mark.parametrize("point", ["load:casus", "load:melding", "load:betrokkene", "load:before-commit"])
def test_load_killed_halfway_leaves_nothing_and_rerun_completes(warehouse_env, tmp_path, point):
    first = write_delivery(tmp_path, small_delivery())
    write_delivery(tmp_path, small_delivery(vt_code="VT06"))
    proc = vt("load", str(tmp_path), env={"VT_KILL_AT": point})
    assert proc.returncode == -9
    assert query("select count(*) from raw.leveringen") == [(0,)]
    assert query("select count(*) from raw.casus") == [(0,)]
    assert query("select count(*) from raw.betrokkene") == [(0,)]
    proc = vt("load", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert query("select levering_id, aantal_records from raw.leveringen order by 1") == [
        ("VT05_2020H1_001", 12),
        ("VT06_2020H1_001", 12),
    ]
    assert query("select count(*) from raw.casus") == [(4,)]
    assert (Warehouse.from_env().archive / "2020H1" / first.name).read_bytes() == first.read_bytes()


def test_unreadable_input_names_the_problem(warehouse_env, tmp_path):
    proc = vt("load", str(tmp_path / "missing.txt"))
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr
    proc = vt("load", "--received-at", "yesterday", str(tmp_path))
    assert proc.returncode == 2 and "not an ISO date" in proc.stderr


def test_deliveries_of_both_layout_versions_load_into_one_raw_layer(warehouse_env, tmp_path):
    """A field only 0300 has is NULL in the rows of a 0200 delivery, blank-as-delivered in a 0300 one."""
    old = write_delivery(tmp_path, small_delivery(periode="2020H1"))
    new = write_delivery(tmp_path, small_delivery(periode="2020H2", versie="0300"))
    assert [r.outcome for r in load_files([old, new], Warehouse.from_env(), layouts())] == [GELADEN, GELADEN]
    assert query("select levering_id, versie_bestandsdefinitie, aantal_me from raw.leveringen order by 1") == [
        ("VT05_2020H1_001", "0200", 2),
        ("VT05_2020H2_001", "0300", 2),
    ]
    assert query("select levering_id, meldingnummer, aanleiding from raw.melding order by 1, 2") == [
        ("VT05_2020H1_001", "M1".ljust(20), None),
        ("VT05_2020H1_001", "M2".ljust(20), None),
        ("VT05_2020H2_001", "M1".ljust(20), "01"),
        ("VT05_2020H2_001", "M2".ljust(20), "04"),
    ]


def test_a_warehouse_made_before_a_layout_version_gains_its_columns(warehouse_env, tmp_path):
    with Warehouse.from_env().connect() as con:
        create_raw_schema(con, default_layout())  # as a warehouse made when only 0200 existed
    assert query(
        "select count(*) from information_schema.columns where table_name = 'melding' and column_name = 'aanleiding'"
    ) == [(0,)]
    new = write_delivery(tmp_path, small_delivery(periode="2020H2", versie="0300"))
    [second] = load_files([new], Warehouse.from_env(), layouts())
    assert second.outcome == GELADEN
    assert query("select levering_id, count(aanleiding) from raw.melding group by 1 order by 1") == [
        ("VT05_2020H2_001", 2)
    ]


def test_unknown_layout_version_is_rejected_whole_by_vt_load(warehouse_env, tmp_path):
    lines = small_delivery()
    lines[0] = lines[0][:20] + UNKNOWN_VERSION + lines[0][24:]
    path = write_delivery(tmp_path, lines)
    proc = vt("load", str(path), home=warehouse_env)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "VT05_2020H1_001.txt: rejected, nothing loaded",
        "  rule 9 (the versie_bestandsdefinitie of the VL record is a known layout version): version "
        f"'{UNKNOWN_VERSION}' is not known (known: {KNOWN_VERSIONS}); line 1 (1 line)",
    ]
    assert query("select count(*) from raw.leveringen") == [(0,)]
    assert query("select uitkomst, overtreden_regels from raw.laadlog") == [("geweigerd", "9")]


@pytest.mark.parametrize(
    "vt_code,periode,received,detail",
    [
        ("ZZ99", "2020H1", "2020-07-20", "'ZZ99' is not a Veilig Thuis-organisatie of 2020 (VT01, VT02, "),
        ("VT16", "2024H1", "2024-07-20", "'VT16' is not a Veilig Thuis-organisatie of 2024 (VT01, VT02, "),
        ("VT05", "2026H2", "2026-05-01", "2026H2 has not begun on 2026-05-01, when the file was received"),
    ],
)
def test_rule10_only_the_year_s_organisations_and_only_a_half_year_that_has_begun(
    warehouse_env, tmp_path, vt_code, periode, received, detail
):
    path = write_delivery(tmp_path, small_delivery(vt_code=vt_code, periode=periode))
    [result] = load(path, received_at=datetime.fromisoformat(received))
    assert (result.outcome, result.rules) == (GEWEIGERD, [10])
    assert result.message.startswith(
        f"{path.name}: rejected, nothing loaded\n  rule 10 (the sender is a Veilig "
        "Thuis-organisatie of the delivery's year and the verslagperiode has begun): " + detail
    )
    assert query("select count(*) from raw.leveringen") == [(0,)]


def test_rule10_a_year_without_a_region_list_takes_every_organisation_code(warehouse_env, tmp_path):
    """A 2027 file may arrive before the operator adds 2027: any code of VT_ORGANISATIE is let in then."""
    path = write_delivery(tmp_path, small_delivery(vt_code="VT27", periode="2027H1"))
    [result] = load(path, received_at=datetime(2027, 7, 20))
    assert result.outcome == GELADEN, result.message


def test_a_file_larger_than_a_chunk_loads_the_same_records_in_bounded_pieces(tmp_path, monkeypatch):
    """With VT_CHUNK_BYTES at 4 KiB a generated delivery of ~190 KB is checked and loaded chunk by chunk (the path
    of files near the size limit): the same rows, line numbers, pseudonyms and archive bytes as whole; and a
    duplicate key many chunks from its twin is still found."""
    from loaders.periods import periode_range
    from vt_warehouse.generate import generate

    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    generate(tmp_path / "gen", periode_range("2020H1"), scale=0.05, seed=5)
    path = tmp_path / "gen" / "VT01_2020H1_001.txt"
    assert path.stat().st_size > 40 * 4096
    tables = ["leveringen", *(rt.entiteit for rt in default_layout().data_types)]
    contents = {}
    for chunk in ("", "4096"):
        monkeypatch.setenv("VT_CHUNK_BYTES", chunk)
        warehouse = Warehouse(tmp_path / f"wh{chunk}")
        [result] = load_files([path], warehouse, layouts(), datetime(2020, 7, 21))
        assert result.outcome == GELADEN, result.message
        with duckdb.connect(str(warehouse.database), read_only=True) as con:
            contents[chunk] = {
                t: con.execute(f"select * exclude (geladen_op) from raw.{t} order by all").fetchall()
                if t == "leveringen"
                else con.execute(f"select * from raw.{t} order by all").fetchall()
                for t in tables
            }
        assert (warehouse.archive / "2020H1" / path.name).read_bytes() == path.read_bytes()
    assert contents[""] == contents["4096"]
    assert len(contents[""]["casus"]) == 354
    lines = path.read_text().splitlines()
    ca = [i for i, line in enumerate(lines) if line.startswith("CA")]
    lines[ca[300]] = lines[ca[0]]  # the first casus again, many chunks further on, instead of the 301st
    bad = tmp_path / "bad" / path.name
    bad.parent.mkdir()
    bad.write_text("\n".join(lines) + "\n")
    [result] = load_files([bad], Warehouse(tmp_path / "wh-bad"), layouts(), datetime(2020, 7, 21))
    assert result.outcome == GEWEIGERD and result.rules == [8]
    assert f"lines {ca[0] + 1}, {ca[300] + 1} (2 lines)" in result.message


@pytest.mark.parametrize("point", ["load:casus@3", "load:before-commit"])
def test_a_chunked_load_killed_halfway_leaves_nothing_that_counts_and_the_next_load_completes(tmp_path, point):
    """A large file's chunks are written as Parquet files into a temporary folder, renamed into place whole, then
    registered. Killed at the third chunk's casus file: the temporary folder holds what was written, the raw layer
    nothing. Killed after the rename, before the register row's commit: the folder is in place but no reader sees
    it. Either way the next command removes what was left before loading the file whole."""
    from loaders.periods import periode_range
    from vt_warehouse.generate import generate

    generate(tmp_path / "gen", periode_range("2020H1"), scale=0.05, seed=5)
    path = tmp_path / "gen" / "VT01_2020H1_001.txt"
    home = tmp_path / "wh"
    env = {"VT_CHUNK_BYTES": "4096"}
    proc = vt("load", "--received-at", "2020-07-21", str(path), home=home, env={**env, "VT_KILL_AT": point})
    assert proc.returncode == -9
    [staged] = (
        (home / "raw.tmp").iterdir() if point == "load:casus@3" else [home / "raw" / "levering_id=VT01_2020H1_001"]
    )
    assert len(list(staged.glob("casus-*.parquet"))) == (3 if point == "load:casus@3" else 11)
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.leveringen").fetchone() == (0,)
        assert con.execute("select count(*) from raw.casus").fetchone() == (0,)
    proc = vt("load", "--received-at", "2020-07-21", str(path), home=home, env=env)
    assert proc.returncode == 0, proc.stderr
    assert not staged.exists() or staged.parent.name == "raw"
    assert list((home / "raw.tmp").iterdir()) == []
    assert sorted(p.name for p in (home / "raw").iterdir()) == ["levering_id=VT01_2020H1_001", "levering_id=_leeg"]
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select count(*), count(distinct regelnummer) from raw.casus").fetchone() == (354, 354)
        assert con.execute("select aantal_ca from raw.leveringen").fetchone() == (354,)
