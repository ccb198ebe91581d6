"""The whole chain on a population calibrated to CBS: files -> vt load -> vt build --release 2019V1 ->
vt publish, and every cell of both published 2019 tables equals the CBS table; the HTML page of that
publication rendered by a real headless browser."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CHROMIUM_FLAGS, chromium, png_pixels, run_vt
from tests.states import shared_state
from vt_warehouse.publish.measures import KERNCIJFERS


@pytest.fixture(scope="session")
def published(request):
    def build(home: Path):
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

    return shared_state(request, "calibrated-2019", build)


@pytest.mark.slow(seconds=55)
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
    frame = pd.read_csv(out / "cijfers_2019V1.csv")
    frame = frame[(frame.periode == periode) & (frame.eenheid == "aantal")]
    assert list(dict.fromkeys(frame.vt_code)) == list(reference)  # the 26 regions then NL, in order
    columns = list(next(iter(reference.values())))[3:]
    assert list(dict.fromkeys(frame.maat)) == columns
    got = {(r.vt_code, r.maat): int(r.waarde) for r in frame.itertuples()}
    different = [
        (vt, c, reference[vt][c], got[(vt, c)])
        for vt in reference
        for c in columns
        if int(reference[vt][c]) != got[(vt, c)]
    ]
    assert different == []
    assert set(frame.status) == {"definitief"} and set(frame.bron) == {"2019V1"}  # 2019V1 is definitief: no mark


def test_html_page_renders_offline_in_headless_chromium_with_readable_charts(published, tmp_path):
    """What a reader sees, asserted on the DOM Chromium built and on its screenshot: Dutch headers, spaces
    between thousands, bars with their value and an axis, the series with a line chart per kerncijfer for
    Nederland and the chosen region, and the Toelichting."""
    _, _, out = published
    page = out / "publicatie_2019V1.html"
    text = page.read_text()
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text and "<link" not in text and "<img" not in text
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert "<h1>Beleidsinformatie Veilig Thuis, 2019</h1>" in dom  # not "release 2019V1"
    assert dom.count('<table class="regio">') == 4  # kerncijfers and indicators of both half-years
    assert dom.count('<table class="reeks"') == 2  # the series of Nederland and of the chosen region
    assert '<th scope="col">Actieve diensten Voorwaarden en Vervolg, waarvan gestart</th>' in dom
    reference = {
        r["vt_code"]: r
        for r in csv.DictReader(
            (Path(__file__).resolve().parents[1] / "loaders" / "data" / "kerncijfers_2019H1_cbs.csv").open()
        )
    }
    nl = reference["NL"]["gestarte_adviezen"]
    assert f"<td>{int(nl) // 1000} {nl[-3:]}</td>" in dom  # "53 080": a space between thousands
    # every bar has its value written beside it, and both bar charts per half-year have an axis with values
    bars = re.findall(r'<rect class="bar" data-region="(VT\d\d)" data-value="(\d+)"', dom)
    assert len(bars) == 2 * 2 * 26
    values = re.findall(r'<text class="value" [^>]*data-region="(VT\d\d)"[^>]*>([^<]+)</text>', dom)
    assert [(vt, v.replace(" ", "")) for vt, v in values] == bars
    assert dom.count('class="tick"') >= 4 * 5 + len(KERNCIJFERS) * 2 * 4
    assert dom.count("<figcaption>Figuur ") == 4 + len(KERNCIJFERS)
    # the series: per kerncijfer a line for Nederland and one for VT01 (the default region), a point per half-year
    assert dom.count('<svg class="chart line"') == len(KERNCIJFERS) * 2
    points = re.findall(r'<circle class="punt" data-periode="([^"]+)" data-value="(\d+)"', dom)
    assert len(points) == len(KERNCIJFERS) * 2 * 2 and {p for p, _ in points} == {"1e hj 2019", "2e hj 2019"}
    assert "<h3>VT01 Amsterdam-Amstelland</h3>" in dom
    for heading in (
        "Verklaring van tekens",
        "Begrippen",
        "Afronding en geheimhouding",
        "Voetnoten",
        "Volledigheid",
        "Bronnen",
    ):
        assert f"<h3>{heading}</h3>" in dom
    assert (
        "<dt>x</dt><dd>geheim" in dom
        and "<dt>–</dt><dd>nihil</dd>" in dom
        and "<dt>.</dt><dd>gegevens ontbreken" in dom
    )
    shot = tmp_path / "page.png"
    subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1400,2200",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    width, bpp, rows = png_pixels(shot)
    colours = {(0x1F, 0x6F, 0xB4): 0, (0xE0, 0x7B, 0x14): 0}
    for row in rows:
        for x in range(width):
            rgb = tuple(row[x * bpp : x * bpp + 3])
            if rgb in colours:
                colours[rgb] += 1
    # both bar charts of the first half-year are painted (they are in the first 2200 pixels)
    assert all(n > 20_000 for n in colours.values()), colours
