"""The CLI as a user meets it: help on every command, and the demo end to end."""

import csv
import json
import re
import stat
from functools import partial

import duckdb
import pytest
from openpyxl import load_workbook

from tests.conftest import run_vt


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["load"],
        ["generate"],
        ["build"],
        ["release"],
        ["releases"],
        ["publish"],
        ["quality"],
        ["refresh"],
        ["demo"],
        ["reference"],
        ["reference", "list"],
        ["reference", "add-gemeenten"],
        ["reference", "add-regions"],
        ["reference", "add-mergers"],
        ["reference", "carry-forward"],
    ],
)
def test_help_on_every_command(command):
    proc = vt(*command, "--help")
    assert proc.returncode == 0
    assert "Usage: " in proc.stdout


vt = partial(run_vt, check=False)  # these tests check exit codes themselves


@pytest.mark.slow(seconds=55)
def test_demo_runs_the_refresh_path_on_a_national_half_year(tmp_path):
    home = tmp_path / "wh"
    env = {
        "VT_HOME": str(home),
        "VT_PSEUDONYM_KEY": "",
        "VT_RELEASE_KEY": "",
        "VT_DATABASE": "",
        "GX_ANALYTICS_ENABLED": "false",
    }
    proc = vt("demo", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "generated 26 deliveries for 2020H1" in proc.stdout
    assert (
        "refresh as on 2020-10-01: 26 files loaded; 0 rejected; 26 quality reports; releases built: 2020V2, "
        "2020V3; frozen: 2020V1; published: 2020V1"
    ) in proc.stdout
    assert "2020H1: 26 deliveries" in proc.stdout
    assert f"release 2020V1: {home}/releases/2020V1" in proc.stdout
    assert f"publication 2020V1: {home}/publicatie/2020V1" in proc.stdout
    # the publication has a series: the CBS 2019 tables that ship with the project, then 2020H1 of the demo
    series = json.loads((home / "publicatie" / "2020V1" / "manifest.json").read_text())["tijdreeks"]
    assert [(h["periode"], h["bron"]) for h in series] == [("2019H1", "CBS"), ("2019H2", "CBS"), ("2020H1", "2020V1")]
    assert load_workbook(home / "publicatie" / "2020V1" / "tabellen_2020V1.xlsx").sheetnames == [
        "Inhoud",
        "Toelichting",
        "Kerncijfers 2020H1",
        "Indicatoren 2020H1",
        "Tijdreeks",
    ]
    # the portal with a demo account, its password and TOTP key printed this once
    portal = re.search(
        r"portal: VT_HOME=(\S+) \.venv/bin/vt portal serve --inbox (\S+), then http://127.0.0.1:8080/ as "
        r"demo-vt05 \(VT05\), password (\S+), TOTP secret ([A-Z2-7]{32}) ",
        proc.stdout,
    )
    assert portal and portal[1] == str(home) and portal[2] == str(home / "inbox")
    from vt_warehouse.portal.accounts import Accounts

    assert Accounts(home).check_password("demo-vt05", portal[3]) == ("ok", 0.0)
    from vt_warehouse.portal import totp

    assert Accounts(home).check_totp("demo-vt05", totp.code(portal[4], totp.current_step()))
    for key in (home / "pseudonym.key", home / "release.key"):  # the demo made both keys, owner-only
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (home / "pseudonym.key").read_bytes() != (home / "release.key").read_bytes()
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.leveringen").fetchone() == (26,)
    # as a real half-year: a few organisations' deliveries have defects and are afgekeurd for them, the others pass
    manifest = json.loads((home / "inbox" / "manifest.json").read_text())
    defective = {f["file"][:15]: f["defects"] for f in manifest["files"] if f["defects"]}
    assert sorted(defective) == ["VT04_2020H1_001", "VT06_2020H1_001", "VT18_2020H1_001", "VT25_2020H1_001"]
    assert "  22 goedgekeurd, 4 afgekeurd\n  VT04_2020H1_001: afgekeurd (KR01)\n" in proc.stdout
    reports = {p.parent.name: json.loads(p.read_text()) for p in (home / "kwaliteit").glob("*/kwaliteitsrapport.json")}
    assert sorted(lid for lid, r in reports.items() if not r["passed"]) == sorted(defective)
    vt18 = reports["VT18_2020H1_001"]
    assert {r["id"] for r in vt18["rules"] if r["severity"] == "fout" and r["violations"]} == {"KR03", "KR18"}
    # every violation with its line in the delivered file: the invalid BSNs are exactly the generator's
    with open(home / "kwaliteit" / "VT18_2020H1_001" / "overtredingen.csv", newline="") as fh:
        kr18 = [r for r in csv.DictReader(fh) if r["regel"] == "KR18"]
    assert len(kr18) == defective["VT18_2020H1_001"]["ongeldig_bsn"]
    lines = (home / "archive" / "2020H1" / "VT18_2020H1_001.txt").read_text().splitlines()  # the refresh keeps it
    assert all(
        lines[int(r["regelnummer"]) - 1].startswith(f"BTVT18{r['nummer']}") and r["waarde"] == "bsn: niet getoond"
        for r in kr18
    )
    # the organisations' earlier half-years were never received: those checks are counted apart, not broken
    vt05 = {r["id"]: r for r in reports["VT05_2020H1_001"]["rules"]}
    assert vt05["KR22"]["niet_te_controleren"] > 0 and vt05["KR04"]["niet_te_controleren"] > 0
    # a second demo generates the same files: nothing new, and the key is kept
    before = key.read_bytes()
    proc = vt("demo", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "refresh as on 2020-10-01: nothing new" in proc.stdout
    assert "(demo account demo-vt05; its password was printed by the first demo" in proc.stdout
    assert "TOTP secret" not in proc.stdout
    assert key.read_bytes() == before
