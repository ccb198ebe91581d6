"""Keyed pseudonyms (verwerking.md section 4): the BSN never enters the warehouse in clear.

A BSN becomes HMAC-SHA256(key, the 9 delivered characters) as 64 hex characters, plus a `bsn_status`:
geldig (passes the elfproef), ongeldig, onbekend (000000000) or ongeboren (999999999). Onbekend and
ongeboren get no pseudonym. The same key codes the identificatienummers of the released microdata.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

import numpy as np
import pyarrow as pa

KEY_ENV = "VT_PSEUDONYM_KEY"
KEY_FILE = "pseudonym.key"
MIN_KEY_LENGTH = 32
BSN_FIELD = "bsn"
ONBEKEND, ONGEBOREN = b"000000000", b"999999999"
ELFPROEF_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1], dtype=np.int64)


class PseudonymKeyError(Exception):
    """No usable pseudonymisation key."""


def key_path(home: Path) -> Path:
    return Path(home) / KEY_FILE


def resolve_key(home: Path) -> bytes | None:
    """The key from VT_PSEUDONYM_KEY, else from $VT_HOME/pseudonym.key; None when there is none."""
    env = os.environ.get(KEY_ENV)
    if env:
        if len(env) < MIN_KEY_LENGTH:
            raise PseudonymKeyError(f"{KEY_ENV} must be at least {MIN_KEY_LENGTH} characters")
        return env.encode("utf-8")
    path = key_path(home)
    if not path.exists():
        return None
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PseudonymKeyError(f"{path} must be readable by its owner only (chmod 600 {path})")
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(f"{path} must hold at least {MIN_KEY_LENGTH} characters")
    return key.encode("ascii")


def create_key(home: Path) -> Path:
    """Write a new random key file with owner-only permissions (for the demo); never overwrites one."""
    path = key_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path


def hmac_hex(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


def bsn_status(bsn: np.ndarray) -> np.ndarray:
    """Vectorised status of an array of 9-byte BSN values (dtype S9)."""
    digits = np.ascontiguousarray(bsn).view(np.uint8).reshape(-1, 9).astype(np.int64) - ord("0")
    all_digits = ((digits >= 0) & (digits <= 9)).all(axis=1)
    passes = all_digits & ((digits @ ELFPROEF_WEIGHTS) % 11 == 0)
    status = np.where(passes, "geldig", "ongeldig").astype(object)
    status[bsn == ONBEKEND] = "onbekend"
    status[bsn == ONGEBOREN] = "ongeboren"
    return status


def pseudonymise_column(key: bytes | None, bsn: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(bsn_pseudoniem, bsn_status) for a column of delivered BSN fields."""
    values = np.array(bsn.to_numpy(zero_copy_only=False), dtype="S9")
    status = bsn_status(values)
    coded = np.full(len(values), None, dtype=object)
    needs = (status == "geldig") | (status == "ongeldig")
    if needs.any():
        if key is None:
            raise PseudonymKeyError("no pseudonymisation key")
        base = hmac.new(key, digestmod=hashlib.sha256)
        uniques, inverse = np.unique(values[needs], return_inverse=True)
        digests = []
        for value in uniques:
            h = base.copy()  # the keyed state is computed once, not per value
            h.update(bytes(value).ljust(9))
            digests.append(h.hexdigest())
        coded[needs] = np.array(digests, dtype=object)[inverse]
    return pa.array(coded, type=pa.string()), pa.array(status, type=pa.string())


def pseudonymise_table(key: bytes | None, table: pa.Table) -> pa.Table:
    """Replace the `bsn` column by `bsn_pseudoniem` and `bsn_status`, in its place."""
    i = table.schema.get_field_index(BSN_FIELD)
    coded, status = pseudonymise_column(key, table.column(BSN_FIELD).combine_chunks())
    table = table.remove_column(i)
    table = table.add_column(i, "bsn_status", status)
    return table.add_column(i, "bsn_pseudoniem", coded)


def has_personal_data(table: pa.Table) -> bool:
    return BSN_FIELD in table.column_names and table.num_rows > 0
