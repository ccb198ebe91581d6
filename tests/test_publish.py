"""Publication: CBS rounding, suppression, symbols and period marks; counts and indicators against hand-computed
values on a small fixture; the 25-region year 2023; the workbook. (The HTML page in a real browser and the
CBS reproduction are in test_calibration.py.)"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from loaders.generate.calibrate import cbs_table, exact_targets
from loaders.publish import count_cell, pct_cell, periode_label, round5
from loaders.kalender import releases
from tests.conftest import record, run_vt, small_delivery, write_delivery


@pytest.mark.parametrize("value,expected", [(0, 0), (2, 0), (3, 5), (7, 5), (8, 10), (12, 10), (13, 15),
                                            (Decimal("2.5"), 5), (Decimal("7.5"), 10), (Decimal("12.49"), 10)])
def test_round5_halves_upward(value, expected):
    assert round5(value) == expected



def test_counts_and_suppression():
    assert [count_cell(v) for v in (0, 3, 9, 10, 4137)] == ["0", "5", "10", "10", "4135"]
    assert [count_cell(v, suppress=10) for v in (0, 3, 9, 10, 4137)] == [".", ".", ".", "10", "4135"]


def test_percentages_from_unrounded_counts():
    assert pct_cell(1, 3) == "33.3"
    assert pct_cell(1, 8) == "12.5"
    assert pct_cell(2, 3) == "66.7"
    assert pct_cell(0, 0) == "."  # no data
    assert pct_cell(5, 9, suppress=10) == "."  # denominator below the threshold
    assert pct_cell(5, 10, suppress=10) == "50.0"


def test_period_marks_follow_the_release_status():
    marks = {r.name: r.mark for r in releases(2019, 2020)}
    assert (marks["2019V1"], marks["2020V1"], marks["2020V2"], marks["2020V3"]) == ("", "*", "**", "")
    assert periode_label("2019H1", "*") == "1e halfjaar van 2019*"
    assert periode_label("2020H2", "**") == "2e halfjaar van 2020**"


def test_calibration_targets_round_to_the_cbs_cells_and_add_up():
    for periode in ("2019H1", "2019H2"):
        table = cbs_table(periode)
        targets = exact_targets(table)
        for column in table["NL"]:
            assert sum(t[column] for t in targets.values()) == table["NL"][column]
            for vt, t in targets.items():
                assert round5(t[column]) == table[vt][column], (vt, column)




def read_csv(path: Path) -> dict[str, dict[str, str]]:
    return {r["vt_code"]: r for r in csv.DictReader(path.open())}


@pytest.fixture(scope="module")
def small_release(tmp_path_factory):
    """The hand-made 2020H1 delivery of VT05, released as 2020V1 and published (rounded and unrounded)."""
    home = tmp_path_factory.mktemp("pub")
    inbox = home / "inbox"
    inbox.mkdir()
    write_delivery(inbox, small_delivery())
    run_vt("load", "--received-at", "2020-07-25", str(inbox), home=home)
    out = home / "out"
    run_vt("publish", "--release", "2020V1", "--out", str(out), "--unrounded", home=home)
    suppressed = home / "suppressed"
    run_vt("publish", "--release", "2020V1", "--out", str(suppressed), "--suppress", "2", home=home)
    return home, out, suppressed


def test_publication_files(small_release):
    _, out, _ = small_release
    assert sorted(p.name for p in out.iterdir()) == [
        "indicatoren_2020H1.csv", "kerncijfers_2020H1.csv", "kerncijfers_2020H1_onafgerond.csv", "manifest.json",
        "publicatie_2020V1.html", "tabellen_2020V1.xlsx",
    ]
    rows = list(csv.reader((out / "kerncijfers_2020H1.csv").open()))
    assert rows[0][:3] == ["periode", "vt_code", "vt_naam"] and len(rows[0]) == 15
    assert len(rows) == 1 + 26 + 1 and rows[-1][1:3] == ["NL", "Totaal"]
    assert {r[0] for r in rows[1:]} == {"2020H1*"}


def test_counts_by_hand_including_active_casussen_started_before(small_release):
    _, out, _ = small_release
    exact = read_csv(out / "kerncijfers_2020H1_onafgerond.csv")["NL"]
    # C1 started and closed in 2020H1; C2 started in December 2019 and is still open: active, not started
    assert {k: exact[k] for k in list(exact)[3:]} == {
        "gestarte_adviezen": "1", "ontvangen_meldingen": "2", "actieve_casussen": "2", "gestarte_casussen": "1",
        "gesloten_casussen": "1", "actieve_onderzoeken": "1", "gestarte_onderzoeken": "1",
        "gesloten_onderzoeken": "1", "actieve_vv": "1", "gestarte_vv": "1", "gesloten_vv": "0",
        "overdrachten": "1",
    }
    rounded = read_csv(out / "kerncijfers_2020H1.csv")["NL"]
    assert rounded["actieve_casussen"] == "0" and rounded["ontvangen_meldingen"] == "0"


def test_indicators_by_hand(small_release):
    _, out, _ = small_release
    nl = read_csv(out / "indicatoren_2020H1.csv")["NL"]
    assert {k: nl[k] for k in list(nl)[3:]} == {
        "adviezen_beroepsmatig_pct": "100.0",  # A1 rol 10
        "adviezen_kindermishandeling_pct": "100.0",  # A1 aard flag 1
        "adviezen_conflictscheiding_pct": "0.0",  # A1 aanvullende informatie all zeros: onbekend
        "meldingen_politie_justitie_pct": "50.0",  # M2 organisatie 13
        "meldingen_partnergeweld_pct": "50.0",  # M1 aard flag 2
        "meldingen_eergerelateerd_pct": "0.0",  # M2 has aanvullende flag 1, not 2
        "meldingen_overdracht_pct": "0.0",  # the one VB has inhoud 1
        "meldingen_acute_onveiligheid_pct": "0.0",  # and taxatie 2
        "onderzoeken_km_bevestigd_pct": ".",  # D2 ended with uitkomst 3 only: no KM outcome, no denominator
        "overdrachten_jeugd_pct": "100.0",  # the overdracht of closed C1 went to partij 05
    }


def test_suppression_setting(small_release):
    _, _, suppressed = small_release
    nl = read_csv(suppressed / "kerncijfers_2020H1.csv")["NL"]
    assert nl["actieve_casussen"] == "0"  # 2 is not below 2: shown, rounded
    assert nl["gestarte_adviezen"] == "."  # 1 is below 2
    assert nl["gesloten_vv"] == "."
    ind = read_csv(suppressed / "indicatoren_2020H1.csv")["NL"]
    assert ind["meldingen_politie_justitie_pct"] == "50.0"  # denominator 2
    assert ind["adviezen_beroepsmatig_pct"] == "."  # denominator 1


def test_workbook_in_cbs_style(small_release):
    _, out, _ = small_release
    wb = load_workbook(out / "tabellen_2020V1.xlsx")
    assert wb.sheetnames == ["Kerncijfers 2020H1", "Indicatoren 2020H1"]
    ws = wb["Kerncijfers 2020H1"]
    assert ws["A1"].value == "Kerncijfers per Veilig Thuis-regio, 1e halfjaar van 2020*"
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert ["Totaal", "NL"] == values[3 + 26][:2]
    texts = [v[0] for v in values if v and isinstance(v[0], str)]
    assert "Verklaring van tekens" in texts
    assert any(t.startswith("Bron: ") for t in texts)


def test_the_2023_year_has_25_regions(tmp_path):
    lines = small_delivery(vt_code="VT27", periode="2023H1")
    lines = [line.replace("20200", "20230").replace("20191201", "20221201") for line in lines]
    lines[1] = record("CA", "VT27", casusnummer="C1", startdatum="20230110", einddatum="20230501",
                      gemeentecode="0796")  # 's-Hertogenbosch: VT16 until 2022, VT27 from 2023
    lines[2] = record("CA", "VT27", casusnummer="C2", startdatum="20221201", einddatum="",
                      gemeentecode="9999")  # onbekend: the region of the delivering organisation
    write_delivery(tmp_path, lines, name="VT27_2023H1_001.txt")
    home = tmp_path / "wh"
    run_vt("load", "--received-at", "2023-07-25", str(tmp_path / "VT27_2023H1_001.txt"), home=home)
    run_vt("publish", "--release", "2023V1", "--out", str(tmp_path / "out"), "--unrounded", home=home)
    rows = read_csv(tmp_path / "out" / "kerncijfers_2023H1_onafgerond.csv")
    assert len(rows) == 26 and "VT27" in rows and not {"VT16", "VT26"} & set(rows)
    assert rows["VT27"]["vt_naam"] == "Oost-Brabant"
    assert rows["VT27"]["actieve_casussen"] == "2" and rows["NL"]["actieve_casussen"] == "2"
