"""The ledger file's layout: SQL tables, the file-type marker and the schema version.

A ledger is an SQLite database whose header carries APPLICATION_ID (so another program's
database is never mistaken for one) and `PRAGMA user_version` = the schema version. TABLES
lists, for every table the audit log covers, its columns in hashing order and its key, so the
chain check can recompute each row's hash (see chain.py).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "APPLICATION_ID",
    "FORMAT_NAME",
    "SCHEMA_VERSION",
    "TABLES",
    "TableSpec",
    "create_statements",
]

APPLICATION_ID = 0x42434D45
"""`PRAGMA application_id` of a ledger: "BCME" in ASCII."""

FORMAT_NAME = "balint-cme-ledger"
"""meta.format of a ledger."""

SCHEMA_VERSION = 4
"""`PRAGMA user_version` this code writes; older files are migrated on open.

Version 2: a person in the ledger has their own id (`people.person_id`), and `person_links`
maps each series' roster id to it; version 1 keyed people by the roster id alone, which joined
two people whose series files used the same id (see migration.py).

Version 3: `page_digests` records the page digest (page_seal.page_digest) of every file drawn
for a certificate version, so verify accepts other bytes only for a page issued under that
number; and an index on audit.seq, so certificate_status() counts the log's tail in an index
rather than in the table. Certificates issued before version 3 have no recorded digest.

Version 4: `attendance_records` keeps, per person and session, the attendance records
themselves (each join/leave interval with its time zone and its Evidence: file, platform, lines)
beside the merged intervals of `attendance`, so Ledger.series_attendance() returns what was
recorded. Attendance recorded before version 4 has no such row and reads back as its merged
intervals, without evidence."""


class TableSpec(NamedTuple):
    """A covered table: its columns in hashing order and which of them form the key."""

    columns: tuple[str, ...]
    key: tuple[str, ...]


TABLES: dict[str, TableSpec] = {
    "meta": TableSpec(("key", "value"), ("key",)),
    "series": TableSpec(
        (
            "series_id",
            "title",
            "last_session_on",
            "current_sha256",
            "purged_at",
            "purge_reason",
        ),
        ("series_id",),
    ),
    "series_snapshots": TableSpec(
        ("series_id", "sha256", "file_name", "content", "recorded_at"),
        ("series_id", "sha256"),
    ),
    "people": TableSpec(
        (
            "person_id",
            "name",
            "credentials",
            "email",
            "npi",
            "license_state",
            "license_number",
            "birth_month",
            "birth_day",
            "aliases",
        ),
        ("person_id",),
    ),
    "enrollments": TableSpec(
        ("series_id", "participant_id", "recorded_at"), ("series_id", "participant_id")
    ),
    "attendance": TableSpec(
        (
            "series_id",
            "participant_id",
            "session",
            "held_on",
            "attended_seconds",
            "credit",
            "hours",
            "reason",
            "intervals",
            "sources",
        ),
        ("series_id", "participant_id", "session"),
    ),
    "awards": TableSpec(
        (
            "series_id",
            "participant_id",
            "kind",
            "points",
            "participation_hours",
            "is_physician",
            "shortfalls",
        ),
        ("series_id", "participant_id"),
    ),
    "numbers": TableSpec(
        ("number", "seq", "series_id", "participant_id", "purged_at"), ("number",)
    ),
    "certificates": TableSpec(
        (
            "number",
            "version",
            "series_id",
            "participant_id",
            "kind",
            "credits",
            "session_dates",
            "issued_on",
            "claims",
            "claims_fingerprint",
            "series_sha256",
            "reason",
            "state",
            "reserved_at",
            "confirmed_at",
            "verification_code",
            "pdf_sha256",
            "file_name",
            "superseded_by",
            "superseded_at",
            "revoked_at",
            "revoked_reason",
            "revoked_by",
        ),
        ("number", "version"),
    ),
    "consents": TableSpec(
        ("person_id", "wording_version", "given_at", "withdrawn_at"), ("person_id",)
    ),
    "person_links": TableSpec(
        ("series_id", "participant_id", "person_id", "recorded_at"),
        ("series_id", "participant_id"),
    ),
    "page_digests": TableSpec(
        ("number", "version", "digest", "series_id", "recorded_at"),
        ("number", "version", "digest"),
    ),
    "attendance_records": TableSpec(
        ("series_id", "participant_id", "session", "records"),
        ("series_id", "participant_id", "session"),
    ),
}
"""Row hashes cover the values in this order, not the column names: version 2 renamed
people.participant_id and consents.participant_id to person_id without re-hashing a row."""

_DDL_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE chain_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    details TEXT NOT NULL,
    changes TEXT NOT NULL,
    hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_subject ON audit (subject);

CREATE TABLE series (
    series_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    last_session_on TEXT,
    current_sha256 TEXT NOT NULL,
    purged_at TEXT,
    purge_reason TEXT
) STRICT;

CREATE TABLE series_snapshots (
    series_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content BLOB NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (series_id, sha256)
) STRICT;

CREATE TABLE people (
    participant_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    credentials TEXT NOT NULL,
    email TEXT,
    npi TEXT,
    license_state TEXT,
    license_number TEXT,
    birth_month INTEGER,
    birth_day INTEGER,
    aliases TEXT NOT NULL
) STRICT;
CREATE INDEX people_by_email ON people (email COLLATE NOCASE);
CREATE INDEX people_by_npi ON people (npi);

CREATE TABLE enrollments (
    series_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (series_id, participant_id)
) STRICT;
CREATE INDEX enrollments_by_person ON enrollments (participant_id);

CREATE TABLE attendance (
    series_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    session INTEGER NOT NULL,
    held_on TEXT NOT NULL,
    attended_seconds INTEGER NOT NULL,
    credit TEXT NOT NULL,
    hours TEXT NOT NULL,
    reason TEXT,
    intervals TEXT NOT NULL,
    sources TEXT NOT NULL,
    PRIMARY KEY (series_id, participant_id, session)
) STRICT;

CREATE TABLE awards (
    series_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    points TEXT NOT NULL,
    participation_hours TEXT NOT NULL,
    is_physician INTEGER NOT NULL,
    shortfalls TEXT NOT NULL,
    PRIMARY KEY (series_id, participant_id)
) STRICT;

CREATE TABLE numbers (
    number TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    series_id TEXT NOT NULL,
    participant_id TEXT,
    purged_at TEXT,
    UNIQUE (series_id, participant_id)
) STRICT;

CREATE TABLE certificates (
    number TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    series_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('credit', 'participation')),
    credits TEXT NOT NULL,
    session_dates TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    claims TEXT NOT NULL,
    claims_fingerprint TEXT NOT NULL,
    series_sha256 TEXT NOT NULL,
    reason TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'issued', 'superseded', 'revoked')),
    reserved_at TEXT NOT NULL,
    confirmed_at TEXT,
    verification_code TEXT,
    pdf_sha256 TEXT,
    file_name TEXT,
    superseded_by INTEGER,
    superseded_at TEXT,
    revoked_at TEXT,
    revoked_reason TEXT,
    revoked_by TEXT,
    PRIMARY KEY (number, version),
    CHECK (state = 'pending' OR confirmed_at IS NOT NULL OR revoked_at IS NOT NULL)
) STRICT;
CREATE INDEX certificates_by_holder ON certificates (series_id, participant_id);
CREATE INDEX certificates_by_person ON certificates (participant_id);
CREATE INDEX certificates_by_state ON certificates (state);
CREATE INDEX certificates_by_code ON certificates (verification_code);

CREATE TABLE consents (
    participant_id TEXT PRIMARY KEY,
    wording_version TEXT NOT NULL,
    given_at TEXT NOT NULL,
    withdrawn_at TEXT
) STRICT;
"""

_DDL_V2 = """
ALTER TABLE people RENAME COLUMN participant_id TO person_id;
ALTER TABLE consents RENAME COLUMN participant_id TO person_id;

CREATE TABLE person_links (
    series_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (series_id, participant_id)
) STRICT;
CREATE INDEX person_links_by_person ON person_links (person_id);
CREATE INDEX person_links_by_roster_id ON person_links (participant_id);
"""

_DDL_V3 = """
CREATE TABLE page_digests (
    number TEXT NOT NULL,
    version INTEGER NOT NULL,
    digest TEXT NOT NULL,
    series_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (number, version, digest)
) STRICT;
CREATE INDEX page_digests_by_series ON page_digests (series_id);
CREATE INDEX audit_by_seq ON audit (seq);
"""
# audit.seq is the rowid: counting a stretch of it reads every event's whole row, while
# audit_by_seq holds the numbers alone (certificate_status() counts the log's tail, chain.py).

_DDL_V4 = """
CREATE TABLE attendance_records (
    series_id TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    session INTEGER NOT NULL,
    records TEXT NOT NULL,
    PRIMARY KEY (series_id, participant_id, session)
) STRICT;
"""
# A table of its own rather than a column of `attendance`: rows written before version 4 keep
# the hashes the audit log recorded for them (a row hash covers every column of its table).

_MIGRATIONS: dict[int, str] = {1: _DDL_V1, 2: _DDL_V2, 3: _DDL_V3, 4: _DDL_V4}
"""Schema version → the statements that bring a file from the version before it to this one."""


def create_statements(from_version: int) -> list[str]:
    """The SQL statements that bring a ledger from `from_version` to SCHEMA_VERSION, in order."""
    statements: list[str] = []
    for version in range(from_version + 1, SCHEMA_VERSION + 1):
        statements.extend(s.strip() for s in _MIGRATIONS[version].split(";") if s.strip())
    return statements
