"""Retention: when a series' records may go, and purging them once they may.

ACCME asks that attendance records be kept six years; the period counts from the series' last
session (the latest ever recorded, or attended), so it is never cut short. Purging deletes the
series' personal records in the Ledger's transaction and leaves an audit event with ids and
hashes only; certificate numbers stay reserved and verify as "purged".
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from balint_cme.errors import LedgerError, RetentionError
from balint_cme.ledger.chain import PURGE_ACTION
from balint_cme.ledger.recording import require_series
from balint_cme.ledger.records import PurgeReport
from balint_cme.ledger.schema import TABLES
from balint_cme.ledger.writer import Writer, fetch_row

__all__ = ["DEFAULT_RETENTION_YEARS", "purge_series", "retention_end", "retention_ends_on"]

DEFAULT_RETENTION_YEARS = 6
"""Attendance records are kept 6 years (ACCME), from the last session (docs/rules.md §4)."""

_SERIES_TABLES = (
    "series_snapshots",
    "enrollments",
    "person_links",
    "attendance",
    "attendance_records",
    "awards",
    "certificates",
    "page_digests",
)
"""The tables whose rows of a series a purge deletes (keyed by series_id)."""


def retention_ends_on(last_session_on: date, years: int = DEFAULT_RETENTION_YEARS) -> date:
    """The first day records of a series whose last session was `last_session_on` may go.

    29 February moves to 1 March, so the period is never cut short.
    """
    try:
        return last_session_on.replace(year=last_session_on.year + years)
    except ValueError:
        return date(last_session_on.year + years, 3, 1)


def retention_end(connection: sqlite3.Connection, series_id: str, years: int) -> date | None:
    """The first day the series' records may be purged; None if no session was held.

    Raises:
        LedgerError: the series is not in the ledger.
    """
    row = fetch_row(connection, "series", [series_id])
    if row is None:
        raise LedgerError(f"series {series_id!r} is not in the ledger")
    attended = connection.execute(
        "SELECT MAX(held_on) FROM attendance WHERE series_id = ?", (series_id,)
    ).fetchone()[0]
    last = max(filter(None, [row["last_session_on"], attended]), default=None)
    if last is None:
        return None
    return retention_ends_on(date.fromisoformat(last), years)


def purge_series(
    writer: Writer, series_id: str, *, reason: str, years: int, today: date | None
) -> PurgeReport:
    """Ledger.purge_series() inside its transaction (`reason` already checked)."""
    connection = writer.connection
    require_series(connection, series_id)
    today = today or datetime.fromisoformat(writer.at).date()
    allowed = retention_end(connection, series_id, years)
    if allowed is not None and today < allowed:
        raise RetentionError(
            f"series {series_id!r} must be kept for {years} years after its "
            f"last session: it can be purged from {allowed.isoformat()}",
            allowed_on=allowed,
        )
    deleted = 0
    for table in _SERIES_TABLES:
        key_columns = TABLES[table].key
        for key in connection.execute(
            f"SELECT {', '.join(key_columns)} FROM {table} WHERE series_id = ?",
            (series_id,),
        ).fetchall():
            deleted += writer.delete(table, key)
    for number, seq in connection.execute(
        "SELECT number, seq FROM numbers WHERE series_id = ?", (series_id,)
    ).fetchall():
        writer.put(
            "numbers",
            {
                "number": number,
                "seq": seq,
                "series_id": series_id,
                "participant_id": None,
                "purged_at": writer.at,
            },
        )
    series_row = fetch_row(connection, "series", [series_id])
    assert series_row is not None
    writer.put("series", {**series_row, "purged_at": writer.at, "purge_reason": reason})
    people_deleted = 0
    for (pid,) in connection.execute(
        "SELECT person_id FROM people WHERE person_id NOT IN (SELECT person_id FROM person_links)"
    ).fetchall():
        people_deleted += writer.delete("people", [pid])
        writer.delete("consents", [pid])
    writer.event(
        PURGE_ACTION,
        series_id,
        {
            "reason": reason,
            "allowed_from": allowed.isoformat() if allowed else None,
            "rows_deleted": deleted,
            "people_deleted": people_deleted,
        },
    )
    return PurgeReport(
        series_id=series_id,
        allowed_from=allowed,
        rows_deleted=deleted,
        people_deleted=people_deleted,
    )
