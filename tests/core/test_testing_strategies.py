"""balint_cme.testing draws only valid values and covers every feature (issue 10, item 16).

Coverage is measured over a few hundred draws with derandomized settings, so the result is the
same on every run and machine (no flakiness, no dependence on speed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.strategies import SearchStrategy

from balint_cme import Recurrence, Series, plan_session_dates
from balint_cme.testing import TIME_ZONES, recurrences, series

T = TypeVar("T")
DRAWS = 300
_MEASURE = settings(
    max_examples=DRAWS,
    derandomize=True,
    database=None,
    phases=[Phase.generate],
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def _measure(strategy: SearchStrategy[T], features: Callable[[T], set[str]]) -> Counter[str]:
    seen: Counter[str] = Counter()

    @_MEASURE
    @given(strategy)
    def draw(value: T) -> None:
        seen.update(features(value))

    draw()
    return seen


def _recurrence_features(recurrence: Recurrence) -> set[str]:
    # Valid: gives at least one session in every zone the strategies use.
    for zone in TIME_ZONES:
        assert plan_session_dates(recurrence, zone)
    rule = recurrence.rrule
    found = {part.split("=")[1] for part in rule.split(";") if part.startswith("FREQ=")}
    if "COUNT=" in rule:
        found.add("count")
    if "UNTIL=" in rule:
        value = rule.split("UNTIL=")[1]
        found.add(
            "until-utc" if value.endswith("Z") else "until-local" if "T" in value else "until-date"
        )
    if recurrence.cancelled:
        found.add("cancelled")
    if recurrence.moved:
        found.add("moved")
    return found


@pytest.mark.slow
def test_recurrences_are_valid_and_cover_every_feature() -> None:
    seen = _measure(recurrences(), _recurrence_features)
    wanted = {"DAILY", "WEEKLY", "MONTHLY", "count", "until-date", "until-local", "until-utc"}
    wanted |= {"cancelled", "moved"}
    assert wanted <= set(seen), wanted - set(seen)


def _series_features(subject: Series) -> set[str]:
    found = {subject.eligibility, subject.timezone}
    found.add("joint" if subject.provider.is_joint else "direct")
    found.add("recurrence" if subject.schedule is not None else "explicit")
    if len(subject.dated_sessions) < len(subject.sessions):
        found.add("undated")
    if any(f.participant_id for f in subject.facilitators):
        found.add("leader-on-roster")
    if not subject.policy.participation_certificates:
        found.add("no-participation-certificates")
    if subject.policy.all_or_nothing_ratio is not None:
        found.add("all-or-nothing")
    if any(not subject.policy.is_physician(p) for p in subject.participants):
        found.add("non-physician")
    # Valid: a physicians-only roster holds physicians only, and every session's designation
    # is within its length (the model checks both; this re-states the promise).
    if subject.eligibility == "physicians":
        assert all(subject.policy.is_physician(p) for p in subject.participants)
    return found


@pytest.mark.slow
def test_series_are_valid_and_cover_every_feature() -> None:
    seen = _measure(series(), _series_features)
    wanted = {"physicians", "clinicians", "joint", "direct", "recurrence", "explicit"}
    wanted |= {"undated", "leader-on-roster", "no-participation-certificates"}
    wanted |= {"all-or-nothing", "non-physician", *TIME_ZONES}
    assert wanted <= set(seen), wanted - set(seen)
