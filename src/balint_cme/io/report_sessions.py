"""Which session a report, or a row of it, belongs to.

A session's window runs from its start for its planned length. A file named for a session must
overlap it; otherwise the file belongs to the one dated session whose window its rows' times
(or, for totals only, its summary's meeting span) overlap: none or several is an error naming
the span and the candidates, never a guess. Sign-in rows that name their own session are
checked against the series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from balint_cme.errors import DataFileError, UndatedSessionError, UnknownSessionError
from balint_cme.io.report_rows import ParsedReport, ReportRow
from balint_cme.io.report_times import Interval, epoch, row_error
from balint_cme.model import Series, Session

__all__ = [
    "NoSessionFits",
    "Window",
    "checked_session",
    "describe_span",
    "file_session",
    "row_window",
    "window",
]


class NoSessionFits(DataFileError):
    """A report's times fit no (or not the named) session in the zone it was read in."""


class Window(NamedTuple):
    """A dated session and its window in epoch seconds (start, start + planned length)."""

    session: Session
    start: int
    end: int


def window(session: Session) -> Window:
    """The window of a dated session."""
    assert session.starts_at is not None
    start = epoch(session.starts_at)
    return Window(session, start, start + session.duration_minutes * 60)


def row_window(
    parsed: ParsedReport,
    path: Path | str,
    series: Series,
    row: ReportRow,
    number: int,
    explicit: Session | None,
) -> Window:
    """The window of the session a row belongs to, refusing numbers the series lacks."""
    if explicit is not None and number != explicit.number:
        raise row_error(
            parsed,
            path,
            row.line,
            f"session {number}, but the file was given as session {explicit.number}",
        )
    session = series.session(number)
    if session is None:
        raise row_error(
            parsed,
            path,
            row.line,
            f"session {number} is not in series {series.id!r} (it has {len(series.sessions)})",
        )
    if session.starts_at is None:
        raise row_error(parsed, path, row.line, f"session {number} has no date yet")
    return window(session)


def checked_session(series: Series, number: int) -> Session:
    """The session a caller named, which must exist and be dated.

    Raises:
        UnknownSessionError, UndatedSessionError: it does not, or is not.
    """
    session = series.session(number)
    if session is None:
        raise UnknownSessionError(number, series_id=series.id)
    if session.starts_at is None:
        raise UndatedSessionError(number, series_id=series.id)
    return session


def describe_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """ "2020-11-11 18:45 to 2020-11-11 20:15 PST": a span in the series zone, for errors."""
    a, b = start.astimezone(zone), end.astimezone(zone)
    return f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} {b:%Z}"


def _assign_session(
    series: Series,
    path: Path | str,
    intervals: Sequence[Interval],
    meeting: tuple[datetime, datetime] | None,
) -> Session:
    """The one dated session the intervals (else the meeting span) overlap."""
    spans = [(a, b) for a, b, _, _ in intervals]
    if not spans and meeting is not None:
        spans = [meeting]
    if not spans:
        raise DataFileError(
            path,
            "has no join or leave times to find its session from; name the session "
            "(session=N, or --session N)",
        )
    epochs = [(a, b) for _, _, a, b in intervals] or [(epoch(a), epoch(b)) for a, b in spans]
    overlapping = [
        w.session
        for w in (window(s) for s in series.dated_sessions)
        if any(a < w.end and b > w.start for a, b in epochs)
    ]
    if len(overlapping) == 1:
        return overlapping[0]
    first = min(a for a, _ in spans)
    last = max(b for _, b in spans)
    span = describe_span(first, last, series.zone)
    if not overlapping:
        raise NoSessionFits(
            path,
            f"its times ({span}) overlap no session of series {series.id!r}; check the export "
            "time zone or name the session",
        )
    numbers = ", ".join(str(s.number) for s in overlapping)
    raise DataFileError(
        path, f"its times ({span}) overlap sessions {numbers}; name the session it belongs to"
    )


def file_session(
    parsed: ParsedReport,
    path: Path | str,
    series: Series,
    explicit: Session | None,
    intervals: dict[int, Interval],
    meeting: tuple[datetime, datetime] | None,
) -> Session | None:
    """The file's session: the one named, checked against the rows' times, or found from the
    rows that do not name their own; None when every row names its own (a sign-in sheet).

    Raises:
        NoSessionFits: the times overlap no session (or not the named one).
        DataFileError: they overlap several, or there are no times to go by.
    """
    rows = parsed.rows
    if any(row.session is not None for row in rows):  # a sign-in sheet naming sessions
        needing = [i for i, row in enumerate(rows) if row.session is None]
        timed = [intervals[i] for i in needing if i in intervals]
    else:
        needing, timed = list(range(len(rows))), list(intervals.values())
    if explicit is not None:
        given = window(explicit)
        if timed and not any(a < given.end and b > given.start for _, _, a, b in timed):
            first = min(interval[0] for interval in timed)
            last = max(interval[1] for interval in timed)
            assert explicit.starts_at is not None
            assert explicit.ends_at is not None
            planned = describe_span(explicit.starts_at, explicit.ends_at, series.zone)
            raise NoSessionFits(
                path,
                f"its times ({describe_span(first, last, series.zone)}) do not overlap session "
                f"{explicit.number} ({planned}); check the session number and the export time "
                "zone",
            )
        return explicit
    if needing:
        return _assign_session(series, path, timed, meeting)
    return None
