"""`balint-cme publish`: a static verification site for any web host.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from balint_cme.commands import access, console, options

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme publish`."""
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="the site folder")
    options.public_keys_option(parser)
    options.ledger_option(parser)


def run(args: argparse.Namespace) -> int:
    # cryptography (AES-GCM for the site) comes with the web extra: imported only to publish.
    from balint_cme.web.publish import publish_site  # noqa: PLC0415 - the web extra

    with access.open_ledger(args, create=False) as ledger:
        result = publish_site(ledger, access.key_ring(args), args.out)
    console.out(
        f"published {result.certificates} certificate answer(s) and {result.pdfs} PDF "
        f"fingerprint(s) to {result.out}: {result.written} file(s) written, "
        f"{result.unchanged} unchanged, {result.removed} removed"
    )
    return 0
