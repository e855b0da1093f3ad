"""File-system primitives the edges share: atomic writes and safe file-name parts.

Sits below io, certificates and ledger (which stay independent of each other) and above the
core, which never touches files.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path

from balint_cme.errors import OutputWriteError
from balint_cme.text import strip_invisible

__all__ = ["neutralise_cell", "safe_slug", "write_atomically"]

_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def write_atomically(path: Path, data: bytes, *, mode: int = 0o644, what: str = "the file") -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one, never half.

    The bytes go to a temporary file in the same directory, are flushed to disk, and the file
    is renamed over `path` (atomic on POSIX and Windows). `what` names the file in the error
    ("the calendar": "PATH: cannot write the calendar: No such file or directory").

    Raises:
        OutputWriteError: the folder is missing or read-only, the disk is full, or a folder is
            in the way (also an OSError); nothing is left behind.
    """
    path = Path(path)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise OutputWriteError(path, f"cannot write {what}: {err.strerror or err}") from err
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(err, OSError):
            raise OutputWriteError(path, f"cannot write {what}: {err.strerror or err}") from err
        raise


_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""Formula starts: = + - @ (and their full-width forms, which some spreadsheets accept), tab, CR."""


def neutralise_cell(value: str) -> str:
    """A spreadsheet cell text that no spreadsheet will run as a formula.

    Text starting with `=`, `+`, `-`, `@` (or a full-width form), a tab or a carriage return
    gets a leading `'` (OWASP "CSV injection"), so "=HYPERLINK(...)" is shown as text; so does
    text in which one of them follows only characters that draw nothing (NUL, FS, ESC, a
    zero-width space, a BOM, spaces), which a spreadsheet may skip. Every CSV, TSV and XLSX the
    project writes passes its text cells through this; numbers are written as numbers.
    """
    if value.startswith(_FORMULA_TRIGGERS) or strip_invisible(value).startswith(_FORMULA_TRIGGERS):
        return "'" + value
    return value


def safe_slug(text: str, *, max_length: int = 60, fallback: str = "x") -> str:
    """A lowercase ASCII file-name part from any text: no separators, dots, NUL or reserved names.

    "../../Zoë Ångström" → "zoe-angstrom"; never empty, never longer than `max_length`.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:max_length].strip("-")
    if not slug or slug.upper() in _WINDOWS_RESERVED:
        slug = f"{fallback}-{slug}" if slug else fallback
    return slug
