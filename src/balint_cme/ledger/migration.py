"""Upgrading a schema-1 ledger, which kept one person per roster id, to ledger person ids.

Schema 1 keyed `people` (and consent) by the roster id alone, so two series files that used
`p01` for two different people were recorded as one person: the second file's details replaced
the first's, and one consent covered both. Attendance, awards and certificates were always
kept per (series, roster id), so they are intact; only who-is-who needs repair. The rule:

- every (series, roster id) is linked to the person the old ledger kept under that roster id,
  whose ledger person id stays the roster id (so audit events keep naming them);
- when the series files as recorded (their snapshots) show that one roster id named different
  people in different series (different NPIs; else different e-mails; else, with neither,
  different names), the series are split by person: the earliest-enrolled keeps the old id,
  each other person gets a new ledger person id with the details from their own series file;
- a consent recorded under a roster id that turns out to name several people cannot be
  attributed to one of them: it is removed, and the upgrade note says to record it again.

Every change is in the "ledger.upgraded" audit event, and the notes are returned so the
command can print them: nothing is split or dropped silently.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from typing import Any

from balint_cme.ledger.chain import canonical_json
from balint_cme.ledger.identity import new_person_id
from balint_cme.ledger.writer import Writer, fetch_row
from balint_cme.model import person_name_key

__all__ = ["link_roster_ids"]


def _roster_entries(content: bytes) -> dict[str, Mapping[str, Any]]:
    """Roster id → the participant entry of a recorded series file ({} if unreadable)."""
    try:
        text = content.decode("utf-8-sig")
        data = json.loads(text) if text.lstrip()[:1] in ("{", "[") else tomllib.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return {}
    entries = data.get("participants", []) if isinstance(data, dict) else []
    return {
        str(entry["id"]): entry
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("id"), str)
    }


def _same_person(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if a.get("npi") and b.get("npi"):
        return bool(a["npi"] == b["npi"])
    if a.get("email") and b.get("email"):
        return str(a["email"]).casefold() == str(b["email"]).casefold()
    return person_name_key(str(a.get("name", ""))) == person_name_key(str(b.get("name", "")))


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _people_row(person_id: str, entry: Mapping[str, Any]) -> dict[str, object]:
    aliases = entry.get("aliases", [])
    return {
        "person_id": person_id,
        "name": _text(entry.get("name")) or person_id,
        "credentials": _text(entry.get("credentials")) or "",
        "email": _text(entry.get("email")),
        "npi": _text(entry.get("npi")),
        "license_state": _text(entry.get("license_state")),
        "license_number": _text(entry.get("license_number")),
        "birth_month": _number(entry.get("birth_month")),
        "birth_day": _number(entry.get("birth_day")),
        "aliases": canonical_json(
            [a for a in aliases if isinstance(a, str)] if isinstance(aliases, list) else []
        ),
    }


def link_roster_ids(writer: Writer) -> list[str]:
    """Create `person_links` for a schema-1 ledger, splitting people it had joined; the notes
    say what was split and which consents must be recorded again."""
    connection = writer.connection
    notes: list[str] = []
    enrollments = connection.execute(
        "SELECT e.series_id, e.participant_id FROM enrollments e "
        "ORDER BY e.participant_id, e.recorded_at, e.series_id"
    ).fetchall()
    snapshots: dict[str, dict[str, Mapping[str, Any]]] = {}
    by_roster_id: dict[str, list[str]] = {}
    for series_id, roster_id in enrollments:
        by_roster_id.setdefault(roster_id, []).append(series_id)
    for roster_id, series_ids in by_roster_id.items():
        groups: list[tuple[Mapping[str, Any] | None, list[str]]] = []
        for series_id in series_ids:
            if series_id not in snapshots:
                row = connection.execute(
                    "SELECT sn.content FROM series s JOIN series_snapshots sn "
                    "ON sn.series_id = s.series_id AND sn.sha256 = s.current_sha256 "
                    "WHERE s.series_id = ?",
                    (series_id,),
                ).fetchone()
                snapshots[series_id] = _roster_entries(bytes(row[0])) if row else {}
            entry = snapshots[series_id].get(roster_id)
            for representative, members in groups:
                if entry is None or representative is None or _same_person(representative, entry):
                    members.append(series_id)
                    break
            else:
                groups.append((entry, [series_id]))
        for index, (entry, members) in enumerate(groups):
            if index == 0:
                person_id = roster_id
                if len(groups) > 1 and entry is not None:
                    writer.put("people", _people_row(person_id, entry))
            else:
                assert entry is not None
                person_id = new_person_id(connection)
                writer.put("people", _people_row(person_id, entry))
                notes.append(
                    f"roster id {roster_id} named different people: in {', '.join(members)} "
                    f"it is now ledger person {person_id}, in "
                    f"{', '.join(groups[0][1])} ledger person {roster_id}"
                )
            for series_id in members:
                writer.put(
                    "person_links",
                    {
                        "series_id": series_id,
                        "participant_id": roster_id,
                        "person_id": person_id,
                        "recorded_at": writer.at,
                    },
                )
        if len(groups) > 1 and fetch_row(connection, "consents", [roster_id]) is not None:
            writer.delete("consents", [roster_id])
            notes.append(
                f"the PARS consent recorded for {roster_id} could belong to any of "
                f"{len(groups)} people and was removed: record it again with "
                "`balint-cme consent --person` for the person who gave it"
            )
    return notes
