"""Where the warehouse lives ($VT_HOME) and the raw schema that the loader writes."""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import time
from collections.abc import Iterable
from contextlib import contextmanager
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
# the raw layer: $VT_HOME/raw/levering_id=<id>/<entiteit>-<part>.parquet, immutable once renamed into place from
# raw.tmp (see loaders/load.py); the raw schema's entity tables are views over them
RAW_DIR, RAW_TMP_DIR, EMPTY_DELIVERY = "raw", "raw.tmp", "_leeg"


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
    def raw(self) -> Path:
        """The raw layer's Parquet files, one folder per delivery, beside the database file they belong to."""
        return raw_dir(self.database)

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
        for folder in (self.raw, self.raw.with_name(RAW_TMP_DIR)):  # pseudonyms: owner only
            if folder.is_dir():
                _chmod(folder, 0o700)
        for name in SHARED_DIRS:
            if (self.home / name).is_dir():
                share(self.home / name)
        for suffix in ("", ".wal"):
            database = Path(f"{self.database}{suffix}")
            if database.exists():
                _chmod(database, 0o600)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        if read_only:
            fd = hold_for_reading(self.database)
            try:
                return _Reader(open_reader(self.database), fd)
            except BaseException:
                if fd is not None:
                    os.close(fd)
                raise
        self.ensure()
        self.database.parent.mkdir(parents=True, exist_ok=True)
        return duckdb.connect(str(self.database))


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


def share(folder: Path, read_only: bool = False, recursive: bool = True) -> None:
    """Make `folder` (a release or publication, or the folder of them) readable by the share group: folders
    2750 (new files inherit the group), files 0640, or 0440 when `read_only`; chgrp to $VT_SHARE_GROUP when
    set (the operator's primary group otherwise). `recursive=False`: the folder itself only."""
    gid = _share_gid()
    for path in [folder, *folder.rglob("*")] if recursive else [folder]:
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
    # a warehouse made before a layout version existed: add its columns (NULL in the older rows)
    have = set(
        con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = ?", [RAW_SCHEMA]
        ).fetchall()
    )
    for table, column, kind in [
        ("leveringen", f"aantal_{rt.code.lower()}", "integer default 0") for rt in layout.data_types
    ]:
        if (table, column) not in have:
            con.execute(f"alter table {RAW_SCHEMA}.{table} add column {column} {kind}")


# DuckDB's buffer pool may grow to 80% of RAM by default; the steps that read or write much are bounded (DuckDB
# spills to a temporary file beyond the limit), each by its own variable.
LOAD_MEMORY_ENV, QUALITY_MEMORY_ENV = "VT_LOAD_MEMORY", "VT_QUALITY_MEMORY"
MEMORY_DEFAULTS = {LOAD_MEMORY_ENV: "512MB", QUALITY_MEMORY_ENV: "1GB"}


class SettingError(Exception):
    """An environment variable of the warehouse holds a value it cannot use (an operating condition, exit 2)."""


def memory_setting(variable: str) -> str:
    """$`variable` (a DuckDB size such as 1GB), else its default; a value DuckDB cannot use is a SettingError."""
    value = os.environ.get(variable) or MEMORY_DEFAULTS[variable]
    try:
        with duckdb.connect() as con:
            con.execute("set memory_limit = ?", [value])
    except duckdb.Error:
        raise SettingError(
            f"{variable}={value!r} is not a memory size: give one such as 1GB or 512MB, or unset it "
            f"(default {MEMORY_DEFAULTS[variable]})"
        ) from None
    return value


def limit_memory(con: duckdb.DuckDBPyConnection, variable: str) -> None:
    """Bound `con`'s memory by $`variable`, else by its default."""
    con.execute("set memory_limit = ?", [memory_setting(variable)])


def spill_folder(database: Path) -> Path | None:
    """This process's own folder for DuckDB's spill files: `<database>.spill/<pid>`, or None where none can be made
    (a read-only folder: DuckDB then spills nowhere and stays in memory or fails its query).

    DuckDB spills beyond its memory limit into `<database>.tmp`, one folder for every process that opens the file
    read-only, and the process that made it removes it on close: two readers spilling at once (the quality step
    and its GX child, two freezes) overwrite and delete each other's files and DuckDB crashes (SIGSEGV, seen).
    The folder is left for DuckDB to make (it then removes it on close); those of processes that ended without
    closing (kill -9) are removed here."""
    parent = database.parent / f"{database.name}.spill"
    try:
        parent.mkdir(exist_ok=True)
        _chmod(parent, 0o700)  # spill files hold the warehouse's rows: owner only
        for folder in parent.iterdir():
            if folder.name.isdigit() and not _alive(int(folder.name)):
                shutil.rmtree(folder, ignore_errors=True)
    except OSError:
        return None
    return parent / str(os.getpid())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


# Readers and the refresh: DuckDB lets one process write or several read, and a reader's open file made the
# refresh fail half-way with "Conflicting lock". So the refresh holds an exclusive lock on a file beside the
# database for its whole run (waiting up to $VT_LOCK_WAIT seconds for readers that are open), and every reader
# takes it shared for as long as its connection is open: a reader during a refresh is told at once, and never
# breaks it. The refresh's own children (dbt, freezes, reports) inherit HELD_ENV and do not lock again.
LOCK_FILE = ".vt-warehouse.lock"
HELD_ENV = "VT_WAREHOUSE_HELD"
LOCK_WAIT_ENV = "VT_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 30


class WarehouseBusy(Exception):
    """The warehouse is held by a refresh (for a reader), or by readers beyond the wait (for the refresh)."""


def _lock_fd(database: Path, create: bool) -> int | None:
    """The lock file: created by the refresh; a reader only opens it (reading writes nothing), and where there is
    none no refresh has ever run, so there is nothing to wait for."""
    try:
        if create:
            return os.open(database.parent / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        return os.open(database.parent / LOCK_FILE, os.O_RDONLY)
    except OSError:
        return None  # none yet, or a folder nobody can write to: no refresh can run there either


def hold_for_reading(database: Path) -> int | None:
    """The shared lock of a reader (its fd, to close with the connection), or None: held by our parent refresh,
    or nothing to lock. WarehouseBusy when a refresh holds the warehouse."""
    if os.environ.get(HELD_ENV):
        return None
    fd = _lock_fd(database, create=False)
    if fd is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise WarehouseBusy(
            f"the warehouse {database} is being refreshed (vt refresh, pid {holder}): nothing done; "
            "run again when the refresh is done"
        ) from None
    return fd


@contextmanager
def held_exclusively(database: Path):
    """For the refresh: the warehouse to itself and its children, once the readers open now are done (at most
    $VT_LOCK_WAIT seconds, default 30); WarehouseBusy after that, before anything was done."""
    database.parent.mkdir(parents=True, exist_ok=True)
    fd = _lock_fd(database, create=True)
    if fd is None:
        yield
        return
    text = os.environ.get(LOCK_WAIT_ENV, "").strip() or str(DEFAULT_LOCK_WAIT)
    wait = int(text) if text.isdigit() else DEFAULT_LOCK_WAIT
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"the warehouse {database} is being read (vt releases, vt quality, ...) for "
                        f"more than {wait} s (${LOCK_WAIT_ENV}): the refresh did nothing; the next "
                        "run tries again"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        os.environ[HELD_ENV] = "1"
        try:
            yield
        finally:
            os.environ.pop(HELD_ENV, None)
    finally:
        os.close(fd)


class _Reader:
    """A read-only connection that releases its reader's lock when it is closed."""

    def __init__(self, con: duckdb.DuckDBPyConnection, fd: int | None):
        self._con, self._fd = con, fd

    def __getattr__(self, name):
        return getattr(self._con, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    def close(self) -> None:
        try:
            self._con.close()
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def open_reader(database: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse that spills into a folder of its own (see spill_folder)."""
    folder = spill_folder(database)
    return duckdb.connect(str(database), read_only=True, config={"temp_directory": str(folder)} if folder else {})


def database_path(con: duckdb.DuckDBPyConnection) -> Path:
    """The connection's database file, absolute: the views name their folder by it, and dbt runs elsewhere."""
    (path,) = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    return Path(path).resolve()


def raw_dir(database: Path) -> Path:
    """The raw layer's folder: beside the database file whose register it belongs to."""
    return database.parent / RAW_DIR


def delivery_folder(raw: Path, levering_id: str) -> Path:
    return raw / f"levering_id={levering_id}"


def raw_file(folder: Path, entiteit: str, part: int) -> Path:
    return folder / f"{entiteit}-{part:05d}.parquet"


def quoted(path: Path) -> str:
    """A path as an SQL string literal (COPY and read_parquet take no parameters for it)."""
    return "'" + str(path).replace("'", "''") + "'"


def raw_select(columns: list[str], have: Iterable[str], source: str, keep_id: bool = False) -> str:
    """The raw file's columns (levering_id is its folder's name, kept only with `keep_id`) from `source`, typed, in
    the view's order; a column the source lacks (a field of another layout version) is NULL."""
    have = set(have)
    out = []
    for c in columns:
        if c == "levering_id" and not keep_id:
            continue
        kind = "integer" if c == "regelnummer" else "varchar"  # every delivered value as text
        out.append(f"cast({c} as {kind}) as {c}" if c in have else f"null::{kind} as {c}")
    return f"select {', '.join(out)} from {source}"


def create_raw_views(con: duckdb.DuckDBPyConnection, columns: dict[str, list[str]]) -> None:
    """The raw schema's entity tables as views over the Parquet files (columns: per entity, in order). A warehouse
    whose raw tables predate the Parquet layer has them moved into it first. A view is replaced when its
    definition changed (a new layout version's columns, or a warehouse moved to another folder)."""
    raw = raw_dir(database_path(con))
    raw.mkdir(mode=0o700, exist_ok=True)
    kinds = dict(
        con.execute(
            "select table_name, table_type from information_schema.tables where table_schema = ?", [RAW_SCHEMA]
        ).fetchall()
    )
    if any(kinds.get(entiteit) == "BASE TABLE" for entiteit in columns):
        _move_tables_to_parquet(con, raw, [e for e in columns if kinds.get(e) == "BASE TABLE"])
    comments = dict(
        con.execute("select view_name, comment from duckdb_views() where schema_name = ?", [RAW_SCHEMA]).fetchall()
    )
    for entiteit, cols in columns.items():
        # only registered deliveries: a folder whose register row a kill prevented is never read
        plain, by_name = (
            f"select {', '.join(cols)} from {_registered_files(raw, entiteit, by_name)}" for by_name in (False, True)
        )
        current = comments.get(entiteit)
        if current == plain:
            continue
        # an empty file with every column: the view has its columns (and types) before any delivery is loaded
        empty = raw_file(delivery_folder(raw, EMPTY_DELIVERY), entiteit, 0)
        if current != by_name or not empty.exists():
            empty.parent.mkdir(mode=0o700, exist_ok=True)
            tmp = empty.with_suffix(".tmp")
            con.execute(f"copy ({raw_select(cols, [], 'range(0)')}) to {quoted(tmp)} (format parquet)")
            os.replace(tmp, empty)
        # matching files by column name costs every query that names the view about 30 ms to bind (each file's
        # schema is read): only while some file differs (written before a layout version added a field), checked
        # by each writer until none does. Files a later load writes have the empty file's columns.
        definition = by_name if _schemas_differ(con, raw, entiteit, empty) else plain
        if definition == current:
            continue
        con.execute(f"create or replace view {RAW_SCHEMA}.{entiteit} as {definition}")
        con.execute(f"comment on view {RAW_SCHEMA}.{entiteit} is {quoted(definition)}")


def _schemas_differ(con: duckdb.DuckDBPyConnection, raw: Path, entiteit: str, empty: Path) -> bool:
    """Whether any file of the entity has other columns (names, order or types) than `empty`."""
    schema = (
        "select file_name, list(name || ' ' || type order by column_id) as columns "
        "from parquet_schema({}) where type is not null group by file_name"
    )
    (differ,) = con.execute(
        f"select count(*) from ({schema.format(quoted(raw / '*' / f'{entiteit}-*.parquet'))}) as f "
        f"where f.columns is distinct from (select columns from ({schema.format(quoted(empty))}))"
    ).fetchone()
    return differ > 0


def _registered_files(raw: Path, entiteit: str, by_name: bool = True) -> str:
    """The records of an entity in the files of the registered deliveries (a FROM clause); `by_name`: files with
    other columns than the first are matched by column name."""
    pattern = raw / "*" / f"{entiteit}-*.parquet"
    return (
        f"read_parquet({quoted(pattern)}, hive_partitioning = true, hive_types = {{'levering_id': 'varchar'}}"
        f"{', union_by_name = true' * by_name}) "
        f"where levering_id in (select levering_id from {RAW_SCHEMA}.leveringen)"
    )


def _move_tables_to_parquet(con: duckdb.DuckDBPyConnection, raw: Path, tables: list[str]) -> None:
    """A warehouse from before the Parquet raw layer: each registered delivery's rows to its folder, then the
    table dropped (rows of loads that never registered are left behind, as remove_unfinished would have)."""
    con.execute("set enable_progress_bar = false")  # a long query: DuckDB would draw its bar on stdout
    work = raw.with_name(RAW_TMP_DIR) / "migratie"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)
    for table in tables:
        cols = [
            c
            for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? "
                "and table_name = ? order by ordinal_position",
                [RAW_SCHEMA, table],
            ).fetchall()
        ]
        source = (
            f"(select * from {RAW_SCHEMA}.{table} where levering_id in "
            f"(select levering_id from {RAW_SCHEMA}.leveringen))"
        )
        select = raw_select(cols, cols, source, keep_id=True)
        con.execute(f"copy ({select}) to {quoted(work / table)} (format parquet, partition_by (levering_id))")
        for written in sorted((work / table).glob("levering_id=*")):
            folder = raw / written.name
            folder.mkdir(mode=0o700, exist_ok=True)
            for i, part in enumerate(sorted(written.glob("*.parquet"))):  # DuckDB may write several per delivery
                os.replace(part, raw_file(folder, table, i))
        # checked before any table is dropped: every registered row is in the files
        (kept,) = con.execute(f"select count(*) from {source}").fetchone()
        (moved,) = con.execute(f"select count(*) from {_registered_files(raw, table)}").fetchone()
        if moved != kept:
            raise RuntimeError(
                f"moving {RAW_SCHEMA}.{table} to Parquet: {kept} rows in the table, {moved} in the files; "
                "the table is kept"
            )
    con.execute("begin transaction")
    for table in tables:
        con.execute(f"drop table {RAW_SCHEMA}.{table}")
    con.execute(f"drop table if exists {RAW_SCHEMA}.onvoltooid")  # the chunked loads' marks: folders say it now
    con.execute("commit")
    shutil.rmtree(work, ignore_errors=True)


def view_columns(layout: Layout | None = None) -> dict[str, list[str]]:
    """Per entity the raw view's columns, in order: the fields of every layout version, and of `layout` when
    another is given. Every raw file is written with exactly these, whichever version its delivery has, so a
    view need not match its files by name (create_raw_views)."""
    columns: dict[str, list[str]] = {}
    for lay in (layouts().raw, layout or layouts().raw):
        for rt in lay.data_types:
            have = columns.setdefault(rt.entiteit, [])
            have += [c for c in raw_columns(lay, rt.code) if c not in have]
    return columns


def prepare(con: duckdb.DuckDBPyConnection, layout: Layout | None = None) -> None:
    """What every writer and dbt rely on: the raw schema with the columns of every layout version (and of
    `layout`, when another is given), and the reference data."""
    create_raw_schema(con, layouts().raw)
    if layout is not None:
        create_raw_schema(con, layout)
    create_raw_views(con, view_columns(layout))
    remove_unfinished(con)
    referentie.ensure(con)


def remove_unfinished(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Remove what an interrupted load left: its temporary folder, or its delivery's folder renamed into place
    before its register row was committed (no reader sees those rows: every model and rule reaches records
    through the register). Runs under the database's write lock, so no load is under way. Returns their ids."""
    raw = raw_dir(database_path(con))
    shutil.rmtree(raw.with_name(RAW_TMP_DIR), ignore_errors=True)
    registered = {lid for (lid,) in con.execute(f"select levering_id from {RAW_SCHEMA}.leveringen").fetchall()}
    removed = []
    for folder in sorted(raw.glob("levering_id=*")):
        lid = folder.name.split("=", 1)[1]
        if lid != EMPTY_DELIVERY and lid not in registered:
            shutil.rmtree(folder)
            removed.append(lid)
    return removed
