"""Parse and validate one delivery file: bytes and the layouts in, typed-as-text columns out. No database.

Everything is vectorised with NumPy over the whole file: the lines are found once, the records are viewed
as a (records x 120) byte matrix, and each field becomes an Arrow string column straight from a slice of
that matrix. Rules 1-6, 8 and 9 of the Bestandsdefinitie are checked here; rule 7 needs the register of
loaded deliveries and is checked by the load step. The VL record (at the same positions in every layout
version) names the version whose layout parses the rest of the file (rule 9).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa

from loaders.layout import HEADER, RECORD_LENGTH, TRAILER, Layout, Layouts, RecordType

LF, CR = 0x0A, 0x0D
MAX_LINES_SHOWN = 10
MAX_LINES_KEPT = 1000  # line numbers kept per rule (the count is always exact)
CHUNK_BYTES = 256 * 1024 * 1024  # how much of a large file is parsed at once (cut at line ends)

RULES = {
    1: "exactly one VL record, first, and exactly one SL record, last",
    2: f"every record is exactly {RECORD_LENGTH} printable ASCII characters",
    3: "every record type is known",
    4: "every record carries the vt_code of the VL record",
    5: "the SL counts equal the records in the file",
    6: "the verslagperiode is JJJJH1/JJJJH2 from 2019 on, and the file name agrees with the VL record",
    7: "the leveringsnummer is higher than that of every loaded delivery of the same organisation and half-year",
    8: "every record key occurs once per record type",
    9: "the versie_bestandsdefinitie of the VL record is a known layout version",
    10: "the sender is a Veilig Thuis-organisatie of the delivery's year and the verslagperiode has begun",
}

FILE_NAME = re.compile(r"^(?P<vt_code>[A-Z0-9]{4})_(?P<verslagperiode>\d{4}H[12])_(?P<leveringsnummer>\d{3})\.txt\Z")
PERIODE = re.compile(r"^(?P<jaar>\d{4})H[12]\Z")


def shown(name: str) -> str:
    """A file name as it may be printed or logged: control and non-ASCII characters escaped, so a name
    cannot forge lines or hide what it is."""
    return name if name.isascii() and name.isprintable() else ascii(name)[1:-1]


@dataclass(frozen=True)
class Violation:
    rule: int
    lines: tuple[int, ...] = ()  # 1-based, sorted; the first MAX_LINES_KEPT
    detail: str = ""
    count: int = 0  # how many lines in all (0: len(lines))

    def describe(self) -> str:
        text = f"rule {self.rule} ({RULES[self.rule]})"
        if self.detail:
            text += f": {self.detail}"
        if self.lines:
            total = max(self.count, len(self.lines))
            shown = ", ".join(str(n) for n in self.lines[:MAX_LINES_SHOWN])
            more = ", ..." if total > MAX_LINES_SHOWN else ""
            noun = "line" if total == 1 else "lines"
            text += f"; {noun} {shown}{more} ({total} {noun})"
        return text


class DeliveryRejected(Exception):
    """The file breaks one or more rules of the Bestandsdefinitie; nothing of it may be loaded."""

    def __init__(self, file_name: str, violations: list[Violation]):
        self.file_name = file_name
        self.violations = sorted(violations, key=lambda v: v.rule)
        super().__init__(self.message)

    @property
    def rules(self) -> list[int]:
        return [v.rule for v in self.violations]

    @property
    def message(self) -> str:
        lines = [f"{shown(self.file_name)}: rejected, nothing loaded"]
        lines += [f"  {v.describe()}" for v in self.violations]
        return "\n".join(lines)


@dataclass
class ParsedDelivery:
    file_name: str
    vt_code: str
    verslagperiode: str
    leveringsnummer: int
    aanmaakdatum: str
    versie_bestandsdefinitie: str
    # record type code -> table with `regelnummer` and every layout field as delivered (untrimmed text); empty
    # when the file was scanned without keeping them (see iter_tables)
    tables: dict[str, pa.Table] = field(default_factory=dict)
    counts_by_type: dict[str, int] = field(default_factory=dict)

    @property
    def levering_id(self) -> str:
        return f"{self.vt_code}_{self.verslagperiode}_{self.leveringsnummer:03d}"

    @property
    def counts(self) -> dict[str, int]:
        return self.counts_by_type or {code: t.num_rows for code, t in self.tables.items()}


def parse_file(path: Path, layout: Layout | Layouts) -> ParsedDelivery:
    return parse_delivery(Path(path).read_bytes(), Path(path).name, layout)


def parse_delivery(data: bytes, file_name: str, layout: Layout | Layouts) -> ParsedDelivery:
    """Validate rules 1-6, 8 and 9 and split the records into one table per record type, by the layout of the
    file's version (one Layout given: the only version known). The whole file in memory, in one chunk.

    Raises DeliveryRejected with every violated rule and its line numbers.
    """
    return scan_delivery(io.BytesIO(data), file_name, layout, chunk_bytes=max(len(data), 1), keep_tables=True)


def scan_delivery(
    fh: BinaryIO, file_name: str, layout: Layout | Layouts, chunk_bytes: int = CHUNK_BYTES, keep_tables: bool = False
) -> ParsedDelivery:
    """parse_delivery over a seekable binary file read in chunks of whole lines, so memory is bounded by the
    chunk and 8 bytes per record (the key hashes of rule 8), whatever the file's size. With `keep_tables` the tables are
    collected (for files that fit in memory); without, the result has none: `iter_tables` yields them per
    chunk once the file is known to be valid.
    """
    versions = layout if isinstance(layout, Layouts) else Layouts({layout.versie: layout})
    layout = versions.newest  # until the VL record says which version the file has
    found = _Found()
    header = None
    layout_known = True
    first_type = last_type = None
    n = 0
    counts: dict[bytes, int] = {}
    keys: dict[str, list[np.ndarray]] = {}  # per record type and chunk: the 64-bit hashes of the record keys
    parts: dict[str, list[pa.Table]] = {}
    trailer_row = None
    for buf, first, last in _chunks(fh, chunk_bytes):
        matrix, types, wellformed = _records(buf)
        m = len(types)
        index = np.arange(first, first + m)
        # Rule 2: length and bytes.
        found.add(2, index[~wellformed])
        if first == 0 and m:
            first_type = types[0]
            # Rule 9: the layout version; the VL record has the same positions in every version.
            if types[0] == HEADER.encode() and wellformed[0]:
                header = _record_values(matrix, 0, layout.header)
                chosen = versions.get(header["versie_bestandsdefinitie"])
                if chosen is None:
                    layout_known = False
                    found.detail[9] = (
                        f"version {header['versie_bestandsdefinitie']!r} is not known "
                        f"(known: {', '.join(versions.versions)})"
                    )
                    found.add(9, np.array([0]))
                else:
                    layout = chosen
                vt_field = layout.header.field("vt_code")
                vt_code = _column(matrix[:1], vt_field.offset, vt_field.length)[0]
        if m:
            last_type = types[-1]
        # Rule 1: VL only first, SL only last.
        is_vl, is_sl = types == HEADER.encode(), types == TRAILER.encode()
        misplaced = (is_vl & (index != 0)) | (is_sl & (np.arange(m) != m - 1 if last else True))
        found.add(1, index[misplaced])
        # Rule 3: known record types.
        known = np.isin(types, [code.encode() for code in layout.record_types])
        if layout_known:
            found.add(3, index[~known & wellformed])
        # Rule 4: every record carries the VL's vt_code.
        if header is not None:
            vt_codes = _column(matrix, vt_field.offset, vt_field.length)
            found.add(4, index[(vt_codes != vt_code) & wellformed & known])
        for code in np.unique(types):
            counts[code] = counts.get(code, 0) + int(np.count_nonzero(types == code))
        rows_by_type = {rt.code: np.flatnonzero((types == rt.code.encode()) & wellformed) for rt in layout.data_types}
        for rt in layout.data_types:
            rows = rows_by_type[rt.code]
            if len(rows) and rt.sleutel:
                keys.setdefault(rt.code, []).append(_key_hashes(_key_block(matrix, rows, rt)))
            if keep_tables:
                parts.setdefault(rt.code, []).append(_table(matrix, rows, rt, first))
        if last and m and is_sl[-1] and wellformed[-1]:
            trailer_row = _record_values(matrix, m - 1, layout.trailer)
        n = first + m

    detail = []
    if n == 0 or first_type != HEADER.encode():
        detail.append("the first record is not VL")
    if n == 0 or last_type != TRAILER.encode():
        detail.append("the last record is not SL")
    if detail:
        found.detail[1] = "; ".join(detail)
        found.add(1, np.array([], dtype=np.int64), always=True)
    if n == 0:
        raise DeliveryRejected(file_name, found.violations())
    # Rule 6: verslagperiode and file name.
    if header is not None:
        for v in _check_naming(file_name, header):
            found.detail[6] = v.detail
            found.add(6, np.array([0]))
    # Rule 8: record keys unique per record type.
    if layout_known:
        for code, pieces in keys.items():
            found.add(8, _duplicate_lines(fh, chunk_bytes, layout.record_types[code], pieces))
    # Rule 5: SL counts (in the version's SL record).
    if trailer_row is not None and layout_known:
        wrong = []
        for rt in layout.data_types:
            declared = trailer_row[layout.count_field(rt.code).name]
            actual = counts.get(rt.code.encode(), 0)
            if not declared.isdigit() or int(declared) != actual:
                wrong.append(f"{rt.code} declared {declared.strip() or 'blank'}, found {actual}")
        if wrong:
            found.detail[5] = "; ".join(wrong)
            found.add(5, np.array([n - 1]))
    if found.any():
        raise DeliveryRejected(file_name, found.violations())

    tables = {code: pa.concat_tables(p) for code, p in parts.items()} if keep_tables else {}
    return ParsedDelivery(
        file_name=file_name,
        vt_code=header["vt_code"],
        verslagperiode=header["verslagperiode"],
        leveringsnummer=int(header["leveringsnummer"]),
        aanmaakdatum=header["aanmaakdatum"],
        versie_bestandsdefinitie=header["versie_bestandsdefinitie"],
        tables=tables,
        counts_by_type={rt.code: counts.get(rt.code.encode(), 0) for rt in layout.data_types},
    )


def iter_tables(fh: BinaryIO, layout: Layout, chunk_bytes: int = CHUNK_BYTES) -> Iterator[dict[str, pa.Table]]:
    """The records of a file that scan_delivery accepted, per chunk: one table per record type of `layout` (the
    file's version), with the line numbers of the file."""
    for buf, first, _ in _chunks(fh, chunk_bytes):
        matrix, types, _ = _records(buf)
        yield {
            rt.code: _table(matrix, np.flatnonzero(types == rt.code.encode()), rt, first) for rt in layout.data_types
        }


@dataclass
class _Found:
    """Violations found so far: per rule the first line numbers (0-based), their count and a detail."""

    lines: dict[int, list[int]] = field(default_factory=dict)
    count: dict[int, int] = field(default_factory=dict)
    detail: dict[int, str] = field(default_factory=dict)

    def add(self, rule: int, index: np.ndarray, always: bool = False) -> None:
        """Lines that break `rule`; with `always`, the rule is broken even without lines (see detail)."""
        if not len(index) and not always:
            return
        if rule not in self.lines:
            self.lines[rule], self.count[rule] = [], 0
        kept = self.lines[rule]
        if len(kept) < MAX_LINES_KEPT:
            kept += [int(i) for i in index[: MAX_LINES_KEPT - len(kept)]]
        self.count[rule] += len(index)

    def any(self) -> bool:
        return bool(self.lines)

    def violations(self) -> list[Violation]:
        return [
            Violation(rule, tuple(sorted(i + 1 for i in self.lines[rule])), self.detail.get(rule, ""), self.count[rule])
            for rule in sorted(self.lines)
        ]


def _chunks(fh: BinaryIO, chunk_bytes: int) -> Iterator[tuple[np.ndarray, int, bool]]:
    """(bytes of whole lines, index of their first line, whether they end the file), from the start of `fh`;
    an empty file is one empty chunk."""
    line_index = 0
    ahead = None
    for whole in _whole_lines(fh, chunk_bytes):
        if ahead is not None:
            yield ahead, line_index, False
            line_index += _line_count(ahead)
        ahead = np.frombuffer(whole, dtype=np.uint8)
    yield (ahead if ahead is not None else np.zeros(0, dtype=np.uint8)), line_index, True


def _whole_lines(fh: BinaryIO, chunk_bytes: int) -> Iterator[bytes | memoryview]:
    """The file in pieces that end at a line end (the last piece may not). A line longer than a chunk is cut to
    its first RECORD_LENGTH + 1 bytes (it breaks rule 2 either way), so no line, however long, is held whole."""
    fh.seek(0)
    pending = b""
    while True:
        block = fh.read(chunk_bytes)
        if not block:
            if pending:
                yield pending
            return
        data = pending + block if pending else block
        cut = data.rfind(b"\n") + 1
        if cut:
            yield memoryview(data)[:cut]  # no copy of the chunk
            pending = data[cut:]
        elif len(data) > RECORD_LENGTH + 1:
            # a line with no end in sight: keep its start, skip the rest up to its end
            pending = data[: RECORD_LENGTH + 1]
            while True:
                block = fh.read(chunk_bytes)
                lf = block.find(b"\n")
                if not block or lf >= 0:
                    break
            pending += block[lf:] if block else b""
        else:
            pending = data


def _records(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The lines of a chunk as a (lines x 120) byte matrix, their record types, and which are well-formed
    (exactly 120 printable ASCII characters: rule 2)."""
    starts, ends, bad_lines = _uniform_lines(buf) or _scan_lines(buf)
    lengths = ends - starts
    matrix = _record_matrix(buf, starts, lengths)
    wellformed = lengths == RECORD_LENGTH
    wellformed[bad_lines] = False
    return matrix, _column(matrix, 0, 2), wellformed


def _line_count(buf: np.ndarray) -> int:
    newlines = int(sum(np.count_nonzero(buf[lo : lo + CHUNK] == LF) for lo in range(0, len(buf), CHUNK)))
    return newlines + (1 if len(buf) and buf[-1] != LF else 0)


def _duplicate_lines(fh: BinaryIO, chunk_bytes: int, rt: RecordType, hashes: list[np.ndarray]) -> np.ndarray:
    """Line indexes of the records whose key occurs more than once. A 64-bit hash of every key (8 bytes per
    record, all that is kept between chunks) finds the candidates; their key bytes, read again from the file,
    decide (a hash collision is not a duplicate)."""
    everything = np.concatenate(hashes)
    if len(everything) < 2:
        return np.array([], dtype=np.int64)
    everything.sort()
    repeated = np.unique(everything[1:][everything[1:] == everything[:-1]])
    del everything
    if len(repeated) == 0:
        return np.array([], dtype=np.int64)
    exact, where = [], []
    for buf, first, _ in _chunks(fh, chunk_bytes):
        matrix, types, wellformed = _records(buf)
        rows = np.flatnonzero((types == rt.code.encode()) & wellformed)
        if not len(rows):
            continue
        block = _key_block(matrix, rows, rt)
        hit = np.isin(_key_hashes(block), repeated)
        if hit.any():
            block = np.ascontiguousarray(block[hit])
            exact.append(block.view(np.dtype((np.void, block.shape[1]))).reshape(-1))
            where.append(rows[hit] + first)
    exact_keys, where = np.concatenate(exact), np.concatenate(where)
    _, inverse, counts = np.unique(exact_keys, return_inverse=True, return_counts=True)
    return where[counts[inverse] > 1]


# Byte classes: 0 printable ASCII, 1 anything else, 2 LF.
BAD, NEWLINE = 1, 2
BYTE_CLASS = np.ones(256, dtype=np.uint8)
BYTE_CLASS[0x20:0x7F] = 0
BYTE_CLASS[LF] = NEWLINE
CHUNK = 1 << 23


def _byte_positions(buf: np.ndarray, cls: int) -> np.ndarray:
    """Positions of the bytes of one class, in chunks: whole-file temporaries would cost more than the work."""
    found = [np.flatnonzero(BYTE_CLASS[buf[lo : lo + CHUNK]] == cls) + lo for lo in range(0, len(buf), CHUNK)]
    return np.concatenate(found).astype(np.int64) if found else np.array([], dtype=np.int64)


def _uniform_lines(buf: np.ndarray):
    """The fast path for a well-formed file: every line 120 characters and the same terminator throughout.

    Checks terminators only at their expected places (O(lines)) and counts the bytes outside printable
    ASCII with plain comparisons; when that count equals the number of terminator bytes, nothing else is
    wrong with the bytes. Returns None when the file is not like that: the general scan decides then.
    """
    size = len(buf)
    outside = sum(
        int(np.count_nonzero((c < 0x20) | (c > 0x7E))) for c in (buf[lo : lo + CHUNK] for lo in range(0, size, CHUNK))
    )
    for terminator in (b"\n", b"\r\n"):
        stride = RECORD_LENGTH + len(terminator)
        n, rest = divmod(size, stride)
        if rest == RECORD_LENGTH:
            n += 1  # the last line has no terminator
        elif rest != 0 or n == 0:
            continue
        terminated = n if rest == 0 else n - 1
        if outside != terminated * len(terminator):
            continue
        if all((buf[RECORD_LENGTH + i :: stride][:terminated] == b).all() for i, b in enumerate(terminator)):
            starts = np.arange(n, dtype=np.int64) * stride
            return starts, starts + RECORD_LENGTH, np.array([], dtype=np.int64)
    return None


def _scan_lines(buf: np.ndarray):
    """The general path: find every line and every byte outside printable ASCII."""
    starts, ends = _line_bounds(buf)
    # A CR is allowed only as part of a CRLF terminator (already cut off the line).
    bad_pos = _byte_positions(buf, BAD)
    if len(bad_pos):
        line_of_bad = np.searchsorted(starts, bad_pos, side="right") - 1
        bad_lines = np.unique(line_of_bad[bad_pos < ends[line_of_bad]])
    else:
        bad_lines = np.array([], dtype=np.int64)
    return starts, ends, bad_lines


def _line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, without LF or CRLF) of every line; a final terminator is optional."""
    newlines = _byte_positions(buf, NEWLINE)
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [len(buf)])).astype(np.int64)
    if len(buf) == 0 or buf[-1] == LF:
        starts, ends = starts[:-1], ends[:-1]  # nothing after the last terminator
    has_cr = np.zeros(len(ends), dtype=bool)
    terminated = ends < len(buf)
    has_cr[terminated] = buf[np.maximum(ends[terminated] - 1, 0)] == CR
    has_cr &= ends > starts
    return starts, ends - has_cr


def _record_matrix(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """A (lines x 120) byte matrix of the records; short lines are padded with spaces (they are rejected)."""
    n = len(starts)
    if n == 0:
        return np.zeros((0, RECORD_LENGTH), dtype=np.uint8)
    stride = int(starts[1] - starts[0]) if n > 1 else RECORD_LENGTH + 1
    if (lengths == RECORD_LENGTH).all() and (np.diff(starts) == stride).all() and starts[0] == 0:
        # The common case (one line ending throughout): a zero-copy strided view.
        return np.lib.stride_tricks.as_strided(buf, shape=(n, RECORD_LENGTH), strides=(stride, 1), writeable=False)
    matrix = np.full((n, RECORD_LENGTH), ord(" "), dtype=np.uint8)
    chunk = 65536
    cols = np.arange(RECORD_LENGTH)
    for lo in range(0, n, chunk):
        s, ln = starts[lo : lo + chunk, None], lengths[lo : lo + chunk, None]
        idx = s + cols
        inside = cols < ln
        block = matrix[lo : lo + chunk]
        block[inside] = buf[idx[inside]]
    return matrix


def _column(matrix: np.ndarray, offset: int, length: int) -> np.ndarray:
    """One fixed slice of every record as a NumPy bytes array (dtype S<length>)."""
    block = np.ascontiguousarray(matrix[:, offset : offset + length])
    return block.view(f"S{length}").reshape(-1)


def _record_values(matrix: np.ndarray, row: int, rt: RecordType) -> dict[str, str]:
    line = matrix[row].tobytes().decode("ascii", errors="replace")
    return {f.name: line[f.offset : f.offset + f.length].rstrip() for f in rt.fields}


def _check_naming(file_name: str, header: dict[str, str]) -> list[Violation]:
    problems = []
    periode = PERIODE.match(header["verslagperiode"])
    if not periode or int(periode["jaar"]) < 2019:
        problems.append(f"verslagperiode {header['verslagperiode']!r} in the VL record")
    name = FILE_NAME.match(file_name)
    if not name:
        problems.append(f"file name {file_name!r} is not <vt_code>_<verslagperiode>_<leveringsnummer>.txt")
    else:
        for part in ("vt_code", "verslagperiode", "leveringsnummer"):
            if name[part] != header[part]:
                problems.append(f"{part} is {name[part]!r} in the file name but {header[part]!r} in the VL record")
    if not header["leveringsnummer"].isdigit():
        problems.append(f"leveringsnummer {header['leveringsnummer']!r} in the VL record")
    return [Violation(6, (1,), "; ".join(problems))] if problems else []


def _key_block(matrix: np.ndarray, rows: np.ndarray, rt: RecordType) -> np.ndarray:
    """The key bytes of the records at `rows` (the key fields side by side)."""
    sub = _rows(matrix, rows)
    return np.hstack([sub[:, f.offset : f.offset + f.length] for f in map(rt.field, rt.sleutel)])


def _key_hashes(keys: np.ndarray) -> np.ndarray:
    """A 64-bit FNV-style hash per row of key bytes."""
    width = -(-keys.shape[1] // 8) * 8
    words = np.zeros((len(keys), width), dtype=np.uint8)
    words[:, : keys.shape[1]] = keys
    h = np.full(len(keys), 0xCBF29CE484222325, dtype=np.uint64)
    for word in words.view(np.uint64).T:
        h = (h ^ word) * np.uint64(0x100000001B3)
    return h


def _rows(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The records at `rows`: a view when they are consecutive (the usual file), else a copy."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return matrix[rows[0] : rows[-1] + 1]
    return matrix[rows]


def _table(matrix: np.ndarray, rows: np.ndarray, rt: RecordType, first_line: int = 0) -> pa.Table:
    columns = {"regelnummer": pa.array(rows + first_line + 1, type=pa.int32())}
    sub = _rows(matrix, rows)
    for f in rt.fields:
        columns[f.name] = _string_array(sub[:, f.offset : f.offset + f.length])
    return pa.table(columns)


def _string_array(block: np.ndarray) -> pa.Array:
    """Fixed-width byte rows -> Arrow strings, without a Python object per value."""
    n, width = block.shape
    data = np.ascontiguousarray(block)
    large = (n + 1) * width >= 2**31
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int64 if large else np.int32)
    cls = pa.LargeStringArray if large else pa.StringArray
    return cls.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
