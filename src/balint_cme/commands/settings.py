"""Options left out on the command line, filled from the society's settings file.

Precedence: the command line, then the environment variable (ledger, key), then the settings
file (balint-cme.toml beside the series file, else in the per-user config folder). Loaded by
cli.py only once a subcommand has been parsed: reading the file needs pydantic, which
`--version` and `--help` never load.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from balint_cme import places
from balint_cme.certificates import signing_keys
from balint_cme.io.settings_file import Settings, find_settings, load_settings

__all__ = ["apply_settings"]


def apply_settings(args: argparse.Namespace) -> None:
    """Fill options left out on the command line from the settings file (balint-cme.toml).

    Precedence: command line, then environment variable (ledger, key), then settings file.
    """
    series_file = getattr(args, "series_file", None) or next(
        iter(getattr(args, "series_files", None) or ()), None
    )
    path = find_settings(
        explicit=args.settings, series_file=None if series_file is None else Path(series_file)
    )
    settings = load_settings(path) if path is not None else Settings()
    args.settings_file = path
    if hasattr(args, "by") and not args.by and settings.by:
        args.by = settings.by
    if (
        hasattr(args, "ledger")
        and args.ledger is None
        and not os.environ.get(places.LEDGER_FILE_ENV)
    ):
        args.ledger = settings.ledger
    if (
        hasattr(args, "key_file")
        and not args.key_file
        and not os.environ.get(places.KEY_FILE_ENV)
        and settings.key_file is not None
    ):
        repeated = getattr(args, "key_files_repeat", False)  # set by _public_keys_option
        args.key_file = [settings.key_file] if repeated else settings.key_file
    _apply_signing_settings(args, settings)
    if hasattr(args, "layout") and args.layout is None:
        args.layout = settings.layout
    if hasattr(args, "export_tz") and args.export_tz is None:
        args.export_tz = settings.export_tz
    if hasattr(args, "activity_id"):
        given = [f"{series}={pars_id}" for series, pars_id in settings.pars_activity_ids.items()]
        args.activity_id = [*given, *args.activity_id]  # later entries (the command line) win


def _apply_signing_settings(args: argparse.Namespace, settings: Settings) -> None:
    """signing_key, signing_cert and timestamp_url from the settings file, when neither the
    command line nor the environment gives them."""
    environ = os.environ
    if getattr(args, "signing_key", 0) is None and not environ.get(signing_keys.SIGNING_KEY_ENV):
        args.signing_key = settings.signing_key
    if (
        hasattr(args, "signing_cert")
        and not args.signing_cert
        and settings.signing_cert is not None
        and not environ.get(signing_keys.SIGNING_CERT_ENV)
    ):
        listed = isinstance(args.signing_cert, list) or getattr(args, "key_files_repeat", False)
        args.signing_cert = [settings.signing_cert] if listed else settings.signing_cert
    if getattr(args, "timestamp_url", 0) is None and not environ.get(
        signing_keys.TIMESTAMP_URL_ENV
    ):
        args.timestamp_url = settings.timestamp_url
    if hasattr(args, "key_out") and args.key_out is None and settings.signing_key is not None:
        args.key_out = settings.signing_key
    if hasattr(args, "cert_out") and args.cert_out is None and settings.signing_cert is not None:
        args.cert_out = settings.signing_cert
