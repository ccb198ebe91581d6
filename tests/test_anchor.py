"""The record of each freeze, outside the release folder (vt_warehouse/release/anchor.py): its pure parts."""

from vt_warehouse.release.anchor import selection_change


def test_a_changed_selection_names_each_delivery_added_and_gone():
    then = ["VT01_2020H1_001", "VT03_2020H1_001"]
    assert selection_change(then, ["VT01_2020H1_001", "VT03_2020H1_002"]) == (
        "now also VT03_2020H1_002; no longer VT03_2020H1_001"
    )
    assert selection_change(then, [*then, "VT02_2020H1_001"]) == "now also VT02_2020H1_001"
    assert selection_change(then, then[:1]) == "no longer VT03_2020H1_001"
    assert selection_change(then, list(reversed(then))) == (
        "the same 2 deliveries, other content: a changed key, reference data or delivery reception time"
    )
