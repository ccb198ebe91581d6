"""Cut one organisation's delivery for a half-year out of its simulated history, add defects, render it.

What a delivery holds follows bestandsdefinitie.md: casussen, adviezen and diensten active in the period
(an einddatum only when it lies in or before the period), meldingen, veiligheidsbeoordelingen,
overdrachten and monitoringsmomenten dated in the period, and the directbetrokkenen of its casussen.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from loaders.layout import RECORD_LENGTH, Layout, RecordType
from loaders.periods import Periode
from vt_warehouse.generate.world import World, d64

Cols = dict[str, np.ndarray]


def ymd(d: np.ndarray) -> np.ndarray:
    """datetime64[D] -> 'JJJJMMDD', NaT -> ''."""
    if len(d) == 0:
        return np.array([], dtype=object)
    text = np.char.replace(np.datetime_as_string(d, unit="D").astype(str), "-", "").astype(object)
    text[np.isnat(d)] = ""
    return text


def cut(world: World, periode: Periode) -> dict[str, Cols]:
    """The records of `periode` as delivered at its end, per record type, as layout field -> text."""
    s, e = d64(periode.start), d64(periode.end)

    def active(start, end):
        return (start <= e) & (np.isnat(end) | (end >= s))

    def shown_end(end):
        return np.where(np.isnat(end) | (end > e), np.datetime64("NaT"), end)

    def dated(d):
        return (d >= s) & (d <= e)

    ca, ad, di = world.casus, world.advies, world.dienst
    out: dict[str, Cols] = {}
    m = active(ca["startdatum"], ca["einddatum"])
    out["CA"] = {
        "casusnummer": ca["nummer"][m],
        "startdatum": ymd(ca["startdatum"][m]),
        "einddatum": ymd(shown_end(ca["einddatum"][m])),
        "gemeentecode": ca["gemeentecode"][m],
    }
    m = active(ad["startdatum"], ad["einddatum"])
    out["AD"] = {
        "adviesnummer": ad["nummer"][m],
        "startdatum": ymd(ad["startdatum"][m]),
        "einddatum": ymd(shown_end(ad["einddatum"][m])),
        **{k: ad[k][m] for k in ("gemeentecode", "aard", "aanvullende_informatie", "duur", "rol", "organisatie")},
    }
    me = world.melding
    m = dated(me["datum"])
    out["ME"] = {
        "meldingnummer": me["nummer"][m],
        "datum_melding": ymd(me["datum"][m]),
        **{
            k: me[k][m]
            for k in ("casusnummer", "rol", "organisatie", "anoniem", "aard", "aanvullende_informatie", "duur")
        },
    }
    vb = world.veiligheidsbeoordeling
    m = dated(vb["datum"])
    out["VB"] = {
        "datum_beoordeling": ymd(vb["datum"][m]),
        **{k: vb[k][m] for k in ("meldingnummer", "casusnummer", "inhoud", "veiligheidstaxatie")},
    }
    for code in ("VV", "ON"):
        m = active(di["startdatum"], di["einddatum"]) & (di["type"] == code)
        end = shown_end(di["einddatum"][m])
        cols = {
            "dienstnummer": di["nummer"][m],
            "startdatum": ymd(di["startdatum"][m]),
            "einddatum": ymd(end),
            **{k: di[k][m] for k in ("casusnummer", "aard", "aanvullende_informatie", "duur")},
        }
        if code == "ON":
            cols["uitkomst"] = np.where(np.isnat(end), "", di["uitkomst"][m]).astype(object)
        out[code] = cols
    ov = world.overdracht
    m = dated(ov["datum"])
    out["OV"] = {
        "overdrachtnummer": ov["nummer"][m],
        "datum_overdracht": ymd(ov["datum"][m]),
        **{k: ov[k][m] for k in ("casusnummer", "bron", "bronnummer", "persoonsnummer", "partij", "hulp")},
    }
    mo = world.monitoring
    m = dated(mo["datum"])
    out["MO"] = {
        "monitoringnummer": mo["nummer"][m],
        "datum_monitoring": ymd(mo["datum"][m]),
        "casusnummer": mo["casusnummer"][m],
        "veiligheidsscore": mo["veiligheidsscore"][m],
    }
    bt = world.betrokkene
    m = np.isin(bt["casusnummer"].astype(str), out["CA"]["casusnummer"].astype(str))
    out["BT"] = {k: v[m] for k, v in bt.items()}
    return out


def drop_some(records: dict[str, Cols], share: float, rng: np.random.Generator) -> dict[str, Cols]:
    """A first delivery that missed some records (the correction delivery has them)."""
    out = {}
    for code, cols in records.items():
        n = len(next(iter(cols.values())))
        keep = rng.random(n) >= share
        out[code] = {k: v[keep] for k, v in cols.items()}
    return out


DEFECT_KINDS = (
    "onmogelijke_datum",
    "einddatum_voor_startdatum",
    "onbekende_code",
    "wees",
    "ongeldig_bsn",
    "organisatie_zonder_beroeps",
)


def add_defects(
    records: dict[str, Cols], rate: float, rng: np.random.Generator, kinds: tuple[str, ...] = DEFECT_KINDS
) -> Counter:
    """Put the errors the quality reports must catch into a delivery, in place; returns counts per kind.

    Each of `kinds` hits each record it applies to with probability `rate`. None of them breaks rules 1-8, so
    the file still loads: they are for gaafmaak and the kwaliteitsrapport.
    """
    counts: Counter = Counter()
    if rate <= 0:
        return counts

    def pick(code: str, eligible: np.ndarray | None = None) -> np.ndarray:
        cols = records[code]
        n = len(next(iter(cols.values())))
        hit = rng.random(n) < rate
        if eligible is not None:
            hit &= eligible
        return np.flatnonzero(hit)

    def apply(kind: str, code: str, column: str, rows: np.ndarray, fn) -> None:
        col = records[code][column]
        for i in rows:
            col[i] = fn(col[i])
        counts[kind] += len(rows)

    # the kinds are drawn in this fixed order (a kind left out draws nothing), so a seed gives the same files
    if "onmogelijke_datum" in kinds:
        for code, column in (("CA", "startdatum"), ("AD", "startdatum"), ("ME", "datum_melding")):
            apply("onmogelijke_datum", code, column, pick(code), lambda v: v[:4] + "0231")
    if "einddatum_voor_startdatum" in kinds:
        ca = records["CA"]
        rows = pick("CA", ca["einddatum"] != "")
        ca["einddatum"][rows] = [_minus_days(v, 7) for v in ca["startdatum"][rows]]
        counts["einddatum_voor_startdatum"] += len(rows)
    if "onbekende_code" in kinds:
        apply("onbekende_code", "AD", "rol", pick("AD"), lambda v: "77")
        apply("onbekende_code", "BT", "geslacht", pick("BT"), lambda v: "5")
        apply("onbekende_code", "CA", "gemeentecode", pick("CA"), lambda v: "0001")
    if "wees" in kinds:
        apply("wees", "ME", "casusnummer", pick("ME"), lambda v: "X" + v[1:])
        apply("wees", "MO", "casusnummer", pick("MO"), lambda v: "X" + v[1:])
    if "ongeldig_bsn" in kinds:
        bt = records["BT"]
        geldig = np.array([b not in ("000000000", "999999999") for b in bt["bsn"]], dtype=bool)
        apply("ongeldig_bsn", "BT", "bsn", pick("BT", geldig), lambda v: v[:8] + str((int(v[8]) + 1) % 10))
    if "organisatie_zonder_beroeps" in kinds:
        for code in ("AD", "ME"):
            rows = pick(code, records[code]["rol"] != "10")
            apply("organisatie_zonder_beroeps", code, "organisatie", rows, lambda v: "05")
    return counts


def _minus_days(ymd_text: str, days: int) -> str:
    try:
        d = np.datetime64(f"{ymd_text[:4]}-{ymd_text[4:6]}-{ymd_text[6:]}") - np.timedelta64(days, "D")
    except ValueError:
        return "20180101"
    return str(d).replace("-", "")


def render(
    layout: Layout,
    vt_code: str,
    periode: Periode,
    leveringsnummer: int,
    aanmaakdatum: str,
    records: dict[str, Cols],
) -> str:
    """The whole file as text: VL, the records in layout order, SL; LF line ends."""
    header = {
        "vt_code": vt_code,
        "verslagperiode": str(periode),
        "aanmaakdatum": aanmaakdatum,
        "versie_bestandsdefinitie": layout.versie,
        "leveringsnummer": f"{leveringsnummer:03d}",
    }
    lines = render_records(layout.header, vt_code, {k: np.array([v], dtype=object) for k, v in header.items()})
    counts = {}
    for rt in layout.data_types:
        cols = records.get(rt.code, {})
        lines += render_records(rt, vt_code, cols)
        counts[f"aantal_{rt.code.lower()}"] = np.array([f"{len(next(iter(cols.values()), [])):07d}"], dtype=object)
    lines += render_records(layout.trailer, vt_code, counts)
    return "\n".join(lines) + "\n"


def render_records(rt: RecordType, vt_code: str, cols: Cols) -> list[str]:
    n = len(next(iter(cols.values()))) if cols else 0
    if n == 0:
        return []
    pieces = []
    pos = 0
    for f in sorted(rt.fields, key=lambda f: f.offset):
        if f.offset > pos:
            pieces.append([" " * (f.offset - pos)] * n)
        if f.name == "recordtype":
            values = [rt.code] * n
        elif f.name == "vt_code":
            values = [vt_code] * n
        else:
            values = cols.get(f.name, [""] * n)
        width = f.length
        pieces.append([str(v)[:width].ljust(width) for v in values])
        pos = f.offset + f.length
    tail = " " * (RECORD_LENGTH - pos)
    return ["".join(parts) + tail for parts in zip(*pieces)]
