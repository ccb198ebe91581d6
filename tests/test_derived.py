"""Every file made from a registry is what the registry gives now (vt_warehouse/derived.py, `vt dev generate`)."""

import pytest

from tests.conftest import run_vt
from vt_warehouse import derived


def test_every_derived_file_is_current():
    assert [f"{d.path} (from {d.source})" for d in derived.stale()] == [], "stale: run `vt dev generate`"


def test_the_check_names_a_stale_file_and_exits_1(tmp_path):
    """A copy of the project with the rule table of docs/kwaliteit.md edited by hand: named, exit 1."""
    for d in derived.FILES:
        target = tmp_path / d.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((derived.PROJECT_DIR / d.path).read_text(encoding="utf-8"), encoding="utf-8")
    page = tmp_path / "docs" / "kwaliteit.md"
    page.write_text(page.read_text(encoding="utf-8").replace("| KR01 | fout |", "| KR01 | waarschuwing |"))
    assert [d.path for d in derived.stale(tmp_path)] == ["docs/kwaliteit.md"]
    assert [d.path for d in derived.generate(tmp_path)] == ["docs/kwaliteit.md"]
    assert derived.stale(tmp_path) == []
    proc = run_vt("dev", "generate", "--check", check=False)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_one_generate_leaves_nothing_stale_when_one_file_is_made_from_another(tmp_path, monkeypatch):
    """dbt's page is made from the generated YAML: written before it, in the same run (else a layout change needed
    `vt dev generate` twice)."""
    source = tmp_path / "registry.txt"
    source.write_text("v2")

    def first(_current):
        return source.read_text() + "\n"

    def second(_current):
        return "made from " + (tmp_path / "first.txt").read_text()

    monkeypatch.setattr(
        derived, "FILES", (derived.Derived("second.txt", "first.txt", second), derived.Derived("first.txt", "r", first))
    )
    (tmp_path / "first.txt").write_text("v1\n")
    (tmp_path / "second.txt").write_text("made from v1\n")
    assert [d.path for d in derived.generate(tmp_path)] == ["first.txt", "second.txt"]
    assert derived.stale(tmp_path) == [] and (tmp_path / "second.txt").read_text() == "made from v2\n"


def test_a_generated_part_replaces_only_itself_and_needs_its_markers():
    begin = derived.BEGIN.format(source="x")
    text = f"prose\n{begin}\nold\n{derived.END}\nmore prose\n"
    assert derived.replace_part(text, "x", "new\n") == f"prose\n{begin}\nnew\n{derived.END}\nmore prose\n"
    with pytest.raises(ValueError, match="no generated part from y"):
        derived.replace_part(text, "y", "new\n")


def test_the_rule_table_has_every_rule_of_the_registry():
    from vt_warehouse.quality.rules import RULES

    table = derived.rules_table()
    assert [line.split(" | ")[0].lstrip("| ") for line in table.splitlines()[2:]] == [r.id for r in RULES]
