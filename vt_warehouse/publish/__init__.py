"""Publication: a release's kerncijfers and indicatoren, and the time series of every half-year published so
far, as tidy CSV, one Excel workbook and one offline HTML page, with CBS rounding, optional suppression
(primary and secondary) and the CBS symbols (publicatie.md).

`cells` holds the arithmetic (pure, tested on its own), `sources` what a publication is made from (the only
module that reads the database or a frozen release's files), `tidy`, `workbook` and `page` the writers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from loaders.warehouse import Warehouse
from vt_warehouse.kalender import get_release
from vt_warehouse.publish.cells import TOTAAL, count_cel, pct_cel, periode_label, round5, suppressed
from vt_warehouse.publish.measures import INDICATOREN, KERNCIJFERS
from vt_warehouse.publish.sources import Publicatie, PublishError, release_halfjaren, series
from vt_warehouse.publish.text import bron_line, trendbreuk_redenen

REGIO_ENV = "VT_PUBLICATIE_REGIO"
DREMPEL_ENV = "VT_PUBLICATIE_DREMPEL"

__all__ = [
    "INDICATOREN",
    "KERNCIJFERS",
    "Publicatie",
    "PublishError",
    "count_cel",
    "pct_cel",
    "periode_label",
    "publication",
    "publish",
    "round5",
    "suppressed",
]


def publication(
    warehouse: Warehouse,
    name: str,
    suppress: int | None = None,
    bron: str | None = None,
    regio: str | None = None,
    just_frozen: bool = False,
) -> Publicatie:
    """What the publication of release `name` shows. The suppression threshold is `suppress`, else
    $VT_PUBLICATIE_DREMPEL, else 0 (none); the region drawn beside Nederland is `regio`, else
    $VT_PUBLICATIE_REGIO, else the first region of the release's last half-year; the source line is `bron`,
    else $VT_PUBLICATIE_BRON, else the default. (The refresh publishes with the environment's settings.)
    A frozen release is checked against its manifest first, every file; `just_frozen` (the caller froze it a
    moment ago, under its lock, and the manifest was made from these very files) checks the two files read."""
    if suppress is None:
        text = os.environ.get(DREMPEL_ENV, "").strip() or "0"
        if not text.isdigit():
            raise PublishError(f"${DREMPEL_ENV} is {text!r}: the suppression threshold is a whole number, 0 for none")
        suppress = int(text)
    release = get_release(name)
    eigen = release_halfjaren(warehouse, release, verify_all=not just_frozen)
    if not eigen:
        raise PublishError(f"release {name} has no kerncijfers: build it first (`vt build --release {name}`)")
    regions = [vt for vt, _ in eigen[-1].regios if vt != TOTAAL]
    chosen = (regio or os.environ.get(REGIO_ENV) or regions[0]).strip().upper()
    if chosen not in regions:
        raise PublishError(
            f"region {chosen} is not a Veilig Thuis-regio of {eigen[-1].periode}: choose one of "
            f"{', '.join(regions)} (--regio or ${REGIO_ENV})"
        )
    return Publicatie(release, eigen, series(warehouse, release, eigen), suppress, bron_line(name, bron), chosen)


def publish(pub: Publicatie, out: Path, unrounded: bool = False) -> list[Path]:
    """Write every file of the publication into `out`; returns the paths written, the manifest last."""
    from vt_warehouse.publish import page, tidy, workbook

    name = pub.release.name
    out.mkdir(parents=True, exist_ok=True)
    written = [
        *tidy.write(
            out / f"cijfers_{name}.csv",
            pub.eigen,
            pub.suppress,
            reeks=pub.reeks,
            titel=f"Kerncijfers en indicatoren per Veilig Thuis-regio, release {name}",
        ),
        *tidy.write(
            out / f"tijdreeks_{name}.csv",
            pub.reeks,
            pub.suppress,
            titel=f"Tijdreeks per Veilig Thuis-regio, release {name}",
        ),
    ]
    if unrounded:
        written += tidy.write(
            out / f"cijfers_{name}_onafgerond.csv",
            pub.eigen,
            rounded=False,
            reeks=pub.reeks,
            titel=f"Onafgeronde aantallen, release {name} (alleen ter controle)",
        )
    written.append(workbook.write(pub, out / f"tabellen_{name}.xlsx"))
    written.append(page.write(pub, out / f"publicatie_{name}.html"))
    written.append(write_manifest(out, pub, written))
    return written


def write_manifest(out: Path, pub: Publicatie, written: list[Path]) -> Path:
    """manifest.json: every file of the publication with its sha256 (`vt verify` checks a published release),
    and where each half-year of the series comes from."""
    from vt_warehouse.release import MANIFEST, sha256_file

    path = out / MANIFEST
    files = [{"name": p.name, "sha256": sha256_file(p)} for p in written]
    reeks = [
        {"periode": h} if isinstance(h, str) else {"periode": h.periode, "bron": h.bron, "status": h.status}
        for h in pub.reeks
    ]
    volledigheid = [
        {
            "periode": h.periode,
            "organisaties": len([vt for vt, _ in h.regios if vt != TOTAAL]),
            "ontbrekend": [{"vt_code": vt, "vt_naam": naam} for vt, naam in h.ontbrekend],
        }
        for h in pub.eigen
    ]
    body = {
        "release": pub.release.name,
        "onderdrukking": pub.suppress,
        "regio": pub.regio,
        "volledigheid": volledigheid,
        "trendbreuken": [
            {"periode": na, "voor": b.voor, "redenen": trendbreuk_redenen(b)} for na, b in pub.breuken.items()
        ],
        "tijdreeks": reeks,
        "files": files,
    }
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return path
