"""Report bytes to text to CSV/TSV records, within the limits that keep a read bounded.

Decoding (BOMs, UTF-16, Windows-1252), the size, line and value limits, CSV/TSV records with
their 1-based line numbers read as a stream, header lookup by text, and how a value is quoted
in an error message. Every reader and the detection of formats use this; it imports no other
reader module.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from balint_cme.errors import DataFileError

__all__ = [
    "MAX_LINE_CHARS",
    "MAX_REPORT_BYTES",
    "MAX_VALUE_CHARS",
    "TableRecord",
    "cell",
    "check_line_length",
    "check_line_lengths",
    "check_value",
    "decode_report",
    "header_index",
    "iter_lines",
    "iter_table",
    "shown",
    "split_table",
    "stream_table",
]

MAX_REPORT_BYTES = 200 * 1024 * 1024
"""Files larger than this are refused before they are read (a 100,000-row export is ~15 MB)."""

MAX_LINE_CHARS = 65_536
"""A report line is a few hundred characters; a longer line is refused with its number."""

MAX_VALUE_CHARS = 1_000
"""Names, e-mails and times longer than this are refused (real values are under 100)."""


# ---------------------------------------------------------------------------------------------
# Bytes to text


def decode_report(data: bytes, path: Path | str) -> tuple[str, str]:
    """Text and encoding name of a report's bytes: BOM first, then UTF-8, then Windows-1252.

    Raises:
        DataFileError: UTF-16 that is truncated or broken, or bytes that are no known text.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return _decode(data[3:], "utf-8", "UTF-8", path), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        return _decode(data[2:], encoding, "UTF-16", path), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if len(data) >= 4 and data[1::2].count(0) > len(data) // 4:
        # UTF-16 without a BOM (a re-saved Teams report): every other byte is zero.
        return _decode(data, "utf-16-le", "UTF-16", path), "utf-16-le"
    try:
        # Excel's "CSV (Comma delimited)" on Windows writes the ANSI code page.
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as err:
        raise DataFileError(
            path, f"is not text (not UTF-8, UTF-16 or Windows-1252; byte {err.start})"
        ) from err


def _decode(data: bytes, encoding: str, label: str, path: Path | str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        if label == "UTF-16" and err.reason == "truncated data":
            reason = f"{label} text is truncated (the file ends inside a character)"
        else:
            reason = f"is not valid {label} text ({err.reason} at byte {err.start})"
        raise DataFileError(path, reason) from err


# ---------------------------------------------------------------------------------------------
# Text to records


class TableRecord(NamedTuple):
    """One CSV/TSV record: the line it starts on and its cells (empty list for a blank line)."""

    line: int
    cells: list[str]


_LINE_END = re.compile(r"\r\n|\r|\n")


def iter_lines(text: str, path: Path | str) -> Iterator[str]:
    """The lines of `text` (CRLF, LF or CR, without a final empty one) as a stream, each line
    checked against MAX_LINE_CHARS as it comes, so a large report is never held as a list of
    lines.

    Raises:
        DataFileError: (while iterating) a line longer than MAX_LINE_CHARS, with its number.
    """
    start = 0
    number = 0
    for end in _LINE_END.finditer(text):
        number += 1
        line = text[start : end.start()]
        if len(line) > MAX_LINE_CHARS:
            check_line_length(line, number, path)
        yield line
        start = end.end()
    if start < len(text):
        line = text[start:]
        check_line_length(line, number + 1, path)
        yield line


def stream_table(text: str, path: Path | str, *, delimiter: str = ",") -> Iterator[TableRecord]:
    """The records of a whole report's text, read line by line (iter_lines + CSV).

    Raises:
        DataFileError: (while iterating) a line longer than MAX_LINE_CHARS, or a quoting error.
    """
    return _records(iter_lines(text, path), path, delimiter)


def split_table(
    lines: Sequence[str], path: Path | str, *, delimiter: str = ","
) -> list[TableRecord]:
    """The records of CSV or TSV lines, each with its 1-based first line.

    Raises:
        DataFileError: a line longer than MAX_LINE_CHARS, or a quoting error.
    """
    return list(iter_table(lines, path, delimiter=delimiter))


def iter_table(
    lines: Sequence[str], path: Path | str, *, delimiter: str = ","
) -> Iterator[TableRecord]:
    """split_table() as a stream, so a large report's cells are never all held at once.

    Raises:
        DataFileError: (before the first record) a line longer than MAX_LINE_CHARS; (while
            iterating) a quoting error.
    """
    check_line_lengths(lines, path)
    return _records(lines, path, delimiter)


def _records(lines: Iterable[str], path: Path | str, delimiter: str) -> Iterator[TableRecord]:
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    consumed = 0
    try:
        for cells in reader:
            yield TableRecord(consumed + 1, cells)
            consumed = reader.line_num
    except csv.Error as err:
        raise DataFileError(path, f"cannot split into columns: {err}", line=consumed + 1) from err


def check_line_lengths(lines: Sequence[str], path: Path | str) -> None:
    """Refuse a line longer than MAX_LINE_CHARS, naming it."""
    if not lines or max(map(len, lines)) <= MAX_LINE_CHARS:
        return
    for number, line in enumerate(lines, start=1):
        check_line_length(line, number, path)


def check_line_length(line: str, number: int, path: Path | str) -> None:
    """Refuse one line longer than MAX_LINE_CHARS."""
    if len(line) > MAX_LINE_CHARS:
        raise DataFileError(
            path,
            f"line is {len(line):,} characters long; a report line is at most "
            f"{MAX_LINE_CHARS:,} (is this really a meeting report?)",
            line=number,
        )


def header_index(cells: Sequence[str]) -> dict[str, int]:
    """Column positions by header text, case-insensitively; the first of duplicates wins."""
    index: dict[str, int] = {}
    for position, text in enumerate(cells):
        key = " ".join(text.replace("\ufeff", "").split()).casefold()
        if key and key not in index:
            index[key] = position
    return index


def cell(cells: Sequence[str], position: int | None) -> str:
    """The trimmed cell at `position`, or "" when the column or cell is missing."""
    if position is None or position >= len(cells):
        return ""
    return cells[position].strip()


def shown(value: str, limit: int = 60) -> str:
    """`value` quoted for an error message, shortened when long."""
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return repr(value)


def check_value(value: str, label: str, line: int, path: Path | str) -> str:
    """Refuse a value longer than MAX_VALUE_CHARS."""
    if len(value) > MAX_VALUE_CHARS:
        raise DataFileError(
            path,
            f"{label} is {len(value):,} characters long (at most {MAX_VALUE_CHARS:,})",
            line=line,
        )
    return value


# ---------------------------------------------------------------------------------------------
# The start of a report


class ReportHead:
    """The start of a report, as format detection sees it.

    `first_char` is the text's first non-blank character (a JSON document starts with `{` or
    `[`). `line` and `number` are the first non-blank line, or an over-long line met before
    it. `cells(delimiter)` splits that line (once per delimiter); a line over MAX_LINE_CHARS
    has no cells, so no table reader claims it, and detection then refuses it by its length.
    """

    __slots__ = ("_cells", "first_char", "line", "number", "path")

    def __init__(self, text: str, path: Path | str) -> None:
        """Raises:
        DataFileError: the text is empty or blank.
        """
        stripped = text.lstrip()
        if not stripped:
            raise DataFileError(path, "is empty")
        self.first_char = stripped[0]
        self.path = path
        self.number, self.line = _first_line(text)
        self._cells: dict[str, list[str] | None] = {}

    @property
    def is_overlong(self) -> bool:
        """Whether the line is longer than MAX_LINE_CHARS (then it has no cells)."""
        return len(self.line) > MAX_LINE_CHARS

    def cells(self, delimiter: str) -> list[str] | None:
        """The line's cells split at `delimiter`; None for an over-long line.

        Raises:
            DataFileError: the line cannot be split into columns.
        """
        if delimiter not in self._cells:
            found = None
            if not self.is_overlong:
                records = split_table([self.line], self.path, delimiter=delimiter)
                found = records[0].cells if records else None
            self._cells[delimiter] = found
        return self._cells[delimiter]


def _first_line(text: str) -> tuple[int, str]:
    """The first line (and its number) that is not blank or is over-long; `text` is not blank."""
    number, start = 1, 0
    while True:
        found = _LINE_END.search(text, start)
        line = text[start : found.start() if found else len(text)]
        if len(line) > MAX_LINE_CHARS or line.strip() or found is None:
            return number, line
        start, number = found.end(), number + 1
