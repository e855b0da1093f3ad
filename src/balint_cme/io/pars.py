"""ACCME PARS learner export: one row per consenting physician per activity, as TSV or .xlsx.

PARS forwards completions to licensing boards (docs/rules.md §5). A row needs first and last
name, birth month and day, licence state and ID (or NPI), completion date and credits, and is
written only for learners who gave permission. Learners who consented but miss something are
listed in the report, never silently dropped. The column layout is data (pars_columns.toml,
shipped with the package; load_pars_columns(path) in pars_columns.py, re-exported here, reads
an edited copy). Every text cell is
neutralised against formula injection (storage.neutralise_cell).

Takes plain inputs (Series, CreditAward and the ids of consenting learners), never the ledger.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from balint_cme.credit import CreditAward
from balint_cme.errors import DataFileError
from balint_cme.io.pars_columns import (
    PARS_COLUMNS_FORMAT,
    PARS_FIELDS,
    ParsColumn,
    ParsColumns,
    load_pars_columns,
)
from balint_cme.model import DomainModel, Participant, Series
from balint_cme.storage import neutralise_cell, write_atomically

__all__ = [
    "PARS_COLUMNS_FORMAT",
    "PARS_FIELDS",
    "ParsColumn",
    "ParsColumns",
    "ParsLearner",
    "ParsProblem",
    "ParsReport",
    "build_pars_report",
    "format_pars_tsv",
    "load_pars_columns",
    "render_pars_xlsx",
    "save_pars_export",
    "split_name",
]


# Lowercase words that belong to the family name that follows them ("van der Berg").
_PARTICLES = frozenset(
    [
        "da",
        "das",
        "de",
        "del",
        "della",
        "der",
        "des",
        "di",
        "do",
        "dos",
        "du",
        "la",
        "le",
        "van",
        "von",
        "ten",
        "ter",
        "bin",
        "ibn",
        "al",
        "el",
        "st",
        "st.",
    ]
)
_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "v"})
# Characters openpyxl refuses in a cell (XML 1.0 control characters).
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# ---------------------------------------------------------------------------------------------
# Learner rows


def split_name(name: str) -> tuple[str, str] | None:
    """(first, last) from a display name, or None when it has a single word.

    Rule: "Last, First" splits at the comma; otherwise the last word is the family name,
    together with lowercase particles before it ("Anna van der Berg" → "Anna", "van der Berg")
    and a generational suffix after it ("Luis King Jr." → "Luis", "King Jr."). Names this
    gets wrong (e.g. Spanish double surnames) set Participant.given_name and family_name.
    """
    if "," in name:
        last, _, first = name.partition(",")
        first, last = " ".join(first.split()), " ".join(last.split())
        return (first, last) if first and last else None
    words = name.split()
    suffix: list[str] = []
    while len(words) > 2 and words[-1].casefold() in _SUFFIXES:
        suffix.insert(0, words.pop())
    if len(words) < 2:
        return None
    start = len(words) - 1
    while start > 1 and words[start - 1] in _PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:] + suffix)


class ParsLearner(DomainModel):
    """One learner row: every field a column can ask for (see PARS_FIELDS)."""

    activity_id: str
    activity_title: str
    series_id: str
    participant_id: str
    first_name: str | None
    last_name: str | None
    birth_month: int | None
    birth_day: int | None
    license_state: str | None
    license_number: str | None
    npi: str | None
    email: str | None
    completion_date: date | None
    credits: Decimal
    credit_type: str

    @property
    def birth_month_day(self) -> str | None:
        """ "MM/DD", or None."""
        if self.birth_month is None or self.birth_day is None:
            return None
        return f"{self.birth_month:02d}/{self.birth_day:02d}"

    def value(self, field: str) -> str | int | Decimal | date | None:
        """The value of a PARS field by name."""
        if field == "birth_month_day":
            return self.birth_month_day
        value: str | int | Decimal | date | None = getattr(self, field)
        return value


class ParsProblem(DomainModel):
    """A consenting learner left out of the rows, and what is missing."""

    series_id: str
    participant_id: str
    name: str
    missing: tuple[str, ...]

    def describe(self) -> str:
        """ "Ana Ruiz (p01, series x): missing birth month/day, licence or NPI"."""
        return f"{self.name} ({self.participant_id}, {self.series_id}): missing {', '.join(self.missing)}"


class ParsReport(DomainModel):
    """The export: rows to write, learners left out for missing data, and who did not consent."""

    learners: tuple[ParsLearner, ...]
    missing: tuple[ParsProblem, ...]
    """Consenting physicians with credit whose row would be incomplete; fix and re-export."""
    without_consent: tuple[tuple[str, str], ...]
    """(series id, participant id) of physicians with credit and no recorded consent."""


_MISSING_WORDS = {
    "identifier": "licence state and ID, or NPI",
    "birth_month_day": "birth month/day",
    "birth_month": "birth month",
    "birth_day": "birth day",
    "first_name": "first name (set given_name and family_name)",
    "last_name": "last name (set given_name and family_name)",
}


def _learner(
    series: Series, award: CreditAward, person: Participant, activity_id: str
) -> ParsLearner:
    first: str | None = person.given_name
    last: str | None = person.family_name
    if first is None or last is None:
        parts = split_name(person.name)
        first, last = parts if parts else (None, None)
    credited = [s.held_on for s in award.sessions if s.credit > 0]
    return ParsLearner(
        activity_id=activity_id,
        activity_title=series.title,
        series_id=series.id,
        participant_id=person.id,
        first_name=first,
        last_name=last,
        birth_month=person.birth_month,
        birth_day=person.birth_day,
        license_state=person.license_state,
        license_number=person.license_number,
        npi=person.npi,
        email=person.email,
        completion_date=max(credited) if credited else None,
        credits=award.points,
        credit_type=series.credit.type,
    )


def _missing(learner: ParsLearner, required: Sequence[str]) -> tuple[str, ...]:
    missing = []
    for name in required:
        if name == "identifier":
            has_licence = learner.license_state is not None and learner.license_number is not None
            present = has_licence or learner.npi is not None
        else:
            present = learner.value(name) is not None
        if not present:
            missing.append(_MISSING_WORDS.get(name, name.replace("_", " ")))
    return tuple(missing)


def build_pars_report(
    activities: Iterable[tuple[Series, Iterable[CreditAward]]],
    consenting: Collection[str] | Collection[tuple[str, str]],
    *,
    activity_ids: Mapping[str, str] | None = None,
    columns: ParsColumns | None = None,
) -> ParsReport:
    """The PARS learner rows for physicians awarded credit who consented, and the problems.

    Args:
        activities: each series with its awards (award_series()).
        consenting: who consented: (series id, roster id) pairs (from
            Ledger.consenting(series_id=...) for each series), or roster ids, which then
            count in every series (only safe for a single series).
        activity_ids: series id → PARS activity ID (the series id when absent).
        columns: the column map, for its `required` list (the packaged map when None).

    Only awards of kind "credit" are reported: PARS records AMA PRA credit for physicians.
    """
    required = (columns or load_pars_columns()).required
    ids = dict(activity_ids or {})
    learners: list[ParsLearner] = []
    missing: list[ParsProblem] = []
    without: list[tuple[str, str]] = []
    for series, awards in activities:
        for award in awards:
            person = series.participant(award.participant_id)
            if award.kind != "credit" or person is None:
                continue
            if (series.id, award.participant_id) not in consenting and (
                award.participant_id not in consenting
            ):
                without.append((series.id, award.participant_id))
                continue
            learner = _learner(series, award, person, ids.get(series.id, series.id))
            gaps = _missing(learner, required)
            if gaps:
                missing.append(
                    ParsProblem(
                        series_id=series.id,
                        participant_id=person.id,
                        name=person.name,
                        missing=gaps,
                    )
                )
            else:
                learners.append(learner)
    return ParsReport(
        learners=tuple(learners), missing=tuple(missing), without_consent=tuple(without)
    )


# ---------------------------------------------------------------------------------------------
# Writing


def _cell(learner: ParsLearner, column: ParsColumn, columns: ParsColumns) -> str | int | Decimal:
    if column.value is not None:
        return column.value
    assert column.field is not None
    value = learner.value(column.field)
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime(columns.date_format)
    if isinstance(value, Decimal):
        return value.quantize(Decimal("0.01"))
    return value


def format_pars_tsv(report: ParsReport, columns: ParsColumns) -> str:
    """The rows as tab-delimited text (header line first, CRLF line ends).

    Tabs and line breaks inside a value become spaces so they cannot shift columns; text that
    a spreadsheet would run as a formula is neutralised.
    """

    def clean(value: str | int | Decimal) -> str:
        return neutralise_cell(re.sub(r"[\t\r\n]+", " ", str(value)))

    lines = ["\t".join(clean(column.header) for column in columns.columns)]
    for learner in report.learners:
        lines.append("\t".join(clean(_cell(learner, c, columns)) for c in columns.columns))
    return "\r\n".join(lines) + "\r\n"


def render_pars_xlsx(report: ParsReport, columns: ParsColumns) -> bytes:
    """The rows as an Excel workbook (one sheet, header row first); numbers stay numbers."""

    def clean(value: str | int | Decimal) -> str | int | Decimal:
        if isinstance(value, str):
            return neutralise_cell(_XLSX_ILLEGAL.sub("", value))
        return value

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = columns.sheet_name
    sheet.append([clean(column.header) for column in columns.columns])
    for learner in report.learners:
        sheet.append([clean(_cell(learner, c, columns)) for c in columns.columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def save_pars_export(path: Path, report: ParsReport, columns: ParsColumns) -> None:
    """Write the export to `path`: .xlsx as Excel, .txt or .tsv as tab-delimited UTF-8 text.

    Written atomically and readable by the owner only (it holds birth dates and licence IDs).

    Raises:
        DataFileError: unknown extension.
        OutputWriteError: the file cannot be written.
    """
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        data = render_pars_xlsx(report, columns)
    elif suffix in (".txt", ".tsv"):
        data = format_pars_tsv(report, columns).encode("utf-8")
    else:
        raise DataFileError(path, "a PARS export is .xlsx, .txt or .tsv")
    write_atomically(path, data, mode=0o600, what="the export")
