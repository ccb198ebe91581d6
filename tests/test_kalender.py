"""The release calendar by rule (verwerking.md section 5) with its exceptions as data."""

from __future__ import annotations

from datetime import date

import pytest

from vt_warehouse.kalender import CalendarError, Release, get_release, plan, releases, releases_up_to


def rows(rs: list[Release]) -> list[tuple]:
    return [(r.name, r.perioden, r.status, r.peildatum.isoformat()) for r in rs]


def test_the_table_of_verwerking_md_for_2019_and_2020():
    assert rows(releases(2019, 2020)) == [
        ("2019V1", ("2019H1", "2019H2"), "definitief", "2020-06-30"),
        ("2020V1", ("2020H1",), "voorlopig", "2020-09-30"),
        ("2020V2", ("2020H1", "2020H2"), "nader voorlopig", "2021-03-31"),
        ("2020V3", ("2020H1", "2020H2"), "definitief", "2021-12-31"),
    ]


def test_every_year_from_2019_on_has_its_releases():
    assert rows(releases(2026, 2026)) == [
        ("2026V1", ("2026H1",), "voorlopig", "2026-09-30"),
        ("2026V2", ("2026H1", "2026H2"), "nader voorlopig", "2027-03-31"),
        ("2026V3", ("2026H1", "2026H2"), "definitief", "2027-12-31"),
    ]
    assert len(releases(2019, 2040)) == 1 + 3 * 21
    assert [r.name for r in releases_up_to(date(2026, 11, 23))][-3:] == ["2026V1", "2026V2", "2026V3"]
    assert get_release("2031V2").peildatum == date(2032, 3, 31)
    assert (get_release("2020V2").mark, get_release("2020V1").mark, get_release("2020V3").mark) == ("**", "*", "")


@pytest.mark.parametrize(
    "name,message",
    [
        ("2019V2", "release 2019V2 does not exist (2019 has only V1 (verwerking.md section 5)); 2019 has 2019V1"),
        ("2020V9", "release 2020V9 does not exist; 2020 has 2020V1, 2020V2, 2020V3"),
        ("2018V1", "'2018V1' is not a release: a release is named JJJJVn (for example 2020V1), from 2019 to 2100"),
        ("2020v1", "'2020v1' is not a release: a release is named JJJJVn (for example 2020V1), from 2019 to 2100"),
        ("2020V2\n", "'2020V2\\n' is not a release: a release is named JJJJVn (for example 2020V1), from 2019 to 2100"),
        ("9999V9", "'9999V9' is not a release: a release is named JJJJVn (for example 2020V1), from 2019 to 2100"),
    ],
)
def test_unknown_releases_are_named_with_what_exists(name, message):
    with pytest.raises(CalendarError) as info:
        get_release(name)
    assert str(info.value) == message


def test_exceptions_move_a_peildatum_skip_a_release_and_add_one():
    exceptions = [
        {
            "release": "2027V1",
            "overslaan": "N",
            "verslagperioden": "",
            "status": "",
            "peildatum": "2027-10-15",
            "reden": "moved",
        },
        {"release": "2027V2", "overslaan": "J", "verslagperioden": "", "status": "", "peildatum": "", "reden": ""},
        {
            "release": "2027V4",
            "overslaan": "",
            "verslagperioden": "2027H1 2027H2",
            "status": "definitief",
            "peildatum": "2029-06-30",
            "reden": "an extra correction release",
        },
        {"release": "2030V1", "overslaan": "J", "verslagperioden": "", "status": "", "peildatum": "", "reden": ""},
    ]
    assert rows(plan([2027], exceptions)) == [
        ("2027V1", ("2027H1",), "voorlopig", "2027-10-15"),
        ("2027V3", ("2027H1", "2027H2"), "definitief", "2028-12-31"),
        ("2027V4", ("2027H1", "2027H2"), "definitief", "2029-06-30"),
    ]
    assert plan([2027], exceptions)[0].toelichting == "moved"


@pytest.mark.parametrize(
    "row,message",
    [
        ({"release": "2027X1"}, "'2027X1' is not a release name JJJJVn"),
        ({"release": "2027V5", "peildatum": "2029-01-01"}, "2027V5 is not made by the rule, so it needs"),
        ({"release": "2027V1", "status": "voorlopig*"}, "2027V1: status 'voorlopig\\*' is not one of"),
        ({"release": "2027V1", "peildatum": "1 oktober"}, "2027V1: peildatum '1 oktober' is not YYYY-MM-DD"),
    ],
)
def test_a_bad_exception_row_is_an_error_not_ignored(row, message):
    with pytest.raises(CalendarError, match=message):
        plan([2027], [row])
