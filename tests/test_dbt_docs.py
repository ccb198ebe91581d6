"""dbt's documentation says each thing once: a description used for more than one column is a doc block."""

from __future__ import annotations

from collections import Counter

import yaml

from tests.conftest import PROJECT


def column_descriptions() -> list[tuple[str, str, str]]:
    """(file, model, description) of every column of every model, source and seed."""
    out = []
    for path in sorted([*(PROJECT / "models").rglob("_*.yml"), *(PROJECT / "seeds").rglob("_*.yml")]):
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        items = [*(spec.get("models") or []), *(spec.get("seeds") or [])]
        items += [t for s in spec.get("sources") or [] for t in s.get("tables", [])]
        out += [(path.name, m["name"], c.get("description", "")) for m in items for c in m.get("columns") or []]
    return out


def test_no_description_is_written_twice():
    counts = Counter(text for _, _, text in column_descriptions() if "{{ doc(" not in text)
    assert {text: n for text, n in counts.items() if n > 1} == {}


def test_every_column_is_described():
    assert [(f, m) for f, m, text in column_descriptions() if not text.strip()] == []
