"""Reading a certificate PDF from disk, refusing what is too large to be one."""

from __future__ import annotations

from pathlib import Path

from balint_cme.certificates.verification import MAX_PDF_BYTES
from balint_cme.errors import DataFileError

__all__ = ["read_pdf_bytes"]


def read_pdf_bytes(path: Path) -> bytes:
    """A certificate PDF's bytes, refusing what is too large to be one.

    Raises:
        DataFileError: the file cannot be read or is larger than MAX_PDF_BYTES.
    """
    try:
        size = path.stat().st_size
        if size > MAX_PDF_BYTES:
            raise DataFileError(path, f"is {size} bytes; a certificate PDF is far smaller")
        with path.open("rb") as handle:  # bounded: a device or pipe has no size to check
            data = handle.read(MAX_PDF_BYTES + 1)
    except OSError as err:
        raise DataFileError(path, f"cannot read file: {err.strerror or err}") from err
    if len(data) > MAX_PDF_BYTES:
        raise DataFileError(
            path, f"is more than {MAX_PDF_BYTES} bytes; a certificate PDF is far smaller"
        )
    return data
