"""How often each certificate was verified (how often, never who): a small SQLite file beside
the ledger, written by the public web app in short transactions.

Decision: the counts live in their own file (default: the ledger's path + ".verifications"),
not in the ledger, so the public server opens the ledger read-only and can never change a
six-year record; the ledger's hash chain stays about issuing only. Rows are (certificate
number, UTC day, lookups, uploads): no code, address, time of day or anything about the
verifier. Counts are buffered in memory and written at most every `flush_seconds` (default 5)
and when the server stops, so a crash loses at most those seconds of counts.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from balint_cme.errors import DataFileError
from balint_cme.model import DomainModel

__all__ = ["VerificationCount", "VerificationCounts", "default_counts_path", "read_counts"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verifications (
    number TEXT NOT NULL,
    day TEXT NOT NULL,
    lookups INTEGER NOT NULL DEFAULT 0,
    uploads INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (number, day)
) STRICT
"""


def default_counts_path(ledger_path: Path) -> Path:
    """Where the counts of a ledger live by default: "<ledger file>.verifications"."""
    return ledger_path.with_name(ledger_path.name + ".verifications")


class VerificationCount(DomainModel):
    """Verifications of one certificate number on one UTC day."""

    number: str
    day: date
    lookups: int
    """Code lookups (page or API)."""
    uploads: int
    """PDF files checked."""


def _connect(path: Path) -> sqlite3.Connection:
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        connection = sqlite3.connect(path, timeout=10.0, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute(_SCHEMA)
    except (OSError, sqlite3.Error) as err:
        raise DataFileError(path, f"cannot use the verification counts file: {err}") from err
    return connection


class VerificationCounts:
    """Buffered counter of verifications per certificate, safe to call from several threads."""

    def __init__(
        self,
        path: Path,
        *,
        flush_seconds: float = 5.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Open (or create, owner-only) the counts file at `path`.

        Raises:
            DataFileError: the file cannot be created or is not a counts file.
        """
        self.path = path
        self._flush_seconds = flush_seconds
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._pending: Counter[tuple[str, str, str]] = Counter()
        self._last_flush = time.monotonic()
        _connect(path).close()

    def add(self, number: str, kind: str = "lookups") -> None:
        """Count one verification of `number` ("lookups" or "uploads")."""
        day = self._clock().astimezone(UTC).date().isoformat()
        with self._lock:
            self._pending[(number, day, kind)] += 1
            due = time.monotonic() - self._last_flush >= self._flush_seconds
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the buffered counts in one short transaction (a failure keeps them buffered)."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
            self._last_flush = time.monotonic()
        if not pending:
            return
        try:
            connection = _connect(self.path)
            try:
                connection.execute("BEGIN IMMEDIATE")
                for (number, day, kind), count in pending.items():
                    lookups, uploads = (count, 0) if kind == "lookups" else (0, count)
                    connection.execute(
                        "INSERT INTO verifications (number, day, lookups, uploads) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (number, day) DO UPDATE SET "
                        "lookups = lookups + excluded.lookups, uploads = uploads + excluded.uploads",
                        (number, day, lookups, uploads),
                    )
                connection.execute("COMMIT")
            finally:
                connection.close()
        except (sqlite3.Error, DataFileError):
            with self._lock:
                self._pending.update(pending)


def read_counts(path: Path, number: str | None = None) -> tuple[VerificationCount, ...]:
    """The recorded counts (of one certificate number, or all), by number then day.

    Raises:
        DataFileError: the file does not exist or is not a counts file.
    """
    if not path.is_file():
        raise DataFileError(path, "no verification counts here (the web app writes them)")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            query = "SELECT number, day, lookups, uploads FROM verifications"
            rows = (
                connection.execute(
                    query + " WHERE number = ? ORDER BY day", (number.strip().upper(),)
                )
                if number is not None
                else connection.execute(query + " ORDER BY number, day")
            ).fetchall()
        finally:
            connection.close()
    except sqlite3.Error as err:
        raise DataFileError(path, f"not a verification counts file: {err}") from err
    return tuple(
        VerificationCount(number=n, day=date.fromisoformat(d), lookups=lk, uploads=up)
        for n, d, lk, up in rows
    )
