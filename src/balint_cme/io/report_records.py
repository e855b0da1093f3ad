"""Attendance records from a file's matched rows, never more than the file proves.

Timed rows of one person and session are merged as they are read (Merge): one record per merged
interval, with every line behind it as evidence. Totals (Zoom unique users, Teams totals,
sign-in minutes) become intervals inside the overlap of the file's meeting span with the
session window. Once every file is read, a person with both kinds for one session is credited
the kind that proves more, never the two added up.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, tzinfo

from balint_cme.attendance import (
    MAX_LINE_RANGES,
    AttendanceRecord,
    Evidence,
    attended_seconds,
    compact_line_ranges,
    merge_intervals,
)
from balint_cme.io.report_results import Accumulator, lines_list, minutes
from balint_cme.io.report_rows import ReportRow
from balint_cme.io.report_sessions import Window
from balint_cme.io.report_times import Interval
from balint_cme.model import Series

__all__ = [
    "Merge",
    "add_aggregates",
    "add_timed_records",
    "aggregate_span",
    "without_double_evidence",
]


class Merge:
    """One person's timed rows in one session of one file, merged as they are read.

    Credit needs only the union of the intervals, so redundant rows (a million identical
    sign-ins) cost nothing once merged; the lines behind them are kept as ranges. Memory stays
    bounded by the distinct intervals and MAX_LINE_RANGES, not by the number of rows.
    """

    __slots__ = ("compact_at", "first", "intervals", "lines", "rows", "zone")

    def __init__(self) -> None:
        self.intervals: list[tuple[int, int]] = []
        self.lines: list[tuple[int, int]] = []
        self.rows = 0
        self.first: tuple[int, int] | None = None
        self.compact_at = 256
        self.zone: tzinfo | None = None
        """The first row's zone (UTC for API times), so records keep the file's own offset."""

    def add(self, interval: Interval, row: ReportRow) -> None:
        joined, _left, start, end = interval
        if joined.microsecond:
            start += 1  # whole seconds, rounded inwards: a fraction is never credited
        if self.first is None:
            self.first = (start, max(start, end))
            self.zone = joined.tzinfo
        self.intervals.append((start, end))
        if len(self.intervals) >= self.compact_at:
            self.intervals = merge_intervals(self.intervals)
            self.compact_at = max(256, 2 * len(self.intervals))
        self.rows += row.occurrences
        lines = self.lines
        line = row.line
        if row.repeats:
            lines.extend(row.repeats)
        elif lines and lines[-1][0] <= line <= lines[-1][1] + 1:
            if line > lines[-1][1]:
                lines[-1] = (lines[-1][0], line)
        else:
            lines.append((line, line))
        if len(lines) > 2 * MAX_LINE_RANGES:
            self.lines = list(compact_line_ranges(lines))

    def union(self) -> list[tuple[int, int]]:
        """The merged intervals (one empty interval when every row was empty)."""
        merged = merge_intervals(self.intervals)
        if not merged and self.first is not None:
            merged = [(self.first[0], self.first[0])]
        return merged

    def evidence_values(self, source: str, platform: str) -> dict[str, object]:
        """Evidence fields: the first line, and all lines as ranges when there are several."""
        ranges = compact_line_ranges(self.lines)
        return {
            "source": source,
            "line": ranges[0][0],
            "platform": platform,
            "line_ranges": ranges if self.rows > 1 else (),
            "rows": self.rows,
        }


def add_timed_records(
    merges: dict[tuple[str, int], Merge],
    source: str,
    platform: str,
    zone: tzinfo,
    out: Accumulator,
) -> None:
    """One record per merged interval of each person and session, sharing its evidence."""
    # Records are built without re-validation: ids come from the validated roster, sessions
    # from the series, and leave >= join was checked (the hot loop of a large report).
    new_record = AttendanceRecord._from_trusted
    new_evidence = Evidence._from_trusted
    records = out.records
    for (participant_id, number), merge in merges.items():
        evidence = new_evidence(merge.evidence_values(source, platform))
        for start, end in merge.union():
            records.append(
                new_record(
                    {
                        "participant_id": participant_id,
                        "session": number,
                        "joined_at": datetime.fromtimestamp(start, tz=merge.zone or zone),
                        "left_at": datetime.fromtimestamp(end, tz=merge.zone or zone),
                        "evidence": evidence,
                    }
                )
            )


def aggregate_span(window: Window, meeting: tuple[datetime, datetime] | None) -> tuple[int, int]:
    """Where a total can lie: the session window, cut to the file's meeting span if it has one
    (a meeting that ran 6:25-7:30 PM proves at most 45 minutes of a 6:45-7:45 session)."""
    if meeting is None:
        return window.start, window.end
    start = max(window.start, math.ceil(meeting[0].timestamp()))
    end = min(window.end, math.floor(meeting[1].timestamp()))
    return (start, end) if end > start else (window.start, window.start)


def add_aggregates(
    aggregates: dict[tuple[str, int], list[ReportRow]],
    windows: dict[int, Window],
    series: Series,
    name: str,
    source: str,
    platform: str,
    out: Accumulator,
    meeting: tuple[datetime, datetime] | None,
) -> None:
    """Totals become intervals inside what the file proves: the overlap of its own meeting
    span (summary start and end) with the session window, or without a span the session
    window; never longer than that."""
    for (participant_id, number), rows in aggregates.items():
        window = windows[number]
        assert window.session.starts_at is not None
        span_start, span_end = aggregate_span(window, meeting)
        start = datetime.fromtimestamp(span_start, tz=window.session.starts_at.tzinfo)
        length = span_end - span_start
        totals = [row.total_seconds or 0 for row in rows]
        # A row the file repeats counts as often as it appears (RowCollector keeps it once).
        overall = sum(total * row.occurrences for total, row in zip(totals, rows, strict=True))
        count = sum(row.occurrences for row in rows)
        if overall > length and count > 1:
            longest = max(range(len(rows)), key=lambda i: totals[i])
            person = series.participant(participant_id)
            label = person.name if person is not None else participant_id
            out.notes.append(
                f"{name}: {label} ({participant_id}) has {count} rows totalling "
                f"{minutes(overall)} minutes, more than the {minutes(length)} minutes the "
                f"file shows of session {number} "
                f"(lines {lines_list([row.line for row in rows])}): credited the longest row "
                f"({minutes(min(totals[longest], length))} minutes), not the sum; check by hand"
            )
            chosen = [(rows[longest], min(totals[longest], length))]
        else:
            # Their sum fits, so each repeat is a real stay: laid end to end (a zero total
            # once is enough).
            chosen = [
                (row, total)
                for row, total in zip(rows, totals, strict=True)
                for _ in range(row.occurrences if total else 1)
            ]
        offset = 0
        for row, seconds in chosen:
            seconds = min(seconds, length - offset)
            joined = start + timedelta(seconds=offset)
            out.aggregate_records.append(
                AttendanceRecord._from_trusted(
                    {
                        "participant_id": participant_id,
                        "session": number,
                        "joined_at": joined,
                        "left_at": joined + timedelta(seconds=seconds),
                        "evidence": Evidence._from_trusted(
                            {
                                "source": source,
                                "line": row.line,
                                "platform": platform,
                                "line_ranges": (),
                                "rows": 1,
                            }
                        ),
                    }
                )
            )
            offset += seconds


def without_double_evidence(series: Series, out: Accumulator) -> tuple[AttendanceRecord, ...]:
    """Timed records plus the totals-only ones, never adding the two kinds up.

    A total is placed in the session, not timed, so its union with a person's per-join
    intervals could exceed what either proves (Zoom shows 19:15-19:45, the sign-in sheet says
    30 minutes: the union of 18:45-19:15 and 19:15-19:45 would be an hour). Where one person
    and session have both, the kind that proves more attended time is credited alone, and a
    note says so.
    """
    if not out.aggregate_records:
        return tuple(out.records)
    totals: dict[tuple[str, int], list[AttendanceRecord]] = {}
    for record in out.aggregate_records:
        totals.setdefault((record.participant_id, record.session), []).append(record)
    timed: dict[tuple[str, int], list[AttendanceRecord]] = {}
    for record in out.records:
        key = (record.participant_id, record.session)
        if key in totals:
            timed.setdefault(key, []).append(record)
    dropped: set[int] = set()
    kept = list(out.records)
    for key, placed in totals.items():
        per_join = timed.get(key)
        if per_join is None:
            kept.extend(placed)
            continue
        participant_id, number = key
        session = series.session(number)
        assert session is not None
        assert session.starts_at is not None
        start = int(session.starts_at.timestamp())
        end = start + session.duration_minutes * 60
        timed_seconds, total_seconds = (
            attended_seconds(
                [
                    (math.ceil(r.joined_at.timestamp()), math.floor(r.left_at.timestamp()))
                    for r in kind
                ],
                start,
                end,
            )
            for kind in (per_join, placed)
        )
        person = series.participant(participant_id)
        label = f"{person.name if person is not None else participant_id} ({participant_id})"
        files = sorted({r.evidence.source for r in placed if r.evidence is not None})
        if total_seconds > timed_seconds:
            dropped.update(id(r) for r in per_join)
            kept.extend(placed)
            chosen = f"the totals ({minutes(total_seconds)} minutes, {', '.join(files)})"
        else:
            chosen = f"the per-join times ({minutes(timed_seconds)} minutes)"
        out.double_evidence.append(
            f"session {number}: {label} has both per-join times ({minutes(timed_seconds)} "
            f"minutes) and totals-only evidence ({minutes(total_seconds)} minutes, "
            f"{', '.join(files)}); they are not added up: credited {chosen} alone"
        )
    out.notes.extend(out.double_evidence)
    return tuple(r for r in kept if id(r) not in dropped)
