"""A report's times, resolved: day/month order, export time zone, aware intervals.

A file's time text is read once per distinct value. Its day/month order is settled per file (a
field above 12 decides; otherwise the order that puts the dates on the sessions' dates); times
without an offset are wall-clock times in the export zone (the zone given with the file as
FILE@ZONE or `(path, session, zone)`, else the caller's export zone, else the series zone),
DST-correct. Times given to the minute are read so that no unproven second is credited. The
result, per row, is an interval of aware datetimes and epoch seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from balint_cme.errors import DataFileError
from balint_cme.io.report_rows import ParsedReport
from balint_cme.io.report_text import shown
from balint_cme.io.timestamps import (
    ParsedTime,
    is_minute_resolution,
    parse_clock_time,
    parse_timestamp,
)
from balint_cme.model import Session

__all__ = [
    "LAST_SECOND",
    "Clock",
    "Interval",
    "epoch",
    "export_zone",
    "row_error",
    "session_dates",
    "timed_intervals",
]

Interval = tuple[datetime, datetime, int, int]
"""Joined and left as aware datetimes, then as epoch seconds."""

LAST_SECOND = timedelta(seconds=59)


def export_zone(name: str, path: Path | str) -> ZoneInfo:
    """The IANA zone a file's times without an offset are read in.

    Raises:
        DataFileError: `name` is not an IANA time zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as err:
        raise DataFileError(
            path, f"export time zone {name!r} is not an IANA time zone (e.g. America/New_York)"
        ) from err


def epoch(moment: datetime) -> int:
    """Whole epoch seconds of an aware time."""
    return int(moment.timestamp())


class _Where(NamedTuple):
    line: int
    label: str


def row_error(parsed: ParsedReport, path: Path | str, line: int, reason: str) -> DataFileError:
    if parsed.platform == "zoom-api":
        return DataFileError(path, f"participant {line}: {reason}")
    return DataFileError(path, reason, line=line)


def session_dates(sessions: Iterable[Session], zone: ZoneInfo) -> set[date]:
    """Local dates (in the export zone) a session's rows may carry: its days, and one either side."""
    dates: set[date] = set()
    for session in sessions:
        if session.starts_at is None or session.ends_at is None:
            continue
        for moment in (session.starts_at, session.ends_at):
            day = moment.astimezone(zone).date()
            dates.update((day - timedelta(days=1), day, day + timedelta(days=1)))
    return dates


def _resolve_order(
    parsed: ParsedReport,
    path: Path | str,
    readings: dict[str, ParsedTime],
    locate: Callable[[str], _Where],
    plausible: set[date],
) -> tuple[Literal["month_first", "day_first"], str | None]:
    """The file's day/month order: from a field above 12, else from the session dates."""
    month_first_evidence = next(
        (text for text, value in readings.items() if value.day_first is None), None
    )
    day_first_evidence = next(
        (text for text, value in readings.items() if value.month_first is None), None
    )
    if month_first_evidence is not None and day_first_evidence is not None:
        a, b = locate(month_first_evidence), locate(day_first_evidence)
        raise row_error(
            parsed,
            path,
            b.line,
            f"{b.label} {shown(day_first_evidence)} is day-first but line {a.line}'s "
            f"{shown(month_first_evidence)} is month-first: one date order per file",
        )
    if month_first_evidence is not None:
        return "month_first", None
    if day_first_evidence is not None:
        return "day_first", None
    ambiguous = [text for text, value in readings.items() if value.is_ambiguous]
    if not ambiguous:
        return "month_first", None

    def fits(order: Literal["month_first", "day_first"]) -> bool:
        for text in ambiguous:
            value = getattr(readings[text], order)
            if value is None or value.date() not in plausible:
                return False
        return True

    month_first, day_first = fits("month_first"), fits("day_first")
    example = ambiguous[0]
    spot = locate(example)
    if month_first and not day_first:
        return "month_first", None
    if day_first and not month_first:
        return "day_first", (
            f"dates such as {shown(example)} read day-first: only that order puts them on "
            "the session's date"
        )
    value = readings[example]
    assert value.month_first is not None
    assert value.day_first is not None
    if month_first:
        reason = (
            f"{spot.label} {shown(example)} could be {value.month_first:%Y-%m-%d} or "
            f"{value.day_first:%Y-%m-%d}, and both are session dates; name the session"
        )
    else:
        reason = (
            f"{spot.label} {shown(example)} falls on no session date as "
            f"{value.month_first:%Y-%m-%d} (month first) nor as {value.day_first:%Y-%m-%d} "
            "(day first); check the session number and the report"
        )
    raise row_error(parsed, path, spot.line, reason)


class Clock:
    """Turns a file's time text into aware datetimes and epoch seconds, once per distinct text.

    Raises (from the constructor) DataFileError: a time that is not a date, mixed day/month
    orders, or dates that fit both orders or neither (naming the line and the value).
    """

    def __init__(
        self,
        parsed: ParsedReport,
        path: Path | str,
        zone: ZoneInfo,
        plausible: set[date],
    ) -> None:
        self.zone = zone
        self.values: dict[str, tuple[datetime, int]] = {}
        """Full timestamps: text -> (aware datetime, epoch seconds)."""
        self.clock_only: set[str] = set()
        """Times of day without a date (sign-in sheets), placed on the session's date."""
        self.meeting: tuple[datetime, datetime] | None = None
        self.naive_seen = False
        """Whether some time had no offset and was read as wall-clock time in `zone`."""
        rows = parsed.rows
        summary = [text for text in (parsed.meeting_start, parsed.meeting_end) if text]
        locate = _locator(parsed)
        readings = self._read_texts(parsed, path)
        # The summary only helps place a totals-only report: unreadable summary times are skipped.
        summary_readings = {
            text: value
            for text in summary
            if text not in readings and (value := parse_timestamp(text)) is not None
        }
        order, self.note = _resolve_order(
            parsed, path, {**readings, **summary_readings}, locate, plausible
        )
        self._choose(order, readings, summary_readings, parsed, path, locate)
        self.minute_texts = {
            text for text in (*self.values, *self.clock_only) if is_minute_resolution(text)
        }
        """Times given to the minute (no seconds): a join is read as the last second of its
        minute, a leave as the first (never credit time the file does not prove)."""
        self.minute_rows = any(
            text in self.minute_texts for row in rows for text in (row.joined, row.left) if text
        )
        if len(summary) == 2 and summary[0] in self.values and summary[1] in self.values:
            start, end = self.values[summary[0]][0], self.values[summary[1]][0]
            if summary[0] in self.minute_texts:
                start += LAST_SECOND
            self.meeting = (min(start, end), end)

    def _read_texts(self, parsed: ParsedReport, path: Path | str) -> dict[str, ParsedTime]:
        """Every distinct join and leave text read both ways; times of day kept apart."""
        rows = parsed.rows
        readings: dict[str, ParsedTime] = {}
        texts = dict.fromkeys([row.joined for row in rows])
        texts.update(dict.fromkeys([row.left for row in rows]))
        texts.pop(None, None)
        bad: set[str] = set()
        for text in texts:
            assert text is not None
            value = parse_timestamp(text)
            if value is not None:
                readings[text] = value
            elif parsed.platform == "sign-in" and parse_clock_time(text) is not None:
                self.clock_only.add(text)
            else:
                bad.add(text)
        if bad:
            # Report the first bad value in file order.
            for row in rows:
                for text, label in (
                    (row.joined, parsed.join_label),
                    (row.left, parsed.leave_label),
                ):
                    if text in bad:
                        raise row_error(
                            parsed, path, row.line, f"{label} {shown(text)} is not a date"
                        )
        return readings

    def _choose(
        self,
        order: Literal["month_first", "day_first"],
        readings: dict[str, ParsedTime],
        summary_readings: dict[str, ParsedTime],
        parsed: ParsedReport,
        path: Path | str,
        locate: Callable[[str], _Where],
    ) -> None:
        """Each text in the file's order, naive ones placed in the export zone."""
        zone = self.zone
        for text, value in (*readings.items(), *summary_readings.items()):
            chosen = getattr(value, order)
            if chosen is None:
                if text in summary_readings:
                    continue
                spot = locate(text)
                raise row_error(
                    parsed, path, spot.line, f"{spot.label} {shown(text)} is not a date"
                )
            if chosen.tzinfo is None:
                chosen = chosen.replace(tzinfo=zone)
                self.naive_seen = True
            self.values[text] = (chosen, int(chosen.timestamp()))

    def conservative(
        self, joined: datetime, left: datetime, joined_text: str, left_text: str
    ) -> tuple[datetime, datetime]:
        """A join given to the minute moved to that minute's last second (19:22 -> 19:22:59);
        a leave given to the minute stays at its first. Never a leave before the join."""
        if joined_text in self.minute_texts:
            joined = min(joined + LAST_SECOND, left)
        return joined, left

    def on_session_day(self, text: str, session: Session) -> datetime:
        """A time of day ("18:45") on the session's local date, the day after if it is long
        before the start (a session crossing midnight)."""
        assert session.starts_at is not None
        clock = parse_clock_time(text)
        assert clock is not None
        start = session.starts_at.astimezone(self.zone)
        moment = datetime.combine(start.date(), clock, tzinfo=self.zone)
        if moment.timestamp() < start.timestamp() - 12 * 3600:
            moment = datetime.combine(start.date() + timedelta(days=1), clock, tzinfo=self.zone)
        self.naive_seen = True
        return moment

    def day_interval(self, joined_text: str, left_text: str, session: Session) -> Interval:
        """A row's times of day placed on the session's date; a leave before the join is the
        next day."""
        joined_at = self.on_session_day(joined_text, session)
        left_at = self.on_session_day(left_text, session)
        if left_at.timestamp() < joined_at.timestamp():
            left_at += timedelta(days=1)
        joined_at, left_at = self.conservative(joined_at, left_at, joined_text, left_text)
        return (joined_at, left_at, int(joined_at.timestamp()), int(left_at.timestamp()))


def _locator(parsed: ParsedReport) -> Callable[[str], _Where]:
    """Where a time text first appears: its row's line and column label, or the summary."""
    rows = parsed.rows

    def locate(text: str) -> _Where:
        for row in rows:
            if row.joined == text:
                return _Where(row.line, parsed.join_label)
            if row.left == text:
                return _Where(row.line, parsed.leave_label)
        return _Where(parsed.summary_line or 1, "the meeting's start or end time")

    return locate


def timed_intervals(parsed: ParsedReport, path: Path | str, clock: Clock) -> dict[int, Interval]:
    """Rows with full timestamps, by row index, as intervals; leave >= join is checked.

    Rows with times of day only (sign-in sheets) are left out: they are placed once their
    session is known (Clock.day_interval).

    Raises:
        DataFileError: a leave before its join, or one time of day and one date in a row.
    """
    rows = parsed.rows
    values = clock.values
    minute_texts = clock.minute_texts
    zone = clock.zone
    intervals: dict[int, Interval] = {}
    for index, row in enumerate(rows):
        joined_text, left_text = row.joined, row.left
        if joined_text is None or left_text is None:
            continue
        joined, left = values.get(joined_text), values.get(left_text)
        if joined is None or left is None:
            if (joined is None) != (left is None):
                raise row_error(
                    parsed, path, row.line, "join and leave must both be times of day or both dates"
                )
            continue  # times of day: placed once the row's session is known
        if left[1] < joined[1] and left[0].tzinfo is zone:
            later = left[0].replace(fold=1)  # the repeated hour when clocks go back
            left = (later, int(later.timestamp()))
        if left[1] < joined[1]:
            raise row_error(
                parsed,
                path,
                row.line,
                f"{parsed.leave_label} {shown(left_text)} is before {parsed.join_label} "
                f"{shown(joined_text)}",
            )
        if joined_text in minute_texts:
            # Given to the minute: the join is proven only from that minute's last second.
            if joined[1] + 59 <= left[1]:
                joined = (joined[0] + LAST_SECOND, joined[1] + 59)
            else:
                joined = left
        intervals[index] = (joined[0], left[0], joined[1], left[1])
    return intervals
