"""Zoom reports as downloaded: the web portal's Participants CSV and the report API's JSON.

CSV: the classic reports page (about 2020-2023, `Name (Original Name),User Email,Join Time,...`,
optionally after a `Meeting ID,Topic,...` summary block), the newer page (2024-2025,
sentence-case `Name (original name),Email,Join time,...` after `Topic,ID,Host,...`) and the
"Show unique users" export (`Total Duration (Minutes)`, totals only). JSON: the pages of
`GET /report/meetings/{id}/participants`, one page or a list of pages per file. Columns are
found by header text, case-insensitively; Zoom's rounded duration column is never read.
Text in, rows out: times stay text until reports.py resolves them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from balint_cme.errors import DataFileError
from balint_cme.io.report_rows import (
    MAX_VALUE_CHARS,
    ParsedReport,
    ReportRow,
    RowCollector,
    TableRecord,
    cell,
    check_value,
    header_index,
    is_tag,
    parse_minutes,
    shown,
    trailing_parenthetical,
)

__all__ = [
    "is_zoom_csv_header",
    "parse_zoom_api_json",
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


def parse_zoom_csv(records: Iterable[TableRecord], path: Path | str) -> ParsedReport:
    """Rows of a Zoom web-portal Participants export (any of its three layouts).

    `records` may be a stream (iter_table): a 100,000-row export is never held as cells.

    Raises:
        DataFileError: no participants table, a missing column, a row without name or e-mail,
            more values than columns, or a total that is not a number of minutes.
    """
    stream = iter(records)
    first = _next_non_blank(stream)
    if first is None:
        raise DataFileError(path, "is empty")
    meeting_start = meeting_end = host_email = None
    summary_line: int | None = None
    first_columns = header_index(first.cells)
    head: TableRecord | None = first
    if _JOIN not in first_columns and _TOTAL not in first_columns:
        values = _next_non_blank(stream)
        if values is None:
            raise DataFileError(path, "the meeting summary has no values line", line=first.line)
        summary_line = values.line
        meeting_start = cell(values.cells, first_columns.get("start time")) or None
        meeting_end = cell(values.cells, first_columns.get("end time")) or None
        host = cell(values.cells, _first_of(first_columns, ("user email", "host email", "host")))
        host_email = host.casefold() if "@" in host else None
        head = _next_non_blank(stream)
    if head is None:
        raise DataFileError(path, "has a meeting summary but no participants table")
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
    has_renames = "original name" in head.cells[name_at].casefold()
    email_at = _first_of(columns, _EMAIL_COLUMNS)
    waiting_at = columns.get(_WAITING)
    if is_aggregate:
        assert total_at is not None
        report_format = "zoom-unique-users"
    elif "user email" in columns:
        report_format = "zoom-participants-classic"
    else:
        report_format = "zoom-participants-new"
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
    return ParsedReport(
        format=report_format,
        platform="zoom",
        rows=rows.result(),
        join_label=head.cells[join_at].strip() if join_at is not None else "Join Time",
        leave_label=head.cells[leave_at].strip() if leave_at is not None else "Leave Time",
        is_aggregate=is_aggregate,
        meeting_start=meeting_start,
        meeting_end=meeting_end,
        summary_line=summary_line,
        host_email=host_email,
        waiting_room_lines=tuple(waiting),
    )


# ---------------------------------------------------------------------------------------------
# Report API JSON


def parse_zoom_api_json(text: str, path: Path | str) -> ParsedReport:
    """Rows of Zoom report API participants pages (one page object, or a list of pages).

    Each row's `line` is the participant's 1-based position in the file, counting across the
    pages in order. Times are UTC ("2020-11-12T02:44:01Z"); `duration` is never read.

    Raises:
        DataFileError: not JSON, not a participants response, or a participant without text
            name, join_time or leave_time.
    """
    try:
        document: Any = json.loads(text)
    except RecursionError as err:
        raise DataFileError(path, "is JSON nested too deeply to be a Zoom report") from err
    except ValueError as err:
        where = getattr(err, "lineno", None)
        message = getattr(err, "msg", str(err))
        raise DataFileError(path, f"is not valid JSON: {message}", line=where) from err
    pages = document if isinstance(document, list) else [document]
    if not pages:
        raise DataFileError(path, "is an empty JSON list, not Zoom report API pages")
    rows = RowCollector(path)
    waiting: list[int] = []
    position = 0
    for page_number, page in enumerate(pages, start=1):
        participants = page.get("participants") if isinstance(page, dict) else None
        if not isinstance(participants, list):
            raise DataFileError(
                path,
                f"is JSON but page {page_number} is not a Zoom report API participants response "
                "(no 'participants' list)",
            )
        for entry in participants:
            position += 1
            rows_or_waiting = _api_row(entry, position, path)
            if rows_or_waiting is None:
                waiting.append(position)
            else:
                rows.add(rows_or_waiting)
    return ParsedReport(
        format="zoom-api-json",
        platform="zoom-api",
        rows=rows.result(),
        join_label="join_time",
        leave_label="leave_time",
        waiting_room_lines=tuple(waiting),
    )


def _api_text(entry: dict[str, Any], key: str, position: int, path: Path | str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DataFileError(
            path, f"participant {position}: {key} is {type(value).__name__}, not text"
        )
    if len(value) > 1000:
        raise DataFileError(path, f"participant {position}: {key} is {len(value):,} characters")
    return value.strip()


def _api_row(entry: object, position: int, path: Path | str) -> ReportRow | None:
    if not isinstance(entry, dict):
        raise DataFileError(path, f"participant {position} is not a JSON object")
    status = _api_text(entry, "status", position, path)
    if status == "in_waiting_room":
        return None
    name = _api_text(entry, "name", position, path)
    email = _api_text(entry, "user_email", position, path) or _api_text(
        entry, "email", position, path
    )
    if not name and not email:
        raise DataFileError(path, f"participant {position} has neither a name nor a user_email")
    joined = _api_text(entry, "join_time", position, path)
    left = _api_text(entry, "leave_time", position, path)
    for key, value in (("join_time", joined), ("leave_time", left)):
        if not value:
            raise DataFileError(path, f"participant {position} ({name or email}) has no {key}")
    return ReportRow(position, name, None, email or None, joined, left)
