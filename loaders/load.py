"""The load step: the only code that writes delivered data into the warehouse.

A file is loaded whole or not at all: its records become immutable Parquet files in one folder per delivery
(`raw/levering_id=<id>/`, written under `raw.tmp/` and renamed into place), and its register row in DuckDB makes
it exist for readers. Values go in through registered Arrow tables and query parameters; the only identifiers in
the SQL are names from the layout table and paths the loader made.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import duckdb

from loaders import faults, referentie
from loaders.layout import RECORD_LENGTH, Layout, Layouts
from loaders.parse import (
    CHUNK_BYTES,
    DeliveryRejected,
    ParsedDelivery,
    Violation,
    iter_tables,
    parse_delivery,
    scan_delivery,
    shown,
)
from loaders.periods import Periode
from loaders.pseudonym import BSN_FIELD, PSEUDONYM, check_fingerprints, hmac_pads, resolve_key, with_bsn_status
from loaders.warehouse import (
    LOAD_MEMORY_ENV,
    RAW_SCHEMA,
    RAW_TMP_DIR,
    SettingError,
    Warehouse,
    delivery_folder,
    limit_memory,
    prepare,
    quoted,
    raw_file,
    raw_select,
    view_columns,
)

GELADEN, ONGEWIJZIGD, GEWEIGERD = "geladen", "ongewijzigd", "geweigerd"
HERDATEERD = "herdateerd"  # an identical file loaded again with --redate: its reception time corrected
# --received-at mtime: each file's reception time is its modification time (as the refresh takes inbox files)
MTIME = "mtime"
# could not be read now (permissions, I/O): nothing is decided about the file, a later run tries again
ONLEESBAAR = "onleesbaar"
MAX_BYTES_ENV, CHUNK_ENV = "VT_MAX_FILE_BYTES", "VT_CHUNK_BYTES"
# far above any real delivery (a national half-year is about 300 MB at scale 1)
DEFAULT_MAX_BYTES = 2 * 1024**3


class NotAFile(Exception):
    """A path that is not a regular file (symlink, directory, FIFO, device): never followed or read."""


def chunk_bytes() -> int:
    """Files up to this size are parsed whole in memory; larger ones in chunks of this size (default 256 MiB)."""
    try:
        return max(int(os.environ.get(CHUNK_ENV) or CHUNK_BYTES), RECORD_LENGTH + 2)
    except ValueError:
        return CHUNK_BYTES


def max_bytes() -> int:
    """$VT_MAX_FILE_BYTES, else the default; anything but a positive whole number is a SettingError (exit 2),
    never silently the default."""
    text = (os.environ.get(MAX_BYTES_ENV) or "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    if not text.isdigit() or int(text) == 0:
        raise SettingError(
            f"${MAX_BYTES_ENV} is {text!r}: the largest delivery in bytes, a positive whole number "
            f"(default {DEFAULT_MAX_BYTES})"
        )
    return int(text)


def open_delivery(path: Path, limit: int) -> BinaryIO:
    """A regular file opened for reading, never following a symlink or blocking on a FIFO (the caller closes
    it). Raises NotAFile for anything but a regular file, DeliveryRejected for a file over `limit` bytes (before
    it is read), and OSError when it cannot be read now."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotAFile(f"{shown(path.name)}: a symbolic link, not a delivered file; left alone") from None
        raise
    fh = os.fdopen(fd, "rb")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        fh.close()
        raise NotAFile(f"{shown(path.name)}: not a regular file (a directory, FIFO or device); left alone")
    if st.st_size > limit:
        fh.close()
        raise DeliveryRejected(
            path.name,
            [Violation(2, (), f"the file has {st.st_size} bytes, more than the limit of {limit} ({MAX_BYTES_ENV})")],
        )
    return fh


def _sha256(fh: BinaryIO) -> str:
    """The checksum of a whole file, read in pieces."""
    h = hashlib.sha256()
    fh.seek(0)
    for block in iter(lambda: fh.read(1 << 20), b""):
        h.update(block)
    return h.hexdigest()


@dataclass
class LoadResult:
    file: Path
    outcome: str
    message: str
    levering_id: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    rules: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in (GELADEN, ONGEWIJZIGD, HERDATEERD)


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files as given; a directory stands for every *.txt in it, in name order."""
    out: list[Path] = []
    for p in map(Path, paths):
        out += sorted(p.glob("*.txt")) if p.is_dir() else [p]
    return out


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def modified_at(st_mtime: float) -> datetime:
    """A file's modification time as a reception time (UTC, whole seconds)."""
    return datetime.fromtimestamp(st_mtime, UTC).replace(tzinfo=None, microsecond=0)


def load_files(
    paths: Iterable[Path],
    warehouse: Warehouse,
    layout: Layout | Layouts,
    received_at: datetime | str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    redate: bool = False,
) -> list[LoadResult]:
    """Load every file, each parsed by the layout of its version; a rejected file loads nothing and does not
    stop the others. received_at: a time, MTIME (each file's modification time) or None (now). An identical
    file already loaded is not loaded again; with `redate` its reception time becomes the one given."""
    files = expand_inputs(paths)
    max_bytes()  # a bad setting stops the load before any file, not half-way
    key = resolve_key(warehouse.home)
    results = []
    layout = layout if isinstance(layout, Layouts) else Layouts({layout.versie: layout})
    with warehouse.connect() as con:
        if key is not None:  # (without one every file is rejected with the reason below)
            check_fingerprints(con, {PSEUDONYM: key}, warehouse.home)
        # DuckDB keeps written blocks in its buffer pool: bounded, so a file near the size limit loads in bounded
        # memory
        limit_memory(con, LOAD_MEMORY_ENV)
        prepare(con, layout.raw)
        for i, path in enumerate(files):
            if progress:
                progress(i, len(files), path.name)
            results.append(_load_one(con, path, warehouse, layout, key, received_at, redate))
        if progress:
            progress(len(files), len(files), "")
    return results


def _load_one(con, path: Path, warehouse: Warehouse, layout: Layouts, key, received_at, redate=False) -> LoadResult:
    try:
        fh = open_delivery(path, max_bytes())
    except NotAFile as exc:
        return _reject(con, path, None, str(exc), [])
    except DeliveryRejected as rejected:
        return _reject(con, path, None, rejected.message, rejected.rules)
    except OSError as exc:
        return _unreadable(con, path, exc)
    with fh:
        try:
            if received_at == MTIME:
                received_at = modified_at(os.fstat(fh.fileno()).st_mtime)
            return _load_open(con, fh, path, warehouse, layout, key, received_at, redate)
        except OSError as exc:
            if isinstance(exc, PermissionError) or exc.errno in (errno.EIO, errno.ESTALE, errno.ENXIO):
                return _unreadable(con, path, exc)  # reading the delivery failed
            raise  # writing failed (a full disk): an operating condition, not the file's


def _identical(
    con, path: Path, checksum: str, levering_id: str, was: datetime, received_at: datetime | None, redate: bool
) -> LoadResult:
    """A file identical to a loaded delivery: nothing is loaded again. A reception time given now that differs
    from the one stored is named (a back-fill first loaded without its real dates selects nothing for its
    releases) and changed only on request (--redate), logged."""
    if received_at is None or received_at == was:
        message = f"{path.name}: identical to delivery {levering_id}, already loaded; nothing changed"
        _log(con, path.name, checksum, levering_id, ONGEWIJZIGD, None, message)
        return LoadResult(path, ONGEWIJZIGD, message, levering_id)
    if redate:
        con.execute(
            f"update {RAW_SCHEMA}.leveringen set ontvangen_op = ? where levering_id = ?", [received_at, levering_id]
        )
        message = (
            f"{path.name}: identical to delivery {levering_id}, already loaded; its reception time changed "
            f"from {was} to {received_at} (--redate)"
        )
        _log(con, path.name, checksum, levering_id, HERDATEERD, None, message)
        return LoadResult(path, HERDATEERD, message, levering_id)
    message = (
        f"{path.name}: identical to delivery {levering_id}, already loaded with reception time {was}, not "
        f"{received_at}: nothing changed. A release selects deliveries by reception time; to correct it, "
        f"load the file again with the same --received-at and --redate"
    )
    _log(con, path.name, checksum, levering_id, ONGEWIJZIGD, None, message)
    return LoadResult(path, ONGEWIJZIGD, message, levering_id)


def _unreadable(con, path: Path, exc: OSError) -> LoadResult:
    message = f"{shown(str(path))}: cannot be read now ({exc.strerror}); nothing decided, try again"
    _log(con, path.name, None, None, ONLEESBAAR, None, message)
    return LoadResult(path, ONLEESBAAR, message)


def _load_open(
    con, fh: BinaryIO, path: Path, warehouse: Warehouse, layout: Layouts, key, received_at, redate: bool = False
) -> LoadResult:
    # A file that fits in a chunk is read once and parsed whole, in memory; a larger one is checked in chunks,
    # then read again chunk by chunk into the tables, so memory stays bounded whatever its size.
    chunk = chunk_bytes()
    data = fh.read() if os.fstat(fh.fileno()).st_size <= chunk else None
    checksum = hashlib.sha256(data).hexdigest() if data is not None else _sha256(fh)
    loaded = con.execute(
        f"select levering_id, ontvangen_op from {RAW_SCHEMA}.leveringen where checksum_sha256 = ?", [checksum]
    ).fetchone()
    if loaded:
        return _identical(con, path, checksum, *loaded, received_at, redate)

    try:
        if data is not None:
            parsed = parse_delivery(data, path.name, layout)
            batches: Iterable[dict] = [parsed.tables]
        else:
            parsed = scan_delivery(fh, path.name, layout, chunk_bytes=chunk)
            batches = iter_tables(fh, layout.get(parsed.versie_bestandsdefinitie), chunk_bytes=chunk)
    except DeliveryRejected as rejected:
        return _reject(con, path, checksum, rejected.message, rejected.rules)

    received = received_at or now_utc()
    sender = _check_sender(con, parsed, received)
    if sender:
        rejected = DeliveryRejected(path.name, [Violation(10, (1,), sender)])
        return _reject(con, path, checksum, rejected.message, rejected.rules)

    # record types with a BSN (personal records) are never loaded without a key
    personal = [
        rt.code
        for rt in layout.raw.data_types
        if parsed.counts.get(rt.code) and any(f.name == BSN_FIELD for f in rt.fields)
    ]
    if personal and key is None:
        message = (
            f"{path.name}: refused, nothing loaded: it holds personal records ({', '.join(personal)}) and no "
            f"pseudonymisation key is set (VT_PSEUDONYM_KEY, or a key file {warehouse.home}/pseudonym.key "
            "readable by its owner only)"
        )
        return _reject(con, path, checksum, message, [])
    ipad, opad = hmac_pads(key) if key else (None, None)
    refused = _check_number(con, parsed, path, checksum)
    if refused:
        return refused
    # pread for a chunked file: the archive copy does not move the parser's position in it
    archiving = _background(_archive, warehouse, parsed, data if data is not None else fh.fileno())
    try:
        target = _write_delivery(con, warehouse, parsed, batches, layout.raw, ipad, opad, archiving)
    finally:
        wait([archiving])  # never left writing behind a failure (its own error is raised in _write_delivery)
    message = f"{path.name}: loaded as {parsed.levering_id}, {sum(parsed.counts.values())} records"
    con.execute("begin transaction")
    try:
        _insert_delivery(con, parsed, path.name, checksum, received, layout.raw)
        _log(con, path.name, checksum, parsed.levering_id, GELADEN, None, message)
        faults.checkpoint("load:before-commit")
        con.execute("commit")
    except BaseException:
        _rollback(con)
        shutil.rmtree(target, ignore_errors=True)  # not registered: no reader may see it (a kill here: see prepare)
        raise
    return LoadResult(path, GELADEN, message, parsed.levering_id, parsed.counts)


def _rollback(con) -> None:
    try:
        con.execute("rollback")
    except duckdb.Error:
        pass  # the failure (a full disk) may have ended the transaction already: report that failure


def _check_number(con, parsed: ParsedDelivery, path: Path, checksum: str) -> LoadResult | None:
    """Rule 7: a higher leveringsnummer than every loaded delivery of the organisation and half-year. (The load
    holds the database's write lock, so no other load can register one in between.)"""
    (highest,) = con.execute(
        f"select max(leveringsnummer) from {RAW_SCHEMA}.leveringen where vt_code = ? and verslagperiode = ?",
        [parsed.vt_code, parsed.verslagperiode],
    ).fetchone()
    if highest is None or parsed.leveringsnummer > highest:
        return None
    detail = f"{parsed.leveringsnummer:03d} is not higher than {highest:03d}, already loaded"
    rejected = DeliveryRejected(path.name, [Violation(7, (1,), detail)])
    return _reject(con, path, checksum, rejected.message, rejected.rules)


def _write_delivery(
    con, warehouse: Warehouse, parsed: ParsedDelivery, batches, raw: Layout, ipad, opad, archiving: Future
) -> Path:
    """The delivery's Parquet files, written into a temporary folder and renamed into place whole once written and
    synced (returns that place): no reader ever sees part of a delivery. The register row that makes it exist
    comes after (_load_open); a kill before it leaves a folder that the next writer removes
    (warehouse.remove_unfinished)."""
    staging = warehouse.raw.with_name(RAW_TMP_DIR)
    staging.mkdir(mode=0o700, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{parsed.levering_id}-", dir=staging))
    try:
        written, columns = [], view_columns(raw)
        for part, batch in enumerate(batches):
            written += _write_batch(con, folder, part, batch, raw, columns, ipad, opad)
        archiving.result()  # the archive copy is part of the delivery: it must have succeeded first
        for file in written:
            _fsync(file)
        _fsync(folder)
        faults.checkpoint("load:before-rename")
        target = delivery_folder(warehouse.raw, parsed.levering_id)
        os.rename(folder, target)
        _fsync(warehouse.raw)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_batch(
    con, folder: Path, part: int, batch: dict, raw: Layout, columns: dict[str, list[str]], ipad, opad
) -> list[Path]:
    """One chunk's tables as Parquet files in `folder`, one per record type with records, in the layout's order,
    each with its raw view's `columns` (a field the delivery's version lacks is NULL)."""
    written = []
    for rt in raw.data_types:
        table = batch.get(rt.code)
        if table is None or not table.num_rows:
            continue  # a record type this version does not have, or that this chunk has no records of
        source, params, have = "levering_batch", [], table.column_names
        if BSN_FIELD in table.column_names:
            table = with_bsn_status(table)
            # The clear BSN exists only in this in-memory scan; what is written is its keyed pseudonym.
            source = (
                "(select * exclude (bsn), case when bsn_status in ('geldig', 'ongeldig') "
                "then sha256(?::blob || unhex(sha256(?::blob || bsn::blob))) end as bsn_pseudoniem "
                "from levering_batch)"
            )
            params, have = [opad, ipad], [*table.column_names, "bsn_pseudoniem"]
        target = raw_file(folder, rt.entiteit, part)
        con.register("levering_batch", table)
        try:
            con.execute(
                f"copy ({raw_select(columns[rt.entiteit], have, source)}) to {quoted(target)} "
                "(format parquet, compression zstd)",
                params,
            )
        finally:
            con.unregister("levering_batch")
        written.append(target)
        faults.checkpoint(f"load:{rt.entiteit}")
    return written


def _check_sender(con, parsed: ParsedDelivery, received: datetime) -> str:
    """Rule 10, at the door: who may deliver for the year, and not for a half-year that has not begun."""
    problems = []
    periode = Periode.parse(parsed.verslagperiode)
    allowed = referentie.organisations(con, periode.jaar)
    if parsed.vt_code not in allowed:
        problems.append(
            f"{parsed.vt_code!r} is not a Veilig Thuis-organisatie of {periode.jaar} ({', '.join(sorted(allowed))})"
        )
    if periode.start > received.date():
        problems.append(f"{periode} has not begun on {received.date()}, when the file was received")
    return "; ".join(problems)


def _insert_delivery(con, parsed: ParsedDelivery, file_name, checksum, received_at, layout: Layout) -> None:
    counts = [parsed.counts.get(rt.code, 0) for rt in layout.data_types]
    count_cols = ", ".join(f"aantal_{rt.code.lower()}" for rt in layout.data_types)
    values = [
        parsed.levering_id,
        parsed.vt_code,
        parsed.verslagperiode,
        parsed.leveringsnummer,
        file_name,
        checksum,
        parsed.aanmaakdatum,
        parsed.versie_bestandsdefinitie,
        received_at,
        now_utc(),
        sum(counts),
        *counts,
    ]
    placeholders = ", ".join("?" for _ in values)
    con.execute(
        f"insert into {RAW_SCHEMA}.leveringen (levering_id, vt_code, verslagperiode, leveringsnummer, "
        "bestandsnaam, checksum_sha256, aanmaakdatum, versie_bestandsdefinitie, ontvangen_op, geladen_op, "
        f"aantal_records, {count_cols}) values ({placeholders})",
        values,
    )


def _background(fn, *args) -> Future:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(fn, *args)
    pool.shutdown(wait=False)
    return future


def archive_path(warehouse: Warehouse, verslagperiode: str, file_name: str) -> Path:
    return warehouse.archive / verslagperiode / file_name


def _archive(warehouse: Warehouse, parsed: ParsedDelivery, source: bytes | int) -> None:
    """Keep the delivered bytes unchanged, owner-only; written atomically so a crash leaves no half file.
    `source` is the file's bytes, or an open descriptor to copy from with pread (bounded memory)."""
    target = archive_path(warehouse, parsed.verslagperiode, parsed.file_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o700)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        if isinstance(source, bytes):
            fh.write(source)
        else:
            offset = 0
            while block := os.pread(source, 1 << 22, offset):
                fh.write(block)
                offset += len(block)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def _reject(con, path: Path, checksum, message: str, rules: list[int]) -> LoadResult:
    _log(con, path.name, checksum, None, GEWEIGERD, ",".join(map(str, rules)) or None, message)
    return LoadResult(path, GEWEIGERD, message, rules=rules)


def _log(con, file_name, checksum, levering_id, outcome, rules, message) -> None:
    con.execute(
        f"insert into {RAW_SCHEMA}.laadlog values (?, ?, ?, ?, ?, ?, ?)",
        [now_utc(), file_name, checksum, levering_id, outcome, rules, message],
    )


def loaded_deliveries(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(levering_id, aantal_records) of every loaded delivery: the loader's own register, for the steps that run
    around the loader (the refresh's inventory) before any dbt model exists."""
    return con.execute(
        f"select levering_id, aantal_records from {RAW_SCHEMA}.leveringen order by levering_id"
    ).fetchall()


def loaded_per_half_year(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Per half-year loaded: (verslagperiode, deliveries, records, casussen, meldingen, betrokkenen)."""
    return con.execute(
        f"""select verslagperiode, count(*), sum(aantal_records), sum(aantal_ca), sum(aantal_me), sum(aantal_bt)
            from {RAW_SCHEMA}.leveringen group by 1 order by 1"""
    ).fetchall()
