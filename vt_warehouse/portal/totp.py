"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), as every authenticator app
reads them. A code is accepted for the current step and one step either side (clock drift), and never for a
step at or before the last one accepted (no replay)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
import time
from urllib.parse import quote

STEP, DIGITS, DRIFT = 30, 6, 1
CODE = re.compile(rf"[0-9]{{{DIGITS}}}")


def new_secret() -> str:
    """160 random bits in base32, as authenticator apps take them."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def code(secret: str, step: int) -> str:
    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**DIGITS:0{DIGITS}d}"


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP)


def verify(secret: str, given: str, last_step: int | None, now: float | None = None) -> int | None:
    """The step the code belongs to when it is valid now and newer than `last_step`; None otherwise."""
    given = given.strip(" \t").replace(" ", "")
    if not CODE.fullmatch(given):  # ASCII digits only: isdigit() takes '١٢٣٤٥٦', on which compare_digest raises
        return None
    step = current_step(now)
    for candidate in range(step - DRIFT, step + DRIFT + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if hmac.compare_digest(code(secret, candidate), given):
            return candidate
    return None


def provisioning_uri(secret: str, account: str, issuer: str = "Veilig Thuis warehouse") -> str:
    return (
        f"otpauth://totp/{quote(issuer)}:{quote(account)}?secret={secret}&issuer={quote(issuer)}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP}"
    )
