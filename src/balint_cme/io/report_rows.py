"""What every meeting-report reader produces, and the text handling the readers share.

Decoding (BOMs, UTF-16, Windows-1252), the size and line limits, CSV/TSV records with their
1-based line numbers, and timestamp text parsed with explicit strptime formats, the day/month
order left open for reports.py to settle against the known session dates. Readers (zoom.py,
teams.py, signin_csv.py) import this module; reports.py imports them, so there is no cycle.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from balint_cme.attendance import MAX_LINE_RANGES, compact_line_ranges
from balint_cme.errors import DataFileError

__all__ = [
    "MAX_DISTINCT_ROWS",
    "MAX_JSON_CHARS",
    "MAX_LINE_CHARS",
    "MAX_REPORT_BYTES",
    "MAX_VALUE_CHARS",
    "ParsedReport",
    "ParsedTime",
    "ReportRow",
    "RowCollector",
    "TableRecord",
    "cell",
    "check_line_length",
    "check_line_lengths",
    "check_value",
    "decode_report",
    "header_index",
    "is_minute_resolution",
    "is_tag",
    "iter_lines",
    "iter_table",
    "non_empty_records",
    "parse_clock_time",
    "parse_minutes",
    "parse_timestamp",
    "shown",
    "split_lines",
    "split_table",
    "stream_table",
    "trailing_parenthetical",
]

MAX_REPORT_BYTES = 200 * 1024 * 1024
"""Files larger than this are refused before they are read (a 100,000-row export is ~15 MB)."""

MAX_LINE_CHARS = 65_536
"""A report line is a few hundred characters; a longer line is refused with its number."""

MAX_VALUE_CHARS = 1_000
"""Names, e-mails and times longer than this are refused (real values are under 100)."""


class ReportRow(NamedTuple):
    """One attendance row of a report, as text, before times are resolved or people matched.

    A NamedTuple rather than a model: a 100,000-row export makes 100,000 of these.
    """

    line: int
    """1-based line in the file (for JSON: the participant's 1-based position, see reports.py)."""
    name: str
    """The display name (for a Zoom rename, the current name)."""
    original_name: str | None = None
    """Zoom's "(Original Name)" when the row shows a rename."""
    email: str | None = None
    joined: str | None = None
    """Join time as written in the file."""
    left: str | None = None
    total_seconds: int | None = None
    """Aggregate rows (Zoom unique users, sign-in minutes): the platform's or sheet's total."""
    session: int | None = None
    """Sign-in rows that name their session."""
    participant_id: str | None = None
    """Sign-in rows that name the roster id."""
    repeats: tuple[tuple[int, int], ...] = ()
    """When the file repeats this exact row (all but the line) on other lines: every line it
    is on, as inclusive runs (see RowCollector); empty for a row that appears once."""
    occurrences: int = 1
    """How many times the row appears in the file."""


MAX_JSON_CHARS = 20 * 1024 * 1024
"""Zoom report API JSON is parsed whole, so it has its own, smaller limit (a page holds at
most 300 participants, about 150 KB; 20 MiB is over a hundred pages)."""

MAX_DISTINCT_ROWS = 200_000
"""Different attendance rows one report may hold (a real export has hundreds; exact repeats of
a row do not count). Together with MAX_REPORT_BYTES this bounds a read's memory."""


class RowCollector:
    """A reader's rows as they are found, each distinct row kept once.

    A row that repeats an earlier one exactly (all but its line) adds only its line, kept as
    runs, so a file that repeats one stay a million times holds one row: memory follows the
    distinct rows (at most MAX_DISTINCT_ROWS), not the file's length. Attended time is a
    union, so a repeated timed row adds nothing; a repeated total keeps how often it appears (`occurrences`).
    """

    __slots__ = ("_counts", "_index", "_path", "_runs", "rows")

    def __init__(self, path: Path | str) -> None:
        self._path = path
        self._index: dict[tuple[object, ...], int] = {}
        self._runs: dict[int, list[tuple[int, int]]] = {}
        self._counts: dict[int, int] = {}
        self.rows: list[ReportRow] = []

    def add(self, row: ReportRow) -> None:
        """Keep `row`, or add its line to the identical row already kept.

        Raises:
            DataFileError: more than MAX_DISTINCT_ROWS different rows.
        """
        key = row[1:]
        at = self._index.get(key)
        if at is None:
            if len(self.rows) >= MAX_DISTINCT_ROWS:
                raise DataFileError(
                    self._path,
                    f"has more than {MAX_DISTINCT_ROWS:,} different attendance rows "
                    "(is this really one meeting's report?)",
                    line=row.line,
                )
            self._index[key] = len(self.rows)
            self.rows.append(row)
            return
        runs = self._runs.get(at)
        if runs is None:
            first = self.rows[at].line
            runs = self._runs[at] = [(first, first)]
        last_first, last_end = runs[-1]
        if last_first <= row.line <= last_end + 1:
            runs[-1] = (last_first, max(last_end, row.line))
        else:
            runs.append((row.line, row.line))
            if len(runs) > 2 * MAX_LINE_RANGES:
                self._runs[at] = list(compact_line_ranges(runs))
        self._counts[at] = self._counts.get(at, 1) + 1

    def result(self) -> tuple[ReportRow, ...]:
        """The distinct rows in order of first appearance, repeated ones with their lines."""
        rows = self.rows
        for at, runs in self._runs.items():
            rows[at] = rows[at]._replace(
                repeats=compact_line_ranges(runs), occurrences=self._counts[at]
            )
        return tuple(rows)


@dataclass(frozen=True)
class ParsedReport:
    """A reader's result: rows plus what the file says about the meeting."""

    format: str
    """"zoom-participants-classic", "zoom-participants-new", "zoom-unique-users",
    "zoom-api-json", "teams-2021", "teams-2022", "teams-2022-totals", "sign-in-csv"."""
    platform: str
    """Evidence platform: "zoom", "zoom-api", "teams", "sign-in"."""
    rows: tuple[ReportRow, ...]
    join_label: str = "Join Time"
    leave_label: str = "Leave Time"
    is_aggregate: bool = False
    """Rows carry totals only (no join/leave times): intervals cannot be merged."""
    meeting_start: str | None = None
    """The summary block's start time, as written (used when rows have no times)."""
    meeting_end: str | None = None
    summary_line: int | None = None
    host_email: str | None = None
    waiting_room_lines: tuple[int, ...] = ()
    """Rows skipped because the person was in the waiting room (not attendance)."""
    notes: tuple[str, ...] = field(default=())


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


def split_lines(text: str) -> list[str]:
    """The lines of `text` (CRLF, LF or CR), without a final empty one."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


_LINE_END = re.compile(r"\r\n|\r|\n")


def iter_lines(text: str, path: Path | str) -> Iterator[str]:
    """split_lines() as a stream, each line checked against MAX_LINE_CHARS as it comes, so a
    large report is never held as a list of lines.

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


def non_empty_records(records: Sequence[TableRecord], start: int = 0) -> Iterator[int]:
    """Indexes of records from `start` that have a non-blank cell."""
    for position in range(start, len(records)):
        if "".join(records[position].cells).strip():
            yield position


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
# Display names

# Parenthesised words that are part of a display name, not a Zoom "(Original Name)".
_TAG_WORDS = frozenset(
    {
        "external",
        "unverified",
        "guest",
        "host",
        "co-host",
        "cohost",
        "organizer",
        "presenter",
        "me",
        "iphone",
        "ipad",
        "android",
        "phone",
        "mobile",
        "tablet",
        "laptop",
        "desktop",
        "pc",
        "mac",
        "macbook",
        "chromebook",
        "zoom room",
        "zoom rooms",
        "telephone",
        "dial-in",
        "audio",
        "audio only",
        "video",
        "2",
        "second device",
    }
)
_DEVICE_HINTS = ("iphone", "ipad", "android", "galaxy", "pixel", "macbook", "laptop", "phone")
_PRONOUNS = frozenset(
    {"he", "him", "his", "she", "her", "hers", "they", "them", "theirs", "ze", "zir", "xe", "xem"}
)
_CREDENTIAL_WORDS = frozenset(
    {"md", "do", "phd", "mft", "lmft", "np", "rn", "lcsw", "mbbs", "psyd", "dnp", "pa", "pa-c"}
)


def is_tag(inner: str) -> bool:
    """Whether a parenthesised part is a device, pronoun, credential or Teams/Zoom label.

    "Priya Raghunathan (she/her)" and "Ana Ruiz (iPad)" keep their whole name; a Zoom
    "Current Name (Original Name)" has something else in the parentheses.
    """
    key = " ".join(inner.split()).casefold().strip(" .")
    if not key:
        return True
    if key in _TAG_WORDS or key in _CREDENTIAL_WORDS:
        return True
    words = [w for w in key.replace(",", "/").replace(" ", "/").split("/") if w]
    if words and all(w in _PRONOUNS for w in words) and len(words) >= 2:
        return True
    if key in {"any pronouns", "any/all", "all pronouns"}:
        return True
    return any(hint in key for hint in _DEVICE_HINTS) and len(key.split()) <= 3


def trailing_parenthetical(text: str) -> tuple[str, str] | None:
    """(before, inside) of a balanced "(...)" that ends `text`, or None."""
    text = text.rstrip()
    if not text.endswith(")"):
        return None
    depth = 0
    for position in range(len(text) - 1, -1, -1):
        char = text[position]
        if char == ")":
            depth += 1
        elif char == "(":
            depth -= 1
            if depth == 0:
                return text[:position].rstrip(), text[position + 1 : -1].strip()
    return None


# ---------------------------------------------------------------------------------------------
# Times


class ParsedTime(NamedTuple):
    """A timestamp read both ways when its day/month order is open.

    Naive datetimes are wall-clock times in the export zone; aware ones (ISO with an offset,
    the Zoom API's "Z") keep their own offset. When the text fixes the order (ISO, a month
    name, a field above 12) the two are equal or one is None.
    """

    month_first: datetime | None
    day_first: datetime | None

    @property
    def is_ambiguous(self) -> bool:
        """Both orders give different valid dates."""
        return (
            self.month_first is not None
            and self.day_first is not None
            and self.month_first != self.day_first
        )


_NUMERIC = re.compile(
    r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2}),?\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?\s*[Mm]\.?)?"
)
_ISO = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_NAMED_MONTH_FIRST = re.compile(
    r"([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4}),?\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?\s*[Mm]\.?)?"
)
_NAMED_DAY_FIRST = re.compile(
    r"(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4}),?\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?\s*[Mm]\.?)?"
)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?\s*[Mm]\.?)?")

_EARLIEST_YEAR = 2000
_LATEST_YEAR = 2100


def _clock_part(
    hour: str, minute: str, second: str | None, meridiem: str | None
) -> tuple[str, str]:
    """Normalised time text and its strptime format."""
    seconds = second if second is not None else "00"
    if meridiem is not None:
        return f"{hour}:{minute}:{seconds} {meridiem.upper()}M", "%I:%M:%S %p"
    return f"{hour}:{minute}:{seconds}", "%H:%M:%S"


def _strptime(text: str, fmt: str) -> datetime | None:
    try:
        # Naive on purpose: a report's wall-clock time, given its zone by reports.py.
        value = datetime.strptime(text, fmt)  # noqa: DTZ007
    except ValueError:
        return None
    if not _EARLIEST_YEAR <= value.year <= _LATEST_YEAR:
        return None
    return value


@lru_cache(maxsize=4096)
def _date(text: str, fmt: str) -> date | None:
    """The date part, parsed once per distinct text and order (a report has a few dates)."""
    value = _strptime(text, fmt)
    return None if value is None else value.date()


@lru_cache(maxsize=65_536)
def _clock(hour: str, minute: str, second: str | None, meridiem: str | None) -> time | None:
    """The time-of-day part, parsed once per distinct value."""
    clock, clock_format = _clock_part(hour, minute, second, meridiem)
    try:
        return datetime.strptime(clock, clock_format).time()  # noqa: DTZ007 - a time of day
    except ValueError:
        return None


def parse_timestamp(text: str) -> ParsedTime | None:
    """Read a report timestamp in every order its shape allows; None if it is not a date.

    Shapes (explicit strptime formats, no guessing library): ISO 8601 with or without an
    offset; numeric `a/b/yyyy` or `a/b/yy` (also `.` or `-`), optional comma, `h:mm[:ss]`
    with optional AM/PM (Zoom's "09/09/2020 06:44:01 PM", Teams' "6/20/24, 6:56:12 PM",
    Excel's re-saved "14/10/2020 18:44"); month names ("Jun 20, 2024 06:56 PM",
    "20 Jun 2024 18:56"). Years outside 2000-2100 are not dates here.
    """
    text = " ".join(text.split())
    if _ISO.fullmatch(text):
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
        if not _EARLIEST_YEAR <= value.year <= _LATEST_YEAR:
            return None
        return ParsedTime(value, value)
    match = _NUMERIC.fullmatch(text)
    if match:
        first, separator, second, year = match.group(1, 2, 3, 4)
        clock = _clock(*match.group(5, 6, 7, 8))
        if clock is None:
            return None
        day = f"{first}{separator}{second}{separator}{year}"
        year_format = "%Y" if len(year) == 4 else "%y"
        orders = (
            _date(day, f"%m{separator}%d{separator}{year_format}"),
            _date(day, f"%d{separator}%m{separator}{year_format}"),
        )
        month_first, day_first = (
            None if on is None else datetime.combine(on, clock) for on in orders
        )
        if month_first is None and day_first is None:
            return None
        return ParsedTime(month_first, day_first)
    for pattern, order in ((_NAMED_MONTH_FIRST, "%b %d %Y"), (_NAMED_DAY_FIRST, "%d %b %Y")):
        match = pattern.fullmatch(text)
        if match:
            clock_text, clock_format = _clock_part(*match.group(4, 5, 6, 7))
            a, b, year = match.group(1, 2, 3)
            for month_format in ("%b", "%B"):
                fmt = order.replace("%b", month_format)
                named = _strptime(f"{a} {b} {year} {clock_text}", f"{fmt} {clock_format}")
                if named is not None:
                    return ParsedTime(named, named)
            return None
    return None


_FIRST_CLOCK = re.compile(r"\d{1,2}:\d{2}(:\d{2})?")


def is_minute_resolution(text: str) -> bool:
    """Whether a time's text stops at the minute ("11/18/2021 19:22", "18:45": no seconds).

    The first `h:mm` in the text is its time of day (dates use `/`, `.` or `-`); an offset
    such as `+05:30` comes after it and is not mistaken for one.
    """
    match = _FIRST_CLOCK.search(text)
    return match is not None and match.group(1) is None


def parse_clock_time(text: str) -> time | None:
    """A time of day without a date ("18:45", "6:45 PM", "18:45:10"), or None."""
    match = _CLOCK.fullmatch(" ".join(text.split()))
    if not match:
        return None
    clock, clock_format = _clock_part(*match.group(1, 2, 3, 4))
    try:
        return datetime.strptime(clock, clock_format).time()  # noqa: DTZ007 - a time of day
    except ValueError:
        return None


_MINUTES = re.compile(r"\d{1,5}(?:[.,]\d{1,4})?")


def parse_minutes(text: str) -> int | None:
    """Whole seconds in a minutes value ("52", "52.5"), or None when it is not one."""
    text = text.strip()
    if not _MINUTES.fullmatch(text):
        return None
    try:
        minutes = Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None
    return int(minutes * 60)
