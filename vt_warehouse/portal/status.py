"""What the portal shows, read from the warehouse's folders only (never its database, which a running refresh
holds): per organisation its deliveries and their state, the quality report files of a delivery, and the
operator's overview. Every name that comes from a request is matched against these listings, never joined
into a path."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from loaders.periods import FIRST_YEAR
from vt_warehouse.kalender import releases

LEVERING = re.compile(r"^(VT\d{2})_(\d{4}H[12])_(\d{3})\Z")
REPORT_FILES = (
    "kwaliteitsrapport.html",
    "spiegelrapport.html",
    "overtredingen.csv",
    "niet_te_controleren.csv",
    "spiegelrapport.csv",
    "kwaliteitsrapport.json",
)
SERVED_FILES = (*REPORT_FILES, "bestandsdefinitie.html")  # (the format the report links to: not listed)
STATES = {
    "ontvangen": "ontvangen, wacht op verwerking",
    "geladen": "geladen",
    "afgekeurd": "afgekeurd",
    "rapporten": "geladen, rapporten klaar",
}


@dataclass
class Levering:
    levering_id: str
    vt_code: str
    periode: str
    nummer: int
    status: str = "ontvangen"
    reden: str = ""  # why it was rejected
    goedgekeurd: bool | None = None  # the kwaliteitsrapport's verdict, when there is one
    rapporten: list[str] = field(default_factory=list)

    @property
    def status_tekst(self) -> str:
        return STATES[self.status]


def _stem(name: str) -> str | None:
    stem = name[:-4] if name.endswith(".txt") else None
    return stem if stem and LEVERING.match(stem) else None


def deliveries(home: Path, inbox: Path, vt_code: str | None = None) -> list[Levering]:
    """Every delivery the warehouse knows of (in the inbox, archived, rejected, reported), of one organisation
    or all; newest half-year first."""
    found: dict[str, Levering] = {}

    def get(stem: str) -> Levering:
        m = LEVERING.match(stem)
        return found.setdefault(stem, Levering(stem, m[1], m[2], int(m[3])))

    places = [(p, "ontvangen") for p in _files(inbox)]
    archive = Path(home) / "archive"
    for folder in sorted(archive.iterdir()) if archive.is_dir() else []:
        places += [(p, "geladen") for p in _files(folder)]
    places += [(p, "afgekeurd") for p in _files(Path(home) / "rejected")]
    for path, state in places:
        stem = _stem(path.name)
        if stem and (vt_code is None or stem.startswith(vt_code + "_")):
            lev = get(stem)
            lev.status = state if lev.status == "ontvangen" else lev.status
            if state == "afgekeurd":
                reason = path.with_name(path.name + ".reden.txt")
                lev.reden = reason.read_text(encoding="utf-8", errors="replace") if reason.is_file() else ""
    reports = Path(home) / "kwaliteit"
    for folder in sorted(reports.iterdir()) if reports.is_dir() else []:
        if (
            folder.is_dir()
            and LEVERING.match(folder.name)
            and (vt_code is None or folder.name.startswith(vt_code + "_"))
        ):
            lev = get(folder.name)
            lev.rapporten = [f for f in REPORT_FILES if (folder / f).is_file()]
            if "spiegelrapport.html" in lev.rapporten:
                lev.status = "rapporten"
            try:
                lev.goedgekeurd = bool(json.loads((folder / "kwaliteitsrapport.json").read_text())["passed"])
            except (OSError, ValueError, KeyError, TypeError):
                lev.goedgekeurd = None
    return sorted(found.values(), key=lambda x: (x.periode, x.vt_code, x.nummer), reverse=True)


def _files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.iterdir() if p.is_file() and not p.is_symlink()]
    except OSError:
        return []


def report_path(home: Path, levering_id: str, name: str) -> Path | None:
    """The report file, when both names are ones the listing has (no path is built from the request)."""
    reports = Path(home) / "kwaliteit"
    if not LEVERING.match(levering_id) or name not in SERVED_FILES:
        return None
    folders = {p.name: p for p in reports.iterdir()} if reports.is_dir() else {}
    folder = folders.get(levering_id)
    if folder is None or folder.is_symlink() or not folder.is_dir():
        return None
    files = {p.name: p for p in folder.iterdir()}
    path = files.get(name)
    return path if path is not None and path.is_file() and not path.is_symlink() else None


def calendar_state(home: Path, today) -> list[dict]:
    """The release calendar up to today's year: per release its peildatum and whether it is frozen and published."""
    out = []
    for r in releases(FIRST_YEAR, today.year):
        out.append(
            {
                "release": r.name,
                "status": r.status,
                "peildatum": r.peildatum.isoformat(),
                "vastgesteld": (Path(home) / "releases" / r.name / "manifest.json").is_file(),
                "gepubliceerd": (Path(home) / "publicatie" / r.name / "manifest.json").is_file(),
            }
        )
    return out
