"""A frozen release read as an analyst reads it, with only the release folder: the codebook's one-line snippets
in pandas and Polars, the DuckDB file's comments, keys and label views, the CSVW schemas, the SPSS and Stata
syntax, the codebook's worked examples, the person identifier across releases, and `vt verify` on every kind
of file."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pytest

from loaders.layout import code_lists, layouts
from loaders.pseudonym import hmac_hex
from loaders.warehouse import Warehouse
from tests.conftest import CHROMIUM_FLAGS, KEY, RELEASE_KEY, chromium, run_vt
from tests.states import shared_state
from tests.test_release import load_generated
from vt_warehouse.release import content_checksum, freeze_release, verify_release
from vt_warehouse.release.codebook import examples
from vt_warehouse.release.files import labels_view
from vt_warehouse.release.schema import CODED_ID_WIDTH, tables

RELEASES = ("2020V1", "2020V2")


@pytest.fixture(scope="session")
def frozen(year, request):
    """One warehouse with the generated year (test_release.py's), 2020V1 and 2020V2 frozen: home."""

    def build(home: Path) -> Path:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("VT_PSEUDONYM_KEY", KEY)
            mp.delenv("VT_DATABASE", raising=False)
            load_generated(year, home)
            for name in RELEASES:
                freeze_release(Warehouse(home), name)
        return home

    return shared_state(request, "frozen-2020", build)


def folder_of(home, release="2020V2"):
    return home / "releases" / release


def codebook_snippets(folder, release, tool):
    """Table name -> the codebook's line for `tool`."""
    text = (folder / f"codebook_{release}.md").read_text(encoding="utf-8")
    return {
        re.search(r'"(VT_\w+)\.csv"', line).group(1): line.split(None, 1)[1]
        for line in text.splitlines()
        if line.startswith(f"{tool} ")
    }


@pytest.mark.slow(seconds=21)
def test_every_table_reads_from_csv_with_the_codebooks_snippets(frozen, monkeypatch):
    folder = folder_of(frozen)
    monkeypatch.chdir(folder)  # the snippets name the files relative to the release folder
    for tool, module in (("pandas", {"pd": pd}), ("polars", {"pl": pl})):
        snippets = codebook_snippets(folder, "2020V2", tool)
        assert sorted(snippets) == sorted(t.name("2020V2") for t in tables().values())
        for t in tables().values():
            name = t.name("2020V2")
            frame = eval(snippets[name], module)  # noqa: S307 - the codebook's own line, as an analyst pastes it
            if tool == "polars":  # its types on its own side, then the values as pandas sees them
                want_types = {"varchar": pl.String, "boolean": pl.Boolean, "integer": pl.Int32}
                assert frame.schema == {c.name: pl.Date if c.is_date else want_types[c.data_type] for c in t.columns}, (
                    name
                )
                frame = frame.to_pandas()
            expected = pd.read_parquet(f"{name}.parquet")
            assert list(frame.columns) == [c.name for c in t.columns] and len(frame) == len(expected), name
            for c in t.columns:
                got, want = frame[c.name], expected[c.name]
                assert got.isna().tolist() == want.isna().tolist(), (tool, name, c.name)
                if c.is_date:
                    assert tool == "polars" or str(got.dtype).startswith("datetime64"), (name, c.name, got.dtype)
                    assert [v.strftime("%Y%m%d") for v in got.dropna()] == want.dropna().tolist(), (name, c.name)
                elif c.data_type == "varchar":
                    assert tool == "polars" or str(got.dtype) == "string", (name, c.name, got.dtype)
                    assert got.dropna().tolist() == want.dropna().tolist(), (tool, name, c.name)
                elif c.data_type == "boolean":
                    assert tool == "polars" or str(got.dtype) == "boolean", (name, c.name, got.dtype)
                    assert got.dropna().astype(bool).tolist() == want.dropna().astype(bool).tolist(), (name, c.name)
                else:
                    assert tool == "polars" or str(got.dtype) == "Int64", (name, c.name, got.dtype)
                    assert got.dropna().astype(int).tolist() == want.dropna().astype(int).tolist(), (name, c.name)
    # codes kept their leading zeros: every gemeente code has its 4 positions
    casus = eval(codebook_snippets(folder, "2020V2", "pandas")["VT_casus_2020V2"], {"pd": pd})  # noqa: S307
    assert casus["gemeente_gaaf"].str.len().eq(4).all() and casus["gemeente_gaaf"].str.startswith("0").any()


def test_one_missing_value_convention(frozen):
    """NULL in DuckDB, an empty field in CSV; an empty string is never a value."""
    folder = folder_of(frozen)
    with duckdb.connect(str(folder / "vt_2020V2.duckdb"), read_only=True) as con:
        for t in tables().values():
            for c in t.columns:
                if c.data_type == "varchar":
                    n = con.execute(f'select count(*) from "{t.name("2020V2")}" where "{c.name}" = \'\'').fetchone()[0]
                    assert n == 0, (t.model, c.name)
    with open(folder / "VT_casus_2020V2.csv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    open_cases = sum(1 for r in rows[1:] if r[2] == "")
    with duckdb.connect() as con:
        nulls = con.execute(
            "select count(*) - count(einddatum_gaaf) from read_parquet(?)", [str(folder / "VT_casus_2020V2.parquet")]
        ).fetchone()[0]
    assert open_cases == nulls > 0
    assert '""' not in (folder / "VT_casus_2020V2.csv").read_text(encoding="utf-8")


def test_database_comments_keys_code_lists_and_label_views(frozen):
    folder = folder_of(frozen)
    with duckdb.connect(str(folder / "vt_2020V2.duckdb"), read_only=True) as con:
        for t in tables().values():
            name = t.name("2020V2")
            assert (
                con.execute("select comment from duckdb_tables() where table_name = ?", [name]).fetchone()[0]
                == t.description
            )
            comments = dict(
                con.execute("select column_name, comment from duckdb_columns() where table_name = ?", [name]).fetchall()
            )
            assert comments == {c.name: c.description for c in t.columns}
            for column, text in comments.items():  # every coded number says how it was coded, in Dutch
                if column == "identificatienummer_persoon":
                    assert "aparte releasesleutel" in text
                elif column.startswith("identificatienummer_"):
                    assert text.startswith("Gecodeerd"), column
            constraints = con.execute(
                "select constraint_type, constraint_column_names, referenced_table from "
                "duckdb_constraints() where table_name = ? and constraint_type in "
                "('PRIMARY KEY', 'FOREIGN KEY') order by all",
                [name],
            ).fetchall()
            assert ("PRIMARY KEY", list(t.key), None) in constraints
            for link in t.links:
                target = tables()[link.to].name("2020V2")
                on = " and ".join(f's."{a}" = d."{b}"' for a, b in zip(link.columns, link.to_columns))
                orphans = con.execute(
                    f'select count(*) from "{name}" s where not exists (select 1 from "{target}" d where {on})'
                ).fetchone()[0]
                declared = ("FOREIGN KEY", list(link.columns), target) in constraints
                assert declared == (orphans == 0), (name, link, orphans)
        # the generated year has meldingen without casus: that link is documented, not declared
        assert (
            con.execute(
                "select count(*) from duckdb_constraints() where table_name = 'VT_melding_2020V2' and "
                "constraint_type = 'FOREIGN KEY'"
            ).fetchone()[0]
            == 0
        )
        # one table per code list, and labels beside the codes
        lists = code_lists()
        assert con.execute("select code, omschrijving from codelijst_rol order by all").fetchall() == sorted(
            lists["ROL"]
        )
        assert con.execute("select omschrijving from codelijst_gemeente where code = '0363'").fetchone() == (
            "Amsterdam",
        )
        view = labels_view("VT_melding_2020V2")
        cols = [
            c
            for (c,) in con.execute(
                "select column_name from duckdb_columns() where table_name = ? order by column_index", [view]
            ).fetchall()
        ]
        assert cols[cols.index("rol_gaaf") + 1] == "rol_gaaf_label"
        rows = con.execute(f'select rol_gaaf, rol_gaaf_label, vtcode_gaaf_label from "{view}"').fetchall()
        assert len(rows) == con.execute("select count(*) from VT_melding_2020V2").fetchone()[0]
        rol = dict(lists["ROL"])
        assert all(label == rol.get(code) for code, label, _ in rows)
        assert all(region for _, _, region in rows)


def test_csvw_schema_per_csv(frozen):
    folder = folder_of(frozen)
    with duckdb.connect(str(folder / "vt_2020V2.duckdb"), read_only=True) as con:
        declared = {
            (t, tuple(cols))
            for t, cols in con.execute(
                "select table_name, constraint_column_names from duckdb_constraints() where constraint_type = "
                "'FOREIGN KEY'"
            ).fetchall()
        }
    for t in tables().values():
        name = t.name("2020V2")
        meta = json.loads((folder / f"{name}.csv-metadata.json").read_text(encoding="utf-8"))
        assert meta["url"] == f"{name}.csv" and meta["null"] == "" and meta["dc:description"] == t.description
        header = (folder / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert [c["name"] for c in meta["tableSchema"]["columns"]] == header
        types = {c["name"]: c["datatype"] for c in meta["tableSchema"]["columns"]}
        for c in t.columns:
            want = (
                {"base": "date", "format": "yyyyMMdd"}
                if c.is_date
                else {"base": "string", "maxLength": c.breedte}
                if c.data_type == "varchar"
                else {"boolean": "boolean", "integer": "integer"}[c.data_type]
            )
            assert types[c.name] == want
        assert meta["tableSchema"]["primaryKey"] == list(t.key)
        fks = {(name, tuple(f["columnReference"])) for f in meta["tableSchema"].get("foreignKeys", [])}
        assert fks == {d for d in declared if d[0] == name}
    casus = json.loads((folder / "VT_casus_2020V2.csv-metadata.json").read_text(encoding="utf-8"))
    assert {c["name"]: c["datatype"] for c in casus["tableSchema"]["columns"]}["gemeente_gaaf"] == {
        "base": "string",
        "maxLength": 4,
    }


def test_spss_and_stata_syntax(frozen):
    folder = folder_of(frozen)
    for t in tables().values():
        name = t.name("2020V2")
        sps = (folder / f"{name}.sps").read_text(encoding="utf-8")
        do = (folder / f"{name}.do").read_text(encoding="utf-8")
        assert f"/FILE='{name}.csv'" in sps and f'import delimited using "{name}.csv"' in do
        assert "stringcols(_all)" in do  # codes keep their leading zeros
        for c in t.columns:
            assert re.search(rf"^  {c.name}(_t)? ", sps, re.M), (name, c.name)
            assert f"label variable {c.name} " in do
    casus = (folder / "VT_casus_2020V2.sps").read_text(encoding="utf-8")
    assert "  identificatienummer_casus A64\n  startdatum_gaaf A8\n" in casus
    assert "VALUE LABELS gemeente_gaaf\n" in casus and "\n  '0363' 'Amsterdam'\n" in casus
    melding = (folder / "VT_melding_2020V2.sps").read_text(encoding="utf-8")
    assert "RECODE aard_1_t ('true'=1) ('false'=0) (ELSE=SYSMIS) INTO aard_1." in melding
    assert "ADD FILES /FILE=* /KEEP=identificatienummer_melding identificatienummer_casus " in melding
    assert max(len(line) for line in melding.splitlines()) < 400


def test_every_coded_field_of_every_layout_version_is_declared_as_wide_as_its_code_list():
    """The declared width of a released code column is its code list's longest code, for every coded field of
    every layout version (aanleiding_gaaf was A1, and PSPP read 04 as 0, the label of 05's neighbour); a code
    fits its delivered field; and every released text column declares a width."""
    lists = code_lists()
    columns = {(t.entity, c.name): c for t in tables().values() for c in t.columns}
    checked = []
    for versie, layout in layouts().versions.items():
        for rt in layout.data_types:
            for f in rt.fields:
                if not f.codelijst or f.codelijst not in lists or f.type == "F":
                    continue
                longest = max(len(code) for code, _ in lists[f.codelijst])
                assert f.length >= longest, (versie, rt.code, f.name)
                column = columns.get((rt.entiteit, f"{f.name}_gaaf"))
                if column is not None:
                    assert column.breedte == longest, (versie, rt.code, f.name, column.breedte, longest)
                    checked.append((versie, rt.code, f.name))
    assert ("0300", "ME", "aanleiding") in checked and ("0200", "AD", "rol") in checked
    assert [
        (t.model, c.name) for t in tables().values() for c in t.columns if c.data_type == "varchar" and not c.breedte
    ] == []


def test_every_export_declares_the_columns_width(frozen):
    """SPSS A widths, Stata str widths, CSVW maxLength and the codebook's formats are the declared widths,
    whatever the release's longest value (this year has no aanleiding at all: layout 0200)."""
    folder = folder_of(frozen)
    codebook = (folder / "codebook_2020V2.md").read_text(encoding="utf-8")
    for t in tables().values():
        name = t.name("2020V2")
        sps = (folder / f"{name}.sps").read_text(encoding="utf-8")
        do = (folder / f"{name}.do").read_text(encoding="utf-8")
        csvw = {
            c["name"]: c["datatype"]
            for c in json.loads((folder / f"{name}.csv-metadata.json").read_text(encoding="utf-8"))["tableSchema"][
                "columns"
            ]
        }
        for c in t.columns:
            if c.data_type != "varchar":
                continue
            assert f"\n  {c.name} A{c.breedte}\n" in sps, (name, c.name)
            assert f"\nrecast str{c.breedte} {c.name}\n" in do, (name, c.name)
            if not c.is_date:
                assert csvw[c.name] == {"base": "string", "maxLength": c.breedte}, (name, c.name)
    melding = (folder / "VT_melding_2020V2.sps").read_text(encoding="utf-8")
    assert "\n  aanleiding_gaaf A2\n" in melding and "\n  identificatienummer_melding A64\n" in melding
    assert CODED_ID_WIDTH == 64 and "| aanleiding_gaaf | A2 |" in codebook.replace("`", "")


def test_a_value_wider_than_its_declared_width_is_never_frozen(frozen, tmp_path, monkeypatch):
    """The exports would cut it (SPSS A, Stata str, CSVW maxLength): the freeze stops with the table and column."""
    import dataclasses

    from vt_warehouse.release import files as release_files

    folder = tmp_path / "export"
    folder.mkdir()
    for p in folder_of(frozen).glob("*.parquet"):
        shutil.copy(p, folder / p.name)
    narrow = {
        name: dataclasses.replace(
            t,
            columns=tuple(
                dataclasses.replace(c, breedte=10) if c.name == "identificatienummer_casus" else c for c in t.columns
            ),
        )
        for name, t in tables().items()
    }
    monkeypatch.setattr(release_files, "tables", lambda: narrow)
    monkeypatch.setattr(release_files, "creation_order", lambda: list(narrow.values()))
    with pytest.raises(
        release_files.WidthError,
        match=r"^VT_casus_2020V2: values wider than their declared width, "
        r"which the SPSS, Stata and CSVW files would cut: identificatienummer_casus \(64 > 10\)$",
    ):
        release_files.analyst_database(folder, "2020V2", release_files.release_code_lists([]))


def test_codebook_examples_answer_the_questions(frozen):
    """The codebook's SQL, run as printed, against independent computations from the Parquet files."""
    folder = folder_of(frozen)
    text = (folder / "codebook_2020V2.md").read_text(encoding="utf-8")
    printed = re.findall(r"```sql\n(.*?)\n```", text, re.S)
    assert printed == [sql for _, sql in examples("2020V2")]
    melding = pd.read_parquet(folder / "VT_melding_2020V2.parquet")
    casus = pd.read_parquet(folder / "VT_casus_2020V2.parquet")
    betrokkene = pd.read_parquet(folder / "VT_betrokkene_2020V2.parquet")
    overdracht = pd.read_parquet(folder / "VT_overdracht_2020V2.parquet")
    with duckdb.connect(str(folder / "vt_2020V2.duckdb"), read_only=True) as con:
        per_gemeente = con.execute(printed[0]).fetchall()
        per_casus = con.execute(printed[1]).fetchall()
        persons = con.execute(printed[2]).fetchone()[0]
    # meldingen per gemeente: every melding counted once, those without casus too
    merged = melding.merge(casus, on="identificatienummer_casus", how="left")
    assert sum(n for _, _, n in per_gemeente) == len(melding)
    expected = merged["gemeente_gaaf"].value_counts(dropna=False)
    assert {g: n for g, _, n in per_gemeente} == {(None if pd.isna(g) else g): n for g, n in expected.items()}
    assert any(g is None for g, _, _ in per_gemeente)  # the orphans are there, under NULL
    # overdrachten per casus: distinct overdrachten, not persons
    expected = overdracht.groupby("identificatienummer_casus")["identificatienummer_overdracht"].nunique()
    assert dict((c, n) for c, n in per_casus) == expected.to_dict()
    assert sum(n for _, n in per_casus) < len(overdracht)
    # persons with a new casus within 12 months of the end of an earlier one, in plain Python
    dates = {r.identificatienummer_casus: (r.startdatum_gaaf, r.einddatum_gaaf) for r in casus.itertuples()}
    by_person: dict[str, set] = {}
    for r in betrokkene.dropna(subset=["identificatienummer_persoon"]).itertuples():
        if r.identificatienummer_casus in dates:
            by_person.setdefault(r.identificatienummer_persoon, set()).add(dates[r.identificatienummer_casus])

    def day(text):
        return datetime.strptime(text, "%Y%m%d") if isinstance(text, str) else None

    def within(earlier, later):
        end, start = day(earlier[1]), day(later[0])
        if end is None or start is None or start <= end:
            return False
        limit = end.replace(year=end.year + 1) if not (end.month == 2 and end.day == 29) else end + timedelta(days=365)
        return start <= limit

    expected = sum(1 for cases in by_person.values() if any(within(a, b) for a in cases for b in cases if a != b))
    assert persons == expected


def test_person_identifier_links_across_casussen_and_releases(frozen):
    v1, v2 = (folder_of(frozen, r) for r in RELEASES)
    with duckdb.connect(str(frozen / "vt.duckdb"), read_only=True) as con:
        pseudonyms = {
            p
            for (p,) in con.execute(
                "select distinct bsn_pseudoniem from raw.betrokkene where bsn_status = 'geldig'"
            ).fetchall()
        }
    expected = {hmac_hex(RELEASE_KEY.encode(), p) for p in pseudonyms}
    for folder in (v1, v2):
        b = pd.read_parquet(next(folder.glob("VT_betrokkene_*.parquet")))
        assert (b["identificatienummer_persoon"].isna() == (b["bsn_status"] != "geldig")).all()
        ids = set(b["identificatienummer_persoon"].dropna())
        assert ids <= expected and not ids & pseudonyms  # the release key's, never the warehouse's pseudonym
        assert b.groupby("identificatienummer_persoon")["identificatienummer_casus"].nunique().max() >= 2
        o = pd.read_parquet(next(folder.glob("VT_overdracht_*.parquet")))
        assert set(o["identificatienummer_persoon"].dropna()) <= expected
    a = pd.read_parquet(v1 / "VT_betrokkene_2020V1.parquet")
    b = pd.read_parquet(v2 / "VT_betrokkene_2020V2.parquet")
    both = a.merge(b, on=["identificatienummer_betrokkene", "identificatienummer_casus"], suffixes=("_1", "_2"))
    # (a defect delivery may make a BSN invalid in one half-year: then that release has no identifier)
    both = both.dropna(subset=["identificatienummer_persoon_1", "identificatienummer_persoon_2"])
    assert len(both) > 1000
    assert (both["identificatienummer_persoon_1"] == both["identificatienummer_persoon_2"]).all()
    counted = (v2 / "codebook_2020V2.md").read_text(encoding="utf-8")
    nulls = b[b["identificatienummer_persoon"].isna()]["bsn_status"].value_counts()
    for status, n in nulls.items():
        assert f"| {status} | {n} |" in counted


def test_without_a_release_key_no_release_is_built(frozen, tmp_path):
    home = tmp_path / "copy"
    shutil.copytree(frozen, home, ignore=shutil.ignore_patterns("releases"))
    proc = run_vt("build", "--release", "2020V3", home=home, env={"VT_RELEASE_KEY": ""}, check=False)
    assert proc.returncode == 2
    assert "no release key: set VT_RELEASE_KEY (at least 32 characters)" in proc.stderr
    proc = run_vt("build", "--release", "2020V3", home=home, env={"VT_RELEASE_KEY": KEY}, check=False)
    assert proc.returncode == 2 and "the release key must differ from the pseudonymisation key" in proc.stderr


def _flip_byte(path):
    path.chmod(0o640)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_verify_catches_a_changed_byte_in_every_kind_of_file(frozen, tmp_path):
    source = folder_of(frozen)
    kinds = [
        "VT_casus_2020V2.parquet",
        "VT_casus_2020V2.csv",
        "VT_casus_2020V2.csv-metadata.json",
        "VT_casus_2020V2.sps",
        "VT_casus_2020V2.do",
        "codelijsten_2020V2.csv",
        "codelijsten_2020V2.csv-metadata.json",
        "codebook_2020V2.md",
        "codebook_2020V2.html",
        "kerncijfers_2020V2.parquet",
        "vt_2020V2.duckdb",
    ]
    names = {f["name"] for f in json.loads((source / "manifest.json").read_text())["files"]}
    assert set(kinds) <= names and {p.name for p in source.iterdir()} - {"manifest.json"} == names
    for i, name in enumerate(kinds):
        folder = tmp_path / str(i)
        shutil.copytree(source, folder)
        _flip_byte(folder / name)
        problems = verify_release(folder)
        assert len(problems) == 1 and problems[0].startswith(f"{name} "), (name, problems)
    # the DuckDB file's content beyond its rows: a comment, a view, a key (made writable, as root could)
    changes = [
        "comment on table VT_casus_2020V2 is 'x'",
        "drop view VT_casus_2020V2_labels",
        "update codelijst_rol set omschrijving = 'x' where code = '10'",
        "comment on column VT_casus_2020V2.gemeente_gaaf is 'x'",
    ]
    for i, sql in enumerate(changes):
        folder = tmp_path / f"db{i}"
        shutil.copytree(source, folder)
        (folder / "vt_2020V2.duckdb").chmod(0o640)
        with duckdb.connect(str(folder / "vt_2020V2.duckdb")) as con:
            con.execute(sql)
        assert verify_release(folder) == ["vt_2020V2.duckdb differs from the manifest (its tables' content changed)"], (
            sql
        )
    # a release frozen before content version 2 (no content_versie) is verified as it was made
    folder = tmp_path / "v1"
    shutil.copytree(source, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    entry = next(f for f in manifest["files"] if f["name"] == "vt_2020V2.duckdb")
    del entry["content_versie"], entry["sha256"]
    entry["content_sha256"] = content_checksum(folder / "vt_2020V2.duckdb", 1)
    (folder / "manifest.json").chmod(0o640)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert verify_release(folder) == []
    (folder / "vt_2020V2.duckdb").chmod(0o640)
    with duckdb.connect(str(folder / "vt_2020V2.duckdb")) as con:
        con.execute("delete from VT_advies_2020V2 where true")
    assert verify_release(folder) == ["vt_2020V2.duckdb differs from the manifest (its tables' content changed)"]


def test_an_intact_duckdb_file_is_verified_by_its_bytes(frozen, monkeypatch):
    """The same bytes are the same content: the content (seconds a release) is read only when the bytes differ."""

    def read_content(*args):
        raise AssertionError("the content of an intact file was read")

    monkeypatch.setattr("vt_warehouse.release.content_checksum", read_content)
    assert verify_release(folder_of(frozen)) == []


def test_codebook_html_as_a_reader_sees_it_in_chromium(frozen, tmp_path):
    page = folder_of(frozen) / "codebook_2020V2.html"
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    ).stdout
    assert '<html lang="nl">' in dom and "<svg" in dom and "language-mermaid" not in dom
    assert "Eén afspraak in elk formaat" in dom and "één record per overdracht en overgedragen persoon" in dom
    # every table is a box in the diagram, with its records
    svg = dom[dom.index("<svg") : dom.index("</svg>")]
    for t in tables().values():
        assert f">{t.name('2020V2')}</text>" in svg
    assert "wezen</text>" in svg  # the melding-casus link has orphans: dashed, counted
    shot = tmp_path / "codebook.png"
    subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1200,1600",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert shot.stat().st_size > 20_000


def pspp() -> str:
    path = shutil.which("pspp")
    assert path, "GNU PSPP is needed to run the SPSS syntax (make test installs Debian's pspp)"
    return path


def test_spss_syntax_runs_in_pspp_and_reads_every_value(frozen, tmp_path):
    """Each table's .sps, run by GNU PSPP as written, then saved back to CSV: every value as delivered in the
    CSV, codes with their leading zeros, flags 1/0 for true/false, empty stays empty."""
    folder = folder_of(frozen)
    for t in tables().values():
        name = t.name("2020V2")
        out = tmp_path / f"{name}.csv"
        syntax = tmp_path / f"{name}.sps"
        syntax.write_text(
            f"CD '{folder}'.\n"
            + (folder / f"{name}.sps").read_text(encoding="utf-8")
            + f"\nSAVE TRANSLATE /OUTFILE='{out}' /TYPE=CSV /FIELDNAMES /REPLACE.\n",
            encoding="utf-8",
        )
        proc = subprocess.run(
            [pspp(), "-O", "format=txt", "-o", str(tmp_path / "listing.txt"), str(syntax)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        listing = (tmp_path / "listing.txt").read_text(encoding="utf-8") if (tmp_path / "listing.txt").exists() else ""
        assert proc.returncode == 0 and "error" not in (proc.stdout + proc.stderr + listing).lower(), (name, proc)
        assert "warning" not in (proc.stdout + proc.stderr + listing).lower(), (name, listing[:2000])
        got = pd.read_csv(out, dtype=str, keep_default_na=False)
        want = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        for c in t.columns:  # each date also as an SPSS date beside its text, the same day
            if c.is_date:
                as_date = got.pop(f"{c.name}_d").str.strip()
                assert (as_date == "").tolist() == (want[c.name] == "").tolist(), (name, c.name)
                days = [
                    datetime.strptime(v, "%m/%d/%Y").strftime("%Y%m%d") for v in as_date if v
                ]  # PSPP writes US dates
                assert days == [v for v in want[c.name] if v], (name, c.name)
        for c in t.columns:
            if c.data_type == "boolean":
                want[c.name] = want[c.name].map({"true": "1", "false": "0", "": ""})
            got[c.name] = got[c.name].str.strip() if c.data_type != "varchar" else got[c.name]
        assert list(got.columns) == list(want.columns), name
        pd.testing.assert_frame_equal(got, want, obj=name)
