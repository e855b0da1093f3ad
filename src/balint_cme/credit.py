"""The credit engine: what each person earned, and why.

Applies the rules of docs/rules.md §2 as the series' CreditPolicy says: Decimal credit in 0.25
steps, nearest quarter hour with ties down by default, capped per session and per series; only
physicians earn AMA PRA credit; a facilitator earns nothing for a session they lead. Pure: no
files, no clock, no edges.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Annotated, Literal, NamedTuple

from pydantic import Field

from balint_cme.attendance import AttendanceRegister, attended_seconds, paused_garbage_collector
from balint_cme.credit_rounding import quarter_hours
from balint_cme.errors import (
    UndatedSessionError,
    UnknownSessionError,
)
from balint_cme.model import (
    CreditPoints,
    CreditPolicy,
    DomainModel,
    Participant,
    Series,
    facilitator_links,
)

# Why each session's credit is what it is, at DEBUG (balint-cme -v); nothing by default.
logger = logging.getLogger(__name__)

__all__ = [
    "CertificateDecision",
    "CreditAward",
    "CreditPolicy",
    "SessionCredit",
    "award_credit",
    "award_series",
    "certificate_decision",
]

ZERO = Decimal("0.00")
HALF_QUARTER_SECONDS = 450


class SessionCredit(DomainModel):
    """One person's result for one dated session, with the reason for anything short."""

    session: Annotated[int, Field(ge=1)]
    held_on: date
    attended_seconds: Annotated[int, Field(ge=0)]
    credit: CreditPoints
    """AMA PRA credit earned (always 0.00 for a non-physician)."""
    hours: CreditPoints
    """Participation hours (quarter-hour rounded attendance), for anyone."""
    designated: CreditPoints
    reason: str | None = None
    """Why credit is below the designation, e.g. "facilitated this session"."""
    led: bool = False
    """Whether the person led this session as a facilitator (no learner credit or hours)."""

    @property
    def minutes(self) -> Decimal:
        """Attended minutes, truncated to two decimals (52.5 stays 52.50)."""
        return (Decimal(self.attended_seconds) / 60).quantize(Decimal("0.01"), rounding=ROUND_DOWN)

    @property
    def attended(self) -> bool:
        """Whether the person was present at all (and not as this session's leader)."""
        return self.attended_seconds > 0 and not self.led


class CreditAward(DomainModel):
    """What one person earned in one series, and why."""

    series_id: str
    participant_id: str
    name: str
    credentials: str
    is_enrolled: bool
    is_physician: bool
    sessions: tuple[SessionCredit, ...]
    points: CreditPoints
    """Total AMA PRA credit awarded, after the series cap; 0.00 for non-physicians."""
    participation_hours: CreditPoints
    """Total hours of participation (sessions the person led excluded)."""
    shortfalls: tuple[str, ...] = ()
    """Why the award is below the series maximum, in words a coordinator can act on."""

    @property
    def kind(self) -> Literal["credit", "participation", "none"]:
        """What the attendance supports, before the series' policy on participation
        certificates; certificate_decision() gives the certificate actually issued."""
        if not self.is_enrolled or not self.attended_sessions:
            return "none"
        if self.is_physician and self.points > 0:
            return "credit"
        return "participation"

    @property
    def attended_sessions(self) -> tuple[SessionCredit, ...]:
        """Sessions the person attended as a learner."""
        return tuple(s for s in self.sessions if s.attended)

    @property
    def has_shortfalls(self) -> bool:
        """Whether anything was withheld."""
        return bool(self.shortfalls)


class CertificateDecision(DomainModel):
    """Which certificate an award earns under its series' policy, and why not when none."""

    kind: Literal["credit", "participation", "none"]
    reason: str | None = None
    """Why there is no certificate (None when there is one)."""
    sessions: tuple[SessionCredit, ...] = ()
    """The sessions the certificate lists: for credit, those its credit came from (credit
    above 0); for participation, those attended for counted time (hours above 0)."""


def certificate_decision(series: Series, award: CreditAward) -> CertificateDecision:
    """The one answer to "which certificate does this person get?", used by `credits` and
    `certify` alike: "credit" (a physician with credit), "participation" (anyone else who
    attended for counted time, when the series gives such certificates) or "none" with the
    reason.
    """

    def none(reason: str) -> CertificateDecision:
        return CertificateDecision(kind="none", reason=reason)

    if award.series_id != series.id:
        return none(f"the award is for series {award.series_id!r}, not {series.id!r}")
    if not award.is_enrolled:
        return none("not enrolled in the series")
    if award.kind == "none":
        return none("attended no session as a learner")
    if award.kind == "credit":
        earned = tuple(s for s in award.attended_sessions if s.credit > 0)
        return CertificateDecision(kind="credit", sessions=earned)
    if not series.policy.participation_certificates:
        who = "no credit earned" if award.is_physician else "not a physician"
        return none(f"{who}, and this series gives no certificates of participation")
    counted = tuple(s for s in award.attended_sessions if s.hours > 0)
    if not counted:
        # The award's own reasons: the 7.5-minute rounding, or the policy's minimum.
        return none(
            "no attendance that counts: "
            + "; ".join(s.reason or "" for s in award.attended_sessions if s.reason)
        )
    return CertificateDecision(kind="participation", sessions=counted)


class _Window(NamedTuple):
    """A dated session prepared once per call: its window in epoch seconds and its leaders."""

    number: int
    held_on: date
    start: int
    end: int
    designated: Decimal
    leaders: frozenset[str]


def _windows(series: Series) -> tuple[_Window, ...]:
    zone = series.zone
    # Leaders on the roster, however the file links them (participant_id, e-mail or name).
    led = [
        (link.participant_id, series.led_sessions(link.facilitator))
        for link in facilitator_links(series)
    ]
    windows = []
    for session in series.dated_sessions:
        assert session.starts_at is not None
        assert session.ends_at is not None
        start = int(session.starts_at.timestamp())
        leaders = frozenset(pid for pid, numbers in led if session.number in numbers)
        windows.append(
            _Window(
                number=session.number,
                held_on=session.starts_at.astimezone(zone).date(),
                start=start,
                end=int(session.ends_at.timestamp()),  # the one definition of the end
                designated=session.credit,
                leaders=leaders,
            )
        )
    return tuple(windows)


def _session_result(
    window: _Window,
    policy: CreditPolicy,
    register: AttendanceRegister,
    participant_id: str,
    is_physician: bool,
) -> SessionCredit:
    seconds = attended_seconds(
        register.intervals(participant_id, window.number), window.start, window.end
    )
    designated = window.designated
    hours = quarter_hours(seconds, ties=policy.tie_rule)
    reason: str | None = None
    led = participant_id in window.leaders
    if led:
        credit, hours, reason = ZERO, ZERO, "facilitated this session"
    elif seconds == 0:
        credit, reason = ZERO, "did not attend"
    elif policy.minimum_minutes and Decimal(seconds) < policy.minimum_minutes * 60:
        credit, hours = ZERO, ZERO
        reason = f"below the policy minimum of {policy.minimum_minutes} minutes"
    elif policy.all_or_nothing_ratio is not None:
        needed = policy.all_or_nothing_ratio * (window.end - window.start)
        if seconds >= needed:
            credit = designated
        else:
            credit = ZERO
            reason = (
                f"attended {Decimal(seconds) / 60:.1f} of the {needed / 60:.1f} minutes "
                "needed for credit"
            )
    else:
        credit = hours
        if credit == 0:
            reason = "below the 7.5-minute minimum for 0.25 credit"
        elif credit > designated:
            credit = designated
        elif credit < designated:
            reason = f"partial attendance: {Decimal(seconds) / 60:.1f} minutes"
    if not is_physician:
        credit = ZERO
    # Every value is computed here from validated inputs, so validation would only cost time.
    return SessionCredit._from_trusted(
        {
            "session": window.number,
            "held_on": window.held_on,
            "attended_seconds": seconds,
            "credit": credit,
            "hours": hours,
            "designated": designated,
            "reason": reason,
            "led": led,
        }
    )


def _rule(
    policy: CreditPolicy, window: _Window, result: SessionCredit, *, is_physician: bool
) -> str:
    """Which rule set a session's credit, in words (for the -v log)."""
    if result.led:
        rule = "facilitators earn no credit for a session they lead"
    elif result.attended_seconds == 0:
        rule = "did not attend"
    elif policy.minimum_minutes and result.attended_seconds < policy.minimum_minutes * 60:
        rule = f"policy minimum of {policy.minimum_minutes} minutes not reached"
    elif policy.all_or_nothing_ratio is not None:
        rule = (
            f"all or nothing: {policy.all_or_nothing_ratio} of the session earns its "
            f"{window.designated}"
        )
    else:
        rule = (
            f"0.25 per quarter hour attended (a 7.5-minute tie rounds {policy.tie_rule}), at most "
            f"the session's {window.designated}"
        )
    return rule if is_physician else f"{rule}; not a physician: hours of participation only"


def _check_register(series: Series, register: AttendanceRegister) -> None:
    for number in sorted(register.sessions_mentioned()):
        session = series.session(number)
        if session is None:
            raise UnknownSessionError(number, series_id=series.id)
        if not session.is_dated:
            raise UndatedSessionError(number, series_id=series.id)


def _award(
    series: Series,
    windows: tuple[_Window, ...],
    register: AttendanceRegister,
    participant_id: str,
    participant: Participant | None,
    policy: CreditPolicy,
) -> CreditAward:
    if participant is None:
        return CreditAward(
            series_id=series.id,
            participant_id=participant_id,
            name=participant_id,
            credentials="",
            is_enrolled=False,
            is_physician=False,
            sessions=(),
            points=ZERO,
            participation_hours=ZERO,
            shortfalls=("not enrolled",),
        )
    is_physician = policy.is_physician(participant)
    results = tuple(
        _session_result(window, policy, register, participant_id, is_physician)
        for window in windows
    )
    if logger.isEnabledFor(logging.DEBUG):
        for window, result in zip(windows, results, strict=True):
            logger.debug(
                "%s (%s) session %s: %s s attended -> %s credit, %s h: %s",
                participant.name,
                participant_id,
                result.session,
                result.attended_seconds,
                result.credit,
                result.hours,
                _rule(policy, window, result, is_physician=is_physician),
            )
    earned = sum((r.credit for r in results), ZERO)
    hours = sum((r.hours for r in results), ZERO)
    shortfalls: list[str] = []
    if not is_physician:
        shortfalls.append(f"not a physician: {participant.credentials}")
    else:
        shortfalls.extend(
            f"session {r.session} ({r.held_on}): {r.reason}" for r in results if r.reason
        )
    points = min(earned, series.credit.series_maximum)
    if earned > points:
        shortfalls.append(f"capped at the series maximum of {series.credit.series_maximum:.2f}")
    undated = len(series.sessions) - len(results)
    if undated:
        shortfalls.append(f"{undated} session(s) not yet dated")
    return CreditAward._from_trusted(
        {
            "series_id": series.id,
            "participant_id": participant_id,
            "name": participant.name,
            "credentials": participant.credentials,
            "is_enrolled": True,
            "is_physician": is_physician,
            "sessions": results,
            "points": points,
            "participation_hours": hours,
            "shortfalls": tuple(shortfalls),
        }
    )


def award_credit(
    series: Series,
    register: AttendanceRegister,
    participant_id: str,
    *,
    policy: CreditPolicy | None = None,
) -> CreditAward:
    """What `participant_id` earned in `series` (the series' own policy unless one is given).

    A person not on the roster gets an empty award explained as "not enrolled".

    Raises:
        UnknownSessionError: the register refers to a session the series does not have.
        UndatedSessionError: the register has attendance for a session with no date yet.
    """
    _check_register(series, register)
    return _award(
        series,
        _windows(series),
        register,
        participant_id,
        series.participant(participant_id),
        policy or series.policy,
    )


def award_series(
    series: Series, register: AttendanceRegister, *, policy: CreditPolicy | None = None
) -> tuple[CreditAward, ...]:
    """Awards for every roster participant, in roster order.

    Raises:
        UnknownSessionError, UndatedSessionError: as award_credit.
    """
    _check_register(series, register)
    chosen = policy or series.policy
    windows = _windows(series)
    with paused_garbage_collector():
        return tuple(
            _award(series, windows, register, p.id, p, chosen) for p in series.participants
        )
