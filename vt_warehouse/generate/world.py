"""A synthetic history of one Veilig Thuis-organisatie: every advies, casus, melding, ... with true dates.

The history is simulated once per organisation over the whole window (with a year of burn-in, so that
casussen that started before the first period are running in it); deliveries are then cut from it per
half-year (see deliveries.py). Volumes per half-year follow the CBS kerncijfers of 2019 of the region.
All randomness comes from one NumPy generator per organisation, so the result is deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from loaders.periods import Periode

Cols = dict[str, np.ndarray]
NAT = np.datetime64("NaT")
DAY = np.timedelta64(1, "D")

VB_INHOUD = (["1", "2", "3", "4", "9"], [0.13, 0.50, 0.30, 0.04, 0.03])
TAXATIE = (["1", "2", "3", "4", "9"], [0.12, 0.35, 0.18, 0.30, 0.05])
ROL = (["10", "21", "22", "23", "24", "25", "26", "27", "99"], [0.70, 0.03, 0.08, 0.07, 0.04, 0.03, 0.01, 0.02, 0.02])
ORGANISATIE = [f"{i:02d}" for i in range(1, 16)] + ["99"]
PARTIJ = [f"{i:02d}" for i in range(1, 18)] + ["99"]
AARD_P = [0.45, 0.30, 0.12, 0.05, 0.04, 0.08, 0.05]
AANVULLEND_P = [0.15, 0.02, 0.01, 0.01, 0.005, 0.005, 0.02, 0.05]


@dataclass(frozen=True)
class Volumes:
    """Expected numbers started per half-year (H1, H2) at scale 1."""

    adviezen: tuple[float, float]
    casussen: tuple[float, float]
    meldingen: tuple[float, float]
    onderzoeken: tuple[float, float]
    vv: tuple[float, float]


@dataclass
class World:
    vt_code: str
    advies: Cols
    casus: Cols
    melding: Cols
    veiligheidsbeoordeling: Cols
    dienst: Cols  # VV and ON together (they share the dienstnummer range)
    overdracht: Cols
    monitoring: Cols
    betrokkene: Cols


def d64(d: date) -> np.datetime64:
    return np.datetime64(d, "D")


def simulate(
    vt_code: str,
    volumes: Volumes,
    gemeenten: dict[int, tuple[np.ndarray, np.ndarray]],
    first: Periode,
    last: Periode,
    scale: float,
    rng: np.random.Generator,
    active_until: date | None = None,
) -> World:
    """Simulate one organisation from a year before `first` until the end of `last` (or `active_until`)."""
    window_end = d64(min(last.end, active_until) if active_until else last.end)
    halves = []
    p = Periode(first.jaar - 1, first.helft)  # a year of burn-in
    while p.start <= last.end and d64(p.start) <= window_end:
        halves.append(p)
        p = p.next()

    def starts(rate: tuple[float, float]) -> np.ndarray:
        out = []
        for h in halves:
            lo, hi = d64(h.start), min(d64(h.end), window_end)
            n = rng.poisson(rate[h.helft - 1] * scale)
            out.append(lo + rng.integers(0, (hi - lo) // DAY + 1, n) * DAY)
        return np.sort(np.concatenate(out)) if out else np.array([], dtype="datetime64[D]")

    def gemeente_for(dates: np.ndarray) -> np.ndarray:
        years = dates.astype("datetime64[Y]").astype(int) + 1970
        out = np.empty(len(dates), dtype=object)
        for y in np.unique(years):
            codes, weights = gemeenten[int(np.clip(y, min(gemeenten), max(gemeenten)))]
            sel = years == y
            out[sel] = rng.choice(codes, size=int(sel.sum()), p=weights)
        return out

    def numbers(prefix: str, dates: np.ndarray) -> np.ndarray:
        if len(dates) == 0:
            return np.array([], dtype=object)
        years = (dates.astype("datetime64[Y]").astype(int) + 1970).astype(str)
        seq = np.char.zfill(np.arange(1, len(dates) + 1).astype(str), 7)
        return np.char.add(np.char.add(years, prefix), seq).astype(object)

    # Adviezen: most end within weeks.
    ad_start = starts(volumes.adviezen)
    ad_dur = np.where(
        rng.random(len(ad_start)) < 0.75, rng.integers(0, 15, len(ad_start)), rng.integers(15, 200, len(ad_start))
    )
    advies = {
        "nummer": numbers("A", ad_start),
        "startdatum": ad_start,
        "einddatum": ad_start + ad_dur * DAY,
        "gemeentecode": gemeente_for(ad_start),
        **_kenmerken(rng, len(ad_start)),
    }

    # Casussen: lognormal durations (median about six weeks; events below make some longer).
    ca_start = starts(volumes.casussen)
    n_ca = len(ca_start)
    ca_end = ca_start + np.minimum(rng.lognormal(3.7, 0.9, n_ca).astype(int) + 1, 900) * DAY
    casus_nr = numbers("C", ca_start)

    # Meldingen: the first at the casus start, extra ones during the casus.
    extra_rate = max(sum(volumes.meldingen) / max(sum(volumes.casussen), 1) - 1.0, 0.05)
    n_extra = rng.poisson(extra_rate, n_ca)
    me_casus = np.concatenate([np.arange(n_ca), np.repeat(np.arange(n_ca), n_extra)])
    span = (ca_end - ca_start) // DAY
    offsets = np.concatenate(
        [np.zeros(n_ca, dtype=int), (rng.random(n_extra.sum()) * np.repeat(span, n_extra)).astype(int)]
    )
    me_date = ca_start[me_casus] + offsets * DAY
    order = np.lexsort((me_casus, me_date))
    me_casus, me_date = me_casus[order], me_date[order]
    n_me = len(me_date)
    melding_nr = numbers("M", me_date)

    # Veiligheidsbeoordelingen: most meldingen get one within a week.
    has_vb = rng.random(n_me) < 0.93
    vb_me = np.flatnonzero(has_vb)
    vb_date = me_date[vb_me] + rng.integers(0, 8, len(vb_me)) * DAY
    vb_inhoud = rng.choice(VB_INHOUD[0], len(vb_me), p=VB_INHOUD[1])
    vb_taxatie = rng.choice(TAXATIE[0], len(vb_me), p=TAXATIE[1])

    # Diensten follow a VB with inhoud 1; Onderzoek or Voorwaarden en Vervolg.
    on_share = sum(volumes.onderzoeken) / max(sum(volumes.onderzoeken) + sum(volumes.vv), 1)
    di_vb = np.flatnonzero(vb_inhoud == "1")
    di_casus = me_casus[vb_me[di_vb]]
    n_di = len(di_vb)
    di_type = np.where(rng.random(n_di) < on_share, "ON", "VV")
    di_start = vb_date[di_vb] + rng.integers(0, 15, n_di) * DAY
    on_dur = np.where(rng.random(n_di) < 0.8, rng.integers(20, 71, n_di), rng.integers(71, 150, n_di))
    di_end = di_start + np.where(di_type == "ON", on_dur, rng.integers(20, 150, n_di)) * DAY
    di_uitkomst = _uitkomst(rng, n_di)

    # Overdrachten: after a VB with inhoud 2, or at the end of most diensten; one record per person.
    persons = 1 + rng.poisson(1.3, n_ca)
    ov_vb = np.flatnonzero(vb_inhoud == "2")
    di_ov = np.flatnonzero(rng.random(n_di) < 0.6)
    ov_casus = np.concatenate([me_casus[vb_me[ov_vb]], di_casus[di_ov]])
    ov_date = np.concatenate([vb_date[ov_vb] + rng.integers(0, 10, len(ov_vb)) * DAY, di_end[di_ov]])
    ov_bron = np.concatenate([np.full(len(ov_vb), "VB"), di_type[di_ov]]).astype(object)
    ov_bron_index = np.concatenate([vb_me[ov_vb], di_ov])  # melding index for VB, dienst index otherwise

    # Monitoring some months after a quarter of the overdrachten.
    mo_ov = np.flatnonzero(rng.random(len(ov_date)) < 0.25)
    mo_date = ov_date[mo_ov] + rng.integers(30, 120, len(mo_ov)) * DAY
    mo_casus = ov_casus[mo_ov]

    # A casus lasts at least until its last event.
    for idx, dates in ((di_casus, di_end), (ov_casus, ov_date), (mo_casus, mo_date), (me_casus, me_date)):
        np.maximum.at(ca_end, idx, dates + rng.integers(0, 8, len(dates)) * DAY)
    # its veiligheidsbeoordelingen too (without a draw, so the rest of the world stays as it was)
    np.maximum.at(ca_end, me_casus[vb_me], vb_date)

    # Everything after the window is unknown: open, or not yet happened.
    def cut(d: np.ndarray) -> np.ndarray:
        return np.where(d > window_end, NAT, d)

    dienst_nr = numbers("D", di_start)
    ov_key = np.arange(len(ov_date))
    ov_nr = numbers("O", ov_date)
    person_casus = np.repeat(np.arange(n_ca), persons)
    person_nr = numbers("P", ca_start[person_casus])
    first_person = np.concatenate([[0], np.cumsum(persons)[:-1]])

    ov_rows = np.repeat(ov_key, persons[ov_casus])
    ov_person = first_person[ov_casus[ov_rows]] + _ranks(persons[ov_casus])
    # bronnummer: the melding of a VB, else the dienst
    ov_bronnummer = np.empty(len(ov_rows), dtype=object)
    from_vb = ov_bron[ov_rows] == "VB"
    ov_bronnummer[from_vb] = melding_nr[ov_bron_index[ov_rows][from_vb]]
    ov_bronnummer[~from_vb] = dienst_nr[ov_bron_index[ov_rows][~from_vb]]
    keep_ov = ov_date[ov_rows] <= window_end
    ov_rows, ov_person, ov_bronnummer = ov_rows[keep_ov], ov_person[keep_ov], ov_bronnummer[keep_ov]

    return World(
        vt_code=vt_code,
        advies={**advies, "einddatum": cut(advies["einddatum"])},
        casus={
            "nummer": casus_nr,
            "startdatum": ca_start,
            "einddatum": cut(ca_end),
            "gemeentecode": gemeente_for(ca_start),
        },
        melding={
            "nummer": melding_nr,
            "casusnummer": casus_nr[me_casus],
            "datum": me_date,
            "anoniem": np.where(rng.random(n_me) < 0.04, "J", "N").astype(object),
            **_kenmerken(rng, n_me),
        },
        veiligheidsbeoordeling={
            "meldingnummer": melding_nr[vb_me],
            "casusnummer": casus_nr[me_casus[vb_me]],
            "datum": vb_date,
            "inhoud": vb_inhoud,
            "veiligheidstaxatie": vb_taxatie,
        },
        dienst=_no_aard_without_violence(
            {
                "type": di_type,
                "nummer": dienst_nr,
                "casusnummer": casus_nr[di_casus],
                "startdatum": di_start,
                "einddatum": cut(di_end),
                "uitkomst": di_uitkomst,
                **{k: v for k, v in _kenmerken(rng, n_di).items() if k in ("aard", "aanvullende_informatie", "duur")},
            }
        ),
        overdracht={
            "nummer": ov_nr[ov_rows],
            "casusnummer": casus_nr[ov_casus[ov_rows]],
            "bron": ov_bron[ov_rows],
            "bronnummer": ov_bronnummer,
            "persoonsnummer": person_nr[ov_person],
            "datum": ov_date[ov_rows],
            "partij": rng.choice(PARTIJ, len(ov_rows)),
            "hulp": rng.choice(["1", "2", "9"], len(ov_rows), p=[0.4, 0.55, 0.05]),
        },
        monitoring={
            "nummer": numbers("T", mo_date),
            "casusnummer": casus_nr[mo_casus],
            "datum": mo_date,
            "veiligheidsscore": np.array(
                [
                    f"{s:02d}" if s >= 0 else ""
                    for s in np.where(rng.random(len(mo_date)) < 0.1, -1, rng.integers(0, 11, len(mo_date)))
                ],
                dtype=object,
            ),
        },
        betrokkene=_betrokkenen(rng, person_nr, casus_nr[person_casus], ca_start[person_casus]),
    )


def _ranks(sizes: np.ndarray) -> np.ndarray:
    """0..k-1 within each group of the given sizes, concatenated."""
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.arange(int(sizes.sum())) - starts


def _flags(rng: np.random.Generator, n: int, probabilities: list[float]) -> np.ndarray:
    bits = rng.random((n, len(probabilities))) < np.array(probabilities)
    none = ~bits.any(axis=1)
    bits[none, rng.integers(0, len(probabilities), int(none.sum()))] = True  # at least one flag
    return _bits_to_text(bits)


def _bits_to_text(bits: np.ndarray) -> np.ndarray:
    chars = np.where(bits, ord("1"), ord("0")).astype(np.uint8)
    return np.ascontiguousarray(chars).view(f"S{bits.shape[1]}").reshape(-1).astype(str).astype(object)


def _kenmerken(rng: np.random.Generator, n: int) -> Cols:
    rol = rng.choice(ROL[0], n, p=ROL[1])
    organisatie = np.where(rol == "10", rng.choice(ORGANISATIE, n), "")
    aanvullend = _flags(rng, n, AANVULLEND_P)
    aanvullend[rng.random(n) < 0.6] = ""  # mostly nothing extra to report: left blank
    return {
        "aard": _flags(rng, n, AARD_P),
        "aanvullende_informatie": aanvullend,
        "duur": rng.choice(["1", "2", "3", "4", "9"], n, p=[0.2, 0.2, 0.25, 0.2, 0.15]).astype(object),
        "rol": rol.astype(object),
        "organisatie": organisatie.astype(object),
    }


def _no_aard_without_violence(dienst: dict) -> dict:
    """An onderzoek that found no or unconfirmed violence (uitkomst flags 1, 2, 4, 5 only) names no aard (KR11)."""
    uitkomst = dienst["uitkomst"].astype(str)
    flags = np.array([[c == "1" for c in u] for u in uitkomst], dtype=bool).reshape(len(uitkomst), 9)
    no_violence = flags[:, [0, 1, 3, 4]].any(axis=1) & ~flags[:, [2, 5, 6, 7, 8]].any(axis=1)
    aard = dienst["aard"].copy()
    aard[(dienst["type"] == "ON") & no_violence] = "0000000"
    return {**dienst, "aard": aard}


def _uitkomst(rng: np.random.Generator, n: int) -> np.ndarray:
    bits = np.zeros((n, 9), dtype=bool)
    hg = rng.choice([0, 1, 2, -1], n, p=[0.3, 0.3, 0.3, 0.1])
    km = rng.choice([3, 4, 5, -1], n, p=[0.3, 0.3, 0.3, 0.1])
    rows = np.arange(n)
    bits[rows[hg >= 0], hg[hg >= 0]] = True
    bits[rows[km >= 0], km[km >= 0]] = True
    early = rng.random(n) < 0.04
    bits[early] = False
    bits[early, rng.integers(6, 9, int(early.sum()))] = True
    bits[~bits.any(axis=1), 0] = True
    return _bits_to_text(bits)


def valid_bsns(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random BSNs that pass the elfproef."""
    out = []
    weights = np.array([9, 8, 7, 6, 5, 4, 3, 2])
    while sum(len(o) for o in out) < n:
        digits = rng.integers(0, 10, (n * 2, 8))
        digits[:, 0] = rng.integers(1, 10, n * 2)
        check = (digits @ weights) % 11
        ok = check < 10
        full = np.hstack([digits[ok], check[ok, None]])
        out.append(full)
    digits = np.vstack(out)[:n]
    return (digits + ord("0")).astype(np.uint8).view("S9").reshape(-1).astype(str).astype(object)


def _betrokkenen(rng: np.random.Generator, person_nr, casusnummer, casus_start) -> Cols:
    n = len(person_nr)
    bsn = valid_bsns(rng, n)
    kind = rng.random(n)
    unborn = kind < 0.01
    unknown = (kind >= 0.01) & (kind < 0.04)
    bsn[unborn] = "999999999"
    bsn[unknown] = "000000000"
    child = rng.random(n) < 0.55
    age_days = np.where(child, rng.integers(0, 18 * 365, n), rng.integers(18 * 365, 85 * 365, n))
    birth = casus_start - age_days * DAY
    text = np.char.replace(np.datetime_as_string(birth, unit="D").astype(str), "-", "").astype(object)
    precision = rng.random(n)
    month_only, year_only = precision < 0.03, (precision >= 0.03) & (precision < 0.05)
    text[month_only] = [t[:6] + "00" for t in text[month_only]]
    text[year_only] = [t[:4] + "0000" for t in text[year_only]]
    text[(precision >= 0.05) & (precision < 0.07)] = "00000000"
    text[unborn] = "99999999"
    sex = rng.choice(["1", "2", "9"], n, p=[0.47, 0.5, 0.03]).astype(object)
    _returning(bsn, text, sex, casusnummer, casus_start)
    return {
        "persoonsnummer": person_nr,
        "casusnummer": casusnummer,
        "bsn": bsn,
        "geboortedatum": text,
        "geslacht": sex,
    }


RETURNING = 0.05  # share of persons with a valid BSN who were in an earlier casus of the organisation


def _returning(bsn, birth, sex, casusnummer, casus_start) -> None:
    """Make some persons come back: they take the BSN, birth date and sex of a person of an earlier casus, so a
    person can be followed over casussen (identificatienummer_persoon). Its own generator, seeded from the data,
    leaves the main random stream (and so everything else generated) unchanged."""
    n = len(bsn)
    if n < 2:
        return
    rng = np.random.default_rng(int(np.datetime64(casus_start.min(), "D").astype(np.int64)) + n)
    order = np.argsort(casus_start, kind="stable")
    valid = np.array([len(b) == 9 and b not in ("000000000", "999999999") for b in bsn])
    in_casus = set(zip(casusnummer, bsn))  # a person is in a casus once
    for pos in np.nonzero(rng.random(n - 1) < RETURNING)[0] + 1:  # positions in start order, never the first
        new, old = order[pos], order[rng.integers(0, pos)]
        if valid[new] and valid[old] and (casusnummer[new], bsn[old]) not in in_casus:
            bsn[new], birth[new], sex[new] = bsn[old], birth[old], sex[old]
            in_casus.add((casusnummer[new], bsn[old]))
