"""Keyed pseudonyms (verwerking.md section 4): the BSN never enters the warehouse in clear.

A BSN becomes HMAC-SHA256(key, the 9 delivered characters) as 64 hex characters, plus a `bsn_status`:
geldig (passes the elfproef), ongeldig, onbekend (000000000) or ongeboren (999999999). Onbekend and
ongeboren get no pseudonym. The same key codes the identificatienummers of the released microdata.

A second, separate key, the release key, codes the person identifier of the releases:
identificatienummer_persoon = HMAC-SHA256(release key, pseudonym). It is the same in every release, so persons
can be followed over time; without the release key a release's identifier cannot be turned back into the
warehouse's pseudonym, and a leaked pseudonymisation key alone does not link a release to BSNs.
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
RELEASE_KEY_ENV = "VT_RELEASE_KEY"
RELEASE_KEY_FILE = "release.key"
MIN_KEY_LENGTH = 32
BSN_FIELD = "bsn"
ONBEKEND, ONGEBOREN = b"000000000", b"999999999"
ELFPROEF_WEIGHTS = np.array([9, 8, 7, 6, 5, 4, 3, 2, -1], dtype=np.int64)


class PseudonymKeyError(Exception):
    """No usable pseudonymisation key."""


# the warehouse's record of its keys: a fingerprint per kind, never the key
KEYS_TABLE = "meta.sleutels"
PSEUDONYM, RELEASE = "pseudonymisatie", "release"
FINGERPRINT_LABEL = "vt-warehouse: vingerafdruk van de sleutel"


def fingerprint(key: bytes) -> str:
    """An HMAC of a fixed label under the key (16 hex characters): the same key gives the same fingerprint, and
    the key cannot be recovered from it."""
    return hmac_hex(key, FINGERPRINT_LABEL)[:16]


def check_fingerprints(con, keys: dict[str, bytes], home: Path) -> dict[str, str]:
    """Compare each key (kind -> key) with the fingerprint the warehouse recorded on its first use, recording it
    when there is none. PseudonymKeyError when a key differs: another key would code every record and person
    anew, so nothing would link to what was loaded or released before. Returns kind -> fingerprint."""
    con.execute("create schema if not exists meta")
    con.execute(
        f"create table if not exists {KEYS_TABLE} (soort varchar primary key, vingerafdruk varchar not null, "
        "vastgelegd_op timestamp not null)"
    )
    out = {}
    for soort, key in keys.items():
        now = fingerprint(key)
        row = con.execute(
            f"select vingerafdruk, strftime(vastgelegd_op, '%Y-%m-%d') from {KEYS_TABLE} where soort = ?", [soort]
        ).fetchone()
        if row is None:
            con.execute(
                f"insert into {KEYS_TABLE} values (?, ?, current_timestamp) on conflict do nothing", [soort, now]
            )
        elif row[0] != now:
            env, path = (RELEASE_KEY_ENV, key_path(home, True)) if soort == RELEASE else (KEY_ENV, key_path(home))
            raise PseudonymKeyError(
                f"the {soort} key ({env} or {path}) is not the one this warehouse was made with (fingerprint {now}; "
                f"the warehouse recorded {row[0]} on {row[1]}): with another key "
                + (
                    "no person would link to the releases made so far"
                    if soort == RELEASE
                    else "no record, casus or person would link to what was loaded before"
                )
                + ". Use the warehouse's own key; a key is changed only by making a new warehouse from the archive "
                '(docs/operator.md, "Changing a key")'
            )
        out[soort] = now
    return out


def key_path(home: Path, release: bool = False) -> Path:
    return Path(home) / (RELEASE_KEY_FILE if release else KEY_FILE)


def resolve_key(home: Path, release: bool = False) -> bytes | None:
    """The pseudonymisation key from VT_PSEUDONYM_KEY, else from $VT_HOME/pseudonym.key (with `release`: the
    release key from VT_RELEASE_KEY, else $VT_HOME/release.key); None when there is none."""
    env_name = RELEASE_KEY_ENV if release else KEY_ENV
    env = os.environ.get(env_name)
    if env:
        if len(env) < MIN_KEY_LENGTH:
            raise PseudonymKeyError(f"{env_name} must be at least {MIN_KEY_LENGTH} characters")
        return env.encode("utf-8")
    path = key_path(home, release)
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PseudonymKeyError(f"the key file {path} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise PseudonymKeyError(f"the key file {path} must be a regular file (it is a directory, link or device)")
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PseudonymKeyError(f"{path} must be readable by its owner only (chmod 600 {path})")
    try:
        key = path.read_bytes()[:4096].decode("ascii").strip()
    except OSError as exc:
        raise PseudonymKeyError(f"the key file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PseudonymKeyError(f"the key file {path} must hold printable ASCII characters only") from None
    if not key.isprintable():
        raise PseudonymKeyError(f"the key file {path} must hold printable ASCII characters only")
    if len(key) < MIN_KEY_LENGTH:
        raise PseudonymKeyError(f"{path} must hold at least {MIN_KEY_LENGTH} characters")
    return key.encode("ascii")


def release_key(home: Path) -> bytes:
    """The release key, which must exist and differ from the pseudonymisation key; PseudonymKeyError otherwise."""
    key = resolve_key(home, release=True)
    if key is None:
        raise PseudonymKeyError(
            f"no release key: set {RELEASE_KEY_ENV} (at least {MIN_KEY_LENGTH} characters) or write it to "
            f"{key_path(home, release=True)} (mode 600); identificatienummer_persoon needs it. Use the same key "
            "for every release, or persons no longer link across releases"
        )
    if key == resolve_key(home):
        raise PseudonymKeyError(
            f"the release key must differ from the pseudonymisation key ({RELEASE_KEY_ENV} or "
            f"{key_path(home, release=True)}): a release must not reveal the warehouse's pseudonyms"
        )
    return key


def create_key(home: Path, release: bool = False) -> Path:
    """Write a new random key file with owner-only permissions (for the demo); never overwrites one."""
    path = key_path(home, release)
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


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of HMAC-SHA256 (RFC 2104), so the load step can compute
    HMAC = SHA256(opad || SHA256(ipad || message)) vectorised inside DuckDB; hmac_hex is the reference."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def with_bsn_status(table: pa.Table) -> pa.Table:
    """Add `bsn_status` beside the delivered `bsn` column (which the load step replaces by its pseudonym)."""
    values = np.array(table.column(BSN_FIELD).to_numpy(zero_copy_only=False), dtype="S9")
    return table.append_column("bsn_status", pa.array(bsn_status(values), type=pa.string()))
