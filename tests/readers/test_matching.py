"""Roster matching and the text rules under it: names, renames, timestamps. No files."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balint_cme import CreditDesignation, Facilitator, Participant, Provider, Series, Session
from balint_cme.io.reports import RosterMatch, RosterMatcher, normalise_name
from balint_cme.io.teams import parse_teams_duration
from balint_cme.io.timestamps import parse_clock_time, parse_minutes, parse_timestamp
from balint_cme.io.zoom import split_display_name


def _series() -> Series:
    return Series(
        id="matching",
        title="Matching",
        timezone="America/Los_Angeles",
        provider=Provider(accredited="Example Medical Society", accreditor="ACCME"),
        credit=CreditDesignation(per_session="1.0", series_maximum="1.0"),
        sessions=(
            Session(
                number=1,
                starts_at=datetime(2025, 1, 9, 2, 45, tzinfo=UTC),
                duration_minutes=60,
                credit="1.0",
            ),
        ),
        facilitators=(
            Facilitator(name="Rochelle Frank", credentials="MD", participant_id="f01"),
            Facilitator(name="Marissa Pierce", credentials="MFT"),
        ),
        participants=(
            Participant(id="p01", name="Ana Ruiz", credentials="MD", email="Ana.Ruiz@example.org"),
            Participant(
                id="p02", name="Zoë Ångström", credentials="DO", aliases=("Zoe A", "zoe@ex.net")
            ),
            Participant(id="p03", name="José Núñez", credentials="MD"),
            Participant(id="p04", name="Nguyễn Thị Minh Anh", credentials="MD"),
            Participant(id="p05", name="王秀英", credentials="MD", aliases=("Wang Xiuying",)),
            Participant(id="p06", name="Tomasz Wiśniewski", credentials="MD"),
            Participant(id="p08", name="Chris Lee", credentials="MD", email="chris@ex.org"),
            Participant(id="p09", name="Chris Lee", credentials="DO"),
            Participant(id="p10", name="Sam Ortiz", credentials="MD", aliases=("+1 916 555 0134",)),
            Participant(id="f01", name="Rochelle Frank", credentials="MD"),
        ),
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("José Núñez", "jose nunez"),
        ("Núñez, José", "José Núñez"),
        ("Dr. José Núñez, MD", "José Núñez"),
        ("Dr José Núñez M.D.", "José Núñez"),
        ("Núñez, José, MD, PhD", "José Núñez"),
        ("JOSÉ NÚÑEZ", "josé núñez"),
        ("José Núñez (External)", "José Núñez"),
        ("José Núñez (Unverified)", "José Núñez"),
        ("José Núñez (Guest)", "José Núñez"),
        ("Priya Raghunathan (she/her)", "Priya Raghunathan"),
        ("Ana Ruiz (iPad)", "Ana Ruiz"),
        ("Ana Ruiz (iPhone) (she/her)", "Ana Ruiz"),
        ("Zoë Ångström", "Zoe Angstrom"),
        ("Tomasz Wiśniewski", "Tomasz Wisniewski"),
        ("Nguyễn Thị Minh Anh", "Nguyen Thi Minh Anh"),
        ("王 秀英", "王秀英"),
        ("O'Brien, Siobhán", "Siobhan OBrien"),
        ("Mary-Jo  Smith", "mary jo smith"),
        ("Smith, Jr.", "Smith Jr"),
        ("+1 (916) 555-0134", "916.555.0134"),
        ("\uff21\uff2e\uff21\u3000\uff32\uff35\uff29\uff3a", "Ana Ruiz"),  # full-width
    ],
)
def test_normalised_names_match_when_spellings_differ(left: str, right: str) -> None:
    assert normalise_name(left) == normalise_name(right)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Chris Lee", "Chris Leigh"),
        ("Ana Ruiz", "Ana Ruiz Soto"),
        ("916 555 0134", "916 555 0135"),
        ("Do Van Minh", "Van Minh"),  # "Do" the family name is not the credential "DO"
    ],
)
def test_normalised_names_differ_for_different_people(left: str, right: str) -> None:
    assert normalise_name(left) != normalise_name(right)


def test_an_upper_case_credential_after_two_words_is_dropped() -> None:
    # Documented limitation: "Nguyen Van DO" reads as "Nguyen Van", DO.
    assert normalise_name("Nguyen Van DO") == normalise_name("Nguyen Van")
    assert normalise_name("Nguyen DO") != normalise_name("Nguyen")


def test_phone_numbers_normalise_to_digits() -> None:
    assert normalise_name("+1 916-555-0134") == "tel:9165550134"
    assert normalise_name("19165550134") == "tel:9165550134"


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéñåøüł", min_size=2, max_size=10).filter(
    lambda w: (
        w.upper().replace("Ł", "L") not in {"MD", "DO", "MA", "MS", "PA", "NP", "RN", "JR", "SR"}
        and w not in {"dr", "ii", "iv"}
    )
)


@given(first=_WORD, last=_WORD)
def test_last_first_order_and_case_never_change_the_key(first: str, last: str) -> None:
    key = normalise_name(f"{first} {last}")
    assert normalise_name(f"{last}, {first}") == key
    assert normalise_name(f"{first.upper()} {last.title()}") == key
    assert normalise_name(f"Dr. {first} {last}, MD") == key


@given(name=st.text(max_size=200))
def test_normalising_any_text_is_stable(name: str) -> None:
    key = normalise_name(name)
    assert normalise_name(key) == key or key.startswith("tel:")


@pytest.mark.parametrize(
    ("cell", "current", "original"),
    [
        ("Ana Ruiz", "Ana Ruiz", None),
        ("Dr. Ana (Ana Ruiz)", "Dr. Ana", "Ana Ruiz"),
        ("Priya Raghunathan (she/her)", "Priya Raghunathan (she/her)", None),
        ("Priya (she/they)", "Priya (she/they)", None),
        ("Ana Ruiz (iPad)", "Ana Ruiz (iPad)", None),
        ("Ana Ruiz (Ana's iPhone)", "Ana Ruiz (Ana's iPhone)", None),
        ("José Núñez (External)", "José Núñez (External)", None),
        ("Tomasz Wiśniewski (19165550134)", "Tomasz Wiśniewski", "19165550134"),
        ("Tomasz (Tomasz (Work))", "Tomasz", "Tomasz (Work)"),
        ("(Ana Ruiz)", "(Ana Ruiz)", None),
        ("Ana Ruiz (", "Ana Ruiz (", None),
    ],
)
def test_zoom_renames_are_told_from_names_with_parentheses(
    cell: str, current: str, original: str | None
) -> None:
    assert split_display_name(cell) == (current, original)


@pytest.fixture(scope="module")
def matcher() -> RosterMatcher:
    return RosterMatcher(_series())


@pytest.mark.parametrize(
    ("name", "email", "original", "expected"),
    [
        ("Somebody", "ANA.RUIZ@EXAMPLE.ORG", None, RosterMatch("p01", via="email")),
        ("Chris Lee", "chris@ex.org", None, RosterMatch("p08", via="email")),
        ("", "zoe@ex.net", None, RosterMatch("p02", via="email")),  # an alias that is an e-mail
        ("Zoe A", None, None, RosterMatch("p02", via="alias")),
        ("Wang Xiuying (iPhone)", None, None, RosterMatch("p05", via="alias")),
        ("Dr. Zoë Ångström", "unknown@ex.org", None, RosterMatch("p02", via="name")),
        ("Ana (clinic laptop)", None, None, RosterMatch(None, reason="no roster match")),
        ("Ana Ruiz (Sacramento)", None, None, RosterMatch("p01", via="name without parentheses")),
        ("Minh Anh Nguyen Thi", None, None, RosterMatch("p04", via="name in any word order")),
        ("iPhone", None, "Tomasz Wiśniewski", RosterMatch("p06", via="name")),
        ("916.555.0134", None, None, RosterMatch("p10", via="alias")),
        ("Chris Lee", None, None, RosterMatch(None, reason="ambiguous: p08, p09", via="name")),
        (
            "Ana Ruiz",
            None,
            "José Núñez",
            RosterMatch(None, reason="ambiguous: p01, p03", via="name"),
        ),
        ("Marissa Pierce", None, None, RosterMatch(None, facilitator="Marissa Pierce", via="name")),
        ("Rochelle Frank", None, None, RosterMatch("f01", via="name")),
        ("Guest", None, None, RosterMatch(None, reason="no roster match")),
    ],
)
def test_matcher_prefers_email_then_aliases_then_names_and_never_guesses(
    matcher: RosterMatcher,
    name: str,
    email: str | None,
    original: str | None,
    expected: RosterMatch,
) -> None:
    assert matcher.match(name, email=email, original_name=original) == expected


def test_matcher_takes_a_sign_in_participant_id_only_if_on_the_roster(
    matcher: RosterMatcher,
) -> None:
    assert matcher.match("", participant_id="p03") == RosterMatch("p03", via="participant_id")
    assert matcher.match("Ana Ruiz", participant_id="p99").reason == "no roster participant 'p99'"


@pytest.mark.parametrize(
    ("text", "month_first", "day_first"),
    [
        ("09/09/2020 06:44:01 PM", "2020-09-09 18:44:01", "2020-09-09 18:44:01"),
        ("10/12/2022 06:38:40 PM", "2022-10-12 18:38:40", "2022-12-10 18:38:40"),
        ("13/10/2020 18:44", None, "2020-10-13 18:44:00"),
        ("6/20/24, 6:56:12 PM", "2024-06-20 18:56:12", None),
        ("20.06.2024, 18:56:12", None, "2024-06-20 18:56:12"),
        ("Feb 12, 2025 06:39:55 PM", "2025-02-12 18:39:55", "2025-02-12 18:39:55"),
        ("12 February 2025 18:39", "2025-02-12 18:39:00", "2025-02-12 18:39:00"),
        ("2020-09-09 18:44:01", "2020-09-09 18:44:01", "2020-09-09 18:44:01"),
        ("9/9/2020 6:44 p.m.", "2020-09-09 18:44:00", "2020-09-09 18:44:00"),
    ],
)
def test_timestamps_are_read_in_every_order_their_shape_allows(
    text: str, month_first: str | None, day_first: str | None
) -> None:
    parsed = parse_timestamp(text)
    assert parsed is not None
    shown = [None if v is None else f"{v:%Y-%m-%d %H:%M:%S}" for v in parsed]
    assert shown == [month_first, day_first]


def test_iso_times_with_an_offset_stay_aware() -> None:
    parsed = parse_timestamp("2020-11-12T02:43:10Z")
    assert parsed is not None
    assert parsed.month_first == datetime(2020, 11, 12, 2, 43, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "13/45/2021 07:10 PM",
        "09/09/2020 13:44:01 PM",
        "09/09/1899 06:44:01 PM",
        "yesterday",
        "2020-02-30 18:00",
        "",
        "09/09/2020",
    ],
)
def test_impossible_timestamps_are_not_dates(text: str) -> None:
    assert parse_timestamp(text) is None


def test_small_values_parse_exactly() -> None:
    assert parse_clock_time("6:45 PM") == datetime(2000, 1, 1, 18, 45).time()
    assert parse_clock_time("25:00") is None
    assert parse_minutes("52.5") == 3150
    assert parse_minutes("NaN") is None
    assert parse_teams_duration("1h 28s") == 3628
    assert parse_teams_duration("52m 3s") == 3123
    assert parse_teams_duration("") is None
