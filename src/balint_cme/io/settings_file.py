"""A society's settings file, `balint-cme.toml`: what would otherwise be typed on every run.

Found (first match wins, files are not merged): the `--settings FILE` option; else
`balint-cme.toml` beside the series file a command reads; else `balint-cme.toml` in the per-user
configuration folder (`balint-cme paths` shows it). Precedence for each value: the command-line
option, then the environment variable (for the ledger, the key and PDF signing), then the
settings file, then the built-in default. Relative paths in the file are relative to the file.

    by = "FMMS CME office"                 # who acts, for the audit log
    ledger = "records/ledger.sqlite3"
    key_file = "keys/signing.key"
    signing_key = "keys/pdf-signing-key.pem"   # PDF signatures: PEM key or PKCS#12 (.p12)
    signing_cert = "keys/pdf-signing-cert.pem" # the society's certificate (verify trusts it)
    timestamp_url = "http://timestamp.example.org"  # RFC 3161 authority: PAdES B-T
    layout = "layout.toml"                 # certify --layout
    export_tz = "America/New_York"         # --export-tz for reports

    [pars_activity_ids]                    # pars --activity-id SERIES=ID
    ssvms-balint-2020 = "FMMS-2020-BG"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from balint_cme import places
from balint_cme.errors import DataFileError

__all__ = [
    "SETTINGS_FILE_NAME",
    "Settings",
    "find_settings",
    "load_settings",
    "user_settings_file",
]

SETTINGS_FILE_NAME = "balint-cme.toml"
MAX_SETTINGS_BYTES = 256 * 1024

_Text = Annotated[str, Field(min_length=1, max_length=500)]


class Settings(BaseModel):
    """The values a settings file may give; every one is optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    by: _Text | None = None
    ledger: Path | None = None
    key_file: Path | None = None
    signing_key: Path | None = None
    """The society's PDF-signing key (PEM or PKCS#12): certify signs with it."""
    signing_cert: Path | None = None
    """The society's PDF-signing certificate (PEM or DER): certify embeds it, verify trusts it."""
    timestamp_url: _Text | None = None
    """An RFC 3161 timestamp authority: signatures become PAdES B-T."""
    layout: Path | None = None
    export_tz: _Text | None = None
    pars_activity_ids: dict[_Text, _Text] = Field(default_factory=dict)
    source: Path | None = Field(default=None, exclude=True)
    """The file these settings came from (None: no settings file)."""

    @field_validator("export_tz")
    @classmethod
    def _check_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"{value!r} is not an IANA time zone like America/Los_Angeles"
                ) from None
        return value


def user_settings_file() -> Path:
    """The per-user settings file (it may not exist)."""
    return places.config_dir() / SETTINGS_FILE_NAME


def find_settings(*, explicit: Path | None, series_file: Path | None) -> Path | None:
    """The settings file a command uses, or None (see the module docstring for the order)."""
    if explicit is not None:
        return explicit
    candidates = []
    if series_file is not None:
        candidates.append(series_file.parent / SETTINGS_FILE_NAME)
    candidates.append(user_settings_file())
    return next((path for path in candidates if path.is_file()), None)


def load_settings(path: Path) -> Settings:
    """Read a settings file; relative paths in it become relative to its folder.

    Raises:
        DataFileError: unreadable, not TOML (with the line), or an unknown or invalid value.
    """
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataFileError(path, f"cannot read the settings file: {err.strerror or err}") from err
    if len(raw) > MAX_SETTINGS_BYTES:
        raise DataFileError(path, f"a settings file is at most {MAX_SETTINGS_BYTES} bytes")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise DataFileError(path, "not UTF-8 text") from err
    except tomllib.TOMLDecodeError as err:
        raise DataFileError(path, f"not valid TOML: {err}") from err
    try:
        settings = Settings.model_validate(data)
    except ValidationError as err:
        problem = err.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        known = ", ".join(name for name in Settings.model_fields if name != "source")
        hint = f" (known settings: {known})" if problem["type"] == "extra_forbidden" else ""
        message = str(problem["msg"]).removeprefix("Value error, ")
        raise DataFileError(path, f"{where}: {message}{hint}") from err
    base = path.parent
    anchored = {
        name: base / value
        for name in ("ledger", "key_file", "signing_key", "signing_cert", "layout")
        if isinstance(value := getattr(settings, name), Path) and not value.is_absolute()
    }
    return settings.model_copy(update={**anchored, "source": path})
