"""Which reader a report needs: a registry of readers, asked in turn about the report's start.

Detection looks at the content, never the file name. Every reader in READERS is asked whether
the report's start (its first non-blank character and line) is its header; exactly one must
say yes. None: the file is not a recognised report. Several (a header carrying two formats'
columns): the file is refused rather than read by whichever reader happens to come first, so
the order of READERS never changes a result. Adding a format is one reader module and one line
here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from balint_cme.errors import DataFileError
from balint_cme.io import signin_csv, teams, zoom, zoom_api
from balint_cme.io.report_rows import ParsedReport, ReportReader
from balint_cme.io.report_text import ReportHead, check_line_length, shown

__all__ = ["READERS", "detect_format", "detect_reader", "parse_report"]

READERS: tuple[ReportReader, ...] = (
    zoom.READER,
    zoom_api.READER,
    teams.READER,
    signin_csv.READER,
)
"""Every report format read; the order only sets the order formats are named in errors."""


def detect_reader(
    text: str, path: Path | str, readers: Sequence[ReportReader] | None = None
) -> tuple[ReportReader, ReportHead]:
    """The one reader (of `readers`, default READERS) whose header starts `text`, and that start.

    Raises:
        DataFileError: an empty file, an over-long first line, a start no reader claims, or
            one several readers claim.
    """
    readers = READERS if readers is None else readers
    head = ReportHead(text, path)
    claimed = [reader for reader in readers if reader.is_header(head)]
    if len(claimed) == 1:
        return claimed[0], head
    if claimed:
        raise DataFileError(
            path,
            f"{shown(head.line.strip())} fits more than one report format "
            f"({_either(claimed, 'and')}); remove the columns of the format it is not",
            line=head.number,
        )
    check_line_length(head.line, head.number, path)
    raise DataFileError(
        path,
        f"is not a recognised attendance report: {shown(head.line.strip())} is not the start "
        f"of a {_either(readers, 'or')}",
        line=head.number,
    )


def _either(readers: Sequence[ReportReader], word: str) -> str:
    """The readers' descriptions as a list in prose: "A, B, C or D"."""
    names = [reader.description for reader in readers]
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} {word} {names[-1]}"


def detect_format(text: str, path: Path | str) -> str:
    """Which reader a report's text needs, from its content (never its file name).

    JSON (first character `{` or `[`) is a Zoom report API response ("zoom-api-json").
    Otherwise the first non-blank line decides: `Meeting Summary`, `1. Summary` or a
    tab-separated header with Join Time and Full Name (or Name and Role) is Teams ("teams"); a
    Zoom summary header (`Meeting ID,...` or `Topic,ID,...`) or a participants header with a
    Name column and Join Time, Leave Time, Duration (Minutes) or Total Duration (Minutes) is
    Zoom ("zoom-csv"); a header with participant_id, name or email and join+leave or minutes
    is a sign-in sheet ("sign-in-csv").

    Raises:
        DataFileError: an empty file, an over-long line, none of these, or a header that fits
            more than one.
    """
    return detect_reader(text, path)[0].kind


def parse_report(text: str, path: Path | str) -> ParsedReport:
    """The rows of a report, read by the reader its content calls for.

    Raises:
        DataFileError: as detect_format(), or the reader's own refusal (file, line, problem).
    """
    reader, head = detect_reader(text, path)
    return reader.parse(text, head, path)
