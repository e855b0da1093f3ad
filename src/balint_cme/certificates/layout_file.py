"""Reading a certificate layout from a TOML file (paths in it relative to the file)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from balint_cme.certificates.layout import CertificateLayout
from balint_cme.errors import DataFileError

__all__ = ["load_layout"]


def load_layout(path: Path) -> CertificateLayout:
    """A certificate layout from a TOML file of CertificateLayout fields.

    Relative paths in it (logo, signature images, extra fonts) are relative to the file.

    Raises:
        DataFileError: the file is unreadable, not TOML, or not a valid layout.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DataFileError(path, f"cannot read file: {err.strerror or err}") from err
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise DataFileError(path, f"not a valid TOML layout: {err}") from err
    base = path.parent

    def anchored(value: object) -> object:
        return str(base / str(value)) if isinstance(value, str) else value

    for key in ("logo", "font_cache_dir"):
        if key in data:
            data[key] = anchored(data[key])
    if isinstance(data.get("extra_fonts"), list):
        data["extra_fonts"] = [
            {**item, "path": anchored(item["path"])}
            if isinstance(item, dict) and "path" in item
            else anchored(item)
            for item in data["extra_fonts"]
        ]
    for item in (
        data.get("signature_images", []) if isinstance(data.get("signature_images"), list) else []
    ):
        if isinstance(item, dict) and "image" in item:
            item["image"] = anchored(item["image"])
    try:
        return CertificateLayout.model_validate(data)
    except ValidationError as err:
        problem = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in problem["loc"]) or "layout"
        message = str(problem["msg"]).removeprefix("Value error, ")
        raise DataFileError(path, f"{where}: {message}") from err
