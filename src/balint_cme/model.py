"""The domain records of a Balint group CME series: providers, sessions, people, policy.

Pure data with the invariants on the records themselves. This module opens no files, reads no
clock and imports nothing from the edges (certificates, io, ledger, cli) nor dateutil.
There is deliberately no field for case content, patients or recordings (docs/rules.md §1).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal, NamedTuple, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

from balint_cme.errors import EnrollmentError
from balint_cme.text import find_unsafe

__all__ = [
    "ACCEPTED_CREDIT_TYPES",
    "AMA_CREDIT",
    "DEFAULT_PHYSICIAN_CREDENTIALS",
    "MONTH_NAMES",
    "CreditDesignation",
    "CreditPoints",
    "CreditPolicy",
    "DomainModel",
    "Facilitator",
    "FacilitatorLink",
    "Participant",
    "ParticipantId",
    "Provider",
    "Recurrence",
    "Series",
    "SeriesId",
    "SeriesProfile",
    "Session",
    "SessionKey",
    "SessionMove",
    "Text",
    "TimeZoneName",
    "ama_credit_phrase",
    "canonical_credit_type",
    "enroll",
    "facilitator_links",
    "person_name_key",
    "quarter_hours",
]

QUARTER = Decimal("0.25")


MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""English month names (certificates and messages are in English, whatever the locale)."""


class DomainModel(BaseModel):
    """Base for every domain record: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def evolve(self, **changes: object) -> Self:
        """Return a validated copy with `changes` applied."""
        # model_copy(update=...) skips validation; model_validate keeps every invariant.
        return self.model_validate({**dict(self), **changes})

    @classmethod
    def _from_trusted(cls, values: dict[str, Any]) -> Self:
        """Build without validation from values this package computed from validated inputs.

        What model_construct() does, minus its per-field bookkeeping, which dominates the
        credit engine's time for 100,000+ results; every field must be present in `values`.
        """
        record = object.__new__(cls)
        object.__setattr__(record, "__dict__", values)
        object.__setattr__(record, "__pydantic_fields_set__", set(values))
        object.__setattr__(record, "__pydantic_extra__", None)
        object.__setattr__(record, "__pydantic_private__", None)
        return record


# ---------------------------------------------------------------------------------------------
# Small value types


def _check_quarter(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("credit must be a finite number")
    if value % QUARTER != 0:
        raise ValueError(f"credit {value} is not a multiple of 0.25")
    return value.quantize(Decimal("0.01"))


def _coerce_decimal(value: object) -> object:
    # TOML and JSON give credits as strings ("1.0") or numbers (1.0, 1); a float goes through
    # its shortest repr so 0.25 stays exactly 0.25.
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/Los_Angeles)") from err
    return value


def _check_one_plain_line(value: str) -> str:
    unsafe = find_unsafe(value)
    if unsafe is not None:
        name = unicodedata.name(unsafe, "a control character")
        raise ValueError(
            f"contains U+{ord(unsafe):04X} ({name.lower()}): text here is one plain line, "
            "without line breaks, control characters or direction overrides"
        )
    return value


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_check_one_plain_line),
]
"""A non-empty, trimmed line of text: no line break, control character or bidi override (they
would break one-line output and manifests, or make printed text lie about its bytes)."""

CreditPoints = Annotated[
    Decimal,
    BeforeValidator(_coerce_decimal),
    Field(ge=0, le=1000),
    AfterValidator(_check_quarter),
    PlainSerializer(lambda value: f"{value:.2f}", return_type=str, when_used="json"),
]
"""Credit or hours as a Decimal multiple of 0.25, two decimals; JSON carries it as "1.00"."""

SeriesId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]
"""A series' stable identifier: letters, digits, '.', '_' and '-', safe in file names."""

ParticipantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
"""A roster identifier, stable across series so a transcript can find the same person."""

TimeZoneName = Annotated[str, AfterValidator(_check_zone)]
"""An IANA time-zone name such as "America/Los_Angeles"."""

Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]

DEFAULT_PHYSICIAN_CREDENTIALS: tuple[str, ...] = (
    "MD",
    "DO",
    "MBBS",
    "MBCHB",
    "MBBCH",
    "BMBS",
    "MBBCHIR",
    "BMBCH",
    "MB",
    "MDCM",
    "MBBCHBAO",
)
"""Degrees that make a person a physician for AMA PRA credit: MD, DO and common foreign
equivalents (ama-assn.org, "apply AMA physician recognition award"). Policy data: a series can
list more, and a participant can be marked physician explicitly."""


_QUARTER_VALUES = tuple((QUARTER * q).quantize(Decimal("0.01")) for q in range(4 * 24 + 1))


def quarter_hours(seconds: int, *, ties: Literal["down", "up"] = "down") -> Decimal:
    """Hours for `seconds` rounded to the nearest 0.25 (docs/rules.md §2), ties as `ties` says.

    Integer arithmetic only: 900 s is a quarter hour, 450 s the exact midpoint, so 52.5 minutes
    is a tie and becomes 0.75 under the default rule. Never Python's round() (banker's).
    """
    if seconds <= 0:
        return _QUARTER_VALUES[0]
    quarters, remainder = divmod(seconds, 900)
    if remainder > 450 or (remainder == 450 and ties == "up"):
        quarters += 1
    if quarters < len(_QUARTER_VALUES):
        return _QUARTER_VALUES[quarters]  # the common case, without Decimal arithmetic
    return (QUARTER * quarters).quantize(Decimal("0.01"))


_NOT_YET_QUALIFIED = frozenset({"CANDIDATE", "CAND", "STUDENT", "C", "EXPECTED", "PENDING"})
_CREDENTIAL_TOKEN = re.compile(r"[^\W_]+(?:[.\-'][^\W_]+)*\.?|[,;()/&+]")
_JOINERS = frozenset({"/", "&", "+"})


@lru_cache(maxsize=256)
def _held_degrees(credentials: str) -> frozenset[str]:
    """The degrees `credentials` says are held, normalised ("M.D." → "MD").

    A qualifier that says a degree is not held yet ("candidate", "student", "expected", "(c)")
    applies only to the degree it follows: "MD, PhD candidate", "MD (PhD candidate)" and
    "MD, MPH (expected 2025)" hold MD; "MD candidate" and "MD (expected 2025)" hold nothing.
    Degrees joined by "/", "&" or "+" are one programme ("MD/PhD candidate": neither held).
    A qualifier before any degree of its part ("expected MD") applies to the degrees after it.
    """
    held: dict[str, bool] = {}
    unit: list[str] = []  # the degrees the next qualifier applies to
    joined = False  # the previous token joins the next degree to `unit`
    pending = False  # a qualifier seen in this part before any degree
    for token in _CREDENTIAL_TOKEN.findall(credentials.upper()):
        if token in (",", ";"):
            unit, joined, pending = [], False, False
        elif token in _JOINERS:
            joined = True
        elif token in ("(", ")"):
            joined = False  # a parenthesis keeps `unit`: "MD (expected 2025)"
        else:
            word = re.sub(r"[^A-Z]", "", token)
            if word in _NOT_YET_QUALIFIED:
                if unit:
                    for degree in unit:
                        held[degree] = False
                else:
                    pending = True
            elif word:
                unit = [*unit, word] if joined else [word]
                held.setdefault(word, True)
                if pending:
                    held[word] = False
            joined = False
    return frozenset(degree for degree, is_held in held.items() if is_held)


@lru_cache(maxsize=16)
def _normalised_credentials(credentials: tuple[str, ...]) -> frozenset[str]:
    return frozenset(re.sub(r"[^A-Z]", "", c.upper()) for c in credentials)


# ---------------------------------------------------------------------------------------------
# Policy


class CreditPolicy(DomainModel):
    """The credit rules as data (docs/rules.md §2, "policy knobs"); the engine holds no numbers."""

    tie_rule: Literal["down", "up"] = "down"
    """Which way an exact 7.5-minute midpoint rounds; "down" never over-awards."""
    minimum_minutes: Annotated[Decimal, BeforeValidator(_coerce_decimal), Field(ge=0, le=1440)] = (
        Decimal(0)
    )
    """A session attended for fewer minutes than this earns nothing (beyond rounding)."""
    all_or_nothing_ratio: (
        Annotated[Decimal, BeforeValidator(_coerce_decimal), Field(gt=0, le=1)] | None
    ) = None
    """If set, a session earns its full designated credit when attended for at least this
    share of its length, and nothing otherwise (instead of quarter-hour credit)."""
    participation_certificates: bool = True
    """Whether people who are not physicians get certificates of participation."""
    physician_credentials: tuple[str, ...] = DEFAULT_PHYSICIAN_CREDENTIALS
    """Credentials (any case, punctuation ignored) that make a participant a physician."""

    def is_physician(self, participant: Participant | Facilitator) -> bool:
        """Whether `participant` may receive AMA PRA Category 1 Credit under this policy."""
        if isinstance(participant, Participant) and participant.physician is not None:
            return participant.physician
        allowed = _normalised_credentials(self.physician_credentials)
        # "MD candidate", "DO student": a qualifier says that degree is not held yet; it
        # applies only to the degree it follows ("MD, PhD candidate" is a physician).
        return bool(_held_degrees(participant.credentials) & allowed)


# ---------------------------------------------------------------------------------------------
# Who


class Provider(DomainModel):
    """Who provides the activity, and who accredits the provider (docs/rules.md §3)."""

    accredited: Text
    """The accredited provider, e.g. "Fresno Madera Medical Society"."""
    accreditor: Text
    """The accrediting body as data: "California Medical Association (CMA)", "ACCME", ..."""
    joint: tuple[Text, ...] = ()
    """Non-accredited joint providers; empty when the activity is directly provided."""

    @property
    def is_joint(self) -> bool:
        """Whether the activity is jointly provided."""
        return bool(self.joint)


class Participant(DomainModel):
    """A person on a series' roster. Only attendance metadata is kept, never case content."""

    id: ParticipantId
    name: Text
    credentials: Text
    """As the person writes them: "MD", "DO", "MBBS", "MFT", "NP", "MD, PhD"."""
    email: Email | None = None
    physician: bool | None = None
    """Overrides the policy's credential list (e.g. a foreign equivalent it does not name)."""
    npi: Annotated[str, StringConstraints(pattern=r"^\d{10}$")] | None = None
    license_state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None
    license_number: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None
    ) = None
    birth_month: Annotated[int, Field(ge=1, le=12)] | None = None
    """For board reporting (PARS wants month and day, never the year)."""
    birth_day: Annotated[int, Field(ge=1, le=31)] | None = None
    aliases: tuple[Text, ...] = ()
    """Other display names or emails the person uses on meeting platforms."""
    given_name: Text | None = None
    """First name(s) for board reporting (ACCME PARS) when splitting `name` gets it wrong,
    e.g. "Gabriel" for "Gabriel García Márquez"; set together with family_name."""
    family_name: Text | None = None
    """Last name for board reporting, e.g. "García Márquez"; set together with given_name."""

    @model_validator(mode="after")
    def _check_birth_day_exists(self) -> Self:
        if (self.birth_month is None) != (self.birth_day is None):
            raise ValueError("birth_month and birth_day go together")
        if self.birth_month is not None and self.birth_day is not None:
            # 2000 is a leap year, so 29 February is accepted.
            try:
                date(2000, self.birth_month, self.birth_day)
            except ValueError as err:
                raise ValueError(
                    f"birth date {self.birth_month}/{self.birth_day} does not exist"
                ) from err
        return self

    @model_validator(mode="after")
    def _check_name_parts_go_together(self) -> Self:
        if (self.given_name is None) != (self.family_name is None):
            raise ValueError("given_name and family_name go together")
        return self

    @model_validator(mode="after")
    def _check_licence_has_state(self) -> Self:
        if self.license_number is not None and self.license_state is None:
            raise ValueError("license_number needs license_state")
        return self


SessionKey = Annotated[int, Field(ge=1)] | date
"""How a facilitator's `leads` names a session: its planned local date (stable: cancelling or
moving another session never changes it) or, where no session is cancelled or moved, its
1-based number."""


class Facilitator(DomainModel):
    """A group leader. Leaders get no learner credit for a session they lead (docs/rules.md §2)."""

    name: Text
    credentials: Text
    email: Email | None = None
    """Links the leader to the roster entry with this e-mail (see facilitator_links)."""
    participant_id: ParticipantId | None = None
    """The roster id when the leader is also enrolled as a learner for other sessions."""
    leads: tuple[SessionKey, ...] = ()
    """The sessions this person leads, by planned date ("2021-01-13") or, in a schedule with
    no cancelled or moved session, by 1-based number; empty means every session."""


class FacilitatorLink(NamedTuple):
    """A facilitator who is also on the roster: they get no learner credit for what they lead."""

    facilitator: Facilitator
    participant_id: str
    via: Literal["participant_id", "email", "name"]
    """How the link was made: the file's `participant_id`, the e-mail, or the normalised name."""

    def describe(self) -> str:
        """One line for `check`: who is linked to which roster entry, and how."""
        how = {
            "participant_id": "by participant_id",
            "email": "by e-mail",
            "name": "by name",
        }[self.via]
        return (
            f"facilitator {self.facilitator.name} is roster entry {self.participant_id} ({how}): "
            "no learner credit for the sessions they lead"
        )


_TITLE = re.compile(r"^(?:dr|doctor|prof|professor)\b\.?\s+", re.IGNORECASE)
_CREDENTIAL_SUFFIXES = frozenset(
    {
        *DEFAULT_PHYSICIAN_CREDENTIALS,
        *("PHD", "MFT", "LMFT", "NP", "RN", "LCSW", "PSYD", "MPH", "DNP", "PA", "PAC", "FNP"),
    }
)


def person_name_key(name: str) -> str:
    """A name as facilitator linking compares it: case, accents, punctuation, spacing, a
    "Dr." title and credential suffixes (", MD", " M.D.") ignored; word order kept."""
    text = " ".join(unicodedata.normalize("NFKC", name).split())
    text = _TITLE.sub("", text)
    parts = [part.strip() for part in text.split(",")]
    while len(parts) > 1 and all(
        re.sub(r"[^A-Z]", "", token.upper()) in _CREDENTIAL_SUFFIXES for token in parts[-1].split()
    ):
        parts.pop()
    tokens = " ".join(parts).split()
    while (
        len(tokens) > 2
        and tokens[-1].replace(".", "").isupper()
        and re.sub(r"[^A-Z]", "", tokens[-1]) in _CREDENTIAL_SUFFIXES
    ):
        tokens.pop()
    text = unicodedata.normalize("NFKD", " ".join(tokens).casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def _roster_emails(participant: Participant) -> set[str]:
    emails = {participant.email.casefold()} if participant.email else set()
    emails.update(
        alias.strip().casefold()
        for alias in participant.aliases
        if "@" in alias and " " not in alias.strip()
    )
    return emails


def _link_facilitators(
    facilitators: tuple[Facilitator, ...], participants: tuple[Participant, ...]
) -> tuple[tuple[FacilitatorLink, ...], tuple[str, ...]]:
    """The links and the problems (ambiguous or contradictory matches) of the rule below."""
    links: list[FacilitatorLink] = []
    problems: list[str] = []
    ids = {p.id for p in participants}
    for facilitator in facilitators:
        by_email = (
            sorted(p.id for p in participants if facilitator.email.casefold() in _roster_emails(p))
            if facilitator.email
            else []
        )
        if facilitator.participant_id is not None:
            if facilitator.participant_id not in ids:
                problems.append(
                    f"facilitator {facilitator.name} names participant "
                    f"{facilitator.participant_id!r}, who is not on the roster"
                )
            elif by_email and by_email != [facilitator.participant_id]:
                problems.append(
                    f"facilitator {facilitator.name} names participant "
                    f"{facilitator.participant_id!r}, but their e-mail {facilitator.email} is "
                    f"{', '.join(by_email)}'s: correct one of them"
                )
            else:
                links.append(
                    FacilitatorLink(facilitator, facilitator.participant_id, "participant_id")
                )
            continue
        via: Literal["email", "name"] = "email"
        found = by_email
        if not found:
            via = "name"
            key = person_name_key(facilitator.name)
            found = sorted(p.id for p in participants if key and person_name_key(p.name) == key)
        if len(found) == 1:
            links.append(FacilitatorLink(facilitator, found[0], via))
        elif found:
            problems.append(
                f"facilitator {facilitator.name} matches several roster entries by {via} "
                f"({', '.join(found)}): set participant_id to the one they are"
            )
    return tuple(links), tuple(problems)


def facilitator_links(series: Series) -> tuple[FacilitatorLink, ...]:
    """Which facilitators are also on the roster, so they earn nothing for what they lead.

    The rule (pure; used by the credit engine, certify and check alike): a facilitator's
    `participant_id` links them to that roster entry; otherwise their e-mail (case-folded)
    matching exactly one roster entry's e-mail or e-mail alias links them; otherwise their
    normalised name (person_name_key) matching exactly one roster entry's name does. A match
    with several entries, or a participant_id contradicted by the e-mail, is refused when the
    Series is built, so a valid Series always links unambiguously.
    """
    return _link_facilitators(series.facilitators, series.participants)[0]


# ---------------------------------------------------------------------------------------------
# When


AMA_CREDIT = "AMA PRA Category 1 Credit"
"""The credit name as stored; printed with ™ and "(s)", "s" or nothing by ama_credit_phrase."""

_AMA_CREDIT_SPELLING = re.compile(r"AMA\s+PRA\s+Category\s+1\s+Credit(?:s|\(s\))?\s*™?")
ACCEPTED_CREDIT_TYPES = (
    "AMA PRA Category 1 Credit",
    "AMA PRA Category 1 Credits",
    "AMA PRA Category 1 Credit(s)",
)
"""How a series file may name the credit (each with or without ™)."""


def canonical_credit_type(text: str) -> str | None:
    """AMA_CREDIT for any spelling of the AMA credit name (singular, plural, "(s)", with or
    without ™), else None."""
    return AMA_CREDIT if _AMA_CREDIT_SPELLING.fullmatch(text.strip()) else None


def ama_credit_phrase(*, plural: bool | None) -> str:
    """The AMA credit name as the templates print it: "AMA PRA Category 1 Credit(s)™" in the
    designation statement (`plural=None`), "…Credits™" or "…Credit™" for an amount awarded."""
    suffix = "(s)" if plural is None else ("s" if plural else "")
    return f"{AMA_CREDIT}{suffix}™"


def _check_credit_type(value: str) -> str:
    canonical = canonical_credit_type(value)
    if canonical is None:
        accepted = ", ".join(ACCEPTED_CREDIT_TYPES)
        raise ValueError(
            f"credit type {value!r} is not the AMA credit name; write one of: {accepted} "
            "(with or without ™)"
        )
    return canonical


class CreditDesignation(DomainModel):
    """What the provider designated in advance (docs/rules.md §2)."""

    type: Annotated[Text, AfterValidator(_check_credit_type)] = AMA_CREDIT
    """The AMA credit name in any accepted spelling, stored as AMA_CREDIT; certificates print
    the template's forms ("Credit(s)™" designated, "Credits™"/"Credit™" awarded)."""
    per_session: CreditPoints
    """Designated credit for each session unless the session says otherwise."""
    series_maximum: CreditPoints
    """The cap for the whole series, e.g. 5.00 for five one-hour sessions."""


class SessionMove(DomainModel):
    """A planned session moved to another local start."""

    planned_on: date
    """The local date the recurrence gave."""
    start: datetime
    """The new start: local wall-clock time in the series time zone, or, when it carries an
    offset ("2020-11-19T02:45:00Z"), that instant shown in the series zone."""


class Recurrence(DomainModel):
    """How sessions were planned: an RFC 5545 RRULE from a first local start.

    Times are naive wall-clock times in the series time zone, so a March and a November session
    both start at 6:45 PM local across a daylight-saving change. Expansion lives in schedule.py.
    """

    first_start: datetime
    duration_minutes: Annotated[int, Field(gt=0, le=1440)]
    rrule: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    cancelled: tuple[date, ...] = ()
    """Local dates the rule gives on which no session is held."""
    moved: tuple[SessionMove, ...] = ()

    @model_validator(mode="after")
    def _check_rule_is_finite(self) -> Self:
        parts = {
            part.split("=", 1)[0].strip().upper()
            for part in self.rrule.removeprefix("RRULE:").split(";")
        }
        if not parts & {"COUNT", "UNTIL"}:
            raise ValueError("rrule needs COUNT or UNTIL so that the schedule ends")
        if self.first_start.tzinfo is not None:
            raise ValueError("first_start is a local time without an offset")
        return self


class Session(DomainModel):
    """One meeting of the series. `starts_at` is None while its date is still to be announced."""

    number: Annotated[int, Field(ge=1)]
    """1-based position in the series."""
    starts_at: AwareDatetime | None
    duration_minutes: Annotated[int, Field(gt=0, le=1440)]
    credit: CreditPoints
    """Designated maximum for this session: live credit is hour-for-hour, so at most the
    session's length in quarter hours (60 minutes: 1.00)."""

    @model_validator(mode="after")
    def _check_credit_is_hour_for_hour(self) -> Self:
        # The length rounded as attendance is (ties down), so a full attender earns exactly
        # the designation and nobody is told "partial attendance" for sitting through it all.
        most = quarter_hours(self.duration_minutes * 60)
        if self.credit > most:
            raise ValueError(
                f"session {self.number} is designated {self.credit} credit, but live credit is "
                f"hour-for-hour: its {self.duration_minutes} minutes allow at most {most}"
            )
        return self

    @property
    def is_dated(self) -> bool:
        """Whether the session has a date."""
        return self.starts_at is not None

    @property
    def ends_at(self) -> datetime | None:
        """End of the session window, or None when undated."""
        if self.starts_at is None:
            return None
        # Elapsed time, not wall-clock arithmetic (which aware datetimes in one zone do), so a
        # session across a daylight-saving change ends when the credit engine says it does.
        end = self.starts_at.astimezone(UTC) + timedelta(minutes=self.duration_minutes)
        return end.astimezone(self.starts_at.tzinfo)


# ---------------------------------------------------------------------------------------------
# The series


class SeriesProfile(DomainModel):
    """What a series is and who provides it: the part the domain Series and the series file
    (io/series_file.py) share, field for field."""

    id: SeriesId
    title: Text
    learning_format: Text = "live activity"
    delivery: Literal["virtual", "in-person", "hybrid"] = "virtual"
    location: Text = "Online"
    timezone: TimeZoneName
    eligibility: Literal["physicians", "clinicians"] = "clinicians"
    """"physicians": only physicians may enroll; "clinicians": others enroll for participation."""
    registration: Literal["open", "closed"] = "closed"
    allow_late_joining: bool = False
    """Whether people may enroll after the first session has started."""
    members_commit_to_all_sessions: bool = True
    provider: Provider
    credit: CreditDesignation
    policy: CreditPolicy = CreditPolicy()


class Series(SeriesProfile):
    """A Balint group series: who provides it, when it meets, who leads and who attends."""

    schedule: Recurrence | None = None
    """How the sessions were planned, when they came from a recurrence (provenance)."""
    schedule_note: str | None = None
    """Free text for people about dates still to come, e.g. "Dates: 2023 TBD"."""
    sessions: tuple[Session, ...]
    facilitators: tuple[Facilitator, ...] = ()
    participants: tuple[Participant, ...] = ()

    @model_validator(mode="after")
    def _check_sessions_numbered_in_date_order(self) -> Self:
        if not self.sessions:
            raise ValueError("a series needs at least one session (dated or planned)")
        numbers = [session.number for session in self.sessions]
        if numbers != list(range(1, len(self.sessions) + 1)):
            raise ValueError("sessions must be numbered 1, 2, 3, ... in order")
        dated = [s.starts_at for s in self.sessions if s.starts_at is not None]
        if any(later <= earlier for earlier, later in itertools.pairwise(dated)):
            raise ValueError("sessions must be listed in date order, one start per session")
        undated_seen = False
        for session in self.sessions:
            if session.starts_at is None:
                undated_seen = True
            elif undated_seen:
                raise ValueError("undated (planned) sessions must come after the dated ones")
        for before, after in zip(self.sessions, self.sessions[1:], strict=False):
            if before.ends_at and after.starts_at and after.starts_at < before.ends_at:
                raise ValueError(
                    f"session {after.number} starts before session {before.number} ends"
                )
        return self

    @model_validator(mode="after")
    def _check_roster_ids_unique(self) -> Self:
        seen: set[str] = set()
        for participant in self.participants:
            if participant.id in seen:
                raise ValueError(f"participant id {participant.id!r} appears twice")
            seen.add(participant.id)
        return self

    @model_validator(mode="after")
    def _check_roster_meets_eligibility(self) -> Self:
        if self.eligibility == "physicians":
            for participant in self.participants:
                if not self.policy.is_physician(participant):
                    raise ValueError(
                        f"{participant.name} ({participant.id}, {participant.credentials}) "
                        "cannot enroll: this series is for physicians only"
                    )
        return self

    @model_validator(mode="after")
    def _check_facilitators_lead_existing_sessions(self) -> Self:
        planned = self._sessions_by_planned_date()
        cancelled = set(self.schedule.cancelled) if self.schedule is not None else set()
        shifting = self.schedule is not None and bool(
            self.schedule.cancelled or self.schedule.moved
        )
        for facilitator in self.facilitators:
            for key in facilitator.leads:
                if isinstance(key, date):
                    if key not in planned and key not in cancelled:
                        raise ValueError(
                            f"facilitator {facilitator.name} leads the session of {key}, but no "
                            "session is planned on that date"
                        )
                    continue
                if key > len(self.sessions):
                    raise ValueError(
                        f"facilitator {facilitator.name} leads session {key}, "
                        f"but the series has {len(self.sessions)}"
                    )
                if shifting:
                    held = self.held_on(self.sessions[key - 1])
                    raise ValueError(
                        f"facilitator {facilitator.name} leads session {key} by number, but this "
                        "schedule cancels or moves sessions, which shifts the numbers: name the "
                        f'session by its planned date instead, e.g. leads = ["{held}"] '
                        f"(session {key} is now held on {held})"
                    )
        problems = _link_facilitators(self.facilitators, self.participants)[1]
        if problems:
            raise ValueError(problems[0])
        return self

    @model_validator(mode="after")
    def _check_maximum_within_designations(self) -> Self:
        if self.credit.series_maximum > sum((s.credit for s in self.sessions), Decimal(0)):
            raise ValueError(
                f"series_maximum {self.credit.series_maximum} exceeds the sum of the sessions' "
                "designated credit"
            )
        return self

    # -- lookups -------------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The series time zone."""
        return ZoneInfo(self.timezone)

    @property
    def dated_sessions(self) -> tuple[Session, ...]:
        """The sessions whose dates are known."""
        return tuple(s for s in self.sessions if s.starts_at is not None)

    @property
    def first_start(self) -> datetime | None:
        """When the first dated session starts."""
        dated = self.dated_sessions
        return dated[0].starts_at if dated else None

    @property
    def last_session_on(self) -> date | None:
        """Local date of the last dated session (retention runs from it)."""
        dated = self.dated_sessions
        return self.held_on(dated[-1]) if dated else None

    def held_on(self, session: Session) -> date | None:
        """The local date a session is held on, or None when undated."""
        if session.starts_at is None:
            return None
        return session.starts_at.astimezone(self.zone).date()

    def local_start(self, session: Session) -> datetime | None:
        """The session start as wall-clock time in the series time zone."""
        if session.starts_at is None:
            return None
        return session.starts_at.astimezone(self.zone)

    def local_end(self, session: Session) -> datetime | None:
        """The session end (elapsed time, Session.ends_at) as wall-clock time in the series
        time zone: a 60-minute session across a daylight-saving change ends 60 minutes later."""
        end = session.ends_at
        return None if end is None else end.astimezone(self.zone)

    def session(self, number: int) -> Session | None:
        """Session `number` (1-based), or None."""
        if 1 <= number <= len(self.sessions):
            return self.sessions[number - 1]
        return None

    def _sessions_by_planned_date(self) -> dict[date, int]:
        """Session number by local date: the date held, and for a moved session also the date
        the schedule planned it for."""
        by_date: dict[date, int] = {}
        for session in self.sessions:
            held = self.held_on(session)
            if held is not None:
                by_date[held] = session.number
        if self.schedule is not None:
            for move in self.schedule.moved:
                number = by_date.get(move.start.date())
                if number is not None:
                    by_date.setdefault(move.planned_on, number)
        return by_date

    def led_sessions(self, facilitator: Facilitator) -> frozenset[int]:
        """The numbers of the sessions `facilitator` leads (a cancelled date leads nothing)."""
        if not facilitator.leads:
            return frozenset(s.number for s in self.sessions)
        planned = self._sessions_by_planned_date()
        numbers: set[int] = set()
        for key in facilitator.leads:
            if isinstance(key, date):
                if key in planned:
                    numbers.add(planned[key])
            else:
                numbers.add(key)
        return frozenset(numbers)

    def participant(self, participant_id: str) -> Participant | None:
        """The roster entry with this id, or None."""
        for participant in self.participants:
            if participant.id == participant_id:
                return participant
        return None


def enroll(series: Series, participant: Participant, *, at: datetime) -> Series:
    """Add `participant` to the roster as of `at`, enforcing registration, eligibility and
    roster closing.

    Raises:
        EnrollmentError: registration is closed, the person is not eligible or is already
            enrolled, or the roster closed when the first session started and the series does
            not allow late joining.
    """
    if at.tzinfo is None:
        raise ValueError("enrollment time must be time-zone aware")
    if series.participant(participant.id) is not None:
        raise EnrollmentError(
            f"{participant.name} ({participant.id}) is already enrolled in {series.id!r}",
            participant_id=participant.id,
        )
    if series.registration == "closed":
        raise EnrollmentError(
            f"{participant.name} ({participant.id}) cannot enroll in {series.id!r}: registration "
            "is closed (add the person to the series file's roster if the group agrees)",
            participant_id=participant.id,
        )
    if series.eligibility == "physicians" and not series.policy.is_physician(participant):
        raise EnrollmentError(
            f"{participant.name} ({participant.id}, {participant.credentials}) cannot enroll in "
            f"{series.id!r}: the series is for physicians only",
            participant_id=participant.id,
        )
    first = series.first_start
    if first is not None and at >= first and not series.allow_late_joining:
        raise EnrollmentError(
            f"{participant.name} ({participant.id}) cannot enroll in {series.id!r}: the roster "
            f"closed when the first session started ({first.astimezone(series.zone):%Y-%m-%d %H:%M %Z})",
            participant_id=participant.id,
        )
    return series.evolve(participants=(*series.participants, participant))
