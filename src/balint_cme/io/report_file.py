"""One parsed report read into the reading: the steps from rows to records, in order.

Resolve the file's times (report_times.py), find its session (report_sessions.py), match each
row to the roster (roster_match.py) and sort it (timed, totals, facilitator, host account,
unmatched), credit a phone number a later rename resolved, build the records
(report_records.py), and write the notes a coordinator should read. Each step is a function
here; read_parsed() runs them. Nothing escapes but DataFileError (file, line, problem) and the
session errors for a session the caller named.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from balint_cme.errors import DataFileError
from balint_cme.io.names import name_key
from balint_cme.io.report_records import Merge, add_aggregates, add_timed_records, aggregate_span
from balint_cme.io.report_results import (
    Accumulator,
    ReportSource,
    UnmatchedRow,
    lines_list,
    minutes,
)
from balint_cme.io.report_rows import ParsedReport, ReportRow
from balint_cme.io.report_sessions import (
    Window,
    checked_session,
    describe_span,
    file_session,
    row_window,
    window,
)
from balint_cme.io.report_text import shown
from balint_cme.io.report_times import Clock, Interval, session_dates, timed_intervals
from balint_cme.io.roster_match import RosterMatch, RosterMatcher, explain_match, match_log
from balint_cme.model import Series, Session

__all__ = ["read_one", "read_parsed"]

_FORMAT_WORDS = {
    "zoom-unique-users": "Zoom 'unique users' export",
    "teams-2022-totals": "Teams per-person totals",
    "sign-in-csv": "sign-in sheet minutes",
}


def read_one(
    parsed: ParsedReport,
    encoding: str,
    digest: str,
    path: Path | str,
    series: Series,
    matcher: RosterMatcher,
    *,
    session: int | None,
    zone: ZoneInfo,
    out: Accumulator,
) -> ReportSource:
    """Add one parsed file to `out` (with its encoding's and reader's notes); its source."""
    if encoding == "cp1252":
        out.notes.append(f"{path}: not UTF-8; read as Windows-1252 (a spreadsheet re-save?)")
    for note in parsed.notes:
        out.notes.append(f"{path}: {note}")
    placed, naive_seen = read_parsed(
        parsed, path, series, matcher, session_number=session, zone=zone, out=out
    )
    return ReportSource(
        path=str(path),
        sha256=digest,
        format=parsed.format,
        platform=parsed.platform,
        session=placed,
        rows=sum(row.occurrences for row in parsed.rows) + len(parsed.waiting_room_lines),
        encoding=encoding,
        export_tz=zone.key if naive_seen else None,
        is_aggregate=parsed.is_aggregate,
    )


def read_parsed(
    parsed: ParsedReport,
    path: Path | str,
    series: Series,
    matcher: RosterMatcher,
    *,
    session_number: int | None,
    zone: ZoneInfo,
    out: Accumulator,
) -> tuple[int | None, bool]:
    """Add one parsed report's records, unmatched rows and notes to `out`.

    Returns the file's session (None when its rows name several) and whether any time in it
    was a wall-clock time read in `zone`.
    """
    name = str(path)
    explicit = checked_session(series, session_number) if session_number is not None else None
    clock = _file_clock(parsed, path, series, explicit, zone)
    _note_times(name, clock, out)
    intervals = timed_intervals(parsed, path, clock)
    session = file_session(parsed, path, series, explicit, intervals, clock.meeting)
    rows = _sort_rows(parsed, path, series, matcher, clock, intervals, session, explicit)
    _settle_unmatched(parsed, name, rows, intervals, clock, out)
    source = _evidence_source(path)
    add_timed_records(rows.merges, source, parsed.platform, zone, out)
    add_aggregates(
        rows.aggregates, rows.windows, series, name, source, parsed.platform, out, clock.meeting
    )
    _note_file(parsed, name, clock, zone, rows, out)
    return (session.number if session is not None else None), clock.naive_seen


def _file_clock(
    parsed: ParsedReport,
    path: Path | str,
    series: Series,
    explicit: Session | None,
    zone: ZoneInfo,
) -> Clock:
    """The file's times resolved against the sessions it may belong to."""
    considered = [explicit] if explicit is not None else list(series.dated_sessions)
    if explicit is None and not considered:
        raise DataFileError(path, f"series {series.id!r} has no dated sessions to read it into")
    return Clock(parsed, path, zone, session_dates(considered, zone))


def _note_times(name: str, clock: Clock, out: Accumulator) -> None:
    """Notes on how the times were read: day-first dates, times without seconds."""
    if clock.note:
        out.notes.append(f"{name}: {clock.note}")
    if clock.minute_rows:
        out.notes.append(
            f"{name}: times are given to the minute, without seconds (a spreadsheet re-save?): "
            "each join is read as the last second of its minute and each leave as the first, "
            "so no time the file does not prove is credited"
        )


def _evidence_source(path: Path | str) -> str:
    text = str(path)
    return text if len(text) <= 1000 else text[-1000:]


def _display(row: ReportRow) -> str:
    return f"{row.name} ({row.original_name})" if row.original_name else row.name


@dataclass(slots=True)
class _SortedRows:
    """A file's rows after matching: where each went, by person and session."""

    windows: dict[int, Window] = field(default_factory=dict)
    """The window of every session a row belongs to."""
    merges: dict[tuple[str, int], Merge] = field(default_factory=dict)
    """Timed rows of a roster person in a session, merged."""
    aggregates: dict[tuple[str, int], list[ReportRow]] = field(default_factory=dict)
    """Totals-only rows of a roster person in a session."""
    facilitators: dict[str, int] = field(default_factory=dict)
    """Rows of facilitators who are not on the roster, by name."""
    unmatched: list[tuple[int, int, str]] = field(default_factory=list)
    """Rows that matched nobody: row index, session, reason."""
    renamed_from: dict[str, set[str]] = field(default_factory=dict)
    """Original names (keys) of Zoom renames, and the roster people they were renamed to."""
    host_rows: int = 0


def _sort_rows(
    parsed: ParsedReport,
    path: Path | str,
    series: Series,
    matcher: RosterMatcher,
    clock: Clock,
    intervals: dict[int, Interval],
    session: Session | None,
    explicit: Session | None,
) -> _SortedRows:
    """Place each row in its session, match it to the roster, and sort it by what it is.

    Rows with times of day only get their interval here, once their session is known. The hot
    loop of a large report: lookups are cached per distinct person and session.
    """
    out = _SortedRows()
    windows, merges, aggregates = out.windows, out.merges, out.aggregates
    facilitators, unmatched_rows, renamed_from = out.facilitators, out.unmatched, out.renamed_from
    name = str(path)
    matches: dict[tuple[str, str | None, str | None, str | None], RosterMatch] = {}
    default_number = session.number if session is not None else 0
    default_window = window(session) if session is not None else None
    if session is not None and default_window is not None:
        windows[session.number] = default_window
    explain = match_log.isEnabledFor(logging.DEBUG)  # -v: why each row matched whom
    for index, row in enumerate(parsed.rows):
        if row.session is None and default_window is not None:
            number, row_in = default_number, default_window
        else:
            number = row.session if row.session is not None else default_number
            found_window = windows.get(number)
            if found_window is None:
                found_window = windows[number] = row_window(
                    parsed, path, series, row, number, explicit
                )
            row_in = found_window
        interval = intervals.get(index)
        if interval is None and row.joined is not None and row.left is not None:
            interval = intervals[index] = clock.day_interval(row.joined, row.left, row_in.session)
        key = (row.name, row.email, row.original_name, row.participant_id)
        found = matches.get(key)
        if found is None:
            found = matches[key] = matcher.match(
                row.name,
                email=row.email,
                original_name=row.original_name,
                participant_id=row.participant_id,
            )
        participant_id = found.participant_id
        if explain:
            explain_match(name, row, number, found)
        if participant_id is not None:
            if row.original_name:
                original_key = name_key(row.original_name)
                owners = renamed_from.get(original_key)
                if owners is None:
                    renamed_from[original_key] = {participant_id}
                else:
                    owners.add(participant_id)
            if interval is not None:
                merge = merges.get((participant_id, number))
                if merge is None:
                    merge = merges[participant_id, number] = Merge()
                merge.add(interval, row)
            else:
                aggregates.setdefault((participant_id, number), []).append(row)
        elif found.facilitator is not None:
            facilitators[found.facilitator] = facilitators.get(found.facilitator, 0) + 1
        elif (
            parsed.host_email
            and row.email
            and row.email.casefold() == parsed.host_email
            and found.reason == "no roster match"
        ):
            out.host_rows += 1
        else:
            unmatched_rows.append((index, number, found.reason or "no roster match"))
    return out


def _settle_unmatched(
    parsed: ParsedReport,
    name: str,
    rows: _SortedRows,
    intervals: dict[int, Interval],
    clock: Clock,
    out: Accumulator,
) -> None:
    """Credit a name a later rename showed to be one person (a dial-in number renamed by the
    host); list the rest as unmatched, with their minutes inside the session window."""
    for index, number, reason in rows.unmatched:
        row = parsed.rows[index]
        interval = intervals.get(index)
        owners = rows.renamed_from.get(name_key(row.name)) if not row.original_name else None
        if owners and len(owners) == 1 and interval is not None and reason == "no roster match":
            (owner,) = owners
            rows.merges.setdefault((owner, number), Merge()).add(interval, row)
            out.notes.append(
                f"{name} line {row.line}: {shown(row.name)} counted for {owner}, who was "
                "renamed from it later in the meeting"
            )
            continue
        row_in = rows.windows[number]
        if interval is not None:
            seconds = max(0, min(interval[3], row_in.end) - max(interval[2], row_in.start))
        else:
            span_start, span_end = aggregate_span(row_in, clock.meeting)
            seconds = min(row.total_seconds or 0, span_end - span_start)
        out.unmatched.append(
            UnmatchedRow(
                file=name,
                line=row.line,
                name=_display(row),
                email=row.email,
                session=number,
                minutes=minutes(seconds),
                reason=reason,
            )
        )


def _note_file(
    parsed: ParsedReport,
    name: str,
    clock: Clock,
    zone: ZoneInfo,
    rows: _SortedRows,
    out: Accumulator,
) -> None:
    """Notes on the file as a whole: aggregate evidence, waiting room, facilitators, host."""
    if parsed.is_aggregate:
        what = _FORMAT_WORDS.get(parsed.format, parsed.format)
        if clock.meeting is not None:
            rule = (
                "each total is counted from when the meeting and the session both ran, at most "
                f"the overlap of the file's meeting span ({describe_span(*clock.meeting, zone)}) "
                "with the session window"
            )
        else:
            rule = (
                "the file gives no meeting span, so each total is counted from the session "
                "start, at most the session length"
            )
        out.notes.append(
            f"{name}: aggregate evidence ({what}: totals only, intervals cannot be merged; {rule})"
        )
    if parsed.waiting_room_lines:
        lines = parsed.waiting_room_lines
        word = "participant" if parsed.platform == "zoom-api" else "line"
        out.notes.append(
            f"{name}: {len(lines)} waiting-room row(s) are not attendance ({word}"
            f"{'s' if len(lines) > 1 else ''} {lines_list(lines)})"
        )
    facilitators = rows.facilitators
    if facilitators:
        who = "; ".join(
            f"{person}: {count} row{'s' if count > 1 else ''}"
            for person, count in sorted(facilitators.items())
        )
        count = sum(facilitators.values())
        out.facilitator_rows += count
        out.notes.append(
            f"{name}: {count} row(s) of facilitators not on the roster ({who}) earn no credit "
            "and are not listed as unmatched"
        )
    if rows.host_rows:
        out.host_rows += rows.host_rows
        out.notes.append(
            f"{name}: rows of the meeting host's account ({parsed.host_email}) that match no "
            "roster person are not attendance"
        )
