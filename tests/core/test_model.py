"""Domain records: invariants on construction, enrollment rules, value types."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from balint_cme import CreditPolicy, EnrollmentError, Participant, Series, enroll
from balint_cme.model import CreditDesignation

LA = ZoneInfo("America/Los_Angeles")


def test_credit_must_be_a_quarter_multiple() -> None:
    with pytest.raises(ValidationError, match=r"not a multiple of 0\.25"):
        CreditDesignation(per_session="0.3", series_maximum="1.0")


@pytest.mark.parametrize("given", ["1.0", 1, 1.0, Decimal("1")])
def test_credit_accepts_strings_and_numbers(given: object) -> None:
    designation = CreditDesignation(per_session=given, series_maximum="5")
    assert designation.per_session == Decimal("1.00")
    assert designation.model_dump(mode="json")["per_session"] == "1.00"


def test_models_are_frozen_and_reject_unknown_fields() -> None:
    person = Participant(id="p01", name="Ana Ruiz", credentials="MD")
    with pytest.raises(ValidationError):
        person.name = "Other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="case_notes"):
        Participant(id="p01", name="Ana Ruiz", credentials="MD", case_notes="x")  # type: ignore[call-arg]


def test_no_field_anywhere_for_case_content() -> None:
    from balint_cme.model import Facilitator, Session

    forbidden = ("case", "patient", "recording", "notes")
    for model in (Series, Session, Participant, Facilitator):
        assert not [f for f in model.model_fields if any(word in f for word in forbidden)]


@pytest.mark.parametrize(
    ("credentials", "is_physician"),
    [
        ("MD", True),
        ("D.O.", True),
        ("MBBS", True),
        ("MD, PhD", True),
        ("MFT", False),
        ("NP", False),
        ("PhD", False),
        ("MD candidate", False),
        ("DO (student)", False),
        # issue 10 item 8: a qualifier applies only to the degree it follows
        ("MD, PhD candidate", True),
        ("MD (PhD candidate)", True),
        ("MD, MPH (expected 2025)", True),
        ("PhD candidate, MD", True),
        ("M.D., Ph.D. cand.", True),
        ("MD (expected 2025)", False),
        ("MD(c)", False),
        ("MD/PhD candidate", False),
        ("expected MD", False),
        ("DO, MPH candidate", True),
    ],
)
def test_physician_is_decided_by_policy_credentials(credentials: str, is_physician: bool) -> None:
    person = Participant(id="p01", name="A B", credentials=credentials)
    assert CreditPolicy().is_physician(person) is is_physician


def test_birth_date_must_exist() -> None:
    with pytest.raises(ValidationError, match="2/30 does not exist"):
        Participant(id="p01", name="A B", credentials="MD", birth_month=2, birth_day=30)


def test_physicians_only_series_refuses_a_non_physician_roster(series_2023: Series) -> None:
    with pytest.raises(
        ValidationError,
        match=r"Grace Lindqvist \(p05, NP\) cannot enroll: this series is for physicians only",
    ):
        series_2023.evolve(
            participants=(
                *series_2023.participants,
                Participant(id="p05", name="Grace Lindqvist", credentials="NP"),
            )
        )


def test_enroll_refuses_non_physician_naming_person_and_rule(series_2023: Series) -> None:
    mft = Participant(id="p05", name="Lena Ortiz", credentials="MFT")
    with pytest.raises(
        EnrollmentError, match=r"Lena Ortiz \(p05, MFT\) cannot enroll .* physicians only"
    ):
        enroll(series_2023.evolve(registration="open"), mft, at=datetime(2023, 1, 1, tzinfo=LA))


def test_closed_registration_refuses_enrollment(series_2020: Series) -> None:
    newcomer = Participant(id="p09", name="Ines Sousa", credentials="MD")
    with pytest.raises(EnrollmentError, match="registration is closed"):
        enroll(series_2020, newcomer, at=datetime(2020, 1, 1, tzinfo=LA))


def test_roster_closes_when_first_session_starts(series_2020: Series) -> None:
    newcomer = Participant(id="p09", name="Ines Sousa", credentials="MD")
    open_series = series_2020.evolve(registration="open")
    first = open_series.first_start
    assert first is not None
    before = enroll(open_series, newcomer, at=first - timedelta(minutes=1))
    assert before.participant("p09") == newcomer
    with pytest.raises(EnrollmentError, match="roster closed when the first session started"):
        enroll(open_series, newcomer, at=first)
    late = open_series.evolve(allow_late_joining=True)
    assert enroll(late, newcomer, at=first + timedelta(days=40)).participant("p09") == newcomer


def test_enrolling_twice_is_refused(series_2020: Series) -> None:
    person = series_2020.participants[0]
    with pytest.raises(EnrollmentError, match="already enrolled"):
        enroll(series_2020.evolve(registration="open"), person, at=datetime(2020, 1, 1, tzinfo=LA))


def test_sessions_out_of_order_are_refused(series_2020: Series) -> None:
    reversed_sessions = tuple(
        s.evolve(number=i) for i, s in enumerate(reversed(series_2020.sessions), start=1)
    )
    with pytest.raises(ValidationError, match="date order"):
        series_2020.evolve(sessions=reversed_sessions)


def test_series_maximum_cannot_exceed_designated_sessions(series_2020: Series) -> None:
    with pytest.raises(ValidationError, match="exceeds the sum"):
        series_2020.evolve(credit=series_2020.credit.evolve(series_maximum="6.0"))


def test_unknown_time_zone_is_refused(series_2020: Series) -> None:
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        series_2020.evolve(timezone="Pacific/Atlantis")


def test_duplicate_roster_ids_are_refused(series_2020: Series) -> None:
    with pytest.raises(ValidationError, match="appears twice"):
        series_2020.evolve(participants=(*series_2020.participants, series_2020.participants[0]))


def test_local_dates_use_series_zone(series_2020: Series) -> None:
    # 18:45 PDT on 9 September is already 10 September in UTC.
    session = series_2020.sessions[0]
    assert session.starts_at is not None
    assert session.starts_at.astimezone(ZoneInfo("UTC")).day == 10
    assert series_2020.held_on(session) is not None
    assert str(series_2020.held_on(session)) == "2020-09-09"
    assert series_2020.last_session_on is not None
    assert str(series_2020.last_session_on) == "2021-01-13"


def test_session_end_is_elapsed_time_across_a_dst_change() -> None:
    from balint_cme import Session

    # 1:30 AM PDT on the night clocks fall back: 60 minutes later is 1:30 AM PST.
    start = datetime(2020, 11, 1, 1, 30, tzinfo=LA)
    session = Session(number=1, starts_at=start, duration_minutes=60, credit="1.0")
    assert session.ends_at is not None
    assert (session.ends_at.timestamp() - start.timestamp()) == 3600


_DEGREES = ("MD", "DO", "MBBS", "M.D.", "D.O.")
_OTHERS = ("PhD", "MPH", "MS", "MBA", "MA")
_QUALIFIERS = ("candidate", "student", "(expected 2025)", "(c)", "(candidate)", "cand.")


@given(
    st.sampled_from(_DEGREES),
    st.sampled_from(_OTHERS),
    st.sampled_from(_QUALIFIERS),
    st.sampled_from([", ", " ", "; "]),
)
def test_a_qualifier_applies_only_to_the_degree_it_follows(
    degree: str, other: str, qualifier: str, separator: str
) -> None:
    policy = CreditPolicy()

    def physician(credentials: str) -> bool:
        return policy.is_physician(Participant(id="p01", name="A B", credentials=credentials))

    assert physician(f"{degree}{separator}{other} {qualifier}")
    assert physician(f"{degree} ({other} {qualifier})")
    assert physician(f"{other} {qualifier}{separator}{degree}")
    assert not physician(f"{degree} {qualifier}")
    assert not physician(f"{other}{separator}{degree} {qualifier}")
    assert not physician(f"{other} {qualifier}")
