"""The JSON documents the commands print with --json: versioned shapes, with their schemas.

Each document carries a `schema` key ("balint-cme/<command>/1"); the number changes only when
a field is removed or changes meaning (new fields may be added within a version). The pydantic
models below *are* the shapes: the commands build their output through them, and
`balint-cme schema --output NAME` prints the JSON Schema generated from them, so the two
cannot drift. Credit and hours are strings with two decimals (exact, never floats); attended
time is `attended_seconds`, an integer, beside `minutes`, the display value (two decimals,
truncated).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "OUTPUT_SCHEMAS",
    "AttendanceDocument",
    "CertifyDocument",
    "ParsDocument",
    "TranscriptDocument",
    "dump",
    "output_schema",
]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- attendance ---------------------------------------------------------------------------------


class AttendedSession(_Shape):
    session: int
    held_on: date
    attended_seconds: int
    """Exact attended time in whole seconds."""
    minutes: str
    """attended_seconds / 60, truncated to two decimals (display only)."""
    credit: str
    hours: str
    reason: str | None
    files: list[str]
    """The report files the attendance came from."""


class CertificateState(_Shape):
    number: str
    version: int
    state: str
    issued_on: date


class Participation(_Shape):
    series_id: str
    title: str
    participant_id: str
    name: str
    credentials: str
    credits: str | None
    participation_hours: str | None
    sessions: list[AttendedSession]
    certificates: list[CertificateState]


class AttendanceDocument(_Shape):
    """`balint-cme attendance --person X --json`."""

    schema_: Literal["balint-cme/attendance/1"] = Field(
        default="balint-cme/attendance/1", alias="schema"
    )
    person: str
    """The --person query as given."""
    ledger_person: str
    """The ledger's person id it named (e.g. "P000001")."""
    participations: list[Participation]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# -- transcript ---------------------------------------------------------------------------------


class TranscriptSeries(_Shape):
    series_id: str
    title: str
    accredited_provider: str
    credits: str
    participation_hours: str
    session_dates: list[date]
    notes: list[str]


class TranscriptDocument(_Shape):
    """`balint-cme transcript --person X --json`."""

    schema_: Literal["balint-cme/transcript/1"] = Field(
        default="balint-cme/transcript/1", alias="schema"
    )
    participant_id: str
    """The ledger's person id (the transcript is the person's, across series)."""
    ledger_person: str
    name: str
    from_on: date | None
    to_on: date | None
    series: list[TranscriptSeries]
    total_credits: str
    total_hours: str
    target: str
    remaining: str
    target_met: bool

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# -- pars ---------------------------------------------------------------------------------------


class ExportedLearner(_Shape):
    series_id: str
    activity_id: str
    participant_id: str
    credits: str
    completion_date: date | None


class LeftOut(_Shape):
    series_id: str
    participant_id: str
    name: str | None
    why: Literal["missing-data", "no-consent", "no-valid-certificate"]
    detail: str


class ParsDocument(_Shape):
    """`balint-cme pars ... --json`. `complete` is False (and the exit code 3) when a learner
    who consented was left out (missing data or no valid certificate)."""

    schema_: Literal["balint-cme/pars/1"] = Field(default="balint-cme/pars/1", alias="schema")
    out: str
    rows_written: int
    exported: list[ExportedLearner]
    left_out: list[LeftOut]
    complete: bool
    exit_code: int

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# -- certify ------------------------------------------------------------------------------------


class CertificateIssued(_Shape):
    number: str
    version: int
    participant_id: str
    name: str
    kind: Literal["credit", "participation"]
    credits: str | None
    hours: str | None
    session_dates: list[date]
    issued_on: date
    file: str
    page: int
    sha256: str
    verification_code: str
    outcome: Literal["new", "new-version", "resumed", "unchanged"]


class NoCertificate(_Shape):
    participant_id: str
    name: str
    reason: str


class CertifyDocument(_Shape):
    """`balint-cme certify ... --json`: the run's summary."""

    schema_: Literal["balint-cme/certify/1"] = Field(default="balint-cme/certify/1", alias="schema")
    series: str
    out_dir: str
    manifest: str
    certificates: list[CertificateIssued]
    no_certificate: list[NoCertificate]
    warnings: list[str]
    new_or_changed: int

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


OUTPUT_SCHEMAS: dict[str, type[BaseModel]] = {
    "attendance": AttendanceDocument,
    "transcript": TranscriptDocument,
    "pars": ParsDocument,
    "certify": CertifyDocument,
}


def output_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the `--json` document of command `name`."""
    model = OUTPUT_SCHEMAS[name]
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://balint-cme.example/schemas/{name}-1.json"
    return schema


def dump(document: BaseModel) -> str:
    """The document as printed: JSON with the `schema` key, non-ASCII kept."""
    return document.model_dump_json(by_alias=True, indent=2)
