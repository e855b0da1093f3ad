"""Every error a caller can trigger through the public functions is a BalintCmeError: a bad
argument is an InvalidArgumentError (also a ValueError), an unwritable output an
OutputWriteError (also an OSError), never a bare ValueError, TypeError or KeyError."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from balint_cme import (
    AttendanceRegister,
    BalintCmeError,
    ClaimError,
    DataFileError,
    EnrollmentError,
    OutputWriteError,
    Participant,
    Series,
    award_credit,
    build_transcript,
    enroll,
    validate_claim,
)
from balint_cme.certificates.keys import SigningKey
from balint_cme.errors import InvalidArgumentError
from balint_cme.io.series_file import save_series
from balint_cme.ledger import Ledger
from tests.conftest import ROOT, attend

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.from_regex(r"-?\d{1,4}(\.\d{1,3})?([eE][-+]?\d{1,7})?", fullmatch=True),
    st.lists(st.integers(), max_size=2),
)


def _full_attendance(series: Series) -> AttendanceRegister:
    return AttendanceRegister(attend(series, "p02", n, 0, 60) for n in range(1, 6))


def test_a_claim_of_4_8_is_an_invalid_argument_not_a_bare_value_error(series_2020: Series) -> None:
    with pytest.raises(InvalidArgumentError, match=r"multiple of 0\.25, not '4\.8'") as caught:
        validate_claim(series_2020, _full_attendance(series_2020), "p02", "4.8")
    assert isinstance(caught.value, BalintCmeError)
    assert isinstance(caught.value, ValueError)  # callers who caught ValueError still do


@given(claimed=ANY_VALUE)
def test_validate_claim_raises_only_our_errors_whatever_is_claimed(
    series_2020: Series, claimed: object
) -> None:
    register = _full_attendance(series_2020)
    try:
        award = validate_claim(series_2020, register, "p02", claimed)  # type: ignore[arg-type]
    except (InvalidArgumentError, ClaimError):
        return
    assert Decimal(str(claimed)) <= award.points


@given(participant_id=st.text(max_size=12), claimed=st.sampled_from(["0", "1.25", "5.0", "9"]))
def test_validate_claim_for_anyone_raises_only_our_errors(
    series_2020: Series, participant_id: str, claimed: str
) -> None:
    with contextlib.suppress(BalintCmeError):  # anything else fails the test
        validate_claim(series_2020, _full_attendance(series_2020), participant_id, claimed)


@given(
    from_on=st.none() | st.dates(date(2019, 1, 1), date(2022, 12, 31)),
    to_on=st.none() | st.dates(date(2019, 1, 1), date(2022, 12, 31)),
    target=ANY_VALUE,
)
def test_build_transcript_raises_only_our_errors(
    series_2020: Series, from_on: date | None, to_on: date | None, target: object
) -> None:
    history = [(series_2020, _full_attendance(series_2020))]
    try:
        transcript = build_transcript(
            "p02",
            history,
            from_on=from_on,
            to_on=to_on,
            target=target,  # type: ignore[arg-type]
        )
    except InvalidArgumentError:
        return
    assert transcript.total_points <= series_2020.credit.series_maximum


def test_a_window_that_ends_before_it_starts_is_an_invalid_argument(series_2020: Series) -> None:
    with pytest.raises(InvalidArgumentError, match="starts"):
        build_transcript(
            "p02",
            [(series_2020, _full_attendance(series_2020))],
            from_on=date(2021, 1, 1),
            to_on=date(2020, 1, 1),
        )


def test_enrolling_at_a_naive_time_is_an_invalid_argument(series_2020: Series) -> None:
    person = Participant(id="p99", name="Mira Okafor", credentials="MD")
    open_series = series_2020.evolve(registration="open", allow_late_joining=True)
    with pytest.raises(InvalidArgumentError, match="time-zone aware"):
        enroll(open_series, person, at=datetime(2020, 1, 1, 9, 0))


def test_an_unwritable_output_is_an_output_write_error_not_a_data_file_error(
    series_2020: Series, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-folder" / "series.toml"
    with pytest.raises(OutputWriteError) as caught:
        save_series(series_2020, target)
    assert not isinstance(caught.value, DataFileError)
    assert isinstance(caught.value, OSError)
    assert caught.value.path == target
    assert str(caught.value).startswith(f"{target}: cannot write")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_the_command_prints_one_line_for_an_unwritable_output(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "sessions.ics"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "balint_cme",
            "schedule",
            str(ROOT / "examples" / "ssvms-balint-2020.toml"),
            "--ics",
            str(target),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BALINT_CME_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"balint-cme: error: {target}: cannot write the calendar: No such file or directory"
    ]


@given(
    at=st.datetimes(
        min_value=datetime(2019, 1, 1),
        max_value=datetime(2022, 1, 1),
        timezones=st.one_of(st.none(), st.timezones()),
    ),
    registration=st.sampled_from(["open", "closed"]),
    late=st.booleans(),
    credentials=st.sampled_from(["MD", "NP", "MD candidate", "DO, PhD"]),
)
def test_enroll_raises_only_our_errors_at_any_time(
    series_2020: Series, at: datetime, registration: str, late: bool, credentials: str
) -> None:
    person = Participant(id="p99", name="Mira Okafor", credentials=credentials)
    chosen = series_2020.evolve(registration=registration, allow_late_joining=late)
    try:
        enrolled = enroll(chosen, person, at=at)
    except (InvalidArgumentError, EnrollmentError):
        return
    assert enrolled.participant("p99") == person


@given(participant_id=st.text(max_size=20))
def test_award_credit_for_anyone_is_an_award_never_an_exception(
    series_2020: Series, participant_id: str
) -> None:
    award = award_credit(series_2020, _full_attendance(series_2020), participant_id)
    assert award.points <= series_2020.credit.series_maximum


def test_the_ledgers_argument_checks_are_invalid_argument_errors(tmp_path: Path) -> None:
    """Ledger.open's options, an anchor and a key id are checked before anything is opened or
    written; each refusal is the library's own error (and still a ValueError)."""
    path = tmp_path / "ledger.sqlite3"
    with pytest.raises(InvalidArgumentError, match="number_prefix"):
        Ledger.open(path, number_prefix="bc-")
    with pytest.raises(InvalidArgumentError, match="retention_years"):
        Ledger.open(path, retention_years=0)
    assert not path.exists()
    with (
        Ledger.open(path) as ledger,
        pytest.raises(InvalidArgumentError, match="not a ledger anchor"),
    ):
        ledger.check_chain(anchor="12:not-a-hash")
    with pytest.raises(InvalidArgumentError, match="key id"):
        SigningKey("Not A Key Id", b"x" * 64)
    with pytest.raises(ValueError, match="signing secret"):
        SigningKey("ok", b"short")
