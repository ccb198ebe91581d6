"""Pseudonyms and bsn_status (verwerking.md section 4)."""

import numpy as np
import pyarrow as pa

from loaders.pseudonym import bsn_status, hmac_hex, pseudonymise_column
from loaders.generate.world import valid_bsns

KEY = b"k" * 32


def test_bsn_status_per_kind():
    values = np.array([b"123456782", b"123456781", b"000000000", b"999999999", b"12345678A", b"        "],
                      dtype="S9")
    assert list(bsn_status(values)) == ["geldig", "ongeldig", "onbekend", "ongeboren", "ongeldig", "ongeldig"]


def test_pseudonym_is_keyed_hmac_and_absent_for_onbekend_and_ongeboren():
    coded, status = pseudonymise_column(KEY, pa.array(["123456782", "000000000", "999999999", "123456781",
                                                        "123456782"]))
    assert coded.to_pylist() == [hmac_hex(KEY, "123456782"), None, None, hmac_hex(KEY, "123456781"),
                                 hmac_hex(KEY, "123456782")]
    assert len(coded[0].as_py()) == 64
    assert coded.to_pylist()[0] != hmac_hex(b"x" * 32, "123456782")
    assert status.to_pylist() == ["geldig", "onbekend", "ongeboren", "ongeldig", "geldig"]


def test_generated_bsns_pass_the_elfproef():
    bsns = valid_bsns(np.random.default_rng(3), 5000)
    assert set(bsn_status(np.array(bsns, dtype="S9"))) == {"geldig"}
    assert len(set(bsns)) > 4990
