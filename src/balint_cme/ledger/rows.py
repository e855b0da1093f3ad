"""Converting between domain values, table rows and the records the ledger returns."""

from __future__ import annotations

import functools
import json
import math
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from balint_cme.attendance import (
    AttendanceRecord,
    Evidence,
    compact_line_ranges,
    merge_intervals,
)
from balint_cme.credit import SessionCredit
from balint_cme.ledger.certificate_rows import certificate_from_row
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
    "attendance_records_row",
    "attendance_row",
    "consent_from_row",
    "participation",
    "person_from_row",
    "records_from_intervals",
    "records_from_stored",
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


def attendance_records_row(
    series_id: str, pid: str, session: int, evidence: Sequence[AttendanceRecord]
) -> dict[str, object]:
    """The attendance_records row of one person and session: the records as given.

    `records` is JSON {"evidence": [Evidence, ...], "records": [[joined, left, i], ...]}: each
    record's times (see _time_text) and the index of its Evidence in the list (null for none);
    one Evidence behind several records (a reader's merged rows) is stored once.
    """
    ordered = sorted(evidence, key=lambda r: (r.joined_at, r.left_at))
    found: list[dict[str, object]] = []
    index: dict[str, int] = {}
    stored: list[list[object]] = []
    for record in ordered:
        position = None
        if record.evidence is not None:
            values = record.evidence.model_dump(mode="json")
            text = canonical_json(values)
            position = index.setdefault(text, len(found))
            if position == len(found):
                found.append(values)
        stored.append([_time_text(record.joined_at), _time_text(record.left_at), position])
    return {
        "series_id": series_id,
        "participant_id": pid,
        "session": session,
        "records": canonical_json({"evidence": found, "records": stored}),
    }


def records_from_stored(participant_id: str, session: int, text: str) -> list[AttendanceRecord]:
    """The records an attendance_records row holds (ValueError/KeyError if it is damaged)."""
    data = json.loads(text)
    found = [Evidence.model_validate(values) for values in data["evidence"]]
    return [
        AttendanceRecord(
            participant_id=participant_id,
            session=session,
            joined_at=_time_from(joined),
            left_at=_time_from(left),
            evidence=None if position is None else found[position],
        )
        for joined, left, position in data["records"]
    ]


def records_from_intervals(participant_id: str, session: int, text: str) -> list[AttendanceRecord]:
    """Records from an attendance row's merged intervals, for attendance recorded before the
    ledger kept the records themselves (schema 4): the union of the times, without evidence."""
    return [
        AttendanceRecord(
            participant_id=participant_id,
            session=session,
            joined_at=datetime.fromisoformat(joined),
            left_at=datetime.fromisoformat(left),
        )
        for joined, left in json.loads(text)
    ]


def _time_text(moment: datetime) -> str:
    """ISO 8601 with the offset, and an IANA zone's name after it in brackets (RFC 9557
    style: "2026-03-08T02:30:00-05:00[America/New_York]") so the time reads back in its zone."""
    text = moment.isoformat()
    zone = moment.tzinfo
    if isinstance(zone, ZoneInfo) and zone.key:
        text += f"[{zone.key}]"
    return text


@functools.lru_cache(maxsize=4096)  # many people join and leave at the same moments
def _time_from(text: str) -> datetime:
    """The aware datetime _time_text() wrote: the same instant, wall time and zone (the
    wall time's fold is the one whose offset was written). Without the named zone on this
    machine (or if its rules changed), the same instant at the written offset."""
    iso, bracket, rest = text.partition("[")
    moment = datetime.fromisoformat(iso)
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError(f"recorded time {text!r} has no offset")
    if not bracket:
        return moment
    try:
        zone = ZoneInfo(rest.removesuffix("]"))
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return moment
    wall = moment.replace(tzinfo=zone)  # fold 0
    if wall.utcoffset() == offset:
        return wall
    wall = wall.replace(fold=1)  # the second of two equal wall times, or after a gap
    if wall.utcoffset() == offset:
        return wall
    return moment.astimezone(zone)


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
        certificate_from_row(dict(zip(columns, row, strict=True)))
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
