"""Writing inside one transaction: every row change is listed in the audit event that explains it.

Writer.put()/delete() change a covered table and remember (table, key, row hash); the next
Writer.event() appends an audit event carrying those changes and extends the hash chain.
Nothing here commits: the Ledger opens and ends the transaction around a Writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from balint_cme.errors import InvalidArgumentError
from balint_cme.ledger.chain import (
    PURGE_ACTION,
    SUBJECT_OWNED_TABLES,
    canonical_json,
    event_hash,
    event_json,
    row_hash,
    row_key,
)
from balint_cme.ledger.schema import TABLES

__all__ = ["Writer", "fetch_row", "format_time", "parse_date", "parse_time"]


def format_time(moment: datetime) -> str:
    """A stored time: UTC, ISO 8601 with microseconds."""
    if moment.tzinfo is None:
        raise InvalidArgumentError("ledger times must be time-zone aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str | None) -> datetime | None:
    """A stored time back as an aware datetime."""
    return None if text is None else datetime.fromisoformat(text)


def parse_date(text: str | None) -> date | None:
    """A stored date back as a date."""
    return None if text is None else date.fromisoformat(text)


@cache
def _upsert_sql(table: str) -> str:
    spec = TABLES[table]
    columns = ", ".join(spec.columns)
    marks = ", ".join("?" for _ in spec.columns)
    others = [c for c in spec.columns if c not in spec.key]
    if others:
        updates = ", ".join(f"{c} = excluded.{c}" for c in others)
        action = f"DO UPDATE SET {updates}"
    else:
        action = "DO NOTHING"
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(spec.key)}) {action}"
    )


@cache
def _select_sql(table: str) -> str:
    spec = TABLES[table]
    where = " AND ".join(f"{c} = ?" for c in spec.key)
    return f"SELECT {', '.join(spec.columns)} FROM {table} WHERE {where}"


@cache
def _delete_sql(table: str) -> str:
    where = " AND ".join(f"{c} = ?" for c in TABLES[table].key)
    return f"DELETE FROM {table} WHERE {where}"


def fetch_row(
    connection: sqlite3.Connection, table: str, key: Sequence[object]
) -> dict[str, Any] | None:
    """The row of `table` with this key, as column → value, or None."""
    values = connection.execute(_select_sql(table), tuple(key)).fetchone()
    if values is None:
        return None
    return dict(zip(TABLES[table].columns, values, strict=True))


class Writer:
    """Row changes and audit events inside one open write transaction."""

    def __init__(self, connection: sqlite3.Connection, *, at: str, actor: str) -> None:
        self.connection = connection
        self.at = at
        """The transaction's time (stored form), shared by all its events."""
        self.actor = actor
        self._changes: list[tuple[str, str, str | None]] = []
        self.events_written = 0
        head = connection.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
        self._seq: int = head[0] if head else 0
        self._hash: str = head[1] if head else "0" * 64

    def put(self, table: str, row: Mapping[str, object]) -> None:
        """Insert or update one row (every column given) and remember the change."""
        spec = TABLES[table]
        values = tuple(row[column] for column in spec.columns)
        self.connection.execute(_upsert_sql(table), values)
        self._changes.append((table, row_key(table, values), row_hash(table, values)))

    def put_if_changed(self, table: str, row: Mapping[str, object]) -> bool:
        """put() unless the stored row already holds exactly these values; True if written."""
        spec = TABLES[table]
        existing = fetch_row(self.connection, table, [row[c] for c in spec.key])
        if existing is not None and all(existing[c] == row[c] for c in spec.columns):
            return False
        self.put(table, row)
        return True

    def delete(self, table: str, key: Sequence[object]) -> bool:
        """Delete one row by key and remember the deletion; False if there was no such row."""
        cursor = self.connection.execute(_delete_sql(table), tuple(key))
        if cursor.rowcount == 0:
            return False
        self._changes.append((table, "/".join(str(part) for part in key), None))
        return True

    def event(self, action: str, subject: str, details: Mapping[str, object]) -> None:
        """Append an audit event carrying the changes made since the last event."""
        if action != PURGE_ACTION:
            for table, key, _ in self._changes:
                # certificate_status() checks a number's rows against the events found by their
                # subject: an event writing them under another subject would be missed.
                if table in SUBJECT_OWNED_TABLES and key.split("/", 1)[0] != subject:
                    raise RuntimeError(f"{action} about {subject!r} writes {table} row {key!r}")
        details_text = canonical_json(dict(details))
        changes_text = canonical_json([list(change) for change in self._changes])
        self._changes = []
        seq = self._seq + 1
        text = event_json(seq, self.at, self.actor, action, subject, details_text, changes_text)
        digest = event_hash(self._hash, text)
        self.connection.execute(
            "INSERT INTO audit (seq, at, actor, action, subject, details, changes, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, self.at, self.actor, action, subject, details_text, changes_text, digest),
        )
        self._seq, self._hash = seq, digest
        self.events_written += 1

    def finish(self) -> None:
        """Move the chain head to the last event; every change must belong to an event."""
        if self._changes:
            raise RuntimeError(f"ledger changes without an audit event: {self._changes[:3]}")
        if self.events_written:
            self.connection.execute(
                "INSERT INTO chain_head (id, seq, hash) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                (self._seq, self._hash),
            )
