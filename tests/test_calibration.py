"""The whole chain on a population calibrated to CBS: files -> vt load -> vt build --release 2019V1 ->
vt publish, and every cell of both published 2019 tables equals the CBS table; the HTML page of that
publication rendered by a real headless browser."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM_FLAGS, chromium, png_pixels, run_vt




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
