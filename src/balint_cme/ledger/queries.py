"""Read-only questions to the ledger: people, their participation, certificates, audit events.

Functions over a connection inside the Ledger's read transaction: who a query names (person
search, for transcripts and verification requests), what a person took part in, certificate
lookups by number, code or holder (and the status proven against the audit chain), and the
audit log itself. Nothing here writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from balint_cme.errors import LedgerError, LedgerTamperedError
from balint_cme.ledger import certificate_rows
from balint_cme.ledger.certificate_rows import certificate_from_row, page_digests_of, versions_of
from balint_cme.ledger.chain import check_rows_of
from balint_cme.ledger.identity import emails_of
from balint_cme.ledger.records import (
    AuditEvent,
    CertificateRecord,
    CertificateStatus,
    ParticipationRecord,
    PersonRecord,
)
from balint_cme.ledger.rows import participation, person_from_row
from balint_cme.ledger.schema import TABLES
from balint_cme.ledger.writer import fetch_row, parse_date

__all__ = [
    "audit_events",
    "certificate",
    "certificate_by_code",
    "certificates",
    "find_people",
    "head",
    "participation_of",
    "person",
    "proven_status",
    "read_status",
    "resolve_person",
    "roster_entry",
]


# -- people and participation ----------------------------------------------------------------


def people(
    connection: sqlite3.Connection, where: str, values: Sequence[object]
) -> list[PersonRecord]:
    """The people rows matching the SQL `where`, each with the roster ids linked to them."""
    columns = TABLES["people"].columns
    found = []
    for row in connection.execute(
        f"SELECT {', '.join(columns)} FROM people WHERE {where} ORDER BY person_id", values
    ).fetchall():
        record = dict(zip(columns, row, strict=True))
        links = connection.execute(
            "SELECT series_id, participant_id FROM person_links WHERE person_id = ? "
            "ORDER BY recorded_at, series_id",
            (record["person_id"],),
        ).fetchall()
        found.append(person_from_row(record, [(a, b) for a, b in links]))
    return found


def find_people(
    connection: sqlite3.Connection, query: str, *, by_name: bool = True
) -> tuple[PersonRecord, ...]:
    """Ledger.find_people()."""
    text = query.strip()
    if not text:
        return ()
    ids = {
        row[0]
        for row in connection.execute(
            "SELECT person_id FROM people WHERE person_id = ? COLLATE NOCASE OR npi = ? "
            "OR email = ? COLLATE NOCASE "
            "UNION SELECT person_id FROM person_links WHERE participant_id = ? "
            "OR series_id || ':' || participant_id = ?",
            (text, text, text, text, text),
        )
    }
    if "@" in text:
        folded = text.casefold()
        ids.update(
            row[0]
            for row in connection.execute(
                "SELECT person_id, email, aliases FROM people WHERE aliases LIKE '%@%'"
            )
            if folded in emails_of(row[1], json.loads(row[2]))
        )
    if not ids and by_name:
        folded = " ".join(text.casefold().split())
        ids = {
            row[0]
            for row in connection.execute("SELECT person_id, name, aliases FROM people")
            if any(
                " ".join(name.casefold().split()) == folded
                for name in (row[1], *json.loads(row[2]))
            )
        }
    ordered = sorted(ids)
    marks = ", ".join("?" for _ in ordered)
    return tuple(people(connection, f"person_id IN ({marks})", ordered))


def resolve_person(
    connection: sqlite3.Connection, query: str, *, by_name: bool = True
) -> PersonRecord:
    """Ledger.resolve_person(): the one person `query` names, else LedgerError."""
    found = find_people(connection, query, by_name=by_name)
    if not found:
        raise LedgerError(f"no person {query.strip()!r} in the ledger")
    if len(found) > 1:
        raise LedgerError(
            f"{query.strip()!r} names {len(found)} people: "
            + "; ".join(person.describe() for person in found)
            + ". Give the ledger person id or SERIES:ROSTER_ID"
        )
    return found[0]


def person(connection: sqlite3.Connection, person_id: str) -> PersonRecord | None:
    """The person with this ledger person id, or None."""
    found = people(connection, "person_id = ?", [person_id])
    return found[0] if found else None


def roster_entry(
    connection: sqlite3.Connection, series_id: str, participant_id: str
) -> PersonRecord | None:
    """The ledger person that roster id `participant_id` of `series_id` is, or None."""
    link = fetch_row(connection, "person_links", [series_id, participant_id])
    if link is None:
        return None
    return person(connection, link["person_id"])


def participation_of(
    connection: sqlite3.Connection, who: Sequence[PersonRecord]
) -> tuple[ParticipationRecord, ...]:
    """The participation of each of `who` in every series not purged; oldest series first."""
    results = [
        participation(connection, one, series_id, roster_id, title, parse_date(last_on))
        for one in who
        for series_id, roster_id, title, last_on in connection.execute(
            "SELECT s.series_id, l.participant_id, s.title, s.last_session_on "
            "FROM person_links l JOIN series s ON s.series_id = l.series_id "
            "WHERE l.person_id = ? AND s.purged_at IS NULL",
            (one.person_id,),
        ).fetchall()
    ]
    results.sort(key=lambda r: (r.last_session_on or date.max, r.series_id, r.participant_id))
    return tuple(results)


# -- certificates ------------------------------------------------------------------------------


def proven_status(
    connection: sqlite3.Connection,
    path: Path,
    key: str,
    version: int | None,
    pdf_sha256: str | None,
) -> CertificateStatus:
    """Ledger.certificate_status() for a normalised number `key`, in its read transaction."""
    rows = {
        table: connection.execute(
            f"SELECT {', '.join(TABLES[table].columns)} FROM {table} WHERE number = ?",
            (key,),
        ).fetchall()
        for table in ("numbers", "certificates", "page_digests")
    }
    series = {str(row[2]) for row in rows["numbers"]}  # numbers: (number, seq, series_id, ...)
    series |= {str(row[2]) for row in rows["certificates"]}  # (number, version, series_id, ...)
    problems = check_rows_of(connection, rows, key, also_subjects=sorted(series))
    if problems:
        raise LedgerTamperedError(path, key, problems)
    return read_status(connection, key, version, pdf_sha256)


def certificate(
    connection: sqlite3.Connection, key: str, version: int | None
) -> CertificateRecord | None:
    """One version of a certificate (the latest if `version` is None), or None."""
    rows = certificate_rows.versions_of(connection, key)
    digests = certificate_rows.page_digests_of(connection, key)
    if version is not None:
        rows = [r for r in rows if r["version"] == version]
    if not rows:
        return None
    return certificate_rows.certificate_from_row(rows[-1], digests.get(rows[-1]["version"], ()))


def certificate_by_code(connection: sqlite3.Connection, code: str) -> CertificateRecord | None:
    """The certificate version printed with verification `code` (as issued), or None."""
    row = certificate_rows.version_with_code(connection, code.strip())
    return None if row is None else certificate_rows.certificate_from_row(row)


def certificates(
    connection: sqlite3.Connection,
    *,
    series_id: str | None = None,
    participant_id: str | None = None,
    state: str | None = None,
) -> tuple[CertificateRecord, ...]:
    """Every certificate version matching the filters, by number then version."""
    conditions, values = [], []
    for column, value in (
        ("series_id", series_id),
        ("participant_id", participant_id),
        ("state", state),
    ):
        if value is not None:
            conditions.append(f"{column} = ?")
            values.append(value)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    columns = TABLES["certificates"].columns
    rows = connection.execute(
        f"SELECT {', '.join(columns)} FROM certificates{where} ORDER BY number, version",
        values,
    ).fetchall()
    return tuple(
        certificate_rows.certificate_from_row(dict(zip(columns, row, strict=True))) for row in rows
    )


# -- the audit log ---------------------------------------------------------------------------


def head(connection: sqlite3.Connection) -> tuple[int, str]:
    """(sequence number, hash) of the last audit event."""
    row = connection.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
    return (row[0], row[1]) if row else (0, "0" * 64)


def audit_events(
    connection: sqlite3.Connection, *, subject: str | None, after_seq: int, limit: int
) -> tuple[AuditEvent, ...]:
    """Audit events in order, optionally only those about `subject` (an id or number)."""
    sql = "SELECT seq, at, actor, action, subject, details, changes, hash FROM audit WHERE seq > ?"
    values: list[object] = [after_seq]
    if subject is not None:
        sql += " AND subject = ?"
        values.append(subject)
    sql += " ORDER BY seq LIMIT ?"
    values.append(limit)
    rows = connection.execute(sql, values).fetchall()
    return tuple(
        AuditEvent(
            seq=seq,
            at=datetime.fromisoformat(at),
            actor=actor,
            action=action,
            subject=subject_,
            details=json.loads(details),
            changes=tuple(tuple(change) for change in json.loads(changes)),
            hash=digest,
        )
        for seq, at, actor, action, subject_, details, changes, digest in rows
    )


def read_status(
    connection: sqlite3.Connection, number: str, version: int | None, pdf_sha256: str | None
) -> CertificateStatus:
    """The verification answer for `number` (see Ledger.status)."""
    rows = versions_of(connection, number)
    if not rows:
        purged = connection.execute(
            "SELECT purged_at FROM numbers WHERE number = ?", (number,)
        ).fetchone()
        if purged is not None and purged[0] is not None:
            return CertificateStatus(number=number, state="purged")
        return CertificateStatus(number=number, state="unknown")
    digests = page_digests_of(connection, number)
    records = [certificate_from_row(r, digests.get(r["version"], ())) for r in rows]
    current = next((r for r in reversed(records) if r.state == "issued"), None)
    revoked = next((r for r in reversed(records) if r.state == "revoked"), None)
    if version is None:
        target = current or revoked or records[-1]
    else:
        found = next((r for r in records if r.version == version), None)
        if found is None:
            return CertificateStatus(
                number=number,
                state="unknown",
                version=version,
                current_version=current.version if current else None,
                reason=f"certificate {number} has no version {version}",
                current=current,
            )
        target = found
    common: dict[str, Any] = {
        "number": number,
        "version": target.version,
        "current_version": current.version if current else None,
        "certificate": target,
        "current": current,
    }
    if revoked is not None and current is None:
        return CertificateStatus(state="revoked", reason=revoked.revoked_reason, **common)
    if target.state == "pending":
        return CertificateStatus(state="pending", **common)
    if pdf_sha256 is not None and target.pdf_sha256 != pdf_sha256.lower():
        return CertificateStatus(
            state="altered",
            reason="the file's SHA-256 differs from the PDF recorded when it was issued",
            **common,
        )
    if target.state == "superseded":
        newer = next((r for r in records if r.version == target.superseded_by), None)
        return CertificateStatus(
            state="superseded", reason=newer.reason if newer else None, **common
        )
    return CertificateStatus(state="valid", **common)
