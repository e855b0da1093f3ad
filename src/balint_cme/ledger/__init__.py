"""Edge: the durable record (one SQLite file): series, attendance, certificates, consent, audit.

    from balint_cme.ledger import Ledger

    with Ledger.open(path) as ledger:                 # created on first use, WAL mode
        ledger.record_series(series, content=raw, file_name="series.toml", actor="A. Coordinator")
        ledger.record_attendance(series.id, awards, register, sources={name: sha}, actor=...)
        ledger.series_attendance(series.id)           # the AttendanceRecords, as recorded
        r = ledger.reserve(series_id=..., participant_id=..., kind="credit", credits=...,
                           session_dates=..., claims={...}, issued_on=today, actor=...)
        if r.needs_file:                              # write the PDF atomically, then:
            ledger.confirm(r.certificate.number, r.certificate.version,
                           pdf_sha256=..., file_name=..., verification_code=..., actor=...)
        ledger.status("BC-2026-000001").describe()    # "valid", "superseded by version 2", ...
        ledger.check_chain().is_intact

Imports only the core (model, attendance, credit), storage and errors: never certificates or io.
"""

from balint_cme.ledger.chain import canonical_json
from balint_cme.ledger.issuing import (
    NUMBER_PATTERN,
    Confirmation,
    Redrawn,
    claims_fingerprint,
    format_number,
)
from balint_cme.ledger.records import (
    AuditEvent,
    CertificateRecord,
    CertificateState,
    CertificateStatus,
    ChainReport,
    ConsentRecord,
    ParticipationRecord,
    PersonRecord,
    PurgeReport,
    Reservation,
    SeriesSnapshot,
    SessionAttendance,
    VerificationState,
)
from balint_cme.ledger.retention import DEFAULT_RETENTION_YEARS, retention_ends_on
from balint_cme.ledger.schema import SCHEMA_VERSION
from balint_cme.ledger.store import LEDGER_FILE_ENV, Ledger, default_ledger_path

__all__ = [
    "DEFAULT_RETENTION_YEARS",
    "LEDGER_FILE_ENV",
    "NUMBER_PATTERN",
    "SCHEMA_VERSION",
    "AuditEvent",
    "CertificateRecord",
    "CertificateState",
    "CertificateStatus",
    "ChainReport",
    "Confirmation",
    "ConsentRecord",
    "Ledger",
    "ParticipationRecord",
    "PersonRecord",
    "PurgeReport",
    "Redrawn",
    "Reservation",
    "SeriesSnapshot",
    "SessionAttendance",
    "VerificationState",
    "canonical_json",
    "claims_fingerprint",
    "default_ledger_path",
    "format_number",
    "retention_ends_on",
]
