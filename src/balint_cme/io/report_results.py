"""What reading meeting reports returns: the AttendanceReading and the rows and files behind it.

AttendanceReading holds the attendance records of roster people, the rows that matched nobody
(UnmatchedRow), the notes a coordinator should read, and one ReportSource per file read (the
ledger's attendance evidence). Accumulator is the same, under construction while files are
read; nothing reaches a caller until every file has been read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from balint_cme.attendance import AttendanceRecord, AttendanceRegister

__all__ = [
    "Accumulator",
    "AttendanceReading",
    "ReportSource",
    "UnmatchedRow",
    "lines_list",
    "minutes",
]

_TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class UnmatchedRow:
    """A row that matched nobody on the roster, or more than one person. It earns nothing."""

    file: str
    """The file name as given (str(path))."""
    line: int
    """1-based line in the file; for Zoom API JSON the participant's 1-based position in the
    file, counting across pages in order."""
    name: str
    """The display name as the report shows it (with a Zoom rename's original name)."""
    email: str | None
    session: int | None
    """1-based session the row belongs to."""
    minutes: Decimal
    """The row's time clipped to the session window, two decimals."""
    reason: str
    """"no roster match", "ambiguous: p08, p09", "no roster participant 'p99'"."""


@dataclass(frozen=True, slots=True)
class ReportSource:
    """One file read: what the ledger keeps as attendance evidence."""

    path: str
    sha256: str
    """Hex SHA-256 of the file's bytes."""
    format: str
    """"zoom-participants-classic", "zoom-participants-new", "zoom-unique-users",
    "zoom-api-json", "teams-2021", "teams-2022", "teams-2022-totals" or "sign-in-csv"."""
    platform: str
    """"zoom", "zoom-api", "teams" or "sign-in" (as in Evidence.platform)."""
    session: int | None
    """The session the file belongs to; None when its rows name several (a sign-in sheet)."""
    rows: int
    """Data rows read, waiting-room rows included."""
    encoding: str
    export_tz: str | None
    """The zone naive times were read in; None when every time carries its own offset."""
    is_aggregate: bool = False
    """Some rows carry totals only (Zoom unique users, Teams totals, sign-in minutes)."""


@dataclass(frozen=True)
class AttendanceReading:
    """What one or more reports say: records for roster people, and what could not be used."""

    records: tuple[AttendanceRecord, ...]
    unmatched: tuple[UnmatchedRow, ...]
    notes: tuple[str, ...]
    """Things a coordinator should know: aggregate evidence, waiting-room rows, facilitators
    not on the roster, totals that add past the meeting length, day-first dates."""
    sources: tuple[ReportSource, ...]
    facilitator_rows: int = 0
    """Rows of facilitators who are not on the roster: neither records nor unmatched."""
    host_rows: int = field(default=0)
    """Rows of the meeting host's account (from the Zoom summary) that match nobody."""
    double_evidence: tuple[str, ...] = ()
    """People with per-join times and totals-only evidence for one session: what was credited
    (the kind that proves more, never the two added up). Also among `notes`; `certify` prints
    these as warnings."""

    def register(self) -> AttendanceRegister:
        """The records as an AttendanceRegister, ready for award_series()."""
        return AttendanceRegister(self.records)


class Accumulator:
    """What the files read so far contribute, built up row by row; frozen into an
    AttendanceReading once every file is read."""

    def __init__(self) -> None:
        self.records: list[AttendanceRecord] = []
        self.double_evidence: list[str] = []
        self.aggregate_records: list[AttendanceRecord] = []
        """Records made from totals (placed, not timed): kept apart until every file is read."""
        self.unmatched: list[UnmatchedRow] = []
        self.notes: list[str] = []
        self.facilitator_rows = 0
        self.host_rows = 0


def minutes(seconds: int) -> Decimal:
    """Seconds as minutes to two decimals, as results and notes show them (never negative)."""
    return (Decimal(max(seconds, 0)) / 60).quantize(_TWO_PLACES)


def lines_list(lines: Sequence[int], limit: int = 10) -> str:
    """ "3, 5, 9, ...": line numbers for a note, at most `limit` of them."""
    shown_lines = ", ".join(str(n) for n in lines[:limit])
    return shown_lines + (", ..." if len(lines) > limit else "")
