"""Converting between domain values, table rows and the records the ledger returns."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from balint_cme.attendance import AttendanceRecord, compact_line_ranges, merge_intervals
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
    """The attendance row of one person and session: the merged intervals and compact sources.

    Intervals are stored merged (credit needs only their union), and each report's lines as
    numbers and [first, last] runs, so a report that repeats one stay a million times stores
    one interval and one run. When a report's lines would need more than MAX_LINE_RANGES
    runs, the last run covers the rest and "rows" says how many rows there were.
    """
    ordered = sorted(evidence, key=lambda r: (r.joined_at, r.left_at))
    ranges: dict[tuple[str | None, str | None], list[tuple[int, int]]] = defaultdict(list)
    rows: dict[tuple[str | None, str | None], int] = defaultdict(int)
    seen: set[int] = set()
    for record in ordered:
        found = record.evidence
        key = (found.source if found else None, found.platform if found else None)
        ranges[key]  # every source is listed, with or without lines
        if found is None or id(found) in seen:
            continue  # one Evidence may stand behind several merged intervals
        seen.add(id(found))
        rows[key] += found.rows
        if found.line_ranges:
            ranges[key].extend(found.line_ranges)
        elif found.line is not None:
            ranges[key].append((found.line, found.line))
    return {
        "series_id": series_id,
        "participant_id": pid,
        "session": result.session,
        "held_on": result.held_on.isoformat(),
        "attended_seconds": result.attended_seconds,
        "credit": f"{result.credit:.2f}",
        "hours": f"{result.hours:.2f}",
        "reason": result.reason,
        "intervals": canonical_json(_merged_intervals(ordered)),
        "sources": canonical_json(
            [
                _source_entry(
                    source, platform, file_hashes, ranges[source, platform], rows[source, platform]
                )
                for source, platform in sorted(ranges, key=lambda key: (key[0] or "", key[1] or ""))
            ]
        ),
    }


def _merged_intervals(ordered: Sequence[AttendanceRecord]) -> list[list[str]]:
    """The union of the records' intervals in whole seconds (rounded inwards), as ISO pairs."""
    if not ordered:
        return []
    zone = ordered[0].joined_at.tzinfo
    merged = merge_intervals(
        (math.ceil(r.joined_at.timestamp()), math.floor(r.left_at.timestamp())) for r in ordered
    )
    if not merged:  # present, for no measurable time
        first = math.ceil(ordered[0].joined_at.timestamp())
        merged = [(first, first)]
    return [
        [
            datetime.fromtimestamp(a, tz=zone).isoformat(),
            datetime.fromtimestamp(b, tz=zone).isoformat(),
        ]
        for a, b in merged
    ]


def _source_entry(
    source: str | None,
    platform: str | None,
    file_hashes: Mapping[str, str],
    ranges: Sequence[tuple[int, int]],
    rows: int,
) -> dict[str, object]:
    compact = compact_line_ranges(ranges)
    entry: dict[str, object] = {
        "file": source,
        "sha256": file_hashes.get(source) if source else None,
        "platform": platform,
        "lines": [first if first == last else [first, last] for first, last in compact],
    }
    if rows > sum(last - first + 1 for first, last in compact):
        entry["rows"] = rows  # several rows on one line (JSON), or the runs were capped
    return entry


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
