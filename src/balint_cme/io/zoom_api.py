"""Zoom report API JSON: the pages of `GET /report/meetings/{id}/participants`, as downloaded.

One page object or a list of pages per file; several page files of one meeting simply add
rows. Times are UTC ("2020-11-12T02:44:01Z"); the rounded `duration` is never read. A row's
`line` is the participant's 1-based position in the file, counting across pages in order.
Detected by its first non-blank character (`{` or `[`); read whole, so it has its own size
limit (MAX_JSON_CHARS).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from balint_cme.errors import DataFileError
from balint_cme.io import report_rows
from balint_cme.io.report_rows import ParsedReport, ReportRow, RowCollector
from balint_cme.io.report_text import ReportHead

__all__ = ["READER", "ZoomApiJsonReader", "parse_zoom_api_json"]


class ZoomApiJsonReader:
    """The ReportReader for Zoom report API JSON."""

    kind = "zoom-api-json"
    description = "Zoom report API JSON"

    def is_header(self, head: ReportHead) -> bool:
        """JSON: the first non-blank character opens an object or a list."""
        return head.first_char in ("{", "[")

    def parse(self, text: str, head: ReportHead, path: Path | str) -> ParsedReport:
        """The participants of every page, refusing a file past MAX_JSON_CHARS first."""
        limit = report_rows.MAX_JSON_CHARS
        if len(text) > limit:
            raise DataFileError(
                path,
                f"is {len(text):,} characters of JSON; Zoom report API JSON is read whole, so at "
                f"most {limit:,} (split it into its pages)",
            )
        return parse_zoom_api_json(text, path)


READER = ZoomApiJsonReader()


def parse_zoom_api_json(text: str, path: Path | str) -> ParsedReport:
    """Rows of Zoom report API participants pages (one page object, or a list of pages).

    Each row's `line` is the participant's 1-based position in the file, counting across the
    pages in order. Times are UTC ("2020-11-12T02:44:01Z"); `duration` is never read.

    Raises:
        DataFileError: not JSON, not a participants response, or a participant without text
            name, join_time or leave_time.
    """
    try:
        document: Any = json.loads(text)
    except RecursionError as err:
        raise DataFileError(path, "is JSON nested too deeply to be a Zoom report") from err
    except ValueError as err:
        where = getattr(err, "lineno", None)
        message = getattr(err, "msg", str(err))
        raise DataFileError(path, f"is not valid JSON: {message}", line=where) from err
    pages = document if isinstance(document, list) else [document]
    if not pages:
        raise DataFileError(path, "is an empty JSON list, not Zoom report API pages")
    rows = RowCollector(path)
    waiting: list[int] = []
    position = 0
    for page_number, page in enumerate(pages, start=1):
        participants = page.get("participants") if isinstance(page, dict) else None
        if not isinstance(participants, list):
            raise DataFileError(
                path,
                f"is JSON but page {page_number} is not a Zoom report API participants response "
                "(no 'participants' list)",
            )
        for entry in participants:
            position += 1
            rows_or_waiting = _api_row(entry, position, path)
            if rows_or_waiting is None:
                waiting.append(position)
            else:
                rows.add(rows_or_waiting)
    return ParsedReport(
        format="zoom-api-json",
        platform="zoom-api",
        rows=rows.result(),
        join_label="join_time",
        leave_label="leave_time",
        waiting_room_lines=tuple(waiting),
    )


def _api_text(entry: dict[str, Any], key: str, position: int, path: Path | str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DataFileError(
            path, f"participant {position}: {key} is {type(value).__name__}, not text"
        )
    if len(value) > 1000:
        raise DataFileError(path, f"participant {position}: {key} is {len(value):,} characters")
    return value.strip()


def _api_row(entry: object, position: int, path: Path | str) -> ReportRow | None:
    if not isinstance(entry, dict):
        raise DataFileError(path, f"participant {position} is not a JSON object")
    status = _api_text(entry, "status", position, path)
    if status == "in_waiting_room":
        return None
    name = _api_text(entry, "name", position, path)
    email = _api_text(entry, "user_email", position, path) or _api_text(
        entry, "email", position, path
    )
    if not name and not email:
        raise DataFileError(path, f"participant {position} has neither a name nor a user_email")
    joined = _api_text(entry, "join_time", position, path)
    left = _api_text(entry, "leave_time", position, path)
    for key, value in (("join_time", joined), ("leave_time", left)):
        if not value:
            raise DataFileError(path, f"participant {position} ({name or email}) has no {key}")
    return ReportRow(position, name, None, email or None, joined, left)
