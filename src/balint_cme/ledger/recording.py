"""Recording a series and its attendance, and reading them back.

Functions over a connection (reads) or a Writer (changes, inside the Ledger's transaction):
the series file as used and its roster, each person's award and per-session attendance
evidence, and the one query that returns a series' attendance records as they were recorded.
The Ledger (store.py) opens the transactions and audits; nothing here commits.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from balint_cme.attendance import AttendanceRecord
from balint_cme.credit import CreditAward
from balint_cme.errors import LedgerError
from balint_cme.ledger.chain import canonical_json
from balint_cme.ledger.identity import record_roster
from balint_cme.ledger.records import SeriesSnapshot
from balint_cme.ledger.rows import (
    attendance_records_row,
    attendance_row,
    records_from_intervals,
    records_from_stored,
    records_of,
)
from balint_cme.ledger.writer import Writer, fetch_row, parse_time
from balint_cme.model import Series

__all__ = [
    "record_attendance",
    "record_series",
    "refuse_purged",
    "require_series",
    "series_attendance",
    "series_content",
]


def refuse_purged(existing: Mapping[str, Any] | None, series_id: str) -> None:
    """Raise LedgerError if `existing` (the series row, or None) says the series was purged."""
    if existing is not None and existing["purged_at"] is not None:
        raise LedgerError(
            f"series {series_id!r} was purged on {existing['purged_at'][:10]}; "
            "its id cannot be recorded again"
        )


def record_series(
    writer: Writer, series: Series, *, content: bytes, file_name: str
) -> SeriesSnapshot:
    """Ledger.record_series() inside its transaction (`file_name` already checked)."""
    digest = hashlib.sha256(content).hexdigest()
    existing = fetch_row(writer.connection, "series", [series.id])
    refuse_purged(existing, series.id)
    snapshot = fetch_row(writer.connection, "series_snapshots", [series.id, digest])
    is_new = snapshot is None
    if snapshot is None:
        snapshot = {
            "series_id": series.id,
            "sha256": digest,
            "file_name": file_name,
            "content": content,
            "recorded_at": writer.at,
        }
        writer.put("series_snapshots", snapshot)
    last = series.last_session_on
    earlier = existing["last_session_on"] if existing else None
    # Retention counts from the latest last session ever recorded: never cut short.
    last_text = max(filter(None, [last.isoformat() if last else None, earlier]), default=None)
    changed = writer.put_if_changed(
        "series",
        {
            "series_id": series.id,
            "title": series.title,
            "last_session_on": last_text,
            "current_sha256": digest,
            "purged_at": None,
            "purge_reason": None,
        },
    )
    if is_new or changed:
        writer.event(
            "series.recorded",
            series.id,
            {"sha256": digest, "file_name": file_name, "new_snapshot": is_new},
        )
    record_roster(writer, series)
    return SeriesSnapshot(
        series_id=series.id,
        sha256=digest,
        file_name=snapshot["file_name"],
        recorded_at=parse_time(snapshot["recorded_at"]),
        is_new=is_new,
    )


def series_content(
    connection: sqlite3.Connection, series_id: str, sha256: str | None = None
) -> bytes | None:
    """The series file as recorded (the current one unless `sha256` names another)."""
    if sha256 is None:
        row = fetch_row(connection, "series", [series_id])
        if row is None:
            return None
        sha256 = row["current_sha256"]
    snapshot = fetch_row(connection, "series_snapshots", [series_id, sha256])
    return None if snapshot is None else bytes(snapshot["content"])


def require_series(connection: sqlite3.Connection, series_id: str) -> dict[str, Any]:
    """The series row; LedgerError if the series is not recorded or was purged."""
    row = fetch_row(connection, "series", [series_id])
    if row is None:
        raise LedgerError(f"series {series_id!r} is not in the ledger: record the series first")
    if row["purged_at"] is not None:
        raise LedgerError(f"series {series_id!r} was purged on {row['purged_at'][:10]}")
    return row


def record_attendance(
    writer: Writer,
    series_id: str,
    awards: tuple[CreditAward, ...],
    records: Iterable[AttendanceRecord],
    *,
    file_hashes: Mapping[str, str],
    only_sessions: Collection[int] | None,
) -> int:
    """Ledger.record_attendance() inside its transaction (awards already checked to be of
    `series_id`); returns how many people changed."""
    by_session: dict[tuple[str, int], list[AttendanceRecord]] = defaultdict(list)
    for record in records:
        by_session[record.participant_id, record.session].append(record)
    changed_people = 0
    connection = writer.connection
    require_series(connection, series_id)
    enrolled = {
        row[0]
        for row in connection.execute(
            "SELECT participant_id FROM enrollments WHERE series_id = ?", (series_id,)
        )
    }
    for award in awards:
        if not award.is_enrolled:
            continue
        pid = award.participant_id
        if pid not in enrolled:
            raise LedgerError(f"{pid!r} is not enrolled in series {series_id!r} in the ledger")
        changed = writer.put_if_changed(
            "awards",
            {
                "series_id": series_id,
                "participant_id": pid,
                "kind": award.kind,
                "points": f"{award.points:.2f}",
                "participation_hours": f"{award.participation_hours:.2f}",
                "is_physician": int(award.is_physician),
                "shortfalls": canonical_json(list(award.shortfalls)),
            },
        )
        kept: set[int] = set()
        for result in award.sessions:
            if only_sessions is not None and result.session not in only_sessions:
                continue
            evidence = by_session.get((pid, result.session), [])
            if result.attended_seconds == 0 and not evidence:
                continue
            kept.add(result.session)
            changed |= writer.put_if_changed(
                "attendance",
                attendance_row(series_id, pid, result, evidence, file_hashes),
            )
            changed |= writer.put_if_changed(
                "attendance_records",
                attendance_records_row(series_id, pid, result.session, evidence),
            )
        for (session,) in connection.execute(
            "SELECT session FROM attendance WHERE series_id = ? AND participant_id = ?",
            (series_id, pid),
        ).fetchall():
            if session not in kept and (only_sessions is None or session in only_sessions):
                changed |= writer.delete("attendance", [series_id, pid, session])
                changed |= writer.delete("attendance_records", [series_id, pid, session])
        if changed:
            changed_people += 1
            writer.event(
                "attendance.recorded",
                pid,
                {
                    "series_id": series_id,
                    "sessions": sorted(kept),
                    "sources": sorted(
                        {r.evidence.source for r in records_of(by_session, pid) if r.evidence}
                    ),
                },
            )
    return changed_people


def series_attendance(
    connection: sqlite3.Connection, series_id: str
) -> tuple[AttendanceRecord, ...]:
    """Every attendance record the ledger holds for `series_id`, in ONE query: by roster id,
    session, then time. Attendance recorded before schema 4 (no attendance_records row)
    comes back as its merged intervals, without evidence."""
    found: list[AttendanceRecord] = []
    for participant_id, session, intervals, stored in connection.execute(
        "SELECT a.participant_id, a.session, a.intervals, r.records FROM attendance a "
        "LEFT JOIN attendance_records r ON r.series_id = a.series_id "
        "AND r.participant_id = a.participant_id AND r.session = a.session "
        "WHERE a.series_id = ? ORDER BY a.participant_id, a.session",
        (series_id,),
    ):
        if stored is None:
            found.extend(records_from_intervals(participant_id, session, intervals))
        else:
            found.extend(records_from_stored(participant_id, session, stored))
    return tuple(found)
