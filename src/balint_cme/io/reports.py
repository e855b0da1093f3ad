"""Attendance from meeting reports: detect the format, place the report in a session, match
rows to the roster, and return attendance records plus everything that could not be matched.

The readers (zoom.py, teams.py, signin_csv.py) turn text into ReportRows; this module owns
what they share: format detection from content (never the file name), day/month order settled
against the known session dates, the export time zone, session assignment, roster matching
(e-mail, then aliases, then a normalised name; never a guess between two people) and the
AttendanceReading the CLI and ledger use. Nothing is applied partially: a bad file raises
DataFileError naming the file, the line and the problem, and no reading is returned.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from balint_cme.attendance import (
    MAX_LINE_RANGES,
    AttendanceRecord,
    AttendanceRegister,
    Evidence,
    attended_seconds,
    compact_line_ranges,
    merge_intervals,
    paused_garbage_collector,
)
from balint_cme.errors import DataFileError, UndatedSessionError, UnknownSessionError
from balint_cme.io import report_rows
from balint_cme.io.report_rows import (
    MAX_REPORT_BYTES,
    ParsedReport,
    ParsedTime,
    ReportRow,
    check_line_length,
    decode_report,
    is_minute_resolution,
    is_tag,
    parse_clock_time,
    parse_timestamp,
    shown,
    split_table,
    stream_table,
    trailing_parenthetical,
)
from balint_cme.io.signin_csv import is_sign_in_header, parse_sign_in, sign_in_delimiter
from balint_cme.io.teams import is_teams_header, parse_teams
from balint_cme.io.zoom import is_zoom_csv_header, parse_zoom_api_json, parse_zoom_csv
from balint_cme.model import Series, Session, facilitator_links

logger = logging.getLogger(__name__)

__all__ = [
    "COMMON_EXPORT_ZONES",
    "MAX_REPORT_BYTES",
    "AttendanceReading",
    "ReportRow",
    "ReportSource",
    "ReportSpec",
    "RosterMatch",
    "RosterMatcher",
    "UnmatchedRow",
    "detect_format",
    "normalise_name",
    "read_report",
    "read_report_bytes",
    "read_reports",
]

ReportKind = Literal["zoom-api-json", "zoom-csv", "teams", "sign-in-csv"]
_TWO_PLACES = Decimal("0.01")


# ---------------------------------------------------------------------------------------------
# Results


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


# ---------------------------------------------------------------------------------------------
# Names


_PREFIX = re.compile(r"^(?:dr|doctor|prof|professor)\b\.?\s+", re.IGNORECASE)
_CREDENTIALS = frozenset(
    {
        *("MD", "DO", "PHD", "MFT", "LMFT", "NP", "RN", "LCSW", "MBBS", "MBCHB", "PSYD", "DNP"),
        *("PA", "PAC", "MPH", "FAAFP", "FACP", "FAPA", "MSW", "MSN", "BSN", "APRN", "FNP"),
        *("PMHNP", "LPCC", "LPC", "DDS", "PHARMD", "MBA", "MS", "MA", "MBBCH", "MDCM", "BMBS"),
    }
)
_MIXED_CASE_CREDENTIALS = frozenset({"PhD", "PsyD", "PharmD", "MBChB", "MBBCh"})
_GENERATIONAL = frozenset({"jr", "sr", "ii", "iii", "iv"})
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "\u0131": "i",  # dotless i
        "þ": "th",
    }
)
_APOSTROPHES = re.compile("['`\u2019\u02bc]")
_NOT_WORD = re.compile(r"[\W_]+")
_PHONE = re.compile(r"\+?[\d\s().\-]{7,}")
_UNSPACED_SCRIPTS = (
    (0x1100, 0x11FF),  # Hangul jamo (Hangul syllables decompose to these)
    (0x3040, 0x30FF),  # kana
    (0x3130, 0x318F),
    (0x3400, 0x4DBF),  # CJK
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FA1F),
)


def _is_unspaced(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED_SCRIPTS)


def _credential_part(text: str) -> bool:
    tokens = [t for t in re.split(r"[\s/]+", text.replace(".", "")) if t]
    return bool(tokens) and all(t.upper() in _CREDENTIALS for t in tokens)


def _credential_token(token: str) -> bool:
    bare = token.strip(".,").replace(".", "")
    return (bare.isupper() and bare in _CREDENTIALS) or bare in _MIXED_CASE_CREDENTIALS


def _without_tags(text: str) -> str:
    while True:
        parts = trailing_parenthetical(text)
        if parts is None or not parts[0] or not is_tag(parts[1]):
            return text
        text = parts[0]


def _without_parentheticals(text: str) -> str:
    while True:
        parts = trailing_parenthetical(text)
        if parts is None or not parts[0]:
            return text
        text = parts[0]


def normalise_name(text: str) -> str:
    """The key two spellings of one person's name share.

    Ignores case, accents, punctuation, a "Dr." prefix, credential suffixes (", MD", " M.D.",
    ", MD, PhD"), "Last, First" order, and trailing labels in parentheses that are not part of
    the name: Teams' "(External)" and "(Unverified)", devices ("(iPad)"), pronouns
    ("(she/her)"). A phone number becomes "tel:" and its digits. "" for nothing left.
    """
    text = " ".join(unicodedata.normalize("NFKC", text).split())
    text = _without_tags(text)
    if _PHONE.fullmatch(text):
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]  # +1 (North America) is often dropped
        if len(digits) >= 7:
            return f"tel:{digits}"
    text = _PREFIX.sub("", text)
    parts = [part.strip() for part in text.split(",")]
    while len(parts) > 1 and _credential_part(parts[-1]):
        parts.pop()
    if len(parts) == 2 and parts[0] and parts[1]:
        if parts[1].strip(".").casefold() in _GENERATIONAL:
            text = f"{parts[0]} {parts[1]}"
        else:
            text = f"{parts[1]} {parts[0]}"  # "Núñez, José" -> "José Núñez"
    else:
        text = " ".join(parts)
    tokens = text.split()
    while len(tokens) > 2 and _credential_token(tokens[-1]):
        tokens.pop()
    text = _PREFIX.sub("", " ".join(tokens))
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).translate(_LETTERS)
    text = _APOSTROPHES.sub("", text)
    text = " ".join(_NOT_WORD.sub(" ", text).split())
    if text and all(_is_unspaced(ch) for ch in text if ch != " "):
        text = text.replace(" ", "")  # "王 秀英" and "王秀英" are one name
    return text


_name_key = lru_cache(maxsize=65_536)(normalise_name)
"""normalise_name, remembered: a large report repeats the same names many times."""


def _loose_key(text: str) -> str:
    """The key with every trailing parenthesis removed ("Ana Ruiz (Clinic)" -> "ana ruiz")."""
    return _name_key(_without_parentheticals(" ".join(text.split())))


def _token_key(key: str) -> str:
    """Word order ignored: "nguyen thi minh anh" and "minh anh nguyen thi" share this key."""
    words = key.split()
    return " ".join(sorted(words)) if len(words) >= 2 else ""


class RosterMatch(NamedTuple):
    """Who a report row is: a roster participant, a facilitator not on the roster, or nobody."""

    participant_id: str | None
    facilitator: str | None = None
    """The facilitator's name when the row is a facilitator who is not on the roster."""
    reason: str | None = None
    """Why the row matched nobody: "no roster match" or "ambiguous: p08, p09"."""
    via: str = ""
    """"participant_id", "email", "alias", "name", "name without parentheses" or
    "name in any word order"."""


_FACILITATOR = "facilitator:"


class RosterMatcher:
    """Matches report rows to a series' roster and its facilitators.

    Order: the row's participant_id (sign-in sheets); e-mail, case-insensitive, against
    participants' e-mails and aliases that are e-mails; aliases; the normalised name; the name
    without any trailing parentheses; the name's words in any order. At the first level that
    finds anyone, one person is a match and two or more are ambiguous: never a guess.
    """

    def __init__(self, series: Series) -> None:
        self._ids = {p.id for p in series.participants}
        self._emails: dict[str, set[str]] = {}
        self._levels: tuple[dict[str, set[str]], ...] = ({}, {}, {}, {})
        aliases, names, loose, words = self._levels
        for participant in series.participants:
            if participant.email:
                self._emails.setdefault(participant.email.casefold(), set()).add(participant.id)
            for alias in participant.aliases:
                if "@" in alias and " " not in alias.strip():
                    self._emails.setdefault(alias.strip().casefold(), set()).add(participant.id)
                else:
                    self._index(alias, participant.id, aliases)
            self._index(participant.name, participant.id, names)
        linked = {id(link.facilitator): link.participant_id for link in facilitator_links(series)}
        for facilitator in series.facilitators:
            # A facilitator on the roster (linked by participant_id, e-mail or name) is that
            # roster entry; the credit engine withholds credit for the sessions they lead.
            target = linked.get(id(facilitator)) or f"{_FACILITATOR}{facilitator.name}"
            self._index(facilitator.name, target, names)
            if facilitator.email and target.startswith(_FACILITATOR):
                self._emails.setdefault(facilitator.email.casefold(), set()).add(target)
        for index in (aliases, names):
            for key, targets in index.items():
                loose.setdefault(key, set()).update(targets)
                token = _token_key(key)
                if token:
                    words.setdefault(token, set()).update(targets)
        self._cache: dict[tuple[str, str | None, str | None, str | None], RosterMatch] = {}

    @staticmethod
    def _index(text: str, target: str, index: dict[str, set[str]]) -> None:
        key = normalise_name(text)
        if key:
            index.setdefault(key, set()).add(target)

    def match(
        self,
        name: str,
        *,
        email: str | None = None,
        original_name: str | None = None,
        participant_id: str | None = None,
    ) -> RosterMatch:
        """Who the row with this name, e-mail and (Zoom) original name is."""
        cache_key = (name, email, original_name, participant_id)
        found = self._cache.get(cache_key)
        if found is None:
            found = self._match(name, email, original_name, participant_id)
            self._cache[cache_key] = found
        return found

    def _match(
        self, name: str, email: str | None, original: str | None, participant_id: str | None
    ) -> RosterMatch:
        if participant_id:
            if participant_id in self._ids:
                return RosterMatch(participant_id, via="participant_id")
            return RosterMatch(None, reason=f"no roster participant {participant_id!r}")
        if email:
            hits = self._emails.get(email.strip().casefold())
            if hits:
                return self._decide(hits, "email")
        candidates = [text for text in (name, original) if text]
        keys = [_name_key(text) for text in candidates]
        aliases, names, loose, words = self._levels
        lookups: tuple[tuple[str, dict[str, set[str]], list[str]], ...] = (
            ("alias", aliases, keys),
            ("name", names, keys),
            ("name without parentheses", loose, [_loose_key(text) for text in candidates]),
            ("name in any word order", words, [_token_key(key) for key in keys]),
        )
        for via, index, level_keys in lookups:
            hits = set()
            for key in level_keys:
                if key:
                    hits.update(index.get(key, ()))
            if hits:
                return self._decide(hits, via)
        return RosterMatch(None, reason="no roster match")

    @staticmethod
    def _decide(hits: set[str], via: str) -> RosterMatch:
        if len(hits) > 1:
            shown_hits = sorted(hit.removeprefix(_FACILITATOR) for hit in hits)
            return RosterMatch(None, reason=f"ambiguous: {', '.join(shown_hits)}", via=via)
        (hit,) = hits
        if hit.startswith(_FACILITATOR):
            return RosterMatch(None, facilitator=hit.removeprefix(_FACILITATOR), via=via)
        return RosterMatch(hit, via=via)


def _explain_match(file: str, row: ReportRow, session: int, found: RosterMatch) -> None:
    """Log (at DEBUG, shown by `balint-cme -v`) who a row matched and by which rule."""
    who = shown(row.name) + (f" <{row.email}>" if row.email else "")
    if found.participant_id is not None:
        outcome = f"matched {found.participant_id} by {found.via}"
    elif found.facilitator is not None:
        outcome = f"is facilitator {shown(found.facilitator)} (not on the roster) by {found.via}"
    else:
        outcome = f"matched nobody: {found.reason or 'no roster match'}"
    logger.debug("%s line %s (session %s): %s %s", file, row.line, session, who, outcome)


# ---------------------------------------------------------------------------------------------
# Format detection


def detect_format(text: str, path: Path | str) -> ReportKind:
    """Which reader a report's text needs, from its content (never its file name).

    JSON (first character `{` or `[`) is a Zoom report API response. Otherwise the first
    non-blank line decides: `Meeting Summary`, `1. Summary` or a tab-separated header with
    Join Time and Full Name (or Name and Role) is Teams; a Zoom summary header (`Meeting ID,...`
    or `Topic,ID,...`) or a participants header with a Name column and Join Time, Leave Time,
    Duration (Minutes) or Total Duration (Minutes) is Zoom; a header with participant_id, name
    or email and join+leave or minutes is a sign-in sheet.

    Raises:
        DataFileError: an empty file, an over-long line, or none of these.
    """
    stripped = text.lstrip()
    if not stripped:
        raise DataFileError(path, "is empty")
    if stripped[0] in "{[":
        return "zoom-api-json"
    number, line = _first_line(text, path)
    tab_cells = split_table([line], path, delimiter="\t")
    comma_cells = split_table([line], path, delimiter=",")
    if "\t" in line and tab_cells and is_teams_header(tab_cells[0].cells):
        return "teams"
    if not tab_cells or not comma_cells:  # pragma: no cover - a non-blank line has cells
        raise DataFileError(path, "has no header", line=number)
    if is_teams_header(tab_cells[0].cells):
        return "teams"  # a single-column heading such as "1. Summary"
    if is_zoom_csv_header(comma_cells[0].cells):
        return "zoom-csv"
    sign_in = split_table([line], path, delimiter=sign_in_delimiter(line))
    if sign_in and is_sign_in_header(sign_in[0].cells):
        return "sign-in-csv"
    raise DataFileError(
        path,
        f"is not a recognised attendance report: {shown(line.strip())} is not the start of a "
        "Zoom participants export, Zoom report API JSON, Teams attendance report or sign-in "
        "sheet",
        line=number,
    )


_NEWLINE = re.compile(r"\r\n|\r|\n")


def _first_line(text: str, path: Path | str) -> tuple[int, str]:
    """The first non-blank line and its number, refusing an over-long line before splitting."""
    number, start = 1, 0
    while True:
        found = _NEWLINE.search(text, start)
        line = text[start : found.start() if found else len(text)]
        check_line_length(line, number, path)
        if line.strip():
            return number, line
        if found is None:
            raise DataFileError(path, "is empty")
        start, number = found.end(), number + 1


def _parse(text: str, path: Path | str) -> ParsedReport:
    kind = detect_format(text, path)
    if kind == "zoom-api-json":
        if len(text) > report_rows.MAX_JSON_CHARS:
            raise DataFileError(
                path,
                f"is {len(text):,} characters of JSON; Zoom report API JSON is read whole, so at "
                f"most {report_rows.MAX_JSON_CHARS:,} (split it into its pages)",
            )
        return parse_zoom_api_json(text, path)
    if kind == "teams":
        return parse_teams(stream_table(text, path, delimiter="\t"), path)
    # Streamed line by line: a large export is never held as lines or cells.
    if kind == "zoom-csv":
        return parse_zoom_csv(stream_table(text, path, delimiter=","), path)
    _, first = _first_line(text, path)
    return parse_sign_in(stream_table(text, path, delimiter=sign_in_delimiter(first)), path)


# ---------------------------------------------------------------------------------------------
# Times


class _Where(NamedTuple):
    line: int
    label: str


def _row_error(parsed: ParsedReport, path: Path | str, line: int, reason: str) -> DataFileError:
    if parsed.platform == "zoom-api":
        return DataFileError(path, f"participant {line}: {reason}")
    return DataFileError(path, reason, line=line)


def _session_dates(sessions: Iterable[Session], zone: ZoneInfo) -> set[date]:
    """Local dates (in the export zone) a session's rows may carry: its days, and one either side."""
    dates: set[date] = set()
    for session in sessions:
        if session.starts_at is None or session.ends_at is None:
            continue
        for moment in (session.starts_at, session.ends_at):
            day = moment.astimezone(zone).date()
            dates.update((day - timedelta(days=1), day, day + timedelta(days=1)))
    return dates


def _resolve_order(
    parsed: ParsedReport,
    path: Path | str,
    readings: dict[str, ParsedTime],
    locate: Callable[[str], _Where],
    plausible: set[date],
) -> tuple[Literal["month_first", "day_first"], str | None]:
    """The file's day/month order: from a field above 12, else from the session dates."""
    month_first_evidence = next(
        (text for text, value in readings.items() if value.day_first is None), None
    )
    day_first_evidence = next(
        (text for text, value in readings.items() if value.month_first is None), None
    )
    if month_first_evidence is not None and day_first_evidence is not None:
        a, b = locate(month_first_evidence), locate(day_first_evidence)
        raise _row_error(
            parsed,
            path,
            b.line,
            f"{b.label} {shown(day_first_evidence)} is day-first but line {a.line}'s "
            f"{shown(month_first_evidence)} is month-first: one date order per file",
        )
    if month_first_evidence is not None:
        return "month_first", None
    if day_first_evidence is not None:
        return "day_first", None
    ambiguous = [text for text, value in readings.items() if value.is_ambiguous]
    if not ambiguous:
        return "month_first", None

    def fits(order: Literal["month_first", "day_first"]) -> bool:
        for text in ambiguous:
            value = getattr(readings[text], order)
            if value is None or value.date() not in plausible:
                return False
        return True

    month_first, day_first = fits("month_first"), fits("day_first")
    example = ambiguous[0]
    spot = locate(example)
    if month_first and not day_first:
        return "month_first", None
    if day_first and not month_first:
        return "day_first", (
            f"dates such as {shown(example)} read day-first: only that order puts them on "
            "the session's date"
        )
    value = readings[example]
    assert value.month_first is not None
    assert value.day_first is not None
    if month_first:
        reason = (
            f"{spot.label} {shown(example)} could be {value.month_first:%Y-%m-%d} or "
            f"{value.day_first:%Y-%m-%d}, and both are session dates; name the session"
        )
    else:
        reason = (
            f"{spot.label} {shown(example)} falls on no session date as "
            f"{value.month_first:%Y-%m-%d} (month first) nor as {value.day_first:%Y-%m-%d} "
            "(day first); check the session number and the report"
        )
    raise _row_error(parsed, path, spot.line, reason)


_LAST_SECOND = timedelta(seconds=59)


class _Clock:
    """Turns a file's time text into aware datetimes and epoch seconds, once per distinct text."""

    def __init__(
        self,
        parsed: ParsedReport,
        path: Path | str,
        zone: ZoneInfo,
        plausible: set[date],
    ) -> None:
        self.zone = zone
        self.values: dict[str, tuple[datetime, int]] = {}
        """Full timestamps: text -> (aware datetime, epoch seconds)."""
        self.clock_only: set[str] = set()
        """Times of day without a date (sign-in sheets), placed on the session's date."""
        self.meeting: tuple[datetime, datetime] | None = None
        self.naive_seen = False
        """Whether some time had no offset and was read as wall-clock time in `zone`."""
        rows = parsed.rows
        summary = [text for text in (parsed.meeting_start, parsed.meeting_end) if text]

        def locate(text: str) -> _Where:
            for row in rows:
                if row.joined == text:
                    return _Where(row.line, parsed.join_label)
                if row.left == text:
                    return _Where(row.line, parsed.leave_label)
            return _Where(parsed.summary_line or 1, "the meeting's start or end time")

        readings: dict[str, ParsedTime] = {}
        texts = dict.fromkeys([row.joined for row in rows])
        texts.update(dict.fromkeys([row.left for row in rows]))
        texts.pop(None, None)
        bad: set[str] = set()
        for text in texts:
            assert text is not None
            value = parse_timestamp(text)
            if value is not None:
                readings[text] = value
            elif parsed.platform == "sign-in" and parse_clock_time(text) is not None:
                self.clock_only.add(text)
            else:
                bad.add(text)
        if bad:
            # Report the first bad value in file order.
            for row in rows:
                for text, label in (
                    (row.joined, parsed.join_label),
                    (row.left, parsed.leave_label),
                ):
                    if text in bad:
                        raise _row_error(
                            parsed, path, row.line, f"{label} {shown(text)} is not a date"
                        )
        # The summary only helps place a totals-only report: unreadable summary times are skipped.
        summary_readings = {
            text: value
            for text in summary
            if text not in readings and (value := parse_timestamp(text)) is not None
        }
        order, self.note = _resolve_order(
            parsed, path, {**readings, **summary_readings}, locate, plausible
        )
        for text, value in (*readings.items(), *summary_readings.items()):
            chosen = getattr(value, order)
            if chosen is None:
                if text in summary_readings:
                    continue
                spot = locate(text)
                raise _row_error(
                    parsed, path, spot.line, f"{spot.label} {shown(text)} is not a date"
                )
            if chosen.tzinfo is None:
                chosen = chosen.replace(tzinfo=zone)
                self.naive_seen = True
            self.values[text] = (chosen, int(chosen.timestamp()))
        self.minute_texts = {
            text for text in (*self.values, *self.clock_only) if is_minute_resolution(text)
        }
        """Times given to the minute (no seconds): a join is read as the last second of its
        minute, a leave as the first (never credit time the file does not prove)."""
        self.minute_rows = any(
            text in self.minute_texts for row in rows for text in (row.joined, row.left) if text
        )
        if len(summary) == 2 and summary[0] in self.values and summary[1] in self.values:
            start, end = self.values[summary[0]][0], self.values[summary[1]][0]
            if summary[0] in self.minute_texts:
                start += _LAST_SECOND
            self.meeting = (min(start, end), end)

    def conservative(
        self, joined: datetime, left: datetime, joined_text: str, left_text: str
    ) -> tuple[datetime, datetime]:
        """A join given to the minute moved to that minute's last second (19:22 -> 19:22:59);
        a leave given to the minute stays at its first. Never a leave before the join."""
        if joined_text in self.minute_texts:
            joined = min(joined + _LAST_SECOND, left)
        return joined, left

    def on_session_day(self, text: str, session: Session) -> datetime:
        """A time of day ("18:45") on the session's local date, the day after if it is long
        before the start (a session crossing midnight)."""
        assert session.starts_at is not None
        clock = parse_clock_time(text)
        assert clock is not None
        start = session.starts_at.astimezone(self.zone)
        moment = datetime.combine(start.date(), clock, tzinfo=self.zone)
        if moment.timestamp() < start.timestamp() - 12 * 3600:
            moment = datetime.combine(start.date() + timedelta(days=1), clock, tzinfo=self.zone)
        self.naive_seen = True
        return moment


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


# ---------------------------------------------------------------------------------------------
# Sessions


class _Window(NamedTuple):
    session: Session
    start: int
    end: int


def _window(session: Session) -> _Window:
    assert session.starts_at is not None
    start = _epoch(session.starts_at)
    return _Window(session, start, start + session.duration_minutes * 60)


_Interval = tuple[datetime, datetime, int, int]
"""Joined and left as aware datetimes, then as epoch seconds."""


def _row_window(
    parsed: ParsedReport,
    path: Path | str,
    series: Series,
    row: ReportRow,
    number: int,
    explicit: Session | None,
) -> _Window:
    """The window of the session a row belongs to, refusing numbers the series lacks."""
    if explicit is not None and number != explicit.number:
        raise _row_error(
            parsed,
            path,
            row.line,
            f"session {number}, but the file was given as session {explicit.number}",
        )
    session = series.session(number)
    if session is None:
        raise _row_error(
            parsed,
            path,
            row.line,
            f"session {number} is not in series {series.id!r} (it has {len(series.sessions)})",
        )
    if session.starts_at is None:
        raise _row_error(parsed, path, row.line, f"session {number} has no date yet")
    return _window(session)


def _checked_session(series: Series, number: int) -> Session:
    session = series.session(number)
    if session is None:
        raise UnknownSessionError(number, series_id=series.id)
    if session.starts_at is None:
        raise UndatedSessionError(number, series_id=series.id)
    return session


def _describe_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    a, b = start.astimezone(zone), end.astimezone(zone)
    return f"{a:%Y-%m-%d %H:%M} to {b:%Y-%m-%d %H:%M} {b:%Z}"


def _assign_session(
    series: Series,
    path: Path | str,
    intervals: Sequence[_Interval],
    meeting: tuple[datetime, datetime] | None,
) -> Session:
    spans = [(a, b) for a, b, _, _ in intervals]
    if not spans and meeting is not None:
        spans = [meeting]
    if not spans:
        raise DataFileError(
            path,
            "has no join or leave times to find its session from; name the session "
            "(session=N, or --session N)",
        )
    epochs = [(a, b) for _, _, a, b in intervals] or [(_epoch(a), _epoch(b)) for a, b in spans]
    overlapping = [
        w.session
        for w in (_window(s) for s in series.dated_sessions)
        if any(a < w.end and b > w.start for a, b in epochs)
    ]
    if len(overlapping) == 1:
        return overlapping[0]
    first = min(a for a, _ in spans)
    last = max(b for _, b in spans)
    span = _describe_span(first, last, series.zone)
    if not overlapping:
        raise _NoSessionFits(
            path,
            f"its times ({span}) overlap no session of series {series.id!r}; check the export "
            "time zone or name the session",
        )
    numbers = ", ".join(str(s.number) for s in overlapping)
    raise DataFileError(
        path, f"its times ({span}) overlap sessions {numbers}; name the session it belongs to"
    )


# ---------------------------------------------------------------------------------------------
# One file


def _zone(name: str, path: Path | str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as err:
        raise DataFileError(
            path, f"export time zone {name!r} is not an IANA time zone (e.g. America/New_York)"
        ) from err


def _evidence_source(path: Path | str) -> str:
    text = str(path)
    return text if len(text) <= 1000 else text[-1000:]


def _minutes(seconds: int) -> Decimal:
    return (Decimal(max(seconds, 0)) / 60).quantize(_TWO_PLACES)


def _display(row: ReportRow) -> str:
    return f"{row.name} ({row.original_name})" if row.original_name else row.name


_FORMAT_WORDS = {
    "zoom-unique-users": "Zoom 'unique users' export",
    "teams-2022-totals": "Teams per-person totals",
    "sign-in-csv": "sign-in sheet minutes",
}


def _lines_list(lines: Sequence[int], limit: int = 10) -> str:
    shown_lines = ", ".join(str(n) for n in lines[:limit])
    return shown_lines + (", ..." if len(lines) > limit else "")


class _NoSessionFits(DataFileError):
    """A report's times fit no (or not the named) session in the zone it was read in."""


class _Merge:
    """One person's timed rows in one session of one file, merged as they are read.

    Credit needs only the union of the intervals, so redundant rows (a million identical
    sign-ins) cost nothing once merged; the lines behind them are kept as ranges. Memory stays
    bounded by the distinct intervals and MAX_LINE_RANGES, not by the number of rows.
    """

    __slots__ = ("compact_at", "first", "intervals", "lines", "rows", "zone")

    def __init__(self) -> None:
        self.intervals: list[tuple[int, int]] = []
        self.lines: list[tuple[int, int]] = []
        self.rows = 0
        self.first: tuple[int, int] | None = None
        self.compact_at = 256
        self.zone: tzinfo | None = None
        """The first row's zone (UTC for API times), so records keep the file's own offset."""

    def add(self, interval: _Interval, row: ReportRow) -> None:
        joined, _left, start, end = interval
        if joined.microsecond:
            start += 1  # whole seconds, rounded inwards: a fraction is never credited
        if self.first is None:
            self.first = (start, max(start, end))
            self.zone = joined.tzinfo
        self.intervals.append((start, end))
        if len(self.intervals) >= self.compact_at:
            self.intervals = merge_intervals(self.intervals)
            self.compact_at = max(256, 2 * len(self.intervals))
        self.rows += row.occurrences
        lines = self.lines
        line = row.line
        if row.repeats:
            lines.extend(row.repeats)
        elif lines and lines[-1][0] <= line <= lines[-1][1] + 1:
            if line > lines[-1][1]:
                lines[-1] = (lines[-1][0], line)
        else:
            lines.append((line, line))
        if len(lines) > 2 * MAX_LINE_RANGES:
            self.lines = list(compact_line_ranges(lines))

    def union(self) -> list[tuple[int, int]]:
        """The merged intervals (one empty interval when every row was empty)."""
        merged = merge_intervals(self.intervals)
        if not merged and self.first is not None:
            merged = [(self.first[0], self.first[0])]
        return merged

    def evidence_values(self, source: str, platform: str) -> dict[str, object]:
        """Evidence fields: the first line, and all lines as ranges when there are several."""
        ranges = compact_line_ranges(self.lines)
        return {
            "source": source,
            "line": ranges[0][0],
            "platform": platform,
            "line_ranges": ranges if self.rows > 1 else (),
            "rows": self.rows,
        }


class _Accumulator:
    """What one file contributes, built up row by row and frozen at the end."""

    def __init__(self) -> None:
        self.records: list[AttendanceRecord] = []
        self.double_evidence: list[str] = []
        self.aggregate_records: list[AttendanceRecord] = []
        """Records made from totals (placed, not timed): kept apart until every file is read."""
        self.unmatched: list[UnmatchedRow] = []
        self.notes: list[str] = []
        self.facilitator_rows = 0
        self.host_rows = 0


def _read_parsed(
    parsed: ParsedReport,
    path: Path | str,
    series: Series,
    matcher: RosterMatcher,
    *,
    session_number: int | None,
    zone: ZoneInfo,
    out: _Accumulator,
) -> tuple[int | None, bool]:
    """Add one parsed report's records, unmatched rows and notes to `out`.

    Returns the file's session (None when its rows name several) and whether any time in it
    was a wall-clock time read in `zone`.
    """
    name = str(path)
    explicit = _checked_session(series, session_number) if session_number is not None else None
    considered = [explicit] if explicit is not None else list(series.dated_sessions)
    if explicit is None and not considered:
        raise DataFileError(path, f"series {series.id!r} has no dated sessions to read it into")
    clock = _Clock(parsed, path, zone, _session_dates(considered, zone))
    if clock.note:
        out.notes.append(f"{name}: {clock.note}")
    if clock.minute_rows:
        out.notes.append(
            f"{name}: times are given to the minute, without seconds (a spreadsheet re-save?): "
            "each join is read as the last second of its minute and each leave as the first, "
            "so no time the file does not prove is credited"
        )

    # Full timestamps -> intervals (with epoch seconds), checking leave >= join.
    rows = parsed.rows
    values = clock.values
    minute_texts = clock.minute_texts
    intervals: dict[int, _Interval] = {}
    for index, row in enumerate(rows):
        joined_text, left_text = row.joined, row.left
        if joined_text is None or left_text is None:
            continue
        joined, left = values.get(joined_text), values.get(left_text)
        if joined is None or left is None:
            if (joined is None) != (left is None):
                raise _row_error(
                    parsed, path, row.line, "join and leave must both be times of day or both dates"
                )
            continue  # times of day: placed once the row's session is known
        if left[1] < joined[1] and left[0].tzinfo is zone:
            later = left[0].replace(fold=1)  # the repeated hour when clocks go back
            left = (later, int(later.timestamp()))
        if left[1] < joined[1]:
            raise _row_error(
                parsed,
                path,
                row.line,
                f"{parsed.leave_label} {shown(left_text)} is before {parsed.join_label} "
                f"{shown(joined_text)}",
            )
        if joined_text in minute_texts:
            # Given to the minute: the join is proven only from that minute's last second.
            if joined[1] + 59 <= left[1]:
                joined = (joined[0] + _LAST_SECOND, joined[1] + 59)
            else:
                joined = left
        intervals[index] = (joined[0], left[0], joined[1], left[1])

    # The file's session: named, or found from the rows that do not name their own.
    file_session: Session | None = explicit
    if any(row.session is not None for row in rows):  # a sign-in sheet naming sessions
        needing = [i for i, row in enumerate(rows) if row.session is None]
        timed = [intervals[i] for i in needing if i in intervals]
    else:
        needing, timed = list(range(len(rows))), list(intervals.values())
    if explicit is not None:
        given = _window(explicit)
        if timed and not any(a < given.end and b > given.start for _, _, a, b in timed):
            first = min(interval[0] for interval in timed)
            last = max(interval[1] for interval in timed)
            assert explicit.starts_at is not None
            assert explicit.ends_at is not None
            planned = _describe_span(explicit.starts_at, explicit.ends_at, series.zone)
            raise _NoSessionFits(
                path,
                f"its times ({_describe_span(first, last, series.zone)}) do not overlap session "
                f"{explicit.number} ({planned}); check the session number and the export time "
                "zone",
            )
    elif needing:
        file_session = _assign_session(series, path, timed, clock.meeting)

    windows: dict[int, _Window] = {}
    merges: dict[tuple[str, int], _Merge] = {}
    aggregates: dict[tuple[str, int], list[ReportRow]] = {}
    facilitators: dict[str, int] = {}
    unmatched_rows: list[tuple[int, int, str]] = []  # index, session, reason
    renamed_from: dict[str, set[str]] = {}
    host_rows = 0
    source = _evidence_source(path)
    platform = parsed.platform
    # Records are built without re-validation: ids come from the validated roster, sessions
    # from the series, and leave >= join was checked above (the hot loop of a large report).
    new_record = AttendanceRecord._from_trusted
    new_evidence = Evidence._from_trusted
    records = out.records
    matches: dict[tuple[str, str | None, str | None, str | None], RosterMatch] = {}
    default_number = file_session.number if file_session is not None else 0

    default_window = _window(file_session) if file_session is not None else None
    if file_session is not None and default_window is not None:
        windows[file_session.number] = default_window
    explain = logger.isEnabledFor(logging.DEBUG)  # -v: why each row matched whom
    for index, row in enumerate(rows):
        if row.session is None and default_window is not None:
            number, window = default_number, default_window
        else:
            number = row.session if row.session is not None else default_number
            found_window = windows.get(number)
            if found_window is None:
                found_window = windows[number] = _row_window(
                    parsed, path, series, row, number, explicit
                )
            window = found_window
        interval = intervals.get(index)
        if interval is None and row.joined is not None and row.left is not None:
            joined_at = clock.on_session_day(row.joined, window.session)
            left_at = clock.on_session_day(row.left, window.session)
            if left_at.timestamp() < joined_at.timestamp():
                left_at += timedelta(days=1)
            joined_at, left_at = clock.conservative(joined_at, left_at, row.joined, row.left)
            interval = intervals[index] = (
                joined_at,
                left_at,
                int(joined_at.timestamp()),
                int(left_at.timestamp()),
            )
        key = (row.name, row.email, row.original_name, row.participant_id)
        found = matches.get(key)
        if found is None:
            found = matches[key] = matcher.match(
                row.name,
                email=row.email,
                original_name=row.original_name,
                participant_id=row.participant_id,
            )
        participant_id = found.participant_id
        if explain:
            _explain_match(name, row, number, found)
        if participant_id is not None:
            if row.original_name:
                original_key = _name_key(row.original_name)
                owners = renamed_from.get(original_key)
                if owners is None:
                    renamed_from[original_key] = {participant_id}
                else:
                    owners.add(participant_id)
            if interval is not None:
                merge = merges.get((participant_id, number))
                if merge is None:
                    merge = merges[participant_id, number] = _Merge()
                merge.add(interval, row)
            else:
                aggregates.setdefault((participant_id, number), []).append(row)
        elif found.facilitator is not None:
            facilitators[found.facilitator] = facilitators.get(found.facilitator, 0) + 1
        elif (
            parsed.host_email
            and row.email
            and row.email.casefold() == parsed.host_email
            and found.reason == "no roster match"
        ):
            host_rows += 1
        else:
            unmatched_rows.append((index, number, found.reason or "no roster match"))

    # A phone number (or any original name) that a later rename shows to be one person.
    for index, number, reason in unmatched_rows:
        row = rows[index]
        interval = intervals.get(index)
        owners = renamed_from.get(_name_key(row.name)) if not row.original_name else None
        if owners and len(owners) == 1 and interval is not None and reason == "no roster match":
            (owner,) = owners
            merges.setdefault((owner, number), _Merge()).add(interval, row)
            out.notes.append(
                f"{name} line {row.line}: {shown(row.name)} counted for {owner}, who was "
                "renamed from it later in the meeting"
            )
            continue
        window = windows[number]
        if interval is not None:
            seconds = max(0, min(interval[3], window.end) - max(interval[2], window.start))
        else:
            span_start, span_end = _aggregate_span(window, clock.meeting)
            seconds = min(row.total_seconds or 0, span_end - span_start)
        out.unmatched.append(
            UnmatchedRow(
                file=name,
                line=row.line,
                name=_display(row),
                email=row.email,
                session=number,
                minutes=_minutes(seconds),
                reason=reason,
            )
        )

    for (participant_id, number), merge in merges.items():
        evidence = new_evidence(merge.evidence_values(source, platform))
        for start, end in merge.union():
            records.append(
                new_record(
                    {
                        "participant_id": participant_id,
                        "session": number,
                        "joined_at": datetime.fromtimestamp(start, tz=merge.zone or zone),
                        "left_at": datetime.fromtimestamp(end, tz=merge.zone or zone),
                        "evidence": evidence,
                    }
                )
            )
    _add_aggregates(aggregates, windows, series, name, source, platform, out, clock.meeting)
    if parsed.is_aggregate:
        what = _FORMAT_WORDS.get(parsed.format, parsed.format)
        if clock.meeting is not None:
            rule = (
                "each total is counted from when the meeting and the session both ran, at most "
                f"the overlap of the file's meeting span ({_describe_span(*clock.meeting, zone)}) "
                "with the session window"
            )
        else:
            rule = (
                "the file gives no meeting span, so each total is counted from the session "
                "start, at most the session length"
            )
        out.notes.append(
            f"{name}: aggregate evidence ({what}: totals only, intervals cannot be merged; {rule})"
        )
    if parsed.waiting_room_lines:
        lines = parsed.waiting_room_lines
        word = "participant" if platform == "zoom-api" else "line"
        out.notes.append(
            f"{name}: {len(lines)} waiting-room row(s) are not attendance ({word}"
            f"{'s' if len(lines) > 1 else ''} {_lines_list(lines)})"
        )
    if facilitators:
        who = "; ".join(
            f"{person}: {count} row{'s' if count > 1 else ''}"
            for person, count in sorted(facilitators.items())
        )
        count = sum(facilitators.values())
        out.facilitator_rows += count
        out.notes.append(
            f"{name}: {count} row(s) of facilitators not on the roster ({who}) earn no credit "
            "and are not listed as unmatched"
        )
    if host_rows:
        out.host_rows += host_rows
        out.notes.append(
            f"{name}: rows of the meeting host's account ({parsed.host_email}) that match no "
            "roster person are not attendance"
        )
    return (file_session.number if file_session is not None else None), clock.naive_seen


def _aggregate_span(window: _Window, meeting: tuple[datetime, datetime] | None) -> tuple[int, int]:
    """Where a total can lie: the session window, cut to the file's meeting span if it has one
    (a meeting that ran 6:25-7:30 PM proves at most 45 minutes of a 6:45-7:45 session)."""
    if meeting is None:
        return window.start, window.end
    start = max(window.start, math.ceil(meeting[0].timestamp()))
    end = min(window.end, math.floor(meeting[1].timestamp()))
    return (start, end) if end > start else (window.start, window.start)


def _add_aggregates(
    aggregates: dict[tuple[str, int], list[ReportRow]],
    windows: dict[int, _Window],
    series: Series,
    name: str,
    source: str,
    platform: str,
    out: _Accumulator,
    meeting: tuple[datetime, datetime] | None,
) -> None:
    """Totals become intervals inside what the file proves: the overlap of its own meeting
    span (summary start and end) with the session window, or without a span the session
    window; never longer than that."""
    for (participant_id, number), rows in aggregates.items():
        window = windows[number]
        assert window.session.starts_at is not None
        span_start, span_end = _aggregate_span(window, meeting)
        start = datetime.fromtimestamp(span_start, tz=window.session.starts_at.tzinfo)
        length = span_end - span_start
        totals = [row.total_seconds or 0 for row in rows]
        # A row the file repeats counts as often as it appears (RowCollector keeps it once).
        overall = sum(total * row.occurrences for total, row in zip(totals, rows, strict=True))
        count = sum(row.occurrences for row in rows)
        if overall > length and count > 1:
            longest = max(range(len(rows)), key=lambda i: totals[i])
            person = series.participant(participant_id)
            label = person.name if person is not None else participant_id
            out.notes.append(
                f"{name}: {label} ({participant_id}) has {count} rows totalling "
                f"{_minutes(overall)} minutes, more than the {_minutes(length)} minutes the "
                f"file shows of session {number} "
                f"(lines {_lines_list([row.line for row in rows])}): credited the longest row "
                f"({_minutes(min(totals[longest], length))} minutes), not the sum; check by hand"
            )
            chosen = [(rows[longest], min(totals[longest], length))]
        else:
            # Their sum fits, so each repeat is a real stay: laid end to end (a zero total
            # once is enough).
            chosen = [
                (row, total)
                for row, total in zip(rows, totals, strict=True)
                for _ in range(row.occurrences if total else 1)
            ]
        offset = 0
        for row, seconds in chosen:
            seconds = min(seconds, length - offset)
            joined = start + timedelta(seconds=offset)
            out.aggregate_records.append(
                AttendanceRecord._from_trusted(
                    {
                        "participant_id": participant_id,
                        "session": number,
                        "joined_at": joined,
                        "left_at": joined + timedelta(seconds=seconds),
                        "evidence": Evidence._from_trusted(
                            {
                                "source": source,
                                "line": row.line,
                                "platform": platform,
                                "line_ranges": (),
                                "rows": 1,
                            }
                        ),
                    }
                )
            )
            offset += seconds


# ---------------------------------------------------------------------------------------------
# Public entry points


def _load(path: Path | str) -> bytes:
    target = Path(path)
    try:
        size = target.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise DataFileError(
                path,
                f"is {size:,} bytes; a meeting report is at most {MAX_REPORT_BYTES:,} "
                "(is this the right file?)",
            )
        with target.open("rb") as handle:
            data = handle.read(MAX_REPORT_BYTES + 1)
    except OSError as err:
        raise DataFileError(path, f"cannot read file: {err.strerror or err}") from err
    if len(data) > MAX_REPORT_BYTES:
        raise DataFileError(path, f"is more than {MAX_REPORT_BYTES:,} bytes")
    return data


def _read_one(
    parsed: ParsedReport,
    encoding: str,
    digest: str,
    path: Path | str,
    series: Series,
    matcher: RosterMatcher,
    *,
    session: int | None,
    zone: ZoneInfo,
    out: _Accumulator,
) -> ReportSource:
    if encoding == "cp1252":
        out.notes.append(f"{path}: not UTF-8; read as Windows-1252 (a spreadsheet re-save?)")
    for note in parsed.notes:
        out.notes.append(f"{path}: {note}")
    placed, naive_seen = _read_parsed(
        parsed, path, series, matcher, session_number=session, zone=zone, out=out
    )
    return ReportSource(
        path=str(path),
        sha256=digest,
        format=parsed.format,
        platform=parsed.platform,
        session=placed,
        rows=sum(row.occurrences for row in parsed.rows) + len(parsed.waiting_room_lines),
        encoding=encoding,
        export_tz=zone.key if naive_seen else None,
        is_aggregate=parsed.is_aggregate,
    )


def _zone_that_fits(
    load: Callable[[], bytes],
    path: Path | str,
    series: Series,
    session: int | None,
    tried: ZoneInfo,
) -> str | None:
    """The first common export zone in which the file's times fit (None if none does).

    Only on the error path: the file is loaded and parsed again for each zone tried.
    """
    data = load()
    digest = hashlib.sha256(data).hexdigest()
    text, encoding = decode_report(data, path)
    del data
    parsed = _parse(text, path)
    del text
    for name in dict.fromkeys((series.timezone, *COMMON_EXPORT_ZONES)):
        if name == tried.key:
            continue
        try:
            _read_one(
                parsed,
                encoding,
                digest,
                path,
                series,
                RosterMatcher(series),
                session=session,
                zone=_zone(name, path),
                out=_Accumulator(),
            )
        except DataFileError:
            continue
        return name
    return None


def _read_all(
    items: Sequence[
        tuple[Path | str, int | None, Callable[[], bytes]]
        | tuple[Path | str, int | None, Callable[[], bytes], str | None]
    ],
    series: Series,
    export_tz: str | None,
) -> AttendanceReading:
    """Read each file in turn (loaded only when its turn comes, and its bytes dropped once
    decoded, so one file's bytes and text are held at a time, never all of them)."""
    matcher = RosterMatcher(series)
    out = _Accumulator()
    sources: list[ReportSource] = []
    seen: dict[str, str] = {}
    for item in items:
        path, session, load = item[0], item[1], item[2]
        own_zone = item[3] if len(item) > 3 else None  # the zone given with this file
        zone = _zone(own_zone or export_tz or series.timezone, path)
        data = load()
        if len(data) > MAX_REPORT_BYTES:
            raise DataFileError(path, f"is more than {MAX_REPORT_BYTES:,} bytes")
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            out.notes.append(f"{path}: the same bytes as {seen[digest]}; read once")
            continue
        seen[digest] = str(path)
        text, encoding = decode_report(data, path)
        del data
        # Rows, records and evidence hold no cycles; without the pause, generation-2 passes
        # rescan every record already built and triple the time of a large report.
        with paused_garbage_collector():
            parsed = _parse(text, path)
            del text  # the rows are read; matching and merging need only them
            try:
                source = _read_one(
                    parsed,
                    encoding,
                    digest,
                    path,
                    series,
                    matcher,
                    session=session,
                    zone=zone,
                    out=out,
                )
            except _NoSessionFits as err:
                del parsed
                fits = _zone_that_fits(load, path, series, session, zone)
                if fits is None:
                    raise
                raise DataFileError(
                    path,
                    f"{err.reason}; read as {fits} its times fit: give the file as {path}@{fits}",
                    line=err.line,
                ) from None
        sources.append(source)
    records = _without_double_evidence(series, out)
    return AttendanceReading(
        records=records,
        unmatched=tuple(out.unmatched),
        notes=tuple(out.notes),
        sources=tuple(sources),
        facilitator_rows=out.facilitator_rows,
        host_rows=out.host_rows,
        double_evidence=tuple(out.double_evidence),
    )


def _without_double_evidence(series: Series, out: _Accumulator) -> tuple[AttendanceRecord, ...]:
    """Timed records plus the totals-only ones, never adding the two kinds up.

    A total is placed in the session, not timed, so its union with a person's per-join
    intervals could exceed what either proves (Zoom shows 19:15-19:45, the sign-in sheet says
    30 minutes: the union of 18:45-19:15 and 19:15-19:45 would be an hour). Where one person
    and session have both, the kind that proves more attended time is credited alone, and a
    note says so.
    """
    if not out.aggregate_records:
        return tuple(out.records)
    totals: dict[tuple[str, int], list[AttendanceRecord]] = {}
    for record in out.aggregate_records:
        totals.setdefault((record.participant_id, record.session), []).append(record)
    timed: dict[tuple[str, int], list[AttendanceRecord]] = {}
    for record in out.records:
        key = (record.participant_id, record.session)
        if key in totals:
            timed.setdefault(key, []).append(record)
    dropped: set[int] = set()
    kept = list(out.records)
    for key, placed in totals.items():
        per_join = timed.get(key)
        if per_join is None:
            kept.extend(placed)
            continue
        participant_id, number = key
        session = series.session(number)
        assert session is not None
        assert session.starts_at is not None
        start = int(session.starts_at.timestamp())
        end = start + session.duration_minutes * 60
        timed_seconds, total_seconds = (
            attended_seconds(
                [
                    (math.ceil(r.joined_at.timestamp()), math.floor(r.left_at.timestamp()))
                    for r in kind
                ],
                start,
                end,
            )
            for kind in (per_join, placed)
        )
        person = series.participant(participant_id)
        label = f"{person.name if person is not None else participant_id} ({participant_id})"
        files = sorted({r.evidence.source for r in placed if r.evidence is not None})
        if total_seconds > timed_seconds:
            dropped.update(id(r) for r in per_join)
            kept.extend(placed)
            chosen = f"the totals ({_minutes(total_seconds)} minutes, {', '.join(files)})"
        else:
            chosen = f"the per-join times ({_minutes(timed_seconds)} minutes)"
        out.double_evidence.append(
            f"session {number}: {label} has both per-join times ({_minutes(timed_seconds)} "
            f"minutes) and totals-only evidence ({_minutes(total_seconds)} minutes, "
            f"{', '.join(files)}); they are not added up: credited {chosen} alone"
        )
    out.notes.extend(out.double_evidence)
    return tuple(r for r in kept if id(r) not in dropped)


def read_report_bytes(
    data: bytes,
    path: Path | str,
    series: Series,
    *,
    session: int | None = None,
    export_tz: str | None = None,
) -> AttendanceReading:
    """Read a report already in memory; `path` only names it in results and errors.

    Raises:
        DataFileError, UnknownSessionError, UndatedSessionError: as read_report().
    """
    return _read_all([(path, session, lambda: data)], series, export_tz)


def read_report(
    path: Path | str,
    series: Series,
    *,
    session: int | None = None,
    export_tz: str | None = None,
) -> AttendanceReading:
    """Read one meeting report (any supported format, detected from its content).

    Args:
        path: the file as downloaded.
        series: the series whose roster and sessions the rows are matched to.
        session: the 1-based session the report belongs to; None finds it from the rows'
            times (exactly one session window must overlap them).
        export_tz: the IANA zone of times without an offset in the file (the exporting
            account's zone); default the series time zone. Zoom API times are UTC regardless.

    Raises:
        DataFileError: the file is unreadable, too large, malformed or unrecognised, or its
            session cannot be found (none or several overlap); the message names file, line
            and problem.
        UnknownSessionError: `session` is not in the series.
        UndatedSessionError: `session` has no date yet.
    """
    return _read_all([(path, session, functools.partial(_load, path))], series, export_tz)


ReportSpec = Path | str | tuple[Path | str, int | None] | tuple[Path | str, int | None, str | None]
"""A report for read_reports(): a path, `(path, session)`, or `(path, session, export zone)`."""

# Zones a meeting platform commonly writes its times in, tried (besides the series zone) when a
# file's times fit no session, to say which zone would fit.
COMMON_EXPORT_ZONES = (
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
)


def _spec(report: ReportSpec) -> tuple[Path | str, int | None, str | None]:
    if isinstance(report, (str, Path)):
        return report, None, None
    if len(report) == 2:
        return report[0], report[1], None
    return report[0], report[1], report[2]


def read_reports(
    reports: Sequence[ReportSpec],
    series: Series,
    *,
    export_tz: str | None = None,
) -> AttendanceReading:
    """Read several reports into one reading.

    Each report is a path, `(path, session or None)`, or `(path, session or None, zone or
    None)`: a zone given with a file is the zone its times were written in (one session's Zoom
    report downloaded in UTC, the rest in New York time); otherwise `export_tz`, else the
    series zone. When a file's times fit no session in its zone but fit in another common
    export zone (the series zone, UTC, the US zones), the error names the zone that fits.

    Several files of one meeting (Zoom API pages, a re-download) simply add rows: attended
    time is the union of intervals, so overlaps count once. A file given twice (same bytes) is
    read once. All or nothing: any bad file raises and nothing is returned.

    Raises:
        DataFileError, UnknownSessionError, UndatedSessionError: as read_report().
    """
    items = []
    for report in reports:
        path, session, zone = _spec(report)
        items.append((path, session, functools.partial(_load, path), zone))
    return _read_all(items, series, export_tz)
