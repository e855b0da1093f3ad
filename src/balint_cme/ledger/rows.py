"""Converting between domain values, table rows and the records the ledger returns."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from balint_cme.attendance import AttendanceRecord
from balint_cme.credit import SessionCredit
from balint_cme.ledger import issuing
from balint_cme.ledger.chain import canonical_json
from balint_cme.ledger.records import (
    ConsentRecord,
    ParticipationRecord,
    PersonRecord,
    SessionAttendance,
)
from balint_cme.ledger.schema import TABLES
from balint_cme.ledger.writer import fetch_row, parse_time

__all__ = [
    "attendance_row",
    "consent_from_row",
    "participation",
    "person_from_row",
    "records_of",
]


def records_of(
    by_session: Mapping[tuple[str, int], list[AttendanceRecord]], pid: str
) -> Iterator[AttendanceRecord]:
    for (who, _), records in by_session.items():
        if who == pid:
            yield from records


def attendance_row(
    series_id: str,
    pid: str,
    result: SessionCredit,
    evidence: Sequence[AttendanceRecord],
    file_hashes: Mapping[str, str],
) -> dict[str, object]:
    ordered = sorted(evidence, key=lambda r: (r.joined_at, r.left_at))
    sources: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
    for record in ordered:
        source = record.evidence.source if record.evidence else None
        platform = record.evidence.platform if record.evidence else None
        lines = sources[source, platform]
        if record.evidence and record.evidence.line is not None:
            lines.append(record.evidence.line)
    return {
        "series_id": series_id,
        "participant_id": pid,
        "session": result.session,
        "held_on": result.held_on.isoformat(),
        "attended_seconds": result.attended_seconds,
        "credit": f"{result.credit:.2f}",
        "hours": f"{result.hours:.2f}",
        "reason": result.reason,
        "intervals": canonical_json(
            [[r.joined_at.isoformat(), r.left_at.isoformat()] for r in ordered]
        ),
        "sources": canonical_json(
            [
                {
                    "file": source,
                    "sha256": file_hashes.get(source) if source else None,
                    "platform": platform,
                    "lines": sorted(lines),
                }
                for (source, platform), lines in sorted(
                    sources.items(), key=lambda item: (item[0][0] or "", item[0][1] or "")
                )
            ]
        ),
    }


def person_from_row(
    row: Mapping[str, Any], roster_ids: Sequence[tuple[str, str]] = ()
) -> PersonRecord:
    return PersonRecord(
        **{**row, "aliases": tuple(json.loads(row["aliases"])), "roster_ids": tuple(roster_ids)}
    )


def consent_from_row(row: Mapping[str, Any]) -> ConsentRecord:
    given = parse_time(row["given_at"])
    assert given is not None
    return ConsentRecord(
        person_id=row["person_id"],
        wording_version=row["wording_version"],
        given_at=given,
        withdrawn_at=parse_time(row["withdrawn_at"]),
    )


def participation(
    connection: sqlite3.Connection,
    who: PersonRecord,
    series_id: str,
    roster_id: str,
    title: str,
    last_session_on: date | None,
) -> ParticipationRecord:
    award = fetch_row(connection, "awards", [series_id, roster_id])
    sessions = tuple(
        SessionAttendance(
            session=session,
            held_on=date.fromisoformat(held_on),
            attended_seconds=seconds,
            credit=Decimal(credit),
            hours=Decimal(hours),
            reason=reason,
            intervals=tuple(tuple(pair) for pair in json.loads(intervals)),
            sources=tuple(json.loads(sources)),
        )
        for session, held_on, seconds, credit, hours, reason, intervals, sources in connection.execute(
            "SELECT session, held_on, attended_seconds, credit, hours, reason, intervals, sources "
            "FROM attendance WHERE series_id = ? AND participant_id = ? ORDER BY session",
            (series_id, roster_id),
        )
    )
    columns = TABLES["certificates"].columns
    certificates = tuple(
        issuing.certificate_from_row(dict(zip(columns, row, strict=True)))
        for row in connection.execute(
            f"SELECT {', '.join(columns)} FROM certificates "
            "WHERE series_id = ? AND participant_id = ? ORDER BY version",
            (series_id, roster_id),
        )
    )
    return ParticipationRecord(
        series_id=series_id,
        title=title,
        participant_id=roster_id,
        person_id=who.person_id,
        name=who.name,
        credentials=who.credentials,
        kind=award["kind"] if award else None,
        points=Decimal(award["points"]) if award else None,
        participation_hours=Decimal(award["participation_hours"]) if award else None,
        sessions=sessions,
        certificates=certificates,
        last_session_on=last_session_on,
    )
