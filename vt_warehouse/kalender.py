"""The release calendar by rule (verwerking.md section 5), with its exceptions as data.

Every year from 2019 on has three releases: `JJJJV1` (H1, voorlopig, peildatum JJJJ-09-30), `JJJJV2` (H1 + H2,
nader voorlopig, (JJJJ+1)-03-31) and `JJJJV3` (H1 + H2, definitief, (JJJJ+1)-12-31). What departs from the rule
(2019 has only V1; a moved peildatum; a skipped or an extra release) is a row of the seed
`data/releasekalender_afwijkingen.csv`. `plan` is the one home of the rule: Python calls it here, and dbt
calls it from the model `int_releases_gepland` with the same seed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from loaders.layout import read_csv
from loaders.periods import FIRST_YEAR, LAST_YEAR

AFWIJKINGEN = "releasekalender_afwijkingen.csv"
NAME = re.compile(r"^(\d{4})V([1-9])\Z")
STATUS_MARK = {"voorlopig": "*", "nader voorlopig": "**", "definitief": ""}


class CalendarError(ValueError):
    """A release name that the calendar does not have, or an exception row that cannot be applied."""


@dataclass(frozen=True)
class Release:
    name: str
    perioden: tuple[str, ...]
    status: str
    peildatum: date
    toelichting: str = ""  # why it departs from the rule, when it does

    @property
    def jaar(self) -> int:
        return int(self.name[:4])

    @property
    def jaren(self) -> set[int]:
        """The years of its half-years (whose reference data it needs)."""
        return {int(p[:4]) for p in self.perioden}

    @property
    def versie(self) -> int:
        return int(self.name[5:])

    @property
    def mark(self) -> str:
        return STATUS_MARK[self.status]


def by_rule(jaar: int) -> list[Release]:
    """The three releases of a year as the rule makes them."""
    h1, h2 = f"{jaar}H1", f"{jaar}H2"
    return [
        Release(f"{jaar}V1", (h1,), "voorlopig", date(jaar, 9, 30)),
        Release(f"{jaar}V2", (h1, h2), "nader voorlopig", date(jaar + 1, 3, 31)),
        Release(f"{jaar}V3", (h1, h2), "definitief", date(jaar + 1, 12, 31)),
    ]


def plan(jaren: Iterable[int], afwijkingen: list[dict[str, str]]) -> list[Release]:
    """The releases of these years, in name order: the rule, then every exception of those years applied.

    An exception row names a release; `overslaan` = J removes it; otherwise each filled field (verslagperioden
    space separated, status, peildatum) replaces the rule's value, and a release the rule does not make is
    added (then every field must be filled).
    """
    out: dict[str, Release] = {}
    wanted = sorted(set(jaren))
    for jaar in wanted:
        out.update((r.name, r) for r in by_rule(jaar))
    for row in afwijkingen:
        name = row["release"].strip()
        m = NAME.match(name)
        if not m:
            raise CalendarError(f"{AFWIJKINGEN}: {name!r} is not a release name JJJJVn")
        if int(m[1]) not in wanted:
            continue
        reden = (row.get("reden") or "").strip()
        if (row.get("overslaan") or "").strip().upper() == "J":
            out.pop(name, None)
            continue
        fields = {}
        if (row.get("verslagperioden") or "").strip():
            fields["perioden"] = tuple(row["verslagperioden"].split())
        if (row.get("status") or "").strip():
            if row["status"].strip() not in STATUS_MARK:
                raise CalendarError(
                    f"{AFWIJKINGEN}: {name}: status {row['status']!r} is not one of {', '.join(STATUS_MARK)}"
                )
            fields["status"] = row["status"].strip()
        if (row.get("peildatum") or "").strip():
            try:
                fields["peildatum"] = date.fromisoformat(row["peildatum"].strip())
            except ValueError:
                raise CalendarError(
                    f"{AFWIJKINGEN}: {name}: peildatum {row['peildatum']!r} is not YYYY-MM-DD"
                ) from None
        if name in out:
            out[name] = replace(out[name], **fields, toelichting=reden)
        elif {"perioden", "status", "peildatum"} <= set(fields):
            out[name] = Release(name, toelichting=reden, **fields)
        else:
            raise CalendarError(
                f"{AFWIJKINGEN}: {name} is not made by the rule, so it needs verslagperioden, status and peildatum"
            )
    return [out[k] for k in sorted(out)]


def afwijkingen() -> list[dict[str, str]]:
    return read_csv(AFWIJKINGEN)


def releases(first: int, last: int) -> list[Release]:
    """Every release of the years first..last (inclusive), from the project's calendar."""
    return plan(range(max(first, FIRST_YEAR), last + 1), afwijkingen())


def releases_up_to(today: date) -> list[Release]:
    """Every release from 2019 to the year of `today`: all that can have deliveries by then."""
    return releases(FIRST_YEAR, today.year)


def get_release(name: str) -> Release:
    """The release of that name, or CalendarError saying which releases its year has."""
    m = NAME.fullmatch(name)  # exactly: "2020V2\n" is not a release
    if not m or not FIRST_YEAR <= int(m[1]) <= LAST_YEAR:
        raise CalendarError(
            f"{name!r} is not a release: a release is named JJJJVn (for example 2020V1), "
            f"from {FIRST_YEAR} to {LAST_YEAR}"
        )
    year = releases(int(m[1]), int(m[1]))
    for r in year:
        if r.name == name:
            return r
    skipped = [row.get("reden", "").strip() for row in afwijkingen() if row["release"].strip() == name]
    why = f" ({skipped[0]})" if skipped and skipped[0] else ""
    raise CalendarError(f"release {name} does not exist{why}; {m[1]} has {', '.join(r.name for r in year)}")


def place(verslagperiode: str, ontvangen: date) -> dict[str, list]:
    """Where a delivery stands in the calendar: the releases of its half-year whose peildatum it made (it counts
    there, unless a later correction also does), and those it came too late for. The rule of `geldig_op`: a
    delivery counts from the day it was received, up to and including the peildatum."""
    jaar = int(verslagperiode[:4])
    own = [r for r in releases(jaar, min(jaar + 2, LAST_YEAR)) if verslagperiode in r.perioden]
    return {
        "telt_mee": [r.name for r in own if ontvangen <= r.peildatum],
        "te_laat": [{"release": r.name, "peildatum": r.peildatum.isoformat()} for r in own if ontvangen > r.peildatum],
    }
