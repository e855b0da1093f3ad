"""Attendance from meeting reports: the public entry points, read_report() and read_reports().

Each file is loaded (within MAX_REPORT_BYTES), hashed, decoded, given to the reader its content
calls for (report_formats.py) and read into one AttendanceReading (report_file.py): records
for roster people, the rows that matched nobody, notes, and one ReportSource per file. Nothing
is applied partially: a bad file raises DataFileError naming the file, the line and the
problem, and no reading is returned. When a file's times fit no session in its zone, the error
names the common export zone in which they would (give the file as FILE@ZONE).

The module layout: report_text.py (bytes, lines, cells, limits), report_rows.py (the reader
contract), the readers (zoom.py, zoom_api.py, teams.py, signin_csv.py) and their registry
(report_formats.py), timestamps.py and report_times.py (times), report_sessions.py, names.py
and roster_match.py (who), report_records.py (records and aggregates), report_results.py (what
is returned), report_file.py (one file's steps) and this module.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from balint_cme.attendance import paused_garbage_collector
from balint_cme.errors import DataFileError
from balint_cme.io.names import normalise_name
from balint_cme.io.report_file import read_one
from balint_cme.io.report_formats import detect_format, parse_report
from balint_cme.io.report_records import without_double_evidence
from balint_cme.io.report_results import (
    Accumulator,
    AttendanceReading,
    ReportSource,
    UnmatchedRow,
)
from balint_cme.io.report_rows import ReportRow
from balint_cme.io.report_sessions import NoSessionFits
from balint_cme.io.report_text import MAX_REPORT_BYTES, decode_report
from balint_cme.io.report_times import export_zone
from balint_cme.io.roster_match import RosterMatch, RosterMatcher
from balint_cme.model import Series

__all__ = [
    "COMMON_EXPORT_ZONES",
    "MAX_REPORT_BYTES",
    "AttendanceReading",
    "ReportRow",
    "ReportSource",
    "ReportSpec",
    "RosterMatch",
    "RosterMatcher",
    "UnmatchedRow",
    "detect_format",
    "normalise_name",
    "read_report",
    "read_report_bytes",
    "read_reports",
]


def _load(path: Path | str) -> bytes:
    """A report file's bytes, refused from its size before it is read when too large."""
    target = Path(path)
    try:
        size = target.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise DataFileError(
                path,
                f"is {size:,} bytes; a meeting report is at most {MAX_REPORT_BYTES:,} "
                "(is this the right file?)",
            )
        with target.open("rb") as handle:
            data = handle.read(MAX_REPORT_BYTES + 1)
    except OSError as err:
        raise DataFileError(path, f"cannot read file: {err.strerror or err}") from err
    if len(data) > MAX_REPORT_BYTES:
        raise DataFileError(path, f"is more than {MAX_REPORT_BYTES:,} bytes")
    return data


class _Item(NamedTuple):
    """One file to read: its name, its session if named, how to load it, its own zone."""

    path: Path | str
    session: int | None
    load: Callable[[], bytes]
    zone: str | None = None
    """The zone given with this file (FILE@ZONE), over the caller's export zone."""


def _read_all(items: Sequence[_Item], series: Series, export_tz: str | None) -> AttendanceReading:
    """Read each file in turn (loaded only when its turn comes, and its bytes dropped once
    decoded, so one file's bytes and text are held at a time, never all of them)."""
    matcher = RosterMatcher(series)
    out = Accumulator()
    sources: list[ReportSource] = []
    seen: dict[str, str] = {}
    for item in items:
        zone = export_zone(item.zone or export_tz or series.timezone, item.path)
        source = _read_file(item, zone, series, matcher, seen, out)
        if source is not None:
            sources.append(source)
    records = without_double_evidence(series, out)
    return AttendanceReading(
        records=records,
        unmatched=tuple(out.unmatched),
        notes=tuple(out.notes),
        sources=tuple(sources),
        facilitator_rows=out.facilitator_rows,
        host_rows=out.host_rows,
        double_evidence=tuple(out.double_evidence),
    )


def _read_file(
    item: _Item,
    zone: ZoneInfo,
    series: Series,
    matcher: RosterMatcher,
    seen: dict[str, str],
    out: Accumulator,
) -> ReportSource | None:
    """Load, hash, decode, parse and read one file into `out`; None for bytes already read."""
    path, session, load = item.path, item.session, item.load
    data = load()
    if len(data) > MAX_REPORT_BYTES:
        raise DataFileError(path, f"is more than {MAX_REPORT_BYTES:,} bytes")
    digest = hashlib.sha256(data).hexdigest()
    if digest in seen:
        out.notes.append(f"{path}: the same bytes as {seen[digest]}; read once")
        return None
    seen[digest] = str(path)
    text, encoding = decode_report(data, path)
    del data
    # Rows, records and evidence hold no cycles; without the pause, generation-2 passes
    # rescan every record already built and triple the time of a large report.
    with paused_garbage_collector():
        parsed = parse_report(text, path)
        del text  # the rows are read; matching and merging need only them
        try:
            return read_one(
                parsed,
                encoding,
                digest,
                path,
                series,
                matcher,
                session=session,
                zone=zone,
                out=out,
            )
        except NoSessionFits as err:
            del parsed
            fits = _zone_that_fits(load, path, series, session, zone)
            if fits is None:
                raise
            raise DataFileError(
                path,
                f"{err.reason}; read as {fits} its times fit: give the file as {path}@{fits}",
                line=err.line,
            ) from None


def _zone_that_fits(
    load: Callable[[], bytes],
    path: Path | str,
    series: Series,
    session: int | None,
    tried: ZoneInfo,
) -> str | None:
    """The first common export zone in which the file's times fit (None if none does).

    Only on the error path: the file is loaded and parsed again for each zone tried.
    """
    data = load()
    digest = hashlib.sha256(data).hexdigest()
    text, encoding = decode_report(data, path)
    del data
    parsed = parse_report(text, path)
    del text
    for name in dict.fromkeys((series.timezone, *COMMON_EXPORT_ZONES)):
        if name == tried.key:
            continue
        try:
            read_one(
                parsed,
                encoding,
                digest,
                path,
                series,
                RosterMatcher(series),
                session=session,
                zone=export_zone(name, path),
                out=Accumulator(),
            )
        except DataFileError:
            continue
        return name
    return None


def read_report_bytes(
    data: bytes,
    path: Path | str,
    series: Series,
    *,
    session: int | None = None,
    export_tz: str | None = None,
) -> AttendanceReading:
    """Read a report already in memory; `path` only names it in results and errors.

    Raises:
        DataFileError, UnknownSessionError, UndatedSessionError: as read_report().
    """
    return _read_all([_Item(path, session, lambda: data)], series, export_tz)


def read_report(
    path: Path | str,
    series: Series,
    *,
    session: int | None = None,
    export_tz: str | None = None,
) -> AttendanceReading:
    """Read one meeting report (any supported format, detected from its content).

    Args:
        path: the file as downloaded.
        series: the series whose roster and sessions the rows are matched to.
        session: the 1-based session the report belongs to; None finds it from the rows'
            times (exactly one session window must overlap them).
        export_tz: the IANA zone of times without an offset in the file (the exporting
            account's zone); default the series time zone. Zoom API times are UTC regardless.

    Raises:
        DataFileError: the file is unreadable, too large, malformed or unrecognised, or its
            session cannot be found (none or several overlap); the message names file, line
            and problem.
        UnknownSessionError: `session` is not in the series.
        UndatedSessionError: `session` has no date yet.
    """
    return _read_all([_Item(path, session, functools.partial(_load, path))], series, export_tz)


ReportSpec = Path | str | tuple[Path | str, int | None] | tuple[Path | str, int | None, str | None]
"""A report for read_reports(): a path, `(path, session)`, or `(path, session, export zone)`."""

# Zones a meeting platform commonly writes its times in, tried (besides the series zone) when a
# file's times fit no session, to say which zone would fit.
COMMON_EXPORT_ZONES = (
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
)


def _spec(report: ReportSpec) -> tuple[Path | str, int | None, str | None]:
    """(path, session, zone) of a plain path, a pair or a triple.

    Raises:
        TypeError: `report` is none of these (a programming error, not a bad file).
    """
    if isinstance(report, (str, Path)):
        return report, None, None
    if isinstance(report, (tuple, list)) and len(report) in (2, 3):
        zone = report[2] if len(report) == 3 else None
        return report[0], report[1], zone
    raise TypeError(f"a report is a path, (path, session) or (path, session, zone), not {report!r}")


def read_reports(
    reports: Sequence[ReportSpec],
    series: Series,
    *,
    export_tz: str | None = None,
) -> AttendanceReading:
    """Read several reports into one reading.

    Each report is a path, `(path, session or None)`, or `(path, session or None, zone or
    None)`: a zone given with a file is the zone its times were written in (one session's Zoom
    report downloaded in UTC, the rest in New York time); otherwise `export_tz`, else the
    series zone. When a file's times fit no session in its zone but fit in another common
    export zone (the series zone, UTC, the US zones), the error names the zone that fits.

    Several files of one meeting (Zoom API pages, a re-download) simply add rows: attended
    time is the union of intervals, so overlaps count once. A file given twice (same bytes) is
    read once. All or nothing: any bad file raises and nothing is returned.

    Raises:
        DataFileError, UnknownSessionError, UndatedSessionError: as read_report().
    """
    items = []
    for report in reports:
        path, session, zone = _spec(report)
        items.append(_Item(path, session, functools.partial(_load, path), zone))
    return _read_all(items, series, export_tz)
