"""Series files: load and save a whole series as TOML or JSON, and publish the file's schema.

The file format (SeriesDocument) is what a coordinator writes: local wall-clock times, a
`[schedule]` recurrence, an explicit `[[sessions]]` list, or `[planned]` sessions whose dates
are still to be announced. load_series() turns it into the domain Series; save_series() writes
one back. The only series-file code.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from balint_cme.errors import BalintCmeError, DataFileError
from balint_cme.model import (
    CreditPoints,
    Facilitator,
    Participant,
    Recurrence,
    Series,
    SeriesProfile,
    Session,
)
from balint_cme.schedule import place_local, plan_sessions, planned_sessions
from balint_cme.storage import write_atomically

__all__ = [
    "MAX_SERIES_FILE_BYTES",
    "SeriesDocument",
    "build_series",
    "document_from_series",
    "format_series",
    "load_series",
    "parse_series",
    "read_series_file",
    "save_series",
    "series_schema",
]

MAX_SERIES_FILE_BYTES = 5 * 1024 * 1024
"""A series file is a few kilobytes; anything past this is refused before it is read."""


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SessionEntry(_Document):
    """`[[sessions]]`: one explicitly dated session."""

    start: datetime
    """Local start in the series time zone (an offset, if given, is respected)."""
    duration_minutes: Annotated[int, Field(gt=0, le=1440)] | None = None
    """Defaults to [planned].duration_minutes or 60."""
    credit: CreditPoints | None = None
    """Defaults to [credit].per_session."""


class PlannedSection(_Document):
    """`[planned]`: sessions whose dates are still to be announced ("Dates: 2023 TBD")."""

    count: Annotated[int, Field(ge=1, le=500)]
    duration_minutes: Annotated[int, Field(gt=0, le=1440)] = 60
    note: str | None = None
    """Free text for people, e.g. "monthly, 6:45-7:45 PM Pacific; dates TBD"."""


class SeriesDocument(SeriesProfile):
    """The series file: what a coordinator writes (TOML or JSON)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        title="balint_cme series file",
        json_schema_extra={
            "$comment": "Times are local to `timezone` unless they carry an offset."
        },
    )

    schedule: Recurrence | None = None
    sessions: tuple[SessionEntry, ...] = ()
    planned: PlannedSection | None = None
    facilitators: tuple[Facilitator, ...] = ()
    participants: tuple[Participant, ...] = ()

    @model_validator(mode="after")
    def _check_one_way_to_give_sessions(self) -> Self:
        given = [
            name
            for name, present in (
                ("[schedule]", self.schedule is not None),
                ("[[sessions]]", bool(self.sessions)),
            )
            if present
        ]
        if len(given) > 1:
            raise ValueError("give sessions either as [schedule] or as [[sessions]], not both")
        if not given and self.planned is None:
            raise ValueError("the file needs [schedule], [[sessions]] or [planned]")
        return self


def build_series(document: SeriesDocument) -> Series:
    """The domain Series a document describes; planned sessions follow the dated ones.

    Raises:
        ScheduleError: the recurrence cannot be expanded.
        pydantic.ValidationError: the series breaks an invariant (e.g. eligibility).
    """
    per_session = document.credit.per_session
    zone = document.timezone
    sessions: tuple[Session, ...] = ()
    default_minutes = document.planned.duration_minutes if document.planned else 60
    if document.schedule is not None:
        sessions = plan_sessions(document.schedule, zone, per_session)
    elif document.sessions:
        sessions = tuple(
            Session(
                number=index,
                starts_at=_aware(entry.start, zone),
                duration_minutes=entry.duration_minutes or default_minutes,
                credit=entry.credit if entry.credit is not None else per_session,
            )
            for index, entry in enumerate(document.sessions, start=1)
        )
    if document.planned is not None and document.planned.count > len(sessions):
        extra = planned_sessions(
            document.planned.count - len(sessions), document.planned.duration_minutes, per_session
        )
        sessions += tuple(s.evolve(number=s.number + len(sessions)) for s in extra)
    profile = {name: getattr(document, name) for name in SeriesProfile.model_fields}
    return Series.model_validate(
        {
            **profile,
            "schedule": document.schedule,
            "schedule_note": document.planned.note if document.planned else None,
            "sessions": sessions,
            "facilitators": document.facilitators,
            "participants": document.participants,
        }
    )


def _aware(start: datetime, zone: str) -> datetime:
    # An offset is respected: that instant, shown in the series zone (so a start in the hour
    # that repeats when clocks fall back keeps which of the two it is).
    if start.tzinfo is not None:
        return start.astimezone(ZoneInfo(zone))
    return place_local(start, ZoneInfo(zone))


def _file_start(start: datetime, zone: ZoneInfo) -> datetime:
    """A session start as the file writes it: local wall-clock time, or with its offset when
    that wall-clock time occurs twice (clocks falling back) and the later one is meant."""
    local = start.astimezone(zone)
    naive = local.replace(tzinfo=None, fold=0)
    if place_local(naive, zone).utcoffset() != local.utcoffset():
        return local
    return naive


def document_from_series(series: Series) -> SeriesDocument:
    """The file form of `series`: its recurrence when the sessions still follow it."""
    profile = {name: getattr(series, name) for name in SeriesProfile.model_fields}
    dated = series.dated_sessions
    undated = len(series.sessions) - len(dated)
    schedule: Recurrence | None = None
    entries: tuple[SessionEntry, ...] = ()
    if series.schedule is not None and dated:
        try:
            follows = plan_sessions(series.schedule, series.timezone, series.credit.per_session)
        except BalintCmeError:
            follows = ()
        if follows == dated:
            schedule = series.schedule
    if schedule is None:
        entries = tuple(
            SessionEntry(
                start=_file_start(s.starts_at, series.zone),
                duration_minutes=s.duration_minutes,
                credit=s.credit,
            )
            for s in dated
            if s.starts_at is not None
        )
    planned = None
    if undated:
        planned = PlannedSection(
            count=len(series.sessions),
            duration_minutes=series.sessions[-1].duration_minutes,
            note=series.schedule_note,
        )
    return SeriesDocument.model_validate(
        {
            **profile,
            "schedule": schedule,
            "sessions": entries,
            "planned": planned,
            "facilitators": series.facilitators,
            "participants": series.participants,
        }
    )


# ---------------------------------------------------------------------------------------------
# Reading


def _problem_line(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort TOML line of the value at `loc` (tomllib keeps no positions)."""
    lines = text.splitlines()
    start = 0
    key_index = 0
    if loc and isinstance(loc[0], str) and len(loc) >= 2 and isinstance(loc[1], int):
        header = re.compile(rf"^\s*\[\[\s*{re.escape(loc[0])}\s*\]\]")
        seen = -1
        for number, line in enumerate(lines):
            if header.match(line):
                seen += 1
                if seen == loc[1]:
                    start = number
                    break
        else:
            return None
        key_index = 2
    elif loc and isinstance(loc[0], str) and len(loc) >= 2:
        header = re.compile(rf"^\s*\[\s*{re.escape(loc[0])}\s*\]")
        for number, line in enumerate(lines):
            if header.match(line):
                start = number
                key_index = 1
                break
    if key_index < len(loc) and isinstance(loc[key_index], str):
        key = re.compile(rf"^\s*{re.escape(str(loc[key_index]))}\s*=")
        for number in range(start + (1 if key_index else 0), len(lines)):
            if key_index and number > start and re.match(r"^\s*\[", lines[number]):
                break
            if key.match(lines[number]):
                return number + 1
    return start + 1 if key_index else None


def _describe(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item + 1}]")
        elif not item.startswith(("function-", "function_")):
            parts.append(f".{item}" if parts else item)
    return "".join(parts) or "file"


def _validation_problems(path: Path, text: str | None, err: ValidationError) -> DataFileError:
    problems: list[str] = []
    first_line: int | None = None
    first_reason = ""
    for index, error in enumerate(err.errors(include_url=False)):
        loc = tuple(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        line = _problem_line(text, loc) if text is not None else None
        reason = f"{_describe(loc)}: {message}" if loc else message
        where = f"{path} line {line}" if line else str(path)
        problems.append(f"{where}: {reason}")
        if index == 0:
            first_line, first_reason = line, reason
    return DataFileError(path, first_reason, line=first_line, problems=problems)


def parse_series(data: bytes, path: Path) -> Series:
    """Parse series-file bytes; `path` names the file in errors and picks TOML or JSON.

    Raises:
        DataFileError: the bytes are not a valid series file; `.problems` lists every problem.
    """
    if len(data) > MAX_SERIES_FILE_BYTES:
        raise DataFileError(
            path, f"is {len(data)} bytes; a series file is at most {MAX_SERIES_FILE_BYTES}"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataFileError(path, f"is not UTF-8 text (byte {err.start})") from err
    is_json = path.suffix.lower() == ".json"
    raw: Any
    try:
        raw = json.loads(text) if is_json else tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = re.search(r"\(at line (\d+), column \d+\)", str(err))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err))
        raise DataFileError(
            path, f"not valid TOML: {reason}", line=int(match[1]) if match else None
        ) from err
    except json.JSONDecodeError as err:
        raise DataFileError(path, f"not valid JSON: {err.msg}", line=err.lineno) from err
    except RecursionError as err:
        raise DataFileError(path, "is nested too deeply") from err
    if not isinstance(raw, dict):
        raise DataFileError(path, "must hold a table (a JSON object) at the top")
    try:
        document = SeriesDocument.model_validate(raw)
        return build_series(document)
    except ValidationError as err:
        raise _validation_problems(path, None if is_json else text, err) from err
    except RecursionError as err:
        raise DataFileError(path, "is nested too deeply") from err
    except BalintCmeError as err:
        raise DataFileError(path, str(err)) from err


def load_series(path: Path | str) -> Series:
    """Read a series file (TOML, or JSON when the name ends in .json).

    Raises:
        DataFileError: the file is missing, unreadable, too large or invalid.
    """
    return read_series_file(path)[0]


def read_series_file(path: Path | str) -> tuple[Series, bytes]:
    """The series and the file's bytes as read (the ledger keeps them as the snapshot used).

    Raises:
        DataFileError: the file is missing, unreadable, too large or invalid.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_SERIES_FILE_BYTES:
            raise DataFileError(
                path, f"is {size} bytes; a series file is at most {MAX_SERIES_FILE_BYTES}"
            )
        with path.open("rb") as handle:  # bounded: a device or pipe has no size to check
            data = handle.read(MAX_SERIES_FILE_BYTES + 1)
    except IsADirectoryError as err:
        raise DataFileError(path, "is a directory, not a series file") from err
    except OSError as err:
        raise DataFileError(path, f"cannot read file: {err.strerror or err}") from err
    return parse_series(data, path), data


# ---------------------------------------------------------------------------------------------
# Writing


def _toml_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _toml_ready(v) for k, v in value.items() if v is not None and v != () and v != []
        }
    if isinstance(value, list | tuple):
        return [_toml_ready(v) for v in value]
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def format_series(series: Series, *, as_json: bool = False) -> bytes:
    """The series file bytes for `series` (TOML unless `as_json`)."""
    document = document_from_series(series)
    if as_json:
        return (document.model_dump_json(indent=2, exclude_none=True) + "\n").encode()
    data = _toml_ready(document.model_dump(mode="python", exclude_none=True))
    return tomli_w.dumps(data).encode()


def save_series(series: Series, path: Path | str) -> None:
    """Write `series` as TOML (or JSON when the name ends in .json), atomically.

    Raises:
        OutputWriteError: the file cannot be written.
    """
    path = Path(path)
    write_atomically(path, format_series(series, as_json=path.suffix.lower() == ".json"))


def series_schema() -> dict[str, Any]:
    """The JSON Schema of the series file."""
    return SeriesDocument.model_json_schema()
