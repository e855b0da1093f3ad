"""Follow-up of members' commitment to every session: who missed which held session."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balint_cme import AttendanceRegister, Series, award_series
from balint_cme.cli import main
from balint_cme.commitment import plan_follow_ups
from tests.conftest import EXAMPLES, attend


def test_missed_and_partial_sessions_are_listed_and_unreported_ones_are_not(
    series_2020: Series,
) -> None:
    register = AttendanceRegister(
        [
            attend(series_2020, "p01", 1, 0, 60),
            attend(series_2020, "p01", 2, 0, 41),
            attend(series_2020, "p02", 1, -5, 65),
            attend(series_2020, "p02", 2, 0, 60),
        ]
    )
    awards = award_series(series_2020, register)
    follow_ups = {f.participant_id: f for f in plan_follow_ups(series_2020, awards, {1, 2})}
    assert "p02" not in follow_ups  # attended both held sessions in full
    ana = follow_ups["p01"]
    assert [(a.session, a.status, a.attended_seconds) for a in ana.absences] == [
        (2, "partial", 41 * 60)
    ]
    assert ana.email == "ana.ruiz@example.org"
    grace = follow_ups["p03"]
    assert [a.status for a in grace.absences] == ["missed", "missed"]
    assert grace.missed == grace.absences


def test_a_session_a_person_leads_is_never_an_absence(series_2020: Series) -> None:
    # Rochelle Frank (f01) is on the roster and leads every session of the 2020 series.
    awards = award_series(series_2020, AttendanceRegister([]))
    absent = {f.participant_id for f in plan_follow_ups(series_2020, awards, {1, 2, 3, 4, 5})}
    assert "f01" not in absent
    assert {"p01", "p02", "p03"} <= absent


@given(
    held=st.sets(st.integers(min_value=1, max_value=5)),
    stays=st.dictionaries(
        st.tuples(st.sampled_from(["p01", "p02", "p03"]), st.integers(min_value=1, max_value=5)),
        st.tuples(st.integers(min_value=-10, max_value=70), st.integers(min_value=0, max_value=80)),
    ),
)
def test_absences_are_only_in_held_sessions_and_never_for_a_full_stay(
    series_2020: Series,
    held: set[int],
    stays: dict[tuple[str, int], tuple[int, int]],
) -> None:
    records = [
        attend(series_2020, who, session, start, start + length)
        for (who, session), (start, length) in stays.items()
        if length > 0
    ]
    awards = award_series(series_2020, AttendanceRegister(records))
    for follow_up in plan_follow_ups(series_2020, awards, held):
        for absence in follow_up.absences:
            assert absence.session in held
            assert absence.attended_seconds < absence.session_seconds
            start, length = stays.get((follow_up.participant_id, absence.session), (0, 0))
            assert not (start <= 0 and start + length >= 60)


def test_commitments_command_lists_follow_ups_and_unreported_sessions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reports = [str(EXAMPLES / "reports" / f"zoom-session-{n}.csv") for n in (1, 2)]
    series_file = str(EXAMPLES / "ssvms-balint-2020.toml")
    assert main(["commitments", series_file, "--attendance", *reports]) == 0
    text = capsys.readouterr().out
    assert "members commit to every session" in text
    assert "no report yet for session(s) 3, 4, 5" in text
    assert "Grace Lindqvist <grace.lindqvist@example.org>: #1 2020-09-09 missed" in text
    assert main(["commitments", series_file, "--attendance", *reports, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["sessions_without_report"] == [3, 4, 5]
    assert document["sessions_with_attendance"] == [1, 2]
    ana = next(f for f in document["follow_ups"] if f["participant_id"] == "p01")
    assert ana["absences"][0] == {
        "session": 1,
        "held_on": "2020-09-09",
        "status": "partial",
        "attended_seconds": ana["absences"][0]["attended_seconds"],
        "session_seconds": 3600,
    }
    assert 52 * 60 <= ana["absences"][0]["attended_seconds"] < 53 * 60


def test_commitments_needs_attendance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["commitments", str(EXAMPLES / "ssvms-balint-2020.toml")])
    assert exit_info.value.code == 2
    assert "--attendance" in capsys.readouterr().err
