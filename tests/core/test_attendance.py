"""Attendance records and the interval union."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from balint_cme import AttendanceRecord, AttendanceRegister, attended_seconds, merge_intervals

intervals = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 3_000)).map(lambda p: (p[0], p[0] + p[1])),
    max_size=12,
)


def test_naive_times_are_refused_without_a_zone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        AttendanceRecord(
            participant_id="p01",
            session=1,
            joined_at=datetime(2020, 9, 9, 18, 45),
            left_at=datetime(2020, 9, 9, 19, 45),
        )


def test_naive_times_are_placed_in_the_given_zone() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    record = AttendanceRecord.at_local(
        "p01", 1, datetime(2020, 9, 9, 18, 45), datetime(2020, 9, 9, 19, 45), zone=zone
    )
    assert record.joined_at.utcoffset() == timedelta(hours=-7)


def test_leaving_before_joining_is_refused() -> None:
    zone = ZoneInfo("UTC")
    with pytest.raises(ValidationError, match="before joining"):
        AttendanceRecord.at_local(
            "p01", 1, datetime(2020, 9, 9, 19), datetime(2020, 9, 9, 18), zone=zone
        )


def test_union_is_clipped_to_the_window() -> None:
    assert attended_seconds([(0, 100), (50, 150), (400, 700)], 100, 600) == 50 + 200


def test_register_indexes_by_person_and_session() -> None:
    zone = ZoneInfo("UTC")
    record = AttendanceRecord.at_local(
        "p01", 2, datetime(2020, 1, 1, 10), datetime(2020, 1, 1, 11), zone=zone
    )
    register = AttendanceRegister([record])
    assert register.intervals("p01", 2) == [(1577872800, 1577876400)]
    assert register.intervals("p01", 1) == ()
    assert register.records_for("p01") == (record,)
    assert len(register.add([record])) == 2


@given(intervals, st.integers(0, 6_000), st.integers(0, 6_000))
def test_union_never_exceeds_window_or_sum(pieces: list[tuple[int, int]], a: int, b: int) -> None:
    start, end = min(a, b), max(a, b)
    total = attended_seconds(pieces, start, end)
    assert 0 <= total <= end - start
    assert total <= sum(e - s for s, e in pieces)


@given(intervals, st.randoms(use_true_random=False))
def test_union_ignores_order_and_duplicates(pieces: list[tuple[int, int]], rng: object) -> None:
    shuffled = pieces + pieces[: len(pieces) // 2]
    shuffled.reverse()
    assert attended_seconds(shuffled, 0, 20_000) == attended_seconds(pieces, 0, 20_000)


@given(intervals)
def test_merged_intervals_are_disjoint_and_sorted(pieces: list[tuple[int, int]]) -> None:
    merged = merge_intervals(pieces)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(merged))
    covered = {t for s, e in pieces for t in range(s, e)}
    assert sum(e - s for s, e in merged) == len(covered)
