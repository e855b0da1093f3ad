"""The people of a series: the provider, roster participants, facilitators, and the rule that
links a facilitator to their own roster entry (so they earn nothing for what they lead).

Pure data with its invariants; no files, no clock, no edges.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Literal, NamedTuple, Self

from pydantic import Field, StringConstraints, model_validator

from balint_cme.model.base import DomainModel, Email, ParticipantId, Text
from balint_cme.model.credentials import DEFAULT_PHYSICIAN_CREDENTIALS

__all__ = [
    "Facilitator",
    "FacilitatorLink",
    "Participant",
    "Provider",
    "SessionKey",
    "person_name_key",
]


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
