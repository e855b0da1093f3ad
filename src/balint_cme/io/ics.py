"""iCalendar export of a series' sessions, for participants' calendars (RFC 5545).

One VEVENT per dated session, in the series time zone with its VTIMEZONE, so calendar
programs show 6:45 PM Pacific whatever the reader's own zone. icalendar does the format.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from icalendar import Calendar, Event, Timezone

from balint_cme.errors import ScheduleError
from balint_cme.model import Series, ama_credit_phrase

__all__ = ["format_ics"]


def format_ics(series: Series, *, generated_at: datetime) -> bytes:
    """The .ics bytes for `series`; `generated_at` (aware) becomes every event's DTSTAMP.

    Raises:
        ScheduleError: the series has no dated session (an empty calendar helps nobody).

    UIDs are derived from the series id and session number, so re-exporting updates the
    events a participant already imported instead of duplicating them.
    """
    if not series.dated_sessions:
        # An empty calendar would import "successfully" and show nothing: refuse instead.
        raise ScheduleError(
            f"series {series.id!r} has no dated session yet ({len(series.sessions)} to be "
            "announced), so there is nothing to put in a calendar; add the dates (or a "
            "recurrence) to the series file first"
        )
    calendar = Calendar()
    calendar.add("prodid", "-//balint_cme//Balint group schedule//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", series.title)
    dated = series.dated_sessions
    if dated:
        first = series.held_on(dated[0])
        last = series.held_on(dated[-1])
        assert first is not None
        assert last is not None
        # Whole calendar years, so the VTIMEZONE carries both DST transitions of each year.
        calendar.add_component(
            Timezone.from_tzinfo(
                series.zone,
                first_date=date(first.year, 1, 1),
                last_date=date(last.year, 12, 31),
            )
        )
    providers = " with ".join((series.provider.accredited, *series.provider.joint))
    for session in dated:
        start = series.local_start(session)
        assert start is not None
        event = Event()
        event.add("uid", f"{series.id}-session-{session.number}@balint-cme")
        event.add("dtstamp", generated_at)
        event.add("dtstart", start)
        end = series.local_end(session)  # elapsed time, as the credit engine counts it
        assert end is not None
        if end.replace(fold=0).utcoffset() != end.replace(fold=1).utcoffset():
            # A wall-clock time that occurs twice (clocks falling back) cannot be written with
            # TZID unambiguously (RFC 5545 takes the first): write that end in UTC.
            end = end.astimezone(UTC)
        event.add("dtend", end)
        event.add("summary", f"{series.title}: session {session.number} of {len(series.sessions)}")
        event.add("location", series.location)
        event.add(
            "description",
            f"{series.learning_format.capitalize()} ({series.delivery}), {providers}. "
            f"Designated for a maximum of {session.credit} {ama_credit_phrase(plural=None)}.",
        )
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data
