"""The layout is the one home of every delivered field: what it says reaches staging, the rules, the reports and
the codebook without another change, and what is made from it (the fields' doc blocks) is never stale."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from loaders.layout import layouts
from tests.conftest import KEY, PROJECT, RELEASE_KEY, small_delivery, write_delivery
from vt_warehouse.layout_docs import DOCS_FILE, FLAG_DOCS_FILE, render, render_flags
from vt_warehouse.quality.rules import CODE_FIELDS, FLAG_FIELDS
from vt_warehouse.release.schema import tables

# what a project copy needs to run: the package, the dbt project, the GX suite
PROJECT_PARTS = (
    "loaders",
    "vt_warehouse",
    "models",
    "macros",
    "seeds",
    "tests/dbt",
    "gx",
    "dbt_project.yml",
    "profiles.yml",
)


def test_the_fields_doc_blocks_are_what_the_layout_says():
    assert DOCS_FILE.read_text(encoding="utf-8") == render(), "stale: run `vt dev generate`"
    text = DOCS_FILE.read_text(encoding="utf-8")
    # the description of each record type's own field, not a copy of another's
    assert "{% docs ad_startdatum %}Date the advies started (first contact).{% enddocs %}" in text
    assert "{% docs ad_aard_2 %}Flag 2 of aard (Partnergeweld): true/false;" in text
    assert FLAG_DOCS_FILE.read_text(encoding="utf-8") == render_flags(), "stale: run `vt dev generate`"


def test_every_coded_field_of_every_layout_version_is_released_or_listed_as_not():
    """A coded field (a code list or flags) of any layout version is a released column: <veld>_gaaf, its flags
    <veld>_1.., or the column the registry loaders/data/vrijgave.csv names; or that registry says it is not
    released, and why. A field added to the layout without either fails here, not silently in the release."""
    from loaders.layout import read_csv

    registry = {(r["recordtype"], r["veld"]): r for r in read_csv("vrijgave.csv")}
    released = {name: {c.name for c in t.columns} for name, t in tables().items()}
    missing, wrong = [], []
    for rt in layouts().raw.data_types:
        columns = released[f"vt_{rt.entiteit}"]
        for f in rt.fields:
            if not (f.codelijst or f.type == "F"):
                continue
            listed = registry.get((rt.code, f.name)) or registry.get(("*", f.name))
            if listed and not listed["kolom"]:
                assert listed["reden"].strip(), (rt.code, f.name)  # not released: say why
            elif listed:
                wrong += [] if listed["kolom"] in columns else [(rt.code, f.name, listed["kolom"])]
            elif f"{f.name}_gaaf" not in columns and f"{f.name}_1" not in columns:
                missing.append((rt.code, f.name))
    assert missing == [] and wrong == [], "add the column to the release, or a row to loaders/data/vrijgave.csv"


def test_the_released_columns_take_code_lists_and_flag_labels_from_the_layout():
    melding = {c.name: c for c in tables()["vt_melding"].columns}
    assert {name: c.codelijst for name, c in melding.items() if c.codelijst} == {
        "vtcode_gaaf": "VT_ORGANISATIE",
        "rol_gaaf": "ROL",
        "organisatie_gaaf": "ORGANISATIE",
        "anoniem_gaaf": "JANEE",
        "duur_gaaf": "DUUR",
        "aanleiding_gaaf": "AANLEIDING",
    }
    assert melding["aard_2"].description == (
        "(Vermoedelijke) aard, code 2 (Partnergeweld): true/false; NULL (leeg) "
        "als het veld onbekend of ongeldig is (G5)."
    )


def test_the_rules_check_the_fields_the_layout_gives_a_code_list():
    by_type = {code: fields for (_, code, _), fields in CODE_FIELDS.items()}
    assert by_type["ME"] == [
        ("rol", "ROL"),
        ("organisatie", "ORGANISATIE"),
        ("anoniem", "JANEE"),
        ("duur", "DUUR"),
        ("aanleiding", "AANLEIDING"),
    ]
    assert "CA" not in by_type  # the gemeente and the organisation's code have checks of their own
    flags = {code: fields for (_, code, _), fields in FLAG_FIELDS.items()}
    assert flags["ON"] == [("aard", 7), ("aanvullende_informatie", 8), ("uitkomst", 9)]
    assert sum(len(v) for v in CODE_FIELDS.values()) == sum(
        1 for rt in layouts().raw.data_types for f in rt.fields if f.code_check == "code"
    )


# the generated files a field added to the layout changes
LAYOUT_FILES = {
    "models/staging/loader/_loader__docs.md": "loaders/data/layout.csv, codes.csv",
    "models/staging/loader/_loader__models.yml": "loaders/data/layout.csv",
    "models/marts/geleverd/_geleverd__models.yml": "loaders/data/layout.csv",
}


def _copy_project(target: Path) -> Path:
    for part in PROJECT_PARTS:
        src = PROJECT / part
        if src.is_dir():
            shutil.copytree(src, target / part, ignore=shutil.ignore_patterns("__pycache__", "uncommitted"))
        else:
            shutil.copy2(src, target / part)
    return target


def _vt(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    """`vt` of the copied project: its package first on the path, so its layout is the one read."""
    env = {
        **os.environ,
        "VT_HOME": str(home),
        "VT_PSEUDONYM_KEY": KEY,
        "VT_RELEASE_KEY": RELEASE_KEY,
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONPATH": str(project),
    }
    env.pop("VT_DATABASE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "vt_warehouse.cli", *args], cwd=project, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow(seconds=22)
def test_a_field_and_a_code_added_to_the_layout_reach_every_output(tmp_path):
    """A data change only: a new coded field `verwijzer` on AD records (positions 67-68, code list VERWIJZER) and a
    new code 5 in DUUR, in a copy of the project. The field is staged, mirrored in the spiegelrapport and checked
    by KR13; the code is in the release's codebook and accepted by the rules."""
    project = _copy_project(tmp_path / "project")
    with (project / "loaders" / "data" / "layout.csv").open("a", encoding="utf-8") as fh:
        fh.write("0200,AD,verwijzer,67,2,N,VERWIJZER,N,Who referred the adviesvrager to Veilig Thuis,,\n")
    with (project / "loaders" / "data" / "codes.csv").open("a", encoding="utf-8") as fh:
        fh.write("VERWIJZER,01,Huisarts\nVERWIJZER,02,School\nDUUR,5,Langer dan vijf jaar\n")
    # the files made from the layout (the staging YAML, the delivered-records contracts, the doc blocks)
    generated = _vt(project, tmp_path, "dev", "generate", *LAYOUT_FILES).stdout
    assert sorted(generated.split("\n")[:-1]) == sorted(f"wrote {p} (from {s})" for p, s in LAYOUT_FILES.items())

    lines = small_delivery()
    ad = next(i for i, line in enumerate(lines) if line.startswith("AD"))
    lines[ad] = lines[ad][:61] + "5" + lines[ad][62:66] + "77" + lines[ad][68:]  # duur 5 (new, valid); verwijzer 77
    home = tmp_path / "home"
    path = write_delivery(tmp_path, lines)
    _vt(project, home, "load", "--received-at", "2020-08-01T10:00:00", str(path))
    _vt(project, home, "quality", "--all", "--out", str(home / "kwaliteit"))

    with duckdb.connect(str(home / "vt.duckdb"), read_only=True) as con:
        assert con.execute("select duur, verwijzer from stg_loader__adviezen").fetchall() == [("5", "77")]
    report = home / "kwaliteit" / "VT05_2020H1_001"
    with (report / "spiegelrapport.csv").open(encoding="utf-8") as fh:
        spiegel = {(r["recordtype"], r["veld"], r["maat"]): r for r in csv.DictReader(fh)}
    assert spiegel[("AD", "verwijzer", "gevuld")]["deze_levering"] == "100.0"
    assert spiegel[("AD", "verwijzer", "geldig")]["deze_levering"] == "0.0"
    assert spiegel[("AD", "verwijzer", "code 02")]["label"] == "School"
    assert spiegel[("AD", "duur", "code 5")]["deze_levering"] == "100.0"
    with (report / "overtredingen.csv").open(encoding="utf-8") as fh:
        kr13 = [r for r in csv.DictReader(fh) if r["regel"] == "KR13"]
    assert [(r["recordtype"], r["nummer"], r["veld"], r["waarde"], r["verwacht"]) for r in kr13] == [
        ("AD", "A1", "verwijzer", "verwijzer: 77", "verwijzer: een code uit codelijst VERWIJZER")
    ]
    # GX checks the new field too (the run's suite follows the rules, not the suite committed before the change)
    verdict = json.loads((report / "kwaliteitsrapport.json").read_text())
    assert (verdict["passed"], verdict["not_run"]) == (False, [])
    assert next(r for r in verdict["rules"] if r["id"] == "KR13")["violations"] == 1

    _vt(project, home, "release", "2020V1")
    codebook = (home / "releases" / "2020V1" / "codebook_2020V1.md").read_text(encoding="utf-8")
    assert "| 5 | Langer dan vijf jaar |" in codebook
    with duckdb.connect(str(home / "releases" / "2020V1" / "vt_2020V1.duckdb"), read_only=True) as con:
        # the new code is valid: G5 keeps it
        assert con.execute("select duur_gaaf from VT_advies_2020V1").fetchall() == [("5",)]
    manifest = json.loads((home / "releases" / "2020V1" / "manifest.json").read_text())
    assert [d["levering_id"] for d in manifest["leveringen"]] == ["VT05_2020H1_001"]
