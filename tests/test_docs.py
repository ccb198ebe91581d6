"""The documentation a person can follow: every relative link of the README and of docs/ leads to a file that
exists, and every #anchor to a heading of that file (GitHub's rule for heading anchors); the README stays a
page, the rest is in docs/ by reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT

PAGES = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md")), PROJECT / "tests" / "README.md"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives a Markdown page's headings: lower case, only letters, digits, '-', '_' and spaces,
    spaces as '-'."""
    out = set()
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # (a comment is no heading)
    for line in text.splitlines():
        if m := re.match(r"#{1,6} (.+)", line):
            slug = re.sub(r"[^\w\- ]", "", m[1].strip().lower()).replace(" ", "-")
            out.add(slug)
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(PROJECT)))
def test_every_link_leads_somewhere(page):
    dead = []
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # (code is not a link)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # an address outside the project
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            dead.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            dead.append(f"{target}: no heading #{anchor} in {file.name}")
    assert dead == []


def test_the_readme_is_a_page_that_points_onward():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    for reader in ("operator", "data-engineer", "analyst", "organisation", "developer"):
        assert f"(docs/{reader}.md)" in readme, reader
