"""Where balint_cme keeps its per-user files: the signing keys, the ledger, caches, settings.

The only module that imports platformdirs, so each operating system gets its own conventional
places (on Linux the XDG folders, honouring `$XDG_CONFIG_HOME` and friends; on macOS
`~/Library/...`; on Windows `%APPDATA%`/`%LOCALAPPDATA%`). The environment variables below still
override each place, for scripts and tests. Sits beside `storage`, below the edges.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = [
    "CACHE_DIR_ENV",
    "KEY_FILE_ENV",
    "LEDGER_FILE_ENV",
    "PDF_SIGNING_CERT_ENV",
    "PDF_SIGNING_CERT_NAME",
    "PDF_SIGNING_KEY_ENV",
    "PDF_SIGNING_KEY_NAME",
    "Place",
    "cache_dir",
    "config_dir",
    "data_dir",
    "key_dir",
    "key_file",
    "ledger_file",
    "pdf_signing_cert_file",
    "pdf_signing_key_file",
    "user_places",
]

APP_NAME = "balint-cme"

KEY_FILE_ENV = "BALINT_CME_KEY_FILE"
"""Environment variable naming the signing key file."""

LEDGER_FILE_ENV = "BALINT_CME_LEDGER"
"""Environment variable naming the ledger file."""

PDF_SIGNING_KEY_NAME = "pdf-signing-key.pem"
PDF_SIGNING_CERT_NAME = "pdf-signing-cert.pem"
"""Default file names of the PDF signing key and certificate, beside the HMAC key file."""

PDF_SIGNING_KEY_ENV = "BALINT_CME_SIGNING_KEY"
"""Environment variable naming the PDF signing key (PEM or PKCS#12)."""

PDF_SIGNING_CERT_ENV = "BALINT_CME_SIGNING_CERT"
"""Environment variable naming the society's PDF signing certificate."""

CACHE_DIR_ENV = "BALINT_CME_CACHE_DIR"
"""Environment variable naming the cache folder (fonts are cached in its `fonts/`)."""


def config_dir() -> Path:
    """The per-user configuration folder (keys live in its `keys/`)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """The per-user data folder (the default ledger lives here)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """The cache folder: `$BALINT_CME_CACHE_DIR`, else the per-user cache folder."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def key_dir() -> Path:
    """The folder of the default signing key and the keys rotated out beside it."""
    return config_dir() / "keys"


def key_file() -> Path:
    """The signing key file: `$BALINT_CME_KEY_FILE`, else `key_dir()/signing.key`."""
    override = os.environ.get(KEY_FILE_ENV)
    if override:
        return Path(override).expanduser()
    return key_dir() / "signing.key"


def ledger_file() -> Path:
    """The ledger: `$BALINT_CME_LEDGER`, else `data_dir()/ledger.sqlite3` (one per user)."""
    override = os.environ.get(LEDGER_FILE_ENV)
    if override:
        return Path(override).expanduser()
    return data_dir() / "ledger.sqlite3"


@dataclass(frozen=True)
class Place:
    """One per-user place, where it is, and what decided it."""

    name: str
    path: Path
    source: str
    """The environment variable that set it, or "default"."""


def pdf_signing_key_file() -> Path:
    """`$BALINT_CME_SIGNING_KEY`, else pdf-signing-key.pem beside the HMAC key file."""
    override = os.environ.get(PDF_SIGNING_KEY_ENV)
    return Path(override).expanduser() if override else key_file().parent / PDF_SIGNING_KEY_NAME


def pdf_signing_cert_file() -> Path:
    """`$BALINT_CME_SIGNING_CERT`, else pdf-signing-cert.pem beside the HMAC key file."""
    override = os.environ.get(PDF_SIGNING_CERT_ENV)
    return Path(override).expanduser() if override else key_file().parent / PDF_SIGNING_CERT_NAME


def user_places() -> tuple[Place, ...]:
    """Every place balint_cme uses by default, for `balint-cme paths`."""

    def source(env: str) -> str:
        return env if os.environ.get(env) else "default"

    return (
        Place("HMAC key", key_file(), source(KEY_FILE_ENV)),
        Place("key folder", key_file().parent, source(KEY_FILE_ENV)),
        Place("ledger", ledger_file(), source(LEDGER_FILE_ENV)),
        Place("font cache", cache_dir() / "fonts", source(CACHE_DIR_ENV)),
        # used once they exist (`balint-cme keys signing-cert`): certify then signs
        Place("PDF signing key", pdf_signing_key_file(), source(PDF_SIGNING_KEY_ENV)),
        Place("PDF signing cert", pdf_signing_cert_file(), source(PDF_SIGNING_CERT_ENV)),
    )
