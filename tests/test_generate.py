"""The generator: deterministic, loadable, and with the features later issues rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from loaders.layout import CURRENT_VERSION, default_layout, layouts, read_csv
from loaders.load import GELADEN, load_files
from loaders.parse import parse_file
from loaders.periods import periode_range
from loaders.pseudonym import bsn_status
from loaders.warehouse import Warehouse
from tests.states import shared_state
from vt_warehouse.generate import generate, regions_per_year

SMALL = 0.03


@pytest.fixture(scope="session")
def history(request):
    """2022H1-2023H2 at a small scale with defects: crosses the 2023 region change and has corrections."""

    def build(out: Path):
        files = generate(out, periode_range("2022H1:2023H2"), scale=SMALL, seed=11, defects=0.02)
        parsed = {f.path.name: parse_file(f.path, default_layout()) for f in files}
        return out, files, parsed

    return shared_state(request, "generated-2022-2023", build)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = generate(tmp_path / "a", periode_range("2020H1:2020H2"), scale=SMALL, seed=5, defects=0.01)
    b = generate(tmp_path / "b", periode_range("2020H1:2020H2"), scale=SMALL, seed=5, defects=0.01)
    c = generate(tmp_path / "c", periode_range("2020H1:2020H2"), scale=SMALL, seed=6, defects=0.01)
    assert [f.path.name for f in a] == [f.path.name for f in b]
    assert all(x.path.read_bytes() == y.path.read_bytes() for x, y in zip(a, b))
    assert (tmp_path / "a" / "manifest.json").read_text() == (tmp_path / "b" / "manifest.json").read_text()
    same_names = {f.path.name for f in a} & {f.path.name for f in c}
    assert any((tmp_path / "a" / n).read_bytes() != (tmp_path / "c" / n).read_bytes() for n in same_names)


def test_every_generated_file_loads(history, tmp_path, monkeypatch):
    out, files, parsed = history
    monkeypatch.setenv("VT_HOME", str(tmp_path / "wh"))
    monkeypatch.setenv("VT_PSEUDONYM_KEY", "k" * 40)
    results = load_files([out], Warehouse.from_env(), default_layout())
    assert [r.outcome for r in results] == [GELADEN] * len(files)
    assert sum(sum(r.counts.values()) for r in results) == sum(f.records for f in files)


def test_regions_per_year_with_the_2023_change(history):
    _, files, _ = history
    per_period = defaultdict(set)
    for f in files:
        per_period[f.periode].add(f.vt_code)
    assert len(per_period["2022H2"]) == 26 and "VT27" not in per_period["2022H2"]
    assert len(per_period["2023H1"]) == 25 and {"VT16", "VT26"}.isdisjoint(per_period["2023H1"])
    assert "VT27" in per_period["2023H2"]


def test_correction_deliveries_only_for_earlier_periods(history):
    _, files, _ = history
    corrections = [f for f in files if f.leveringsnummer == 2]
    assert corrections, "expected some correction deliveries"
    names = {f.path.name for f in files}
    for f in corrections:
        assert f.path.name.replace("_002", "_001") in names
        assert f.periode != "2023H2"


def test_casussen_span_half_years_with_einddatum_only_later(history):
    _, _, parsed = history
    h1 = parsed["VT05_2022H1_001.txt"].tables["CA"].to_pylist()
    h2 = {r["casusnummer"]: r for r in parsed["VT05_2022H2_001.txt"].tables["CA"].to_pylist()}
    spanning = [r for r in h1 if r["casusnummer"] in h2]
    assert len(spanning) > 10
    assert all(r["einddatum"].strip() == "" for r in spanning)  # open at the end of H1, else not in H2
    closed_later = [r for r in spanning if h2[r["casusnummer"]]["einddatum"].strip()]
    assert closed_later
    for r in closed_later:
        later = h2[r["casusnummer"]]
        # closed in H2, unless the generator's defect put the einddatum before the startdatum
        assert later["einddatum"] >= "20220701" or later["einddatum"] < later["startdatum"]


def test_old_gemeente_codes_are_still_used(history):
    _, _, parsed = history
    old = {r["oude_code"] for r in read_csv("herindelingen.csv", "referentiedata")}
    used = Counter()
    for p in parsed.values():
        for code in ("CA", "AD"):
            used.update(c for c in p.tables[code].column("gemeentecode").to_pylist() if c in old)
    assert sum(used.values()) > 5


def test_defects_are_in_the_files_as_counted(history):
    out, files, parsed = history
    manifest = json.loads((out / "manifest.json").read_text())
    totals = Counter()
    for f in manifest["files"]:
        totals.update(f["defects"])
    assert set(totals) == {
        "onmogelijke_datum",
        "einddatum_voor_startdatum",
        "onbekende_code",
        "wees",
        "ongeldig_bsn",
        "organisatie_zonder_beroeps",
    }
    # invalid BSNs as counted: the generator makes only valid ones otherwise
    for f in manifest["files"]:
        bt = parsed[f["file"]].tables["BT"].column("bsn").to_pylist()
        assert (bsn_status(np.array(bt, dtype="S9")) == "ongeldig").sum() == f["defects"].get("ongeldig_bsn", 0)
    # orphans: ME records whose casus is not in the file
    f = max(manifest["files"], key=lambda f: f["defects"].get("wees", 0))
    p = parsed[f["file"]]
    casussen = set(p.tables["CA"].column("casusnummer").to_pylist())
    orphans = sum(c not in casussen for c in p.tables["ME"].column("casusnummer").to_pylist())
    orphans += sum(c not in casussen for c in p.tables["MO"].column("casusnummer").to_pylist())
    assert orphans == f["defects"]["wees"] > 0


def test_national_volumes_at_scale_1(tmp_path):
    files = generate(tmp_path, periode_range("2019H1"), scale=1, seed=1)
    assert len(files) == 26
    parsed = [parse_file(f.path, default_layout()) for f in files]
    adviezen = sum(sum(d >= "20190101" for d in p.tables["AD"].column("startdatum").to_pylist()) for p in parsed)
    meldingen = sum(p.counts["ME"] for p in parsed)
    casussen = sum(p.counts["CA"] for p in parsed)
    assert 52_000 <= adviezen <= 56_000
    assert 62_000 <= meldingen <= 72_000
    assert 70_000 <= casussen <= 80_000


def test_cli_generate(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vt_warehouse.cli",
            "generate",
            "--out",
            str(tmp_path),
            "--periods",
            "2021H2",
            "--scale",
            "0.01",
            "--seed",
            "3",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("26 files,")
    assert proc.stderr == ""  # no progress bar when not on a terminal


def test_any_half_year_from_2019_with_the_new_layout_from_a_chosen_half_year(tmp_path):
    """2025 and 2026 have no reference data in the project: the generator uses 2024's regions (and says so on
    the command line); files from --new-layout-from on are layout 0300 with ME.aanleiding filled."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vt_warehouse.cli",
            "generate",
            "--out",
            str(tmp_path),
            "--periods",
            "2025H2:2026H1",
            "--scale",
            "0.01",
            "--seed",
            "3",
            "--new-layout-from",
            "2026H1",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        "note: the project has no reference data for 2025; the synthetic 2025 deliveries use the regions and "
        "gemeenten of 2024",
        "note: the project has no reference data for 2026; the synthetic 2026 deliveries use the regions and "
        "gemeenten of 2024",
    ]
    files = sorted(tmp_path.glob("*.txt"))
    assert sorted({p.name[:4] for p in files}) == sorted(regions_per_year()[2024])  # 25 regions, VT27 not VT16
    versions = defaultdict(set)
    for p in files:
        versions[p.name[5:11]].add(p.read_text()[20:24])  # versie_bestandsdefinitie, VL positions 21-24
    assert versions == {"2025H2": {CURRENT_VERSION}, "2026H1": {layouts().newest.versie}}  # the newest from 2026H1
    parsed = parse_file(tmp_path / "VT01_2026H1_001.txt", layouts())
    aanleiding = parsed.tables["ME"].column("aanleiding").to_pylist()
    assert aanleiding and set(aanleiding) <= {"01", "02", "03", "04", "05", "99"}
    assert "aanleiding" not in parse_file(tmp_path / "VT01_2025H2_001.txt", layouts()).tables["ME"].column_names


def test_defects_per_organisation_as_a_real_half_year(tmp_path):
    """With --defective 0.2 only some organisations' deliveries have defects, each of one or two kinds, and at
    5x the rate; without it every delivery has every kind (the files other tests rely on)."""
    files = generate(tmp_path / "a", periode_range("2020H1"), scale=SMALL, seed=1, defects=0.01, defective=0.2)
    defective = {f.vt_code: f.defects for f in files if f.defects}
    assert 2 <= len(defective) <= 10 and len(files) == 26
    assert all(1 <= len(kinds) <= 2 for kinds in defective.values())
    again = generate(tmp_path / "b", periode_range("2020H1"), scale=SMALL, seed=1, defects=0.01, defective=0.2)
    assert {f.vt_code: f.defects for f in again if f.defects} == defective
    every = generate(tmp_path / "c", periode_range("2020H1"), scale=SMALL, seed=1, defects=0.01)
    assert all(f.defects for f in every)
