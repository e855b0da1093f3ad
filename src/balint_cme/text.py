"""Characters that must never reach a terminal or a spreadsheet as they are.

Control characters (C0, DEL, C1: ESC starts terminal escape sequences) and the bidirectional
embeddings, overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
U+061C) can make printed text say something other than its bytes. `visible()` is the one
function every printed name or value goes through; `find_unsafe()` lets the series model refuse
them in names; `strip_invisible()` lets the spreadsheet writers see what a cell really starts
with. Pure functions: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["find_unsafe", "strip_invisible", "visible"]

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Controls (C0, DEL, C1), line/paragraph separators, and bidi embeddings, overrides,
isolates and marks."""

_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
# Letters that draw nothing (Hangul fillers, Mongolian vowel separator is Cf already).
_BLANK_LETTERS = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0"})


def _escape(character: str, *, json_escapes: bool) -> str:
    code = ord(character)
    if code <= 0xFF and not json_escapes:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def visible(text: str, *, json_escapes: bool = False) -> str:
    """`text` with every control and bidi-control character shown as an escape.

    "A\\x1b]0;PWNED\\x07" prints as the 15 characters `A\\x1b]0;PWNED\\x07`, and U+202E as
    `\\u202e`, so nothing a file contains can move the cursor, clear the screen, set the window
    title or reorder the line. With `json_escapes`, every escape is `\\uXXXX` (valid inside a
    JSON string, meaning the same character), for JSON output. Applying it twice changes
    nothing more.
    """
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda match: _escape(match[0], json_escapes=json_escapes), text)


def find_unsafe(text: str) -> str | None:
    """The first control or bidi-control character in `text`, or None."""
    match = _UNSAFE.search(text)
    return None if match is None else match[0]


def strip_invisible(text: str) -> str:
    """`text` without its leading characters that draw nothing: controls, format characters
    (zero-width space, BOM, bidi marks), spaces and separators, blank letters."""
    start = 0
    while start < len(text) and (
        text[start] in _BLANK_LETTERS or unicodedata.category(text[start]) in _INVISIBLE_CATEGORIES
    ):
        start += 1
    return text[start:]
