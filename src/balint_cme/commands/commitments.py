"""`balint-cme commitments`: who missed (or left part of) which session, to follow up.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from balint_cme.commands import console, options
from balint_cme.commitment import plan_follow_ups
from balint_cme.io.series_file import load_series
from balint_cme.workflow import assess

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme commitments`."""
    parser.add_argument("series_file", metavar="SERIES_FILE", type=Path)
    options.attendance_options(parser, required=True)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    series = load_series(args.series_file)
    reading, awards = assess(
        series, options.checked_reports(series, args.attendance), export_tz=args.export_tz
    )
    held = {s.session for s in reading.sources if s.session is not None}
    held |= {record.session for record in reading.records}
    follow_ups = plan_follow_ups(series, awards, held)
    not_yet = [s.number for s in series.dated_sessions if s.number not in held]
    if args.json:
        document = {
            "version": 1,
            "series": series.id,
            "members_commit_to_all_sessions": series.members_commit_to_all_sessions,
            "sessions_with_attendance": sorted(held),
            "sessions_without_report": not_yet,
            "follow_ups": [f.model_dump(mode="json") for f in follow_ups],
        }
        console.out(json.dumps(document, indent=2, ensure_ascii=False), json_text=True)
        return 0
    promise = (
        "members commit to every session"
        if series.members_commit_to_all_sessions
        else "this series does not ask members to commit to every session"
    )
    console.out(f"{series.title} ({series.id}): {promise}")
    if not_yet:
        console.out(f"no report yet for session(s) {', '.join(map(str, not_yet))}: not counted")
    for follow_up in follow_ups:
        parts = [
            f"#{a.session} {a.held_on.isoformat()} "
            + (
                "missed"
                if a.status == "missed"
                else f"partial, {a.attended_seconds // 60} of {a.session_seconds // 60} min"
            )
            for a in follow_up.absences
        ]
        contact = f" <{follow_up.email}>" if follow_up.email else ""
        console.out(f"  {follow_up.name}{contact}: {'; '.join(parts)}")
    if not follow_ups:
        console.out("  everyone attended every session with a report")
    return 0
