"""What the ledger returns: frozen records of certificates, statuses, attendance and checks.

Plain values only (ids, strings, Decimals, dates, hashes, JSON-able dicts), so the certificate
and command code can use them without the ledger knowing about either.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

from balint_cme.model import DomainModel

__all__ = [
    "AuditEvent",
    "CertificateRecord",
    "CertificateState",
    "CertificateStatus",
    "ChainReport",
    "ConsentRecord",
    "ParticipationRecord",
    "PersonRecord",
    "PurgeReport",
    "Reservation",
    "SeriesSnapshot",
    "SessionAttendance",
    "VerificationState",
]

CertificateState = Literal["pending", "issued", "superseded", "revoked"]
"""A version's state: reserved but not yet confirmed, issued, replaced by a later version, or
revoked."""

VerificationState = Literal[
    "valid", "superseded", "revoked", "pending", "altered", "purged", "unknown"
]


class CertificateRecord(DomainModel):
    """One version of one certificate, as the ledger holds it."""

    number: str
    version: int
    series_id: str
    participant_id: str
    kind: Literal["credit", "participation"]
    credits: Decimal
    """Credit awarded (kind "credit") or hours of participation (kind "participation")."""
    session_dates: tuple[date, ...]
    issued_on: date
    """The date printed on the certificate; unchanged while the claims are unchanged."""
    claims: dict[str, Any]
    """What the certificate states besides number, version, date and code (JSON values)."""
    claims_fingerprint: str
    series_sha256: str
    """SHA-256 of the series file the certificate was based on."""
    reason: str | None
    """Why this version exists, for versions after the first ("changed: name")."""
    state: CertificateState
    reserved_at: datetime
    confirmed_at: datetime | None
    verification_code: str | None
    pdf_sha256: str | None
    file_name: str | None
    superseded_by: int | None
    superseded_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None
    revoked_by: str | None


class Reservation(DomainModel):
    """What reserve() decided for one person's certificate, and the version to write.

    outcome:
        "new": a new number, version 1, pending: write the file, then confirm().
        "new-version": the claims changed; a new pending version of the same number supersedes
            the issued one when confirmed.
        "resumed": a pending reservation from an interrupted run (claims updated if they
            changed): write the file, then confirm().
        "unchanged": already issued with these claims; nothing new (the file may be re-written
            byte for byte from the record).
        "revoked": the number is revoked; nothing is issued.
    """

    outcome: Literal["new", "new-version", "resumed", "unchanged", "revoked"]
    certificate: CertificateRecord
    changed: tuple[str, ...] = ()
    """Names of the claims that differ from the previous version ("credits", "name")."""

    @property
    def needs_file(self) -> bool:
        """Whether the caller must write the PDF and then confirm()."""
        return self.outcome in ("new", "new-version", "resumed")


class CertificateStatus(DomainModel):
    """The answer to "is this certificate genuine and current?"."""

    number: str
    state: VerificationState
    version: int | None = None
    """The version asked about (the current one when none was given)."""
    current_version: int | None = None
    """The version that is valid now, if any."""
    reason: str | None = None
    """Why it was revoked or superseded, or what was altered."""
    certificate: CertificateRecord | None = None
    """The record of `version`."""
    current: CertificateRecord | None = None
    """The record of `current_version`."""

    def describe(self) -> str:
        """One line: "valid", "superseded by version 2", "revoked: reason", "unknown", ..."""
        if self.state == "superseded":
            text = f"superseded by version {self.current_version}"
            return f"{text} ({self.reason})" if self.reason else text
        if self.state == "revoked":
            return f"revoked: {self.reason}"
        if self.state == "altered":
            return f"altered: {self.reason}"
        if self.state == "pending":
            return "not issued (reserved, pending)"
        if self.state == "purged":
            return "records deleted after the retention period"
        return self.state


class SeriesSnapshot(DomainModel):
    """A series file as it was used."""

    series_id: str
    sha256: str
    file_name: str
    recorded_at: datetime
    is_new: bool
    """Whether this call stored it (False: the same content was already on record)."""


class SessionAttendance(DomainModel):
    """One attended session on record."""

    session: int
    held_on: date
    attended_seconds: int
    credit: Decimal
    hours: Decimal
    reason: str | None
    intervals: tuple[tuple[str, str], ...]
    """(joined, left) as ISO 8601 times."""
    sources: tuple[dict[str, Any], ...]
    """{"file", "sha256", "platform", "lines"} for each report the intervals came from."""

    @property
    def minutes(self) -> Decimal:
        """Attended minutes, truncated to two decimals."""
        return (Decimal(self.attended_seconds) / 60).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


class ParticipationRecord(DomainModel):
    """One person's verified participation in one series."""

    series_id: str
    title: str
    participant_id: str
    """The person's roster id in this series' file."""
    person_id: str
    """The ledger person id (the same person across series)."""
    name: str
    credentials: str
    kind: str | None
    """The award's kind: "credit", "participation" or "none"; None if no award is on record."""
    points: Decimal | None
    participation_hours: Decimal | None
    sessions: tuple[SessionAttendance, ...]
    certificates: tuple[CertificateRecord, ...]
    """Every version of the person's certificate for the series, oldest first."""
    last_session_on: date | None


class PersonRecord(DomainModel):
    """A person as the ledger knows them (personal data: stays in the ledger and PARS)."""

    person_id: str
    """The ledger's own id for the person (P000001), independent of any file's roster id."""
    name: str
    credentials: str
    email: str | None
    npi: str | None
    license_state: str | None
    license_number: str | None
    birth_month: int | None
    birth_day: int | None
    aliases: tuple[str, ...]
    roster_ids: tuple[tuple[str, str], ...] = ()
    """(series id, roster id) of every series this person is on the roster of."""

    def describe(self) -> str:
        """ "P000001 Ana Ruiz (ssvms-balint-2020:p01, ssvms-balint-2023:p12)"."""
        where = ", ".join(f"{series}:{roster}" for series, roster in self.roster_ids)
        return f"{self.person_id} {self.name}" + (f" ({where})" if where else "")


class ConsentRecord(DomainModel):
    """A person's permission to report completions to ACCME (PARS); it belongs to the ledger
    person who gave it, whatever roster ids their series files use."""

    person_id: str
    wording_version: str
    """Which wording of the consent text the person agreed to."""
    given_at: datetime
    withdrawn_at: datetime | None

    @property
    def is_given(self) -> bool:
        """Whether consent stands (given and not withdrawn)."""
        return self.withdrawn_at is None


class AuditEvent(DomainModel):
    """One entry of the append-only audit log."""

    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    changes: tuple[tuple[str, str, str | None], ...]
    """(table, row key, row hash or None when deleted) for each row the event wrote."""
    hash: str


class ChainReport(DomainModel):
    """The result of check_chain()."""

    is_intact: bool
    events_checked: int
    rows_checked: int
    head_seq: int
    head_hash: str
    """The last event's hash: keep it elsewhere and pass it to a later check as an anchor."""
    problems: tuple[str, ...]
    """The first problems found (at most 100), each naming the event or row."""
    problem_count: int


class PurgeReport(DomainModel):
    """What purge_series() deleted."""

    series_id: str
    allowed_from: date | None
    rows_deleted: int
    people_deleted: int
