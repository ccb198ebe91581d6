"""Receiving an uploaded delivery: the multipart body streamed straight to a private file with a size limit
(never spooled to the system's temporary folder: a delivery holds clear BSNs), then checked with the loader's
own parser and its rule 10, and put into the refresh's inbox atomically, with its reception time, only when it
is valid and of the account's own organisation. The file may have any name: the portal names it from its VL
record. What is wrong is said per line, in Dutch."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from loaders import referentie
from loaders.layout import HEADER, RECORD_LENGTH, layouts
from loaders.parse import PERIODE, DeliveryRejected, Violation, scan_delivery
from loaders.periods import FIRST_YEAR, Periode

# the parser logs each malformed body it meets: an attacker could fill the service log; a refusal says enough
logging.getLogger("python_multipart").setLevel(logging.CRITICAL)

FIELD_LIMIT = 4096
# the file rules of loaders.parse.RULES, as an organisation reads them on the portal
REGELS = {
    1: "precies één VL-record, als eerste, en precies één SL-record, als laatste",
    2: f"elk record is precies {RECORD_LENGTH} afdrukbare ASCII-tekens lang",
    3: "elk recordtype is bekend",
    4: "elk record draagt de vt_code van het VL-record",
    5: "de aantallen in het SL-record zijn de aantallen records in het bestand",
    6: "de verslagperiode is JJJJH1 of JJJJH2 vanaf 2019, en de bestandsnaam komt overeen met het VL-record",
    7: "het leveringsnummer is hoger dan dat van elke geladen levering van dezelfde organisatie en periode",
    8: "elke recordsleutel komt één keer voor per recordtype",
    9: "de versie_bestandsdefinitie van het VL-record is een bekende versie",
    10: "de afzender is een Veilig Thuis-organisatie van het jaar van de levering en de verslagperiode is begonnen",
}
FILENAME_SHOWN = 120  # characters of an uploaded file's own name kept for the page and the audit log
LINES_EXPLAINED = 20  # lines per rule said one by one on the page
MAX_BOUNDARY = 200  # bytes (RFC 2046 allows 70)
LINE_READ = 4096  # bytes of a line read to say what is wrong with it: a longer one is "more than" this


class UploadTooLarge(Exception):
    pass


class BadUpload(Exception):
    pass


@dataclass
class Received:
    fields: dict[str, str] = field(default_factory=dict)
    filename: str | None = None
    path: Path | None = None
    size: int = 0


async def receive(request, folder: Path, limit: int) -> Received:
    """Parse the multipart body of `request` as it arrives: the one file part to `folder/<random>.part`
    (owner-only), the other fields in memory (each at most FIELD_LIMIT bytes). Raises UploadTooLarge past
    `limit` bytes of file, BadUpload for a body that is not a form with one file; the part file is removed then."""
    kind, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadUpload("dit is geen formulier met een bestand")
    if len(boundary) > MAX_BOUNDARY:
        raise BadUpload("de scheidingsregel van het formulier is te lang")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    out = Received()
    state = {"header": b"", "value": b"", "headers": {}, "name": None, "file": None, "fh": None, "buf": b""}

    def on_part_begin():
        state.update(headers={}, name=None, file=None, buf=b"")

    def on_header_field(data, start, end):
        state["header"] += data[start:end]

    def on_header_value(data, start, end):
        state["value"] += data[start:end]

    def on_header_end():
        state["headers"][state["header"].lower()] = state["value"]
        state["header"], state["value"] = b"", b""

    def on_headers_finished():
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        state["name"] = disp.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disp:
            if out.path is not None:
                raise BadUpload("meer dan één bestand")
            out.filename = disp[b"filename"].decode("utf-8", "replace")[:FILENAME_SHOWN]
            out.path = folder / f".upload-{secrets.token_hex(8)}.part"
            fd = os.open(out.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            state["fh"] = os.fdopen(fd, "wb")
            state["file"] = True

    def on_part_data(data, start, end):
        chunk = data[start:end]
        if state["file"]:
            out.size += len(chunk)
            if out.size > limit:
                raise UploadTooLarge()
            state["fh"].write(chunk)
        else:
            state["buf"] += chunk
            if len(state["buf"]) > FIELD_LIMIT:
                raise BadUpload("een veld van het formulier is te lang")

    def on_part_end():
        if state["file"]:
            state["fh"].close()
            state["fh"] = None
        elif state["name"]:
            out.fields[state["name"]] = state["buf"].decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except (UploadTooLarge, BadUpload):
            raise
        except Exception:  # whatever the parser makes of a malformed body (its errors are not one class)
            raise BadUpload("het formulier is onleesbaar") from None
        if out.path is None:
            raise BadUpload("er zat geen bestand in het formulier")
    except BaseException:
        if state["fh"] is not None:
            state["fh"].close()
        if out.path is not None:
            out.path.unlink(missing_ok=True)
        raise
    return out


@dataclass
class Verdict:
    accepted: bool
    message: str
    levering_id: str | None = None
    violations: list[Violation] = field(default_factory=list)
    # per rule, its first lines with what is wrong on each: [(line, reason)]
    reasons: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    details: dict[int, str] = field(default_factory=dict)  # per rule, what is wrong with the file, in Dutch


def name_from_header(first: bytes) -> str:
    """The name a delivery has by the spec, <vt_code>_<periode>_<nnn>.txt, from its first record when that is a VL
    record; any other name breaks rule 1 or 6 anyway, and then the file is refused."""
    names = ("vt_code", "verslagperiode", "leveringsnummer")
    end = max(f.offset + f.length for f in layouts().newest.header.fields if f.name in names)
    if first[:2] == HEADER.encode() and len(first) >= end and all(0x20 <= b < 0x7F for b in first[:end]):
        values = vl_values(first)
        return "_".join(values[n] for n in names) + ".txt"
    return "levering.txt"


def vl_values(first: bytes) -> dict[str, str]:
    """The VL record's fields in a file's first line, by the layout's positions (the same in every version)."""
    text = first.rstrip(b"\r\n").decode("latin-1")
    return {f.name: text[f.offset : f.offset + f.length] for f in layouts().newest.header.fields}


def judge(
    path: Path,
    vt_code: str,
    inbox: Path,
    home: Path,
    today: date | None = None,
    organisations: dict[int, set[str]] | None = None,
) -> Verdict:
    """The loader's file rules and its rule 10 on the received file (`organisations`: the VT-regio lists), then:
    its organisation is the account's, and it is not waiting or loaded already. When accepted it is in the inbox
    as <levering>.txt (linked in, so it appears whole), with the reception time as its modification time (the
    refresh's arrival time)."""
    today = today or date.today()
    with open(path, "rb") as fh:
        name = name_from_header(fh.read(RECORD_LENGTH))
        try:
            parsed = scan_delivery(fh, name, layouts())
        except DeliveryRejected as exc:
            fh.seek(0)
            first = fh.readline(LINE_READ)
            return Verdict(
                False,
                "Afgekeurd: het bestand voldoet niet aan de bestandsdefinitie; er is niets ontvangen.",
                violations=exc.violations,
                reasons=explain_lines(path, exc.violations),
                details={v.rule: dutch_detail(v, first) for v in exc.violations},
            )
    periode = Periode.parse(parsed.verslagperiode)
    allowed = referentie.senders(organisations or {}, periode.jaar)
    problems = []
    if parsed.vt_code not in allowed:
        problems.append(f"{parsed.vt_code} is geen Veilig Thuis-organisatie van {periode.jaar}")
    if periode.start > today:
        problems.append(f"het halfjaar {periode} is op {today.isoformat()} nog niet begonnen")
    if problems:
        return Verdict(
            False,
            "Afgekeurd: het bestand voldoet niet aan de bestandsdefinitie; er is niets ontvangen.",
            violations=[Violation(10, (1,), "; ".join(problems))],
            details={10: "; ".join(problems)},
        )
    if parsed.vt_code != vt_code:
        return Verdict(
            False,
            f"Dit bestand is een levering van {parsed.vt_code}; uw account levert alleen voor "
            f"{vt_code}. Er is niets ontvangen.",
        )
    name = f"{parsed.levering_id}.txt"
    archived = (home / "archive" / parsed.verslagperiode / name).exists()
    if (inbox / name).exists() or archived:
        return Verdict(
            False,
            f"Levering {parsed.levering_id} is al ontvangen. Stuur een correctie met een hoger leveringsnummer.",
            parsed.levering_id,
        )
    highest = highest_loaded(home, parsed.vt_code, parsed.verslagperiode)
    if highest is not None and parsed.leveringsnummer <= highest:  # rule 7, as the loader would apply it
        text = (
            f"het leveringsnummer {parsed.leveringsnummer:03d} is niet hoger dan {highest:03d}, dat al is "
            "geladen; geef een correctie het volgende nummer"
        )
        return Verdict(
            False,
            "Afgekeurd: het bestand voldoet niet aan de bestandsdefinitie; er is niets ontvangen.",
            parsed.levering_id,
            violations=[Violation(7, (1,), text)],
            details={7: text},
        )
    # into the inbox's own filesystem first, then linked to its name: the refresh sees all of it or nothing
    staging = inbox / f".upload-{secrets.token_hex(8)}.part"
    shutil.copyfile(path, staging)
    os.chmod(staging, 0o600)
    now = time.time()
    os.utime(staging, (now, now))
    try:
        os.link(staging, inbox / name)
    except FileExistsError:
        return Verdict(False, f"Levering {parsed.levering_id} is al ontvangen.", parsed.levering_id)
    finally:
        staging.unlink(missing_ok=True)
    return Verdict(
        True,
        f"Ontvangen: levering {parsed.levering_id} voldoet aan de bestandsregels en staat klaar voor verwerking.",
        parsed.levering_id,
    )


def highest_loaded(home: Path, vt_code: str, verslagperiode: str) -> int | None:
    """The highest leveringsnummer of the organisation's loaded deliveries of the half-year (the archive holds
    every loaded delivery), or None."""
    folder = Path(home) / "archive" / verslagperiode
    prefix = f"{vt_code}_{verslagperiode}_"
    try:
        numbers = [
            int(p.name[len(prefix) : len(prefix) + 3])
            for p in folder.iterdir()
            if p.name.startswith(prefix) and p.name.endswith(".txt") and p.name[len(prefix) : -4].isdigit()
        ]
    except OSError:
        return None
    return max(numbers, default=None)


def dutch_detail(v: Violation, first: bytes) -> str:
    """What is wrong with the file as a whole under rule 1, 6 or 9, in Dutch (the loader says it in English for
    the operator); read from the VL record itself, as the portal named the file after it."""
    values = vl_values(first)
    if v.rule == 1:
        parts = [
            dutch
            for english, dutch in (
                ("the first record is not VL", "het eerste record is geen VL-record"),
                ("the last record is not SL", "het laatste record is geen SL-record"),
            )
            if english in v.detail
        ]
        return "; ".join(parts)
    if v.rule == 6:
        periode, nummer = values["verslagperiode"], values["leveringsnummer"]
        parts = []
        valid = PERIODE.match(periode)  # the loader's rule 6
        if not (valid and int(valid["jaar"]) >= FIRST_YEAR):
            parts.append(f"de verslagperiode '{periode.strip()}' in het VL-record is geen JJJJH1 of JJJJH2 vanaf 2019")
        if not (len(nummer) == 3 and nummer.isascii() and nummer.isdigit()):
            parts.append(f"het leveringsnummer '{nummer.strip()}' in het VL-record is geen nummer van drie cijfers")
        return "; ".join(parts)
    if v.rule == 9:
        known = ", ".join(layouts().versions)
        versie = values["versie_bestandsdefinitie"].strip()
        return f"versie_bestandsdefinitie '{versie}' is onbekend (bekend: {known})"
    return v.detail


def explain_lines(path: Path, violations: list[Violation]) -> dict[int, list[tuple[int, str]]]:
    """For the rules about single lines (2: length and bytes, 3: record type, 4: vt_code), their first
    LINES_EXPLAINED lines with what is wrong on each, in Dutch."""
    wanted = {v.rule: v.lines[:LINES_EXPLAINED] for v in violations if v.rule in (2, 3, 4) and v.lines}
    numbers = {n for lines in wanted.values() for n in lines}
    if not numbers:
        return {}
    raw = _lines(path, numbers | {1})
    first = raw.get(1, b"")
    own = first[2:6].decode("latin-1") if first[:2] == HEADER.encode() else None
    return {rule: [(n, line_reason(rule, raw.get(n, b""), own)) for n in lines] for rule, lines in wanted.items()}


def _lines(path: Path, numbers: set[int]) -> dict[int, bytes]:
    """The first LINE_READ bytes of each of these lines (1-based) with their terminator; a longer line is cut there
    (its length is then said as more than that), so no line is ever held whole."""
    out, last = {}, max(numbers)
    with open(path, "rb") as fh:
        for n in range(1, last + 1):
            line = fh.readline(LINE_READ)
            if not line:
                break
            if n in numbers:
                out[n] = line
            while not line.endswith(b"\n") and line:  # the rest of a long line, skipped
                line = fh.readline(1 << 16)
    return out


def line_reason(rule: int, line: bytes, own_vt_code: str | None) -> str:
    """What is wrong with one line, as an organisation can find it in its file."""
    cut = len(line) == LINE_READ and not line.endswith(b"\n")
    body = line[:-2] if line.endswith(b"\r\n") else line.rstrip(b"\n")
    if rule == 2:
        bad = next((i for i, b in enumerate(body) if not 0x20 <= b < 0x7F), None)
        if bad is not None:
            b = body[bad]
            what = (
                "een tab"
                if b == 9
                else "een regeleinde (CR)"
                if b == 13
                else (f"byte 0x{b:02X}" + (f" ('{bytes([b]).decode('latin-1')}' in Latin-1)" if b >= 0xA0 else ""))
            )
            return f"teken {bad + 1} is {what}, geen afdrukbaar ASCII-teken"
        if cut:
            return f"meer dan {LINE_READ} tekens in plaats van {RECORD_LENGTH}"
        return f"{len(body)} tekens in plaats van {RECORD_LENGTH}"
    if rule == 3:
        return f"recordtype '{body[:2].decode('ascii', 'replace')}' bestaat niet"
    if rule == 4:
        found = body[2:6].decode("ascii", "replace")
        return f"vt_code '{found}' in plaats van '{own_vt_code}'" if own_vt_code else f"vt_code '{found}'"
    return ""
