"""Pseudonyms and bsn_status (verwerking.md section 4)."""

import hashlib
import hmac

import duckdb
import numpy as np
import pytest

from loaders.pseudonym import bsn_status, hmac_hex, hmac_pads
from loaders.generate.world import valid_bsns

KEY = b"k" * 32


def test_bsn_status_per_kind():
    values = np.array([b"123456782", b"123456781", b"000000000", b"999999999", b"12345678A", b"        "],
                      dtype="S9")
    assert list(bsn_status(values)) == ["geldig", "ongeldig", "onbekend", "ongeboren", "ongeldig", "ongeldig"]


@pytest.mark.parametrize("key", [b"k" * 32, b"long" * 40])
def test_hmac_from_pads_in_duckdb_equals_the_reference(key):
    ipad, opad = hmac_pads(key)
    with duckdb.connect() as con:
        got = con.execute("select sha256(?::blob || unhex(sha256(?::blob || ?::blob)))",
                          [opad, ipad, "123456782"]).fetchone()[0]
    assert got == hmac_hex(key, "123456782") == hmac.new(key, b"123456782", hashlib.sha256).hexdigest()
    assert len(got) == 64


def test_generated_bsns_pass_the_elfproef():
    bsns = valid_bsns(np.random.default_rng(3), 5000)
    assert set(bsn_status(np.array(bsns, dtype="S9"))) == {"geldig"}
    assert len(set(bsns)) > 4990
