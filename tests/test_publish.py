"""Publication: CBS rounding, suppression (primary and secondary, and an attacker that tries to undo it),
symbols and period marks; which release each half-year of a series comes from; region changes; counts and
indicators against hand-computed values on a small fixture, in tidy CSV read by pandas and Polars; the
workbook as a tabellenbijlage; the 25-region year 2023. (The page in a real browser, the CBS reproduction and
the series over five years are in test_calibration.py and test_refresh.py.)"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
import yaml
from openpyxl import load_workbook

from tests.conftest import cells_per_period, national_inbox, record, run_vt, small_delivery, write_delivery
from tests.states import private_copy, shared_state
from vt_warehouse.generate.calibrate import cbs_table, exact_targets
from vt_warehouse.kalender import get_release, releases
from vt_warehouse.publish import INDICATOREN, KERNCIJFERS, count_cel, pct_cel, periode_label, round5, suppressed
from vt_warehouse.publish.cells import GEHEIM, NIHIL, ONTBREEKT, TOTAAL, Cel, secondary
from vt_warehouse.publish.sources import CBS, Halfjaar, region_notes, series_sources
from vt_warehouse.publish.tidy import HEADER

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "value,expected",
    [
        (0, 0),
        (2, 0),
        (3, 5),
        (7, 5),
        (8, 10),
        (12, 10),
        (13, 15),
        (Decimal("2.5"), 5),
        (Decimal("7.5"), 10),
        (Decimal("12.49"), 10),
    ],
)
def test_round5_halves_upward(value, expected):
    assert round5(value) == expected


def test_cells_carry_the_cbs_symbols():
    assert [count_cel(v) for v in (0, 2, 3, 4137)] == [Cel(0, NIHIL), Cel(0), Cel(5), Cel(4135)]
    assert count_cel(None) == Cel(None, ONTBREEKT) and count_cel(3, hidden=True) == Cel(None, GEHEIM)
    assert count_cel(0, nihil=False) == Cel(0)  # a published CBS 0 may be 1 or 2: not nihil
    assert [c.text(" ", ",") for c in (Cel(54530), Cel(0, NIHIL), Cel(None, GEHEIM), Cel(Decimal("49.1")))] == [
        "54 530",
        "–",
        "x",
        "49,1",
    ]
    assert pct_cel((1, 3)) == Cel(Decimal("33.3")) and pct_cel((1, 8)) == Cel(Decimal("12.5"))
    assert pct_cel((0, 0)) == Cel(None, ONTBREEKT)  # no denominator: no data
    assert pct_cel((5, 9), hidden=True) == Cel(None, GEHEIM)
    # an average (factor 1, e.g. days per casus): the same rounding, one decimal half up
    assert pct_cel((1001, 20), factor=1) == Cel(Decimal("50.1")) and pct_cel((5, 2), factor=1) == Cel(Decimal("2.5"))


def test_every_measure_has_a_unit_of_the_registry():
    from vt_warehouse.publish.measures import eenheden, maten

    units = eenheden()
    assert {m.eenheid for m in maten()} <= set(units)
    assert all((m.factor == units[m.eenheid].factor) or m.is_count for m in maten())
    assert [m.naam for m in maten() if m.is_count] == KERNCIJFERS  # every kerncijfer a count, every indicator not


def test_primary_suppression_below_the_threshold():
    column = {"VT01": 0, "VT02": 3, "VT03": 9, "VT04": 10, "VT05": 4137, TOTAAL: 4159}
    assert suppressed(column, 0) == set()
    assert suppressed(column, 10) == {"VT01", "VT02", "VT03"}  # three hidden: none follows from the total


def recover(values: dict[str, int], hidden: set[str]) -> dict[str, int]:
    """What an attacker computes from a published column: a single hidden cell is the total minus the rest."""
    unknown = [k for k in values if k in hidden]
    if len(unknown) == 1 and unknown[0] != TOTAAL:
        return {unknown[0]: values[TOTAAL] - sum(v for k, v in values.items() if k not in hidden and k != TOTAAL)}
    return {}


def test_secondary_suppression_leaves_nothing_to_recover_from_the_total():
    column = {"VT01": 4, "VT02": 250, "VT03": 40, "VT04": 1200, TOTAAL: 1494}
    primary = {k for k, v in column.items() if v < 10}
    assert recover(column, primary) == {"VT01": 4}  # primary suppression alone gives the cell away
    hidden = suppressed(column, 10)
    assert hidden == {"VT01", "VT03"}  # the smallest other region
    assert recover(column, hidden) == {}
    # the general rule: until no constraint has exactly one hidden cell, over overlapping constraints
    values = {"T": 30, "A": 3, "B": 12, "C": 15, "U": 27, "D": 15}
    hidden = secondary(values, [("T", ["A", "B", "C"]), ("U", ["B", "D"])], {"A"})
    assert hidden == {"A", "B", "D"}


def test_a_hidden_denominator_hides_the_percentages_that_would_give_it_away(tmp_path):
    h = Halfjaar("2020H1", "voorlopig", "2020V1", [("VT01", "A"), ("VT02", "B"), ("VT03", "C"), (TOTAAL, "Totaal")])
    for m in KERNCIJFERS:
        h.aantallen.update({("VT01", m): 4, ("VT02", m): 300, ("VT03", m): 50, (TOTAAL, m): 354})
    for i in INDICATOREN:
        h.indicatoren.update(
            {("VT01", i): (2, 4), ("VT02", i): (30, 300), ("VT03", i): (5, 50), (TOTAAL, i): (37, 354)}
        )
    cells = h.cellen(suppress=10)
    assert [cells[(vt, "gestarte_adviezen")] for vt in ("VT01", "VT02", "VT03", TOTAAL)] == [
        Cel(None, GEHEIM),
        Cel(300),
        Cel(None, GEHEIM),
        Cel(355),
    ]
    assert [cells[(vt, "adviezen_beroepsmatig_pct")] for vt in ("VT01", "VT02", "VT03", TOTAAL)] == [
        Cel(None, GEHEIM),
        Cel(Decimal("10.0")),
        Cel(None, GEHEIM),
        Cel(Decimal("10.5")),
    ]


def test_period_marks_follow_the_release_status():
    marks = {r.name: r.mark for r in releases(2019, 2020)}
    assert (marks["2019V1"], marks["2020V1"], marks["2020V2"], marks["2020V3"]) == ("", "*", "**", "")
    assert periode_label("2019H1", "*") == "1e halfjaar van 2019*"
    assert periode_label("2020H2", "**") == "2e halfjaar van 2020**"


def test_each_half_year_of_a_series_from_the_latest_release_frozen_by_the_calendar():
    def sources(name: str, frozen: set[str]) -> list[tuple[str, str | None]]:
        return [(b.periode, b.release.name if b.release else None) for b in series_sources(get_release(name), frozen)]

    assert sources("2020V1", set()) == [("2019H1", None), ("2019H2", None), ("2020H1", "2020V1")]
    frozen = {"2019V1", "2020V1", "2020V2", "2020V3", "2021V1"}
    assert sources("2021V1", frozen) == [
        ("2019H1", "2019V1"),
        ("2019H2", "2019V1"),
        ("2020H1", "2020V2"),
        ("2020H2", "2020V2"),
        ("2021H1", "2021V1"),
    ]  # 2020V3 comes later
    assert sources("2020V3", frozen) == [
        ("2019H1", "2019V1"),
        ("2019H2", "2019V1"),
        ("2020H1", "2020V3"),
        ("2020H2", "2020V3"),
    ]
    assert sources("2021V2", frozen - {"2020V3"})[2:4] == [("2020H1", "2020V2"), ("2020H2", "2020V2")]
    assert sources("2021V2", frozen)[2:4] == [("2020H1", "2020V3"), ("2020H2", "2020V3")]


def test_a_region_that_changed_is_named_never_joined():
    def table(periode: str, regions: list[tuple[str, str]], bron: str = "2023V1") -> Halfjaar:
        return Halfjaar(periode, "voorlopig", bron, [*regions, (TOTAAL, "Totaal")])

    old = [("VT15", "Noord-Brabant Midden"), ("VT16", "Brabant Noordoost"), ("VT26", "Zuidoost-Brabant")]
    new = [("VT15", "Midden-Brabant"), ("VT27", "Oost-Brabant")]
    notes = region_notes(
        [table("2019H1", [("VT15", "Midden-Brabant"), *old[1:]], CBS), table("2022H2", old), table("2023H1", new)]
    )
    assert notes == {
        "VT16": "VT16 Brabant Noordoost: bestaat tot en met het 2e halfjaar van 2022; in het halfjaar daarna begon "
        "VT27 Oost-Brabant; latere halfjaren blijven leeg.",
        "VT26": "VT26 Zuidoost-Brabant: bestaat tot en met het 2e halfjaar van 2022; in het halfjaar daarna begon "
        "VT27 Oost-Brabant; latere halfjaren blijven leeg.",
        "VT27": "VT27 Oost-Brabant: bestaat vanaf het 1e halfjaar van 2023, toen VT16 Brabant Noordoost en VT26 "
        "Zuidoost-Brabant verdwenen; eerdere halfjaren zijn niet vergelijkbaar en blijven leeg.",
        # (CBS spells VT15 otherwise in 2019: a spelling is not a change)
        "VT15": "VT15 Midden-Brabant: heet vanaf het 1e halfjaar van 2023 Midden-Brabant (eerder Noord-Brabant "
        "Midden).",
    }


def test_calibration_targets_round_to_the_cbs_cells_and_add_up():
    for periode in ("2019H1", "2019H2"):
        table = cbs_table(periode)
        targets = exact_targets(table)
        for column in table["NL"]:
            assert sum(t[column] for t in targets.values()) == table["NL"][column]
            for vt, t in targets.items():
                assert round5(t[column]) == table[vt][column], (vt, column)


def test_the_measures_have_one_home_that_the_marts_follow():
    models = yaml.safe_load((ROOT / "models/marts/publicatie/_publicatie__models.yml").read_text())["models"]
    kern = next(m for m in models if m["name"] == "kerncijfers")
    assert [c["name"] for c in kern["columns"]][:4] == ["verslagperiode", "vt_code", "vt_naam", "volledig"]
    assert [c["name"] for c in kern["columns"]][4:] == KERNCIJFERS
    assert [c["name"] for c in next(m for m in models if m["name"] == "indicatoren")["columns"]][:3] == [
        "verslagperiode",
        "vt_code",
        "indicator",
    ]


@pytest.fixture(scope="session")
def small_release(request):
    """The hand-made 2020H1 delivery of VT05 and an empty one of every other organisation (all delivered: the
    counts are complete), released as 2020V1 and published (rounded and unrounded)."""

    def build(home: Path):
        inbox = national_inbox(home / "inbox")
        run_vt("load", "--received-at", "2020-07-25", str(inbox), home=home)
        run_vt("release", "2020V1", home=home)  # frozen once: every publication below reads its frozen files
        out = home / "out"
        run_vt("publish", "--release", "2020V1", "--out", str(out), "--unrounded", "--regio", "VT05", home=home)
        suppressed_out = home / "suppressed"
        run_vt(
            "publish",
            "--release",
            "2020V1",
            "--out",
            str(suppressed_out),
            "--suppress",
            "2",
            "--bron",
            "Bron: CBS/VT, release {release}.",
            home=home,
        )
        return home, out, suppressed_out

    return shared_state(request, "small-release", build)


def cells(path: Path, periode: str = "2020H1", vt: str = TOTAAL) -> dict[str, tuple]:
    """maat -> (waarde, symbool) of one region and half-year, as pandas reads them: an empty value is NaN (here
    None) and an empty symbol NaN (here "")."""
    frame = pd.read_csv(path)
    rows = frame[(frame.periode == periode) & (frame.vt_code == vt)]
    return {
        r.maat: (None if pd.isna(r.waarde) else r.waarde, r.symbool if isinstance(r.symbool, str) else "")
        for r in rows.itertuples()
    }


def test_publication_files_and_tidy_csv_that_pandas_and_polars_read_as_is(small_release):
    _, out, _ = small_release
    assert sorted(p.name for p in out.iterdir()) == [
        "cijfers_2020V1.csv",
        "cijfers_2020V1.csv-metadata.json",
        "cijfers_2020V1_onafgerond.csv",
        "cijfers_2020V1_onafgerond.csv-metadata.json",
        "manifest.json",
        "publicatie_2020V1.html",
        "tabellen_2020V1.xlsx",
        "tijdreeks_2020V1.csv",
        "tijdreeks_2020V1.csv-metadata.json",
    ]
    frame = pd.read_csv(out / "cijfers_2020V1.csv", keep_default_na=True)
    assert list(frame.columns) == HEADER
    assert str(frame.waarde.dtype) == "float64" and len(frame) == cells_per_period(2020)
    assert set(frame.periode) == {"2020H1"} and set(frame.status) == {"voorlopig"} and set(frame.bron) == {"2020V1"}
    assert set(frame.symbool.dropna()) == {NIHIL, ONTBREEKT}  # no "2020H1*" or "." in a value column
    polars = pl.read_csv(out / "tijdreeks_2020V1.csv")
    assert polars.schema["waarde"] == pl.Float64
    # the series: 2019 from the CBS tables (no indicators), then the release's half-year
    by_period = polars.group_by("periode", "bron", "status").len().sort("periode").rows()
    assert by_period == [
        ("2019H1", CBS, "voorlopig", cells_per_period(2019)),
        ("2019H2", CBS, "voorlopig", cells_per_period(2019)),
        ("2020H1", "2020V1", "voorlopig", cells_per_period(2020)),
    ]
    nl_2019 = cells(out / "tijdreeks_2020V1.csv", "2019H1")
    assert nl_2019["gestarte_adviezen"] == (53080, "") and nl_2019["adviezen_beroepsmatig_pct"] == (None, ONTBREEKT)


def test_counts_by_hand_including_active_casussen_started_before(small_release):
    _, out, _ = small_release
    exact = {k: v for k, (v, _) in cells(out / "cijfers_2020V1_onafgerond.csv").items() if k in KERNCIJFERS}
    # C1 started and closed in 2020H1; C2 started in December 2019 and is still open: active, not started
    assert exact == {
        "gestarte_adviezen": 1,
        "ontvangen_meldingen": 2,
        "actieve_casussen": 2,
        "gestarte_casussen": 1,
        "gesloten_casussen": 1,
        "actieve_onderzoeken": 1,
        "gestarte_onderzoeken": 1,
        "gesloten_onderzoeken": 1,
        "actieve_vv": 1,
        "gestarte_vv": 1,
        "gesloten_vv": 0,
        "overdrachten": 1,
    }
    rounded = cells(out / "cijfers_2020V1.csv")
    assert rounded["actieve_casussen"] == (0, "")  # 2, rounded: less than half the unit
    assert rounded["gesloten_vv"] == (0, NIHIL)  # an exact zero is nihil


def test_indicators_by_hand(small_release):
    _, out, _ = small_release
    nl = cells(out / "cijfers_2020V1.csv")
    assert {k: nl[k][0] for k in INDICATOREN if k != "onderzoeken_km_bevestigd_pct"} == {
        "adviezen_beroepsmatig_pct": 100.0,  # A1 rol 10
        "adviezen_kindermishandeling_pct": 100.0,  # A1 aard flag 1
        "adviezen_conflictscheiding_pct": 0.0,  # A1 aanvullende informatie all zeros: onbekend
        "meldingen_politie_justitie_pct": 50.0,  # M2 organisatie 13
        "meldingen_partnergeweld_pct": 50.0,  # M1 aard flag 2
        "meldingen_eergerelateerd_pct": 0.0,  # M2 has aanvullende flag 1, not 2
        "meldingen_overdracht_pct": 0.0,  # the one VB has inhoud 1
        "meldingen_acute_onveiligheid_pct": 0.0,  # and taxatie 2
        "overdrachten_jeugd_pct": 100.0,  # the overdracht of closed C1 went to partij 05
    }
    # D2 ended with uitkomst 3 only: no KM outcome, no denominator, no data
    assert nl["onderzoeken_km_bevestigd_pct"] == (None, ONTBREEKT)


def test_suppression_setting(small_release):
    _, _, out = small_release
    nl = cells(out / "cijfers_2020V1.csv")
    assert nl["actieve_casussen"] == (0, "")  # 2 is not below 2: shown, rounded
    assert nl["gestarte_adviezen"] == (None, GEHEIM)  # 1 is below 2
    assert nl["meldingen_politie_justitie_pct"] == (50.0, "")  # denominator 2
    assert nl["adviezen_beroepsmatig_pct"] == (None, GEHEIM)  # denominator 1
    # no column of the published table lets a hidden region be recovered from the total: the attacker's try
    frame = pd.read_csv(out / "cijfers_2020V1.csv")
    exact = pd.read_csv(small_release[1] / "cijfers_2020V1_onafgerond.csv")
    for maat in KERNCIJFERS:
        column = frame[frame.maat == maat]
        hidden = set(column[column.symbool == GEHEIM].vt_code)
        values = {r.vt_code: int(r.waarde) for r in exact[exact.maat == maat].itertuples()}
        assert recover(values, hidden) == {}, maat
    # VT05 (Arnhem's C1) and VT14 (Apeldoorn's C2) each have 1 active casus: below 2, both hidden, the total not
    active = frame[frame.maat == "actieve_casussen"].set_index("vt_code")
    assert list(exact[(exact.maat == "actieve_casussen") & (exact.waarde > 0)].vt_code) == ["VT05", "VT14", TOTAAL]
    assert active.loc["VT05", "symbool"] == GEHEIM and active.loc["VT14", "symbool"] == GEHEIM
    assert active.loc[TOTAAL, "waarde"] == 0 and pd.isna(active.loc[TOTAAL, "symbool"])
    page = (out / "publicatie_2020V1.html").read_text()
    assert page.count("Bron: CBS/VT, release 2020V1.") >= 3  # the configured source line under every table
    assert "Een aantal kleiner dan 2 is geheim (x)" in page


def test_workbook_like_a_tabellenbijlage(small_release):
    _, out, _ = small_release
    wb = load_workbook(out / "tabellen_2020V1.xlsx")
    assert wb.sheetnames == ["Inhoud", "Toelichting", "Kerncijfers 2020H1", "Indicatoren 2020H1", "Tijdreeks"]
    contents = [[c.value for c in row] for row in wb["Inhoud"].iter_rows()]
    assert contents[0][0] == "Beleidsinformatie Veilig Thuis, 1e halfjaar van 2020*"
    assert [r[0] for r in contents[4:8]] == wb.sheetnames[1:]
    assert wb["Inhoud"]["A6"].hyperlink.target == "#'Kerncijfers 2020H1'!A1"
    ws = wb["Kerncijfers 2020H1"]
    assert ws["A1"].value == "Kerncijfers per Veilig Thuis-regio, 1e halfjaar van 2020*"
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[2][:5] == [
        "Veilig Thuis-regio",
        "Code",
        "Gestarte adviezen",
        "Ontvangen meldingen",
        "Actieve casussen",
    ]
    assert (
        values[2][7] == "Actieve diensten Onderzoek"
        and values[2][12] == "Actieve diensten Voorwaarden en Vervolg, waarvan afgesloten"
    )
    assert values[3 + 26][:2] == ["Nederland", "NL"] and values[3 + 26][12:] == [
        NIHIL,
        0,
    ]  # gesloten_vv 0, overdrachten 1
    assert ws.freeze_panes == "C4" and ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.cell(4 + 26, 5).number_format == "#,##0" and ws.column_dimensions["A"].width == 30
    texts = [v[0] for v in values if v and isinstance(v[0], str)]
    assert "Bron: Beleidsinformatie Veilig Thuis, microdata release 2020V1." in texts
    assert any(t.startswith("Verklaring van tekens: x geheim") for t in texts)
    assert any(t.startswith("¹ Overdrachten worden per persoon geteld") for t in texts)
    ind = wb["Indicatoren 2020H1"]
    assert ind.cell(4 + 26, 3).value == 100.0 and ind.cell(4 + 26, 3).number_format == "0.0"
    toelichting = [r[0] for r in wb["Toelichting"].iter_rows(values_only=True)]
    assert "Begrippen" in toelichting and "Verklaring van tekens" in toelichting
    assert any(t and t.startswith("Actieve casussen: Casussen die op enig moment") for t in toelichting)
    reeks = [[c.value for c in row] for row in wb["Tijdreeks"].iter_rows()]
    # the change of source between 2019 (CBS tables) and 2020 (microdata) is a trendbreuk, marked and explained
    assert reeks[2][:6] == ["Veilig Thuis-regio", "Code", "Onderwerp", "1e hj 2019*", "2e hj 2019*", "1e hj 2020* ²"]
    assert reeks[3][:4] == ["Nederland", "NL", "Gestarte adviezen", 53080]
    assert any(
        r[0] and r[0].startswith("² Trendbreuk tussen het 2e halfjaar van 2019 en het 1e halfjaar van 2020")
        for r in reeks
    )
    assert (
        "Voor elk halfjaar in deze publicatie hebben alle Veilig Thuis-organisaties gegevens geleverd." in toelichting
    )


def test_the_2023_year_has_25_regions(tmp_path):
    lines = small_delivery(vt_code="VT27", periode="2023H1")
    lines = [line.replace("20200", "20230").replace("20191201", "20221201") for line in lines]
    lines[1] = record(
        "CA", "VT27", casusnummer="C1", startdatum="20230110", einddatum="20230501", gemeentecode="0796"
    )  # 's-Hertogenbosch: VT16 until 2022, VT27 from 2023
    lines[2] = record(
        "CA", "VT27", casusnummer="C2", startdatum="20221201", einddatum="", gemeentecode="9999"
    )  # onbekend: the region of the delivering organisation
    write_delivery(tmp_path, lines, name="VT27_2023H1_001.txt")
    home = tmp_path / "wh"
    run_vt("load", "--received-at", "2023-07-25", str(tmp_path / "VT27_2023H1_001.txt"), home=home)
    run_vt("publish", "--release", "2023V1", "--out", str(tmp_path / "out"), "--unrounded", home=home)
    frame = pd.read_csv(tmp_path / "out" / "cijfers_2023V1_onafgerond.csv")
    regions = list(dict.fromkeys(frame.vt_code))
    assert len(regions) == 26 and "VT27" in regions and not {"VT16", "VT26"} & set(regions)
    assert set(frame[frame.vt_code == "VT27"].vt_naam) == {"Oost-Brabant"}
    assert cells(tmp_path / "out" / "cijfers_2023V1_onafgerond.csv", "2023H1", "VT27")["actieve_casussen"][0] == 2
    # only VT27 delivered: every other region, and so Nederland, has no data (never nihil, never VT27's 2)
    nl = cells(tmp_path / "out" / "cijfers_2023V1_onafgerond.csv", "2023H1")
    assert set(nl.values()) == {(None, ONTBREEKT)}
    other = frame[(frame.vt_code != "VT27")]
    assert other.waarde.isna().all() and set(other.symbool) == {ONTBREEKT}
    # the series: no release froze 2020-2022 here, so those half-years are missing, said in the page
    series = pd.read_csv(tmp_path / "out" / "tijdreeks_2023V1.csv")
    assert sorted(set(series.periode)) == [
        "2019H1",
        "2019H2",
        "2020H1",
        "2020H2",
        "2021H1",
        "2021H2",
        "2022H1",
        "2022H2",
        "2023H1",
    ]
    gap = series[series.periode == "2021H1"]
    assert (
        len(gap) == len(KERNCIJFERS + INDICATOREN) and set(gap.vt_code) == {TOTAAL} and set(gap.symbool) == {ONTBREEKT}
    )
    assert gap.waarde.isna().all()
    page = (tmp_path / "out" / "publicatie_2023V1.html").read_text()
    assert (
        "1e halfjaar van 2021: gegevens ontbreken (.): geen release met dit halfjaar van vóór de peildatum van "
        "deze release (2021V1, 2021V2, 2021V3) is vastgesteld (bevroren)"
    ) in page
    assert (
        "1e halfjaar van 2023*: 1 van de 25 Veilig Thuis-organisaties hebben gegevens geleverd; ontbrekend: VT01 "
        in page
    )
    assert (
        "VT27 Oost-Brabant: komt voor vanaf het 1e halfjaar van 2023 (in het 2e halfjaar van 2019 nog niet; de "
        "halfjaren daartussen ontbreken); eerdere halfjaren zijn niet vergelijkbaar en blijven leeg."
    ) in page
    assert (
        "VT16 Brabant-Noordoost: komt voor tot en met het 2e halfjaar van 2019 (in het 1e halfjaar van 2023 "
        "niet meer; de halfjaren daartussen ontbreken); latere halfjaren blijven leeg."
    ) in page


def test_settings_from_the_environment_and_their_mistakes_named(small_release, tmp_path):
    home, _, _ = small_release
    env = {"VT_PUBLICATIE_DREMPEL": "2", "VT_PUBLICATIE_REGIO": "vt14", "VT_PUBLICATIE_BRON": "Bron: eigen {release}"}
    run_vt("publish", "--release", "2020V1", "--out", str(tmp_path / "env"), home=home, env=env)
    manifest = (tmp_path / "env" / "manifest.json").read_text()
    assert '"onderdrukking": 2' in manifest and '"regio": "VT14"' in manifest
    page = (tmp_path / "env" / "publicatie_2020V1.html").read_text()
    assert "<h3>VT14 Noord- en Oost-Gelderland</h3>" in page and "Bron: eigen 2020V1" in page
    bad = run_vt(
        "publish",
        "--release",
        "2020V1",
        "--out",
        str(tmp_path / "bad"),
        home=home,
        check=False,
        env={"VT_PUBLICATIE_DREMPEL": "tien"},
    )
    assert bad.returncode == 1 and bad.stderr.strip() == (
        "Error: $VT_PUBLICATIE_DREMPEL is 'tien': the suppression threshold is a whole number, 0 for none"
    )
    bad = run_vt(
        "publish", "--release", "2020V1", "--out", str(tmp_path / "bad"), "--regio", "VT27", home=home, check=False
    )
    assert bad.returncode == 1 and bad.stderr.startswith(
        "Error: region VT27 is not a Veilig Thuis-regio of 2020H1: choose one of VT01, VT02, "
    )
    assert not (tmp_path / "bad").exists()  # nothing written


def test_a_tidy_csv_without_any_symbol_still_reads_its_symbol_as_text(tmp_path):
    """pandas guessed a float column for `symbool` when no cell had a symbol; with the page's read lines (from
    the CSVW registry) it is text whatever the file holds, `waarde` a decimal, `trendbreuk` a boolean."""
    from vt_warehouse.publish import tidy

    h = Halfjaar("2020H1", "voorlopig", "2020V1", [("VT01", "Amsterdam-Amstelland"), (TOTAAL, "Totaal")])
    h.aantallen = {(vt, m): 100 for vt in ("VT01", TOTAAL) for m in KERNCIJFERS}
    h.indicatoren = {(vt, i): (5, 10) for vt in ("VT01", TOTAAL) for i in INDICATOREN}
    path, meta = tidy.write(tmp_path / "cijfers_2020V1.csv", [h])
    assert pd.read_csv(path).symbool.dtype == "float64"  # what a reader without the types gets
    for tool, code in tidy.read_lines("cijfers_2020V1.csv"):
        namespace: dict = {}
        exec(code.replace('"cijfers_2020V1.csv"', repr(str(path))), namespace)  # noqa: S102
        df = namespace["df"]
        if tool == "pandas":
            assert str(df.symbool.dtype) == "string" and str(df.waarde.dtype) == "Float64"
            assert not df.symbool.str.contains("x").any() and str(df.trendbreuk.dtype) == "boolean"
        else:
            assert df.schema["symbool"] == pl.String and df.schema["waarde"] == pl.Float64
            assert df.schema["trendbreuk"] == pl.Boolean and df.filter(pl.col("symbool").str.contains("x")).height == 0
    columns = json.loads(meta.read_text())["tableSchema"]["columns"]
    assert [c["name"] for c in columns] == tidy.HEADER
    assert {c["name"]: c["datatype"] for c in columns}["waarde"] == "decimal"
    assert {c["name"]: c["datatype"] for c in columns}["vt_code"] == {"base": "string", "format": "^(VT[0-9]{2}|NL)$"}


@pytest.mark.slow(seconds=30)
def test_a_release_with_one_organisation_missing_shows_it_and_nederland_as_missing(tmp_path):
    """Every organisation but VT18 delivered 2020H1: VT18 and Nederland are `.` in every cell (Nederland is not
    the sum of the others), the others as counted; the Toelichting, the table's note, the workbook, the codebook,
    the manifests and `vt releases` name VT18. The warehouse's rule (SQL) and `vt releases`' (Python) agree."""
    from loaders.warehouse import Warehouse
    from vt_warehouse.release import built_completeness, completeness

    inbox = national_inbox(tmp_path / "inbox", missing=("VT18",))
    home = tmp_path / "wh"
    run_vt("load", "--received-at", "2020-07-25", str(inbox), home=home)
    line = "         2020H1: 25 of 26 organisations delivered (missing: VT18 Rotterdam-Rijnmond)\n"
    assert line in run_vt("releases", "--years", "2020", home=home).stdout  # before any build
    run_vt("release", "2020V1", home=home)
    out = tmp_path / "out"
    run_vt("publish", "--release", "2020V1", "--out", str(out), "--regio", "VT05", home=home)
    frame = pd.read_csv(out / "cijfers_2020V1.csv", keep_default_na=False)
    gone = frame[frame.vt_code.isin(["VT18", TOTAAL])]
    assert (
        len(gone) == 2 * len(KERNCIJFERS + INDICATOREN)
        and set(gone.symbool) == {ONTBREEKT}
        and set(gone.waarde) == {""}
    )
    rest = frame[~frame.vt_code.isin(["VT18", TOTAAL]) & (frame.eenheid == "aantal")]
    assert ONTBREEKT not in set(rest.symbool) and set(rest[rest.vt_code == "VT01"].symbool) == {NIHIL}
    assert cells(out / "cijfers_2020V1.csv", "2020H1", "VT05")["ontvangen_meldingen"] == (0, "")  # 2, rounded
    zin = (
        "1e halfjaar van 2020*: 25 van de 26 Veilig Thuis-organisaties hebben gegevens geleverd; ontbrekend: "
        "VT18 Rotterdam-Rijnmond. De cijfers van deze regio en van Nederland ontbreken (.); Nederland is geen "
        "optelling van de regio's die wel leverden."
    )
    page = (out / "publicatie_2020V1.html").read_text()
    toelichting = page[page.index('<section id="toelichting">') :]
    assert f'<ul class="volledigheid"><li>{zin.replace(chr(39), "&#x27;")}</li></ul>' in toelichting
    assert page.count('data-ontbrekend="1"') == 2  # under the kerncijfers and the indicatoren table
    assert '<rect class="bar" data-region="VT18"' not in page and 'data-region="VT18" data-value="."' in page
    wb = load_workbook(out / "tabellen_2020V1.xlsx")
    assert zin in [r[0] for r in wb["Kerncijfers 2020H1"].iter_rows(values_only=True)]
    assert zin in [r[0] for r in wb["Toelichting"].iter_rows(values_only=True)]
    codebook = (home / "releases" / "2020V1" / "codebook_2020V1.md").read_text()
    assert "- 2020H1: 25 van de 26 organisaties leverden: ontbrekend VT18 Rotterdam-Rijnmond." in codebook
    expected = [
        {
            "periode": "2020H1",
            "organisaties": 26,
            "geleverd": 25,
            "ontbrekend": [{"vt_code": "VT18", "vt_naam": "Rotterdam-Rijnmond"}],
        }
    ]
    assert json.loads((home / "releases" / "2020V1" / "manifest.json").read_text())["volledigheid"] == expected
    published = json.loads((out / "manifest.json").read_text())["volledigheid"]
    assert published == [{k: v for k, v in e.items() if k != "geleverd"} for e in expected]
    assert line in run_vt("releases", "--years", "2020", home=home).stdout  # frozen: from its manifest
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("VT_DATABASE", raising=False)
        warehouse = Warehouse(home)
        assert (
            built_completeness(warehouse, "2020V1")
            == completeness(warehouse, get_release("2020V1"), get_release("2020V1").peildatum)
            == expected
        )


def test_a_missing_half_year_of_the_series_says_why():
    from vt_warehouse.publish.text import niet_gepubliceerd

    assert niet_gepubliceerd(get_release("2020V1"), "2020H2") == (
        "2e halfjaar van 2020: gegevens ontbreken (.): op de peildatum van deze release (30 september 2020) bestond "
        "nog geen release met dit halfjaar; de eerste release met dit halfjaar, 2020V2, heeft peildatum 31 maart "
        "2021."
    )
    assert niet_gepubliceerd(get_release("2025V1"), "2024H2").startswith(
        "2e halfjaar van 2024: gegevens ontbreken (.): geen release met dit halfjaar van vóór de peildatum van deze "
        "release (2024V2) is vastgesteld (bevroren)"
    )


def test_a_trendbreuk_lies_where_the_source_changes_between_the_cbs_tables_and_the_microdata():
    from vt_warehouse.publish.sources import Breuk, definitie_breuken, trendbreuken

    def h(periode, bron):
        return Halfjaar(periode, "definitief", bron, [])

    assert trendbreuken([h("2019H1", CBS), h("2019H2", CBS), "2020H1", h("2020H2", "2020V3")]) == {
        "2020H2": Breuk("2019H2", True)
    }
    assert trendbreuken([h("2019H1", "2019V1"), h("2019H2", "2019V1"), h("2020H1", "2020V3")]) == {}
    assert definitie_breuken() == {}  # the registry ships empty: no definition has changed since 2019


def test_a_definition_change_in_the_registry_breaks_the_series_and_a_bad_row_is_named(monkeypatch):
    from vt_warehouse.publish import sources
    from vt_warehouse.publish.sources import Breuk, definitie_breuken, trendbreuken
    from vt_warehouse.publish.text import trendbreuk_redenen

    def registry(rows):
        monkeypatch.setattr(sources, "read_csv", lambda name: rows if name == sources.DEFINITIES else [])
        sources.definitie_breuken.cache_clear()

    def h(periode, bron):
        return Halfjaar(periode, "definitief", bron, [])

    try:
        registry([{"periode": "2021H1", "omschrijving": "Actief telt vanaf nu ook  gepauzeerde casussen."}])
        breuken = trendbreuken([h("2020H1", "2020V3"), h("2020H2", "2020V3"), "2021H1", h("2021H2", "2021V3")])
        assert breuken == {"2021H2": Breuk("2020H2", False, ("Actief telt vanaf nu ook gepauzeerde casussen.",))}
        assert trendbreuk_redenen(breuken["2021H2"]) == ["Actief telt vanaf nu ook gepauzeerde casussen."]
        for rows, problem in (
            ([{"periode": "2021-1", "omschrijving": "x"}], "line 2: the half-year is not JJJJHn ('2021-1')"),
            (
                [{"periode": "2021H1", "omschrijving": "x"}, {"periode": "2021H1", "omschrijving": "y"}],
                "line 3: the half-year is listed twice",
            ),
            ([{"periode": "2021H1", "omschrijving": " "}], "line 2: the description is empty"),
            ([{"periode": "2021H1", "omschrijving": "x" * 501}], "line 2: the description is longer than 500"),
            ([{"periode": "2021H1", "omschrijving": "a\x1bb"}], "line 2: the description has a control"),
        ):
            registry(rows)
            with pytest.raises(ValueError, match=re.escape(f"loaders/data/trendbreuken.csv {problem}")):
                definitie_breuken()
    finally:
        sources.definitie_breuken.cache_clear()


def test_vt_releases_says_how_many_organisations_delivered(small_release, tmp_path):
    home = private_copy(small_release[0], tmp_path)
    listed = run_vt("releases", "--years", "2020", home=home).stdout.splitlines()
    assert listed[1].startswith("2020V1 ") and listed[2] == "         2020H1: 26 of 26 organisations delivered"
    assert listed[4:6] == [
        "         2020H1: 26 of 26 organisations delivered",
        "         2020H2: none of the 26 organisations delivered",
    ]


@pytest.mark.slow(seconds=30)
def test_a_measure_without_its_count_stops_the_build_and_an_unused_count_too(tmp_path):
    """A measure added to the registry (publicatie_maten.csv) whose count no count model makes
    would publish 0 everywhere: dbt refuses to compile the count model, naming the measure and the count; a count
    that no measure uses is named too."""
    from tests.conftest import run_dbt_cli
    from tests.test_layout import _copy_project

    project = _copy_project(tmp_path / "project")
    seed = project / "loaders" / "data" / "publicatie_maten.csv"
    (tmp_path / "wh").mkdir()

    def compile_counts():
        return run_dbt_cli(
            tmp_path / "wh",
            "compile",
            "--select",
            "int_regiotellingen_berekend",
            "--vars",
            "{release: 2020V2}",
            project=project,
        )

    original = seed.read_text(encoding="utf-8")
    seed.write_text(
        original + "gemiddelde_duur,kerncijfers,Gemiddelde duur,aantal,duur_casussen,,Duur.\n", encoding="utf-8"
    )
    proc = compile_counts()
    assert (
        proc.returncode != 0
        and (
            "measure gemiddelde_duur of publicatie_maten needs the count duur_casussen, "
            "which no count model makes: add it to macros/publicatie_tellingen.sql and to the CTE that counts it"
        )
        in proc.stdout
    )
    seed.write_text(
        "\n".join(line for line in original.splitlines() if not line.startswith("overdrachten_jeugd_pct,")) + "\n",
        encoding="utf-8",
    )
    proc = compile_counts()
    assert (
        proc.returncode != 0
        and ("the count models make the count overdrachten_jeugd, which no measure of publicatie_maten uses")
        in proc.stdout
    ), proc.stdout[-2000:]
