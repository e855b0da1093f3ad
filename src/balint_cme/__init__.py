"""balint_cme: attendance, AMA PRA Category 1 credit and certificates for Balint group series.

The one door a downstream tool needs. The core (records, schedule, attendance, the credit
engine, enrolment, errors) is imported eagerly; the everyday entry points of the edges
(reading series files and meeting reports, building, drawing and verifying certificates, the
ledger and the one-call, ledger-numbered `certify`) are resolved on first use through the
table `_EDGES`, so `import balint_cme` never loads reportlab, pypdf, sqlite3 or openpyxl.
"""

import importlib as _importlib
import typing as _typing

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
    award_credit,
    award_series,
    validate_claim,
)
from balint_cme.enrollment import enroll
from balint_cme.errors import (
    AttendanceError,
    BalintCmeError,
    CertificateError,
    ClaimError,
    DataFileError,
    EnrollmentError,
    IdentityConflictError,
    LedgerError,
    LedgerTamperedError,
    OutputWriteError,
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
    Facilitator,
    FacilitatorLink,
    Participant,
    Provider,
    Recurrence,
    Series,
    Session,
    SessionMove,
    facilitator_links,
)
from balint_cme.schedule import plan_session_dates, plan_sessions, planned_sessions
from balint_cme.transcript import Transcript, TranscriptLine, build_transcript

if _typing.TYPE_CHECKING:  # what __getattr__ resolves, spelled out for type checkers and IDEs
    from balint_cme.certificates.batch import render_batch
    from balint_cme.certificates.content import Certificate, build_certificate, eligible_awards
    from balint_cme.certificates.keys import SigningKey, create_key, load_key
    from balint_cme.certificates.layout import DEFAULT_LAYOUT, CertificateLayout
    from balint_cme.certificates.pdf import render_pdf
    from balint_cme.certificates.verification import (
        VerificationResult,
        verify_code,
        verify_pdf,
    )
    from balint_cme.io.reports import AttendanceReading, read_reports
    from balint_cme.io.series_file import load_series
    from balint_cme.ledger import Ledger
    from balint_cme.workflow import CertifyResult, certify

__version__ = "0.1.0"

_EDGES: dict[str, str] = {
    # name -> "module:attribute". A module that moves is one line here; the test suite
    # resolves every entry, so a stale line fails a test, not a caller.
    "AttendanceReading": "balint_cme.io.reports:AttendanceReading",
    "Certificate": "balint_cme.certificates.content:Certificate",
    "CertificateLayout": "balint_cme.certificates.layout:CertificateLayout",
    "CertifyResult": "balint_cme.workflow:CertifyResult",
    "DEFAULT_LAYOUT": "balint_cme.certificates.layout:DEFAULT_LAYOUT",
    "Ledger": "balint_cme.ledger:Ledger",
    "SigningKey": "balint_cme.certificates.keys:SigningKey",
    "VerificationResult": "balint_cme.certificates.verification:VerificationResult",
    "build_certificate": "balint_cme.certificates.content:build_certificate",
    "certify": "balint_cme.workflow:certify",
    "create_key": "balint_cme.certificates.keys:create_key",
    "eligible_awards": "balint_cme.certificates.content:eligible_awards",
    "load_key": "balint_cme.certificates.keys:load_key",
    "load_series": "balint_cme.io.series_file:load_series",
    "read_reports": "balint_cme.io.reports:read_reports",
    "render_batch": "balint_cme.certificates.batch:render_batch",
    "render_pdf": "balint_cme.certificates.pdf:render_pdf",
    "verify_code": "balint_cme.certificates.verification:verify_code",
    "verify_pdf": "balint_cme.certificates.verification:verify_pdf",
}


def __getattr__(name: str) -> object:
    """Resolve an edge name from `_EDGES` on first use (PEP 562), then keep it here."""
    target = _EDGES.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    value = getattr(_importlib.import_module(module_name), attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EDGES})


__all__ = [
    "DEFAULT_LAYOUT",
    "DEFAULT_PHYSICIAN_CREDENTIALS",
    "AttendanceError",
    "AttendanceReading",
    "AttendanceRecord",
    "AttendanceRegister",
    "BalintCmeError",
    "Certificate",
    "CertificateError",
    "CertificateLayout",
    "CertifyResult",
    "ClaimError",
    "CreditAward",
    "CreditDesignation",
    "CreditPoints",
    "CreditPolicy",
    "DataFileError",
    "EnrollmentError",
    "Evidence",
    "Facilitator",
    "FacilitatorLink",
    "IdentityConflictError",
    "Ledger",
    "LedgerError",
    "LedgerTamperedError",
    "OutputWriteError",
    "Participant",
    "Provider",
    "Recurrence",
    "RetentionError",
    "ScheduleError",
    "Series",
    "Session",
    "SessionCredit",
    "SessionMove",
    "SigningKey",
    "Transcript",
    "TranscriptLine",
    "UndatedSessionError",
    "UnknownParticipantError",
    "UnknownSessionError",
    "UnrenderableTextError",
    "VerificationError",
    "VerificationResult",
    "__version__",
    "attended_seconds",
    "award_credit",
    "award_series",
    "build_certificate",
    "build_transcript",
    "certify",
    "create_key",
    "eligible_awards",
    "enroll",
    "facilitator_links",
    "load_key",
    "load_series",
    "merge_intervals",
    "plan_session_dates",
    "plan_sessions",
    "planned_sessions",
    "read_reports",
    "render_batch",
    "render_pdf",
    "validate_claim",
    "verify_code",
    "verify_pdf",
]
