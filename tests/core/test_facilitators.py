"""Facilitators on the roster (issue 10.2) and the stable `leads` key (issue 10.3).

A person gets no learner credit for a session they lead, whichever way the file links them to
the roster, and cancelling or moving a session never changes who led which session.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balint_cme import AttendanceRegister, award_series
from balint_cme.certificates.content import eligible_awards
from balint_cme.errors import DataFileError
from balint_cme.io.series_file import format_series, parse_series
from balint_cme.model import Series, facilitator_links, person_name_key
from tests.conftest import attend

HEAD = """\
id = "leaders"
title = "Leaders test"
timezone = "America/Los_Angeles"
eligibility = "physicians"

[provider]
accredited = "Fresno Madera Medical Society"
accreditor = "California Medical Association (CMA)"

[credit]
per_session = "1.0"
series_maximum = "5.0"

[schedule]
first_start = 2020-09-09T18:45:00
duration_minutes = 60
rrule = "FREQ=MONTHLY;BYDAY=+2WE;COUNT=6"
"""

CANCELLED = HEAD + "cancelled = [2020-10-14]\n"

ROSTER = """
[[participants]]
id = "p01"
name = "Ana Ruiz"
credentials = "MD"
email = "ana.ruiz@example.org"

[[participants]]
id = "p07"
name = "Rochelle Frank"
credentials = "MD"
email = "Rochelle.Frank@example.org"
"""


def series_of(text: str) -> Series:
    return parse_series(text.encode(), Path("leaders.toml"))


def full_attendance(series: Series, *people: str) -> AttendanceRegister:
    return AttendanceRegister(
        attend(series, who, session.number, 0, 60)
        for who in people
        for session in series.dated_sessions
    )


# -- 10.2: a facilitator on the roster without participant_id ---------------------------------


def test_the_2023_seed_shape_gives_no_credit_for_a_session_the_facilitator_leads() -> None:
    """Two MD facilitators, one of them also on the roster without a participant_id link."""
    series = series_of(
        HEAD
        + """
[[facilitators]]
name = "Rochelle Frank"
credentials = "MD"
leads = ["2020-09-09", "2020-10-14"]

[[facilitators]]
name = "Michael GuntherMaher"
credentials = "MD"
"""
        + ROSTER
    )
    (link,) = facilitator_links(series)
    assert (link.participant_id, link.via) == ("p07", "name")
    awards = {a.participant_id: a for a in award_series(series, full_attendance(series, "p07"))}
    rochelle = awards["p07"]
    assert [s.credit for s in rochelle.sessions[:2]] == [Decimal("0.00")] * 2
    assert all(s.led for s in rochelle.sessions[:2])
    assert rochelle.points == Decimal("4.00")  # the four sessions she attended as a learner
    # certify uses the same awards: her certificate cannot list a session she led.
    (eligible,) = eligible_awards(series, awards.values())
    assert date(2020, 9, 9) not in {s.held_on for s in eligible.attended_sessions}


def test_a_facilitator_is_linked_by_email_case_folded() -> None:
    series = series_of(
        HEAD
        + """
[[facilitators]]
name = "Dr. R. Frank"
credentials = "MD"
email = "rochelle.frank@EXAMPLE.org"
"""
        + ROSTER
    )
    (link,) = facilitator_links(series)
    assert (link.participant_id, link.via) == ("p07", "email")
    assert "p07" in link.describe()
    assert "by e-mail" in link.describe()
    (award,) = [
        a for a in award_series(series, full_attendance(series, "p07")) if a.participant_id == "p07"
    ]
    assert award.points == Decimal("0.00")  # leads every session (no `leads`)


def test_an_ambiguous_facilitator_match_is_an_error() -> None:
    text = (
        HEAD
        + """
[[facilitators]]
name = "Rochelle Frank"
credentials = "MD"
"""
        + ROSTER
        + """
[[participants]]
id = "p08"
name = "Rochelle  Frank, MD"
credentials = "MD"
"""
    )
    with pytest.raises(DataFileError, match=r"several roster entries by name \(p07, p08\)"):
        series_of(text)


def test_a_participant_id_contradicted_by_the_email_is_an_error() -> None:
    text = (
        HEAD
        + """
[[facilitators]]
name = "Rochelle Frank"
credentials = "MD"
participant_id = "p01"
email = "rochelle.frank@example.org"
"""
        + ROSTER
    )
    with pytest.raises(DataFileError, match="p07's"):
        series_of(text)


def test_check_prints_one_line_per_link(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from balint_cme.cli import main

    path = tmp_path / "leaders.toml"
    path.write_text(
        HEAD + '\n[[facilitators]]\nname = "Rochelle Frank"\ncredentials = "MD"\n' + ROSTER,
        encoding="utf-8",
    )
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "facilitator Rochelle Frank is roster entry p07 (by name)" in out


@given(
    st.sampled_from(
        ["Rochelle Frank", "Dr. Rochelle Frank", "ROCHELLE FRANK, MD", "rochelle frank"]
    )
)
def test_name_key_ignores_title_case_and_degree(name: str) -> None:
    assert person_name_key(name) == person_name_key("Rochelle Frank")


# -- 10.3: a cancellation never changes who led which session ---------------------------------

LEADER = """
[[facilitators]]
name = "Rochelle Frank"
credentials = "MD"
participant_id = "p07"
"""


def test_leads_by_planned_date_survives_a_cancellation() -> None:
    before = series_of(HEAD + LEADER + 'leads = ["2020-12-09", "2021-01-13"]\n' + ROSTER)
    after = series_of(CANCELLED + LEADER + 'leads = ["2020-12-09", "2021-01-13"]\n' + ROSTER)
    for series in (before, after):
        led = {
            s.held_on
            for a in award_series(series, full_attendance(series, "p07"))
            for s in a.sessions
            if s.led
        }
        assert led == {date(2020, 12, 9), date(2021, 1, 13)}


def test_numeric_leads_are_refused_once_a_session_is_cancelled() -> None:
    text = CANCELLED + LEADER + "leads = [3, 4]\n" + ROSTER
    with pytest.raises(DataFileError, match=r'leads session 3 by number.*leads = \["2020-12-09"\]'):
        series_of(text)


def test_numeric_leads_still_work_without_cancellations() -> None:
    series = series_of(HEAD + LEADER + "leads = [3, 4]\n" + ROSTER)
    (leader,) = series.facilitators
    assert series.led_sessions(leader) == {3, 4}


def test_a_moved_session_is_led_by_its_planned_date_or_its_new_date() -> None:
    moved = HEAD + "[[schedule.moved]]\nplanned_on = 2020-11-11\nstart = 2020-11-18T18:45:00\n"
    for key in ("2020-11-11", "2020-11-18"):
        series = series_of(moved + LEADER + f'leads = ["{key}"]\n' + ROSTER)
        assert series.led_sessions(series.facilitators[0]) == {3}


def test_a_leads_date_that_is_no_session_is_refused() -> None:
    with pytest.raises(DataFileError, match="no session is planned on that date"):
        series_of(HEAD + LEADER + 'leads = ["2020-12-10"]\n' + ROSTER)


@pytest.mark.parametrize("as_json", [False, True])
def test_leads_by_date_round_trips_through_the_file(as_json: bool) -> None:
    series = series_of(CANCELLED + LEADER + 'leads = ["2020-12-09", 2021-01-13]\n' + ROSTER)
    data = format_series(series, as_json=as_json)
    again = parse_series(data, Path("again.json" if as_json else "again.toml"))
    assert again == series
    assert again.facilitators[0].leads == (date(2020, 12, 9), date(2021, 1, 13))
