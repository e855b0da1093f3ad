"""Timestamp text in meeting reports, read without guessing: explicit strptime formats only.

A timestamp is read in every day/month order its shape allows (ParsedTime); which order a file
uses is settled later against the known session dates (report_times.py). Also times of day
without a date (sign-in sheets), minutes values, and whether a time stops at the minute.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NamedTuple

__all__ = [
    "ParsedTime",
    "is_minute_resolution",
    "parse_clock_time",
    "parse_minutes",
    "parse_timestamp",
]


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
        # Naive on purpose: a report's wall-clock time, given its zone by report_times.py.
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
