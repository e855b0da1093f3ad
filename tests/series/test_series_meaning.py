"""Series files that must not mean something else (issue 10, items 7-12): session ends across
daylight saving, the credit name, hour-for-hour designation, credentials with qualifiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar
from pydantic import ValidationError

from balint_cme import Series
from balint_cme.certificates.content import designation_statement
from balint_cme.certificates.formatting import credit_phrase
from balint_cme.cli import main
from balint_cme.credit_rounding import quarter_hours
from balint_cme.errors import DataFileError
from balint_cme.io.ics import format_ics
from balint_cme.io.series_file import load_series, save_series
from balint_cme.model import Session
from tests.certificate_helpers import certificate_for

STAMP = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

HEADER = """
id = "dst-series"
title = "Night Balint Group"
timezone = "America/Los_Angeles"

[provider]
accredited = "Example Medical Society"
accreditor = "ACCME"

[credit]
type = "{credit_type}"
per_session = "{per_session}"
series_maximum = "{maximum}"
"""


def write_series(
    tmp_path: Path,
    body: str,
    *,
    credit_type: str = "AMA PRA Category 1 Credit",
    per_session: str = "1.0",
    maximum: str = "1.0",
) -> Path:
    path = tmp_path / "series.toml"
    head = HEADER.format(credit_type=credit_type, per_session=per_session, maximum=maximum)
    path.write_text(head + body, encoding="utf-8")
    return path


# On 7 November 2021 Los Angeles clocks fell back at 2:00 PDT to 1:00 PST: a 60-minute session
# starting 1:30 AM PDT ends at 1:30 AM PST, one elapsed hour later (not 2:30 AM PST).
ACROSS_FALL_BACK = """
[[sessions]]
start = 2021-11-07T01:30:00
duration_minutes = 60
"""


def test_ics_event_across_a_dst_change_lasts_the_session_length(tmp_path: Path) -> None:
    series = load_series(write_series(tmp_path, ACROSS_FALL_BACK))
    (event,) = Calendar.from_ical(format_ics(series, generated_at=STAMP)).walk("VEVENT")
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=60)
    ends_at = series.sessions[0].ends_at
    assert ends_at is not None
    assert end.timestamp() == ends_at.timestamp()


def test_schedule_across_a_dst_change_prints_the_elapsed_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_series(tmp_path, ACROSS_FALL_BACK)
    assert main(["schedule", str(path)]) == 0
    out = capsys.readouterr().out
    assert "01:30 AM - 01:30 AM PST" in out


# -- item 9: every spelling of the AMA credit name prints the template's exact forms ----------

SPELLINGS = [
    f"AMA PRA Category 1 {word}{mark}"
    for word in ("Credit", "Credits", "Credit(s)")
    for mark in ("", "™", " ™")
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_of_the_ama_credit_prints_the_template(
    tmp_path: Path, spelling: str
) -> None:
    body = "[[sessions]]\nstart = 2021-03-10T18:45:00\nduration_minutes = 60\n"
    series = load_series(write_series(tmp_path, body, credit_type=spelling))
    assert series.credit.type == "AMA PRA Category 1 Credit"
    assert designation_statement(series).endswith(
        "for a maximum of 1.0 AMA PRA Category 1 Credit(s)™. Physicians should claim only the "
        "credit commensurate with the extent of their participation in the activity."
    )
    assert credit_phrase(spelling, plural=None) == "AMA PRA Category 1 Credit(s)™"
    assert credit_phrase(spelling, plural=True) == "AMA PRA Category 1 Credits™"
    assert credit_phrase(spelling, plural=False) == "AMA PRA Category 1 Credit™"


@pytest.mark.parametrize(("credits", "line"), [("1.00", "Credit™"), ("0.75", "Credits™")])
def test_award_line_is_singular_for_exactly_one(
    series_2020: Series, credits: str, line: str
) -> None:
    seed = series_2020.evolve(
        credit=series_2020.credit.evolve(type="AMA PRA Category 1 Credit(s)™")
    )
    certificate = certificate_for(seed, "p02").evolve(credits=Decimal(credits))
    assert certificate.credit_phrase_awarded == f"AMA PRA Category 1 {line}"
    assert "(s)(s)" not in certificate.designation_statement


@pytest.mark.parametrize(
    "credit_type", ["CME Credit", "AMA PRA Category 2 Credit", "AMA PRA Category 1 Creditss"]
)
def test_any_other_credit_name_is_refused_with_the_accepted_forms(
    tmp_path: Path, credit_type: str
) -> None:
    body = "[[sessions]]\nstart = 2021-03-10T18:45:00\n"
    with pytest.raises(DataFileError) as caught:
        load_series(write_series(tmp_path, body, credit_type=credit_type))
    message = str(caught.value)
    assert "series.toml line 11: credit.type" in message
    assert "AMA PRA Category 1 Credit, AMA PRA Category 1 Credits, " in message
    assert "AMA PRA Category 1 Credit(s) (with or without ™)" in message


def test_check_prints_the_designated_phrase_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "[[sessions]]\nstart = 2021-03-10T18:45:00\n"
    path = write_series(tmp_path, body, credit_type="AMA PRA Category 1 Credit(s)™")
    assert main(["check", str(path)]) == 0
    assert "maximum 1.00 AMA PRA Category 1 Credit(s)™" in capsys.readouterr().out


# -- item 10: live credit is hour-for-hour -----------------------------------------------------


def test_session_designated_more_than_its_length_is_refused_naming_it(tmp_path: Path) -> None:
    body = (
        '[[sessions]]\nstart = 2021-03-10T18:45:00\nduration_minutes = 60\ncredit = "1.0"\n\n'
        '[[sessions]]\nstart = 2021-04-14T18:45:00\nduration_minutes = 60\ncredit = "2.0"\n'
    )
    with pytest.raises(DataFileError, match=r"session 2 is designated 2\.00 credit.*at most 1\.00"):
        load_series(write_series(tmp_path, body, maximum="3.0"))


def test_per_session_credit_above_a_recurrence_length_is_refused(tmp_path: Path) -> None:
    body = (
        "[schedule]\nfirst_start = 2021-03-10T18:45:00\nduration_minutes = 45\n"
        'rrule = "FREQ=MONTHLY;COUNT=2"\n'
    )
    with pytest.raises(DataFileError, match=r"session 1 .* 45 minutes allow at most 0\.75"):
        load_series(write_series(tmp_path, body))


@given(st.integers(1, 600), st.integers(1, 48))
def test_a_session_accepts_exactly_the_credit_its_length_allows(
    minutes: int, quarters: int
) -> None:
    credit = Decimal("0.25") * quarters
    allowed = credit <= quarter_hours(minutes * 60)
    try:
        Session(number=1, starts_at=None, duration_minutes=minutes, credit=credit)
    except ValidationError:
        assert not allowed
    else:
        assert allowed
        # and a full attender of the session earns its whole designation
        assert quarter_hours(minutes * 60) >= credit


def test_a_start_in_the_repeated_hour_survives_save_and_load(tmp_path: Path) -> None:
    # 1:30 AM PST on 7 November 2021 (the second 1:30): saved with its offset, not as the
    # local time that would reload as 1:30 AM PDT, an hour earlier.
    series = load_series(write_series(tmp_path, ACROSS_FALL_BACK))
    later = datetime(2021, 11, 7, 9, 30, tzinfo=UTC).astimezone(series.zone)
    assert later.fold == 1
    moved = series.evolve(sessions=(series.sessions[0].evolve(starts_at=later),))
    for suffix in (".toml", ".json"):
        path = tmp_path / f"saved{suffix}"
        save_series(moved, path)
        starts_at = load_series(path).sessions[0].starts_at
        assert starts_at is not None
        assert starts_at.timestamp() == later.timestamp()
