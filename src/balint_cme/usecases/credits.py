"""The credits use case: read the reports (and the ledger's attendance) and award credit.

The reading of the evidence that both `credits` (a preview) and `certify` start from, and
the JSON document `credits --json` prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from balint_cme.attendance import AttendanceRegister
from balint_cme.credit import CreditAward, award_series, certificate_decision
from balint_cme.io.reports import AttendanceReading, ReportSpec, read_reports
from balint_cme.ledger import Ledger
from balint_cme.model import Series
from balint_cme.usecases.on_record import recorded_register
from balint_cme.usecases.presentation import unmatched_document

__all__ = [
    "assess",
    "assess_with_record",
    "combined_register",
    "credits_document",
    "recorded_sessions",
]


def assess(
    series: Series, reports: Sequence[ReportSpec], *, export_tz: str | None = None
) -> tuple[AttendanceReading, tuple[CreditAward, ...]]:
    """Read the reports and award credit to every roster person.

    Raises:
        DataFileError: a report is unreadable or belongs to no (or several) sessions.
    """
    reading = read_reports(reports, series, export_tz=export_tz)
    return reading, award_series(series, AttendanceRegister(reading.records))


def _credit_text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def credits_document(
    series: Series, awards: Sequence[CreditAward], reading: AttendanceReading
) -> dict[str, Any]:
    participants = []
    for award in awards:
        decision = certificate_decision(series, award)
        participants.append(
            {
                "id": award.participant_id,
                "name": award.name,
                "credentials": award.credentials,
                "physician": award.is_physician,
                "sessions": [
                    {
                        "session": s.session,
                        "date": s.held_on.isoformat(),
                        "minutes": float(s.minutes),
                        "credit": _credit_text(s.credit) if award.is_physician else None,
                        "hours": _credit_text(s.hours),
                        "reason": s.reason,
                    }
                    for s in award.sessions
                ],
                "total_credit": _credit_text(award.points) if award.is_physician else None,
                "participation_hours": _credit_text(award.participation_hours),
                "certificate": decision.kind,
                "certificate_reason": decision.reason,
                "shortfalls": list(award.shortfalls),
            }
        )
    return {
        "series": series.id,
        "title": series.title,
        "series_maximum": _credit_text(series.credit.series_maximum),
        "participants": participants,
        "unmatched": unmatched_document(reading.unmatched),
        "notes": list(reading.notes),
    }


def combined_register(
    reading: AttendanceReading, on_record: AttendanceRegister
) -> tuple[set[int], AttendanceRegister]:
    """The sessions `reading` covers, and its records plus the record's for the other sessions.

    Sessions this run's reports cover replace what the ledger holds for them; attendance
    already on record for other sessions stays and counts (certify as each report arrives).
    """
    covered = {source.session for source in reading.sources if source.session is not None}
    covered |= {record.session for record in reading.records}
    register = AttendanceRegister(
        (*reading.records, *(r for r in on_record.records if r.session not in covered))
    )
    return covered, register


def assess_with_record(
    series: Series,
    reports: Sequence[ReportSpec],
    ledger: Ledger,
    *,
    export_tz: str | None = None,
) -> tuple[AttendanceReading, tuple[CreditAward, ...]]:
    """Like assess(), counting the attendance `ledger` holds for sessions no report covers.

    The reading's notes say which sessions came from the ledger (or that it holds none).
    """
    reading = (
        read_reports(reports, series, export_tz=export_tz)
        if reports
        else AttendanceReading(records=(), unmatched=(), notes=(), sources=())
    )
    on_record = recorded_register(ledger, series)
    covered, register = combined_register(reading, on_record)
    from_record = sorted({r.session for r in on_record.records} - covered)
    note = (
        f"attendance for session(s) {', '.join(map(str, from_record))} is the ledger's"
        if from_record
        else f"the ledger holds no attendance for {series.id} beyond the reports given"
    )
    reading = dataclasses.replace(reading, notes=(*reading.notes, note))
    return reading, award_series(series, register)


def recorded_sessions(ledger: Ledger, series: Series) -> tuple[int, ...]:
    """The sessions of `series` the ledger holds attendance for."""
    return tuple(sorted({r.session for r in recorded_register(ledger, series).records}))
