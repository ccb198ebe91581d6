"""The two reports per delivery written to its folder: kwaliteitsrapport (the rules of rules.py, run by GX) and
spiegelrapport (every field on its own), as JSON/CSV for machines and HTML in Dutch for the organisation, with
the delivery format they link to beside them. The data is made in kwaliteit.py and spiegel.py, the HTML in
pages.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from vt_warehouse.layout_docs import format_html
from vt_warehouse.quality.pages import kwaliteitsrapport_html, spiegelrapport_html
from vt_warehouse.quality.spiegel import SPIEGEL_COLUMNS

FORMAT_PAGE = "bestandsdefinitie.html"


def write_spiegel_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, SPIEGEL_COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in SPIEGEL_COLUMNS})


def write_reports(out: Path, report: dict, spiegel: list[dict], organisatie: str) -> Path:
    folder = out / report["delivery"]
    folder.mkdir(parents=True, exist_ok=True)
    # the delivery format the report links to, beside it (the folder is what an organisation downloads)
    (folder / FORMAT_PAGE).write_text(format_html(), encoding="utf-8")
    (folder / "kwaliteitsrapport.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / "kwaliteitsrapport.html").write_text(kwaliteitsrapport_html(report, organisatie), encoding="utf-8")
    write_spiegel_csv(folder / "spiegelrapport.csv", spiegel)
    (folder / "spiegelrapport.html").write_text(
        spiegelrapport_html(report["delivery"], organisatie, spiegel, levering=report.get("levering")), encoding="utf-8"
    )
    return folder
