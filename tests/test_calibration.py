"""The whole chain on a population calibrated to CBS: files -> vt load -> vt build --release 2019V1 ->
vt publish, and every cell of both published 2019 tables equals the CBS table; the HTML page of that
publication rendered by a real headless browser."""

from __future__ import annotations

import csv
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from tests.conftest import run_vt




@pytest.fixture(scope="module")
def published(tmp_path_factory):
    home = tmp_path_factory.mktemp("cbs")
    inbox = home / "inbox"
    run_vt("generate", "--calibrate", "2019H1,2019H2", "--out", str(inbox), home=home)
    manifest = json.loads((inbox / "manifest.json").read_text())
    by_date: dict[str, list[str]] = {}
    for f in manifest["files"]:
        by_date.setdefault(f["ontvangen_op"], []).append(str(inbox / f["file"]))
    for received, files in sorted(by_date.items()):
        run_vt("load", "--received-at", received, *files, home=home)
    run_vt("build", "--release", "2019V1", home=home)
    out = home / "publicatie"
    run_vt("publish", "--release", "2019V1", "--out", str(out), home=home)
    return home, manifest, out



def test_calibrated_deliveries_look_real(published):
    _, manifest, _ = published
    files = manifest["files"]
    assert len({f["vt_code"] for f in files}) == 26
    assert any(f["leveringsnummer"] == 2 for f in files)  # corrections included


@pytest.mark.parametrize("periode", ["2019H1", "2019H2"])
def test_publication_equals_the_cbs_table(published, periode):
    _, _, out = published
    ref_path = Path(__file__).resolve().parents[1] / "loaders" / "data" / f"kerncijfers_{periode}_cbs.csv"
    reference = {r["vt_code"]: r for r in csv.DictReader(ref_path.open())}
    got = {r["vt_code"]: r for r in csv.DictReader((out / f"kerncijfers_{periode}.csv").open())}
    assert list(got) == list(reference)  # the 26 regions then NL, in order
    columns = list(next(iter(reference.values())))[3:]
    assert len(columns) == 12
    different = [(vt, c, reference[vt][c], got[vt][c]) for vt in reference for c in columns
                 if reference[vt][c] != got[vt][c]]
    assert different == []
    assert {r["periode"] for r in got.values()} == {periode}  # 2019V1 is definitief: no mark
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is needed (make test installs it)"
    return path


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB(A) PNG (as Chromium writes it) into rows of pixel bytes."""
    data = path.read_bytes()
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


def test_html_page_renders_offline_in_headless_chromium(published, tmp_path):
    _, _, out = published
    page = out / "publicatie_2019V1.html"
    text = page.read_text()
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text
    profile = tmp_path / "profile"
    dom = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<table>") == 4  # kerncijfers and indicators of both half-years
    assert dom.count('class="bar"') == 2 * 2 * 26
    assert "Kerncijfers per Veilig Thuis-regio, 1e halfjaar van 2019" in dom
    shot = tmp_path / "page.png"
    subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
                    "--window-size=1400,2200", page.as_uri()], capture_output=True, timeout=120)
    width, bpp, rows = png_pixels(shot)
    colours = {(0x1F, 0x6F, 0xB4): 0, (0xE0, 0x7B, 0x14): 0}
    for row in rows:
        for x in range(width):
            rgb = tuple(row[x * bpp:x * bpp + 3])
            if rgb in colours:
                colours[rgb] += 1
    # both series of bars are painted, far beyond their legend swatches
    assert all(n > 20_000 for n in colours.values()), colours
