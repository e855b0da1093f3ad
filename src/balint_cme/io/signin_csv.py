"""Plain sign-in sheets (in-person sessions, manual records) as CSV: this project's own format.

One header line, then one row per stay. Columns, any order, header case-insensitive, comma-
(or semicolon- or tab-) separated; other columns (a "note", a "signature") are ignored:

    participant_id | name | email   at least one of these columns; each row fills one or more
    session                         optional 1-based session number (else the caller's session,
                                    or the session the row's times fall in)
    join, leave                     a full date and time ("2023-05-10 18:45") or a time of day
                                    ("18:45", "6:45 PM") on the session's date
    minutes                         attended minutes ("52" or "52.5"), when there are no times

A row with join and leave uses them (its minutes are then ignored); a row with only minutes is
aggregate evidence, like Zoom's unique-users export. Text in, rows out.
"""

from __future__ import annotations

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
from balint_cme.io.timestamps import parse_minutes

__all__ = [
    "READER",
    "SIGN_IN_COLUMNS",
    "SignInReader",
    "is_sign_in_header",
    "parse_sign_in",
    "sign_in_delimiter",
]

SIGN_IN_COLUMNS = ("participant_id", "name", "email", "session", "join", "leave", "minutes")
"""The columns this reader understands (header text, case-insensitive)."""

_PERSON_COLUMNS = ("participant_id", "id", "name", "email")


class SignInReader:
    """The ReportReader for sign-in sheets (comma-, semicolon- or tab-separated)."""

    kind = "sign-in-csv"
    description = "sign-in sheet"

    def is_header(self, head: ReportHead) -> bool:
        """A header naming a person column and join+leave or minutes, split at its delimiter."""
        cells = head.cells(sign_in_delimiter(head.line))
        return cells is not None and is_sign_in_header(cells)

    def parse(self, text: str, head: ReportHead, path: Path | str) -> ParsedReport:
        """Streamed line by line, at the delimiter of the header line."""
        return parse_sign_in(stream_table(text, path, delimiter=sign_in_delimiter(head.line)), path)


READER = SignInReader()


def sign_in_delimiter(first_line: str) -> str:
    """The delimiter of a sign-in sheet, from its header line."""
    if "\t" in first_line:
        return "\t"
    if ";" in first_line and "," not in first_line:
        return ";"
    return ","


def is_sign_in_header(cells: Sequence[str]) -> bool:
    """Whether a header line names a person column and join+leave or minutes."""
    columns = header_index(cells)
    has_person = any(name in columns for name in _PERSON_COLUMNS)
    has_time = ("join" in columns and "leave" in columns) or "minutes" in columns
    return has_person and has_time


def parse_sign_in(records: Iterable[TableRecord], path: Path | str) -> ParsedReport:
    """Rows of a sign-in sheet.

    `records` may be a stream (iter_table): a large sheet is never held as cells, and rows
    that repeat one another are kept once (RowCollector).

    Raises:
        DataFileError: a row naming nobody, a bad session number, half a join/leave pair, no
            times and no minutes, or minutes that are not a number.
    """
    stream = (record for record in records if "".join(record.cells).strip())
    head = next(stream, None)
    if head is None:
        raise DataFileError(path, "is empty")
    columns = header_index(head.cells)
    if not is_sign_in_header(head.cells):
        raise DataFileError(
            path,
            "is not a sign-in sheet: the header needs participant_id, name or email, and join "
            "and leave or minutes",
            line=head.line,
        )
    id_at = columns.get("participant_id", columns.get("id"))
    name_at, email_at = columns.get("name"), columns.get("email")
    session_at = columns.get("session")
    join_at, leave_at, minutes_at = (
        columns.get("join"),
        columns.get("leave"),
        columns.get("minutes"),
    )
    rows = RowCollector(path)
    any_aggregate = False
    sessions: dict[str, int | None] = {}
    for line, cells in stream:
        participant_id = check_value(cell(cells, id_at), "participant_id", line, path) or None
        name = check_value(cell(cells, name_at), "the name", line, path)
        email = check_value(cell(cells, email_at), "the e-mail", line, path) or None
        if not (participant_id or name or email):
            raise DataFileError(
                path, "the row names nobody (participant_id, name and email are empty)", line=line
            )
        session_text = cell(cells, session_at)
        session = sessions.get(session_text, 0)
        if session == 0:
            session = sessions[session_text] = _session(session_text, line, path)
        joined = check_value(cell(cells, join_at), "join", line, path)
        left = check_value(cell(cells, leave_at), "leave", line, path)
        if joined and left:
            rows.add(
                ReportRow(line, name, None, email, joined, left, None, session, participant_id)
            )
            continue
        if joined or left:
            missing = "leave" if joined else "join"
            raise DataFileError(path, f"the row has no {missing} time", line=line)
        minutes_text = cell(cells, minutes_at)
        if not minutes_text:
            raise DataFileError(path, "the row has neither join and leave nor minutes", line=line)
        seconds = parse_minutes(minutes_text)
        if seconds is None:
            raise DataFileError(
                path, f"minutes {shown(minutes_text)} is not a number of minutes", line=line
            )
        any_aggregate = True
        rows.add(ReportRow(line, name, None, email, None, None, seconds, session, participant_id))
    return ParsedReport(
        format="sign-in-csv",
        platform="sign-in",
        rows=rows.result(),
        join_label="join",
        leave_label="leave",
        is_aggregate=any_aggregate,
    )


def _session(text: str, line: int, path: Path | str) -> int | None:
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 4 or int(text) < 1:
        raise DataFileError(path, f"session {shown(text)} is not a session number", line=line)
    return int(text)
