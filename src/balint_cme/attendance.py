"""Who was present, for how long: attendance records and the interval arithmetic.

Attended time is the union of a person's join/leave intervals clipped to the session window,
to the second (docs/rules.md §2), so reconnects and second devices count once. Pure: no files,
no clock, no edges.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from balint_cme.errors import UndatedSessionError
from balint_cme.model import DomainModel, ParticipantId, Session

__all__ = [
    "MAX_LINE_RANGES",
    "AttendanceRecord",
    "AttendanceRegister",
    "Evidence",
    "attended_seconds",
    "compact_line_ranges",
    "merge_intervals",
    "paused_garbage_collector",
]


class Evidence(DomainModel):
    """Where an attendance record came from, for the audit trail."""

    source: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    """The file name (or "manual") the record was read from."""
    line: Annotated[int, Field(ge=1)] | None = None
    platform: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    """"zoom", "zoom-api", "teams", "sign-in", ..."""
    line_ranges: tuple[tuple[int, int], ...] = ()
    """Every line behind the record as inclusive (first, last) ranges, when the reader merged
    several rows of one person and session into it (empty: just `line`). At most
    MAX_LINE_RANGES ranges are kept: past that, the last range covers every later line and
    `rows` says how many rows there were."""
    rows: Annotated[int, Field(ge=1)] = 1
    """How many report rows the record stands for."""

    @property
    def lines_text(self) -> str:
        """The lines as text: "5", "5-9, 14", "5-1000001"."""
        ranges = self.line_ranges or (((self.line, self.line),) if self.line is not None else ())
        return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


MAX_LINE_RANGES = 64
"""Line ranges kept per record's evidence (memory stays bounded whatever the report)."""


def compact_line_ranges(lines: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, merged inclusive line ranges, at most MAX_LINE_RANGES (the last covers the rest)."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(lines):
        if merged and first <= merged[-1][1] + 1:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    if len(merged) > MAX_LINE_RANGES:
        merged[MAX_LINE_RANGES - 1 :] = [(merged[MAX_LINE_RANGES - 1][0], merged[-1][1])]
    return tuple(merged)


class AttendanceRecord(DomainModel):
    """One join/leave interval of one person in one session."""

    participant_id: ParticipantId
    session: Annotated[int, Field(ge=1)]
    """1-based session number."""
    joined_at: AwareDatetime
    left_at: AwareDatetime
    evidence: Evidence | None = None

    @model_validator(mode="after")
    def _check_leaves_after_joining(self) -> Self:
        if self.left_at < self.joined_at:
            raise ValueError(
                f"{self.participant_id} session {self.session}: left at {self.left_at} "
                f"before joining at {self.joined_at}"
            )
        return self

    @classmethod
    def at_local(
        cls,
        participant_id: str,
        session: int,
        joined: datetime,
        left: datetime,
        *,
        zone: tzinfo,
        evidence: Evidence | None = None,
    ) -> Self:
        """Build a record from naive wall-clock times in `zone` (aware times keep their own)."""
        joined = joined if joined.tzinfo is not None else joined.replace(tzinfo=zone)
        left = left if left.tzinfo is not None else left.replace(tzinfo=zone)
        return cls(
            participant_id=participant_id,
            session=session,
            joined_at=joined,
            left_at=left,
            evidence=evidence,
        )

    @classmethod
    def in_session(
        cls,
        session: Session,
        participant_id: str,
        joined_minute: float,
        left_minute: float,
        *,
        evidence: Evidence | None = None,
    ) -> Self:
        """A record from minutes relative to the session's start (negative: before it).

        Handy in tests and examples: `AttendanceRecord.in_session(session, "p01", 0, 52)`.

        Raises:
            UndatedSessionError: the session has no date yet.
        """
        if session.starts_at is None:
            raise UndatedSessionError(session.number)
        return cls(
            participant_id=participant_id,
            session=session.number,
            joined_at=_minutes_after(session.starts_at, joined_minute),
            left_at=_minutes_after(session.starts_at, left_minute),
            evidence=evidence,
        )


def _minutes_after(start: datetime, minutes: float) -> datetime:
    return start + timedelta(seconds=round(minutes * 60))


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of half-open [start, end) intervals, as disjoint sorted intervals."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def attended_seconds(
    intervals: Iterable[tuple[int, int]], window_start: int, window_end: int
) -> int:
    """Seconds covered by the union of `intervals` inside [window_start, window_end)."""
    # One pass over the sorted intervals, clipping and merging as it goes (the hot loop of
    # award_series: kept free of generators and helper calls).
    total = 0
    run_start = run_end = window_start
    for start, end in sorted(intervals):
        if start < window_start:
            start = window_start
        if end > window_end:
            end = window_end
        if end <= start:
            continue
        if start > run_end:
            total += run_end - run_start
            run_start, run_end = start, end
        elif end > run_end:
            run_end = end
    return total + run_end - run_start


@contextmanager
def paused_garbage_collector() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    The collector would otherwise rescan every live record on each generation-2 pass; the
    objects made here hold no cycles, so reference counting frees them all the same.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class AttendanceRegister:
    """All attendance records of a series, indexed by person and session.

    Immutable after construction: `add()` returns a new register.
    """

    __slots__ = ("_index", "_records")

    def __init__(self, records: Iterable[AttendanceRecord] = ()) -> None:
        self._records: tuple[AttendanceRecord, ...] = tuple(records)
        index: dict[tuple[str, int], list[tuple[int, int]]] = {}
        ceil, floor = math.ceil, math.floor
        with paused_garbage_collector():
            for record in self._records:
                key = (record.participant_id, record.session)
                # Whole seconds, rounded inwards: a fraction of a second is never credited.
                interval = (ceil(record.joined_at.timestamp()), floor(record.left_at.timestamp()))
                bucket = index.get(key)
                if bucket is None:
                    index[key] = [interval]
                else:
                    bucket.append(interval)
        self._index = index

    @property
    def records(self) -> tuple[AttendanceRecord, ...]:
        """Every record, in the order given."""
        return self._records

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[AttendanceRecord]:
        return iter(self._records)

    def add(self, records: Iterable[AttendanceRecord]) -> AttendanceRegister:
        """A new register with `records` added."""
        return AttendanceRegister((*self._records, *records))

    def records_for(self, participant_id: str) -> tuple[AttendanceRecord, ...]:
        """This person's records, in the order given."""
        return tuple(r for r in self._records if r.participant_id == participant_id)

    def intervals(self, participant_id: str, session: int) -> Sequence[tuple[int, int]]:
        """This person's intervals in one session as (start, end) epoch seconds."""
        return self._index.get((participant_id, session), ())

    def sessions_mentioned(self) -> set[int]:
        """Every session number some record refers to."""
        return {session for _, session in self._index}
