"""Zoom's web-portal Participants CSV, as downloaded, in its three layouts.

The classic reports page (about 2020-2023, `Name (Original Name),User Email,Join Time,...`,
optionally after a `Meeting ID,Topic,...` summary block), the newer page (2024-2025,
sentence-case `Name (original name),Email,Join time,...` after `Topic,ID,Host,...`) and the
"Show unique users" export (`Total Duration (Minutes)`, totals only). Columns are found by
header text, case-insensitively; Zoom's rounded duration column is never read. Text in, rows
out: times stay text until report_times.py resolves them. (The report API's JSON is zoom_api.py.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from balint_cme.errors import DataFileError
from balint_cme.io.names import is_tag, trailing_parenthetical
from balint_cme.io.report_rows import ParsedReport, ReportRow, RowCollector
from balint_cme.io.report_text import (
    MAX_VALUE_CHARS,
    ReportHead,
    TableRecord,
    cell,
    check_value,
    header_index,
    shown,
    stream_table,
)
from balint_cme.io.timestamps import parse_minutes

__all__ = [
    "READER",
    "ZoomCsvReader",
    "is_zoom_csv_header",
    "parse_zoom_csv",
    "split_display_name",
]


_SUMMARY_FIRST_COLUMNS = frozenset({"meeting id", "topic"})
_NAME_COLUMNS = (
    "name (original name)",
    "user name (original name)",
    "name",
    "user name",
    "participant",
)
_EMAIL_COLUMNS = ("user email", "email", "participant email")
_JOIN = "join time"
_LEAVE = "leave time"
_TOTAL = "total duration (minutes)"
_WAITING = "in waiting room"
_YES = frozenset({"yes", "y", "true", "1"})


def split_display_name(text: str) -> tuple[str, str | None]:
    """(current name, original name) of a Zoom `Name (Original Name)` cell.

    "Dr. Ana (Ana Ruiz)" is a rename; "Priya Raghunathan (she/her)", "Ana Ruiz (iPad)" and
    "José Núñez (External)" are not.
    """
    parts = trailing_parenthetical(text)
    if parts is None:
        return text, None
    before, inside = parts
    if not before or not inside or is_tag(inside):
        return text, None
    return before, inside


def is_zoom_csv_header(cells: Sequence[str]) -> bool:
    """Whether a first CSV line starts a Zoom summary block or a Zoom participants table."""
    columns = header_index(cells)
    if not columns:
        return False
    first = " ".join(cells[0].replace("\ufeff", "").split()).casefold()
    if first in _SUMMARY_FIRST_COLUMNS and ("start time" in columns or "id" in columns):
        return True
    has_name = any(name in columns for name in _NAME_COLUMNS)
    has_times = _JOIN in columns and _LEAVE in columns and "duration (minutes)" in columns
    return has_name and (has_times or _TOTAL in columns)


def _first_of(columns: dict[str, int], names: Sequence[str]) -> int | None:
    for name in names:
        if name in columns:
            return columns[name]
    return None


def _next_non_blank(records: Iterator[TableRecord]) -> TableRecord | None:
    for record in records:
        if "".join(record.cells).strip():
            return record
    return None


class ZoomCsvReader:
    """The ReportReader for Zoom web-portal Participants CSV (comma-separated)."""

    kind = "zoom-csv"
    description = "Zoom participants export"

    def is_header(self, head: ReportHead) -> bool:
        """A Zoom summary header or participants header, split at commas."""
        cells = head.cells(",")
        return cells is not None and is_zoom_csv_header(cells)

    def parse(self, text: str, head: ReportHead, path: Path | str) -> ParsedReport:
        """Streamed line by line: a large export is never held as lines or cells."""
        return parse_zoom_csv(stream_table(text, path, delimiter=","), path)


READER = ZoomCsvReader()


class _Summary(NamedTuple):
    """What a summary block above the participants table says (all None without one)."""

    start: str | None = None
    end: str | None = None
    line: int | None = None
    host_email: str | None = None


class _Table(NamedTuple):
    """Where a participants table's columns are, and which layout it is."""

    head: TableRecord
    name_at: int
    email_at: int | None
    join_at: int | None
    leave_at: int | None
    total_at: int | None
    waiting_at: int | None
    is_aggregate: bool
    has_renames: bool
    format: str


def parse_zoom_csv(records: Iterable[TableRecord], path: Path | str) -> ParsedReport:
    """Rows of a Zoom web-portal Participants export (any of its three layouts).

    `records` may be a stream (iter_table): a 100,000-row export is never held as cells.

    Raises:
        DataFileError: no participants table, a missing column, a row without name or e-mail,
            more values than columns, or a total that is not a number of minutes.
    """
    stream = iter(records)
    summary, head = _summary_and_header(stream, path)
    table = _table(head, path)
    rows, waiting = _rows(stream, table, path)
    join_at, leave_at = table.join_at, table.leave_at
    return ParsedReport(
        format=table.format,
        platform="zoom",
        rows=rows,
        join_label=head.cells[join_at].strip() if join_at is not None else "Join Time",
        leave_label=head.cells[leave_at].strip() if leave_at is not None else "Leave Time",
        is_aggregate=table.is_aggregate,
        meeting_start=summary.start,
        meeting_end=summary.end,
        summary_line=summary.line,
        host_email=summary.host_email,
        waiting_room_lines=waiting,
    )


def _summary_and_header(
    stream: Iterator[TableRecord], path: Path | str
) -> tuple[_Summary, TableRecord]:
    """The summary block (when the file starts with one) and the participants header."""
    first = _next_non_blank(stream)
    if first is None:
        raise DataFileError(path, "is empty")
    first_columns = header_index(first.cells)
    if _JOIN in first_columns or _TOTAL in first_columns:
        return _Summary(), first
    values = _next_non_blank(stream)
    if values is None:
        raise DataFileError(path, "the meeting summary has no values line", line=first.line)
    host = cell(values.cells, _first_of(first_columns, ("user email", "host email", "host")))
    summary = _Summary(
        start=cell(values.cells, first_columns.get("start time")) or None,
        end=cell(values.cells, first_columns.get("end time")) or None,
        line=values.line,
        host_email=host.casefold() if "@" in host else None,
    )
    head = _next_non_blank(stream)
    if head is None:
        raise DataFileError(path, "has a meeting summary but no participants table")
    return summary, head


def _table(head: TableRecord, path: Path | str) -> _Table:
    """The participants table's columns and layout, refusing a header without the needed ones."""
    columns = header_index(head.cells)
    name_at = _first_of(columns, _NAME_COLUMNS)
    join_at, leave_at, total_at = columns.get(_JOIN), columns.get(_LEAVE), columns.get(_TOTAL)
    if name_at is None or ((join_at is None or leave_at is None) and total_at is None):
        raise DataFileError(
            path,
            "is not a Zoom participants table: the header needs a Name column and Join Time and "
            "Leave Time (or Total Duration (Minutes))",
            line=head.line,
        )
    is_aggregate = join_at is None or leave_at is None
    if is_aggregate:
        assert total_at is not None
        report_format = "zoom-unique-users"
    elif "user email" in columns:
        report_format = "zoom-participants-classic"
    else:
        report_format = "zoom-participants-new"
    return _Table(
        head=head,
        name_at=name_at,
        email_at=_first_of(columns, _EMAIL_COLUMNS),
        join_at=join_at,
        leave_at=leave_at,
        total_at=total_at,
        waiting_at=columns.get(_WAITING),
        is_aggregate=is_aggregate,
        has_renames="original name" in head.cells[name_at].casefold(),
        format=report_format,
    )


def _rows(
    stream: Iterator[TableRecord], table: _Table, path: Path | str
) -> tuple[tuple[ReportRow, ...], tuple[int, ...]]:
    """The table's rows (each distinct row once) and the lines of waiting-room rows."""
    head, name_at, email_at, join_at, leave_at, total_at, waiting_at = table[:7]
    is_aggregate, has_renames = table.is_aggregate, table.has_renames
    header_name = " ".join(head.cells[name_at].split()).casefold()
    width = len(head.cells)

    rows = RowCollector(path)
    waiting: list[int] = []
    renames: dict[str, tuple[str, str | None]] = {}
    blank = [""] * width
    # The hot loop of a 100,000-row export: cells are indexed directly (rows shorter than the
    # header are padded) and long values are only looked for when a row is long.
    for line, cells in stream:
        if not cells or (not cells[0] and not "".join(cells).strip()):
            continue  # a blank line, or one a spreadsheet wrote as ",,,,"
        if len(cells) < width:
            cells = cells + blank[len(cells) :]
        elif len(cells) > width and any(extra.strip() for extra in cells[width:]):
            raise DataFileError(
                path,
                f"has {len(cells)} values but the header has {width} columns "
                "(an unquoted comma in a name?)",
                line=line,
            )
        if sum(map(len, cells)) > MAX_VALUE_CHARS:
            for label, at_column in (("the name", name_at), ("the e-mail", email_at)):
                check_value(cell(cells, at_column), label, line, path)
            for label, at_column in (("the join time", join_at), ("the leave time", leave_at)):
                check_value(cell(cells, at_column), label, line, path)
        display = cells[name_at].strip()
        if display[:4].casefold() == "name" and " ".join(display.split()).casefold() == header_name:
            raise DataFileError(
                path, "a second participants header: one meeting report per file", line=line
            )
        email = cells[email_at].strip() if email_at is not None else ""
        if not display and not email:
            raise DataFileError(path, "the row has neither a name nor an e-mail", line=line)
        if waiting_at is not None and cells[waiting_at].strip().casefold() in _YES:
            waiting.append(line)
            continue
        if has_renames:
            parts = renames.get(display)
            if parts is None:
                parts = renames[display] = split_display_name(display)
            name, original = parts
        else:
            name, original = display, None
        if total_at is not None and is_aggregate:
            total_text = cells[total_at].strip()
            total = parse_minutes(total_text)
            if total is None:
                raise DataFileError(
                    path,
                    f"{head.cells[total_at].strip()} {shown(total_text)} is not a number of "
                    "minutes",
                    line=line,
                )
            rows.add(ReportRow(line, name, original, email or None, total_seconds=total))
        elif join_at is not None and leave_at is not None:
            rows.add(
                ReportRow(
                    line,
                    name,
                    original,
                    email or None,
                    cells[join_at].strip(),
                    cells[leave_at].strip(),
                )
            )
    return rows.result(), tuple(waiting)
