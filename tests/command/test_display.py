"""Terminal columns: names of any script line up, credentials are never cut."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from balint_cme import AttendanceRegister, Participant, Series, award_series
from balint_cme.display import display_width, pad
from balint_cme.io.reports import AttendanceReading
from balint_cme.workflow import format_credits_table
from tests.conftest import attend


def test_wide_and_combining_characters_are_measured_as_drawn() -> None:
    assert display_width("王小明") == 6
    assert display_width("Nguye\u0302\u0303n") == 6  # combining marks take no column
    assert display_width("Zoë") == 3


@given(st.text(max_size=20), st.integers(min_value=0, max_value=40))
def test_padding_reaches_the_width_and_never_cuts(text: str, width: int) -> None:
    padded = pad(text, width)
    assert padded.startswith(text)
    assert display_width(padded) == max(width, display_width(text))
    assert pad(text, width, ">").endswith(text)


def test_credits_table_columns_line_up_with_a_cjk_name_and_long_credentials(
    series_2020: Series,
) -> None:
    series = series_2020.evolve(
        participants=(
            *series_2020.participants,
            Participant(id="p90", name="王小明", credentials="MD, PhD"),
        )
    )
    register = AttendanceRegister(
        [attend(series, "p90", 1, 0, 60), attend(series, "p01", 1, 0, 60)]
    )
    reading = AttendanceReading(records=tuple(register), unmatched=(), notes=(), sources=())
    table = format_credits_table(series, award_series(series, register), reading)
    rows = [
        line for line in table.splitlines() if line.startswith(("王小明", "Ana Ruiz", "person"))
    ]
    assert len(rows) == 3
    assert "MD, PhD" in rows[1] or "MD, PhD" in rows[2]
    # Every row is as wide on screen as the header: the credit and hours columns line up.
    assert {display_width(row) for row in rows} == {display_width(rows[0])}
