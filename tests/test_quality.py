"""Quality reports: every rule broken a known number of times by a crafted delivery, and only that rule; a clean
generated delivery passes; the GX-on-DuckDB workaround; the committed suite equals the rules."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from loaders.layout import CURRENT_VERSION, code_lists
from tests.conftest import record, regio_codes, run_vt, small_delivery, write_delivery
from tests.states import private_copy, shared_state
from vt_warehouse.layout_docs import format_html
from vt_warehouse.quality import gx_runner
from vt_warehouse.quality.gx_runner import SUITE_FILE, suite_dict
from vt_warehouse.quality.kwaliteit import kwaliteitsrapport
from vt_warehouse.quality.pages import kwaliteitsrapport_html
from vt_warehouse.quality.rules import RULES

COUNTS = ("CA", "AD", "ME", "VB", "VV", "ON", "OV", "MO", "BT")


def finish(lines: list[str]) -> list[str]:
    """Recompute the SL counts after records were added or removed."""
    body = lines[1:-1]
    counts = {f"aantal_{c.lower()}": f"{sum(line.startswith(c) for line in body):07d}" for c in COUNTS}
    return [lines[0], *body, record("SL", lines[0][2:6], **counts)]


def field(line: str, start: int, length: int, value: str) -> str:
    return line[: start - 1] + value.ljust(length)[:length] + line[start - 1 + length :]


def clean(vt: str, versie: str = CURRENT_VERSION, nummer: str = "001") -> list[str]:
    """small_delivery, with the open VV dienst closed before its casus (else KR14): breaks no rule at all."""
    lines = small_delivery(vt_code=vt, versie=versie, nummer=nummer)
    lines[7] = field(lines[7], 55, 8, "20200415")
    return lines


def set_field(lines, index, code, name, value):
    from loaders.layout import default_layout

    f = default_layout().record_types[code].field(name)
    lines[index] = field(lines[index], f.start, f.length, value)
    return lines


# line indexes in small_delivery: 1 CA C1, 2 CA C2, 3 AD A1, 4 ME M1, 5 ME M2, 6 VB M1, 7 VV D1, 8 ON D2,
# 9 OV O1, 10 MO T1, 11 BT P1, 12 BT P2
def mutate(rule: str, lines: list[str]) -> list[str]:
    v = lines[0][2:6]
    if rule == "KR01":  # two adviezen that end before they start
        set_field(lines, 3, "AD", "einddatum", "20200201")
        lines.insert(4, set_field([lines[3]], 0, "AD", "adviesnummer", "A2")[0])
    elif rule == "KR02":  # an impossible date and one after the period
        lines.insert(
            4,
            record(
                "AD",
                v,
                adviesnummer="A2",
                startdatum="20200231",
                gemeentecode="0202",
                aard="1000000",
                duur="1",
                rol="99",
            ),
        )
        lines.insert(
            4,
            record(
                "AD",
                v,
                adviesnummer="A3",
                startdatum="20200701",
                gemeentecode="0202",
                aard="1000000",
                duur="1",
                rol="99",
            ),
        )
    elif rule == "KR03":  # a monitoringsmoment and a person of a casus not in the delivery
        set_field(lines, 10, "MO", "casusnummer", "C9")
        lines.insert(
            12,
            record(
                "BT", v, persoonsnummer="P3", casusnummer="C9", bsn="000000000", geboortedatum="00000000", geslacht="9"
            ),
        )
    elif rule == "KR04":
        set_field(lines, 6, "VB", "meldingnummer", "M9")
    elif rule == "KR05":
        set_field(lines, 9, "OV", "bronnummer", "D9")
    elif rule == "KR06":  # C2 now starts after its melding
        set_field(lines, 2, "CA", "startdatum", "20200201")
    elif rule == "KR07":  # Friday 10 January -> Monday 20 January: 6 working days
        set_field(lines, 6, "VB", "datum_beoordeling", "20200120")
    elif rule == "KR08":  # no veiligheidsbeoordeling with inhoud 1 before the two diensten
        set_field(lines, 6, "VB", "inhoud", "3")
    elif rule == "KR09":  # 91 days
        set_field(lines, 8, "ON", "einddatum", "20200420")
    elif rule == "KR10":
        set_field(lines, 8, "ON", "uitkomst", "")
    elif rule == "KR11":  # geen kindermishandeling, yet an aard
        set_field(lines, 8, "ON", "uitkomst", "000100000")
    elif rule == "KR12":
        set_field(lines, 4, "ME", "organisatie", "05")
    elif rule == "KR13":  # two unknown codes, and a required code left blank (verplicht J: blank breaks its type)
        set_field(lines, 6, "VB", "veiligheidstaxatie", "7")
        set_field(lines, 12, "BT", "geslacht", "5")
        set_field(lines, 11, "BT", "geslacht", "")
    elif rule == "KR14":  # the VV dienst is open in a closed casus
        set_field(lines, 7, "VV", "einddatum", "")
    elif rule == "KR15":
        set_field(lines, 10, "MO", "datum_monitoring", "20200520")
    elif rule == "KR16":
        set_field(lines, 10, "MO", "veiligheidsscore", "12")
    elif rule == "KR17":
        set_field(lines, 2, "CA", "gemeentecode", "0001")
        set_field(lines, 3, "AD", "gemeentecode", "1234")
    elif rule == "KR18":
        set_field(lines, 12, "BT", "bsn", "111222334")
    elif rule == "KR19":
        set_field(lines, 11, "BT", "geboortedatum", "20151301")
    elif rule == "KR20":
        set_field(lines, 5, "ME", "aard", "0000000")
    elif rule == "KR21":  # after the veiligheidsbeoordeling of M1, whose inhoud is 1
        set_field(lines, 9, "OV", "bron", "VB")
        set_field(lines, 9, "OV", "bronnummer", "M1")
    elif rule == "KR22":
        lines.insert(3, record("CA", v, casusnummer="C3", startdatum="20200301", gemeentecode="0202"))
    elif rule not in HISTORY_RULES:  # KR23: clean; its previous half-year (previous_half_year) had a casus it lacks
        raise KeyError(f"mutate() plants no violation of {rule}: a new rule needs its crafted case here")
    return finish(lines)


def previous_half_year(vt: str) -> list[str]:
    """A 2019H2 delivery with two open casussen: C2 (in clean()) and C3 (in no 2020H1 delivery): KR23 once."""
    casussen = [record("CA", vt, casusnummer=c, startdatum="20191201", gemeentecode="0200") for c in ("C2", "C3")]
    head = record(
        "VL",
        vt,
        verslagperiode="2019H2",
        aanmaakdatum="20200120",
        versie_bestandsdefinitie=CURRENT_VERSION,
        leveringsnummer="001",
    )
    return finish([head, *casussen, ""])


def history_missing(vt: str) -> list[str]:
    """clean() plus records whose check needs a half-year never delivered (no 2019H2 for this organisation):
    a veiligheidsbeoordeling (inhoud 3) of a melding M0 of the carried-over casus C2, a Voorwaarden en Vervolg in
    C2 without one with inhoud 1 in this half-year, and a casus C4 of 2019 without a melding (with its person)."""
    lines = clean(vt)
    extra = [
        record("CA", vt, casusnummer="C4", startdatum="20190601", gemeentecode="0202"),
        record(
            "VB",
            vt,
            meldingnummer="M0",
            casusnummer="C2",
            datum_beoordeling="20200103",
            inhoud="3",
            veiligheidstaxatie="2",
        ),
        record(
            "VV",
            vt,
            dienstnummer="D3",
            casusnummer="C2",
            startdatum="20200201",
            einddatum="",
            aard="0100000",
            aanvullende_informatie="00000000",
            duur="2",
        ),
        record(
            "BT", vt, persoonsnummer="P4", casusnummer="C4", bsn="000000000", geboortedatum="00000000", geslacht="9"
        ),
    ]
    return finish([lines[0], *lines[1:-1], *extra, lines[-1]])


EXPECTED = {"KR01": 2, "KR02": 2, "KR03": 2, "KR13": 3, "KR17": 2, "KR08": 2}
RULE_IDS = [r.id for r in RULES]
HISTORY_RULES = {"KR23"}  # the violation lies in the previous half-year, which the organisation's deliveries share


def assign(rules: list[str], orgs: list[str]) -> tuple[dict[str, tuple[str, str]], str, str]:
    """Each rule's crafted delivery (organisation, leveringsnummer), the clean organisation and the one whose
    history is missing. A report is per delivery, so any number of rules fits: an organisation each while they
    last, then corrections (002, 003, ...) of the organisations whose other deliveries nothing reads."""
    clean_org, history_org, *rest = orgs
    alone = [r for r in rules if r in HISTORY_RULES]
    own = dict(zip(alone, rest))
    shared = rest[len(own) :]
    if not shared:
        raise ValueError("too few organisations for the fixture")
    slots = {
        rule: (shared[i % len(shared)], f"{i // len(shared) + 1:03d}")
        for i, rule in enumerate(r for r in rules if r not in own)
    }
    return {r: (own[r], "001") if r in own else slots[r] for r in rules}, clean_org, history_org


# no test names a region code or a delivery number for a rule's delivery
RULE_SLOT, CLEAN_ORG, HISTORY_ORG = assign(RULE_IDS, regio_codes(2020))
RULE_ORG = {rule: org for rule, (org, _) in RULE_SLOT.items()}
RULE_DELIVERY = {rule: f"{org}_2020H1_{nummer}" for rule, (org, nummer) in RULE_SLOT.items()}
CLEAN_DELIVERY, HISTORY_DELIVERY = f"{CLEAN_ORG}_2020H1_001", f"{HISTORY_ORG}_2020H1_001"


@pytest.fixture(scope="session")
def reports(request):
    """One crafted delivery per rule (RULE_DELIVERY: assign()), a clean one (CLEAN_ORG) and one whose
    history is missing (HISTORY_ORG), all reported at once."""

    def build(home: Path):
        inbox = home / "inbox"
        inbox.mkdir()
        for rule in RULE_IDS:
            org, nummer = RULE_SLOT[rule]
            write_delivery(inbox, mutate(rule, clean(org, nummer=nummer)))
        write_delivery(inbox, previous_half_year(RULE_ORG["KR23"]))
        write_delivery(inbox, clean(CLEAN_ORG))
        write_delivery(inbox, history_missing(HISTORY_ORG))
        run_vt("load", "--received-at", "2020-07-25", str(inbox), home=home)
        out = home / "reports"
        proc = run_vt("quality", "--periode", "2020H1", "--out", str(out), "--strict", home=home, check=False)
        return proc, out

    return shared_state(request, "quality-reports", build)


def csv_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def load_report(out: Path, levering_id: str) -> dict:
    return json.loads((out / levering_id / "kwaliteitsrapport.json").read_text())


def test_clean_crafted_delivery_breaks_no_rule(reports):
    _, out = reports
    report = load_report(out, CLEAN_DELIVERY)
    assert [r["id"] for r in report["rules"]] == RULE_IDS
    assert {r["id"]: r["violations"] for r in report["rules"]} == dict.fromkeys(RULE_IDS, 0)
    assert report["passed"] is True


@pytest.mark.parametrize("rule", RULE_IDS)
def test_each_rule_counts_exactly_its_violations(reports, rule):
    _, out = reports
    report = load_report(out, RULE_DELIVERY[rule])
    counts = {r["id"]: r["violations"] for r in report["rules"]}
    assert counts == {**dict.fromkeys(RULE_IDS, 0), rule: EXPECTED.get(rule, 1)}
    entry = next(r for r in report["rules"] if r["id"] == rule)
    assert len(entry["examples"]) == entry["violations"] and entry["applies_to"] >= entry["violations"]
    assert report["passed"] is (entry["severity"] == "waarschuwing")


def test_report_contents_and_strict_exit(reports):
    proc, out = reports
    assert proc.returncode == 1  # --strict: some deliveries break a fout rule
    assert f"{CLEAN_DELIVERY}: goedgekeurd" in proc.stdout
    assert f"{RULE_DELIVERY['KR18']}: afgekeurd (KR18)" in proc.stdout
    report = load_report(out, RULE_DELIVERY["KR18"])
    kr18 = next(r for r in report["rules"] if r["id"] == "KR18")
    expected = "een BSN dat aan de elfproef voldoet, of 000000000 (onbekend) of 999999999 (ongeboren)"
    finding = {
        "recordtype": "BT",
        "nummer": "P2",
        "regelnummer": 13,
        "veld": "bsn",
        "waarde": "bsn: niet getoond",
        "verwacht": expected,
        "toelichting": None,
    }
    assert kr18 == {
        "id": "KR18",
        "severity": "fout",
        "description": kr18["description"],
        "violations": 1,
        "applies_to": 2,
        "examples": ["BT P2"],
        "voldoet": 1,
        "niet_te_controleren": 0,
        "voorbeelden": [finding],
        "voorbeelden_niet_te_controleren": [],
        "per_veld": [{"recordtype": "BT", "veld": "bsn", "aantal": 1, "voorbeelden": [finding]}],
        "per_veld_niet_te_controleren": [],
    }
    delivered = out.parent / "inbox" / f"{RULE_DELIVERY['KR18']}.txt"
    assert report["levering"] == {
        "levering_id": RULE_DELIVERY["KR18"],
        "bestandsnaam": f"{RULE_DELIVERY['KR18']}.txt",
        "verslagperiode": "2020H1",
        "leveringsnummer": "001",
        "ontvangen_dag": "2020-07-25",
        "ontvangen_op": "25-07-2020 00:00 UTC",
        "aanmaakdatum": "20-07-2020",
        "versie_bestandsdefinitie": CURRENT_VERSION,
        "checksum_sha256": hashlib.sha256(delivered.read_bytes()).hexdigest(),
        "vervangt": None,
    }
    assert csv_rows(out / RULE_DELIVERY["KR18"] / "overtredingen.csv") == [
        ["regel", "ernst", "recordtype", "nummer", "regelnummer", "veld", "waarde", "verwacht", "toelichting"],
        ["KR18", "fout", "BT", "P2", "13", "bsn", "bsn: niet getoond", expected, ""],
    ]
    # its place in the calendar: received before every peildatum of 2020H1
    assert report["kalender"] == {"telt_mee": ["2020V1", "2020V2", "2020V3"], "te_laat": []}
    page = (out / RULE_DELIVERY["KR18"] / "kwaliteitsrapport.html").read_text()
    assert (
        f"Aan: Veilig Thuis {dict(code_lists()['VT_ORGANISATIE'])[RULE_ORG['KR18']]}" in page
        and "Oordeel: afgekeurd" in page
        and "KR18" in page
    )
    assert (
        "Deze levering telt mee in 2020V1, 2020V2 en 2020V3 (tenzij een latere correctie vóór de peildatum binnenkomt)."
    ) in page
    assert "<tr><th>Leveringsnummer</th><td>001</td></tr>" in page
    # fout rules first, then the warnings, then what could not be checked; each rule's findings by field
    order = [
        page.index(h)
        for h in (
            "<h2>Fouten</h2>",
            '<h3 id="KR18">',
            "<h2>Waarschuwingen</h2>",
            "<h2>Niet te controleren</h2>",
            "<h2>Alle regels</h2>",
        )
    ]
    assert order == sorted(order)
    assert (
        "<table><thead><tr><th>veld</th><th>aantal</th></tr></thead><tbody><tr><td>BT.bsn</td>"
        '<td class="n">1</td></tr></tbody></table><h4>BT.bsn: 1</h4>'
    ) in page
    assert '<a href="bestandsdefinitie.html">bestandsdefinitie</a>' in page
    assert (out / RULE_DELIVERY["KR18"] / "bestandsdefinitie.html").read_text() == format_html()
    assert "111222334" not in page and "111222334" not in json.dumps(report)
    assert "111222334" not in (out / RULE_DELIVERY["KR18"] / "overtredingen.csv").read_text()
    spiegel = (out / RULE_DELIVERY["KR18"] / "spiegelrapport.csv").read_text().splitlines()
    assert spiegel[0] == (
        "recordtype,veld,maat,deze_levering,vorige_levering,landelijk,vorig_halfjaar,afwijkend,label,reden"
    )
    # the fixture's deliveries have 2 persons each, plus KR03's and HISTORY_ORG's extra person with an unknown BSN,
    # and one BSN invalid (KR18's); here 1 of 2 valid: far off the national share, yet not marked (2 persons)
    deliveries = len(set(RULE_ORG.values())) + 2  # the national figures count an organisation's valid delivery
    persons = 2 * deliveries + 2

    def pct(n: int, total: int) -> str:
        return f"{100 * n / total:.1f}"

    assert f"BT,bsn,gevuld,100.0,,{pct(persons - 2, persons)},,N,," in spiegel
    assert f"BT,bsn,geldig,50.0,,{pct(persons - 1, persons)},,N,," in spiegel
    assert f"CA,*,aantal,2,,{2 * deliveries + 2},,N,," in spiegel  # 2 casussen each, plus KR22's and HISTORY's
    # one Vrouw per delivery but KR13's (a 5, and a required geslacht left blank), of the persons less that blank
    # one; labelled
    assert f"BT,geslacht,code 2,50.0,,{pct(deliveries - 1, persons - 1)},,N,Vrouw," in spiegel
    assert f"BT,geslacht,gevuld,100.0,,{pct(persons - 1, persons)},,N,," in spiegel


def test_every_violation_has_its_line_field_value_and_expectation(reports):
    """KR02's two adviezen: the full list in line order with the delivered text, also where it is no date."""
    _, out = reports
    folder = out / RULE_DELIVERY["KR02"]
    expected = "een bestaande datum (JJJJMMDD) van 01-01-2015 tot en met 30-06-2020"
    assert csv_rows(folder / "overtredingen.csv")[1:] == [
        ["KR02", "fout", "AD", "A3", "5", "startdatum", "startdatum: 20200701", expected, ""],
        ["KR02", "fout", "AD", "A2", "6", "startdatum", "startdatum: 20200231", expected, ""],
    ]
    kr06 = next(r for r in load_report(out, RULE_DELIVERY["KR06"])["rules"] if r["id"] == "KR06")
    assert kr06["voorbeelden"] == [
        {
            "recordtype": "ME",
            "nummer": "M2",
            "regelnummer": 6,
            "veld": "datum_melding",
            "waarde": "datum_melding: 20200115",
            "verwacht": "een datum van de startdatum tot en met de einddatum van de casus",
            "toelichting": "casus C2: startdatum 01-02-2020, einddatum leeg",
        }
    ]
    kr23 = next(r for r in load_report(out, RULE_DELIVERY["KR23"])["rules"] if r["id"] == "KR23")
    assert (kr23["violations"], kr23["applies_to"], kr23["niet_te_controleren"]) == (1, 2, 0)
    assert kr23["voorbeelden"][0]["nummer"] == "C3" and kr23["voorbeelden"][0]["regelnummer"] is None
    assert (
        kr23["voorbeelden"][0]["toelichting"]
        == f"open in uw levering {RULE_ORG['KR23']}_2019H2_001 (regel 3), startdatum 01-12-2019; "
        "ontbreekt in deze levering"
    )


def test_a_check_that_needs_missing_history_is_not_a_violation(reports):
    """HISTORY_ORG has no 2019H2 delivery: the veiligheidsbeoordeling of a melding of the carried-over casus C2, the
    dienst of C2 without one, and casus C4 of 2019 without a melding cannot be checked; the delivery passes."""
    proc, out = reports
    report = load_report(out, HISTORY_DELIVERY)
    got = {
        r["id"]: (r["violations"], r["niet_te_controleren"])
        for r in report["rules"]
        if r["violations"] or r["niet_te_controleren"]
    }
    # KR23: the casussen C2 and C4 began before 2020 and no 2019H2 delivery shows whether they were open
    assert got == {"KR04": (0, 1), "KR08": (0, 1), "KR22": (0, 1), "KR23": (0, 2)}
    kr04 = next(r for r in report["rules"] if r["id"] == "KR04")
    assert (kr04["applies_to"], kr04["voldoet"]) == (1, 1)  # of 2 veiligheidsbeoordelingen, one checked
    assert report["passed"] is True and f"{HISTORY_DELIVERY}: goedgekeurd" in proc.stdout
    rows = csv_rows(out / HISTORY_DELIVERY / "niet_te_controleren.csv")
    assert rows[1][:7] == ["KR04", "fout", "VB", "M0", "15", "meldingnummer", "meldingnummer: M0"]
    assert [r[0] for r in rows[1:]] == ["KR04", "KR08", "KR22", "KR23", "KR23"]


def test_shares_are_marked_only_for_groups_of_a_minimum_size():
    from vt_warehouse.quality.spiegel import MIN_GROUP, marking
    from vt_warehouse.quality.text import share

    assert marking(60.0, 45.0, None, (MIN_GROUP, 1000, 0)) == ["15,0 procentpunt boven landelijk (45,0%)"]
    assert marking(60.0, 45.0, None, (MIN_GROUP - 1, 1000, 0)) == []
    assert marking(30.0, 35.0, 45.0, (100, 1000, 100)) == ["15,0 procentpunt onder uw vorige halfjaar (45,0%)"]
    assert marking(30.0, 35.0, 45.0, (100, 1000, MIN_GROUP - 1)) == []
    assert (share(1, 29_710), share(0, 5), share(3, 5916), share(5, 761)) == ("<0,1%", "0%", "<0,1%", "0,7%")


def test_the_spiegelrapport_lists_marked_shares_first_with_their_reason():
    from vt_warehouse.quality.pages import spiegelrapport_html

    def row(veld, maat, this, land, label="", reden=""):
        return {
            "recordtype": "ME",
            "veld": veld,
            "maat": maat,
            "label": label,
            "deze_levering": this,
            "vorige_levering": None,
            "landelijk": land,
            "vorig_halfjaar": None,
            "afwijkend": "J" if reden else "N",
            "reden": reden,
        }

    rows = [
        row("*", "aantal", 120, 5000),
        row("anoniem", "gevuld", 100.0, 100.0),
        row("anoniem", "code J", 20.0, 4.0, "Ja", "16,0 procentpunt boven landelijk (4,0%)"),
        row("anoniem", "code N", 80.0, 96.0, "Nee", "16,0 procentpunt onder landelijk (96,0%)"),
    ]
    page = spiegelrapport_html("VT05_2020H1_001", "Utrecht", rows)
    top = page.index("<h2>Afwijkingen (2)</h2>")
    assert top < page.index("<h2>Legenda</h2>") < page.index('<h2 id="ME">Meldingen (ME)</h2>')
    assert (
        '<tr class="afwijkend"><td>Meldingen</td><td>anoniem</td><td>code J: Ja</td><td class="n">20,0%</td>'
        '<td class="n">–</td><td class="n">4,0%</td><td class="n">–</td>'
        "<td>16,0 procentpunt boven landelijk (4,0%)</td></tr>"
    ) in page
    # in the table per record type a field is named on its first row only; the count is a number, not a share
    assert (
        '<td></td><td>aantal records</td><td class="n">120</td><td class="n">–</td><td class="n">5\u202f000</td>'
        in page
    )
    assert "<td>anoniem</td><td>gevuld</td>" in page and "<td></td><td>code N: Nee</td>" in page


def test_rules_look_only_at_their_own_scope_of_the_history(tmp_path):
    """KR04 finds a melding in this delivery or the latest one of the previous half-year, of this organisation
    only; KR22 in any delivery of this organisation. Checks that restricting the subqueries to these scopes
    (for speed) dropped nothing and admitted nothing."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def melding(vt, nummer, casus):
        return record(
            "ME",
            vt,
            meldingnummer=nummer,
            casusnummer=casus,
            datum_melding="20190801",
            rol="22",
            anoniem="N",
            aard="0100000",
            duur="2",
        )

    def with_records(lines, *extra):
        return finish([lines[0], *lines[1:-1], *extra, lines[-1]])

    write_delivery(inbox, with_records(small_delivery("VT01", "2019H1"), melding("VT01", "M6", "C6")))
    write_delivery(
        inbox, with_records(small_delivery("VT01", "2019H2"), melding("VT01", "M5", "C1"), melding("VT01", "M8", "C1"))
    )
    write_delivery(inbox, with_records(small_delivery("VT01", "2019H2", "002"), melding("VT01", "M5", "C1")))
    write_delivery(inbox, with_records(small_delivery("VT02", "2019H2"), melding("VT02", "M7", "C7")))
    vb = [
        record(
            "VB",
            "VT01",
            meldingnummer=m,
            casusnummer="C1",
            datum_beoordeling="20200113",
            inhoud="2",
            veiligheidstaxatie="2",
        )
        for m in ("M5", "M6", "M7", "M8")
    ]
    casussen = [record("CA", "VT01", casusnummer=c, startdatum="20200110", gemeentecode="0202") for c in ("C6", "C7")]
    personen = [
        record("BT", "VT01", persoonsnummer=p, casusnummer=c, bsn="000000000", geboortedatum="00000000", geslacht="9")
        for p, c in (("P6", "C6"), ("P7", "C7"))
    ]
    write_delivery(inbox, with_records(clean("VT01"), *vb, *casussen, *personen))
    home = tmp_path / "wh"
    run_vt("load", "--received-at", "2020-07-25", str(inbox), home=home)
    out = tmp_path / "out"
    run_vt("quality", "--delivery", "VT01_2020H1_001", "--out", str(out), home=home)
    rules = {r["id"]: r for r in load_report(out, "VT01_2020H1_001")["rules"]}
    # In line order. M1: the latest 2019H2 delivery has a veiligheidsbeoordeling for it already; M5: its melding
    # is in that delivery; M6: two half-years back; M7: another organisation's; M8: only in the superseded one.
    assert (rules["KR04"]["violations"], rules["KR04"]["examples"]) == (4, ["VB M1", "VB M6", "VB M7", "VB M8"])
    # C6 has its melding in the organisation's 2019H1 delivery; C7 only in another organisation's
    assert (rules["KR22"]["violations"], rules["KR22"]["examples"]) == (1, ["CA C7"])


@pytest.mark.parametrize("beside_at_most, order", [(40, ["queries", "GX"]), (0, ["GX", "queries"])])
def test_many_deliveries_wait_for_gx_and_their_reports_are_the_same(
    reports, tmp_path, monkeypatch, beside_at_most, order
):
    """Up to BESIDE_GX_AT_MOST deliveries the project's queries run while GX's child runs; beyond it (a back-fill
    of several half-years, which side by side held 2.4-3.0 GB) they wait for it. Either way every report file is
    the one `vt quality` made, byte for byte, and the GX child's DuckDB has the step's memory bound."""
    import vt_warehouse.quality as quality
    from loaders.warehouse import Warehouse
    from vt_warehouse.quality.gx_runner import SuiteRun

    _, out = reports
    home = private_copy(out.parent, tmp_path)  # the run writes its work folder into the warehouse
    lids = sorted(p.name for p in out.iterdir())
    assert len(lids) == len(RULE_DELIVERY) + 2  # a delivery per rule, the clean one and the one without history
    seen = []
    collect, register = SuiteRun.wait, quality._register  # (_register: the rule queries' first query)
    monkeypatch.setattr(SuiteRun, "wait", lambda self: seen.append("GX") or collect(self))
    monkeypatch.setattr(quality, "_register", lambda con, lids: seen.append("queries") or register(con, lids))
    monkeypatch.setattr(quality, "BESIDE_GX_AT_MOST", beside_at_most)
    monkeypatch.setenv("VT_QUALITY_MEMORY", "700MB")
    again = tmp_path / "again"
    summaries = quality.run_quality(Warehouse(home), lids, again, shared_built=True)
    assert seen == order
    assert json.loads((home / "quality-work" / "request.json").read_text())["memory_limit"] == "700MB"
    assert [s.delivery for s in summaries] == lids
    names = (
        "kwaliteitsrapport.json",
        "overtredingen.csv",
        "niet_te_controleren.csv",
        "spiegelrapport.csv",
        "kwaliteitsrapport.html",
        "spiegelrapport.html",
    )
    for lid in lids:
        for name in names:
            assert (again / lid / name).read_bytes() == (out / lid / name).read_bytes(), (lid, name)


# run_suite in a process of its own (GX keeps its DuckDB handle on the fixture's warehouse): GX's row limit and
# run_suite's batch size as given (0: as they are), every rule counted again alone recorded
GX_ROWS = """
import json, sys
from pathlib import Path
from great_expectations.expectations.metrics import query_metric_provider
from vt_warehouse.quality import gx_runner
database, work, limit, size, deliveries = sys.argv[1:]
if int(limit):
    query_metric_provider.MAX_RESULT_RECORDS = int(limit)
if int(size):
    gx_runner.gx_rows_at_most = lambda: int(size)
alone, run_alone = [], gx_runner.run_rule_alone
gx_runner.run_rule_alone = lambda query, rule, sql, lid: alone.append(rule.id) or run_alone(query, rule, sql, lid)
outcomes = gx_runner.run_suite(Path(database), Path(work), json.loads(deliveries))
print(json.dumps({"alone": sorted(alone),
                  "outcomes": {lid: [[o.rule.id, o.violations, o.examples] for o in rules]
                               for lid, rules in outcomes.items()}}))
"""


@pytest.mark.slow(seconds=45)
def test_no_delivery_loses_its_violations_to_gx_s_row_limit(tmp_path, monkeypatch):
    """GX returns at most 200 rows of a rule's query (MAX_RESULT_RECORDS), whatever the result format asks. A
    back-fill of 274 deliveries had KR09's violations in 200 of the 267 deliveries that break it, a different 200
    each run, the others' read as none. Here, on a half-year of 26 generated deliveries with defects, GX's limit is
    made 2: run_suite validates batches of at most 2 deliveries and no rule is cut; with one batch of all 26 every
    rule broken by more than 2 is cut, and each delivery missing from its 2 rows is counted again alone. Both give
    exactly the outcomes of one batch of all."""
    import os
    import sys
    from collections import Counter

    home, inbox = tmp_path / "wh", tmp_path / "inbox"
    run_vt("generate", "--out", str(inbox), "--periods", "2020H1", "--scale", "0.02", "--defects", "0.01")
    run_vt("load", "--received-at", "2020-07-25", str(inbox), home=home)
    # the models the rules read, as `vt quality` builds them first
    from loaders.warehouse import Warehouse
    from tests.conftest import KEY
    from vt_warehouse.transform.exposures import SHARED_BUILD
    from vt_warehouse.transform.run import run_dbt

    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    run_dbt(Warehouse(home), SHARED_BUILD)
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        lids = [lid for (lid,) in con.execute("select levering_id from raw.leveringen order by 1").fetchall()]
    assert len(lids) == 26

    def suite(limit: int, size: int) -> dict:
        args = [home / "vt.duckdb", tmp_path / f"{limit}-{size}", limit, size, json.dumps(lids)]
        proc = subprocess.run(
            [sys.executable, "-c", GX_ROWS, *map(str, args)],
            capture_output=True,
            text=True,
            env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    whole = suite(0, 0)
    assert whole["alone"] == []
    broken = Counter(rule for rules in whole["outcomes"].values() for rule, violations, _ in rules if violations)
    assert max(broken.values()) > 2  # so the limit below cuts
    assert suite(2, 0) == whole  # batches of 2: nothing cut, nothing counted again
    cut = suite(2, 1000)
    assert cut["outcomes"] == whole["outcomes"]
    assert cut["alone"] == sorted(rule for rule, n in broken.items() if n > 2 for _ in range(len(lids) - 2))


@pytest.mark.slow(seconds=50)
def test_reports_made_in_bulk_equal_those_made_one_delivery_at_a_time(reports, tmp_path):
    """Every rule is one query over all deliveries of a run (GX one batch). `--all` adds VT23's 2019H2 delivery to
    the batch of the fixture's 26 (KR23 of VT23_2020H1 reads it as its previous half-year's); made in that batch,
    in the fixture's, or for one delivery alone, every report file is the same byte for byte."""
    _, out = reports
    home = private_copy(out.parent, tmp_path)  # `vt quality` builds the shared models first
    everything = tmp_path / "all"
    run_vt("quality", "--all", "--out", str(everything), home=home)
    names = (
        "kwaliteitsrapport.json",
        "overtredingen.csv",
        "niet_te_controleren.csv",
        "spiegelrapport.csv",
        "kwaliteitsrapport.html",
        "spiegelrapport.html",
    )
    lids = sorted(p.name for p in out.iterdir())
    assert sorted(p.name for p in everything.iterdir()) == sorted([*lids, f"{RULE_ORG['KR23']}_2019H2_001"])
    for lid in lids:
        for name in names:
            assert (everything / lid / name).read_bytes() == (out / lid / name).read_bytes(), (lid, name)
    # each alone as `vt quality --delivery` makes it, without building the shared models again (`--all` just did)
    import vt_warehouse.quality as quality
    from loaders.warehouse import Warehouse

    for lid in (
        RULE_DELIVERY["KR04"],
        RULE_DELIVERY["KR22"],
        RULE_DELIVERY["KR23"],
        f"{RULE_ORG['KR23']}_2019H2_001",
        HISTORY_DELIVERY,
    ):
        alone = tmp_path / lid
        quality.run_quality(Warehouse(home), [lid], alone, shared_built=True)
        for name in names:
            assert (alone / lid / name).read_bytes() == (everything / lid / name).read_bytes(), (lid, name)


def test_spiegel_figures_fetched_in_bulk_equal_those_of_each_report_alone(reports):
    """spiegel_prefetch fetches the figures of every delivery and the national figures of every half-year (2019H2
    and 2020H1 here) in one query per record type; each spiegelrapport made without it (its own queries, the
    national figures of its half-year alone) has the same rows."""
    from loaders.layout import layouts
    from vt_warehouse.quality.spiegel import spiegel_prefetch, spiegelrapport

    _, out = reports
    with duckdb.connect(str(out.parent / "vt.duckdb"), read_only=True) as con:
        version = {
            lid: layouts().get(v)
            for lid, v in con.execute("select levering_id, versie_bestandsdefinitie from raw.leveringen").fetchall()
        }
        cache: dict = {}
        spiegel_prefetch(con, version, cache)
        assert {k for k in cache if k[0] in ("2019H2", "2020H1")} == {
            ("2019H2", CURRENT_VERSION),
            ("2020H1", CURRENT_VERSION),
        }
        for lid, layout in version.items():
            assert spiegelrapport(con, layout, lid, national_cache=cache) == spiegelrapport(con, layout, lid), lid
        national = next(
            r
            for r in spiegelrapport(con, version[f"{RULE_ORG['KR23']}_2019H2_001"], f"{RULE_ORG['KR23']}_2019H2_001")
            if (r["recordtype"], r["veld"], r["maat"]) == ("CA", "*", "aantal")
        )
        assert national["landelijk"] == national["deze_levering"]  # VT23 delivered 2019H2 alone


def test_gx_children_die_with_a_killed_run(tmp_path):
    """A killed refresh must not leave GX children behind: their read-only handles would block its next run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import KEY

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for vt in ("VT01", "VT02"):
        write_delivery(inbox, clean(vt))
    home = tmp_path / "wh"
    run_vt("load", "--received-at", "2020-07-25", str(inbox), home=home)

    def children() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "vt_warehouse.quality.gx_runner" in cmdline and str(home) in cmdline:
                found.append(int(entry.name))
        return found

    env = {
        **os.environ,
        "VT_HOME": str(home),
        "VT_PSEUDONYM_KEY": KEY,
        "GX_ANALYTICS_ENABLED": "false",
        "VT_PAUSE_AT": "quality:gx-running=120",
    }
    env.pop("VT_DATABASE", None)
    parent = subprocess.Popen(
        [sys.executable, "-m", "vt_warehouse.cli", "quality", "--periode", "2020H1", "--out", str(tmp_path / "out")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not children() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert children(), "the GX child never started"
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    time.sleep(2)  # a GX child needs far longer than this to import GX and validate
    assert children() == []


def test_generated_clean_delivery_passes(tmp_path):
    from loaders.periods import periode_range
    from vt_warehouse.generate import generate, received_groups

    home = tmp_path / "wh"
    inbox = tmp_path / "inbox"
    # with the half-year before: a veiligheidsbeoordeling may follow a melding of the previous delivery
    generate(inbox, periode_range("2019H2:2020H1"), scale=0.02, seed=3, corrections=0)
    for received, paths in received_groups(inbox).items():
        run_vt("load", "--received-at", received.isoformat(), *map(str, paths), home=home)
    proc = run_vt("quality", "--delivery", "VT05_2020H1_001", "--out", str(tmp_path / "out"), "--strict", home=home)
    assert "VT05_2020H1_001: goedgekeurd" in proc.stdout
    report = json.loads((tmp_path / "out" / "VT05_2020H1_001" / "kwaliteitsrapport.json").read_text())
    rules = {r["id"]: r for r in report["rules"]}
    # no rule cries wolf: only onderzoeken of more than 10 weeks (the generator makes a fifth of them longer);
    # what was open at the end of 2019H2 is all there (KR23); with 2019H2 loaded only two casussen that began
    # before it (the first received half-year) have their melding out of reach
    assert {i for i, r in rules.items() if r["violations"]} <= {"KR09"}
    assert rules["KR23"]["applies_to"] > 0 and rules["KR23"]["violations"] == 0
    assert {i: r["niet_te_controleren"] for i, r in rules.items() if r["niet_te_controleren"]} == {"KR22": 2}


def test_gx_on_duckdb_needs_and_gets_the_workaround(tmp_path):
    """GX 1.24 reads results from a connection it closed on DuckDB; with the workaround the count is right."""
    import duckdb
    import great_expectations as gx
    import great_expectations.execution_engine.sqlalchemy_execution_engine as engine
    from great_expectations.expectations import UnexpectedRowsExpectation

    from vt_warehouse.quality.gx_runner import enable_duckdb

    db = tmp_path / "t.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table t as select range as x from range(10)")

    def count_odd() -> object:
        context = gx.get_context(mode="ephemeral")
        source = context.data_sources.add_sql(name="db", connection_string=f"duckdb:///{db}")
        batch = source.add_table_asset(name="t", table_name="t").add_batch_definition_whole_table("all")
        result = batch.get_batch().validate(
            UnexpectedRowsExpectation(unexpected_rows_query="select * from {batch} where x % 2 = 1")
        )
        return result.result.get("observed_value")

    original = engine._PERSISTED_CONNECTION_DIALECTS
    try:
        engine._PERSISTED_CONNECTION_DIALECTS = tuple(d for d in original if getattr(d, "value", d) != "duckdb")
        assert count_odd() != 5  # without it: no result (the upstream defect)
        enable_duckdb()
        assert count_odd() == 5
    finally:
        engine._PERSISTED_CONNECTION_DIALECTS = original


def test_committed_suite_equals_the_rules():
    committed = json.loads(SUITE_FILE.read_text())
    assert committed["name"] == "kwaliteitsrapport"
    got = [
        (e["meta"]["rule"], e["meta"]["severity"], e["kwargs"]["unexpected_rows_query"])
        for e in committed["expectations"]
    ]
    want = [
        (e["meta"]["rule"], e["meta"]["severity"], e["kwargs"]["unexpected_rows_query"])
        for e in suite_dict()["expectations"]
    ]
    assert got == want
    assert [r[0] for r in got] == [r.id for r in RULES]


def load_unreadable_values(tmp_path: Path, home: Path):
    """VT05's clean delivery with a veiligheidsscore 'X ' and a geboortedatum 'ABCD0101', loaded and reported."""
    lines = clean("VT05")
    set_field(lines, 10, "MO", "veiligheidsscore", "X ")
    set_field(lines, 11, "BT", "geboortedatum", "ABCD0101")
    write_delivery(tmp_path, lines)
    run_vt("load", "--received-at", "2020-07-25", str(tmp_path / "VT05_2020H1_001.txt"), home=home)
    return run_vt("quality", "--delivery", "VT05_2020H1_001", "--out", str(tmp_path / "q"), home=home, check=False)


@pytest.mark.slow(seconds=17)
def test_unreadable_values_are_findings_of_their_rule_not_a_crash(tmp_path):
    """A veiligheidsscore 'X ' or a geboortedatum 'ABCD0101' loads as delivered; the quality run and the release
    build read it with safe casts: one KR16 and one KR19 violation, and the release is built."""
    home = tmp_path / "wh"
    proc = load_unreadable_values(tmp_path, home)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "q" / "VT05_2020H1_001" / "kwaliteitsrapport.json").read_text())
    found = {r["id"]: r["violations"] for r in report["rules"] if r["violations"]}
    assert found == {"KR16": 1, "KR19": 1}
    spiegel = (tmp_path / "q" / "VT05_2020H1_001" / "spiegelrapport.csv").read_text().splitlines()
    assert "MO,veiligheidsscore,geldig,0.0,,0.0,,N,," in spiegel  # the only delivery: landelijk is its own
    build = run_vt("build", "--release", "2020V1", home=home, check=False)
    assert build.returncode == 0, build.stderr
    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        schema = "main_release_2020v1"  # the release's own intermediate tables
        assert con.execute(
            f"select veiligheidsscore_gaaf, g5_code from {schema}.int_monitoringsmomenten_gaafgemaakt"
        ).fetchall() == [(None, True)]
        assert con.execute(
            f"select geboortedatum_precisie, geboortejaar_gaaf from {schema}.int_betrokkenen_gaafgemaakt "
            "where persoonsnummer = 'P1'"
        ).fetchall() == [("onbekend", None)]


def test_a_rule_that_cannot_run_is_reported_under_its_own_id_and_the_others_still_run(tmp_path, monkeypatch):
    """KR05's query made to fail at run time (a cast error): KR05 is reported with the database's message, the
    rules after it (on the same GX connection) still give their own counts, and the report is not 'passed'."""
    home = tmp_path / "wh"
    assert load_unreadable_values(tmp_path, home).returncode == 0  # builds staging
    gx_copy = tmp_path / "gx"
    shutil.copytree(gx_runner.PROJECT_GX, gx_copy, ignore=shutil.ignore_patterns("uncommitted"))
    suite_file = gx_copy / "expectations" / f"{gx_runner.SUITE_NAME}.json"
    suite = json.loads(suite_file.read_text())
    broken = next(e for e in suite["expectations"] if e["meta"]["rule"] == "KR05")
    broken["kwargs"]["unexpected_rows_query"] = (
        "select l.levering_id, cast('kapot' || l.levering_id as integer) "
        "as overtredingen, [] as voorbeelden from {batch} as l"
    )
    suite_file.write_text(json.dumps(suite))
    monkeypatch.setattr(gx_runner, "PROJECT_GX", gx_copy)
    monkeypatch.setattr(gx_runner, "suite_dict", lambda: suite)  # as if rules.py said so: the run keeps it
    outcomes = gx_runner.run_suite(home / "vt.duckdb", tmp_path / "work", ["VT05_2020H1_001"])["VT05_2020H1_001"]
    by_id = {o.rule.id: o for o in outcomes}
    assert by_id["KR05"].violations is None
    assert "Conversion Error" in by_id["KR05"].error and "kapot" in by_id["KR05"].error
    assert {o.rule.id: o.violations for o in outcomes if o.rule.id != "KR05"} == {
        **dict.fromkeys([r for r in RULE_IDS if r != "KR05"], 0),
        "KR16": 1,
        "KR19": 1,
    }
    details = {r: {"niet te controleren": 0} for r in RULE_IDS}
    details["KR16"]["error"] = "Out of Memory Error"  # GX counted it, the project's list of it failed
    report = kwaliteitsrapport("VT05_2020H1_001", outcomes, dict.fromkeys(RULE_IDS, 3), details)
    assert (report["passed"], report["not_run"]) == (False, ["KR05"])
    kr16 = next(r for r in report["rules"] if r["id"] == "KR16")
    assert (kr16["violations"], kr16["lijst_niet_gemaakt"]) == (1, "Out of Memory Error")
    assert (
        "De lijst van deze regel kon niet worden gemaakt (een fout in de verwerking, niet in uw levering): Out of "
        "Memory Error" in kwaliteitsrapport_html(report, "Zuid-Holland")
    )
    page = kwaliteitsrapport_html(report, "Zuid-Holland")
    assert "De regels KR05 konden niet worden uitgevoerd" in page and "niet uitgevoerd: Conversion Error" in page
    assert "goedgekeurd" not in page


def test_a_rule_whose_gx_count_and_list_disagree_is_not_run_and_the_delivery_not_passed():
    """GX counts a rule's violations (the verdict) and the project lists them, with the same query. When GX cut its
    rows at 200 it read deliveries' violations as none while their lists had them, and such a report passed a
    delivery on a count its own list contradicted. A difference now makes the rule not run, with both numbers; a
    rule whose list could not be made keeps GX's count."""
    outcomes = [gx_runner.RuleOutcome(r, 1 if r.id == "KR16" else 0) for r in RULES]
    details = {r: {"overtreden": 0, "niet te controleren": 0} for r in RULE_IDS}
    details["KR02"]["overtreden"] = 3
    details["KR16"]["error"] = "Out of Memory Error"
    report = kwaliteitsrapport("VT05_2020H1_001", outcomes, dict.fromkeys(RULE_IDS, 10), details)
    assert (report["passed"], report["not_run"]) == (False, ["KR02"])
    by_id = {r["id"]: r for r in report["rules"]}
    assert by_id["KR02"]["violations"] is None
    assert by_id["KR02"]["error"] == (
        "GX counted 0 violations and the list of findings 3: the same query gave two "
        "answers (a processing error, not the delivery's)"
    )
    assert (by_id["KR16"]["violations"], by_id["KR16"]["lijst_niet_gemaakt"]) == (1, "Out of Memory Error")
    assert {r["id"] for r in report["rules"] if r["violations"] is None} == {"KR02"}
    page = kwaliteitsrapport_html(report, "Zuid-Holland")
    assert "niet uitgevoerd: GX counted 0 violations and the list of findings 3" in page


@pytest.mark.slow(seconds=20)
def test_a_correction_is_compared_with_the_delivery_it_replaces(tmp_path):
    """002 fixes one of 001's two impossible dates and its unknown code, and brings a new KR12 violation."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = mutate("KR02", clean("VT01"))
    set_field(first, 8, "VB", "veiligheidstaxatie", "7")  # line 9 after KR02's two extra adviezen: KR13
    write_delivery(inbox, first)
    second = mutate("KR02", clean("VT01"))
    set_field(second, 4, "AD", "startdatum", "20200301")  # A3 fixed, A2 still 20200231
    set_field(second, 6, "ME", "organisatie", "05")  # M1 (rol 22) now has an organisatie: KR12
    second[0] = second[0][:24] + "002" + second[0][27:]
    write_delivery(inbox, second)
    home = tmp_path / "wh"
    run_vt("load", "--received-at", "2020-07-25", str(inbox / "VT01_2020H1_001.txt"), home=home)
    run_vt("load", "--received-at", "2020-08-25", str(inbox / "VT01_2020H1_002.txt"), home=home)
    out = tmp_path / "out"
    run_vt("quality", "--periode", "2020H1", "--out", str(out), home=home, check=False)
    report = json.loads((out / "VT01_2020H1_002" / "kwaliteitsrapport.json").read_text())
    assert report["levering"]["vervangt"] == "VT01_2020H1_001"
    changed = {r["id"]: r["correctie"] for r in report["rules"] if any(r["correctie"].values())}
    assert changed == {
        "KR02": {"opgelost": 1, "nog_aanwezig": 1, "nieuw": 0},
        "KR12": {"opgelost": 0, "nog_aanwezig": 0, "nieuw": 1},
        "KR13": {"opgelost": 1, "nog_aanwezig": 0, "nieuw": 0},
    }
    assert "correctie" not in json.loads((out / "VT01_2020H1_001" / "kwaliteitsrapport.json").read_text())["rules"][0]
    page = (out / "VT01_2020H1_002" / "kwaliteitsrapport.html").read_text()
    assert "opgelost t.o.v. vorige levering" in page and "Vervangt levering" in page
    spiegel = csv_rows(out / "VT01_2020H1_002" / "spiegelrapport.csv")
    assert ["AD", "*", "aantal", "3", "3", "3", "", "N", "", ""] in spiegel  # beside the replaced delivery's count
    # the correction alone (as the refresh checks it, the replaced delivery reported earlier): the same comparison
    run_vt("quality", "--delivery", "VT01_2020H1_002", "--out", str(tmp_path / "alone"), home=home, check=False)
    alone = json.loads((tmp_path / "alone" / "VT01_2020H1_002" / "kwaliteitsrapport.json").read_text())
    assert {r["id"]: r["correctie"] for r in alone["rules"] if any(r["correctie"].values())} == changed
    assert not (tmp_path / "alone" / "VT01_2020H1_001").exists()


def test_both_reports_as_a_person_sees_them_in_chromium(reports, tmp_path):
    """VT02's reports opened in headless Chromium: the verdict, a violation with its line and delivered value,
    the spiegelrapport's headings and legend; each one offline file (no script, link or outside address)."""
    from tests.conftest import CHROMIUM_FLAGS, chromium, png_pixels

    _, out = reports
    folder = out / RULE_DELIVERY["KR02"]
    for name in ("kwaliteitsrapport.html", "spiegelrapport.html"):
        text = (folder / name).read_text()
        assert "<script" not in text and "<link" not in text and "src=" not in text and "://" not in text
    profile = tmp_path / "profile"

    def dom(name: str) -> str:
        return subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", (folder / name).as_uri()],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout

    page = dom("kwaliteitsrapport.html")
    assert "Oordeel: afgekeurd. 1 foutregel overtreden: KR02." in page
    assert (
        "<tr><td>6</td><td>AD</td><td>A2</td><td>startdatum</td><td>startdatum: 20200231</td>"
        "<td>een bestaande datum (JJJJMMDD) van 01-01-2015 tot en met 30-06-2020</td><td>–</td></tr>"
    ) in page
    assert '<a href="overtredingen.csv">overtredingen.csv</a>' in page
    spiegel = dom("spiegelrapport.html")
    assert '<h2 id="CA">Casussen (CA)</h2>' in spiegel and "<h2>Legenda</h2>" in spiegel
    assert "<td>code 10: Beroepsmatig betrokken</td>" in spiegel
    shot = tmp_path / "kwaliteitsrapport.png"
    subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1300,1600",
            (folder / "kwaliteitsrapport.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    width, bpp, rows = png_pixels(shot)
    red = sum(1 for row in rows[:300] for x in range(width) if tuple(row[x * bpp : x * bpp + 3]) == (0xA4, 0, 0))
    assert red > 500  # the verdict is painted in red at the top of the page


def test_a_required_field_left_blank_breaks_its_type_and_is_reported():
    """verplicht J (layout.csv): an N or D field may be all spaces only where verplicht = N
    (bestandsdefinitie.md). KR02 reports a blank required date, KR13 a blank required code; a field that only a
    later layout version has (ME.aanleiding, 0300) is required only in the records of that version."""
    import duckdb

    from vt_warehouse.quality.rules import REQUIRED, _code_bad, _date_bad

    assert {("MO", "datum_monitoring"), ("BT", "geslacht"), ("ME", "aanleiding"), ("CA", "startdatum")} <= REQUIRED
    assert ("CA", "einddatum") not in REQUIRED and ("ME", "organisatie") not in REQUIRED
    with duckdb.connect() as con:
        con.execute("create schema main_reference")  # (exposures.CODES: the seed of the code lists)
        con.execute(
            "create table main_reference.codes as select * from (values ('GESLACHT', '1'), "
            "('AANLEIDING', '01'), ('ORGANISATIE', '05')) as t (codelijst, code)"
        )

        def holds(condition: str, **r: str) -> bool:
            """Whether `condition` holds for one record whose columns are the SQL expressions `r`."""
            columns = ", ".join(f"{sql} as {name}" for name, sql in r.items())
            return con.execute(
                f"select {condition} from (select {columns}) as r, (select date '2020-06-30' as periode_einde) as l"
            ).fetchone()[0]

        blank, filled = "null::varchar", "true"
        assert holds(
            _date_bad("datum_monitoring", "MO"), datum_monitoring="null::date", datum_monitoring_ingevuld="false"
        )
        assert not holds(_date_bad("einddatum", "CA"), einddatum="null::date", einddatum_ingevuld="false")
        assert not holds(
            _date_bad("datum_monitoring", "MO"), datum_monitoring="date '2020-03-01'", datum_monitoring_ingevuld=filled
        )
        assert holds(_code_bad("geslacht", "GESLACHT", "BT"), geslacht=blank)
        assert not holds(_code_bad("organisatie", "ORGANISATIE", "ME"), organisatie=blank)
        # aanleiding: required in 0300 records, absent from 0200 ones
        assert holds(_code_bad("aanleiding", "AANLEIDING", "ME"), aanleiding=blank, aanleiding_in_layout="true")
        assert not holds(_code_bad("aanleiding", "AANLEIDING", "ME"), aanleiding=blank, aanleiding_in_layout="false")


def test_a_report_groups_findings_by_field_and_says_where_the_delivery_counts():
    """34 findings of one field of KR13 are a count and the first examples under that field (not ten examples
    and the rest only in the CSV); a correction received after every peildatum of its half-year says that it
    counts in no release; the leveringsnummer as delivered."""
    from vt_warehouse.quality.gx_runner import RuleOutcome

    kr13 = next(r for r in RULES if r.id == "KR13")
    example = {
        "recordtype": "ME",
        "nummer": "M1",
        "regelnummer": 3,
        "veld": "aanleiding",
        "waarde": "aanleiding: 99",
        "verwacht": "een code van AANLEIDING",
        "toelichting": None,
    }
    details = {
        "KR13": {
            "niet te controleren": 0,
            "voorbeelden": [example] * 10,
            "per_veld": [{"recordtype": "ME", "veld": "aanleiding", "aantal": 34, "voorbeelden": [example] * 5}],
        }
    }
    levering = {"verslagperiode": "2020H1", "ontvangen_dag": "2022-03-01", "leveringsnummer": "002"}
    report = kwaliteitsrapport("VT05_2020H1_002", [RuleOutcome(kr13, 34)], {"KR13": 40}, details, levering)
    assert report["kalender"] == {
        "telt_mee": [],
        "te_laat": [
            {"release": "2020V1", "peildatum": "2020-09-30"},
            {"release": "2020V2", "peildatum": "2021-03-31"},
            {"release": "2020V3", "peildatum": "2021-12-31"},
        ],
    }
    page = kwaliteitsrapport_html(report, "Zuid-Holland")
    assert (
        "Deze levering telt in geen enkele release mee: zij kwam na de peildatum van 2020V1 (peildatum "
        "30-09-2020), 2020V2 (peildatum 31-03-2021) en 2020V3 (peildatum 31-12-2021)."
    ) in page
    assert "<p>34 overtredingen in 1 veld; alle in" in page
    assert "<h4>ME.aanleiding: 34</h4>" in page and page.count("<td>aanleiding: 99</td>") == 5
    assert '<p>... en nog 29 in <a href="overtredingen.csv">overtredingen.csv</a>.</p>' in page
    assert "<tr><th>Leveringsnummer</th><td>002</td></tr>" in page
    late = kwaliteitsrapport(
        "VT05_2020H1_002", [RuleOutcome(kr13, 0)], {"KR13": 40}, {}, dict(levering, ontvangen_dag="2020-10-05")
    )
    assert (
        "Deze levering telt mee in 2020V2 en 2020V3 (tenzij een latere correctie vóór de peildatum binnenkomt); "
        "te laat voor 2020V1 (peildatum 30-09-2020)."
    ) in kwaliteitsrapport_html(late, "Zuid-Holland")
