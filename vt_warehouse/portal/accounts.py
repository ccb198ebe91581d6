"""Portal accounts and sessions, in `$VT_HOME/portal/portal.sqlite` (owner-only): per account its role
(`organisatie`, bound to one Veilig Thuis-organisatie, or `beheer`, the warehouse's own staff), an Argon2id
password hash, a TOTP secret (set up on first login; mandatory), the last TOTP step used (no replay), and
a back-off per factor (wrong passwords and wrong codes each count on their own; a right password never
resets the count of wrong codes, so the password alone gives no fresh guesses at the code). Sessions are
random tokens of which only the SHA-256 is stored; logging out revokes
one, a reset of the second factor or disabling the account revokes all of the account's."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from vt_warehouse.portal import totp

ROLES = ("organisatie", "beheer")
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}\Z")
VT_CODE = re.compile(r"^VT\d{2}\Z")
SESSION_SECONDS = 30 * 60  # idle and absolute: a session lasts half an hour
FREE_FAILURES, MAX_LOCK_SECONDS = 5, 3600
_HASHER = PasswordHasher()  # Argon2id with the library's current parameters
_DUMMY = _HASHER.hash("no account has this password")

SCHEMA = """
create table if not exists accounts (
    naam text primary key, rol text not null, vt_code text, wachtwoord text not null,
    totp_secret text, totp_nieuw text, totp_stap integer, actief integer not null default 1,
    mislukt integer not null default 0, geblokkeerd_tot real not null default 0,
    code_mislukt integer not null default 0, code_geblokkeerd_tot real not null default 0
);
create table if not exists sessies (
    token_hash text primary key, naam text not null references accounts(naam), fase text not null,
    csrf text not null, verloopt real not null
);
"""


class AccountError(Exception):
    """A command that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Account:
    naam: str
    rol: str
    vt_code: str | None
    totp_ingesteld: bool
    actief: bool


@dataclass(frozen=True)
class Sessie:
    naam: str
    fase: str  # wachtwoord: only the second factor may follow; volledig: logged in
    csrf: str
    account: Account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, home: Path):
        self.folder = Path(home) / "portal"
        self.path = self.folder / "portal.sqlite"
        self._ready = False  # folder, modes and tables made: once per instance, not on every request

    def _prepare(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        new = not self.path.exists()
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            if new:
                os.chmod(self.path, 0o600)
            con.execute("pragma journal_mode = wal")  # a login's write never blocks the pages' reads
            con.executescript(SCHEMA)
            have = {row[1] for row in con.execute("pragma table_info(accounts)")}
            for column in ("code_mislukt integer not null default 0", "code_geblokkeerd_tot real not null default 0"):
                if column.split()[0] not in have:  # a portal.sqlite of an earlier version
                    con.execute(f"alter table accounts add column {column}")
        finally:
            con.close()
        self._ready = True

    @contextmanager
    def _db(self, write: bool = True):
        if not self._ready:
            self._prepare()
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            con.execute("pragma foreign_keys = on")
            con.execute("begin immediate" if write else "begin")
            yield con
            con.execute("commit")
        except BaseException:
            if con.in_transaction:
                con.execute("rollback")
            raise
        finally:
            con.close()

    # --- the command line: vt portal user ...
    def add(self, naam: str, rol: str, vt_code: str | None, organisations: tuple[int, set[str]] | None = None) -> str:
        """A new account with a random first password (returned once); the second factor is set up at the first
        login. `organisations`: (year, codes) of the current VT-regio list, which an organisation must be in."""
        if not NAME.match(naam):
            raise AccountError(f"{naam!r} is not an account name: 2-40 of a-z, 0-9, '.', '_', '-'")
        if rol not in ROLES:
            raise AccountError(f"role {rol!r} is not one of {', '.join(ROLES)}")
        if rol == "organisatie" and not (vt_code and VT_CODE.match(vt_code)):
            raise AccountError("an organisation's account needs its organisation: --vt-code VTnn")
        if rol == "organisatie" and organisations is not None and vt_code not in organisations[1]:
            raise AccountError(
                f"{vt_code} is not a Veilig Thuis-organisatie of the VT-regio list of "
                f"{organisations[0]} ({', '.join(sorted(organisations[1]))})"
            )
        if rol == "beheer" and vt_code:
            raise AccountError("a beheer account belongs to no organisation: leave out --vt-code")
        password = secrets.token_urlsafe(15)
        with self._db() as con:
            if con.execute("select 1 from accounts where naam = ?", [naam]).fetchone():
                raise AccountError(f"account {naam} exists already")
            con.execute(
                "insert into accounts (naam, rol, vt_code, wachtwoord) values (?, ?, ?, ?)",
                [naam, rol, vt_code, _HASHER.hash(password)],
            )
        return password

    def enroll_totp(self, naam: str) -> str:
        """Set the account's second factor now and return its secret (for a demo account, printed once; a real
        account sets it up itself at its first login)."""
        secret = totp.new_secret()
        with self._db() as con:
            self._require(con, naam)
            con.execute(
                "update accounts set totp_secret = ?, totp_nieuw = null, totp_stap = null where naam = ?",
                [secret, naam],
            )
        return secret

    def disable(self, naam: str) -> None:
        with self._db() as con:
            self._require(con, naam)
            con.execute("update accounts set actief = 0 where naam = ?", [naam])
            con.execute("delete from sessies where naam = ?", [naam])

    def reset_2fa(self, naam: str) -> None:
        """The account sets up a new second factor at its next login; its sessions end now."""
        with self._db() as con:
            self._require(con, naam)
            con.execute(
                "update accounts set totp_secret = null, totp_nieuw = null, totp_stap = null where naam = ?", [naam]
            )
            con.execute("delete from sessies where naam = ?", [naam])

    def get(self, naam: str) -> Account | None:
        with self._db(write=False) as con:
            row = con.execute(
                "select naam, rol, vt_code, totp_secret is not null, actief from accounts where naam = ?", [naam]
            ).fetchone()
        return Account(row[0], row[1], row[2], bool(row[3]), bool(row[4])) if row else None

    def list(self) -> list[Account]:
        with self._db(write=False) as con:
            rows = con.execute(
                "select naam, rol, vt_code, totp_secret is not null, actief from accounts order by naam"
            ).fetchall()
        return [Account(r[0], r[1], r[2], bool(r[3]), bool(r[4])) for r in rows]

    @staticmethod
    def _require(con, naam: str) -> None:
        if not con.execute("select 1 from accounts where naam = ?", [naam]).fetchone():
            raise AccountError(f"no account {naam}")

    # --- logging in
    def check_password(self, naam: str, password: str, now: float | None = None) -> tuple[str, float]:
        """('ok' | 'fout' | 'geblokkeerd', seconds to wait). An unknown or disabled account costs the same hash
        and says the same as a wrong password; after FREE_FAILURES failures each next one doubles the wait.
        The hash is computed outside any transaction (it takes a tenth of a second; run it off the event loop)."""
        now = time.time() if now is None else now
        with self._db(write=False) as con:
            row = con.execute(
                "select wachtwoord, actief, geblokkeerd_tot from accounts where naam = ?", [naam]
            ).fetchone()
        if row is None or not row[1]:
            _verify(_DUMMY, password)
            return "fout", 0.0
        stored, _, until = row
        if until > now:
            return "geblokkeerd", until - now
        if _verify(stored, password):
            with self._db() as con:  # the wrong codes keep their count: only a right code resets it
                con.execute("update accounts set mislukt = 0, geblokkeerd_tot = 0 where naam = ?", [naam])
                if _HASHER.check_needs_rehash(stored):
                    con.execute("update accounts set wachtwoord = ? where naam = ?", [_HASHER.hash(password), naam])
            return "ok", 0.0
        return "fout", self._failed(naam, "mislukt", "geblokkeerd_tot", now)

    def _failed(self, naam: str, count: str, until: str, now: float) -> float:
        """Count one failure of a factor (its two columns) and return the wait it now has."""
        with self._db() as con:
            row = con.execute(
                f"update accounts set {count} = {count} + 1 where naam = ? returning {count}", [naam]
            ).fetchone()
            if row is None:  # (the account was removed meanwhile)
                return 0.0
            failures = row[0]
            wait = 0.0 if failures < FREE_FAILURES else min(30.0 * 2 ** (failures - FREE_FAILURES), MAX_LOCK_SECONDS)
            con.execute(f"update accounts set {until} = ? where naam = ?", [now + wait, naam])
        return wait

    def totp_setup(self, naam: str) -> str:
        """The secret the account is setting up (made once, kept until confirmed)."""
        with self._db() as con:
            row = con.execute("select totp_secret, totp_nieuw from accounts where naam = ?", [naam]).fetchone()
            if row is None or row[0]:
                raise AccountError(f"account {naam} has a second factor already")
            if row[1]:
                return row[1]
            secret = totp.new_secret()
            con.execute("update accounts set totp_nieuw = ? where naam = ?", [secret, naam])
            return secret

    def check_totp(self, naam: str, code: str, now: float | None = None) -> tuple[bool, float]:
        """(accepted, seconds to wait): the code of the account's second factor (or of the one being set up, which
        it then becomes); a code of a step already used is refused. Wrong codes have their own doubling wait,
        kept whatever else happens (a right password, a new session), so a million codes cannot be tried."""
        now = time.time() if now is None else now
        with self._db() as con:
            row = con.execute(
                "select totp_secret, totp_nieuw, totp_stap, code_geblokkeerd_tot from accounts "
                "where naam = ? and actief",
                [naam],
            ).fetchone()
            if row is None or not (row[0] or row[1]):
                return False, 0.0
            if row[3] > now:
                return False, row[3] - now
            secret = row[0] or row[1]
            step = totp.verify(secret, code, row[2], now)
            if step is not None:
                con.execute(
                    "update accounts set totp_secret = ?, totp_nieuw = null, totp_stap = ?, code_mislukt = 0, "
                    "code_geblokkeerd_tot = 0 where naam = ?",
                    [secret, step, naam],
                )
                return True, 0.0
        return False, self._failed(naam, "code_mislukt", "code_geblokkeerd_tot", now)

    # --- sessions
    def new_session(self, naam: str, fase: str, now: float | None = None) -> str:
        token = secrets.token_urlsafe(32)
        now = time.time() if now is None else now
        with self._db() as con:
            con.execute("delete from sessies where verloopt < ?", [now])
            con.execute(
                "insert into sessies values (?, ?, ?, ?, ?)",
                [_digest(token), naam, fase, secrets.token_urlsafe(24), now + SESSION_SECONDS],
            )
        return token

    def session(self, token: str | None, now: float | None = None) -> Sessie | None:
        if not token:
            return None
        now = time.time() if now is None else now
        with self._db(write=False) as con:
            row = con.execute(
                "select s.naam, s.fase, s.csrf, a.rol, a.vt_code, a.totp_secret is not null, a.actief "
                "from sessies s join accounts a using (naam) where s.token_hash = ? and s.verloopt >= ?",
                [_digest(token), now],
            ).fetchone()
        if row is None or not row[6]:
            return None
        return Sessie(row[0], row[1], row[2], Account(row[0], row[3], row[4], bool(row[5]), bool(row[6])))

    def end_session(self, token: str | None) -> None:
        if token:
            with self._db() as con:
                con.execute("delete from sessies where token_hash = ?", [_digest(token)])


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
