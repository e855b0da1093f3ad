"""balint_cme: attendance, AMA PRA Category 1 credit and certificates for Balint group series.

The public core: domain model, schedule, attendance and the credit engine. Edges are imported
from their modules (balint_cme.io.*, balint_cme.certificates.*, balint_cme.ledger), so
`import balint_cme` never loads reportlab.
"""

from balint_cme.attendance import (
    AttendanceRecord,
    AttendanceRegister,
    Evidence,
    attended_seconds,
    merge_intervals,
)
from balint_cme.credit import (
    CreditAward,
    SessionCredit,
    Transcript,
    TranscriptLine,
    award_credit,
    award_series,
    build_transcript,
    validate_claim,
)
from balint_cme.errors import (
    AttendanceError,
    BalintCmeError,
    CertificateError,
    ClaimError,
    DataFileError,
    EnrollmentError,
    LedgerError,
    LedgerTamperedError,
    RetentionError,
    ScheduleError,
    UndatedSessionError,
    UnknownParticipantError,
    UnknownSessionError,
    UnrenderableTextError,
    VerificationError,
)
from balint_cme.model import (
    DEFAULT_PHYSICIAN_CREDENTIALS,
    CreditDesignation,
    CreditPoints,
    CreditPolicy,
    DomainModel,
    Facilitator,
    Participant,
    Provider,
    Recurrence,
    Series,
    Session,
    SessionMove,
    enroll,
    quarter_hours,
)
from balint_cme.schedule import plan_session_dates, plan_sessions, planned_sessions

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_PHYSICIAN_CREDENTIALS",
    "AttendanceError",
    "AttendanceRecord",
    "AttendanceRegister",
    "BalintCmeError",
    "CertificateError",
    "ClaimError",
    "CreditAward",
    "CreditDesignation",
    "CreditPoints",
    "CreditPolicy",
    "DataFileError",
    "DomainModel",
    "EnrollmentError",
    "Evidence",
    "Facilitator",
    "LedgerError",
    "LedgerTamperedError",
    "Participant",
    "Provider",
    "Recurrence",
    "RetentionError",
    "ScheduleError",
    "Series",
    "Session",
    "SessionCredit",
    "SessionMove",
    "Transcript",
    "TranscriptLine",
    "UndatedSessionError",
    "UnknownParticipantError",
    "UnknownSessionError",
    "UnrenderableTextError",
    "VerificationError",
    "__version__",
    "attended_seconds",
    "award_credit",
    "award_series",
    "build_transcript",
    "enroll",
    "merge_intervals",
    "plan_session_dates",
    "plan_sessions",
    "planned_sessions",
    "quarter_hours",
    "validate_claim",
]
