"""The credit engine: docs/rules.md §2 worked examples, reasons, caps, claims, transcripts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balint_cme import (
    AttendanceRecord,
    AttendanceRegister,
    ClaimError,
    CreditPolicy,
    Facilitator,
    Participant,
    Series,
    UndatedSessionError,
    UnknownParticipantError,
    UnknownSessionError,
    award_credit,
    award_series,
    build_transcript,
    validate_claim,
)
from balint_cme.credit_rounding import quarter_hours
from balint_cme.testing import series_with_attendance
from tests.conftest import attend

D = Decimal

WORKED_EXAMPLES = [
    (60, "1.00"),
    (75, "1.00"),
    (53, "1.00"),
    (52.5, "0.75"),
    (52, "0.75"),
    (45, "0.75"),
    (38, "0.75"),
    (37, "0.50"),
    (23, "0.50"),
    (22, "0.25"),
    (8, "0.25"),
    (7.5, "0.00"),
    (7, "0.00"),
    (0, "0.00"),
]


@pytest.mark.parametrize(("minutes", "expected"), WORKED_EXAMPLES)
def test_session_credit_matches_domain_worked_example(
    series_2020: Series, minutes: float, expected: str
) -> None:
    register = AttendanceRegister([attend(series_2020, "p01", 1, 0, minutes)] if minutes else [])
    award = award_credit(series_2020, register, "p01")
    assert award.sessions[0].credit == D(expected)
    assert award.points == D(expected)


def test_tie_rounds_up_when_policy_says_up(series_2020: Series) -> None:
    register = AttendanceRegister([attend(series_2020, "p01", 1, 0, 52.5)])
    award = award_credit(series_2020, register, "p01", policy=CreditPolicy(tie_rule="up"))
    assert award.points == D("1.00")


def test_quarter_hours_never_uses_bankers_rounding() -> None:
    # round(2.5) == 2 and round(3.5) == 4 in Python; the credit rule rounds both ties down.
    assert quarter_hours(2 * 900 + 450) == D("0.50")
    assert quarter_hours(3 * 900 + 450) == D("0.75")


def test_overlapping_reconnects_count_once(series_2020: Series) -> None:
    register = AttendanceRegister(
        [
            attend(series_2020, "p01", 1, -10, 30),  # joined early on the laptop
            attend(series_2020, "p01", 1, 20, 45),  # phone, overlapping
            attend(series_2020, "p01", 1, 44, 90),  # reconnect, stays past the end
        ]
    )
    award = award_credit(series_2020, register, "p01")
    assert award.sessions[0].attended_seconds == 3600
    assert award.sessions[0].credit == D("1.00")


def test_series_credit_is_capped_at_series_maximum(series_2020: Series) -> None:
    capped = series_2020.evolve(credit=series_2020.credit.evolve(series_maximum=D("3.0")))
    register = AttendanceRegister([attend(capped, "p01", n, 0, 60) for n in range(1, 6)])
    award = award_credit(capped, register, "p01")
    assert award.points == D("3.00")
    assert any("capped at the series maximum of 3.00" in s for s in award.shortfalls)


def test_non_physician_gets_hours_and_no_credit(series_2020: Series) -> None:
    register = AttendanceRegister(
        [attend(series_2020, "p03", 1, 0, 60), attend(series_2020, "p03", 2, 0, 45)]
    )
    award = award_credit(series_2020, register, "p03")
    assert award.points == D("0.00")
    assert award.participation_hours == D("1.75")
    assert award.kind == "participation"
    assert "not a physician: NP" in award.shortfalls


def test_facilitator_earns_nothing_for_a_session_they_lead(series_2020: Series) -> None:
    leading = series_2020.evolve(
        facilitators=(
            *series_2020.facilitators,
            Facilitator(name="Ana Ruiz", credentials="MD", participant_id="p01", leads=(2,)),
        )
    )
    register = AttendanceRegister(
        [attend(leading, "p01", 1, 0, 60), attend(leading, "p01", 2, 0, 60)]
    )
    award = award_credit(leading, register, "p01")
    assert [s.credit for s in award.sessions[:2]] == [D("1.00"), D("0.00")]
    assert award.sessions[1].reason == "facilitated this session"
    assert award.participation_hours == D("1.00")
    assert [s.session for s in award.attended_sessions] == [1]


def test_person_not_on_roster_is_explained_as_not_enrolled(series_2020: Series) -> None:
    award = award_credit(series_2020, AttendanceRegister(), "x99")
    assert award.kind == "none"
    assert award.shortfalls == ("not enrolled",)


def test_reasons_explain_every_zero(series_2020: Series) -> None:
    register = AttendanceRegister([attend(series_2020, "p01", 1, 0, 7)])
    award = award_credit(series_2020, register, "p01")
    assert award.sessions[0].reason == "below the 7.5-minute minimum for 0.25 credit"
    assert award.sessions[1].reason == "did not attend"


def test_minimum_minutes_policy_withholds_short_sessions(series_2020: Series) -> None:
    register = AttendanceRegister([attend(series_2020, "p01", 1, 0, 20)])
    award = award_credit(series_2020, register, "p01", policy=CreditPolicy(minimum_minutes=D(30)))
    assert award.points == D("0.00")
    assert award.sessions[0].reason == "below the policy minimum of 30 minutes"


def test_all_or_nothing_threshold_awards_full_or_zero(series_2020: Series) -> None:
    policy = CreditPolicy(all_or_nothing_ratio=D("0.75"))
    register = AttendanceRegister(
        [attend(series_2020, "p01", 1, 0, 45), attend(series_2020, "p01", 2, 0, 44)]
    )
    award = award_credit(series_2020, register, "p01", policy=policy)
    assert [s.credit for s in award.sessions[:2]] == [D("1.00"), D("0.00")]


def test_attendance_for_unknown_session_is_refused(series_2020: Series) -> None:
    start = series_2020.sessions[0].starts_at
    assert start is not None
    record = AttendanceRecord(participant_id="p01", session=9, joined_at=start, left_at=start)
    with pytest.raises(UnknownSessionError, match="has no session 9"):
        award_credit(series_2020, AttendanceRegister([record]), "p01")


def test_attendance_for_undated_session_says_it_has_no_date(series_2023: Series) -> None:
    start = datetime(2023, 3, 8, 18, 45, tzinfo=ZoneInfo("America/Los_Angeles"))
    record = AttendanceRecord(participant_id="p11", session=2, joined_at=start, left_at=start)
    with pytest.raises(UndatedSessionError, match="session 2 has no date yet"):
        award_credit(series_2023, AttendanceRegister([record]), "p11")


def test_claim_above_support_names_person_numbers_and_sessions(series_2020: Series) -> None:
    register = AttendanceRegister(
        [attend(series_2020, "p01", 1, 0, 52), attend(series_2020, "p01", 2, 0, 60)]
    )
    with pytest.raises(ClaimError) as caught:
        validate_claim(series_2020, register, "p01", "5.0")
    message = str(caught.value)
    assert "Ana Ruiz (p01) claims 5.00" in message
    assert "supports 1.75" in message
    assert "session 1 (2020-09-09): partial attendance: 52.0 minutes" in message
    assert caught.value.supported == D("1.75")


def test_claim_within_support_returns_the_award(series_2020: Series) -> None:
    register = AttendanceRegister([attend(series_2020, "p01", 1, 0, 60)])
    assert validate_claim(series_2020, register, "p01", D("1.00")).points == D("1.00")


@pytest.mark.parametrize("claim", ["0.3", "-1", "NaN", "abc", ""])
def test_claim_that_is_not_a_quarter_is_refused(series_2020: Series, claim: str) -> None:
    with pytest.raises(ValueError, match=r"multiple of 0\.25"):
        validate_claim(series_2020, AttendanceRegister(), "p01", claim)


def test_claim_for_unknown_person_is_refused(series_2020: Series) -> None:
    with pytest.raises(UnknownParticipantError, match="x99"):
        validate_claim(series_2020, AttendanceRegister(), "x99", "1.0")


def test_transcript_sums_series_inside_the_window(series_2020: Series) -> None:
    later = series_2020.evolve(
        id="ssvms-balint-2021",
        sessions=tuple(
            s.evolve(starts_at=s.starts_at + timedelta(days=364))
            for s in series_2020.sessions
            if s.starts_at
        ),
    )
    first = AttendanceRegister([attend(series_2020, "p01", n, 0, 60) for n in (1, 2, 3)])
    second = AttendanceRegister([attend(later, "p01", n, 0, 45) for n in (1, 2)])
    transcript = build_transcript(
        "p01",
        [(series_2020, first), (later, second)],
        from_on=date(2020, 10, 1),
        to_on=date(2022, 9, 30),
    )
    assert [line.series_id for line in transcript.lines] == [
        "ssvms-balint-2020",
        "ssvms-balint-2021",
    ]
    assert transcript.lines[0].points == D("2.00")  # session 1 (Sep 2020) is outside
    assert transcript.total_points == D("3.50")
    assert transcript.remaining == D("46.50")
    assert not transcript.is_target_met


def test_transcript_for_unknown_person_is_refused(series_2020: Series) -> None:
    with pytest.raises(UnknownParticipantError):
        build_transcript("x99", [(series_2020, AttendanceRegister())])


# ---------------------------------------------------------------------------------------------
# Properties


@given(series_with_attendance())
def test_credit_is_quarter_nonnegative_and_within_caps(
    case: tuple[Series, AttendanceRegister],
) -> None:
    series, register = case
    for award in award_series(series, register):
        assert D(0) <= award.points <= series.credit.series_maximum
        assert award.points % D("0.25") == 0
        for result in award.sessions:
            assert D(0) <= result.credit <= result.designated
            assert result.credit % D("0.25") == 0
            assert result.hours % D("0.25") == 0
        if not award.is_physician:
            assert award.points == 0


@given(series_with_attendance(), st.data())
def test_more_attendance_never_lowers_credit(
    case: tuple[Series, AttendanceRegister], data: st.DataObject
) -> None:
    series, register = case
    before = {a.participant_id: a.points for a in award_series(series, register)}
    participant = data.draw(st.sampled_from(series.participants))
    session = data.draw(st.sampled_from(series.dated_sessions))
    assert session.starts_at is not None
    offset = data.draw(st.integers(-600, session.duration_minutes * 60))
    length = data.draw(st.integers(0, 4000))
    extra = AttendanceRecord(
        participant_id=participant.id,
        session=session.number,
        joined_at=session.starts_at + timedelta(seconds=offset),
        left_at=session.starts_at + timedelta(seconds=offset + length),
    )
    after = {a.participant_id: a.points for a in award_series(series, register.add([extra]))}
    assert all(after[pid] >= before[pid] for pid in before)


@given(series_with_attendance(), st.data())
def test_reordering_duplicating_or_splitting_rows_never_changes_credit(
    case: tuple[Series, AttendanceRegister], data: st.DataObject
) -> None:
    series, register = case
    records = list(register.records)
    reshaped: list[AttendanceRecord] = []
    for record in records:
        span = int((record.left_at - record.joined_at).total_seconds())
        if span > 2 and data.draw(st.booleans()):
            cut = data.draw(st.integers(1, span - 1))
            overlap = data.draw(st.integers(0, cut))
            reshaped.append(record.evolve(left_at=record.joined_at + timedelta(seconds=cut)))
            reshaped.append(
                record.evolve(joined_at=record.joined_at + timedelta(seconds=cut - overlap))
            )
        else:
            reshaped.append(record)
        if data.draw(st.booleans()):
            reshaped.append(record)
    reshaped = data.draw(st.permutations(reshaped))
    original = award_series(series, register)
    changed = award_series(series, AttendanceRegister(reshaped))
    assert [a.sessions for a in original] == [a.sessions for a in changed]
    assert [a.points for a in original] == [a.points for a in changed]


@given(st.integers(0, 10 * 3600))
def test_quarter_hours_is_nearest_quarter_with_ties_down(seconds: int) -> None:
    hours = quarter_hours(seconds)
    exact = D(seconds) / 3600
    assert hours % D("0.25") == 0
    assert abs(exact - hours) <= D("0.125")
    if abs(exact - hours) == D("0.125"):
        assert hours < exact  # ties go down


def test_award_series_lists_roster_in_order(series_2020: Series) -> None:
    awards = award_series(series_2020, AttendanceRegister())
    assert [a.participant_id for a in awards] == ["p01", "p02", "p03", "p04", "p05", "p06", "f01"]
    assert all(len(a.sessions) == 5 for a in awards)
    assert all(a.kind == "none" for a in awards)


def test_physician_marker_overrides_credentials(series_2020: Series) -> None:
    foreign = Participant(id="p09", name="Ingrid Berg", credentials="Lege", physician=True)
    series = series_2020.evolve(participants=(*series_2020.participants, foreign))
    award = award_credit(series, AttendanceRegister([attend(series, "p09", 1, 0, 60)]), "p09")
    assert award.is_physician
    assert award.points == D("1.00")
