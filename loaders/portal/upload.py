"""Receiving an uploaded delivery: the multipart body streamed straight to a private file with a size limit
(never spooled to the system's temporary folder: a delivery holds clear BSNs), then checked with the loader's
own parser, and put into the refresh's inbox atomically, with its reception time, only when it is valid and of
the account's own organisation."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from loaders.layout import RECORD_LENGTH, layouts
from loaders.parse import DeliveryRejected, Violation, scan_delivery

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
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


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
        raise BadUpload("not a form upload")
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
                raise BadUpload("more than one file")
            out.filename = disp[b"filename"].decode("utf-8", "replace")
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
                raise BadUpload("a form field is too long")

    def on_part_end():
        if state["file"]:
            state["fh"].close()
            state["fh"] = None
        elif state["name"]:
            out.fields[state["name"]] = state["buf"].decode("utf-8", "replace")

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end})
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if out.path is None:
            raise BadUpload("no file")
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


def judge(path: Path, filename: str, vt_code: str, inbox: Path, home: Path) -> Verdict:
    """The loader's file rules on the received file, then: its organisation is the account's, and it is not
    waiting or loaded already. When accepted it is in the inbox (linked in, so it appears whole), with the
    reception time as its modification time (the refresh's arrival time)."""
    if not SAFE_NAME.match(filename) or filename in (".", ".."):
        return Verdict(False, "De bestandsnaam mag alleen letters, cijfers, punt, streepje en liggend streepje "
                              "bevatten (bijvoorbeeld VT05_2020H1_001.txt).")
    try:
        with open(path, "rb") as fh:
            parsed = scan_delivery(fh, filename, layouts())
    except DeliveryRejected as exc:
        return Verdict(False, "Afgekeurd: het bestand voldoet niet aan de bestandsdefinitie; er is niets "
                              "ontvangen.", violations=exc.violations)
    if parsed.vt_code != vt_code:
        return Verdict(False, f"Dit bestand is een levering van {parsed.vt_code}; uw account levert alleen voor "
                              f"{vt_code}. Er is niets ontvangen.")
    name = f"{parsed.levering_id}.txt"
    archived = (home / "archive" / parsed.verslagperiode / name).exists()
    if (inbox / name).exists() or archived:
        return Verdict(False, f"Levering {parsed.levering_id} is al ontvangen. Stuur een correctie met een hoger "
                              "leveringsnummer.", parsed.levering_id)
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
    return Verdict(True, f"Ontvangen: levering {parsed.levering_id} voldoet aan de bestandsregels en staat klaar "
                         "voor verwerking.", parsed.levering_id)
