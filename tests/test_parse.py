"""Rules 1-6, 8 and 9 of the Bestandsdefinitie, each with a crafted file; accepted variations of a valid file;
layout versions."""

from __future__ import annotations

import io

import pytest

from loaders.layout import CURRENT_VERSION, default_layout, layouts, parse_layouts, read_csv
from loaders.parse import DeliveryRejected, iter_tables, parse_delivery, scan_delivery
from tests.conftest import KNOWN_VERSIONS, UNKNOWN_VERSION, record, small_delivery

NAME = "VT05_2020H1_001.txt"


def parse(lines: list[str], name: str = NAME, newline: str = "\n", final: bool = True):
    data = (newline.join(lines) + (newline if final else "")).encode("latin-1")
    return parse_delivery(data, name, layouts())


def rejected(lines: list[str], name: str = NAME) -> DeliveryRejected:
    with pytest.raises(DeliveryRejected) as info:
        parse(lines, name)
    return info.value


def only(exc: DeliveryRejected):
    assert len(exc.violations) == 1, exc.message
    return exc.violations[0]


def test_valid_delivery_is_split_per_record_type():
    parsed = parse(small_delivery())
    assert parsed.levering_id == "VT05_2020H1_001"
    assert parsed.counts == {"CA": 2, "AD": 1, "ME": 2, "VB": 1, "VV": 1, "ON": 1, "OV": 1, "MO": 1, "BT": 2}
    ca = parsed.tables["CA"].to_pylist()
    # raw values exactly as delivered: untrimmed text, line numbers of the file
    assert ca[0]["casusnummer"] == "C1".ljust(20)
    assert ca[0]["einddatum"] == "20200501"
    assert ca[1]["einddatum"] == " " * 8
    assert [r["regelnummer"] for r in ca] == [2, 3]
    assert parsed.tables["BT"].column("bsn").to_pylist() == ["123456782", "111222333"]


@pytest.mark.parametrize("newline,final", [("\r\n", True), ("\r\n", False), ("\n", False)])
def test_crlf_and_missing_final_newline_are_accepted(newline, final):
    parsed = parse(small_delivery(), newline=newline, final=final)
    assert parsed.counts["BT"] == 2
    assert parsed.tables["MO"].column("veiligheidsscore").to_pylist() == ["07"]


def test_mixed_line_endings_are_accepted():
    lines = small_delivery()
    data = ("\r\n".join(lines[:5]) + "\n" + "\n".join(lines[5:])).encode()
    parsed = parse_delivery(data, NAME, default_layout())
    assert sum(parsed.counts.values()) == 12
    assert parsed.tables["ME"].column("meldingnummer").to_pylist() == ["M1".ljust(20), "M2".ljust(20)]


def test_rule1_missing_vl():
    v = only(rejected(small_delivery()[1:]))
    assert v.rule == 1 and "first record is not VL" in v.detail


def test_rule1_duplicate_sl_and_misplaced_vl():
    lines = small_delivery()
    lines = [lines[0], lines[1], lines[-1], lines[0], *lines[2:]]
    exc = rejected(lines)
    v = exc.violations[0]
    assert v.rule == 1 and v.lines == (3, 4)


def test_rule1_empty_file():
    with pytest.raises(DeliveryRejected) as info:
        parse_delivery(b"", NAME, default_layout())
    assert info.value.rules == [1]


def test_rule2_wrong_length_and_non_ascii():
    lines = small_delivery()
    lines[3] = lines[3][:119]
    lines[5] = lines[5][:50] + "é" + lines[5][51:]
    lines[7] = lines[7][:60] + "\t" + lines[7][61:]
    exc = rejected(lines)
    assert exc.rules == [2]
    assert exc.violations[0].lines == (4, 6, 8)
    assert "rule 2" in exc.message and "lines 4, 6, 8 (3 lines)" in exc.message


def test_rule2_blank_line_in_the_middle():
    lines = small_delivery()
    lines.insert(4, "")
    assert only(rejected(lines)).lines == (5,)


def test_rule2_stray_carriage_return():
    lines = small_delivery()
    lines[2] = lines[2][:119] + "\r"
    assert only(rejected(lines)).lines == (3,)


def test_rule3_unknown_record_type():
    lines = small_delivery()
    lines.insert(2, "XX" + lines[2][2:])
    v = only(rejected(lines))
    assert (v.rule, v.lines) == (3, (3,))


def test_rule4_other_vt_code():
    lines = small_delivery()
    lines[4] = lines[4][:2] + "VT06" + lines[4][6:]
    lines[9] = lines[9][:2] + "VT07" + lines[9][6:]
    v = only(rejected(lines))
    assert (v.rule, v.lines) == (4, (5, 10))


def test_rule5_sl_counts():
    lines = small_delivery()
    del lines[3]  # an AD record, the SL still says 1
    v = only(rejected(lines))
    assert v.rule == 5 and v.lines == (len(lines),)
    assert "AD declared 0000001, found 0" in v.detail


@pytest.mark.parametrize("periode", ["2018H2", "2020H3", "2020-1"])
def test_rule6_bad_verslagperiode(periode):
    lines = small_delivery(periode=periode)
    exc = rejected(lines, f"VT05_{periode}_001.txt")
    assert exc.rules == [6]
    assert "verslagperiode" in exc.violations[0].detail


@pytest.mark.parametrize(
    "name,part",
    [
        ("VT06_2020H1_001.txt", "vt_code"),
        ("VT05_2020H2_001.txt", "verslagperiode"),
        ("VT05_2020H1_002.txt", "leveringsnummer"),
        ("levering.txt", "file name"),
    ],
)
def test_rule6_file_name_disagrees_with_vl(name, part):
    v = only(rejected(small_delivery(), name))
    assert v.rule == 6 and part in v.detail


def test_rule8_duplicate_keys():
    lines = small_delivery()
    lines.insert(3, lines[1])  # CA C1 twice
    # BT key is persoonsnummer + casusnummer: same person in another casus is fine, same pair is not
    lines.insert(
        -1, record("BT", persoonsnummer="P1", casusnummer="C2", bsn="000000000", geboortedatum="00000000", geslacht="9")
    )
    lines.insert(-1, lines[-3])
    lines[-1] = record(
        "SL",
        **{
            "aantal_ca": "0000003",
            "aantal_ad": "0000001",
            "aantal_me": "0000002",
            "aantal_vb": "0000001",
            "aantal_vv": "0000001",
            "aantal_on": "0000001",
            "aantal_ov": "0000001",
            "aantal_mo": "0000001",
            "aantal_bt": "0000004",
        },
    )
    v = only(rejected(lines))
    assert v.rule == 8
    assert v.lines == (2, 4, 14, 16)


def test_several_rules_are_reported_together():
    lines = small_delivery()
    lines.insert(2, "XX" + lines[2][2:])
    lines[4] = lines[4][:2] + "VT06" + lines[4][6:]
    exc = rejected(lines, "VT05_2020H1_009.txt")
    assert exc.rules == [3, 4, 6]


def test_many_offending_lines_are_shortened_in_the_message():
    lines = small_delivery()
    lines[1:1] = ["ZZ" + lines[1][2:]] * 25
    exc = rejected(lines)
    assert exc.rules == [3]
    assert "lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (25 lines)" in exc.message


def test_each_layout_version_parses_its_own_fields():
    """0300 has one more ME field (aanleiding, positions 76-77); the VL record says which layout a file has."""
    old, new = parse(small_delivery()), parse(small_delivery(versie="0300"))
    assert (old.versie_bestandsdefinitie, new.versie_bestandsdefinitie) == ("0200", "0300")
    assert "aanleiding" not in old.tables["ME"].column_names
    assert new.tables["ME"].column("aanleiding").to_pylist() == ["01", "04"]
    assert new.tables["ME"].drop_columns(["aanleiding"]).equals(old.tables["ME"])
    assert new.counts == old.counts


def test_rule9_unknown_layout_version_rejects_the_file_whole():
    lines = small_delivery()
    lines[0] = lines[0][:20] + UNKNOWN_VERSION + lines[0][24:]
    v = only(rejected(lines))
    assert (v.rule, v.lines) == (9, (1,))
    assert v.describe() == (
        "rule 9 (the versie_bestandsdefinitie of the VL record is a known layout version): "
        f"version '{UNKNOWN_VERSION}' is not known (known: {KNOWN_VERSIONS}); line 1 (1 line)"
    )


def test_a_0300_file_read_with_the_0200_layout_only_is_rule_9():
    data = ("\n".join(small_delivery(versie="0300")) + "\n").encode()
    with pytest.raises(DeliveryRejected) as info:
        parse_delivery(data, NAME, default_layout())
    assert info.value.rules == [9]


def test_layout_versions_must_keep_the_vl_record_in_place():
    rows = read_csv("layout.csv")
    field = next(r for r in rows if (r["versie"], r["recordtype"], r["veld"]) == ("0200", "VL", "leveringsnummer"))
    moved = [*rows, dict(field, versie="0300", start=str(int(field["start"]) + 1))]  # a change of 0300
    with pytest.raises(ValueError, match="the VL record differs between versions 0200, 0300"):
        parse_layouts(moved, read_csv("recordtypes.csv"))


def test_a_later_layout_version_is_its_changes_to_the_one_before():
    """A field added to the first version reaches every later one; a later version's row replaces a field or adds
    one at its position; `vervalt` J removes one, and removing a field no version has is an error."""
    rows = read_csv("layout.csv")
    versions = sorted({r["versie"] for r in rows})
    # later versions hold only their changes: fewer rows than the first
    assert all(
        sum(r["versie"] == v for r in rows) < sum(r["versie"] == versions[0] for r in rows) for v in versions[1:]
    )
    base = dict(next(r for r in rows if r["recordtype"] == "AD" and r["veld"] == "duur"))
    added = dict(base, veld="verwijzer", start="67", lengte="2", codelijst="")
    gone = dict(base, versie=versions[-1], vervalt="J")
    layouts_ = parse_layouts([*rows, added, gone], read_csv("recordtypes.csv"))
    for v in versions:
        names = [f.name for f in layouts_.versions[v].record_types["AD"].fields]
        assert "verwijzer" in names and (("duur" in names) == (v != versions[-1])), v
        starts = [f.start for f in layouts_.versions[v].record_types["AD"].fields]
        assert starts == sorted(starts)
    with pytest.raises(ValueError, match="AD.onbekend is removed but no earlier version has it"):
        parse_layouts([*rows, dict(gone, veld="onbekend")], read_csv("recordtypes.csv"))


def _outcome(run):
    try:
        parsed = run()
    except DeliveryRejected as exc:
        return exc.message
    return parsed.levering_id, parsed.counts, {code: t.to_pylist() for code, t in parsed.tables.items()}


def _variants() -> dict[str, bytes]:
    lines = small_delivery()
    long_line = lines[4] + "X" * 500
    return {
        "valid": ("\n".join(lines) + "\n").encode(),
        "crlf, no final newline": "\r\n".join(lines).encode(),
        "mixed endings": ("\r\n".join(lines[:5]) + "\n" + "\n".join(lines[5:])).encode(),
        "overlong and short lines": "\n".join([*lines[:3], long_line, lines[5][:50], *lines[6:]]).encode(),
        "duplicate keys far apart": "\n".join([lines[0], lines[1], *lines[2:-1], lines[1], lines[-1]]).encode(),
        "misplaced VL and SL": "\n".join([lines[0], lines[-1], *lines[1:-1], lines[0], lines[-1]]).encode(),
        "no newline at all": b"#" * 5000,
        "non-ASCII": ("\n".join(lines).replace("C1 ", "C\xe9 ", 1)).encode("latin-1"),
        "empty": b"",
    }


@pytest.mark.parametrize("name", list(_variants()))
@pytest.mark.parametrize("chunk", [1, 50, 121, 122, 500, 1000])
def test_a_file_read_in_chunks_gives_exactly_what_it_gives_whole(name, chunk):
    """Memory stays bounded because a large file is read in chunks of whole lines: any chunk size gives the same
    tables, or the same rejection with the same lines and counts, as the whole file in one piece."""
    data = _variants()[name]
    whole = _outcome(lambda: parse_delivery(data, NAME, layouts()))
    chunked = _outcome(lambda: scan_delivery(io.BytesIO(data), NAME, layouts(), chunk_bytes=chunk, keep_tables=True))
    assert chunked == whole
    if isinstance(whole, tuple):  # and iter_tables yields the same records chunk by chunk
        pieces = list(iter_tables(io.BytesIO(data), layouts().get(CURRENT_VERSION), chunk_bytes=chunk))
        joined = {code: [r for p in pieces for r in p[code].to_pylist()] for code in whole[2]}
        assert joined == whole[2]


def test_a_violation_keeps_its_count_beyond_the_lines_it_keeps():
    lines = small_delivery()
    data = ("\n".join([lines[0], *[lines[1][:100]] * 2500, lines[-1]]) + "\n").encode()
    exc = rejected_bytes(data)
    assert exc.rules == [2, 5]
    v = exc.violations[0]
    assert (len(v.lines), v.count) == (1000, 2500)
    assert v.describe().endswith("; lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (2500 lines)")


def rejected_bytes(data: bytes) -> DeliveryRejected:
    with pytest.raises(DeliveryRejected) as info:
        scan_delivery(io.BytesIO(data), NAME, layouts(), chunk_bytes=4096)
    return info.value
