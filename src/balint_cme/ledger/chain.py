"""The hash chain: canonical JSON, event and row hashes, and the check over the whole ledger.

Every change to a covered table (schema.TABLES) is written together with an audit event that
lists the rows it touched as (table, key, row hash or null for a deletion). Each event's hash
is SHA-256 over the previous event's hash followed by the event's canonical JSON, so editing,
reordering or deleting an event breaks the chain; the chain_head row catches a cut-off tail.
check_chain() also replays the events' row hashes and compares them with the tables, so a row
edited, added or deleted outside balint_cme is reported too.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from balint_cme.errors import InvalidArgumentError
from balint_cme.ledger.records import ChainReport
from balint_cme.ledger.schema import TABLES

__all__ = [
    "GENESIS_HASH",
    "PURGE_ACTION",
    "SUBJECT_OWNED_TABLES",
    "canonical_json",
    "check_chain",
    "check_rows_of",
    "event_hash",
    "event_json",
    "format_anchor",
    "parse_anchor",
    "row_hash",
    "row_key",
]

GENESIS_HASH = "0" * 64
"""The "previous hash" of the first event."""

_MAX_LISTED_PROBLEMS = 100
_ANCHOR = re.compile(r"([1-9][0-9]{0,17}):([0-9a-f]{64})")


def format_anchor(seq: int, digest: str) -> str:
    """ "SEQ:HASH": event SEQ's hash, which proves events 1..SEQ when the chain re-computes."""
    return f"{seq}:{digest}"


def parse_anchor(text: str) -> tuple[int, str]:
    """(seq, hash) from "SEQ:HASH" (as printed after every change).

    Raises:
        ValueError: not an anchor.
    """
    match = _ANCHOR.fullmatch(text.strip().lower())
    if match is None:
        raise InvalidArgumentError(
            f"{text[:80]!r} is not a ledger anchor like 1234:<64 hexadecimal digits>"
        )
    return int(match[1]), match[2]


def _encode_extra(value: object) -> object:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be recorded")
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | frozenset | set):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    raise TypeError(f"{type(value).__name__} values cannot be recorded in the ledger")


def canonical_json(value: object) -> str:
    """One text for one value: sorted keys, no spaces, UTF-8, Decimals and dates as strings."""
    try:
        return json.dumps(
            value,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_encode_extra,
        )
    except (TypeError, ValueError) as err:
        raise ValueError(f"not recordable as JSON: {err}") from err


_dump_text = json.JSONEncoder(ensure_ascii=False).encode


def event_json(
    seq: int, at: str, actor: str, action: str, subject: str, details: str, changes: str
) -> str:
    """The canonical JSON of an event: [seq, at, actor, action, subject, details, changes].

    `details` and `changes` are already canonical JSON texts, so they are embedded as they are;
    the result equals canonical_json() of the parsed list.
    """
    return (
        f"[{seq},{_dump_text(at)},{_dump_text(actor)},{_dump_text(action)},"
        f"{_dump_text(subject)},{details},{changes}]"
    )


def event_hash(previous_hash: str, event: str) -> str:
    """SHA-256 (hex) over the previous event's hash followed by this event's canonical JSON."""
    return hashlib.sha256((previous_hash + event).encode("utf-8")).hexdigest()


def _encode_value(value: object) -> str:
    if value is None:
        return "~"
    if isinstance(value, str):
        return f"s{len(value)}:{value}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"i{value}"
    if isinstance(value, bytes):
        return "b" + hashlib.sha256(value).hexdigest()
    if isinstance(value, float):  # never written by balint_cme: only a damaged or edited row
        return f"f{value!r}"
    raise TypeError(f"unexpected {type(value).__name__} in a ledger row")


def row_hash(table: str, values: Sequence[object]) -> str:
    """SHA-256 (hex) of one row, its values in TABLES[table].columns order.

    Each value is encoded unambiguously: "~" for NULL, "i<n>" for an integer, "s<length>:<text>"
    for text and "b<sha256>" for bytes. (The common cases are inlined: check_chain() hashes
    every row of the ledger.)
    """
    encoded = [
        f"s{len(v)}:{v}"
        if v.__class__ is str
        else "~"
        if v is None
        else f"i{v}"
        if v.__class__ is int
        else _encode_value(v)
        for v in values
    ]
    return hashlib.sha256(f"{table}|{'|'.join(encoded)}".encode()).hexdigest()


def row_key(table: str, values: Sequence[object]) -> str:
    """The row's key as text ("series-id/participant-id/3"); ids never contain "/"."""
    columns = TABLES[table].columns
    return "/".join(str(values[columns.index(name)]) for name in TABLES[table].key)


class _Problems:
    def __init__(self) -> None:
        self.listed: list[str] = []
        self.count = 0

    def add(self, message: str) -> None:
        self.count += 1
        if len(self.listed) < _MAX_LISTED_PROBLEMS:
            self.listed.append(message)


def _check_events(
    rows: Iterable[tuple[int, str, str, str, str, str, str, str]],
    problems: _Problems,
    expected_rows: dict[str, str | None],
    *,
    hashes_at: dict[int, str] | None = None,
) -> tuple[int, int, str]:
    """Re-compute every event's hash link; collect the row hashes the events record.

    `hashes_at` maps the sequence numbers wanted to their stored hashes on return.
    """
    previous = GENESIS_HASH
    last_seq = 0
    count = 0
    loads = json.loads
    sha256 = hashlib.sha256
    dump = _dump_text
    # Times, actors and actions repeat across events; encode each distinct one once.
    dumped: dict[str, str] = {}
    for seq, at, actor, action, subject, details, changes, stored in rows:
        count += 1
        if len(dumped) > 10_000:
            dumped.clear()
        at_text = dumped.get(at) or dumped.setdefault(at, dump(at))
        actor_text = dumped.get(actor) or dumped.setdefault(actor, dump(actor))
        action_text = dumped.get(action) or dumped.setdefault(action, dump(action))
        if seq != last_seq + 1:
            problems.add(
                f"audit events {last_seq + 1}..{seq - 1} are missing (deleted)"
                if seq > last_seq + 1
                else f"audit event {seq} is out of order"
            )
        text = f"[{seq},{at_text},{actor_text},{action_text},{dump(subject)},{details},{changes}]"
        if sha256((previous + text).encode("utf-8")).hexdigest() != stored:
            problems.add(f"audit event {seq} ({action} {subject}) was altered or its link broken")
        if hashes_at is not None and seq in hashes_at:
            hashes_at[seq] = stored
        if changes != "[]":
            try:
                for table, key, digest in loads(changes):
                    expected_rows[f"{table}\x00{key}"] = digest
            except (ValueError, TypeError, RecursionError):
                problems.add(f"audit event {seq} has unreadable changes")
        previous = stored
        last_seq = seq
    return count, last_seq, previous


def _check_tables(
    connection: sqlite3.Connection, problems: _Problems, expected_rows: dict[str, str | None]
) -> int:
    checked = 0
    for table, spec in TABLES.items():
        key_positions = [spec.columns.index(name) for name in spec.key]
        single = key_positions[0] if len(key_positions) == 1 else None
        prefix = f"{table}\x00"
        columns = ", ".join(spec.columns)
        for values in connection.execute(f"SELECT {columns} FROM {table}"):
            checked += 1
            if single is not None:
                key = str(values[single])
            else:
                key = "/".join(str(values[i]) for i in key_positions)
            expected = expected_rows.pop(prefix + key, None)
            if expected is None:
                problems.add(f"{table} row {key!r} is not in the audit log (added outside)")
            elif row_hash(table, values) != expected:
                problems.add(f"{table} row {key!r} differs from the audit log (edited outside)")
    for name, digest in expected_rows.items():
        if digest is not None:
            table, key = name.split("\x00", 1)
            problems.add(f"{table} row {key!r} is missing (deleted outside)")
    return checked


_EVENTS_SQL = (
    "SELECT seq, at, actor, action, subject, details, changes, hash FROM audit ORDER BY seq"
)


def _check_head(
    connection: sqlite3.Connection, problems: _Problems, last_seq: int, last_hash: str
) -> None:
    head: Any = connection.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
    if head is None:
        problems.add("the chain head record is missing")
    elif (head[0], head[1]) != (last_seq, last_hash):
        problems.add(
            f"the chain head says event {head[0]} is the last, but the log ends at {last_seq} "
            "(events deleted or added outside balint_cme)"
        )


_EVENT_COLUMNS = "seq, at, actor, action, subject, details, changes, hash"
SUBJECT_OWNED_TABLES = frozenset({"numbers", "certificates", "page_digests"})
"""Tables whose rows belong to one certificate number: every event that writes one has that
number as its subject, or is a PURGE_ACTION event whose subject is the series (Writer enforces
it), so the events about a certificate are found by the audit_by_subject index."""

PURGE_ACTION = "series.purged"


def _event_text(row: Sequence[Any]) -> str:
    seq, at, actor, action, subject, details, changes = row[:7]
    return event_json(seq, at, actor, action, subject, details, changes)


def check_rows_of(
    connection: sqlite3.Connection,
    rows: dict[str, list[tuple[object, ...]]],
    subject: str,
    *,
    also_subjects: Sequence[str] = (),
) -> tuple[str, ...]:
    """Problems with one subject's rows, each checked against the hash recorded by the LAST
    audit event that wrote it (none missing, none unlogged).

    `rows` maps a table of SUBJECT_OWNED_TABLES to the rows it holds for `subject` (values in TABLES
    column order); `also_subjects` are other subjects whose events may write them (the series,
    for a purge). Each such event's hash is re-computed from its predecessor's, and its
    successor's from it (or the chain head must be it), so an event edited to match an edited
    row is caught; and the log must have no gap up to the chain head. What this cannot catch,
    the whole log re-hashed from the edit to the head, only an anchor kept elsewhere catches
    (check_chain(anchor=...)); nor can a full check_chain(). Cost: a few indexed reads.
    """
    problems = _Problems()
    expected: dict[str, str | None] = {}
    marks = ", ".join("?" for _ in (subject, *also_subjects))
    events = connection.execute(
        f"SELECT {_EVENT_COLUMNS} FROM audit WHERE subject IN ({marks}) ORDER BY seq",
        (subject, *also_subjects),
    ).fetchall()
    head: Any = connection.execute("SELECT seq, hash FROM chain_head WHERE id = 1").fetchone()
    last: Any = connection.execute("SELECT MAX(seq) FROM audit").fetchone()
    if head is None or last[0] != head[0]:
        problems.add("the audit log does not end at the chain head (events deleted or added)")
    elif events:
        # No event deleted since this subject's first one (a deleted revocation leaves a gap):
        # counting that stretch is the one part of the check that grows with the log.
        first = events[0][0]
        # Counted in the audit_by_seq index (schema 3), not in the events' rows.
        counted: Any = connection.execute(
            "SELECT COUNT(*) FROM audit WHERE seq >= ?", (first,)
        ).fetchone()
        if counted[0] != head[0] - first + 1:
            problems.add(f"audit events after event {first} are missing (deleted)")
    for event in events:
        seq, stored, action = event[0], event[7], event[3]
        before: Any = connection.execute(
            "SELECT hash FROM audit WHERE seq = ?", (seq - 1,)
        ).fetchone()
        previous = GENESIS_HASH if seq == 1 else before[0] if before else None
        if previous is None or event_hash(previous, _event_text(event)) != stored:
            problems.add(f"audit event {seq} ({action} {event[4]}) was altered or its link broken")
        after: Any = connection.execute(
            f"SELECT {_EVENT_COLUMNS} FROM audit WHERE seq = ?", (seq + 1,)
        ).fetchone()
        if after is not None and event_hash(stored, _event_text(after)) != after[7]:
            problems.add(f"audit event {seq + 1} does not follow event {seq} (altered)")
        if after is None and (head is None or (head[0], head[1]) != (seq, stored)):
            problems.add(f"audit event {seq} is the last, but not the chain head")
        try:
            for table, key, digest in json.loads(event[6]):
                if table in rows and (key == subject or key.startswith(subject + "/")):
                    expected[f"{table}\x00{key}"] = digest
        except (ValueError, TypeError, RecursionError):
            problems.add(f"audit event {seq} has unreadable changes")
    for table, held in rows.items():
        for values in held:
            key = row_key(table, values)
            digest = expected.pop(f"{table}\x00{key}", None)
            if digest is None:
                problems.add(f"{table} row {key!r} is not in the audit log (added outside)")
            elif row_hash(table, values) != digest:
                problems.add(f"{table} row {key!r} differs from the audit log (edited outside)")
    for name, digest in expected.items():
        if digest is not None:
            table, key = name.split("\x00", 1)
            problems.add(f"{table} row {key!r} is missing (deleted outside)")
    return tuple(problems.listed)


def check_chain(
    connection: sqlite3.Connection,
    *,
    expected_head: str | None = None,
    anchor: tuple[int, str] | None = None,
) -> ChainReport:
    """Verify the whole audit chain and every covered row against it (one read transaction).

    `anchor` (seq, hash) kept from an earlier change proves events 1..seq unchanged: the chain
    must reach event seq and that event's re-computed hash must be the kept one. Events added
    after it (legitimate growth) do not matter; a rewrite of any event up to it does.
    """
    problems = _Problems()
    expected_rows: dict[str, str | None] = {}
    hashes_at: dict[int, str] | None = {anchor[0]: ""} if anchor is not None else None
    events, last_seq, last_hash = _check_events(
        connection.execute(_EVENTS_SQL), problems, expected_rows, hashes_at=hashes_at
    )
    _check_head(connection, problems, last_seq, last_hash)
    if anchor is not None and hashes_at is not None:
        seq, digest = anchor
        if seq > last_seq:
            problems.add(
                f"the anchor names event {seq}, but the log ends at event {last_seq} "
                "(events cut off, or the anchor is from another ledger)"
            )
        elif hashes_at[seq] != digest:
            problems.add(
                f"event {seq}'s hash is not the anchor's {digest[:16]}...: the history up to "
                "it was rewritten (or the anchor is from another ledger)"
            )
    if expected_head is not None and expected_head != last_hash:
        problems.add(
            f"the last event's hash {last_hash[:16]}... is not the expected {expected_head[:16]}..."
        )
    rows = _check_tables(connection, problems, expected_rows)
    return ChainReport(
        is_intact=problems.count == 0,
        events_checked=events,
        rows_checked=rows,
        head_seq=last_seq,
        head_hash=last_hash,
        problems=tuple(problems.listed),
        problem_count=problems.count,
    )
