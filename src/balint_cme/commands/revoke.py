"""`balint-cme revoke`: revoke a certificate, with a reason.

Its arguments (add_arguments) sit beside its handler (run); commands/parser.py imports this
module only when the subcommand runs or its --help is asked for.
"""

from __future__ import annotations

import argparse

from balint_cme.commands import access, console, options

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of `balint-cme revoke`."""
    parser.add_argument("number", metavar="NUMBER")
    parser.add_argument("--reason", required=True)
    options.ledger_option(parser)
    options.by_option(parser)


def run(args: argparse.Namespace) -> int:
    with access.open_ledger(args, create=False) as ledger:
        record = ledger.revoke(args.number, reason=args.reason, actor=access.actor(args))
    console.out(f"revoked {record.number} (version {record.version}): {record.revoked_reason}")
    return 0
