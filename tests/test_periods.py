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


def test_the_dbt_macros_are_the_twins_of_periode(tmp_path):
    """The half-year arithmetic of the models (macros periode_start, periode_einde, periode_vorige) gives what
    Periode gives, for every half-year from 2019 to 2040: the macros compiled by dbt, run by DuckDB."""
    import duckdb

    from tests.conftest import run_dbt_cli

    perioden = periode_range("2019H1:2040H2")
    values = ", ".join(f"('{p}')" for p in perioden)
    sql = (
        "select p, {{ periode_start('p') }} as s, {{ periode_einde('p') }} as e, {{ periode_vorige('p') }} as v "
        f"from (values {values}) as t (p) order by p"
    )
    proc = run_dbt_cli(tmp_path, "compile", "--quiet", "--inline", sql)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    compiled = proc.stdout[proc.stdout.index("select") :]
    got = duckdb.sql(compiled).fetchall()
    assert got == [(str(p), p.start, p.end, str(p.previous())) for p in perioden]
