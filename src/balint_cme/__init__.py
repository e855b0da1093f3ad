"""balint_cme: attendance, AMA PRA Category 1 credit and certificates for Balint group series.

The one door a downstream tool needs: the core (records, schedule, attendance, the credit
engine, enrolment, transcripts, errors) and the everyday entry points of the edges (reading
series files and meeting reports, building, drawing and verifying certificates, the ledger and
the one-call, ledger-numbered `certify`). Every name is resolved on first use from the tables
below (PEP 562), so `import balint_cme` costs nothing: the edges' libraries (reportlab, pypdf,
sqlite3, openpyxl) load only when an edge name is used, and even the core (pydantic, about
0.3 s of start-up) only when a core name is, which keeps `balint-cme --version` and `--help`
fast (every `balint_cme.*` import runs this file first).
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:  # what __getattr__ resolves, spelled out for type checkers and IDEs
    from balint_cme.attendance import (
        AttendanceRecord,
        AttendanceRegister,
        Evidence,
        attended_seconds,
        merge_intervals,
    )
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
    from balint_cme.claims import validate_claim
    from balint_cme.credit import (
        CreditAward,
        SessionCredit,
        award_credit,
        award_series,
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
    from balint_cme.io.reports import AttendanceReading, read_reports
    from balint_cme.io.series_file import load_series
    from balint_cme.ledger import Ledger
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
    from balint_cme.workflow import CertifyResult, certify

__version__ = "0.1.0"

_CORE: dict[str, str] = {
    # The pure core: records, schedule, attendance, credit, enrolment, transcripts, errors.
    "AttendanceError": "balint_cme.errors:AttendanceError",
    "AttendanceRecord": "balint_cme.attendance:AttendanceRecord",
    "AttendanceRegister": "balint_cme.attendance:AttendanceRegister",
    "BalintCmeError": "balint_cme.errors:BalintCmeError",
    "CertificateError": "balint_cme.errors:CertificateError",
    "ClaimError": "balint_cme.errors:ClaimError",
    "CreditAward": "balint_cme.credit:CreditAward",
    "CreditDesignation": "balint_cme.model:CreditDesignation",
    "CreditPoints": "balint_cme.model:CreditPoints",
    "CreditPolicy": "balint_cme.model:CreditPolicy",
    "DEFAULT_PHYSICIAN_CREDENTIALS": "balint_cme.model:DEFAULT_PHYSICIAN_CREDENTIALS",
    "DataFileError": "balint_cme.errors:DataFileError",
    "EnrollmentError": "balint_cme.errors:EnrollmentError",
    "Evidence": "balint_cme.attendance:Evidence",
    "Facilitator": "balint_cme.model:Facilitator",
    "FacilitatorLink": "balint_cme.model:FacilitatorLink",
    "IdentityConflictError": "balint_cme.errors:IdentityConflictError",
    "LedgerError": "balint_cme.errors:LedgerError",
    "LedgerTamperedError": "balint_cme.errors:LedgerTamperedError",
    "OutputWriteError": "balint_cme.errors:OutputWriteError",
    "Participant": "balint_cme.model:Participant",
    "Provider": "balint_cme.model:Provider",
    "Recurrence": "balint_cme.model:Recurrence",
    "RetentionError": "balint_cme.errors:RetentionError",
    "ScheduleError": "balint_cme.errors:ScheduleError",
    "Series": "balint_cme.model:Series",
    "Session": "balint_cme.model:Session",
    "SessionCredit": "balint_cme.credit:SessionCredit",
    "SessionMove": "balint_cme.model:SessionMove",
    "Transcript": "balint_cme.transcript:Transcript",
    "TranscriptLine": "balint_cme.transcript:TranscriptLine",
    "UndatedSessionError": "balint_cme.errors:UndatedSessionError",
    "UnknownParticipantError": "balint_cme.errors:UnknownParticipantError",
    "UnknownSessionError": "balint_cme.errors:UnknownSessionError",
    "UnrenderableTextError": "balint_cme.errors:UnrenderableTextError",
    "VerificationError": "balint_cme.errors:VerificationError",
    "attended_seconds": "balint_cme.attendance:attended_seconds",
    "award_credit": "balint_cme.credit:award_credit",
    "award_series": "balint_cme.credit:award_series",
    "build_transcript": "balint_cme.transcript:build_transcript",
    "enroll": "balint_cme.enrollment:enroll",
    "facilitator_links": "balint_cme.model:facilitator_links",
    "merge_intervals": "balint_cme.attendance:merge_intervals",
    "plan_session_dates": "balint_cme.schedule:plan_session_dates",
    "plan_sessions": "balint_cme.schedule:plan_sessions",
    "planned_sessions": "balint_cme.schedule:planned_sessions",
    "validate_claim": "balint_cme.claims:validate_claim",
}

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

_EXPORTS = {**_CORE, **_EDGES}


def _resolve(name: str) -> object:
    """Resolve a public name from `_EXPORTS` on first use (PEP 562), then keep it here."""
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, _, attribute = target.partition(":")
    value = getattr(_importlib.import_module(module_name), attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


if not _typing.TYPE_CHECKING:
    # Hidden from type checkers: they see the names through the imports above, and a
    # misspelt name stays an error for them instead of typing as `object`.
    __getattr__ = _resolve


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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
