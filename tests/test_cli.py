"""The CLI as a user meets it: help on every command, and the demo end to end."""

import os
import stat
import subprocess
import sys

import duckdb
import pytest


def vt(*args, env=None):
    return subprocess.run([sys.executable, "-m", "loaders.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("command", [[], ["load"], ["generate"], ["build"], ["release"], ["publish"], ["quality"],
                                     ["demo"]])
def test_help_on_every_command(command):
    proc = vt(*command, "--help")
    assert proc.returncode == 0
    assert "Usage: " in proc.stdout


def test_demo_generates_and_loads_a_national_half_year(tmp_path):
    home = tmp_path / "wh"
    env = {"VT_HOME": str(home), "VT_PSEUDONYM_KEY": "", "VT_DATABASE": ""}
    proc = vt("demo", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "generated 26 deliveries for 2020H1" in proc.stdout
    assert "2020H1: 26 deliveries" in proc.stdout
    assert f"release 2020V1: {home}/releases/2020V1" in proc.stdout
    assert f"publication 2020V1: {home}/publicatie/2020V1" in proc.stdout
    assert "quality reports:" in proc.stdout
    # the generator's defects (0.2% per record and kind) break fout rules in every delivery
    assert "0 deliveries pass, 26 break a fout rule" in proc.stdout
    assert (home / "kwaliteit" / "VT05_2020H1_001" / "kwaliteitsrapport.html").exists()
    key = home / "pseudonym.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.leveringen").fetchone() == (26,)
        assert con.execute("select count(distinct uitkomst) from raw.laadlog").fetchone() == (1,)
    # a second demo finds everything already loaded and keeps the key
    before = key.read_bytes()
    proc = vt("demo", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("already loaded") == 26
    assert key.read_bytes() == before
