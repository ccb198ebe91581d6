"""Where the warehouse lives ($VT_HOME) and the raw schema that the loader writes."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loaders import referentie
from loaders.layout import Layout, layouts
from loaders.pseudonym import BSN_FIELD


HOME_ENV, DATABASE_ENV = "VT_HOME", "VT_DATABASE"
DEFAULT_HOME = "warehouse"
DATABASE_FILE = "vt.duckdb"
RAW_SCHEMA = "raw"


@dataclass(frozen=True)
class Warehouse:
    home: Path

    @classmethod
    def from_env(cls) -> Warehouse:
        return cls(Path(os.environ.get(HOME_ENV) or DEFAULT_HOME))

    @property
    def database(self) -> Path:
        # the same rule as profiles.yml: VT_DATABASE, else vt.duckdb inside VT_HOME
        return Path(os.environ.get(DATABASE_ENV) or self.home / DATABASE_FILE)

    @property
    def archive(self) -> Path:
        return self.home / "archive"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    def ensure(self) -> None:
        """$VT_HOME and its private folders, with their modes (an existing warehouse is brought to them too).
        Home is 0750 so the share group can reach releases/ and publicatie/; everything that holds organisation
        numbers, pseudonyms or clear BSNs is owner-only."""
        self.home.mkdir(parents=True, exist_ok=True)
        _chmod(self.home, 0o750)
        for name in PRIVATE_DIRS:
            if name in ("archive", "logs") or (self.home / name).is_dir():
                (self.home / name).mkdir(exist_ok=True)
                _chmod(self.home / name, 0o700)
        for name in SHARED_DIRS:
            if (self.home / name).is_dir():
                share(self.home / name)
        for suffix in ("", ".wal"):
            database = Path(f"{self.database}{suffix}")
            if database.exists():
                _chmod(database, 0o600)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        if not read_only:
            self.ensure()
            self.database.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.database), read_only=read_only)


# what holds organisation numbers, pseudonyms or clear BSNs: owner only (0700, files 0600 by the umask of `vt`)
PRIVATE_DIRS = ("archive", "rejected", "logs", "kwaliteit", "dbt-target", "quality-work", "inbox")
# what analysts and readers of the publication get: readable by the share group ($VT_SHARE_GROUP)
SHARED_DIRS = ("releases", "publicatie")
SHARE_GROUP_ENV = "VT_SHARE_GROUP"


def _chmod(path: Path, mode: int) -> None:
    """chmod without following a link; quiet where the mode is already right."""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return
    if stat.S_IMODE(st.st_mode) != mode:
        path.chmod(mode)


def share(folder: Path, read_only: bool = False) -> None:
    """Make `folder` (a release or publication, or the folder of them) readable by the share group: folders
    2750 (new files inherit the group), files 0640, or 0440 when `read_only`; chgrp to $VT_SHARE_GROUP when
    set (the operator's primary group otherwise)."""
    gid = _share_gid()
    for path in [folder, *folder.rglob("*")]:
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            continue
        if gid is not None and st.st_gid != gid:
            os.chown(path, -1, gid)
        if stat.S_ISDIR(st.st_mode):
            _chmod(path, 0o2750)
        else:
            _chmod(path, 0o440 if read_only or not st.st_mode & stat.S_IWUSR else 0o640)


def _share_gid() -> int | None:
    name = os.environ.get(SHARE_GROUP_ENV)
    if not name:
        return None
    import grp

    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise ShareGroupError(f"{SHARE_GROUP_ENV}={name!r} is not a group of this machine") from None


class ShareGroupError(Exception):
    """$VT_SHARE_GROUP names no group."""


def raw_columns(layout: Layout, code: str) -> list[str]:
    """Columns of the raw table of a record type: every delivered field, the BSN as pseudonym and status."""
    columns = ["levering_id", "regelnummer"]
    for f in layout.record_types[code].fields:
        columns += ["bsn_pseudoniem", "bsn_status"] if f.name == BSN_FIELD else [f.name]
    return columns


def create_raw_schema(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    """Create the raw tables if missing, and the columns a newer layout version added. Identifiers come from the
    layout table, never from a file."""
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    counts = ",\n".join(f"aantal_{rt.code.lower()} integer not null" for rt in layout.data_types)
    con.execute(
        f"""
        create table if not exists {RAW_SCHEMA}.leveringen (
            levering_id varchar primary key,
            vt_code varchar not null,
            verslagperiode varchar not null,
            leveringsnummer integer not null,
            bestandsnaam varchar not null,
            checksum_sha256 varchar not null unique,
            aanmaakdatum varchar,
            versie_bestandsdefinitie varchar,
            ontvangen_op timestamp not null,
            geladen_op timestamp not null,
            aantal_records integer not null,
            {counts}
        )"""
    )
    con.execute(
        f"""
        create table if not exists {RAW_SCHEMA}.laadlog (
            tijdstip timestamp not null,
            bestandsnaam varchar not null,
            checksum_sha256 varchar,
            levering_id varchar,
            uitkomst varchar not null,
            overtreden_regels varchar,
            melding varchar not null
        )"""
    )
    # a large file is loaded in chunks, each committed; its register row comes last. Until then its id is here,
    # so what a killed load left is found and removed (see remove_unfinished)
    con.execute(f"create table if not exists {RAW_SCHEMA}.onvoltooid (levering_id varchar primary key, "
                "sinds timestamp not null)")
    for rt in layout.data_types:
        cols = ",\n".join(
            f"{c} {'integer' if c == 'regelnummer' else 'varchar'}" for c in raw_columns(layout, rt.code)
        )
        con.execute(f"create table if not exists {RAW_SCHEMA}.{rt.entiteit} ({cols})")
    # a warehouse made before a layout version existed: add its columns (NULL in the older rows)
    have = set(con.execute("select table_name, column_name from information_schema.columns where table_schema = ?",
                           [RAW_SCHEMA]).fetchall())
    wanted = [("leveringen", f"aantal_{rt.code.lower()}", "integer default 0") for rt in layout.data_types]
    wanted += [(rt.entiteit, c, "varchar") for rt in layout.data_types for c in raw_columns(layout, rt.code)]
    for table, column, kind in wanted:
        if (table, column) not in have:
            con.execute(f"alter table {RAW_SCHEMA}.{table} add column {column} {kind}")


def prepare(con: duckdb.DuckDBPyConnection, layout: Layout | None = None) -> None:
    """What every writer and dbt rely on: the raw tables with the columns of every layout version (and of
    `layout`, when another is given), and the reference data."""
    create_raw_schema(con, layouts().raw)
    if layout is not None:
        create_raw_schema(con, layout)
    remove_unfinished(con, layout or layouts().raw)
    referentie.ensure(con)


def remove_unfinished(con: duckdb.DuckDBPyConnection, layout: Layout) -> list[str]:
    """Remove the records of chunked loads that were interrupted before their register row was written (no
    reader sees them: every model and rule reaches records through the register). Returns their ids."""
    unfinished = [lid for (lid,) in con.execute(f"select levering_id from {RAW_SCHEMA}.onvoltooid").fetchall()]
    if not unfinished:
        return []
    con.execute("begin transaction")
    registered = {lid for (lid,) in con.execute(
        f"select levering_id from {RAW_SCHEMA}.leveringen where list_contains(?, levering_id)", [unfinished]
    ).fetchall()}
    for rt in layout.data_types:
        con.execute(f"delete from {RAW_SCHEMA}.{rt.entiteit} where list_contains(?, levering_id)",
                    [[lid for lid in unfinished if lid not in registered]])
    con.execute(f"delete from {RAW_SCHEMA}.onvoltooid")
    con.execute("commit")
    return unfinished
