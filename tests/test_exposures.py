"""Every dbt model Python reads is named once (vt_warehouse/transform/exposures.py) and declared as a dbt
exposure: the names agree with dbt's manifest, no other module names a model, and a renamed model fails `dbt parse`."""

from __future__ import annotations

import ast
import re
import shutil

from loaders.layout import default_layout
from tests.conftest import MANIFEST_RELEASE as RELEASE
from tests.conftest import PROJECT, parse_project
from vt_warehouse.release import PUBLICATION_TABLES
from vt_warehouse.release.schema import entities
from vt_warehouse.transform import exposures


def relation(manifest: dict, unique_id: str) -> str:
    """How Python names the node: schema.alias, or the alias alone for a model in the main schema."""
    node = manifest["nodes"].get(unique_id) or manifest["sources"][unique_id]
    name = node.get("alias") or node["identifier"]
    return name if node["schema"] == "main" and unique_id.startswith("model.") else f"{node['schema']}.{name}"


def test_python_reads_exactly_what_each_exposure_declares(manifest):
    e = exposures
    # the delivered records, one mart per record type of the layout
    geleverd = {e.geleverd(rt.entiteit) for rt in default_layout().data_types}
    assert {e.CASUSSEN, e.ADVIEZEN, e.MELDINGEN, e.VEILIGHEIDSBEOORDELINGEN, e.VOORWAARDENVERVOLG} <= geleverd
    assert {e.ONDERZOEKEN, e.OVERDRACHTEN, e.MONITORINGSMOMENTEN, e.BETROKKENEN} <= geleverd
    publicatie = {e.publicatie(t, RELEASE) for t in PUBLICATION_TABLES}
    expected = {
        "kwaliteitsrapport": {e.LEVERINGEN, e.GEMEENTECODES, e.WERKDAGEN, e.CODES} | geleverd,
        "spiegelrapport": {e.LEVERINGEN, e.GEMEENTECODES} | geleverd,
        "microdata_export": {e.microdata(t, RELEASE) for t in entities()} | publicatie,
        "publicatie": publicatie,
        "releasebeheer": {e.LEVERINGEN, e.BUILDS},
    }
    declared = {
        x["name"]: {relation(manifest, uid) for uid in x["depends_on"]["nodes"]} for x in manifest["exposures"].values()
    }
    assert declared == expected
    # the relation names Python uses exist as dbt nodes of those names
    assert relation(manifest, "model.vt_warehouse.leveringen") == e.LEVERINGEN


def _strings(tree: ast.AST) -> list[str]:
    """Every string constant of a module except docstrings (the text of f-strings included)."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    return [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


MODEL_NAME = re.compile(
    r"\b(stg_[a-z]+__[a-z_]+|int_[a-z]+_[a-z]+|geleverd_[a-z]+|main_reference\.|meta\.builds"
    r"|(?:from|join) (?:leveringen|gemeentecodes|werkdagen)\b)"
)


def test_no_python_module_but_exposures_names_a_dbt_model():
    offenders = {}
    paths = [*(PROJECT / "loaders").rglob("*.py"), *(PROJECT / "vt_warehouse").rglob("*.py")]
    assert len(paths) > 40  # both packages are searched
    for path in sorted(paths):
        if path.name == "exposures.py":
            continue
        found = sorted({m for s in _strings(ast.parse(path.read_text())) for m in MODEL_NAME.findall(s)})
        if found:
            offenders[str(path.relative_to(PROJECT))] = found
    assert offenders == {}


def test_a_renamed_model_fails_dbt_parse_naming_the_exposure(tmp_path):
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(PROJECT / name, copy / name)
    for name in ("models", "macros"):
        shutil.copytree(PROJECT / name, copy / name)
    for name in ("seeds", "loaders", "tests"):
        (copy / name).symlink_to(PROJECT / name)
    # the working-day calendar is read by Python only (rule KR07): no model would notice
    old = copy / "models" / "marts" / "kwaliteit" / "werkdagen.sql"
    old.rename(old.with_name("werkdagen_hernoemd.sql"))
    out = parse_project(copy, tmp_path / "target")
    assert out.returncode != 0
    assert re.search(
        r"[Ee]xposure 'exposure\.vt_warehouse\.kwaliteitsrapport' \([^)]*\) depends on a node named "
        r"'werkdagen' which was not found",
        out.stdout,
    ), out.stdout[-2000:]
