"""`balint-cme schedule`: session dates in local time, optionally an iCalendar file.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from balint_cme.commands import console
from balint_cme.io.ics import format_ics
from balint_cme.io.series_file import load_series
from balint_cme.storage import write_atomically

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme schedule`."""
    parser.add_argument("series_file", metavar="SERIES_FILE", type=Path)
    parser.add_argument(
        "--ics", metavar="FILE", type=Path, help="write the sessions as an .ics file"
    )


def run(args: argparse.Namespace) -> int:
    series = load_series(args.series_file)
    # Made first, so a calendar that cannot be made is refused before anything is printed.
    calendar = format_ics(series, generated_at=datetime.now(UTC)) if args.ics else None
    console.out(f"{series.title} ({series.id}) — times in {series.timezone}")
    for session in series.sessions:
        start = series.local_start(session)
        if start is None:
            console.out(
                f"  {session.number}. date to be announced ({session.duration_minutes} min)"
            )
            continue
        finish = series.local_end(session)
        assert finish is not None
        console.out(
            f"  {session.number}. {start:%a %Y-%m-%d %I:%M %p} - {finish:%I:%M %p %Z}, {session.credit} credit"
        )
    if series.schedule_note:
        console.out(f"  note: {series.schedule_note}")
    if args.ics and calendar is not None:
        write_atomically(Path(args.ics), calendar, what="the calendar")
        console.out(f"wrote {args.ics} ({len(series.dated_sessions)} event(s))")
    return 0
