"""Exceptions raised on purpose by balint_cme.

    BalintCmeError
    ├── InvalidArgumentError        (also a ValueError) a function was given a value it cannot
    │                               take: a claim of 4.8 credits, a window ending before it starts
    ├── ScheduleError               a recurrence cannot be expanded into dates
    ├── EnrollmentError             a person cannot join a series' roster
    ├── AttendanceError             attendance contradicts the series it refers to
    │   ├── UnknownSessionError     (also a LookupError) no such session in the series
    │   ├── UndatedSessionError     the session has no date yet, so nothing can be credited
    │   └── UnknownParticipantError (also a LookupError) no such person on the roster
    ├── ClaimError                  a credit claim is more than the attendance supports
    ├── CertificateError            a certificate cannot be built or drawn
    │   └── UnrenderableTextError   the configured fonts cannot draw some characters
    ├── VerificationError           a code or key cannot be checked
    ├── LedgerError                 the durable record refuses an operation
    │   ├── RetentionError          a record is still inside its retention period
    │   ├── IdentityConflictError   a roster entry contradicts the people the ledger knows
    │   └── LedgerTamperedError     rows a question relies on disagree with the audit chain
    ├── DataFileError               an input file is unreadable or invalid; carries .path, .line
    └── OutputWriteError            (also an OSError) an output file or folder cannot be written;
                                    carries .path

Bad field values at construction are pydantic.ValidationError (a ValueError), not these.
Every message names the thing at fault, and the attributes carry it for callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

__all__ = [
    "AttendanceError",
    "BalintCmeError",
    "CertificateError",
    "ClaimError",
    "DataFileError",
    "EnrollmentError",
    "IdentityConflictError",
    "InvalidArgumentError",
    "LedgerError",
    "LedgerTamperedError",
    "OutputWriteError",
    "RetentionError",
    "ScheduleError",
    "UndatedSessionError",
    "UnknownParticipantError",
    "UnknownSessionError",
    "UnrenderableTextError",
    "VerificationError",
]


class BalintCmeError(Exception):
    """Base of every error balint_cme raises on purpose."""


class InvalidArgumentError(BalintCmeError, ValueError):
    """A function was called with a value it cannot take, e.g. a claim of "4.8" credits (not a
    multiple of 0.25) or a transcript window that ends before it starts.

    Also a ValueError, so code written against the plain ValueError these calls used to raise
    keeps working.
    """


class ScheduleError(BalintCmeError):
    """A recurrence cannot be expanded into session dates."""


class EnrollmentError(BalintCmeError):
    """A person cannot be enrolled: wrong eligibility, or the roster is closed."""

    def __init__(self, message: str, *, participant_id: str) -> None:
        super().__init__(message)
        self.participant_id = participant_id


class AttendanceError(BalintCmeError):
    """Attendance contradicts the series it refers to."""


class UnknownSessionError(AttendanceError, LookupError):
    """A session number that the series does not have."""

    def __init__(self, session: int | str, *, series_id: str) -> None:
        super().__init__(f"series {series_id!r} has no session {session}")
        self.session = session
        self.series_id = series_id

    def __str__(self) -> str:
        # LookupError would otherwise quote the message like a dict key.
        return str(self.args[0])


class UndatedSessionError(AttendanceError):
    """Credit was asked for a session whose date is not yet known."""

    def __init__(self, session: int, *, series_id: str | None = None) -> None:
        where = f"series {series_id!r} session {session}" if series_id else f"session {session}"
        super().__init__(
            f"{where} has no date yet (planned, dates TBD): credit cannot be computed for it"
        )
        self.session = session
        self.series_id = series_id


class UnknownParticipantError(AttendanceError, LookupError):
    """A participant id that is not on the series' roster."""

    def __init__(self, participant_id: str, *, series_id: str | None) -> None:
        if series_id:
            message = f"series {series_id!r} has no participant {participant_id!r}"
        else:
            message = f"no participant {participant_id!r} in any of the given series"
        super().__init__(message)
        self.participant_id = participant_id
        self.series_id = series_id

    def __str__(self) -> str:
        return str(self.args[0])


class ClaimError(BalintCmeError):
    """A credit claim exceeds what the recorded participation supports."""

    def __init__(
        self,
        *,
        participant_id: str,
        name: str,
        series_id: str,
        claimed: Decimal,
        supported: Decimal,
        short_sessions: Sequence[str],
    ) -> None:
        detail = "; ".join(short_sessions) if short_sessions else "no session falls short"
        super().__init__(
            f"{name} ({participant_id}) claims {claimed:.2f} credits for series {series_id!r} "
            f"but participation supports {supported:.2f}: {detail}"
        )
        self.participant_id = participant_id
        self.name = name
        self.series_id = series_id
        self.claimed = claimed
        self.supported = supported
        self.short_sessions = tuple(short_sessions)


class CertificateError(BalintCmeError):
    """A certificate cannot be built or drawn."""


class UnrenderableTextError(CertificateError):
    """Some characters have no glyph in any configured font.

    Attributes:
        field: the certificate field ("name", "series_title", ...).
        characters: every character no font draws, each once, in order.
        person: whose certificate it is, e.g. "王秀英 (p07)" ("" when unknown).
        advice: what would draw the characters (a font to name, a package to install).
    """

    def __init__(
        self,
        field: str,
        characters: Sequence[str],
        *,
        person: str = "",
        certificate: str = "",
        advice: str = "",
    ) -> None:
        shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in characters)
        whose = ""
        if person or certificate:
            whose = "certificate " + certificate if certificate else "certificate"
            whose += f" for {person}: " if person else ": "
        advice = advice or (
            "add a TrueType font that covers them to the layout's extra_fonts "
            "(certify --layout FILE; see docs/certificates.md)"
        )
        super().__init__(f"{whose}{field}: the configured fonts cannot draw {shown}; {advice}")
        self.field = field
        self.characters = tuple(characters)
        self.person = person
        self.advice = advice


class VerificationError(BalintCmeError):
    """A verification code, key or key file cannot be used."""


class LedgerError(BalintCmeError):
    """The durable record refuses an operation or is inconsistent."""


class IdentityConflictError(LedgerError):
    """A roster entry contradicts what the ledger knows about people: a roster id reused for
    someone else, or an NPI or e-mail that already belongs to another person. The message
    names both records and how to resolve it; nothing was written."""


class RetentionError(LedgerError):
    """A record cannot be deleted before its retention period ends.

    Attributes:
        allowed_on: the first date the deletion is allowed, when known.
    """

    def __init__(self, message: str, *, allowed_on: date | None = None) -> None:
        super().__init__(message)
        self.allowed_on = allowed_on


class LedgerTamperedError(LedgerError):
    """Rows the ledger was asked about differ from what its hash-chained audit log records.

    Attributes:
        subject: what was asked about (a certificate number).
        problems: each disagreement found, naming the row or event.
    """

    def __init__(self, path: Path | str, subject: str, problems: Sequence[str]) -> None:
        self.subject = subject
        self.problems = tuple(problems)
        shown = "; ".join(self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(
            f"{path}: the ledger was changed outside balint_cme, so its record of {subject} "
            f"cannot be trusted: {shown}{more}; run `balint-cme ledger check`"
        )


class DataFileError(BalintCmeError):
    """An input file is unreadable or invalid.

    Attributes:
        path: the file at fault.
        line: the 1-based line number, when the problem has one.
        reason: what is wrong, without the file name.
        problems: every problem found, each a full message (the first is `str(self)`).
    """

    def __init__(
        self,
        path: Path | str,
        reason: str,
        *,
        line: int | None = None,
        problems: Sequence[str] = (),
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = str(self.path) if line is None else f"{self.path} line {line}"
        super().__init__(f"{where}: {reason}")
        self.problems: tuple[str, ...] = tuple(problems) or (str(self),)


class OutputWriteError(BalintCmeError, OSError):
    """An output file or folder cannot be written (a certificate, an export, a calendar, a
    site): the folder is missing or read-only, the disk is full, a file is in the way. Input
    files that cannot be read are DataFileError.

    Also an OSError, so code that falls back on any write failure (e.g. keeping a font instance
    in memory when the cache folder is read-only) keeps doing so.

    Attributes:
        path: the file or folder that could not be written.
        reason: what went wrong, without the path.
    """

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __str__(self) -> str:
        # OSError would otherwise format errno and filename fields we do not set.
        return str(self.args[0])
