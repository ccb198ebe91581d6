"""Synthetic national deliveries for any half-years from 2019H1 on, deterministic for a seed.

Regions and gemeenten are those of each year in the project's reference data (2019-2024); a later year has
none there, so the generator uses the latest earlier year's (the CLI says so). That is a choice for synthetic
data only: the warehouse itself never defaults a missing year. From a configurable half-year on, files are
written in the newest layout version of loaders/data/layout.csv (0300 adds ME.aanleiding).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from loaders.layout import CURRENT_VERSION, Layout, Layouts, layouts, read_csv
from loaders.periods import Periode
from vt_warehouse.generate.deliveries import DEFECT_KINDS, add_defects, cut, drop_some, render
from vt_warehouse.generate.world import Volumes, simulate

CORRECTION_RATE = 0.1
DEFECTIVE_BOOST = 5  # a defective delivery has its few kinds of defect more often than a uniform rate
# from this half-year on the generator writes the newest layout version (vt generate --new-layout-from)
NEW_LAYOUT_FROM = Periode(2026, 1)
AANLEIDING = (["01", "02", "03", "04", "05", "99"], [0.30, 0.35, 0.05, 0.20, 0.07, 0.03])


@dataclass
class GeneratedFile:
    path: Path
    vt_code: str
    periode: str
    leveringsnummer: int
    records: int
    ontvangen_op: str  # when such a file would arrive: a few days after it was made
    defects: dict[str, int] = field(default_factory=dict)


def stamp_received(path: Path, received: str) -> None:
    """Give a generated file the modification time of its arrival (UTC): the refresh reads that as the
    moment it landed in the inbox."""
    ts = datetime.fromisoformat(received).replace(tzinfo=UTC).timestamp()
    os.utime(path, (ts, ts))


def received_groups(folder: Path) -> dict[datetime, list[Path]]:
    """The generated files of a folder grouped by when they would have been received (from its manifest),
    oldest first: for back-loading with `--received-at`."""
    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    groups: dict[datetime, list[Path]] = {}
    for f in manifest["files"]:
        groups.setdefault(datetime.fromisoformat(f["ontvangen_op"]), []).append(Path(folder) / f["file"])
    return dict(sorted(groups.items()))


def regions_per_year() -> dict[int, list[str]]:
    """The VT-regio's of every year of the project's reference data."""
    out: dict[int, list[str]] = {}
    for row in read_csv("vt_regio.csv", "referentiedata"):
        out.setdefault(int(row["jaar"]), []).append(row["vt_code"])
    return out


def reference_year(jaar: int, known: dict[int, list[str]]) -> int:
    """The year whose reference data the generator uses for `jaar`: itself, or the latest earlier one."""
    return jaar if jaar in known else max(y for y in known if y <= jaar)


def years_without_reference(periods: list[Periode]) -> dict[int, int]:
    """Years of `periods` the project's reference data lacks -> the year used instead."""
    known = regions_per_year()
    return {p.jaar: reference_year(p.jaar, known) for p in periods if p.jaar not in known}


def volumes_per_region() -> dict[str, Volumes]:
    """Started per half-year at scale 1, from the CBS kerncijfers 2019 (VT27 = VT16 + VT26)."""
    rows: dict[str, list[dict[str, str]]] = {}
    for name in ("kerncijfers_2019H1_cbs.csv", "kerncijfers_2019H2_cbs.csv"):
        for row in read_csv(name):
            rows.setdefault(row["vt_code"], []).append(row)

    def pair(codes: list[str], column: str) -> tuple[float, float]:
        return tuple(float(sum(int(rows[c][h][column]) for c in codes)) for h in (0, 1))  # type: ignore[return-value]

    out = {}
    for vt in [c for c in rows if c != "NL"] + ["VT27"]:
        codes = ["VT16", "VT26"] if vt == "VT27" else [vt]
        out[vt] = Volumes(
            adviezen=pair(codes, "gestarte_adviezen"),
            casussen=pair(codes, "gestarte_casussen"),
            meldingen=pair(codes, "ontvangen_meldingen"),
            onderzoeken=pair(codes, "gestarte_onderzoeken"),
            vv=pair(codes, "gestarte_vv"),
        )
    return out


def gemeenten_per_year(vt_code: str, rng: np.random.Generator) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The gemeenten an organisation's records name per year, with weights: its region's gemeenten, now and
    then the old code of a merged gemeente (organisations' systems lag behind), and 9999 (onbekend)."""
    per_year: dict[int, list[str]] = {}
    for row in read_csv("gemeente_vt.csv", "referentiedata"):
        if row["vt_code"] == vt_code:
            per_year.setdefault(int(row["jaar"]), []).append(row["gemeentecode"])
    merged: dict[str, list[str]] = {}
    for row in read_csv("herindelingen.csv", "referentiedata"):
        merged.setdefault(row["nieuwe_code"], []).append(row["oude_code"])
    size = {}
    out = {}
    for year, codes in sorted(per_year.items()):
        for c in codes:
            size.setdefault(c, float(rng.pareto(1.2) + 1))
        names = list(codes)
        weights = [size[c] for c in codes]
        for c in codes:
            for old in sorted(set(merged.get(c, []))):
                names.append(old)
                weights.append(size[c] * 0.04)
        names.append("9999")
        weights.append(sum(weights) * 0.02)
        w = np.array(weights) / sum(weights)
        out[year] = (np.array(names, dtype=object), w)
    return out


def generate(
    out: Path,
    periods: list[Periode],
    scale: float = 1.0,
    seed: int = 1,
    defects: float = 0.0,
    corrections: float = CORRECTION_RATE,
    defective: float | None = None,
    layout: Layout | Layouts | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    new_layout_from: Periode | None = NEW_LAYOUT_FROM,
) -> list[GeneratedFile]:
    """Write one delivery per organisation per period into `out`, plus correction deliveries.

    A correction (leveringsnummer 002) is made for a share `corrections` of the organisation-periods that
    have a later period in the same run (corrections arrive after the period was first delivered): its
    first delivery (001) then misses a few records and has more defects. A manifest.json lists every file.
    Files of periods before `new_layout_from` (None: every period) are in the current layout (0200), later
    ones in the newest; one Layout given is used for every file.

    `defects` is the chance per record and kind of defect. With `defective` (a share), only that share of the
    organisation-periods has defects, each one or two kinds at `defects` x DEFECTIVE_BOOST, as a real half-year
    looks: most deliveries are clean, a few fail for a clear reason. None: every delivery, every kind.
    """
    known_layouts = layout if isinstance(layout, Layouts) else Layouts({layout.versie: layout}) if layout else layouts()
    current = known_layouts.get(CURRENT_VERSION) or known_layouts.newest

    def layout_of(p: Periode) -> Layout:
        return known_layouts.newest if new_layout_from is not None and p >= new_layout_from else current

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    periods = sorted(set(periods))
    known = regions_per_year()
    years = {p.jaar: known[reference_year(p.jaar, known)] for p in periods} | known
    volumes = volumes_per_region()
    orgs = sorted({vt for p in periods for vt in years[p.jaar]})
    written: list[GeneratedFile] = []
    for k, vt in enumerate(orgs):
        if progress:
            progress(k, len(orgs), vt)
        own = [p for p in periods if vt in years[p.jaar]]
        later_years = [y for y in years if y > own[-1].jaar]
        until = date(own[-1].jaar, 12, 31) if later_years and vt not in years[min(later_years)] else None
        vt_num = int(vt[2:])
        rng = np.random.default_rng([seed, vt_num])
        world = simulate(vt, volumes[vt], gemeenten_per_year(vt, rng), own[0], own[-1], scale, rng, until)
        for p in own:
            prng = np.random.default_rng([seed, vt_num, p.jaar, p.helft])
            records = cut(world, p)
            corrected = p != periods[-1] and prng.random() < corrections
            versions = []
            if corrected:
                first = drop_some(records, 0.02, prng)
                versions.append((1, first, defects * 2 or 0.002, 20))
                versions.append((2, records, defects, 90))
            else:
                versions.append((1, records, defects, 20))
            kinds = DEFECT_KINDS
            if defective is not None:
                # its own generator, so the files of a run without `defective` stay as they were
                drng = np.random.default_rng([seed, vt_num, p.jaar, p.helft, 400])
                if drng.random() < defective:
                    kinds = tuple(sorted(drng.choice(DEFECT_KINDS, size=drng.integers(1, 3), replace=False)))
                    versions = [(n, r, rate * DEFECTIVE_BOOST, d) for n, r, rate, d in versions]
                else:
                    kinds = ()
            for nummer, recs, rate, days in versions:
                recs = {c: {f: v.copy() for f, v in cols.items()} for c, cols in recs.items()}
                found = add_defects(recs, rate, prng, kinds) if kinds else Counter()
                made = (p.end + timedelta(days=days)).strftime("%Y%m%d")
                file_layout = layout_of(p)
                if "aanleiding" in {f.name for f in file_layout.record_types["ME"].fields} and "ME" in recs:
                    # its own generator, so the files of earlier periods stay as they were
                    arng = np.random.default_rng([seed, vt_num, p.jaar, p.helft, nummer, 300])
                    n_me = len(next(iter(recs["ME"].values()), []))
                    recs["ME"]["aanleiding"] = arng.choice(AANLEIDING[0], size=n_me, p=AANLEIDING[1]).astype(object)
                text = render(file_layout, vt, p, nummer, made, recs)
                path = out / f"{vt}_{p}_{nummer:03d}.txt"
                path.write_text(text, encoding="ascii")
                n = sum(len(next(iter(c.values()), [])) for c in recs.values())
                received = (p.end + timedelta(days=days + 5)).isoformat() + "T09:00:00"
                stamp_received(path, received)
                written.append(GeneratedFile(path, vt, str(p), nummer, n, received, dict(found)))
    if progress:
        progress(len(orgs), len(orgs), "")
    manifest = {
        "periods": [str(p) for p in periods],
        "scale": scale,
        "seed": seed,
        "defects": defects,
        "files": [
            {
                "file": f.path.name,
                "vt_code": f.vt_code,
                "verslagperiode": f.periode,
                "leveringsnummer": f.leveringsnummer,
                "records": f.records,
                "ontvangen_op": f.ontvangen_op,
                "defects": f.defects,
            }
            for f in written
        ],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return written
