"""Microsoft Teams attendance reports as downloaded: UTF-16, tab-separated, in sections.

Two layouts: 2021-22 (`Meeting Summary` key/value lines, then a `Full Name  Join Time  Leave
Time ...` table, one row per join) and the layout used since mid-2022 (`1. Summary`,
`2. Participants` with per-person totals, `3. In-Meeting Activities` with one row per join).
The per-join rows are read; the per-person totals only when a file has no activities section,
and then as aggregate evidence. Durations such as "1h 28s" are never used for intervals.
Text in, rows out: times stay text ("6/20/24, 6:56:12 PM") until report_times.py resolves them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from balint_cme.errors import DataFileError
from balint_cme.io.report_rows import ParsedReport, ReportRow, RowCollector
from balint_cme.io.report_text import (
    ReportHead,
    TableRecord,
    cell,
    check_value,
    header_index,
    shown,
    stream_table,
)

__all__ = ["READER", "TeamsReader", "is_teams_header", "parse_teams", "parse_teams_duration"]

_SECTION = re.compile(r"\d{1,2}\.\s+(\S.*)")
_DURATION = re.compile(r"(?:(\d{1,3})\s*h)?\s*(?:(\d{1,4})\s*m(?:in)?)?\s*(?:(\d{1,6})\s*s)?")
_START_KEYS = ("meeting start time", "start time")
_END_KEYS = ("meeting end time", "end time")


def _heading(cells: Sequence[str]) -> str | None:
    """The section name of a heading line ("1. Summary", "Meeting Summary"), or None."""
    text = cells[0].replace("\ufeff", "").strip() if cells else ""
    if not text or any(other.strip() for other in cells[1:]):
        return None
    match = _SECTION.fullmatch(text)
    if match:
        return " ".join(match.group(1).split()).casefold()
    if " ".join(text.split()).casefold() == "meeting summary":
        return "summary"
    return None


def is_teams_header(cells: Sequence[str]) -> bool:
    """Whether the first tab-separated line of a file starts a Teams attendance report."""
    heading = _heading(cells)
    if heading is not None:
        return heading in {"summary", "participants", "in-meeting activities"}
    columns = header_index(cells)
    return ("full name" in columns and "join time" in columns) or (
        "name" in columns and "join time" in columns and "role" in columns
    )


class TeamsReader:
    """The ReportReader for Teams attendance reports (tab-separated)."""

    kind = "teams"
    description = "Teams attendance report"

    def is_header(self, head: ReportHead) -> bool:
        """A Teams section heading or per-join table header, split at tabs."""
        cells = head.cells("\t")
        return cells is not None and is_teams_header(cells)

    def parse(self, text: str, head: ReportHead, path: Path | str) -> ParsedReport:
        """Streamed line by line, section by section."""
        return parse_teams(stream_table(text, path, delimiter="\t"), path)


READER = TeamsReader()


def parse_teams_duration(text: str) -> int | None:
    """Seconds in a Teams duration ("1h 28s", "52m 3s", "45m"), or None."""
    text = text.strip()
    match = _DURATION.fullmatch(text)
    if not text or not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


class _Section:
    """One table section read as it streams by: its header, its rows (kept once each), and the
    first problem in it, raised only if the section is the one used."""

    __slots__ = ("columns", "error", "head", "kind", "path", "rows")

    def __init__(self, kind: str, path: Path | str) -> None:
        self.kind = kind
        """"joins" (per-join rows) or "totals" (per-person totals)."""
        self.path = path
        self.head: TableRecord | None = None
        self.columns: tuple[int, int, int, dict[str, int]] | None = None
        self.rows = RowCollector(path)
        self.error: DataFileError | None = None

    def feed(self, record: TableRecord) -> None:
        if self.error is not None:
            return
        try:
            if self.head is None:
                self.head = record
                self.columns = (
                    _join_columns(record, self.path)
                    if self.kind == "joins"
                    else _total_columns(record, self.path)
                )
            else:
                assert self.columns is not None
                make = _join_row if self.kind == "joins" else _total_row
                self.rows.add(make(record, self.columns, self.path))
        except DataFileError as err:
            self.error = err

    def result(self) -> tuple[ReportRow, ...]:
        if self.error is not None:
            raise self.error
        return self.rows.result()


def parse_teams(records: Iterable[TableRecord], path: Path | str) -> ParsedReport:
    """Rows of a Teams attendance report (either layout), read as the records stream by.

    Raises:
        DataFileError: no per-join table (nor per-person totals), a missing column, or a row
            without name or e-mail.
    """
    summary: list[TableRecord] = []
    sections: dict[str, _Section] = {}
    current = "table"
    layout = "teams-2022"
    for record in records:
        if not any(text.strip() for text in record.cells):
            continue
        heading = _heading(record.cells)
        if heading is not None:
            current = heading
            if heading == "summary" and record.cells[0].strip().casefold() == "meeting summary":
                layout = "teams-2021"
            continue
        if current == "summary" and _is_table_header(record.cells):
            current = "table"  # 2021-22: the per-join table follows the summary directly
            layout = "teams-2021"
        if current == "summary":
            summary.append(record)
        elif current in ("in-meeting activities", "table", "participants"):
            section = sections.get(current)
            if section is None:
                kind = "totals" if current == "participants" else "joins"
                section = sections[current] = _Section(kind, path)
            section.feed(record)
    start, end, summary_line = _summary(summary)
    activities = sections.get("in-meeting activities") or sections.get("table")
    if activities is not None:
        rows = activities.result()
        report_format, aggregate = layout, False
        assert activities.head is not None
        join_label, leave_label = _labels(activities.head.cells)
    elif "participants" in sections:
        rows = sections["participants"].result()
        report_format, aggregate = "teams-2022-totals", True
        join_label, leave_label = "Join Time", "Leave Time"
    else:
        raise DataFileError(
            path, "is a Teams report without participants (no 'In-Meeting Activities' table)"
        )
    return ParsedReport(
        format=report_format,
        platform="teams",
        rows=rows,
        join_label=join_label,
        leave_label=leave_label,
        is_aggregate=aggregate,
        meeting_start=start,
        meeting_end=end,
        summary_line=summary_line,
        notes=(
            (
                "Teams report without 'In-Meeting Activities': per-person totals "
                "('In-Meeting Duration') read as aggregate evidence",
            )
            if aggregate
            else ()
        ),
    )


def _is_table_header(cells: Sequence[str]) -> bool:
    columns = header_index(cells)
    return "join time" in columns and ("full name" in columns or "name" in columns)


def _labels(cells: Sequence[str]) -> tuple[str, str]:
    columns = header_index(cells)
    return cells[columns["join time"]].strip(), cells[columns["leave time"]].strip()


def _summary(records: Sequence[TableRecord]) -> tuple[str | None, str | None, int | None]:
    start = end = None
    line: int | None = None
    for record in records:
        key = " ".join(cell(record.cells, 0).split()).casefold()
        if key in _START_KEYS:
            start, line = cell(record.cells, 1) or None, record.line
        elif key in _END_KEYS:
            end = cell(record.cells, 1) or None
    return start, end, line


def _email(cells: Sequence[str], columns: dict[str, int], line: int, path: Path | str) -> str:
    email = cell(cells, columns.get("email"))
    if "@" not in email:
        upn = cell(cells, columns.get("participant id (upn)"))
        email = upn if "@" in upn else email
    return check_value(email, "the e-mail", line, path)


def _join_columns(head: TableRecord, path: Path | str) -> tuple[int, int, int, dict[str, int]]:
    columns = header_index(head.cells)
    if "user action" in columns:
        raise DataFileError(
            path,
            "is a 2020 Teams report with 'User Action' rows, which is not read; export the "
            "attendance report with Join Time and Leave Time columns",
            line=head.line,
        )
    name_at = columns.get("full name", columns.get("name"))
    join_at, leave_at = columns.get("join time"), columns.get("leave time")
    if name_at is None or join_at is None or leave_at is None:
        raise DataFileError(
            path,
            "the Teams table needs Name (or Full Name), Join Time and Leave Time columns",
            line=head.line,
        )
    return name_at, join_at, leave_at, columns


def _who(
    cells: Sequence[str], name_at: int, columns: dict[str, int], line: int, path: Path | str
) -> tuple[str, str]:
    """A row's name and e-mail; a row with neither names nobody and is refused."""
    name = check_value(cell(cells, name_at), "the name", line, path)
    email = _email(cells, columns, line, path)
    if not name and not email:
        raise DataFileError(path, "the row has neither a name nor an e-mail", line=line)
    return name, email


def _join_row(
    record: TableRecord, found: tuple[int, int, int, dict[str, int]], path: Path | str
) -> ReportRow:
    line, cells = record
    name_at, join_at, leave_at, columns = found
    name, email = _who(cells, name_at, columns, line, path)
    return ReportRow(
        line,
        name,
        None,
        email or None,
        check_value(cell(cells, join_at), "the join time", line, path),
        check_value(cell(cells, leave_at), "the leave time", line, path),
    )


def _total_columns(head: TableRecord, path: Path | str) -> tuple[int, int, int, dict[str, int]]:
    columns = header_index(head.cells)
    name_at = columns.get("name", columns.get("full name"))
    total_at = columns.get("in-meeting duration", columns.get("duration"))
    if name_at is None or total_at is None:
        raise DataFileError(
            path, "the Teams participants table needs Name and In-Meeting Duration", line=head.line
        )
    return name_at, total_at, total_at, columns


def _total_row(
    record: TableRecord, found: tuple[int, int, int, dict[str, int]], path: Path | str
) -> ReportRow:
    line, cells = record
    name_at, total_at, _, columns = found
    name, email = _who(cells, name_at, columns, line, path)
    text = cell(cells, total_at)
    seconds = parse_teams_duration(text)
    if seconds is None:
        raise DataFileError(
            path,
            f"{'In-Meeting Duration' if 'in-meeting duration' in columns else 'Duration'} "
            f"{shown(text)} is not a duration like '1h 2m 3s'",
            line=line,
        )
    return ReportRow(line, name, None, email or None, total_seconds=seconds)
