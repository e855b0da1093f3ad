"""How the use cases' results are shown: the credits table and the unmatched-rows lines and
documents that `credits` and `certify` print (values from files shown escaped).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from balint_cme.credit import CreditAward
from balint_cme.display import display_width, pad
from balint_cme.io.reports import AttendanceReading, UnmatchedRow
from balint_cme.model import Series
from balint_cme.text import visible

__all__ = ["format_credits_table", "format_unmatched", "unmatched_document"]


def unmatched_document(rows: Sequence[UnmatchedRow]) -> list[dict[str, Any]]:
    """Report rows that matched nobody, as `credits --json` and certify's manifest list them."""
    return [
        {
            "file": row.file,
            "line": row.line,
            "name": row.name,
            "email": row.email,
            "session": row.session,
            "minutes": float(row.minutes),
            "reason": row.reason,
        }
        for row in rows
    ]


def format_unmatched(rows: Sequence[UnmatchedRow]) -> list[str]:
    """Report rows that matched nobody, as `credits` and `certify` print them: they earn
    nothing until the roster gets an alias, so a physician on an unnamed phone is noticed."""
    if not rows:
        return []
    lines = [f"{len(rows)} report row(s) matched nobody (add an alias to the roster):"]
    for row in rows:
        who = row.name + (f" <{row.email}>" if row.email else "")
        lines.append(
            visible(
                f"  {row.file} line {row.line}: {who}, session {row.session}, {row.minutes} min "
                f"({row.reason})"
            )
        )
    return lines


def format_credits_table(
    series: Series, awards: Sequence[CreditAward], reading: AttendanceReading
) -> str:
    numbers = [s.number for s in series.dated_sessions]
    # Widths in terminal columns (a CJK name takes two per character); credentials are never cut.
    name_width = max([display_width(a.name) for a in awards] + [12])
    cred_width = max([display_width(a.credentials) for a in awards] + [6])
    header = f"{pad('person', name_width)}  {pad('cred.', cred_width)}" + "".join(
        f"  {'#' + str(n):>13}" for n in numbers
    )
    header += f"  {'credit':>7}  {'hours':>6}"
    lines = [
        visible(
            f"{series.title} ({series.id}): maximum {series.credit.series_maximum:.2f} credits"
        ),
        "",
        header,
    ]
    lines.append("-" * len(header))
    for award in awards:
        cells = "".join(
            f"  {s.minutes:>6} {(s.credit if award.is_physician else s.hours):>6}"
            for s in award.sessions
        )
        credit = f"{award.points:.2f}" if award.is_physician else "-"
        lines.append(
            f"{pad(award.name, name_width)}  {pad(award.credentials, cred_width)}{cells}  {credit:>7}  "
            f"{award.participation_hours:>6}"
        )
    lines.append("")
    lines.append("cells: attended minutes, then credit (physicians) or hours (others)")
    if reading.unmatched:
        lines.append("")
        lines.extend(format_unmatched(reading.unmatched))
    for note in reading.notes:
        lines.append(visible(f"note: {note}"))
    # Names and values from files are shown with control and bidi characters escaped, so a
    # line break in a report's name cannot forge a line of this table.
    return "\n".join(lines)
