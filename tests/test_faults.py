"""The fault suite: operating conditions an unattended run meets (a locked database, a full disk, a read-only home,
a bad key file, a damaged release folder) end in a message and the documented exit code, never a traceback or a
half-written state; files are owner-only; a single corrupted field in any record is a finding, not a crash."""

from __future__ import annotations

import grp
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loaders.layout import CURRENT_VERSION, layouts
from tests.conftest import run_vt
from tests.states import private_copy
from tests.test_quality import clean, finish
from vt_warehouse.refresh import report_complete

RELEASE = "2020V1"


@pytest.fixture(scope="session")
def refreshed(refreshed_half_year):
    """Three organisations' 2020H1 deliveries taken by a refresh as on 2020-10-01: loaded, reported, 2020V1
    frozen and published (shared with test_refresh.py: copy it before writing)."""
    return refreshed_half_year[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_locked_warehouse_is_exit_2_naming_its_holder_for_every_command(refreshed, tmp_path):
    home = private_copy(refreshed, tmp_path)
    (tmp_path / "empty").mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(120)",
            str(home / "vt.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "ready\n"
        delivery = next((home / "archive" / "2020H1").iterdir())
        commands = [
            ("load", str(delivery)),
            ("releases",),
            ("reference", "list"),
            ("build", "--release", "2020V2"),
            ("quality", "--all", "--out", str(tmp_path / "q")),
            ("publish", "--release", "2020V2", "--out", str(tmp_path / "p")),
            ("refresh", "--inbox", str(tmp_path / "empty"), "--today", "2020-10-02"),
        ]
        for args in commands:
            proc = run_vt(*args, home=home, check=False)
            assert proc.returncode == 2, (args, proc.stderr)
            assert (
                proc.stderr.startswith(f"Error: the warehouse is in use by process {holder.pid} (")
                and "is locked; nothing done, run again when it has finished" in proc.stderr
            ), (args, proc.stderr)
            assert "Traceback" not in proc.stderr
        # what does not need the database still works
        assert run_vt("verify", home=home, check=False).returncode == 0
    finally:
        holder.kill()
        holder.wait()


def test_bad_keys_and_values_are_configuration_errors(refreshed, tmp_path):
    home = tmp_path / "wh"
    home.mkdir()
    delivery = str(next((refreshed / "archive" / "2020H1").iterdir()))
    env = {"VT_PSEUDONYM_KEY": ""}
    (home / "pseudonym.key").mkdir()
    proc = run_vt("load", delivery, home=home, env=env, check=False)
    assert proc.returncode == 2 and f"the key file {home}/pseudonym.key must be a regular file" in proc.stderr
    (home / "pseudonym.key").rmdir()
    (home / "pseudonym.key").write_bytes(b"\xff\xfe" * 40)
    (home / "pseudonym.key").chmod(0o600)
    proc = run_vt("load", delivery, home=home, env=env, check=False)
    assert proc.returncode == 2 and "must hold printable ASCII characters only" in proc.stderr
    proc = run_vt("build", "--release", "2020V2", home=refreshed, env={"VT_PSEUDONYM_KEY": "short"}, check=False)
    assert proc.returncode == 2 and "VT_PSEUDONYM_KEY must be at least 32 characters" in proc.stderr
    for value in ("nan", "inf", "-1"):
        proc = run_vt("generate", "--out", str(tmp_path / "g"), "--scale", value, check=False)
        assert proc.returncode == 2 and "Invalid value for '--scale'" in proc.stderr, value
    assert not (tmp_path / "g").exists()
    proc = run_vt("releases", home=refreshed, env={"VT_SHARE_GROUP": "no-such-group"}, check=False)
    assert proc.returncode == 0  # reads only
    proc = run_vt("reference", "list", home=refreshed, env={"VT_SHARE_GROUP": "no-such-group"}, check=False)
    assert (proc.returncode, proc.stderr) == (
        2,
        "Error: VT_SHARE_GROUP='no-such-group' is not a group of this machine\n",
    )


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return (
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True).returncode == 0
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small or read-only file system needs root")
def test_a_real_full_disk_and_a_read_only_home(refreshed, tmp_path):
    """A 2 MB file system: the load stops with 'the disk is full', exit 2, keeps every file it committed; with room
    again the same command completes. Remounted read-only: exit 2, 'read-only file system'."""
    mnt = tmp_path / "mnt"
    if not _mount_tmpfs(mnt, "size=300k"):
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        deliveries = sorted((refreshed / "archive" / "2020H1").iterdir())
        proc = run_vt("load", *map(str, deliveries), home=mnt / "wh", check=False)
        assert proc.returncode == 2 and proc.stderr.startswith("Error: the disk is full"), proc.stderr
        assert "Traceback" not in proc.stderr
        subprocess.run(["mount", "-o", "remount,size=50m", str(mnt)], check=True)
        proc = run_vt("load", *map(str, deliveries), home=mnt / "wh")
        assert len(proc.stdout.splitlines()) == 3
        (mnt / "inbox").mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        # the portal stops at start, not at every login (bounded: a portal that started would serve forever)
        env = {**os.environ, "VT_HOME": str(mnt / "wh")}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "vt_warehouse.cli",
                "portal",
                "serve",
                "--inbox",
                str(mnt / "inbox"),
                "--port",
                "18089",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 2 and "is on a read-only file system: $VT_HOME must be writable" in proc.stderr, (
            proc.stderr
        )
        proc = run_vt("reference", "list", home=mnt / "wh", check=False)
        assert proc.returncode == 2 and "is on a read-only file system: $VT_HOME must be writable" in proc.stderr
        proc = run_vt("load", str(deliveries[0]), home=mnt / "new", check=False)
        assert proc.returncode == 2 and "read-only file system" in proc.stderr and "Traceback" not in proc.stderr
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_an_incomplete_release_folder_is_reported_and_repaired_by_the_next_run(refreshed, tmp_path):
    home = private_copy(refreshed, tmp_path)
    (home / "releases" / RELEASE / "manifest.json").unlink()
    (home / "publicatie" / f".{RELEASE}.tmp").mkdir()  # as an interrupted publication leaves it
    proc = run_vt("verify", RELEASE, home=home, check=False)
    assert proc.returncode == 1 and "manifest.json is missing: the folder is incomplete" in proc.stderr
    (tmp_path / "inbox").mkdir()
    proc = run_vt("refresh", "--inbox", str(tmp_path / "inbox"), "--today", "2020-10-02", home=home, check=False)
    assert proc.returncode == 2, proc.stderr
    assert (
        f"the folder {home}/releases/{RELEASE} had no manifest (incomplete): moved to {home}/releases/.onvolledig/"
        in proc.stderr
    )
    assert "and frozen anew; 52 of the files found were identical to the new ones\n" in proc.stderr
    assert not (home / "publicatie" / f".{RELEASE}.tmp").exists()
    assert run_vt("verify", home=home).stdout == (
        f"{RELEASE} release: intact (52 files)\n{RELEASE} publication: intact (6 files)\n"
    )
    proc = run_vt("refresh", "--inbox", str(tmp_path / "inbox"), "--today", "2020-10-02", home=home)
    assert proc.stdout.startswith("nothing new")


def test_a_removed_publication_is_made_again_from_the_frozen_files_byte_for_byte(refreshed, tmp_path):
    home = private_copy(refreshed, tmp_path)
    publication = home / "publicatie" / RELEASE
    before = {p.name: p.read_bytes() for p in publication.iterdir()}
    assert sorted(before) == [
        f"cijfers_{RELEASE}.csv",
        f"cijfers_{RELEASE}.csv-metadata.json",
        "manifest.json",
        f"publicatie_{RELEASE}.html",
        f"tabellen_{RELEASE}.xlsx",
        f"tijdreeks_{RELEASE}.csv",
        f"tijdreeks_{RELEASE}.csv-metadata.json",
    ]
    shutil.rmtree(publication)
    (tmp_path / "inbox").mkdir()
    time.sleep(1.1)  # a workbook would carry another time stamp now
    proc = run_vt("refresh", "--inbox", str(tmp_path / "inbox"), "--today", "2020-10-02", home=home)
    assert "published: 2020V1" in proc.stdout
    assert {p.name: p.read_bytes() for p in publication.iterdir()} == before


def test_the_refresh_verifies_a_release_before_it_publishes_it(refreshed, tmp_path):
    home = private_copy(refreshed, tmp_path)
    shutil.rmtree(home / "publicatie" / RELEASE)
    codebook = home / "releases" / RELEASE / f"codebook_{RELEASE}.html"
    codebook.chmod(0o640)
    codebook.write_text(codebook.read_text(encoding="utf-8").replace("Codeboek", "Kodeboek"), encoding="utf-8")
    (tmp_path / "inbox").mkdir()
    proc = run_vt("refresh", "--inbox", str(tmp_path / "inbox"), "--today", "2020-10-02", home=home, check=False)
    assert proc.returncode == 2, proc.stderr
    assert (
        f"release {RELEASE}: release {RELEASE} differs from its manifest.json (codebook_{RELEASE}.html differs "
        f"from the manifest (sha256)): not published; restore {home}/releases/{RELEASE} from a backup"
    ) in proc.stderr
    assert not (home / "publicatie" / RELEASE).exists() and not (home / "publicatie" / f".{RELEASE}.tmp").exists()


def test_everything_private_is_owner_only_and_releases_are_for_the_share_group(refreshed, tmp_path):
    home = refreshed
    assert mode(home) == 0o750
    assert mode(home / "vt.duckdb") == 0o600
    for name in ("archive", "logs", "kwaliteit", "dbt-target", "quality-work", "raw"):
        folder = home / name
        assert mode(folder) == 0o700, name
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files and all(mode(p) & 0o077 == 0 for p in files), (name, [p for p in files if mode(p) & 0o077])
    for name in ("releases", "publicatie"):
        assert mode(home / name) == 0o2750
        assert mode(home / name / RELEASE) == 0o2750
        assert {mode(p) for p in (home / name / RELEASE).iterdir()} == {0o440}
    # a warehouse made before (world-readable) is brought to these modes, and the share group is applied
    copy = private_copy(home, tmp_path)
    (copy / "vt.duckdb").chmod(0o644)
    (copy / "logs").chmod(0o755)
    group = grp.getgrgid(os.getgid() if os.getgid() != 0 else 1)  # some group other than root's own
    run_vt("reference", "list", home=copy, env={"VT_SHARE_GROUP": group.gr_name})
    assert (mode(copy / "vt.duckdb"), mode(copy / "logs")) == (0o600, 0o700)
    assert {p.stat().st_gid for p in [copy / "releases", *(copy / "releases").rglob("*")]} == {group.gr_gid}
    assert (copy / "vt.duckdb").stat().st_gid != group.gr_gid or os.getgid() == group.gr_gid


# -- fuzz: every field of every record type set to garbage, one at a time ------------------------------------

# the load rule that rejects a file with garbage in a structural field (recordtype, vt_code, VL, SL)
STRUCTURAL = {
    ("VL", "recordtype"): 1,
    ("SL", "recordtype"): 1,
    ("VL", "vt_code"): 4,
    ("SL", "vt_code"): 4,
    ("VL", "verslagperiode"): 6,
    ("VL", "versie_bestandsdefinitie"): 9,
    ("VL", "leveringsnummer"): 6,
}
# the quality rule that reports garbage in a field of a loaded file
EXPECTED = {
    "gemeentecode": "KR17",
    "bsn": "KR18",
    "geboortedatum": "KR19",
    "veiligheidsscore": "KR16",
    ("ME", "casusnummer"): "KR03",
    ("VB", "casusnummer"): "KR03",
    ("VV", "casusnummer"): "KR03",
    ("ON", "casusnummer"): "KR03",
    ("OV", "casusnummer"): "KR03",
    ("MO", "casusnummer"): "KR03",
    ("BT", "casusnummer"): "KR03",
    ("CA", "casusnummer"): "KR03",
    ("VB", "meldingnummer"): "KR04",
    ("ME", "meldingnummer"): "KR04",
    ("OV", "bronnummer"): "KR05",
    ("OV", "persoonsnummer"): "KR05",
    ("BT", "persoonsnummer"): "KR05",
    ("ON", "dienstnummer"): "KR05",  # the overdracht's bron is that dienst
}
# garbage that is a valid value there: an organisation's own number of a record nothing else refers to, and the
# file's creation date, which no rule of the specification checks (it is kept as delivered)
NO_FINDING = {
    ("AD", "adviesnummer"),
    ("VV", "dienstnummer"),
    ("OV", "overdrachtnummer"),
    ("MO", "monitoringnummer"),
    ("VL", "aanmaakdatum"),
}


def expected_outcome(code: str, field) -> tuple[str, object]:
    if field.name == "recordtype":
        return "rejected", STRUCTURAL.get((code, "recordtype"), 3)
    if field.name == "vt_code":
        return "rejected", STRUCTURAL.get((code, "vt_code"), 4)
    if code == "SL":
        return "rejected", 5
    if (code, field.name) in STRUCTURAL:
        return "rejected", STRUCTURAL[(code, field.name)]
    if (code, field.name) in NO_FINDING:
        return "loaded", None
    rule = EXPECTED.get((code, field.name)) or EXPECTED.get(field.name)
    if rule:
        return "loaded", rule
    if field.type == "D":
        return "loaded", "KR02"
    assert field.codelijst or field.type == "F", (code, field.name)
    return "loaded", "KR13"


@pytest.mark.slow(seconds=35)
def test_fuzz_every_field_garbage_one_at_a_time_is_a_finding_of_its_rule(tmp_path):
    """One delivery per field (VT05, 2020H1, leveringsnummers 001, 002, ...), the field of its first record of that
    type set to '#' characters. One refresh takes them all: it completes, each file is rejected by the load rule
    of its structural field or loaded with the finding under the field's rule, every rule ran."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    old = layouts().get(CURRENT_VERSION)
    # every field of the specification's version; and the fields each later version added (or moved), in a file of
    # that version
    todo = [
        (clean("VT05"), old.record_types[code], f) for code in old.record_types for f in old.record_types[code].fields
    ]
    versies = sorted(layouts().versions)
    for before, versie in zip(versies, versies[1:]):
        prev, layout = layouts().get(before), layouts().get(versie)
        todo += [
            (clean("VT05", versie=versie), rt, f)
            for code, rt in layout.record_types.items()
            for f in rt.fields
            if f not in prev.record_types[code].fields
        ]
    cases = {}
    for number, (lines, rt, f) in enumerate(todo, start=1):
        nummer = f"{number:03d}"
        corrupted = list(lines)
        corrupted[0] = corrupted[0][:24] + nummer + corrupted[0][27:]  # the VL leveringsnummer
        index = next(i for i, line in enumerate(lines) if line[:2] == rt.code)
        line = corrupted[index]
        corrupted[index] = line[: f.start - 1] + "#" * f.length + line[f.start - 1 + f.length :]
        if rt.code not in ("VL", "SL"):  # the SL counts follow the records (a garbage recordtype is not counted)
            corrupted = finish(corrupted)
        name = f"VT05_2020H1_{nummer}.txt"
        (inbox / name).write_text("\n".join(corrupted) + "\n")
        os.utime(inbox / name, (1595833200 + number, 1595833200 + number))  # 2020-07-27, in name order
        cases[name] = (rt.code, f.name, expected_outcome(rt.code, f))
    proc = run_vt("refresh", "--inbox", str(inbox), "--today", "2020-08-01", home=tmp_path / "wh", check=False)
    assert proc.returncode == 1, proc.stderr  # files were rejected; nothing else went wrong
    assert "Traceback" not in proc.stderr
    wrong = {}
    for name, (code, field, (outcome, rule)) in cases.items():
        reason = tmp_path / "wh" / "rejected" / f"{name}.reden.txt"
        if outcome == "rejected":
            text = reason.read_text() if reason.exists() else "loaded"
            if f"  rule {rule} (" not in text:
                wrong[(code, field)] = (f"rule {rule}", text)
            continue
        lid = name.removesuffix(".txt")
        folder = tmp_path / "wh" / "kwaliteit" / lid
        if reason.exists() or not report_complete(folder):
            wrong[(code, field)] = ("loaded and reported", reason.read_text() if reason.exists() else "no report")
            continue
        found = {
            r["id"] for r in json.loads((folder / "kwaliteitsrapport.json").read_text())["rules"] if r["violations"]
        }
        if (rule is None and found) or (rule is not None and rule not in found):
            wrong[(code, field)] = (rule, sorted(found))
    assert wrong == {}
    every = {(c, f.name) for v in layouts().versions.values() for c, rt in v.record_types.items() for f in rt.fields}
    assert {(code, field) for code, field, _ in cases.values()} == every


def test_a_damaged_manifest_is_named_never_a_traceback(refreshed, tmp_path):
    home = private_copy(refreshed, tmp_path)
    manifest = home / "releases" / RELEASE / "manifest.json"
    manifest.chmod(0o640)
    manifest.write_text("{not json")
    proc = run_vt("verify", RELEASE, home=home, check=False)
    assert proc.returncode == 1 and "manifest.json cannot be read (" in proc.stderr
    proc = run_vt("releases", "--years", "2020", home=home)
    line = proc.stdout.splitlines()[1]
    assert line.split()[5:8] == ["ja", "ja", "3"]
    assert line.endswith("3  [frozen, but its manifest cannot be read: run vt verify]")
    proc = run_vt("publish", "--release", RELEASE, "--out", str(tmp_path / "p"), home=home, check=False)
    assert (
        proc.returncode == 1
        and f"release {RELEASE} is frozen but its manifest {manifest} cannot be read" in proc.stderr
    )


def test_a_planted_file_or_a_rewritten_manifest_is_never_called_intact(refreshed, tmp_path):
    """A DuckDB write-ahead log beside the analysts' file (opened, it changes what the file shows), any other
    unknown file, and a changed file whose new checksum was written into the manifest too: `vt verify` names
    each, and the release is not published from it."""
    import duckdb

    home = private_copy(refreshed, tmp_path)
    folder = home / "releases" / RELEASE
    database = folder / f"vt_{RELEASE}.duckdb"
    table = f"VT_overdracht_{RELEASE}"
    # a real write-ahead log, made on a copy: half the transfers deleted, never checkpointed into the copy
    copy = tmp_path / database.name
    shutil.copyfile(database, copy)
    con = duckdb.connect(str(copy))
    before = con.execute(f'select count(*) from "{table}"').fetchone()[0]
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute(f'delete from "{table}" where rowid % 2 = 0')
    con.close()
    folder.chmod(0o750)
    shutil.copyfile(copy.with_name(copy.name + ".wal"), folder / (database.name + ".wal"))
    (folder / "evil.wal").write_bytes(b"planted")
    con = duckdb.connect(str(database), read_only=True)  # the attack is real: a reader sees the changed table
    assert 0 < con.execute(f'select count(*) from "{table}"').fetchone()[0] < before
    con.close()
    proc = run_vt("verify", RELEASE, home=home, check=False)
    assert proc.returncode == 1
    assert (
        f"{RELEASE} release: vt_{RELEASE}.duckdb.wal is not part of it (a DuckDB write-ahead log: opened, it "
        "changes what the database shows; remove it)"
    ) in proc.stderr
    assert f"{RELEASE} release: evil.wal is not part of it (a DuckDB write-ahead log" in proc.stderr
    for name in (f"vt_{RELEASE}.duckdb.wal", "evil.wal"):
        (folder / name).unlink()
    # a figure changed, and the manifest made to agree: the record of the freeze, outside the folder, does not
    table = folder / f"kerncijfers_{RELEASE}.parquet"
    table.chmod(0o600)
    table.write_bytes(table.read_bytes() + b"\0")
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    from vt_warehouse.release import sha256_file

    for f in manifest["files"]:
        if f["name"] == table.name:
            f["sha256"] = sha256_file(table)
    manifest_path.chmod(0o600)
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    proc = run_vt("verify", RELEASE, home=home, check=False)
    assert (
        proc.returncode == 1
        and (f"{RELEASE} release: manifest.json differs from the one recorded when {RELEASE} was frozen on ")
        in proc.stderr
    )
    assert f"({home}/logs/bevroren.log): a file and its checksum were changed together" in proc.stderr
    proc = run_vt("publish", "--release", RELEASE, "--out", str(tmp_path / "p"), home=home, check=False)
    assert proc.returncode == 1 and "manifest.json differs from the one recorded" in proc.stderr
    assert not (tmp_path / "p").exists()


def test_a_release_whose_manifest_went_missing_is_frozen_again_only_as_recorded(refreshed, tmp_path):
    """Without its manifest a frozen release is frozen again from the same deliveries (the same content as
    recorded); after a late correction it would hold other figures: refused, named, the folder kept aside."""
    from tests.conftest import small_delivery, write_delivery

    home = private_copy(refreshed, tmp_path)
    folder = home / "releases" / RELEASE
    folder.chmod(0o750)
    (folder / "manifest.json").unlink()
    late = write_delivery(tmp_path, small_delivery(vt_code="VT03", nummer="001"))
    run_vt("load", "--received-at", "2020-09-01", str(late), home=home)
    proc = run_vt("release", RELEASE, home=home, check=False)
    assert proc.returncode == 1
    assert (f"release {RELEASE} was frozen on ") in proc.stderr and (
        "and what it would hold now differs from what was frozen then (now also VT03_2020H1_001): it is not "
        f"frozen again. Restore {folder} from a backup (the folder found was moved to {home}/releases/.onvolledig/"
    ) in proc.stderr, proc.stderr
    assert not folder.exists() and not list((home / "releases").glob(".*.tmp"))


def test_a_bad_size_limit_is_a_configuration_error_not_the_default(tmp_path):
    from tests.conftest import small_delivery, write_delivery

    delivery = write_delivery(tmp_path, small_delivery())
    for value in ("abc", "0", "-5", "1e9"):
        proc = run_vt("load", str(delivery), home=tmp_path / "wh", env={"VT_MAX_FILE_BYTES": value}, check=False)
        assert proc.returncode == 2 and proc.stderr.startswith(
            f"Error: $VT_MAX_FILE_BYTES is {value!r}: the largest delivery in bytes, a positive whole number"
        ), (value, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_a_reader_that_stops_early_is_quiet_and_exit_141(refreshed):
    """`vt releases | head -1`: the pipe is closed before vt writes (as after head has its line): no error about
    the database, no traceback, the shell's code for a tool whose reader stopped."""
    from tests.conftest import KEY, RELEASE_KEY

    read, write = os.pipe()
    os.close(read)
    env = {**os.environ, "VT_HOME": str(refreshed), "VT_PSEUDONYM_KEY": KEY, "VT_RELEASE_KEY": RELEASE_KEY}
    env.pop("VT_DATABASE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "vt_warehouse.cli", "releases", "--years", "2020"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    os.close(write)
    assert (proc.returncode, proc.stderr) == (141, "")
