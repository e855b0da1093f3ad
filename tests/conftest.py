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


# End-to-end modules that drive the real command, ledger and renderer for every test: they run
# in `make test` and CI, and `scripts/check --fast` (which deselects "slow") leaves them out so
# the quick loop stays under a minute on two cores. Their subjects keep fast unit and
# integration tests of their own.
_END_TO_END_MODULES = frozenset(
    {
        "test_cli.py",
        "test_coordinator_day.py",
        "test_evidence_bounds.py",
        "test_fonts.py",
        "test_hardening_certify.py",
        "test_hardening_cli.py",
        "test_hardening_keys.py",
        "test_hardening_fuzz.py",
        "test_hardening_misuse.py",
        "test_identity.py",
        "test_json_outputs.py",
        "test_key_files.py",
        "test_ledger_concurrency.py",
        "test_ledger_trust.py",
        "test_one_answer.py",
        "test_pdfa.py",
        "test_shaping.py",
        "test_signing_cli.py",
        "test_signing_web.py",
        "test_web.py",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of the end-to-end modules "slow" (see _END_TO_END_MODULES)."""
    for item in items:
        if item.path.name in _END_TO_END_MODULES:
            item.add_marker(pytest.mark.slow)
