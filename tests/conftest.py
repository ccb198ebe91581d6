"""Shared fixtures: a small valid delivery written record by record, an empty warehouse, and the states that more
than one test file reads (made once per run: tests/states.py)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from loaders.layout import CURRENT_VERSION, layouts, read_csv
from loaders.periods import periode_range
from tests.states import shared_state
from vt_warehouse.generate import generate
from vt_warehouse.generate.deliveries import render_records

KEY = "test-key-" + "0123456789abcdef" * 3
RELEASE_KEY = "test-release-key-" + "fedcba9876543210" * 3
# BSNs that pass the elfproef; the loader must never write them to the database in clear
VALID_BSNS = ("123456782", "111222333")


def run_vt(*args: str, home: Path | None = None, env: dict | None = None, check: bool = True):
    """`vt` in a child process, as a user or the scheduler runs it. With `home`: that warehouse and the test
    key (and no VT_DATABASE). With `check`: fail the test unless it exits 0."""
    full = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    if home is not None:
        full.update(VT_HOME=str(home), VT_PSEUDONYM_KEY=KEY, VT_RELEASE_KEY=RELEASE_KEY)
        full.pop("VT_DATABASE", None)
    full.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "vt_warehouse.cli", *args], capture_output=True, text=True, env=full)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


PROJECT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` (an end-to-end run of half a minute or more) run first, the longest first: with two
    workers taking the next test as they finish, the suite then ends with short tests on both, not one long test on
    one while the other waits. The order is the same in every worker, as pytest-xdist requires."""

    def weight(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return -(marker.kwargs.get("seconds", 30) if marker else 0)

    items.sort(key=weight)  # (stable: the rest keep the file order)


@pytest.fixture(autouse=True, scope="session")
def release_key_env():
    """The release key for every test and the commands they start (a test about a missing key removes it)."""
    old = os.environ.get("VT_RELEASE_KEY")
    os.environ["VT_RELEASE_KEY"] = RELEASE_KEY
    yield
    if old is None:
        os.environ.pop("VT_RELEASE_KEY", None)
    else:
        os.environ["VT_RELEASE_KEY"] = old


def run_dbt_cli(
    home: Path, *args: str, key: str | None = KEY, project: Path = PROJECT, release_key: str = RELEASE_KEY
) -> subprocess.CompletedProcess:
    """`dbt ARGS` as a data engineer runs it: the venv's dbt in the project folder (its profiles.yml) on the
    warehouse in `home`, with the test key (or none), dbt's own files in `home`. Never fails the test itself. A
    copy of the project (`project`) has its own package read first, so its registries are the ones dbt sees."""
    env = {k: v for k, v in os.environ.items() if k not in ("VT_DATABASE", "VT_PSEUDONYM_KEY", "VT_RELEASE_KEY")}
    env.update(VT_HOME=str(home), DO_NOT_TRACK="1")
    if project != PROJECT:
        env["PYTHONPATH"] = str(project)
    if key is not None:
        env.update(VT_PSEUDONYM_KEY=key, VT_RELEASE_KEY=release_key)
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [
            str(dbt),
            "--no-use-colors",
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(home / "dbt-target"),
            "--log-path",
            str(home / "logs"),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )


# the layout versions as rule 9 names them, and one it does not know (the one after the newest)
KNOWN_VERSIONS = ", ".join(sorted(layouts().versions))
UNKNOWN_VERSION = f"{int(max(layouts().versions)) + 100:04d}"


def record(code: str, vt_code: str = "VT05", versie: str = CURRENT_VERSION, **values: str) -> str:
    """One 120-character record of type `code` in layout version `versie`, fields given by layout name."""
    rt = layouts().versions[versie].record_types[code]
    cols = {k: np.array([v], dtype=object) for k, v in values.items()}
    if not cols:
        cols = {"recordtype": np.array([code], dtype=object)}
    return render_records(rt, vt_code, cols)[0]


def small_delivery(
    vt_code: str = "VT05", periode: str = "2020H1", nummer: str = "001", versie: str = CURRENT_VERSION
) -> list[str]:
    """A valid delivery with every record type: 2 CA, 1 AD, 2 ME, 1 VB, 1 VV, 1 ON, 1 OV, 1 MO, 2 BT. In a layout
    with the field aanleiding (0300 on) the meldingen have aanleiding 01 and 04."""
    v = vt_code
    melding = {f.name for f in layouts().versions[versie].record_types["ME"].fields}
    extra = [{"aanleiding": "01"}, {"aanleiding": "04"}] if "aanleiding" in melding else [{}, {}]

    def record(code, vt_code, **values):
        return _record(code, vt_code, versie, **values)

    body = [
        record("CA", v, casusnummer="C1", startdatum="20200110", einddatum="20200501", gemeentecode="0202"),
        record("CA", v, casusnummer="C2", startdatum="20191201", einddatum="", gemeentecode="0200"),
        record(
            "AD",
            v,
            adviesnummer="A1",
            startdatum="20200301",
            einddatum="20200302",
            gemeentecode="0202",
            aard="1000000",
            aanvullende_informatie="00000000",
            duur="1",
            rol="10",
            organisatie="01",
        ),
        record(
            "ME",
            v,
            meldingnummer="M1",
            casusnummer="C1",
            datum_melding="20200110",
            rol="22",
            organisatie="",
            anoniem="N",
            aard="0100000",
            aanvullende_informatie="",
            duur="2",
            **extra[0],
        ),
        record(
            "ME",
            v,
            meldingnummer="M2",
            casusnummer="C2",
            datum_melding="20200115",
            rol="10",
            organisatie="13",
            anoniem="N",
            aard="1000000",
            aanvullende_informatie="10000000",
            duur="3",
            **extra[1],
        ),
        record(
            "VB",
            v,
            meldingnummer="M1",
            casusnummer="C1",
            datum_beoordeling="20200113",
            inhoud="1",
            veiligheidstaxatie="2",
        ),
        record(
            "VV",
            v,
            dienstnummer="D1",
            casusnummer="C1",
            startdatum="20200120",
            einddatum="",
            aard="0100000",
            aanvullende_informatie="00000000",
            duur="2",
        ),
        record(
            "ON",
            v,
            dienstnummer="D2",
            casusnummer="C1",
            startdatum="20200120",
            einddatum="20200320",
            aard="0100000",
            aanvullende_informatie="00000000",
            duur="2",
            uitkomst="001000000",
        ),
        record(
            "OV",
            v,
            overdrachtnummer="O1",
            casusnummer="C1",
            bron="ON",
            bronnummer="D2",
            persoonsnummer="P1",
            datum_overdracht="20200321",
            partij="05",
            hulp="2",
        ),
        record("MO", v, monitoringnummer="T1", casusnummer="C1", datum_monitoring="20200420", veiligheidsscore="07"),
        record(
            "BT", v, persoonsnummer="P1", casusnummer="C1", bsn=VALID_BSNS[0], geboortedatum="20150600", geslacht="1"
        ),
        record(
            "BT", v, persoonsnummer="P2", casusnummer="C2", bsn=VALID_BSNS[1], geboortedatum="19800101", geslacht="2"
        ),
    ]
    head = record(
        "VL",
        v,
        verslagperiode=periode,
        aanmaakdatum="20200720",
        versie_bestandsdefinitie=versie,
        leveringsnummer=nummer,
    )
    counts = {"CA": 2, "AD": 1, "ME": 2, "VB": 1, "VV": 1, "ON": 1, "OV": 1, "MO": 1, "BT": 2}
    tail = record("SL", v, **{f"aantal_{c.lower()}": f"{n:07d}" for c, n in counts.items()})
    return [head, *body, tail]


def empty_delivery(
    vt_code: str, periode: str = "2020H1", nummer: str = "001", versie: str = CURRENT_VERSION
) -> list[str]:
    """A valid delivery without records: the organisation delivered and had nothing to report (its counts
    are nihil, not missing)."""
    head = _record(
        "VL",
        vt_code,
        versie,
        verslagperiode=periode,
        aanmaakdatum=f"{periode[:4]}0720",
        versie_bestandsdefinitie=versie,
        leveringsnummer=nummer,
    )
    tail = _record(
        "SL",
        vt_code,
        versie,
        **{f"aantal_{c}": "0000000" for c in ("ca", "ad", "me", "vb", "vv", "on", "ov", "mo", "bt")},
    )
    return [head, tail]


def national_inbox(folder: Path, missing: tuple[str, ...] = ()) -> Path:
    """`folder` with the hand-made 2020H1 delivery of VT05 and an empty one of every other organisation of 2020
    but `missing`: a complete (or all-but-`missing`) half-year in 26 small files."""
    folder.mkdir(parents=True, exist_ok=True)
    write_delivery(folder, small_delivery())
    for vt in regio_codes(2020):
        if vt != "VT05" and vt not in missing:
            write_delivery(folder, empty_delivery(vt))
    return folder


def cells_per_period(jaar: int) -> int:
    """Rows of a half-year in a tidy publication CSV: every measure for every region of the year and NL."""
    from vt_warehouse.publish.measures import maten

    return (len(regio_codes(jaar)) + 1) * len(maten())


def regio_codes(jaar: int) -> list[str]:
    """The VT-regio codes of a year, from the project's reference data."""
    return sorted({r["vt_code"] for r in read_csv("vt_regio.csv", "referentiedata") if r["jaar"] == str(jaar)})


_record = record


def write_delivery(
    folder: Path, lines: list[str], name: str | None = None, newline: str = "\n", final_newline: bool = True
) -> Path:
    if name is None:
        vl = lines[0]
        name = f"{vl[2:6]}_{vl[6:12]}_{vl[24:27]}.txt"
    path = Path(folder) / name
    text = newline.join(lines) + (newline if final_newline else "")
    path.write_bytes(text.encode("latin-1"))
    return path


@pytest.fixture
def warehouse_env(tmp_path, monkeypatch):
    """An empty warehouse in tmp_path with a key in the environment."""
    home = tmp_path / "warehouse"
    monkeypatch.setenv("VT_HOME", str(home))
    monkeypatch.delenv("VT_DATABASE", raising=False)
    monkeypatch.setenv("VT_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("VT_RELEASE_KEY", RELEASE_KEY)
    monkeypatch.delenv("VT_KILL_AT", raising=False)
    return home


THREE_ORGS = ("VT01", "VT02", "VT05")


@pytest.fixture(scope="session")
def half_year(request):
    """The 2020H1 deliveries of three organisations (THREE_ORGS), with their reception dates as file times."""

    def build(folder: Path) -> Path:
        generate(folder / "gen", periode_range("2020H1"), scale=0.02, seed=8, defects=0.002)
        keep = folder / "keep"
        keep.mkdir()
        for p in (folder / "gen").glob("*.txt"):
            if p.name[:4] in THREE_ORGS:
                shutil.copy2(p, keep / p.name)
        return keep

    return shared_state(request, "half-year", build)


@pytest.fixture(scope="session")
def year(request):
    """A generated year 2020 of every organisation, with defects (test_release.py, test_release_files.py)."""

    def build(folder: Path) -> Path:
        generate(folder, periode_range("2020H1:2020H2"), scale=0.02, seed=4, defects=0.01)
        return folder

    return shared_state(request, "year-2020", build)


@pytest.fixture(scope="session")
def refreshed_half_year(request, half_year):
    """`half_year` taken by a refresh as on 2020-10-01 (loaded, reported, 2020V1 frozen and published), then by a
    second refresh that finds nothing to do: (home, first, second)."""

    def build(home: Path):
        inbox = home / "inbox"
        shutil.copytree(half_year, inbox, copy_function=shutil.copy2)  # keeps the file times
        first = run_vt("refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home)
        second = run_vt("refresh", "--inbox", str(inbox), "--today", "2020-10-01", home=home)
        return home, first, second

    return shared_state(request, "refreshed-half-year", build)


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Debian's chromium is needed (make test installs it)"
    return path


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB(A) PNG (as Chromium writes it) into rows of pixel bytes."""
    data = path.read_bytes()
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


MANIFEST_RELEASE = "2021V2"  # any release of the calendar: a parse needs one


def parse_project(project: Path, home: Path) -> subprocess.CompletedProcess:
    """`dbt parse` of a project (this one, or a changed copy) into home/dbt-target."""
    return run_dbt_cli(home, "parse", "--vars", json.dumps({"release": MANIFEST_RELEASE}), project=project)


@pytest.fixture(scope="session")
def manifest(request):
    """dbt's manifest of the project, parsed once per run."""
    from tests.states import shared_state

    def build(home: Path) -> dict:
        out = parse_project(PROJECT, home)
        assert out.returncode == 0, out.stdout
        return json.loads((home / "dbt-target" / "manifest.json").read_text())

    return shared_state(request, "parsed-manifest", build)
