"""What the ledger holds, read back for the use cases: attendance per series, and the credit
a person's certificate record backs (the one answer transcript and PARS share).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from balint_cme.attendance import AttendanceRegister
from balint_cme.ledger import Ledger
from balint_cme.model import Series
from balint_cme.transcript import CreditOnRecord

__all__ = ["credit_on_record", "recorded_register"]


def recorded_register(
    ledger: Ledger, series: Series, participant_ids: Sequence[str] = ()
) -> AttendanceRegister:
    """The attendance the ledger holds for `series` (for the given people, default: the roster),
    as it was recorded (times in their zones, with their evidence), read in one query."""
    wanted = set(participant_ids) or {p.id for p in series.participants}
    return AttendanceRegister(
        record for record in ledger.series_attendance(series.id) if record.participant_id in wanted
    )


def credit_on_record(ledger: Ledger, series_id: str, participant_id: str) -> CreditOnRecord:
    """The credit a person's certificate record backs in one series: the one answer that both
    `transcript` and the PARS export use.

    Only a current, issued certificate of credit counts, with its credits. A revoked one
    counts nothing (its reason is given), as do a pending or superseded latest version, a
    certificate of participation, and no certificate at all.
    """
    record = ledger.certificate_for(series_id, participant_id)
    zero = Decimal("0.00")
    if record is None:
        return CreditOnRecord(points=zero, reason="no certificate issued")
    if record.state == "revoked":
        why = f": {record.revoked_reason}" if record.revoked_reason else ""
        return CreditOnRecord(points=zero, reason=f"certificate {record.number} revoked{why}")
    if record.state != "issued":
        return CreditOnRecord(points=zero, reason=f"certificate {record.number} {record.state}")
    if record.kind != "credit":
        return CreditOnRecord(
            points=zero, reason=f"certificate {record.number} is of participation, not credit"
        )
    return CreditOnRecord(points=record.credits)
