"""The spiegelrapport's data: every field of a delivery on its own, in SQL (count, filled, valid, each code and
flag), beside the same figures of all organisations together and of the organisation's previous half-year."""

from __future__ import annotations

from dataclasses import dataclass

from loaders.layout import Layout, code_lists
from vt_warehouse.quality.text import decimal
from vt_warehouse.transform.exposures import GEMEENTECODES, LEVERINGEN, geleverd

MARGIN = 10.0  # percentage points


@dataclass(frozen=True)
class Measure:
    recordtype: str
    veld: str
    maat: str  # aantal, gevuld, geldig, code <c>, vlag <i>
    expression: str  # an aggregate over the delivered records `r` of one delivery (with its register row `l`)
    share: bool = True


def _measures(layout: Layout) -> list[Measure]:
    lists = code_lists()
    out = []
    for rt in layout.data_types:
        out.append(Measure(rt.code, "*", "aantal", "count(*)", share=False))
        for f in rt.fields:
            if f.name in ("recordtype", "vt_code"):
                continue
            if f.name == "bsn":
                out.append(Measure(rt.code, "bsn", "gevuld", "avg((r.bsn_status <> 'onbekend')::int)"))
                out.append(
                    Measure(rt.code, "bsn", "geldig", "avg((r.bsn_status in ('geldig', 'onbekend', 'ongeboren'))::int)")
                )
                continue
            col = f"r.{f.name}_geleverd"  # the text as delivered: the spiegelrapport mirrors it
            filled = f"trim({col}) <> ''"
            out.append(Measure(rt.code, f.name, "gevuld", f"avg(({filled})::int)"))
            if f.type == "D":
                valid = (
                    f"coalesce(try_strptime(trim({col}), '%Y%m%d')::date between date '2015-01-01' "
                    "and l.periode_einde, false)"
                )
            elif f.type == "F":
                valid = f"coalesce(regexp_full_match({col}, '[01]{{{f.length}}}'), false)"
            elif f.codelijst == "GEMEENTE":
                valid = (
                    f"(trim({col}) = '9999' or exists (select 1 from {GEMEENTECODES} as g "
                    f"where g.verslagperiode = l.verslagperiode and g.gemeentecode = trim({col}) "
                    "and g.gemeente_gaaf <> '9999'))"
                )
            elif f.codelijst and f.codelijst in lists:
                codes = ", ".join(f"'{c}'" for c, _ in lists[f.codelijst])
                valid = f"trim({col}) in ({codes})"
            elif f.name == "veiligheidsscore":
                valid = (
                    f"coalesce(regexp_full_match(trim({col}), '[0-9]{{1,2}}') "
                    f"and try_cast(trim({col}) as integer) <= 10, false)"
                )
            else:
                valid = filled
            out.append(Measure(rt.code, f.name, "geldig", f"avg(case when {filled} then ({valid})::int end)"))
            if f.type == "F":
                for i in range(1, f.length + 1):
                    out.append(Measure(rt.code, f.name, f"vlag {i}", f"avg((substr({col}, {i}, 1) = '1')::int)"))
            elif f.codelijst and f.codelijst in lists and f.codelijst != "VT_ORGANISATIE":
                for c, _ in lists[f.codelijst]:
                    out.append(
                        Measure(
                            rt.code, f.name, f"code {c}", f"avg(case when {filled} then (trim({col}) = '{c}')::int end)"
                        )
                    )
    return out


def _measures_query(rt, measures: list[Measure], group: str | None) -> tuple[str, list[Measure]]:
    """The query of the measures of one record type over the records of the deliveries given as its parameter
    (a list): over them together, or one row per value of `group` (an SQL expression over the record `r` and its
    register row `l`), that value first."""
    ms = [m for m in measures if m.recordtype == rt.code]
    select = ", ".join([group] * bool(group) + [m.expression for m in ms])
    query = (
        f"select {select} from {geleverd(rt.entiteit)} as r join {LEVERINGEN} as l "
        "on r.levering_id = l.levering_id where list_contains(?, r.levering_id)"
    )
    return query + f" group by {group}" * bool(group), ms


def _values(con, layout: Layout, lids: list[str], measures: list[Measure]) -> dict[tuple, float | None]:
    """Every measure over the records of the given deliveries together (none: no values)."""
    if not lids:
        return {}
    out = {}
    for rt in layout.data_types:
        query, ms = _measures_query(rt, measures, group=None)
        for m, v in zip(ms, con.execute(query, [lids]).fetchone()):
            out[(m.recordtype, m.veld, m.maat)] = v
    return out


def _values_each(
    con,
    layout: Layout,
    lids: list[str],
    measures: list[Measure],
    group: str = "r.levering_id",
    keys: list[str] | None = None,
) -> dict[str, dict[tuple, float | None]]:
    """_values of each group of the deliveries on its own (by default each delivery; `keys`: the groups, by default
    the deliveries), one query per record type for all of them."""
    out: dict[str, dict[tuple, float | None]] = {key: {} for key in (lids if keys is None else keys)}
    for rt in layout.data_types:
        query, ms = _measures_query(rt, measures, group)
        rows = {row[0]: row[1:] for row in con.execute(query, [lids]).fetchall()}
        # a group without records of the type has the measures of no records (counts 0, shares none)
        empty = con.execute(_measures_query(rt, measures, group=None)[0], [[]]).fetchone()
        for key, values in out.items():
            for m, v in zip(ms, rows.get(key, empty)):
                values[(m.recordtype, m.veld, m.maat)] = v
    return out


def spiegel_prefetch(con, deliveries: dict[str, Layout], cache: dict) -> None:
    """Fill a spiegelrapport cache for many deliveries at once: the figures of each, of the delivery it replaces
    and of its previous half-year, one query per record type and layout version instead of three per delivery;
    and the national figures of their half-years, one query per record type and layout version for all of them."""
    by_version: dict[str, tuple[Layout, set[str], set[str]]] = {}
    before = _previous_each(con, list(deliveries))
    for lid, layout in deliveries.items():
        earlier, previous = before[lid]
        cache[("vorige", lid)] = (earlier, previous)
        _, wanted, periods = by_version.setdefault(layout.versie, (layout, set(), set()))
        wanted.update(x for x in (lid, earlier, previous) if x)
        periods.add(_periode(lid))
    national = _national_each(con, sorted({p for _, _, periods in by_version.values() for p in periods}))
    for versie, (layout, lids, periods) in by_version.items():
        measures = _measures(layout)
        for lid, values in _values_each(con, layout, sorted(lids), measures).items():
            cache[(lid, versie)] = values
        delivered = sorted(p for p in periods if national[p])
        ids = sorted(lid for p in delivered for lid in national[p])
        figures = _values_each(con, layout, ids, measures, group="l.verslagperiode", keys=delivered) if ids else {}
        for periode in periods:
            cache[(periode, versie)] = figures.get(periode, {})  # no delivery for the half-year: no figures


def _periode(levering_id: str) -> str:
    """The half-year of a delivery id vt_code_JJJJHn_nnn."""
    return levering_id.split("_")[1]


def _national(con, verslagperiode: str) -> list[str]:
    """The latest delivery of every organisation for the half-year: together they are 'landelijk'."""
    return _national_each(con, [verslagperiode])[verslagperiode]


def _national_each(con, verslagperioden: list[str]) -> dict[str, list[str]]:
    """_national of each half-year, in one query."""
    out: dict[str, list[str]] = {p: [] for p in verslagperioden}
    for periode, lid in con.execute(
        f"select verslagperiode, levering_id from {LEVERINGEN} where list_contains(?, verslagperiode) "
        "and laatste order by levering_id",
        [verslagperioden],
    ).fetchall():
        out[periode].append(lid)
    return out


def _previous_each(con, lids: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Per delivery (the previous delivery for the same half-year, the latest delivery of the previous half-year),
    in one query for all of them; the previous half-year is the register's, as in the rules (rules.PREVIOUS)."""
    rows = con.execute(
        f"""select g.levering_id, g.vervangt, p.levering_id
            from {LEVERINGEN} as g
            left join {LEVERINGEN} as p
                on p.vt_code = g.vt_code and p.laatste and p.verslagperiode = g.vorige_verslagperiode
            where list_contains(?, g.levering_id)""",
        [lids],
    ).fetchall()
    out: dict[str, tuple[str | None, str | None]] = {lid: (None, None) for lid in lids}
    for lid, earlier, previous in rows:
        out[lid] = (earlier, previous)
    return out


MIN_GROUP = 20  # records: a share of a smaller group is not marked (4 onderzoeken move 25 points a record)


def _labels(layout: Layout) -> dict[tuple[str, str, str], str]:
    """The label of every code and flag measure, from the code lists (`rol`, `code 10` -> Beroepsmatig ...)."""
    lists = code_lists()
    out = {}
    for rt in layout.data_types:
        for f in rt.fields:
            entries = dict(lists.get(f.codelijst or "", []))
            for code, label in entries.items():
                out[(rt.code, f.name, f"vlag {code}" if f.type == "F" else f"code {code}")] = label
    return out


def marking(
    this: float | None, land: float | None, last: float | None, sizes: tuple[int, int, int], margin: float = MARGIN
) -> list[str]:
    """Why a share is marked (empty: it is not): more than `margin` points from landelijk or from the previous
    half-year, each only where both groups compared (`sizes`: own, landelijk, previous half-year records)
    have at least MIN_GROUP records."""
    own_n, land_n, last_n = sizes
    reasons = []
    if this is None or own_n < MIN_GROUP:
        return reasons
    for other, n, what in ((land, land_n, "landelijk"), (last, last_n, "uw vorige halfjaar")):
        if other is not None and n >= MIN_GROUP and abs(this - other) > margin:
            side = "boven" if this > other else "onder"
            reasons.append(f"{decimal(abs(this - other))} procentpunt {side} {what} ({decimal(other)}%)")
    return reasons


def spiegelrapport(
    con, layout: Layout, levering_id: str, margin: float = MARGIN, national_cache: dict | None = None
) -> list[dict]:
    """The mirror report of one delivery; pass one `national_cache` dict for many deliveries, so the national
    figures of a half-year (and those spiegel_prefetch fetched for many deliveries at once) are computed once.
    A share is marked when it differs more than `margin` points from landelijk or from the previous half-year,
    and only where both groups compared have MIN_GROUP records."""
    measures = _measures(layout)
    labels = _labels(layout)
    cache = national_cache if national_cache is not None else {}
    earlier, previous = cache.get(("vorige", levering_id)) or _previous_each(con, [levering_id])[levering_id]

    def values(lid: str | None) -> dict:
        if not lid:
            return {}
        if (lid, layout.versie) not in cache:
            cache[(lid, layout.versie)] = _values(con, layout, [lid], measures)
        return cache[(lid, layout.versie)]

    own, before, prev = values(levering_id), values(earlier), values(previous)
    periode = _periode(levering_id)
    if (periode, layout.versie) not in cache:
        cache[(periode, layout.versie)] = _values(con, layout, _national(con, periode), measures)
    national = cache[(periode, layout.versie)]

    def pct(v):
        return None if v is None else round(100 * v, 1)

    rows = []
    for m in measures:
        key = (m.recordtype, m.veld, m.maat)
        value = own.get(key)
        size = (m.recordtype, "*", "aantal")
        if m.share:
            this, land, last = pct(value), pct(national.get(key)), pct(prev.get(key))
            reasons = marking(
                this, land, last, (own.get(size) or 0, national.get(size) or 0, prev.get(size) or 0), margin
            )
            rows.append(
                {
                    "recordtype": m.recordtype,
                    "veld": m.veld,
                    "maat": m.maat,
                    "label": labels.get(key, ""),
                    "deze_levering": this,
                    "vorige_levering": pct(before.get(key)) if earlier else None,
                    "landelijk": land,
                    "vorig_halfjaar": last,
                    "afwijkend": "J" if reasons else "N",
                    "reden": "; ".join(reasons),
                }
            )
        else:
            rows.append(
                {
                    "recordtype": m.recordtype,
                    "veld": m.veld,
                    "maat": m.maat,
                    "label": "",
                    "deze_levering": value,
                    "vorige_levering": before.get(key),
                    "landelijk": national.get(key),
                    "vorig_halfjaar": prev.get(key),
                    "afwijkend": "N",
                    "reden": "",
                }
            )
    return rows


SPIEGEL_COLUMNS = [
    "recordtype",
    "veld",
    "maat",
    "deze_levering",
    "vorige_levering",
    "landelijk",
    "vorig_halfjaar",
    "afwijkend",
    "label",
    "reden",
]
