"""File-system primitives the edges share: atomic writes and safe file-name parts.

Sits below io, certificates and ledger (which stay independent of each other) and above the
core, which never touches files.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from balint_cme.errors import OutputWriteError
from balint_cme.text import strip_invisible

__all__ = ["atomic_directory", "atomic_output", "neutralise_cell", "safe_slug", "write_atomically"]

_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


@contextlib.contextmanager
def atomic_output(path: Path, *, mode: int = 0o644, overwrite: bool = True) -> Iterator[BinaryIO]:
    """A binary file handle whose contents appear at `path` only when the block completes.

    The project's one atomic-write primitive: the bytes go to a temporary file in the same
    directory, are flushed and fsynced, the file gets `mode`, and it is renamed over `path`
    (atomic on POSIX and Windows), so readers see the old file or the whole new one, never
    half. With `overwrite=False` it is linked into place instead, which fails with
    FileExistsError if `path` exists (a key file is never overwritten). On any failure the
    temporary file is removed and `path` is left as it was.
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    renamed = False
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        if overwrite:
            os.replace(temporary, path)
            renamed = True
        else:
            os.link(temporary, path)
    finally:
        if not renamed:  # failed, or linked: the temporary name goes
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def write_atomically(path: Path, data: bytes, *, mode: int = 0o644, what: str = "the file") -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one, never half
    (atomic_output). `what` names the file in the error ("the calendar": "PATH: cannot write
    the calendar: No such file or directory").

    Raises:
        OutputWriteError: the folder is missing or read-only, the disk is full, or a folder is
            in the way (also an OSError); nothing is left behind.
    """
    path = Path(path)
    try:
        with atomic_output(path, mode=mode) as handle:
            handle.write(data)
    except OSError as err:
        raise OutputWriteError(path, f"cannot write {what}: {err.strerror or err}") from err


def _recover_directory(path: Path) -> None:
    """Put back a folder left aside by an atomic_directory killed between its two renames."""
    if path.exists():
        return
    for old in sorted(path.parent.glob(f".{path.name}.old-*")):
        os.replace(old, path)
        return


@contextlib.contextmanager
def atomic_directory(path: Path) -> Iterator[Path]:
    """A new, empty folder whose contents replace the folder `path` when the block completes.

    The folder counterpart of atomic_output: the block fills a staging folder beside `path`;
    then `path` is renamed aside, the staging folder renamed into place (mode 0755) and the
    old folder removed, so readers see the old folder or the whole new one. A run killed
    between the two renames is repaired by the next call (the old folder is put back). On any
    failure the staging folder is removed and `path` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _recover_directory(path)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-", dir=path.parent))
    try:
        yield staging
        os.chmod(staging, 0o755)
        aside = path.parent / f".{path.name}.old-{os.getpid()}"
        if path.exists():
            os.replace(path, aside)
        os.replace(staging, path)
        shutil.rmtree(aside, ignore_errors=True)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            _recover_directory(path)
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
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
