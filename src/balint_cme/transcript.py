"""Transcripts: one person's credit across series within a date window, against a target.

Built on the credit engine (credit.py): each series' award is shared out over its sessions in
date order until the series maximum (or the certificate on record) is reached, so disjoint
windows never count more than the award. Pure: no files, no clock, no edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal

from balint_cme.attendance import AttendanceRegister
from balint_cme.claims import credit_amount
from balint_cme.credit import ZERO, SessionCredit, award_credit
from balint_cme.errors import InvalidArgumentError, UnknownParticipantError
from balint_cme.model import CreditPoints, DomainModel, Series, Text

__all__ = [
    "CreditOnRecord",
    "Transcript",
    "TranscriptLine",
    "allocate_under_cap",
    "build_transcript",
]


class CreditOnRecord(DomainModel):
    """The most credit a series may count for a person, as the record of certificates says."""

    points: CreditPoints
    """The credit of the person's current certificate of credit (0.00 without one)."""
    reason: str | None = None
    """Why nothing counts, e.g. "certificate BC-2021-000002 revoked: issued to the wrong
    person"; None when a current certificate of credit backs `points`."""


def allocate_under_cap(
    sessions: Sequence[SessionCredit], maximum: Decimal
) -> tuple[tuple[SessionCredit, Decimal], ...]:
    """Each session's share of a capped award: credit accrues in date order until the cap.

    With a 4.0 maximum and five full 1.0 sessions, the first four count 1.00 each and the
    fifth 0.00, so credit split across windows (renewal periods) never adds up to more than
    the award. Sessions are taken by date, then number.
    """
    remaining = max(maximum, ZERO)
    shares: list[tuple[SessionCredit, Decimal]] = []
    for session in sorted(sessions, key=lambda s: (s.held_on, s.session)):
        share = min(session.credit, remaining)
        remaining -= share
        shares.append((session, share))
    return tuple(shares)


class TranscriptLine(DomainModel):
    """One series on a person's transcript, counting only sessions inside the window."""

    series_id: str
    title: Text
    accredited_provider: Text
    accreditor: Text
    held_on: tuple[date, ...]
    """Dates of the sessions attended inside the window."""
    points: CreditPoints
    """Credit inside the window: each session's share of the series award, which accrues in
    date order until the series maximum (or the certificate on record) is reached."""
    participation_hours: CreditPoints
    notes: tuple[str, ...] = ()
    """Why the line counts less than its sessions' credit: the cap reached by earlier
    sessions, a revoked certificate."""


class Transcript(DomainModel):
    """A person's credit across series within a date window, against a target."""

    participant_id: str
    name: str
    from_on: date | None
    to_on: date | None
    lines: tuple[TranscriptLine, ...]
    total_points: CreditPoints
    total_hours: CreditPoints
    target: CreditPoints
    """Hours needed in the window, e.g. 50 over two years in California (16 CCR § 1336)."""

    @property
    def remaining(self) -> Decimal:
        """Credit still needed to reach the target (never negative)."""
        return max(self.target - self.total_points, ZERO)

    @property
    def is_target_met(self) -> bool:
        """Whether the credit in the window reaches the target."""
        return self.total_points >= self.target


def build_transcript(
    participant_id: str,
    history: Iterable[tuple[Series, AttendanceRegister]],
    *,
    from_on: date | None = None,
    to_on: date | None = None,
    target: Decimal = Decimal(50),
    roster_ids: Mapping[str, str] | None = None,
    on_record: Mapping[str, CreditOnRecord] | None = None,
) -> Transcript:
    """One person's credit across `history`, counting sessions held within [from_on, to_on].

    `roster_ids` maps a series id to the person's roster id in that series, for a person
    whose files give them different ids (the ledger links them); by default the person is
    `participant_id` in every series.

    Each series' credit accrues in date order until its maximum is reached (allocate_under_cap),
    and a window counts the shares of the sessions inside it: any set of disjoint windows sums
    to at most the series' award. `on_record` (series id -> CreditOnRecord) caps a series at
    what its certificate backs, as the PARS export does: a revoked certificate counts nothing.
    Series where the person is not enrolled are left out.

    Raises:
        UnknownSessionError, UndatedSessionError: as award_credit.
        UnknownParticipantError: the person is in none of the series.
        InvalidArgumentError: from_on is after to_on, or the target is not a non-negative
            multiple of 0.25 (also a ValueError).
    """
    if from_on is not None and to_on is not None and from_on > to_on:
        raise InvalidArgumentError(f"the window starts ({from_on}) after it ends ({to_on})")
    target = credit_amount(target, what="a transcript target", at_most=Decimal(1000))
    lines: list[TranscriptLine] = []
    name: str | None = None
    for series, register in history:
        roster_id = (roster_ids or {}).get(series.id, participant_id)
        participant = series.participant(roster_id)
        if participant is None:
            continue
        name = name or participant.name
        award = award_credit(series, register, roster_id)
        cap = series.credit.series_maximum
        notes: list[str] = []
        backing = on_record.get(series.id) if on_record is not None else None
        if backing is not None and backing.points < cap:
            cap = backing.points
            if backing.reason:
                notes.append(backing.reason)
        shares = allocate_under_cap(award.attended_sessions, cap)
        inside = [
            (s, share)
            for s, share in shares
            if (from_on is None or s.held_on >= from_on) and (to_on is None or s.held_on <= to_on)
        ]
        if not inside:
            continue
        capped = [s for s, share in inside if share < s.credit]
        if capped and not notes:
            limit = (
                f"the series maximum of {cap:.2f}"
                if cap == series.credit.series_maximum
                else f"the {cap:.2f} credits of the certificate on record"
            )
            notes.append(
                f"{', '.join(s.held_on.isoformat() for s in capped)}: {limit} was reached by "
                "earlier sessions"
            )
        lines.append(
            TranscriptLine(
                series_id=series.id,
                title=series.title,
                accredited_provider=series.provider.accredited,
                accreditor=series.provider.accreditor,
                held_on=tuple(s.held_on for s, _ in inside),
                points=sum((share for _, share in inside), ZERO),
                participation_hours=sum((s.hours for s, _ in inside), ZERO),
                notes=tuple(notes),
            )
        )
    if name is None:
        raise UnknownParticipantError(participant_id, series_id=None)
    lines.sort(key=lambda line: line.held_on[0])
    return Transcript(
        participant_id=participant_id,
        name=name,
        from_on=from_on,
        to_on=to_on,
        lines=tuple(lines),
        total_points=sum((line.points for line in lines), ZERO),
        total_hours=sum((line.participation_hours for line in lines), ZERO),
        target=target,
    )
