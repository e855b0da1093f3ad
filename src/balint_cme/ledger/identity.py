"""Who a roster entry is: ledger people, their own ids, and the links from (series, roster id).

A roster id (`p01`) is the series file's own key and means nothing outside that file. The
ledger gives each person an id of its own (`P000001`) and keeps, in `person_links`, which
person each (series, roster id) is. The rules, applied to every roster entry before anything
is written (record_roster() runs inside the write transaction; a conflict undoes it all):

1. (series, roster id) already linked to person X: the entry is X again. It must not name
   someone else: a different NPI, or a different e-mail together with a different name, is a
   conflict ("the id was reused for another person"). A changed name alone, or a changed
   e-mail under the same name, is a correction of X.
2. Otherwise the entry is linked by an identifier that names a person: its NPI first, then
   its e-mail (case-folded). The same NPI is the same person; if that person's e-mail
   differs (and neither lists the other's e-mail among its aliases), or the entry's e-mail
   belongs to yet another person, it is a conflict. The same e-mail is the same person unless
   both have NPIs that differ (a conflict).
3. Otherwise the entry is a new person. A name alone never links two entries.
4. Two roster entries of one series never share a person (a conflict).

A conflict raises IdentityConflictError with one line naming both records and how to resolve
it; nothing is merged or split silently.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from balint_cme.errors import IdentityConflictError
from balint_cme.ledger.chain import canonical_json
from balint_cme.ledger.schema import TABLES
from balint_cme.ledger.writer import Writer, fetch_row
from balint_cme.model import Participant, Series, person_name_key

__all__ = [
    "describe_person",
    "emails_of",
    "new_person_id",
    "person_row",
    "record_roster",
]

_PEOPLE_COLUMNS = ", ".join(TABLES["people"].columns)


def person_row(participant: Participant, person_id: str) -> dict[str, object]:
    """The people row for a roster entry, under the ledger person id."""
    return {
        "person_id": person_id,
        "name": participant.name,
        "credentials": participant.credentials,
        "email": participant.email,
        "npi": participant.npi,
        "license_state": participant.license_state,
        "license_number": participant.license_number,
        "birth_month": participant.birth_month,
        "birth_day": participant.birth_day,
        "aliases": canonical_json(list(participant.aliases)),
    }


def emails_of(email: str | None, aliases: Any) -> set[str]:
    """An entry's e-mail and its e-mail aliases, case-folded."""
    found = {email.casefold()} if email else set()
    found.update(
        str(alias).strip().casefold()
        for alias in aliases
        if "@" in str(alias) and " " not in str(alias).strip()
    )
    return found


def _row_emails(row: Mapping[str, Any]) -> set[str]:
    return emails_of(row["email"], json.loads(row["aliases"]))


def describe_person(row: Mapping[str, Any]) -> str:
    """ "ledger person P000001 (Ana Ruiz, ana@example.org)". An NPI is never printed."""
    details = [str(row["name"])]
    if row["email"]:
        details.append(str(row["email"]))
    return f"ledger person {row['person_id']} ({', '.join(details)})"


def _describe_entry(series_id: str, participant: Participant) -> str:
    details = [participant.name]
    if participant.email:
        details.append(participant.email)
    return f"{series_id}:{participant.id} ({', '.join(details)})"


def new_person_id(connection: sqlite3.Connection) -> str:
    """The next free ledger person id: P000001, P000002, ..."""
    (count,) = connection.execute("SELECT COUNT(*) FROM people").fetchone()
    number = count + 1
    while True:
        candidate = f"P{number:06d}"
        if fetch_row(connection, "people", [candidate]) is None:
            return candidate
        number += 1


def _people_where(connection: sqlite3.Connection, sql: str, value: str) -> list[dict[str, Any]]:
    columns = TABLES["people"].columns
    return [
        dict(zip(columns, row, strict=True))
        for row in connection.execute(f"SELECT {_PEOPLE_COLUMNS} FROM people WHERE {sql}", (value,))
    ]


def _by_email(connection: sqlite3.Connection, emails: set[str]) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for email in sorted(emails):
        for row in _people_where(connection, "email = ? COLLATE NOCASE", email):
            found[row["person_id"]] = row
    return list(found.values())


def _reused_id(existing: Mapping[str, Any], participant: Participant) -> bool:
    """Whether an entry under a linked (series, roster id) names someone else (rule 1)."""
    if existing["npi"] and participant.npi:
        return bool(existing["npi"] != participant.npi)
    emails = _row_emails(existing)
    if emails and participant.email and participant.email.casefold() not in emails:
        return person_name_key(existing["name"]) != person_name_key(participant.name)
    return False


def _identify(
    connection: sqlite3.Connection, series_id: str, participant: Participant
) -> dict[str, Any] | None:
    """The ledger person this roster entry is (its people row), or None for a new person.

    Raises:
        IdentityConflictError: the entry contradicts what the ledger knows (rules 1 and 2).
    """
    entry = _describe_entry(series_id, participant)
    link = fetch_row(connection, "person_links", [series_id, participant.id])
    by_npi = _people_where(connection, "npi = ?", participant.npi) if participant.npi else []
    mine = emails_of(participant.email, participant.aliases)
    by_email = _by_email(connection, {participant.email.casefold()}) if participant.email else []
    if link is not None:
        existing = fetch_row(connection, "people", [link["person_id"]])
        if existing is None:
            raise IdentityConflictError(
                f"{entry}: the ledger links it to person {link['person_id']}, who is not on "
                "record; run `balint-cme ledger check`"
            )
        if _reused_id(existing, participant):
            raise IdentityConflictError(
                f"{entry} is not {describe_person(existing)}, whom the ledger already holds "
                f"as {series_id}:{participant.id}: give the new person a roster id of their "
                "own, or correct the NPI/e-mail if it is the same person"
            )
        others = [r for r in (*by_npi, *by_email) if r["person_id"] != existing["person_id"]]
        if others:
            raise IdentityConflictError(
                f"{entry} is {describe_person(existing)}, but its NPI or e-mail belongs to "
                f"{describe_person(others[0])}: correct the NPI/e-mail in the series file"
            )
        return existing
    if by_npi:
        (found,) = by_npi[:1]
        other = next((r for r in by_email if r["person_id"] != found["person_id"]), None)
        if other is not None:
            raise IdentityConflictError(
                f"{entry}: its NPI is {describe_person(found)} but its e-mail is "
                f"{describe_person(other)}: correct the NPI or the e-mail in the series file"
            )
        theirs = _row_emails(found)
        if (
            participant.email
            and found["email"]
            and participant.email.casefold() not in theirs
            and found["email"].casefold() not in mine
        ):
            raise IdentityConflictError(
                f"{entry} has the NPI of {describe_person(found)} but another e-mail: if it "
                f'is the same person, add aliases = ["{found["email"]}"] to the entry; if not, '
                "correct the NPI"
            )
        return found
    if by_email:
        (found,) = by_email[:1]
        if found["npi"] and participant.npi and found["npi"] != participant.npi:
            raise IdentityConflictError(
                f"{entry} has the e-mail of {describe_person(found)} but another NPI: correct "
                "the NPI, or give one of them their own e-mail"
            )
        return found
    return None


def _merged_row(existing: Mapping[str, Any], participant: Participant) -> dict[str, object]:
    """The person's details after this roster entry: what it gives, else what was known."""
    row = person_row(participant, str(existing["person_id"]))
    for column in TABLES["people"].columns:
        if row[column] is None:
            row[column] = existing[column]
    if participant.license_number is None:
        row["license_state"] = existing["license_state"]
        row["license_number"] = existing["license_number"]
    known = [a for a in json.loads(existing["aliases"]) if a not in participant.aliases]
    row["aliases"] = canonical_json([*participant.aliases, *known])
    return row


def record_roster(writer: Writer, series: Series) -> None:
    """Link every roster entry of `series` to a ledger person, creating people as needed, and
    record the enrollments (one audit event per change).

    Raises:
        IdentityConflictError: an entry contradicts the ledger or another entry (rules 1-4);
            raised before the caller's transaction commits, so nothing is written.
    """
    connection = writer.connection
    claimed: dict[str, str] = {}
    for participant in series.participants:
        existing = _identify(connection, series.id, participant)
        if existing is None:
            person_id = new_person_id(connection)
            row = person_row(participant, person_id)
        else:
            person_id = str(existing["person_id"])
            row = _merged_row(existing, participant)
        if person_id in claimed:
            raise IdentityConflictError(
                f"{series.id}:{claimed[person_id]} and {series.id}:{participant.id} are the same "
                f"person (ledger person {person_id}, same NPI or e-mail): one person has one "
                "roster entry; remove one or correct its NPI/e-mail"
            )
        claimed[person_id] = participant.id
        if writer.put_if_changed("people", row):
            writer.event("person.recorded", person_id, {"series_id": series.id})
        key = [series.id, participant.id]
        if fetch_row(connection, "person_links", key) is None:
            writer.put(
                "person_links",
                {
                    "series_id": series.id,
                    "participant_id": participant.id,
                    "person_id": person_id,
                    "recorded_at": writer.at,
                },
            )
            writer.event(
                "person.linked",
                person_id,
                {"series_id": series.id, "participant_id": participant.id},
            )
        if fetch_row(connection, "enrollments", key) is None:
            writer.put(
                "enrollments",
                {
                    "series_id": series.id,
                    "participant_id": participant.id,
                    "recorded_at": writer.at,
                },
            )
            writer.event("enrollment.recorded", participant.id, {"series_id": series.id})
