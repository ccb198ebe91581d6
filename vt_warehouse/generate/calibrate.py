"""A synthetic national population whose publication equals the published CBS kerncijfers of 2019.

Each half-year's kerncijfers are counted from that half-year's own delivery (see publicatie models), so
the population is built per region as two deliveries that share their open casussen and diensten:
for each half-year, casussen (and diensten) fall into four groups whose sizes follow from the targets
(started and closed in P, started in P and open, started before P and closed in P, started before P and
still open); the open ones of H1 come back in the H2 delivery, and when H2 needs more casussen from before
than H1 left open, the extra ones are late registrations (started in H1, first delivered in H2).

Targets are exact integers that round to the published cells: each region's value within +-2 of the
published multiple of 5, chosen so that the regions add up exactly to the published total (which CBS
rounded on its own). The deliveries also carry what real ones do: meldingen with their
veiligheidsbeoordelingen, overdrachten per person with the directbetrokkenen, adviezen that span
half-years, and a few correction deliveries.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from loaders.layout import Layout, default_layout, read_csv
from loaders.periods import Periode
from vt_warehouse.generate import stamp_received
from vt_warehouse.generate.deliveries import render
from vt_warehouse.generate.world import AANVULLEND_P, AARD_P, ORGANISATIE, PARTIJ, ROL, TAXATIE, VB_INHOUD, valid_bsns
from vt_warehouse.publish import KERNCIJFERS

KINDS = (("casussen", "CA"), ("onderzoeken", "ON"), ("vv", "VV"))
CALIBRATED = ("2019H1", "2019H2")
CORRECTED_REGIONS = ("VT03", "VT11", "VT24")


class CalibrationError(ValueError):
    pass


def cbs_table(periode: str) -> dict[str, dict[str, int]]:
    if periode not in CALIBRATED:
        raise CalibrationError(f"no CBS table for {periode}: calibration is possible for {', '.join(CALIBRATED)}")
    return {r["vt_code"]: {c: int(r[c]) for c in KERNCIJFERS} for r in read_csv(f"kerncijfers_{periode}_cbs.csv")}


def _consistent(r: dict[str, int]) -> bool:
    for kind, _ in KINDS:
        a, s, g = r[f"actieve_{kind}"], r[f"gestarte_{kind}"], r[f"gesloten_{kind}"]
        if a < s or a < g:
            return False
    return r["overdrachten"] == 0 or r["gesloten_casussen"] > 0


def exact_targets(table: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Per region exact counts that round to the published cells and add up to the published total."""
    regions = sorted(vt for vt in table if vt != "NL")
    x = {vt: dict(table[vt]) for vt in regions}
    for vt in regions:
        if not _consistent(x[vt]):
            raise CalibrationError(f"{vt}: the published cells cannot come from one delivery")
    for col in KERNCIJFERS:
        rest = table["NL"][col] - sum(x[vt][col] for vt in regions)
        step = 1 if rest > 0 else -1
        while rest:
            moved = False
            for vt in sorted(regions, key=lambda v: (-x[v][col], v)):
                new = x[vt][col] + step
                trial = {**x[vt], col: new}
                if rest and new >= 0 and abs(new - table[vt][col]) <= 2 and _consistent(trial):
                    x[vt][col] = new
                    rest -= step
                    moved = True
            if not moved:
                raise CalibrationError(f"{col}: the regions cannot add up to the published total")
    return x


@dataclass
class Casus:
    nummer: str
    start: date
    end: date | None
    gemeente: str
    persons: list[dict] = field(default_factory=list)
    meldingen: list[str] = field(default_factory=list)


@dataclass
class Dienst:
    nummer: str
    casus: Casus
    start: date
    end: date | None


def _ymd(d: date | None) -> str:
    return d.strftime("%Y%m%d") if d else ""


class Region:
    """Builds one region's deliveries for 2019H1 and 2019H2."""

    def __init__(self, vt: str, seed: int, gemeenten: list[str]):
        self.vt = vt
        self.rng = np.random.default_rng([seed, 990, int(vt[2:])])
        self.gemeenten = gemeenten
        self.counter: dict[str, int] = {}
        self.bsns: list[str] = []

    def nummer(self, letter: str, year: int) -> str:
        self.counter[letter] = self.counter.get(letter, 0) + 1
        return f"{year}{letter}{self.counter[letter]:07d}"

    def person(self, year: int, start: date) -> dict:
        if not self.bsns:
            self.bsns = list(valid_bsns(self.rng, 10_000))
        birth = self.day(date(1940, 1, 1), min(start, date(2018, 12, 31)))
        return {
            "persoonsnummer": self.nummer("P", year),
            "bsn": self.bsns.pop(),
            "geboortedatum": _ymd(birth),
            "geslacht": self.choice(["1", "2"]),
        }

    def day(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=int(self.rng.integers(0, (hi - lo).days + 1)))

    def choice(self, values, p=None):
        return values[int(self.rng.choice(len(values), p=p))]

    def flags(self, probabilities: list[float]) -> str:
        bits = self.rng.random(len(probabilities)) < np.array(probabilities)
        if not bits.any():
            bits[int(self.rng.integers(0, len(bits)))] = True
        return "".join("1" if b else "0" for b in bits)

    # -- casussen and diensten: four groups per half-year -----------------------------------------------
    def groups(self, p: Periode, a: int, s: int, g: int, carried: list, make_old, make_new, close):
        """Items of the delivery of p: `a` active, `s` started in p, `g` closed in p, reusing `carried`
        (open at the end of the previous delivery) for the ones that started before p."""
        both = max(0, s + g - a)  # started and closed in p
        before = a - s
        kept = carried[:before]
        kept += [make_old() for _ in range(before - len(kept))]  # late registrations / older ones
        closing = g - both
        for item in kept[:closing]:
            close(item, self.day(max(item.start, p.start), p.end))
        new = [make_new() for _ in range(s)]
        for item in new[:both]:
            close(item, self.day(item.start, p.end))
        return kept + new

    def casussen(self, p: Periode, t: dict, carried: list[Casus]) -> list[Casus]:
        def old() -> Casus:
            lo = p.start - timedelta(days=180)
            return self.new_casus(self.day(lo, p.start - timedelta(days=1)))

        def new() -> Casus:
            return self.new_casus(self.day(p.start, p.end))

        def close(c: Casus, d: date) -> None:
            c.end = d

        return self.groups(
            p, t["actieve_casussen"], t["gestarte_casussen"], t["gesloten_casussen"], carried, old, new, close
        )

    def new_casus(self, start: date) -> Casus:
        c = Casus(self.nummer("C", start.year), start, None, self.choice(self.gemeenten))
        c.persons = [self.person(start.year, start) for _ in range(1 + int(self.rng.poisson(1.2)))]
        return c

    def diensten(self, p: Periode, kind: str, t: dict, carried: list[Dienst], casussen: list[Casus]):
        def casus_for(start: date) -> Casus:
            fits = [c for c in casussen if c.start <= start]
            return self.choice(fits or casussen)

        def old() -> Dienst:
            start = self.day(p.start - timedelta(days=60), p.start - timedelta(days=1))
            return Dienst(self.nummer("D", start.year), casus_for(start), start, None)

        def new() -> Dienst:
            start = self.day(p.start, p.end)
            return Dienst(self.nummer("D", start.year), casus_for(start), start, None)

        def close(d: Dienst, when: date) -> None:
            d.end = when

        return self.groups(
            p, t[f"actieve_{kind}"], t[f"gestarte_{kind}"], t[f"gesloten_{kind}"], carried, old, new, close
        )

    # -- the delivery -------------------------------------------------------------------------------
    def delivery(
        self,
        p: Periode,
        t: dict,
        casussen: list[Casus],
        on: list[Dienst],
        vv: list[Dienst],
        adviezen_carried: list[dict],
    ) -> tuple[dict[str, list[dict]], list[dict]]:
        rec: dict[str, list[dict]] = {code: [] for code in ("CA", "AD", "ME", "VB", "VV", "ON", "OV", "MO", "BT")}

        def shown(d: date | None) -> str:
            return _ymd(d) if d and d <= p.end else ""

        for c in casussen:
            rec["CA"].append(
                {
                    "casusnummer": c.nummer,
                    "startdatum": _ymd(c.start),
                    "einddatum": shown(c.end),
                    "gemeentecode": c.gemeente,
                }
            )
            for person in c.persons:
                rec["BT"].append({**person, "casusnummer": c.nummer})
        for code, items in (("ON", on), ("VV", vv)):
            for d in items:
                row = {
                    "dienstnummer": d.nummer,
                    "casusnummer": d.casus.nummer,
                    "startdatum": _ymd(d.start),
                    "einddatum": shown(d.end),
                    "aard": self.flags(AARD_P),
                    "aanvullende_informatie": "",
                    "duur": self.choice(["1", "2", "3", "4", "9"]),
                }
                if code == "ON":
                    row["uitkomst"] = (
                        self.choice(["001000000", "000001000", "100100000", "010010000", "001001000"])
                        if shown(d.end)
                        else ""
                    )
                rec[code].append(row)

        # adviezen: the started ones count; those still open at the end come back in the next delivery
        started = [self.advies(self.day(p.start, p.end)) for _ in range(t["gestarte_adviezen"])]
        for a in adviezen_carried + started:
            rec["AD"].append({**a, "einddatum": a["einddatum"] if a["einddatum"] <= _ymd(p.end) else ""})
        still_open = [a for a in adviezen_carried + started if a["einddatum"] > _ymd(p.end)]

        # meldingen: first the first melding of the casussen that started in p, then the others
        active = [c for c in casussen if c.start <= p.end]
        new_ones = [c for c in active if c.start >= p.start]
        first = {id(c) for c in new_ones}
        n = t["ontvangen_meldingen"]
        targets = new_ones[:n] + [self.choice(active) for _ in range(max(0, n - len(new_ones)))]
        for c in targets:
            lo = max(c.start, p.start)
            hi = min(c.end or p.end, p.end)
            when = c.start if id(c) in first and not c.meldingen else self.day(lo, max(lo, hi))
            nummer = self.nummer("M", when.year)
            c.meldingen.append(nummer)
            rol = self.choice(ROL[0], ROL[1])
            rec["ME"].append(
                {
                    "meldingnummer": nummer,
                    "casusnummer": c.nummer,
                    "datum_melding": _ymd(when),
                    "rol": rol,
                    "organisatie": self.choice(ORGANISATIE) if rol == "10" else "",
                    "anoniem": "N",
                    "aard": self.flags(AARD_P),
                    "aanvullende_informatie": self.flags(AANVULLEND_P) if self.rng.random() < 0.4 else "",
                    "duur": self.choice(["1", "2", "3", "4", "9"]),
                }
            )
            if self.rng.random() < 0.93:
                vb = min(when + timedelta(days=int(self.rng.integers(0, 6))), p.end)
                rec["VB"].append(
                    {
                        "meldingnummer": nummer,
                        "casusnummer": c.nummer,
                        "datum_beoordeling": _ymd(vb),
                        "inhoud": self.choice(VB_INHOUD[0], VB_INHOUD[1]),
                        "veiligheidstaxatie": self.choice(TAXATIE[0], TAXATIE[1]),
                    }
                )

        # overdrachten: one record per person, spread over the casussen closed in p
        closed = [c for c in casussen if c.end and p.start <= c.end <= p.end]
        total = t["overdrachten"]
        for i, c in enumerate(closed):
            k = total // len(closed) + (1 if i < total % len(closed) else 0)
            while len(c.persons) < k:
                c.persons.append(self.person(c.start.year, c.start))
                rec["BT"].append({**c.persons[-1], "casusnummer": c.nummer})
            if k == 0:
                continue
            when = self.day(max(c.start, p.start), c.end)
            nummer = self.nummer("O", when.year)
            bron = c.meldingen[-1] if c.meldingen else self.nummer("M", c.start.year)
            for person in c.persons[:k]:
                rec["OV"].append(
                    {
                        "overdrachtnummer": nummer,
                        "casusnummer": c.nummer,
                        "bron": "VB",
                        "bronnummer": bron,
                        "persoonsnummer": person["persoonsnummer"],
                        "datum_overdracht": _ymd(when),
                        "partij": self.choice(PARTIJ),
                        "hulp": self.choice(["1", "2"]),
                    }
                )
        for c in [c for c in casussen if not c.end][: len(casussen) // 20]:
            when = self.day(max(c.start, p.start), p.end)
            rec["MO"].append(
                {
                    "monitoringnummer": self.nummer("T", when.year),
                    "casusnummer": c.nummer,
                    "datum_monitoring": _ymd(when),
                    "veiligheidsscore": f"{int(self.rng.integers(0, 11)):02d}",
                }
            )
        return rec, still_open

    def advies(self, start: date) -> dict:
        end = start + timedelta(days=int(self.rng.integers(0, 15)))
        rol = self.choice(ROL[0], ROL[1])
        return {
            "adviesnummer": self.nummer("A", start.year),
            "startdatum": _ymd(start),
            "einddatum": _ymd(end),
            "gemeentecode": self.choice(self.gemeenten),
            "aard": self.flags(AARD_P),
            "aanvullende_informatie": self.flags(AANVULLEND_P) if self.rng.random() < 0.4 else "",
            "duur": self.choice(["1", "2", "3", "4", "9"]),
            "rol": rol,
            "organisatie": self.choice(ORGANISATIE) if rol == "10" else "",
        }


def _columns(rec: dict[str, list[dict]]) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for code, rows in rec.items():
        names = list(rows[0]) if rows else []
        out[code] = {n: np.array([r[n] for r in rows], dtype=object) for n in names}
    return out


def calibrate(out: Path, periods: list[str], seed: int = 1, layout: Layout | None = None) -> list[dict]:
    """Write the calibrated deliveries (and a manifest.json) into `out`; returns the manifest's file list."""
    layout = layout or default_layout()
    periods = sorted(set(periods))
    if periods != list(CALIBRATED):
        raise CalibrationError(f"calibration needs both half-years {','.join(CALIBRATED)} (one population)")
    targets = {p: exact_targets(cbs_table(p)) for p in periods}
    gemeenten: dict[str, list[str]] = {}
    for row in read_csv("gemeente_vt.csv", "referentiedata"):
        if row["jaar"] == "2019":
            gemeenten.setdefault(row["vt_code"], []).append(row["gemeentecode"])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for vt in sorted(targets[periods[0]]):
        region = Region(vt, seed, sorted(gemeenten[vt]))
        open_casussen: list[Casus] = []
        open_diensten: dict[str, list[Dienst]] = {"ON": [], "VV": []}
        open_adviezen: list[dict] = []
        for text in periods:
            p, t = Periode.parse(text), targets[text][vt]
            casussen = region.casussen(p, t, open_casussen)
            on = region.diensten(p, "onderzoeken", t, open_diensten["ON"], casussen)
            vv = region.diensten(p, "vv", t, open_diensten["VV"], casussen)
            rec, open_adviezen = region.delivery(p, t, casussen, on, vv, open_adviezen)
            versions = [(1, rec, 20)]
            if vt in CORRECTED_REGIONS and text == periods[0]:
                # the first delivery missed the last casussen and their persons; the correction is complete
                missing = {r["casusnummer"] for r in rec["CA"][-len(rec["CA"]) // 50 :]}
                first = {code: [r for r in rows if r.get("casusnummer") not in missing] for code, rows in rec.items()}
                versions = [(1, first, 20), (2, rec, 90)]
            for nummer, records, days in versions:
                made = p.end + timedelta(days=days)
                path = out / f"{vt}_{p}_{nummer:03d}.txt"
                path.write_text(
                    render(layout, vt, p, nummer, made.strftime("%Y%m%d"), _columns(records)), encoding="ascii"
                )
                received = (made + timedelta(days=5)).isoformat() + "T09:00:00"
                stamp_received(path, received)
                files.append(
                    {
                        "file": path.name,
                        "vt_code": vt,
                        "verslagperiode": text,
                        "leveringsnummer": nummer,
                        "records": sum(len(r) for r in records.values()),
                        "ontvangen_op": received,
                        "defects": {},
                    }
                )
            open_casussen = [c for c in casussen if not c.end]
            open_diensten = {"ON": [d for d in on if not d.end], "VV": [d for d in vv if not d.end]}
    manifest = {"periods": periods, "calibrated_to": "CBS kerncijfers 2019", "seed": seed, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return files
