"""The reader contract: what every meeting-report reader produces, and the interface it offers.

A reader (zoom.py, zoom_api.py, teams.py, signin_csv.py) turns a report's text into a
ParsedReport: its ReportRows, kept once each by a RowCollector, with what the file says about
the meeting. The ReportReader protocol is what format detection (report_formats.py) asks of a
reader: whether a report's start is its header, and the parsed report. Readers import this module and
report_text.py; the rest of the package imports the readers, so there is no cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

from balint_cme.attendance import MAX_LINE_RANGES, compact_line_ranges
from balint_cme.errors import DataFileError
from balint_cme.io.report_text import ReportHead

__all__ = [
    "MAX_DISTINCT_ROWS",
    "MAX_JSON_CHARS",
    "ParsedReport",
    "ReportReader",
    "ReportRow",
    "RowCollector",
]


class ReportRow(NamedTuple):
    """One attendance row of a report, as text, before times are resolved or people matched.

    A NamedTuple rather than a model: a 100,000-row export makes 100,000 of these.
    """

    line: int
    """1-based line in the file (for JSON: the participant's 1-based position, see zoom_api.py)."""
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


class ReportReader(Protocol):
    """One report format's reader, as the registry in report_formats.py holds it.

    Adding a format is one module with a class like this and one line in that registry.
    Detection asks every reader: exactly one must claim a report's start.
    """

    @property
    def kind(self) -> str:
        """The name detect_format() returns ("zoom-csv", "teams", ...)."""
        ...

    @property
    def description(self) -> str:
        """What the format is called in the error for an unrecognised file."""
        ...

    def is_header(self, head: ReportHead) -> bool:
        """Whether the report's start (its first non-blank line or character) is this format's.

        Raises:
            DataFileError: only the line's own problems (it cannot be split into columns).
        """
        ...

    def parse(self, text: str, head: ReportHead, path: Path | str) -> ParsedReport:
        """The rows of a report whose start this reader claimed.

        Raises:
            DataFileError: naming the file, the line (or JSON participant) and the problem.
        """
        ...
