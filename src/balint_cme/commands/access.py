"""The ledger and the keys as a subcommand opens them: defaults, notes on stderr, anchors.

Who is acting (--by, else the login), the ledger for one command (its new anchor printed after
a change), the signing key (created once by the first certify) and the keys a verifier checks
with. Loaded only by the subcommands that use them (it imports the ledger, hence sqlite3).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
from collections.abc import Iterator
from pathlib import Path

from balint_cme.certificates import signing as pdf_signing
from balint_cme.certificates import signing_keys
from balint_cme.certificates.keys import (
    KeyRing,
    SigningKey,
    default_key_path,
    load_key,
    load_key_folder,
    load_key_ring,
    load_or_create_default_key,
)
from balint_cme.commands import console
from balint_cme.ledger import Ledger, default_ledger_path

__all__ = ["actor", "existing_ledger", "key_ring", "open_ledger", "pdf_signer", "signing_key"]


def actor(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (e.g. a container without a passwd entry)
        return "balint-cme"


@contextlib.contextmanager
def open_ledger(args: argparse.Namespace, *, create: bool = True) -> Iterator[Ledger]:
    """The ledger, for one command. If the command changed it, its new anchor is printed on
    stderr afterwards (`ledger anchor: SEQ:HASH`): kept elsewhere, `balint-cme ledger check
    --anchor SEQ:HASH` later proves events 1..SEQ were not rewritten."""
    with Ledger.open(args.ledger, create=create) as ledger:
        for note in ledger.upgrade_notes:  # what upgrading a file from an older version changed
            console.err(f"balint-cme: ledger upgraded: {note}")
        before = ledger.head()
        yield ledger
        after = ledger.anchor() if ledger.head() != before else None
    if after is not None:
        console.err(f"ledger anchor: {after}")


def signing_key(args: argparse.Namespace) -> tuple[SigningKey, Path, str | None]:
    """The key, its file, and a note saying which default key signed (printed on success)."""
    if args.key_file:
        return load_key(Path(args.key_file)), Path(args.key_file), None
    key, path, created = load_or_create_default_key()
    if created:
        console.err(
            f"balint-cme: created a signing key at {path} (owner-only); back it up: without it "
            "no certificate can be verified"
        )
        return key, path, None
    return key, path, f"balint-cme: signed with the key at {path}"


def key_ring(args: argparse.Namespace) -> KeyRing:
    if args.key_file:
        ring = load_key_ring([Path(p) for p in args.key_file])
    else:
        # The default key and every key beside it (rotated out, or a backup copy), each known
        # by the key id inside the file; a file there that is not a key is passed over.
        ring, skipped = load_key_folder(default_key_path())
        for note in skipped:
            console.err(f"balint-cme: note: {note}")
    # The society's PDF-signing certificates: verify trusts a signature by these alone.
    society = signing_keys.load_certificates(
        signing_keys.configured_cert_paths(getattr(args, "signing_cert", None))
    )
    return KeyRing(ring, signing_certificates=society)


def pdf_signer(args: argparse.Namespace) -> pdf_signing.SigningIdentity | None:
    """certify's PDF-signing identity, or None (no key configured, or --no-sign)."""
    key_path = None if args.no_sign else signing_keys.configured_key_path(args.signing_key)
    if key_path is None:
        return None
    certs = signing_keys.configured_cert_paths(args.signing_cert)
    timestamp_url = args.timestamp_url or os.environ.get(signing_keys.TIMESTAMP_URL_ENV)
    return pdf_signing.load_signing_identity(
        key_path, certs[0] if certs else None, timestamp_url=timestamp_url
    )


def existing_ledger(args: argparse.Namespace) -> Ledger | None:
    """The ledger if its file exists (opened, never created), else None."""
    path = Path(args.ledger) if args.ledger is not None else default_ledger_path()
    return Ledger.open(path, create=False) if path.exists() else None
