from datetime import date

import pytest

from loaders.periods import Periode, periode_range


def test_periode_dates_and_range():
    assert (Periode.parse("2020H1").start, Periode.parse("2020H1").end) == (date(2020, 1, 1), date(2020, 6, 30))
    assert Periode.parse("2020H2").end == date(2020, 12, 31)
    assert [str(p) for p in periode_range("2019H2:2021H1")] == ["2019H2", "2020H1", "2020H2", "2021H1"]
    assert [str(p) for p in periode_range("2023H2")] == ["2023H2"]


@pytest.mark.parametrize("text", ["2018H2", "2020H3", "2020", "2021H1:2020H2"])
def test_invalid_periods(text):
    with pytest.raises(ValueError):
        periode_range(text)
