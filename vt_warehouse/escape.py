"""Text that leaves the warehouse, made safe for the program that reads it: one function per reader.

Reference data (gemeente and VT-regio names) is checked at import (`referentie.read_source` refuses control
characters and formula starts), but a writer never relies on that: a name from an older warehouse, the shipped
lists or a future source goes through these on its way out.
"""

from __future__ import annotations

import re

# a cell a spreadsheet would read as a formula starts with one of these (OWASP, CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~])")  # what makes markup inside a line or table cell


def one_line(text: str) -> str:
    """Every control character (newline, CR, tab, NUL, ...) as a space: a syntax file's literal stays on its line."""
    return _CONTROL.sub(" ", text)


def spreadsheet_cell(text: str) -> str:
    """A CSV cell that a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def spss_literal(text: str, limit: int) -> str:
    """An SPSS/PSPP string literal of at most `limit` bytes (UTF-8): one line, quotes doubled."""
    text = one_line(text)
    if len(text.encode("utf-8")) > limit:
        text = text.encode("utf-8")[: limit - 3].decode("utf-8", "ignore") + "..."
    return "'" + text.replace("'", "''") + "'"


def stata_text(text: str, limit: int) -> str:
    """The inside of a Stata double-quoted string: one line, no quote, and no ` or $ that Stata would expand as a
    macro."""
    text = one_line(text).replace('"', "'").replace("`", "'").replace("$", "S")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def markdown_text(text: str) -> str:
    """Text in Markdown (the codebook) that stays text: one line, every markup character escaped."""
    return _MARKDOWN.sub(r"\\\1", one_line(text))
