"""Shared builders (a small realistic series) and the hypothesis profiles.

HYPOTHESIS_PROFILE picks the profile: "dev" (fast, the default) or "ci" (derandomized).
"""

from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from balint_cme import AttendanceRecord, AttendanceRegister, Series
from balint_cme.io.series_file import load_series

settings.register_profile(
    "dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def series_2020() -> Series:
    """The README's 2020 series: five monthly sessions, 1.0 each, 5.0 maximum."""
    return load_series(EXAMPLES / "ssvms-balint-2020.toml")


@pytest.fixture(scope="session")
def series_2023() -> Series:
    """The 2023 series: four planned sessions, dates TBD, physicians only."""
    return load_series(EXAMPLES / "ssvms-balint-2023.toml")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ledger and key (mode 0600) under `tmp_path`, so no test touches the user's real
    ones; the command reads them from the environment (see `tests.command_helpers.isolate`)."""
    from tests.command_helpers import isolate  # it imports this module's paths

    return isolate(tmp_path, monkeypatch)


def attend(
    series: Series, participant_id: str, session: int, start_minute: float, end_minute: float
) -> AttendanceRecord:
    """A record from minutes relative to the session's start (negative = before it)."""
    return AttendanceRecord.in_session(
        series.sessions[session - 1], participant_id, start_minute, end_minute
    )


def register_of(*records: AttendanceRecord) -> AttendanceRegister:
    """A register of the given records."""
    return AttendanceRegister(records)


def local(series: Series, text: str) -> datetime:
    """An aware datetime from 'YYYY-MM-DD HH:MM' in the series zone."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=series.zone)


D = Decimal


# Slow tests: `scripts/check --fast` deselects the "slow" marker so the quick loop stays under a
# minute on two cores; `make test` and CI run everything. A module whose every test drives the
# real command, ledger or renderer end to end says so itself, after its imports:
#     pytestmark = pytest.mark.slow
# (so the mark moves with the file); a single slow test carries @pytest.mark.slow.
