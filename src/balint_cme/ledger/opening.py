"""Opening a ledger file: refuse what is not a ledger, create or upgrade the schema.

A new file is made readable by its owner only (it holds personal data), switched to WAL mode
and given the current schema plus the "ledger.created" event, in one transaction that a second
process racing to create the same file waits for.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from balint_cme.errors import DataFileError
from balint_cme.ledger.migration import link_roster_ids
from balint_cme.ledger.schema import (
    APPLICATION_ID,
    FORMAT_NAME,
    SCHEMA_VERSION,
    create_statements,
)
from balint_cme.ledger.writer import Writer, format_time

__all__ = ["check_private", "initialise", "owner_only_files", "prepare_file", "rollback"]

_SQLITE_HEADER = b"SQLite format 3\x00"
_SYSTEM_ACTOR = "balint_cme"


def rollback(connection: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        connection.execute("ROLLBACK")


@contextlib.contextmanager
def owner_only_files() -> Iterator[None]:
    """Files created inside the block (SQLite's -wal and -shm) are readable by the owner only.

    The umask is process-wide; the Ledger is not shared between threads (see the README), and
    SQLite gives those files the database's mode anyway: this covers the case it does not.
    """
    if os.name != "posix":
        yield
        return
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def check_private(path: Path) -> None:
    """Refuse a ledger (or its -wal/-shm file) that other users can read or change, or that
    belongs to another user: it holds birth dates and licence numbers."""
    if os.name != "posix":
        return  # Windows ACLs are not mode bits; the user profile folder protects the file.
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            status = candidate.stat()
        except FileNotFoundError:
            continue
        except OSError as err:
            raise DataFileError(candidate, f"cannot read the ledger: {err.strerror}") from err
        mode = stat.S_IMODE(status.st_mode)
        if mode & 0o077:
            raise DataFileError(
                candidate,
                f"can be read or changed by other users (mode {mode:04o}), and the ledger holds "
                f"birth dates and licence numbers: run `chmod 600 {candidate}` and try again",
            )
        if status.st_uid not in (os.getuid(), 0):  # as OpenSSH: yours, or root's
            raise DataFileError(
                candidate,
                f"belongs to another user (uid {status.st_uid}), who can change it: a ledger "
                "must be your own file (copy it, then `chmod 600` the copy)",
            )


def prepare_file(path: Path, *, create: bool) -> None:
    if path.is_dir():
        raise DataFileError(path, "is a directory, not a ledger file")
    try:
        with path.open("rb") as handle:
            first_page = handle.read(100)
    except FileNotFoundError:
        if not create:
            raise DataFileError(path, "no ledger here (it is created on first use)") from None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Personal data: readable by the owner only (SQLite gives -wal/-shm the same mode).
            descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(descriptor)
        except FileExistsError:
            pass
        except OSError as err:
            raise DataFileError(path, f"cannot create the ledger: {err.strerror}") from err
        return
    except OSError as err:
        raise DataFileError(path, f"cannot read the ledger: {err.strerror}") from err
    header = first_page[: len(_SQLITE_HEADER)]
    if not header and not create:
        raise DataFileError(path, "an empty file, not a balint_cme ledger")
    if header and header != _SQLITE_HEADER:
        raise DataFileError(path, "not a balint_cme ledger (not an SQLite database)")
    # A file marked as a ledger is checked before it is opened at all; any other (a new or
    # empty one) once initialise() has told whether it is a ledger (Ledger.open()).
    if int.from_bytes(first_page[68:72], "big") == APPLICATION_ID:
        check_private(path)


def initialise(
    connection: sqlite3.Connection,
    path: Path,
    clock: Callable[[], datetime],
    number_prefix: str,
    retention_years: int,
    *,
    read_only: bool = False,
) -> tuple[dict[str, str], list[str]]:
    """The file's meta values, and notes on what an upgrade of an older file changed.

    A file of an older schema opened `read_only` (the public verification server) cannot be
    upgraded here: the error says which command upgrades it.
    """
    application_id = connection.execute("PRAGMA application_id").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if application_id not in (0, APPLICATION_ID):
        raise DataFileError(path, "an SQLite database, but not a balint_cme ledger")
    if application_id == 0:
        tables = connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise DataFileError(path, "an SQLite database, but not a balint_cme ledger")
    if version > SCHEMA_VERSION:
        raise DataFileError(
            path,
            f"written by a newer balint_cme (ledger schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}): upgrade balint_cme",
        )
    if read_only and 0 < version < SCHEMA_VERSION:
        raise DataFileError(
            path,
            f"ledger schema {version}, older than this version's {SCHEMA_VERSION}, and opened "
            "read-only: upgrade it once with a command that writes, e.g. "
            f"`balint-cme ledger check --ledger {path}`, then start again",
        )
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise DataFileError(path, f"cannot switch the ledger to WAL mode (got {mode!r})")
    connection.execute("PRAGMA synchronous = FULL")
    notes: list[str] = []
    if version < SCHEMA_VERSION:
        notes = _upgrade(connection, path, clock, number_prefix, retention_years)
    meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("format") != FORMAT_NAME:
        raise DataFileError(path, "not a balint_cme ledger (its meta table says otherwise)")
    return meta, notes


def _upgrade(
    connection: sqlite3.Connection,
    path: Path,
    clock: Callable[[], datetime],
    number_prefix: str,
    retention_years: int,
) -> list[str]:
    notes: list[str] = []
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        raise DataFileError(path, f"cannot prepare the ledger: {err}") from err
    try:
        # Another process may have created or upgraded the file while this one waited.
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION:
            for statement in create_statements(version):
                connection.execute(statement)
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            writer = Writer(connection, at=format_time(clock()), actor=_SYSTEM_ACTOR)
            if version == 0:
                for key, value in (
                    ("format", FORMAT_NAME),
                    ("number_prefix", number_prefix),
                    ("retention_years", str(retention_years)),
                    ("created_at", writer.at),
                ):
                    writer.put("meta", {"key": key, "value": value})
                writer.event("ledger.created", "ledger", {"schema": SCHEMA_VERSION})
            else:
                if version < 2:
                    notes = link_roster_ids(writer)
                if (
                    version < 3
                    and connection.execute(
                        "SELECT 1 FROM certificates WHERE state != 'pending' LIMIT 1"
                    ).fetchone()
                ):
                    notes = [
                        *notes,
                        "certificates issued before this upgrade have no recorded page digest: "
                        "verify accepts other bytes for them on their page seal alone (run "
                        "certify again to record the page of each current certificate)",
                    ]
                writer.event(
                    "ledger.upgraded",
                    "ledger",
                    {"from": version, "to": SCHEMA_VERSION, "notes": notes},
                )
            writer.finish()
        connection.execute("COMMIT")
    except BaseException:
        rollback(connection)
        raise
    return notes
