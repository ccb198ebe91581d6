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


@pytest.mark.parametrize("command", [[], ["load"], ["generate"], ["demo"]])
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
