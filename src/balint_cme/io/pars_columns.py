"""The PARS column map: which column of the learner export holds what, read from TOML.

pars_columns.toml (shipped with the package) or an edited copy says, per column, its header
and either a learner field (PARS_FIELDS) or a constant value, plus the date format, the sheet
name and what a row requires. load_pars_columns() reads and checks it; a bad map is a
DataFileError naming the file and the problem. pars.py builds and writes the rows.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from balint_cme.errors import DataFileError

__all__ = [
    "PARS_COLUMNS_FORMAT",
    "PARS_FIELDS",
    "ParsColumn",
    "ParsColumns",
    "load_pars_columns",
]

PARS_COLUMNS_FORMAT = "balint-cme-pars-columns/1"

PARS_FIELDS: tuple[str, ...] = (
    "activity_id",
    "activity_title",
    "series_id",
    "participant_id",
    "first_name",
    "last_name",
    "birth_month",
    "birth_day",
    "birth_month_day",
    "license_state",
    "license_number",
    "npi",
    "email",
    "completion_date",
    "credits",
    "credit_type",
)
"""What a column can hold (pars_columns.toml documents each)."""

_REQUIREMENTS = frozenset(PARS_FIELDS) | {"identifier"}
_MAX_COLUMN_FILE_BYTES = 256 * 1024


class ParsColumn(BaseModel):
    """One column of the template: its header and either a field or a constant value."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    header: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    field: str | None = None
    value: Annotated[str, StringConstraints(max_length=500)] | None = None

    @model_validator(mode="after")
    def _check_field_or_value(self) -> Self:
        if (self.field is None) == (self.value is None):
            raise ValueError(f"column {self.header!r} needs exactly one of `field` or `value`")
        if self.field is not None and self.field not in PARS_FIELDS:
            raise ValueError(
                f"column {self.header!r}: unknown field {self.field!r}; use one of "
                + ", ".join(PARS_FIELDS)
            )
        return self


class ParsColumns(BaseModel):
    """The column map (pars_columns.toml): layout, date format and what a row requires."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["balint-cme-pars-columns/1"]
    date_format: Annotated[str, StringConstraints(min_length=2, max_length=40)] = "%m/%d/%Y"
    sheet_name: Annotated[str, StringConstraints(min_length=1, max_length=31)] = "Learners"
    required: tuple[str, ...] = ()
    columns: Annotated[tuple[ParsColumn, ...], Field(min_length=1, max_length=200)]

    @model_validator(mode="after")
    def _check_required_names(self) -> Self:
        unknown = [name for name in self.required if name not in _REQUIREMENTS]
        if unknown:
            raise ValueError(
                f"required names unknown fields {unknown}; use {sorted(_REQUIREMENTS)}"
            )
        if "%" not in self.date_format:
            raise ValueError("date_format needs at least one strftime code such as %m")
        if re.search(r"[\[\]:*?/\\]", self.sheet_name):
            raise ValueError("sheet_name cannot contain [ ] : * ? / or \\")
        if re.search(r"[\x00-\x1f\x7f]", self.sheet_name):  # would corrupt the workbook's XML
            raise ValueError("sheet_name cannot contain control characters")
        return self


def load_pars_columns(path: Path | None = None) -> ParsColumns:
    """The column map at `path`, or the one shipped with balint_cme (pars_columns.toml).

    Raises:
        DataFileError: the file is unreadable, not TOML, or not a valid column map.
    """
    if path is None:
        source = resources.files("balint_cme.io") / "pars_columns.toml"
        name: Path | str = "pars_columns.toml (packaged)"
        raw = source.read_bytes()
    else:
        name = path
        try:
            if path.stat().st_size > _MAX_COLUMN_FILE_BYTES:
                raise DataFileError(path, "too large for a column map (over 256 KiB)")
            with path.open("rb") as handle:  # bounded: a device or pipe has no size to check
                raw = handle.read(_MAX_COLUMN_FILE_BYTES + 1)
        except OSError as err:
            raise DataFileError(path, f"cannot read the column map: {err.strerror}") from err
        if len(raw) > _MAX_COLUMN_FILE_BYTES:
            raise DataFileError(path, "too large for a column map (over 256 KiB)")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise DataFileError(name, f"not UTF-8 text (byte {err.start})") from err
    except tomllib.TOMLDecodeError as err:
        line = getattr(err, "lineno", None)
        raise DataFileError(name, f"not valid TOML: {err}", line=line) from err
    except RecursionError as err:
        raise DataFileError(name, "nested too deeply") from err
    try:
        return ParsColumns.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise DataFileError(name, f"{where}: {first['msg']}") from err
