"""What a subcommand prints: lines on stdout, one-line errors on stderr, escaped as it should.

Every name or value that came from a file may carry control or bidi characters; they are shown
escaped (text.visible), never sent to the terminal. Light on purpose: the standard library and
balint_cme.text only.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import TextIO

from balint_cme.text import visible

__all__ = ["err", "fail", "out", "two_places"]


def out(text: str = "", *, stream: TextIO | None = None, json_text: bool = False) -> None:
    """Print `text` (lines split at "\n"); every other control or bidi character a name or
    value from a file may carry is shown escaped (text.visible), never sent to the terminal.
    Values that could hold a line break are escaped where they are formatted."""
    lines = (visible(line, json_escapes=json_text) for line in text.split("\n"))
    print("\n".join(lines), file=stream or sys.stdout)


def err(text: str) -> None:
    """One line on stderr, as out() shows it."""
    out(" ".join(text.split()), stream=sys.stderr)


def fail(message: str) -> int:
    """Print `balint-cme: error: MESSAGE` as one line on stderr; return exit code 1."""
    # A message quoting file content stays one line, and its control characters visible.
    err(f"balint-cme: error: {message}")
    return 1


def two_places(value: Decimal | None) -> str | None:
    """A credit or hours value as JSON carries it ("4.75"), or None."""
    return None if value is None else f"{value:.2f}"
