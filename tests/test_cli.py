"""The CLI as a user meets it: help on every command, and the demo end to end."""

import json
import stat
from functools import partial

import duckdb
import pytest

from tests.conftest import run_vt




@pytest.mark.parametrize("command", [[], ["load"], ["generate"], ["build"], ["release"], ["releases"], ["publish"],
                                     ["quality"], ["refresh"], ["demo"], ["reference"], ["reference", "list"],
                                     ["reference", "add-gemeenten"], ["reference", "add-regions"],
                                     ["reference", "add-mergers"], ["reference", "carry-forward"]])
def test_help_on_every_command(command):
    proc = vt(*command, "--help")
    assert proc.returncode == 0
    assert "Usage: " in proc.stdout


vt = partial(run_vt, check=False)  # these tests check exit codes themselves


def test_demo_runs_the_refresh_path_on_a_national_half_year(tmp_path):
    home = tmp_path / "wh"
    env = {"VT_HOME": str(home), "VT_PSEUDONYM_KEY": "", "VT_DATABASE": "", "GX_ANALYTICS_ENABLED": "false"}
    proc = vt("demo", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "generated 26 deliveries for 2020H1" in proc.stdout
    assert ("refresh as on 2020-10-01: 26 files loaded; 0 rejected; 26 quality reports; releases built: 2020V2, "
            "2020V3; frozen: 2020V1; published: 2020V1") in proc.stdout
    assert "2020H1: 26 deliveries" in proc.stdout
    assert f"release 2020V1: {home}/releases/2020V1" in proc.stdout
    assert f"publication 2020V1: {home}/publicatie/2020V1" in proc.stdout
    key = home / "pseudonym.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.leveringen").fetchone() == (26,)
    # the generator's defects show in the reports: every delivery breaks a fout rule
    report = json.loads((home / "kwaliteit" / "VT05_2020H1_001" / "kwaliteitsrapport.json").read_text())
    assert report["passed"] is False
    assert {r["id"] for r in report["rules"] if r["violations"]} >= {"KR01", "KR02", "KR03", "KR13", "KR18"}
    # a second demo generates the same files: nothing new, and the key is kept
    before = key.read_bytes()
    proc = vt("demo", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "refresh as on 2020-10-01: nothing new" in proc.stdout
    assert key.read_bytes() == before
