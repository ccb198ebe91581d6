"""Pseudonyms and bsn_status (verwerking.md section 4)."""

import hashlib
import hmac

import duckdb
import numpy as np
import pytest

from loaders.pseudonym import bsn_status, fingerprint, hmac_hex, hmac_pads
from vt_warehouse.generate.world import valid_bsns

KEY = b"k" * 32


def test_bsn_status_per_kind():
    values = np.array([b"123456782", b"123456781", b"000000000", b"999999999", b"12345678A", b"        "], dtype="S9")
    assert list(bsn_status(values)) == ["geldig", "ongeldig", "onbekend", "ongeboren", "ongeldig", "ongeldig"]


@pytest.mark.parametrize("key", [b"k" * 32, b"long" * 40])
def test_hmac_from_pads_in_duckdb_equals_the_reference(key):
    ipad, opad = hmac_pads(key)
    with duckdb.connect() as con:
        got = con.execute(
            "select sha256(?::blob || unhex(sha256(?::blob || ?::blob)))", [opad, ipad, "123456782"]
        ).fetchone()[0]
    assert got == hmac_hex(key, "123456782") == hmac.new(key, b"123456782", hashlib.sha256).hexdigest()
    assert len(got) == 64


def test_generated_bsns_pass_the_elfproef():
    bsns = valid_bsns(np.random.default_rng(3), 5000)
    assert set(bsn_status(np.array(bsns, dtype="S9"))) == {"geldig"}
    assert len(set(bsns)) > 4990


def test_a_key_other_than_the_warehouses_is_refused_by_every_path(tmp_path):
    """The warehouse records each key's fingerprint on first use (never the key): a load, `vt build` and plain dbt
    with another key stop with a message that says which key and what to do, and nothing is written."""
    from tests.conftest import KEY as TEST_KEY
    from tests.conftest import RELEASE_KEY, run_dbt_cli, run_vt, small_delivery, write_delivery

    other = "o" * 40
    home = tmp_path / "wh"
    first = write_delivery(tmp_path, small_delivery())
    run_vt("load", "--received-at", "2020-07-25", str(first), home=home)
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        recorded = con.execute("select soort, vingerafdruk from meta.sleutels").fetchall()
    assert recorded == [("pseudonymisatie", fingerprint(TEST_KEY.encode()))]
    assert TEST_KEY not in str(recorded) and len(recorded[0][1]) == 16
    second = write_delivery(tmp_path, small_delivery(vt_code="VT06"))
    proc = run_vt(
        "load", "--received-at", "2020-07-25", str(second), home=home, env={"VT_PSEUDONYM_KEY": other}, check=False
    )
    assert proc.returncode == 2, proc.stderr
    assert (
        f"the pseudonymisatie key (VT_PSEUDONYM_KEY or {home}/pseudonym.key) is not the one this warehouse "
        f"was made with (fingerprint {fingerprint(other.encode())}; the warehouse recorded "
        f"{fingerprint(TEST_KEY.encode())} on "
    ) in proc.stderr
    assert "no record, casus or person would link to what was loaded before" in proc.stderr
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.leveringen").fetchone()[0] == 1
    # plain dbt: the guard stops the release build before any model
    out = run_dbt_cli(
        home, "run", "--select", "vt_casus", "--vars", "{release: 2020V1, peildatum: 2026-01-01}", key=other
    )
    assert out.returncode != 0 and "the pseudonymisatie key (VT_PSEUDONYM_KEY or" in out.stdout, out.stdout[-2000:]
    # vt build records the release key on its first use, and then refuses another one, before dbt starts
    run_vt("build", "--release", "2020V1", home=home)
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select vingerafdruk from meta.sleutels where soort = 'release'").fetchone()[
            0
        ] == fingerprint(RELEASE_KEY.encode())
        assert con.execute("select sleutels from meta.builds").fetchall() == [
            (
                f'{{"pseudonymisatie": "{fingerprint(TEST_KEY.encode())}", "release": '
                f'"{fingerprint(RELEASE_KEY.encode())}"}}',
            )
        ]
    proc = run_vt("build", "--release", "2020V1", home=home, env={"VT_RELEASE_KEY": other}, check=False)
    assert proc.returncode == 2 and "the release key (VT_RELEASE_KEY or" in proc.stderr, proc.stderr
    assert "no person would link to the releases made so far" in proc.stderr
    out = run_dbt_cli(home, "build", "--vars", "{release: 2020V1}", release_key=other)
    assert out.returncode != 0 and "the release key (VT_RELEASE_KEY or" in out.stdout, out.stdout[-2000:]
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from meta.builds").fetchone()[0] == 1  # nothing built with it
