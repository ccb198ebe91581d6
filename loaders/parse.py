"""Parse and validate one delivery file: bytes and the layouts in, typed-as-text columns out. No database.

Everything is vectorised with NumPy over the whole file: the lines are found once, the records are viewed
as a (records x 120) byte matrix, and each field becomes an Arrow string column straight from a slice of
that matrix. Rules 1-6, 8 and 9 of the Bestandsdefinitie are checked here; rule 7 needs the register of
loaded deliveries and is checked by the load step. The VL record (at the same positions in every layout
version) names the version whose layout parses the rest of the file (rule 9).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from loaders.layout import HEADER, RECORD_LENGTH, TRAILER, Layout, Layouts, RecordType

LF, CR = 0x0A, 0x0D
MAX_LINES_SHOWN = 10

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

FILE_NAME = re.compile(r"^(?P<vt_code>[A-Z0-9]{4})_(?P<verslagperiode>\d{4}H[12])_(?P<leveringsnummer>\d{3})\.txt$")
PERIODE = re.compile(r"^(?P<jaar>\d{4})H[12]$")


def shown(name: str) -> str:
    """A file name as it may be printed or logged: control and non-ASCII characters escaped, so a name
    cannot forge lines or hide what it is."""
    return name if name.isascii() and name.isprintable() else ascii(name)[1:-1]


@dataclass(frozen=True)
class Violation:
    rule: int
    lines: tuple[int, ...] = ()  # 1-based, sorted
    detail: str = ""

    def describe(self) -> str:
        text = f"rule {self.rule} ({RULES[self.rule]})"
        if self.detail:
            text += f": {self.detail}"
        if self.lines:
            shown = ", ".join(str(n) for n in self.lines[:MAX_LINES_SHOWN])
            more = ", ..." if len(self.lines) > MAX_LINES_SHOWN else ""
            noun = "line" if len(self.lines) == 1 else "lines"
            text += f"; {noun} {shown}{more} ({len(self.lines)} {noun})"
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
    # record type code -> table with `regelnummer` and every layout field as delivered (untrimmed text)
    tables: dict[str, pa.Table] = field(default_factory=dict)

    @property
    def levering_id(self) -> str:
        return f"{self.vt_code}_{self.verslagperiode}_{self.leveringsnummer:03d}"

    @property
    def counts(self) -> dict[str, int]:
        return {code: t.num_rows for code, t in self.tables.items()}


def parse_file(path: Path, layout: Layout | Layouts) -> ParsedDelivery:
    return parse_delivery(Path(path).read_bytes(), Path(path).name, layout)


def parse_delivery(data: bytes, file_name: str, layout: Layout | Layouts) -> ParsedDelivery:
    """Validate rules 1-6, 8 and 9 and split the records into one table per record type, by the layout of the
    file's version (one Layout given: the only version known).

    Raises DeliveryRejected with every violated rule and its line numbers.
    """
    versions = layout if isinstance(layout, Layouts) else Layouts({layout.versie: layout})
    layout = versions.newest  # until the VL record says which version the file has
    buf = np.frombuffer(data, dtype=np.uint8)
    starts, ends, bad_lines = _uniform_lines(buf) or _scan_lines(buf)
    lengths = ends - starts
    n = len(starts)
    violations: list[Violation] = []

    # Rule 2: length and bytes.
    malformed = lengths != RECORD_LENGTH
    malformed[bad_lines] = True
    if malformed.any():
        violations.append(Violation(2, _line_numbers(malformed)))

    matrix = _record_matrix(buf, starts, lengths)
    types = _column(matrix, 0, 2)
    wellformed = ~malformed

    # Rule 1: VL first and only there, SL last and only there.
    misplaced = np.zeros(n, dtype=bool)
    is_vl, is_sl = types == HEADER.encode(), types == TRAILER.encode()
    if n:
        misplaced |= is_vl & (np.arange(n) != 0)
        misplaced |= is_sl & (np.arange(n) != n - 1)
    detail = []
    if n == 0 or not is_vl[0]:
        detail.append("the first record is not VL")
    if n == 0 or not is_sl[-1]:
        detail.append("the last record is not SL")
    if misplaced.any() or detail:
        violations.append(Violation(1, _line_numbers(misplaced), "; ".join(detail)))
    if n == 0:
        raise DeliveryRejected(file_name, violations)

    # Rule 9: the layout version; the VL record has the same positions in every version.
    header = _record_values(matrix, 0, layout.header) if is_vl[0] and wellformed[0] else None
    layout_known = True
    if header is not None:
        chosen = versions.get(header["versie_bestandsdefinitie"])
        if chosen is None:
            layout_known = False
            violations.append(Violation(9, (1,), f"version {header['versie_bestandsdefinitie']!r} is not known "
                                                  f"(known: {', '.join(versions.versions)})"))
        else:
            layout = chosen

    # Rule 3: known record types.
    known = np.isin(types, [code.encode() for code in layout.record_types])
    unknown = ~known & wellformed
    if unknown.any() and layout_known:
        violations.append(Violation(3, _line_numbers(unknown)))

    # Rule 4: every record carries the VL's vt_code.
    if header is not None:
        vt_field = layout.header.field("vt_code")
        vt_codes = _column(matrix, vt_field.offset, vt_field.length)
        wrong_vt = (vt_codes != vt_codes[0]) & wellformed & known
        if wrong_vt.any():
            violations.append(Violation(4, _line_numbers(wrong_vt)))

    # Rule 6: verslagperiode and file name.
    if header is not None:
        violations += _check_naming(file_name, header)

    # Rule 8: record keys unique per record type.
    rows_by_type = {rt.code: np.flatnonzero((types == rt.code.encode()) & wellformed) for rt in layout.data_types}
    duplicates = np.zeros(n, dtype=bool)
    for rt in layout.data_types:
        duplicates[_duplicate_rows(matrix, rows_by_type[rt.code], rt)] = True
    if duplicates.any() and layout_known:
        violations.append(Violation(8, _line_numbers(duplicates)))

    # Rule 5: SL counts (in the version's SL record).
    if is_sl[-1] and wellformed[-1] and layout_known:
        trailer = _record_values(matrix, n - 1, layout.trailer)
        wrong = []
        for rt in layout.data_types:
            declared = trailer[layout.count_field(rt.code).name]
            actual = int(np.count_nonzero(types == rt.code.encode()))
            if not declared.isdigit() or int(declared) != actual:
                wrong.append(f"{rt.code} declared {declared.strip() or 'blank'}, found {actual}")
        if wrong:
            violations.append(Violation(5, (n,), "; ".join(wrong)))

    if violations:
        raise DeliveryRejected(file_name, violations)

    tables = {rt.code: _table(matrix, rows_by_type[rt.code], rt) for rt in layout.data_types}
    return ParsedDelivery(
        file_name=file_name,
        vt_code=header["vt_code"],
        verslagperiode=header["verslagperiode"],
        leveringsnummer=int(header["leveringsnummer"]),
        aanmaakdatum=header["aanmaakdatum"],
        versie_bestandsdefinitie=header["versie_bestandsdefinitie"],
        tables=tables,
    )


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
    if (
        (lengths == RECORD_LENGTH).all()
        and (np.diff(starts) == stride).all()
        and starts[0] == 0
    ):
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


def _duplicate_rows(matrix: np.ndarray, rows: np.ndarray, rt: RecordType) -> np.ndarray:
    """Rows whose record key occurs more than once: a 64-bit hash of the key finds the candidates, an
    exact comparison of the key bytes decides (a hash collision is not a duplicate)."""
    if len(rows) < 2:
        return np.array([], dtype=np.int64)
    sub = _rows(matrix, rows)
    keys = np.hstack([sub[:, f.offset : f.offset + f.length] for f in map(rt.field, rt.sleutel)])
    width = -(-keys.shape[1] // 8) * 8
    words = np.zeros((len(rows), width), dtype=np.uint8)
    words[:, : keys.shape[1]] = keys
    h = np.full(len(rows), 0xCBF29CE484222325, dtype=np.uint64)
    for word in words.view(np.uint64).T:
        h = (h ^ word) * np.uint64(0x100000001B3)
    _, inverse, counts = np.unique(h, return_inverse=True, return_counts=True)
    candidates = np.flatnonzero(counts[inverse] > 1)
    if len(candidates) == 0:
        return np.array([], dtype=np.int64)
    exact = np.ascontiguousarray(keys[candidates]).view(np.dtype((np.void, keys.shape[1]))).reshape(-1)
    _, inverse, counts = np.unique(exact, return_inverse=True, return_counts=True)
    return rows[candidates[counts[inverse] > 1]]


def _rows(matrix: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The records at `rows`: a view when they are consecutive (the usual file), else a copy."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return matrix[rows[0] : rows[-1] + 1]
    return matrix[rows]


def _table(matrix: np.ndarray, rows: np.ndarray, rt: RecordType) -> pa.Table:
    columns = {"regelnummer": pa.array(rows + 1, type=pa.int32())}
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


def _line_numbers(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) + 1 for i in np.flatnonzero(mask))
