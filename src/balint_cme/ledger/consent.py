"""PARS reporting consent: recording, withdrawing and reading a person's consent.

Functions over a connection (reads) or a Writer (changes, inside the Ledger's transaction).
A consent is one ledger person's own: it is keyed by the ledger person id, and a series' roster
id reaches it only through the person that roster entry is linked to.
"""

from __future__ import annotations

import sqlite3

from balint_cme.errors import LedgerError
from balint_cme.ledger import queries
from balint_cme.ledger.records import ConsentRecord
from balint_cme.ledger.rows import consent_from_row
from balint_cme.ledger.schema import TABLES
from balint_cme.ledger.writer import Writer, fetch_row

__all__ = ["consenter", "consenting", "record_consent", "stored_consent", "withdraw_consent"]


def consenter(connection: sqlite3.Connection, person: str) -> str:
    """The ledger person id `person` is (an exact ledger person id names that person), else
    the one person it names other than by name (consent is a person's own)."""
    if queries.person(connection, person) is not None:
        return person
    return queries.resolve_person(connection, person, by_name=False).person_id


def record_consent(
    writer: Writer, person_id: str, *, wording: str, given_text: str
) -> ConsentRecord:
    """Ledger.record_consent() inside its transaction."""
    if fetch_row(writer.connection, "people", [person_id]) is None:
        raise LedgerError(f"no person {person_id!r} in the ledger")
    row = {
        "person_id": person_id,
        "wording_version": wording,
        "given_at": given_text,
        "withdrawn_at": None,
    }
    if writer.put_if_changed("consents", row):
        writer.event("consent.given", person_id, {"wording_version": wording})
    return consent_from_row(row)


def withdraw_consent(writer: Writer, person_id: str, *, withdrawn_text: str) -> ConsentRecord:
    """Ledger.withdraw_consent() inside its transaction."""
    row = fetch_row(writer.connection, "consents", [person_id])
    if row is None:
        raise LedgerError(f"no consent on record for {person_id!r}")
    if row["withdrawn_at"] is None:
        row = {**row, "withdrawn_at": withdrawn_text}
        writer.put("consents", row)
        writer.event("consent.withdrawn", person_id, {})
    return consent_from_row(row)


def stored_consent(connection: sqlite3.Connection, person_id: str) -> ConsentRecord | None:
    """The consent record (given or withdrawn) of a ledger person id, or None."""
    row = fetch_row(connection, "consents", [person_id])
    return None if row is None else consent_from_row(row)


def consenting(
    connection: sqlite3.Connection, *, series_id: str | None = None
) -> dict[str, ConsentRecord]:
    """Ledger.consenting(): consents that stand, by person id or by the series' roster id."""
    columns = ", ".join(f"c.{c}" for c in TABLES["consents"].columns)
    if series_id is None:
        rows = connection.execute(
            f"SELECT c.person_id, {columns} FROM consents c "
            "WHERE c.withdrawn_at IS NULL ORDER BY c.person_id"
        ).fetchall()
    else:
        rows = connection.execute(
            f"SELECT l.participant_id, {columns} FROM consents c JOIN person_links l "
            "ON l.person_id = c.person_id AND l.series_id = ? "
            "WHERE c.withdrawn_at IS NULL ORDER BY l.participant_id",
            (series_id,),
        ).fetchall()
    names = TABLES["consents"].columns
    return {row[0]: consent_from_row(dict(zip(names, row[1:], strict=True))) for row in rows}
